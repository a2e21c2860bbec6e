"""A from-scratch initialisation for *small* TimeSformers (our choice, not the paper's).

The paper starts from ImageNet ViT weights (Appendix A); a tiny model trained from
scratch on a laptop needs a different start (see ``small_model_init``). The demo and
the lessons use it.
"""

from __future__ import annotations

from torch import nn


def small_model_init(model, embed_std: float = 1.0, extra: bool = False):
    """Re-initialise a small model for training from scratch (our choice, not the paper's).

    ViT's init (Linear weights with std 0.02, embeddings 0.02, time embedding 0) is made
    for 768-wide models that start from ImageNet weights (paper, Appendix A). At width 64
    it makes every attention almost uniform — blind to where and when a patch is — and,
    measured here, the models then sit at the "which pair" plateau (50%) for 800+ steps.
    LeCun-normal weights (std 1/√fan_in) and position/time embeddings of std
    ``embed_std`` make attention selective from the first step. ``extra``: also give the
    added steps' ``extra`` Linear (the official ``temporal_fc``) random weights instead of zeros.
    """
    for name, module in model.named_modules():
        if isinstance(module, nn.Linear) and name != "head":
            if name.endswith("extra") and not extra:
                continue  # added steps start as identity, as in the paper
            nn.init.normal_(module.weight, std=module.in_features**-0.5)
    for embedding in (model.embed.pos_embed, model.embed.time_embed):
        nn.init.trunc_normal_(embedding, std=embed_std, a=-2 * embed_std, b=2 * embed_std)
    return model
