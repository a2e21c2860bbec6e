"""Multi-head self-attention (Vaswani et al. 2017; paper §3, Eq. 2-5) with a fused qkv.

Two paths compute the same thing:

* fast (default): ``torch.nn.functional.scaled_dot_product_attention``, which uses a
  fused kernel (flash / memory-efficient) and never materialises the L×L scores;
* explicit: softmax(Q Kᵀ / √d_h) V written out, used only when the attention weights
  are requested (visualisation, rollout, exercises). A test proves both agree.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class MultiHeadAttention(nn.Module):
    """Self-attention over a batch of token groups ``(B, L, D) -> (B, L, D)``."""

    def __init__(
        self,
        dim: int,
        num_heads: int,
        qkv_bias: bool = True,
        attention_dropout: float = 0.0,
        dropout: float = 0.0,
    ):
        super().__init__()
        self.num_heads = num_heads
        self.head_dim = dim // num_heads
        self.scale = self.head_dim**-0.5
        self.qkv = nn.Linear(dim, 3 * dim, bias=qkv_bias)  # W_Q, W_K, W_V in one matmul
        self.attention_dropout = attention_dropout
        self.proj = nn.Linear(dim, dim)  # W_O
        self.proj_drop = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor, need_weights: bool = False):
        """Return ``(output (B, L, D), weights (B, heads, L, L) or None)``."""
        B, L, D = x.shape
        q, k, v = split_heads(self.qkv(x), self.num_heads)  # each (B, heads, L, d_h)
        drop = self.attention_dropout if self.training else 0.0
        if need_weights:
            out, weights = explicit_attention(q, k, v, self.scale, drop)
        else:
            out, weights = F.scaled_dot_product_attention(q, k, v, dropout_p=drop), None
        out = out.transpose(1, 2).reshape(B, L, D)  # (B, heads, L, d_h) -> (B, L, D)
        return self.proj_drop(self.proj(out)), weights


def split_heads(qkv: torch.Tensor, num_heads: int):
    """Fused projections (B, L, 3·D) -> q, k, v, each (B, heads, L, d_h), as views.

    Why unbind the ``3`` axis first and transpose each part (rather than permute the
    whole 5-D tensor): the backward pass then stacks the three gradients straight into
    the (B, L, 3, heads, d_h) layout the qkv Linear needs, saving one full copy.
    """
    B, L, three_d = qkv.shape
    parts = qkv.view(B, L, 3, num_heads, three_d // (3 * num_heads)).unbind(2)
    return [part.transpose(1, 2) for part in parts]  # (B, L, heads, d_h) -> (B, heads, L, d_h)


def explicit_attention(q, k, v, scale: float, dropout: float = 0.0):
    """softmax(Q Kᵀ · scale) V, returning the output and the (pre-dropout) weights."""
    weights = (q @ k.transpose(-2, -1) * scale).softmax(dim=-1)  # (B, heads, L, L)
    out = F.dropout(weights, dropout) @ v if dropout else weights @ v
    return out, weights
