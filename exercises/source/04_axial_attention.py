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
# **Goal:** build the two attention steps that are new in the paper's Axial scheme, where
# each block attends along time, then along the width (a row), then along the height (a
# column) of the patch grid (paper §3, Fig. 2), and see why three thin steps still connect
# every token to every other.
# **Before this:** lessons 03 (space-time attention), 04 (attention steps) and 05 (the
# TimeSformer); exercise 3.
# **Time:** about 50 minutes. **Points:** 9.
#
# The official code implements space, joint and divided attention only. How this package
# runs axial (every step but the last is an "added" step: CLS left out, extra Linear; the
# last step carries the CLS token) is our extension of the official divided rule; with it
# the parameter counts equal the paper's Table 1 (156.8M for axial).
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
# ## Tokens, steps, and who sees whom
#
# As in exercise 3: `x` is (B, 1 + T·N, D), CLS first, patch tokens in the official
# **patch-major** layout `(h w t)` (patch (t, h, w) is token 1 + (h·W' + w)·T + t);
# `grid = (T, H', W')`; a step is
# `x = x + Extra(Attention_groups(LayerNorm(x)))` with the layers `step.norm`,
# `step.attn` (`out, _ = step.attn(groups)` for groups (G, L, D)) and, for added steps,
# `step.extra`. The visibility masks of one axial block, for T = 2 frames of 2×3 patches
# (1 = the query row sees the key column), reordered from the package's time-major
# indices to the official layout:

# %%
T_, N_ = 2, 6
official_order = torch.tensor([t * N_ + n for n in range(N_) for t in range(T_)])
for name, mask in mt.schemes.visibility("axial", 2, 2, 3).items():
    mask = mask[official_order][:, official_order]
    print(name, f"({int(mask.sum(1)[0])} keys per query)\n", mask.int())

# %% [markdown]
# ## 1. The width step (3 points)
#
# Each patch attends to the W' patches of its **row**: same frame t, same row h. That is
# G = B·T·H' groups of L = W' tokens. The width step is an **added** step: the CLS token
# takes no part and is passed through unchanged, and the attention output goes through
# `step.extra` before the residual.


# %%
def width_step(x: torch.Tensor, grid, step) -> torch.Tensor:
    """x (B, 1 + T·N, D) -> (B, 1 + T·N, D): attention along each row, CLS untouched."""
    T, H, W = grid
    cls, patches = x[:, :1], x[:, 1:]
    ### BEGIN SOLUTION
    rows = rearrange(step.norm(patches), "b (h w t) d -> (b t h) w d", t=T, h=H, w=W)
    out, _ = step.attn(rows)  # (B·T·H', W', D)
    out = rearrange(out, "(b t h) w d -> b (h w t) d", t=T, h=H, w=W)
    return torch.cat([cls, patches + step.extra(out)], dim=1)
    ### END SOLUTION


# %% grade_id="width_tests" points=3
checks.check_axial_step(width_step, "width", layout="official")
### BEGIN HIDDEN TESTS
checks.check_axial_step(width_step, "width", grid=(1, 3, 2), seed=1, layout="official")  # T = 1
checks.check_axial_step(
    width_step, "width", grid=(2, 1, 1), batch=3, seed=2, layout="official"
)  # one patch
### END HIDDEN TESTS

# %% [markdown]
# ## 2. The height step, with the CLS token (3 points)
#
# Each patch attends to the H' patches of its **column**: same frame t, same column w,
# G = B·T·W' groups. The height step is the block's **last** step, the one that plays the
# ViT attention, so the CLS token takes part as in the divided space step, but now there
# are T·W' groups per clip, not T:
#
# 1. a copy of the normalised CLS token goes first in **every** column group (groups of
#    1 + H' tokens);
# 2. the CLS token's update is the **mean of its T·W' copies' outputs**;
# 3. no extra Linear: the residual adds the attention output directly.


# %%
def height_step(x: torch.Tensor, grid, step) -> torch.Tensor:
    """x (B, 1 + T·N, D) -> (B, 1 + T·N, D): attention along each column, with the CLS."""
    T, H, W = grid
    cls, patches = x[:, :1], x[:, 1:]
    ### BEGIN SOLUTION
    B = x.shape[0]
    cols = rearrange(step.norm(patches), "b (h w t) d -> (b t w) h d", t=T, h=H, w=W)
    G = cols.shape[0] // B  # T·W' column groups per clip
    copies = step.norm(cls).repeat_interleave(G, dim=0)  # (B·G, 1, D)
    out, _ = step.attn(torch.cat([copies, cols], dim=1))  # (B·G, 1 + H', D)
    cls_out = out[:, 0].view(B, G, -1).mean(dim=1, keepdim=True)  # (B, 1, D)
    patch_out = rearrange(out[:, 1:], "(b t w) h d -> b (h w t) d", t=T, h=H, w=W)
    return x + torch.cat([cls_out, patch_out], dim=1)
    ### END SOLUTION


# %% grade_id="height_tests" points=3
checks.check_axial_step(height_step, "height", layout="official")
### BEGIN HIDDEN TESTS
checks.check_axial_step(height_step, "height", grid=(1, 3, 2), seed=1, layout="official")  # T = 1
checks.check_axial_step(
    height_step, "height", grid=(3, 1, 1), batch=1, seed=2, layout="official"
)  # one patch
checks.check_axial_step(height_step, "height", grid=(2, 4, 3), seed=3, layout="official")
### END HIDDEN TESTS

# %% [markdown]
# With the time step of exercise 3 in front, these two steps and the MLP are the whole
# axial block; the package's `Block` for `attention="axial"` runs exactly that, on
# time-major tokens.

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
