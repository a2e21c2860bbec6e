"""``from_pretrained`` / ``save_pretrained`` (the Hugging Face convention) and
``TimeSformer.from_vit``, as mixins: ``model.py``'s and ``cnn.py``'s classes inherit them,
and the loaders here build ``cls(config)``, so this package never imports either."""

from __future__ import annotations

from .loader import load_pretrained, save_pretrained
from .vit_init import init_from_vit


class WeightsMixin:
    """Weights in and out for a model class built as ``cls(config)`` (its ``config_class``
    and ``model_type`` say which config and which ``config.json`` it reads)."""

    @classmethod
    def from_pretrained(cls, path, **overrides):
        """Load a Hugging Face directory, an official ``.pyth`` file, our own
        ``save_pretrained`` directory or a training run / checkpoint (eval mode).
        ``overrides``: config fields, e.g. a new ``num_classes`` (fresh head)."""
        return load_pretrained(cls, path, **overrides)

    def save_pretrained(self, directory):
        """Write ``config.json`` and ``model.safetensors`` to ``directory`` (atomically)."""
        return save_pretrained(self, directory)


class PretrainedMixin(WeightsMixin):
    """``WeightsMixin`` plus the paper's ImageNet-ViT initialisation (TimeSformer only)."""

    @classmethod
    def from_vit(cls, cfg, vit_weights):
        """Initialise from an ImageNet ViT, as the paper does (Appendix A)."""
        return init_from_vit(cls, cfg, vit_weights)
