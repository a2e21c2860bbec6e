"""Exercise 12's checks (a model at a new resolution and frame count): the references agree
with the package where the package applies, pass, and each named mistake fails with its hint."""

import pytest
import torch

import mini_timesformer as mt
from mini_timesformer import checks
from mini_timesformer.checks import CheckFailed
from mini_timesformer.checks.resolution import reference_tokens, resize_frames, resize_grid


def test_references_agree_with_the_package():
    pos = torch.randn(1, 1 + 16, 8)
    torch.testing.assert_close(
        resize_grid(pos, (4, 4), (6, 6)), mt.embed.resize_pos_embed(pos, (6, 6), "bicubic")
    )
    time = torch.randn(1, 8, 8)
    torch.testing.assert_close(
        resize_frames(time, 16, mode="nearest"), mt.embed.resize_time_embed(time, 16)
    )
    for size, P, T, scheme in ((32, 8, 8, "divided"), (48, 8, 4, "space")):
        cfg = mt.TimeSformerConfig(image_size=size, patch_size=P, num_frames=T, attention=scheme)
        assert reference_tokens(size, P, T, scheme) == (
            T * (1 + cfg.num_patches) if scheme == "space" else 1 + T * cfg.num_patches
        )


def test_references_pass(capsys):
    checks.check_resize_position(resize_grid)
    checks.check_resize_time(resize_frames)
    checks.check_clip_tokens(reference_tokens)
    assert capsys.readouterr().out.count("  ok  ") == 3


@pytest.mark.parametrize(
    "mistake, hint",
    [
        (lambda p, o, n: resize_grid(p, o, n, mode="nearest"), "nearest interpolation"),
        (lambda p, o, n: resize_grid(p, o, n, mode="bilinear"), "bilinear interpolation"),
        (lambda p, o, n: resize_grid(p, o, n, align_corners=True), "align_corners=True"),
        (lambda p, o, n: resize_grid(p, o, n, order="w h"), r"read as \(w h\)"),
        (lambda p, o, n: resize_grid(p, o, n)[:, 1:], "CLS slot .* was dropped"),
        (lambda p, o, n: mt.embed.resize_pos_embed(p, n, "bicubic"), "need not be square"),
    ],
)
def test_position_mistakes_are_named(mistake, hint):
    with pytest.raises(CheckFailed, match=hint):
        checks.check_resize_position(mistake)


@pytest.mark.parametrize(
    "mistake, hint",
    [
        (mt.embed.resize_time_embed, "nearest interpolation"),
        (lambda t, T: resize_frames(t, T, align_corners=True), "align_corners=True"),
        (lambda t, T: t.repeat(1, -(-T // t.shape[1]), 1)[:, :T], "repeated"),
        (lambda t, T: resize_frames(t, T).transpose(1, 2), "frame axis"),
    ],
)
def test_time_mistakes_are_named(mistake, hint):
    with pytest.raises(CheckFailed, match=hint):
        checks.check_resize_time(mistake)


@pytest.mark.parametrize(
    "mistake, hint",
    [
        (lambda s, p, t, sc: 1 + t * (s // p) ** 2, "own CLS"),  # lesson 15's divided formula
        (lambda s, p, t, sc: t * (1 + (s // p) ** 2), "one CLS for the whole clip"),
        (lambda s, p, t, sc: t * (s // p) ** 2, "left out"),
        (lambda s, p, t, sc: "many", "got 'many'"),
    ],
)
def test_token_mistakes_are_named(mistake, hint):
    with pytest.raises(CheckFailed, match=hint):
        checks.check_clip_tokens(mistake)
