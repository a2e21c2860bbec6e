"""docs/architecture.md, "How to add a sixth attention scheme", is true: a new scheme is one
``schemes.Scheme`` record (plus a ``Grouping`` record if it cuts the tokens a new way), and
the model, its parameter and MAC counts, the visibility masks (Fig. 2), rollout and every
figure of ``mt.viz`` follow. Two schemes are registered here for the duration of the tests
only, none in the package:

* ``space_then_time``: the paper's reverse order of divided attention (§4.7), whose
  temporal step is its last (CLS) step;
* ``four_step``: width, height, a new ``pairs`` grouping (two consecutive frames, all their
  patches; needs an even number of frames), then space — four steps, so four colours.
"""

from pathlib import Path

import numpy as np
import pytest
import torch
from helpers import nano, randomize
from matplotlib.colors import to_rgb
from PIL import Image
from torch.utils.flop_counter import FlopCounterMode

import mini_timesformer as mt
from mini_timesformer import cost, schemes, viz
from mini_timesformer.data import SyntheticVideos, to_float_clip
from mini_timesformer.perf import curves
from mini_timesformer.schemes import GROUPINGS, Grouping, Scheme
from mini_timesformer.viz.attention_epochs import AttentionSnapshots
from mini_timesformer.viz.cost_figures import plot_cost_curves

PAIRS = Grouping(
    "pairs",
    "b (t p h w) d -> (b t) (p h w) d",  # (T/2 pairs of frames) groups of 2·H'·W' tokens
    temporal=True,
    sizes=lambda t, h, w: dict(t=t // 2, p=2, h=h, w=w),
    needs="an even number of frames",
)
NEW = {
    "space_then_time": Scheme(
        "space_then_time", (GROUPINGS["space"], GROUPINGS["time"]), "space then time, §4.7"
    ),
    "four_step": Scheme(
        "four_step",
        (GROUPINGS["width"], GROUPINGS["height"], PAIRS, GROUPINGS["space"]),
        "a four-step scheme of this test",
    ),
}
# the facts each scheme's figures must show, written out here (not read off the records)
TEMPORAL_STEP = {"space_then_time": "time", "four_step": "pairs"}
CLS_STEP = {"space_then_time": "time", "four_step": "space"}


def sees(step: str, q, k) -> bool:
    """Does query patch q = (t, h, w) see key patch k in a step: from coordinates alone."""
    (t, h, w), (t2, h2, w2) = q, k
    return {
        "space": t == t2,
        "time": (h, w) == (h2, w2),
        "width": (t, h) == (t2, h2),
        "height": (t, w) == (t2, w2),
        "pairs": t // 2 == t2 // 2,
    }[step]


class Normalised(torch.utils.data.Dataset):
    """Synthetic motion clips as the model's float input (what training snapshots get)."""

    def __init__(self, cfg):
        self.base = SyntheticVideos("motion", num_frames=4, image_size=32, size=8, seed=1)
        self.classes, self.cfg = self.base.classes, cfg

    def __len__(self):
        return len(self.base)

    def __getitem__(self, index):
        clip, label = self.base[index]
        return to_float_clip(clip, self.cfg.mean, self.cfg.std), label


def coordinates(T, H, W):
    return [(t, h, w) for t in range(T) for h in range(H) for w in range(W)]  # time-major


@pytest.fixture(scope="module", params=list(NEW))
def new_scheme(request):
    """Register one new scheme (the registries are restored afterwards); a nano model of
    it with random weights, a 4-frame clip and its attention."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(schemes, "SCHEME_RECORDS", dict(schemes.SCHEME_RECORDS))
        patch.setattr(schemes, "GROUPINGS", dict(schemes.GROUPINGS))
        schemes.register(NEW[request.param])
        model = randomize(mt.TimeSformer(nano(request.param, depth=2, num_frames=4)), std=0.1)
        video = torch.randn(1, 4, 3, 32, 32, generator=torch.Generator().manual_seed(0))
        frames = torch.randint(
            0, 256, (4, 3, 32, 32), generator=torch.Generator().manual_seed(1), dtype=torch.uint8
        )
        _, attention, grid = viz.model_attention(model, video)
        yield request.param, model, video, frames, attention, grid


def test_the_model_runs_with_the_schemes_steps_and_counts(new_scheme):
    name, model, video, _, attention, grid = new_scheme
    record = NEW[name]
    steps = list(model.blocks[0].steps.values())
    assert [s.grouping for s in steps] == list(record.step_names) == list(attention[0])
    assert [s.with_cls for s in steps] == [s.grouping == CLS_STEP[name] for s in steps]
    assert [s.extra is not None for s in steps] == [not s.with_cls for s in steps]
    assert cost.params(model.config) == sum(p.numel() for p in model.parameters())
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        logits, _ = model.forward_with_attention(video)
    torch.testing.assert_close(model(video), logits)  # the fused path computes the same
    assert logits.shape == (1, 5) and torch.isfinite(logits).all()
    assert abs(cost.macs(model.config, 4, 32) / (counter.get_total_flops() / 2) - 1) < 0.01
    # groups on the 4×4×4 grid: a frame each (space), a location (time), a row or a
    # column of a frame (width, height), two frames (pairs)
    groups = {"space": 4, "time": 16, "width": 16, "height": 16, "pairs": 2}
    for step, weights in attention[0].items():  # (B, G, heads, L, L), L with a CLS copy
        G = groups[step]
        L = 4 * 16 // G + (step == CLS_STEP[name])
        assert weights.shape == (1, G, 4, L, L)


def test_the_masks_are_the_steps_groups(new_scheme):
    name = new_scheme[0]
    T, H, W = 4, 2, 4
    masks = schemes.visibility(name, T, H, W)
    assert list(masks) == list(NEW[name].step_names)
    points = coordinates(T, H, W)
    for step, mask in masks.items():
        expected = torch.tensor([[sees(step, q, k) for k in points] for q in points])
        assert torch.equal(mask, expected), step


def test_a_grid_the_new_grouping_cannot_cut_is_refused():
    pairs_only = Scheme("pairs_only", (PAIRS,), "a one-step scheme of this test")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(schemes, "SCHEME_RECORDS", dict(schemes.SCHEME_RECORDS))
        patch.setattr(schemes, "GROUPINGS", dict(schemes.GROUPINGS))
        schemes.register(pairs_only)
        message = "pairs_only needs an even number of frames: got T=3, H'=4, W'=4 patches"
        with pytest.raises(ValueError, match=message):
            mt.TimeSformerConfig.preset("nano", attention="pairs_only", num_frames=3)
        with pytest.raises(ValueError, match="exists already"):
            schemes.register(pairs_only)
        frames = Grouping("frames", "b (t h w) d -> (b t) (h w) d", temporal=False)
        clash = Grouping("time", "b (t h w) d -> (b t) (h w) d", temporal=False)
        with pytest.raises(ValueError, match="different grouping is already called 'time'"):
            schemes.register(Scheme("clash", (frames, clash), "none"))
        assert "clash" not in schemes.STEPS and "frames" not in schemes.GROUPINGS  # all refused
    assert "pairs_only" not in schemes.STEPS  # the registries are restored
    with pytest.raises(ValueError, match="needs distinct steps"):
        Scheme("twice", (PAIRS, PAIRS), "none")
    with pytest.raises(ValueError, match="has a step over frames"):
        Scheme("flat", (PAIRS,), "none", per_frame=True)


def test_receptive_fields_give_each_step_its_own_colour(new_scheme):
    name = new_scheme[0]
    query, T, grid = (1, 1, 2), 4, (4, 4)
    fig = viz.plot_receptive_fields(query, T, grid, schemes=(name,))
    [legend] = [ax.get_legend() for ax in fig.axes if ax.get_legend()]
    labels = [text.get_text() for text in legend.get_texts()]
    colours = [tuple(to_rgb(h.get_facecolor())) for h in legend.legend_handles]
    assert labels == list(NEW[name].step_names)  # one legend entry per step, in order
    assert len(set(colours)) == len(labels) and viz.QUERY_COLOUR not in colours
    for t, ax in enumerate(ax for ax in fig.axes if ax.images):
        image = np.asarray(ax.images[0].get_array())  # (H', W', 3)
        for h in range(grid[0]):
            for w in range(grid[1]):
                first = next((k for k, s in enumerate(labels) if sees(s, query, (t, h, w))), None)
                if (t, h, w) == query:
                    expected = viz.QUERY_COLOUR
                else:  # the earliest step that sees the key paints it; unseen stays white
                    expected = (1.0, 1.0, 1.0) if first is None else colours[first]
                np.testing.assert_allclose(image[h, w], expected, atol=1e-6)
    assert {tuple(c) for c in viz.step_colours(4)[:3]} == {tuple(c) for c in viz.STEP_COLOURS}


def test_step_colours_stay_distinct_for_many_steps():
    for n in (1, 3, 8, 13):
        colours = viz.step_colours(n)
        assert len(colours) == n and len({tuple(np.round(c, 3)) for c in colours}) == n
        assert all(0 <= x <= 1 for c in colours for x in c)


def test_temporal_attention_shows_the_temporal_step(new_scheme):
    name, _, _, _, attention, grid = new_scheme
    query = (1, 2, 1)
    fig = viz.plot_temporal_attention(attention, name, grid, query=query)
    assert f"step '{TEMPORAL_STEP[name]}'" in fig.axes[0].get_title()
    lines = [ln.get_ydata() for ln in fig.axes[1].lines if ln.get_label().startswith("block")]
    assert len(lines) == 2
    for y in lines:  # mass per key frame, as the temporal step's groups allow
        assert len(y) == grid[0] and (y >= 0).all() and y.sum() <= 1 + 1e-5
        in_group = [sees(TEMPORAL_STEP[name], query, (t, *query[1:])) for t in range(grid[0])]
        assert (y[~np.array(in_group)] == 0).all() and (y[np.array(in_group)] > 0).all()
    assert sum(in_group) > 1  # the step spans frames: more than the query's own


def test_rollout_and_every_attention_figure_draw(new_scheme, tmp_path):
    name, model, video, frames, attention, grid = new_scheme
    heat = mt.rollout.rollout(attention, name, grid)
    dense = mt.rollout.rollout(attention, name, grid, dense=True)
    assert heat.shape == (1, *grid) and torch.allclose(heat.sum(), torch.tensor(1.0))
    torch.testing.assert_close(heat, dense)  # the row-vector path equals the dense product
    torch.testing.assert_close(viz.attention_rollout(model, video), heat)

    shares = viz.plot_attention_frames(frames, heat[0], "rollout")
    percent = [float(ax.get_title().split()[-1][:-1]) for ax in shares.axes]
    np.testing.assert_allclose(percent, (heat[0].sum((1, 2)) * 100).numpy(), atol=0.51)

    cls_step = CLS_STEP[name]
    grid_fig = viz.plot_layer_head_grid(attention, name, grid, query=(0, 1, 1))
    assert f"step '{cls_step}'" in grid_fig._suptitle.get_text()  # default: the CLS step
    assert len([ax for ax in grid_fig.axes if ax.images]) == 2 * (4 + 1)  # blocks × (heads + mean)

    one = viz.plot_query_attention(frames, attention, name, grid)
    assert f"step '{cls_step}'" in one._suptitle.get_text() and "CLS" in one._suptitle.get_text()

    box = viz.attention_explorer(model, video, frames)
    assert list(box.controls["step"].options) == list(NEW[name].step_names)
    assert box.controls["step"].value == cls_step
    box.controls["step"].value = TEMPORAL_STEP[name]
    assert f"step '{TEMPORAL_STEP[name]}'" in box.figure._suptitle.get_text()

    gif = viz.save_attention_animation(model, video, frames, tmp_path / "a.gif")
    with Image.open(gif) as im:
        assert im.n_frames == 4 and im.size[0] == 2 * im.size[1]  # clip | overlay


def test_training_snapshots_and_cost_figures_include_the_scheme(new_scheme, tmp_path):
    name, model, *_ = new_scheme
    gif = AttentionSnapshots(Normalised(model.config), tmp_path, count=2).render(model, 0, name)
    assert Path(gif).exists() and (tmp_path / "attention" / "epoch_000.png").exists()

    rows = curves.sweep(("divided", name), sizes=(224, 448), frames=(8, 16), preset="tiny")
    assert {r["scheme"] for r in rows} == {"divided", name}
    fig = plot_cost_curves(rows)
    [gmacs] = [ax for ax in fig.axes if ax.get_title().startswith("GMACs")][:1]
    colour = {ln.get_label(): to_rgb(ln.get_color()) for ln in gmacs.lines}
    assert colour[name] not in [to_rgb(c) for c in viz.SCHEME_COLOURS.values()]
