#!/usr/bin/env python
"""Prepared GPU benchmark: ViT-B divided 8×224 training step, bf16, largest batch that fits.

    python scripts/gpu_bench.py                 # ours vs HF eager (a few minutes on one GPU)
    python scripts/gpu_bench.py --compile       # also torch.compile(ours)
    python scripts/gpu_bench.py --smoke         # CPU, nano model: checks the script itself

What it does (helpers from ``mini_timesformer/bench_utils.py``):
1. builds HF ``TimesformerForVideoClassification`` (eager attention) and ours with the
   same weights, and checks their fp32 logits agree;
2. finds the largest batch that fits for each (doubling, then bisecting to a multiple
   of 8); a training step = bf16-autocast forward + backward of ``logits.sum()``;
3. times both at the same batch (the smaller of the two maxima), interleaved, after
   warm-up, and ours alone at its own largest batch;
4. reports clips/s, the ratio ours/HF, peak memory (``torch.cuda.max_memory_allocated``)
   and MFU = model FLOP/s (3 × 2 × ``cost.macs`` per clip) ÷ the bf16 matmul peak measured
   on the spot, and ÷ the vendor's dense bf16 peak when the GPU is in ``NOMINAL_TFLOPS``.
Results go to stdout and to ``--out`` (JSON). Paste them into docs/performance.md.
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout

from mini_timesformer.perf import timing  # noqa: E402
from mini_timesformer.perf.bench import check_outputs  # noqa: E402
from mini_timesformer.perf.hf import bench_config, make_pair  # noqa: E402
from mini_timesformer.runtime import pick_device  # noqa: E402

NOMINAL_TFLOPS = {"H200": 989.4, "H100": 989.4, "A100": 312.0, "L40S": 362.1,
                  "A10": 125.0, "4090": 165.2}  # dense bf16 tensor-core peak, vendor sheets


def nominal_peak(device: torch.device) -> float | None:
    if device.type != "cuda":
        return None
    name = torch.cuda.get_device_name(device)
    hits = [tflops for key, tflops in NOMINAL_TFLOPS.items() if key in name]
    return hits[0] * 1e12 if hits else None


def free_memory(device: torch.device) -> None:
    gc.collect()
    if device.type == "cuda":
        torch.cuda.empty_cache()


def make_video(cfg, batch: int, device) -> torch.Tensor:
    return torch.randn(batch, cfg.num_frames, cfg.in_channels, cfg.image_size,
                       cfg.image_size, device=device)  # (B, T, C, H, W)


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


def measure(models: dict, cfg, batch, device, dtype, reps, warmup, peak, nominal) -> dict:
    """Interleaved timing of the models' training steps at one batch size."""
    fns = {name: train_step(m, cfg, batch, device, dtype) for name, m in models.items()}
    times = timing.time_interleaved(fns, reps, warmup, device)
    flop = timing.flops_per_step(cfg, "train", batch)
    out = {}
    for name, t in times.items():
        median = statistics.median(t)
        out[name] = {"batch": batch, "median_s": median, "min_s": min(t), "max_s": max(t),
                     "clips_per_s": batch / median, "tflops": flop / median / 1e12,
                     "mfu_measured": flop / median / peak,
                     "mfu_nominal": flop / median / nominal if nominal else None,
                     "peak_bytes": peak_memory(models[name], cfg, batch, device, dtype)}
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--smoke", action="store_true", help="CPU, nano preset, tiny batches")
    p.add_argument("--compile", action="store_true", help="also time torch.compile(ours)")
    p.add_argument("--max-batch", type=int, default=256)
    p.add_argument("--reps", type=int, default=5)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--out", default="runs/gpu_bench.json")
    args = p.parse_args(argv)
    if args.smoke:  # the same code path on a tiny model, fp32 (CPU bf16 is slow, not tested)
        device, dtype, granularity = torch.device("cpu"), "fp32", 1
        cfg = bench_config("nano", "divided", 8, 32).replace(depth=2)
        args.max_batch, args.reps, args.warmup = min(args.max_batch, 4), 1, 0
    else:
        device, dtype, granularity = pick_device("cuda"), "bf16", 8
        cfg = bench_config("base", "divided", 8, 224)
    info = timing.machine_info(device)
    print(json.dumps(info))
    ours, hf = make_pair(cfg)
    ours, hf = ours.to(device), hf.to(device)
    diffs = check_outputs(ours, hf, make_video(cfg, 2, device))
    print(f"max |logit difference| (fp32): {diffs}")
    matmul, matmul_flop = timing.matmul_step(device, dtype, n=1024 if args.smoke else 8192)
    peak = matmul_flop / statistics.median(timing.time_interleaved({"mm": matmul}, 5, 2, device)["mm"])
    nominal = nominal_peak(device)
    print(f"{dtype} matmul peak measured: {peak / 1e12:.3f} TFLOP/s; nominal: "
          f"{nominal / 1e12 if nominal else 'unknown'} TFLOP/s")
    models = {"ours": ours, "hf": hf}
    if args.compile:
        start = time.perf_counter()
        models["ours_compiled"] = torch.compile(ours)
        train_step(models["ours_compiled"], cfg, 2, device, dtype)()
        print(f"torch.compile warm-up: {time.perf_counter() - start:.0f} s")
    largest = {}
    for name, model in models.items():
        largest[name] = timing.largest_batch(fits(model, cfg, device, dtype), args.max_batch,
                                         granularity)
        print(f"largest batch that fits, {name}: {largest[name]}")
    common = min(largest.values())
    result = {"machine": info, "config": cfg.to_dict(), "dtype": dtype, "max_abs_diff": diffs,
              "matmul_tflops": peak / 1e12, "nominal_tflops": nominal and nominal / 1e12,
              "largest_batch": largest,
              "same_batch": measure(models, cfg, common, device, dtype, args.reps,
                                    args.warmup, peak, nominal)}
    best = max(largest, key=lambda n: largest[n] if n != "hf" else -1)
    result["own_largest_batch"] = measure({best: models[best]}, cfg, largest[best], device,
                                          dtype, args.reps, args.warmup, peak, nominal)
    same = result["same_batch"]
    result["ratio_ours_hf"] = same["ours"]["clips_per_s"] / same["hf"]["clips_per_s"]
    for label, rows in (("same batch", same), ("own largest batch", result["own_largest_batch"])):
        for name, r in rows.items():
            print(f"{label:18s} {name:14s} batch {r['batch']:4d}  {r['clips_per_s']:8.2f} clips/s"
                  f"  {r['tflops']:7.3f} TFLOP/s  MFU {r['mfu_measured']:.0%} of measured"
                  + (f", {r['mfu_nominal']:.0%} of nominal" if r["mfu_nominal"] else "")
                  + f"  peak {r['peak_bytes'] / 1e9:.1f} GB")
    print(f"ours/HF throughput at batch {common}: {result['ratio_ours_hf']:.2f}×")
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=1))
    print(f"written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
