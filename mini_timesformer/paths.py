"""Where runs write their files: never into tracked folders (design.md).

``$MINI_TIMESFORMER_HOME`` if set, else the repository's ``runs/`` — also from a notebook,
whose kernel Jupyter and nbval start inside ``notebooks/``.
"""

from __future__ import annotations

import os
from pathlib import Path


def runs_dir(*parts: str) -> Path:
    """``runs_dir("course-06")`` -> runs/course-06 (created by whoever writes there)."""
    home = os.environ.get("MINI_TIMESFORMER_HOME")
    if home:
        base = Path(home)
    else:
        base = Path("../runs") if Path.cwd().name == "notebooks" else Path("runs")
    return base.joinpath(*parts)
