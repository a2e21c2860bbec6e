"""What a run does beside optimising: progress bar, attention snapshots, curves, report.

``loop.fit`` calls each callback at four points, on rank 0 only:

* ``on_start(run, resumed)`` — before the first step;
* ``on_step(run, row)`` — after each optimiser step (``row``: that step's line of steps.csv);
* ``on_epoch(run, row, val)`` — after each epoch (``row``: its line of epochs.csv; ``val``:
  validation metrics, ``{}`` when there was no validation this epoch);
* ``on_end(run, summary)`` — at the end; ``summary`` is written to ``metrics.json`` after
  every callback has run, so a callback may add to it.

``standard_callbacks(cfg)`` is what ``mini-timesformer train`` wires in (and ``train()``
when given none); pass ``callbacks=[]`` for a bare run that writes only its CSV logs,
``metrics.json`` and checkpoints.
"""

from __future__ import annotations

import math
from pathlib import Path

from tqdm.auto import tqdm

from ..data.synthetic import reversed_pairs
from .config import attention_every
from .models import model_label, model_name
from .report import diagnose, write_report


class Callback:
    """Does nothing at every point; subclasses override the points they need."""

    def on_start(self, run, resumed: bool) -> None: ...

    def on_step(self, run, row: dict) -> None: ...

    def on_epoch(self, run, row: dict, val: dict) -> None: ...

    def on_end(self, run, summary: dict) -> None: ...


class ProgressBar(Callback):
    """One line about the run, then (``bar=True``) a tqdm bar over the steps and one line
    per validation."""

    def __init__(self, label: str | None = None, bar: bool = True):
        self.label, self.show, self.bar = label or "train", bar, None

    def on_start(self, run, resumed):
        n = sum(p.numel() for p in run.model.parameters())
        cfg = run.cfg
        tqdm.write(
            f"training {model_label(run.model)} ({n:,} params) on {run.device} "
            f"× {run.ctx.world_size}: {run.total_steps} steps of "
            f"{cfg.batch_size * cfg.accum * run.ctx.world_size} clips"
            + (f", resumed at step {run.step}" if resumed else "")
        )
        self.bar = tqdm(
            disable=not self.show,
            total=run.total_steps,
            initial=run.step,
            desc=self.label,
            unit="step",
            dynamic_ncols=True,
        )

    def on_step(self, run, row):
        self.bar.set_postfix(
            loss=f"{row['loss']:.3f}",
            acc=f"{row['accuracy']:.2f}",
            clips_s=f"{row['clips_per_s']:.0f}",
            refresh=False,
        )
        self.bar.update(1)

    def on_epoch(self, run, row, val):
        if val and self.show:
            tqdm.write(
                f"epoch {row['epoch']}: step {run.step} val top-1 {val['top1']:.3f} "
                f"top-5 {val['top5']:.3f}"
            )

    def on_end(self, run, summary):
        self.bar.close()


class AttentionSnapshots(Callback):
    """Every ``every`` epochs (and at the end), the rollout of fixed validation clips:
    ``attention/epoch_NNN.png`` and ``attention/epochs.gif`` (``viz.attention_epochs``).
    ``every=None``: ``config.attention_every`` (``--attention-every``, else auto)."""

    def __init__(self, every: int | None = None):
        self.every, self.snapshots = every, None

    def on_start(self, run, resumed):
        if model_name(run.model) != "timesformer":  # a 3-D CNN has no attention
            self.every = 0
        elif self.every is None:
            epochs = math.ceil(run.total_steps / run.steps_per_epoch)
            self.every = attention_every(run.cfg, epochs)

    def on_epoch(self, run, row, val):
        last = run.step >= run.total_steps
        if not self.every or run.val_set is None:
            return
        if not (last or (row["epoch"] + 1) % self.every == 0):
            return
        from ..viz.attention_epochs import AttentionSnapshots as Renderer

        if self.snapshots is None:
            self.snapshots = Renderer(run.val_set, run.out)
        score = f"val top-1 {val['top1']:.1%}" if val else "no validation this epoch"
        title = f"{run.model.config.attention}, epoch {row['epoch']} (step {run.step}): {score}"
        self.snapshots.render(run.model, row["epoch"], title)

    def on_end(self, run, summary):
        gif = run.out / "attention" / "epochs.gif"  # the Renderer's file
        summary["attention_gif"] = str(gif) if self.snapshots and gif.exists() else None


class TrainingCurves(Callback):
    """``curves.png``: loss and accuracy per step, validation top-1 per epoch."""

    def on_end(self, run, summary):
        from ..viz.training import plot_training_curves

        plot_training_curves(run.out)


class Report(Callback):
    """Known plateaus of the last validation (``report.diagnose``) into
    ``summary["findings"]``, and ``report.md``."""

    def on_end(self, run, summary):
        pairs = reversed_pairs(run.classes)  # the synthetic motion set's, else None
        label = model_label(run.model)  # the scheme, or the CNN's arch
        summary["findings"] = diagnose(run.last_val, label, run.init, pairs)
        gif = summary.get("attention_gif")
        write_report(run.out, run.cfg, summary, summary["findings"], gif and Path(gif))


def standard_callbacks(cfg) -> list[Callback]:
    """The CLI's callbacks for ``cfg``: the run's first line and progress bar (``progress``),
    attention snapshots (``attention_every``), curves (``plots``) and the report, last,
    after the figures it links to."""
    callbacks: list[Callback] = [ProgressBar(cfg.progress_label, bar=cfg.progress)]
    callbacks.append(AttentionSnapshots(cfg.attention_every))
    if cfg.plots:
        callbacks.append(TrainingCurves())
    callbacks.append(Report())
    return callbacks


__all__ = [
    "Callback",
    "ProgressBar",
    "AttentionSnapshots",
    "TrainingCurves",
    "Report",
    "standard_callbacks",
]
