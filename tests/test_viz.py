"""Attention plots, Fig. 2, animations and the explorer: real figures from real attention."""

import sys
from fractions import Fraction

import av
import numpy as np
import pytest
import torch
from helpers import nano, randomize
from matplotlib.figure import Figure
from PIL import Image

import mini_timesformer as mt
from mini_timesformer import viz
from mini_timesformer.viz import rollout as ro


@pytest.fixture(scope="module")
def divided():
    model = randomize(mt.TimeSformer(nano("divided", depth=2)), std=0.1)
    video = torch.randn(1, 4, 3, 32, 32, generator=torch.Generator().manual_seed(0))
    frames = (torch.rand(4, 3, 32, 32, generator=torch.Generator().manual_seed(1)) * 255).to(
        torch.uint8
    )
    _, attention, grid = ro.model_attention(model, video)
    return model, video, frames, attention, grid


@pytest.mark.parametrize("scheme", mt.SCHEMES)
def test_receptive_fields_draw_the_visibility_of_every_step(scheme):
    query, T, grid = (1, 3, 2), 4, (8, 8)
    fig = viz.plot_receptive_fields(query, T, grid, schemes=(scheme,), frames=(0, 1, 3))
    assert isinstance(fig, Figure)
    masks = mt.schemes.visibility(scheme, T, *grid)
    q = (query[0] * grid[0] + query[1]) * grid[1] + query[2]
    seen = torch.stack(list(masks.values()))[:, q].any(0).view(T, *grid)  # any step
    axes = [ax for ax in fig.axes if ax.images]
    assert len(axes) == 3
    for ax, t in zip(axes, (0, 1, 3)):
        image = np.asarray(ax.images[0].get_array())  # (H', W', 3)
        coloured = (image != 1.0).any(-1)
        assert (coloured == seen[t].numpy()).all(), (scheme, t)
        if t == query[0]:
            assert tuple(image[query[1], query[2]]) == viz.QUERY_COLOUR
    first = next(iter(masks.values()))[q].view(T, *grid)
    image0 = np.asarray(axes[0].images[0].get_array())
    painted_first = (image0 == viz.STEP_COLOURS[0]).all(-1)
    assert (painted_first == first[0].numpy()).all()  # frame 0: the first step's keys


def test_receptive_fields_reject_bad_requests():
    with pytest.raises(ValueError, match="two or more frames"):
        viz.plot_receptive_fields(frames=(1,))
    with pytest.raises(ValueError, match="outside"):
        viz.plot_receptive_fields(query=(0, 9, 0))


def test_frames_are_displayed_in_unit_range():
    frames = torch.tensor([0, 255], dtype=torch.uint8).view(1, 1, 1, 2).expand(2, 3, 1, 2)
    assert viz.display_frames(frames).tolist()[0][0] == [[0, 0, 0], [1, 1, 1]]
    stretched = viz.display_frames(torch.tensor([-2.0, 6.0]).view(1, 1, 1, 2).expand(2, 3, 1, 2))
    assert stretched.min() == 0 and stretched.max() == 1
    with pytest.raises(ValueError, match=r"expected frames of shape \(T, 3, H, W\)"):
        viz.display_frames(torch.zeros(4, 32, 32))


def test_rollout_overlay_shows_each_frames_share(divided):
    _, _, frames, attention, grid = divided
    relevance = ro.rollout(attention, "divided", grid)[0]
    fig = viz.plot_attention_frames(frames, relevance, "rollout", query=(2, 1, 1))
    shares = [float(ax.get_title().split()[-1][:-1]) for ax in fig.axes]
    assert len(shares) == 4 and abs(sum(shares) - 100) <= 2
    expected = relevance.sum((1, 2)) * 100
    assert np.allclose(shares, expected.round().numpy(), atol=0.51)
    assert any(p.get_edgecolor()[:3] == (1, 1, 1) for p in fig.axes[2].patches)  # the query box
    blended = viz.overlay(frames, relevance)
    assert blended.shape == (4, 32, 32, 3) and 0 <= blended.min() and blended.max() <= 1
    with pytest.raises(ValueError, match="map has 3 frames but the clip has 4"):
        viz.overlay(frames, relevance[:3])


def test_layer_head_grid_mean_column_is_the_head_average(divided):
    _, _, _, attention, grid = divided
    fig = viz.plot_layer_head_grid(attention, "divided", grid, query=(1, 2, 2))
    heads = attention[0]["space"].shape[2]
    axes = np.array(fig.axes).reshape(2, heads + 1)
    for row in axes:
        images = [np.asarray(ax.images[0].get_array()) for ax in row]
        assert images[0].shape == (grid[1], grid[0] * grid[2])  # frames side by side
        np.testing.assert_allclose(np.mean(images[:-1], axis=0), images[-1], rtol=1e-5, atol=1e-7)


def test_temporal_attention_spreads_a_patch_over_frames(divided):
    _, _, _, attention, grid = divided
    fig = viz.plot_temporal_attention(attention, "divided", grid, query=(1, 2, 2))
    layer_lines = [ln for ln in fig.axes[1].lines if ln.get_label().startswith("block")]
    assert len(layer_lines) == 2
    for line in layer_lines:  # the time step: one key per frame, no CLS -> sums to 1
        y = line.get_ydata()
        assert len(y) == grid[0] and abs(y.sum() - 1) < 1e-5


def test_gif_and_mp4_animations_have_every_frame(divided, tmp_path):
    model, video, frames, _, _ = divided
    gif = viz.save_attention_animation(model, video, frames, tmp_path / "a.gif")
    with Image.open(gif) as im:
        assert im.n_frames == 4 and im.size[0] == 2 * im.size[1]  # clip | overlay
    mp4 = viz.save_attention_animation(model, video[0], frames, tmp_path / "a.mp4")
    with av.open(str(mp4)) as container:
        decoded = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    assert len(decoded) == 4 and decoded[0].shape[1] == 2 * decoded[0].shape[0]
    with pytest.raises(ValueError, match="must end in .gif or .mp4"):
        viz.animate_attention(frames, torch.ones(4, 4, 4), tmp_path / "a.avi")


def test_explorer_redraws_on_slider_changes_and_degrades_to_a_figure(divided, monkeypatch):
    model, video, frames, _, _ = divided
    box = viz.attention_explorer(model, video, frames)
    assert "CLS" in box.figure._suptitle.get_text()
    box.controls["cls"].value = False
    box.controls["head"].value = 1
    title = box.figure._suptitle.get_text()
    assert "patch (0, 2, 2)" in title and "head 1" in title
    assert isinstance(viz.attention_explorer(model, video, widgets=False), Figure)
    monkeypatch.setitem(sys.modules, "ipywidgets", None)  # as if not installed
    assert isinstance(viz.attention_explorer(model, video, frames), Figure)


def test_predict_attention_flag_writes_the_rollout_gif(tmp_path, capsys):
    import json

    from mini_timesformer.cli import main
    from mini_timesformer.data import sample_video_paths

    bikes = next(p for p in sample_video_paths() if p.name == "bikes.mp4")
    model = mt.TimeSformer(
        mt.TimeSformerConfig.preset(
            "nano", num_frames=4, num_classes=3, label_names=["a", "b", "c"]
        )
    )
    model.save_pretrained(tmp_path / "ckpt")
    out = tmp_path / "attention.gif"
    assert (
        main(
            [
                "predict",
                str(bikes),
                "--checkpoint",
                str(tmp_path / "ckpt"),
                "--json",
                "--attention",
                str(out),
            ]
        )
        == 0
    )
    assert json.loads(capsys.readouterr().out)["attention"] == str(out)
    with Image.open(out) as im:
        assert im.n_frames == 4 and im.size[0] == 2 * im.size[1]


def test_mp4_animation_keeps_a_fractional_frame_rate(tmp_path):
    """The one encoder (``data.video.add_video_stream``) keeps fps exact: 2.5 is 5/2, not 2."""
    images = np.random.default_rng(0).integers(0, 255, (5, 32, 48, 3), dtype=np.uint8)
    path = viz.write_animation(images, tmp_path / "a.mp4", fps=2.5)
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        assert stream.average_rate == Fraction(5, 2)
        assert (stream.width, stream.height) == (48, 32)
        assert sum(1 for _ in container.decode(stream)) == 5
