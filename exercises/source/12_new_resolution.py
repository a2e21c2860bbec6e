# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Exercise 12: a pre-trained model at a new resolution and frame count
#
# **Goal:** move a pre-trained model to other frame sizes and clip lengths, as the paper does
# when its 224-px ImageNet ViT becomes TimeSformer-HR at 448 px (§4.3 and Fig. 5: more
# tokens; Appendix A: the ViT initialisation): resize the position embedding to a new patch
# grid — here also non-square ones —, the time embedding to a new number of frames, and count
# the tokens each scheme then attends over.
# **Before this:** lesson 15 (pre-training and resolution); lesson 01 (embeddings).
# **Time:** about 30 minutes. **Points:** 7.
#
# Replace each `raise NotImplementedError()` with your code and run the test cell below
# it. Without Jupyter: `mini-timesformer check exercises/12_new_resolution.ipynb`.

# %%
import torch
import torch.nn.functional as F

from mini_timesformer import checks

torch.manual_seed(0)

# %% [markdown]
# ## 1. The position embedding on a new grid (3 points)
#
# `pos` is (1, 1 + h·w, D): slot 0 belongs to the CLS token, then one vector per patch of
# an h × w grid in row-major order (row by row). Return (1, 1 + H'·W', D): the CLS slot
# unchanged, the grid part resized in 2-D with **bicubic** interpolation,
# `align_corners=False`. The grids need not be square.


# %%
def resize_position_embedding(pos, old_grid, new_grid):
    """pos (1, 1 + h·w, D) on grid (h, w) -> (1, 1 + H'·W', D) on grid (H', W')."""
    ### BEGIN SOLUTION
    (h, w), D = old_grid, pos.shape[-1]
    grid = pos[:, 1:].reshape(1, h, w, D).permute(0, 3, 1, 2)  # (1, D, h, w)
    grid = F.interpolate(grid, size=tuple(new_grid), mode="bicubic", align_corners=False)
    grid = grid.permute(0, 2, 3, 1).reshape(1, -1, D)  # (1, H'·W', D)
    return torch.cat([pos[:, :1], grid], dim=1)
    ### END SOLUTION


# %% grade_id="position_tests" points=3
checks.check_resize_position(resize_position_embedding)
### BEGIN HIDDEN TESTS
checks.check_resize_position(
    resize_position_embedding, cases=(((14, 14), (28, 28)), ((2, 7), (5, 3)), ((6, 6), (6, 6)))
)
### END HIDDEN TESTS

# %% [markdown]
# ## 2. The time embedding at another frame count (2 points)
#
# `time` is (1, T0, D), one vector per frame. Return (1, T, D) by **linear** interpolation
# along the frames (`align_corners=False`) — not the nearest-neighbour repeat the package uses
# when a model meets another T (lesson 12).


# %%
def resize_time_embedding(time, num_frames):
    """time (1, T0, D) -> (1, num_frames, D), linearly interpolated."""
    ### BEGIN SOLUTION
    resized = F.interpolate(time.transpose(1, 2), size=num_frames, mode="linear")
    return resized.transpose(1, 2)  # (1, D, T) -> (1, T, D)
    ### END SOLUTION


# %% grade_id="time_tests" points=2
checks.check_resize_time(resize_time_embedding)
### BEGIN HIDDEN TESTS
checks.check_resize_time(resize_time_embedding, cases=((2, 96), (16, 5), (96, 8)))
### END HIDDEN TESTS

# %% [markdown]
# ## 3. Tokens per clip (2 points)
#
# Return how many tokens one clip of `num_frames` frames of `image_size`² pixels, cut into
# `patch_size`² patches, puts into the model's attention, CLS tokens included, for `scheme`
# (`"space"`, `"joint"`, `"divided"`, `"local_global"` or `"axial"`). Remember how the
# space-only model treats its frames (lesson 05).


# %%
def clip_tokens(image_size, patch_size, num_frames, scheme):
    """The tokens of one clip, CLS token(s) included."""
    ### BEGIN SOLUTION
    N = (image_size // patch_size) ** 2
    return num_frames * (1 + N) if scheme == "space" else 1 + num_frames * N
    ### END SOLUTION


# %% grade_id="tokens_tests" points=2
checks.check_clip_tokens(clip_tokens)
### BEGIN HIDDEN TESTS
checks.check_clip_tokens(clip_tokens, cases=((560, 16, 8, "divided"), (64, 8, 2, "space")))
### END HIDDEN TESTS

# %% [markdown]
# ## Questions (not graded)
#
# 1. TimeSformer-HR runs at 448 px: how many tokens per clip is that against 224 px, and
#    how much do the GMACs grow (`mt.cost.macs(cfg, image_size=448)`)? Why more than the tokens?
# 2. Bicubic interpolation of a position embedding can overshoot. When would nearest be the
#    safer choice?
# 3. Linear interpolation of the time embedding invents in-between frames. What does the
#    nearest repeat assume instead about frames the model never saw?
