"""Which model a run trains or a file holds: the TimeSformer or the 3-D CNN baseline.

``TrainConfig.model`` (``--model``) is ``timesformer`` (the default), ``r2plus1d`` or
``i3d`` (``cnn.VideoResNet``, the §4.2 comparison in miniature). ``load_model(path)``
reloads any of our save directories, checkpoints or runs with the class that wrote it
(``pretrained.loader.saved_model_type``).
"""

from __future__ import annotations

from ..cnn import VideoResNet
from ..model import TimeSformer
from ..pretrained.loader import saved_model_type
from .config import MODELS

MODEL_CLASSES = {TimeSformer.model_type: TimeSformer, VideoResNet.model_type: VideoResNet}


def load_model(path, **overrides):
    """``TimeSformer.from_pretrained`` or ``VideoResNet.from_pretrained``, whichever class
    saved ``path`` (a ``save_pretrained`` directory, a checkpoint or a run directory; a
    Hugging Face or official file loads as a TimeSformer)."""
    return MODEL_CLASSES[saved_model_type(path)].from_pretrained(path, **overrides)


def model_name(model) -> str:
    """``TrainConfig.model`` of ``model``: ``timesformer``, or the CNN's arch."""
    model = getattr(model, "module", model)  # unwrap DistributedDataParallel
    return model.config.arch if isinstance(model, VideoResNet) else "timesformer"


def model_label(model) -> str:
    """What a run trains, in reports: the TimeSformer's scheme or the CNN's arch."""
    name = model_name(model)
    return getattr(model, "module", model).config.attention if name == "timesformer" else name


__all__ = ["MODELS", "MODEL_CLASSES", "load_model", "model_name", "model_label"]
