"""File-based video datasets: items ``(uint8 clip (T, 3, H, W), label)`` like SyntheticVideos.

A missing or undecodable file is reported once on stderr (with its path and the reason),
recorded in ``.skipped`` and skipped: the item is the next readable clip *with that clip's
own label* (never a wrong label), so one bad file cannot kill an epoch. The record lives in
a small file, so reports from DataLoader worker processes reach ``.skipped`` too; call
``skip_summary()`` at the end of an epoch.
"""

from __future__ import annotations

import logging
import os
import tempfile
import weakref
from pathlib import Path

import torch

from ..errors import MissingPathError, NotAFolderError, UserError
from .cache import FrameCache, cache_folder
from .sampling import dense_indices, segment_indices
from .video import VIDEO_EXTENSIONS, read_clip

logger = logging.getLogger(__name__)  # skip reports: shown on stderr unless logging is set up


def item_generator(seed: int, epoch: int, index: int) -> torch.Generator:
    """The random stream of one item in one epoch: the same in any DataLoader worker, and
    after a resume (our choice of formula: two large primes keep (seed, epoch, index) apart)."""
    return torch.Generator().manual_seed((seed * 1_000_003 + epoch) * 10_000_019 + index)


SAMPLINGS = ("dense", "segment")


class SkipLog:
    """Unreadable files, reported once each, shared between DataLoader worker processes."""

    def __init__(self):
        handle, name = tempfile.mkstemp(prefix="mini-timesformer-skipped-", suffix=".tsv")
        os.close(handle)
        self.path = Path(name)
        self._seen: set[str] = set()
        owner = os.getpid()  # only the creating process deletes the file
        weakref.finalize(self, lambda p=self.path: os.getpid() == owner and p.unlink(True))

    def entries(self) -> list[tuple[str, str]]:
        """(path, reason) of every skipped file, in the order they were found."""
        if not self.path.exists():
            return []
        lines = self.path.read_text().splitlines()
        return [tuple(line.split("\t", 1)) for line in lines if "\t" in line]

    def report(self, path, reason: str, *, quiet: bool = False) -> None:
        """Record ``path`` once; print it unless ``quiet`` (the caller prints a summary)."""
        path = str(path)
        if path in self._seen or path in dict(self.entries()):
            self._seen.add(path)
            return
        self._seen.add(path)
        reason = " ".join(str(reason).replace(f"'{path}'", "").split()).rstrip(":")  # one line
        with open(self.path, "a") as log:  # one short append: atomic between processes
            log.write(f"{path}\t{reason}\n")
        if not quiet:
            logger.warning("mini-timesformer: skipping unreadable video %s: %s", path, reason)


class VideoClipDataset(torch.utils.data.Dataset):
    """A list of (video path, label) turned into sampled clips.

    ``sampling="dense"``: T frames every ``stride`` at ``target_fps`` (the paper's 8×32);
    ``"segment"``: one frame per equal segment. ``train=True`` samples a random window /
    random frame per segment; ``train=False`` the middle clip (the paper's single view).
    ``target_fps=None`` keeps the video's own frame rate (e.g. synthetic mp4s, stride 1).
    ``seed``: None draws training windows from torch's global RNG (seeded per DataLoader
    worker); an int makes them a function of (seed, epoch, index) — call ``set_epoch(e)``.
    """

    def __init__(
        self,
        samples,
        classes,
        *,
        num_frames: int = 8,
        stride: int = 32,
        target_fps: float | None = 30.0,
        sampling: str = "dense",
        train: bool = True,
        transform=None,
        cache=None,
        seed: int | None = None,
    ):
        if sampling not in SAMPLINGS:
            raise UserError(f"unknown sampling {sampling!r}; expected one of {SAMPLINGS}")
        self.classes = list(classes)
        self.num_frames, self.stride, self.target_fps = num_frames, stride, target_fps
        self.sampling, self.train, self.transform = sampling, train, transform
        self.seed, self.epoch, self._generator = seed, 0, None
        self.cache = FrameCache(cache) if isinstance(cache, (str, os.PathLike)) else cache
        self.skip_log = SkipLog()
        self.samples: list[tuple[Path, int]] = []
        self._bad: set[int] = set()
        missing = []
        for path, label in samples:
            if self.cache is None and not Path(path).is_file():
                missing.append(str(path))
                self.skip_log.report(path, "file not found", quiet=True)
            else:
                self.samples.append((Path(path), int(label)))
        if missing:  # one line, not thousands: the list is in .skipped
            logger.warning(
                "mini-timesformer: skipping %d missing video(s) of %d, e.g. %s "
                "(all listed by .skip_summary())",
                len(missing),
                len(missing) + len(self.samples),
                missing[0],
            )
        if not self.samples:
            raise UserError(
                f"{type(self).__name__}: no readable video found "
                f"({len(self.skip_log.entries())} missing)"
            )

    def __len__(self) -> int:
        return len(self.samples)

    @property
    def skipped(self) -> list[tuple[str, str]]:
        """(path, reason) of every file skipped so far, in any process."""
        return self.skip_log.entries()

    def skip_summary(self) -> str:
        skipped = self.skipped
        if not skipped:
            return f"all {len(self)} videos readable"
        lines = [f"skipped {len(skipped)} unreadable video(s):"]
        lines += [f"  {path}: {reason}" for path, reason in skipped]
        return "\n".join(lines)

    def set_epoch(self, epoch: int) -> None:
        """New random windows each epoch when ``seed`` is set (reproducible per epoch)."""
        self.epoch = epoch

    def frame_indices(self, num_video_frames: int, fps: float) -> list[int]:
        """The frames of one clip (random window when training; ``self._generator``)."""
        generator = self._generator
        if self.sampling == "segment":
            return segment_indices(
                num_video_frames, self.num_frames, train=self.train, generator=generator
            )
        return dense_indices(
            num_video_frames,
            self.num_frames,
            self.stride,
            video_fps=fps,
            target_fps=self.target_fps or fps,
            clip_index=None if self.train else 0,
            generator=generator,
        )

    def load_clip(self, path: Path) -> torch.Tensor:
        """Sample and decode one clip of ``path`` (from the cache when it has the file)."""
        if self.cache is not None and path in self.cache:
            num_frames, fps = self.cache.info(path)
            return self.cache.frames(path, self.frame_indices(num_frames, fps))
        choose = lambda info: self.frame_indices(max(info.num_frames, 1), info.fps)
        return read_clip(path, choose, channels_last=self.transform is not None)[0]

    def __getitem__(self, index: int):
        for attempt in range(len(self.samples)):
            i = (index + attempt) % len(self.samples)
            if i in self._bad:
                continue
            path, label = self.samples[i]
            if self.seed is not None:
                self._generator = item_generator(self.seed, self.epoch, i)
            try:
                clip = self.load_clip(path)
            except Exception as err:  # noqa: BLE001 — any decoder failure means "skip"
                self._bad.add(i)
                self.skip_log.report(path, f"{type(err).__name__}: {err}")
                continue
            if self.transform is not None:
                clip = self.transform(clip).contiguous()
            return clip, label
        raise RuntimeError(f"{type(self).__name__}: none of the {len(self)} videos is readable")


def _read_classes(classes, fallback: list[str]) -> list[str]:
    if classes is None:
        return fallback
    if isinstance(classes, (str, os.PathLike)):
        path = Path(classes)
        if not path.is_file():
            raise MissingPathError(f"class list not found: {path}")
        return [line.strip() for line in path.read_text().splitlines() if line.strip()]
    return list(classes)


class VideoFolder(VideoClipDataset):
    """``root/<class name>/<video>`` (any depth below the class folder), classes sorted."""

    def __init__(self, root, *, classes=None, **kwargs):
        root = Path(root)
        if not root.is_dir():
            raise NotAFolderError(
                f"VideoFolder: expected a folder with one sub-folder per class, got {root}"
            )
        found = sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
        names = _read_classes(classes, found)
        samples = []
        for label, name in enumerate(names):
            files = sorted(
                p for p in (root / name).rglob("*") if p.suffix.lower() in VIDEO_EXTENSIONS
            )
            samples += [(p, label) for p in files]
        if not samples:
            raise UserError(
                f"VideoFolder: no videos ({', '.join(VIDEO_EXTENSIONS)}) in the "
                f"class folders of {root}"
            )
        cache = kwargs.pop("cache", "auto")
        if cache == "auto":
            cache = cache_folder(root) if (cache_folder(root) / "index.json").is_file() else None
        super().__init__(samples, names, cache=cache, **kwargs)
