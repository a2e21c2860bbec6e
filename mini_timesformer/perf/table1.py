"""The paper's Table 1 (ViT-B, 8×224, five schemes) reproduced from ``cost.py``.

Parameter counts use a 174-way head (SSv2's classes), which makes the paper's rounded
figures exact; GMACs are per view with a 400-way head (one MAC = one "FLOP", fvcore).
"""

from __future__ import annotations

from .. import cost
from ..config import TimeSformerConfig
from ..markdown import markdown_table

# Paper, Table 1: params (M), K400 top-1, SSv2 top-1.
PAPER_TABLE1 = {
    "space": (85.9, 76.9, 36.6),
    "joint": (85.9, 77.4, 58.5),
    "divided": (121.4, 78.0, 59.5),
    "local_global": (121.4, 75.9, 56.3),
    "axial": (156.8, 73.5, 56.2),
}


def table1_rows(preset: str = "base", **overrides) -> list[dict]:
    """One dict per scheme: our analytic numbers beside the paper's."""
    rows = []
    for scheme in PAPER_TABLE1:  # the paper's five schemes, in SCHEMES order
        cfg = TimeSformerConfig.preset(preset, attention=scheme, num_classes=174, **overrides)
        paper_params, k400, ssv2 = PAPER_TABLE1[scheme]
        rows.append(
            {
                "scheme": scheme,
                "params": cost.params(cfg),
                "paper_params_m": paper_params,
                "gmacs": cost.macs(cfg.replace(num_classes=400)) / 1e9,
                "keys_per_query": cost.keys_per_query(cfg),
                "paper_k400": k400,
                "paper_ssv2": ssv2,
            }
        )
    return rows


def format_table1(rows: list[dict]) -> str:
    """A Markdown table of ``table1_rows``."""
    header = (
        "scheme",
        "params (ours)",
        "params (paper)",
        "GMACs/view*",
        "keys per query",
        "K400 top-1 (paper)",
        "SSv2 top-1 (paper)",
    )
    cells = [
        (
            r["scheme"],
            f"{r['params']:,}",
            f"{r['paper_params_m']}M",
            f"{r['gmacs']:.1f}",
            r["keys_per_query"],
            r["paper_k400"],
            r["paper_ssv2"],
        )
        for r in rows
    ]
    lines = [markdown_table(header, cells, "lrrrrrr"), ""]
    lines.append(
        "*one multiply-add counted as one FLOP (fvcore convention); 174-class head "
        "for params, 400-class head for GMACs; keys per query sum over a block's "
        "steps, CLS included where the step includes it."
    )
    return "\n".join(lines)
