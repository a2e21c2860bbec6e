"""Synthetic clips generated on the fly: the course's offline dataset (skeleton)."""

from __future__ import annotations

import torch

MOTION_CLASSES = ("move_left", "move_right", "move_up", "move_down",
                  "rotate_cw", "rotate_ccw", "grow", "shrink")


class SyntheticVideos(torch.utils.data.Dataset):
    """Items ``(uint8 clip (T, 3, H, W), label)``, deterministic per index (WIP)."""

    def __init__(self, kind: str = "motion", num_frames: int = 8, image_size: int = 32,
                 size: int = 1024, seed: int = 0, speed: tuple[float, float] | None = None,
                 transform=None):
        raise NotImplementedError("SyntheticVideos: being written (issue 4)")
