"""Blocks and the TimeSformer video classifier (paper §3, Fig. 1).

A block = its scheme's attention steps, then an MLP:

    for step in steps:  x = x + DropPath(Extra(Attention_group(LayerNorm(x))))
    x = x + DropPath(MLP(LayerNorm(x)))

The last step of a block plays the ViT attention; every earlier ("added") step has its own
LayerNorm, qkv and projection plus an extra zero-initialised Linear(D, D) before its
residual (the official ``temporal_fc``), which reproduces the paper's parameter counts.
"""

from __future__ import annotations

import torch
from einops import rearrange
from torch import nn

from .attention import MultiHeadAttention
from .config import TimeSformerConfig
from .embed import VideoEmbedding
from .errors import UserError
from .pretrained.mixin import PretrainedMixin
from .schemes import check_grid, merge_groups, scheme_record, split_groups


class DropPath(nn.Module):
    """Stochastic depth (Huang et al. 2016): drop a residual branch per sample."""

    def __init__(self, p: float = 0.0):
        super().__init__()
        self.p = p

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.p == 0.0 or not self.training:
            return x
        keep = x.new_empty(x.shape[0], *([1] * (x.ndim - 1))).bernoulli_(1 - self.p)
        return x * keep / (1 - self.p)


def split_cls(x: torch.Tensor):
    """Tokens (B, 1 + L, D) -> CLS (B, 1, D) and the rest (B, L, D), as views.

    Same as ``x[:, :1], x[:, 1:]``, but written as one ``split`` because its backward
    concatenates the two gradients, while two slices would each zero-fill a full-size
    gradient buffer and then add them (3 extra passes over the tokens per step).
    """
    return x.split([1, x.shape[1] - 1], dim=1)


class AttentionStep(nn.Module):
    """One attention step: LayerNorm -> attention within groups -> (extra Linear) -> residual."""

    def __init__(self, cfg: TimeSformerConfig, grouping: str, added: bool, drop_path: float):
        super().__init__()
        self.grouping = grouping
        self.with_cls = not added  # the block's last (ViT) step also updates the CLS token
        self.norm = nn.LayerNorm(cfg.embed_dim, eps=cfg.layer_norm_eps)
        self.attn = MultiHeadAttention(
            cfg.embed_dim, cfg.num_heads, cfg.qkv_bias, cfg.attention_dropout, cfg.dropout
        )
        self.extra = nn.Linear(cfg.embed_dim, cfg.embed_dim) if added else None
        self.drop_path = DropPath(drop_path)

    def forward(self, x: torch.Tensor, grid, need_weights: bool = False):
        """x: (B, 1 + T·N, D), CLS first. Returns the updated x and weights (or None).

        Weights have shape (B, G, heads, L, L): G groups of L tokens (CLS first if included).
        """
        B = x.shape[0]
        cls, patches = split_cls(x)  # (B, 1, D), (B, T·N, D)
        groups = split_groups(self.norm(patches), self.grouping, grid)  # (B·G, L, D)
        G = groups.shape[0] // B
        if self.with_cls:  # copy the CLS token into each of the G groups
            cls_copies = self.norm(cls).repeat_interleave(G, dim=0)  # (B·G, 1, D)
            groups = torch.cat([cls_copies, groups], dim=1)  # (B·G, 1 + L, D)
        out, weights = self.attn(groups, need_weights)
        if self.with_cls:  # the CLS update is the mean of its G copies' outputs
            cls_out, out = split_cls(out)  # (B·G, 1, D), (B·G, L, D)
            cls_out = cls_out.reshape(B, G, -1).mean(dim=1, keepdim=True)  # (B, 1, D)
        patch_out = merge_groups(out, self.grouping, grid)  # (B, T·N, D)
        if self.extra is not None:
            patch_out = self.extra(patch_out)
            x = torch.cat([cls, patches + self.drop_path(patch_out)], dim=1)
        else:
            x = x + self.drop_path(torch.cat([cls_out, patch_out], dim=1))
        if weights is not None:  # (B·G, heads, L, L) -> (B, G, heads, L, L)
            weights = rearrange(weights, "(b g) h q k -> b g h q k", b=B)
        return x, weights


class MLP(nn.Module):
    """Linear(D, 4D) -> GELU -> Linear(4D, D) (paper §3 / ViT)."""

    def __init__(self, dim: int, hidden: int, dropout: float = 0.0):
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(hidden, dim)
        self.drop = nn.Dropout(dropout)

    def forward(self, x):
        return self.drop(self.fc2(self.drop(self.act(self.fc1(x)))))


class Block(nn.Module):
    """One TimeSformer block: the scheme's attention steps, then the MLP."""

    def __init__(self, cfg: TimeSformerConfig, drop_path: float = 0.0):
        super().__init__()
        scheme = scheme_record(cfg.attention)
        self.steps = nn.ModuleDict(
            {
                name: AttentionStep(cfg, name, added=scheme.is_added(name), drop_path=drop_path)
                for name in scheme.step_names
            }
        )
        self.norm = nn.LayerNorm(cfg.embed_dim, eps=cfg.layer_norm_eps)
        self.mlp = MLP(cfg.embed_dim, int(cfg.embed_dim * cfg.mlp_ratio), cfg.dropout)
        self.drop_path = DropPath(drop_path)

    def forward(self, x, grid, need_weights: bool = False):
        attention = {}
        for name, step in self.steps.items():
            x, attention[name] = step(x, grid, need_weights)
        x = x + self.drop_path(self.mlp(self.norm(x)))
        return x, attention


class TimeSformer(PretrainedMixin, nn.Module):
    """TimeSformer video classifier: ``logits = model(video)``, video (B, T, C, H, W).

    Weights in and out (``from_pretrained``, ``from_vit``, ``save_pretrained``) come from
    ``pretrained.mixin.PretrainedMixin``, which builds ``cls(config)``.
    """

    config_class = TimeSformerConfig
    model_type = "mini-timesformer"  # config.json / checkpoint name (pretrained/loader.py)

    def __init__(self, cfg: TimeSformerConfig):
        super().__init__()
        self.config = cfg
        self.embed = VideoEmbedding(cfg)
        # stochastic depth grows linearly from 0 to drop_path_rate over the blocks
        rates = [cfg.drop_path_rate * i / max(cfg.depth - 1, 1) for i in range(cfg.depth)]
        self.blocks = nn.ModuleList(Block(cfg, rate) for rate in rates)
        self.norm = nn.LayerNorm(cfg.embed_dim, eps=cfg.layer_norm_eps)
        self.head_drop = nn.Dropout(cfg.dropout)
        self.head = nn.Linear(cfg.embed_dim, cfg.num_classes) if cfg.num_classes else nn.Identity()
        self.apply(_init_vit_weights)
        for block in self.blocks:  # added steps start as identity (official vit.py, temporal_fc)
            for step in block.steps.values():
                if step.extra is not None:
                    nn.init.zeros_(step.extra.weight)
                    nn.init.zeros_(step.extra.bias)
        if scheme_record(cfg.attention).per_frame:  # per-frame ViT: no time embedding
            self.embed.time_embed.requires_grad_(False)

    def check_input(self, video: torch.Tensor) -> None:
        """One-line errors (``UserError``, a ValueError) for inputs the model cannot take."""
        cfg = self.config
        if not torch.is_tensor(video) or video.ndim != 5:
            shape = tuple(video.shape) if torch.is_tensor(video) else type(video).__name__
            raise UserError(
                f"expected a video batch of shape (B, T, {cfg.in_channels}, H, W), got {shape}"
            )
        if video.shape[2] != cfg.in_channels:
            raise UserError(
                f"expected {cfg.in_channels} channels at dim 2 of (B, T, C, H, W), "
                f"got {video.shape[2]} (shape {tuple(video.shape)})"
            )
        H, W = video.shape[-2:]
        if H % cfg.patch_size or W % cfg.patch_size:
            raise UserError(
                f"frame size {H}×{W} is not a multiple of the patch size {cfg.patch_size}"
            )
        check_grid(cfg.attention, video.shape[1], H // cfg.patch_size, W // cfg.patch_size)

    def _run(self, video: torch.Tensor, need_weights: bool):
        """Video (B, T, C, H, W) -> final normalised CLS features (B, D) and the attention
        list (empty unless ``need_weights``)."""
        self.check_input(video)
        B = video.shape[0]
        scheme = scheme_record(self.config.attention)
        per_frame = scheme.per_frame
        x, grid = self.embed(video, use_time=not per_frame)
        grid = scheme.frame_grid(grid)  # per-frame: (B·T, 1 + N, D), a 1-frame grid each
        attention = []
        for block in self.blocks:
            x, weights = block(x, grid, need_weights)
            attention.append(weights)
        if per_frame:  # average the frames' tokens (official space-only), then normalise
            x = rearrange(x, "(b t) l d -> b t l d", b=B).mean(dim=1)
            attention = (
                [
                    {k: rearrange(w, "(b t) 1 h q k -> b t h q k", b=B) for k, w in a.items()}
                    for a in attention
                ]
                if need_weights
                else []
            )
        features = self.norm(x)[:, 0]  # the CLS token
        return features, (attention if need_weights else [])

    def forward_features(self, video: torch.Tensor) -> torch.Tensor:
        """Video (B, T, C, H, W) -> final normalised CLS features (B, D)."""
        return self._run(video, need_weights=False)[0]

    def forward(self, video: torch.Tensor) -> torch.Tensor:
        """Video (B, T, C, H, W) -> logits (B, num_classes), on the fused attention path."""
        features, _ = self._run(video, need_weights=False)
        return self.head(self.head_drop(features))

    def forward_with_attention(self, video: torch.Tensor):
        """``(logits, attention)``: the explicit softmax(QKᵀ)V path, keeping a list with one
        dict per block, ``{step name: weights (B, G, heads, L, L)}`` (see ``AttentionStep``)."""
        features, attention = self._run(video, need_weights=True)
        return self.head(self.head_drop(features)), attention


def _init_vit_weights(module: nn.Module) -> None:
    """ViT initialisation: truncated normal (std 0.02) Linear weights, zero biases."""
    if isinstance(module, nn.Linear):
        nn.init.trunc_normal_(module.weight, std=0.02)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, nn.LayerNorm):
        nn.init.ones_(module.weight)
        nn.init.zeros_(module.bias)
