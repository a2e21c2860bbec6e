# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Exercise 3: divided space-time attention
#
# **Goal:** build the paper's best scheme, Divided Space-Time attention (T+S): in each
# block every patch first attends over **time** (the same position in all T frames),
# then over **space** (the N patches of its own frame), then the MLP runs (paper §3,
# "Space-Time Self-Attention Models", Eq. 11 and 6-9, Fig. 1). Lesson 04 built it for this
# package's time-major tokens; here you build it the way the official code runs it, on
# tokens in the official **patch-major** layout (exercise 1), so your code reads next to
# the official `timesformer/models/vit.py` (class `Block`).
# **Before this:** lessons 02 (self-attention), 03 (space-time attention) and 04 (attention
# steps); exercise 1 (the two token layouts).
# **Time:** about 60 minutes. **Points:** 9.
#
# Replace each `raise NotImplementedError()` with your code and run the test cell below
# it. Without Jupyter: `mini-timesformer check exercises/03_divided_attention.ipynb`.

# %%
import torch
from einops import rearrange

import mini_timesformer as mt
from mini_timesformer import checks

torch.manual_seed(0)

# %% [markdown]
# ## Tokens and steps
#
# Tokens are `x` of shape (B, 1 + T·N, D): `x[:, :1]` is the CLS token, `x[:, 1:]` the
# patch tokens in the **official patch-major layout** `(h w t)`: patch (t, n), with
# n = h·W' + w, is token 1 + n·T + t (all T frames of patch 0 first, then patch 1, …).
# `grid` is the tuple (T, H', W'). Each attention step is
#
# `x = x + Extra(Attention_group(LayerNorm(x)))`
#
# and you get the step's layers as `step.norm` (LayerNorm), `step.attn` (the package's
# multi-head attention: `out, _ = step.attn(groups)` for groups (G, L, D), as in
# exercise 2) and, for the time step only, `step.extra`: the zero-initialised
# Linear(D, D) the official code calls `temporal_fc`. (The checks give it random weights,
# so forgetting it shows.)
#
# Who sees whom, for T = 2 frames of 2×2 patches (1 = query row sees key column). The
# package's masks index tokens time-major; reordered to the official layout:

# %%
T_, N_ = 2, 4
official_order = torch.tensor([t * N_ + n for n in range(N_) for t in range(T_)])
for name, mask in mt.schemes.visibility("divided", 2, 2, 2).items():
    print(name, "\n", mask[official_order][:, official_order].int())

# %% [markdown]
# ## 1. The time step (3 points)
#
# Every patch attends to the T patches at its own position (h, w), one per frame:
# G = B·N groups of T tokens. The CLS token takes **no part** in the time step: it is
# passed through unchanged. The attention output goes through `step.extra` before the
# residual.


# %%
def time_step(x: torch.Tensor, grid, step) -> torch.Tensor:
    """x (B, 1 + T·N, D) -> (B, 1 + T·N, D): attention over time, CLS untouched."""
    T, H, W = grid
    cls, patches = x[:, :1], x[:, 1:]
    ### BEGIN SOLUTION
    B = x.shape[0]
    groups = rearrange(step.norm(patches), "b (n t) d -> (b n) t d", t=T)  # (B·N, T, D)
    out, _ = step.attn(groups)
    out = rearrange(out, "(b n) t d -> b (n t) d", b=B)  # back to the (h w t) order
    return torch.cat([cls, patches + step.extra(out)], dim=1)
    ### END SOLUTION


# %% grade_id="time_step_tests" points=3
checks.check_time_step(time_step, layout="official")
### BEGIN HIDDEN TESTS
checks.check_time_step(
    time_step, grid=(1, 2, 2), seed=1, layout="official"
)  # T = 1: each group is one token
checks.check_time_step(
    time_step, grid=(4, 1, 1), batch=1, seed=2, layout="official"
)  # a single patch
checks.check_time_step(time_step, grid=(2, 3, 2), seed=3, layout="official")
### END HIDDEN TESTS

# %% [markdown]
# ## 2. The space step and the CLS token (3 points)
#
# Every patch attends to the N patches of its own frame: G = B·T groups. This step is
# the block's ViT attention, so the CLS token takes part, the official way:
#
# 1. a copy of the (normalised) CLS token is put first in **every** frame's group,
#    giving groups of 1 + N tokens;
# 2. after attention the T outputs for the CLS copies are **averaged**: that is the
#    CLS update;
# 3. there is no extra Linear here: the residual adds the attention output directly.


# %%
def space_step(x: torch.Tensor, grid, step) -> torch.Tensor:
    """x (B, 1 + T·N, D) -> (B, 1 + T·N, D): attention within each frame, with the CLS."""
    T, H, W = grid
    cls, patches = x[:, :1], x[:, 1:]
    ### BEGIN SOLUTION
    B = x.shape[0]
    groups = rearrange(step.norm(patches), "b (n t) d -> (b t) n d", t=T)  # (B·T, N, D)
    cls_copies = step.norm(cls).repeat_interleave(T, dim=0)  # (B·T, 1, D)
    out, _ = step.attn(torch.cat([cls_copies, groups], dim=1))  # (B·T, 1 + N, D)
    cls_out = rearrange(out[:, :1], "(b t) 1 d -> b t d", b=B).mean(1, keepdim=True)
    patch_out = rearrange(out[:, 1:], "(b t) n d -> b (n t) d", b=B)
    return x + torch.cat([cls_out, patch_out], dim=1)
    ### END SOLUTION


# %% grade_id="space_step_tests" points=3
checks.check_space_step(space_step, layout="official")
### BEGIN HIDDEN TESTS
checks.check_space_step(
    space_step, grid=(4, 1, 1), seed=1, layout="official"
)  # a single patch per frame
checks.check_space_step(
    space_step, grid=(1, 2, 3), batch=1, seed=2, layout="official"
)  # T = 1: a ViT
checks.check_space_step(space_step, grid=(2, 3, 2), seed=3, layout="official")
### END HIDDEN TESTS

# %% [markdown]
# ## 3. A whole divided block (2 points)
#
# `block` is the package's `Block` for the divided scheme: `block.steps["time"]`,
# `block.steps["space"]`, then `block.norm` and `block.mlp` for
# `x = x + MLP(LayerNorm(x))`. Use your two steps (tokens still in the official layout).


# %%
def divided_block(x: torch.Tensor, grid, block) -> torch.Tensor:
    """Time step, space step, MLP: one TimeSformer block (divided)."""
    ### BEGIN SOLUTION
    x = time_step(x, grid, block.steps["time"])
    x = space_step(x, grid, block.steps["space"])
    return x + block.mlp(block.norm(x))
    ### END SOLUTION


# %% grade_id="divided_block_tests" points=2
checks.check_divided_block(divided_block, layout="official")
### BEGIN HIDDEN TESTS
checks.check_divided_block(
    divided_block, grid=(1, 1, 1), seed=1, layout="official"
)  # one frame, one patch
checks.check_divided_block(divided_block, grid=(3, 2, 1), seed=2, layout="official")
### END HIDDEN TESTS

# %% [markdown]
# ## 4. Comparisons per patch (1 point)
#
# `keys_per_query(T, H, W)`: how many keys one patch query is compared with in one
# divided block (both steps, count the CLS copy where it is a key). The paper quotes
# N + T + 2 for divided attention (it counts a CLS key in both steps); count what the code
# above does. Joint attention would need T·N + 1.


# %%
def keys_per_query(T: int, H: int, W: int) -> int:
    """Keys per patch query in one divided block (time step + space step)."""
    ### BEGIN SOLUTION
    return T + (H * W + 1)
    ### END SOLUTION


# %% grade_id="keys_per_query_tests" points=1
checks.check_keys_per_query(keys_per_query, "divided")
### BEGIN HIDDEN TESTS
checks.check_keys_per_query(keys_per_query, "divided", grids=((1, 1, 1), (96, 14, 14)))
### END HIDDEN TESTS

# %% [markdown]
# ## Questions (not graded)
#
# 1. At 8×224 (N = 196), how many keys does each patch see with joint attention, and
#    with divided attention? How does each count grow with T?
# 2. The time step's extra Linear starts at zero (official `timesformer/models/vit.py`,
#    which zero-initialises `temporal_fc`; the paper's Appendix A starts both attentions
#    from the ImageNet ViT's weights). What does a divided block compute at
#    initialisation, and why does that help when starting from an ImageNet ViT?
# 3. Why must the time step leave the CLS token out? What would averaging its T copies
#    in the space step mean if the CLS token had also been updated in the time step?
