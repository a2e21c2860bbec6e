# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Exercise 9 (stretch): MAC formulas for axial and local-global attention
#
# **Goal:** predict the compute of a TimeSformer forward pass with pencil and paper for
# the two schemes whose costs lesson 11 took from the package (axial and local-global;
# the lesson derived joint and divided), and check each formula against PyTorch's own
# counter (`torch.utils.flop_counter.FlopCounterMode`).
# **Before this:** lesson 11 (cost curves); exercises 3, 4 and 6.
# **Time:** about 45 minutes. **Points:** 5.
#
# Replace each `raise NotImplementedError()` with your code and run the test cell below
# it. Without Jupyter: `mini-timesformer check exercises/09_flop_formula.ipynb`.

# %%
import torch
from torch.utils.flop_counter import FlopCounterMode

import mini_timesformer as mt
from mini_timesformer import checks

torch.manual_seed(0)

# %% [markdown]
# ## What counts
#
# We count one multiply-add (MAC) as one "FLOP", and only the matrix products. The paper
# names no FLOP counter: this convention (fvcore's) is inferred from our counts matching its
# TFLOPs (3 views × 195.8 GMACs = 0.587 vs 0.59, Table 2). Counted: a Linear from a to b features applied to r tokens costs r·a·b; the
# attention products of G groups of L tokens cost G·L²·D each for Q·Kᵀ and for A·V
# (summed over heads). Norms, softmax, GELU and additions are not counted.
# FlopCounterMode counts 2 FLOPs per MAC, so divide by 2. Measuring a small model:

# %%
cfg = mt.TimeSformerConfig.preset("nano", attention="axial", num_classes=4)
model = mt.TimeSformer(cfg).eval()
with FlopCounterMode(display=False) as counter, torch.no_grad():
    model.forward_with_attention(torch.zeros(1, 8, 3, 32, 32))  # the explicit attention path
print(f"axial nano, 8×32: {counter.get_total_flops() // 2:,} MACs")

# %% [markdown]
# ## The pieces
#
# With D = `cfg.embed_dim`, P = `cfg.patch_size`, C = `cfg.in_channels`, a clip of T
# frames of S×S pixels has N = (S/P)² patches per frame; hidden = `int(D * cfg.mlp_ratio)`.
#
# * the patch embedding: a Linear from C·P² to D on each of the T·N patches;
# * an attention step over G groups of L tokens (count the CLS copy in L where the step
#   has one): qkv (3·D² per token) and the output projection (D² per token) on all G·L
#   tokens, and the two products Q·Kᵀ and A·V, G·L²·D each;
# * an *added* step (every step but a block's last): its extra Linear(D, D) on the T·N
#   patch tokens;
# * the block's last step has a copy of the CLS token in **every** group;
# * the MLP on all 1 + T·N tokens: D → hidden → D;
# * the head: D → `cfg.num_classes` on the CLS token.
#
# The groups of each step are the ones you built in exercises 4 and 5
# (`mt.schemes.visibility` shows them).

# %% [markdown]
# ## 1. Axial attention: time → width → height (3 points)


# %%
def axial_macs(cfg, T: int, S: int) -> int:
    """Multiply-accumulates of one axial-attention forward pass on a T×S×S clip."""
    ### BEGIN SOLUTION
    D, P = cfg.embed_dim, cfg.patch_size
    side = S // P
    N = side * side
    hidden = int(D * cfg.mlp_ratio)

    def step(G, L):  # qkv + projection on G·L tokens, Q·Kᵀ and A·V in G groups of L
        return G * L * 4 * D * D + 2 * G * L * L * D

    extra = T * N * D * D  # an added step's extra Linear on the patch tokens
    time = step(N, T) + extra  # N positions, T frames each
    width = step(T * side, side) + extra  # T·H' rows of W' patches
    height = step(T * side, side + 1)  # T·W' columns of H' patches + a CLS copy
    mlp = (1 + T * N) * 2 * D * hidden
    embed = T * N * D * cfg.in_channels * P * P
    return embed + cfg.depth * (time + width + height + mlp) + D * cfg.num_classes
    ### END SOLUTION


# %% grade_id="axial_macs_tests" points=3
checks.check_macs(axial_macs, "axial")
### BEGIN HIDDEN TESTS
checks.check_macs(axial_macs, "axial", sizes=((3, 24), (8, 16)))
### END HIDDEN TESTS

# %% [markdown]
# ## 2. Local-global attention: local windows → dilated global (2 points)
#
# The local step: 4 windows of T·(H'/2)·(W'/2) patches (2×2 quadrants over all frames,
# an added step). The global step: the tokens with the same (t mod 2, h mod 2, w mod 2),
# 8 groups of (T/2)·(H'/2)·(W'/2) patches, or 4 groups of (H'/2)·(W'/2) when T = 1, plus
# a CLS copy each. H' and W' are even.


# %%
def local_global_macs(cfg, T: int, S: int) -> int:
    """Multiply-accumulates of one local-global forward pass on a T×S×S clip."""
    ### BEGIN SOLUTION
    D, P = cfg.embed_dim, cfg.patch_size
    N = (S // P) ** 2
    hidden = int(D * cfg.mlp_ratio)

    def step(G, L):
        return G * L * 4 * D * D + 2 * G * L * L * D

    local = step(4, T * N // 4) + T * N * D * D  # an added step: extra Linear
    G = 8 if T > 1 else 4
    global_ = step(G, T * N // G + 1)  # the last step: a CLS copy per group
    mlp = (1 + T * N) * 2 * D * hidden
    embed = T * N * D * cfg.in_channels * P * P
    return embed + cfg.depth * (local + global_ + mlp) + D * cfg.num_classes
    ### END SOLUTION


# %% grade_id="local_global_macs_tests" points=2
checks.check_macs(local_global_macs, "local_global")
### BEGIN HIDDEN TESTS
checks.check_macs(local_global_macs, "local_global", sizes=((6, 16), (8, 8)))
### END HIDDEN TESTS

# %% [markdown]
# At the paper's size (ViT-B/16, 400 classes), per view, next to the package's count. The
# paper's Tables 2 and 5 quote divided attention: 0.59 "TFLOPs" for 3 views of 8×224.

# %%
for scheme, fn in (("axial", axial_macs), ("local_global", local_global_macs)):
    base = mt.TimeSformerConfig.preset("base", attention=scheme)
    for T, S in [(8, 224), (8, 448), (32, 224)]:
        try:
            mine = f"{fn(base, T, S) / 1e9:8.1f}"
        except NotImplementedError:
            mine = "     ..."
        print(
            f"{scheme:>12} {T}×{S}: yours {mine}, package "
            f"{mt.cost.macs(base, T, S) / 1e9:8.1f} GMACs per view"
        )

# %% [markdown]
# ## Questions (not graded)
#
# 1. Which term dominates at 8×224? At 96×224? Write the axial and the local-global costs as
#    functions of T and N and find where the attention products take over.
# 2. Axial attention compares each query with the fewest keys, yet at 8×224 it costs more
#    than divided (249.4 vs 195.8 GMACs per view). Which terms make up the difference?
# 3. With the fast path (plain `model(video)`), FlopCounterMode reports less on CPU.
#    What is it not seeing?
