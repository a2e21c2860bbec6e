"""A decoded-frame cache: every frame of every clip as uint8, memory-mapped.

Decoding is what starves a GPU on video (docs/data.md); a clip decoded once into
``frames.u8`` (one flat uint8 file, clips back to back as (N, H, W, 3)) is then read by
slicing a memory map — no decoder, no seek, shared between DataLoader workers by the
page cache. Size: frames × H × W × 3 bytes (a 10 s clip at 15 fps, 160×284: ~20 MB).
``index.json`` maps each source path to its offset, frame count, size and fps.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch

from ..errors import MissingPathError
from ..runtime import atomic_write_text
from .video import read_video


class FrameCache:
    """Read side: ``path in cache``, ``cache.info(path)``, ``cache.frames(path, indices)``."""

    def __init__(self, folder):
        self.folder = Path(folder)
        index_file = self.folder / "index.json"
        if not index_file.is_file():
            raise MissingPathError(
                f"no frame cache at {self.folder} (missing index.json); "
                f"build one with `mini-timesformer data-cache`"
            )
        self.entries = json.loads(index_file.read_text())["clips"]
        self._memmap = None  # opened lazily, once per process

    def _key(self, path) -> str:
        return str(Path(path).resolve())

    def __contains__(self, path) -> bool:
        return self._key(path) in self.entries

    def info(self, path) -> tuple[int, float]:
        """(number of cached frames, fps) of ``path``."""
        entry = self.entries[self._key(path)]
        return entry["frames"], entry["fps"]

    def frames(self, path, indices) -> torch.Tensor:
        """uint8 (T, 3, H, W) at ``indices`` (clamped to the cached frames)."""
        if self._memmap is None:
            self._memmap = np.memmap(self.folder / "frames.u8", dtype=np.uint8, mode="r")
        entry = self.entries[self._key(path)]
        n, h, w = entry["frames"], entry["height"], entry["width"]
        size = n * h * w * 3
        clip = self._memmap[entry["offset"] : entry["offset"] + size].reshape(n, h, w, 3)
        picked = np.asarray(clip[np.clip(np.asarray(indices), 0, n - 1)])  # (T, H, W, 3) copy
        return torch.from_numpy(picked).permute(0, 3, 1, 2)  # (T, 3, H, W)


def cache_folder(root, split: str | None = None) -> Path:
    """Where a dataset's decoded cache lives: ``ROOT/cache/<split>`` for a Kinetics root
    (beside ``train/``, ``val/``, ``annotations/``); ``ROOT/.cache`` for a folder per class
    (hidden, so that it is not read as one more class)."""
    return Path(root) / ".cache" if split is None else Path(root) / "cache" / split


def build_cache(paths, folder, *, progress=None) -> dict:
    """Decode every readable file of ``paths`` into ``folder`` (frames.u8 + index.json).

    Resumable: files already in an existing index are kept. Returns a report dict with
    ``written``, ``kept`` and ``failed`` ([(path, reason)]) — unreadable files are skipped.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    index_file, data_file = folder / "index.json", folder / "frames.u8"
    clips = json.loads(index_file.read_text())["clips"] if index_file.is_file() else {}
    offset = sum(e["frames"] * e["height"] * e["width"] * 3 for e in clips.values())
    report = {"written": 0, "kept": 0, "failed": []}
    with open(data_file, "ab") as data:
        data.truncate(offset)  # drop bytes of a clip interrupted before its index entry
        for path in paths:
            key = str(Path(path).resolve())
            if key in clips:
                report["kept"] += 1
                continue
            try:
                video, info = read_video(path)  # uint8 (N, 3, H, W)
            except Exception as err:  # noqa: BLE001 — any decoder failure means "skip"
                report["failed"].append((str(path), f"{type(err).__name__}: {err}"))
                continue
            array = video.permute(0, 2, 3, 1).contiguous().numpy()  # (N, H, W, 3)
            data.write(array.tobytes())
            n, h, w = array.shape[:3]
            clips[key] = dict(offset=offset, frames=n, height=h, width=w, fps=info.fps)
            offset += array.nbytes
            report["written"] += 1
            if report["written"] % 16 == 0:  # checkpoint: an interrupted build resumes here
                data.flush()
                _write_index(index_file, clips)
            if progress is not None:
                progress(str(path))
    _write_index(index_file, clips)
    return report


def _write_index(index_file: Path, clips: dict) -> None:
    atomic_write_text(index_file, json.dumps({"clips": clips}))  # never a half-written index
