"""mini-timesformer: a small, readable TimeSformer (Bertasius, Wang, Torresani, ICML 2021).

    import mini_timesformer as mt
    cfg = mt.TimeSformerConfig.preset("nano", attention="divided", num_classes=8)
    model = mt.TimeSformer(cfg)
    logits = model(video)              # video: float (B, T, 3, H, W)
"""

from . import cost, schemes
from .config import SCHEMES, TimeSformerConfig
from .model import TimeSformer

__version__ = "0.1.0"
__all__ = ["SCHEMES", "TimeSformerConfig", "TimeSformer", "cost", "schemes", "__version__"]
