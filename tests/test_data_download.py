"""kinetics-download against a fake CVDF mirror on 127.0.0.1 (never the network)."""

import json

import pytest

from mini_timesformer import cli
from mini_timesformer.data import KineticsDataset, probe_video
from mini_timesformer.data.download import DownloadOptions, download_kinetics
from mini_timesformer.data.stream import Client, part_urls
from tests.kinetics_mirror import MirrorServer, build_mirror, readable_members

FAST = {"short_side": 16, "fps": 4, "backoff": 0.01, "progress": False}


def fast(**options) -> DownloadOptions:
    """Tiny clips, short waits, no bars."""
    return DownloadOptions(**{**FAST, **options})


TWO = ["air drumming", "bowling"]


@pytest.fixture(scope="module")
def mirror(tmp_path_factory):
    root = tmp_path_factory.mktemp("mirror")
    return root, build_mirror(root)


@pytest.fixture
def server(mirror):
    with MirrorServer(mirror[0]) as running:
        yield running


def _clips(out):
    """{clip path relative to out: mtime_ns} of the clips in a root."""
    return {str(p.relative_to(out)): p.stat().st_mtime_ns for p in out.rglob("*.mp4")}


def _part_of(contents, split, clip):
    return next(name for name, clips in contents[split].items() if clip in clips)


def _no_leftovers(out):
    assert not list(out.rglob("*.part*")), "half-written files left behind"
    assert not (out / ".download" / "tmp").exists()


def test_download_writes_a_trainable_root_and_stops_early(tmp_path, server, mirror, capsys):
    out = tmp_path / "k"
    report = download_kinetics(out, TWO, 2, fast(val_per_class=1, mirror=server.base))
    assert report["clips"] == {
        "train": {"air drumming": 2, "bowling": 2},
        "val": {"air drumming": 1, "bowling": 1},
    }
    assert report["short"] == {"train": {}, "val": {}}
    # 2 clips a class in every part: part_0 holds the quota, later parts are never asked for
    assert report["parts_read"]["train"] == ["part_0.tar.gz"]
    assert [server.gets(f"/train/part_{i}.tar.gz") for i in range(4)] == [1, 0, 0, 0]
    assert server.gets("/annotations/train.csv") == 1
    # every kept clip comes from part_0, under train/<label>/, trimmed and downscaled
    clips = _clips(out)
    assert len(clips) == 6
    train = [p for p in clips if p.startswith("train/")]
    assert {_part_of(mirror[1], "train", p.rsplit("/", 1)[1]) for p in train} == {"part_0.tar.gz"}
    info = probe_video(out / train[0])
    assert (info.height, info.width, info.fps) == (16, 16, 4.0)
    ds = KineticsDataset(out, "train", num_frames=2, stride=1, target_fps=None)
    assert ds.classes == TWO and sorted(label for _, label in ds.samples) == [0, 0, 1, 1]
    assert ds[0][0].shape == (2, 3, 16, 16)
    assert len(KineticsDataset(out, "val", num_frames=2, stride=1, target_fps=None)) == 2
    assert json.loads((out / "download_report.json").read_text())["clips"] == report["clips"]
    assert report["bytes_downloaded"] > 0
    _no_leftovers(out)


def test_interrupted_download_resumes_without_refetching(tmp_path, server):
    out, seen = tmp_path / "k", []

    def stop_after_five(split, clip, counts):
        seen.append(clip)
        if len(seen) == 5:  # the first clip of part_1 (part_0 gives 4)
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        download_kinetics(
            out, TWO, 4, fast(val_per_class=1, mirror=server.base), on_clip=stop_after_five
        )
    before = _clips(out)
    assert len(before) == 5
    _no_leftovers(out)
    # the root is consistent at once: the annotations list exactly the clips on disk
    assert len(KineticsDataset(out, "train", num_frames=2, stride=1, target_fps=None)) == 5
    report = download_kinetics(out, TWO, 4, fast(val_per_class=1, mirror=server.base))
    assert report["clips"]["train"] == {"air drumming": 4, "bowling": 4}
    after = _clips(out)
    assert {p: after[p] for p in before} == before  # not rewritten
    assert len(after) == 10
    # part_0 was finished: fetched once; part_1 twice (interrupted, then again)
    assert [server.gets(f"/train/part_{i}.tar.gz") for i in range(4)] == [1, 2, 0, 0]
    assert report["parts_read"]["train"] == ["part_1.tar.gz"]  # this run


def test_dropped_connection_skips_the_part_then_a_rerun_fetches_it(tmp_path, server, mirror):
    out = tmp_path / "k"
    size = (mirror[0] / "train" / "part_1.tar.gz").stat().st_size
    server.faults["/train/part_1.tar.gz"] = [("cut", size // 2)]
    # all 8 clips of each class: every part is needed
    report = download_kinetics(out, TWO, 8, fast(val_per_class=1, mirror=server.base, retries=0))
    ((name, why),) = report["skipped_parts"]
    got = sum(report["clips"]["train"].values())
    assert name == "train/part_1.tar.gz" and why.startswith(
        f"IncompleteRead after {got - 12} clips"
    )
    assert 12 <= got < 16  # parts 0, 2, 3 and what came of part 1 before the drop
    assert report["short"]["train"]
    before = _clips(out)
    report = download_kinetics(out, TWO, 8, fast(val_per_class=1, mirror=server.base))
    assert report["parts_read"]["train"] == ["part_1.tar.gz"]
    assert report["clips"]["train"] == {"air drumming": 8, "bowling": 8}
    assert report["short"]["train"] == {} and report["skipped_parts"] == []
    after = _clips(out)
    assert {p: after[p] for p in before} == before  # not rewritten
    assert [server.gets(f"/train/part_{i}.tar.gz") for i in range(4)] == [1, 2, 1, 1]
    _no_leftovers(out)


@pytest.mark.parametrize("fault", [500, "reset", "cut"])
def test_flaky_server_is_retried(tmp_path, server, mirror, fault):
    size = (mirror[0] / "train" / "part_0.tar.gz").stat().st_size
    server.faults["/train/part_0.tar.gz"] = [("cut", size // 3) if fault == "cut" else fault]
    server.faults["/annotations/train.csv"] = [500]
    report = download_kinetics(tmp_path / "k", TWO, 2, fast(val_per_class=1, mirror=server.base))
    assert report["clips"]["train"] == {"air drumming": 2, "bowling": 2}
    assert report["skipped_parts"] == []
    assert server.gets("/train/part_0.tar.gz") == 2 and server.gets("/annotations/train.csv") == 2


def test_truncated_part_keeps_the_clips_before_the_cut(tmp_path, server, mirror):
    root, contents = mirror
    data = (root / "train" / "part_0.tar.gz").read_bytes()
    cut = len(data) * 2 // 3
    server.faults["/train/part_0.tar.gz"] = [("truncate", cut)]
    out = tmp_path / "k"
    classes = ["air drumming", "bowling", "zumba"]  # every member of part_0 is wanted
    report = download_kinetics(out, classes, 2, fast(val_per_class=1, mirror=server.base))
    before_cut = set(readable_members(data[:cut]))
    assert 0 < len(before_cut) < len(contents["train"]["part_0.tar.gz"])
    from_part_0 = {
        p.name
        for p in (out / "train").rglob("*.mp4")
        if _part_of(contents, "train", p.name) == "part_0.tar.gz"
    }
    assert from_part_0 == before_cut  # all clips before the cut kept, none after it
    (corrupt,) = report["corrupt_parts"]
    assert corrupt.startswith(f"train/part_0.tar.gz: ReadError after {len(before_cut)} clips")
    assert report["parts_read"]["train"][0] == "part_0.tar.gz"
    # a rerun does not fetch the corrupt part again
    download_kinetics(out, classes, 2, fast(val_per_class=1, mirror=server.base))
    assert server.gets("/train/part_0.tar.gz") == 1
    _no_leftovers(out)


def test_missing_part_and_short_class_are_reported(tmp_path, server):
    server.faults["/train/part_2.tar.gz"] = [404]
    out = tmp_path / "k"
    report = download_kinetics(
        out, ["bowling", "zumba"], 3, fast(val_per_class=2, mirror=server.base)
    )
    ((name, why),) = report["skipped_parts"]
    assert name == "train/part_2.tar.gz" and "HTTP 404" in why
    assert server.gets("/train/part_2.tar.gz") == 1  # a 404 is final: not retried
    # zumba: 2 clips in the mirror, one of them in the missing part; every part was read
    assert report["clips"]["train"] == {"bowling": 3, "zumba": 1}
    assert report["short"] == {"train": {"zumba": 1}, "val": {}}
    assert [server.gets(f"/train/part_{i}.tar.gz") for i in (0, 1, 3)] == [1, 1, 1]
    assert report["parts_read"]["train"] == ["part_0.tar.gz", "part_1.tar.gz", "part_3.tar.gz"]


def test_stops_inside_a_part_and_a_larger_quota_reads_it_again(tmp_path, server, mirror):
    size = (mirror[0] / "train" / "part_0.tar.gz").stat().st_size
    out = tmp_path / "k"
    report = download_kinetics(out, TWO, 1, fast(val_per_class=0, mirror=server.base))
    assert report["clips"]["train"] == {"air drumming": 1, "bowling": 1}
    assert 0 < report["bytes_downloaded"] < size  # the rest of part_0 never came
    before = _clips(out)
    report = download_kinetics(out, TWO, 2, fast(val_per_class=0, mirror=server.base))
    assert report["clips"]["train"] == {"air drumming": 2, "bowling": 2}
    assert server.gets("/train/part_0.tar.gz") == 2 and server.gets("/train/part_1.tar.gz") == 0
    after = _clips(out)
    assert {p: after[p] for p in before} == before and len(after) == 4


def test_max_parts_caps_what_is_streamed(tmp_path, server):
    report = download_kinetics(
        tmp_path / "k", TWO, 3, fast(val_per_class=1, mirror=server.base, max_parts=1)
    )
    assert [server.gets(f"/train/part_{i}.tar.gz") for i in range(4)] == [1, 0, 0, 0]
    assert report["short"]["train"] == {"air drumming": 2, "bowling": 2}


def test_source_folder_gives_the_same_root_as_the_mirror(tmp_path, server, mirror):
    from_mirror = download_kinetics(
        tmp_path / "a", TWO, 3, fast(val_per_class=1, mirror=server.base)
    )
    from_disk = download_kinetics(tmp_path / "b", TWO, 3, fast(val_per_class=1, source=mirror[0]))
    assert from_disk["clips"] == from_mirror["clips"]
    assert from_disk["parts_read"] == from_mirror["parts_read"]
    assert sorted(_clips(tmp_path / "a")) == sorted(_clips(tmp_path / "b"))
    for name in ("classes.txt", "annotations/train.csv", "annotations/val.csv"):
        assert (tmp_path / "a" / name).read_text() == (tmp_path / "b" / name).read_text()


def test_local_parts_without_a_path_list_in_numeric_order(tmp_path):
    (tmp_path / "train").mkdir()
    for n in (10, 2, 1):
        (tmp_path / "train" / f"part_{n}.tar.gz").write_bytes(b"")
    urls = part_urls(tmp_path.resolve().as_uri(), "train", Client(retries=0))
    assert [u.rsplit("/", 1)[1] for u in urls] == [
        "part_1.tar.gz",
        "part_2.tar.gz",
        "part_10.tar.gz",
    ]


def test_cli_download_and_one_line_errors(tmp_path, server, capsys):
    out = tmp_path / "k"
    args = [
        "kinetics-download",
        "--out",
        str(out),
        "--mirror",
        server.base,
        "--backoff",
        "0",
        "--short-side",
        "16",
        "--fps",
        "4",
    ]
    assert cli.main([*args, "--classes", "zumba,bowling", "--per-class", "1", "--cache"]) == 0
    printed = capsys.readouterr()
    assert f"cache {out / 'cache' / 'train'}: 2 decoded" in printed.out
    assert KineticsDataset(out, "train", num_frames=2, stride=1, target_fps=None).cache
    assert (
        "rarest 'zumba' has 2 annotated clips in 4 parts (0.5 a part) → expect ~2 parts"
        in printed.out
    )
    assert "train: 2 clips, 1 parts read this run; bowling 1, zumba 1" in printed.out
    assert cli.main([*args, "--classes", "2", "--per-class", "0"]) == 2
    assert printed_error(capsys) == (
        "mini-timesformer kinetics-download: error: expected "
        "--per-class >= 1 and --val-per-class >= 0, got 0 and None"
    )
    assert cli.main([*args, "--per-class", "1"]) == 2
    assert "give exactly one of --classes" in printed_error(capsys)
    assert cli.main([*args, "--classes", "dancing", "--per-class", "1"]) == 2
    assert printed_error(capsys).endswith("classes not in the annotations: dancing")
    server.faults["/val/k400_val_path.txt"] = [404]
    assert (
        cli.main(
            [*args, "--out", str(tmp_path / "other"), "--classes", "zumba", "--per-class", "1"]
        )
        == 2
    )
    last = capsys.readouterr().err.strip().splitlines()[-1]  # after the train progress bar
    assert last.startswith(
        "mini-timesformer kinetics-download: error: cannot read the val part list: HTTP 404"
    )


def printed_error(capsys) -> str:
    err = capsys.readouterr().err.strip()
    assert "\n" not in err
    return err


def test_503s_are_retried_by_the_retry_policy_then_reported(tmp_path, server):
    server.faults["/train/part_0.tar.gz"] = [503, 503]
    server.faults["/annotations/val.csv"] = [503, 503]
    report = download_kinetics(tmp_path / "k", TWO, 2, fast(val_per_class=1, mirror=server.base))
    assert report["clips"]["train"] == {"air drumming": 2, "bowling": 2}
    assert report["skipped_parts"] == []
    assert server.gets("/train/part_0.tar.gz") == 3 and server.gets("/annotations/val.csv") == 3
    server.faults["/train/part_0.tar.gz"] = [503, 503]
    report = download_kinetics(
        tmp_path / "j", TWO, 2, fast(val_per_class=1, mirror=server.base, retries=1)
    )
    assert report["skipped_parts"] == [
        [
            "train/part_0.tar.gz",
            f"HTTP 503 Service Unavailable for {server.base}/train/part_0.tar.gz (after 2 tries)",
        ]
    ]
    assert server.gets("/train/part_0.tar.gz") == 5
