"""Markdown tables: the one helper every report uses (perf, demo, train, gpu-check).

A leaf module: it imports nothing from the package, so any layer may use it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence


def markdown_table(header: Sequence[str], rows: Iterable[Sequence[object]], align: str = "") -> str:
    """A GitHub-flavoured Markdown table, one line per row, no trailing newline.

    ``align`` has one letter per column, ``l`` (left, the default for missing letters) or
    ``r`` (right, for numbers). Cells are written with ``str``: format numbers before.
    """
    if any(a not in "lr" for a in align) or len(align) > len(header):
        raise ValueError(f"align must be at most {len(header)} letters l/r, got {align!r}")
    rule = ["---:" if a == "r" else "---" for a in align.ljust(len(header), "l")]
    lines = [_row(header), _row(rule)]
    for row in rows:
        cells = list(row)
        if len(cells) != len(header):
            raise ValueError(f"a row has {len(cells)} cells, the header {len(header)}: {cells!r}")
        lines.append(_row(cells))
    return "\n".join(lines)


def _row(cells: Sequence[object]) -> str:
    return "| " + " | ".join(str(c) for c in cells) + " |"


__all__ = ["markdown_table"]
