# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Exercise 2: scaled dot-product and multi-head attention
#
# **Goal:** write the attention that every TimeSformer step uses (paper §3, Eq. 2-5,
# following Vaswani et al. 2017), first for one head, then for several heads with the
# fused `qkv` projection of the package (`mt.attention.MultiHeadAttention`).
# **Before this:** lesson 02 (self-attention). **Time:** about 40 minutes. **Points:** 6.
#
# Replace each `raise NotImplementedError()` with your code and run the test cell below
# it. Without Jupyter: `mini-timesformer check exercises/02_attention.ipynb`.

# %%
import torch
import torch.nn.functional as F

import mini_timesformer as mt
from mini_timesformer import checks

torch.manual_seed(0)

# %% [markdown]
# ## 1. Scaled dot-product attention (3 points)
#
# For queries Q (…, Lq, d), keys K (…, Lk, d) and values V (…, Lk, d):
#
# $$\mathrm{Attention}(Q, K, V) = \mathrm{softmax}\!\left(\frac{Q K^\top}{\sqrt{d}}\right) V$$
#
# The softmax runs over the **keys**: each query's row of weights is a probability
# distribution. Return the output (…, Lq, d) *and* the weights (…, Lq, Lk); the
# leading axes (batch, heads, …) just come along. If you write the softmax yourself,
# keep it finite for large scores.

# %%
def attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor):
    """softmax(Q Kᵀ / √d) V. Returns (output (…, Lq, d), weights (…, Lq, Lk))."""
    ### BEGIN SOLUTION
    d = q.shape[-1]
    weights = (q @ k.transpose(-2, -1) / d**0.5).softmax(dim=-1)  # (…, Lq, Lk)
    return weights @ v, weights
    ### END SOLUTION


# %% grade_id="attention_tests" points=3
checks.check_attention(attention)
### BEGIN HIDDEN TESTS
checks.check_attention(attention, queries=3, keys=7, seed=1)  # Lq ≠ Lk
checks.check_attention(attention, magnitude=30.0, seed=2)  # large scores stay finite
checks.check_attention(attention, batch=1, heads=1, queries=1, head_dim=8, seed=3)
### END HIDDEN TESTS

# %% [markdown]
# PyTorch's fused `F.scaled_dot_product_attention` computes the same output without
# ever storing the Lq×Lk weights; the package uses it unless the weights are asked for.

# %%
q, k, v = torch.randn(3, 2, 4, 10, 8).unbind(0)
fused = F.scaled_dot_product_attention(q, k, v)
explicit, _ = mt.attention.explicit_attention(q, k, v, scale=8**-0.5)
print("largest difference fused vs explicit:", (fused - explicit).abs().max().item())

# %% [markdown]
# ## 2. Multi-head attention with a fused qkv (3 points)
#
# `attn` is the package's `MultiHeadAttention` for width D and `attn.num_heads` heads of
# d_h = D / heads. Use its layers, and your `attention` above:
#
# * `attn.qkv`: one Linear(D, 3·D) whose output is **[all of Q | all of K | all of V]**;
#   inside each, the D features are heads × d_h, **head-major**;
# * each head attends on its own with scale 1/√d_h;
# * concatenate the heads back to D features and apply `attn.proj` (W_O).
#
# `multi_head(x, attn)`: x (B, L, D) → (output (B, L, D), weights (B, heads, L, L)).

# %%
def multi_head(x: torch.Tensor, attn) -> tuple[torch.Tensor, torch.Tensor]:
    """Multi-head self-attention with attn.qkv and attn.proj."""
    ### BEGIN SOLUTION
    B, L, D = x.shape
    heads = attn.num_heads
    # (B, L, 3·D) -> (3, B, heads, L, d_h)
    qkv = attn.qkv(x).view(B, L, 3, heads, D // heads).permute(2, 0, 3, 1, 4)
    out, weights = attention(*qkv.unbind(0))
    out = out.transpose(1, 2).reshape(B, L, D)  # (B, heads, L, d_h) -> (B, L, D)
    return attn.proj(out), weights
    ### END SOLUTION


# %% grade_id="multi_head_tests" points=3
checks.check_multi_head(multi_head)
### BEGIN HIDDEN TESTS
checks.check_multi_head(multi_head, heads=1, dim=8, seed=1)
checks.check_multi_head(multi_head, heads=6, dim=12, tokens=1, batch=1, seed=2)
### END HIDDEN TESTS

# %% [markdown]
# ## Questions (not graded)
#
# 1. Without the 1/√d scaling, what happens to the softmax as d grows? Try it: the
#    entropy of a row for d = 4 vs d = 256 with random unit-variance q and k.
# 2. The explicit path stores B·heads·L² weights. At 8×224 joint attention
#    (L = 1569, 12 heads) how many MB is that per layer in float32? Compare with
#    `mt.cost.attention_memory` (lesson 09).
# 3. Why is the output unchanged when you permute the keys together with the values?
