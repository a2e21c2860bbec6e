# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Exercise 8: attention rollout through an axial block
#
# **Goal:** compute where a TimeSformer "looks" with attention rollout (Abnar & Zuidema
# 2020), the method behind the paper's Fig. 7 (§4.8), for the scheme with the most steps:
# axial attention (time → width → height). Lesson 10 did it for divided attention; here
# every block has three steps, two of them added steps and the last one carrying T·W'
# copies of the CLS token.
# **Before this:** lesson 10 (attention maps); exercises 2-4.
# **Time:** about 50 minutes. **Points:** 7.
#
# Replace each `raise NotImplementedError()` with your code and run the test cell below
# it. Without Jupyter: `mini-timesformer check exercises/08_attention_rollout.ipynb`.

# %%
import matplotlib.pyplot as plt
import torch

import mini_timesformer as mt
from mini_timesformer import checks
from mini_timesformer.viz.rollout import attention_rollout

torch.manual_seed(0)

# %% [markdown]
# ## 1. Each axial step as one token-to-token matrix (4 points)
#
# `model.forward_with_attention(video)` returns, per block, `{step: weights}` with
# weights (B, G, heads, L, L): G groups of L tokens, in the order of the package's
# rearranges (`mt.schemes`). Averaged over heads they are (B, G, L, L). For rollout each
# step becomes a matrix A over **all** tokens [CLS, T·N patches] (token 1 + t·N + h·W' + w):
# entry [i, j] = how much token i's update takes from token j; all other entries are 0.
#
# | step | group g | its L tokens, in order | CLS |
# |---|---|---|---|
# | `time` (added) | patch position g = h·W' + w | frames t = 0 … T−1 | not in the groups: row 0 = e₀ |
# | `width` (added) | row h of frame t, g = t·H' + h | columns w = 0 … W'−1 | not in the groups: row 0 = e₀ |
# | `height` (last) | column w of frame t, g = t·W' + w | slot 0 = a copy of the CLS token, then rows h = 0 … H'−1 | row 0 = the **mean** over the G groups of the copies' rows |
#
# In the height step a patch's row also has a CLS column (weight on its group's CLS copy),
# and the copies are all the one CLS token.


# %%
def step_matrix(weights: torch.Tensor, step: str, grid) -> torch.Tensor:
    """Heads-averaged weights (B, G, L, L) of an axial step -> (B, 1 + T·N, 1 + T·N)."""
    T, H, W = grid
    N = H * W
    ### BEGIN SOLUTION
    B, G = weights.shape[:2]
    A = weights.new_zeros(B, 1 + T * N, 1 + T * N)
    for g in range(G):
        if step == "time":  # position g in frames 0 … T−1
            ids = 1 + g + N * torch.arange(T)
        elif step == "width":  # row h of frame t
            t, h = divmod(g, H)
            ids = 1 + t * N + h * W + torch.arange(W)
        else:  # height: [CLS copy, column w of frame t]
            t, w = divmod(g, W)
            ids = torch.cat([torch.zeros(1, dtype=torch.long), 1 + t * N + w + W * torch.arange(H)])
            A[:, ids[1:, None], ids[None, :]] = weights[:, g, 1:]  # patch rows
            A[:, 0, ids] += weights[:, g, 0] / G  # the CLS row: mean over the G copies
            continue
        A[:, ids[:, None], ids[None, :]] = weights[:, g]
    if step != "height":
        A[:, 0, 0] = 1.0  # added steps leave the CLS token as it is
    return A
    ### END SOLUTION


# %% grade_id="step_matrix_tests" points=4
checks.check_step_matrix(step_matrix)
### BEGIN HIDDEN TESTS
checks.check_step_matrix(step_matrix, grid=(1, 2, 3), seed=1)  # T = 1
checks.check_step_matrix(step_matrix, grid=(3, 1, 1), batch=1, seed=2)  # one patch
checks.check_step_matrix(step_matrix, grid=(2, 3, 2), seed=3)
### END HIDDEN TESTS

# %% [markdown]
# ## 2. Rollout through axial blocks (3 points)
#
# 1. For each step of each block: average the heads, build its matrix A, add the
#    residual: R = 0.5·A + 0.5·I;
# 2. a block is its steps in order, later steps on the left: M = R_height · R_width · R_time;
# 3. the model is its blocks in order, later blocks on the left: R = M_L ··· M_1;
# 4. the CLS row of R without its CLS entry, R[:, 0, 1:], normalised to sum to 1 per clip,
#    reshaped to (B, T, H', W').


# %%
def axial_rollout(attention, grid) -> torch.Tensor:
    """Axial-attention rollout: relevance of each patch for the CLS token, (B, T, H', W')."""
    ### BEGIN SOLUTION
    total = None
    for block in attention:
        M = None
        for step in ("time", "width", "height"):
            A = step_matrix(block[step].mean(dim=2), step, grid)  # heads averaged
            R = 0.5 * A + 0.5 * torch.eye(A.shape[-1])  # the residual
            M = R if M is None else R @ M  # later steps act after earlier ones
        total = M if total is None else M @ total  # later blocks act after earlier ones
    relevance = total[:, 0, 1:]  # (B, T·N): the CLS row, patches only
    relevance = relevance / relevance.sum(dim=-1, keepdim=True)
    return relevance.reshape(-1, *grid)
    ### END SOLUTION


# %% grade_id="rollout_tests" points=3
checks.check_axial_rollout(axial_rollout)
### BEGIN HIDDEN TESTS
checks.check_axial_rollout(axial_rollout, frames=1, grid=(1, 1), depth=1, batch=1, seed=1)
checks.check_axial_rollout(axial_rollout, frames=3, grid=(2, 2), depth=3, seed=2)
### END HIDDEN TESTS

# %% [markdown]
# ## Rollout for every scheme
#
# The package does the same for all five schemes (`mt.rollout.attention_rollout`),
# without ever building the (1 + T·N)² matrices: it multiplies only the CLS row through
# the steps, from the last step backwards. Here on an untrained nano
# model, so the map is close to uniform: try it on the trained model lesson 08 saves.

# %%
cfg = mt.TimeSformerConfig.preset("nano", attention="axial", num_classes=4)
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
# 2. In the axial scheme the CLS token only attends in the height step, to one column at
#    a time. How does its relevance still reach every patch of every frame?
# 3. Rollout mixes heads by averaging. Find a head in a trained model whose map differs
#    a lot from the average (`mt.rollout.rollout(..., head=k)`).
