"""Transforms: train augmentation, test views (paper §4), normalisation, load_clip_views."""

import pytest
import torch
from torchvision.transforms.v2 import functional as TF

from mini_timesformer.data import (
    dense_indices,
    eval_views,
    load_clip_views,
    probe_video,
    read_frames,
    resize_short_side,
    sample_video_paths,
    to_float_clip,
    train_transform,
)

MEAN, STD = (0.45, 0.4, 0.35), (0.225, 0.2, 0.25)


def _clip(T=4, H=36, W=60, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randint(0, 256, (T, 3, H, W), generator=g, dtype=torch.uint8)


def test_to_float_clip_is_the_normalisation_formula():
    clip = _clip()
    out = to_float_clip(clip, MEAN, STD)
    for c in range(3):
        expected = (clip[:, c].double() / 255 - MEAN[c]) / STD[c]
        torch.testing.assert_close(out[:, c].double(), expected, rtol=1e-6, atol=1e-6)
    assert out.dtype == torch.float32
    with pytest.raises(ValueError, match="uint8"):
        to_float_clip(out, MEAN, STD)


def test_resize_short_side_keeps_aspect():
    assert resize_short_side(_clip(H=36, W=60), 24).shape[-2:] == (24, 40)
    assert resize_short_side(_clip(H=60, W=36), 24).shape[-2:] == (40, 24)


def test_train_transform_is_a_crop_of_the_rescaled_clip_same_for_all_frames():
    clip = _clip(T=3, H=40, W=64)
    for seed in range(6):
        g1, g2 = (torch.Generator().manual_seed(seed) for _ in range(2))
        out = train_transform(32, (32, 40), flip=True, generator=g1)(clip)
        assert out.shape == (3, 3, 32, 32) and out.dtype == torch.uint8
        # replay the same draws: scale, top, left, flip
        size = int(torch.randint(32, 41, (), generator=g2))
        scaled = resize_short_side(clip, size)
        top = int(torch.randint(0, scaled.shape[-2] - 32 + 1, (), generator=g2))
        left = int(torch.randint(0, scaled.shape[-1] - 32 + 1, (), generator=g2))
        expected = scaled[..., top : top + 32, left : left + 32]
        if torch.rand((), generator=g2) < 0.5:
            expected = expected.flip(-1)
        torch.testing.assert_close(out, expected, rtol=0, atol=0)


def test_train_transform_flip_off_never_mirrors_and_float_output():
    ramp = torch.arange(48, dtype=torch.uint8).mul(5).expand(2, 3, 32, 48).contiguous()
    for seed in range(10):
        out = train_transform(
            32, (32, 32), flip=False, generator=torch.Generator().manual_seed(seed)
        )(ramp)
        assert (out[..., 1:].int() - out[..., :-1].int() >= 0).all()  # still increasing
    out = train_transform(32, mean=MEAN, std=STD)(_clip(H=48, W=48))
    assert out.dtype == torch.float32 and out.shape == (4, 3, 32, 32)


def test_train_transform_default_scale_range_is_the_papers_for_224():
    assert train_transform(224).scale_range == (256, 320)
    with pytest.raises(ValueError, match="scale_range"):
        train_transform(224, (200, 300))
    with pytest.raises(ValueError, match=r"\(T, 3, H, W\)"):
        train_transform(16)(torch.zeros(3, 16, 16, dtype=torch.uint8))


@pytest.mark.parametrize("H, W", [(36, 60), (60, 36)])
def test_test_views_three_crops_along_the_long_side(H, W):
    clip = _clip(H=H, W=W)
    views = eval_views(clip, 24, num_crops=3)
    assert views.shape == (3, 4, 3, 24, 24)
    scaled = resize_short_side(clip, 24)
    long = max(scaled.shape[-2:])
    for view, start in zip(views, (0, (long - 24) // 2, long - 24)):
        expected = (
            scaled[..., :, start : start + 24] if W > H else scaled[..., start : start + 24, :]
        )
        torch.testing.assert_close(view, expected, rtol=0, atol=0)
    centre = eval_views(clip, 24, num_crops=1)
    torch.testing.assert_close(centre[0], views[1], rtol=0, atol=0)
    normalised = eval_views(clip, 24, mean=MEAN, std=STD)
    torch.testing.assert_close(normalised, to_float_clip(views, MEAN, STD))
    with pytest.raises(ValueError, match="num_crops 1 or 3"):
        eval_views(clip, 24, num_crops=2)


def test_load_clip_views_is_the_paper_protocol_clip_major():
    path = next(p for p in sample_video_paths() if p.name == "carphone_pristine.mp4")
    info = probe_video(path)
    views = load_clip_views(path, 4, 8, 64, MEAN, STD, num_clips=2, num_crops=3)
    assert views.shape == (6, 4, 3, 64, 64) and views.dtype == torch.float32
    for k in range(2):  # views k*3 .. k*3+2 are the crops of temporal clip k
        indices = dense_indices(
            info.num_frames, 4, 8, video_fps=info.fps, clip_index=k, num_clips=2
        )
        frames = read_frames(path, indices)
        expected = eval_views(frames, 64, 3, mean=MEAN, std=STD)
        torch.testing.assert_close(views[3 * k : 3 * k + 3], expected)
    # the crops really are different parts of a landscape frame
    assert not torch.equal(views[0], views[2])
    assert TF.get_size(views[0]) == [64, 64]
