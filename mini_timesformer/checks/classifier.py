"""Checks for exercise 6: the whole classifier and its parameter count (paper §3, Fig. 1,
Table 1; ``model.TimeSformer`` and ``cost.params``)."""

from __future__ import annotations

import torch
from einops import rearrange

from ..config import SCHEMES, TimeSformerConfig
from ..model import TimeSformer
from ..perf.table1 import PAPER_TABLE1
from ..schemes import STEPS
from .core import (
    CheckFailed,
    check_shape,
    compare,
    passed,
    randn,
    randomize,
    single_thread,
    unpack,
)
from .steps import tiny_config


def _frames_forward(model, tokens: torch.Tensor, grid, batch: int):
    """Per-frame ViT: tokens (B·T, 1 + N, D) through the blocks on a 1-frame grid ->
    final tokens (B, T, 1 + N, D)."""
    x = tokens
    for block in model.blocks:
        x = block(x, (1, *grid[1:]))[0]
    return rearrange(x, "(b t) l d -> b t l d", b=batch)


@single_thread
def check_classify_space(
    classify_space,
    frames: int = 3,
    grid_side: int = 2,
    batch: int = 2,
    depth: int = 2,
    seed: int = 0,
) -> None:
    """classify_space(model, video) -> (logits (B, K), frame_logits (B, T, K)) for a
    space-only model: every frame is its own ViT (own CLS, no time embedding); the clip's
    logits come from the frames' final tokens averaged *before* the final LayerNorm
    (official space-only), frame_logits from each frame's own final CLS token."""
    cfg = tiny_config(attention="space", num_frames=frames, image_size=4 * grid_side, depth=depth)
    model = randomize(TimeSformer(cfg), seed)
    video = randn(batch, frames, 3, cfg.image_size, cfg.image_size, seed=seed + 1)
    logits, frame_logits = unpack(
        classify_space(model, video.clone()), 2, "classify_space(model, video)"
    )
    K = cfg.num_classes
    check_shape(
        logits,
        (batch, K),
        "classify_space logits",
        "one row of class scores per clip: model.head(features (B, D))",
    )
    check_shape(
        frame_logits,
        (batch, frames, K),
        "classify_space frame_logits",
        "one row of class scores per frame of each clip: (B, T, classes)",
    )
    with torch.no_grad():
        expected = model(video)
        tokens, grid = model.embed(video, use_time=False)  # (B·T, 1 + N, D)
        final = _frames_forward(model, tokens, grid, batch)  # (B, T, 1 + N, D)
        head, norm = model.head, model.norm
        per_frame = head(norm(final[:, :, 0]))  # (B, T, K)
        time = rearrange(
            model.embed.time_embed[:, :frames].expand(batch, -1, -1), "b t d -> (b t) 1 d"
        )  # (B·T, 1, D)
        with_time = torch.cat([tokens[:, :1], tokens[:, 1:] + time], dim=1)
        shared, full_grid = model.embed(video)  # one CLS for the clip, time embedding added

        def shared_cls():
            x = shared
            for block in model.blocks:
                x = block(x, full_grid)[0]
            return head(norm(x)[:, 0])

        variants = {
            "averaged the frames' logits; space-only averages the frames' final tokens "
            "before the final LayerNorm (official code), then reads the CLS": lambda: (
                per_frame.mean(1)
            ),
            "added the time embedding; space-only frames are separate ViTs without one": lambda: (
                head(norm(_frames_forward(model, with_time, grid, batch).mean(1))[:, 0])
            ),
            "one CLS token for the whole clip; each frame needs its own CLS token "
            "(frames folded into the batch: (B·T, 1 + N, D), grid (1, H', W'))": shared_cls,
            "used frame 0 only; average the T frames' final tokens": lambda: head(
                norm(final[:, 0])[:, 0]
            ),
            "forgot the final LayerNorm model.norm": lambda: head(final.mean(1)[:, 0]),
        }
        compare(logits, expected, "classify_space logits", variants)
        compare(
            frame_logits,
            per_frame,
            "classify_space frame_logits",
            {
                "frames and clips mixed up when unfolding (B·T): rearrange '(b t) ... -> b t ...'": lambda: (
                    rearrange(rearrange(per_frame, "b t k -> (b t) k"), "(t b) k -> b t k", b=batch)
                ),
                "forgot the final LayerNorm model.norm before the head": lambda: head(
                    final[:, :, 0]
                ),
            },
        )
    passed(
        f"classify_space: T={frames} per-frame ViTs, frames' tokens averaged before the "
        "LayerNorm, same logits as the model; per-frame logits as the frames' own CLS"
    )


def _pieces(cfg: TimeSformerConfig) -> dict[str, int]:
    """Parameter counts of the pieces students tend to forget or count twice."""
    D, L, S = cfg.embed_dim, cfg.depth, len(STEPS[cfg.attention])
    attention = 2 * D + 3 * D * D + (3 * D if cfg.qkv_bias else 0) + D * D + D
    hidden = int(D * cfg.mlp_ratio)
    pieces = {
        "the extra Linear(D, D) of each added step (the official temporal_fc)": L
        * (S - 1)
        * (D * D + D),
        "a whole added step per block (its own LayerNorm, qkv, projection and extra Linear)": L
        * (S - 1)
        * (attention + D * D + D),
        "the qkv bias (3·D per attention step)": L * S * 3 * D if cfg.qkv_bias else 0,
        "the extra Linear(D, D) in the last step too (only added steps have one)": L * (D * D + D),
        "the CLS token or the CLS slot of the position embedding (D each)": D,
        "the CLS token and its position-embedding slot (2·D)": 2 * D,
        "the time embedding (T·D; the space scheme keeps it, unused)": cfg.num_frames * D,
        "the position embedding ((1 + N)·D)": (1 + cfg.num_patches) * D,
        "the LayerNorms (2·D each: gain and bias; one per step, one before each MLP, one "
        "at the end)": (L * (S + 1) + 1) * 2 * D,
        "the final LayerNorm (2·D)": 2 * D,
        "the classification head (D·classes + classes)": D * cfg.num_classes + cfg.num_classes,
        "the biases of the MLP (4·D + D per block)": L * (hidden + D),
        "the patch embedding's bias (D)": D,
    }
    return {name: n for name, n in pieces.items() if n}


def _count_check(count_params, cfg: TimeSformerConfig) -> int:
    with torch.device("meta"):  # shapes only: no memory, no initialisation cost
        expected = sum(p.numel() for p in TimeSformer(cfg).parameters())
    got = count_params(cfg)
    if not isinstance(got, int):
        raise CheckFailed(f"count_params: expected an int, got {type(got).__name__}")
    if got != expected:
        diff = expected - got
        missed = [n for n, size in _pieces(cfg).items() if size == abs(diff)]
        hint = (
            (
                f". Likely {'missing' if diff > 0 else 'counted once too often'}: "
                + " or ".join(missed)
            )
            if missed
            else ""
        )
        raise CheckFailed(
            f"count_params for {cfg.attention} (D={cfg.embed_dim}, "
            f"depth={cfg.depth}, T={cfg.num_frames}, N={cfg.num_patches}, "
            f"classes={cfg.num_classes}): expected {expected:,}, got {got:,} "
            f"({'short' if diff > 0 else 'over'} by {abs(diff):,}){hint}"
        )
    return got


@single_thread
def check_param_count(count_params, configs=None) -> None:
    """count_params(cfg) -> int, against ``sum(p.numel())`` of ``TimeSformer(cfg)``."""
    base = dict(num_frames=4, image_size=16, patch_size=4, depth=2)
    configs = configs or [tiny_config(attention=s, **base) for s in SCHEMES] + [
        tiny_config(attention="axial", qkv_bias=False, mlp_ratio=2.0, num_classes=7, **base),
        tiny_config(attention="divided", in_channels=1, mean=(0.5,), std=(0.25,), **base),
    ]
    for cfg in configs:
        _count_check(count_params, cfg)
    passed(
        f"count_params: exact on {len(configs)} configurations "
        f"({', '.join(sorted({c.attention for c in configs}))})"
    )


@single_thread
def check_table1(count_params) -> None:
    """ViT-B, 8×224, 174 classes (SSv2): exact counts, and the paper's Table 1 in millions."""
    for scheme in PAPER_TABLE1:  # the paper's five schemes
        cfg = TimeSformerConfig.preset("base", attention=scheme, num_classes=174)
        got = _count_check(count_params, cfg)
        if round(got / 1e6, 1) != PAPER_TABLE1[scheme][0]:
            raise CheckFailed(
                f"{scheme}: {got / 1e6:.1f}M parameters, Table 1 says {PAPER_TABLE1[scheme][0]}M"
            )
    passed(
        "count_params reproduces Table 1: "
        + ", ".join(f"{s} {PAPER_TABLE1[s][0]}M" for s in PAPER_TABLE1)
    )


def untabulated_configs() -> dict[str, TimeSformerConfig]:
    """Models whose exact parameter counts the paper does not print (K400 heads)."""
    base = TimeSformerConfig.preset("base", attention="divided", num_classes=400)
    return {
        "TimeSformer-HR (16×448)": base.replace(num_frames=16, image_size=448),
        "TimeSformer-L (96×224)": base.replace(num_frames=96),
        "a ViT-L-sized divided model (D=1024, 24 blocks, 16 heads)": base.replace(
            embed_dim=1024, depth=24, num_heads=16
        ),
    }


@single_thread
def check_untabulated(count_params) -> None:
    """Exact counts of -HR, -L and a ViT-L-sized model (against sum(p.numel()))."""
    for name, cfg in untabulated_configs().items():
        got = _count_check(count_params, cfg)
        passed(f"{name}: {got:,} parameters")
