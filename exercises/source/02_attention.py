# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Exercise 2: attention with a visibility mask, and separate q, k, v projections
#
# **Goal:** write the attention that every TimeSformer step uses (paper §3, Eq. 2-5,
# following Vaswani et al. 2017) in the two forms lesson 02 did not show: with a boolean
# **visibility mask** (which keys each query may see, the masks of lesson 03), and
# multi-head attention from **separate** query, key and value layers loaded from the fused
# `qkv` of the package (`mt.attention.MultiHeadAttention`). You will see that a divided
# time step *is* joint attention with a mask.
# **Before this:** lessons 02 (self-attention) and 03 (space-time attention).
# **Time:** about 40 minutes. **Points:** 7.
#
# Replace each `raise NotImplementedError()` with your code and run the test cell below
# it. Without Jupyter: `mini-timesformer check exercises/02_attention.ipynb`.

# %%
import torch
import torch.nn.functional as F
from torch import nn

from mini_timesformer import checks

torch.manual_seed(0)

# %% [markdown]
# ## 1. Scaled dot-product attention with a visibility mask (3 points)
#
# For queries Q (…, Lq, d), keys K (…, Lk, d), values V (…, Lk, d) and a bool mask
# `visible` (Lq, Lk) (or any shape that broadcasts to (…, Lq, Lk)): query i may attend to
# key j only where `visible[i, j]` is True. A hidden key must get weight **exactly 0**,
# and each query's row of weights must still be a probability distribution over the keys
# it sees. Every query sees at least one key. Return the output (…, Lq, d) *and* the
# weights (…, Lq, Lk).


# %%
def masked_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, visible: torch.Tensor):
    """softmax(Q Kᵀ / √d, hidden keys excluded) V. Returns (output, weights)."""
    ### BEGIN SOLUTION
    d = q.shape[-1]
    scores = (q @ k.transpose(-2, -1) / d**0.5).masked_fill(~visible, float("-inf"))
    weights = scores.softmax(dim=-1)  # (…, Lq, Lk): exp(−inf) = 0 for hidden keys
    return weights @ v, weights
    ### END SOLUTION


# %% grade_id="masked_attention_tests" points=3
checks.check_masked_attention(masked_attention)
### BEGIN HIDDEN TESTS
checks.check_masked_attention(masked_attention, queries=3, keys=7, seed=1)  # Lq ≠ Lk
checks.check_masked_attention(masked_attention, magnitude=30.0, seed=2)  # large scores
checks.check_masked_attention(
    masked_attention, batch=1, heads=1, queries=1, keys=1, head_dim=8, seed=3
)
### END HIDDEN TESTS

# %% [markdown]
# PyTorch's fused `F.scaled_dot_product_attention` takes the same bool mask
# (`attn_mask`, True = take part) and never stores the Lq×Lk weights:

# %%
q, k, v = torch.randn(3, 2, 4, 6, 8).unbind(0)
visible = torch.rand(6, 6) < 0.5
visible.fill_diagonal_(True)
fused = F.scaled_dot_product_attention(q, k, v, attn_mask=visible)
try:
    print(
        "largest difference fused vs yours:",
        (fused - masked_attention(q, k, v, visible)[0]).abs().max().item(),
    )
except NotImplementedError:
    print("(finish part 1 first)")

# %% [markdown]
# ## 2. Separate q, k, v layers from the fused qkv (1 point)
#
# The package (like the official TimeSformer and timm's ViT) stores W_Q, W_K, W_V as one
# `attn.qkv = Linear(D, 3·D)` whose output is **[all of Q | all of K | all of V]**. Other
# code bases keep three `Linear(D, D)` layers (Hugging Face's ViT calls them `query`,
# `key`, `value`). Return three new `nn.Linear(D, D)` layers holding the fused layer's
# weights, so that `q_proj(x)` equals the first D outputs of `attn.qkv(x)`, and so on. A
# Linear computes x·Wᵀ + b with W of shape (out, in): which axis of `attn.qkv.weight`
# (3·D, D) holds Q, K and V? Give them a bias exactly when `attn.qkv` has one.


# %%
def split_qkv(attn) -> tuple[nn.Linear, nn.Linear, nn.Linear]:
    """Fused attn.qkv Linear(D, 3D) -> (q_proj, k_proj, v_proj), each Linear(D, D)."""
    ### BEGIN SOLUTION
    D = attn.qkv.in_features
    layers = []
    for i in range(3):
        layer = nn.Linear(D, D, bias=attn.qkv.bias is not None)
        with torch.no_grad():
            layer.weight.copy_(attn.qkv.weight[i * D : (i + 1) * D])  # rows = outputs
            if attn.qkv.bias is not None:
                layer.bias.copy_(attn.qkv.bias[i * D : (i + 1) * D])
        layers.append(layer)
    return tuple(layers)
    ### END SOLUTION


# %% grade_id="split_qkv_tests" points=1
checks.check_split_qkv(split_qkv)
### BEGIN HIDDEN TESTS
checks.check_split_qkv(split_qkv, dim=8, heads=2, qkv_bias=False, seed=1)
### END HIDDEN TESTS

# %% [markdown]
# ## 3. Multi-head attention from separate layers, with a mask (3 points)
#
# `multi_head(x, q_proj, k_proj, v_proj, proj, heads, visible=None)`: x (B, L, D) →
# (output (B, L, D), weights (B, heads, L, L)). Project x with the three layers; inside
# each of Q, K, V the D features are heads × d_h, **head-major** (d_h = D / heads); each
# head attends on its own with scale 1/√d_h, using your `masked_attention` (no mask =
# every key visible); concatenate the heads back to D features and apply `proj` (W_O).
#
# The check runs your function with the layers of `split_qkv` on a package
# `MultiHeadAttention` and compares with it. Then it gives you the **time step's
# visibility mask** of the divided scheme (`mt.schemes.visibility("divided", T, H', W')
# ["time"]`) over the T·N patch tokens of a clip, and compares your output with the
# package's attention run *inside the time groups*: a mask and a grouping are two ways to
# write the same step.


# %%
def multi_head(x: torch.Tensor, q_proj, k_proj, v_proj, proj, heads: int, visible=None):
    """Multi-head self-attention from separate projections, optionally masked."""
    ### BEGIN SOLUTION
    B, L, D = x.shape
    # (B, L, D) -> (B, heads, L, d_h) for each of q, k, v
    q, k, v = (f(x).view(B, L, heads, D // heads).transpose(1, 2) for f in (q_proj, k_proj, v_proj))
    if visible is None:
        visible = torch.ones(L, L, dtype=torch.bool)
    out, weights = masked_attention(q, k, v, visible)
    out = out.transpose(1, 2).reshape(B, L, D)  # (B, heads, L, d_h) -> (B, L, D)
    return proj(out), weights
    ### END SOLUTION


# %% grade_id="multi_head_tests" points=3
checks.check_multi_head_masked(multi_head)
### BEGIN HIDDEN TESTS
checks.check_multi_head_masked(multi_head, heads=1, dim=8, grid=(3, 1, 2), seed=1)
checks.check_multi_head_masked(multi_head, heads=6, dim=12, grid=(1, 1, 1), batch=1, seed=2)
### END HIDDEN TESTS

# %% [markdown]
# ## Questions (not graded)
#
# 1. A masked joint attention over T·N tokens computes (T·N)² scores, most of them thrown
#    away. How many does the grouped time step compute at 8×224 (N = 196)? Why does the
#    package group instead of masking?
# 2. Without the 1/√d scaling, what happens to the softmax as d grows? Try it: the
#    entropy of a row for d = 4 vs d = 256 with random unit-variance q and k.
# 3. Why is the output unchanged when you permute the keys together with the values
#    (and the mask's columns with them)?
