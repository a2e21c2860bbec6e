"""train/callbacks.py: what the loop calls, when, and what a run writes without them."""

from __future__ import annotations

import json

import pytest

from mini_timesformer.train import train
from mini_timesformer.train.callbacks import Callback, Report, standard_callbacks
from mini_timesformer.train.config import TrainConfig
from tests.helpers import TINY_RUN as TINY
from tests.helpers import losses
from tests.test_train import tiny_model

pytestmark = pytest.mark.usefixtures("one_thread")  # tests/conftest.py


class Recorder(Callback):
    """Remembers every call: (point, step, payload)."""

    def __init__(self):
        self.calls = []

    def on_start(self, run, resumed):
        self.calls.append(("start", run.step, resumed))

    def on_step(self, run, row):
        self.calls.append(("step", run.step, row))

    def on_epoch(self, run, row, val):
        self.calls.append(("epoch", run.step, (row, val)))

    def on_end(self, run, summary):
        summary["recorded"] = len(self.calls)  # a callback may add to metrics.json
        self.calls.append(("end", run.step, summary))


def test_callbacks_see_every_step_and_epoch_in_order(tmp_path):
    recorder = Recorder()
    cfg = dict(TINY, val_every=1, steps=8)  # 32 clips / batch 8 = 4 steps an epoch
    run = train(model=tiny_model(), out=str(tmp_path / "run"), callbacks=[recorder], **cfg)
    points = [c[0] for c in recorder.calls]
    assert points == ["start"] + ["step"] * 4 + ["epoch"] + ["step"] * 4 + ["epoch", "end"]
    step_rows = [c[2] for c in recorder.calls if c[0] == "step"]
    logged = losses(run)  # steps.csv
    assert [r["step"] for r in step_rows] == [step for step, _ in logged] == list(range(1, 9))
    assert [r["loss"] for r in step_rows] == pytest.approx([loss for _, loss in logged])
    epoch_rows = [c[2] for c in recorder.calls if c[0] == "epoch"]
    assert [row["step"] for row, _ in epoch_rows] == [4, 8]
    assert all(val["num_videos"] == 16 for _, val in epoch_rows)  # validated each epoch
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["recorded"] == len(recorder.calls) - 1


def test_a_bare_run_writes_logs_and_checkpoint_only(tmp_path):
    run = train(model=tiny_model(), out=str(tmp_path / "bare"), callbacks=[], steps=4, **TINY)
    written = {p.name for p in run.iterdir()}
    assert {"steps.csv", "epochs.csv", "metrics.json", "checkpoints"} <= written
    assert not written & {"report.md", "curves.png", "attention"}
    # the standard set adds the report (and, with plots, the curves it links to)
    run = train(model=tiny_model(), out=str(tmp_path / "std"), steps=4, **{**TINY, "plots": True})
    assert {"report.md", "curves.png"} <= {p.name for p in run.iterdir()}
    assert "![curves.png](curves.png)" in (run / "report.md").read_text()


def test_standard_callbacks_follow_the_config():
    names = lambda cfg: [type(c).__name__ for c in standard_callbacks(cfg)]  # noqa: E731
    assert names(TrainConfig()) == ["ProgressBar", "AttentionSnapshots", "TrainingCurves", "Report"]
    quiet = TrainConfig(progress=False, plots=False)
    assert names(quiet) == ["ProgressBar", "AttentionSnapshots", "Report"]
    assert not standard_callbacks(quiet)[0].show  # the first line only, no bar
    assert isinstance(standard_callbacks(quiet)[-1], Report)  # last: after the figures
