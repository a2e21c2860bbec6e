"""Spatial transforms of uint8 clips (T, 3, H, W) and the paper's test views.

Training (§4): scale the short side to a random size in [256, 320] (for 224 crops; we keep
the same 8/7–10/7 ratio for other crop sizes), random crop, horizontal flip — the same
parameters for every frame of the clip. Flip is off for direction-sensitive data (our
synthetic motion, SSv2). Testing: short side = crop size, then 1 centre crop or 3 crops
(left/centre/right along the long side: official ``datasets/transform.py``
``uniform_crop``; the paper says top-left, center, bottom-right, §4). ``to_float_clip`` is the last step: uint8 → float
in [0, 1] → ``(x - mean) / std`` with the mean/std the model config carries.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torchvision.transforms.v2 import functional as TF

from ..errors import UserError
from .sampling import dense_indices
from .video import read_clip


def _check_clip(clip: torch.Tensor, where: str) -> None:
    if clip.ndim != 4 or clip.shape[1] != 3:
        raise UserError(f"{where}: expected a clip (T, 3, H, W), got shape {tuple(clip.shape)}")


def to_float_clip(clip: torch.Tensor, mean: Sequence[float], std: Sequence[float]) -> torch.Tensor:
    """uint8 (..., 3, H, W) → float32 normalised ``(x / 255 - mean) / std``."""
    if clip.dtype != torch.uint8:
        raise UserError(f"to_float_clip: expected a uint8 clip, got {clip.dtype}")
    if clip.ndim < 3 or clip.shape[-3] != 3:
        raise UserError(f"to_float_clip: expected (..., 3, H, W), got {tuple(clip.shape)}")
    mean_t = torch.tensor(mean, dtype=torch.float32).view(3, 1, 1)
    std_t = torch.tensor(std, dtype=torch.float32).view(3, 1, 1)
    return (clip.float() / 255.0 - mean_t) / std_t


def resize_short_side(clip: torch.Tensor, size: int) -> torch.Tensor:
    """Resize (T, 3, H, W) so that min(H, W) == size, keeping the aspect ratio."""
    _check_clip(clip, "resize_short_side")
    height, width = clip.shape[-2:]
    if min(height, width) == size:
        return clip
    if height <= width:
        new = (size, max(size, round(width * size / height)))
    else:
        new = (max(size, round(height * size / width)), size)
    return TF.resize(clip, list(new), antialias=True)


def _crop(clip: torch.Tensor, top: int, left: int, size: int) -> torch.Tensor:
    return clip[..., top : top + size, left : left + size]  # (T, 3, size, size)


class TrainTransform:
    """Random short-side scale → random crop → optional horizontal flip (→ float).

    Called on a uint8 clip (T, 3, H, W). Returns uint8 (T, 3, crop, crop), or the
    normalised float clip when ``mean`` and ``std`` are given.
    """

    def __init__(
        self,
        crop_size: int,
        scale_range: tuple[int, int] | None = None,
        flip: bool = True,
        mean: Sequence[float] | None = None,
        std: Sequence[float] | None = None,
        generator: torch.Generator | None = None,
    ):
        if scale_range is None:  # the paper's [256, 320] for 224 crops, scaled
            scale_range = (round(crop_size * 8 / 7), round(crop_size * 10 / 7))
        low, high = scale_range
        if not crop_size <= low <= high:
            raise UserError(
                f"train_transform: expected crop_size <= scale_range[0] <= "
                f"scale_range[1], got crop {crop_size}, range {scale_range}"
            )
        if (mean is None) != (std is None):
            raise UserError("train_transform: give both mean and std, or neither")
        self.crop_size, self.scale_range, self.flip = crop_size, (low, high), flip
        self.mean, self.std, self.generator = mean, std, generator

    def _randint(self, low: int, high: int) -> int:
        """Uniform integer in [low, high]."""
        return int(torch.randint(low, high + 1, (), generator=self.generator))

    def __call__(self, clip: torch.Tensor) -> torch.Tensor:
        _check_clip(clip, "train_transform")
        clip = resize_short_side(clip, self._randint(*self.scale_range))
        height, width = clip.shape[-2:]
        top = self._randint(0, height - self.crop_size)
        left = self._randint(0, width - self.crop_size)
        clip = _crop(clip, top, left, self.crop_size)
        if self.flip and torch.rand((), generator=self.generator) < 0.5:
            clip = clip.flip(-1)
        if self.mean is not None:
            return to_float_clip(clip, self.mean, self.std)
        return clip.contiguous()


def train_transform(
    crop_size: int,
    scale_range: tuple[int, int] | None = None,
    flip: bool = True,
    mean: Sequence[float] | None = None,
    std: Sequence[float] | None = None,
    generator: torch.Generator | None = None,
) -> TrainTransform:
    """The paper's training augmentation as a callable on uint8 clips (see TrainTransform)."""
    return TrainTransform(crop_size, scale_range, flip, mean, std, generator)


def parse_views(text: str) -> tuple[int, int]:
    """``"1x3"`` -> (1 temporal clip, 3 spatial crops): the ``--views`` of ``predict``/``eval``."""
    try:
        clips, crops = (int(part) for part in text.lower().split("x"))
    except ValueError:
        raise UserError(f"expected CLIPSxCROPS such as 1x3 or 3x3, got {text!r}") from None
    check_views(clips, crops)
    return clips, crops


def check_views(num_clips: int, num_crops: int) -> None:
    """One-line error unless there is at least one clip and 1 or 3 crops."""
    if num_clips < 1 or num_crops not in (1, 3):
        raise UserError(
            f"expected CLIPSxCROPS views with at least 1 clip and 1 or 3 crops, "
            f"got {num_clips}x{num_crops}"
        )


def eval_views(
    clip: torch.Tensor,
    crop_size: int,
    num_crops: int = 3,
    short_side: int | None = None,
    mean: Sequence[float] | None = None,
    std: Sequence[float] | None = None,
) -> torch.Tensor:
    """Test-time spatial views: (num_crops, T, 3, crop, crop), uint8 or normalised float.

    Short side → ``short_side`` (default: crop size, as the paper), then 1 centre crop or
    3 crops spread along the long side (left/top, centre, right/bottom).
    """
    _check_clip(clip, "eval_views")
    if num_crops not in (1, 3):
        raise UserError(f"eval_views: expected num_crops 1 or 3, got {num_crops}")
    short_side = crop_size if short_side is None else short_side
    if short_side < crop_size:
        raise UserError(f"eval_views: short_side {short_side} is smaller than crop {crop_size}")
    clip = resize_short_side(clip, short_side)
    height, width = clip.shape[-2:]
    centre = ((height - crop_size) // 2, (width - crop_size) // 2)
    if num_crops == 1:
        corners = [centre]
    elif width >= height:  # spread along the width
        corners = [(centre[0], x) for x in (0, centre[1], width - crop_size)]
    else:
        corners = [(y, centre[1]) for y in (0, centre[0], height - crop_size)]
    views = torch.stack([_crop(clip, top, left, crop_size) for top, left in corners])
    if mean is not None or std is not None:
        return to_float_clip(views, mean, std)
    return views  # (num_crops, T, 3, crop, crop)


eval_views.__test__ = False  # not a pytest test when imported into a test module


def load_clip_views(
    path,
    num_frames: int,
    stride: int,
    crop_size: int,
    mean: Sequence[float],
    std: Sequence[float],
    num_clips: int = 1,
    num_crops: int = 3,
    short_side: int | None = None,
    target_fps: float = 30.0,
) -> torch.Tensor:
    """The paper's test protocol for one video file: float (V, T, 3, crop, crop).

    ``num_clips`` evenly spaced temporal clips (1 = the middle clip) × ``num_crops``
    spatial crops, V = num_clips · num_crops, ordered clip-major (clip 0's crops first).
    """

    def choose(info):  # all clips' indices, concatenated: one open, one decode pass
        return [
            i
            for k in range(num_clips)
            for i in dense_indices(
                max(info.num_frames, 1),
                num_frames,
                stride,
                video_fps=info.fps,
                target_fps=target_fps,
                clip_index=k,
                num_clips=num_clips,
            )
        ]

    frames, _ = read_clip(path, choose)  # (num_clips·T, 3, H, W)
    views = [
        eval_views(
            frames[k * num_frames : (k + 1) * num_frames],
            crop_size,
            num_crops,
            short_side,
            mean,
            std,
        )
        for k in range(num_clips)
    ]
    return torch.cat(views)  # (num_clips·num_crops, T, 3, crop, crop)
