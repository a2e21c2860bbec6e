"""Timing helpers of ``mini-timesformer bench`` and ``cost --measure`` (docs/performance.md).

* ``step_fn``: a zero-argument function running one forward pass or one training step;
* ``time_interleaved``: warm-up, then repetitions that alternate between the timed
  functions (order rotated each round), so slow phases of a shared machine hit all of
  them alike; callers report medians and the spread (``summarize``);
* ``matmul_step``: one large square matmul, timed in the same rounds, gives the machine's
  matmul peak "on the spot"; achieved FLOP/s of a model divided by it is the fraction of
  peak (MFU on a GPU);
* ``machine_info``: what the numbers were measured on.

FLOP convention: ``cost.macs`` counts multiply-adds of the matrix products; a forward pass
is ``2 × macs`` FLOP and a training step (forward + backward) ``3 × 2 × macs``.
"""

from __future__ import annotations

import contextlib
import os
import platform
import statistics
import time

import torch

from .. import cost
from ..config import TimeSformerConfig
from ..errors import UserError

DTYPES = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}
MODES = ("forward", "train")


def sync(device: torch.device) -> None:
    """Wait for the device's queued work (timing an asynchronous GPU needs it)."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    elif device.type == "mps":
        torch.mps.synchronize()


def machine_info(device: torch.device) -> dict:
    """What the numbers were measured on: CPU/GPU, threads, library versions."""
    try:
        import transformers

        hf_version = transformers.__version__
    except ImportError:
        hf_version = "not installed"
    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    info = {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "threads": torch.get_num_threads(),
        "cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "transformers": hf_version,
        "device": str(device),
    }
    if device.type == "cuda":
        info["gpu"] = torch.cuda.get_device_name(device)
    with contextlib.suppress(OSError):
        info["load_avg"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
    return info


def logits_of(model, video: torch.Tensor) -> torch.Tensor:
    """Logits from our model or HF's (which returns an output object)."""
    out = model(video)
    return out.logits if hasattr(out, "logits") else out


def autocast_for(device: torch.device, dtype: str):
    """Mixed precision context: autocast to bf16/fp16, or nothing for fp32."""
    if dtype == "fp32":
        return contextlib.nullcontext()
    return torch.autocast(device.type, dtype=DTYPES[dtype])


def step_fn(model, video: torch.Tensor, mode: str, device: torch.device, dtype: str = "fp32"):
    """A zero-argument function running one forward pass or one training step.

    Training step = forward + backward of ``logits.sum()`` (gradients freed after each,
    as ``zero_grad(set_to_none=True)`` does); no optimiser, the same for both models.
    """
    if mode not in MODES:
        raise UserError(f"unknown mode {mode!r}; expected one of: {', '.join(MODES)}")
    model.train(mode == "train")
    params = [p for p in model.parameters() if p.requires_grad]

    def forward():
        with torch.no_grad(), autocast_for(device, dtype):
            logits_of(model, video)

    def train():
        with autocast_for(device, dtype):
            loss = logits_of(model, video).float().sum()
        loss.backward()
        for p in params:
            p.grad = None

    return forward if mode == "forward" else train


def matmul_step(device: torch.device, dtype: str = "fp32", n: int | None = None):
    """(function, FLOP per call): one n×n @ n×n matmul in ``dtype``."""
    n = n or (8192 if device.type == "cuda" else 2048)
    a = torch.randn(n, n, device=device, dtype=DTYPES[dtype])
    b = torch.randn(n, n, device=device, dtype=DTYPES[dtype])
    return (lambda: a @ b), 2 * n**3


def time_interleaved(
    fns: dict, reps: int = 3, warmup: int = 1, device: torch.device | None = None
) -> dict[str, list[float]]:
    """Seconds per call of each function: ``warmup`` untimed rounds, then ``reps`` rounds,
    each calling every function once, in an order rotated by one per round."""
    if reps < 1 or warmup < 0:
        raise UserError(f"need reps >= 1 and warmup >= 0, got reps={reps}, warmup={warmup}")
    device = device or torch.device("cpu")
    names = list(fns)
    for _ in range(warmup):
        for name in names:
            fns[name]()
    times = {name: [] for name in names}
    for r in range(reps):
        for name in names[r % len(names) :] + names[: r % len(names)]:
            sync(device)
            start = time.perf_counter()
            fns[name]()
            sync(device)
            times[name].append(time.perf_counter() - start)
    return times


def summarize(times: list[float]) -> dict:
    """Median and spread of repeated timings (seconds)."""
    median = statistics.median(times)
    return {
        "median_s": median,
        "min_s": min(times),
        "max_s": max(times),
        "spread": (max(times) - min(times)) / median,
        "times_s": list(times),
    }


def flops_per_step(cfg: TimeSformerConfig, mode: str, batch: int) -> int:
    """Model FLOP of one call: 2·MACs per clip forward, 3× that for a training step."""
    return 2 * cost.macs(cfg) * batch * (3 if mode == "train" else 1)


def largest_batch(fits, max_batch: int, granularity: int = 1) -> int:
    """Largest batch ``b <= max_batch`` with ``fits(b)`` True, assuming that whatever fits
    at b also fits below it: double from 1 until a failure, then bisect down to
    ``granularity``. Raises ValueError when not even batch 1 fits."""
    if not fits(1):
        raise UserError("not even batch 1 fits in memory")
    lo, hi = 1, max_batch + 1  # lo fits; hi does not (or is past the cap)
    while lo * 2 <= max_batch:
        if not fits(lo * 2):
            hi = lo * 2
            break
        lo *= 2
    while hi - lo > granularity:
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if fits(mid) else (lo, mid)
    return lo
