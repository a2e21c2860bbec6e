# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Exercise 6: the space-only classifier and the parameter count
#
# **Goal:** write the one forward pass that is not "embed → blocks → norm → CLS → head":
# space-only attention, where every frame is its own ViT (paper §3, Fig. 1, Table 1's
# "Space" row; the official code's `space_only`); then count any TimeSformer's parameters
# *on paper*, reproduce the paper's Table 1 (85.9M / 121.4M / 156.8M) and count the models
# the paper does not tabulate.
# **Before this:** lesson 05 (the TimeSformer); exercises 1-3.
# **Time:** about 45 minutes. **Points:** 8.
#
# Replace each `raise NotImplementedError()` with your code and run the test cell below
# it. Without Jupyter:
# `mini-timesformer check exercises/06_classifier_and_parameters.ipynb`.

# %%
import torch
from einops import rearrange

import mini_timesformer as mt
from mini_timesformer import checks

torch.manual_seed(0)

# %% [markdown]
# ## 1. Space-only: a ViT per frame, and what each frame votes for (3 points)
#
# `model` is a `mt.TimeSformer` with `attention="space"`. Its pieces: `model.embed`
# (exercise 1: `model.embed.patch_embed`, `.cls_token`, `.pos_embed`, `.time_embed`),
# `model.blocks` (`x, _ = block(x, grid)`, with `grid = (T, H', W')` for the tokens `x`
# you pass), `model.norm` (the final LayerNorm) and `model.head`.
#
# In the space-only scheme frames never meet (official code):
#
# * every frame gets **its own CLS token** (with its position embedding) in front of its N
#   patch tokens, and **no time embedding**: fold the frames into the batch,
#   (B·T, 1 + N, D), and run the blocks with a one-frame grid (1, H', W');
# * the clip's logits: the frames' final tokens are **averaged over the frames before the
#   final LayerNorm**, then the normalised CLS token goes to the head;
# * `frame_logits` (B, T, classes): what each frame's own ViT says, the head applied to the
#   normalised final CLS token of each frame.
#
# Build the per-frame tokens from the embedding's pieces (not `model.embed(video)`).
# Return `(logits, frame_logits)`.


# %%
def classify_space(model, video: torch.Tensor):
    """Space-only model: video (B, T, 3, H, W) -> (logits (B, K), frame_logits (B, T, K))."""
    ### BEGIN SOLUTION
    B, T = video.shape[:2]
    emb = model.embed
    patches = emb.patch_embed(video) + emb.pos_embed[:, None, 1:]  # (B, T, N, D), no time
    patches = rearrange(patches, "b t n d -> (b t) n d")
    cls = (emb.cls_token + emb.pos_embed[:, :1]).expand(B * T, -1, -1)  # one CLS per frame
    x = torch.cat([cls, patches], dim=1)  # (B·T, 1 + N, D)
    side = model.config.patch_size
    grid = (1, video.shape[-2] // side, video.shape[-1] // side)  # each frame is a clip
    for block in model.blocks:
        x, _ = block(x, grid)
    x = rearrange(x, "(b t) l d -> b t l d", b=B)  # (B, T, 1 + N, D)
    logits = model.head(model.norm(x.mean(dim=1))[:, 0])  # frames averaged, then norm
    frame_logits = model.head(model.norm(x[:, :, 0]))  # (B, T, K): each frame's CLS
    return logits, frame_logits
    ### END SOLUTION


# %% grade_id="classify_space_tests" points=3
checks.check_classify_space(classify_space)
### BEGIN HIDDEN TESTS
checks.check_classify_space(classify_space, frames=1, grid_side=1, batch=1, seed=1)  # T = 1
checks.check_classify_space(classify_space, frames=4, grid_side=3, depth=1, seed=2)
### END HIDDEN TESTS

# %% [markdown]
# The clip's logits are *not* the mean of the frames' logits (the LayerNorm and the head
# come after the mean), and no frame order can change them. On an untrained nano model:

# %%
cfg = mt.TimeSformerConfig.preset("nano", attention="space", num_classes=4)
model = mt.TimeSformer(cfg).eval()
video = torch.randn(1, cfg.num_frames, 3, cfg.image_size, cfg.image_size)
try:
    with torch.no_grad():
        logits, frame_logits = classify_space(model, video)
        shuffled, _ = classify_space(model, video[:, torch.randperm(cfg.num_frames)])
    print("clip logits      ", logits[0].numpy().round(3))
    print("mean frame logits", frame_logits[0].mean(0).numpy().round(3))
    print("frames shuffled  ", shuffled[0].numpy().round(3))
except NotImplementedError:
    print("(finish part 1 first)")

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
checks.check_param_count(
    count_params,
    [
        mt.TimeSformerConfig.preset("nano", attention="divided", num_classes=0),
        mt.TimeSformerConfig.preset("tiny", attention="local_global", qkv_bias=False),
        mt.TimeSformerConfig.preset(
            "nano",
            attention="joint",
            in_channels=2,
            mlp_ratio=3.0,
            mean=(0.5, 0.5),
            std=(0.25, 0.25),
        ),
    ],
)
### END HIDDEN TESTS

# %% [markdown]
# ## 3. Table 1, and the models it does not list (2 points)
#
# With a 174-way head (Something-Something-v2's classes) your formula at the paper's
# size (ViT-B: D = 768, 12 blocks, 8×224, P = 16) must give the paper's rounded counts
# exactly. The second check counts, exactly, three models whose counts the paper does not
# print (400 Kinetics classes): TimeSformer-HR (16×448), TimeSformer-L (96×224), and a
# divided model as wide as ViT-L (D = 1024, 24 blocks). Nothing new to write if your
# formula is right: which of its terms change between these models?

# %% grade_id="table1_tests" points=2
checks.check_table1(count_params)
checks.check_untabulated(count_params)

# %%
for scheme in mt.SCHEMES:
    cfg = mt.TimeSformerConfig.preset("base", attention=scheme, num_classes=174)
    print(f"{scheme:>13}: {mt.cost.params(cfg) / 1e6:6.1f}M (package)")

# %% [markdown]
# ## Questions (not graded)
#
# 1. How many parameters does one added attention step (with its extra Linear) cost per
#    block at D = 1024? Write it as a polynomial in D.
# 2. Divided attention has 35.5M more parameters than joint attention, yet costs only
#    ~9% more compute at 8×224 (`mini-timesformer summary`). Where do the extra
#    parameters go, and why do they add so little compute?
# 3. Which parameters depend on T, the number of frames? What does that mean for
#    running a model trained on 8 frames on a 96-frame clip (TimeSformer-L)?
# 4. Why is it safe to start `extra` (temporal_fc) at zero when the model is initialised
#    from an ImageNet ViT (paper Appendix A; the zero start is the official `vit.py`'s)?
