"""``TimeSformer.from_pretrained`` / ``from_vit`` / ``save_pretrained``, the Hugging Face
convention, as a mixin: ``model.py``'s class inherits it, and the loaders here build
``cls(config)``, so this package never imports ``model.py``."""

from __future__ import annotations

from .loader import load_pretrained, save_pretrained
from .vit_init import init_from_vit


class PretrainedMixin:
    """Weights in and out for a model class built as ``cls(config)``."""

    @classmethod
    def from_pretrained(cls, path, **overrides):
        """Load a Hugging Face directory, an official ``.pyth`` file, our own
        ``save_pretrained`` directory or a training run / checkpoint (eval mode).
        ``overrides``: config fields, e.g. a new ``num_classes`` (fresh head)."""
        return load_pretrained(cls, path, **overrides)

    @classmethod
    def from_vit(cls, cfg, vit_weights):
        """Initialise from an ImageNet ViT, as the paper does (Appendix A)."""
        return init_from_vit(cls, cfg, vit_weights)

    def save_pretrained(self, directory):
        """Write ``config.json`` and ``model.safetensors`` to ``directory`` (atomically)."""
        return save_pretrained(self, directory)
