"""Checks for exercise 9: MAC formulas for the attention schemes, measured against
``torch.utils.flop_counter.FlopCounterMode`` (paper Fig. 3, Tables 2 and 5; ``cost.macs``).

Convention (fvcore, as the paper): one multiply-add (MAC) = one "FLOP"; only matrix
products count. FlopCounterMode counts 2 FLOPs per MAC and sees every product of the
explicit attention path (``forward_with_attention``).
"""

from __future__ import annotations

import torch
from torch.utils.flop_counter import FlopCounterMode

from ..config import TimeSformerConfig
from ..cost import step_shapes
from ..model import TimeSformer
from ..schemes import STEPS, scheme_record
from .core import CheckFailed, call, passed, single_thread
from .steps import tiny_config


def measured_macs(cfg: TimeSformerConfig, frames: int, size: int) -> int:
    """MACs of one forward pass of ``TimeSformer(cfg)`` on one clip, counted by PyTorch."""
    model = TimeSformer(cfg).eval()
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        model.forward_with_attention(torch.zeros(1, frames, 3, size, size))
    return counter.get_total_flops() // 2


def _variant(
    cfg, T, S, cls_copies=True, extra="added", products=2, embed=True, head=True, mlp_cls=True
):
    """The scheme's MACs with one piece left out (the classic mistakes).

    extra: which steps get the extra Linear(D, D) on the T·N patch tokens: "added" (all
    but the last: right), "none", "first" (only the first step), "all" (the last too).
    """
    D, P, N = cfg.embed_dim, cfg.patch_size, (S // cfg.patch_size) ** 2
    hidden = int(D * cfg.mlp_ratio)
    block = 0
    for i, s in enumerate(step_shapes(cfg, T, S)):
        L = s.length - (0 if cls_copies or s.added else 1)  # group length (CLS copy?)
        block += s.groups * L * 4 * D * D + products * s.groups * L * L * D
        if {"added": s.added, "none": False, "first": i == 0, "all": True}[extra]:
            block += T * N * D * D
    block += (T * N + (1 if mlp_cls else 0)) * 2 * D * hidden
    total = cfg.depth * block
    total += T * N * D * cfg.in_channels * P * P if embed else 0
    return total + (D * cfg.num_classes if head else 0)


DEFAULT_SIZES = {
    "axial": ((2, 8), (4, 16), (1, 8)),
    "local_global": ((2, 8), (4, 16), (1, 8)),
    "divided": ((2, 8), (4, 16), (1, 8)),
}


@single_thread
def check_macs(fn, scheme: str, sizes=None) -> None:
    """fn(cfg, num_frames, image_size) -> MACs of one forward pass of ``scheme``, against
    FlopCounterMode on a real model (tiny width, 2 blocks)."""
    name = f"{scheme}_macs"
    for T, S in sizes or DEFAULT_SIZES[scheme]:
        cfg = tiny_config(attention=scheme, num_frames=T, image_size=S, depth=2)
        expected = measured_macs(cfg, T, S)
        got = call(
            fn,
            cfg,
            T,
            S,
            what=f"{name}(cfg, {T}, {S})",
            hint=f"{scheme} needs its own formula: count each of its steps "
            f"{STEPS[scheme]} with its own group sizes",
        )
        if not isinstance(got, int):
            raise CheckFailed(f"{name}: expected an int, got {type(got).__name__}")
        if got == expected:
            continue
        last = scheme_record(scheme).cls_step
        mistakes = {
            "counted 2 FLOPs per multiply-add; the convention is 1 MAC = 1 FLOP": 2 * expected,
            f"forgot the CLS copy in each group of the last step ({last}): its groups have "
            "one token more": _variant(cfg, T, S, cls_copies=False),
            "forgot the extra Linear(D, D) of the added steps": _variant(cfg, T, S, extra="none"),
            "gave only the first step an extra Linear; every added step has one": _variant(
                cfg, T, S, extra="first"
            ),
            f"gave the last step ({last}) an extra Linear too; only added steps have one": _variant(
                cfg, T, S, extra="all"
            ),
            "counted one attention product; there are two, Q·Kᵀ and A·V": _variant(
                cfg, T, S, products=1
            ),
            "forgot the patch embedding (T·N·D·C·P²)": _variant(cfg, T, S, embed=False),
            "forgot the classification head (D·classes)": _variant(cfg, T, S, head=False),
            "the MLP runs on the CLS token too (1 + T·N tokens)": _variant(
                cfg, T, S, mlp_cls=False
            ),
        }
        named = [m for m, value in mistakes.items() if value == got and value != expected]
        raise CheckFailed(
            f"{name} at T={T}, {S}×{S}, D={cfg.embed_dim}: expected "
            f"{expected:,} (FlopCounterMode ÷ 2), got {got:,}"
            + (f". Likely mistake: {' or '.join(named)}" if named else "")
        )
    passed(f"{name}: equals FlopCounterMode ÷ 2 at {len(sizes or DEFAULT_SIZES[scheme])} sizes")
