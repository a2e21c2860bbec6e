"""``make demo``: the paper's central comparison (§4.1, Table 1) in one command, on a laptop.

All five attention schemes are trained with the same budget on synthetic clips whose
class is decided by *motion* (direction of a move, a turn, a size change — class 2k+1 is
class 2k played backwards) and on clips whose class is decided by *appearance* (shape and
texture). Space-only attention averages its frames, so on motion it can tell a pair apart
only by chance — at most 50%, like its collapse on Something-Something-V2 (Table 1) —
while on appearance it does as well as the others, like on Kinetics.

Writes ``runs/demo/report.md``, ``results.json``, training curves, a cost-vs-accuracy plot
and an attention-rollout figure; prints progress and the table at the end.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import torch

from . import cost
from .config import SCHEMES, TimeSformerConfig

TIME_SCHEMES = ("joint", "divided", "local_global", "axial")  # the schemes that model time


@dataclass
class DemoBudget:
    """The same budget for every scheme: model size, clips, optimiser steps."""

    frames: int = 8
    image_size: int = 32
    patch_size: int = 8
    embed_dim: int = 64
    depth: int = 2
    num_heads: int = 4
    batch_size: int = 32
    lr: float = 2e-3
    motion_steps: int = 300
    appearance_steps: int = 100
    train_clips: int = 1536
    val_clips: int = 384
    speed: tuple[float, float] | None = None  # px/frame at 32 px (None: the generator's)
    appearance_schemes: tuple[str, ...] = SCHEMES
    embed_std: float | None = 1.0  # small_model_init; None = the ViT init of model.py


BUDGETS = {
    # 2 CPU cores: every scheme on both datasets within a few minutes
    "cpu": DemoBudget(motion_steps=800, appearance_steps=800,
                      appearance_schemes=("space", "divided")),
    # a GPU: a deeper, wider model on more clips and more steps (not yet measured)
    "gpu": DemoBudget(depth=4, batch_size=64, motion_steps=1500, appearance_steps=800,
                      train_clips=8192, val_clips=1024),
    # tests: seconds
    "smoke": DemoBudget(frames=4, image_size=16, embed_dim=16, depth=1, num_heads=2,
                        batch_size=8, motion_steps=2, appearance_steps=1, train_clips=16,
                        val_clips=8, appearance_schemes=("space", "divided")),
}


def budget_for(device: str, smoke: bool = False) -> DemoBudget:
    """The budget ``make demo`` uses on ``device`` (the tiny "smoke" one for CI)."""
    return BUDGETS["smoke" if smoke else "gpu" if device == "cuda" else "cpu"]


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


def pick_threads() -> int:
    """All cores on an idle machine; one thread when the CPU is already busy (measured
    here: a nano training step is ~4× faster on 1 thread than on 2 under load)."""
    cores = os.cpu_count() or 1
    try:
        busy = os.getloadavg()[0] >= cores
    except OSError:
        busy = False
    return 1 if busy else cores


def small_model_init(model, embed_std: float = 1.0, extra: bool = False):
    """Re-initialise a small model for training from scratch (our choice, not the paper's).

    ViT's init (Linear weights with std 0.02, embeddings 0.02, time embedding 0) is made
    for 768-wide models that start from ImageNet weights (paper, Appendix A). At width 64
    it makes every attention almost uniform — blind to where and when a patch is — and,
    measured here, the models then sit at the "which pair" plateau (50%) for 800+ steps.
    LeCun-normal weights (std 1/√fan_in) and position/time embeddings of std
    ``embed_std`` make attention selective from the first step. ``extra``: also give the
    added steps' output Linear (``temporal_fc``) random weights instead of zeros.
    """
    from torch import nn

    for name, module in model.named_modules():
        if isinstance(module, nn.Linear) and name != "head":
            if name.endswith("extra") and not extra:
                continue  # added steps start as identity, as in the paper
            nn.init.normal_(module.weight, std=module.in_features**-0.5)
    for embedding in (model.embed.pos_embed, model.embed.time_embed):
        nn.init.trunc_normal_(embedding, std=embed_std, a=-2 * embed_std, b=2 * embed_std)
    return model


def model_config(budget: DemoBudget, scheme: str, num_classes: int) -> TimeSformerConfig:
    return TimeSformerConfig.preset(
        "nano", attention=scheme, num_classes=num_classes, num_frames=budget.frames,
        image_size=budget.image_size, patch_size=budget.patch_size, embed_dim=budget.embed_dim,
        depth=budget.depth, num_heads=budget.num_heads)


def make_data(kind: str, budget: DemoBudget, seed: int = 0):
    """Training and validation clips of one synthetic kind (rendered once)."""
    from .data import SyntheticVideos
    from .train_config import VAL_SEED_OFFSET

    common = dict(num_frames=budget.frames, image_size=budget.image_size, speed=budget.speed)
    train = CachedClips(SyntheticVideos(kind, size=budget.train_clips, seed=seed, **common))
    val = CachedClips(SyntheticVideos(kind, size=budget.val_clips, seed=seed + VAL_SEED_OFFSET,
                                      **common))
    return train, val


def train_scheme(kind: str, scheme: str, data, budget: DemoBudget, steps: int, out: Path,
                 device: str, threads: int | None, seed: int = 0, progress: bool = True) -> dict:
    """Train one scheme on one dataset; returns its row of results.json."""
    from .model import TimeSformer
    from .train import train
    from .train_config import AugmentedClips

    train_raw, val_raw = data
    cfg = model_config(budget, scheme, len(train_raw.classes))
    torch.manual_seed(seed)
    model = TimeSformer(cfg)
    if budget.embed_std is not None:
        small_model_init(model, budget.embed_std, extra=True)
    datasets = (AugmentedClips(train_raw, cfg.mean, cfg.std),
                AugmentedClips(val_raw, cfg.mean, cfg.std), train_raw.classes)
    run = train(model=model, datasets=datasets, steps=steps, batch_size=budget.batch_size,
                lr=budget.lr, warmup_steps=max(1, steps // 10), seed=seed, device=device,
                threads=threads, val_every=0, out=str(out / kind / scheme), plots=False,
                progress=progress, progress_label=f"{kind:>10} {scheme:>12}")
    metrics = json.loads((run / "metrics.json").read_text())
    return {"accuracy": metrics["val"]["top1"], "params": cost.params(cfg),
            "gmacs": cost.macs(cfg) / 1e9, "train_seconds": metrics["train_seconds"],
            "steps": steps, "run": str(run)}


def run_demo(out="runs/demo", budget: str | DemoBudget = "auto", device: str = "auto",
             threads: int | None = None, seed: int = 0) -> dict:
    """Train and evaluate every scheme on motion and appearance clips; write the report.

    ``budget``: "auto" (``gpu`` when CUDA is available, else ``cpu``), a name in
    ``BUDGETS`` or a ``DemoBudget``. Returns the results dict (also ``results.json``).
    """
    from .train_config import pick_device

    if budget == "auto":
        budget = "gpu" if torch.cuda.is_available() else "cpu"
    name = budget if isinstance(budget, str) else "custom"
    if isinstance(budget, str):
        if budget not in BUDGETS:
            raise ValueError(f"unknown budget {budget!r}; expected auto or one of: "
                             f"{', '.join(BUDGETS)}")
        budget = BUDGETS[budget]
    device = str(pick_device(device))
    workers = 1
    if device == "cpu":  # tiny models: one thread per run, as many runs as cores at once
        workers = max(1, min(os.cpu_count() or 1, 4)) if threads is None else 1
        threads = threads or 1
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    plan = {"motion": (SCHEMES, budget.motion_steps),
            "appearance": (budget.appearance_schemes, budget.appearance_steps)}
    runs = sum(len(schemes) for schemes, _ in plan.values())
    print(f"demo: {runs} training runs on {device}"
          + (f" ({workers} at a time, {threads} thread{'s' * (threads > 1)} each)"
             if threads else "")
          + f", budget {name!r}: {budget.frames}×{budget.image_size}² clips, depth "
          f"{budget.depth}, width {budget.embed_dim}, batch {budget.batch_size}", flush=True)
    start = time.perf_counter()
    jobs = []  # (kind, scheme, steps), in the order of the report
    data = {}
    for kind, (schemes, steps) in plan.items():
        tick = time.perf_counter()
        data[kind] = make_data(kind, budget, seed)
        print(f"{kind}: {len(data[kind][0])} training / {len(data[kind][1])} validation clips "
              f"rendered in {time.perf_counter() - tick:.0f} s; {steps} steps per scheme",
              flush=True)
        jobs += [(kind, scheme, steps) for scheme in schemes]
    results = {kind: {} for kind in plan}
    for (kind, scheme, _), row in zip(jobs, _run_jobs(jobs, data, budget, out, device,
                                                      threads, seed, workers)):
        results[kind][scheme] = row
    total = time.perf_counter() - start
    meta = {"budget": name, "settings": asdict(budget), "device": device, "threads": threads,
            "parallel_runs": workers, "total_seconds": total}
    from .demo_report import write_report

    report = write_report(out, results, meta, budget)
    print()
    print(report["table"])
    print()
    print("\n".join(report["findings"]))
    print(f"\ndemo finished in {total / 60:.1f} min; report: {out / 'report.md'}")
    return results


def _run_jobs(jobs, data, budget, out, device, threads, seed, workers) -> list[dict]:
    """Train every (kind, scheme, steps); returns the result rows in order, printing progress.

    With ``workers`` > 1 the runs go to that many processes (each single-threaded, so
    two runs on two cores); their progress bars are off and each run prints one line
    when it ends. Every run is seeded, so the results do not depend on ``workers``.
    """
    rows, finished = [None] * len(jobs), 0

    def done(i, row):
        nonlocal finished
        rows[i], finished = row, finished + 1
        kind, scheme, steps = jobs[i]
        print(f"  [{finished}/{len(jobs)}] {kind} / {scheme}: top-1 {row['accuracy']:.1%} "
              f"({steps} steps, {row['train_seconds']:.0f} s)", flush=True)

    if workers <= 1:
        for i, (kind, scheme, steps) in enumerate(jobs):
            done(i, train_scheme(kind, scheme, data[kind], budget, steps, out, device, threads,
                                 seed))
        return rows
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed

    context = multiprocessing.get_context("spawn")  # a fresh interpreter: no forked threads
    with ProcessPoolExecutor(workers, mp_context=context) as pool:
        futures = {pool.submit(train_scheme, kind, scheme, data[kind], budget, steps, out,
                               device, threads, seed, False): i
                   for i, (kind, scheme, steps) in enumerate(jobs)}
        print(f"  {len(jobs)} runs queued, {workers} at a time; each prints a line when it "
              f"ends", flush=True)
        for future in as_completed(futures):
            done(futures[future], future.result())
    return rows


def _demo_command(args) -> int:
    budget = args.budget
    if args.steps is not None:
        base = BUDGETS["gpu" if torch.cuda.is_available() else "cpu"] if budget == "auto" \
            else BUDGETS.get(budget)
        if base is None:
            raise ValueError(f"unknown budget {budget!r}; expected auto or one of: "
                             f"{', '.join(BUDGETS)}")
        budget = replace(base, motion_steps=args.steps,
                         appearance_steps=max(1, args.steps // 3))
    run_demo(args.out, budget, args.device, args.threads, args.seed)
    return 0


def add_arguments(parser) -> None:
    """Options of ``mini-timesformer demo`` (the subcommand itself is made in cli.py)."""
    parser.add_argument("--budget", default="auto",
                        help=f"auto (gpu if CUDA, else cpu) or one of: {', '.join(BUDGETS)}")
    parser.add_argument("--steps", type=int, default=None,
                        help="optimiser steps per scheme on motion (appearance: a third)")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--threads", type=int, default=None,
                        help="CPU threads (default: 1 on a busy machine, else all cores)")
    parser.add_argument("--seed", type=int, default=0)
    parser.set_defaults(func=_demo_command)
