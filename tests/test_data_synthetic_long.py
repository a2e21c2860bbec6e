"""The ``long`` synthetic kind: flashes to count, and the ceiling of a T-frame sampler."""

from collections import Counter

import pytest
import torch

from mini_timesformer import cli
from mini_timesformer.data import KineticsDataset, SyntheticVideos
from mini_timesformer.data.synthetic_long import (
    LONG_CLASSES,
    binomial_ceiling,
    catch_probabilities,
    count_likelihood,
    flashes_seen,
    oracle_accuracy,
    sampler_ceiling,
    uniform_indices,
)


def test_items_are_uint8_long_clips_deterministic_per_index():
    a = SyntheticVideos("long", image_size=16, size=12, seed=3)
    clip, label = a[5]
    assert a.num_frames == 64 and clip.shape == (64, 3, 16, 16) and clip.dtype == torch.uint8
    assert isinstance(label, int) and a.classes == list(LONG_CLASSES)
    again = SyntheticVideos("long", image_size=16, size=12, seed=3)[5]
    assert torch.equal(clip, again[0]) and label == again[1]
    assert not torch.equal(clip, SyntheticVideos("long", image_size=16, size=12, seed=4)[5][0])
    assert not torch.equal(a[1][0], a[1 + len(a.classes)][0])  # same class, another clip


def test_classes_are_balanced_and_count_far_apart_flashes():
    ds = SyntheticVideos("long", size=4 * 50)
    assert set(Counter(ds.label(i) for i in range(len(ds))).values()) == {50}
    for i in range(len(ds)):
        p = ds.params(i)
        timeline = p.timeline()  # (64,) flash id per frame
        ids = sorted(set(timeline.tolist()) - {0})
        assert ids == list(range(1, p.label + 2))  # label + 1 flashes
        on = torch.nonzero(timeline).flatten()
        assert (torch.bincount(timeline)[1:] == 2).all()  # every flash lasts 2 frames
        gaps = on[1:] - on[:-1]
        assert ((gaps == 1) | (gaps >= 6)).all()  # adjacent within a flash, far apart between


def test_flashes_are_what_changes_the_frames():
    ds = SyntheticVideos("long", image_size=32, size=8)
    for i in range(len(ds)):
        clip, _ = ds[i]
        timeline = ds.params(i).timeline()
        brightness = clip.float().mean(dim=(1, 2, 3))  # (64,)
        assert brightness[timeline > 0].min() > brightness[timeline == 0].max() + 30


def test_analytic_ceiling_is_the_binomial_formula_and_grows_with_frames():
    ceilings = []
    for T in (8, 16, 32, 64):
        s = 64 // T
        p = min(2, s) / s  # a 2-frame flash, start uniform modulo the stride
        torch.testing.assert_close(
            catch_probabilities(64, T), torch.full((4,), p, dtype=torch.float64)
        )
        assert sampler_ceiling(T) == pytest.approx(binomial_ceiling(p), abs=1e-12)
        ceilings.append(sampler_ceiling(T))
    assert ceilings == sorted(ceilings) and ceilings[0] < 0.5 and ceilings[2] == 1.0
    table = count_likelihood(64, 16)  # rows: n flashes, columns: k seen
    torch.testing.assert_close(table.sum(1), torch.ones(4, dtype=torch.float64))
    assert (table.triu(2) == 0).all()  # never more flashes seen than shown


@pytest.mark.parametrize("event_frames", [(2, 2), (1, 3)])
def test_analytic_ceiling_matches_the_sampler_only_oracle(event_frames):
    ds = SyntheticVideos("long", size=4 * 750, seed=11, event_frames=event_frames)
    for T in (8, 16, 32, 64):
        expected = sampler_ceiling(T, event_frames=event_frames)
        error = (expected * (1 - expected) / len(ds)) ** 0.5  # binomial standard error
        assert abs(oracle_accuracy(ds, T) - expected) <= 4 * error + 1e-12, T


def test_the_oracle_only_counts_flashes_at_the_sampled_frames():
    p = SyntheticVideos("long", size=4).params(3)  # four flashes
    on = torch.nonzero(p.timeline()).flatten().tolist()
    assert flashes_seen(p, on) == 4 and flashes_seen(p, []) == 0
    assert flashes_seen(p, on[:2]) == 1  # both frames of the first flash
    assert uniform_indices(64, 8) == list(range(4, 64, 8))


def test_bad_long_settings_are_one_line_errors():
    with pytest.raises(ValueError, match="multiple of 16"):
        SyntheticVideos("long", num_frames=40)
    with pytest.raises(ValueError, match="event frames"):
        SyntheticVideos("long", num_frames=32, event_frames=(2, 3))


def test_synthetic_cli_writes_long_mp4s_whose_flashes_can_be_counted(tmp_path, capsys):
    out = tmp_path / "long"
    assert (
        cli.main(
            [
                "synthetic",
                "--kind",
                "long",
                "--out",
                str(out),
                "--per-class",
                "1",
                "--val-per-class",
                "1",
                "--frames",
                "32",
                "--size",
                "16",
            ]
        )
        == 0
    )
    assert "wrote 4 train + 4 val long clips" in capsys.readouterr().out
    ds = KineticsDataset(out, "val", sampling="segment", num_frames=32)
    assert ds.classes == list(LONG_CLASSES) and len(ds) == 4
    for i in range(len(ds)):  # after H.264: count the bright runs of the decoded frames
        clip, label = ds[i]
        brightness = clip.float().mean(dim=(1, 2, 3))  # (32,)
        bright = brightness > (brightness.min() + brightness.max()) / 2
        onsets = bright[1:] & ~bright[:-1]  # a flash starts
        assert int(onsets.sum()) + int(bright[0]) == label + 1, (i, bright.int().tolist())
