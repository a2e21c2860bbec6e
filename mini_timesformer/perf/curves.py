"""Cost curves of the five schemes: the paper's Fig. 3, extended (§4.1, "Varying the size").

Everything here is analytic (from ``cost.py``, which holds the memory model): GMACs per view (one multiply-add = one
"FLOP", fvcore), parameters, attention memory per layer and a training-memory estimate,
as functions of the frame size (224 -> 560 px) and of the number of frames (8 -> 96).

The lesson of Fig. 3: joint space-time attention's cost grows with (T·N)², divided
attention's with T·N·(T + N). With *eager* attention the (T·N)² scores are also stored,
and the paper's joint model runs out of GPU memory at 448 px or 32 frames (§4.1; the
32 GB of its V100s is our assumption, the paper does not state it); *fused*
(flash / memory-efficient) attention stores O(T·N) per layer, so memory stops being
quadratic — but the FLOPs still are.
"""

from __future__ import annotations

import csv
import io

from .. import cost
from ..config import SCHEMES, TimeSformerConfig
from ..cost import GIB, V100_BYTES, max_batch, training_memory
from ..markdown import markdown_table

DEFAULT_SIZES = (224, 336, 448, 560)
DEFAULT_FRAMES = (8, 32, 64, 96)


def config_at(
    preset: str, scheme: str, num_frames: int, image_size: int, **overrides
) -> TimeSformerConfig | None:
    """The preset's config at a new clip size; None where the scheme cannot split the grid
    (local_global needs an even patch grid, e.g. not 336 px = 21×21 patches of 16)."""
    try:
        return TimeSformerConfig.preset(
            preset, attention=scheme, num_frames=num_frames, image_size=image_size, **overrides
        )
    except ValueError:
        return None


def cost_row(cfg: TimeSformerConfig, batch: int = 1) -> dict:
    """One point of the curves (memories in GiB, fp32)."""
    return {
        "scheme": cfg.attention,
        "frames": cfg.num_frames,
        "size": cfg.image_size,
        "params_m": cost.params(cfg) / 1e6,
        "gmacs": cost.macs(cfg) / 1e9,
        "keys_per_query": cost.keys_per_query(cfg),
        "attn_eager_gib": cost.attention_memory(cfg, batch, fused=False) / GIB,
        "attn_fused_gib": cost.attention_memory(cfg, batch, fused=True) / GIB,
        "train_eager_gib": training_memory(cfg, batch, fused=False)["total"] / GIB,
        "train_fused_gib": training_memory(cfg, batch, fused=True)["total"] / GIB,
        "max_batch_eager_32g": max_batch(cfg, fused=False),
        "max_batch_fused_32g": max_batch(cfg, fused=True),
    }


def sweep(
    schemes=SCHEMES,
    sizes=DEFAULT_SIZES,
    frames=DEFAULT_FRAMES,
    preset: str = "base",
    batch: int = 1,
    base_frames: int | None = None,
    base_size: int | None = None,
    num_classes: int = 400,
) -> list[dict]:
    """Fig. 3's two sweeps for each scheme: size at ``base_frames``, frames at ``base_size``
    (default: the first frame count and the first size, 8 and 224 px as in the paper).

    Rows carry ``sweep`` = "size" or "frames"; a scheme that cannot split a grid is skipped.
    """
    base_frames = base_frames or (frames[0] if frames else 8)
    base_size = base_size or (sizes[0] if sizes else 224)
    rows = []
    for scheme in schemes:
        points = [("size", base_frames, s) for s in sizes] + [
            ("frames", f, base_size) for f in frames
        ]
        for kind, T, size in points:
            cfg = config_at(preset, scheme, T, size, num_classes=num_classes)
            if cfg is not None:
                rows.append({"sweep": kind, **cost_row(cfg, batch)})
    return rows


def first_over(
    rows: list[dict],
    scheme: str,
    kind: str,
    key: str = "train_eager_gib",
    budget_gib: float = V100_BYTES / GIB,
):
    """The first size (or frame count) of a sweep where ``key`` exceeds the budget, or None."""
    axis = "size" if kind == "size" else "frames"
    for r in sorted(
        (r for r in rows if r["scheme"] == scheme and r["sweep"] == kind), key=lambda r: r[axis]
    ):
        if r[key] > budget_gib:
            return r[axis]
    return None


COLUMNS = (
    "sweep",
    "scheme",
    "frames",
    "size",
    "params_m",
    "gmacs",
    "keys_per_query",
    "attn_eager_gib",
    "attn_fused_gib",
    "train_eager_gib",
    "train_fused_gib",
    "max_batch_eager_32g",
    "max_batch_fused_32g",
)


def _number(x: float) -> str:
    """1261.8, 86.11, 0.0123: one decimal for big numbers, 3 significant digits below 100."""
    return f"{x:.1f}" if abs(x) >= 100 else f"{x:.3g}"


def format_table(rows: list[dict]) -> str:
    """A Markdown table of ``sweep`` rows."""
    cells = [[_number(r[c]) if isinstance(r[c], float) else r[c] for c in COLUMNS] for r in rows]
    return markdown_table(COLUMNS, cells)


def to_csv(rows: list[dict]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


__all__ = [
    "DEFAULT_SIZES",
    "DEFAULT_FRAMES",
    "COLUMNS",
    "config_at",
    "cost_row",
    "sweep",
    "first_over",
    "format_table",
    "to_csv",
]
