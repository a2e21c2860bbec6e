"""Training loop: a plain, readable loop for one CPU/GPU or many GPUs under ``torchrun``.

    run_dir = mt.train.train(preset="nano", attention="divided", data="synthetic-motion",
                             steps=400, batch_size=64, out="runs/divided")

One optimiser step = ``accum`` micro-batches of ``batch_size`` clips per process, so the
effective batch is ``batch_size × accum × world_size`` (the paper: 64, Appendix A).
Written to the run directory: ``steps.csv`` (one row per optimiser step), ``epochs.csv``
(train and validation metrics per epoch), ``metrics.json`` (summary), ``curves.png`` and
``checkpoints/last.pt`` (atomic, see ``checkpoint.py``), ``report.md`` (the run in a few
lines and any known plateau, see ``report.py``) and, every ``attention_every`` epochs,
the attention rollout of fixed validation clips (``attention/``, see
``viz/attention_epochs.py``); ``resume=True`` continues from the checkpoint and reproduces the
uninterrupted loss curve exactly on CPU.
"""

from __future__ import annotations

import contextlib
import json
import math
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from ..errors import UserError
from ..runtime import cpu_threads, last_checkpoint, pick_device
from . import distributed as dist
from .checkpoint import load_checkpoint, save_checkpoint, set_rng_state
from .config import TrainConfig, attention_every, resolve_init
from .evaluate import evaluate
from .inputs import build_datasets, build_model, raw_datasets
from .models import model_label, model_name
from .optim import build_optimizer, build_scheduler
from .run_files import CsvLog, EpochSampler

__all__ = ["TrainConfig", "NonFiniteLossError", "train"]


class NonFiniteLossError(RuntimeError):
    """The loss (or gradient norm) became NaN/inf; the last good checkpoint is kept."""


STEP_FIELDS = [
    "step",
    "epoch",
    "loss",
    "accuracy",
    "lr",
    "grad_norm",
    "clips_per_s",
    "seconds",
    "data_seconds",
]  # data_seconds: of seconds, the wait for the DataLoader
EPOCH_FIELDS = [
    "epoch",
    "step",
    "train_loss",
    "train_accuracy",
    "val_loss",
    "val_top1",
    "val_top5",
    "seconds",
]


def train(config: TrainConfig | None = None, *, model=None, datasets=None, **overrides) -> Path:
    """Train a TimeSformer or a 3-D CNN; returns the run directory (module docstring).

    ``config`` (or keyword arguments: the fields of ``TrainConfig``) says what to train.
    ``model`` and ``datasets`` = ``(train_set, val_set_or_None, classes)`` let notebooks and
    tests pass objects directly instead of ``preset``/``init`` and ``data``; a string
    ``model`` is ``TrainConfig.model`` (``train(model="r2plus1d")``, as ``--model``).
    """
    if isinstance(model, str):  # the --model name, not a model object
        model, overrides = None, {**overrides, "model": model}
    cfg = (config or TrainConfig()).replace(**overrides)
    with dist.init_process_group() as ctx, cpu_threads(cfg.threads):
        device = pick_device(cfg.device, ctx.local_rank)
        torch.manual_seed(cfg.seed)  # identical initial weights on every process
        init = resolve_init(cfg) if model is None else "model passed to train()"
        cfg = cfg if model is None else cfg.replace(model=model_name(model))  # as resumed
        if datasets is None:
            raw = raw_datasets(cfg, "train"), raw_datasets(cfg, "val")
            classes = list(raw[0].classes)
            model = model if model is not None else build_model(cfg, len(classes))
            train_set, val_set = build_datasets(
                cfg, model.config.mean, model.config.std, raw, verbose=ctx.rank == 0
            )
        else:
            train_set, val_set, classes = datasets
            model = model if model is not None else build_model(cfg, len(classes))
        return _Trainer(cfg, model, train_set, val_set, classes, device, ctx, init).run()


class _Trainer:
    """State of one run; ``run()`` is the loop. Split into small methods for reading."""

    def __init__(self, cfg, model, train_set, val_set, classes, device, ctx, init):
        self.cfg, self.device, self.ctx, self.classes = cfg, device, ctx, list(classes)
        self.init = init
        self.main = ctx.rank == 0
        self.out = Path(cfg.out)
        self.ckpt_path = last_checkpoint(self.out)
        self.model = model.to(device)
        self.net = dist.wrap_model(self.model, device, ctx)  # DDP when world_size > 1
        self.train_set, self.val_set = train_set, val_set
        self.sampler = EpochSampler(len(train_set), cfg.seed, True, ctx.rank, ctx.world_size)
        micro_batches = len(self.sampler) // cfg.batch_size
        self.steps_per_epoch = micro_batches // cfg.accum
        if self.steps_per_epoch < 1:
            raise UserError(
                f"{len(train_set)} training clips are too few for batch size "
                f"{cfg.batch_size} × accum {cfg.accum} × {ctx.world_size} "
                f"process(es)"
            )
        self.total_steps = cfg.steps or cfg.epochs * self.steps_per_epoch
        self.optimizer = build_optimizer(self.model, cfg.optimizer, cfg.lr, cfg.weight_decay)
        self.scheduler = build_scheduler(
            self.optimizer, cfg.optimizer, self.total_steps, cfg.warmup_steps
        )
        # bf16 autocast: cfg.bf16 None = on CUDA only (the default), True = on any device
        self.bf16 = device.type == "cuda" if cfg.bf16 is None else cfg.bf16
        self.step = 0
        self.train_seconds = 0.0  # optimiser steps only (no validation, no checkpoints)
        self.data_seconds = 0.0  # of which: blocked on the DataLoader (its stall time)
        epochs = math.ceil(self.total_steps / self.steps_per_epoch)
        snapshots = val_set is not None and model_name(model) == "timesformer"  # CNN: none
        self.attention_every = attention_every(cfg, epochs) if snapshots else 0
        self.snapshots = None  # made on first use (rank 0)

    # ------------------------------------------------------------------ data
    def loader(self, epoch: int, skip_steps: int):
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

    # ------------------------------------------------------------------ the loop
    def run(self) -> Path:
        cfg, main = self.cfg, self.main
        resumed = self.resume() if cfg.resume else False
        if main:
            self.out.mkdir(parents=True, exist_ok=True)
            (self.out / "train_config.json").write_text(
                json.dumps({**cfg.to_dict(), "init_used": self.init}, indent=2) + "\n"
            )
            keep = self.step if resumed else None
            self.step_log = CsvLog(self.out / "steps.csv", STEP_FIELDS, keep)
            self.epoch_log = CsvLog(self.out / "epochs.csv", EPOCH_FIELDS, keep)
            n = sum(p.numel() for p in self.model.parameters())
            print(
                f"training {model_label(self.model)} ({n:,} params) on {self.device} "
                f"× {self.ctx.world_size}: {self.total_steps} steps of "
                f"{cfg.batch_size * cfg.accum * self.ctx.world_size} clips"
                + (f", resumed at step {self.step}" if resumed else "")
            )
        bar = tqdm(
            total=self.total_steps,
            initial=self.step,
            disable=not main or not cfg.progress,
            desc=cfg.progress_label or "train",
            unit="step",
            dynamic_ncols=True,
        )
        start = time.perf_counter()
        while self.step < self.total_steps:
            epoch, done = divmod(self.step, self.steps_per_epoch)
            totals = self.train_epoch(epoch, done, bar)
            epoch_end = self.step % self.steps_per_epoch == 0
            if epoch_end or self.step == self.total_steps:
                self.end_of_epoch(epoch, totals, time.perf_counter() - start)
        bar.close()
        return self.finish(time.perf_counter() - start)

    def train_epoch(self, epoch: int, done: int, bar) -> dict:
        """Optimiser steps of one epoch from step ``done`` on; returns summed metrics."""
        totals = {"loss": 0.0, "correct": 0.0, "clips": 0.0}
        self.net.train()
        batches = iter(self.loader(epoch, done))
        for _ in range(done, self.steps_per_epoch):
            if self.step >= self.total_steps:
                break
            tick = time.perf_counter()
            sums = self.forward_backward(batches)  # loss·clips, correct, clips
            loss, grad_norm = self.optimizer_step(sums)
            seconds = time.perf_counter() - tick
            self.train_seconds += seconds
            self.data_seconds += self.waited
            for key, value in zip(totals, sums.tolist()):
                totals[key] += value
            self.log_step(epoch, sums, loss, grad_norm, seconds, bar)
            if self.cfg.checkpoint_every and self.step % self.cfg.checkpoint_every == 0:
                self.save()
            if self.cfg.stop_after and self.step >= self.cfg.stop_after:  # simulated interruption
                self.total_steps = self.step
                break
        return totals

    def forward_backward(self, batches) -> torch.Tensor:
        """``accum`` micro-batches: forward, loss, backward (gradients add up); returns
        (loss·clips, correct, clips) summed over the micro-batches and processes."""
        cfg = self.cfg
        sums = torch.zeros(3, device=self.device)  # loss·clips, correct, clips
        self.waited = 0.0  # seconds blocked in next() on the DataLoader, this step
        for micro in range(cfg.accum):
            wait = time.perf_counter()
            clips, labels = next(batches)
            self.waited += time.perf_counter() - wait
            clips = clips.to(self.device, non_blocking=True)
            labels = labels.to(self.device, non_blocking=True)
            sync = micro == cfg.accum - 1  # DDP: all-reduce gradients on the last one only
            with contextlib.nullcontext() if sync else dist.no_sync(self.net):
                with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.bf16):
                    logits = self.net(clips)
                    loss = F.cross_entropy(
                        logits.float(), labels, label_smoothing=cfg.label_smoothing
                    )
                (loss / cfg.accum).backward()
            sums += torch.stack(
                [
                    loss.detach() * len(labels),
                    (logits.argmax(1) == labels).sum().float(),
                    torch.tensor(float(len(labels)), device=self.device),
                ]
            )
        return dist.all_reduce_sum(sums, self.ctx)

    def optimizer_step(self, sums: torch.Tensor) -> tuple[float, float]:
        """Clip gradients, refuse non-finite values, step the optimiser and the schedule;
        returns (mean loss, gradient norm) of this step. Remembers the lr it used."""
        loss = (sums[0] / sums[2]).item()
        clip = self.cfg.clip_grad if self.cfg.clip_grad > 0 else float("inf")
        grad_norm = torch.nn.utils.clip_grad_norm_(self.model.parameters(), clip).item()
        self.check_finite(loss, grad_norm)
        self.optimizer.step()
        self.optimizer.zero_grad(set_to_none=True)
        self.step_lr = self.optimizer.param_groups[0]["lr"]
        self.scheduler.step()
        self.step += 1
        return loss, grad_norm

    def log_step(
        self, epoch: int, sums: torch.Tensor, loss: float, grad_norm: float, seconds: float, bar
    ) -> None:
        """One row of steps.csv and the progress bar (rank 0 only)."""
        if not self.main:
            return
        accuracy = (sums[1] / sums[2]).item()
        rate = sums[2].item() / seconds
        self.step_log.write(
            {
                "step": self.step,
                "epoch": epoch,
                "loss": loss,
                "accuracy": accuracy,
                "lr": self.step_lr,
                "grad_norm": grad_norm,
                "clips_per_s": rate,
                "seconds": seconds,
                "data_seconds": self.waited,
            }
        )
        bar.set_postfix(
            loss=f"{loss:.3f}", acc=f"{accuracy:.2f}", clips_s=f"{rate:.0f}", refresh=False
        )
        bar.update(1)

    def check_finite(self, loss: float, grad_norm: float) -> None:
        if math.isfinite(loss) and math.isfinite(grad_norm):
            return
        what = f"loss {loss}" if not math.isfinite(loss) else f"gradient norm {grad_norm}"
        kept = (
            f"last good checkpoint kept at {self.ckpt_path}"
            if self.ckpt_path.exists()
            else "no checkpoint was written yet"
        )
        raise NonFiniteLossError(
            f"non-finite {what} at step {self.step + 1}; stopping "
            f"({kept}). Try a lower --lr or a longer warmup."
        )

    def end_of_epoch(self, epoch: int, totals: dict, seconds: float) -> None:
        """Validation (every ``val_every`` epochs and at the end), logging, checkpoint."""
        cfg = self.cfg
        last = self.step >= self.total_steps
        val = {}
        if self.val_set is not None and (
            last or (cfg.val_every and (epoch + 1) % cfg.val_every == 0)
        ):
            val = evaluate(
                self.model,
                self.val_set,
                batch_size=cfg.batch_size,
                device=self.device,
                ctx=self.ctx,
                workers=cfg.workers,
                classes=self.classes,
            )
        if self.main:
            clips = max(totals["clips"], 1.0)
            row = {
                "epoch": epoch,
                "step": self.step,
                "train_loss": totals["loss"] / clips,
                "train_accuracy": totals["correct"] / clips,
                "val_loss": val.get("loss"),
                "val_top1": val.get("top1"),
                "val_top5": val.get("top5"),
                "seconds": seconds,
            }
            self.epoch_log.write(row)
            if val:
                tqdm.write(
                    f"epoch {epoch}: step {self.step} val top-1 {val['top1']:.3f} "
                    f"top-5 {val['top5']:.3f}"
                ) if cfg.progress else None
            if self.attention_every and (last or (epoch + 1) % self.attention_every == 0):
                self.snapshot(epoch, val)
        if not cfg.checkpoint_every or last:
            self.save()
        self.last_val = val or getattr(self, "last_val", {})

    def snapshot(self, epoch: int, val: dict) -> None:
        """Rollout of fixed validation clips: ``attention/epoch_NNN.png`` + ``epochs.gif``."""
        from ..viz.attention_epochs import AttentionSnapshots

        if self.snapshots is None:
            self.snapshots = AttentionSnapshots(self.val_set, self.out)
        score = f"val top-1 {val['top1']:.1%}" if val else "no validation this epoch"
        self.snapshots.render(
            self.model,
            epoch,
            f"{self.model.config.attention}, epoch {epoch} (step {self.step}): {score}",
        )

    # ------------------------------------------------------------------ checkpoints
    def save(self) -> None:
        if self.main:
            save_checkpoint(
                self.ckpt_path,
                model=self.model,
                optimizer=self.optimizer,
                scheduler=self.scheduler,
                step=self.step,
                epoch=self.step // self.steps_per_epoch,
                train_config=self.cfg.to_dict(),
                classes=self.classes,
                extra={"train_seconds": self.train_seconds, "data_seconds": self.data_seconds},
            )
        dist.barrier(self.ctx)

    def resume(self) -> bool:
        """Load ``checkpoints/last.pt`` if there is one; True when resumed."""
        if not self.ckpt_path.exists():
            if self.main:
                print(f"no checkpoint at {self.ckpt_path}; starting from scratch")
            return False
        state = load_checkpoint(self.ckpt_path)
        saved = state["train_config"].get("model", "timesformer")  # older runs: a TimeSformer
        if saved != model_name(self.model):
            raise UserError(
                f"--resume: {self.ckpt_path} holds a {saved} run, this run trains "
                f"{model_name(self.model)} (use another --out or the same --model)"
            )
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.scheduler.load_state_dict(state["scheduler"])
        set_rng_state(state["rng"])
        self.step = state["step"]
        self.train_seconds = state["extra"].get("train_seconds", 0.0)
        self.data_seconds = state["extra"].get("data_seconds", 0.0)
        return True

    def finish(self, seconds: float) -> Path:
        """Write metrics.json and curves.png (rank 0); returns the run directory."""
        if self.main:
            from .report import diagnose, write_report

            val = getattr(self, "last_val", {})
            findings = diagnose(val, self.classes, model_label(self.model), self.init)
            gif = self.out / "attention" / "epochs.gif"  # AttentionSnapshots' files
            gif = gif if self.attention_every and gif.exists() else None
            summary = {
                "steps": self.step,
                "train_seconds": self.train_seconds,
                "data_seconds": self.data_seconds,
                "wall_seconds": seconds,
                "model": model_name(self.model),  # timesformer | r2plus1d | i3d
                "attention": getattr(self.model.config, "attention", None),  # None: a CNN
                "init": self.init,
                "params": sum(p.numel() for p in self.model.parameters()),
                "classes": self.classes,
                "val": val,
                "findings": findings,
                "attention_gif": str(gif) if gif else None,
                "checkpoint": str(self.ckpt_path),
            }
            (self.out / "metrics.json").write_text(json.dumps(summary, indent=2) + "\n")
            if self.cfg.plots:
                from ..viz.training import plot_training_curves

                plot_training_curves(self.out)
            write_report(self.out, self.cfg, summary, findings, gif)  # the CLI prints findings
        return self.out
