"""Small shared helpers for the tests (no fixtures with side effects)."""

import mini_timesformer as mt
from mini_timesformer.random_weights import randomize  # the one randomiser (a leaf)


def nano(attention="divided", **overrides):
    """A nano config (8×32×32, patch 8, width 64) with a few classes."""
    return mt.TimeSformerConfig.preset(
        "nano", attention=attention, **{"num_classes": 5, **overrides}
    )


__all__ = ["nano", "randomize"]
