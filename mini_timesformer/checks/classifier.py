"""Checks for exercise 6: the whole classifier and its parameter count (paper §3, Fig. 1,
Table 1; ``model.TimeSformer`` and ``cost.params``)."""

from __future__ import annotations

import torch

from ..config import SCHEMES, TimeSformerConfig
from ..model import TimeSformer
from ..schemes import STEPS
from ..summary import PAPER_TABLE1
from .core import CheckFailed, check_shape, compare, passed, randn, randomize, single_thread
from .steps import tiny_config


@single_thread
def check_classify(classify, scheme: str = "divided", frames: int = 2, grid_side: int = 2,
                   batch: int = 2, seed: int = 0) -> None:
    """classify(model, video) -> logits (B, classes), from the model's pieces, against
    ``model(video)`` (a package ``TimeSformer`` with random weights, 2 blocks)."""
    cfg = tiny_config(attention=scheme, num_frames=frames, image_size=4 * grid_side, depth=2)
    model = randomize(TimeSformer(cfg), seed)
    video = randn(batch, frames, 3, cfg.image_size, cfg.image_size, seed=seed + 1)
    got = classify(model, video.clone())
    check_shape(got, (batch, cfg.num_classes), "classify(model, video)",
                "one row of class scores (logits) per clip: model.head(features (B, D))")
    with torch.no_grad():
        expected = model(video)
        x0, grid = model.embed(video)
        x = x0
        for block in model.blocks:
            x = block(x, grid)[0]
        head, norm = model.head, model.norm
        variants = {
            "averaged all tokens; the classifier reads the CLS token, index 0":
                lambda: head(norm(x).mean(1)),
            "forgot the final LayerNorm model.norm": lambda: head(x[:, 0]),
            "took the last token; the CLS token is the first (index 0)":
                lambda: head(norm(x)[:, -1]),
            "the tokens must pass through every block of model.blocks":
                lambda: head(norm(model.blocks[0](x0, grid)[0])[:, 0]),
        }
        compare(got, expected, "classify logits", variants)
    passed(f"classify ({scheme}): embed -> {cfg.depth} blocks -> norm -> CLS -> head, same "
           "logits as the model")


def _pieces(cfg: TimeSformerConfig) -> dict[str, int]:
    """Parameter counts of the pieces students tend to forget or count twice."""
    D, L, S = cfg.embed_dim, cfg.depth, len(STEPS[cfg.attention])
    attention = 2 * D + 3 * D * D + (3 * D if cfg.qkv_bias else 0) + D * D + D
    hidden = int(D * cfg.mlp_ratio)
    pieces = {
        "the extra Linear(D, D) of each added step (the official temporal_fc)":
            L * (S - 1) * (D * D + D),
        "a whole added step per block (its own LayerNorm, qkv, projection and extra "
        "Linear)": L * (S - 1) * (attention + D * D + D),
        "the qkv bias (3·D per attention step)": L * S * 3 * D if cfg.qkv_bias else 0,
        "the extra Linear(D, D) in the last step too (only added steps have one)":
            L * (D * D + D),
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
        hint = (f". Likely {'missing' if diff > 0 else 'counted once too often'}: "
                + " or ".join(missed)) if missed else ""
        raise CheckFailed(f"count_params for {cfg.attention} (D={cfg.embed_dim}, "
                          f"depth={cfg.depth}, T={cfg.num_frames}, N={cfg.num_patches}, "
                          f"classes={cfg.num_classes}): expected {expected:,}, got {got:,} "
                          f"({'short' if diff > 0 else 'over'} by {abs(diff):,}){hint}")
    return got


@single_thread
def check_param_count(count_params, configs=None) -> None:
    """count_params(cfg) -> int, against ``sum(p.numel())`` of ``TimeSformer(cfg)``."""
    base = dict(num_frames=4, image_size=16, patch_size=4, depth=2)
    configs = configs or [tiny_config(attention=s, **base) for s in SCHEMES] + [
        tiny_config(attention="axial", qkv_bias=False, mlp_ratio=2.0, num_classes=7, **base)]
    for cfg in configs:
        _count_check(count_params, cfg)
    passed(f"count_params: exact on {len(configs)} configurations "
           f"({', '.join(sorted({c.attention for c in configs}))})")


@single_thread
def check_table1(count_params) -> None:
    """ViT-B, 8×224, 174 classes (SSv2): exact counts, and the paper's Table 1 in millions."""
    for scheme in SCHEMES:
        cfg = TimeSformerConfig.preset("base", attention=scheme, num_classes=174)
        got = _count_check(count_params, cfg)
        if round(got / 1e6, 1) != PAPER_TABLE1[scheme][0]:
            raise CheckFailed(f"{scheme}: {got / 1e6:.1f}M parameters, Table 1 says "
                              f"{PAPER_TABLE1[scheme][0]}M")
    passed("count_params reproduces Table 1: " + ", ".join(
        f"{s} {PAPER_TABLE1[s][0]}M" for s in SCHEMES))
