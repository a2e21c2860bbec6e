"""Figures of training runs: loss/accuracy curves and the confusion matrix.

Each function returns a matplotlib ``Figure`` (the caller saves or shows it), except
``plot_training_curves`` which reads a run directory and writes ``curves.png`` into it.
"""

from __future__ import annotations

import csv
from pathlib import Path

from matplotlib.figure import Figure  # no pyplot: works headless and in notebooks alike


def read_csv(path) -> list[dict]:
    """Rows of a metrics CSV with numbers converted (empty cells -> None)."""
    rows = []
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            rows.append({k: (float(v) if v not in ("", None) else None) for k, v in row.items()})
    return rows


def smooth(values: list[float], weight: float = 0.8) -> list[float]:
    """Exponential moving average (what TensorBoard calls smoothing)."""
    out, last = [], None
    for v in values:
        last = v if last is None else weight * last + (1 - weight) * v
        out.append(last)
    return out


def curves_figure(runs: dict[str, list[dict]], title: str = ""):
    """Training loss (smoothed) and training accuracy per step for one or more runs.

    ``runs``: label -> rows of a ``steps.csv``.
    """
    fig = Figure(figsize=(10, 3.6))
    ax_loss, ax_acc = fig.subplots(1, 2)
    for label, rows in runs.items():
        steps = [r["step"] for r in rows]
        ax_loss.plot(steps, smooth([r["loss"] for r in rows]), label=label)
        ax_acc.plot(steps, smooth([r["accuracy"] for r in rows]), label=label)
    ax_loss.set(xlabel="optimiser step", ylabel="training loss (smoothed)")
    ax_acc.set(xlabel="optimiser step", ylabel="training accuracy (smoothed)", ylim=(0, 1.02))
    for ax in (ax_loss, ax_acc):
        ax.grid(alpha=0.3)
    ax_acc.legend(fontsize=8)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_training_curves(run_dir) -> Path:
    """Write ``curves.png`` (loss, accuracy; validation top-1 per epoch) for a run."""
    run_dir = Path(run_dir)
    steps = read_csv(run_dir / "steps.csv")
    fig = curves_figure({"train": steps}, title=run_dir.name)
    epochs_path = run_dir / "epochs.csv"
    if epochs_path.exists():
        val = [r for r in read_csv(epochs_path) if r.get("val_top1") is not None]
        if val:
            fig.axes[1].plot(
                [r["step"] for r in val],
                [r["val_top1"] for r in val],
                "o-",
                label="validation top-1",
            )
            fig.axes[1].legend(fontsize=8)
    path = run_dir / "curves.png"
    fig.savefig(path, dpi=120, bbox_inches="tight")
    return path


def plot_confusion(confusion, classes: list[str], title: str = ""):
    """Row-normalised confusion matrix (rows: true class, columns: predicted)."""
    import numpy as np

    conf = np.asarray(confusion, dtype=float)
    rows = conf.sum(1, keepdims=True)
    norm = np.divide(conf, rows, out=np.zeros_like(conf), where=rows > 0)
    size = max(4.0, 0.45 * len(classes) + 2)
    fig = Figure(figsize=(size, size))
    ax = fig.subplots()
    ax.imshow(norm, cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(len(classes)), classes, rotation=60, ha="right", fontsize=8)
    ax.set_yticks(range(len(classes)), classes, fontsize=8)
    ax.set(xlabel="predicted", ylabel="true", title=title)
    if len(classes) <= 20:
        for i in range(len(classes)):
            for j in range(len(classes)):
                if conf[i, j]:
                    ax.text(
                        j,
                        i,
                        int(conf[i, j]),
                        ha="center",
                        va="center",
                        fontsize=7,
                        color="white" if norm[i, j] > 0.5 else "black",
                    )
    fig.tight_layout()
    return fig
