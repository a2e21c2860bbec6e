"""Attention maps while training: the rollout of a few fixed validation clips, per epoch.

``mini-timesformer train --attention-every N`` calls ``AttentionSnapshots.render`` every N
epochs (rank 0 only, after validation). Each call writes one PNG strip, rows = clips,
columns = frames, heat = CLS rollout (``viz.rollout``, paper §4.8, Fig. 7) on a fixed
scale, and rewrites one animated GIF made of all the strips so far:

    RUN/attention/epoch_000.png, epoch_001.png, ...   (epoch numbers as in epochs.csv)
    RUN/attention/epochs.gif                           (one frame per strip)

The scale is "× uniform": 1 means a patch gets the mass it would get if attention ignored
where and when it is, so an untrained model with ViT's init looks flat and a trained one
lights up the moving object. The model runs in eval mode under ``no_grad`` on the explicit attention
path for these clips only (one at a time: the weights of every block are kept), then
goes back to train mode; the random-number state is saved and restored, so a run with
snapshots trains exactly like one without.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import torch
from matplotlib.figure import Figure

from ..runtime import atomic_write
from .animation import write_animation
from .maps import overlay, to_uint8_frames
from .rollout import model_attention, rollout

VMAX = 4.0  # colour scale top, in multiples of the uniform share (our choice)
FOLDER, GIF = "attention", "epochs.gif"
GIF_FPS = 1.5


def pick_clips(dataset, count: int = 4) -> list[int]:
    """Indices of ``count`` validation clips of classes spread over the class list.

    Class ``round(j·C/count)`` for j < count (on synthetic motion with 4 clips: one of
    each reversed pair), its first clip in ``dataset``; falls back to the first clips.
    """
    num_classes = len(dataset.classes)
    wanted = [round(j * num_classes / count) for j in range(min(count, num_classes))]
    found: dict[int, int] = {}
    for index in range(min(len(dataset), 64 * num_classes)):
        label = _label(dataset, index)
        if label in wanted and label not in found:
            found[label] = index
        if len(found) == len(wanted):
            break
    picked = [found[c] for c in wanted if c in found]
    extra = [i for i in range(len(dataset)) if i not in picked]
    return (picked + extra)[:count]


def _label(dataset, index: int) -> int:
    """A clip's label without decoding it when the dataset can tell."""
    while not hasattr(dataset, "label") and hasattr(dataset, "base"):
        dataset = dataset.base  # AugmentedClips / EvalViews wrap the raw dataset
    if hasattr(dataset, "label"):
        return int(dataset.label(index))
    if hasattr(dataset, "samples"):
        return int(dataset.samples[index][1])
    return int(dataset[index][1])


class AttentionSnapshots:
    """Renders the rollout of fixed validation clips into ``out/attention``."""

    def __init__(self, dataset, out, count: int = 4):
        self.dataset, self.folder = dataset, Path(out) / FOLDER
        self.classes = list(dataset.classes)
        self.indices = pick_clips(dataset, count)

    @torch.no_grad()
    def render(self, model, epoch: int, title: str) -> Path:
        """Write this epoch's strip and the GIF of all strips up to it; returns the GIF."""
        device = next(model.parameters()).device
        cpu_state = torch.get_rng_state()  # nothing here should draw, but never perturb
        cuda_state = torch.cuda.get_rng_state(device) if device.type == "cuda" else None
        try:
            rows = [self._row(model, index, device) for index in self.indices]
        finally:
            torch.set_rng_state(cpu_state)
            if cuda_state is not None:
                torch.cuda.set_rng_state(cuda_state, device)
        self.folder.mkdir(parents=True, exist_ok=True)
        figure = strip_figure(rows, title)
        atomic_write(
            self.folder / f"epoch_{epoch:03d}.png",  # fixed size: no "tight" bbox
            lambda tmp: figure.savefig(tmp, dpi=100, format="png"),
        )
        return write_epochs_gif(self.folder, last_epoch=epoch)

    def _row(self, model, index: int, device) -> dict:
        clip, label = self.dataset[index]  # float (T, 3, H, W), normalised
        logits, attention, grid = model_attention(model, clip[None].to(device))  # eval, back
        relevance = rollout(attention, model.config.attention, grid)[0].float().cpu()
        uniform = relevance.numel()  # T·H'·W' patches: × uniform = mass · count
        frames = to_uint8_frames(clip, model.config.mean, model.config.std)
        return {
            "frames": frames,
            "heat": relevance * uniform,
            "label": self.classes[label],
            "predicted": self.classes[int(logits.argmax())],
        }


def strip_figure(rows: list[dict], title: str, vmax: float = VMAX) -> Figure:
    """Rows = clips, columns = frames; each clip's rollout (× uniform) over its frames."""
    from matplotlib.cm import ScalarMappable
    from matplotlib.colors import Normalize

    T = rows[0]["frames"].shape[0]
    fig = Figure(figsize=(1.0 * T + 2.6, 1.0 * len(rows) + 0.7), layout="constrained")
    axes = np.array(fig.subplots(len(rows), T, squeeze=False))
    for r, row in enumerate(rows):
        images = overlay(row["frames"], row["heat"], alpha=0.55, vmax=vmax)  # (T, H, W, 3)
        for t in range(T):
            ax = axes[r, t]
            ax.imshow(images[t])
            ax.set_xticks([])
            ax.set_yticks([])
            if r == 0:
                ax.set_title(f"t={t}", fontsize=8)
        mark = "✓" if row["predicted"] == row["label"] else "✗"
        axes[r, 0].set_ylabel(f"{row['label']}\n→ {row['predicted']} {mark}", fontsize=7)
    fig.colorbar(
        ScalarMappable(Normalize(0, vmax), "jet"),
        ax=axes,
        shrink=0.8,
        label="rollout mass × uniform",
    )
    fig.suptitle(title, fontsize=10)
    return fig


def write_epochs_gif(folder, last_epoch: int | None = None, fps: float = GIF_FPS) -> Path:
    """``folder/epochs.gif`` from its ``epoch_NNN.png`` strips (up to ``last_epoch``)."""
    from PIL import Image

    folder = Path(folder)
    strips = sorted(
        (int(m.group(1)), p)
        for p in folder.glob("epoch_*.png")
        if (m := re.fullmatch(r"epoch_(\d+)\.png", p.name))
    )
    strips = [p for e, p in strips if last_epoch is None or e <= last_epoch]
    if not strips:
        raise FileNotFoundError(f"no epoch_NNN.png strips in {folder}")
    images = [np.asarray(Image.open(p).convert("RGB")) for p in strips]
    height = min(im.shape[0] for im in images)  # strips have one size; guard anyway
    width = min(im.shape[1] for im in images)
    frames = np.stack([im[:height, :width] for im in images])  # (epochs, H, W, 3)
    return atomic_write(folder / GIF, lambda tmp: write_animation(frames, tmp, fps, "gif"))


__all__ = ["AttentionSnapshots", "pick_clips", "strip_figure", "write_epochs_gif", "VMAX"]
