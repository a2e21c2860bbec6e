"""A space-only TimeSformer as an image ViT, in timm's key layout (lesson 15).

The ``space`` scheme run on one frame (``num_frames=1``) *is* a ViT (Dosovitskiy et al.
2021): patch embedding, CLS token, position embedding, blocks of attention + MLP, final
LayerNorm and head. ``vit_state_dict`` renames its weights to the layout of timm's
``VisionTransformer``, the layout ``TimeSformer.from_vit`` reads, so a ViT pre-trained on
images here can be inflated into a video model exactly as the paper inflates its ImageNet
ViT (§4 and Appendix A). The unused time embedding is dropped.
"""

from __future__ import annotations

import torch

from ..config import canonical_scheme
from ..errors import UserError

# (ours inside blocks.{i}, timm's inside blocks.{i}); every row has .weight and .bias
_BLOCK_ROWS = (
    ("steps.space.norm", "norm1"),
    ("steps.space.attn.qkv", "attn.qkv"),
    ("steps.space.attn.proj", "attn.proj"),
    ("norm", "norm2"),
    ("mlp.fc1", "mlp.fc1"),
    ("mlp.fc2", "mlp.fc2"),
)


def vit_state_dict(model) -> dict[str, torch.Tensor]:
    """The weights of a ``space`` TimeSformer ``model`` as a timm ViT state dict."""
    scheme = canonical_scheme(model.config.attention)
    if scheme != "space":
        raise UserError(f"vit_state_dict: expected a 'space' TimeSformer (a ViT), got {scheme!r}")
    ours = model.state_dict()
    vit = {
        "cls_token": ours["embed.cls_token"],
        "pos_embed": ours["embed.pos_embed"],  # (1, 1 + N, D): CLS slot first, as in timm
        "patch_embed.proj.weight": ours["embed.patch_embed.proj.weight"],
        "patch_embed.proj.bias": ours["embed.patch_embed.proj.bias"],
    }
    for i in range(model.config.depth):
        for mine, theirs in _BLOCK_ROWS:
            for leaf in ("weight", "bias"):
                key = f"blocks.{i}.{mine}.{leaf}"
                if key in ours:  # qkv has no bias when qkv_bias=False
                    vit[f"blocks.{i}.{theirs}.{leaf}"] = ours[key]
    for name in ("norm", "head"):
        for leaf in ("weight", "bias"):
            if f"{name}.{leaf}" in ours:
                vit[f"{name}.{leaf}"] = ours[f"{name}.{leaf}"]
    return {k: v.detach().clone() for k, v in vit.items()}
