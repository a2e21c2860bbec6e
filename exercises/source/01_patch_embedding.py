# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Exercise 1: patches, embeddings and the two token layouts
#
# **Goal:** turn a video clip into the sequence of tokens that TimeSformer attends over
# (paper §3, "Decomposition into patches" and "Linear embedding"), starting from frames
# as a decoder returns them, and build the tokens in the layout of the official code and
# Hugging Face, which differs from this package's.
# **Before this:** lesson 01 (patches). **Time:** about 40 minutes. **Points:** 9.
#
# Lesson 01 cut channels-first frames into patches and built time-major tokens from the
# embedding's pieces. Here you do the variants a real pipeline needs. Replace each
# `# YOUR CODE HERE` / `raise NotImplementedError()` with your code, then run the test
# cell below it. The checks run your code next to `mini_timesformer`'s on random inputs
# with the *same weights* and name the likely mistake when the numbers differ. Without
# Jupyter: `mini-timesformer check exercises/01_patch_embedding.ipynb`.

# %%
import torch
from einops import rearrange

import mini_timesformer as mt
from mini_timesformer import checks

torch.manual_seed(0)

# %% [markdown]
# ## 1. Patches from channels-last frames (2 points)
#
# Decoders (PyAV, OpenCV, `mt.data`'s readers) return frames **channels-last**, (H, W, C):
# here a batch of clips is (B, T, H, W, C). Cut every frame into N = H'·W'
# non-overlapping P×P patches (H' = H/P, W' = W/P), number them **row by row**
# (patch n = h·W' + w), and flatten each one **channels first**, as (C, P, P): that is the
# order of an `nn.Conv2d` weight, so that a Conv2d with kernel = stride = P is exactly a
# Linear layer applied to your flattened patches.
#
# `patchify(video, P)`: video (B, T, H, W, C) → patches (B, T, N, C·P·P).
# Tip: `einops.rearrange` with named axes, e.g. `(h p)` for "H' blocks of P rows".


# %%
def patchify(video: torch.Tensor, patch_size: int) -> torch.Tensor:
    """(B, T, H, W, C) -> (B, T, N, C·P·P): patches row by row, each flattened as (C, P, P)."""
    ### BEGIN SOLUTION
    P = patch_size
    # (B, T, H'·P, W'·P, C) -> (B, T, H'·W', C·P·P)
    return rearrange(video, "b t (h p) (w q) c -> b t (h w) (c p q)", p=P, q=P)
    ### END SOLUTION


# %% grade_id="patchify_tests" points=2
checks.check_patchify(patchify, channels_last=True)
### BEGIN HIDDEN TESTS
checks.check_patchify(
    patchify, frames=1, grid=(1, 1), patch=2, channels=1, batch=1, channels_last=True
)
checks.check_patchify(patchify, frames=2, grid=(3, 2), patch=3, seed=1, channels_last=True)
### END HIDDEN TESTS

# %% [markdown]
# ## Two token layouts
#
# This package orders the patch tokens **time-major**, `(t h w)`: CLS, then frame 0's N
# patches, frame 1's, …, so patch (t, n) is token 1 + t·N + n. The official code
# (`timesformer/models/vit.py`, `VisionTransformer.forward_features`, which rearranges
# `'(b n) t m -> b (n t) m'`) and Hugging Face's `TimesformerEmbeddings` order them
# **patch-major**, `(h w t)`: CLS, then patch 0 in frames 0 … T−1, patch 1 in frames
# 0 … T−1, …, so patch (t, n) is token **1 + n·T + t**. Neither is wrong. The weights do
# not depend on the order: every group a step attends over holds the same tokens either
# way, only where they sit in the sequence differs. So a checkpoint loads unchanged, as
# long as each code base rearranges its own tokens consistently.
#
# For T = 2 frames of 2×2 patches, the token index of each (t, n):

# %%
T_, N_ = 2, 4
print("time-major  (t h w):", [[1 + t * N_ + n for n in range(N_)] for t in range(T_)])
print("patch-major (h w t):", [[1 + n * T_ + t for n in range(N_)] for t in range(T_)])

# %% [markdown]
# ## 2. Tokens in the official layout (3 points)
#
# `emb` below is the package's `VideoEmbedding`. Use its pieces (not `emb(video)`):
#
# * `emb.patch_embed(video)`: the patch embeddings of a (B, T, C, H, W) clip, (B, T, N, D);
# * `emb.cls_token`, (1, 1, D): the learned classification token;
# * `emb.pos_embed`, (1, 1 + N, D): slot 0 belongs to the CLS token, slot 1 + n to patch
#   n; the same spatial embedding is used in every frame;
# * `emb.time_embed`, (1, T, D): vector t is added to all N patches of frame t.
#
# Return (B, 1 + N·T, D) in the **official, patch-major** layout: the CLS token (with its
# position embedding) first, then patch (t, n) at token 1 + n·T + t. The check also runs
# the package's weights with groupings written for this layout on your tokens, and
# compares the logits with the package model's.


# %%
def embed_official(video: torch.Tensor, emb) -> torch.Tensor:
    """(B, T, C, H, W) -> tokens (B, 1 + N·T, D): CLS, then patch 0 in every frame, patch 1 ..."""
    ### BEGIN SOLUTION
    B = video.shape[0]
    patches = emb.patch_embed(video)  # (B, T, N, D)
    patches = patches + emb.pos_embed[:, None, 1:] + emb.time_embed[:, :, None]
    cls = (emb.cls_token + emb.pos_embed[:, :1]).expand(B, -1, -1)  # (B, 1, D)
    return torch.cat([cls, rearrange(patches, "b t n d -> b (n t) d")], dim=1)
    ### END SOLUTION


# %% grade_id="embed_official_tests" points=3
checks.check_embed_official(embed_official)
### BEGIN HIDDEN TESTS
checks.check_embed_official(embed_official, frames=1, grid_side=1, batch=1)  # T = 1, one patch
checks.check_embed_official(embed_official, frames=4, grid_side=3, seed=1)
### END HIDDEN TESTS

# %% [markdown]
# ## 3. Converting between the layouts (2 points)
#
# To compare this package with the official code or Hugging Face token by token (their
# attention maps, their hidden states), you convert. `tokens` is (B, 1 + T·N, D) and
# `grid = (T, H', W')`; the CLS token stays first in both layouts.
#
# * `to_time_major(tokens, grid)`: official (h w t) → this package's (t h w);
# * `to_patch_major(tokens, grid)`: the inverse.


# %%
def to_time_major(tokens: torch.Tensor, grid) -> torch.Tensor:
    """(B, 1 + T·N, D) patch-major (h w t) -> time-major (t h w), CLS first."""
    T, H, W = grid
    ### BEGIN SOLUTION
    patches = rearrange(tokens[:, 1:], "b (h w t) d -> b (t h w) d", t=T, h=H, w=W)
    return torch.cat([tokens[:, :1], patches], dim=1)
    ### END SOLUTION


def to_patch_major(tokens: torch.Tensor, grid) -> torch.Tensor:
    """(B, 1 + T·N, D) time-major (t h w) -> patch-major (h w t), CLS first."""
    T, H, W = grid
    ### BEGIN SOLUTION
    patches = rearrange(tokens[:, 1:], "b (t h w) d -> b (h w t) d", t=T, h=H, w=W)
    return torch.cat([tokens[:, :1], patches], dim=1)
    ### END SOLUTION


# %% grade_id="layout_tests" points=2
checks.check_token_layout(to_time_major, to_patch_major)
### BEGIN HIDDEN TESTS
checks.check_token_layout(to_time_major, to_patch_major, grid=(1, 2, 3), seed=1)  # T = 1
checks.check_token_layout(to_time_major, to_patch_major, grid=(4, 3, 2), batch=1, seed=2)
### END HIDDEN TESTS

# %% [markdown]
# ## 4. Attention weights from the other layout (1 point)
#
# An official or Hugging Face model returns joint-attention weights (B, heads, L, L)
# indexed by *its* tokens: row i is query token i, column j key token j, both in the
# `(h w t)` order, CLS first. To compare them with this package's maps (lessons 10 and
# exercise 8), reorder them to the time-major `(t h w)` tokens. Both axes are tokens.


# %%
def weights_to_time_major(weights: torch.Tensor, grid) -> torch.Tensor:
    """(B, heads, L, L) weights over (h w t) tokens -> the same over (t h w) tokens."""
    T, H, W = grid
    ### BEGIN SOLUTION
    L = weights.shape[-1]
    # position of each time-major token in the patch-major sequence
    index = to_patch_major(torch.arange(L).view(1, L, 1), grid)[0, :, 0]  # patch-major ids
    order = torch.argsort(index)  # where each time-major token sits in the official order
    return weights[..., order, :][..., order]
    ### END SOLUTION


# %% grade_id="weights_layout_tests" points=1
checks.check_weights_layout(weights_to_time_major)
### BEGIN HIDDEN TESTS
checks.check_weights_layout(weights_to_time_major, grid=(1, 1, 2), heads=1, seed=1)
checks.check_weights_layout(weights_to_time_major, grid=(4, 2, 3), batch=1, seed=2)
### END HIDDEN TESTS

# %% [markdown]
# With both layouts in hand: the package model's tokens, converted, are the official
# layout's tokens (the check of part 2 ran the logits comparison).

# %%
cfg = mt.TimeSformerConfig.preset("nano", num_classes=5)
model = mt.TimeSformer(cfg).eval()
video = torch.randn(2, cfg.num_frames, 3, cfg.image_size, cfg.image_size)
grid = (cfg.num_frames, cfg.grid_size, cfg.grid_size)
with torch.no_grad():
    ours, _ = model.embed(video)
    try:
        same = torch.allclose(
            to_time_major(embed_official(video, model.embed), grid), ours, atol=1e-6
        )
        print("to_time_major(embed_official(video)) == the package's tokens:", same)
    except NotImplementedError:
        print("(finish parts 2 and 3 first)")

# %% [markdown]
# ## 5. How long is the sequence? (1 point)
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
# 2. Loading an official checkpoint needs no change to its weights, only to how the
#    tokens are grouped. Which rearrange patterns of exercise 3 would change for the
#    patch-major layout?
# 3. The time embedding is learned for 8 frames. What does `mt.embed.resize_time_embed`
#    do when a clip has 16 frames, and why is that a reasonable choice?
# 4. Without a time embedding, can attention alone tell frame 0 from frame 7?
#    (Lesson 12 and the paper's Table 4 answer this.)
