# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Exercise 11: what a 3-D convolution costs, and how I3D inflates a 2-D one
#
# **Goal:** the paper's comparison with 3-D CNNs (RQ3; §4.2 and Table 2) is a comparison of
# costs. Here you count the cost of a (2+1)D convolution for **any** kernel t × d × d and any
# stride — where lesson 14's 3×3×3 formulas no longer hold — and you build the trick that
# lets a 3-D CNN start from an image model: inflating a 2-D kernel into a 3-D one (Carreira &
# Zisserman, "Quo Vadis, Action Recognition?", CVPR 2017), the CNN analogue of TimeSformer's
# ImageNet initialisation.
# **Before this:** lesson 14 (TimeSformer against a 3-D CNN). **Time:** about 40 minutes.
# **Points:** 7.
#
# Replace each `raise NotImplementedError()` with your code and run the test cell below
# it. Without Jupyter: `mini-timesformer check exercises/11_conv_cost_and_inflation.ipynb`.

# %%
import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from mini_timesformer import checks

torch.manual_seed(0)

# %% [markdown]
# ## 1. The middle width for a t × d × d kernel (1 point)
#
# A full t × d × d convolution from N_in to N_out channels has t·d²·N_in·N_out weights. Its
# (2+1)D replacement is a spatial 1 × d × d convolution from N_in to M channels, then a
# temporal t × 1 × 1 one from M to N_out. Return the M (rounded down) for which the pair has
# as many weights as the full kernel (Tran et al., CVPR 2018, Sec. 3.5, state it for any t
# and d).


# %%
def midplanes(n_in: int, n_out: int, t: int, d: int) -> int:
    """The middle width of a (2+1)D pair that replaces a t×d×d convolution."""
    ### BEGIN SOLUTION
    return (t * d * d * n_in * n_out) // (d * d * n_in + t * n_out)
    ### END SOLUTION


# %% grade_id="midplanes_tests" points=1
checks.check_midplanes(midplanes)
### BEGIN HIDDEN TESTS
checks.check_midplanes(midplanes, cases=((5, 7, 7, 3), (128, 64, 3, 5), (1, 1, 3, 3)))
### END HIDDEN TESTS

# %% [markdown]
# ## 2. Parameters and MACs of the pair (3 points)
#
# The pair is: spatial `Conv3d(N_in, M, (1, d, d), stride (1, s, s), padding (0, d//2, d//2))`,
# `BatchNorm3d(M)`, ReLU, temporal `Conv3d(M, N_out, (t, 1, 1), stride (s, 1, 1), padding
# (t//2, 0, 0))`, no biases (t and d are odd). Return `(parameters, MACs)` for one input of
# N_in × T × H × W. A convolution costs, per output position, C_out · C_in · (kernel volume)
# multiply-adds; a kernel k with padding k//2 and stride s turns a length n into
# ⌊(n + 2·(k//2) − k) / s⌋ + 1. BatchNorm and ReLU cost no MACs. Check yourself with
# `FlopCounterMode` (it counts 2 FLOPs per MAC), as in lesson 14.


# %%
def conv2plus1d_cost(
    n_in: int, n_out: int, t: int, d: int, T: int, H: int, W: int, stride: int
) -> tuple[int, int]:
    """(parameters, MACs) of the (2+1)D pair for a t×d×d kernel on one (n_in, T, H, W) input."""
    ### BEGIN SOLUTION
    m = midplanes(n_in, n_out, t, d)

    def out(n, k):  # output length, 'same' padding k // 2, stride `stride`
        return (n + 2 * (k // 2) - k) // stride + 1

    h, w = out(H, d), out(W, d)
    params = m * n_in * d * d + 2 * m + n_out * m * t
    macs = T * h * w * m * n_in * d * d + out(T, t) * h * w * n_out * m * t
    return params, macs
    ### END SOLUTION


# %% grade_id="cost_tests" points=3
checks.check_conv2plus1d_cost(conv2plus1d_cost)
### BEGIN HIDDEN TESTS
checks.check_conv2plus1d_cost(
    conv2plus1d_cost, cases=((4, 12, 7, 3, 16, 8, 8, 1), (32, 16, 3, 5, 5, 11, 11, 2))
)
### END HIDDEN TESTS

# %% [markdown]
# ## 3. Inflating a 2-D kernel (3 points)
#
# I3D starts a 3-D network from an image network: every 2-D kernel (C_out, C_in, d, d) is
# repeated over t frames and divided by t, giving a (C_out, C_in, t, d, d) kernel. On a
# static clip — one image repeated — each output frame then equals the 2-D response to that
# image (Carreira & Zisserman's "boring video" argument). Write the inflation, and check the
# argument yourself on a static clip below.


# %%
def inflate(weight: torch.Tensor, t: int) -> torch.Tensor:
    """(C_out, C_in, d, d) 2-D kernel -> the inflated (C_out, C_in, t, d, d) 3-D kernel."""
    ### BEGIN SOLUTION
    return weight.unsqueeze(2).repeat(1, 1, t, 1, 1) / t
    ### END SOLUTION


# %% grade_id="inflate_tests" points=3
checks.check_inflate(inflate)
### BEGIN HIDDEN TESTS
checks.check_inflate(inflate, cases=((3, 3, 3, 1), (5, 4, 3, 7)))
### END HIDDEN TESTS

# %%
layer = nn.Conv2d(3, 4, 3, padding=1, bias=False)
clip = torch.randn(1, 3, 1, 16, 16).expand(-1, -1, 8, -1, -1)  # (B, C, T, H, W): a static clip
with torch.no_grad(), FlopCounterMode(display=False) as counter:
    image = layer(clip[:, :, 0])  # (B, C_out, H, W)
print(f"2-D response {tuple(image.shape)}, {counter.get_total_flops() // 2:,} MACs")
# Try: torch.nn.functional.conv3d(clip, inflate(layer.weight, 3), padding=(0, 1, 1)) against `image`


# %% [markdown]
# ## Questions (not graded)
#
# 1. With your `conv2plus1d_cost`, compare a (2+1)D pair at 64 → 64 channels on 8 × 14 × 14
#    with one divided-attention block of width 64 on 8 frames of 14 × 14 patches
#    (`mt.cost.macs`, lesson 11): which costs more, and how does each grow with T?
# 2. A full t × d × d kernel and its (2+1)D pair have the same parameters. Do they have the
#    same MACs? When (stride, sizes) do they differ, and why?
# 3. Centre-only inflation (the 2-D kernel in the middle frame, zeros elsewhere) also gives
#    the 2-D response on a static clip. What does each inflation do on a moving clip, and why
#    might one train better?
# 4. TimeSformer is initialised from ImageNet ViT weights (Appendix A). Which part of that
#    initialisation plays the role of I3D's inflation, and which part has no CNN analogue?
