"""Evaluation: metrics on handcrafted predictions, against a loop reference, multi-view
averaging through ``evaluate``, summing across processes, and the ``eval`` command."""

from __future__ import annotations

import json
import math

import pytest
import torch

import mini_timesformer as mt
from mini_timesformer.cli import main
from mini_timesformer.data import SyntheticVideos
from mini_timesformer.train.evaluate import MetricCounts, MultiViewClips, compute_metrics, evaluate

pytestmark = pytest.mark.usefixtures("one_thread")  # tests/conftest.py


def test_handcrafted_views_video_vs_clip_level():
    # 3 classes, 2 videos × 2 views. Video 0 (class 0): view 0 right, view 1 wrong but the
    # average is right. Video 1 (class 2): both views say class 1.
    probs = torch.tensor([[[0.9, 0.1, 0.0], [0.3, 0.6, 0.1]], [[0.2, 0.5, 0.3], [0.1, 0.8, 0.1]]])
    labels = torch.tensor([0, 2])
    m = compute_metrics(probs, labels, ["a", "b", "c"])
    assert m["clip_top1"] == 0.25  # 1 of 4 views
    assert m["top1"] == 0.5  # video 0 right after averaging, video 1 wrong
    assert m["top5"] == 1.0 and m["clip_top5"] == 1.0  # 3 classes: top-5 = everything
    assert m["per_class"] == {"a": 1.0, "b": None, "c": 0.0}  # b has no video
    assert m["confusion"] == [[1, 0, 0], [0, 0, 0], [0, 1, 0]]
    assert m["loss"] == pytest.approx(-(math.log(0.6) + math.log(0.2)) / 2)
    assert m["num_videos"] == 2 and m["views_per_video"] == 2


def reference(probs, labels, k=5):
    """Straightforward loops over videos and views."""
    clip1 = clipk = vid1 = vidk = 0
    for video, label in zip(probs, labels):
        for view in video:
            order = sorted(range(len(view)), key=lambda c: -view[c])
            clip1 += order[0] == label
            clipk += label in order[:k]
        mean = [sum(v[c] for v in video) / len(video) for c in range(len(video[0]))]
        order = sorted(range(len(mean)), key=lambda c: -mean[c])
        vid1 += order[0] == label
        vidk += label in order[:k]
    n = len(labels)
    return clip1 / (n * len(probs[0])), clipk / (n * len(probs[0])), vid1 / n, vidk / n


def test_metrics_match_a_loop_reference_on_random_predictions():
    g = torch.Generator().manual_seed(0)
    probs = torch.rand(40, 3, 10, generator=g).softmax(-1)
    labels = torch.randint(10, (40,), generator=g)
    m = compute_metrics(probs, labels)
    expected = reference(probs.tolist(), labels.tolist())
    assert (m["clip_top1"], m["clip_top5"], m["top1"], m["top5"]) == pytest.approx(expected)
    conf = torch.tensor(m["confusion"])
    assert (
        conf.sum() == 40 and conf.sum(1).tolist() == torch.bincount(labels, minlength=10).tolist()
    )
    for c, acc in enumerate(m["per_class"].values()):
        if conf[c].sum():
            assert acc == pytest.approx(conf[c, c].item() / conf[c].sum().item())


def test_counts_of_shards_sum_to_the_whole():
    """What the all-reduce under torchrun relies on: counts are additive over shards."""
    g = torch.Generator().manual_seed(1)
    probs, labels = torch.rand(10, 2, 6, generator=g).softmax(-1), torch.randint(6, (10,))
    whole = compute_metrics(probs, labels)
    a, b = MetricCounts(6), MetricCounts(6)
    a.add(probs[:3], labels[:3])
    b.add(probs[3:], labels[3:])
    a.confusion += b.confusion
    a.sums += b.sums
    assert a.metrics()["confusion"] == whole["confusion"]
    for key in ("top1", "top5", "clip_top1", "clip_top5", "loss"):
        assert a.metrics()[key] == pytest.approx(whole[key])


class Fixed(torch.nn.Module):
    """A 'model' whose logits are a fixed function of the clip (its mean per class slot)."""

    def __init__(self, num_classes=4):
        super().__init__()
        self.config = mt.TimeSformerConfig(
            num_frames=2,
            image_size=16,
            patch_size=8,
            embed_dim=8,
            depth=1,
            num_heads=1,
            num_classes=num_classes,
        )
        self.w = torch.nn.Parameter(torch.randn(3 * 16 * 16, num_classes))

    def forward(self, video):  # (B, T, 3, H, W)
        return video.mean(1).flatten(1) @ self.w


class Views(torch.utils.data.Dataset):
    def __init__(self, n=7, views=3):
        g = torch.Generator().manual_seed(2)
        self.x = torch.randn(n, views, 2, 3, 16, 16, generator=g)
        self.y = torch.randint(4, (n,), generator=g)
        self.classes = list("abcd")

    def __len__(self):
        return len(self.y)

    def __getitem__(self, i):
        return self.x[i], int(self.y[i])


def test_evaluate_averages_softmax_over_views():
    torch.manual_seed(0)
    model, data = Fixed(), Views()
    got = evaluate(model, data, batch_size=3)
    with torch.no_grad():
        probs = torch.stack([model(v).softmax(-1) for v in data.x])  # (videos, views, C)
    want = compute_metrics(probs, data.y, data.classes)
    assert got["confusion"] == want["confusion"]
    for key in ("top1", "top5", "clip_top1", "clip_top5", "loss"):
        assert got[key] == pytest.approx(want[key])
    single = evaluate(model, torch.utils.data.TensorDataset(data.x[:, 0], data.y))
    assert single["views_per_video"] == 1


def test_multi_view_clips_of_a_synthetic_dataset():
    base = SyntheticVideos("appearance", num_frames=2, image_size=16, size=3)
    views = MultiViewClips(base, 16, (0.5,) * 3, (0.5,) * 3, num_crops=3)
    x, label = views[1]
    assert x.shape == (3, 2, 3, 16, 16) and x.dtype == torch.float32
    assert label == base[1][1]
    with pytest.raises(ValueError, match="CLIPSxCROPS"):
        MultiViewClips(base, 16, (0.5,) * 3, (0.5,) * 3, num_crops=2)


def test_eval_command_writes_json_and_confusion_png(tmp_path, capsys):
    run = tmp_path / "run"
    code = main(
        [
            "train",
            "--frames",
            "4",
            "--size",
            "16",
            "--steps",
            "2",
            "--batch-size",
            "4",
            "--train-size",
            "8",
            "--val-size",
            "8",
            "--threads",
            "1",
            "--no-progress",
            "--out",
            str(run),
        ]
    )
    assert code == 0
    out = tmp_path / "eval"
    code = main(
        [
            "eval",
            "--checkpoint",
            str(run),
            "--data",
            "synthetic-motion",
            "--views",
            "1x1",
            "--val-size",
            "8",
            "--out",
            str(out),
        ]
    )
    assert code == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["num_videos"] == 8 and len(metrics["per_class"]) == 8
    assert (out / "confusion.png").stat().st_size > 0
    assert "video-level top-1" in capsys.readouterr().out
    code = main(
        [
            "eval",
            "--checkpoint",
            str(run / "checkpoints" / "last.pt"),
            "--data",
            "kinetics:" + str(tmp_path / "missing"),
        ]
    )
    assert code == 2
    assert "is not a directory" in capsys.readouterr().err


def test_train_and_multi_view_eval_on_a_video_folder(tmp_path):
    """folder:DIR with train/ and val/: scale-jitter crops for training, 1 clip × 3 crops
    (left, centre, right of the wider-than-tall frames) for evaluation."""
    from mini_timesformer.data import write_video

    g = torch.Generator().manual_seed(0)
    for split in ("train", "val"):
        for name in ("a", "b"):
            for i in range(2):
                clip = torch.randint(0, 256, (12, 3, 24, 32), generator=g, dtype=torch.uint8)
                write_video(tmp_path / "videos" / split / name / f"{i}.mp4", clip)
    run = tmp_path / "run"
    code = main(
        [
            "train",
            "--data",
            f"folder:{tmp_path / 'videos'}",
            "--frames",
            "4",
            "--size",
            "16",
            "--stride",
            "2",
            "--steps",
            "1",
            "--batch-size",
            "2",
            "--threads",
            "1",
            "--no-progress",
            "--out",
            str(run),
        ]
    )
    assert code == 0
    code = main(
        [
            "eval",
            "--checkpoint",
            str(run),
            "--data",
            f"folder:{tmp_path / 'videos'}",
            "--views",
            "2x3",
            "--stride",
            "2",
            "--out",
            str(tmp_path / "eval"),
        ]
    )
    assert code == 0
    metrics = json.loads((tmp_path / "eval" / "metrics.json").read_text())
    assert metrics["num_videos"] == 4 and metrics["views_per_video"] == 6
    assert metrics["classes"] == ["a", "b"]
