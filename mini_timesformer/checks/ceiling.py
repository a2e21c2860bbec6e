"""Checks for exercise 10: the ceiling of a T-frame sampler on the ``long`` synthetic clips
(paper §4.6 and Table 8: do longer clips pay off?; ``mt.data.synthetic_long``).

The references are ``catch_probabilities``, ``count_table`` and ``sampler_ceiling``; the
named mistakes are the lesson's shortcuts used where they do not hold. ``mt.data`` is
imported inside the checks, so the video libraries load only here.
"""

from __future__ import annotations

import math

from .core import CheckFailed, passed

# (clip frames N, frames T, event frames (lo, hi), slot j): T that divide N and T that do not,
# flashes of one length and of several, equal and unequal per-slot probabilities
CATCH_CASES = (
    (64, 8, (2, 2), 0),
    (64, 32, (1, 3), 0),
    (64, 16, (1, 3), 2),
    (64, 10, (1, 1), 1),
    (64, 7, (1, 3), 3),
    (64, 32, (2, 3), 1),
    (128, 24, (1, 5), 2),
)
CEILING_CASES = (
    (0.25, 0.25, 0.25, 0.25),
    (0.5, 0.5, 0.5, 0.5),
    (1.0, 1.0, 1.0, 1.0),
    (0.125, 0.125, 0.0, 0.125),
    (0.1, 0.5, 0.9, 1.0),
)
FEWEST_CASES = (
    (0.99, 64, (2, 2)),
    (0.99, 64, (1, 1)),
    (0.8, 64, (1, 3)),
    (0.5, 64, (3, 4)),
    (0.9, 128, (1, 2)),
)
CANDIDATES = (4, 8, 16, 32, 64, 128)


def _number(value, what: str) -> float:
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise CheckFailed(f"{what}: expected a number, got {value!r}") from None
    if not math.isfinite(value):
        raise CheckFailed(f"{what}: expected a finite number, got {value}")
    return value


def _named(got: float, expected: float, what: str, variants: dict) -> None:
    if abs(got - expected) <= 1e-9:
        return
    for mistake, make in variants.items():
        try:
            if abs(got - make()) <= 1e-9:
                raise CheckFailed(
                    f"{what}: got {got:.6f}, expected {expected:.6f}. Likely mistake: {mistake}"
                )
        except ZeroDivisionError:
            continue
    raise CheckFailed(f"{what}: got {got:.6f}, expected {expected:.6f}")


def _catch_by(N, T, event_frames, j, frames=None, lengths=None) -> float:
    """A variant of the reference: other sampled frames or other flash lengths."""
    slot = N // 4
    frames = set(
        frames if frames is not None else (min(int((t + 0.5) * N / T), N - 1) for t in range(T))
    )
    lengths = lengths or range(event_frames[0], event_frames[1] + 1)
    starts = [j * slot + slot // 8 + u for u in range(slot // 2)]
    hits = [any(f in frames for f in range(s, s + L)) for s in starts for L in lengths]
    return sum(hits) / len(hits)


def check_catch_probability(fn, cases=CATCH_CASES) -> None:
    """fn(clip_frames, T, event_frames, slot) -> the probability that the T uniformly sampled
    frames show the flash of ``slot``, against ``catch_probabilities``."""
    for N, T, event_frames, j in cases:
        _catch_case(fn, N, T, event_frames, j)
    passed(
        f"catch probabilities of {len(cases)} (clip, T, flash lengths, slot) cases, "
        f"T dividing N or not"
    )


def _catch_case(fn, N: int, T: int, event_frames: tuple[int, int], j: int) -> None:
    from ..data.synthetic_long import catch_probabilities

    what = f"catch_probability({N}, {T}, {event_frames}, slot {j})"
    got = _number(fn(N, T, event_frames, j), what)
    s = N / T
    mean_length = (event_frames[0] + event_frames[1]) / 2
    lo, hi = event_frames
    variants = {
        "p = E[min(L, s)] / s with s = N / T: the lesson's formula holds only when the "
        "flash's start is uniform modulo s; here count the offsets the generator draws": lambda: (
            sum(min(L, s) for L in range(lo, hi + 1)) / (hi - lo + 1) / s
        ),
        "the mean length in min(L, s) / s: average over the lengths instead": lambda: (
            min(mean_length, s) / s
        ),
        "sampled frames at ⌊t·N/T⌋ (segment starts); the sampler takes segment middles, "
        "⌊(t + ½)·N/T⌋": lambda: _catch_by(
            N, T, event_frames, j, frames=[int(t * N / T) for t in range(T)]
        ),
        "a flash of L frames covers L + 1 frames (start … start + L is one too many)": lambda: (
            _catch_by(N, T, event_frames, j, lengths=range(lo + 1, hi + 2))
        ),
        "only the shortest flash length; lengths are uniform on lo … hi": lambda: _catch_by(
            N, T, event_frames, j, lengths=[lo]
        ),
    }
    _named(got, catch_probabilities(N, T, event_frames)[j].item(), what, variants)


def _reference_ceiling(p) -> float:
    from ..data.synthetic_long import count_table

    return count_table(p).max(0).values.sum().item() / 4


def check_ceiling(fn, cases=CEILING_CASES) -> None:
    """fn(p) -> the best top-1 from the sampled frames when slot j's flash is caught with
    probability p[j] (1–4 flashes in distinct random slots, classes equally likely)."""
    for p in cases:
        _ceiling_case(fn, p)
    passed(f"ceiling for {len(cases)} sets of per-slot catch probabilities, equal and unequal")


def _ceiling_case(fn, p) -> None:
    from ..data.synthetic_long import count_table

    what = f"ceiling({list(p)})"
    got = _number(fn(list(p)), what)
    table = count_table(p)  # (n = 1..4, k = 0..4)
    mean = sum(p) / 4
    variants = {
        "one p for every flash (the lesson's binomial with the mean of p): each slot has "
        "its own probability, and which slots hold the flashes is random": lambda: (
            _reference_ceiling([mean] * 4)
        ),
        "the max over k for each n: guess from what you see, i.e. for each k seen take "
        "the n that makes it most likely (max over n), then sum over k": lambda: (
            table.max(1).values.sum().item() / 4
        ),
        "no division by the number of classes (the prior 1/4)": lambda: (
            table.max(0).values.sum().item()
        ),
        "k = 0 left out: a clip whose flashes were all missed is still guessed (as 1)": lambda: (
            table[:, 1:].max(0).values.sum().item() / 4
        ),
        "the probability of seeing every flash; the best guess also wins when some are "
        "missed": lambda: sum(table[n, n + 1].item() for n in range(4)) / 4,
    }
    _named(got, _reference_ceiling(p), what, variants)


def check_fewest_frames(fn, cases=FEWEST_CASES, candidates=CANDIDATES) -> None:
    """fn(target, clip_frames, event_frames, candidates) -> the fewest frames among
    ``candidates`` whose sampler ceiling reaches ``target`` (None if none does)."""
    from ..data.synthetic_long import sampler_ceiling

    for target, N, event_frames in cases:
        allowed = [T for T in candidates if T <= N]
        ceilings = {T: sampler_ceiling(T, N, event_frames) for T in allowed}
        expected = next((T for T in allowed if ceilings[T] >= target - 1e-12), None)
        got = fn(target, N, event_frames, allowed)
        what = f"fewest_frames({target}, {N}, {event_frames})"
        if got == expected:
            continue
        if got == max((T for T in allowed if ceilings[T] >= target - 1e-12), default=None):
            raise CheckFailed(
                f"{what}: got {got}, expected {expected}: that is the most "
                f"frames that reach the target; return the fewest"
            )
        if isinstance(got, float) and abs(got - ceilings.get(expected, -1)) < 1e-9:
            raise CheckFailed(f"{what}: got the ceiling {got:.4f}; return the number of frames")
        raise CheckFailed(
            f"{what}: got {got!r}, expected {expected} (ceilings: "
            + ", ".join(f"T={T}: {c:.3f}" for T, c in ceilings.items())
            + ")"
        )
    passed(f"fewest frames for {len(cases)} targets")
