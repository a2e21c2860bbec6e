"""Datasets on disk: a small Kinetics subset from a local copy, and synthetic clips as mp4s.

Both write the Kinetics layout that ``KineticsDataset`` reads::

    OUT/classes.txt                       one class name per line (label = line number)
    OUT/annotations/{train,val}.csv       label,youtube_id,time_start,time_end,split
    OUT/{train,val}/<label>/<youtube_id>_<start:06d>_<end:06d>.mp4

Subsets are built once: clips are trimmed to their annotated window, downscaled and
resampled (PyAV encode). Rerunning skips finished clips (each file is written atomically).
"""

from __future__ import annotations

import random
from collections import Counter
from pathlib import Path

from tqdm.auto import tqdm

from ..errors import MissingPathError, NotAFolderError, UserError
from ..runtime import atomic_write
from .kinetics import (
    Annotation,
    find_annotation_file,
    locate_clip,
    read_annotations,
    write_annotations,
)
from .synthetic import SyntheticVideos
from .video import probe_video, transcode, write_video

PRESET_DIR = Path(__file__).resolve().parent / "presets"  # package data: installs with it


def class_preset(name: str) -> list[str]:
    """Class names of a preset in the repository's ``data/`` folder (or a .txt path)."""
    path = Path(name) if name.endswith(".txt") else PRESET_DIR / f"{name}.txt"
    if not path.is_file():
        known = sorted(p.stem for p in PRESET_DIR.glob("kinetics*.txt"))
        raise MissingPathError(
            f"unknown class preset {name!r}; expected one of "
            f"{', '.join(known) or '(none found)'} or a .txt file"
        )
    lines = (line.split("#")[0].strip() for line in path.read_text().splitlines())
    return [line for line in lines if line]


def choose_classes(available: list[str], classes, seed: int = 0) -> list[str]:
    """``classes``: an int N (N random classes), a list of names, or 'a,b,c'."""
    if isinstance(classes, str) and classes.isdigit():
        classes = int(classes)
    if isinstance(classes, int):
        if not 0 < classes <= len(available):
            raise UserError(f"expected 1..{len(available)} classes, got {classes}")
        return sorted(random.Random(seed).sample(sorted(available), classes))
    names = [c.strip() for c in classes.split(",")] if isinstance(classes, str) else classes
    unknown = [name for name in names if name not in available]
    if unknown:
        raise UserError(f"classes not in the annotations: {', '.join(unknown)}")
    return sorted(names)


def clip_path(out: Path, split: str, row: Annotation) -> Path:
    """Where a subset keeps a clip: ``out/<split>/<label with _>/<clip name>``."""
    return out / split / row.label.replace(" ", "_") / row.clip_name


def write_clip(
    clip: Path, target: Path, row: Annotation, short_side: int, fps: float
) -> str | None:
    """Trim ``clip`` to its annotated window (if longer), resample, downscale, write atomically.

    The one per-clip step of ``kinetics-subset`` and ``kinetics-download``. Returns None,
    or a one-line reason why the clip could not be used (it is then skipped, not fatal).
    """
    try:
        length = row.time_end - row.time_start
        trim = length > 0 and probe_video(clip).duration > length + 1
        transcode(
            clip,
            target,
            short_side=short_side,
            fps=fps,
            start_sec=row.time_start if trim else 0.0,
            end_sec=row.time_end if trim else None,
        )
    except Exception as err:  # noqa: BLE001 — a bad clip is skipped, not fatal
        return f"{type(err).__name__}: {err}"
    return None


def build_kinetics_subset(
    source,
    out,
    classes,
    per_class: int,
    *,
    splits=("train", "val"),
    val_per_class: int | None = None,
    short_side: int = 160,
    fps: float = 15.0,
    seed: int = 0,
    progress: bool = True,
) -> dict:
    """Copy ``per_class`` clips of each chosen class (trimmed, downscaled) into ``out``.

    ``source`` is a local Kinetics copy (CVDF layout: ``train/``, ``val/``,
    ``annotations/*.csv``). Returns the report: per split, ``written``, ``kept`` (already
    there), ``skipped`` [(path, why)] and ``short`` {class: clips found} for classes that
    had fewer readable clips than asked.
    """
    source, out = Path(source), Path(out)
    if not source.is_dir():
        raise NotAFolderError(f"Kinetics source folder not found: {source}")
    tables = {split: read_annotations(find_annotation_file(source, split))[0] for split in splits}
    chosen = choose_classes(sorted({row.label for row in tables[splits[0]]}), classes, seed)
    out.mkdir(parents=True, exist_ok=True)
    (out / "classes.txt").write_text("\n".join(chosen) + "\n")
    report = {}
    for split in splits:
        wanted = per_class if split == "train" else (val_per_class or max(1, per_class // 4))
        rows = [row for row in tables[split] if row.label in chosen]
        random.Random(seed).shuffle(rows)  # a random, reproducible pick per class
        report[split] = _copy_split(
            source, out, split, rows, chosen, wanted, short_side, fps, progress
        )
    return report


def _copy_split(source, out, split, rows, chosen, wanted, short_side, fps, progress) -> dict:
    done: Counter = Counter()
    kept_rows, skipped = [], []
    written = kept = 0
    bar = tqdm(
        total=wanted * len(chosen), desc=f"subset {split}", unit="clip", disable=not progress
    )
    for row in rows:
        if done[row.label] >= wanted:
            continue
        target = clip_path(out, split, row)
        if target.is_file():  # finished by an earlier run
            kept += 1
        else:
            clip = locate_clip(source, split, row)
            if not clip.is_file():
                skipped.append((str(clip), "file not found"))
                continue
            problem = write_clip(clip, target, row, short_side, fps)
            if problem:
                skipped.append((str(clip), problem))
                continue
            written += 1
        done[row.label] += 1
        kept_rows.append(row)
        bar.update()
    bar.close()
    write_annotations(out / "annotations" / f"{split}.csv", kept_rows, split)
    short = {name: done[name] for name in chosen if done[name] < wanted}
    return {"written": written, "kept": kept, "skipped": skipped, "short": short}


def write_synthetic_dataset(
    out,
    kind: str = "motion",
    per_class: int = 20,
    *,
    val_per_class: int | None = None,
    num_frames: int | None = None,
    image_size: int = 32,
    fps: float = 8.0,
    seed: int = 0,
    progress: bool = True,
) -> dict:
    """The SyntheticVideos clips as real mp4 files in the Kinetics layout (lossless-ish).

    Train clips are items 0.. of ``SyntheticVideos(seed=seed)``, val clips items of
    ``seed + 1``; rerunning skips clips already written. Returns {split: clips}.
    """
    out = Path(out)
    counts = {}
    for split, wanted, split_seed in (
        ("train", per_class, seed),
        ("val", val_per_class or max(1, per_class // 4), seed + 1),
    ):
        videos = SyntheticVideos(kind, num_frames, image_size, size=1, seed=split_seed)
        videos.size = wanted * len(videos.classes)
        rows = []
        for index in tqdm(
            range(len(videos)), desc=f"synthetic {split}", unit="clip", disable=not progress
        ):
            label = videos.classes[videos.label(index)]
            duration = max(1, round(videos.num_frames / fps))
            row = Annotation(label, f"{kind}{split_seed:02d}{index:07d}", 0, duration)
            target = clip_path(out, split, row)
            if not target.is_file():
                clip = videos[index][0]
                atomic_write(
                    target,
                    lambda tmp, clip=clip: write_video(tmp, clip, fps, crf=10),
                    suffix=".mp4",
                )
            rows.append(row)
        write_annotations(out / "annotations" / f"{split}.csv", rows, split)
        counts[split] = len(rows)
    (out / "classes.txt").write_text("\n".join(videos.classes) + "\n")
    return counts
