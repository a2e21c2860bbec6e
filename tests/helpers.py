"""Small shared helpers for the tests (no fixtures with side effects)."""

import csv

import mini_timesformer as mt
from mini_timesformer.random_weights import randomize  # the one randomiser (a leaf)


def nano(attention="divided", **overrides):
    """A nano config (8×32×32, patch 8, width 64) with a few classes."""
    return mt.TimeSformerConfig.preset(
        "nano", attention=attention, **{"num_classes": 5, **overrides}
    )


# options of a tiny training run on synthetic clips (CPU, seconds): train(**TINY_RUN, ...)
TINY_RUN = dict(
    num_frames=4,
    image_size=16,
    train_size=32,
    val_size=16,
    batch_size=8,
    progress=False,
    plots=False,
    val_every=0,
)


def losses(run_dir, column="loss"):
    """``[(step, value)]`` of one column of a run's steps.csv."""
    with open(run_dir / "steps.csv", newline="") as f:
        return [(int(r["step"]), float(r[column])) for r in csv.DictReader(f)]


__all__ = ["nano", "randomize", "TINY_RUN", "losses"]
