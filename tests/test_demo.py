"""``make demo`` with the smoke budget: every scheme and the 3-D CNN through the same
path, the same columns; the parallel path (``make demo`` on a CPU runs several
single-thread training processes at once) gives the same results as one run after the
other: every run is seeded, so the rows may not depend on the number of workers."""

import json

import pytest
import torch

import mini_timesformer as mt
from mini_timesformer import cost
from mini_timesformer.cli import main
from mini_timesformer.cnn import VideoCNNConfig, VideoResNet
from mini_timesformer.demo import BUDGETS, inference_ms, make_data, model_config
from mini_timesformer.demo.report import RESULT_KEYS
from mini_timesformer.demo.run import _run_jobs
from mini_timesformer.train.models import load_model


def test_demo_with_the_smoke_budget_writes_report_and_results(tmp_path, capsys):
    budget = BUDGETS["smoke"]
    assert main(["demo", "--budget", "smoke", "--threads", "1", "--out", str(tmp_path)]) == 0
    results = json.loads((tmp_path / "results.json").read_text())
    assert set(results) == {"motion", "appearance"}
    assert list(results["motion"]) == [*mt.SCHEMES, *budget.cnn_archs]
    assert list(results["appearance"]) == [*budget.appearance_schemes, *budget.cnn_archs]
    for kind, rows in results.items():
        for name, row in rows.items():
            assert set(row) == set(RESULT_KEYS)
            cfg = model_config(budget, name, 8)
            assert row["params"] == cost.params(cfg)
            assert row["gmacs"] == pytest.approx(cost.macs(cfg) / 1e9)
            assert 0 <= row["accuracy"] <= 1 and row["train_seconds"] > 0
            assert row["infer_ms"] > 0
            model = load_model(tmp_path / kind / name)  # the run the row was measured on
            assert type(model) is (VideoResNet if name in budget.cnn_archs else mt.TimeSformer)
            assert row["params"] == sum(p.numel() for p in model.parameters())
    report = (tmp_path / "report.md").read_text()
    assert "| divided |" in report and "motion top-1" in report
    assert "| r2plus1d |" in report and "the 3-D CNN r2plus1d reaches" in report
    for name in ("curves_motion.png", "curves_appearance.png", "cost_vs_accuracy.png"):
        assert (tmp_path / name).stat().st_size > 0 and f"({name})" in report
    printed = capsys.readouterr().out
    assert "| model | params | GMACs/view* | infer ms/clip† |" in printed
    assert "demo finished" in printed


def test_model_config_gives_a_cnn_on_the_budget_clips():
    budget = BUDGETS["cpu"]
    cfg = model_config(budget, "i3d", 8)
    assert isinstance(cfg, VideoCNNConfig) and cfg.arch == "i3d"
    assert (cfg.num_frames, cfg.image_size) == (budget.num_frames, budget.image_size)
    assert cfg == VideoCNNConfig.preset("nano", arch="i3d", num_classes=8)  # nano: 8×32²
    assert isinstance(model_config(budget, "divided", 8), mt.TimeSformerConfig)


def test_inference_ms_times_one_forward_pass_without_training_mode(tmp_path):
    model = VideoResNet(model_config(BUDGETS["smoke"], "r2plus1d", 8)).train()
    clip = torch.zeros(4, 3, 16, 16)  # (T, C, H, W)
    assert inference_ms(model, clip, "cpu", reps=2) > 0
    assert not model.training  # timed in eval mode (BatchNorm's running statistics)


@pytest.mark.slow
def test_parallel_runs_match_sequential_runs(tmp_path):
    budget = BUDGETS["smoke"]
    data = {"motion": make_data("motion", budget)}
    jobs = [("motion", "space", 2), ("motion", "divided", 2)]
    rows = {}
    for workers in (1, 2):
        out = tmp_path / f"w{workers}"
        rows[workers] = _run_jobs(jobs, data, budget, out, "cpu", 1, 0, workers)
    assert all(isinstance(row, dict) for row in rows[2])  # the process pool fills every row
    for one, two in zip(rows[1], rows[2]):
        assert one["accuracy"] == two["accuracy"] and one["params"] == two["params"]
        assert one["steps"] == two["steps"] == 2
