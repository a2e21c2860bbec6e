"""The demo's budgets: the same model size, clips and steps for every scheme.

``cpu`` fits every scheme on both datasets into a few minutes on 2 CPU cores, ``gpu`` is
a deeper, wider model on more clips, ``smoke`` runs in seconds for the tests. Field names
follow ``TimeSformerConfig`` (``num_frames``, ``image_size``, ...). The 3-D CNN rows
(``cnn_archs``, the §4.2 baseline) get the same clips, optimiser and steps, and the CNN
preset ``cnn_preset`` (``cnn.CNN_PRESETS``: ``nano`` is sized to the nano TimeSformer).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from ..cnn import ARCHS, VideoCNNConfig
from ..config import PRESETS, SCHEMES, TimeSformerConfig, check_known_fields
from ..errors import UserError

TIME_SCHEMES = ("joint", "divided", "local_global", "axial")  # the schemes that model time
NANO = PRESETS["nano"]
MODEL_FIELDS = tuple(NANO)  # the TimeSformerConfig fields a budget sets (model_fields)


@dataclass
class DemoBudget:
    """The same budget for every scheme: model size, clips, optimiser steps.

    The model fields (``MODEL_FIELDS``) are ``TimeSformerConfig``'s and default to the nano
    preset's, but for ``depth``: 2, not 4 (our choice: five schemes on two datasets within
    minutes on 2 cores)."""

    num_frames: int = NANO["num_frames"]
    image_size: int = NANO["image_size"]
    patch_size: int = NANO["patch_size"]
    embed_dim: int = NANO["embed_dim"]
    depth: int = 2
    num_heads: int = NANO["num_heads"]
    batch_size: int = 32
    lr: float = 2e-3
    motion_steps: int = 300
    appearance_steps: int = 100
    train_clips: int = 1536
    val_clips: int = 384
    speed: tuple[float, float] | None = None  # px/frame at 32 px (None: the generator's)
    appearance_schemes: tuple[str, ...] = SCHEMES
    embed_std: float | None = 1.0  # small_model_init; None = the ViT init of model.py
    cnn_archs: tuple[str, ...] = ARCHS  # 3-D CNN rows, on motion and on appearance
    cnn_preset: str = "nano"  # their sizes (cnn.CNN_PRESETS), at num_frames × image_size²

    def replace(self, **changes) -> DemoBudget:
        """A copy with some fields changed; unknown names get ``TimeSformerConfig``'s error."""
        check_known_fields(DemoBudget, changes)
        return DemoBudget(**{**asdict(self), **changes})

    def model_fields(self) -> dict:
        """``{name: value}`` of the ``TimeSformerConfig`` fields this budget sets."""
        return {name: getattr(self, name) for name in MODEL_FIELDS}


BUDGETS = {
    # 2 CPU cores: every scheme on both datasets within a few minutes
    "cpu": DemoBudget(
        motion_steps=800, appearance_steps=800, appearance_schemes=("space", "divided")
    ),
    # a GPU: a deeper, wider model on more clips and more steps (not yet measured)
    "gpu": DemoBudget(
        depth=4,
        batch_size=64,
        motion_steps=1500,
        appearance_steps=800,
        train_clips=8192,
        val_clips=1024,
    ),
    # tests: seconds
    "smoke": DemoBudget(
        num_frames=4,
        image_size=16,
        embed_dim=16,
        depth=1,
        num_heads=2,
        batch_size=8,
        motion_steps=2,
        appearance_steps=1,
        train_clips=16,
        val_clips=8,
        appearance_schemes=("space", "divided"),
        cnn_archs=("r2plus1d",),
    ),
}


def budget_for(device: str, smoke: bool = False) -> DemoBudget:
    """The budget ``make demo`` uses on ``device`` (the tiny "smoke" one for CI)."""
    return BUDGETS["smoke" if smoke else "gpu" if device == "cuda" else "cpu"]


def resolve_budget(budget: str | DemoBudget, cuda: bool) -> tuple[str, DemoBudget]:
    """``(name, budget)`` from "auto" (``gpu`` with CUDA, else ``cpu``), a name in
    ``BUDGETS`` or a ``DemoBudget`` (named "custom")."""
    if isinstance(budget, DemoBudget):
        return "custom", budget
    name = ("gpu" if cuda else "cpu") if budget == "auto" else budget
    if name not in BUDGETS:
        raise UserError(f"unknown budget {budget!r}; expected auto or one of: {', '.join(BUDGETS)}")
    return name, BUDGETS[name]


def model_config(
    budget: DemoBudget, scheme: str, num_classes: int
) -> TimeSformerConfig | VideoCNNConfig:
    """The model every scheme gets under ``budget`` (the nano preset, resized); for a 3-D
    CNN arch (``r2plus1d``, ``i3d``) the budget's CNN preset on the same clips."""
    if scheme in ARCHS:
        return VideoCNNConfig.preset(
            budget.cnn_preset,
            arch=scheme,
            num_classes=num_classes,
            num_frames=budget.num_frames,
            image_size=budget.image_size,
        )
    return TimeSformerConfig.preset(
        "nano", attention=scheme, num_classes=num_classes, **budget.model_fields()
    )
