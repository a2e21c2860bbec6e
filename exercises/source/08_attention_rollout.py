# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Exercise 8: attention rollout
#
# **Goal:** compute where a TimeSformer "looks" with attention rollout (Abnar & Zuidema
# 2020), the method behind the paper's Fig. 7 (§4.6): turn each attention step into a
# token-to-token matrix, add the residual, multiply through the layers, read the CLS
# token's row.
# **Before this:** lesson 08 (attention maps); exercises 2-3.
# **Time:** about 50 minutes. **Points:** 7.
#
# Replace each `raise NotImplementedError()` with your code and run the test cell below
# it. Without Jupyter: `mini-timesformer check exercises/08_attention_rollout.ipynb`.

# %%
import matplotlib.pyplot as plt
import torch

import mini_timesformer as mt
from mini_timesformer import checks
from mini_timesformer.rollout import attention_rollout

torch.manual_seed(0)

# %% [markdown]
# ## 1. A divided time step as one matrix (3 points)
#
# `model(video, return_attention=True)` returns, per block, `{step: weights}` with
# weights (B, G, heads, L, L): G groups of L tokens. For rollout we need each step as a
# matrix over **all** tokens [CLS, T·N patches]: entry [i, j] = how much token i's
# update takes from token j.
#
# The divided **time** step has G = N groups (one per patch position n = h·W' + w) of
# L = T tokens: group n holds tokens 1 + n + t·N for t = 0 … T−1 (the +1 skips the CLS).
# The CLS token takes no part, so its row is e₀ (it keeps itself). Given heads-averaged
# weights (B, N, T, T), build the (B, 1 + T·N, 1 + T·N) matrix; all other entries are 0.

# %%
def time_step_matrix(weights: torch.Tensor, grid) -> torch.Tensor:
    """Heads-averaged time-step weights (B, N, T, T) -> token matrix (B, 1+T·N, 1+T·N)."""
    T, H, W = grid
    N = H * W
    ### BEGIN SOLUTION
    A = weights.new_zeros(weights.shape[0], 1 + T * N, 1 + T * N)
    A[:, 0, 0] = 1.0  # the CLS token keeps itself
    for n in range(N):
        ids = 1 + n + N * torch.arange(T)  # tokens of position n in frames 0 … T−1
        A[:, ids[:, None], ids[None, :]] = weights[:, n]
    return A
    ### END SOLUTION


# %% grade_id="time_matrix_tests" points=3
checks.check_time_step_matrix(time_step_matrix)
### BEGIN HIDDEN TESTS
checks.check_time_step_matrix(time_step_matrix, grid=(1, 2, 3), seed=1)  # T = 1
checks.check_time_step_matrix(time_step_matrix, grid=(4, 1, 1), batch=1, seed=2)
### END HIDDEN TESTS

# %% [markdown]
# ## 2. Rollout for joint attention (4 points)
#
# With joint attention each block has one step, `attention[l]["joint"]` of shape
# (B, 1, heads, L, L) with L = 1 + T·N: already a token-to-token matrix. Rollout:
#
# 1. average the heads: A_l (B, L, L);
# 2. account for the residual connection: R_l = 0.5·A_l + 0.5·I;
# 3. multiply through the layers, later layers on the left: R = R_L ··· R_2 R_1;
# 4. the CLS row of R without its CLS entry, R[:, 0, 1:], normalised to sum to 1 per
#    clip, reshaped to (B, T, H', W').

# %%
def rollout(attention, grid) -> torch.Tensor:
    """Joint-attention rollout: relevance of each patch for the CLS token, (B, T, H', W')."""
    ### BEGIN SOLUTION
    R = None
    for block in attention:
        A = block["joint"][:, 0].mean(dim=1)  # (B, L, L): heads averaged
        A = 0.5 * A + 0.5 * torch.eye(A.shape[-1])  # the residual
        R = A if R is None else A @ R  # later layers act after earlier ones
    relevance = R[:, 0, 1:]  # (B, T·N): the CLS row, patches only
    relevance = relevance / relevance.sum(dim=-1, keepdim=True)
    return relevance.reshape(-1, *grid)
    ### END SOLUTION


# %% grade_id="rollout_tests" points=4
checks.check_rollout(rollout)
### BEGIN HIDDEN TESTS
checks.check_rollout(rollout, frames=1, grid_side=1, depth=1, batch=1, seed=1)
checks.check_rollout(rollout, frames=3, grid_side=2, depth=4, seed=2)
### END HIDDEN TESTS

# %% [markdown]
# ## Rollout for every scheme
#
# The package does the same for all five schemes (`mt.rollout.attention_rollout`),
# including the factorised ones, where a block is the product of its steps' matrices
# and the CLS row of the last step averages the CLS copies. Here on an untrained nano
# model, so the map is close to uniform: try it on a trained checkpoint from lesson 07.

# %%
cfg = mt.TimeSformerConfig.preset("nano", attention="divided", num_classes=4)
model = mt.TimeSformer(cfg).eval()
video = torch.randn(1, cfg.num_frames, 3, cfg.image_size, cfg.image_size)
relevance = attention_rollout(model, video)  # (1, T, H', W')
fig, axes = plt.subplots(1, cfg.num_frames, figsize=(2 * cfg.num_frames, 2))
for t, ax in enumerate(axes):
    ax.imshow(relevance[0, t].numpy(), vmin=0, vmax=relevance.max().item())
    ax.set_title(f"frame {t}")
    ax.axis("off")
plt.show()

# %% [markdown]
# ## Questions (not graded)
#
# 1. Why add the identity before multiplying? What would rollout show for a deep model
#    without it?
# 2. In the divided scheme the CLS token only attends in the space step. How does its
#    relevance still reach all frames?
# 3. Rollout mixes heads by averaging. Find a head in a trained model whose map differs
#    a lot from the average (`mt.rollout.rollout(..., head=k)`).
