"""Class names shipped with the package (``pretrained/labels/*.txt``) and how a model's
class indices get their names."""

from __future__ import annotations

from importlib import resources

from ..config import TimeSformerConfig
from ..errors import UserError

LABEL_SETS = ("kinetics400",)


def load_label_names(name: str = "kinetics400") -> list[str]:
    """Class names shipped with the package, in class-index order.

    ``kinetics400``: the 400 Kinetics-400 classes in the standard (alphabetical) order used
    by the official and Hugging Face checkpoints (same list as torchvision's metadata).
    """
    if name not in LABEL_SETS:
        raise UserError(f"unknown label set {name!r}; expected one of: {', '.join(LABEL_SETS)}")
    text = resources.files(__package__).joinpath("labels", f"{name}.txt").read_text()
    return [line for line in text.splitlines() if line]


def label_names_for(cfg: TimeSformerConfig) -> tuple[list[str], str]:
    """``(names, source)`` to print for a model: its own names, else a shipped list with the
    same number of classes, else ``class_0``, ``class_1``..."""
    if cfg.label_names:
        return list(cfg.label_names), "checkpoint"
    for name in LABEL_SETS:
        names = load_label_names(name)
        if len(names) == cfg.num_classes:
            return names, name
    return [f"class_{i}" for i in range(cfg.num_classes)], "index"
