# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Exercise 6: the classifier and its parameter count
#
# **Goal:** put the pieces together into the TimeSformer video classifier (paper §3,
# Fig. 1), then count its parameters *on paper* and reproduce the paper's Table 1:
# 85.9M (space, joint), 121.4M (divided, local-global), 156.8M (axial).
# **Before this:** lesson 05 (the TimeSformer); exercises 1-3.
# **Time:** about 45 minutes. **Points:** 8.
#
# Replace each `raise NotImplementedError()` with your code and run the test cell below
# it. Without Jupyter:
# `mini-timesformer check exercises/06_classifier_and_parameters.ipynb`.

# %%
import torch

import mini_timesformer as mt
from mini_timesformer import checks

torch.manual_seed(0)

# %% [markdown]
# ## 1. From a clip to class scores (3 points)
#
# A `mt.TimeSformer` has `model.embed` (exercise 1: `tokens, grid = model.embed(video)`),
# `model.blocks` (exercise 3: `x, _ = block(x, grid)`), `model.norm` (the final
# LayerNorm) and `model.head` (Linear(D, classes)). The class scores come from the
# normalised **CLS token** only. Write the forward pass for the schemes that keep one
# CLS token per clip (all but `space`, which runs a ViT per frame).

# %%
def classify(model, video: torch.Tensor) -> torch.Tensor:
    """video (B, T, 3, H, W) -> logits (B, classes)."""
    ### BEGIN SOLUTION
    x, grid = model.embed(video)  # (B, 1 + T·N, D), grid = (T, H', W')
    for block in model.blocks:
        x, _ = block(x, grid)
    return model.head(model.norm(x)[:, 0])  # the CLS token
    ### END SOLUTION


# %% grade_id="classify_tests" points=3
checks.check_classify(classify)
### BEGIN HIDDEN TESTS
checks.check_classify(classify, scheme="joint", seed=1)
checks.check_classify(classify, scheme="axial", frames=1, grid_side=1, batch=1, seed=2)
checks.check_classify(classify, scheme="local_global", frames=2, grid_side=2, seed=3)
### END HIDDEN TESTS

# %% [markdown]
# ## 2. Count the parameters with a formula (3 points)
#
# `count_params(cfg)` must return `sum(p.numel() for p in mt.TimeSformer(cfg).parameters())`
# **without building the model**. What you need (D = `cfg.embed_dim`, P =
# `cfg.patch_size`, C = `cfg.in_channels`, N = `cfg.num_patches`, T = `cfg.num_frames`):
#
# * embedding: the patch projection (a Conv2d C → D, kernel P, with bias), the CLS token,
#   the position embedding with its CLS slot (1 + N vectors), the time embedding
#   (T vectors; kept even by `space`, which does not use it);
# * each block: one attention step per entry of `mt.schemes.STEPS[cfg.attention]`, each
#   with its own LayerNorm, fused qkv Linear(D, 3D) (bias if `cfg.qkv_bias`) and output
#   projection Linear(D, D); every step but the last also has the extra Linear(D, D);
#   then a LayerNorm and the MLP Linear(D, hidden) → Linear(hidden, D), hidden =
#   `int(D * cfg.mlp_ratio)`;
# * the final LayerNorm and the head Linear(D, `cfg.num_classes`).
#
# A LayerNorm has a gain and a bias: 2·D numbers.

# %%
def count_params(cfg) -> int:
    """The exact number of parameters of mt.TimeSformer(cfg), from the config alone."""
    ### BEGIN SOLUTION
    D, C, P = cfg.embed_dim, cfg.in_channels, cfg.patch_size
    hidden = int(D * cfg.mlp_ratio)
    steps = len(mt.schemes.STEPS[cfg.attention])
    embed = (C * P * P * D + D) + D + (1 + cfg.num_patches) * D + cfg.num_frames * D
    attention = 2 * D + (D * 3 * D + (3 * D if cfg.qkv_bias else 0)) + (D * D + D)
    extra = D * D + D
    mlp = 2 * D + (D * hidden + hidden) + (hidden * D + D)
    block = steps * attention + (steps - 1) * extra + mlp
    head = D * cfg.num_classes + cfg.num_classes
    return embed + cfg.depth * block + 2 * D + head
    ### END SOLUTION


# %% grade_id="count_params_tests" points=3
checks.check_param_count(count_params)
### BEGIN HIDDEN TESTS
checks.check_param_count(count_params, [
    mt.TimeSformerConfig.preset("nano", attention="divided", num_classes=0),
    mt.TimeSformerConfig.preset("tiny", attention="local_global", qkv_bias=False),
])
### END HIDDEN TESTS

# %% [markdown]
# ## 3. Table 1 (2 points)
#
# With a 174-way head (Something-Something-v2's classes) your formula at the paper's
# size (ViT-B: D = 768, 12 blocks, 8×224, P = 16) gives the paper's rounded counts
# exactly. Each added attention step costs 2,954,496 parameters per block: that is
# the whole difference between the rows of Table 1.

# %% grade_id="table1_tests" points=2
checks.check_table1(count_params)

# %%
for scheme in mt.SCHEMES:
    cfg = mt.TimeSformerConfig.preset("base", attention=scheme, num_classes=174)
    print(f"{scheme:>13}: {mt.cost.params(cfg) / 1e6:6.1f}M (package)")

# %% [markdown]
# ## Questions (not graded)
#
# 1. Divided attention has 35.5M more parameters than joint attention, yet costs only
#    ~9% more compute at 8×224 (`mini-timesformer summary`). Where do the extra
#    parameters go, and why do they add so little compute?
# 2. Which parameters depend on T, the number of frames? What does that mean for
#    running a model trained on 8 frames on a 96-frame clip (TimeSformer-L)?
# 3. Why is it safe to start `extra` (temporal_fc) at zero when the model is initialised
#    from an ImageNet ViT (Appendix A)?
