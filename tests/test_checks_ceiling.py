"""Exercise 10's checks (the ceiling of a T-frame sampler): references pass, each named
mistake is caught with its hint, and the lesson's shortcuts fail where they do not hold."""

import pytest

from mini_timesformer import checks
from mini_timesformer.checks import CheckFailed
from mini_timesformer.checks.ceiling import CATCH_CASES, CEILING_CASES
from mini_timesformer.data.synthetic_long import (
    binomial_ceiling,
    catch_probabilities,
    count_table,
    sampler_ceiling,
)


def reference_catch(N, T, event_frames, j):
    return catch_probabilities(N, T, event_frames)[j].item()


def reference_ceiling(p):
    return count_table(p).max(0).values.sum().item() / 4


def reference_fewest(target, N, event_frames, candidates):
    return next((T for T in candidates if sampler_ceiling(T, N, event_frames) >= target), None)


def test_references_pass(capsys):
    checks.check_catch_probability(reference_catch)
    checks.check_ceiling(reference_ceiling)
    checks.check_fewest_frames(reference_fewest)
    assert capsys.readouterr().out.count("  ok  ") == 3


def test_the_lessons_shortcuts_fail_where_they_do_not_hold():
    """Lesson 13_long_clips: p = min(L, s) / s and one binomial for every flash."""

    def lesson_p(N, T, event_frames, j):
        s, (lo, hi) = N / T, event_frames
        return sum(min(L, s) for L in range(lo, hi + 1)) / (hi - lo + 1) / s

    with pytest.raises(CheckFailed, match="holds only when the flash's start is uniform"):
        checks.check_catch_probability(lesson_p)
    with pytest.raises(CheckFailed, match="one p for every flash"):
        checks.check_ceiling(lambda p: binomial_ceiling(sum(p) / 4))
    dividing = [c for c in CATCH_CASES if c[0] % c[1] == 0 and c[2][1] <= c[0] // c[1]]
    checks.check_catch_probability(lesson_p, cases=dividing)  # where the lesson's holds
    equal = [p for p in CEILING_CASES if len(set(p)) == 1]
    checks.check_ceiling(lambda p: binomial_ceiling(p[0]), cases=equal)


@pytest.mark.parametrize(
    "mistake, hint",
    [
        (lambda N, T, ef, j: min((ef[0] + ef[1]) / 2, N / T) / (N / T), "mean length"),
        (lambda N, T, ef, j: _catch(N, T, ef, j, middle=0.0), "segment starts"),
        (lambda N, T, ef, j: _catch(N, T, ef, j, extra=1), r"covers L \+ 1 frames"),
        (lambda N, T, ef, j: _catch(N, T, (ef[0], ef[0]), j), "only the shortest"),
    ],
)
def test_catch_probability_mistakes_are_named(mistake, hint):
    with pytest.raises(CheckFailed, match=hint):
        checks.check_catch_probability(mistake)


def _catch(N, T, event_frames, j, middle=0.5, extra=0):
    S = N // 4
    sampled = {int((t + middle) * N / T) for t in range(T)}
    draws = [
        (j * S + S // 8 + u, L)
        for u in range(S // 2)
        for L in range(event_frames[0], event_frames[1] + 1)
    ]
    return sum(any(f in sampled for f in range(a, a + L + extra)) for a, L in draws) / len(draws)


@pytest.mark.parametrize(
    "mistake, hint",
    [
        (lambda p: count_table(p).max(1).values.sum().item() / 4, "max over k for each n"),
        (lambda p: count_table(p).max(0).values.sum().item(), "no division"),
        (lambda p: count_table(p)[:, 1:].max(0).values.sum().item() / 4, "k = 0 left out"),
        (lambda p: sum(count_table(p)[n, n + 1].item() for n in range(4)) / 4, "seeing every"),
        (lambda p: "0.5", None),
    ],
)
def test_ceiling_mistakes_are_named(mistake, hint):
    with pytest.raises(CheckFailed, match=hint or "got"):
        checks.check_ceiling(mistake)


def test_fewest_frames_mistakes_are_named():
    def most(target, N, ef, candidates):
        return max((T for T in candidates if sampler_ceiling(T, N, ef) >= target), default=None)

    with pytest.raises(CheckFailed, match="most frames"):
        checks.check_fewest_frames(most)
    with pytest.raises(CheckFailed, match="return the number of frames"):
        checks.check_fewest_frames(
            lambda t, N, ef, c: sampler_ceiling(reference_fewest(t, N, ef, c), N, ef)
        )
