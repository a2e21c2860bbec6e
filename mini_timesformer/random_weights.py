"""Reproducible random weights for every parameter of a module (a leaf: imports only torch).

The package zero-initialises the extra Linear of added steps and the time embedding (as the
official ``vit.py`` does); a comparison run with those zeros could not tell a forgotten piece
apart, so the exercise checks and the tests randomise every parameter first.
"""

from __future__ import annotations

import math

import torch
from torch import nn


@torch.no_grad()
def randomize(module: nn.Module, seed: int = 0, std: float | None = None) -> nn.Module:
    """Give every parameter a random value so that each piece of the maths matters.

    (The package zero-initialises the extra Linear of added steps and the time
    embedding; a check run with those zeros could not tell a forgotten piece apart.)
    ``std=None``: weight matrices and embeddings get N(0, 1/fan_in), LayerNorm gains
    1 + N(0, 0.2²), biases N(0, 0.2²). ``std``: every value N(0, std²), gains 1 + that
    (small ``std`` gives soft attention). Returns the module in eval mode.
    """
    g = torch.Generator().manual_seed(seed)
    spread = 0.2 if std is None else std
    for name, p in module.named_parameters():
        noise = torch.randn(p.shape, generator=g)
        if p.ndim >= 2:
            p.copy_(noise / math.sqrt(p[0].numel()) if std is None else noise * std)
        elif name.endswith("weight"):  # LayerNorm gains near 1
            p.copy_(1 + spread * noise)
        else:
            p.copy_(spread * noise)
    return module.eval()
