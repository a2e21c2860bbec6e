# %% [markdown]
# # 03 · Space-time attention: the five schemes
#
# **Objectives** — after this lesson you can
# 1. describe each of the paper's five attention schemes as a *grouping* of the `T·N` patch
#    tokens — which tokens a query may look at in each step;
# 2. build every grouping from scratch with index arithmetic, and an attention step with the
#    official CLS policy, and check both against the package with copied weights;
# 3. reproduce the paper's Fig. 2 from the visibility masks and count comparisons per query;
# 4. explain, and demonstrate, why attention alone cannot see the order of frames.
#
# **Time budget** — 45 min; compute under a minute on a 2-core CPU.
#
# Paper: §3 "Space-Time Self-Attention Models", Fig. 1 (the blocks) and Fig. 2 (what a query
# patch attends to).

# %%
# %matplotlib inline
import itertools
import os

import matplotlib.pyplot as plt
import torch
from matplotlib.colors import ListedColormap
from matplotlib.patches import Patch
from torch import nn

import mini_timesformer as mt
from mini_timesformer.attention import MultiHeadAttention
from mini_timesformer.schemes import STEPS

SMOKE = os.environ.get("MINI_TIMESFORMER_SMOKE") == "1"
_ = torch.manual_seed(0)

# %% [markdown]
# ## Schemes as groupings
#
# Full ("joint") attention over all `T·N` tokens of a clip costs `(T·N)²` comparisons per head.
# The paper's cheaper schemes restrict each query to a subset of keys. In every one of them the
# subsets form a **partition**: tokens fall into groups and attend only within their group, so
# one step is a batched attention over groups. A scheme is an ordered list of such steps.
#
# A patch token has coordinates `(t, h, w)` (frame, row, column in the `H'×W'` grid) and index
# `t·N + h·W' + w` (time-major, lesson 01). A grouping is then just a **key function**: two
# tokens are in the same group when their keys agree.
#
# | step | key of token `(t, h, w)` | the query sees |
# |---|---|---|
# | joint | — (one group) | every patch of the clip |
# | space | `t` | the patches of its own frame |
# | time | `(h, w)` | the same location in every frame |
# | width | `(t, h)` | its row in its frame |
# | height | `(t, w)` | its column in its frame |
# | local | `(h ÷ (H'/2), w ÷ (W'/2))` | its quadrant of the grid, in all frames |
# | global | `(t mod 2, h mod 2, w mod 2)` | the whole clip at stride 2 |
#
# The paper leaves the local-global details open; the package's choice (local = 2×2 quadrants
# spanning all frames, global = stride 2 in t, h and w) is documented in `mt.schemes`.

# %%
print("schemes and their steps (package):")
for scheme in mt.SCHEMES:
    print(f"  {scheme:>12}: {' -> '.join(STEPS[scheme])}")


def group_key(step: str, t: int, h: int, w: int, Hp: int, Wp: int):
    """The key that decides which group token (t, h, w) belongs to in this step."""
    return {
        "joint": (),
        "space": (t,),
        "time": (h, w),
        "width": (t, h),
        "height": (t, w),
        "local": (h // (Hp // 2), w // (Wp // 2)),
        "global": (t % 2, h % 2, w % 2),
    }[step]


def group_index(step: str, grid) -> torch.Tensor:
    """(G, L) token indices: group g holds tokens index[g], in increasing index order."""
    T, Hp, Wp = grid
    groups = {}
    for t, h, w in itertools.product(range(T), range(Hp), range(Wp)):
        index = t * Hp * Wp + h * Wp + w  # time-major token index
        groups.setdefault(group_key(step, t, h, w, Hp, Wp), []).append(index)
    return torch.tensor([groups[k] for k in sorted(groups)])  # groups in key order


grid = (4, 4, 4)  # T, H', W'
for step in ("space", "time", "local", "global"):
    idx = group_index(step, grid)
    print(f"{step:>6}: G = {idx.shape[0]:2d} groups of L = {idx.shape[1]:2d}; group 0 = "
          f"{idx[0].tolist()}")

# %% [markdown]
# ## Check 1: which token sees which — against `mt.schemes.visibility`
#
# Query `i` sees key `j` in a step exactly when they share a group. We build that boolean
# `(T·N) × (T·N)` matrix from our groups and compare it with the package's, for every scheme,
# on a few grids (including a single frame).

# %%
def my_visibility(scheme: str, grid) -> dict:
    masks = {}
    for step in STEPS[scheme]:
        idx = group_index(step, grid)
        group_of = torch.empty(idx.numel(), dtype=torch.long)
        group_of[idx.flatten()] = torch.arange(idx.shape[0]).repeat_interleave(idx.shape[1])
        masks[step] = group_of[:, None] == group_of[None, :]  # (T·N, T·N) bool
    return masks


for scheme, grid in itertools.product(mt.SCHEMES, [(4, 4, 4), (2, 6, 4), (1, 2, 2)]):
    ours, theirs = my_visibility(scheme, grid), mt.schemes.visibility(scheme, *grid)
    assert list(ours) == list(theirs), scheme
    for step, mask in ours.items():
        assert torch.equal(mask, theirs[step]), (scheme, step, grid)
        # properties of a partition: reflexive, symmetric, transitive
        assert mask.diagonal().all() and torch.equal(mask, mask.T)
        assert torch.equal((mask.float() @ mask.float()) > 0, mask)
print("our visibility masks equal the package's for all schemes and grids")

# %% [markdown]
# ## The paper's Fig. 2, from the masks
#
# Fig. 2 of the paper shows, for one query patch (blue) in frame `t`, the patches it attends
# to in frames `t−1`, `t` and `t+1`, with a colour per attention step. We draw the same thing
# for a clip of 4 frames of 8×8 patches.

# %%
def figure2(schemes=mt.SCHEMES, grid=(4, 8, 8), query=(1, 3, 4)):
    T, Hp, Wp = grid
    qt, qh, qw = query
    q = qt * Hp * Wp + qh * Wp + qw
    colours = ["white", "tab:green", "tab:orange", "tab:purple", "gold", "tab:cyan",
               "tab:pink", "tab:olive", "tab:blue"]
    frames = [f for f in (qt - 1, qt, qt + 1) if 0 <= f < T]
    fig, axes = plt.subplots(len(schemes), len(frames), figsize=(2.4 * len(frames),
                                                                 2.3 * len(schemes)))
    for r, scheme in enumerate(schemes):
        masks = mt.schemes.visibility(scheme, *grid)
        code = torch.zeros(T * Hp * Wp, dtype=torch.long)
        for s, mask in enumerate(masks.values()):  # bit s set: step s sees the token
            code += mask[q].long() << s
        code[q] = 8  # the query itself
        image = code.view(T, Hp, Wp)
        for c, f in enumerate(frames):
            ax = axes[r, c]
            ax.imshow(image[f], cmap=ListedColormap(colours), vmin=0, vmax=8)
            ax.set_xticks([x - 0.5 for x in range(Wp)], minor=True)
            ax.set_yticks([y - 0.5 for y in range(Hp)], minor=True)
            ax.grid(which="minor", color="k", lw=0.3)
            ax.tick_params(which="both", length=0, labelbottom=False, labelleft=False)
            if r == 0:
                ax.set_title(f"frame t{f - qt:+d}" if f != qt else "frame t")
        axes[r, 0].set_ylabel(scheme)
        names = list(masks)
        present = sorted(set(code.tolist()) - {0, 8})
        handles = [Patch(color=colours[k], label=" & ".join(n for s, n in enumerate(names)
                                                                if k >> s & 1))
                   for k in present]
        axes[r, -1].legend(handles=handles, loc="center left", bbox_to_anchor=(1.02, 0.5),
                           fontsize=8, title="seen by step")
    fig.suptitle("Query patch (blue) and the keys it attends to, per step (cf. paper Fig. 2)")
    fig.tight_layout()
    return fig


figure2()
plt.show()

# %% [markdown]
# ## Comparisons per query
#
# Summing a mask row counts the keys one query is compared with. The last step of a block also
# sees the CLS token (see the CLS policy below). At the paper's size — 8 frames of 224×224 with
# 16×16 patches — the paper gives `NT + 1` comparisons for joint and `N + T + 2` for divided
# attention (§3).

# %%
base = mt.TimeSformerConfig.preset("base")
grid_base = (base.num_frames, base.grid_size, base.grid_size)
N, T = base.num_patches, base.num_frames
paper = {"joint": N * T + 1, "divided": N + T + 2}  # the paper's formulas
counts = {}
for scheme in mt.SCHEMES:
    masks = mt.schemes.visibility(scheme, *grid_base)
    q = 0  # the counts are the same for every query: groups have equal sizes
    per_step = [int(m[q].sum()) for m in masks.values()]
    counts[scheme] = sum(per_step) + 1  # + the CLS key in the last step
    cfg = base.replace(attention=scheme)
    assert counts[scheme] == mt.cost.keys_per_query(cfg), scheme
    assert all(int(m.sum(1).min()) == int(m.sum(1).max()) for m in masks.values())
    print(f"{scheme:>12}: keys per step {per_step} + CLS = {counts[scheme]:5d}"
          f"   paper: {paper.get(scheme, '—')}")
print(f"joint / divided: {counts['joint'] / counts['divided']:.1f}× more comparisons per query")

# %% [markdown]
# Our divided count is one less than the paper's formula: the paper counts the CLS token in
# both steps, while the official code (and this package) leave the CLS token out of the
# temporal step — it only takes part in the spatial step. Joint matches exactly.
#
# ## Building one attention step from scratch
#
# Every step is `LayerNorm → attention within groups → residual` (Fig. 1). Two details decide
# whether a checkpoint's numbers come out right (official code, see `mt.schemes`):
# * **the last step of a block** is the ViT attention. The CLS token is copied into every
#   group, and its `G` outputs are averaged;
# * **earlier ("added") steps** leave the CLS token alone, and pass their output through an
#   extra `Linear(D, D)` (the official `temporal_fc`) before the residual.
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
# ## Check 2: every step of every scheme, with copied weights
#
# The package zero-initialises the extra `Linear` (lesson 04 explains why), which would make
# every added step an identity — a test that could not fail. So we first give the package's
# steps random extra weights, then copy each step into ours and compare outputs and weights.

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
        self.steps = nn.ModuleDict({n: MyStep(D, heads, n, added=i < len(names) - 1)
                                    for i, n in enumerate(names)})
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
# too. What tells them apart is the **time embedding**: with it at zero (as the package
# initialises it) even divided attention is blind to frame order; with a non-zero one, order
# matters. This is the paper's Table 4 in one experiment (lesson 09 trains it).

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
# 1. For axial attention at 8×224, how many keys does one query see per block? Why can the
#    information of any patch still reach any other patch after one block?
# 2. In divided attention the temporal step comes first. What would change in the official
#    checkpoints' numbers if the order were space then time?
# 3. Why does the package average the CLS token's `G` copies rather than, say, keeping the first?
# 4. Which schemes can be order-blind? What single tensor fixes that?
#
# **Exercises** — `exercises/03_divided_attention.ipynb` (the time and space steps of the
# paper's best scheme), `exercises/04_axial_attention.ipynb` (time → width → height) and
# `exercises/05_local_global_attention.ipynb` (windows and the stride-2 global groups); each
# auto-check compares your groupings and steps with the package.
# Next: `04_the_timesformer.ipynb`.
