"""GPU benchmark: the ViT-B divided 8×224 training step, ours vs Hugging Face eager, bf16.

    mini-timesformer gpu-check                  # runs it as section (c), see demo/gpu_check.py
    python scripts/gpu_bench.py [--compile]     # this benchmark alone (a few minutes)
    python scripts/gpu_bench.py --smoke         # CPU, nano model: checks the code path

What ``run_gpu_bench`` does (helpers from ``timing.py`` and ``hf.py``):
1. builds HF ``TimesformerForVideoClassification`` (eager attention) and ours with the
   same weights, and checks their fp32 logits agree;
2. finds the largest batch that fits for each (doubling, then bisecting to a multiple
   of 8); a training step = bf16-autocast forward + backward of ``logits.sum()``;
3. times both at the same batch (half the smaller of the two maxima: headroom for both models
   resident at once), interleaved, after
   warm-up, and ours alone at its own largest batch;
4. reports clips/s, the ratio ours/HF, peak memory (``torch.cuda.max_memory_allocated``)
   and MFU = model FLOP/s (3 × 2 × ``cost.macs`` per clip) ÷ the bf16 matmul peak measured
   on the spot, and ÷ the vendor's dense bf16 peak when the GPU is in ``PEAK_BF16_TFLOPS``.
"""

from __future__ import annotations

import argparse
import gc
import json
import re
import statistics
import time
from pathlib import Path

import torch

from ..runtime import pick_device
from . import timing
from .bench import check_outputs
from .hf import bench_config, make_pair

# Dense bf16 tensor-core peak (TFLOP/s) from the vendors' data sheets, which print the
# figure "with sparsity" (2×): we halve it. (tokens that must all be in the device name,
# TFLOP/s or None = unknown / no bf16 tensor cores, source). The first matching row wins.
PEAK_BF16_TFLOPS = [
    (("H100", "PCIE"), 756.0, "NVIDIA H100 data sheet: 1,513 with sparsity"),
    (("NVL",), None, "NVL cards: vendor figure not checked here, the measured peak is used"),
    (("H100",), 989.4, "NVIDIA H100 data sheet (SXM): 1,979 with sparsity"),
    (("H200",), 989.4, "NVIDIA H200 data sheet (SXM): 1,979 with sparsity"),
    (("A100",), 312.0, "NVIDIA A100 data sheet: 312 dense / 624 with sparsity"),
    (("L40S",), 362.05, "NVIDIA L40S data sheet: 362.05 dense / 733 with sparsity"),
    (("L4",), 121.0, "NVIDIA L4 data sheet: 242 with sparsity"),
    (("A10",), 125.0, "NVIDIA A10 data sheet: 125 dense / 250 with sparsity"),
    (("4090",), 165.2, "NVIDIA Ada (AD102) whitepaper: RTX 4090, FP32 accumulate"),
    (("T4",), None, "Turing: no bf16 tensor cores"),
    (("V100",), None, "Volta: no bf16 tensor cores"),
]


def nominal_peak(name: str) -> tuple[float | None, str]:
    """(dense bf16 peak in FLOP/s or None, where the figure comes from) for a GPU name;
    the name's parts must match whole ("A10" is not "A10G")."""
    tokens = set(re.split(r"[\s\-_]+", name.upper()))
    for needed, tflops, source in PEAK_BF16_TFLOPS:
        if set(needed) <= tokens:
            return (tflops * 1e12 if tflops else None), source
    return None, f"{name!r} is not in the table of vendor peaks"


def measured_peak(device: torch.device, dtype: str, n: int) -> float:
    """FLOP/s of one n×n matmul in ``dtype``, median of 5 after 2 warm-up calls."""
    matmul, flop = timing.matmul_step(device, dtype, n=n)
    return flop / statistics.median(timing.time_interleaved({"mm": matmul}, 5, 2, device)["mm"])


def free_memory(device: torch.device) -> None:
    gc.collect()
    if device.type == "cuda":
        torch.cuda.empty_cache()


def make_video(cfg, batch: int, device) -> torch.Tensor:
    return torch.randn(
        batch, cfg.num_frames, cfg.in_channels, cfg.image_size, cfg.image_size, device=device
    )  # (B, T, C, H, W)


def train_step(model, cfg, batch, device, dtype):
    return timing.step_fn(model, make_video(cfg, batch, device), "train", device, dtype)


def fits(model, cfg, device, dtype):
    """fits(b): does one training step at batch b run without running out of memory?"""

    def attempt(batch: int) -> bool:
        try:
            train_step(model, cfg, batch, device, dtype)()
            timing.sync(device)
            return True
        except torch.OutOfMemoryError:
            model.zero_grad(set_to_none=True)  # a failed backward may have left some
            return False
        finally:
            free_memory(device)

    return attempt


def peak_memory(model, cfg, batch, device, dtype) -> int:
    if device.type != "cuda":
        return 0  # the CPU bench measures memory in subprocesses; not needed here
    step = train_step(model, cfg, batch, device, dtype)
    torch.cuda.reset_peak_memory_stats(device)
    step()
    timing.sync(device)
    return torch.cuda.max_memory_allocated(device)


def measure_models(models: dict, cfg, batch, device, dtype, reps, warmup, peak, nominal) -> dict:
    """Interleaved timing of the models' training steps at one batch size."""
    fns = {name: train_step(m, cfg, batch, device, dtype) for name, m in models.items()}
    times = timing.time_interleaved(fns, reps, warmup, device)
    flop = timing.flops_per_step(cfg, "train", batch)
    out = {}
    for name, t in times.items():
        median = statistics.median(t)
        out[name] = {
            "batch": batch,
            "median_s": median,
            "min_s": min(t),
            "max_s": max(t),
            "clips_per_s": batch / median,
            "tflops": flop / median / 1e12,
            "mfu_measured": flop / median / peak,
            "mfu_nominal": flop / median / nominal if nominal else None,
            "peak_bytes": peak_memory(models[name], cfg, batch, device, dtype),
        }
    return out


def run_gpu_bench(
    smoke: bool = False,
    compile: bool = False,
    max_batch: int = 256,
    reps: int = 5,
    warmup: int = 2,
    log=print,
) -> dict:
    """The benchmark (module docstring); returns the result dict. ``smoke``: CPU, fp32,
    a 2-block nano model and batches of at most 4 — the same code path in seconds."""
    if smoke:  # CPU bf16 autocast is proven in tests/test_bf16.py; fp32 keeps this quick
        device, dtype, granularity = torch.device("cpu"), "fp32", 1
        cfg = bench_config("nano", "divided", 8, 32).replace(depth=2)
        max_batch, reps, warmup = min(max_batch, 4), 1, 0
    else:
        device, dtype, granularity = pick_device("cuda"), "bf16", 8
        cfg = bench_config("base", "divided", 8, 224)
    info = timing.machine_info(device)
    ours, hf = make_pair(cfg)
    ours, hf = ours.to(device), hf.to(device)
    diffs = check_outputs(ours, hf, make_video(cfg, 2, device))
    log(f"max |logit difference| (fp32): {diffs}")
    peak = measured_peak(device, dtype, 1024 if smoke else 8192)
    nominal, source = nominal_peak(info["gpu"]) if "gpu" in info else (None, "not a GPU")
    log(
        f"{dtype} matmul peak measured: {peak / 1e12:.3f} TFLOP/s; nominal: "
        f"{nominal / 1e12 if nominal else 'unknown'} TFLOP/s ({source})"
    )
    models = {"ours": ours, "hf": hf}
    if compile:
        start = time.perf_counter()
        models["ours_compiled"] = torch.compile(ours)
        train_step(models["ours_compiled"], cfg, 2, device, dtype)()
        log(f"torch.compile warm-up: {time.perf_counter() - start:.0f} s")
    largest = {}
    for name, model in models.items():
        largest[name] = timing.largest_batch(
            fits(model, cfg, device, dtype), max_batch, granularity
        )
        log(f"largest batch that fits, {name}: {largest[name]}")
    # Half the smaller largest batch: each model's limit was found alone, but the interleaved
    # rounds keep both models (and the allocator's cached blocks) on the GPU at once; at the
    # full limit HF's step ran out of memory on an H200 (measured here, 2026-12-04).
    common = max(granularity, min(largest.values()) // 2 // granularity * granularity)
    free_memory(device)
    result = {
        "machine": info,
        "config": cfg.to_dict(),
        "dtype": dtype,
        "max_abs_diff": diffs,
        "matmul_tflops": peak / 1e12,
        "nominal_tflops": nominal and nominal / 1e12,
        "nominal_source": source,
        "largest_batch": largest,
        "same_batch": measure_models(
            models, cfg, common, device, dtype, reps, warmup, peak, nominal
        ),
    }
    best = max(largest, key=lambda n: largest[n] if n != "hf" else -1)
    result["own_largest_batch"] = measure_models(
        {best: models[best]}, cfg, largest[best], device, dtype, reps, warmup, peak, nominal
    )
    same = result["same_batch"]
    result["ratio_ours_hf"] = same["ours"]["clips_per_s"] / same["hf"]["clips_per_s"]
    for label, rows in (("same batch", same), ("own largest batch", result["own_largest_batch"])):
        for name, r in rows.items():
            log(
                f"{label:18s} {name:14s} batch {r['batch']:4d}  {r['clips_per_s']:8.2f} clips/s"
                f"  {r['tflops']:7.3f} TFLOP/s  MFU {r['mfu_measured']:.0%} of measured"
                + (f", {r['mfu_nominal']:.0%} of nominal" if r["mfu_nominal"] else "")
                + f"  peak {r['peak_bytes'] / 1e9:.1f} GB"
            )
    log(f"ours/HF throughput at batch {common}: {result['ratio_ours_hf']:.2f}×")
    return result


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--smoke", action="store_true", help="CPU, nano preset, tiny batches")
    p.add_argument("--compile", action="store_true", help="also time torch.compile(ours)")
    p.add_argument("--max-batch", type=int, default=256)
    p.add_argument("--reps", type=int, default=5)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--out", default="runs/gpu_bench.json")
    args = p.parse_args(argv)
    result = run_gpu_bench(args.smoke, args.compile, args.max_batch, args.reps, args.warmup)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=1))
    print(f"written to {args.out}")
    return 0
