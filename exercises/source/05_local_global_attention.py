# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Exercise 5: sparse local-global attention (L+G)
#
# **Goal:** build the two groupings of the paper's Sparse Local Global scheme: a
# **local** step inside windows, then a **global** step over the whole clip with stride
# 2 (paper §3, Fig. 2), as `split`/`merge` functions on tokens in the official patch-major
# layout, as in exercises 3 and 4.
# **Before this:** lesson 03 (space-time attention); exercises 1 (token layouts) and 3.
# **Time:** about 45 minutes. **Points:** 7.
#
# The paper gives the sizes (§3, "Sparse Local Global"): a **local** attention over the
# neighbouring F × H/2 × W/2 patches (all F frames, half the patch grid in each spatial
# direction), then a sparse **global** attention over the whole clip with a stride of 2
# patches in time, height and width. What it leaves open is whether "neighbouring" means
# fixed windows or a sliding neighbourhood around each query. The package's choice (our
# choice, documented in `mt.schemes`): fixed windows, so that both steps are partitions of
# the tokens and run as one batched attention after a rearrange:
#
# * **local**: the H'×W' patch grid is cut into 2×2 quadrants, each window spans **all T
#   frames**: 4 windows of T·(H'/2)·(W'/2) tokens per clip;
# * **global**: tokens whose (t mod 2, h mod 2, w mod 2) agree form a group: each
#   query sees the whole clip at stride 2 (dilated, like the paper's Fig. 2): 8 groups of
#   (T/2)·(H'/2)·(W'/2) tokens (4 groups when T = 1).
#
# The official code implements only space, joint and divided attention; the CLS policy
# and extra Linear of the local step are this package's extension of the divided rule.
#
# Replace each `raise NotImplementedError()` with your code and run the test cell below
# it. Without Jupyter: `mini-timesformer check exercises/05_local_global_attention.ipynb`.

# %%
import torch
from einops import rearrange

import mini_timesformer as mt
from mini_timesformer import checks

torch.manual_seed(0)

# %% [markdown]
# ## Groupings as split and merge
#
# A step is "attention inside groups". The package writes a grouping as a pair of
# functions (`mt.schemes.split_groups` / `merge_groups`):
#
# * `split(x, grid)`: patch tokens (B, T·N, D) → groups (B·G, L, D), the G groups of each
#   clip stacked on the batch axis, so that one batched attention call handles them all;
# * `merge(groups, grid)`: the inverse, back to (B, T·N, D).
#
# Here the patch tokens are in the official **patch-major** layout `(h w t)`: patch
# (t, h, w) is token (h·W' + w)·T + t (no CLS here), and `grid = (T, H', W')`. The divided
# time step in this layout is `rearrange(x, "b (h w t) d -> (b h w) t d", ...)`.
# With einops an axis of size H' can be split as `(i h)` (i blocks of h rows: *which
# half*) or as `(h i)` (h rows, each with i sub-rows: *even or odd*). Which tokens share
# a group is all the check looks at (plus merge ∘ split = identity, and an attention step
# built from your functions); the order inside a group is yours to choose.
# The masks below show who sees whom in each step for T = 2 frames of 4×4 patches:

# %%
for name, mask in mt.schemes.visibility("local_global", 2, 4, 4).items():
    print(f"{name}: each query sees {int(mask.sum(1)[0])} of {mask.shape[0]} tokens")

# %% [markdown]
# ## 1. Local windows (3 points)
#
# `split_local(x, grid)`: (B, T·N, D) → (B·4, T·(H'/2)·(W'/2), D), one group per
# quadrant of the patch grid, spanning all frames; `merge_local` is its inverse.


# %%
def split_local(x: torch.Tensor, grid) -> torch.Tensor:
    """(B, T·N, D) -> (B·4, T·H'/2·W'/2, D): 2×2 quadrant windows over all frames."""
    T, H, W = grid
    ### BEGIN SOLUTION
    # H' = (2 halves, H'/2 rows), W' = (2 halves, W'/2 columns), frames innermost
    return rearrange(x, "b (i h j w t) d -> (b i j) (h w t) d", t=T, i=2, h=H // 2, j=2, w=W // 2)
    ### END SOLUTION


def merge_local(groups: torch.Tensor, grid) -> torch.Tensor:
    """Inverse of split_local."""
    T, H, W = grid
    ### BEGIN SOLUTION
    return rearrange(
        groups, "(b i j) (h w t) d -> b (i h j w t) d", t=T, i=2, h=H // 2, j=2, w=W // 2
    )
    ### END SOLUTION


# %% grade_id="local_tests" points=3
checks.check_grouping(split_local, merge_local, "local", layout="official")
### BEGIN HIDDEN TESTS
checks.check_grouping(split_local, merge_local, "local", grid=(1, 2, 2), seed=1, layout="official")
checks.check_grouping(
    split_local, merge_local, "local", grid=(2, 6, 4), batch=1, seed=2, layout="official"
)
### END HIDDEN TESTS

# %% [markdown]
# ## 2. The dilated global step (3 points)
#
# `split_global(x, grid)`: (B, T·N, D) → (B·G, L, D) where a group holds the tokens
# with the same (t mod 2, h mod 2, w mod 2); G = 8 (or 4 when T = 1: no stride in time
# for a single frame). `merge_global` is its inverse.


# %%
def split_global(x: torch.Tensor, grid) -> torch.Tensor:
    """(B, T·N, D) -> (B·G, L, D): tokens two apart in t, h and w attend together."""
    T, H, W = grid
    ### BEGIN SOLUTION
    s = 2 if T > 1 else 1  # stride in time
    # h = (H'/2, 2 phases), w = (W'/2, 2), t = (T/s, s phases): group by the phases
    return rearrange(
        x, "b (h j w k t i) d -> (b i j k) (h w t) d", t=T // s, i=s, h=H // 2, j=2, w=W // 2, k=2
    )
    ### END SOLUTION


def merge_global(groups: torch.Tensor, grid) -> torch.Tensor:
    """Inverse of split_global."""
    T, H, W = grid
    ### BEGIN SOLUTION
    s = 2 if T > 1 else 1
    return rearrange(
        groups,
        "(b i j k) (h w t) d -> b (h j w k t i) d",
        t=T // s,
        i=s,
        h=H // 2,
        j=2,
        w=W // 2,
        k=2,
    )
    ### END SOLUTION


# %% grade_id="global_tests" points=3
checks.check_grouping(split_global, merge_global, "global", layout="official")
### BEGIN HIDDEN TESTS
checks.check_grouping(
    split_global, merge_global, "global", grid=(1, 4, 2), seed=1, layout="official"
)
checks.check_grouping(
    split_global, merge_global, "global", grid=(2, 2, 2), batch=1, seed=2, layout="official"
)
### END HIDDEN TESTS

# %% [markdown]
# ## 3. Comparisons per patch (1 point)
#
# `keys_per_query(T, H, W)` for one L+G block: the local window, then the global group
# plus the CLS copy (the global step is the block's ViT attention). Assume T even.


# %%
def keys_per_query(T: int, H: int, W: int) -> int:
    """Keys per patch query in one local-global block."""
    ### BEGIN SOLUTION
    return T * (H // 2) * (W // 2) + (T // 2) * (H // 2) * (W // 2) + 1
    ### END SOLUTION


# %% grade_id="keys_per_query_tests" points=1
checks.check_keys_per_query(keys_per_query, "local_global", grids=((8, 14, 14), (4, 2, 6)))
### BEGIN HIDDEN TESTS
checks.check_keys_per_query(keys_per_query, "local_global", grids=((2, 2, 2), (16, 28, 28)))
### END HIDDEN TESTS

# %% [markdown]
# ## Questions (not graded)
#
# 1. At 8×224, how many keys per patch does L+G use, against divided (205) and joint
#    (1569)? Why might its accuracy (75.9 on K400, Table 1) be lower than divided's?
# 2. Use `block_reach` from exercise 4 on `mt.schemes.visibility("local_global", 2, 2, 4)`
#    and on `(2, 4, 4)`. When does one L+G block connect every token to every other?
# 3. Swap the steps (global first, then local): does the reach of a block change?
