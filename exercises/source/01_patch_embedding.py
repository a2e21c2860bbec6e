# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Exercise 1: patches and embeddings
#
# **Goal:** turn a video clip into the sequence of tokens that TimeSformer attends over
# (paper §3, "Decomposition into patches" and "Linear embedding").
# **Before this:** lesson 01 (patches). **Time:** about 30 minutes. **Points:** 6.
#
# Replace each `# YOUR CODE HERE` / `raise NotImplementedError()` with your code, then
# run the test cell below it. The checks run your code next to `mini_timesformer`'s on
# random inputs with the *same weights* and name the likely mistake when the numbers
# differ. Without Jupyter: `mini-timesformer check exercises/01_patch_embedding.ipynb`.

# %%
import torch
from einops import rearrange

import mini_timesformer as mt
from mini_timesformer import checks

torch.manual_seed(0)

# %% [markdown]
# ## 1. Cut every frame into patches (2 points)
#
# A frame of H×W pixels is cut into N = H'·W' non-overlapping P×P patches, with
# H' = H/P and W' = W/P. Number the patches **row by row** (patch n = h·W' + w) and
# flatten each one **channels first**, as (C, P, P): that is the order of an
# `nn.Conv2d` weight, so that a Conv2d with kernel = stride = P applied to a frame is
# exactly a Linear layer applied to your flattened patches.
#
# `patchify(video, P)`: video (B, T, C, H, W) → patches (B, T, N, C·P·P).
# Tip: `einops.rearrange` with named axes, e.g. `(h p)` for "H' blocks of P rows".

# %%
def patchify(video: torch.Tensor, patch_size: int) -> torch.Tensor:
    """(B, T, C, H, W) -> (B, T, N, C·P·P): patches row by row, each flattened as (C, P, P)."""
    ### BEGIN SOLUTION
    P = patch_size
    # (B, T, C, H'·P, W'·P) -> (B, T, H'·W', C·P·P)
    return rearrange(video, "b t c (h p) (w q) -> b t (h w) (c p q)", p=P, q=P)
    ### END SOLUTION


# %% grade_id="patchify_tests" points=2
checks.check_patchify(patchify)
### BEGIN HIDDEN TESTS
checks.check_patchify(patchify, frames=1, grid=(1, 1), patch=2, channels=1, batch=1)
checks.check_patchify(patchify, frames=2, grid=(3, 2), patch=3, seed=1)
### END HIDDEN TESTS

# %% [markdown]
# From now on the package does this for you: `mt.embed.PatchEmbed` is the Conv2d version.
# At the paper's size (8 frames of 224×224, P = 16) each frame gives 14×14 = 196 patches.

# %%
patch_embed = mt.embed.PatchEmbed(patch_size=16, in_channels=3, embed_dim=32)
print(patch_embed(torch.randn(1, 8, 3, 224, 224)).shape)  # (B, T, N, D) = (1, 8, 196, 32)

# %% [markdown]
# ## 2. Tokens: CLS, space and time embeddings (3 points)
#
# `emb` below is the package's `VideoEmbedding`. Use its pieces (not `emb(video)`):
#
# * `emb.patch_embed(video)`: the patch embeddings, (B, T, N, D);
# * `emb.cls_token`, (1, 1, D): the learned classification token;
# * `emb.pos_embed`, (1, 1 + N, D): slot 0 belongs to the CLS token, slot 1 + n to patch
#   n; the same spatial embedding is used in every frame;
# * `emb.time_embed`, (1, T, D): vector t is added to all N patches of frame t.
#
# Return (B, 1 + T·N, D): the CLS token first, then the patch tokens **time-major**:
# frame 0's N patches, then frame 1's, and so on (token 1 + t·N + n).

# %%
def embed_tokens(video: torch.Tensor, emb) -> torch.Tensor:
    """(B, T, C, H, W) -> tokens (B, 1 + T·N, D): CLS, then frame 0's patches, frame 1's, ..."""
    ### BEGIN SOLUTION
    B = video.shape[0]
    patches = emb.patch_embed(video)  # (B, T, N, D)
    patches = patches + emb.pos_embed[:, None, 1:] + emb.time_embed[:, :, None]
    cls = (emb.cls_token + emb.pos_embed[:, :1]).expand(B, -1, -1)  # (B, 1, D)
    return torch.cat([cls, rearrange(patches, "b t n d -> b (t n) d")], dim=1)
    ### END SOLUTION


# %% grade_id="embed_tokens_tests" points=3
checks.check_embed_tokens(embed_tokens)
### BEGIN HIDDEN TESTS
checks.check_embed_tokens(embed_tokens, frames=1, grid_side=1, batch=1)  # T = 1, one patch
checks.check_embed_tokens(embed_tokens, frames=4, grid_side=3, seed=1)
### END HIDDEN TESTS

# %% [markdown]
# ## 3. How long is the sequence? (1 point)
#
# `num_tokens(T, H, W, P)`: the number of tokens the embedding produces for a clip of T
# frames of H×W pixels with P×P patches. Joint space-time attention compares every token
# with all of them: at 8×224 with P = 16 that is the paper's N·T + 1 = 1569.

# %%
def num_tokens(num_frames: int, height: int, width: int, patch_size: int) -> int:
    """Length of the token sequence (CLS included) for a T×H×W clip."""
    ### BEGIN SOLUTION
    return 1 + num_frames * (height // patch_size) * (width // patch_size)
    ### END SOLUTION


# %% grade_id="num_tokens_tests" points=1
checks.check_num_tokens(num_tokens)
### BEGIN HIDDEN TESTS
checks.check_num_tokens(num_tokens, sizes=((1, 16, 16, 16), (16, 448, 448, 16), (3, 24, 40, 8)))
### END HIDDEN TESTS

# %% [markdown]
# ## Questions (not graded)
#
# 1. Why is a Conv2d with kernel = stride = P the same as a Linear on flattened patches?
#    What would break if the patches overlapped?
# 2. The time embedding is learned for 8 frames. What does `mt.embed.resize_time_embed`
#    do when a clip has 16 frames, and why is that a reasonable choice?
# 3. Without a time embedding, can attention alone tell frame 0 from frame 7?
#    (Lesson 10 and the paper's Table 4 answer this.)
