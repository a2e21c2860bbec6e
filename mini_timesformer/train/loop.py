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

Read ``fit`` top to bottom: it is the whole optimisation, one step at a time, like
nanoGPT's training script. What a run holds is ``state.Run``; the progress bar, attention
snapshots, curves and report are ``callbacks.py``'s, wired in by the CLI.
"""

from __future__ import annotations

import contextlib
import json
import math
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from ..runtime import cpu_threads, pick_device
from . import distributed as dist
from .callbacks import Callback, standard_callbacks
from .config import TrainConfig, resolve_init
from .evaluate import evaluate
from .inputs import build_datasets, build_model, raw_datasets
from .models import model_name
from .run_files import CsvLog
from .state import Run, build_run, resume_run, save_run

__all__ = ["TrainConfig", "NonFiniteLossError", "train", "fit"]


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


def train(
    config: TrainConfig | None = None,
    *,
    model=None,
    datasets=None,
    callbacks: list[Callback] | None = None,
    **overrides,
) -> Path:
    """Train a TimeSformer or a 3-D CNN; returns the run directory (module docstring).

    ``config`` (or keyword arguments: the fields of ``TrainConfig``) says what to train.
    ``model`` and ``datasets`` = ``(train_set, val_set_or_None, classes)`` let notebooks and
    tests pass objects directly instead of ``preset``/``init`` and ``data``; a string
    ``model`` is ``TrainConfig.model`` (``train(model="r2plus1d")``, as ``--model``).
    ``callbacks``: default ``callbacks.standard_callbacks(config)`` (what the CLI runs).
    """
    if isinstance(model, str):  # the --model name, not a model object
        model, overrides = None, {**overrides, "model": model}
    cfg = (config or TrainConfig()).replace(**overrides)
    callbacks = standard_callbacks(cfg) if callbacks is None else callbacks
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
        run = build_run(cfg, model, train_set, val_set, classes, device, ctx, init)
        return fit(run, callbacks)


def fit(run: Run, callbacks: list[Callback] = ()) -> Path:
    """The loop: optimiser steps, an epoch end (validation, checkpoint) after each epoch,
    the summary at the end. Resumes from ``checkpoints/last.pt`` when ``cfg.resume``."""
    cfg = run.cfg
    callbacks = callbacks if run.main else []  # only rank 0 reports
    resumed = resume_run(run) if cfg.resume else False
    if run.main:
        run.out.mkdir(parents=True, exist_ok=True)
        (run.out / "train_config.json").write_text(
            json.dumps({**cfg.to_dict(), "init_used": run.init}, indent=2) + "\n"
        )
        keep = run.step if resumed else None  # a resumed run keeps its rows up to here
        step_log = CsvLog(run.out / "steps.csv", STEP_FIELDS, keep)
        epoch_log = CsvLog(run.out / "epochs.csv", EPOCH_FIELDS, keep)
    for callback in callbacks:
        callback.on_start(run, resumed)
    start = time.perf_counter()
    while run.step < run.total_steps:
        epoch, done = divmod(run.step, run.steps_per_epoch)  # done: steps of this epoch
        batches = iter(run.loader(epoch, done))
        run.net.train()
        totals = torch.zeros(3)  # this epoch's loss·clips, correct, clips
        for _ in range(done, run.steps_per_epoch):
            if run.step >= run.total_steps:
                break
            # ---- one optimiser step: accum micro-batches, clip, check, step, schedule
            tick = time.perf_counter()
            sums, waited = forward_backward(run, batches)  # loss·clips, correct, clips
            loss = (sums[0] / sums[2]).item()
            clip = cfg.clip_grad if cfg.clip_grad > 0 else float("inf")
            grad_norm = torch.nn.utils.clip_grad_norm_(run.model.parameters(), clip).item()
            check_finite(run, loss, grad_norm)
            lr = run.optimizer.param_groups[0]["lr"]  # the lr this step uses
            run.optimizer.step()
            run.optimizer.zero_grad(set_to_none=True)
            run.scheduler.step()
            run.step += 1
            seconds = time.perf_counter() - tick
            run.train_seconds += seconds
            run.data_seconds += waited
            totals += sums.cpu()
            # ---- log it
            if run.main:
                row = {
                    "step": run.step,
                    "epoch": epoch,
                    "loss": loss,
                    "accuracy": (sums[1] / sums[2]).item(),
                    "lr": lr,
                    "grad_norm": grad_norm,
                    "clips_per_s": sums[2].item() / seconds,
                    "seconds": seconds,
                    "data_seconds": waited,
                }
                step_log.write(row)
                for callback in callbacks:
                    callback.on_step(run, row)
            if cfg.checkpoint_every and run.step % cfg.checkpoint_every == 0:
                save_run(run)
            if cfg.stop_after and run.step >= cfg.stop_after:  # simulated interruption
                run.total_steps = run.step
                break
        if run.step % run.steps_per_epoch == 0 or run.step == run.total_steps:
            # ---- end of an epoch: validation, its log line, the checkpoint
            last = run.step >= run.total_steps
            val = {}
            if run.val_set is not None and (
                last or (cfg.val_every and (epoch + 1) % cfg.val_every == 0)
            ):
                val = validate(run)
                run.last_val = val
            if run.main:
                loss_clips, correct, clips = totals.tolist()
                clips = max(clips, 1.0)
                row = {
                    "epoch": epoch,
                    "step": run.step,
                    "train_loss": loss_clips / clips,
                    "train_accuracy": correct / clips,
                    "val_loss": val.get("loss"),
                    "val_top1": val.get("top1"),
                    "val_top5": val.get("top5"),
                    "seconds": time.perf_counter() - start,
                }
                epoch_log.write(row)
                for callback in callbacks:
                    callback.on_epoch(run, row, val)
            if not cfg.checkpoint_every or last:
                save_run(run)
    if run.main:
        summary = summarize(run, time.perf_counter() - start)
        for callback in callbacks:
            callback.on_end(run, summary)  # may add to the summary (findings, the GIF)
        (run.out / "metrics.json").write_text(json.dumps(summary, indent=2) + "\n")
    return run.out


def forward_backward(run: Run, batches) -> tuple[torch.Tensor, float]:
    """``accum`` micro-batches: forward, loss, backward (their gradients add up). Returns
    (loss·clips, correct, clips) summed over micro-batches and processes, and the seconds
    spent waiting for the DataLoader."""
    cfg = run.cfg
    sums = torch.zeros(3, device=run.device)  # loss·clips, correct, clips
    waited = 0.0
    for micro in range(cfg.accum):
        wait = time.perf_counter()
        clips, labels = next(batches)
        waited += time.perf_counter() - wait
        clips = clips.to(run.device, non_blocking=True)
        labels = labels.to(run.device, non_blocking=True)
        sync = micro == cfg.accum - 1  # DDP: all-reduce gradients on the last one only
        with contextlib.nullcontext() if sync else dist.no_sync(run.net):
            with torch.autocast(run.device.type, dtype=torch.bfloat16, enabled=run.bf16):
                logits = run.net(clips)
                loss = F.cross_entropy(logits.float(), labels, label_smoothing=cfg.label_smoothing)
            (loss / cfg.accum).backward()
        correct = (logits.argmax(1) == labels).sum().float()
        sums += torch.stack([loss.detach() * len(labels), correct, sums.new_tensor(len(labels))])
    return dist.all_reduce_sum(sums, run.ctx), waited


def validate(run: Run) -> dict:
    """Validation metrics of the model now (``evaluate``: top-1, top-5, loss, confusion)."""
    cfg = run.cfg
    return evaluate(
        run.model,
        run.val_set,
        batch_size=cfg.batch_size,
        device=run.device,
        ctx=run.ctx,
        workers=cfg.workers,
        classes=run.classes,
    )


def check_finite(run: Run, loss: float, grad_norm: float) -> None:
    """Stop with ``NonFiniteLossError`` on a NaN/inf loss or gradient norm."""
    if math.isfinite(loss) and math.isfinite(grad_norm):
        return
    what = f"loss {loss}" if not math.isfinite(loss) else f"gradient norm {grad_norm}"
    kept = (
        f"last good checkpoint kept at {run.checkpoint_path}"
        if run.checkpoint_path.exists()
        else "no checkpoint was written yet"
    )
    raise NonFiniteLossError(
        f"non-finite {what} at step {run.step + 1}; stopping "
        f"({kept}). Try a lower --lr or a longer warmup."
    )


def summarize(run: Run, seconds: float) -> dict:
    """What ``metrics.json`` holds (callbacks add ``findings`` and ``attention_gif``)."""
    return {
        "steps": run.step,
        "train_seconds": run.train_seconds,
        "data_seconds": run.data_seconds,
        "wall_seconds": seconds,
        "model": model_name(run.model),  # timesformer | r2plus1d | i3d
        "attention": getattr(run.model.config, "attention", None),  # None: a CNN
        "init": run.init,
        "params": sum(p.numel() for p in run.model.parameters()),
        "classes": run.classes,
        "val": run.last_val,
        "findings": [],
        "attention_gif": None,
        "checkpoint": str(run.checkpoint_path),
    }
