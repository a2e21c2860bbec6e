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


@pytest.mark.parametrize("pattern, hint", [
    ("b t c (h p) (w q) -> b t (h w) (p q c)", "channels-last"),
    ("b t c (h p) (w q) -> b t (w h) (c p q)", "column by column"),
    ("b t c (h p) (w q) -> b t (h w) (c q p)", "rows and columns swapped"),
])
def test_patchify_mistakes_are_named(pattern, hint):
    caught(checks.check_patchify, patchify_as(pattern), hint)


def test_patchify_plain_reshape_and_wrong_shape():
    caught(checks.check_patchify, lambda v, P: v.reshape(*v.shape[:2], -1, v.shape[2] * P * P),
           "plain reshape")
    caught(checks.check_patchify, patchify_as("b t c (h p) (w q) -> b (t h w) (c p q)"),
           r"expected shape \(2, 3, 6, 48\).*Hint: N = H'·W'")
    checks.check_patchify(patchify_as("b t c (h p) (w q) -> b t (h w) (c p q)"))


def embed_as(order="tn", cls_pos=True, time_on_cls=False, time=True, pos_from=1,
             cls_last=False):
    """Token embedding written with explicit per-frame loops, optionally wrong."""
    def embed_tokens(video, emb):
        B, T = video.shape[:2]
        patches = emb.patch_embed(video)  # (B, T, N, D)
        N = patches.shape[2]
        pos = emb.pos_embed[0, pos_from:pos_from + N]
        frames = [patches[:, t] + pos + (emb.time_embed[0, t] if time else 0) for t in range(T)]
        flat = (torch.cat(frames, 1) if order == "tn" else
                torch.stack(frames, 2).reshape(B, N * T, -1))  # (n t) order
        cls = emb.cls_token + (emb.pos_embed[:, :1] if cls_pos else 0)
        cls = (cls + (emb.time_embed[:, :1] if time_on_cls else 0)).expand(B, -1, -1)
        return torch.cat([flat, cls] if cls_last else [cls, flat], 1)
    return embed_tokens


@pytest.mark.parametrize("mistake, hint", [
    (dict(order="nt"), "space-major"),
    (dict(cls_pos=False), r"missing its position embedding pos_embed\[:, 0\]"),
    (dict(time_on_cls=True), "time embedding was added to the CLS"),
    (dict(time=False), "no time embedding"),
    (dict(pos_from=0), "slot 0 belongs to the CLS"),
    (dict(cls_last=True), "CLS token goes first"),
])
def test_embed_tokens_mistakes_are_named(mistake, hint):
    checks.check_embed_tokens(embed_as())
    caught(checks.check_embed_tokens, embed_as(**mistake), hint)


def test_num_tokens_mistakes():
    checks.check_num_tokens(lambda T, H, W, P: 1 + T * (H // P) * (W // P))
    caught(checks.check_num_tokens, lambda T, H, W, P: T * (H // P) * (W // P), "forgot the CLS")
    caught(checks.check_num_tokens, lambda T, H, W, P: T * (1 + (H // P) * (W // P)),
           "once per clip")


# ----------------------------------------------------------------- exercise 2
def attention_as(scale="sqrt", dim=-1, transposed=False, values=True, stable=True):
    def attention(q, k, v):
        d = q.shape[-1]
        scores = (k @ q.transpose(-2, -1)) if transposed else (q @ k.transpose(-2, -1))
        scores = scores * {"sqrt": d**-0.5, "none": 1.0, "d": 1 / d}[scale]
        if stable:
            weights = torch.softmax(scores, dim=dim)
        else:  # exp without subtracting the max
            weights = scores.exp() / scores.exp().sum(dim, keepdim=True)
        return weights @ (v if values else k), weights
    return attention


@pytest.mark.parametrize("mistake, hint, kwargs", [
    (dict(scale="none"), "missing the 1/√d scaling", {}),
    (dict(scale="d"), "1/d instead of 1/√d", {}),
    (dict(dim=-2), "softmax over the wrong axis", {}),
    (dict(transposed=True), "K·Qᵀ instead of Q·Kᵀ", {}),
    (dict(values=False), "times the keys", {}),
    (dict(stable=False), "overflows", dict(magnitude=30.0)),
])
def test_attention_mistakes_are_named(mistake, hint, kwargs):
    checks.check_attention(attention_as(), **kwargs)
    caught(checks.check_attention, attention_as(**mistake), hint, **kwargs)


def test_attention_wrong_shapes_and_types():
    caught(checks.check_attention, lambda q, k, v: attention_as()(q, k, v)[0], "tuple of 2")
    caught(checks.check_attention, lambda q, k, v: attention_as()(q, k, v)[::-1],
           r"weights: expected shape \(2, 3, 5, 5\).*one row per query")


def multi_head_as(scale="head", layout="3 h d", proj=True):
    def multi_head(x, attn):
        B, L, D = x.shape
        h = attn.num_heads
        qkv = attn.qkv(x)
        q, k, v = (qkv[..., i * D:(i + 1) * D] for i in range(3)) if layout != "h 3 d" else (
            rearrange(qkv, "b l (h three d) -> three b l (h d)", three=3, h=h).unbind(0))
        split = "b l (d h) -> b h l d" if layout == "3 d h" else "b l (h d) -> b h l d"
        q, k, v = (rearrange(t, split, h=h) for t in (q, k, v))
        weights = (q @ k.transpose(-2, -1) * (D // h if scale == "head" else D) ** -0.5)
        weights = weights.softmax(-1)
        out = rearrange(weights @ v, "b h l d -> b l (h d)")
        return (attn.proj(out) if proj else out), weights
    return multi_head


@pytest.mark.parametrize("mistake, hint", [
    (dict(scale="full"), "1/√D"),
    (dict(layout="h 3 d"), r"\(heads, 3, d_h\)"),
    (dict(layout="3 d h"), "heads interleaved"),
    (dict(proj=False), "output projection"),
])
def test_multi_head_mistakes_are_named(mistake, hint):
    checks.check_multi_head(multi_head_as())
    caught(checks.check_multi_head, multi_head_as(**mistake), hint)


# ----------------------------------------------------------------- exercise 3
def step_as(kind, order="tn", cls="leave", norm=True, cls_norm=True, extra=True,
            residual=True):
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
        pooled = {"mean": lambda: sum(copies) / len(copies), "first": lambda: copies[0],
                  "sum": lambda: sum(copies)}.get(cls, lambda: None)()
        if not residual:
            return torch.cat([cls_tok if pooled is None else pooled, update], 1)
        return torch.cat([cls_tok + (0 if pooled is None else pooled), patches + update], 1)
    return step_fn


def test_independent_loop_steps_pass():
    checks.check_time_step(step_as("time"))
    checks.check_space_step(step_as("space", cls="mean"))
    checks.check_space_step(step_as("space", cls="mean"), grid=(4, 1, 1))


@pytest.mark.parametrize("mistake, hint", [
    (dict(cls="mean"), "time_step changed the CLS token. CLS in the wrong step"),
    (dict(cls="frozen"), "CLS in the wrong step"),
    (dict(order="nt"), "wrong token order"),
    (dict(extra=False), "temporal_fc"),
    (dict(residual=False), "residual"),
    (dict(norm=False), "LayerNorm"),
])
def test_time_step_mistakes_are_named(mistake, hint):
    caught(checks.check_time_step, step_as("time", **mistake), hint)


def test_time_step_over_space_is_named():
    caught(checks.check_time_step, step_as("space"), "patches of one frame")


@pytest.mark.parametrize("mistake, hint", [
    (dict(cls="leave"), "must include the CLS token"),
    (dict(cls="first"), "one frame only"),
    (dict(cls="sum"), "summed"),
    (dict(cls="mean", cls_norm=False), "step.norm too"),
    (dict(cls="mean", order="nt"), "wrong token order"),
    (dict(cls="mean", norm=False), "LayerNorm"),
])
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


@pytest.mark.parametrize("mistake, hint", [
    (dict(order=("space", "time")), "space step before the time step"),
    (dict(mlp=False), "forgot the MLP"),
    (dict(mlp_norm=False), r"LayerNorm \(block.norm\)"),
])
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
            check_visibility(lambda y: space(y, grid)[0], x, grid,
                             torch.ones(8, 8, dtype=torch.bool), "s", True)
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
    return (lambda x, grid: split_groups(x, grouping, grid),
            lambda x, grid: merge_groups(x, grouping, grid))


def test_groupings_pass_with_independent_patterns():
    checks.check_grouping(*fns("b (t h w) d -> (b t h) w d"), "width")
    checks.check_grouping(*fns("b (t h w) d -> (b t w) h d"), "height")
    checks.check_grouping(*fns("b (t h w) d -> (b h w) t d"), "time", grid=(1, 2, 2))


@pytest.mark.parametrize("grouping, wrong, hint", [
    ("width", package("height"), "height grouping"),
    ("height", package("width"), "width grouping"),
    ("time", package("space"), "space grouping"),
    ("local", fns("b (t i h j w) d -> (b t i j) (h w) d",
                  lambda T, H, W: dict(t=T, i=2, h=H // 2, j=2, w=W // 2)), "span all T frames"),
    ("global", fns("b (i t j h k w) d -> (b i j k) (t h w) d",
                   lambda T, H, W: dict(i=2, t=T // 2, j=2, h=H // 2, k=2, w=W // 2)), "dilated"),
    ("global", fns("b (t h j w k) d -> (b j k) (t h w) d",
                   lambda T, H, W: dict(t=T, h=H // 2, j=2, w=W // 2, k=2)), "strides in time too"),
])
def test_grouping_mistakes_are_named(grouping, wrong, hint):
    caught(checks.check_grouping, wrong[0], hint, wrong[1], grouping)


def test_grouping_merge_must_invert_split():
    split, _ = package("width")
    _, wrong_merge = package("height")
    caught(checks.check_grouping, split, "merge\\(split\\(x\\)\\) must give x back",
           wrong_merge, "width", grid=(2, 4, 4))
    caught(checks.check_grouping, lambda x, grid: x, "joint grouping", lambda x, grid: x, "width")
    caught(checks.check_grouping, lambda x, grid: x.flip(1).reshape(-1, 3, x.shape[-1]),
           "forms G=16 groups of L=6", lambda x, grid: x, "width")


def test_keys_per_query_mistakes():
    checks.check_keys_per_query(lambda T, H, W: T + W + H + 1, "axial")
    caught(checks.check_keys_per_query, lambda T, H, W: T + W + H, "forgot the CLS copy",
           "axial")
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
def classify_as(pool="cls", norm=True, blocks=None):
    def classify(model, video):
        x, grid = model.embed(video)
        for block in list(model.blocks)[:blocks]:
            x = block(x, grid)[0]
        x = model.norm(x) if norm else x
        return model.head({"cls": x[:, 0], "mean": x.mean(1), "last": x[:, -1]}[pool])
    return classify


@pytest.mark.parametrize("mistake, hint", [
    (dict(pool="mean"), "averaged all tokens"),
    (dict(pool="last"), "took the last token"),
    (dict(norm=False), "final LayerNorm"),
    (dict(blocks=1), "every block"),
])
def test_classify_mistakes_are_named(mistake, hint):
    checks.check_classify(classify_as())
    caught(checks.check_classify, classify_as(**mistake), hint)


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
    caught(checks.check_table1, lambda cfg: params_as()(cfg) - cfg.num_frames * cfg.embed_dim,
           "missing: the time embedding")


@pytest.mark.parametrize("mistake, hint", [
    (dict(extra_steps="none"), "missing: .*temporal_fc"),
    (dict(extra_steps="all"), "once too often: .*extra Linear"),
    (dict(qkv_bias=False), "missing: the qkv bias"),
    (dict(time=False), "missing: the time embedding"),
    (dict(cls=False), "missing: .*the CLS token and its position-embedding slot"),
])
def test_param_count_mistakes_are_named(mistake, hint):
    caught(checks.check_param_count, params_as(**mistake), hint)
