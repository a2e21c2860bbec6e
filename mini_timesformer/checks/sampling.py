"""Checks for exercise 7: frame sampling and multi-view testing (paper §4 and Appendix A;
``mt.data.dense_indices``, ``segment_indices``, ``eval_views``; ``evaluate.py``).

``mt.data`` is imported inside the checks, so the video libraries load only here.
"""

from __future__ import annotations

import math

import torch

from ..model import TimeSformer
from .core import CheckFailed, check_shape, compare, passed, randn, randomize, single_thread
from .steps import tiny_config


def _as_indices(value, what: str) -> list[int]:
    if torch.is_tensor(value):
        value = value.tolist()
    if not isinstance(value, list | tuple) or not all(
        isinstance(i, int) and not isinstance(i, bool) for i in value
    ):
        raise CheckFailed(f"{what}: expected a list of int frame indices, got {value!r}")
    return list(value)


def _compare_indices(got, expected: list[int], what: str, variants: dict, video_frames: int):
    got = _as_indices(got, what)
    if len(got) != len(expected):
        raise CheckFailed(
            f"{what}: expected {len(expected)} indices (one per frame), got {len(got)}"
        )
    if got == expected:
        return
    if any(not 0 <= i < video_frames for i in got):
        raise CheckFailed(
            f"{what}: index out of range in {got}: a video has frames "
            f"0..{video_frames - 1}; past the end, repeat the last frame"
        )
    for mistake, make in variants.items():
        if got == make():
            raise CheckFailed(f"{what}: got {got}, expected {expected}. Likely mistake: {mistake}")
    raise CheckFailed(f"{what}: got {got}, expected {expected}")


def _dense_variant(V, T, r, k, K, start=None, rounding=int, spacing=None):
    slack = max(V - T * r, 0)
    if start is None:
        start = slack / 2 if K == 1 else slack * k / (K - 1)
    return [min(rounding(start + t * (spacing or r)), V - 1) for t in range(T)]


DENSE_CASES = (
    (300, 8, 32, 0, 1),
    (100, 8, 32, 0, 1),
    (1000, 8, 32, 0, 3),
    (1003, 8, 32, 1, 3),
    (1000, 8, 32, 2, 3),
    (303, 16, 16, 0, 1),
)


def _dense_case(fn, V, T, r, k, K) -> None:
    from ..data import dense_indices, segment_indices

    slack = max(V - T * r, 0)
    variants = {
        "took the first window (start 0). That is the official decoder's one-view clip "
        "(timesformer/datasets/decoder.py, get_start_end_idx: start = slack·k/K), not an "
        "error, but this exercise asks for the paper's middle clip, start = slack / 2": lambda: (
            _dense_variant(V, T, r, k, K, start=0)
        ),
        "consecutive frames: the T frames are `stride` frames apart": lambda: _dense_variant(
            V, T, r, k, K, spacing=1
        ),
        "frames spread over the whole video: that is segment sampling; dense sampling "
        "takes frames `stride` apart": lambda: segment_indices(V, T),
        "windows spaced slack·k/K. That is the official decoder's convention "
        "(get_start_end_idx), not an error, but this exercise asks for the package's: "
        "slack·k/(K−1), the first and last windows touching the ends": lambda: _dense_variant(
            V, T, r, k, K, start=slack * k / K
        ),
        "rounded to the nearest frame; take the floor (int)": lambda: _dense_variant(
            V, T, r, k, K, rounding=round
        ),
    }
    _compare_indices(
        fn(V, T, r, k, K),
        dense_indices(V, T, r, clip_index=k, num_clips=K),
        f"dense_indices({V}, {T}, {r}, clip {k} of {K})",
        variants,
        V,
    )


@single_thread
def check_dense_indices(fn, cases=DENSE_CASES) -> None:
    """fn(num_video_frames, num_frames, stride, clip_index, num_clips) -> T frame indices,
    against ``mt.data.dense_indices`` (test mode: evenly spaced windows, no randomness)."""
    for case in cases:
        _dense_case(fn, *case)
    passed(
        f"dense_indices: {len(cases)} cases, incl. a video shorter than the clip and "
        "3 evenly spaced clips"
    )


def _segment_case(fn, V, T) -> None:
    from ..data import segment_indices

    variants = {
        "took the first frame of each segment; take its middle": lambda: [
            min(int(t * V / T), V - 1) for t in range(T)
        ],
        "spread from the first to the last frame (linspace); take each segment's middle": lambda: (
            torch.linspace(0, V - 1, T).long().tolist()
        ),
        "spread from the first to the last frame (linspace, rounded); take each segment's "
        "middle": lambda: torch.linspace(0, V - 1, T).round().long().tolist(),
    }
    _compare_indices(fn(V, T), segment_indices(V, T), f"segment_indices({V}, {T})", variants, V)


@single_thread
def check_segment_indices(fn, cases=((300, 8), (7, 8), (64, 16))) -> None:
    """fn(num_video_frames, num_frames) -> the middle frame of each of T equal segments."""
    for case in cases:
        _segment_case(fn, *case)
    passed(f"segment_indices: {len(cases)} cases, incl. a video with fewer frames than T")


def _crops_case(fn, clip: torch.Tensor, crop: int) -> None:
    from ..data import eval_views

    T, _, H, W = clip.shape
    got = fn(clip.clone(), crop)
    what = f"three_crops of a {H}×{W} clip"
    check_shape(got, (3, T, 3, crop, crop), what, "stack the 3 crops first: (3, T, 3, crop, crop)")
    long = max(H, W) - crop

    def crops(offsets, along_width):
        return torch.stack(
            [
                clip[..., :crop, o : o + crop] if along_width else clip[..., o : o + crop, :crop]
                for o in offsets
            ]
        )

    variants = {
        "crops spread along the short side; spread them along the long side": lambda: crops(
            (0, 0, 0), W < H
        ),
        "the centre crop must start at (long − crop) // 2": lambda: crops(
            (0, math.ceil(long / 2), long), W >= H
        ),
        "three copies of the centre crop; take left/top, centre and right/bottom": lambda: crops(
            (long // 2,) * 3, W >= H
        ),
    }
    compare(got, eval_views(clip, crop, 3), what, variants)


@single_thread
def check_three_crops(
    fn, shapes=((2, 8, 14), (2, 13, 8), (1, 8, 8)), crop: int = 8, seed: int = 0
) -> None:
    """fn(clip uint8 (T, 3, H, W) with short side = crop, crop) -> (3, T, 3, crop, crop):
    left/top, centre, right/bottom crops along the long side (``mt.data.eval_views``)."""
    g = torch.Generator().manual_seed(seed)
    for T, H, W in shapes:
        _crops_case(fn, torch.randint(0, 256, (T, 3, H, W), dtype=torch.uint8, generator=g), crop)
    passed("three_crops: landscape, portrait and square clips, as mt.data.eval_views")


@single_thread
def check_predict_views(fn, views: int = 3, frames: int = 2, seed: int = 0) -> None:
    """fn(model, views (V, T, 3, H, W)) -> class probabilities (classes,): the mean over
    views of each view's softmax (the paper's test protocol)."""
    cfg = tiny_config(num_frames=frames, image_size=8, depth=1)
    model = randomize(TimeSformer(cfg), seed)
    with torch.no_grad():  # larger head weights: confident, different views
        model.head.weight.mul_(8)
    clips = randn(views, frames, 3, 8, 8, seed=seed + 1)
    got = fn(model, clips.clone())
    check_shape(
        got,
        (cfg.num_classes,),
        "predict_views(model, views)",
        "one probability per class for the whole video: average over the V views",
    )
    with torch.no_grad():
        logits = model(clips)  # (V, classes)
        expected = logits.softmax(-1).mean(0)
        variants = {
            "averaged the logits, then softmax; the paper averages the views' softmax "
            "scores": lambda: logits.mean(0).softmax(-1),
            "took the maximum over views; average them": lambda: logits.softmax(-1).amax(0),
            "used only the first view": lambda: logits[0].softmax(-1),
            "returned averaged logits; apply softmax to each view first": lambda: logits.mean(0),
        }
        compare(got, expected, "predict_views probabilities", variants)
    passed(f"predict_views: mean of {views} views' softmax scores, sums to 1")
