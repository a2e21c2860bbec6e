"""Measured time and peak memory of a forward (+ backward) pass, on any device.

Next to the analytic curves of ``curves.py``: how long one training-style step takes
and how much memory it really needs, here and now.

How peak memory is measured, and what it sees:

* CUDA: ``torch.cuda.max_memory_allocated`` after a reset — every tensor the caching
  allocator hands out (not the CUDA context, not cached-but-free blocks).
* CPU (Linux): the process's resident-set high-water mark ``VmHWM`` from
  ``/proc/self/status``, reset by writing ``5`` to ``/proc/self/clear_refs``, minus the
  resident size before the run. It sees every byte the process touches (torch tensors,
  kernel workspaces, anything else), so small runs carry some noise. glibc keeps freed
  memory for reuse, which would hide a run's allocations; so before measuring we call
  ``malloc_trim(0)`` and, while measuring, fix glibc's mmap threshold at 64 KiB
  (``mallopt``), so that big blocks are ``mmap``-ed and given back when freed; after
  the run the thresholds go to 32 / 64 MiB, glibc's usual steady state (allocation
  with 64 KiB is several times slower). On nano models the peak was 88–106% of
  ``cost.training_memory``.
  (``tracemalloc`` would miss torch's allocations entirely.)
* elsewhere (no ``/proc``, MPS): ``resource.getrusage`` ``ru_maxrss``, which cannot be
  reset — only a run that sets a new process-wide record shows up. The returned dict
  names the method used.
"""

from __future__ import annotations

import ctypes
import re
import resource
import sys
from pathlib import Path

import torch

from .. import cost
from ..config import TimeSformerConfig
from ..markdown import markdown_table
from ..model import TimeSformer
from ..runtime import pick_device
from .curves import config_at
from .timing import time_interleaved


def _glibc_thresholds(mmap_bytes: int, trim_bytes: int, trim: bool = False) -> None:
    """glibc only: set M_MMAP_THRESHOLD / M_TRIM_THRESHOLD (and give freed memory back)."""
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(-3, mmap_bytes)  # M_MMAP_THRESHOLD: blocks this big come from mmap
        libc.mallopt(-1, trim_bytes)  # M_TRIM_THRESHOLD: free heap top beyond this
        if trim:
            libc.malloc_trim(0)
    except (OSError, AttributeError):  # not glibc: measure as is
        pass


def _status_bytes(key: str) -> int:
    text = Path("/proc/self/status").read_text()
    return int(re.search(rf"^{key}:\s+(\d+) kB", text, re.M).group(1)) * 1024


class PeakMemory:
    """Context manager: ``with PeakMemory(device) as pm: ...; pm.peak`` (bytes above start)."""

    def __init__(self, device: torch.device | str = "cpu"):
        self.device = torch.device(device)
        self.peak = 0
        if self.device.type == "cuda":
            self.method = "torch.cuda.max_memory_allocated"
        elif Path("/proc/self/clear_refs").exists():
            self.method = "process RSS high-water mark (VmHWM, reset via clear_refs)"
        else:
            self.method = "ru_maxrss (not resettable: only new process records show)"

    def __enter__(self):
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
            torch.cuda.reset_peak_memory_stats(self.device)
            self.start = torch.cuda.memory_allocated(self.device)
        elif self.method.startswith("process RSS"):
            _glibc_thresholds(64 * 1024, 64 * 1024, trim=True)  # see the module docstring
            try:
                Path("/proc/self/clear_refs").write_text("5")
            except OSError:  # read-only /proc: fall back to the process-wide record
                self.method = "ru_maxrss (not resettable: only new process records show)"
            self.start = _status_bytes("VmRSS") if self.method.startswith("process") else 0
        if self.method.startswith("ru_maxrss"):
            self.start = self._maxrss()
        return self

    @staticmethod
    def _maxrss() -> int:
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return rss if sys.platform == "darwin" else rss * 1024  # macOS: bytes, Linux: kB

    def __exit__(self, *exc):
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
            self.peak = torch.cuda.max_memory_allocated(self.device) - self.start
        elif self.method.startswith("process"):
            self.peak = _status_bytes("VmHWM") - self.start
            _glibc_thresholds(32 * 2**20, 64 * 2**20)  # back to fast allocation
        else:
            self.peak = self._maxrss() - self.start
        self.peak = max(self.peak, 0)
        return False


def measure(
    cfg: TimeSformerConfig,
    batch: int = 1,
    backward: bool = True,
    eager: bool = False,
    device=None,
    repeats: int = 2,
    seed: int = 0,
    memory: bool = True,
) -> dict:
    """Time (median of ``repeats`` after one warm-up) and peak memory of one step
    (on CPU the smallest of three runs' peaks: the RSS peak varies by ~10 MiB from run
    to run).

    ``eager=True`` runs the explicit softmax(QKᵀ)V path (``forward_with_attention``),
    which materialises the scores; the default is the fused SDPA path.
    Memory is the extra memory of the step (model weights excluded). On CPU measuring
    memory switches glibc to slower allocation for the rest of the process (see above),
    so time first: ``measure_sweep`` times every point before it measures any memory.
    """
    device = torch.device(device) if device is not None else pick_device("auto")
    torch.manual_seed(seed)
    model = TimeSformer(cfg).to(device).train(backward)
    video = torch.randn(
        batch, cfg.num_frames, cfg.in_channels, cfg.image_size, cfg.image_size, device=device
    )

    def step():
        with torch.set_grad_enabled(backward):
            out = model.forward_with_attention(video) if eager else model(video)
            logits = out[0] if eager else out
            if backward:
                logits.float().sum().backward()
                model.zero_grad(set_to_none=True)
        del out, logits

    if repeats:  # one warm-up (lazy initialisation, allocator pools, gradient buffers)
        times = time_interleaved({"step": step}, reps=repeats, warmup=1, device=device)["step"]
    else:
        step()  # warm-up only: the caller wants memory
        times = []
    result = {
        "scheme": cfg.attention,
        "frames": cfg.num_frames,
        "size": cfg.image_size,
        "batch": batch,
        "backward": backward,
        "eager": eager,
        "device": str(device),
        "time_s": sorted(times)[len(times) // 2] if times else None,
        "peak_bytes": None,
        "memory_method": None,
    }
    if memory:  # the least of three: on CPU other activity only ever adds to the peak
        peaks = []
        for _ in range(3 if device.type == "cpu" else 1):
            with PeakMemory(device) as pm:
                step()
            peaks.append(pm.peak)
        result.update(peak_bytes=min(peaks), memory_method=pm.method)
    return result


__all__ = ["PeakMemory", "measure"]


def measure_sweep(
    schemes=("joint", "divided"),
    sizes=(32, 48, 64),
    preset: str = "nano",
    batch: int = 2,
    num_frames: int | None = None,
    device=None,
    num_classes: int = 10,
) -> list[dict]:
    """Measured eager and fused training steps beside the analytic GMACs and memory estimate."""
    configs = []
    for scheme in schemes:
        for size in sizes:
            T = num_frames or TimeSformerConfig.preset(preset).num_frames
            cfg = config_at(preset, scheme, T, size, num_classes=num_classes)
            configs += [(cfg, eager) for eager in (False, True)] if cfg is not None else []
    rows = [
        measure(cfg, batch, eager=eager, device=device, memory=False)  # all timings first
        for cfg, eager in configs
    ]
    for row, (cfg, eager) in zip(rows, configs):
        mem = measure(cfg, batch, eager=eager, device=device, repeats=0)
        row.update(peak_bytes=mem["peak_bytes"], memory_method=mem["memory_method"])
        est = cost.training_memory(cfg, batch, fused=not eager)  # no optimizer step here
        row["estimate_bytes"] = est["activations"] + est["transient"] + est["gradients"]
        row["gmacs"] = cost.macs(cfg) * batch / 1e9
    return rows


def format_measured(rows: list[dict]) -> str:
    header = ("scheme", "frames", "size", "batch", "attention", "device", "time (ms)")
    header += ("GMACs (fwd)", "peak (MiB)", "estimate (MiB)")
    cells = [
        (
            r["scheme"],
            r["frames"],
            r["size"],
            r["batch"],
            "eager" if r["eager"] else "fused",
            r["device"],
            f"{r['time_s'] * 1e3:.1f}",
            f"{r['gmacs']:.3f}",
            f"{r['peak_bytes'] / 2**20:.1f}",
            f"{r['estimate_bytes'] / 2**20:.1f}",
        )
        for r in rows
    ]
    lines = [markdown_table(header, cells, "lrrrllrrrr")]
    if rows:
        lines.append(
            f"\npeak memory: {rows[0]['memory_method']}; forward + backward, "
            "weights excluded, gradients included"
        )
    return "\n".join(lines)


__all__ += ["measure_sweep", "format_measured"]
