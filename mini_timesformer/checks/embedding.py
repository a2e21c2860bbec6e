"""Checks for exercise 1: patches and the embeddings (paper §3, "Decomposition into
patches" and "Linear embedding"; ``embed.py``)."""

from __future__ import annotations

import torch
from einops import rearrange

from ..embed import PatchEmbed, VideoEmbedding
from .core import CheckFailed, check_shape, compare, passed, randn, randomize, single_thread
from .steps import tiny_config


def _project(patches: torch.Tensor, conv: torch.nn.Conv2d) -> torch.Tensor:
    """Flattened patches (B, T, N, C·P·P) through the conv's weights as one Linear."""
    return patches @ conv.weight.flatten(1).T + conv.bias  # (B, T, N, D)


@single_thread
def check_patchify(patchify, frames: int = 3, grid=(2, 3), patch: int = 4, channels: int = 3,
                   batch: int = 2, seed: int = 0) -> None:
    """patchify(video (B, T, C, H, W), P) -> (B, T, N, C·P·P), patches row by row.

    Value check: the flattened patches times the Conv2d weight (as a matrix) must give
    the package's ``PatchEmbed`` output (same weights): conv with kernel = stride = P
    *is* a linear map on flattened patches.
    """
    H, W = grid
    video = randn(batch, frames, channels, H * patch, W * patch, seed=seed)
    got = patchify(video.clone(), patch)
    check_shape(got, (batch, frames, H * W, channels * patch * patch), "patchify(video, P)",
                "N = H'·W' patches per frame, each flattened to C·P·P numbers")
    ref = randomize(PatchEmbed(patch, channels, 8), seed + 1)
    with torch.no_grad():
        expected = ref(video)  # (B, T, N, D)

        def wrong(pattern):
            return lambda: _project(rearrange(video, pattern, p=patch, q=patch), ref.proj)

        variants = {
            "each patch flattened channels-last (P, P, C); flatten it as (C, P, P), the "
            "order of Conv2d's weight": wrong("b t c (h p) (w q) -> b t (h w) (p q c)"),
            "patches numbered column by column; number them row by row, n = h·W' + w":
                wrong("b t c (h p) (w q) -> b t (w h) (c p q)"),
            "pixel rows and columns swapped inside each patch": wrong(
                "b t c (h p) (w q) -> b t (h w) (c q p)"),
            "a plain reshape/view mixes pixels of different patches: split H into (H', P) "
            "and W into (W', P) and move the patch axes together first":
                lambda: _project(video.reshape(batch, frames, H * W, -1), ref.proj),
        }
        compare(_project(got, ref.proj), expected, "patchify(video, P) @ Wᵀ + b", variants)
    passed(f"patchify: T={frames} frames of {H}×{W} patches of {patch}×{patch}, same as Conv2d")


@single_thread
def check_embed_tokens(embed_tokens, frames: int = 3, grid_side: int = 2, patch: int = 4,
                       batch: int = 2, seed: int = 0) -> None:
    """embed_tokens(video, emb) -> tokens (B, 1 + T·N, D): CLS first, then time-major.

    ``emb`` is a package ``VideoEmbedding`` with random weights; its output is the reference.
    """
    cfg = tiny_config(num_frames=frames, image_size=grid_side * patch, patch_size=patch)
    emb = randomize(VideoEmbedding(cfg), seed)
    N, D = grid_side**2, cfg.embed_dim
    video = randn(batch, frames, 3, cfg.image_size, cfg.image_size, seed=seed + 1)
    got = embed_tokens(video.clone(), emb)
    check_shape(got, (batch, 1 + frames * N, D), "embed_tokens(video, emb)",
                "one CLS token, then T·N patch tokens, each of D numbers")
    with torch.no_grad():
        expected = emb(video)[0]
        patches = emb.patch_embed(video)  # (B, T, N, D)
        cls, pos, time = emb.cls_token, emb.pos_embed, emb.time_embed

        def tokens(cls_tok, patch_tok, order="b t n d -> b (t n) d", cls_last=False):
            flat = rearrange(patch_tok, order)
            parts = [flat, cls_tok.expand(batch, -1, -1)]
            return torch.cat(parts if cls_last else parts[::-1], dim=1)

        good_cls, good_patches = cls + pos[:, :1], patches + pos[:, None, 1:] + time[:, :, None]
        variants = {
            "tokens in space-major order; they are time-major: frame 0's N patches, then "
            "frame 1's, ... (rearrange 'b t n d -> b (t n) d')":
                lambda: tokens(good_cls, good_patches, "b t n d -> b (n t) d"),
            "the CLS token is missing its position embedding pos_embed[:, 0]":
                lambda: tokens(cls, good_patches),
            "the time embedding was added to the CLS token too":
                lambda: tokens(good_cls + time[:, :1], good_patches),
            "no time embedding was added to the patch tokens":
                lambda: tokens(good_cls, patches + pos[:, None, 1:]),
            "patch n must get pos_embed[:, 1 + n] (slot 0 belongs to the CLS token)":
                lambda: tokens(good_cls, patches + pos[:, None, :N] + time[:, :, None]),
            "the CLS token goes first, not last":
                lambda: tokens(good_cls, good_patches, cls_last=True),
        }
        compare(got, expected, "embed_tokens(video, emb)", variants)
        # property: a clip whose frames are all equal differs between frames only by
        # the time embedding, the same vector for every patch of a frame
        still = video[:, :1].expand(-1, frames, -1, -1, -1).contiguous()
        grid_tokens = embed_tokens(still, emb)[:, 1:].reshape(batch, frames, N, D)
        step = grid_tokens - grid_tokens[:, :1]
        compare(step, (time - time[:, :1])[:, :, None].expand_as(step).contiguous(),
                "tokens of a still clip, frame t minus frame 0",
                hint="each frame's patches get the same time embedding time_embed[:, t]")
    passed(f"embed_tokens: T={frames} frames × {N} patches + CLS, time-major, embeddings added")


@single_thread
def check_num_tokens(num_tokens, sizes=((8, 224, 224, 16), (2, 32, 48, 8))) -> None:
    """num_tokens(T, H, W, P) -> int, against the length of the package's embedding output."""
    for T, H, W, P in sizes:
        cfg = tiny_config(num_frames=T, image_size=min(H, W) // P * P, patch_size=P)
        with torch.no_grad():
            expected = VideoEmbedding(cfg)(torch.zeros(1, T, 3, H, W))[0].shape[1]
        got = num_tokens(T, H, W, P)
        if got != expected:
            hints = {expected - 1: "forgot the CLS token",
                     1 + T * H * W // P: "each patch covers P·P pixels: N = (H/P)·(W/P)",
                     expected + T - 1: "the CLS token is added once per clip, not once per frame"}
            raise CheckFailed(f"num_tokens{(T, H, W, P)}: expected {expected}, got {got!r}"
                              + (f". Likely mistake: {hints[got]}" if got in hints else ""))
    passed(f"num_tokens: e.g. {sizes[0]} -> {num_tokens(*sizes[0])} tokens")
