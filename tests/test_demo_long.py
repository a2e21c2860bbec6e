"""``demo --long`` (RQ5 in miniature): smoke run end to end, frame sampling, budgets."""

import json

import pytest
import torch

from mini_timesformer import cli
from mini_timesformer.data import SyntheticVideos
from mini_timesformer.data.synthetic_long import sampler_ceiling, uniform_indices
from mini_timesformer.demo.long_range import (
    LONG_BUDGETS,
    SampledFrames,
    resolve_long_budget,
)
from mini_timesformer.demo.run import CachedClips


def test_sampled_frames_are_the_uniform_samplers_frames():
    clips = CachedClips(SyntheticVideos("long", num_frames=32, image_size=16, size=6))
    for T in (4, 8, 32):
        sampled = SampledFrames(clips, T)
        clip, label = sampled[3]
        assert clip.shape == (T, 3, 16, 16) and label == clips[3][1]
        assert torch.equal(clip, clips[3][0][uniform_indices(32, T)])
    assert torch.equal(SampledFrames(clips, 32)[5][0], clips[5][0])  # T = N: every frame


def test_smoke_run_writes_report_figure_and_results(tmp_path, capsys, one_thread):
    out = tmp_path / "long"
    assert cli.main(["demo", "--long", "--smoke", "--out", str(out), "--threads", "1"]) == 0
    budget = LONG_BUDGETS["smoke"]
    results = json.loads((out / "results.json").read_text())
    assert set(results) == set(budget.frames)
    for scheme, lengths in budget.frames.items():
        assert sorted(map(int, results[scheme])) == sorted(lengths)
        for T, row in results[scheme].items():
            assert 0 <= row["accuracy"] <= 1 and row["step_seconds"] > 0
            assert row["peak_mib"] >= 0 and row["analytic_mib"] > 0 and row["gmacs"] > 0
            assert row["ceiling"] == sampler_ceiling(int(T), budget.clip_frames)
    div = results["divided"]
    assert div["8"]["gmacs"] > div["4"]["gmacs"]  # more frames, more compute
    report = (out / "report.md").read_text()
    assert "long_range.png" in report and "| divided | 8 |" in report
    assert (out / "long_range.png").stat().st_size > 10_000
    assert "demo --long finished" in capsys.readouterr().out


def test_unknown_long_budget_is_a_one_line_error(capsys):
    with pytest.raises(ValueError, match="expected auto or one of: cpu, smoke"):
        resolve_long_budget("huge")
    assert cli.main(["demo", "--long", "--budget", "huge"]) == 2
    assert "unknown budget 'huge'" in capsys.readouterr().err


def test_auto_budget_is_smoke_under_the_smoke_switch(monkeypatch):
    monkeypatch.setenv("MINI_TIMESFORMER_SMOKE", "1")
    assert resolve_long_budget("auto") == ("smoke", LONG_BUDGETS["smoke"])
    monkeypatch.setenv("MINI_TIMESFORMER_SMOKE", "0")
    assert resolve_long_budget("auto") == ("cpu", LONG_BUDGETS["cpu"])
