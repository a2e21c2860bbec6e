"""mini-timesformer: a small, readable TimeSformer (Bertasius, Wang, Torresani, ICML 2021).

    import mini_timesformer as mt
    cfg = mt.TimeSformerConfig.preset("nano", attention="divided", num_classes=8)
    model = mt.TimeSformer(cfg)
    logits = model(video)              # video: float (B, T, 3, H, W)
    cnn = mt.VideoResNet(mt.VideoCNNConfig.preset("nano", arch="r2plus1d", num_classes=8))

The model maths is flat at the top (``schemes``, ``config``, ``embed``, ``attention``,
``model``, ``cnn`` (the 3-D CNN baseline of §4.2), ``cost``); everything with I/O lives
in a subpackage (``pretrained``, ``data``, ``train``, ``perf``, ``viz``, ``demo``,
``checks``), imported on first use, so
``import mini_timesformer`` stays fast and needs no matplotlib or PyAV. The layers and
their import rule: docs/architecture.md.
"""

import importlib

from . import cnn, cost, schemes
from .cnn import VideoCNNConfig, VideoResNet
from .config import SCHEMES, TimeSformerConfig
from .model import TimeSformer

__version__ = "0.1.0"

# loaded on first attribute access: mt.data, mt.viz, mt.optim, ... -> where they live
_LAZY = {
    "data": "data",
    "pretrained": "pretrained",
    "train": "train",
    "perf": "perf",
    "viz": "viz",
    "demo": "demo",
    "checks": "checks",
    "runtime": "runtime",
    "errors": "errors",
    # short names for modules inside the subpackages
    "optim": "train.optim",
    "checkpoint": "train.checkpoint",
    "evaluate": "train.evaluate",
    "rollout": "viz.rollout",
    "curves": "perf.curves",
    "measure": "perf.measure",
    "bench": "perf.bench",
    "summary": "perf.table1",
}


def __getattr__(name):
    if name in _LAZY:
        return importlib.import_module(f".{_LAZY[name]}", __name__)
    raise AttributeError(f"module 'mini_timesformer' has no attribute {name!r}")


__all__ = [
    "SCHEMES",
    "TimeSformerConfig",
    "TimeSformer",
    "VideoCNNConfig",
    "VideoResNet",
    "cnn",
    "cost",
    "schemes",
    "__version__",
    *_LAZY,
]
