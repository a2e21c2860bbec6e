"""Animations: attention maps over a clip's frames, as GIF (Pillow) or MP4 (PyAV).

The paper shows its attention maps (Fig. 7, §4.8) as still frames; an animation plays the
same per-frame maps in time (our addition).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from ..errors import UserError
from .maps import display_frames, overlay, to_uint8_frames
from .rollout import attention_rollout


def _enlarge(images: np.ndarray, min_side: int = 192) -> np.ndarray:
    """Nearest-neighbour enlarge (T, H, W, 3) so the short side is >= ``min_side``, even."""
    k = max(1, -(-min_side // min(images.shape[1:3])))
    big = images.repeat(k, axis=1).repeat(k, axis=2)
    return big[:, : big.shape[1] // 2 * 2, : big.shape[2] // 2 * 2]


def animate_attention(
    frames: torch.Tensor, heat: torch.Tensor, path, fps: float = 4.0, alpha: float = 0.5
) -> Path:
    """Write the frames with the map blended on (left: the clip, right: overlay).

    ``.gif`` via Pillow, ``.mp4`` via PyAV (H.264, or MPEG-4 when H.264 is unavailable).
    """
    heat = torch.as_tensor(heat).detach().float().cpu()
    both = np.concatenate([display_frames(frames), overlay(frames, heat, alpha)], axis=2)
    images = (_enlarge(both) * 255).round().astype(np.uint8)  # (T, H, 2W, 3)
    return write_animation(images, path, fps)


def write_animation(images: np.ndarray, path, fps: float = 4.0, kind: str | None = None) -> Path:
    """uint8 images (N, H, W, 3) as an animation: ``.gif`` via Pillow, ``.mp4`` via PyAV
    (H.264, or MPEG-4 when H.264 is unavailable; H and W must be even). ``kind`` ("gif" or
    "mp4") overrides the suffix, e.g. for a temporary file."""
    path = Path(path)
    kind = kind or path.suffix.lower().lstrip(".")
    if kind not in ("gif", "mp4"):
        raise UserError(f"animation path must end in .gif or .mp4, got {path.name!r}")
    path.parent.mkdir(parents=True, exist_ok=True)
    if kind == "gif":
        from PIL import Image

        pil = [Image.fromarray(im) for im in images]
        pil[0].save(
            path,
            format="GIF",
            save_all=True,
            append_images=pil[1:],
            duration=int(1000 / fps),
            loop=0,
        )
        return path
    import av

    from ..data.video import add_video_stream

    with av.open(str(path), "w", format="mp4") as container:
        stream = add_video_stream(container, fps, width=images.shape[2], height=images.shape[1])
        for im in images:
            container.mux(stream.encode(av.VideoFrame.from_ndarray(im, format="rgb24")))
        container.mux(stream.encode())  # flush
    return path


def save_attention_animation(
    model, video_float: torch.Tensor, frames_uint8: torch.Tensor | None, path, fps: float = 4.0
) -> Path:
    """Rollout of ``model`` on one clip, animated over the clip's frames (GIF or MP4).

    video_float: the model input (1, T, 3, H, W) or (T, 3, H, W); frames_uint8: the frames
    to draw on, (T, 3, H0, W0), any size (the map is resized to them); None = the input
    un-normalised with the model's mean and std.
    """
    video = video_float if video_float.ndim == 5 else video_float[None]
    device = next(model.parameters()).device
    relevance = attention_rollout(model, video[:1].to(device))[0].cpu()  # (T, H', W')
    if frames_uint8 is None:
        frames_uint8 = to_uint8_frames(video[0], model.config.mean, model.config.std)
    return animate_attention(frames_uint8, relevance, path, fps)
