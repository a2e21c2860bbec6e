"""Which frames make a clip: the paper's dense sampling and SSv2-style segment sampling.

Dense (§4, "Implementation details"): a clip is T frames taken every r frames of a video
resampled to ``target_fps`` (30 for Kinetics): 8×32 for TimeSformer, 16×16 for -HR, 96×4
for -L. Training takes a random start; testing takes the middle clip, or ``num_clips``
evenly spaced clips (the paper's 3 clips × 3 crops view protocol).
Segment sampling (TSN/SSv2 style): the video is cut into T equal segments and one frame is
taken per segment (random within it for training, its middle for testing).
Both return a list of T frame indices in ``[0, num_video_frames)``, non-decreasing;
a video shorter than the clip repeats its last frame (as the official loader does).
"""

from __future__ import annotations

import torch

from ..errors import UserError


def _check(num_video_frames: int, num_frames: int) -> None:
    if num_video_frames < 1:
        raise UserError(f"expected a video with at least 1 frame, got {num_video_frames}")
    if num_frames < 1:
        raise UserError(f"expected num_frames >= 1, got {num_frames}")


def clip_span(
    num_frames: int, stride: int, video_fps: float = 30.0, target_fps: float = 30.0
) -> float:
    """Frames of the video (at ``video_fps``) covered by one clip of T frames every r."""
    return num_frames * stride * video_fps / target_fps


def dense_indices(
    num_video_frames: int,
    num_frames: int = 8,
    stride: int = 32,
    *,
    video_fps: float = 30.0,
    target_fps: float = 30.0,
    clip_index: int | None = None,
    num_clips: int = 1,
    generator: torch.Generator | None = None,
) -> list[int]:
    """T frames, ``stride`` frames apart at ``target_fps``, from one window of the video.

    ``clip_index=None``: random window (training, drawn from ``generator``).
    ``clip_index=k`` of ``num_clips``: the k-th of evenly spaced windows from the first to
    the last possible start; with ``num_clips=1`` the middle window (testing).
    """
    _check(num_video_frames, num_frames)
    if stride < 1:
        raise UserError(f"expected stride >= 1, got {stride}")
    if clip_index is not None and not 0 <= clip_index < num_clips:
        raise UserError(f"expected 0 <= clip_index < num_clips={num_clips}, got {clip_index}")
    step = stride * video_fps / target_fps  # video frames between two sampled frames
    slack = max(num_video_frames - clip_span(num_frames, stride, video_fps, target_fps), 0.0)
    if clip_index is None:
        start = torch.rand((), generator=generator).item() * slack
    elif num_clips == 1:
        start = slack / 2
    else:
        start = slack * clip_index / (num_clips - 1)
    return [min(int(start + t * step), num_video_frames - 1) for t in range(num_frames)]


def segment_indices(
    num_video_frames: int,
    num_frames: int = 8,
    *,
    train: bool = False,
    generator: torch.Generator | None = None,
) -> list[int]:
    """One frame per equal segment: random inside it (``train``) or its middle frame."""
    _check(num_video_frames, num_frames)
    size = num_video_frames / num_frames  # segment length in frames (may be < 1)
    if train:
        offsets = torch.rand(num_frames, generator=generator).tolist()
    else:
        offsets = [0.5] * num_frames
    return [min(int((t + u) * size), num_video_frames - 1) for t, u in enumerate(offsets)]
