"""The one colour table of the package's figures: a colour per scheme (cost curves,
measured-vs-estimate plots), per attention step (the receptive-field figure, paper Fig. 2)
and the query patch."""

from __future__ import annotations

import colorsys

from .. import schemes
from ..schemes import SCHEMES

SCHEME_COLOURS = dict(zip(SCHEMES, ["tab:gray", "tab:red", "tab:blue", "tab:green", "tab:purple"]))
_MORE_SCHEME_COLOURS = ["tab:orange", "tab:brown", "tab:pink", "tab:olive", "tab:cyan"]
QUERY_COLOUR = (0.12, 0.35, 0.85)  # blue, as the query patch in the paper's Fig. 2
STEP_COLOURS = [(1.0, 0.55, 0.1), (0.2, 0.7, 0.3), (0.85, 0.2, 0.25)]  # 1st, 2nd, 3rd step
# then matplotlib's tab10 purple, brown, pink, olive, cyan (none near the query's blue)
_MORE_STEP_COLOURS = [
    (0.58, 0.40, 0.74),
    (0.55, 0.34, 0.29),
    (0.89, 0.47, 0.76),
    (0.74, 0.74, 0.13),
    (0.09, 0.75, 0.81),
]


def scheme_colour(name: str) -> str | None:
    """A scheme's colour: ``SCHEME_COLOURS``, or for a scheme registered later (a sixth
    one) a colour none of the five uses, by registration order; None (matplotlib's next
    colour) for a name that is no scheme."""
    if name in SCHEME_COLOURS:
        return SCHEME_COLOURS[name]
    later = [s for s in schemes.SCHEME_RECORDS if s not in SCHEME_COLOURS]
    if name not in later:
        return None
    return _MORE_SCHEME_COLOURS[later.index(name) % len(_MORE_SCHEME_COLOURS)]


def step_colours(num_steps: int) -> list[tuple[float, float, float]]:
    """One distinct RGB colour per attention step, for a scheme of any number of steps:
    ``STEP_COLOURS`` first, then five more, then evenly spaced hues (our choice)."""
    colours = (STEP_COLOURS + _MORE_STEP_COLOURS)[:num_steps]
    extra = num_steps - len(colours)
    for k in range(extra):  # hues 1/extra apart, paler than the table's colours
        colours.append(colorsys.hsv_to_rgb((k + 0.5) / extra, 0.55, 0.8))
    return colours


__all__ = ["SCHEME_COLOURS", "QUERY_COLOUR", "STEP_COLOURS", "scheme_colour", "step_colours"]
