"""Running the demo: render each kind's clips once, train every scheme (and the 3-D CNN
baselines) on them with the same budget (several single-thread runs at once on a CPU),
then write the report.

``run_demo`` is what ``make demo`` calls; its steps are ``parallel_plan``, ``announce``,
``render_data``, ``_run_jobs`` (one ``train_scheme`` per run) and ``report.write_report``.
The package docstring (``demo/__init__.py``) says what the demo shows.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict
from pathlib import Path

import torch

from .. import cost
from ..cnn import VideoResNet
from ..config import SCHEMES, TimeSformerConfig
from ..data import SyntheticVideos
from ..model import TimeSformer
from ..perf.timing import step_fn, summarize, time_interleaved
from ..runtime import cpu_threads, pick_device
from ..train import small_model_init, train
from ..train.config import VAL_SEED_OFFSET
from ..train.inputs import AugmentedClips
from .budgets import DemoBudget, model_config, resolve_budget
from .report import write_report


class CachedClips(torch.utils.data.Dataset):
    """A clip dataset rendered once into memory, so that five runs share the same clips."""

    def __init__(self, dataset):
        items = [dataset[i] for i in range(len(dataset))]
        self.clips = torch.stack([clip for clip, _ in items])  # uint8 (N, T, 3, H, W)
        self.labels = [label for _, label in items]
        self.classes = list(dataset.classes)

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, index: int):
        return self.clips[index], self.labels[index]


def make_data(kind: str, budget: DemoBudget, seed: int = 0):
    """Training and validation clips of one synthetic kind (rendered once)."""
    common = dict(num_frames=budget.num_frames, image_size=budget.image_size, speed=budget.speed)
    train_clips = CachedClips(SyntheticVideos(kind, size=budget.train_clips, seed=seed, **common))
    val_clips = CachedClips(
        SyntheticVideos(kind, size=budget.val_clips, seed=seed + VAL_SEED_OFFSET, **common)
    )
    return train_clips, val_clips


def train_scheme(
    kind: str,
    scheme: str,
    data,
    budget: DemoBudget,
    steps: int,
    out: Path,
    device: str,
    threads: int | None,
    seed: int = 0,
    progress: bool = True,
    attention_every: int = 0,
) -> dict:
    """Train one scheme (or 3-D CNN arch, ``budget.cnn_archs``) on one dataset; returns
    its row of results.json.

    ``attention_every`` > 0 also draws the rollout of fixed validation clips every that many
    epochs into the run's ``attention/`` folder (``epoch_NNN.png``, ``epochs.gif``).
    """
    train_raw, val_raw = data
    cfg = model_config(budget, scheme, len(train_raw.classes))
    torch.manual_seed(seed)
    if isinstance(cfg, TimeSformerConfig):
        model = TimeSformer(cfg)
        if budget.embed_std is not None:
            small_model_init(model, budget.embed_std, extra=True)
    else:
        model = VideoResNet(cfg)  # He init (cnn.py)
    datasets = (
        AugmentedClips(train_raw, cfg.mean, cfg.std),
        AugmentedClips(val_raw, cfg.mean, cfg.std),
        train_raw.classes,
    )
    run = train(
        model=model,
        datasets=datasets,
        steps=steps,
        batch_size=budget.batch_size,
        lr=budget.lr,
        warmup_steps=max(1, steps // 10),
        seed=seed,
        device=device,
        threads=threads,
        val_every=0,
        out=str(out / kind / scheme),
        plots=False,
        attention_every=attention_every,
        progress=progress,
        progress_label=f"{kind:>10} {scheme:>12}",
    )
    metrics = json.loads((run / "metrics.json").read_text())
    with cpu_threads(threads):
        infer_ms = inference_ms(model, datasets[1][0][0], device)
    return {
        "accuracy": metrics["val"]["top1"],
        "params": cost.params(cfg),
        "gmacs": cost.macs(cfg) / 1e9,
        "train_seconds": metrics["train_seconds"],
        "infer_ms": infer_ms,
        "steps": steps,
        "run": str(run),
    }


def inference_ms(model, clip: torch.Tensor, device: str, reps: int = 10) -> float:
    """Milliseconds of one forward pass on one clip (batch 1, no gradients): the median of
    ``reps`` timed calls after 2 untimed ones (``perf.timing``)."""
    device = torch.device(device)
    video = clip[None].to(device)  # (T, C, H, W) -> (1, T, C, H, W)
    forward = step_fn(model.to(device), video, "forward", device)
    times = time_interleaved({"forward": forward}, reps=reps, warmup=2, device=device)
    return summarize(times["forward"])["median_s"] * 1e3


def run_demo(
    out="runs/demo",
    budget: str | DemoBudget = "auto",
    device: str = "auto",
    threads: int | None = None,
    seed: int = 0,
) -> dict:
    """Train and evaluate every scheme and 3-D CNN on motion and appearance clips; write
    the report.

    ``budget``: "auto" (``gpu`` when CUDA is available, else ``cpu``), a name in
    ``BUDGETS`` or a ``DemoBudget``. Returns the results dict (also ``results.json``).
    """
    name, budget = resolve_budget(budget, torch.cuda.is_available())
    device = str(pick_device(device))
    workers, threads = parallel_plan(device, threads)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    plan = {
        "motion": ((*SCHEMES, *budget.cnn_archs), budget.motion_steps),
        "appearance": ((*budget.appearance_schemes, *budget.cnn_archs), budget.appearance_steps),
    }
    announce(plan, name, budget, device, workers, threads)
    start = time.perf_counter()
    data, jobs = render_data(plan, budget, seed)
    results = {kind: {} for kind in plan}
    for (kind, scheme, _), row in zip(
        jobs, _run_jobs(jobs, data, budget, out, device, threads, seed, workers)
    ):
        results[kind][scheme] = row
    total = time.perf_counter() - start
    meta = {
        "budget": name,
        "settings": asdict(budget),
        "device": device,
        "threads": threads,
        "parallel_runs": workers,
        "total_seconds": total,
    }
    report = write_report(out, results, meta, budget)
    print()
    print(report["table"])
    print()
    print("\n".join(report["findings"]))
    print(f"\ndemo finished in {total / 60:.1f} min; report: {out / 'report.md'}")
    return results


def parallel_plan(device: str, threads: int | None) -> tuple[int, int | None]:
    """``(runs at a time, threads per run)``: on CPU tiny models run one thread each, as
    many runs at once as cores (at most 4); elsewhere one run at a time."""
    if device != "cpu":
        return 1, threads
    workers = max(1, min(os.cpu_count() or 1, 4)) if threads is None else 1
    return workers, threads or 1


def announce(
    plan: dict, name: str, budget: DemoBudget, device: str, workers: int, threads: int | None
) -> None:
    """The one line that says what the demo is about to do."""
    runs = sum(len(schemes) for schemes, _ in plan.values())
    print(
        f"demo: {runs} training runs on {device}"
        + (f" ({workers} at a time, {threads} thread{'s' * (threads > 1)} each)" if threads else "")
        + f", budget {name!r}: {budget.num_frames}×{budget.image_size}² clips, depth "
        f"{budget.depth}, width {budget.embed_dim}, batch {budget.batch_size}",
        flush=True,
    )


def render_data(plan: dict, budget: DemoBudget, seed: int):
    """Render each kind's clips once; returns ``(data by kind, jobs)`` with one job
    ``(kind, scheme, steps)`` per training run, in the order of the report."""
    jobs, data = [], {}
    for kind, (schemes, steps) in plan.items():
        tick = time.perf_counter()
        data[kind] = make_data(kind, budget, seed)
        print(
            f"{kind}: {len(data[kind][0])} training / {len(data[kind][1])} validation clips "
            f"rendered in {time.perf_counter() - tick:.0f} s; {steps} steps per scheme",
            flush=True,
        )
        jobs += [(kind, scheme, steps) for scheme in schemes]
    return data, jobs


def _run_jobs(jobs, data, budget, out, device, threads, seed, workers) -> list[dict]:
    """Train every (kind, scheme, steps); returns the result rows in order, printing progress.

    With ``workers`` > 1 the runs go to that many processes (each single-threaded, so
    two runs on two cores); their progress bars are off and each run prints one line
    when it ends. Every run is seeded, so the results do not depend on ``workers``.
    ``budget``: one ``DemoBudget`` for every job, or a dict of them by kind.
    """
    budgets = budget if isinstance(budget, dict) else {kind: budget for kind, _, _ in jobs}
    rows, finished = [None] * len(jobs), 0

    def done(i, row):
        nonlocal finished
        rows[i], finished = row, finished + 1
        kind, scheme, steps = jobs[i]
        print(
            f"  [{finished}/{len(jobs)}] {kind} / {scheme}: top-1 {row['accuracy']:.1%} "
            f"({steps} steps, {row['train_seconds']:.0f} s)",
            flush=True,
        )

    if workers <= 1:
        for i, (kind, scheme, steps) in enumerate(jobs):
            done(
                i,
                train_scheme(
                    kind, scheme, data[kind], budgets[kind], steps, out, device, threads, seed
                ),
            )
        return rows
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed

    context = multiprocessing.get_context("spawn")  # a fresh interpreter: no forked threads
    with ProcessPoolExecutor(workers, mp_context=context) as pool:
        futures = {
            pool.submit(
                train_scheme,
                kind,
                scheme,
                data[kind],
                budgets[kind],
                steps,
                out,
                device,
                threads,
                seed,
                False,
            ): i
            for i, (kind, scheme, steps) in enumerate(jobs)
        }
        print(
            f"  {len(jobs)} runs queued, {workers} at a time; each prints a line when it ends",
            flush=True,
        )
        for future in as_completed(futures):
            done(futures[future], future.result())
    return rows
