"""mini-timesformer: a small, readable TimeSformer (Bertasius, Wang, Torresani, ICML 2021).

    import mini_timesformer as mt
    cfg = mt.TimeSformerConfig.preset("nano", attention="divided", num_classes=8)
    model = mt.TimeSformer(cfg)
    logits = model(video)              # video: float (B, T, 3, H, W)

The heavier parts (``mt.data``, ``mt.viz``, ``mt.rollout``, ``mt.train`` …) are imported
on first use, so ``import mini_timesformer`` stays fast and needs no matplotlib or PyAV.
"""

import importlib

from . import cost, schemes
from .config import SCHEMES, TimeSformerConfig
from .model import TimeSformer

__version__ = "0.1.0"

# submodules loaded on first attribute access: mt.data, mt.viz, ...
_LAZY_SUBMODULES = ("data", "pretrained", "train", "evaluate", "demo", "rollout", "viz",
                    "curves", "measure", "bench", "checks", "summary")


def __getattr__(name):
    if name in _LAZY_SUBMODULES:
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'mini_timesformer' has no attribute {name!r}")


__all__ = ["SCHEMES", "TimeSformerConfig", "TimeSformer", "cost", "schemes", "__version__",
           *_LAZY_SUBMODULES]
