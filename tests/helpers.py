"""Small shared helpers for the tests (no fixtures with side effects)."""

import torch

import mini_timesformer as mt


def nano(attention="divided", **overrides):
    """A nano config (8×32×32, patch 8, width 64) with a few classes."""
    return mt.TimeSformerConfig.preset("nano", attention=attention,
                                       **{"num_classes": 5, **overrides})


def randomised(model, seed=0, std=0.2):
    """Give every parameter (also the zero-initialised ones) random values, in eval mode.

    Zero-initialised extras and time embeddings would hide bugs: an added step whose
    extra Linear is zero changes nothing, and a zero time embedding makes every scheme
    blind to frame order.
    """
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            noise = torch.randn(p.shape, generator=g) * std
            is_norm_scale = "norm" in name and name.endswith("weight")
            p.copy_(1 + noise if is_norm_scale else noise)  # LayerNorm scales stay near 1
    return model.eval()
