# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Exercise 10: the ceiling of a frame sampler
#
# **Goal:** before training anything, know how well *any* model can do from the frames it
# is given — and so how many frames to train on, the paper's long-clip question (RQ5; §4.6
# and Table 8: 8, 32, 64, 96 frames on HowTo100M). You compute it exactly for the `long`
# synthetic clips, for flashes of any length and for frame counts T that do not divide the
# clip — where the lesson's formula `p = min(L, s) / s` and its binomial no longer hold.
# **Before this:** lesson 13 (long clips). **Time:** about 40 minutes. **Points:** 7.
#
# Replace each `raise NotImplementedError()` with your code and run the test cell below
# it. Without Jupyter: `mini-timesformer check exercises/10_sampler_ceiling.ipynb`.

# %%
import torch

from mini_timesformer import checks
from mini_timesformer.data import SyntheticVideos

torch.manual_seed(0)

# %% [markdown]
# ## The clips, exactly
#
# A `long` clip has N frames (a multiple of 16), cut into 4 slots of `S = N / 4` frames.
# A clip of class c shows n = c + 1 flashes, in n distinct slots chosen uniformly at
# random. The flash of slot j starts at frame `j·S + S/8 + u`, with `u` uniform on
# `0, 1, …, S/2 − 1`, and lasts L frames, L uniform on `lo, …, hi` (`event_frames`); it is
# on in frames `start, …, start + L − 1`. (Check it on a clip: `ds.params(i)` has `starts`
# and `lengths`.)
#
# A uniform sampler of T frames takes frame `⌊(t + ½)·N/T⌋` for t = 0, …, T − 1 (the middle
# of each of T equal segments).

# %%
ds = SyntheticVideos("long", num_frames=64, size=8, event_frames=(1, 3))
p = ds.params(7)
print(f"class {p.label}: flashes start at {p.starts.tolist()}, last {p.lengths.tolist()} frames")

# %% [markdown]
# ## 1. The probability that a slot's flash is seen (3 points)
#
# Return the exact probability that at least one of the T sampled frames falls on the flash
# of slot j: average over every (u, L) the generator can draw. When `s = N / T` divides
# `S / 2` the answer is the lesson's `E[min(L, s)] / s`; for T = 10 or 7 it is not.


# %%
def catch_probability(clip_frames: int, T: int, event_frames: tuple[int, int], slot: int) -> float:
    """P(the flash of ``slot`` is on in at least one of the T sampled frames)."""
    ### BEGIN SOLUTION
    N, S = clip_frames, clip_frames // 4
    sampled = {int((t + 0.5) * N / T) for t in range(T)}
    lo, hi = event_frames
    draws = [(slot * S + S // 8 + u, L) for u in range(S // 2) for L in range(lo, hi + 1)]
    return sum(any(f in sampled for f in range(a, a + L)) for a, L in draws) / len(draws)
    ### END SOLUTION


# %% grade_id="catch_tests" points=3
checks.check_catch_probability(catch_probability)
### BEGIN HIDDEN TESTS
checks.check_catch_probability(
    catch_probability,
    cases=((64, 5, (1, 1), 2), (64, 19, (1, 1), 1), (32, 12, (1, 2), 3), (64, 64, (1, 4), 0)),
)
### END HIDDEN TESTS

# %% [markdown]
# ## 2. The ceiling (3 points)
#
# Given `p[j]` for the four slots, a model sees k of the n flashes. Seeing is independent
# per flash, but *which* slots hold the n flashes is random, so
# `P(k | n)` is the average, over the n-slot subsets, of the probability that exactly k of
# their flashes are seen. The best any model can do is guess, for each k, the n that makes
# k most likely (the classes are equally likely), so the ceiling is
# `¼ Σ_k max_n P(k | n)`, for k = 0 … 4 and n = 1 … 4.


# %%
def ceiling(p: list[float]) -> float:
    """The best top-1 from the sampled frames when slot j's flash is seen with p[j]."""
    ### BEGIN SOLUTION
    from itertools import combinations

    best = [0.0] * 5  # for each k seen: max over n of P(k | n)
    for n in range(1, 5):
        likelihood = [0.0] * 5
        subsets = list(combinations(range(4), n))
        for chosen in subsets:
            counts = [1.0]  # P(k) over the flashes of this subset so far
            for j in chosen:
                counts = [
                    (counts[k] if k < len(counts) else 0.0) * (1 - p[j])
                    + (counts[k - 1] * p[j] if k >= 1 else 0.0)
                    for k in range(len(counts) + 1)
                ]
            for k, q in enumerate(counts):
                likelihood[k] += q / len(subsets)
        best = [max(b, q) for b, q in zip(best, likelihood)]
    return sum(best) / 4
    ### END SOLUTION


# %% grade_id="ceiling_tests" points=3
checks.check_ceiling(ceiling)
### BEGIN HIDDEN TESTS
checks.check_ceiling(
    ceiling, cases=((0.0, 0.0, 0.0, 0.0), (0.3, 0.3, 0.6, 0.6), (0.75, 0.25, 0.75, 0.25))
)
### END HIDDEN TESTS

# %% [markdown]
# ## 3. How many frames? (1 point)
#
# Return the fewest frames among `candidates` (increasing, each ≤ N) whose ceiling reaches
# `target`, or None if none does — with your two functions.


# %%
def fewest_frames(
    target: float, clip_frames: int, event_frames: tuple[int, int], candidates: list[int]
) -> int | None:
    """The smallest T in ``candidates`` whose sampler ceiling is at least ``target``."""
    ### BEGIN SOLUTION
    for T in candidates:
        p = [catch_probability(clip_frames, T, event_frames, j) for j in range(4)]
        if ceiling(p) >= target - 1e-12:
            return T
    return None
    ### END SOLUTION


# %% grade_id="fewest_tests" points=1
checks.check_fewest_frames(fewest_frames)
### BEGIN HIDDEN TESTS
checks.check_fewest_frames(fewest_frames, cases=((0.6, 64, (2, 3)), (1.01, 64, (2, 2))))
### END HIDDEN TESTS

# %% [markdown]
# ## Questions (not graded)
#
# 1. With flashes of 1–3 frames in 64-frame clips, which T reaches 80%? What does it cost in
#    GMACs over 8 frames (`mt.cost.macs(cfg, num_frames=T)`)?
# 2. For T = 7, slot 3 is seen less often than the others. Why? Would the dense sampler of
#    exercise 7 (8 frames every 8) do better or worse than segment middles?
# 3. The paper's -L model takes 96 frames every 4 (§4.2). Under what kind of labels does the
#    dense 96-frame clip beat 8 frames spread over the same span, and when does it not?
