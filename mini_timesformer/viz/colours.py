"""The one colour table of the package's figures: a colour per scheme (cost curves,
measured-vs-estimate plots), per attention step (the receptive-field figure, paper Fig. 2)
and the query patch."""

from __future__ import annotations

from ..schemes import SCHEMES

SCHEME_COLOURS = dict(zip(SCHEMES, ["tab:gray", "tab:red", "tab:blue", "tab:green", "tab:purple"]))
QUERY_COLOUR = (0.12, 0.35, 0.85)  # blue, as the query patch in the paper's Fig. 2
STEP_COLOURS = [(1.0, 0.55, 0.1), (0.2, 0.7, 0.3), (0.85, 0.2, 0.25)]  # 1st, 2nd, 3rd step

__all__ = ["SCHEME_COLOURS", "QUERY_COLOUR", "STEP_COLOURS"]
