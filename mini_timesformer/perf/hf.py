"""The Hugging Face bridge of ``mini-timesformer bench``: the same architecture in
``transformers`` (``TimesformerForVideoClassification``, eager attention), and a pair of
models carrying **the same weights** (HF's state dict converted by
``pretrained.convert_hf_state_dict``), so that time, memory and outputs compare like for like.
"""

from __future__ import annotations

import torch

from ..config import TimeSformerConfig
from ..errors import UserError
from ..model import TimeSformer
from ..pretrained import config_from_hf, convert_hf_state_dict
from ..schemes import canonical_scheme

# HF's ``space_only`` returns per-frame logits (the official model averages the frames'
# tokens first), so only these two are like-for-like comparisons.
HF_SCHEMES = {"joint": "joint_space_time", "divided": "divided_space_time"}


def hf_config_for(cfg: TimeSformerConfig):
    """The Hugging Face ``TimesformerConfig`` with the same architecture as ``cfg``."""
    from transformers import TimesformerConfig

    if cfg.attention not in HF_SCHEMES:
        raise UserError(
            f"no like-for-like Hugging Face model for the {cfg.attention!r} "
            f"scheme; compare one of: {', '.join(HF_SCHEMES)}"
        )
    return TimesformerConfig(
        image_size=cfg.image_size,
        patch_size=cfg.patch_size,
        num_channels=cfg.in_channels,
        num_frames=cfg.num_frames,
        hidden_size=cfg.embed_dim,
        num_hidden_layers=cfg.depth,
        num_attention_heads=cfg.num_heads,
        intermediate_size=int(cfg.embed_dim * cfg.mlp_ratio),
        qkv_bias=cfg.qkv_bias,
        layer_norm_eps=cfg.layer_norm_eps,
        num_labels=cfg.num_classes,
        attention_type=HF_SCHEMES[cfg.attention],
    )


def bench_config(
    preset: str, scheme: str, frames: int, size: int, num_classes: int = 400
) -> TimeSformerConfig:
    """Our config for one benchmark point (embeddings learned at exactly this T and size)."""
    return TimeSformerConfig.preset(
        preset,
        attention=canonical_scheme(scheme),
        num_frames=frames,
        image_size=size,
        num_classes=num_classes,
    )


def random_model(cfg: TimeSformerConfig, impl: str, seed: int = 0):
    """``impl`` "ours" or "hf": a freshly initialised model (random weights, fixed seed)."""
    torch.manual_seed(seed)
    if impl == "hf":
        from transformers import TimesformerForVideoClassification

        return TimesformerForVideoClassification(hf_config_for(cfg))
    return TimeSformer(cfg)


def make_pair(cfg: TimeSformerConfig, seed: int = 0):
    """(ours, hf) with the same weights: HF's initialisation copied into our layout."""
    hf = random_model(cfg, "hf", seed).eval()
    ours_cfg = config_from_hf(hf.config, attention=cfg.attention)
    ours = TimeSformer(ours_cfg)
    ours.load_state_dict(convert_hf_state_dict(hf.state_dict(), cfg.attention, cfg.num_frames))
    return ours.eval(), hf
