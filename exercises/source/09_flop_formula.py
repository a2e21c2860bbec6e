# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Exercise 9 (stretch): a FLOP formula for divided attention
#
# **Goal:** predict the compute of a TimeSformer forward pass with pencil and paper,
# check it against PyTorch's own counter (`torch.utils.flop_counter.FlopCounterMode`),
# then reproduce the paper's cost figures: 0.59 "TFLOPs" for TimeSformer, 5.11 for -HR,
# 7.14 for -L (3 views each; Tables 2 and 5).
# **Before this:** lesson 09 (cost curves); exercises 3 and 6.
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
# The paper (like fvcore) counts one multiply-add (MAC) as one "FLOP", and only the
# matrix products: a Linear from a to b features applied to r tokens costs r·a·b; the
# attention products of G groups of L tokens cost G·L²·D each for Q·Kᵀ and for A·V
# (summed over heads). Norms, softmax, GELU and additions are not counted.
# FlopCounterMode counts 2 FLOPs per MAC, so divide by 2. Measuring a small model:

# %%
cfg = mt.TimeSformerConfig.preset("nano", attention="divided", num_classes=4)
model = mt.TimeSformer(cfg).eval()
with FlopCounterMode(display=False) as counter, torch.no_grad():
    model(torch.zeros(1, 8, 3, 32, 32), return_attention=True)  # the explicit attention path
print(f"nano, 8×32: {counter.get_total_flops() // 2:,} MACs")

# %% [markdown]
# ## 1. The formula (3 points)
#
# `divided_macs(cfg, T, S)`: MACs of one forward pass on one clip of T frames of S×S
# pixels, with D = `cfg.embed_dim`, P = `cfg.patch_size`, N = (S/P)², hidden =
# `int(D * cfg.mlp_ratio)`. Per block (exercise 3):
#
# * the time step: N groups of T tokens; qkv (3 products of D×D per token), the output
#   projection, Q·Kᵀ and A·V, then the extra Linear on every patch token;
# * the space step: T groups of **1 + N** tokens (each frame gets a CLS copy); qkv,
#   projection, Q·Kᵀ and A·V;
# * the MLP on all 1 + T·N tokens: two Linears, D → hidden → D.
#
# Plus the patch embedding (a Linear from C·P² to D on each of the T·N patches) and the
# head (D → `cfg.num_classes` on the CLS token).

# %%
def divided_macs(cfg, T: int, S: int) -> int:
    """Multiply-accumulates of one divided-attention forward pass on a T×S×S clip."""
    ### BEGIN SOLUTION
    D, P = cfg.embed_dim, cfg.patch_size
    N = (S // P) ** 2
    hidden = int(D * cfg.mlp_ratio)
    time = N * T * 4 * D * D + 2 * N * T * T * D + T * N * D * D  # qkv+proj, QK+AV, extra
    space = T * (1 + N) * 4 * D * D + 2 * T * (1 + N) ** 2 * D  # CLS copy in each frame
    mlp = (1 + T * N) * 2 * D * hidden
    embed = T * N * D * cfg.in_channels * P * P
    return embed + cfg.depth * (time + space + mlp) + D * cfg.num_classes
    ### END SOLUTION


# %% grade_id="macs_tests" points=3
checks.check_divided_macs(divided_macs)
### BEGIN HIDDEN TESTS
checks.check_divided_macs(divided_macs, sizes=((3, 24), (8, 16)))
### END HIDDEN TESTS

# %% [markdown]
# ## 2. The paper's numbers (2 points)
#
# At the paper's size (ViT-B/16, 400 classes) your formula times 3 views should give
# 0.59, 5.11 and 7.14 "TFLOPs" for 8×224, 16×448 and 96×224.

# %% grade_id="paper_tests" points=2
checks.check_paper_tflops(divided_macs)

# %%
base = mt.TimeSformerConfig.preset("base", attention="divided")
for T, S in [(8, 224), (16, 448), (96, 224)]:
    print(f"{T}×{S}: {mt.cost.macs(base, T, S) / 1e9:7.1f} GMACs per view (package)")

# %% [markdown]
# ## Questions (not graded)
#
# 1. Which term dominates at 8×224? At 96×224? Write the divided and the joint costs as
#    functions of T and N and find where the attention products take over.
# 2. Joint attention at 8×224 is *cheaper* than divided (179.6 vs 195.8 GMACs per view).
#    Why, and why does the paper still prefer divided at larger T or S?
# 3. With the fast path (`return_attention=False`), FlopCounterMode reports less on CPU.
#    What is it not seeing?
