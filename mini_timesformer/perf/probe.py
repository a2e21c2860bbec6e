"""Peak memory of one step of one model, measured in a **fresh subprocess**
(``python -m mini_timesformer.perf.probe SPEC``), so one model's allocations never hide or
inflate another's (RSS high-water mark on CPU, ``max_memory_allocated`` on CUDA; see
``measure.PeakMemory``)."""

from __future__ import annotations

import json
import subprocess
import sys

import torch

from ..config import TimeSformerConfig
from ..runtime import pick_device
from .hf import random_model
from .measure import PeakMemory
from .timing import step_fn, sync


def probe_memory(
    cfg: TimeSformerConfig,
    impl: str,
    mode: str,
    batch: int = 1,
    device: str = "cpu",
    dtype: str = "fp32",
    threads: int | None = None,
    timeout: float = 1800,
) -> dict:
    """Peak memory (bytes above the pre-step level; weights excluded) of the first step
    of ``impl`` in a fresh Python process. Returns ``{"peak_bytes", "method"}``."""
    spec = dict(
        cfg=cfg.to_dict(),
        impl=impl,
        mode=mode,
        batch=batch,
        device=device,
        dtype=dtype,
        threads=threads or torch.get_num_threads(),
    )
    cmd = [sys.executable, "-m", "mini_timesformer.perf.probe", json.dumps(spec)]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise RuntimeError(f"memory probe for {impl} {mode} failed: {last}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _probe_main(spec: dict) -> dict:
    torch.set_num_threads(spec["threads"])
    cfg = TimeSformerConfig.from_dict(spec["cfg"])
    device = pick_device(spec["device"])
    model = random_model(cfg, spec["impl"]).to(device)
    video = torch.randn(
        spec["batch"],
        cfg.num_frames,
        cfg.in_channels,
        cfg.image_size,
        cfg.image_size,
        device=device,
    )
    step = step_fn(model, video, spec["mode"], device, spec["dtype"])
    with PeakMemory(device) as pm:
        step()
        sync(device)
    return {"peak_bytes": pm.peak, "method": pm.method}


if __name__ == "__main__":  # the memory probe: python -m mini_timesformer.perf.probe SPEC
    print(json.dumps(_probe_main(json.loads(sys.argv[1]))))
