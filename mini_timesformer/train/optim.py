"""Optimisers and learning-rate schedules for training a TimeSformer.

Two recipes:

* ``sgd`` — the paper's (Appendix A): SGD, momentum 0.9, weight decay 1e-4,
  lr 0.005 divided by 10 at epochs 11 and 14 of 15 (here: at 11/15 and 14/15 of the run).
  It assumes an ImageNet-initialised model.
* ``adamw`` — our default when training from scratch: AdamW, linear warmup, then a
  cosine decay to ``min_lr_ratio`` × lr. Transformers trained from scratch are fragile
  early on; warmup keeps the first updates small.

Either way, norms, biases, the CLS token and the position/time embeddings get no weight
decay (shrinking them towards zero has no regularising meaning).
"""

from __future__ import annotations

import math

import torch
from torch import nn

from ..errors import UserError

OPTIMIZERS = ("adamw", "sgd")
DEFAULT_LR = {"adamw": 1e-3, "sgd": 0.005}
DEFAULT_WEIGHT_DECAY = {"adamw": 0.05, "sgd": 1e-4}
PAPER_MILESTONES = (11 / 15, 14 / 15)  # the paper's lr ÷10 at epochs 11 and 14 of 15

# Parameter names (ours, see model.py) that never get weight decay.
NO_DECAY_NAMES = ("cls_token", "pos_embed", "time_embed")


def no_weight_decay(name: str, param: torch.Tensor) -> bool:
    """True for biases, norm weights (1-D tensors) and the CLS / position / time embeddings."""
    return param.ndim <= 1 or name.endswith(".bias") or name.split(".")[-1] in NO_DECAY_NAMES


def param_groups(model: nn.Module, weight_decay: float) -> list[dict]:
    """Two groups: decayed weights and the rest. Frozen parameters are left out."""
    decay, no_decay = [], []
    for name, param in model.named_parameters():
        if not param.requires_grad:
            continue
        (no_decay if no_weight_decay(name, param) else decay).append(param)
    return [
        {"params": decay, "weight_decay": weight_decay},
        {"params": no_decay, "weight_decay": 0.0},
    ]


def build_optimizer(
    model: nn.Module,
    name: str = "adamw",
    lr: float | None = None,
    weight_decay: float | None = None,
    momentum: float = 0.9,
):
    """AdamW (betas 0.9, 0.999) or the paper's SGD with momentum."""
    if name not in OPTIMIZERS:
        raise UserError(f"unknown optimizer {name!r}; expected one of: {', '.join(OPTIMIZERS)}")
    lr = DEFAULT_LR[name] if lr is None else lr
    if not lr > 0:
        raise UserError(f"learning rate must be > 0, got {lr}")
    wd = DEFAULT_WEIGHT_DECAY[name] if weight_decay is None else weight_decay
    groups = param_groups(model, wd)
    if name == "sgd":
        return torch.optim.SGD(groups, lr=lr, momentum=momentum)
    return torch.optim.AdamW(groups, lr=lr, betas=(0.9, 0.999))


def warmup_cosine(
    step: int, total_steps: int, warmup_steps: int, min_lr_ratio: float = 0.01
) -> float:
    """Multiplier of the base lr: linear 0 → 1 over the warmup, then cosine 1 → min_lr_ratio."""
    if step < warmup_steps:
        return (step + 1) / warmup_steps
    progress = (step - warmup_steps) / max(1, total_steps - warmup_steps)
    progress = min(progress, 1.0)
    return min_lr_ratio + (1 - min_lr_ratio) * 0.5 * (1 + math.cos(math.pi * progress))


def step_decay(
    step: int, total_steps: int, milestones=PAPER_MILESTONES, warmup_steps: int = 0
) -> float:
    """Multiplier of the base lr: ÷10 at each milestone (fractions of the run)."""
    if step < warmup_steps:
        return (step + 1) / warmup_steps
    passed = sum(step >= round(m * total_steps) for m in milestones)
    return 0.1**passed


class LrSchedule:
    """Picklable multiplier function for ``torch.optim.lr_scheduler.LambdaLR``."""

    def __init__(self, kind: str, total_steps: int, warmup_steps: int, min_lr_ratio: float):
        self.kind, self.total_steps = kind, total_steps
        self.warmup_steps, self.min_lr_ratio = warmup_steps, min_lr_ratio

    def __call__(self, step: int) -> float:
        if self.kind == "sgd":
            return step_decay(step, self.total_steps, warmup_steps=self.warmup_steps)
        return warmup_cosine(step, self.total_steps, self.warmup_steps, self.min_lr_ratio)


def build_scheduler(
    optimizer,
    name: str,
    total_steps: int,
    warmup_steps: int | None = None,
    min_lr_ratio: float = 0.01,
):
    """The schedule that goes with each optimiser; stepped once per optimiser step.

    Default warmup: 10% of the run (at most 500 steps) for AdamW, none for the paper's SGD.
    """
    if warmup_steps is None:
        warmup_steps = 0 if name == "sgd" else min(500, max(1, total_steps // 10))
    schedule = LrSchedule(name, total_steps, warmup_steps, min_lr_ratio)
    return torch.optim.lr_scheduler.LambdaLR(optimizer, schedule)
