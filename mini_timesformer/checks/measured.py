"""Thresholds that belong to a measured budget (the lessons' accuracy checks).

A trained accuracy (or an attention ratio) is only a fact for the budget it was measured
on: the CPU budget of ``mt.demo.BUDGETS``. On that budget the lessons assert it; on any
other (``gpu``, a Colab GPU, ``smoke``) nobody has measured it yet, so the lesson prints
the number next to the range the measured budget gives, and asserts nothing.

    expect("divided, motion top-1", 0.97, low=0.9, measured=budget_name(BUDGET) == "cpu")
"""

from __future__ import annotations

import math

from ..errors import UserError


def budget_name(budget) -> str:
    """The name of ``budget`` in ``mt.demo.BUDGETS`` (``"custom"`` if it is none of them)."""
    from ..demo import BUDGETS

    return next((name for name, known in BUDGETS.items() if known == budget), "custom")


def expect(
    what: str,
    value: float,
    low: float = -math.inf,
    high: float = math.inf,
    *,
    measured: bool,
    where: str = "the cpu budget",
    percent: bool = False,
) -> bool:
    """Check ``low <= value <= high`` where the range was measured, else only report it.

    ``measured``: this run uses the budget the range was measured on (then a value outside
    it is an ``AssertionError``). ``where``: that budget, for the message. Returns whether
    the value is inside the range.
    """

    def show(x: float) -> str:
        return f"{x:.1%}" if percent else f"{x:.3g}"

    if not (math.isfinite(low) or math.isfinite(high)):
        raise UserError(f"expect({what!r}): give low, high or both")
    expected = (
        f"{show(low)}–{show(high)}"
        if math.isfinite(low) and math.isfinite(high)
        else f"≥ {show(low)}"
        if math.isfinite(low)
        else f"≤ {show(high)}"
    )
    inside = low <= value <= high
    if measured:
        assert inside, f"{what} = {show(value)}, expected {expected} (measured on {where})"
        print(f"checked: {what} = {show(value)} (expected {expected}, measured on {where})")
    else:
        print(
            f"{what} = {show(value)}; on {where} it is {expected} — this budget is not "
            f"measured, so not asserted ({'inside' if inside else 'outside'} that range)"
        )
    return inside
