"""Analytic cost of a TimeSformer: parameters, multiply-accumulates, attention memory.

Convention (fvcore, as in the paper's Tables 2 and 5): one multiply-add (MAC) is counted
as one "FLOP". ``macs()`` counts the matrix products (patch-embedding conv, every Linear,
the two attention products Q·Kᵀ and A·V); norms, softmax, GELU and additions are left
out, as fvcore leaves them out. Tests check these formulas against the real modules
(``sum(p.numel())``) and against ``torch.utils.flop_counter.FlopCounterMode`` (÷ 2).
"""

from __future__ import annotations

from dataclasses import dataclass

from .config import TimeSformerConfig
from .schemes import STEPS, num_groups


@dataclass
class StepShape:
    """Where one attention step runs: G groups of L keys each (CLS copy included)."""

    name: str
    groups: int
    length: int
    added: bool


def step_shapes(cfg: TimeSformerConfig, num_frames: int | None = None,
                image_size: int | None = None) -> list[StepShape]:
    """The groups each step of one block forms for one clip (see ``schemes.py``)."""
    T = num_frames or cfg.num_frames
    side = (image_size or cfg.image_size) // cfg.patch_size
    names = STEPS[cfg.attention]
    shapes = []
    for i, name in enumerate(names):
        added = i < len(names) - 1
        grid = (T, side, side)
        G = num_groups(name, grid)
        L = T * side * side // G + (0 if added else 1)  # the last step adds a CLS copy
        shapes.append(StepShape(name, G, L, added))
    return shapes


def params(cfg: TimeSformerConfig) -> int:
    """Exact number of parameters of ``TimeSformer(cfg)``."""
    D, C, P = cfg.embed_dim, cfg.in_channels, cfg.patch_size
    hidden = int(D * cfg.mlp_ratio)
    embed = D * C * P * P + D + D + (1 + cfg.num_patches) * D + cfg.num_frames * D
    attention = D * 3 * D + (3 * D if cfg.qkv_bias else 0) + D * D + D + 2 * D
    extra = D * D + D  # the zero-initialised Linear of an added step
    steps = len(STEPS[cfg.attention])
    mlp = 2 * D + D * hidden + hidden + hidden * D + D
    block = steps * attention + (steps - 1) * extra + mlp
    head = D * cfg.num_classes + cfg.num_classes
    return embed + cfg.depth * block + 2 * D + head


def macs(cfg: TimeSformerConfig, num_frames: int | None = None,
         image_size: int | None = None) -> int:
    """Multiply-accumulates of one forward pass on one clip (one "view")."""
    T = num_frames or cfg.num_frames
    N = ((image_size or cfg.image_size) // cfg.patch_size) ** 2
    D, C, P = cfg.embed_dim, cfg.in_channels, cfg.patch_size
    hidden = int(D * cfg.mlp_ratio)
    total = T * N * D * C * P * P  # patch embedding
    tokens = T * (1 + N) if cfg.attention == "space" else 1 + T * N  # per-frame CLS in space
    block = 0
    for s in step_shapes(cfg, T, image_size):
        rows = s.groups * s.length  # tokens entering this step's qkv (CLS copies included)
        block += rows * D * 3 * D  # qkv
        block += 2 * s.groups * s.length**2 * D  # Q·Kᵀ and A·V, summed over heads
        block += rows * D * D  # output projection
        if s.added:
            block += T * N * D * D  # extra Linear on the patch tokens
    block += tokens * D * hidden * 2  # MLP
    return total + cfg.depth * block + D * cfg.num_classes


def keys_per_query(cfg: TimeSformerConfig, num_frames: int | None = None,
                   image_size: int | None = None) -> int:
    """How many keys one patch query is compared with in one block (all steps)."""
    return sum(s.length for s in step_shapes(cfg, num_frames, image_size))


def attention_memory(cfg: TimeSformerConfig, batch: int = 1, fused: bool = True,
                     num_frames: int | None = None, image_size: int | None = None,
                     bytes_per_element: int = 4) -> int:
    """Bytes one attention step holds for its largest grouping (one layer).

    Eager attention materialises the scores and the softmax, 2·G·heads·L² numbers;
    fused (flash / memory-efficient) attention keeps q, k, v, the output and one
    log-sum-exp per query: G·heads·L·(4·d_h + 1) numbers, linear in L.
    """
    heads, d_h = cfg.num_heads, cfg.head_dim
    per_step = []
    for s in step_shapes(cfg, num_frames, image_size):
        if fused:
            per_step.append(s.groups * heads * s.length * (4 * d_h + 1))
        else:
            per_step.append(2 * s.groups * heads * s.length**2)
    return batch * max(per_step) * bytes_per_element
