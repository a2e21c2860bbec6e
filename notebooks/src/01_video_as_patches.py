# %% [markdown]
# # 01 · A video as patches
#
# **Objectives** — after this lesson you can
# 1. hold a clip as a `(T, C, H, W)` tensor and a batch as `(B, T, C, H, W)`;
# 2. cut every frame into `N = H'·W'` non-overlapping `P×P` patches and embed them linearly;
# 3. show that a per-frame `Conv2d` with kernel = stride = `P` *is* that linear map;
# 4. write reshapes with **einops** — named axes, splitting an axis, the inverse pattern —
#    and check them against `reshape` / `permute`;
# 5. add the CLS token, the spatial and the temporal position embeddings, in the time-major
#    token layout the package uses;
# 6. convert between this package's time-major `(t h w)` token order and the patch-major
#    `(h w t)` order of the official code and Hugging Face, and show that attention's groups
#    hold the same tokens in either order;
# 7. resize the embeddings when a clip has another size than the model was trained on.
#
# **Time budget** — 40 min; compute under half a minute on a 2-core CPU.
#
# Paper: §3, "Decomposition into patches" and "Linear embedding" (Eq. 1); token order:
# official `timesformer/models/vit.py` (facts only; see `docs/course.md`).
#
# Research questions (lesson 00): RQ4 (positional embeddings).

# %%
# %matplotlib inline
import os

import matplotlib.pyplot as plt
import torch
from einops import rearrange
from torch import nn

import mini_timesformer as mt
from mini_timesformer.embed import PatchEmbed, VideoEmbedding, resize_pos_embed, resize_time_embed

SMOKE = os.environ.get("MINI_TIMESFORMER_SMOKE") == "1"
_ = torch.manual_seed(0)

# %% [markdown]
# ## A clip is a tensor
#
# Decoded video is a stack of frames. We keep the frame axis first: a clip is `(T, C, H, W)`
# and a batch of clips `(B, T, C, H, W)` (the torchvision / Hugging Face convention). We build a
# small synthetic clip — a red disc moving right, a blue bar moving down — so that every pixel
# is known.

# %%
T, C, H, W = 8, 3, 32, 32
P = 8  # patch side in pixels


def toy_clip(T: int, H: int, W: int) -> torch.Tensor:
    """(T, 3, H, W) in [0, 1]: a red disc moving right, a blue bar moving down."""
    ys, xs = torch.meshgrid(torch.arange(H), torch.arange(W), indexing="ij")  # (H, W) each
    clip = torch.full((T, 3, H, W), 0.1)
    for t in range(T):
        disc = (ys - H / 3) ** 2 + (xs - 3 - 3 * t) ** 2 < 16  # (H, W) bool
        clip[t, 0][disc] = 1.0
        bar = ((ys - 2 - 3 * t).abs() < 2) & (xs > W // 2) & (xs < W // 2 + 10)
        clip[t, 2][bar] = 1.0
    return clip


clip = toy_clip(T, H, W)
print(f"clip shape (T, C, H, W) = {tuple(clip.shape)}, dtype {clip.dtype}")
assert clip.shape == (T, C, H, W)

# %% [markdown]
# ## Cutting frames into patches
#
# With patch side `P`, each frame becomes a grid of `H' × W'` patches, `H' = H/P`, `W' = W/P`,
# so `N = H'·W'` patches per frame. Each patch holds `C·P·P` numbers. We do it with `reshape`
# and `permute` only (no library helper), so every axis is visible.


# %%
def patchify(clip: torch.Tensor, P: int) -> torch.Tensor:
    """(T, C, H, W) -> (T, N, C·P·P), patches in row-major order (h, then w)."""
    T, C, H, W = clip.shape
    Hp, Wp = H // P, W // P
    x = clip.reshape(T, C, Hp, P, Wp, P)  # split H into (H', P) and W into (W', P)
    x = x.permute(0, 2, 4, 1, 3, 5)  # (T, H', W', C, P, P)
    return x.reshape(T, Hp * Wp, C * P * P)  # (T, N, C·P·P)


patches = patchify(clip, P)
N = (H // P) * (W // P)
print(f"H' = {H // P}, W' = {W // P}, N = {N} patches per frame, {C * P * P} numbers each")
print(f"patches: {tuple(patches.shape)}")
assert patches.shape == (T, N, C * P * P)
# property: patch n of frame t is exactly the pixels of that square (row h = n // W', col w)
t, n = 3, 6
h, w = divmod(n, W // P)
torch.testing.assert_close(
    patches[t, n], clip[t, :, h * P : (h + 1) * P, w * P : (w + 1) * P].flatten()
)

# %% [markdown]
# ## The same cut with einops
#
# `reshape` and `permute` need you to track axis *positions*. The package, the exercises and
# the official code write these moves with **einops** instead, where axes have *names*:
#
# * `rearrange(x, "t c h w -> t h w c")` moves axes — a `permute`;
# * parentheses on the left **split** an axis: `"(h p1)"` reads an axis of length `H` as `H'`
#   rows of `P` pixels (give the sizes you know as keywords, `p1=P`; einops infers the rest);
# * parentheses on the right **merge** axes: `"(h w)"` is one axis of length `H'·W'`, the first
#   name varying slowest — so `(h w)` is row-major, `(t n)` is time-major;
# * swapping the two sides of a pattern gives its **inverse**.
#
# Each pattern below is checked against the `reshape` / `permute` it replaces.

# %%
mine_e = rearrange(clip, "t c (h p1) (w p2) -> t (h w) (c p1 p2)", p1=P, p2=P)  # (T, N, C·P·P)
assert torch.equal(mine_e, patches)  # the whole of patchify in one line

x = torch.randn(2, T * N, 5)  # (B, T·N, D): a time-major token sequence
split = rearrange(x, "b (t n) d -> b t n d", t=T)  # split the token axis into frames
assert torch.equal(split, x.reshape(2, T, N, 5))
assert torch.equal(rearrange(split, "b t n d -> b (t n) d"), x)  # the inverse pattern
moved = rearrange(split, "b t n d -> b n t d")  # frames now vary fastest
assert torch.equal(moved, split.permute(0, 2, 1, 3))
assert torch.equal(rearrange(moved, "b n t d -> b t n d"), split)
print("einops patterns == reshape / permute; each inverse restores the input")

# %%
fig, axes = plt.subplots(1, 2, figsize=(8, 4))
axes[0].imshow(clip[t].permute(1, 2, 0))  # (3, H, W) -> (H, W, 3)
for k in range(1, H // P):
    axes[0].axhline(k * P - 0.5, color="w", lw=1)
    axes[0].axvline(k * P - 0.5, color="w", lw=1)
axes[0].set_title(f"frame {t} with its {H // P}×{W // P} patch grid")
tiles = patches[t].reshape(N, C, P, P).permute(0, 2, 3, 1)  # (N, P, P, C) for imshow
gap = torch.ones(N, P, 1, C)
row = torch.cat([torch.cat([tiles[i], gap[i]], dim=1) for i in range(N)], dim=1)
axes[1].imshow(row)
axes[1].set_title(f"the same frame as a sequence of {N} patches")
for ax in axes:
    ax.axis("off")
fig.tight_layout()
plt.show()

# %% [markdown]
# ## Linear patch embedding, and why it is a convolution
#
# Each patch vector `x ∈ R^{C·P·P}` is mapped to `z = E x + b ∈ R^D` (paper §3). The same
# `E` is used for every patch of every frame. A `Conv2d(C, D, kernel_size=P, stride=P)` slides
# a `C×P×P` filter over the frame in steps of `P`: it visits each patch exactly once and takes
# a dot product — the same linear map. The package uses the convolution (it is faster); here
# we write the `Linear` version and prove they agree.

# %%
D = 64


class LinearPatchEmbed(nn.Module):
    """Video (B, T, C, H, W) -> patch embeddings (B, T, N, D) with one nn.Linear."""

    def __init__(self, P: int, C: int, D: int):
        super().__init__()
        self.P = P
        self.linear = nn.Linear(C * P * P, D)

    def forward(self, video: torch.Tensor) -> torch.Tensor:
        B = video.shape[0]
        frames = video.flatten(0, 1)  # (B·T, C, H, W)
        flat = torch.stack([patchify(f.unsqueeze(0), self.P)[0] for f in frames])  # (B·T, N, CPP)
        return self.linear(flat).unflatten(0, (B, -1))  # (B, T, N, D)


package_embed = PatchEmbed(P, C, D)
mine = LinearPatchEmbed(P, C, D)
with torch.no_grad():  # copy the package's weights: conv filter (D, C, P, P) -> matrix (D, C·P·P)
    mine.linear.weight.copy_(package_embed.proj.weight.reshape(D, -1))
    mine.linear.bias.copy_(package_embed.proj.bias)

video = clip.unsqueeze(0).repeat(2, 1, 1, 1, 1)  # (B=2, T, C, H, W)
video[1] = video[1].flip(-1)  # a second, different clip
ours, theirs = mine(video), package_embed(video)
print(f"ours {tuple(ours.shape)}  package {tuple(theirs.shape)}")
torch.testing.assert_close(ours, theirs)

# %% [markdown]
# A property check on top of the numerical one: the embedding is per frame and per patch, so
# changing the pixels of one patch changes exactly one embedding vector.

# %%
poked = video.clone()
poked[0, 5, :, 8:16, 16:24] += 1.0  # frame 5, patch row 1, column 2 -> n = 1·W' + 2
changed = (package_embed(poked) - theirs).abs().amax(dim=-1) > 0  # (B, T, N) bool
print("changed (b, t, n):", changed.nonzero().tolist())
assert changed.nonzero().tolist() == [[0, 5, 1 * (W // P) + 2]]

# %% [markdown]
# ## CLS token, spatial and temporal embeddings, time-major layout
#
# Self-attention treats its input as a *set*: it does not know where a token came from
# (lesson 02 proves it). The paper (§3, Eq. 1) adds one learned position embedding
# `e^pos_(p,t)` per patch `p` and frame `t`, and prepends a learned **CLS** token whose final
# state is classified (§3, Eq. 10). The official code (`timesformer/models/vit.py`,
# `VisionTransformer`: `pos_embed` and `time_embed`), and this package after it, factor that
# embedding into two:
# * a learned **spatial** position embedding `e^pos_n`, one per patch location, **shared by
#   all frames**;
# * a learned **temporal** embedding `e^time_t`, one per frame, **shared by all patches of the
#   frame**, added after the spatial one (same file, `forward_features`).
#
# Table 4 (§4.4) ablates "no", "space-only" and "space-time" embeddings; lesson 12 trains all
# three.
#
# Tokens are laid out **time-major**: `[CLS, frame 0's N patches, frame 1's N patches, …]`,
# so patch `(t, h, w)` sits at index `1 + t·N + h·W' + w`. The package keeps the CLS slot
# inside `pos_embed` (shape `(1, 1 + N, D)`), as ViT checkpoints do.


# %%
def embed_tokens(patch_emb, cls_token, pos_embed, time_embed):
    """Patch embeddings (B, T, N, D) -> tokens (B, 1 + T·N, D), CLS first, time-major."""
    B, T, N, D = patch_emb.shape
    x = patch_emb + pos_embed[:, None, 1:]  # (1, 1, N, D): same spatial vector in every frame
    x = x + time_embed[:, :, None]  # (1, T, 1, D): same time vector for every patch
    x = x.reshape(B, T * N, D)  # time-major: frame 0's N patches, then frame 1's, ...
    cls = (cls_token + pos_embed[:, :1]).expand(B, 1, D)  # (B, 1, D)
    return torch.cat([cls, x], dim=1)


cfg = mt.TimeSformerConfig.preset("nano")  # 8 frames, 32 px, patch 8, D = 64
embedding = VideoEmbedding(cfg)
with torch.no_grad():  # the package starts time_embed at zero; make it non-zero to test it
    embedding.time_embed.normal_(std=0.02)
tokens, grid = embedding(video)
mine = embed_tokens(
    embedding.patch_embed(video), embedding.cls_token, embedding.pos_embed, embedding.time_embed
)
print(f"tokens {tuple(tokens.shape)}, grid (T, H', W') = {grid}")
torch.testing.assert_close(mine, tokens)
assert tokens.shape == (2, 1 + T * N, D)

# %% [markdown]
# Property checks of the layout: a clip whose frames are all the same image gives tokens whose
# frames differ *only* by their time embeddings, and token `1 + t·N + n` belongs to frame `t`.

# %%
still = clip[:1].repeat(T, 1, 1, 1).unsqueeze(0)  # (1, T, C, H, W): one image, T times
tok, _ = embedding(still)
frames = tok[:, 1:].reshape(1, T, N, D)  # (1, T, N, D) undo the time-major flattening
for t in range(T):
    torch.testing.assert_close(
        frames[0, t] - frames[0, 0],
        (embedding.time_embed[0, t] - embedding.time_embed[0, 0]).expand(N, D),
    )
print(f"frames of a still clip differ only by e_time: checked for all {T} frames")

# %% [markdown]
# ## Two token orders: `(t h w)` here, `(h w t)` in the official code
#
# Time-major is this package's convention, not the paper's. The official code
# (`timesformer/models/vit.py`: its patterns read `b (h w t) m`) and the Hugging Face port order
# the patch tokens **patch-major**: all `T` frames of patch 0, then all frames of patch 1, …
# Patch `(t, n)` with `n = h·W' + w` sits at index `1 + t·N + n` here and `1 + n·T + t` there.
#
# No weight is tied to a position in the sequence: the embeddings are indexed by frame `t` and
# patch `n`, and attention sees sets of tokens. So the two orders are one `rearrange` apart,
# every attention group holds the same tokens in either order, and the same weights give the
# same logits — checkpoints load without any permutation (lesson 05 checks it end to end
# against the Hugging Face port and loads checkpoints).

# %%
ours = tokens[:, 1:]  # (B, T·N, D), time-major (t h w)
Hp, Wp = H // P, W // P
official = rearrange(ours, "b (t h w) d -> b (h w t) d", t=T, h=Hp)  # patch-major (h w t)
t, h, w = 5, 2, 1
n = h * Wp + w
assert torch.equal(official[:, n * T + t], ours[:, t * N + n])
assert torch.equal(rearrange(official, "b (h w t) d -> b (t h w) d", t=T, h=Hp), ours)
# divided attention's groups, cut from either order: the same tokens in the same order
for step, (ours_p, official_p) in {
    "time": ("b (t h w) d -> (b h w) t d", "b (h w t) d -> (b h w) t d"),
    "space": ("b (t h w) d -> (b t) (h w) d", "b (h w t) d -> (b t) (h w) d"),
}.items():
    groups_ours = rearrange(ours, ours_p, t=T, h=Hp)  # (B·G, L, D)
    assert torch.equal(groups_ours, rearrange(official, official_p, t=T, h=Hp)), step
print("token orders convert both ways; time and space groups are identical from either order")

# %% [markdown]
# ## Other clip sizes: resizing the embeddings
#
# The embeddings are learned for `T` frames and an `H'×W'` grid. Another clip size needs them
# resized. The official code does it in two places, two ways:
# * loading ImageNet weights into a TimeSformer (`timesformer/models/helpers.py`,
#   `load_pretrained`): the flattened grid part of `pos_embed` is resized in **1-D**
#   (`F.interpolate`, nearest, `size=num_patches`; the CLS slot kept) — a 1-D resize of a
#   2-D grid, exact only when the grid does not change;
# * on the fly when a clip's size differs (`timesformer/models/vit.py`, `forward_features`):
#   the grid is resized in **2-D** (nearest), the time embedding in 1-D (nearest).
#
# This package resizes on the fly like `forward_features` (2-D nearest for space, 1-D nearest
# for time: `embed.resize_pos_embed`, `resize_time_embed`); its `TimeSformer.from_vit`
# resizes a ViT's grid in 2-D **bicubic** instead (our choice: smooth, like timm's ViT
# loader). The paper's bigger models were *trained* at their own sizes — TimeSformer-HR on
# 16×448, TimeSformer-L on 96×224 (§4.2, Table 3; Appendix A) — not run as 8×224 models on
# bigger clips. What running at another size costs, measured here (lesson 12, divided model
# trained on 8 frames): 16 frames 96.9% vs 96.4% at 8 — no drop — but 4 frames 45.6%.
# From scratch, nearest-neighbour picks for output cell `i` the input cell
# `floor(i · old / new)`:


# %%
def nearest_indices(old: int, new: int) -> torch.Tensor:
    return torch.div(torch.arange(new) * old, new, rounding_mode="floor")


def my_resize_pos(pos, new_h, new_w):
    """(1, 1 + h·w, D) -> (1, 1 + new_h·new_w, D), nearest neighbour, CLS slot kept."""
    side = int(round((pos.shape[1] - 1) ** 0.5))
    grid = pos[:, 1:].reshape(1, side, side, -1)  # (1, h, w, D)
    grid = grid[:, nearest_indices(side, new_h)][:, :, nearest_indices(side, new_w)]
    return torch.cat([pos[:, :1], grid.reshape(1, new_h * new_w, -1)], dim=1)


def my_resize_time(time, new_t):
    """(1, T, D) -> (1, new_t, D), nearest neighbour."""
    return time[:, nearest_indices(time.shape[1], new_t)]


pos, time_e = embedding.pos_embed.detach(), embedding.time_embed.detach()
for new in [(8, 8), (6, 10), (2, 2)]:
    torch.testing.assert_close(my_resize_pos(pos, *new), resize_pos_embed(pos, new))
for new_t in (16, 4, 1):
    torch.testing.assert_close(my_resize_time(time_e, new_t), resize_time_embed(time_e, new_t))
print("nearest-neighbour resizing matches the package for grids and frame counts")

# the model itself runs on a bigger clip: 16 frames of 64×64 (embeddings resized on the fly)
model = mt.TimeSformer(cfg.replace(num_classes=5)).eval()
with torch.no_grad():
    big = model(torch.randn(1, 16, 3, 64, 64))
print(f"trained for {cfg.num_frames}×{cfg.image_size}, runs on 16×64: logits {tuple(big.shape)}")

# %%
smooth = torch.linspace(-1, 1, cfg.grid_size**2).reshape(1, -1, 1)  # a ramp over the grid
ramp = torch.cat([torch.zeros(1, 1, 1), smooth], dim=1)  # (1, 1 + N, 1) with a CLS slot
fig, axes = plt.subplots(1, 3, figsize=(10, 3.3))
for ax, side in zip(axes, (cfg.grid_size, 8, 12)):
    resized = resize_pos_embed(ramp, (side, side))[0, 1:, 0].reshape(side, side)
    ax.imshow(resized, cmap="viridis")
    ax.set_title(f"spatial embedding on a {side}×{side} grid")
    ax.axis("off")
fig.suptitle("one channel of a position embedding, resized by nearest neighbour")
fig.tight_layout()
plt.show()

# %% [markdown]
# ## Questions
# 1. How many numbers does the patch embedding matrix `E` of ViT-B/16 (`D = 768`, `P = 16`) have?
#    Check your answer with `PatchEmbed(16, 3, 768)`.
# 2. Why must the spatial embedding be shared by all frames, and the temporal one by all
#    patches? What would a separate embedding per `(t, n)` cost at 8×224, and what would it lose
#    when the model runs on 16 frames?
# 3. Nearest-neighbour resizing copies embeddings. What would bilinear interpolation do
#    differently for the temporal embedding of a model trained on 8 frames and run on 16?
# 4. In the official `(h w t)` order, which tokens are neighbours in the sequence? Write the
#    einops pattern that cuts the *time* groups from that order, and the one that cuts the
#    *space* groups. Which of the two is a plain `reshape` in each order?
#
# **Exercise** — `exercises/01_patch_embedding.ipynb` (patches and embeddings): build the
# patch embedding and the token layout yourself; its auto-check compares your code with the
# package on random clips with copied weights. Next: `02_self_attention.ipynb`.
