# %% [markdown]
# # 02 · Self-attention from scratch
#
# **Objectives** — after this lesson you can
# 1. write scaled dot-product attention, `softmax(Q Kᵀ / √d) V`, and check it against
#    `torch.nn.functional.scaled_dot_product_attention`;
# 2. write multi-head self-attention with one fused `qkv` projection, exactly as the package
#    (and ViT / TimeSformer checkpoints) store it;
# 3. read attention weights as a picture, and explain why attention needs position embeddings;
# 4. count the cost per query and see it grow with the sequence length.
#
# **Time budget** — 30 min; compute under a minute on a 2-core CPU.
#
# Paper: §3, "Query-Key-Value computation" and "Self-attention computation" (Eq. 2–5), after
# Vaswani et al. (2017).
#
# Research questions (lesson 00): RQ2 (what attention costs as the sequence grows).

# %%
# %matplotlib inline
import os
import time

import matplotlib.pyplot as plt
import torch
import torch.nn.functional as F
from torch import nn

import mini_timesformer as mt
from mini_timesformer.attention import MultiHeadAttention

SMOKE = os.environ.get("MINI_TIMESFORMER_SMOKE") == "1"
_ = torch.manual_seed(0)

# %% [markdown]
# ## Scaled dot-product attention
#
# Every token `i` emits a query `q_i`, a key `k_i` and a value `v_i` (vectors of size `d`).
# Token `i`'s output is a weighted average of all values; the weight of token `j` is the
# softmax over `j` of the similarity `q_i · k_j / √d`. The `1/√d` keeps the dot products of
# unit-variance vectors at unit variance, so the softmax does not saturate as `d` grows.


# %%
def attention(q, k, v):
    """q, k, v: (..., L, d) -> output (..., L, d) and weights (..., L, L)."""
    scores = q @ k.transpose(-2, -1) / q.shape[-1] ** 0.5  # (..., L, L): q_i · k_j / √d
    weights = scores.softmax(dim=-1)  # each row is a distribution over the L keys
    return weights @ v, weights


L, d = 10, 16
q, k, v = torch.randn(3, 2, L, d).unbind(0)  # a batch of 2 sequences
out, weights = attention(q, k, v)
torch.testing.assert_close(out, F.scaled_dot_product_attention(q, k, v))
torch.testing.assert_close(weights.sum(-1), torch.ones(2, L))  # rows sum to one
assert (weights >= 0).all()
print(f"output {tuple(out.shape)}, weights {tuple(weights.shape)}: matches PyTorch's SDPA")

# %% [markdown]
# Two properties worth proving, because the rest of the course leans on them:
# * **a single key gets all the weight** (`L = 1` → the output is that value);
# * **attention is permutation-equivariant**: shuffle the tokens and the outputs are shuffled
#   the same way. Attention alone cannot know token order — that is what position embeddings
#   are for (lesson 01), and why *time* embeddings matter for video (lesson 12).

# %%
one, w1 = attention(q[:, :1], k[:, :1], v[:, :1])
torch.testing.assert_close(one, v[:, :1])
perm = torch.randperm(L)
out_perm, _ = attention(q[:, perm], k[:, perm], v[:, perm])
torch.testing.assert_close(out_perm, out[:, perm])
print("L = 1 returns the value; permuting tokens permutes outputs")

# %% [markdown]
# ## Multi-head attention with a fused qkv
#
# With `D`-dimensional tokens and `h` heads, each head works in `d_h = D / h` dimensions:
# `Q = X W_Q`, `K = X W_K`, `V = X W_V`, split into heads, attention per head, heads
# concatenated, and an output projection `W_O`. ViT (and so TimeSformer) stores `W_Q, W_K,
# W_V` as **one** `Linear(D, 3D)` called `qkv` — one matrix product instead of three. The
# output of `qkv` is ordered `[q | k | v]`, and inside each, head after head.


# %%
class MyMultiHeadAttention(nn.Module):
    """(B, L, D) -> (B, L, D) and weights (B, heads, L, L); parameter names as the package."""

    def __init__(self, D: int, heads: int):
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(D, 3 * D)
        self.proj = nn.Linear(D, D)

    def forward(self, x):
        B, L, D = x.shape
        q, k, v = self.qkv(x).chunk(3, dim=-1)  # each (B, L, D)
        q, k, v = (
            t.reshape(B, L, self.heads, D // self.heads).transpose(1, 2)  # (B, h, L, d_h)
            for t in (q, k, v)
        )
        out, weights = attention(q, k, v)  # (B, h, L, d_h), (B, h, L, L)
        out = out.transpose(1, 2).reshape(B, L, D)  # concatenate the heads: (B, L, D)
        return self.proj(out), weights


D, heads = 64, 4
package_attn = MultiHeadAttention(D, heads)
mine = MyMultiHeadAttention(D, heads)
mine.load_state_dict(package_attn.state_dict())  # copy the weights (same names and shapes)

x = torch.randn(2, 33, D)
ours, our_weights = mine(x)
fast, none = package_attn(x)  # package fast path: SDPA, no weights
slow, their_weights = package_attn(x, need_weights=True)  # explicit path
torch.testing.assert_close(ours, fast)
torch.testing.assert_close(ours, slow)
torch.testing.assert_close(our_weights, their_weights)
assert none is None
print(f"ours == package (fast and explicit path); weights {tuple(their_weights.shape)}")

# %% [markdown]
# ## Attention weights as a picture
#
# Here the tokens are the patch embeddings of one frame of a clip (lesson 01) plus the spatial
# position embedding, passed through a freshly initialised attention layer. A row of the
# weight matrix is "where query patch `i` looks". Random weights give no meaning yet — the
# point is how to read the picture; lesson 10 looks at a trained model.

# %%
cfg = mt.TimeSformerConfig.preset("nano", attention="space")
model = mt.TimeSformer(cfg).eval()
video = torch.rand(1, cfg.num_frames, 3, cfg.image_size, cfg.image_size)
with torch.no_grad():
    _, maps = model.forward_with_attention(video)
w = maps[0]["space"]  # block 0: (B, G = T frames, heads, 1 + N, 1 + N)
print(f"block 0 'space' weights: {tuple(w.shape)} (B, groups, heads, queries, keys)")
torch.testing.assert_close(w.sum(-1), torch.ones_like(w.sum(-1)))

fig, axes = plt.subplots(1, cfg.num_heads, figsize=(3 * cfg.num_heads, 3))
for h, ax in enumerate(axes):
    ax.imshow(w[0, 0, h], cmap="magma")
    ax.set_title(f"head {h}")
    ax.set_xlabel("key")
    ax.set_ylabel("query")
fig.suptitle("frame 0, block 0: attention weights per head (token 0 = CLS)")
fig.tight_layout()
plt.show()

# %% [markdown]
# ## Cost per query
#
# Every query is compared with every key: `L` dot products of length `d_h` per head, so a
# layer does `L²·D` multiply-adds for `Q Kᵀ` and again for `A V`, and the explicit path stores
# an `L × L` matrix per head. Fused kernels (what `scaled_dot_product_attention` dispatches to)
# compute the same result without storing it. Below we time both paths; the explicit one has
# to build and softmax the whole score matrix. (Timings on a busy machine are noisy, most of
# all for the short sequences; the trend at the long end is what to read.)

# %%
lengths = [64, 128, 256] if SMOKE else [128, 256, 512, 1024, 1569]
attn = MultiHeadAttention(D, heads).eval()
times = {"explicit (weights kept)": [], "fused SDPA": []}


def best_time(fn, *args, repeats: int = 3, **kwargs) -> float:
    """Fastest of `repeats` calls of fn(*args, **kwargs), in seconds."""
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn(*args, **kwargs)
        best = min(best, time.perf_counter() - start)
    return best


with torch.no_grad():
    for n in lengths:
        x = torch.randn(4, n, D)
        times["explicit (weights kept)"].append(best_time(attn, x, need_weights=True))
        times["fused SDPA"].append(best_time(attn, x))
for n, te, tf in zip(lengths, *times.values()):
    print(
        f"L = {n:5d}: {n * n * D * 2 / 1e6:8.1f} M MACs in Q·Kᵀ and A·V;  explicit "
        f"{te * 1e3:7.2f} ms, fused {tf * 1e3:7.2f} ms, score matrix "
        f"{4 * heads * n * n * 4 / 2**20:6.1f} MiB"
    )

fig, ax = plt.subplots(figsize=(5, 3.5))
for label, ts in times.items():
    ax.loglog(lengths, [t * 1e3 for t in ts], "o-", label=label)
ref = [times["fused SDPA"][-1] * 1e3 * (n / lengths[-1]) ** 2 for n in lengths]
ax.loglog(lengths, ref, "k:", label="∝ L²")
ax.set_xlabel("sequence length L")
ax.set_ylabel("time per call (ms)")
ax.legend()
ax.set_title("attention cost grows with L² (CPU)")
plt.show()

# %% [markdown]
# The joint space-time sequence of the paper's 8×224 clip (lesson 03) is much longer than
# these; the cell below counts its keys per query. That is the cost the paper's schemes are
# designed to cut.

# %%
base = mt.TimeSformerConfig.preset("base", attention="joint")
print(f"joint attention at 8×224: {mt.cost.keys_per_query(base)} keys per query")
assert mt.cost.keys_per_query(base) == base.num_frames * base.num_patches + 1

# %% [markdown]
# ## Questions
# 1. Without the `1/√d` scale, what happens to the softmax when `d_h = 64` and the entries of
#    `q`, `k` have unit variance? Try it with `attention` above.
# 2. Why does a fused `qkv` give the same result as three separate `Linear` layers? Write the
#    three weight matrices in terms of `qkv.weight`.
# 3. The permutation property says attention is blind to order. Which tensors in lesson 01
#    break that symmetry, and along which axes?
#
# **Exercise** — `exercises/02_attention.ipynb`: attention with a boolean visibility mask,
# separate q, k, v layers loaded from the fused `qkv`, and masked multi-head attention; its
# auto-check compares yours with `MultiHeadAttention` (copied weights) and checks properties
# such as hidden keys getting weight zero.
# Next: `03_space_time_attention.ipynb`.
