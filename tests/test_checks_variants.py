"""Auto-checks of the exercise variants (1: channels-last patches and the official token
layout; 2: masked attention and separate q/k/v; 3-4: steps on official-layout tokens, axial
steps; 6: space-only classifier and untabulated parameter counts): independent correct implementations pass, each
classic mistake, made on purpose here, is caught with the hint that names it."""

import pytest
import torch
from einops import rearrange
from torch import nn

from mini_timesformer import checks
from mini_timesformer.checks import CheckFailed


def caught(check, fn, hint, *args, **kwargs):
    with pytest.raises(CheckFailed, match=hint):
        check(fn, *args, **kwargs)


# ----------------------------------------------------------------- exercise 1
def patchify_last(video, P):  # independent: loops over the patch grid
    B, T, H, W, C = video.shape
    patches = [
        video[:, :, h : h + P, w : w + P].permute(0, 1, 4, 2, 3).reshape(B, T, -1)
        for h in range(0, H, P)
        for w in range(0, W, P)
    ]
    return torch.stack(patches, dim=2)


def test_channels_last_patchify():
    checks.check_patchify(patchify_last, channels_last=True)
    caught(
        checks.check_patchify,
        lambda v, P: rearrange(v, "b t (h p) (w q) c -> b t (h w) (p q c)", p=P, q=P),
        "channels-last \\(P, P, C\\)",
        channels_last=True,
    )
    caught(
        checks.check_patchify,
        lambda v, P: v.reshape(*v.shape[:2], -1, v.shape[-1] * P * P),
        "plain reshape",
        channels_last=True,
    )


def official_as(order="nt", cls_pos=True, time_on_cls=False, time=True, cls_last=False):
    """Official-layout tokens with explicit loops over patches and frames, optionally wrong."""

    def embed_official(video, emb):
        B, T = video.shape[:2]
        patches = emb.patch_embed(video)  # (B, T, N, D)
        N = patches.shape[2]
        token = {
            (t, n): patches[:, t, n]
            + emb.pos_embed[0, 1 + n]
            + (emb.time_embed[0, t] if time else 0)
            for t in range(T)
            for n in range(N)
        }
        keys = (
            [(t, n) for n in range(N) for t in range(T)]
            if order == "nt"
            else [(t, n) for t in range(T) for n in range(N)]
        )
        flat = torch.stack([token[key] for key in keys], dim=1)
        cls = emb.cls_token[:, 0] + (emb.pos_embed[:, 0] if cls_pos else 0)
        cls = (cls + (emb.time_embed[:, 0] if time_on_cls else 0)).expand(B, -1)[:, None]
        return torch.cat([flat, cls] if cls_last else [cls, flat], dim=1)

    return embed_official


@pytest.mark.parametrize(
    "mistake, hint",
    [
        (dict(order="tn"), "time-major order \\(t h w\\).*patch-major \\(h w t\\)"),
        (dict(cls_pos=False), r"missing its position embedding pos_embed\[:, 0\]"),
        (dict(time_on_cls=True), "time embedding was added to the CLS"),
        (dict(time=False), "no time embedding"),
        (dict(cls_last=True), "CLS token goes first"),
    ],
)
def test_embed_official_mistakes_are_named(mistake, hint):
    checks.check_embed_official(official_as())
    caught(checks.check_embed_official, official_as(**mistake), hint)


def layout_fns(T_first=True, cls_kept=True, swap_hw=False):
    def convert(to_time):
        def fn(tokens, grid):
            T, H, W = grid
            order = [(t, h, w) for t in range(T) for h in range(H) for w in range(W)]
            major = [(t, h, w) for h in range(H) for w in range(W) for t in range(T)]
            if swap_hw:
                major = [(t, h, w) for w in range(W) for h in range(H) for t in range(T)]
            src, dst = (major, order) if to_time == T_first else (order, major)
            where = {key: i for i, key in enumerate(src)}
            body = tokens[:, 1:][:, [where[key] for key in dst]]
            return (
                torch.cat([tokens[:, :1], body], 1)
                if cls_kept
                else torch.cat([body[:, :1], tokens[:, :1], body[:, 1:]], 1)
            )

        return fn

    return convert(True), convert(False)


def test_token_layout_conversions():
    checks.check_token_layout(*layout_fns())
    for wrong, hint in (
        (dict(T_first=False), "converted the wrong way"),
        (dict(swap_hw=True), "width and height swapped"),
        (dict(cls_kept=False), "CLS token must stay"),
    ):
        with pytest.raises(CheckFailed, match=hint):
            checks.check_token_layout(*layout_fns(**wrong))


# ----------------------------------------------------------------- exercise 2
def masked_as(hide="-inf", scale="sqrt", invert=False):
    def masked_attention(q, k, v, visible):
        visible = ~visible if invert else visible
        d = q.shape[-1]
        scores = q @ k.transpose(-2, -1) * (d**-0.5 if scale == "sqrt" else 1.0)
        if hide == "-inf":
            w = torch.where(visible, scores, torch.full_like(scores, -1e30)).softmax(-1)
        elif hide == "after":
            w = scores.softmax(-1) * visible
        elif hide == "times":
            w = (scores * visible).softmax(-1)
        else:
            w = scores.softmax(-1)
        return w @ v, w

    return masked_attention


@pytest.mark.parametrize(
    "mistake, hint",
    [
        (dict(hide="none"), "ignored the mask"),
        (dict(hide="after"), "masked after the softmax"),
        (dict(hide="times"), "multiplied the scores by the mask"),
        (dict(scale="none"), "missing the 1/√d"),
    ],
)
def test_masked_attention_mistakes_are_named(mistake, hint):
    checks.check_masked_attention(masked_as())
    checks.check_masked_attention(masked_as(), magnitude=30.0, queries=3, keys=7, seed=2)
    caught(checks.check_masked_attention, masked_as(**mistake), hint)


def split_as(layout="3 d", bias=True):
    def split_qkv(attn):
        D = attn.qkv.in_features
        out = []
        for i in range(3):
            layer = nn.Linear(D, D, bias=attn.qkv.bias is not None)
            rows = (torch.arange(D) + i * D) if layout == "3 d" else (torch.arange(D) * 3 + i)
            with torch.no_grad():
                layer.weight.copy_(attn.qkv.weight[rows])
                if layer.bias is not None:
                    layer.bias.copy_(attn.qkv.bias[rows] if bias else 0)
            out.append(layer)
        return tuple(out)

    return split_qkv


def test_split_qkv_mistakes_are_named():
    checks.check_split_qkv(split_as())
    checks.check_split_qkv(split_as(), qkv_bias=False)
    caught(checks.check_split_qkv, split_as(layout="d 3"), "interleaved rows")
    caught(checks.check_split_qkv, split_as(bias=False), "forgot the bias slice")
    caught(
        checks.check_split_qkv, lambda a: (nn.Linear(12, 12, bias=False),) * 3, "bias exactly when"
    )


def multi_head_as(scale="head", interleave=False, proj=True, use_mask=True):
    def multi_head(x, q_proj, k_proj, v_proj, out_proj, heads, visible=None):
        B, L, D = x.shape
        pattern = "b l (d h) -> b h l d" if interleave else "b l (h d) -> b h l d"
        q, k, v = (rearrange(f(x), pattern, h=heads) for f in (q_proj, k_proj, v_proj))
        d = D // heads if scale == "head" else D
        scores = q @ k.transpose(-2, -1) * d**-0.5
        if visible is not None and use_mask:
            scores = scores.masked_fill(~visible, float("-inf"))
        w = scores.softmax(-1)
        out = rearrange(w @ v, "b h l d -> b l (h d)")
        return (out_proj(out) if proj else out), w

    return multi_head


@pytest.mark.parametrize(
    "mistake, hint",
    [
        (dict(scale="full"), "1/√D"),
        (dict(interleave=True), "heads interleaved"),
        (dict(proj=False), "output projection"),
        (dict(use_mask=False), "ignored the visibility mask"),
    ],
)
def test_masked_multi_head_mistakes_are_named(mistake, hint):
    checks.check_multi_head_masked(multi_head_as())
    caught(checks.check_multi_head_masked, multi_head_as(**mistake), hint)


# ----------------------------------------------------------------- exercise 4
def axial_step_as(kind, lines="own", cls="mean", extra=True, norm=True):
    """An axial step from index lists of rows/columns (independent of the checks)."""

    def step_fn(x, grid, step):
        T, H, W = grid
        ids = torch.arange(T * H * W).view(T, H, W)
        use = kind if lines == "own" else {"width": "height", "height": "width"}[kind]
        groups = (
            [ids[t, h] for t in range(T) for h in range(H)]
            if use == "width"
            else [ids[t, :, w] for t in range(T) for w in range(W)]
        )
        ln = step.norm if norm else (lambda y: y)
        cls_tok, patches = x[:, :1], x[:, 1:]
        normed, update, copies = ln(patches), torch.zeros_like(patches), []
        for g in groups:
            tokens = normed[:, g]
            if kind == "height" and cls != "skip":
                tokens = torch.cat([ln(cls_tok), tokens], 1)
            out = step.attn(tokens)[0]
            if kind == "height" and cls != "skip":
                copies.append(out[:, :1])
                out = out[:, 1:]
            update[:, g] = out
        if kind == "width":
            return torch.cat([cls_tok, patches + (step.extra(update) if extra else update)], 1)
        pooled = {
            "mean": lambda c: torch.stack(c).mean(0),
            "first": lambda c: c[0],
            "skip": lambda c: torch.zeros_like(cls_tok),
        }[cls](copies)
        return x + torch.cat([pooled, update], 1)

    return step_fn


@pytest.mark.parametrize(
    "kind, mistake, hint",
    [
        ("width", dict(lines="other"), "grouped by columns"),
        ("width", dict(extra=False), "forgot its extra Linear"),
        ("width", dict(norm=False), "forgot the LayerNorm"),
        ("height", dict(lines="other"), "grouped by rows"),
        ("height", dict(cls="skip"), "copy the normalised CLS token into every column group"),
        ("height", dict(cls="first"), "kept one group's CLS output"),
    ],
)
def test_axial_step_mistakes_are_named(kind, mistake, hint):
    checks.check_axial_step(axial_step_as(kind), kind, grid=(2, 3, 3))
    caught(checks.check_axial_step, axial_step_as(kind, **mistake), hint, kind, grid=(2, 3, 3))


def test_width_step_must_leave_the_cls_alone():
    def touches_cls(x, grid, step):
        y = axial_step_as("width")(x, grid, step)
        return torch.cat([y[:, :1] + 1, y[:, 1:]], 1)

    caught(checks.check_axial_step, touches_cls, "changed the CLS token", "width")


# ----------------------------------------------------------------- exercise 6
def space_as(pool="tokens", time=False, norm=True, frames_first=False):
    """Space-only forward with explicit per-frame loops, optionally wrong."""

    def classify_space(model, video):
        B, T = video.shape[:2]
        emb, P = model.embed, model.config.patch_size
        grid = (1, video.shape[-2] // P, video.shape[-1] // P)
        finals = []
        for t in range(T):
            x = emb.patch_embed(video[:, t : t + 1])[:, 0] + emb.pos_embed[:, 1:]
            if time:
                x = x + emb.time_embed[:, t : t + 1]
            x = torch.cat([(emb.cls_token + emb.pos_embed[:, :1]).expand(B, -1, -1), x], 1)
            for block in model.blocks:
                x = block(x, grid)[0]
            finals.append(x)
        final = torch.stack(finals, 1)  # (B, T, 1 + N, D)
        ln = model.norm if norm else (lambda y: y)
        frame_logits = model.head(ln(final[:, :, 0]))
        logits = model.head(ln(final.mean(1))[:, 0]) if pool == "tokens" else frame_logits.mean(1)
        if frames_first:
            frame_logits = frame_logits.reshape(T, B, -1).transpose(0, 1)
        return logits, frame_logits

    return classify_space


@pytest.mark.parametrize(
    "mistake, hint",
    [
        (dict(pool="logits"), "averaged the frames' logits"),
        (dict(time=True), "added the time embedding"),
        (dict(norm=False), "final LayerNorm"),
        (dict(frames_first=True), "frames and clips mixed up"),
    ],
)
def test_classify_space_mistakes_are_named(mistake, hint):
    checks.check_classify_space(space_as())
    caught(checks.check_classify_space, space_as(**mistake), hint)


def test_untabulated_counts_need_a_general_formula():
    from mini_timesformer import cost

    checks.check_untabulated(cost.params)
    caught(
        checks.check_untabulated,
        lambda cfg: cost.params(cfg) - cfg.num_frames * cfg.embed_dim,
        "missing: the time embedding",
    )


# ------------------------------------------------------- official token layout (3, 4)
def official_steps():
    """Divided and axial steps for patch-major tokens: convert, run the package step."""
    from mini_timesformer.checks.steps import to_patch_major, to_time_major

    return lambda x, grid, module: to_patch_major(module(to_time_major(x, grid), grid)[0], grid)


@pytest.mark.parametrize(
    "check, args",
    [
        (checks.check_time_step, ()),
        (checks.check_space_step, ()),
        (checks.check_divided_block, ()),
        (checks.check_axial_step, ("width",)),
        (checks.check_axial_step, ("height",)),
    ],
)
def test_official_layout_checks(check, args):
    check(official_steps(), *args, layout="official")
    time_major = lambda x, grid, module: module(x, grid)[0]  # noqa: E731
    check(time_major, *args)
    if check is not checks.check_divided_block:
        caught(check, time_major, "official patch-major layout", *args, layout="official")
    with pytest.raises(ValueError, match="layout must be"):
        check(time_major, *args, layout="hwt")


def weights_as(rows=True, cols=True, to_time=True):
    """Reorder weights with explicit (t, h, w) index lists, optionally wrong."""

    def weights_to_time_major(weights, grid):
        T, H, W = grid
        time_major = [(t, h, w) for t in range(T) for h in range(H) for w in range(W)]
        official = [(t, h, w) for h in range(H) for w in range(W) for t in range(T)]
        src, dst = (official, time_major) if to_time else (time_major, official)
        where = {key: i for i, key in enumerate(src)}
        order = torch.tensor([0] + [1 + where[key] for key in dst])
        out = weights[..., order, :] if rows else weights
        return out[..., order] if cols else out

    return weights_to_time_major


@pytest.mark.parametrize(
    "mistake, hint",
    [
        (dict(cols=False), "rows \\(queries\\) only"),
        (dict(rows=False), "columns \\(keys\\) only"),
        (dict(to_time=False), "converted the wrong way"),
    ],
)
def test_weights_layout_mistakes_are_named(mistake, hint):
    checks.check_weights_layout(weights_as())
    caught(checks.check_weights_layout, weights_as(**mistake), hint)


def test_official_layout_groupings():
    def fns(pattern, sizes):
        source, target = pattern.split(" -> ")
        return (
            lambda x, grid: rearrange(x, pattern, **sizes(*grid)),
            lambda g, grid: rearrange(g, f"{target} -> {source}", **sizes(*grid)),
        )

    local = fns(
        "b (i h j w t) d -> (b i j) (t h w) d",
        lambda T, H, W: dict(t=T, i=2, h=H // 2, j=2, w=W // 2),
    )
    checks.check_grouping(*local, "local", layout="official")
    time_major = fns(
        "b (t i h j w) d -> (b i j) (t h w) d",
        lambda T, H, W: dict(t=T, i=2, h=H // 2, j=2, w=W // 2),
    )
    checks.check_grouping(*time_major, "local")
    with pytest.raises(CheckFailed, match="wrong token order"):
        checks.check_grouping(*time_major, "local", layout="official")
