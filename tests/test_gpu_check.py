"""``gpu-check --smoke``: every section runs on CPU and its report is present and plausible;
the vendor-peak table; the CPU demo numbers it compares against are the README's."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pytest
import torch

from mini_timesformer.cli import main
from mini_timesformer.config import SCHEMES
from mini_timesformer.demo import gpu_check
from mini_timesformer.demo.budgets import BUDGETS
from mini_timesformer.demo.gpu_check_report import CPU_DEMO_TOP1
from mini_timesformer.perf.gpu_bench import nominal_peak

README = Path(__file__).resolve().parents[1] / "README.md"


@pytest.fixture(scope="module")
def smoke(tmp_path_factory):
    """One smoke run through the CLI, shared by the tests below: (out folder, report)."""
    out = tmp_path_factory.mktemp("gpu-check")
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        assert main(["gpu-check", "--smoke", "--out", str(out)]) == 0
    finally:
        torch.set_num_threads(before)
    return out, json.loads((out / "report.json").read_text())


def test_report_names_device_versions_and_peak(smoke):
    _, report = smoke
    assert report["mode"] == "smoke" and report["device"] == "cpu"
    assert report["machine"]["torch"] == torch.__version__
    assert report["machine"]["cuda"] == torch.version.cuda
    assert report["peak"]["measured_bf16_matmul_tflops"] > 0
    assert report["peak"]["nominal_tflops"] is None  # a CPU: MFU uses the measured peak
    assert report["peak"]["mfu_basis"].startswith("measured")
    assert set(report["sections"]) == {"demo", "recipe", "bench"}
    assert report["within_budget"] == (report["total_seconds"] <= report["budget_seconds"])


def test_demo_section_has_every_scheme_beside_the_cpu_run(smoke):
    _, report = smoke
    demo = report["sections"]["demo"]
    assert demo["budget"] == "smoke"
    cnn_rows = BUDGETS["smoke"].cnn_archs  # the 3-D CNN baseline's rows (demo/budgets.py)
    assert set(demo["top1"]["motion"]) == set(SCHEMES) | set(cnn_rows)
    assert all(0 <= top1 <= 1 for rows in demo["top1"].values() for top1 in rows.values())
    assert demo["cpu_top1"] == CPU_DEMO_TOP1
    results = json.loads((Path(demo["report"]).parent / "results.json").read_text())
    assert results["motion"]["divided"]["accuracy"] == demo["top1"]["motion"]["divided"]


def test_recipe_section_numbers_are_plausible(smoke):
    _, report = smoke
    recipe, peak = report["sections"]["recipe"], report["peak"]
    plan = recipe["plan"]
    assert recipe["steps"] == plan["steps"]
    assert recipe["step_time_s"] > 0 and recipe["first_step_s"] > 0
    assert recipe["clips_per_s"] == pytest.approx(plan["batch_size"] / recipe["step_time_s"])
    assert 0 <= recipe["stall_fraction"] <= 1
    assert recipe["stall_fraction"] == pytest.approx(recipe["data_wait_s"] / recipe["loop_s"])
    assert recipe["mfu"] == pytest.approx(recipe["tflops"] / peak["measured_bf16_matmul_tflops"])
    assert 0 < recipe["mfu"] < 1.5  # a CPU matmul measurement can be beaten a little
    assert recipe["peak_memory_bytes"] > 0 and recipe["memory_method"]
    assert recipe["data"]["clips"] == {
        "train": 8 * plan["per_class"],
        "val": 8 * plan["val_per_class"],
    }
    root = Path(recipe["data"]["root"])
    assert (root / "classes.txt").is_file() and (root / "cache" / "train" / "index.json").is_file()
    with open(Path(recipe["run"]) / "steps.csv", newline="") as f:  # the train loop's log
        rows = list(csv.DictReader(f))
    assert sum(float(r["data_seconds"]) for r in rows) == pytest.approx(recipe["data_wait_s"])
    config = json.loads((Path(recipe["run"]) / "train_config.json").read_text())
    assert config["bf16"] is True and config["workers"] == plan["workers"] > 0
    assert config["data"] == f"kinetics:{root}"


def test_bench_section_compares_ours_with_hf(smoke):
    _, report = smoke
    bench = report["sections"]["bench"]
    ours, hf = bench["same_batch"]["ours"], bench["same_batch"]["hf"]
    assert bench["ratio_ours_hf"] == pytest.approx(ours["clips_per_s"] / hf["clips_per_s"])
    for row in (ours, hf):
        assert row["step_time_s"] > 0
        assert row["clips_per_s"] == pytest.approx(row["batch"] / row["step_time_s"])
    assert max(bench["max_abs_diff"].values()) < 1e-5


def test_report_md_has_every_section(smoke):
    out, report = smoke
    text = (out / "report.md").read_text()
    for heading in ("## (a) demo", "## (b) Kinetics-subset recipe", "## (c) ViT training step"):
        assert heading in text
    for words in (
        "stall fraction",
        "MFU",
        "peak memory",
        "clips/s",
        "top-1 CPU run",
        report["machine"]["torch"],
    ):
        assert words in text


def test_full_mode_without_a_gpu_is_a_one_line_error(monkeypatch, capsys, tmp_path):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert main(["gpu-check", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert "needs a CUDA GPU" in err and "--smoke" in err and len(err.splitlines()) == 1


@pytest.mark.parametrize(
    "name, tflops",
    [
        ("NVIDIA H100 80GB HBM3", 989.4),
        ("NVIDIA H100 PCIe", 756.0),
        ("NVIDIA H200", 989.4),
        ("NVIDIA A100-SXM4-80GB", 312.0),
        ("NVIDIA L4", 121.0),
        ("NVIDIA L40S", 362.05),
        ("NVIDIA A10", 125.0),
        ("NVIDIA A10G", None),
        ("Tesla T4", None),
        ("NVIDIA GeForce RTX 4090", 165.2),
        ("NVIDIA H100 NVL", None),
        ("NVIDIA H200 NVL", None),
    ],
)
def test_vendor_peak_table_matches_whole_name_parts(name, tflops):
    peak, source = nominal_peak(name)
    assert (peak is None) == (tflops is None) and source
    if tflops is not None:
        assert peak == pytest.approx(tflops * 1e12)


def test_cpu_reference_numbers_are_the_readmes_table():
    """The demo numbers gpu-check compares against are those the README states."""
    rows = {}
    for line in README.read_text().splitlines():
        cells = [c.strip().strip("*") for c in line.strip().strip("|").split("|")]
        if len(cells) == 7 and cells[0] in SCHEMES and cells[3].endswith("%"):
            rows[cells[0]] = cells[3:5]
    assert set(rows) == set(SCHEMES)
    for kind, column in (("motion", 0), ("appearance", 1)):
        stated = {
            scheme: float(values[column].rstrip("%")) / 100
            for scheme, values in rows.items()
            if re.match(r"[\d.]+%", values[column])
        }
        assert stated == pytest.approx(CPU_DEMO_TOP1[kind])


def test_step_summary_from_steps_csv_rows():
    rows = [
        {"seconds": 2.0, "data_seconds": 1.5, "loss": 2.0},  # first step: workers start
        {"seconds": 0.5, "data_seconds": 0.0, "loss": 1.9},
        {"seconds": 0.25, "data_seconds": 0.25, "loss": 1.8},
    ]
    summary = gpu_check.step_summary(rows, batch=8, flop_per_step=1e9, peak_flops=1e10)
    assert summary["step_time_s"] == pytest.approx(0.375)  # median of steps 2..N
    assert summary["stall_fraction"] == pytest.approx(1.75 / 2.75)
    assert summary["clips_per_s"] == pytest.approx(8 / 0.375)
    assert summary["mfu"] == pytest.approx(1e9 / 0.375 / 1e10)
