"""``mini-timesformer demo --long``: do long clips pay off, and what do they cost? (RQ5)

The paper trains on HowTo100M with 8, 32, 64 and 96 frames and gains accuracy with every
step (§4.6, Table 8: 56.8 → 62.6), while divided attention keeps the cost of long clips
affordable where joint attention runs out of memory (§4.1, Fig. 3). In miniature: the
``long`` synthetic clips (64 frames; the class is the number of brief flashes, see
``data/synthetic_long.py``) are sampled uniformly at T = 8, 16, 32, 64 frames and the
same nano model is trained on each, with divided and with joint attention. Each run
reports validation top-1 next to the best any model can reach from those T frames
(``sampler_ceiling``), its measured step time and peak memory (``perf.measure``) and the
analytic GMACs and training memory (``cost``).

Writes ``runs/demo-long/report.md``, ``results.json``, ``run_info.json`` and
``long_range.png`` (accuracy vs frames beside cost vs frames).
"""

from __future__ import annotations

import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch

from .. import cost
from ..data import SyntheticVideos
from ..data.synthetic_long import LONG_CLASSES, sampler_ceiling, uniform_indices
from ..perf.measure import measure
from ..runtime import cpu_threads, pick_device
from ..train.config import VAL_SEED_OFFSET
from .budgets import BUDGETS, DemoBudget, model_config
from .run import CachedClips, _run_jobs, parallel_plan

SCHEMES = ("divided", "joint")


@dataclass
class LongBudget:
    """One model (``model``: size, batch, lr, clips) trained ``steps`` steps per (scheme, T)."""

    model: DemoBudget
    steps: int = 400
    clip_frames: int = 64  # frames of a long clip; each run samples T of them uniformly
    frames: dict = field(
        default_factory=lambda: {"divided": (8, 16, 32, 64), "joint": (8, 16, 32, 64)}
    )


LONG_BUDGETS = {
    # 2 CPU cores. 16 px frames (2×2 patches of 8 px): the flashes are large, and a 64-frame
    # clip costs what an 8-frame 45 px clip would. lr 4e-3: our choice (probes: divided
    # reached 99.7% at T = 64 in 400 steps).
    "cpu": LongBudget(DemoBudget(image_size=16, lr=4e-3)),
    # tests: seconds
    "smoke": LongBudget(
        BUDGETS["smoke"].replace(image_size=16, train_clips=16, val_clips=8),
        steps=2,
        clip_frames=32,
        frames={"divided": (4, 8), "joint": (4,)},
    ),
}


def resolve_long_budget(budget: str | LongBudget) -> tuple[str, LongBudget]:
    """``(name, budget)``: "auto" is ``smoke`` under MINI_TIMESFORMER_SMOKE=1, else ``cpu``
    (on any device: the budget was sized for a CPU)."""
    from ..errors import UserError

    if isinstance(budget, LongBudget):
        return "custom", budget
    if budget == "auto":
        budget = "smoke" if os.environ.get("MINI_TIMESFORMER_SMOKE") == "1" else "cpu"
    if budget not in LONG_BUDGETS:
        raise UserError(
            f"unknown budget {budget!r} for demo --long; expected auto or one of: "
            f"{', '.join(LONG_BUDGETS)}"
        )
    return budget, LONG_BUDGETS[budget]


class SampledFrames(torch.utils.data.Dataset):
    """The T frames a uniform sampler takes from every clip of ``clips`` (a ``CachedClips``
    of long clips), stored once: items ``(uint8 (T, 3, H, W), label)``."""

    def __init__(self, clips: CachedClips, num_frames: int):
        self.indices = uniform_indices(clips.clips.shape[1], num_frames)
        self.clips = clips.clips[:, self.indices].contiguous()  # (N, T, 3, H, W)
        self.labels, self.classes = clips.labels, clips.classes

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, index: int):
        return self.clips[index], self.labels[index]


def long_clips(budget: LongBudget, seed: int = 0) -> tuple[CachedClips, CachedClips]:
    """Training and validation long clips, rendered once for every T."""
    b = budget.model
    common = dict(num_frames=budget.clip_frames, image_size=b.image_size)
    return (
        CachedClips(SyntheticVideos("long", size=b.train_clips, seed=seed, **common)),
        CachedClips(
            SyntheticVideos("long", size=b.val_clips, seed=seed + VAL_SEED_OFFSET, **common)
        ),
    )


def measured_cost(
    budget: LongBudget, scheme: str, T: int, device: str, threads: int | None, time_it: bool = True
) -> dict:
    """Analytic cost (``cost``) and, with ``time_it``, measured time and peak memory of one
    training step (forward + backward, batch of the budget; ``perf.measure``)."""
    cfg = model_config(budget.model.replace(num_frames=T), scheme, len(LONG_CLASSES))
    batch = budget.model.batch_size
    row = {
        "params": cost.params(cfg),
        "gmacs": cost.macs(cfg) / 1e9,
        "patches": (cfg.image_size // cfg.patch_size) ** 2,
        "analytic_mib": cost.training_memory(cfg, batch, fused=True)["total"] / 2**20,
    }
    if time_it:
        with cpu_threads(threads):
            m = measure(cfg, batch=batch, device=device, repeats=2)
        row.update(
            step_seconds=m["time_s"],
            peak_mib=m["peak_bytes"] / 2**20,
            memory_method=m["memory_method"],
        )
    return row


def run_long(
    out="runs/demo-long",
    budget: str | LongBudget = "auto",
    device: str = "auto",
    threads: int | None = None,
    seed: int = 0,
) -> dict:
    """Train every (scheme, T) of ``budget`` on the same long clips; measure their cost;
    write the report. Returns ``{scheme: {T: row}}`` (also ``results.json``)."""
    from .long_report import write_long_report

    name, budget = resolve_long_budget(budget)
    device = str(pick_device(device))
    workers, threads = parallel_plan(device, threads)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    b = budget.model
    print(
        f"demo --long: {sum(map(len, budget.frames.values()))} training runs on {device}, "
        f"budget {name!r}: T of {budget.clip_frames} frames × {b.image_size}², depth "
        f"{b.depth}, width {b.embed_dim}, batch {b.batch_size}, {budget.steps} steps each",
        flush=True,
    )
    start = time.perf_counter()
    train_clips, val_clips = long_clips(budget, seed)
    print(
        f"long clips: {len(train_clips)} training / {len(val_clips)} validation rendered in "
        f"{time.perf_counter() - start:.0f} s",
        flush=True,
    )
    lengths = sorted({T for ts in budget.frames.values() for T in ts})
    data = {f"T{T}": (SampledFrames(train_clips, T), SampledFrames(val_clips, T)) for T in lengths}
    budgets = {f"T{T}": b.replace(num_frames=T) for T in lengths}
    jobs = sorted(
        ((f"T{T}", scheme, budget.steps) for scheme, ts in budget.frames.items() for T in ts),
        key=lambda job: -int(job[0][1:]),
    )  # longest runs first
    rows = _run_jobs(jobs, data, budgets, out, device, threads, seed, workers)
    trained = time.perf_counter() - start
    results = {scheme: {} for scheme in budget.frames}
    for (kind, scheme, _), row in zip(jobs, rows):
        T = int(kind[1:])
        row = {
            "accuracy": row["accuracy"],
            "train_seconds": row["train_seconds"],
            "seconds_per_step": row["train_seconds"] / budget.steps,
            "ceiling": sampler_ceiling(T, budget.clip_frames),
        }
        results[scheme][T] = row | measured_cost(budget, scheme, T, device, threads)
    results = {s: dict(sorted(r.items())) for s, r in results.items()}
    meta = {
        "budget": name,
        "settings": asdict(budget),
        "device": device,
        "threads": threads,
        "parallel_runs": workers,
        "train_seconds": trained,
        "total_seconds": time.perf_counter() - start,
        "load_at_start": load,
        "load_at_end": os.getloadavg()[0] if load is not None else None,
    }
    report = write_long_report(out, results, meta)
    print()
    print(report["table"])
    print()
    print("\n".join(report["findings"]))
    print(
        f"\ndemo --long finished in {meta['total_seconds'] / 60:.1f} min; report: "
        f"{out / 'report.md'}"
    )
    return results
