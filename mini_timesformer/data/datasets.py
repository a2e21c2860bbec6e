"""File-based video datasets: Kinetics (annotation CSV / PySlowFast lists) and VideoFolder."""

from __future__ import annotations

import torch


class VideoClipDataset(torch.utils.data.Dataset):
    """Items ``(uint8 clip (T, 3, H, W), label)``; unreadable files reported once, skipped."""


class KineticsDataset(VideoClipDataset):
    def __init__(self, root, split: str = "train", *, num_frames: int = 8, stride: int = 32,
                 target_fps: float = 30.0, sampling: str = "dense", train: bool | None = None,
                 transform=None, annotations=None, classes=None, cache=None, seed: int = 0):
        raise NotImplementedError("KineticsDataset: being written (issue 4)")


class VideoFolder(VideoClipDataset):
    def __init__(self, root, *, num_frames: int = 8, stride: int = 32,
                 target_fps: float = 30.0, sampling: str = "dense", train: bool = True,
                 transform=None, classes=None, cache=None, seed: int = 0):
        raise NotImplementedError("VideoFolder: being written (issue 4)")
