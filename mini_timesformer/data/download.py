"""``kinetics-download``: a Kinetics subset straight from the published tarballs.

The CVDF mirror stores Kinetics-400 as ~1.5 GB ``.tar.gz`` parts whose clips are in no class
order, so any class is spread over all parts. We stream one part at a time (``tarfile`` in
stream mode: never the whole tarball on disk), keep only members of the chosen classes that
still need clips, pass each through the same trim / resample / downscale / atomic write as
``kinetics-subset`` (``prepare.write_clip``) and stop fetching once every class has its
quota. The output is the Kinetics root ``kinetics-subset`` writes::

    OUT/classes.txt  OUT/annotations/{train,val}.csv  OUT/{train,val}/<label>/<clip>.mp4
    OUT/download_report.json                  the final report
    OUT/.download/state.json                  finished parts and written clips (resume)
    OUT/.download/annotations/, tmp/          copy of the mirror's CSVs; one clip at a time

Every file is written atomically, so Ctrl-C or a dropped connection leave nothing
half-written; a rerun skips finished parts and written clips.
"""

from __future__ import annotations

import json
import logging
import math
import shutil
import tarfile
import zlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from tqdm.auto import tqdm
from tqdm.utils import CallbackIOWrapper

from ..errors import MissingPathError, UserError
from ..runtime import atomic_write, atomic_write_text
from .kinetics import read_annotations, write_annotations
from .prepare import choose_classes, clip_path, write_clip
from .stream import BROKEN, Client, RequestFailed, base_url, cause, part_name, part_urls

SPLITS = ("train", "val")
# A corrupt or truncated archive (not worth another try): tar/zlib errors, early end.
CORRUPT = (tarfile.TarError, EOFError, zlib.error)
logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class DownloadOptions:
    """How ``download_kinetics`` fetches and encodes (the flags of ``kinetics-download``).

    ``val_per_class``: val clips a class (None: ``per_class // 4``, at least 1);
    ``short_side``/``fps``: the clips written (``prepare.write_clip``); ``mirror``: base URL
    of the CVDF layout (default ``stream.CVDF_K400``), or ``source``: a local folder with
    it; ``max_parts``: only the first K parts of each split's list; ``seed``: picks the
    classes when ``classes`` is a number; ``retries``/``backoff``/``timeout``: the HTTP
    retry policy (``stream.Client``); ``progress``: tqdm bars.
    """

    val_per_class: int | None = None
    short_side: int = 160
    fps: float = 15.0
    mirror: str | None = None
    source: str | Path | None = None
    max_parts: int | None = None
    seed: int = 0
    retries: int = 3
    backoff: float = 2.0
    timeout: float = 60.0
    progress: bool = True


class DownloadState:
    """``OUT/.download/state.json``: the chosen classes, parts read, clips written, bytes."""

    def __init__(self, path: Path, classes: list[str]):
        self.path = path
        data = json.loads(path.read_text()) if path.is_file() else {}
        if data and data["classes"] != classes:
            raise UserError(
                f"{path.parent.parent} holds a download of other classes "
                f"({', '.join(data['classes'])}); use another --out or the "
                f"same classes"
            )
        self.data = {
            "classes": classes,
            "bytes": 0,
            "skipped": {},
            "parts": {s: {} for s in SPLITS},
            "clips": {s: [] for s in SPLITS},
            **data,
        }

    def save(self) -> None:
        atomic_write_text(self.path, json.dumps(self.data, indent=1))

    def part_done(self, split: str, name: str, quota: int) -> bool:
        """Read before (whole, or corrupt), and no clip it holds was refused for a quota."""
        part = self.data["parts"][split].get(name)
        return part is not None and (part.get("full_at") is None or part["full_at"] >= quota)


def download_kinetics(
    out, classes, per_class: int, options: DownloadOptions | None = None, *, on_clip=None, log=None
) -> dict:
    """Download ``per_class`` train (and ``options.val_per_class``) clips of each chosen class.

    ``classes``: N, 'a,b,c' or a list (as ``kinetics-subset``); ``options``: see
    ``DownloadOptions``; ``on_clip(split, clip, counts)`` is called after each written clip;
    ``log(line)`` gets the estimates and the parts skipped (default: this module's logger).
    Returns the report (also ``OUT/download_report.json``).
    """
    opts = options or DownloadOptions()
    log = log or logger.info
    val_per_class = opts.val_per_class
    if per_class < 1 or (val_per_class is not None and val_per_class < 0):
        raise UserError(
            f"expected --per-class >= 1 and --val-per-class >= 0, got "
            f"{per_class} and {val_per_class}"
        )
    if opts.max_parts is not None and opts.max_parts < 1:
        raise UserError(f"expected --max-parts >= 1, got {opts.max_parts}")
    out = Path(out)
    work = out / ".download"
    base = base_url(opts.mirror, opts.source)
    client = Client(opts.retries, opts.backoff, opts.timeout)
    try:
        tables = {split: _annotations(base, work, split, client) for split in SPLITS}
        chosen = choose_classes(sorted({row.label for row in tables["train"]}), classes, opts.seed)
        quotas = {
            "train": per_class,
            "val": max(1, per_class // 4) if val_per_class is None else val_per_class,
        }
        state = DownloadState(work / "state.json", chosen)
        atomic_write_text(out / "classes.txt", "\n".join(chosen) + "\n")
        shutil.rmtree(work / "tmp", ignore_errors=True)
        run = {"bytes": 0, "parts_read": {s: [] for s in SPLITS}, "skipped_parts": []}
        job = _Job(out, chosen, state, run, client, opts, on_clip, log)
        try:
            for split in SPLITS:
                _Split(split, tables[split], quotas[split], job).run(base)
        finally:  # also after Ctrl-C: the root stays consistent with the clips on disk
            shutil.rmtree(work / "tmp", ignore_errors=True)
            report = _finish(out, tables, chosen, quotas, state, run)
    finally:
        client.close()
    return report


def _annotations(base: str, work: Path, split: str, client: Client):
    """The mirror's ``annotations/<split>.csv``, fetched once and kept in ``.download/``."""
    copy = work / "annotations" / f"{split}.csv"
    if not copy.is_file():
        try:
            atomic_write_text(copy, client.read_text(f"{base}/annotations/{split}.csv"))
        except RequestFailed as err:
            raise MissingPathError(f"cannot read the {split} annotations: {err}") from None
    return read_annotations(copy)[0]


@dataclass
class _Job:
    """What the splits of one download share."""

    out: Path
    chosen: list[str]
    state: DownloadState
    run: dict  # this run's bytes, parts read and parts skipped
    client: Client
    opts: DownloadOptions
    on_clip: Callable | None
    log: Callable[[str], None]


class _Split:
    """One split's download: the estimate, then part after part until every quota is met."""

    def __init__(self, split: str, table, quota: int, job: _Job):
        self.split, self.quota, self.out, self.chosen = split, quota, job.out, job.chosen
        self.state, self.run_info, self.client = job.state, job.run, job.client
        self.opts, self.on_clip, self.log = job.opts, job.on_clip, job.log
        self.encode = dict(short_side=job.opts.short_side, fps=job.opts.fps)
        self.bar = None  # the bytes bar, while run() reads parts
        self.rows = {row.clip_name: row for row in table if row.label in job.chosen}
        self.annotated = Counter(row.label for row in self.rows.values())
        self.written = set(job.state.data["clips"][split])
        self.done = Counter(self.rows[n].label for n in self.written if n in self.rows)
        self.tmp = job.out / ".download" / "tmp"
        self.part_clips = 0  # clips written from the part being read

    def needed(self) -> bool:
        return any(self.done[name] < self.quota for name in self.chosen)

    def run(self, base: str) -> None:
        if not self.needed():
            return
        urls = part_urls(base, self.split, self.client)[: self.opts.max_parts]
        todo = [u for u in urls if not self.state.part_done(self.split, part_name(u), self.quota)]
        expected, part_bytes = self.estimate(len(urls), todo[:1])
        self.log(self.describe(len(urls), len(urls) - len(todo), expected, part_bytes))
        self.bar = tqdm(
            total=expected * part_bytes or None,
            unit="B",
            unit_scale=True,
            desc=f"{self.split} parts",
            disable=not self.opts.progress,
        )
        self.show_counts()
        try:
            for url in todo:
                if not self.needed():
                    break
                self.read_part(url)
        finally:
            self.bar.close()

    def estimate(self, num_parts: int, first: list[str]) -> tuple[int, int]:
        """Expected parts to read (the rarest chosen class decides) and bytes per part.

        A class with n annotated clips spread evenly over P parts gives ~n/P per part, so
        its quota q needs ~P·q/n parts (all P when q >= n).
        """
        parts = max(
            math.ceil(num_parts * min(self.quota, n) / n) if n else num_parts
            for n in (self.annotated[name] for name in self.chosen)
        )
        size = self.client.content_length(first[0]) if first else None
        return min(parts, num_parts), size or 0

    def describe(self, num_parts, finished, expected, part_bytes) -> str:
        rarest = min(self.chosen, key=lambda name: self.annotated[name])
        per_part = self.annotated[rarest] / max(num_parts, 1)
        size = (
            f"≈ {format_size(expected * part_bytes)} streamed at {format_size(part_bytes)} a part"
            if part_bytes
            else "size unknown"
        )
        short = [name for name in self.chosen if self.annotated[name] < self.quota]
        return (
            f"{self.split}: {len(self.chosen)} classes × {self.quota} clips; rarest "
            f"{rarest!r} has {self.annotated[rarest]} annotated clips in {num_parts} "
            f"parts ({per_part:.1f} a part) → expect ~{expected} parts, {size}"
            + (f"; {finished} parts already read" if finished else "")
            + (f"; fewer annotated clips than asked: {', '.join(short)}" if short else "")
        )

    def show_counts(self) -> None:
        counts = " ".join(f"{name[:12]}:{self.done[name]}" for name in self.chosen)
        self.bar.set_postfix_str(f"clips/{self.quota} {counts}", refresh=False)

    def read_part(self, url: str) -> None:
        """Stream one part; after a dropped connection, read it again from its start."""
        name = part_name(url)
        try:
            full_at = self.client.retrying(lambda: self.read_once(url, name), url)
        except RequestFailed as err:
            self.skip(name, str(err))
        except BROKEN as err:
            err = cause(err)
            self.skip(name, f"{type(err).__name__} after {self.part_clips} clips: {err}")
        except CORRUPT as err:
            why = f"{type(err).__name__} after {self.part_clips} clips: {err}"
            self.finish_part(name, "corrupt", None, why)
        else:
            self.finish_part(name, "done", full_at)

    def read_once(self, url: str, name: str) -> int | None:
        """One read of a part, its bytes counted (``tell``) and shown on the bar."""
        body = self.client.open(url)
        self.part_clips = 0
        try:
            return self.read_members(CallbackIOWrapper(self.bar.update, body, "read"), name)
        finally:
            count = body.tell()
            body.close()
            self.run_info["bytes"] += count
            self.state.data["bytes"] += count

    def skip(self, name: str, reason: str) -> None:
        self.run_info["skipped_parts"].append((f"{self.split}/{name}", reason))
        self.log(f"skipped part {self.split}/{name}: {reason}")

    def read_members(self, reader, name: str) -> int | None:
        """Extract the wanted members; returns the quota if a clip was refused for it."""
        full_at = None
        # "r|*": a stream, gzip or plain (CVDF once served train/part_120.tar.gz as a plain
        # tar, their README). Only a member's file name is used, never its path.
        with tarfile.open(fileobj=reader, mode="r|*") as tar:
            for member in tar:
                clip = PurePosixPath(member.name).name
                row = self.rows.get(clip)
                if not member.isfile() or row is None or clip in self.written:
                    continue
                if self.done[row.label] >= self.quota:
                    full_at = self.quota  # a clip refused: a larger quota reads this again
                    continue
                self.take(tar, member, row, f"{self.split}/{name}/{clip}")
                if not self.needed():
                    return self.quota  # early stop: every class has its quota
        return full_at

    def take(self, tar, member, row, where: str) -> None:
        """One wanted member: to a temp file, then trimmed/downscaled into the root."""
        target = clip_path(self.out, self.split, row)
        problem = None
        if not target.is_file():  # (a file without a state entry: killed before saving)
            self.tmp.mkdir(parents=True, exist_ok=True)
            temp = self.tmp / row.clip_name
            try:
                with tar.extractfile(member) as data, open(temp, "wb") as file:
                    shutil.copyfileobj(data, file)
                problem = write_clip(temp, target, row, **self.encode)
            finally:
                temp.unlink(missing_ok=True)
        if problem:
            self.state.data["skipped"][where] = problem
            self.state.save()
            return
        self.written.add(row.clip_name)
        self.done[row.label] += 1
        self.part_clips += 1
        self.state.data["clips"][self.split].append(row.clip_name)
        self.state.save()
        self.show_counts()
        if self.on_clip is not None:
            self.on_clip(self.split, row.clip_name, dict(self.done))

    def finish_part(self, name: str, status: str, full_at: int | None, reason="") -> None:
        self.state.data["parts"][self.split][name] = {
            "status": status,
            "full_at": full_at,
            "reason": reason,
        }
        self.state.save()
        self.run_info["parts_read"][self.split].append(name)
        if status == "corrupt":
            self.log(
                f"part {self.split}/{name} is truncated or corrupt ({reason}): clips "
                f"before the damage kept, members after it not read"
            )


def _finish(out: Path, tables, chosen, quotas, state: DownloadState, run: dict) -> dict:
    """Annotation CSVs of the clips on disk, and the report (returned and as JSON)."""
    report = {
        "classes": chosen,
        "quota": quotas,
        "clips": {},
        "short": {},
        "parts_read": run["parts_read"],
        "bytes_downloaded": run["bytes"],
        "bytes_downloaded_all_runs": state.data["bytes"],
        "skipped_parts": [list(item) for item in run["skipped_parts"]],
        "corrupt_parts": [
            f"{split}/{name}: {part['reason']}"
            for split in SPLITS
            for name, part in state.data["parts"][split].items()
            if part["status"] == "corrupt"
        ],
        "skipped_members": sorted(state.data["skipped"].items()),
    }
    for split in SPLITS:
        rows = {row.clip_name: row for row in tables[split]}
        kept = [
            rows[n]
            for n in state.data["clips"][split]
            if n in rows and clip_path(out, split, rows[n]).is_file()
        ]
        atomic_write(
            out / "annotations" / f"{split}.csv",
            lambda tmp, kept=kept, split=split: write_annotations(tmp, kept, split),
        )
        counts = Counter(row.label for row in kept)
        report["clips"][split] = {name: counts[name] for name in chosen}
        report["short"][split] = {
            name: counts[name] for name in chosen if counts[name] < quotas[split]
        }
    atomic_write_text(out / "download_report.json", json.dumps(report, indent=1))
    return report


def format_size(num_bytes: float) -> str:
    """Bytes as "1.44GB", "90.0kB" (decimal units): ``tqdm.format_sizeof``, the bar's own."""
    return tqdm.format_sizeof(num_bytes, "B")


def format_report(report: dict) -> str:
    """The final report as lines of text (the CLI prints it)."""
    lines = []
    for split, counts in report["clips"].items():
        parts = report["parts_read"][split]
        lines.append(
            f"{split}: {sum(counts.values())} clips, {len(parts)} parts read this run; "
            + ", ".join(f"{name} {n}" for name, n in counts.items())
        )
        for name, n in report["short"][split].items():
            lines.append(f"  short: {name!r} has {n} of {report['quota'][split]} clips")
    lines.append(
        f"downloaded {format_size(report['bytes_downloaded'])} this run "
        f"({format_size(report['bytes_downloaded_all_runs'])} in all runs)"
    )
    lines += [f"skipped part {name}: {why}" for name, why in report["skipped_parts"]]
    lines += [f"corrupt part {line}" for line in report["corrupt_parts"]]
    lines += [f"skipped {where}: {why}" for where, why in report["skipped_members"]]
    return "\n".join(lines)
