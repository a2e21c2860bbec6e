"""Measurement helpers for ``mini-timesformer bench`` (see ``bench.py`` and docs/performance.md).

* ``make_pair``: a Hugging Face ``TimesformerForVideoClassification`` (eager attention) and
  our model carrying **the same weights** (HF's state dict converted by
  ``pretrained.convert_hf_state_dict``).
* ``time_interleaved``: warm-up, then repetitions that alternate between the timed
  functions (order rotated each round), so slow phases of a shared machine hit all of
  them alike; callers report medians and the spread.
* ``matmul_step``: one large square matmul, timed in the same rounds, gives the machine's
  matmul peak "on the spot"; achieved FLOP/s of a model divided by it is the fraction of
  peak (MFU on a GPU).
* ``probe_memory``: peak memory of one step of one model in a **fresh subprocess**
  (RSS high-water mark on CPU, ``max_memory_allocated`` on CUDA; see ``measure.py``),
  so one model's allocations never hide or inflate the other's.

FLOP convention: ``cost.macs`` counts multiply-adds of the matrix products; a forward pass
is ``2 × macs`` FLOP and a training step (forward + backward) ``3 × 2 × macs``.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import statistics
import subprocess
import sys
import time

import torch

from . import cost
from .config import TimeSformerConfig, canonical_scheme

# HF's ``space_only`` returns per-frame logits (the official model averages the frames'
# tokens first), so only these two are like-for-like comparisons.
HF_SCHEMES = {"joint": "joint_space_time", "divided": "divided_space_time"}
DTYPES = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}
MODES = ("forward", "train")


def resolve_device(name: str) -> torch.device:
    """``auto`` -> cuda, mps or cpu; otherwise the named device, if it exists here."""
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        mps = getattr(torch.backends, "mps", None)
        return torch.device("mps" if mps and mps.is_available() else "cpu")
    if name not in ("cpu", "cuda", "mps"):
        raise ValueError(f"unknown device {name!r}; expected auto, cpu, cuda or mps")
    if name == "cuda" and not torch.cuda.is_available():
        raise ValueError("device 'cuda' requested but torch sees no CUDA GPU here")
    return torch.device(name)


def sync(device: torch.device) -> None:
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
    info = {"cpu": cpu, "cores": os.cpu_count(), "threads": torch.get_num_threads(),
            "cpu_capability": torch.backends.cpu.get_cpu_capability(),
            "python": platform.python_version(), "torch": torch.__version__,
            "transformers": hf_version, "device": str(device)}
    if device.type == "cuda":
        info["gpu"] = torch.cuda.get_device_name(device)
    with contextlib.suppress(OSError):
        info["load_avg"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
    return info


def hf_config_for(cfg: TimeSformerConfig):
    """The Hugging Face ``TimesformerConfig`` with the same architecture as ``cfg``."""
    from transformers import TimesformerConfig

    if cfg.attention not in HF_SCHEMES:
        raise ValueError(f"no like-for-like Hugging Face model for the {cfg.attention!r} "
                         f"scheme; compare one of: {', '.join(HF_SCHEMES)}")
    return TimesformerConfig(
        image_size=cfg.image_size, patch_size=cfg.patch_size, num_channels=cfg.in_channels,
        num_frames=cfg.num_frames, hidden_size=cfg.embed_dim, num_hidden_layers=cfg.depth,
        num_attention_heads=cfg.num_heads, intermediate_size=int(cfg.embed_dim * cfg.mlp_ratio),
        qkv_bias=cfg.qkv_bias, layer_norm_eps=cfg.layer_norm_eps, num_labels=cfg.num_classes,
        attention_type=HF_SCHEMES[cfg.attention])


def bench_config(preset: str, scheme: str, frames: int, size: int,
                 num_classes: int = 400) -> TimeSformerConfig:
    """Our config for one benchmark point (embeddings learned at exactly this T and size)."""
    return TimeSformerConfig.preset(preset, attention=canonical_scheme(scheme),
                                    num_frames=frames, image_size=size, num_classes=num_classes)


def build_model(cfg: TimeSformerConfig, impl: str, seed: int = 0):
    """``impl`` "ours" or "hf": a freshly initialised model (random weights, fixed seed)."""
    torch.manual_seed(seed)
    if impl == "hf":
        from transformers import TimesformerForVideoClassification

        return TimesformerForVideoClassification(hf_config_for(cfg))
    from .model import TimeSformer

    return TimeSformer(cfg)


def make_pair(cfg: TimeSformerConfig, seed: int = 0):
    """(ours, hf) with the same weights: HF's initialisation copied into our layout."""
    from .model import TimeSformer
    from .pretrained import config_from_hf, convert_hf_state_dict

    hf = build_model(cfg, "hf", seed).eval()
    ours_cfg = config_from_hf(hf.config, attention=cfg.attention)
    ours = TimeSformer(ours_cfg)
    ours.load_state_dict(convert_hf_state_dict(hf.state_dict(), cfg.attention, cfg.num_frames))
    return ours.eval(), hf


def logits_of(model, video: torch.Tensor, **kwargs) -> torch.Tensor:
    """Logits from our model or HF's (which returns an output object)."""
    out = model(video, **kwargs)
    if isinstance(out, tuple):  # ours with return_attention=True
        return out[0]
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
        raise ValueError(f"unknown mode {mode!r}; expected one of: {', '.join(MODES)}")
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


def time_interleaved(fns: dict, reps: int = 3, warmup: int = 1,
                     device: torch.device | None = None) -> dict[str, list[float]]:
    """Seconds per call of each function: ``warmup`` untimed rounds, then ``reps`` rounds,
    each calling every function once, in an order rotated by one per round."""
    if reps < 1 or warmup < 0:
        raise ValueError(f"need reps >= 1 and warmup >= 0, got reps={reps}, warmup={warmup}")
    device = device or torch.device("cpu")
    names = list(fns)
    for _ in range(warmup):
        for name in names:
            fns[name]()
    times = {name: [] for name in names}
    for r in range(reps):
        for name in names[r % len(names):] + names[:r % len(names)]:
            sync(device)
            start = time.perf_counter()
            fns[name]()
            sync(device)
            times[name].append(time.perf_counter() - start)
    return times


def summarize(times: list[float]) -> dict:
    """Median and spread of repeated timings (seconds)."""
    median = statistics.median(times)
    return {"median_s": median, "min_s": min(times), "max_s": max(times),
            "spread": (max(times) - min(times)) / median, "times_s": list(times)}


def flops_per_step(cfg: TimeSformerConfig, mode: str, batch: int) -> int:
    """Model FLOP of one call: 2·MACs per clip forward, 3× that for a training step."""
    return 2 * cost.macs(cfg) * batch * (3 if mode == "train" else 1)


def largest_batch(fits, max_batch: int, granularity: int = 1) -> int:
    """Largest batch ``b <= max_batch`` with ``fits(b)`` True, assuming that whatever fits
    at b also fits below it: double from 1 until a failure, then bisect down to
    ``granularity``. Raises ValueError when not even batch 1 fits."""
    if not fits(1):
        raise ValueError("not even batch 1 fits in memory")
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


# ---------------------------------------------------------------- memory in a subprocess
def probe_memory(cfg: TimeSformerConfig, impl: str, mode: str, batch: int = 1,
                 device: str = "cpu", dtype: str = "fp32", threads: int | None = None,
                 timeout: float = 1800) -> dict:
    """Peak memory (bytes above the pre-step level; weights excluded) of the first step
    of ``impl`` in a fresh Python process. Returns ``{"peak_bytes", "method"}``."""
    spec = dict(cfg=cfg.to_dict(), impl=impl, mode=mode, batch=batch, device=device,
                dtype=dtype, threads=threads or torch.get_num_threads())
    cmd = [sys.executable, "-m", "mini_timesformer.bench_utils", json.dumps(spec)]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise RuntimeError(f"memory probe for {impl} {mode} failed: {last}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _probe_main(spec: dict) -> dict:
    from .measure import PeakMemory

    torch.set_num_threads(spec["threads"])
    cfg = TimeSformerConfig.from_dict(spec["cfg"])
    device = resolve_device(spec["device"])
    model = build_model(cfg, spec["impl"]).to(device)
    video = torch.randn(spec["batch"], cfg.num_frames, cfg.in_channels, cfg.image_size,
                        cfg.image_size, device=device)
    step = step_fn(model, video, spec["mode"], device, spec["dtype"])
    with PeakMemory(device) as pm:
        step()
        sync(device)
    return {"peak_bytes": pm.peak, "method": pm.method}


if __name__ == "__main__":  # the memory probe: python -m mini_timesformer.bench_utils SPEC
    print(json.dumps(_probe_main(json.loads(sys.argv[1]))))
