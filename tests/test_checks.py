"""The exercise auto-checks (mt.checks): each classic mistake, implemented deliberately
wrong here, is caught with the hint that names it; independent correct implementations
(loops over index lists, not the checks' own einops code) pass."""

import pytest
import torch
from einops import rearrange

from mini_timesformer import checks
from mini_timesformer.checks import CheckFailed
from mini_timesformer.checks.steps import check_visibility, make_step, run_step
from mini_timesformer.schemes import STEPS, merge_groups, split_groups, visibility


def caught(check, fn, hint, *args, **kwargs):
    with pytest.raises(CheckFailed, match=hint):
        check(fn, *args, **kwargs)


# ----------------------------------------------------------------- exercise 1
def patchify_as(pattern):
    return lambda video, P: rearrange(video, pattern, p=P, q=P)


@pytest.mark.parametrize(
    "pattern, hint",
    [
        ("b t c (h p) (w q) -> b t (h w) (p q c)", "channels-last"),
        ("b t c (h p) (w q) -> b t (w h) (c p q)", "column by column"),
        ("b t c (h p) (w q) -> b t (h w) (c q p)", "rows and columns swapped"),
    ],
)
def test_patchify_mistakes_are_named(pattern, hint):
    caught(checks.check_patchify, patchify_as(pattern), hint)


def test_patchify_plain_reshape_and_wrong_shape():
    caught(
        checks.check_patchify,
        lambda v, P: v.reshape(*v.shape[:2], -1, v.shape[2] * P * P),
        "plain reshape",
    )
    caught(
        checks.check_patchify,
        patchify_as("b t c (h p) (w q) -> b (t h w) (c p q)"),
        r"expected shape \(2, 3, 6, 48\).*Hint: N = H'·W'",
    )
    checks.check_patchify(patchify_as("b t c (h p) (w q) -> b t (h w) (c p q)"))


def test_num_tokens_mistakes():
    checks.check_num_tokens(lambda T, H, W, P: 1 + T * (H // P) * (W // P))
    caught(checks.check_num_tokens, lambda T, H, W, P: T * (H // P) * (W // P), "forgot the CLS")
    caught(
        checks.check_num_tokens, lambda T, H, W, P: T * (1 + (H // P) * (W // P)), "once per clip"
    )


# ----------------------------------------------------------------- exercise 3
def step_as(kind, order="tn", cls="leave", norm=True, cls_norm=True, extra=True, residual=True):
    """A divided step written as a loop over index lists (independent of the checks).

    cls: "leave" (not in the groups), "frozen" (in the groups but not updated), or
    "mean"/"first"/"sum" (in the groups, update = that pooling of the copies).
    """

    def step_fn(x, grid, step):
        T, H, W = grid
        N = H * W
        ids = torch.arange(T * N).view(T, N) if order == "tn" else torch.arange(T * N).view(N, T).T
        groups = [ids[:, n] for n in range(N)] if kind == "time" else [ids[t] for t in range(T)]
        ln = step.norm if norm else (lambda y: y)
        cls_tok, patches = x[:, :1], x[:, 1:]
        normed, update, copies = ln(patches), torch.zeros_like(patches), []
        for g in groups:
            tokens = normed[:, g]
            if cls != "leave":
                tokens = torch.cat([ln(cls_tok) if cls_norm else cls_tok, tokens], 1)
            out, _ = step.attn(tokens)
            if cls != "leave":
                copies.append(out[:, :1])
                out = out[:, 1:]
            update[:, g] = out
        if extra and step.extra is not None:
            update = step.extra(update)
        pooled = {
            "mean": lambda: sum(copies) / len(copies),
            "first": lambda: copies[0],
            "sum": lambda: sum(copies),
        }.get(cls, lambda: None)()
        if not residual:
            return torch.cat([cls_tok if pooled is None else pooled, update], 1)
        return torch.cat([cls_tok + (0 if pooled is None else pooled), patches + update], 1)

    return step_fn


def test_independent_loop_steps_pass():
    checks.check_time_step(step_as("time"))
    checks.check_space_step(step_as("space", cls="mean"))
    checks.check_space_step(step_as("space", cls="mean"), grid=(4, 1, 1))


@pytest.mark.parametrize(
    "mistake, hint",
    [
        (dict(cls="mean"), "time_step changed the CLS token. CLS in the wrong step"),
        (dict(cls="frozen"), "CLS in the wrong step"),
        (dict(order="nt"), "wrong token order"),
        (dict(extra=False), "temporal_fc"),
        (dict(residual=False), "residual"),
        (dict(norm=False), "LayerNorm"),
    ],
)
def test_time_step_mistakes_are_named(mistake, hint):
    caught(checks.check_time_step, step_as("time", **mistake), hint)


def test_time_step_over_space_is_named():
    caught(checks.check_time_step, step_as("space"), "patches of one frame")


@pytest.mark.parametrize(
    "mistake, hint",
    [
        (dict(cls="leave"), "must include the CLS token"),
        (dict(cls="first"), "one frame only"),
        (dict(cls="sum"), "summed"),
        (dict(cls="mean", cls_norm=False), "step.norm too"),
        (dict(cls="mean", order="nt"), "wrong token order"),
        (dict(cls="mean", norm=False), "LayerNorm"),
    ],
)
def test_space_step_mistakes_are_named(mistake, hint):
    caught(checks.check_space_step, step_as("space", **mistake), hint)


def test_space_step_over_time_is_named():
    caught(checks.check_space_step, step_as("time", cls="mean"), "that is the time step")


def block_as(order=("time", "space"), mlp=True, mlp_norm=True):
    steps = {"time": step_as("time"), "space": step_as("space", cls="mean")}

    def divided_block(x, grid, block):
        for name in order:
            x = steps[name](x, grid, block.steps[name])
        if mlp:
            x = x + block.mlp(block.norm(x) if mlp_norm else x)
        return x

    return divided_block


@pytest.mark.parametrize(
    "mistake, hint",
    [
        (dict(order=("space", "time")), "space step before the time step"),
        (dict(mlp=False), "forgot the MLP"),
        (dict(mlp_norm=False), r"LayerNorm \(block.norm\)"),
    ],
)
def test_divided_block_mistakes_are_named(mistake, hint):
    checks.check_divided_block(block_as())
    caught(checks.check_divided_block, block_as(**mistake), hint)


def test_visibility_probe_names_leaks_and_blind_spots():
    """Perturbing one token: a space step checked against the time pattern leaks to
    its frame and misses the other frames; the CLS rule is checked too."""
    grid, x = (2, 2, 2), torch.randn(1, 9, 16)
    space = make_step("space", added=False, seed=0)
    masks = visibility("divided", *grid)
    with torch.no_grad():
        check_visibility(lambda y: space(y, grid)[0], x, grid, masks["space"], "s", True)
        with pytest.raises(CheckFailed, match=r"changing token \(t=0, h=0, w=0\) also changed"):
            check_visibility(lambda y: space(y, grid)[0], x, grid, masks["time"], "s", True)
        with pytest.raises(CheckFailed, match="did not change .*which should see it"):
            check_visibility(
                lambda y: space(y, grid)[0], x, grid, torch.ones(8, 8, dtype=torch.bool), "s", True
            )
        with pytest.raises(CheckFailed, match="the CLS token changed"):
            check_visibility(lambda y: space(y, grid)[0], x, grid, masks["space"], "s", False)


# ------------------------------------------------------------- exercises 4-5
def fns(pattern, sizes=lambda T, H, W: dict(t=T, h=H, w=W)):
    source, target = pattern.split(" -> ")

    def split(x, grid):
        return rearrange(x, pattern, **sizes(*grid))

    def merge(x, grid):
        return rearrange(x, f"{target} -> {source}", **sizes(*grid))

    return split, merge


def package(grouping):
    return (
        lambda x, grid: split_groups(x, grouping, grid),
        lambda x, grid: merge_groups(x, grouping, grid),
    )


def test_groupings_pass_with_independent_patterns():
    checks.check_grouping(*fns("b (t h w) d -> (b t h) w d"), "width")
    checks.check_grouping(*fns("b (t h w) d -> (b t w) h d"), "height")
    checks.check_grouping(*fns("b (t h w) d -> (b h w) t d"), "time", grid=(1, 2, 2))


@pytest.mark.parametrize(
    "grouping, wrong, hint",
    [
        ("width", package("height"), "height grouping"),
        ("height", package("width"), "width grouping"),
        ("time", package("space"), "space grouping"),
        (
            "local",
            fns(
                "b (t i h j w) d -> (b t i j) (h w) d",
                lambda T, H, W: dict(t=T, i=2, h=H // 2, j=2, w=W // 2),
            ),
            "span all T frames",
        ),
        (
            "global",
            fns(
                "b (i t j h k w) d -> (b i j k) (t h w) d",
                lambda T, H, W: dict(i=2, t=T // 2, j=2, h=H // 2, k=2, w=W // 2),
            ),
            "dilated",
        ),
        (
            "global",
            fns(
                "b (t h j w k) d -> (b j k) (t h w) d",
                lambda T, H, W: dict(t=T, h=H // 2, j=2, w=W // 2, k=2),
            ),
            "strides in time too",
        ),
    ],
)
def test_grouping_mistakes_are_named(grouping, wrong, hint):
    caught(checks.check_grouping, wrong[0], hint, wrong[1], grouping)


def test_grouping_merge_must_invert_split():
    split, _ = package("width")
    _, wrong_merge = package("height")
    caught(
        checks.check_grouping,
        split,
        "merge\\(split\\(x\\)\\) must give x back",
        wrong_merge,
        "width",
        grid=(2, 4, 4),
    )
    caught(checks.check_grouping, lambda x, grid: x, "joint grouping", lambda x, grid: x, "width")
    caught(
        checks.check_grouping,
        lambda x, grid: x.flip(1).reshape(-1, 3, x.shape[-1]),
        "forms G=16 groups of L=6",
        lambda x, grid: x,
        "width",
    )


def test_keys_per_query_mistakes():
    checks.check_keys_per_query(lambda T, H, W: T + W + H + 1, "axial")
    caught(checks.check_keys_per_query, lambda T, H, W: T + W + H, "forgot the CLS copy", "axial")
    caught(checks.check_keys_per_query, lambda T, H, W: T + W + H + 3, "every step", "axial")
    caught(checks.check_keys_per_query, lambda T, H, W: T + H * W + 2, "every step", "divided")


# ------------------------------------------------------------ the machinery
@pytest.mark.parametrize("scheme", ["joint", "divided", "local_global", "axial"])
def test_run_step_defaults_match_the_package(scheme):
    """The variant machinery with no mistake switched on is the package's step."""
    grid = (2, 2, 4)
    x = torch.randn(2, 1 + 16, 16)
    names = STEPS[scheme]
    for i, name in enumerate(names):
        step = make_step(name, added=i < len(names) - 1, seed=i)
        with torch.no_grad():
            torch.testing.assert_close(run_step(step, x, grid), step(x, grid)[0])


def test_block_reach_mistakes():
    from functools import reduce

    def compose(masks):  # independent: explicit reachability by sets
        ms = list(masks.values())
        return reduce(lambda r, m: (m.long() @ r.long()) > 0, ms[1:], ms[0])

    checks.check_block_reach(compose)
    caught(checks.check_block_reach, lambda m: torch.stack(list(m.values())).any(0), "union")
    caught(checks.check_block_reach, lambda m: list(m.values())[-1], "only the last")
    caught(checks.check_block_reach, lambda m: compose(m).float(), "dtype")


# ----------------------------------------------------------------- exercise 6
def params_as(extra_steps="added", qkv_bias=True, time=True, cls=True):
    """Parameter count by walking the architecture description (independent formula)."""

    def count(cfg):
        D, hid = cfg.embed_dim, int(cfg.embed_dim * cfg.mlp_ratio)
        linear = lambda i, o, bias=True: i * o + (o if bias else 0)
        steps = STEPS[cfg.attention]
        total = linear(cfg.in_channels * cfg.patch_size**2, D) + D * cls
        total += (cfg.num_patches + cls) * D + cfg.num_frames * D * time
        for _ in range(cfg.depth):
            for i, _name in enumerate(steps):
                total += 2 * D + linear(D, 3 * D, cfg.qkv_bias and qkv_bias) + linear(D, D)
                if extra_steps == "all" or (extra_steps == "added" and i < len(steps) - 1):
                    total += linear(D, D)
            total += 2 * D + linear(D, hid) + linear(hid, D)
        return total + 2 * D + linear(D, cfg.num_classes)

    return count


def test_independent_param_count_passes_and_gives_table1():
    checks.check_param_count(params_as())
    checks.check_table1(params_as())
    caught(
        checks.check_table1,
        lambda cfg: params_as()(cfg) - cfg.num_frames * cfg.embed_dim,
        "missing: the time embedding",
    )


@pytest.mark.parametrize(
    "mistake, hint",
    [
        (dict(extra_steps="none"), "missing: .*temporal_fc"),
        (dict(extra_steps="all"), "once too often: .*extra Linear"),
        (dict(qkv_bias=False), "missing: the qkv bias"),
        (dict(time=False), "missing: the time embedding"),
        (dict(cls=False), "missing: .*the CLS token and its position-embedding slot"),
    ],
)
def test_param_count_mistakes_are_named(mistake, hint):
    caught(checks.check_param_count, params_as(**mistake), hint)
