"""Pasting lesson code into an exercise must not pass it.

For every exercise slot whose name or role matches a function (or class) a lesson defines,
the lesson's source is taken from its jupytext file (``notebooks/src/*.py``, found by
name with ``ast``, never by lesson number), executed in a fresh namespace, wired to the
exercise's signature by a thin adapter that only renames or reorders arguments, and run
through the slot's main (visible) check, which must fail. A failure caused by the paste
itself (a missing global, a syntax error) does not count: the test insists on an
ordinary check failure or a runtime error of the pasted code on the exercise's inputs.
"""

import ast
import itertools
import math
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from einops import rearrange
from torch import nn

import mini_timesformer as mt
from mini_timesformer import checks
from mini_timesformer.checks import CheckFailed

LESSONS = Path(__file__).resolve().parents[1] / "notebooks" / "src"


def definitions(path: Path) -> dict[str, str]:
    """Top-level functions and classes of a lesson source: name -> source text."""
    text = path.read_text()
    return {
        node.name: ast.get_source_segment(text, node)
        for node in ast.parse(text).body
        if isinstance(node, ast.FunctionDef | ast.ClassDef)
    }


def lesson_source(name: str, near: str | None = None) -> tuple[str, str]:
    """(lesson file name, source) of the top-level function or class ``name``; when
    several lessons define it, the one that also defines ``near``."""
    found = [
        (path.name, defs)
        for path in sorted(LESSONS.glob("[0-9]*.py"))
        if name in (defs := definitions(path))
    ]
    assert found, f"no lesson in {LESSONS} defines {name!r}: update this test's mapping"
    where, defs = next((f for f in found if near in f[1]), found[0])
    return where, defs[name]


def paste(*names: str) -> dict:
    """Execute the lessons' definitions of ``names`` in a fresh namespace; a name defined
    by several lessons is taken from the lesson that defines the last name."""
    namespace = {
        "torch": torch,
        "nn": nn,
        "F": F,
        "rearrange": rearrange,
        "mt": mt,
        "math": math,
        "itertools": itertools,
        "STEPS": mt.schemes.STEPS,
        "MultiHeadAttention": mt.attention.MultiHeadAttention,
    }
    for name in names:
        where, source = lesson_source(name, near=names[-1])
        exec(compile(source, f"<{where}: {name}>", "exec"), namespace)
    return namespace


def my_mha_as_multi_head(ns):
    """Lesson 02's MyMultiHeadAttention loaded with the exercise's separate layers."""

    def multi_head(x, q_proj, k_proj, v_proj, proj, heads, visible=None):
        D = x.shape[-1]
        mine = ns["MyMultiHeadAttention"](D, heads)
        with torch.no_grad():
            mine.qkv.weight.copy_(torch.cat([q_proj.weight, k_proj.weight, v_proj.weight]))
            mine.qkv.bias.copy_(torch.cat([q_proj.bias, k_proj.bias, v_proj.bias]))
            mine.proj.load_state_dict(proj.state_dict())
        return mine(x)

    return multi_head


def my_step_as(ns, grouping, added):
    """Lesson 04's generic MyStep, loaded with the exercise's step weights."""

    def step_fn(x, grid, step):
        mine = ns["MyStep"](x.shape[-1], step.attn.num_heads, grouping, added)
        mine.load_state_dict(step.state_dict())
        return mine(x, grid)[0]

    return step_fn


def groups_from(ns, grouping):
    """Lesson 03's group_index (token ids per group) as split/merge: a gather and a scatter."""

    def split(x, grid):
        idx = ns["group_index"](grouping, grid)  # (G, L)
        return x[:, idx.flatten()].reshape(-1, idx.shape[1], x.shape[-1])

    def merge(groups, grid):
        idx = ns["group_index"](grouping, grid)
        out = torch.empty(groups.shape[0] // idx.shape[0], idx.numel(), groups.shape[-1])
        out[:, idx.flatten()] = groups.reshape(out.shape)
        return out

    return split, merge


def classify_space_from(ns):
    def classify_space(model, video):  # the lesson has no per-frame logits: repeat the clip's
        logits = ns["forward_by_hand"](model, video)
        return logits, logits[:, None].expand(-1, video.shape[1], -1)

    return classify_space


def count_params_from(ns):
    def count_params(cfg):
        return ns["params_by_hand"](
            cfg.embed_dim,
            cfg.depth,
            cfg.patch_size,
            cfg.num_patches,
            cfg.num_frames,
            cfg.num_classes,
            len(mt.schemes.STEPS[cfg.attention]),
        )

    return count_params


def macs_from(ns, scheme):
    def macs(cfg, T, S):
        return ns["macs_by_hand"](
            scheme, T, S, D=cfg.embed_dim, L=cfg.depth, P=cfg.patch_size, K=cfg.num_classes
        )

    return macs


def conv_cost_from(ns):
    """Lesson 14's MyConv2Plus1D (its parameters) and conv2plus1d_macs_by_hand: 3×3×3 only."""

    def cost(n_in, n_out, t, d, T, H, W, stride):
        block = ns["MyConv2Plus1D"](n_in, n_out, stride)
        macs = ns["conv2plus1d_macs_by_hand"](n_in, n_out, T, H, W, stride)
        return sum(p.numel() for p in block.parameters()), macs

    return cost


# what each case's check must say: its own hint or expected value, not a crash of the paste
HINTS = {
    "01 patchify <- patchify": "channels-last",
    "01 embed_official <- embed_tokens": "time-major order",
    "02 masked_attention <- attention": "ignored the mask",
    "02 multi_head <- MyMultiHeadAttention": "ignored the visibility mask",
    "03 time_step <- MyStep('time')": "official patch-major layout",
    "03 space_step <- MyStep('space')": "official patch-major layout",
    "04 width_step <- MyStep('width')": "official patch-major layout",
    "04 height_step <- MyStep('height')": "official patch-major layout",
    "05 split/merge_local <- group_index('local')": "official patch-major layout",
    "05 split/merge_global <- group_index('global')": "official patch-major layout",
    "06 classify_space <- forward_by_hand": "frame_logits: wrong values",
    "06 count_params <- params_by_hand": "count_params for axial",
    "07 dense_indices <- middle_clip": "clip 0 of 3",
    "07 dense_indices <- official_start": "Likely mistake",
    "08 step_matrix <- divided_step_matrix": "not the divided ones",
    "08 axial_rollout <- my_rollout": "'time', 'width' and 'height'",
    "09 axial_macs <- macs_by_hand('axial')": "needs its own formula",
    "09 axial_macs <- macs_by_hand('divided')": "FlopCounterMode",
    "09 local_global_macs <- macs_by_hand('divided')": "FlopCounterMode",
    "11 midplanes <- my_midplanes": "the 27, 9 and 3 of the 3×3×3 case",
    "11 conv2plus1d_cost <- MyConv2Plus1D, conv2plus1d_macs_by_hand": "a 3×3×3 kernel",
}

CASES = {
    "01 patchify <- patchify": (
        ("patchify",),
        lambda ns: lambda video, P: torch.stack([ns["patchify"](c, P) for c in video]),
        lambda fn: checks.check_patchify(fn, channels_last=True),
    ),
    "01 embed_official <- embed_tokens": (
        ("embed_tokens",),
        lambda ns: (
            lambda video, emb: ns["embed_tokens"](
                emb.patch_embed(video), emb.cls_token, emb.pos_embed, emb.time_embed
            )
        ),
        checks.check_embed_official,
    ),
    "02 masked_attention <- attention": (
        ("attention",),
        lambda ns: lambda q, k, v, visible: ns["attention"](q, k, v),
        checks.check_masked_attention,
    ),
    "02 multi_head <- MyMultiHeadAttention": (
        ("attention", "MyMultiHeadAttention"),
        my_mha_as_multi_head,
        checks.check_multi_head_masked,
    ),
    "03 time_step <- MyStep('time')": (
        ("group_index", "MyStep"),
        lambda ns: my_step_as(ns, "time", True),
        lambda fn: checks.check_time_step(fn, layout="official"),
    ),
    "03 space_step <- MyStep('space')": (
        ("group_index", "MyStep"),
        lambda ns: my_step_as(ns, "space", False),
        lambda fn: checks.check_space_step(fn, layout="official"),
    ),
    "04 width_step <- MyStep('width')": (
        ("group_index", "MyStep"),
        lambda ns: my_step_as(ns, "width", True),
        lambda fn: checks.check_axial_step(fn, "width", layout="official"),
    ),
    "04 height_step <- MyStep('height')": (
        ("group_index", "MyStep"),
        lambda ns: my_step_as(ns, "height", False),
        lambda fn: checks.check_axial_step(fn, "height", layout="official"),
    ),
    "05 split/merge_local <- group_index('local')": (
        ("group_key", "group_index"),
        lambda ns: groups_from(ns, "local"),
        lambda fns: checks.check_grouping(*fns, "local", layout="official"),
    ),
    "05 split/merge_global <- group_index('global')": (
        ("group_key", "group_index"),
        lambda ns: groups_from(ns, "global"),
        lambda fns: checks.check_grouping(*fns, "global", layout="official"),
    ),
    "06 classify_space <- forward_by_hand": (
        ("forward_by_hand",),
        classify_space_from,
        checks.check_classify_space,
    ),
    "06 count_params <- params_by_hand": (
        ("params_by_hand",),
        count_params_from,
        checks.check_param_count,
    ),
    "07 dense_indices <- middle_clip": (
        ("middle_clip",),
        lambda ns: lambda V, T, r, k=0, K=1: ns["middle_clip"](V, T, r),
        checks.check_dense_indices,
    ),
    "07 dense_indices <- official_start": (
        ("official_start",),
        lambda ns: (
            lambda V, T, r, k=0, K=1: [
                min(int(ns["official_start"](V, T, r, k, K) + t * r), V - 1) for t in range(T)
            ]
        ),
        checks.check_dense_indices,
    ),
    "08 step_matrix <- divided_step_matrix": (
        ("divided_step_matrix",),
        lambda ns: (
            lambda w, step, grid: ns["divided_step_matrix"](w, step, grid[0], grid[1] * grid[2])
        ),
        checks.check_step_matrix,
    ),
    "08 axial_rollout <- my_rollout": (
        ("divided_step_matrix", "my_rollout"),
        lambda ns: (
            lambda attention, grid: ns["my_rollout"](attention, grid[0], grid[1] * grid[2]).reshape(
                -1, *grid
            )
        ),
        checks.check_axial_rollout,
    ),
    "09 axial_macs <- macs_by_hand('axial')": (
        ("macs_by_hand",),
        lambda ns: macs_from(ns, "axial"),
        lambda fn: checks.check_macs(fn, "axial"),
    ),
    "09 axial_macs <- macs_by_hand('divided')": (
        ("macs_by_hand",),
        lambda ns: macs_from(ns, "divided"),
        lambda fn: checks.check_macs(fn, "axial"),
    ),
    "09 local_global_macs <- macs_by_hand('divided')": (
        ("macs_by_hand",),
        lambda ns: macs_from(ns, "divided"),
        lambda fn: checks.check_macs(fn, "local_global"),
    ),
    "11 midplanes <- my_midplanes": (
        ("my_midplanes",),
        lambda ns: lambda n_in, n_out, t, d: ns["my_midplanes"](n_in, n_out),
        checks.check_midplanes,
    ),
    "11 conv2plus1d_cost <- MyConv2Plus1D, conv2plus1d_macs_by_hand": (
        ("my_midplanes", "MyConv2Plus1D", "conv2plus1d_macs_by_hand"),
        conv_cost_from,
        checks.check_conv2plus1d_cost,
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_pasted_lesson_code_fails_the_main_check(case, capsys):
    names, adapt, check = CASES[case]
    fn = adapt(paste(*names))
    with pytest.raises(CheckFailed) as failure:  # the check's own failure, never a crash
        check(fn)
    assert HINTS[case] in str(failure.value), failure.value
    with capsys.disabled():
        print(f"\n  {case}: fails the check: {str(failure.value).splitlines()[0][:150]}")


def test_every_case_names_its_hint():
    assert set(HINTS) == set(CASES)


def test_lesson_functions_work_in_their_own_lessons():
    """The pasted definitions are the working lesson code, not broken pastes."""
    ns = paste("attention", "params_by_hand", "macs_by_hand", "middle_clip")
    q, k, v = torch.randn(3, 2, 5, 4).unbind(0)
    torch.testing.assert_close(ns["attention"](q, k, v)[0], F.scaled_dot_product_attention(q, k, v))
    base = mt.TimeSformerConfig.preset("base", attention="divided", num_classes=174)
    assert ns["params_by_hand"](768, 12, 16, 196, 8, 174, 2) == mt.cost.params(base)
    assert ns["macs_by_hand"]("divided", 8, 224) == mt.cost.macs(base.replace(num_classes=400))
    assert ns["middle_clip"](300, 8, 32) == mt.data.dense_indices(300, 8, 32, clip_index=0)


def test_conv_adapters_are_faithful():
    """Lesson 14's (2+1)D code, wired as above, passes exercise 11's checks on 3×3×3
    kernels: it fails them only because the exercise asks for other kernels."""
    from mini_timesformer.checks.conv import COST_CASES, MIDPLANES_CASES

    ns = paste("my_midplanes", "MyConv2Plus1D", "conv2plus1d_macs_by_hand")
    cubic = [c for c in COST_CASES if c[2] == c[3] == 3]
    assert cubic and len(cubic) < len(COST_CASES)
    checks.check_conv2plus1d_cost(conv_cost_from(ns), cases=cubic)
    checks.check_midplanes(
        lambda n_in, n_out, t, d: ns["my_midplanes"](n_in, n_out),
        cases=[c for c in MIDPLANES_CASES if c[2:] == (3, 3)],
    )


def test_step_adapter_is_faithful():
    """Lesson 04's MyStep and lesson 03's group_index, wired as above, pass the same checks
    in the package's own time-major layout: exercises 3-5 fail them only because they use
    the official one."""
    ns = paste("group_index", "MyStep")
    checks.check_time_step(my_step_as(ns, "time", True))
    checks.check_space_step(my_step_as(ns, "space", False))
    checks.check_axial_step(my_step_as(ns, "width", True), "width")
    checks.check_axial_step(my_step_as(ns, "height", False), "height")
    ns = paste("group_key", "group_index")
    checks.check_grouping(*groups_from(ns, "local"), "local")
    checks.check_grouping(*groups_from(ns, "global"), "global")
