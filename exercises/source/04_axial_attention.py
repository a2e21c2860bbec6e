# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Exercise 4: axial attention (T+W+H)
#
# **Goal:** build the token groupings of the paper's Axial scheme, where each block
# attends along time, then along the width (a row), then along the height (a column)
# of the patch grid (paper §3, Fig. 2), and see why three thin steps still connect every
# token to every other.
# **Before this:** lessons 03 (space-time attention), 04 (attention steps) and 05 (the
# TimeSformer); exercise 3.
# **Time:** about 40 minutes. **Points:** 7.
#
# Replace each `raise NotImplementedError()` with your code and run the test cell below
# it. Without Jupyter: `mini-timesformer check exercises/04_axial_attention.ipynb`.

# %%
import torch
from einops import rearrange

import mini_timesformer as mt
from mini_timesformer import checks

torch.manual_seed(0)

# %% [markdown]
# ## Groupings
#
# A step is "attention inside groups". In the package a grouping is a pair of functions:
#
# * `split(x, grid)`: patch tokens (B, T·N, D) → groups (B·G, L, D), the G groups of each
#   clip stacked on the batch axis so one batched attention call handles all of them;
# * `merge(groups, grid)`: the inverse, back to (B, T·N, D).
#
# Patch tokens are time-major, token t·N + h·W' + w, and `grid = (T, H', W')`. Here is
# the time grouping from exercise 3, written this way:

# %%
def split_time(x, grid):
    T, H, W = grid
    return rearrange(x, "b (t h w) d -> (b h w) t d", t=T, h=H, w=W)  # (B·H'·W', T, D)


def merge_time(groups, grid):
    T, H, W = grid
    return rearrange(groups, "(b h w) t d -> b (t h w) d", t=T, h=H, w=W)  # (B, T·N, D)


checks.check_grouping(split_time, merge_time, "time")

# %% [markdown]
# ## 1. The width step (2 points)
#
# In the width step each patch attends to the W' patches of its **row**: same frame t,
# same row h. G = T·H' groups of L = W' tokens per clip.

# %%
def split_width(x: torch.Tensor, grid) -> torch.Tensor:
    """(B, T·N, D) -> (B·T·H', W', D): one group per row of each frame."""
    T, H, W = grid
    ### BEGIN SOLUTION
    return rearrange(x, "b (t h w) d -> (b t h) w d", t=T, h=H, w=W)
    ### END SOLUTION


def merge_width(groups: torch.Tensor, grid) -> torch.Tensor:
    """Inverse of split_width: (B·T·H', W', D) -> (B, T·N, D)."""
    T, H, W = grid
    ### BEGIN SOLUTION
    return rearrange(groups, "(b t h) w d -> b (t h w) d", t=T, h=H, w=W)
    ### END SOLUTION


# %% grade_id="width_tests" points=2
checks.check_grouping(split_width, merge_width, "width")
### BEGIN HIDDEN TESTS
checks.check_grouping(split_width, merge_width, "width", grid=(1, 3, 2), seed=1)
checks.check_grouping(split_width, merge_width, "width", grid=(2, 1, 1), batch=3, seed=2)
### END HIDDEN TESTS

# %% [markdown]
# ## 2. The height step (2 points)
#
# In the height step each patch attends to the H' patches of its **column**: same frame
# t, same column w. G = T·W' groups of L = H' tokens per clip.

# %%
def split_height(x: torch.Tensor, grid) -> torch.Tensor:
    """(B, T·N, D) -> (B·T·W', H', D): one group per column of each frame."""
    T, H, W = grid
    ### BEGIN SOLUTION
    return rearrange(x, "b (t h w) d -> (b t w) h d", t=T, h=H, w=W)
    ### END SOLUTION


def merge_height(groups: torch.Tensor, grid) -> torch.Tensor:
    """Inverse of split_height: (B·T·W', H', D) -> (B, T·N, D)."""
    T, H, W = grid
    ### BEGIN SOLUTION
    return rearrange(groups, "(b t w) h d -> b (t h w) d", t=T, h=H, w=W)
    ### END SOLUTION


# %% grade_id="height_tests" points=2
checks.check_grouping(split_height, merge_height, "height")
### BEGIN HIDDEN TESTS
checks.check_grouping(split_height, merge_height, "height", grid=(1, 3, 2), seed=1)
checks.check_grouping(split_height, merge_height, "height", grid=(3, 1, 1), batch=1, seed=2)
### END HIDDEN TESTS

# %% [markdown]
# ## 3. What one block can reach (2 points)
#
# `mt.schemes.visibility(scheme, T, H', W')` gives one bool mask per step: entry [i, j]
# is True when query token i sees key token j *in that step*. After a whole block,
# token j's information can reach token i through a chain of steps: j → k in the first
# step, k → i in the second, and so on.
#
# `block_reach(masks)`: masks in step order → bool (T·N, T·N), entry [i, j] True when a
# chain of the steps carries token j to token i. (Hint: a boolean matrix product is a
# float matrix product followed by `> 0`.)

# %%
def block_reach(masks) -> torch.Tensor:
    """Compose the steps' visibility masks (in order) into one bool (T·N, T·N) matrix."""
    ### BEGIN SOLUTION
    reach = None
    for mask in masks.values():
        reach = mask if reach is None else (mask.float() @ reach.float()) > 0
    return reach
    ### END SOLUTION


# %% grade_id="block_reach_tests" points=2
checks.check_block_reach(block_reach)

# %% [markdown]
# Every axial step only sees one line of the grid (here 4 frames of 3×3 patches, 36
# tokens). Once your `block_reach` passes, try `block_reach(masks).all()`: what does one
# block reach?

# %%
masks = mt.schemes.visibility("axial", 4, 3, 3)
print({name: int(mask.sum(1)[0]) for name, mask in masks.items()}, "keys per step, of 36")

# %% [markdown]
# ## 4. Comparisons per patch (1 point)
#
# `keys_per_query(T, H, W)`: the number of keys one patch query is compared with in one
# axial block (all three steps; only the last step, the block's ViT attention, has a
# CLS copy).

# %%
def keys_per_query(T: int, H: int, W: int) -> int:
    """Keys per patch query in one axial block (time + width + height steps)."""
    ### BEGIN SOLUTION
    return T + W + (H + 1)
    ### END SOLUTION


# %% grade_id="keys_per_query_tests" points=1
checks.check_keys_per_query(keys_per_query, "axial")
### BEGIN HIDDEN TESTS
checks.check_keys_per_query(keys_per_query, "axial", grids=((1, 1, 1), (16, 28, 28)))
### END HIDDEN TESTS

# %% [markdown]
# ## Questions (not graded)
#
# 1. At 8×224 (T = 8, 14×14 patches), compare keys per patch for joint, divided and
#    axial attention. Axial is the cheapest: why did it do worst in the paper's Table 1
#    (73.5 on K400)?
# 2. Axial adds a third set of attention weights per block: check the parameter count
#    with `mini-timesformer summary` (156.8M vs 121.4M for divided).
# 3. Which step order would you try instead of T → W → H, and would it change
#    `block_reach`?
