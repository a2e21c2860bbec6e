"""The benchmark's behaviour on nano models (speed itself is never asserted here)."""

import importlib.util
import json
from pathlib import Path

import pytest
import torch

from mini_timesformer import cost
from mini_timesformer.cli import main
from mini_timesformer.perf import bench, timing
from mini_timesformer.perf import hf as hf_bridge
from mini_timesformer.perf.probe import probe_memory
from tests.helpers import nano, randomize


@pytest.mark.parametrize("scheme", ["divided", "joint"])
def test_pair_has_the_same_weights_and_outputs(scheme):
    ours, hf = hf_bridge.make_pair(nano(scheme))
    video = torch.randn(2, 8, 3, 32, 32)
    with torch.no_grad():
        expected = timing.logits_of(hf, video)
        torch.testing.assert_close(timing.logits_of(ours, video), expected, atol=1e-5, rtol=1e-5)
        randomize(ours, seed=3, std=0.2)  # a copy, not shared storage: HF must not change
        torch.testing.assert_close(timing.logits_of(hf, video), expected, atol=0, rtol=0)
        assert not torch.allclose(timing.logits_of(ours, video), expected, atol=1e-3)


def test_comparison_ratios_come_from_the_measured_times():
    result = bench.compare_with_hf(nano("divided"), batch=2, reps=2, warmup=0, memory=False)
    assert result["max_abs_diff"]["hf"] < 1e-5
    assert result["max_abs_diff"]["explicit"] < 1e-5
    rows = {(r["mode"], r["impl"]): r for r in result["rows"]}
    assert set(rows) == {(m, i) for m in timing.MODES for i in ("ours", "hf")}
    for (mode, _), r in rows.items():
        assert len(r["times_s"]) == 2 and r["min_s"] <= r["median_s"] <= r["max_s"]
        assert r["clips_per_s"] == pytest.approx(2 / r["median_s"])
        flop = 2 * cost.macs(nano("divided")) * 2 * (3 if mode == "train" else 1)
        assert r["gflops"] == pytest.approx(flop / r["median_s"] / 1e9)
        assert r["of_peak"] == pytest.approx(r["gflops"] / result["matmul_gflops"][mode])
    for mode in timing.MODES:
        expected = rows[(mode, "hf")]["median_s"] / rows[(mode, "ours")]["median_s"]
        assert result["ratios"][mode]["speed"] == pytest.approx(expected)
    text = bench.format_comparison(result)
    assert "ours/HF throughput" in text and "torch " in text and "threads" in text


def test_interleaving_rotates_the_order_and_counts_calls():
    calls = []
    fns = {name: (lambda n=name: calls.append(n)) for name in "abc"}
    times = timing.time_interleaved(fns, reps=3, warmup=1)
    assert calls == list("abc" + "abc" + "bca" + "cab")
    assert {k: len(v) for k, v in times.items()} == {"a": 3, "b": 3, "c": 3}


def test_train_step_frees_gradients_and_changes_nothing():
    model = hf_bridge.random_model(nano("axial"), "ours")
    before = {k: v.clone() for k, v in model.state_dict().items()}
    timing.step_fn(model, torch.randn(1, 8, 3, 32, 32), "train", torch.device("cpu"))()
    assert all(p.grad is None for p in model.parameters())
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())


def test_schemes_table_covers_all_five():
    result = bench.compare_schemes("nano", 8, 32, reps=1, warmup=0, memory=False)
    assert [r["impl"] for r in result["rows"]] == list(bench.SCHEMES)
    text = bench.format_schemes(result)
    assert all(s in text for s in bench.SCHEMES)


def test_hf_comparison_only_for_divided_and_joint():
    for scheme in ("axial", "space"):
        with pytest.raises(ValueError, match=f"for the {scheme!r} scheme"):
            hf_bridge.hf_config_for(nano(scheme))


def test_memory_probe_sees_the_gradients():
    cfg = nano("divided")
    probe = probe_memory(cfg, "ours", "train", batch=1)
    param_bytes = 4 * cost.params(cfg)  # fp32 gradients, allocated during the step
    assert probe["peak_bytes"] >= param_bytes
    assert probe["method"]


def test_cli_writes_json(tmp_path, capsys):
    out = tmp_path / "r.json"
    code = main(
        [
            "bench",
            "--preset",
            "nano",
            "--size",
            "32",
            "--modes",
            "forward",
            "--reps",
            "1",
            "--warmup",
            "0",
            "--no-memory",
            "--no-hf",
            "--no-check",
            "--json",
            str(out),
        ]
    )
    assert code == 0
    result = json.loads(out.read_text())
    assert [r["impl"] for r in result["rows"]] == ["ours"]
    assert "forward" in capsys.readouterr().out


@pytest.mark.parametrize(
    "argv, expected",
    [
        (["--modes", "fwd"], "--modes expects"),
        (["--scheme", "bogus"], "unknown attention scheme"),
        (["--frames", "0"], "--frames must be >= 1"),
        (["--memory-curve", "2,x"], "expected positive integers separated by commas"),
        (["--device", "tpu"], "unknown device"),
    ],
)
def test_bad_options_give_one_line_errors(argv, expected, capsys):
    assert main(["bench", "--preset", "nano", "--size", "32", "--no-memory"] + argv) == 2
    err = capsys.readouterr().err.strip()
    assert expected in err and len(err.splitlines()) == 1


@pytest.mark.parametrize(
    "capacity, cap, granularity",
    [(37, 256, 1), (37, 256, 8), (300, 256, 8), (1, 64, 1), (64, 64, 1)],
)
def test_largest_batch_search(capacity, cap, granularity):
    tried = []
    best = timing.largest_batch(lambda b: tried.append(b) or b <= capacity, cap, granularity)
    assert best <= min(capacity, cap) and min(capacity, cap) - best < granularity
    assert len(tried) <= 2 * cap.bit_length()  # doubling + bisection, not a linear scan
    with pytest.raises(ValueError, match="not even batch 1"):
        timing.largest_batch(lambda b: False, cap)


def test_gpu_script_smoke_runs_on_cpu(tmp_path):
    path = Path(__file__).resolve().parents[1] / "scripts" / "gpu_bench.py"
    spec = importlib.util.spec_from_file_location("gpu_bench", path)
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    out = tmp_path / "gpu.json"
    assert script.main(["--smoke", "--max-batch", "2", "--out", str(out)]) == 0
    result = json.loads(out.read_text())
    assert result["largest_batch"] == {"ours": 2, "hf": 2}
    assert max(result["max_abs_diff"].values()) < 1e-5
    same = result["same_batch"]
    assert result["ratio_ours_hf"] == pytest.approx(
        same["ours"]["clips_per_s"] / same["hf"]["clips_per_s"]
    )
    for r in same.values():
        assert r["mfu_measured"] == pytest.approx(r["tflops"] / result["matmul_tflops"])
