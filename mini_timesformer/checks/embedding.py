"""Checks for exercise 1: patches and the embeddings (paper §3, "Decomposition into
patches" and "Linear embedding"; ``embed.py``)."""

from __future__ import annotations

import torch
from einops import rearrange

from ..embed import PatchEmbed, VideoEmbedding
from ..model import TimeSformer
from .core import CheckFailed, call, check_shape, compare, passed, randn, randomize, single_thread
from .steps import grouped, run_step, tiny_config
from .steps import to_patch_major as package_patch_major


def _project(patches: torch.Tensor, conv: torch.nn.Conv2d) -> torch.Tensor:
    """Flattened patches (B, T, N, C·P·P) through the conv's weights as one Linear."""
    return patches @ conv.weight.flatten(1).T + conv.bias  # (B, T, N, D)


@single_thread
def check_patchify(
    patchify,
    frames: int = 3,
    grid=(2, 3),
    patch: int = 4,
    channels: int = 3,
    batch: int = 2,
    seed: int = 0,
    channels_last: bool = False,
) -> None:
    """patchify(video, P) -> (B, T, N, C·P·P), patches row by row, each flattened as
    (C, P, P). ``video`` is (B, T, C, H, W), or (B, T, H, W, C) with ``channels_last``
    (the layout decoders such as PyAV return).

    Value check: the flattened patches times the Conv2d weight (as a matrix) must give
    the package's ``PatchEmbed`` output (same weights): conv with kernel = stride = P
    *is* a linear map on flattened patches.
    """
    H, W = grid
    video = randn(batch, frames, channels, H * patch, W * patch, seed=seed)
    given = video.permute(0, 1, 3, 4, 2).contiguous() if channels_last else video
    got = call(
        patchify,
        given.clone(),
        patch,
        what=f"patchify(video {tuple(given.shape)}, P)",
        hint="the video here is channels-last (B, T, H, W, C), as PyAV returns; "
        "move C next to T first"
        if channels_last
        else "the video is (B, T, C, H, W); H and W are multiples of P",
    )
    check_shape(
        got,
        (batch, frames, H * W, channels * patch * patch),
        "patchify(video, P)",
        "N = H'·W' patches per frame, each flattened to C·P·P numbers",
    )
    ref = randomize(PatchEmbed(patch, channels, 8), seed + 1)
    with torch.no_grad():
        expected = ref(video)  # (B, T, N, D)

        def wrong(pattern):
            return lambda: _project(rearrange(video, pattern, p=patch, q=patch), ref.proj)

        variants = {
            "each patch flattened channels-last (P, P, C); flatten it as (C, P, P), the "
            "order of Conv2d's weight": wrong("b t c (h p) (w q) -> b t (h w) (p q c)"),
            "patches numbered column by column; number them row by row, n = h·W' + w": wrong(
                "b t c (h p) (w q) -> b t (w h) (c p q)"
            ),
            "pixel rows and columns swapped inside each patch": wrong(
                "b t c (h p) (w q) -> b t (h w) (c q p)"
            ),
            "a plain reshape/view mixes pixels of different patches: split H into (H', P) "
            "and W into (W', P) and move the patch axes together first": lambda: _project(
                given.reshape(batch, frames, H * W, -1), ref.proj
            ),
        }
        compare(_project(got, ref.proj), expected, "patchify(video, P) @ Wᵀ + b", variants)
    layout = "channels-last" if channels_last else "channels-first"
    passed(
        f"patchify ({layout} input): T={frames} frames of {H}×{W} patches of "
        f"{patch}×{patch}, same as Conv2d"
    )


def _official_logits(model, tokens: torch.Tensor, grid) -> torch.Tensor:
    """Run a divided package model on patch-major tokens, with groupings written for the
    (h w t) order (as the official code's rearranges are): same weights, other layout."""
    patterns = {"time": "b (h w t) d -> (b h w) t d", "space": "b (h w t) d -> (b t) (h w) d"}
    x = tokens
    for block in model.blocks:
        for name, step in block.steps.items():
            x = run_step(step, x, grid, **grouped(patterns[name]))
        x = x + block.mlp(block.norm(x))
    return model.head(model.norm(x)[:, 0])


@single_thread
def check_embed_official(
    embed_official,
    frames: int = 3,
    grid_side: int = 2,
    patch: int = 4,
    batch: int = 2,
    seed: int = 0,
) -> None:
    """embed_official(video, emb) -> tokens (B, 1 + N·T, D) in the official / Hugging Face
    order: CLS first, then patch-major (h w t), token 1 + n·T + t.

    ``emb`` is a package ``VideoEmbedding`` with random weights; the reference is its
    (time-major) output rearranged. Property: the package's weights, run with groupings
    written for the (h w t) order, give the model's own logits on these tokens.
    """
    cfg = tiny_config(
        num_frames=frames,
        image_size=grid_side * patch,
        patch_size=patch,
        attention="divided",
        depth=2,
    )
    model = randomize(TimeSformer(cfg), seed)
    emb = model.embed
    N, D = grid_side**2, cfg.embed_dim
    video = randn(batch, frames, 3, cfg.image_size, cfg.image_size, seed=seed + 1)
    got = embed_official(video.clone(), emb)
    check_shape(
        got,
        (batch, 1 + frames * N, D),
        "embed_official(video, emb)",
        "one CLS token, then N·T patch tokens, each of D numbers",
    )
    with torch.no_grad():
        expected = package_patch_major(emb(video)[0], (frames, grid_side, grid_side))
        patches = emb.patch_embed(video)  # (B, T, N, D)
        cls, pos, time = emb.cls_token, emb.pos_embed, emb.time_embed

        def tokens(cls_tok, patch_tok, order="b t n d -> b (n t) d", cls_last=False):
            flat = rearrange(patch_tok, order)
            parts = [flat, cls_tok.expand(batch, -1, -1)]
            return torch.cat(parts if cls_last else parts[::-1], dim=1)

        good_cls, good_patches = cls + pos[:, :1], patches + pos[:, None, 1:] + time[:, :, None]
        variants = {
            "tokens in this package's time-major order (t h w); the official / Hugging "
            "Face layout is patch-major (h w t): token 1 + n·T + t (rearrange "
            "'b t n d -> b (n t) d')": lambda: tokens(
                good_cls, good_patches, "b t n d -> b (t n) d"
            ),
            "the CLS token is missing its position embedding pos_embed[:, 0]": lambda: tokens(
                cls, good_patches
            ),
            "the time embedding was added to the CLS token too": lambda: tokens(
                good_cls + time[:, :1], good_patches
            ),
            "no time embedding was added to the patch tokens": lambda: tokens(
                good_cls, patches + pos[:, None, 1:]
            ),
            "patch n must get pos_embed[:, 1 + n] (slot 0 belongs to the CLS token)": lambda: (
                tokens(good_cls, patches + pos[:, None, :N] + time[:, :, None])
            ),
            "the CLS token goes first, not last": lambda: tokens(
                good_cls, good_patches, cls_last=True
            ),
        }
        compare(got, expected, "embed_official(video, emb)", variants)
        # property: a still clip's tokens differ between frames only by the time embedding
        still = video[:, :1].expand(-1, frames, -1, -1, -1).contiguous()
        grid_tokens = embed_official(still, emb)[:, 1:].reshape(batch, N, frames, D)
        step = grid_tokens - grid_tokens[:, :, :1]
        compare(
            step,
            (time - time[:, :1])[:, None].expand_as(step).contiguous(),
            "tokens of a still clip, frame t minus frame 0 (per patch)",
            hint="each frame's patches get the same time embedding time_embed[:, t]",
        )
        # property: same weights, other token order, same logits
        compare(
            _official_logits(model, got, (frames, grid_side, grid_side)),
            model(video),
            "logits of the package's weights run in the (h w t) order on your tokens",
            hint="the weights do not depend on the token order",
        )
    passed(
        f"embed_official: {N} patches × T={frames} + CLS, patch-major (h w t); the same "
        "weights give the same logits in either order"
    )


@single_thread
def check_token_layout(
    to_time_major, to_patch_major, grid=(3, 2, 2), batch: int = 2, seed: int = 0
) -> None:
    """to_time_major(tokens, grid): official (h w t) -> package (t h w); to_patch_major the
    inverse; both keep the CLS token first. Inputs (B, 1 + T·N, D), grid = (T, H', W')."""
    T, H, W = grid
    x = randn(batch, 1 + T * H * W, 4, seed=seed)  # time-major tokens (the package's)
    official = package_patch_major(x, grid)

    def rearranged(tokens, pattern):
        body = rearrange(tokens[:, 1:], pattern, t=T, h=H, w=W)
        return torch.cat([tokens[:, :1], body], 1)

    def wrong_way(tokens, pattern):  # the inverse of the asked conversion
        return lambda: rearranged(tokens, pattern)

    for fn, given, expected, name, other in (
        (to_time_major, official, x, "to_time_major", "b (t h w) d -> b (h w t) d"),
        (to_patch_major, x, official, "to_patch_major", "b (h w t) d -> b (t h w) d"),
    ):
        got = check_shape(
            fn(given.clone(), grid),
            given.shape,
            f"{name}(tokens, grid)",
            "the same tokens, CLS first, in the other order",
        )
        variants = {
            "converted the wrong way: (h w t) -> (t h w) is to_time_major, "
            "(t h w) -> (h w t) is to_patch_major": wrong_way(given, other),
            "width and height swapped: the patch index is n = h·W' + w, so the layouts "
            "are (t h w) and (h w t)": wrong_way(
                given,
                "b (h w t) d -> b (t w h) d"
                if name == "to_time_major"
                else "b (t h w) d -> b (w h t) d",
            ),
        }
        if not torch.equal(got[:, 0], given[:, 0]):
            raise CheckFailed(
                f"{name}: the CLS token must stay first and unchanged; rearrange only tokens[:, 1:]"
            )
        compare(got, expected, f"{name}(tokens, grid)", variants)
    back = to_patch_major(to_time_major(official.clone(), grid), grid)
    compare(
        back,
        official,
        "to_patch_major(to_time_major(tokens))",
        hint="the two conversions must undo each other",
    )
    passed(
        f"token layouts: T={T}, {H}×{W} patches; (h w t) <-> (t h w), CLS kept first, "
        "the two conversions invert each other"
    )


@single_thread
def check_num_tokens(num_tokens, sizes=((8, 224, 224, 16), (2, 32, 48, 8))) -> None:
    """num_tokens(T, H, W, P) -> int, against the length of the package's embedding output."""
    for T, H, W, P in sizes:
        cfg = tiny_config(num_frames=T, image_size=min(H, W) // P * P, patch_size=P)
        with torch.no_grad():
            expected = VideoEmbedding(cfg)(torch.zeros(1, T, 3, H, W))[0].shape[1]
        got = num_tokens(T, H, W, P)
        if got != expected:
            hints = {
                expected - 1: "forgot the CLS token",
                1 + T * H * W // P: "each patch covers P·P pixels: N = (H/P)·(W/P)",
                expected + T - 1: "the CLS token is added once per clip, not once per frame",
            }
            raise CheckFailed(
                f"num_tokens{(T, H, W, P)}: expected {expected}, got {got!r}"
                + (f". Likely mistake: {hints[got]}" if got in hints else "")
            )
    passed(f"num_tokens: e.g. {sizes[0]} -> {num_tokens(*sizes[0])} tokens")


@single_thread
def check_weights_layout(
    weights_to_time_major, grid=(3, 2, 2), batch: int = 2, heads: int = 2, seed: int = 0
) -> None:
    """weights_to_time_major(weights, grid): joint-attention weights (B, heads, L, L) of a
    model whose tokens are patch-major (h w t), CLS first -> the same weights indexed by
    time-major (t h w) tokens: rows (queries) and columns (keys) both reordered."""
    T, H, W = grid
    L = 1 + T * H * W
    expected = randn(batch, heads, L, L, seed=seed).softmax(-1)  # time-major weights
    perm = package_patch_major(torch.arange(L).view(1, L, 1).float(), grid)[0, :, 0].long()
    given = expected[..., perm, :][..., perm]  # the same weights in the official order
    inverse = torch.argsort(perm)
    got = check_shape(
        weights_to_time_major(given.clone(), grid),
        given.shape,
        "weights_to_time_major(weights, grid)",
        "the same (B, heads, L, L) weights, rows and columns reordered",
    )
    compare(
        got,
        expected,
        "weights_to_time_major(weights, grid)",
        {
            "reordered the rows (queries) only; the keys (columns) are tokens too": lambda: given[
                ..., inverse, :
            ],
            "reordered the columns (keys) only; the queries (rows) are tokens too": lambda: given[
                ..., inverse
            ],
            "converted the wrong way: these weights are in the official (h w t) order": lambda: (
                given[..., perm, :][..., perm]
            ),
        },
    )
    if not torch.allclose(got.sum(-1), torch.ones(())):
        raise CheckFailed("weights_to_time_major: every row must still sum to 1")
    passed(
        f"weights_to_time_major: T={T}, {H}×{W} patches, rows and columns reordered, CLS kept first"
    )
