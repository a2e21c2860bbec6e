"""``make gpu-check``: the one-GPU recipe proven in one offline command (target: ≤ 8 min).

    mini-timesformer gpu-check                 # one CUDA GPU; writes runs/gpu-check/report.*
    mini-timesformer gpu-check --smoke         # CPU, tiny sizes: every section in seconds

Three sections, each reusing the package's own code (no second training loop):

(a) ``demo``: ``make demo`` with the ``gpu`` budget (``demo/run.py``); top-1 of every
    scheme beside the CPU run's numbers in the README.
(b) ``recipe``: the Kinetics-subset recipe of docs/training.md — divided attention,
    ViT-S 8×224 (frames every 32 at 30 fps), bf16 autocast, fused attention, DataLoader
    workers reading the decoded-frame cache — run by ``train.train`` for a fixed number of
    steps on a Kinetics-layout root of synthetic mp4 clips written here
    (``data.write_synthetic_dataset``, then ``data.build_cache``, as ``kinetics-subset
    --cache`` does). Random weights: it measures speed, not accuracy. A rerun into the
    same ``--out`` reuses the clips and the cache already written.
(c) ``bench``: the ViT-B divided 8×224 training step, ours vs Hugging Face eager
    (``perf/gpu_bench.py``).

How the report's numbers are computed (section b; section c as in ``perf/gpu_bench.py``):

* step time: median ``seconds`` of the optimiser steps in ``steps.csv`` (the first step,
  which starts the workers and warms the kernels, left out); clips/s = batch / step time.
* stall fraction: Σ ``data_seconds`` / Σ ``seconds`` over all steps — the share of the
  loop's time spent blocked in ``next()`` on the DataLoader (an upper bound on the time
  the GPU waits for data: queued GPU work may still run while the loop waits).
* MFU: model FLOP per step (3 × 2 × ``cost.macs`` per clip: forward + backward) / step
  time / the device's peak — the vendor's dense bf16 figure when the GPU is in
  ``perf.gpu_bench.PEAK_BF16_TFLOPS``, else a bf16 matmul measured here (``mfu_basis``).
* peak memory: ``torch.cuda.max_memory_allocated`` (CPU: the process's RSS high-water
  mark, ``perf.measure.PeakMemory``; DataLoader worker processes not included).
"""

from __future__ import annotations

import csv
import json
import os
import statistics
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import torch

from .. import cost
from ..config import TimeSformerConfig
from ..errors import UserError
from ..perf import gpu_bench, timing
from ..perf.measure import PeakMemory
from ..runtime import cpu_threads

BUDGET_SECONDS = {"gpu": 480, "smoke": 60}  # the whole check; the 8 minutes


@dataclass(frozen=True)
class RecipePlan:
    """Section (b): model, clips written to disk, and the loop's settings."""

    preset: str
    frames: int
    size: int
    stride: int  # frames between sampled frames, at 30 fps (TrainConfig.stride)
    batch_size: int
    steps: int
    workers: int
    lr: float
    per_class: int  # synthetic motion: 8 classes
    val_per_class: int
    clip_frames: int  # length of each written mp4 (frames at clip_fps)
    clip_size: int  # square frames (kinetics-subset keeps a short side of 160)
    clip_fps: float = 15.0  # kinetics-subset's default frame rate


RECIPES = {
    # docs/training.md's Kinetics recipe (SGD lr 0.005, one micro-batch per step); sizes
    # our choice: 256 + 32 short clips (8 steps per epoch) write in about a minute
    "gpu": RecipePlan(
        "small",
        8,
        224,
        32,
        batch_size=32,
        steps=24,
        workers=min(8, os.cpu_count() or 1),
        lr=0.005,
        per_class=32,
        val_per_class=4,
        clip_frames=32,
        clip_size=128,
    ),
    "smoke": RecipePlan(
        "nano",
        4,
        32,
        4,
        batch_size=4,
        steps=6,
        workers=2,
        lr=0.005,
        per_class=2,
        val_per_class=1,
        clip_frames=16,
        clip_size=32,
    ),
}


def machine(device: torch.device) -> dict:
    """``perf.timing.machine_info`` plus the CUDA / cuDNN versions torch was built with."""
    info = timing.machine_info(device)
    info["cuda"] = torch.version.cuda
    info["cudnn"] = torch.backends.cudnn.version() if torch.backends.cudnn.is_available() else None
    if device.type == "cuda":
        info["bf16_supported"] = torch.cuda.is_bf16_supported()
    return info


def device_peak(device: torch.device, info: dict, smoke: bool) -> dict:
    """The peak that MFU divides by: vendor table if the GPU is known, else measured."""
    nominal, source = gpu_bench.nominal_peak(info["gpu"]) if "gpu" in info else (None, "not a GPU")
    measured = gpu_bench.measured_peak(device, "bf16", 256 if smoke else 8192)
    return {
        "nominal_tflops": nominal and nominal / 1e12,
        "nominal_source": source,
        "measured_bf16_matmul_tflops": measured / 1e12,
        "mfu_basis": "nominal (vendor dense bf16)" if nominal else "measured bf16 matmul",
        "flops": nominal or measured,
    }


# ---------------------------------------------------------------- (a) the demo
def section_demo(out: Path, device: str, smoke: bool) -> dict:
    from .gpu_check_report import CPU_DEMO_TOP1
    from .run import run_demo

    budget = "smoke" if smoke else "gpu"
    start = time.perf_counter()
    results = run_demo(out / "demo", budget, device, threads=1 if smoke else None)
    top1 = {
        kind: {scheme: row["accuracy"] for scheme, row in rows.items()}
        for kind, rows in results.items()
    }
    return {
        "budget": budget,
        "seconds": time.perf_counter() - start,
        "top1": top1,
        "cpu_top1": CPU_DEMO_TOP1,
        "report": str(out / "demo" / "report.md"),
    }


# ---------------------------------------------------------------- (b) the recipe
def write_recipe_data(root: Path, plan: RecipePlan) -> dict:
    """Synthetic motion mp4s in the Kinetics layout + the decoded-frame cache of both splits."""
    from ..data import KineticsDataset
    from ..data.cache import build_cache, cache_folder
    from ..data.prepare import write_synthetic_dataset

    start = time.perf_counter()
    counts = write_synthetic_dataset(
        root,
        "motion",
        plan.per_class,
        val_per_class=plan.val_per_class,
        num_frames=plan.clip_frames,
        image_size=plan.clip_size,
        fps=plan.clip_fps,
        progress=False,
    )
    written = time.perf_counter()
    for split in ("train", "val"):
        dataset = KineticsDataset(root, split, cache=None)
        report = build_cache([path for path, _ in dataset.samples], cache_folder(root, split))
        if report["failed"]:
            raise RuntimeError(f"gpu-check: could not decode {report['failed'][0]}")
    return {
        "clips": counts,
        "write_seconds": written - start,
        "cache_seconds": time.perf_counter() - written,
        "root": str(root),
    }


def read_steps(run: Path) -> list[dict]:
    with open(run / "steps.csv", newline="") as f:
        return [{k: float(v) for k, v in row.items()} for row in csv.DictReader(f)]


def step_summary(steps: list[dict], batch: int, flop_per_step: float, peak_flops: float) -> dict:
    """Step time, clips/s, stall fraction and MFU from ``steps.csv`` (module docstring)."""
    timed = steps[1:] or steps  # the first step starts workers and warms up kernels
    step_time = statistics.median(row["seconds"] for row in timed)
    total = sum(row["seconds"] for row in steps)
    waited = sum(row["data_seconds"] for row in steps)
    return {
        "steps": len(steps),
        "step_time_s": step_time,
        "clips_per_s": batch / step_time,
        "first_step_s": steps[0]["seconds"],
        "data_wait_s": waited,
        "loop_s": total,
        "stall_fraction": waited / total,
        "tflops": flop_per_step / step_time / 1e12,
        "mfu": flop_per_step / step_time / peak_flops,
        "loss_first": steps[0]["loss"],
        "loss_last": steps[-1]["loss"],
    }


def section_recipe(out: Path, device: torch.device, plan: RecipePlan, peak: dict) -> dict:
    from ..train import TrainConfig, train

    data = write_recipe_data(out / "recipe-data", plan)
    cfg = TrainConfig(
        preset=plan.preset,
        attention="divided",
        num_frames=plan.frames,
        image_size=plan.size,
        stride=plan.stride,
        data=f"kinetics:{data['root']}",
        batch_size=plan.batch_size,
        steps=plan.steps,
        workers=plan.workers,
        optimizer="sgd",
        lr=plan.lr,
        bf16=True,
        device=str(device),
        threads=1 if device.type == "cpu" else None,
        val_every=0,
        checkpoint_every=10**9,
        plots=False,
        attention_every=0,
        progress=device.type != "cpu",
        progress_label="gpu-check recipe",
        out=str(out / "recipe"),
    )
    model_cfg = TimeSformerConfig.preset(
        plan.preset,
        attention="divided",
        num_frames=plan.frames,
        image_size=plan.size,
        num_classes=8,
    )
    start = time.perf_counter()
    with PeakMemory(device) as memory:
        run = train(cfg)
    seconds = time.perf_counter() - start
    metrics = json.loads((run / "metrics.json").read_text())
    summary = step_summary(
        read_steps(run),
        plan.batch_size,
        timing.flops_per_step(model_cfg, "train", plan.batch_size),
        peak["flops"],
    )
    return {
        "plan": asdict(plan),
        "data": data,
        "seconds": seconds,
        **summary,
        "peak_memory_bytes": memory.peak,
        "memory_method": memory.method,
        "val_top1": (metrics.get("val") or {}).get("top1"),
        "gmacs_per_clip": cost.macs(model_cfg) / 1e9,
        "run": str(run),
    }


# ---------------------------------------------------------------- (c) ours vs HF
def section_bench(smoke: bool) -> dict:
    start = time.perf_counter()
    result = gpu_bench.run_gpu_bench(smoke=smoke, log=lambda line: print(f"  {line}"))
    same = result["same_batch"]
    rows = {
        name: {
            "batch": r["batch"],
            "step_time_s": r["median_s"],
            "clips_per_s": r["clips_per_s"],
            "tflops": r["tflops"],
            "mfu": r["mfu_nominal"] if r["mfu_nominal"] else r["mfu_measured"],
            "peak_memory_bytes": r["peak_bytes"],
        }
        for name, r in same.items()
    }
    return {
        "seconds": time.perf_counter() - start,
        "dtype": result["dtype"],
        "config": {
            k: result["config"][k]
            for k in ("embed_dim", "depth", "num_frames", "image_size", "attention")
        },
        "max_abs_diff": result["max_abs_diff"],
        "largest_batch": result["largest_batch"],
        "same_batch": rows,
        "ratio_ours_hf": result["ratio_ours_hf"],
        "mfu_basis": "nominal (vendor dense bf16)"
        if result["nominal_tflops"]
        else f"measured {result['dtype']} matmul",
        "matmul_tflops": result["matmul_tflops"],
        "own_largest_batch": {
            name: {"batch": r["batch"], "clips_per_s": r["clips_per_s"]}
            for name, r in result["own_largest_batch"].items()
        },
    }


# ---------------------------------------------------------------- the whole check
def run_gpu_check(out="runs/gpu-check", smoke: bool = False) -> dict:
    """Run the three sections and write ``report.json`` and ``report.md`` into ``out``."""
    from .gpu_check_report import write_report

    if not smoke and not torch.cuda.is_available():
        raise UserError(
            "gpu-check needs a CUDA GPU (torch sees none); "
            "`mini-timesformer gpu-check --smoke` checks the code on CPU"
        )
    device = torch.device("cpu") if smoke else torch.device("cuda")
    mode = "smoke" if smoke else "gpu"
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    info = machine(device)
    peak = device_peak(device, info, smoke)
    report = {
        "mode": mode,
        "device": str(device),
        "machine": info,
        "peak": {k: v for k, v in peak.items() if k != "flops"},
        "sections": {},
    }
    sections = (
        ("demo", lambda: section_demo(out, str(device), smoke)),
        ("recipe", lambda: section_recipe(out, device, RECIPES[mode], peak)),
        ("bench", lambda: section_bench(smoke)),
    )
    with cpu_threads(1 if smoke else None):  # tiny CPU models: 1 thread is fastest
        for name, run in sections:
            print(f"gpu-check ({mode}): section {name}", flush=True)
            report["sections"][name] = run()
            gpu_bench.free_memory(device)  # the next section starts with an empty GPU
    report["total_seconds"] = time.perf_counter() - start
    report["budget_seconds"] = BUDGET_SECONDS[mode]
    report["within_budget"] = report["total_seconds"] <= BUDGET_SECONDS[mode]
    write_report(out, report)
    print(
        f"gpu-check finished in {report['total_seconds'] / 60:.1f} min; report: {out / 'report.md'}"
    )
    return report
