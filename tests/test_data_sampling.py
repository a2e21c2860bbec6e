"""Frame samplers: property tests on the indices (paper §4 dense protocol, SSv2 segments)."""

import pytest
import torch

from mini_timesformer.data import clip_span, dense_indices, segment_indices

CASES = [(300, 8, 32), (250, 16, 16), (1000, 96, 4), (40, 8, 32), (1, 8, 4), (64, 8, 8)]


@pytest.mark.parametrize("n, T, r", CASES)
@pytest.mark.parametrize("clip_index", [None, 0])
def test_dense_in_range_ordered_and_T_long(n, T, r, clip_index):
    g = torch.Generator().manual_seed(n)
    idx = dense_indices(n, T, r, clip_index=clip_index, generator=g)
    assert len(idx) == T
    assert all(0 <= i < n for i in idx)
    assert idx == sorted(idx)


@pytest.mark.parametrize("n, T, r", [(300, 8, 32), (250, 16, 16), (1000, 96, 4)])
def test_dense_spacing_is_the_stride_when_the_video_is_long_enough(n, T, r):
    for seed in range(20):
        idx = dense_indices(n, T, r, generator=torch.Generator().manual_seed(seed))
        assert {b - a for a, b in zip(idx, idx[1:])} == {r}


def test_dense_spacing_follows_the_frame_rate_ratio():
    # a 15 fps video, stride 32 at the paper's 30 fps: 16 source frames apart
    idx = dense_indices(10_000, 8, 32, video_fps=15, target_fps=30, clip_index=0)
    assert {b - a for a, b in zip(idx, idx[1:])} == {16}
    # 60 fps: 64 frames apart
    idx = dense_indices(10_000, 8, 32, video_fps=60, target_fps=30, clip_index=0)
    assert {b - a for a, b in zip(idx, idx[1:])} == {64}


def test_dense_random_start_is_deterministic_under_a_seed_and_varies_without():
    draw = lambda seed: dense_indices(500, 8, 32, generator=torch.Generator().manual_seed(seed))
    assert draw(3) == draw(3)
    assert len({tuple(draw(s)) for s in range(30)}) > 10
    starts = [draw(s)[0] for s in range(200)]
    assert min(starts) >= 0 and max(starts) <= 500 - clip_span(8, 32)


def test_dense_test_clips_middle_and_evenly_spaced():
    n, T, r = 400, 8, 32
    slack = n - clip_span(T, r)
    middle = dense_indices(n, T, r, clip_index=0, num_clips=1)
    assert middle[0] == int(slack / 2)
    # centred: the same number of unused frames before and after (±1)
    assert abs(middle[0] - (n - 1 - (middle[-1] + r - 1))) <= 1
    starts = [dense_indices(n, T, r, clip_index=k, num_clips=5)[0] for k in range(5)]
    assert starts[0] == 0 and starts[-1] == int(slack)
    gaps = {b - a for a, b in zip(starts, starts[1:])}
    assert max(gaps) - min(gaps) <= 1


def test_dense_short_video_repeats_the_last_frame():
    idx = dense_indices(40, 8, 32, clip_index=0)
    assert idx[0] == 0 and idx[1] == 32 and idx[2:] == [39] * 6


def test_segment_one_frame_per_equal_segment():
    n, T = 100, 8
    for train in (False, True):
        for seed in range(10):
            idx = segment_indices(n, T, train=train, generator=torch.Generator().manual_seed(seed))
            assert len(idx) == T and idx == sorted(idx)
            for t, i in enumerate(idx):
                assert int(t * n / T) <= i < (t + 1) * n / T  # frames touching segment t
    middle = segment_indices(n, T)
    assert middle == [int((t + 0.5) * n / T) for t in range(T)]
    draw = lambda s: segment_indices(n, T, train=True, generator=torch.Generator().manual_seed(s))
    assert draw(1) == draw(1) and draw(1) != draw(2)


def test_segment_short_video_stays_in_range():
    idx = segment_indices(3, 8, train=True)
    assert len(idx) == 8 and all(0 <= i < 3 for i in idx) and idx == sorted(idx)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: dense_indices(0, 8, 32), "at least 1 frame"),
        (lambda: dense_indices(100, 0, 32), "num_frames >= 1"),
        (lambda: dense_indices(100, 8, 0), "stride >= 1"),
        (lambda: dense_indices(100, 8, 4, clip_index=3, num_clips=3), "clip_index"),
        (lambda: segment_indices(100, 0), "num_frames >= 1"),
    ],
)
def test_sampler_errors_say_what_was_expected(call, message):
    with pytest.raises(ValueError, match=message):
        call()
