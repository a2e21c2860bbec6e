"""Attention maps while training (``--attention-every``): files, GIF frames, train mode
restored, training unchanged, resumed runs keep producing them, defaults. Tiny models."""

from __future__ import annotations

import csv
import json

import pytest
import torch
from PIL import Image

import mini_timesformer as mt
from mini_timesformer.data import SyntheticVideos
from mini_timesformer.train import train
from mini_timesformer.train.config import TrainConfig, attention_every
from mini_timesformer.train.inputs import AugmentedClips
from mini_timesformer.viz.attention_epochs import AttentionSnapshots, pick_clips
from tests.helpers import TINY_RUN

pytestmark = pytest.mark.usefixtures("one_thread")  # tests/conftest.py

# 32 clips / batch 8 = 4 steps per epoch; 8 steps = 2 epochs
TINY = {**TINY_RUN, "val_every": 1, "lr": 2e-3, "warmup_steps": 2}


def tiny_model(seed=0):
    torch.manual_seed(seed)
    cfg = mt.TimeSformerConfig(
        num_frames=4,
        image_size=16,
        patch_size=8,
        embed_dim=32,
        depth=2,
        num_heads=2,
        num_classes=8,
        attention="divided",
        drop_path_rate=0.2,
    )  # block 1's drop path draws from the RNG
    return mt.TimeSformer(cfg)


def rows(run, name="steps.csv"):
    with open(run / name, newline="") as f:
        return [
            {k: v for k, v in r.items() if k not in ("seconds", "data_seconds", "clips_per_s")}
            for r in csv.DictReader(f)
        ]


def gif_frames(path) -> list:
    with Image.open(path) as gif:
        frames = []
        for i in range(gif.n_frames):
            gif.seek(i)
            frames.append(gif.convert("RGB").copy())
    return frames


def test_two_epochs_write_two_strips_and_a_two_frame_gif_without_changing_training(tmp_path):
    model = tiny_model()
    run = train(model=model, steps=8, attention_every=1, out=str(tmp_path / "with"), **TINY)
    folder = run / "attention"
    assert sorted(p.name for p in folder.iterdir()) == [
        "epoch_000.png",
        "epoch_001.png",
        "epochs.gif",
    ]
    frames = gif_frames(folder / "epochs.gif")
    strips = [Image.open(folder / f"epoch_00{e}.png").convert("RGB") for e in (0, 1)]
    assert len(frames) == 2
    assert all(f.size == strips[0].size for f in frames + strips)
    assert frames[0].tobytes() != frames[1].tobytes()  # titles and maps differ per epoch
    assert model.training  # back in train mode after the last snapshot
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["attention_gif"] == str(folder / "epochs.gif")
    assert "attention/epochs.gif" in (run / "report.md").read_text()
    # the same run without snapshots: identical losses, metrics and weights
    plain_model = tiny_model()
    plain = train(
        model=plain_model, steps=8, attention_every=0, out=str(tmp_path / "without"), **TINY
    )
    assert not (plain / "attention").exists()
    assert rows(run) == rows(plain)
    assert [r["val_top1"] for r in rows(run, "epochs.csv")] == [
        r["val_top1"] for r in rows(plain, "epochs.csv")
    ]
    for a, b in zip(model.state_dict().values(), plain_model.state_dict().values()):
        torch.testing.assert_close(a, b, rtol=0, atol=0)


def test_render_restores_eval_or_train_mode_and_the_rng(tmp_path):
    val = SyntheticVideos("motion", num_frames=4, image_size=16, size=16, seed=1)
    model = tiny_model()
    snapshots = AttentionSnapshots(
        AugmentedClips(val, model.config.mean, model.config.std), tmp_path
    )
    for training in (True, False):
        model.train(training)
        state = torch.get_rng_state()
        snapshots.render(model, 0, "title")
        assert model.training is training
        assert torch.equal(torch.get_rng_state(), state)


def test_a_resumed_run_keeps_adding_strips_to_the_gif(tmp_path):
    common = dict(steps=8, attention_every=1, checkpoint_every=4, out=str(tmp_path / "run"), **TINY)
    train(model=tiny_model(), stop_after=4, **common)  # killed after epoch 0
    folder = tmp_path / "run" / "attention"
    assert len(gif_frames(folder / "epochs.gif")) == 1
    train(model=tiny_model(seed=5), resume=True, **common)
    assert sorted(p.name for p in folder.glob("*.png")) == ["epoch_000.png", "epoch_001.png"]
    assert len(gif_frames(folder / "epochs.gif")) == 2


def test_fixed_clips_cover_the_reversed_pairs():
    val = SyntheticVideos("motion", num_frames=4, image_size=16, size=64, seed=1)
    picked = pick_clips(val, 4)
    assert [val.label(i) for i in picked] == [0, 2, 4, 6]  # one clip of each pair
    assert pick_clips(val, 4) == picked  # fixed: the same clips every epoch


def test_on_by_default_for_synthetic_runs_off_for_files_and_without_plots():
    assert attention_every(TrainConfig(), epochs=10) == 1
    assert attention_every(TrainConfig(), epochs=40) == 4  # about ten per run
    assert attention_every(TrainConfig(plots=False), epochs=10) == 0
    assert attention_every(TrainConfig(data="kinetics:/data/k400"), epochs=10) == 0
    assert attention_every(TrainConfig(data="kinetics:/k", attention_every=2), epochs=10) == 2
    assert attention_every(TrainConfig(attention_every=0), epochs=10) == 0
    with pytest.raises(ValueError, match="attention_every must be >= 0"):
        TrainConfig(attention_every=-1)
