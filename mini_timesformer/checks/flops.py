"""Checks for exercise 9: a FLOP formula for divided attention, measured against
``torch.utils.flop_counter.FlopCounterMode`` (paper Tables 2 and 5; ``cost.macs``).

Convention (fvcore, as the paper): one multiply-add (MAC) = one "FLOP"; only matrix
products count. FlopCounterMode counts 2 FLOPs per MAC and sees every product of the
explicit attention path (``return_attention=True``).
"""

from __future__ import annotations

import torch
from torch.utils.flop_counter import FlopCounterMode

from ..config import TimeSformerConfig
from ..model import TimeSformer
from .core import CheckFailed, passed, single_thread
from .steps import tiny_config

# Paper, Tables 2 and 5: inference "TFLOPs" for 3 views (1 clip × 3 crops), ViT-B divided.
PAPER_TFLOPS_3_VIEWS = {"TimeSformer (8×224)": (8, 224, 0.59),
                        "TimeSformer-HR (16×448)": (16, 448, 5.11),
                        "TimeSformer-L (96×224)": (96, 224, 7.14)}


def measured_macs(cfg: TimeSformerConfig, frames: int, size: int) -> int:
    """MACs of one forward pass of ``TimeSformer(cfg)`` on one clip, counted by PyTorch."""
    model = TimeSformer(cfg).eval()
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        model(torch.zeros(1, frames, 3, size, size), return_attention=True)
    return counter.get_total_flops() // 2


def _variant(cfg, T, S, cls_copies=True, extra=True, products=2, embed=True, head=True,
             mlp_cls=True):
    """The divided MACs with one piece left out (the classic mistakes)."""
    D, P, N = cfg.embed_dim, cfg.patch_size, (S // cfg.patch_size) ** 2
    hidden = int(D * cfg.mlp_ratio)
    time = N * T * 4 * D * D + products * N * T * T * D + (T * N * D * D if extra else 0)
    L = N + (1 if cls_copies else 0)  # tokens per space group
    space = T * L * 4 * D * D + products * T * L * L * D
    mlp = (T * N + (1 if mlp_cls else 0)) * 2 * D * hidden
    total = cfg.depth * (time + space + mlp)
    total += T * N * D * cfg.in_channels * P * P if embed else 0
    return total + (D * cfg.num_classes if head else 0)


@single_thread
def check_divided_macs(fn, sizes=((2, 8), (4, 16), (1, 8))) -> None:
    """fn(cfg, num_frames, image_size) -> MACs of one divided forward pass, against
    FlopCounterMode on a real model (tiny width, 2 blocks)."""
    for T, S in sizes:
        cfg = tiny_config(attention="divided", num_frames=T, image_size=S, depth=2)
        expected, got = measured_macs(cfg, T, S), fn(cfg, T, S)
        if not isinstance(got, int):
            raise CheckFailed(f"divided_macs: expected an int, got {type(got).__name__}")
        if got == expected:
            continue
        mistakes = {
            "counted 2 FLOPs per multiply-add; the convention is 1 MAC = 1 FLOP": 2 * expected,
            "forgot the CLS copy in each frame's space group (1 + N tokens)":
                _variant(cfg, T, S, cls_copies=False),
            "forgot the time step's extra Linear(D, D) (temporal_fc)":
                _variant(cfg, T, S, extra=False),
            "counted one attention product; there are two, Q·Kᵀ and A·V":
                _variant(cfg, T, S, products=1),
            "forgot the patch embedding (T·N·D·C·P²)": _variant(cfg, T, S, embed=False),
            "forgot the classification head (D·classes)": _variant(cfg, T, S, head=False),
            "the MLP runs on the CLS token too (1 + T·N tokens)":
                _variant(cfg, T, S, mlp_cls=False),
        }
        named = [m for m, value in mistakes.items() if value == got]
        raise CheckFailed(f"divided_macs at T={T}, {S}×{S}, D={cfg.embed_dim}: expected "
                          f"{expected:,} (FlopCounterMode ÷ 2), got {got:,}"
                          + (f". Likely mistake: {' or '.join(named)}" if named else ""))
    passed(f"divided_macs: equals FlopCounterMode ÷ 2 at {len(sizes)} sizes")


@single_thread
def check_paper_tflops(fn) -> None:
    """The formula at ViT-B gives the paper's 3-view "TFLOPs" (Tables 2 and 5)."""
    cfg = TimeSformerConfig.preset("base", attention="divided", num_classes=400)
    for name, (T, S, paper) in PAPER_TFLOPS_3_VIEWS.items():
        got = round(3 * fn(cfg, T, S) / 1e12, 2)
        if got != paper:
            raise CheckFailed(f"{name}: 3 views × your MACs = {got} TFLOPs, the paper says "
                              f"{paper}")
    passed("divided_macs reproduces the paper: " + ", ".join(
        f"{name} {value[2]} TFLOPs" for name, value in PAPER_TFLOPS_3_VIEWS.items()))
