"""Weights in and out: published checkpoints, our own format, ImageNet ViT init, labels.

* ``loader.py``: the one strict loader (``TimeSformer.from_pretrained``) and
  ``save_pretrained``;
* ``formats.py``: the key tables between our layout, Hugging Face's and the official one;
* ``vit_init.py``: the paper's ImageNet initialisation (Appendix A, ``TimeSformer.from_vit``);
* ``mixin.py``: the three methods ``model.TimeSformer`` inherits;
* ``labels.py``: the shipped class names (Kinetics-400);
* ``predict.py``: the paper's test protocol on one video file; ``cli.py``: ``predict``.

Nothing here imports ``model.py``: the model class is passed in (``cls``), so the imports
run one way (``model.py`` -> ``pretrained.mixin``).
"""

from .formats import (
    config_from_hf,
    config_from_official,
    convert_hf_state_dict,
    convert_official_state_dict,
    to_hf_state_dict,
    to_official_state_dict,
)
from .labels import LABEL_SETS, label_names_for, load_label_names
from .loader import load_pretrained, load_state_dict_strict, save_pretrained
from .vit_init import init_from_vit

__all__ = [
    "load_pretrained",
    "save_pretrained",
    "init_from_vit",
    "load_state_dict_strict",
    "config_from_hf",
    "config_from_official",
    "convert_hf_state_dict",
    "convert_official_state_dict",
    "to_hf_state_dict",
    "to_official_state_dict",
    "LABEL_SETS",
    "load_label_names",
    "label_names_for",
]
