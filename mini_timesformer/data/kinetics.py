"""Kinetics: the official annotation CSVs, PySlowFast ``path label`` lists, KineticsDataset.

Official CSV (Kay et al. 2017; CVDF mirror): ``label,youtube_id,time_start,time_end,split``
(Kinetics-700-2020 adds ``is_cc``). Each row is a 10 s clip stored as
``{youtube_id}_{time_start:06d}_{time_end:06d}.mp4`` under ``<split>/`` (CVDF: flat) or
``<split>/<label>/`` (crawler layout). Class indices are the sorted class names, the
convention of every released checkpoint. PySlowFast lists hold one ``path label`` per line.
"""

from __future__ import annotations

import csv
import logging
from dataclasses import dataclass
from pathlib import Path

from ..errors import MissingPathError, NotAFolderError, UserError
from .cache import cache_folder
from .datasets import VideoClipDataset, _read_classes

logger = logging.getLogger(__name__)  # skip reports: shown on stderr unless logging is set up

OFFICIAL_COLUMNS = ("label", "youtube_id", "time_start", "time_end")


@dataclass(frozen=True)
class Annotation:
    """One row of an annotation file; ``label`` is a class name (official) or index."""

    label: str
    youtube_id: str = ""
    time_start: int = 0
    time_end: int = 0
    path: str = ""  # PySlowFast lists give the path directly

    @property
    def clip_name(self) -> str:
        return f"{self.youtube_id}_{self.time_start:06d}_{self.time_end:06d}.mp4"


def split_names(split: str) -> tuple[str, ...]:
    """Folder/file names used for a split ("val" is also called "validate")."""
    return ("val", "validate") if split in ("val", "validate") else (split,)


def read_annotations(path) -> tuple[list[Annotation], list[str]]:
    """Parse an official Kinetics CSV or a PySlowFast list.

    Returns (annotations, problems): a row with missing or malformed fields is not an
    annotation but a one-line problem ``"<file>:<line>: <what is wrong>"``.
    """
    path = Path(path)
    if not path.is_file():
        raise MissingPathError(f"annotation file not found: {path}")
    lines = path.read_text().splitlines()
    header = [h.strip() for h in lines[0].split(",")] if lines else []
    if all(column in header for column in OFFICIAL_COLUMNS):
        return _read_official(path, lines, header)
    if "youtube_id" in header:
        raise UserError(
            f"{path}: expected columns {','.join(OFFICIAL_COLUMNS)},split "
            f"(the test split without labels cannot be used), got {lines[0]}"
        )
    return _read_pyslowfast(path, lines)


def _read_official(path: Path, lines: list[str], header: list[str]):
    annotations, problems = [], []
    for number, row in enumerate(csv.reader(lines[1:]), start=2):
        if not row or not "".join(row).strip():
            continue
        fields = dict(zip(header, (value.strip() for value in row)))
        missing = [c for c in OFFICIAL_COLUMNS if not fields.get(c)]
        if missing or len(row) < len(header):
            problems.append(f"{path}:{number}: missing {', '.join(missing) or 'columns'}")
            continue
        try:
            start, end = int(float(fields["time_start"])), int(float(fields["time_end"]))
        except ValueError:
            problems.append(
                f"{path}:{number}: time_start/time_end are not numbers: "
                f"{fields['time_start']!r}, {fields['time_end']!r}"
            )
            continue
        annotations.append(Annotation(fields["label"], fields["youtube_id"], start, end))
    return annotations, problems


def _read_pyslowfast(path: Path, lines: list[str]):
    annotations, problems = [], []
    for number, line in enumerate(lines, start=1):
        parts = line.replace(",", " ").split()
        if not parts:
            continue
        if len(parts) != 2 or not parts[1].lstrip("-").isdigit() or int(parts[1]) < 0:
            problems.append(
                f"{path}:{number}: expected 'path label' with an integer "
                f"label >= 0, got {line.strip()!r}"
            )
            continue
        annotations.append(Annotation(parts[1], path=parts[0]))
    return annotations, problems


def find_annotation_file(root: Path, split: str) -> Path:
    """``root/annotations/<split>.csv``, ``root/<split>.csv`` (PySlowFast) or ``.txt``."""
    candidates = [
        folder / f"{name}{ext}"
        for name in split_names(split)
        for folder in (root / "annotations", root)
        for ext in (".csv", ".txt")
    ]
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    raise MissingPathError(
        f"no annotation file for split {split!r} under {root}; expected "
        f"one of: {', '.join(str(c.relative_to(root)) for c in candidates)}"
    )


def locate_clip(root: Path, split: str, annotation: Annotation) -> Path:
    """Where a clip lives: the PySlowFast path, or the conventional official names."""
    if annotation.path:
        path = Path(annotation.path)
        return path if path.is_absolute() else root / path
    candidates = []
    for folder in split_names(split):
        for label_dir in (annotation.label, annotation.label.replace(" ", "_"), ""):
            candidates.append(root / folder / label_dir / annotation.clip_name)
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    # missing: report the name in the layout this root uses (its folder exists)
    return next((c for c in candidates if c.parent.is_dir()), candidates[0])


class KineticsDataset(VideoClipDataset):
    """Kinetics clips of one split under ``root`` (official CSV or PySlowFast list).

    ``annotations``: the file to read (default: found under ``root`` for ``split``);
    ``classes``: list or class-list file (default ``root/classes.txt`` if present, else the
    sorted label names of the file); ``cache``: a FrameCache folder, ``"auto"`` (default:
    ``root/cache/<split>`` when built) or None. Other keywords as ``VideoClipDataset``;
    ``train`` defaults to ``split == "train"``.
    """

    def __init__(
        self,
        root,
        split: str = "train",
        *,
        annotations=None,
        classes=None,
        cache="auto",
        train: bool | None = None,
        **kwargs,
    ):
        root = Path(root)
        if not root.is_dir():
            raise NotAFolderError(f"KineticsDataset: root folder not found: {root}")
        file = Path(annotations) if annotations is not None else find_annotation_file(root, split)
        rows, problems = read_annotations(file)
        for problem in problems:
            logger.warning("mini-timesformer: skipping annotation %s", problem)
        self.annotation_problems = problems
        if classes is None and (root / "classes.txt").is_file():
            classes = root / "classes.txt"
        official = not any(row.path for row in rows)
        names = _read_classes(
            classes,
            sorted({row.label for row in rows})
            if official
            else [str(i) for i in range(1 + max((int(r.label) for r in rows), default=-1))],
        )
        index = {name: i for i, name in enumerate(names)}
        samples = []
        for row in rows:
            label = index.get(row.label) if official else int(row.label)
            if label is None or label >= len(names):
                continue  # a class outside the chosen class list
            samples.append((locate_clip(root, split, row), label))
        if not samples:
            raise UserError(
                f"KineticsDataset: {file} has no usable rows for the "
                f"{len(names)} classes ({len(problems)} malformed)"
            )
        if cache == "auto":
            folder = cache_folder(root, split)
            cache = folder if (folder / "index.json").is_file() else None
        self.root, self.split = root, split
        super().__init__(
            samples,
            names,
            cache=cache,
            train=split == "train" if train is None else train,
            **kwargs,
        )


def write_annotations(path, rows: list[Annotation], split: str) -> Path:
    """Write rows as an official-format CSV (``label,youtube_id,time_start,time_end,split``)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow((*OFFICIAL_COLUMNS, "split"))
        for row in rows:
            writer.writerow((row.label, row.youtube_id, row.time_start, row.time_end, split))
    return path
