"""The state of one training run (``Run``): what ``loop.fit`` reads and changes.

Every attribute is declared here, in one dataclass, so a reader sees all a run holds: the
model and its optimiser, the data and its sampler, the step counter and the clocks.
``build_run`` makes one from a ``TrainConfig``; ``save_run`` / ``resume_run`` write and read
``RUN/checkpoints/last.pt`` (atomic, see ``checkpoint.py``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import nn

from ..errors import UserError
from ..runtime import last_checkpoint
from . import distributed as dist
from .checkpoint import load_checkpoint, save_checkpoint, set_rng_state
from .config import TrainConfig
from .models import model_name
from .optim import build_optimizer, build_scheduler
from .run_files import EpochSampler

log = logging.getLogger(__name__)


@dataclass
class Run:
    """One training run. ``fit`` advances ``step``, the clocks and ``last_val``."""

    cfg: TrainConfig
    model: nn.Module  # the model itself: what is saved and evaluated
    net: nn.Module  # what the loop calls: the model, or DDP around it (world_size > 1)
    optimizer: torch.optim.Optimizer
    scheduler: torch.optim.lr_scheduler.LRScheduler
    train_set: torch.utils.data.Dataset
    val_set: torch.utils.data.Dataset | None
    classes: list[str]
    sampler: EpochSampler  # this process's share of each epoch, reshuffled per epoch
    steps_per_epoch: int
    total_steps: int
    device: torch.device
    ctx: dist.DistContext
    init: str  # how the weights started (resolved ``--init``), for reports
    bf16: bool  # autocast to bfloat16 (default: on CUDA only)
    step: int = 0  # optimiser steps done
    train_seconds: float = 0.0  # in optimiser steps only (no validation, no checkpoints)
    data_seconds: float = 0.0  # of which: blocked on the DataLoader (its stall time)
    last_val: dict = field(default_factory=dict)  # the latest validation metrics

    @property
    def out(self) -> Path:
        return Path(self.cfg.out)

    @property
    def main(self) -> bool:
        """Rank 0: the one process that writes files and prints."""
        return self.ctx.rank == 0

    @property
    def checkpoint_path(self) -> Path:
        return last_checkpoint(self.out)

    def loader(self, epoch: int, skip_steps: int) -> torch.utils.data.DataLoader:
        """Batches of epoch ``epoch``, starting after ``skip_steps`` optimiser steps."""
        cfg = self.cfg
        self.sampler.set_epoch(epoch, skip_steps * cfg.accum * cfg.batch_size)
        if hasattr(self.train_set, "set_epoch"):
            self.train_set.set_epoch(epoch)
        return torch.utils.data.DataLoader(
            self.train_set,
            batch_size=cfg.batch_size,
            sampler=self.sampler,
            drop_last=True,
            num_workers=cfg.workers,
            pin_memory=self.device.type == "cuda",
            generator=torch.Generator().manual_seed(cfg.seed + epoch),  # spares the global RNG
            persistent_workers=False,
        )


def build_run(cfg, model, train_set, val_set, classes, device, ctx, init) -> Run:
    """A fresh ``Run``: the model on ``device``, its optimiser and schedule, the sampler."""
    sampler = EpochSampler(len(train_set), cfg.seed, True, ctx.rank, ctx.world_size)
    steps_per_epoch = len(sampler) // cfg.batch_size // cfg.accum
    if steps_per_epoch < 1:
        raise UserError(
            f"{len(train_set)} training clips are too few for batch size "
            f"{cfg.batch_size} × accum {cfg.accum} × {ctx.world_size} process(es)"
        )
    total_steps = cfg.steps or cfg.epochs * steps_per_epoch
    model = model.to(device)
    optimizer = build_optimizer(model, cfg.optimizer, cfg.lr, cfg.weight_decay)
    return Run(
        cfg=cfg,
        model=model,
        net=dist.wrap_model(model, device, ctx),
        optimizer=optimizer,
        scheduler=build_scheduler(optimizer, cfg.optimizer, total_steps, cfg.warmup_steps),
        train_set=train_set,
        val_set=val_set,
        classes=list(classes),
        sampler=sampler,
        steps_per_epoch=steps_per_epoch,
        total_steps=total_steps,
        device=device,
        ctx=ctx,
        init=init,
        bf16=device.type == "cuda" if cfg.bf16 is None else cfg.bf16,
    )


def save_run(run: Run) -> None:
    """``checkpoints/last.pt`` from rank 0 (atomic), then every process waits for it."""
    if run.main:
        save_checkpoint(
            run.checkpoint_path,
            model=run.model,
            optimizer=run.optimizer,
            scheduler=run.scheduler,
            step=run.step,
            epoch=run.step // run.steps_per_epoch,
            train_config=run.cfg.to_dict(),
            classes=run.classes,
            extra={"train_seconds": run.train_seconds, "data_seconds": run.data_seconds},
        )
    dist.barrier(run.ctx)


def resume_run(run: Run) -> bool:
    """Load ``checkpoints/last.pt`` into ``run`` if there is one; True when resumed."""
    if not run.checkpoint_path.exists():
        if run.main:
            log.warning("no checkpoint at %s; starting from scratch", run.checkpoint_path)
        return False
    state = load_checkpoint(run.checkpoint_path)
    saved = state["train_config"].get("model", "timesformer")  # older runs: a TimeSformer
    if saved != model_name(run.model):
        raise UserError(
            f"--resume: {run.checkpoint_path} holds a {saved} run, this run trains "
            f"{model_name(run.model)} (use another --out or the same --model)"
        )
    run.model.load_state_dict(state["model"])
    run.optimizer.load_state_dict(state["optimizer"])
    run.scheduler.load_state_dict(state["scheduler"])
    set_rng_state(state["rng"])
    run.step = state["step"]
    run.train_seconds = state["extra"].get("train_seconds", 0.0)
    run.data_seconds = state["extra"].get("data_seconds", 0.0)
    return True


__all__ = ["Run", "build_run", "save_run", "resume_run"]
