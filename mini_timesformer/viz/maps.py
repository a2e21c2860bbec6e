"""Attention maps: rollout over the frames, layer × head grids, the schemes' receptive
fields (Fig. 2) and a widget explorer.

Every plot is a pure function that returns a ``matplotlib.figure.Figure`` (nothing is
shown or saved behind your back; call ``fig.savefig``). Inputs are the attention list of
``model.forward_with_attention(video)`` (see ``rollout.py`` for the token maths) and the
clip's frames, as uint8 ``(T, 3, H, W)`` or the model's normalised float input.

* ``plot_attention_frames`` — a (T, H', W') map over the clip's frames (Fig. 7 style);
* ``plot_layer_head_grid`` — one query's attention, layers × heads;
* ``plot_temporal_attention`` — how a patch spreads its attention over frames, per layer;
* ``plot_receptive_fields`` — the paper's Fig. 2 from ``schemes.visibility``;
* animations of these maps: ``animation.py``;
* ``attention_explorer`` — ipywidgets sliders over the static plots, or a static figure.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from matplotlib.figure import Figure
from matplotlib.patches import Patch, Rectangle

from ..config import SCHEMES
from ..errors import UserError
from ..schemes import scheme_record, visibility
from .colours import QUERY_COLOUR, step_colours
from .rollout import attention_rollout, model_attention, query_attention


# ---------------------------------------------------------------- images and overlays
def display_frames(frames: torch.Tensor) -> np.ndarray:
    """Frames (T, 3, H, W), uint8 or normalised float -> float array (T, H, W, 3) in [0, 1]."""
    if frames.ndim == 5:
        frames = frames[0]
    if frames.ndim != 4 or frames.shape[1] not in (1, 3):
        raise UserError(f"expected frames of shape (T, 3, H, W), got {tuple(frames.shape)}")
    x = frames.detach().float().cpu()
    if frames.dtype == torch.uint8:
        x = x / 255.0
    else:  # a normalised model input: stretch the clip's range to [0, 1]
        x = (x - x.min()) / (x.max() - x.min()).clamp_min(1e-8)
    return x.permute(0, 2, 3, 1).expand(-1, -1, -1, 3).numpy()  # (T, C, H, W) -> (T, H, W, 3)


def to_uint8_frames(video: torch.Tensor, mean, std) -> torch.Tensor:
    """A normalised model input (T, 3, H, W) back to uint8 frames, with the model's mean/std."""
    mean = torch.tensor(mean).view(3, 1, 1)
    std = torch.tensor(std).view(3, 1, 1)
    return ((video.detach().cpu() * std + mean).clamp(0, 1) * 255).round().to(torch.uint8)


def upsample(heat: torch.Tensor, size: tuple[int, int], vmax: float | None = None) -> np.ndarray:
    """A (T, H', W') patch map -> (T, H, W) pixels (bilinear) in [0, 1]: scaled per clip
    (min to max), or ``heat / vmax`` clipped when ``vmax`` is given (a fixed scale)."""
    heat = torch.as_tensor(heat).detach().float().cpu()
    up = F.interpolate(heat[:, None], size=size, mode="bilinear", align_corners=False)[:, 0]
    if vmax is not None:
        return (up / vmax).clamp(0, 1).numpy()
    return ((up - up.min()) / (up.max() - up.min()).clamp_min(1e-12)).numpy()


def overlay(
    frames: torch.Tensor,
    heat: torch.Tensor,
    alpha: float = 0.5,
    cmap: str = "jet",
    vmax: float | None = None,
) -> np.ndarray:
    """Blend a colour-mapped (T, H', W') map over the frames: (T, H, W, 3) floats in [0, 1]."""
    from matplotlib import colormaps

    images = display_frames(frames)
    if heat.shape[0] != images.shape[0]:
        raise UserError(f"map has {heat.shape[0]} frames but the clip has {images.shape[0]}")
    colours = colormaps[cmap](upsample(heat, images.shape[1:3], vmax))[..., :3]  # (T, H, W, 3)
    return (1 - alpha) * images + alpha * colours


def _mark(ax, query, patch: float) -> None:
    """Outline the query patch (h, w) of a frame, ``patch`` pixels per patch."""
    ax.add_patch(
        Rectangle(
            (query[1] * patch - 0.5, query[0] * patch - 0.5),
            patch,
            patch,
            fill=False,
            edgecolor="white",
            lw=2,
        )
    )


def plot_attention_frames(
    frames: torch.Tensor,
    heat: torch.Tensor,
    title: str | None = None,
    query: tuple[int, int, int] | None = None,
    alpha: float = 0.5,
) -> Figure:
    """A (T, H', W') map over each frame, with each frame's share of the total mass.

    ``query`` = (t, h, w) outlines that patch in frame t.
    """
    heat = torch.as_tensor(heat).detach().float().cpu()
    images = overlay(frames, heat, alpha)
    T = images.shape[0]
    fig = Figure(figsize=(1.9 * T, 2.3), layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, T))
    mass = heat.flatten(1).sum(dim=1) / heat.sum().clamp_min(1e-12)
    for t, ax in enumerate(axes):
        ax.imshow(images[t])
        ax.set_title(f"t={t}  {100 * mass[t]:.0f}%", fontsize=8)
        ax.axis("off")
        if query is not None and query[0] == t:
            _mark(ax, query[1:], images.shape[1] / heat.shape[1])
    if title:
        fig.suptitle(title, fontsize=10)
    return fig


# ------------------------------------------------------------------- attention plots
def plot_layer_head_grid(
    attention: list[dict],
    scheme: str,
    grid,
    step: str | None = None,
    query: tuple[int, int, int] | None = None,
    sample: int = 0,
) -> Figure:
    """One query's attention in one step of every block: rows = layers, columns = heads
    (and their mean). Each cell shows the T frames' H'×W' maps side by side."""
    step = step or scheme_record(scheme).cls_step
    heads = attention[0][step].shape[2]
    fig = Figure(
        figsize=(1.1 * grid[0] * (heads + 1) / 2 + 1, 1.0 * len(attention) + 0.8),
        layout="constrained",
    )
    axes = np.array(fig.subplots(len(attention), heads + 1, squeeze=False))
    for layer in range(len(attention)):
        for col, head in enumerate([*range(heads), None]):
            m = query_attention(attention, scheme, grid, layer, step, query, head)[sample]
            strip = torch.cat(list(m), dim=1)  # (T, H', W') -> (H', T·W'): frames in a row
            ax = axes[layer, col]
            ax.imshow(strip.numpy(), cmap="viridis")
            ax.set_xticks([grid[2] * t - 0.5 for t in range(1, grid[0])], labels=[])
            ax.set_yticks([])
            ax.tick_params(length=0)
            ax.grid(axis="x", color="white", lw=1)
            if layer == 0:
                ax.set_title("mean" if head is None else f"head {head}", fontsize=8)
            if col == 0:
                ax.set_ylabel(f"block {layer}", fontsize=8)
    who = "CLS" if query is None else f"patch {tuple(query)}"
    fig.suptitle(
        f"{scheme}: {who}'s attention in step '{step}' (frames left to right)", fontsize=10
    )
    return fig


def plot_temporal_attention(
    attention: list[dict],
    scheme: str,
    grid,
    query: tuple[int, int, int],
    step: str | None = None,
    head: int | None = None,
    sample: int = 0,
) -> Figure:
    """How much attention patch ``query`` = (t, h, w) gives each frame, in every block.

    ``step`` defaults to the scheme's first step over frames (``Scheme.temporal_step``)."""
    step = step or scheme_record(scheme).temporal_step
    per_frame = torch.stack(
        [
            query_attention(attention, scheme, grid, layer, step, query, head)[sample].sum((1, 2))
            for layer in range(len(attention))
        ]
    )  # (layers, T)
    fig = Figure(figsize=(10, 3.4), layout="constrained")
    ax_img, ax_line = fig.subplots(1, 2)
    im = ax_img.imshow(per_frame.numpy(), cmap="magma", aspect="auto", vmin=0)
    ax_img.set(
        xlabel="key frame",
        ylabel="block",
        xticks=range(grid[0]),
        yticks=range(len(attention)),
        title=f"attention mass per frame, step '{step}'",
    )
    ax_img.axvline(query[0], color="cyan", ls=":")
    fig.colorbar(im, ax=ax_img)
    for layer, row in enumerate(per_frame):
        ax_line.plot(row.numpy(), "o-", label=f"block {layer}")
    ax_line.axvline(query[0], color="gray", ls=":", label="query frame")
    ax_line.set(
        xlabel="key frame",
        ylabel="attention",
        ylim=(0, None),
        title=f"{scheme}: patch {tuple(query)} across frames",
    )
    ax_line.legend(fontsize=7)
    return fig


def plot_receptive_fields(
    query: tuple[int, int, int] = (1, 3, 2),
    num_frames: int = 4,
    grid: tuple[int, int] = (8, 8),
    schemes=SCHEMES,
    frames=None,
) -> Figure:
    """The paper's Fig. 2: which patches one query patch attends to, per scheme and step.

    Rows are schemes, columns frames; the query is blue, each step's keys get the step's
    colour (where steps overlap, the earlier step's colour shows). Drawn from
    ``schemes.visibility`` — the same partitions the model runs.
    """
    frames = list(frames if frames is not None else range(num_frames))
    if len(frames) < 2 or not all(0 <= f < num_frames for f in frames):
        raise UserError(f"need two or more frames in [0, {num_frames}), got {frames}")
    qt, qh, qw = query
    if not (0 <= qt < num_frames and 0 <= qh < grid[0] and 0 <= qw < grid[1]):
        raise UserError(f"query {query} outside the (T, H', W') = {(num_frames, *grid)} grid")
    q = (qt * grid[0] + qh) * grid[1] + qw
    fig = Figure(figsize=(1.7 * len(frames) + 1.8, 1.75 * len(schemes)), layout="constrained")
    axes = np.array(fig.subplots(len(schemes), len(frames), squeeze=False))
    for row, scheme in enumerate(schemes):
        masks = visibility(scheme, num_frames, *grid)  # {step: (T·N, T·N)}
        colours = step_colours(len(masks))
        image = np.ones((num_frames, *grid, 3))
        for k, mask in reversed(list(enumerate(masks.values()))):  # earlier steps on top
            seen = mask[q].view(num_frames, *grid).numpy()  # (T·N,) -> (T, H', W')
            image[seen] = colours[k]
        image[qt, qh, qw] = QUERY_COLOUR
        for col, t in enumerate(frames):
            ax = axes[row, col]
            ax.imshow(image[t])
            ax.set_xticks(np.arange(-0.5, grid[1]), labels=[])
            ax.set_yticks(np.arange(-0.5, grid[0]), labels=[])
            ax.tick_params(length=0)
            ax.grid(color="0.6", lw=0.5)
            if row == 0:
                ax.set_title(f"frame {t}" + (" (query)" if t == qt else ""), fontsize=9)
            if col == 0:
                ax.set_ylabel(scheme, fontsize=10)
        handles = [Patch(color=colours[k], label=name) for k, name in enumerate(masks)]
        axes[row, -1].legend(
            handles=handles,
            loc="center left",
            bbox_to_anchor=(1.02, 0.5),
            fontsize=8,
            frameon=False,
        )
    fig.suptitle(
        f"Receptive field of query patch {tuple(query)} (blue), per scheme and step", fontsize=10
    )
    return fig


# ------------------------------------------------------------------------ explorer
def plot_query_attention(
    frames,
    attention: list[dict],
    scheme: str,
    grid,
    layer: int = -1,
    step: str | None = None,
    head: int | None = None,
    query: tuple[int, int, int] | None = None,
    sample: int = 0,
) -> Figure:
    """One step's attention of the CLS (``query=None``) or a patch, over the frames."""
    step = step or scheme_record(scheme).cls_step
    m = query_attention(attention, scheme, grid, layer, step, query, head)[sample]
    who = "CLS" if query is None else f"patch {tuple(query)}"
    heads = "mean of heads" if head is None else f"head {head}"
    return plot_attention_frames(
        frames, m, f"{scheme}, block {layer % len(attention)}, step '{step}', {heads}: {who}", query
    )


def attention_explorer(
    model, video: torch.Tensor, frames: torch.Tensor | None = None, widgets: bool = True
):
    """Sliders for block / step / head / query patch over ``plot_query_attention``.

    Returns an ipywidgets box when ipywidgets is installed (and ``widgets=True``); else
    the static figure of the last block's CLS attention, so notebooks run anywhere.
    """
    video = video if video.ndim == 5 else video[None]
    frames = frames if frames is not None else video[0]
    _, attention, grid = model_attention(model, video[:1].to(next(model.parameters()).device))
    attention = [{k: w.cpu() for k, w in block.items()} for block in attention]
    scheme = model.config.attention
    static = plot_query_attention(frames, attention, scheme, grid)
    if not widgets:
        return static
    try:
        import ipywidgets as W
        from IPython.display import display
    except ImportError:
        return static
    T, h, w = grid
    record = scheme_record(scheme)
    heads = attention[0][record.cls_step].shape[2]
    controls = {
        "layer": W.IntSlider(len(attention) - 1, 0, len(attention) - 1, description="block"),
        "step": W.Dropdown(
            options=list(record.step_names), value=record.cls_step, description="step"
        ),
        "head": W.IntSlider(-1, -1, heads - 1, description="head (-1=mean)"),
        "cls": W.Checkbox(True, description="query = CLS"),
        "t": W.IntSlider(0, 0, T - 1, description="query t"),
        "qh": W.IntSlider(h // 2, 0, h - 1, description="query h"),
        "qw": W.IntSlider(w // 2, 0, w - 1, description="query w"),
    }
    box = W.VBox()

    def draw(**values):
        query = None if values["cls"] else (values["t"], values["qh"], values["qw"])
        head = None if values["head"] < 0 else values["head"]
        box.figure = plot_query_attention(
            frames, attention, scheme, grid, values["layer"], values["step"], head, query
        )
        display(box.figure)  # inside interactive_output: goes to its Output widget

    out = W.interactive_output(draw, controls)  # re-draws whenever a control changes
    box.children = [W.HBox(list(controls.values())[:4]), W.HBox(list(controls.values())[4:]), out]
    box.controls = controls
    return box


__all__ = [
    "attention_rollout",
    "display_frames",
    "to_uint8_frames",
    "upsample",
    "overlay",
    "plot_attention_frames",
    "plot_layer_head_grid",
    "plot_temporal_attention",
    "plot_receptive_fields",
    "plot_query_attention",
    "attention_explorer",
]
