# %% [markdown]
# # 04 · Attention steps and the block
#
# **Objectives** — after this lesson you can
# 1. build one attention step — LayerNorm, attention within the groups of lesson 03, residual —
#    with the official CLS policy and the extra `Linear` of added steps, and check every step
#    of every scheme against the package with copied weights;
# 2. assemble a full divided block (time step, space step, MLP) and check it;
# 3. say which parts of the step rule are the official code's and which are this package's
#    extension to axial and local-global;
# 4. explain, and demonstrate, why attention alone cannot see the order of frames.
#
# **Time budget** — 30 min; compute under a minute on a 2-core CPU.
#
# Paper: §3 "Space-Time Self-Attention Models" — Eq. 11 and 6 (temporal, then spatial
# attention), Eq. 7–9 (encoding, MLP), Fig. 1 (the blocks); Table 1 (parameter counts);
# Table 4 (positional embeddings). Lesson 03 built the
# groupings; this lesson runs attention inside them.
#
# Research questions (lesson 00): RQ1 (which scheme), RQ4 (the time embedding and frame order).

# %%
# %matplotlib inline
import os

import matplotlib.pyplot as plt
import torch
from torch import nn

import mini_timesformer as mt
from mini_timesformer.attention import MultiHeadAttention
from mini_timesformer.schemes import STEPS

SMOKE = os.environ.get("MINI_TIMESFORMER_SMOKE") == "1"
_ = torch.manual_seed(0)

# %% [markdown]
# ## Groups as index tensors
#
# Lesson 03 built every grouping from index arithmetic and checked it against the package.
# Here we take the groups from the package, which cuts them with one einops `rearrange` per
# grouping (lesson 01) — the time step, for instance, is `b (t h w) d -> (b h w) t d`.
# Splitting the token *indices* `0 … T·N−1` that way gives a `(G, L)` tensor whose row `g`
# lists the tokens of group `g`, in the order the package's attention sees them.


# %%
def group_index(step: str, grid) -> torch.Tensor:
    """(G, L) time-major token indices of each group of `step`, in the package's order."""
    T, Hp, Wp = grid
    tokens = torch.arange(T * Hp * Wp).reshape(1, T * Hp * Wp, 1)  # (1, T·N, 1) token ids
    return mt.schemes.split_groups(tokens, step, grid)[..., 0]  # (G, L)


print("divided on a 2×2×2 grid:", {s: group_index(s, (2, 2, 2)).tolist() for s in STEPS["divided"]})
for scheme in mt.SCHEMES:  # same partition as lesson 03's visibility masks
    for step, mask in mt.schemes.visibility(scheme, 4, 4, 4).items():
        idx = group_index(step, (4, 4, 4))
        group_of = torch.empty(idx.numel(), dtype=torch.long)
        group_of[idx.flatten()] = torch.arange(idx.shape[0]).repeat_interleave(idx.shape[1])
        assert torch.equal(group_of[:, None] == group_of[None, :], mask), (scheme, step)

# %% [markdown]
# ## Building one attention step from scratch
#
# Every step is `LayerNorm → attention within groups → residual` (Fig. 1). Two details decide
# whether a checkpoint's numbers come out right. Both come from the official divided code
# (`timesformer/models/vit.py`, class `Block`, `attention_type='divided_space_time'`):
# * **the last step of a block** is the ViT attention. The CLS token is copied into every
#   group, and its `G` outputs are averaged (official: the spatial step, one copy per frame);
# * **earlier ("added") steps** leave the CLS token alone, and pass their output through an
#   extra `Linear(D, D)` (the official `temporal_fc`) before the residual.
#
# The official code has only space, joint and divided attention. For axial (time → width →
# height) and local-global (local → global) the paper says only that every step learns its own
# query/key/value matrices (§3). This package applies the divided rule — every step but the
# last is an added step with its own `norm`, `qkv`, `proj` and extra `Linear`, and leaves the
# CLS token out. That is **our extension** of the divided rule; the paper's Table 1 supports
# it: with it, the package's parameter counts equal the paper's for all five schemes (lesson
# 05 counts them).
#
# Our step uses the package's parameter names (`norm`, `attn.qkv`, `attn.proj`, `extra`), so
# `load_state_dict` copies a package step into ours. The attention itself is the package's
# `MultiHeadAttention`, which lesson 02 rebuilt and checked; what is new here is the grouping
# and the CLS policy.


# %%
class MyStep(nn.Module):
    """LayerNorm -> attention within the groups of `grouping` -> (extra Linear) -> residual."""

    def __init__(self, D: int, heads: int, grouping: str, added: bool):
        super().__init__()
        self.grouping, self.added = grouping, added
        self.norm = nn.LayerNorm(D, eps=1e-6)
        self.attn = MultiHeadAttention(D, heads)
        self.extra = nn.Linear(D, D) if added else None

    def forward(self, x, grid):
        """x: (B, 1 + T·N, D) with CLS first -> same shape; also the weights (B, G, h, L, L)."""
        B, _, D = x.shape
        idx = group_index(self.grouping, grid)  # (G, L)
        G, L = idx.shape
        cls, patches = x[:, :1], x[:, 1:]
        groups = self.norm(patches)[:, idx.flatten()].reshape(B * G, L, D)  # gather the groups
        if not self.added:  # the CLS token joins every group
            cls_copies = self.norm(cls).repeat_interleave(G, dim=0)  # (B·G, 1, D)
            groups = torch.cat([cls_copies, groups], dim=1)  # (B·G, 1 + L, D)
        out, weights = self.attn(groups, need_weights=True)  # weights (B·G, heads, L, L)
        update = torch.zeros_like(patches)
        if self.added:
            update[:, idx.flatten()] = out.reshape(B, G * L, D)  # scatter back to token order
            x = torch.cat([cls, patches + self.extra(update)], dim=1)
        else:
            update[:, idx.flatten()] = out[:, 1:].reshape(B, G * L, D)
            cls_update = out[:, 0].reshape(B, G, D).mean(1, keepdim=True)  # average the copies
            x = x + torch.cat([cls_update, update], dim=1)
        return x, weights.reshape(B, G, *weights.shape[1:])  # (B, G, heads, L', L')


# %% [markdown]
# ### The paper's equations, beside the code
#
# In lesson 03's notation (paper `F`, `p` = course `T`, `n`), with `q`, `k` the query and key
# of head `a` in block `ℓ` (Eqs. 2–4), the paper's attention weights of query `(p, t)` are
#
# $$\text{joint (Eq. 5):}\quad \alpha_{(p,t)} = \mathrm{SM}\Big(\tfrac{q_{(p,t)}^\top}{\sqrt{D_h}}
#   \big[k_{(0,0)}\ \{k_{(p',t')}\}_{p'=1..N,\ t'=1..F}\big]\Big)$$
#
# $$\text{space (Eq. 6):}\quad \alpha^{\text{space}}_{(p,t)} = \mathrm{SM}\Big(\tfrac{q_{(p,t)}^\top}{\sqrt{D_h}}
#   \big[k_{(0,0)}\ \{k_{(p',t)}\}_{p'=1..N}\big]\Big)$$
#
# $$\text{time (Eq. 11):}\quad \alpha^{\text{time}}_{(p,t)} = \mathrm{SM}\Big(\tfrac{q_{(p,t)}^\top}{\sqrt{D_h}}
#   \big[k_{(0,0)}\ \{k_{(p,t')}\}_{t'=1..F}\big]\Big)$$
#
# In `MyStep` these are `self.attn(groups)`: the groups of `group_index("joint" | "space" |
# "time")` are exactly the key sets in brackets, and `MultiHeadAttention` computes
# `softmax(q·kᵀ / √D_h)`. One difference, the CLS rule (lesson 03): the added time step
# leaves `k_(0,0)` out (official `vit.py`, `Block`), so its softmax runs over the `F` keys
# only. The next cell computes Eq. 11 (without the CLS key) and Eq. 6 (with it) by hand for
# one query and compares them with `MyStep`'s weights.

# %%
from mini_timesformer.attention import split_heads  # noqa: E402

D_demo, heads_demo, grid_demo = 16, 2, (3, 2, 2)  # T = F = 3 frames, N = 4 patches
T_d, N_d = grid_demo[0], grid_demo[1] * grid_demo[2]
x_demo = torch.randn(1, 1 + T_d * N_d, D_demo)  # (B, 1 + T·N, D), CLS first
t_q, n_q, a = 1, 2, 0  # query: patch n = p − 1 of frame t, head a
for grouping, added in (("time", True), ("space", False)):
    step = MyStep(D_demo, heads_demo, grouping, added).eval()
    with torch.no_grad():
        _, w = step(x_demo, grid_demo)  # (B, G, heads, L', L')
        q, k, _ = split_heads(step.attn.qkv(step.norm(x_demo)), heads_demo)  # (B, heads, L, d_h)
    query = 1 + t_q * N_d + n_q  # token index of (n, t)
    if grouping == "time":  # Eq. 11 without k_(0,0): keys (n, t') for every frame t'
        keys = [1 + t * N_d + n_q for t in range(T_d)]
    else:  # Eq. 6: k_(0,0), then keys (n', t) for every patch n' of frame t
        keys = [0] + [1 + t_q * N_d + n for n in range(N_d)]
    by_hand = torch.softmax(q[0, a, query] @ k[0, a, keys].T / (D_demo // heads_demo) ** 0.5, -1)
    idx = group_index(grouping, grid_demo)  # (G, L) the groups MyStep used
    g, row = [(g, r.tolist().index(query - 1)) for g, r in enumerate(idx) if query - 1 in r][0]
    row += 0 if added else 1  # the last step puts the CLS copy first in its group
    torch.testing.assert_close(w[0, g, a, row], by_hand)
    print(
        f"Eq. {'11' if added else '6'} by hand == MyStep's {grouping} weights for query "
        f"(n={n_q}, t={t_q}): {by_hand.numpy().round(3)}"
    )

# %% [markdown]
# ## Check: every step of every scheme, with copied weights
#
# The package zero-initialises the extra `Linear`, as the official `vit.py` does for
# `temporal_fc` (lesson 05 explains why), which would make every added step an identity — a
# test that could not fail. So we first give the package's steps random extra weights, then
# copy each step into ours and compare outputs and weights.


# %%
cfg = mt.TimeSformerConfig.preset("nano")  # D = 64, 4 heads, 8 frames of 4×4 patches
x = torch.randn(2, 1 + cfg.num_frames * cfg.num_patches, cfg.embed_dim)
grid = (cfg.num_frames, cfg.grid_size, cfg.grid_size)
for scheme in mt.SCHEMES:
    block = mt.TimeSformer(cfg.replace(attention=scheme)).blocks[0]
    h = x
    for name, step in block.steps.items():
        if step.extra is not None:
            nn.init.normal_(step.extra.weight, std=0.2)
            nn.init.normal_(step.extra.bias, std=0.2)
        mine = MyStep(cfg.embed_dim, cfg.num_heads, name, added=step.extra is not None)
        mine.load_state_dict(step.state_dict())  # copied weights
        with torch.no_grad():
            expected, expected_w = step(h, grid, need_weights=True)
            got, got_w = mine(h, grid)
        torch.testing.assert_close(got, expected)
        torch.testing.assert_close(got_w, expected_w)
        if step.extra is not None:  # property: an added step never changes the CLS token
            torch.testing.assert_close(got[:, 0], h[:, 0])
        h = expected
    print(f"{scheme:>12}: steps {list(block.steps)} match the package")

# %% [markdown]
# The whole block adds the MLP (`LayerNorm → Linear(D, 4D) → GELU → Linear(4D, D)` with a
# residual). We check one full block of the divided scheme, the paper's choice.


# %%
class MyMLP(nn.Module):
    def __init__(self, D: int):
        super().__init__()
        self.fc1, self.fc2 = nn.Linear(D, 4 * D), nn.Linear(4 * D, D)

    def forward(self, x):
        return self.fc2(nn.functional.gelu(self.fc1(x)))


class MyBlock(nn.Module):
    """The scheme's steps, then LayerNorm -> MLP -> residual."""

    def __init__(self, D: int, heads: int, scheme: str):
        super().__init__()
        names = STEPS[scheme]
        self.steps = nn.ModuleDict(
            {n: MyStep(D, heads, n, added=i < len(names) - 1) for i, n in enumerate(names)}
        )
        self.norm = nn.LayerNorm(D, eps=1e-6)
        self.mlp = MyMLP(D)

    def forward(self, x, grid):
        for step in self.steps.values():
            x, _ = step(x, grid)
        return x + self.mlp(self.norm(x))


package_block = mt.TimeSformer(cfg.replace(attention="divided")).blocks[0]
nn.init.normal_(package_block.steps["time"].extra.weight, std=0.2)
my_block = MyBlock(cfg.embed_dim, cfg.num_heads, "divided")
my_block.load_state_dict(package_block.state_dict())
with torch.no_grad():
    torch.testing.assert_close(my_block(x, grid), package_block(x, grid)[0])
print("a full divided block matches the package")


# %% [markdown]
# ## Why space-only attention cannot see the order of frames
#
# Attention is permutation-equivariant (lesson 02). In the `space` scheme the frames never
# meet: each frame is a separate ViT and the frames' tokens are averaged at the end — so
# shuffling the frames cannot change the output. The other schemes *can* mix frames, but every
# grouping except local-global's stride-2 global step treats the frames of a group as a set
# too. What tells them apart is the **time embedding**: with it at zero (as the package — like
# the official `vit.py` — initialises it) even divided attention is blind to frame order; with
# a non-zero one, order matters. This random-weight check shows only the *mechanism* behind
# the paper's Table 4 (§4.4), which trains models with and without the embeddings and
# compares accuracy; lesson 12 trains that ablation in miniature.


# %%
def order_sensitivity(scheme: str, time_stds=(0.0, 0.5)) -> list[float]:
    """Largest |logit change| when the frames are shuffled, relative to the logits' size,
    for each standard deviation of the time embedding."""
    torch.manual_seed(1)
    model = mt.TimeSformer(cfg.replace(attention=scheme, num_classes=10)).eval()
    video = torch.randn(3, cfg.num_frames, 3, cfg.image_size, cfg.image_size)
    changes = []
    with torch.no_grad():
        for block in model.blocks:  # as after training: the added steps are not identity
            for step in block.steps.values():
                if step.extra is not None:
                    step.extra.weight.normal_(std=0.05)
        for std in time_stds:
            model.embed.time_embed.zero_()
            if std:
                model.embed.time_embed.normal_(std=std)
            a, b = model(video), model(video[:, order])  # original vs shuffled frames
            changes.append(((a - b).abs().max() / a.abs().max()).item())
    return changes


order = torch.randperm(cfg.num_frames, generator=torch.Generator().manual_seed(3))
print(f"frame order after shuffling: {order.tolist()}")
results = {s: order_sensitivity(s) for s in mt.SCHEMES}
for s, (zero, learned) in results.items():
    print(f"{s:>12}: change when shuffled  time embedding 0: {zero:.1e}   non-zero: {learned:.1e}")
tolerance = 1e-5
for s in ("space", "joint", "divided", "axial"):
    assert results[s][0] < tolerance, s  # blind to order without a time embedding
assert results["space"][1] < tolerance  # space never uses the time embedding
for s in ("joint", "divided", "local_global", "axial"):
    assert results[s][1] > 100 * tolerance, s  # order matters once time is embedded

# %%
fig, ax = plt.subplots(figsize=(7, 3.2))
xs = torch.arange(len(mt.SCHEMES))
ax.bar(xs - 0.2, [max(v[0], 1e-9) for v in results.values()], 0.4, label="time embedding = 0")
ax.bar(xs + 0.2, [max(v[1], 1e-9) for v in results.values()], 0.4, label="non-zero time embedding")
ax.axhline(tolerance, color="k", ls=":", lw=1, label="assert tolerance (float round-off)")
ax.set_yscale("log")
ax.set_xticks(xs, mt.SCHEMES)
ax.set_ylabel("relative logit change")
ax.set_title("Shuffling the frames of a clip")
ax.legend(fontsize=8)
plt.show()

# %% [markdown]
# Local-global changes even without a time embedding: its global step groups tokens by the
# *parity* of their frame index, so a shuffle that moves a frame from an even to an odd slot
# changes who attends to whom — an accidental, weak source of order information.
#
# ## Questions
# 1. In divided attention the temporal step comes first. What would change in the official
#    checkpoints' numbers if you ran their blocks space then time? (Trained in that order, the
#    paper reports 0.5 points less on K400 and SSv2, §4.7.)
# 2. Why does the package average the CLS token's `G` copies rather than, say, keeping the first?
# 3. Which schemes can be order-blind? What single tensor fixes that?
# 4. Which parts of `MyStep` would you change to follow a *different* extension of the divided
#    rule to axial attention (e.g. no extra `Linear`)? Which of the paper's numbers would then
#    disagree with the package?
#
# **Exercises** — `exercises/03_divided_attention.ipynb` (the time and space steps of the
# paper's best scheme) and `exercises/04_axial_attention.ipynb` (time → width → height); each
# auto-check compares your steps with the package.
# Next: `05_the_timesformer.ipynb`.
