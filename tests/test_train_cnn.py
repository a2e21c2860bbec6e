"""``train --model r2plus1d|i3d``: the 3-D CNN goes through the one loop, checkpoint, report
and ``eval``; its runs reload with the same logits and resume exactly; TimeSformer-only
options are one-line errors. Tiny CNNs, a few steps on tiny synthetic clips (CPU, seconds)."""

from __future__ import annotations

import json

import pytest
import torch

from mini_timesformer.cli import main
from mini_timesformer.cnn import VideoCNNConfig, VideoResNet
from mini_timesformer.data import SyntheticVideos, to_float_clip
from mini_timesformer.errors import UserError
from mini_timesformer.train import TrainConfig, train
from mini_timesformer.train import checkpoint as ckpt
from mini_timesformer.train.models import load_model
from tests.helpers import TINY_RUN, losses

pytestmark = pytest.mark.usefixtures("one_thread")  # tests/conftest.py

TINY = {**TINY_RUN, "train_size": 16, "lr": 2e-3, "warmup_steps": 1}


def val_clips(n=4):
    clips = SyntheticVideos("motion", num_frames=4, image_size=16, size=n, seed=7)
    cfg = VideoCNNConfig()  # the default mean/std, as every run here
    return torch.stack([to_float_clip(clips[i][0], cfg.mean, cfg.std) for i in range(n)])


@pytest.mark.parametrize("arch", ["r2plus1d", "i3d"])
def test_a_trained_cnn_run_reloads_with_identical_logits(tmp_path, arch):
    run = train(model=arch, steps=3, out=str(tmp_path / arch), **TINY)
    state = ckpt.load_checkpoint(run / "checkpoints" / "last.pt")
    reference = VideoResNet(VideoCNNConfig.from_dict(state["model_config"]))
    reference.load_state_dict(state["model"])  # the checkpoint's tensors, by hand
    untrained = VideoResNet(VideoCNNConfig.from_dict(state["model_config"]))
    video = val_clips()
    with torch.no_grad():
        expected = reference.eval()(video)
        assert not torch.allclose(untrained.eval()(video), expected)  # it did train
        for path in (run, run / "checkpoints" / "last.pt"):
            for loaded in (load_model(path), VideoResNet.from_pretrained(path)):
                assert type(loaded) is VideoResNet and loaded.config.arch == arch
                torch.testing.assert_close(loaded(video), expected, rtol=0, atol=0)
    assert state["model_type"] == VideoResNet.model_type
    assert state["train_config"]["model"] == arch
    assert state["classes"] == list(SyntheticVideos("motion", size=1).classes)


def test_resume_continues_the_same_cnn_run(tmp_path):
    common = dict(model="r2plus1d", steps=6, checkpoint_every=1, **TINY)
    full = train(out=str(tmp_path / "full"), **common)
    part = train(out=str(tmp_path / "part"), stop_after=2, **common)
    assert [s for s, _ in losses(part)] == [1, 2]
    resumed = train(out=str(tmp_path / "part"), resume=True, **common)
    assert losses(resumed) == losses(full)  # exact, steps 1..6 (BatchNorm statistics too)
    a = ckpt.load_checkpoint(full)["model"]
    b = ckpt.load_checkpoint(resumed)["model"]
    assert any("running_mean" in key for key in a)
    for key in a:
        torch.testing.assert_close(a[key], b[key], rtol=0, atol=0)


def test_resuming_a_run_of_another_model_is_a_user_error(tmp_path):
    train(model="i3d", steps=1, out=str(tmp_path / "run"), **TINY)
    with pytest.raises(UserError, match="holds a i3d run, this run trains r2plus1d"):
        train(model="r2plus1d", steps=2, out=str(tmp_path / "run"), resume=True, **TINY)


def test_report_and_metrics_name_the_cnn(tmp_path):
    run = train(model="i3d", steps=2, out=str(tmp_path / "run"), **TINY)
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["model"] == "i3d" and metrics["attention"] is None
    assert metrics["init"] == "he"
    assert metrics["params"] == sum(p.numel() for p in load_model(run).parameters())
    report = (run / "report.md").read_text()
    assert f"3-D CNN `i3d`, {metrics['params']:,} parameters, init `he`" in report
    assert "attention `" not in report
    assert not (run / "attention").exists()  # no attention snapshots for a CNN
    assert json.loads((run / "train_config.json").read_text())["model"] == "i3d"


def test_a_cnn_passed_to_train_is_recorded_as_that_cnn(tmp_path):
    model = VideoResNet(VideoCNNConfig.preset("nano", num_frames=4, num_classes=8))
    run = train(model=model, out=str(tmp_path / "run"), steps=1, checkpoint_every=1, **TINY)
    assert json.loads((run / "metrics.json").read_text())["model"] == "r2plus1d"
    assert json.loads((run / "train_config.json").read_text())["model"] == "r2plus1d"
    resumed = train(model=model, out=str(tmp_path / "run"), steps=2, resume=True, **TINY)
    assert [s for s, _ in losses(resumed)] == [1, 2]  # the record lets it resume


def test_cli_trains_and_evaluates_a_cnn(tmp_path, capsys):
    out = tmp_path / "run"
    argv = ["train", "--model", "r2plus1d", "--steps", "2", "--frames", "4", "--size", "16"]
    argv += ["--train-size", "16", "--val-size", "16", "--batch-size", "8", "--no-progress"]
    assert main([*argv, "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "training r2plus1d (" in printed and "(init he)" in printed
    train_top1 = json.loads((out / "metrics.json").read_text())["val"]["top1"]
    eval_argv = ["eval", "--checkpoint", str(out), "--views", "1x1", "--val-size", "16"]
    assert main(eval_argv) == 0
    metrics = json.loads((out / "eval" / "metrics.json").read_text())
    assert metrics["top1"] == pytest.approx(train_top1)  # same clips, same model
    assert "top-1" in capsys.readouterr().out


def test_fine_tuning_from_a_cnn_run_and_refusing_a_timesformer_one(tmp_path):
    cnn_run = train(model="r2plus1d", steps=1, out=str(tmp_path / "cnn"), **TINY)
    tuned = train(model="r2plus1d", init=str(cnn_run), steps=1, out=str(tmp_path / "ft"), **TINY)
    assert json.loads((tuned / "metrics.json").read_text())["init"] == str(cnn_run)
    with pytest.raises(UserError, match="does not hold a i3d model"):
        train(model="i3d", init=str(cnn_run), steps=1, out=str(tmp_path / "x"), **TINY)
    tsf_run = train(steps=1, out=str(tmp_path / "tsf"), **TINY)
    with pytest.raises(UserError):
        train(model="r2plus1d", init=str(tsf_run), steps=1, out=str(tmp_path / "y"), **TINY)


@pytest.mark.parametrize(
    "options, expected",
    [
        (dict(init="vit:weights.npz"), "--init vit:weights.npz is a TimeSformer initialisation"),
        (dict(init="small"), "--init small is a TimeSformer initialisation"),
        (dict(attention="space"), "has no attention scheme; drop --attention space"),
        (dict(attention_every=2), "has no attention to snapshot; drop --attention-every"),
        (dict(drop_path_rate=0.1), "has no drop path"),
        (dict(preset="base"), "has the presets nano, tiny, got --preset base"),
    ],
)
def test_timesformer_options_with_a_cnn_are_one_line_errors(options, expected):
    with pytest.raises(UserError, match=expected.replace("(", r"\(")) as err:
        TrainConfig(model="r2plus1d", **options)
    assert "\n" not in str(err.value)


@pytest.mark.parametrize(
    "argv, expected",
    [
        (["--model", "i3d", "--init", "vit:x.npz"], "is a TimeSformer initialisation"),
        (["--model", "i3d", "--attention-every", "1"], "has no attention to snapshot"),
        (["--model", "c3d"], "invalid choice: 'c3d'"),
    ],
)
def test_cli_cnn_errors_are_one_line(argv, expected, capsys):
    try:
        code = main(["train", *argv])
    except SystemExit as exit_:
        code = exit_.code
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1, err
    assert err.startswith("mini-timesformer train: error:") and expected in err, err
