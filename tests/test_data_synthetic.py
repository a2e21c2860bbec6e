"""Synthetic clips: determinism, balance, motion semantics, and the pairing property."""

from collections import Counter
from dataclasses import replace

import pytest
import torch

from mini_timesformer.data import MOTION_CLASSES, SyntheticVideos
from mini_timesformer.data.synthetic import SHAPES, render


def test_items_are_uint8_clips_deterministic_per_index():
    a = SyntheticVideos("motion", num_frames=6, image_size=32, size=20, seed=5)
    b = SyntheticVideos("motion", num_frames=6, image_size=32, size=20, seed=5)
    clip, label = a[7]
    assert clip.shape == (6, 3, 32, 32) and clip.dtype == torch.uint8
    assert isinstance(label, int)
    assert torch.equal(clip, b[7][0]) and label == b[7][1]
    assert torch.equal(a[7][0], a[7][0])  # no hidden state between calls
    other = SyntheticVideos("motion", num_frames=6, image_size=32, size=20, seed=6)
    assert not torch.equal(clip, other[7][0])
    assert not torch.equal(a[0][0], a[len(a.classes)][0])  # same class, another clip


@pytest.mark.parametrize("kind", ["motion", "appearance"])
def test_classes_are_balanced_and_named(kind):
    ds = SyntheticVideos(kind, size=8 * 13)
    assert len(ds.classes) == 8 and len(set(ds.classes)) == 8
    counts = Counter(ds.label(i) for i in range(len(ds)))
    assert set(counts.values()) == {13}
    if kind == "motion":
        assert ds.classes == list(MOTION_CLASSES)


def _partners():
    return [(2 * k, 2 * k + 1) for k in range(4)]


def test_a_class_is_its_partner_played_backwards():
    """Same random draws: class 2k+1's parameters are class 2k's, reversed in time."""
    ds = SyntheticVideos("motion", num_frames=8, image_size=32, size=8)
    for forward, backward in _partners():
        for seed in range(5):
            p = ds.sample_params(forward, torch.Generator().manual_seed(seed))
            q = ds.sample_params(backward, torch.Generator().manual_seed(seed))
            assert q.label == backward and p.label == forward
            torch.testing.assert_close(q.states, p.states.flip(0))
            # and the drawn clip is exactly the forward clip reversed (noise included)
            torch.testing.assert_close(render(q, 32), render(p, 32).flip(0), rtol=0, atol=0)


def test_reversed_clips_have_the_partner_parameter_distribution():
    """Over many items, reversed move_left clips look statistically like move_right ones."""
    ds = SyntheticVideos("motion", num_frames=8, image_size=32, size=8 * 300)
    states = {
        c: torch.stack([ds.params(i).states for i in range(c, len(ds), 8)]) for c in range(8)
    }  # (300, T, 4) per class
    for forward, backward in _partners():
        a, b = states[forward], states[backward].flip(1)  # reverse time
        for d in range(4):  # x, y, angle, radius: mean and spread per frame
            assert (a[..., d].mean(0) - b[..., d].mean(0)).abs().max() < 0.25 * a[..., d].std()
            assert (a[..., d].std(0) - b[..., d].std(0)).abs().max() < 0.25 * a[..., d].std() + 1e-6


def test_motion_directions_and_speeds():
    T, size = 8, 32
    ds = SyntheticVideos("motion", num_frames=T, image_size=size, size=8 * 20, speed=(2, 3))
    for i in range(len(ds)):
        p = ds.params(i)
        x, y, angle, radius = p.states.unbind(1)
        delta = lambda s: s[1:] - s[:-1]
        name = ds.classes[p.label]
        sign = -1 if name in ("move_left", "move_up", "rotate_ccw", "shrink") else 1
        moving = {
            "move": x if name in ("move_left", "move_right") else y,
            "rotate": angle,
            "grow": radius,
            "shrink": radius,
        }[name.split("_")[0]]
        step = sign * delta(moving)
        assert (step > 0).all()
        if name.startswith("move"):
            assert step.min() >= 2 - 1e-4 and step.max() <= 3 + 1e-4
            assert x.min() >= 0 and x.max() <= size - 1 and y.min() >= 0 and y.max() <= size - 1
        if name.startswith("rotate"):  # turning about a pivot: the centre moves 2-3 px
            moved = torch.hypot(delta(x), delta(y))
            assert moved.min() >= 1.9 and moved.max() <= 3 + 1e-3
            assert x.min() >= 0 and x.max() <= size - 1 and y.min() >= 0 and y.max() <= size - 1
        still = (x, y, angle, radius) if not name.startswith("rotate") else (radius,)
        for other in still:  # everything else stays put
            if other is not moving:
                assert delta(other).abs().max() < 1e-5


def _object_mask(ds, index):
    """Pixels that change when only the object's colour changes: bool (T, H, W)."""
    p = ds.params(index)
    white = render(replace(p, colour=(1.0, 1.0, 1.0)), ds.image_size).float()
    black = render(replace(p, colour=(0.0, 0.0, 0.0)), ds.image_size).float()
    return (white - black).amax(dim=1) > 60


def test_rendered_pixels_move_the_way_the_class_says():
    ds = SyntheticVideos("motion", num_frames=8, image_size=32, size=8 * 6)
    grid = torch.arange(32, dtype=torch.float32)
    for i in range(len(ds)):
        name = ds.classes[ds.label(i)]
        mask = _object_mask(ds, i).float()  # (T, H, W)
        area = mask.sum(dim=(1, 2))
        assert (area > 0).all()
        cx = (mask * grid).sum(dim=(1, 2)) / area
        cy = (mask * grid.view(-1, 1)).sum(dim=(1, 2)) / area
        change = {
            "move_right": cx[-1] - cx[0],
            "move_left": cx[0] - cx[-1],
            "move_down": cy[-1] - cy[0],
            "move_up": cy[0] - cy[-1],
            "grow": area[-1] - area[0],
            "shrink": area[0] - area[-1],
        }.get(name)
        if change is not None:
            assert change > (8 if name.startswith("move") else 20), (name, change)


def test_appearance_classes_are_shape_and_colour_family():
    ds = SyntheticVideos("appearance", size=8 * 4)
    for i in range(len(ds)):
        p = ds.params(i)
        family, shape = ds.classes[p.label].split("_")
        assert SHAPES[p.shape] == shape
        red, _, blue = p.colour
        assert (red > blue) == (family == "warm"), (family, p.colour)


def test_clips_scale_with_image_size_and_bad_arguments():
    clip, _ = SyntheticVideos("motion", num_frames=4, image_size=64, size=2)[1]
    assert clip.shape == (4, 3, 64, 64)
    with pytest.raises(ValueError, match="unknown kind"):
        SyntheticVideos("colour")
    with pytest.raises(ValueError, match="speed"):
        SyntheticVideos(speed=(3, 1))
    with pytest.raises(IndexError):
        SyntheticVideos(size=4)[4]


def test_an_order_blind_model_cannot_tell_a_clip_from_its_partner():
    """The space scheme scores a clip and its partner (the reversed clip) identically: 50% cap."""
    import mini_timesformer as mt
    from mini_timesformer.data import to_float_clip

    torch.manual_seed(0)
    cfg = mt.TimeSformerConfig.preset("nano", attention="space", num_classes=8, depth=1)
    model = mt.TimeSformer(cfg).eval()
    ds = SyntheticVideos("motion", size=8)
    forward, backward = [], []
    for label in range(0, 8, 2):
        g = lambda seed=label: torch.Generator().manual_seed(seed)
        forward.append(render(ds.sample_params(label, g()), 32))
        backward.append(render(ds.sample_params(label + 1, g()), 32))
    video = to_float_clip(torch.stack(forward + backward), cfg.mean, cfg.std)
    with torch.no_grad():
        logits = model(video)
    torch.testing.assert_close(logits[:4], logits[4:], rtol=1e-5, atol=1e-5)
    assert not torch.allclose(logits[0], logits[1])  # different pairs do differ


def test_long_clips_keep_the_object_in_the_frame():
    ds = SyntheticVideos("motion", num_frames=16, image_size=32, size=8 * 10)
    for i in range(len(ds)):
        x, y, _, radius = ds.params(i).states.unbind(1)
        assert x.min() >= 0 and x.max() <= 31 and y.min() >= 0 and y.max() <= 31
        assert radius.max() <= 0.45 * 32 + 1e-4
