"""File datasets: Kinetics CSV / PySlowFast lists, VideoFolder, skipping, cache, subsets, CLI."""

import csv
import shutil

import pytest
import torch

from mini_timesformer import cli
from mini_timesformer.data import (
    KineticsDataset,
    SyntheticVideos,
    VideoFolder,
    probe_video,
    read_annotations,
    read_video,
    write_video,
)
from mini_timesformer.data.bench import FixedClips, RawDecode
from mini_timesformer.data.cache import FrameCache, build_cache
from mini_timesformer.data.prepare import build_kinetics_subset, write_synthetic_dataset

T = 6


@pytest.fixture(scope="module")
def data_synthetic_root(tmp_path_factory):
    """Synthetic motion clips as mp4s in the Kinetics layout (2 train + 1 val per class)."""
    root = tmp_path_factory.mktemp("syn")
    write_synthetic_dataset(
        root, "motion", 2, val_per_class=1, num_frames=T, image_size=32, fps=6, progress=False
    )
    return root


def test_synthetic_mp4s_decode_to_the_generated_clips(data_synthetic_root):
    ds = KineticsDataset(data_synthetic_root, "val", sampling="segment", num_frames=T)
    assert ds.classes == list(SyntheticVideos("motion").classes) and len(ds) == 8
    assert not ds.train
    source = SyntheticVideos("motion", num_frames=T, image_size=32, size=8, seed=1)
    for i in range(len(ds)):
        clip, label = ds[i]
        expected, expected_label = source[i]
        assert label == expected_label and clip.shape == (T, 3, 32, 32)
        assert (clip.float() - expected.float()).abs().mean() < 6  # H.264 at crf 10


def test_dense_sampling_at_the_videos_own_rate(data_synthetic_root):
    ds = KineticsDataset(
        data_synthetic_root, "train", num_frames=3, stride=2, target_fps=None, seed=0
    )
    full, _ = read_video(ds.samples[0][0])
    clip, _ = ds[0]
    starts = [i for i in range(T - 4) if torch.equal(full[i : i + 5 : 2], clip)]
    assert starts, "a training clip is 3 frames 2 apart of its video"
    again, _ = ds[0]
    assert torch.equal(clip, again)  # seeded: same epoch, same window


def _write_csv(path, rows, header=("label", "youtube_id", "time_start", "time_end", "split")):
    with open(path, "w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(header)
        writer.writerows(rows)


def test_csv_with_missing_and_corrupt_entries(tmp_path):
    _write_csv(
        tmp_path / "train.csv",
        [
            ("abseiling", "aaaaaaaaaaa", 10, 20, "train"),
            ("", "bbbbbbbbbbb", 0, 10, "train"),  # missing label
            ("air drumming", "ccccccccccc", "x", 10, "train"),  # corrupt time
            ("air drumming", "ddddddddddd", 3, 13, "train"),
            ("abseiling", "eeeeeeeeeee"),  # too short
        ],
    )
    rows, problems = read_annotations(tmp_path / "train.csv")
    assert [r.youtube_id for r in rows] == ["aaaaaaaaaaa", "ddddddddddd"]
    assert rows[0].clip_name == "aaaaaaaaaaa_000010_000020.mp4"
    assert len(problems) == 3
    assert all(str(tmp_path / "train.csv") in p for p in problems)
    assert any(":3:" in p and "label" in p for p in problems)
    assert any(":4:" in p and "not numbers" in p for p in problems)


def test_pyslowfast_list_and_errors(tmp_path):
    (tmp_path / "train.csv").write_text("a/x.mp4 0\nb/y.mp4 2\nbroken line here\nc/z.mp4 -1\n")
    rows, problems = read_annotations(tmp_path / "train.csv")
    assert [(r.path, r.label) for r in rows] == [("a/x.mp4", "0"), ("b/y.mp4", "2")]
    assert len(problems) == 2
    _write_csv(
        tmp_path / "test.csv",
        [("yt", 0, 10, "test")],
        header=("youtube_id", "time_start", "time_end", "split"),
    )
    with pytest.raises(ValueError, match="label"):
        read_annotations(tmp_path / "test.csv")
    with pytest.raises(FileNotFoundError, match="annotation"):
        KineticsDataset(tmp_path, "val")


def test_unreadable_clips_are_reported_once_skipped_and_counted(
    data_synthetic_root, tmp_path, caplog
):
    root = tmp_path / "k"
    shutil.copytree(data_synthetic_root, root)
    csv_rows, _ = read_annotations(root / "annotations" / "val.csv")
    victims = [root / "val" / r.label / r.clip_name for r in csv_rows[:3]]
    victims[0].write_bytes(victims[0].read_bytes()[:200])  # truncated
    victims[1].write_text("not a video")  # not a video
    victims[2].unlink()  # missing
    ds = KineticsDataset(root, "val", sampling="segment", num_frames=T)
    assert len(ds) == 7 and len(ds.skipped) == 1  # missing: found at construction
    labels = [ds[i][1] for i in range(len(ds))] + [ds[i][1] for i in range(len(ds))]
    by_path = {str(p): label for p, label in ds.samples}
    assert {p for p, _ in ds.skipped} == {str(v) for v in victims}
    good = [label for p, label in ds.samples if str(p) not in {str(v) for v in victims}]
    assert set(labels) == set(good)  # only real labels of readable clips
    err = caplog.text  # logged as warnings (stderr when logging is not set up)
    for victim in victims:
        assert err.count(str(victim)) == 1  # reported once, with its path
    assert "skipping 1 missing video(s) of 8" in err
    assert "skipped 3" in ds.skip_summary()
    assert by_path  # (paths kept for the report)


def test_skips_in_worker_processes_reach_the_main_process(data_synthetic_root, tmp_path):
    root = tmp_path / "k"
    shutil.copytree(data_synthetic_root, root)
    rows, _ = read_annotations(root / "annotations" / "val.csv")
    (root / "val" / rows[0].label / rows[0].clip_name).write_text("junk")
    ds = KineticsDataset(root, "val", sampling="segment", num_frames=T)
    loader = torch.utils.data.DataLoader(ds, batch_size=4, num_workers=1)
    batches = list(loader)
    assert sum(len(b[1]) for b in batches) == len(ds)
    assert len(ds.skipped) == 1 and rows[0].clip_name in ds.skipped[0][0]


def test_video_folder_layout(data_synthetic_root, tmp_path):
    folder = tmp_path / "mine"
    for path in (data_synthetic_root / "train").rglob("*.mp4"):
        target = folder / path.parent.name / path.name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, target)
    (folder / "move_up" / "notes.txt").write_text("ignored")
    ds = VideoFolder(folder, num_frames=4, stride=1, target_fps=None, train=False)
    assert ds.classes == sorted(SyntheticVideos("motion").classes)
    assert len(ds) == 16
    clip, label = ds[5]
    assert clip.shape == (4, 3, 32, 32)
    assert ds.samples[5][0].parent.name == ds.classes[label]
    with pytest.raises(NotADirectoryError, match="one sub-folder per class"):
        VideoFolder(tmp_path / "nothing")


def test_frame_cache_gives_the_decoded_frames(data_synthetic_root, tmp_path):
    ds = KineticsDataset(data_synthetic_root, "val", sampling="segment", num_frames=T, cache=None)
    paths = [p for p, _ in ds.samples]
    report = build_cache(paths[:3], tmp_path / "cache")
    assert report["written"] == 3
    report = build_cache(paths + [tmp_path / "missing.mp4"], tmp_path / "cache")  # resume
    assert (report["kept"], report["written"], len(report["failed"])) == (3, 5, 1)
    cached = KineticsDataset(
        data_synthetic_root, "val", sampling="segment", num_frames=T, cache=tmp_path / "cache"
    )
    assert isinstance(cached.cache, FrameCache)
    for i in range(len(ds)):
        torch.testing.assert_close(cached[i][0], ds[i][0], rtol=0, atol=0)


def _fake_kinetics(root, classes, per_class, broken=()):
    """A CVDF-style root (flat split folders, annotation CSVs) made of synthetic mp4s."""
    gen = SyntheticVideos("appearance", num_frames=12, image_size=48, size=64)
    for split in ("train", "val"):
        rows = []
        for c, name in enumerate(classes):
            for k in range(per_class):
                yt = f"{split[:2]}{c:02d}{k:07d}"
                rows.append((name, yt, 30 + k, 40 + k, split))
                path = root / split / f"{yt}_{30 + k:06d}_{40 + k:06d}.mp4"
                if (split, c, k) in broken:
                    path.parent.mkdir(parents=True, exist_ok=True)
                    path.write_text("corrupt")
                elif (split, c, -k) not in broken:  # (split, c, -k): left missing
                    write_video(path, gen[c * 8 + k][0], fps=12)
        (root / "annotations").mkdir(parents=True, exist_ok=True)
        _write_csv(root / "annotations" / f"{split}.csv", rows)


def test_kinetics_subset_build_resume_and_report(tmp_path, capsys):
    source, out = tmp_path / "k400", tmp_path / "subset"
    classes = ["air drumming", "bowling", "zumba"]
    _fake_kinetics(source, classes, 3, broken={("train", 0, 1), ("train", 2, -2)})
    report = build_kinetics_subset(
        source,
        out,
        ["zumba", "air drumming"],
        3,
        val_per_class=1,
        short_side=24,
        fps=6,
        progress=False,
    )
    train = report["train"]
    assert train["written"] == 4 and train["kept"] == 0
    assert sorted(why.split(":")[0] for _, why in train["skipped"]) == [
        "InvalidDataError",
        "file not found",
    ]
    assert train["short"] == {"air drumming": 2, "zumba": 2}
    assert report["val"]["written"] == 2
    assert (out / "classes.txt").read_text().split("\n")[:2] == ["air drumming", "zumba"]
    clip_file = next((out / "train" / "air_drumming").glob("*.mp4"))
    info = probe_video(clip_file)
    assert (info.height, info.width, info.fps) == (24, 24, 6.0)
    ds = KineticsDataset(out, "train", num_frames=4, stride=2, target_fps=None)
    assert ds.classes == ["air drumming", "zumba"] and len(ds) == 4
    assert sorted(label for _, label in ds.samples) == [0, 0, 1, 1]
    assert ds[0][0].shape == (4, 3, 24, 24)
    again = build_kinetics_subset(
        source,
        out,
        ["zumba", "air drumming"],
        3,
        val_per_class=1,
        short_side=24,
        fps=6,
        progress=False,
    )
    assert again["train"]["written"] == 0 and again["train"]["kept"] == 4  # resumed
    # the CLI: preset/classes errors and a run that prints the report
    assert (
        cli.main(
            [
                "kinetics-subset",
                "--source",
                str(source),
                "--out",
                str(out),
                "--classes",
                "2",
                "--per-class",
                "1",
                "--splits",
                "val",
            ]
        )
        == 0
    )
    assert "val: " in capsys.readouterr().out
    assert (
        cli.main(
            [
                "kinetics-subset",
                "--source",
                str(source),
                "--out",
                str(out),
                "--class-preset",
                "nope",
                "--per-class",
                "1",
            ]
        )
        == 2
    )
    assert "unknown class preset 'nope'" in capsys.readouterr().err


def test_class_presets_name_kinetics400_classes():
    from mini_timesformer.data.prepare import class_preset
    from mini_timesformer.pretrained import load_label_names

    known = set(load_label_names("kinetics400"))
    for name in ("kinetics400_motion10", "kinetics400_appearance10"):
        names = class_preset(name)
        assert len(names) == 10 and len(set(names)) == 10
        assert set(names) <= known, set(names) - known


def test_synthetic_cli_writes_a_kinetics_layout(tmp_path, capsys):
    out = tmp_path / "syn"
    assert (
        cli.main(
            [
                "synthetic",
                "--kind",
                "appearance",
                "--out",
                str(out),
                "--per-class",
                "1",
                "--val-per-class",
                "1",
                "--frames",
                "4",
                "--size",
                "32",
            ]
        )
        == 0
    )
    assert "wrote 8 train + 8 val appearance clips" in capsys.readouterr().out
    assert len(list((out / "train").rglob("*.mp4"))) == 8
    ds = KineticsDataset(out, "train", sampling="segment", num_frames=4)
    assert ds.classes == SyntheticVideos("appearance").classes


def test_bench_pipelines_decode_the_same_frames(data_synthetic_root):
    paths = sorted((data_synthetic_root / "train").rglob("*.mp4"))[:3]
    items = [(p, [0, 2, 4]) for p in paths]
    raw = RawDecode(items)
    loader = FixedClips(items, 32, (0.0,) * 3, (1.0,) * 3)
    loader.transform = None  # compare the pixels before augmentation
    for i in range(len(items)):
        frames = torch.stack([torch.from_numpy(a).permute(2, 0, 1) for a in raw[i]])
        torch.testing.assert_close(loader[i][0], frames, rtol=0, atol=0)
