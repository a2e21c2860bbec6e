# %% [markdown]
# # 03 · Space-time attention: who attends to whom
#
# **Objectives** — after this lesson you can
# 1. describe each of the paper's five attention schemes as a *grouping* of the `T·N` patch
#    tokens — which tokens a query may look at in each step;
# 2. build every grouping from scratch with index arithmetic and check it against the
#    package's visibility masks;
# 3. reproduce the paper's Fig. 2 from those masks;
# 4. count the keys one query is compared with, per scheme, and match the paper's formulas.
#
# **Time budget** — 25 min; compute a few seconds on a 2-core CPU.
#
# Paper: §3 "Space-Time Self-Attention Models", Fig. 1 (the blocks) and Fig. 2 (what a query
# patch attends to). Lesson 04 turns these groupings into attention steps and blocks.
#
# Research questions (lesson 00): RQ1 (which scheme), RQ2 (keys per query).

# %%
# %matplotlib inline
import itertools
import os

import matplotlib.pyplot as plt
import torch
from matplotlib.colors import ListedColormap
from matplotlib.patches import Patch

import mini_timesformer as mt
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
# ### Notation: the paper's symbols and the course's names
#
# | paper (§3) | course / package | meaning |
# |---|---|---|
# | `F` | `T`, `cfg.num_frames` | frames per clip |
# | `t = 1 … F` | `t = 0 … T−1` | frame index |
# | `p = 1 … N` | `n = h·W' + w = 0 … N−1` | patch index within a frame (row-major) |
# | `N = HW/P²` | `N`, `cfg.num_patches` | patches per frame |
# | `D` | `D`, `cfg.embed_dim` | token width |
# | `A`, `D_h = D/A` | `num_heads`, `head_dim` | heads, width per head |
# | `(0, 0)` | token 0 | the CLS token |
# | `z^(ℓ)_(p,t)` | `x[:, 1 + t·N + n]` | token of patch `p` of frame `t` after block `ℓ` |
#
# **The CLS rule** (official `timesformer/models/vit.py`, class `Block`; our extension to axial
# and local-global): in the **last** step of a block the CLS token joins every group (it is
# copied into each, and its copies' outputs are averaged); **earlier** steps leave it out. So
# a query meets the CLS key once per block, in the last step. The paper's equations instead
# list the CLS key `k_(0,0)` in every step (Eq. 5, 6 and 11); lesson 04 writes them out beside
# the code that computes them.
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
# The paper gives local-global's sizes (§3): local attention over the neighbouring
# `F × H/2 × W/2` patches (all frames, half the patch grid each way), then a global attention
# over the whole clip at stride 2 in time, height and width. It leaves open only whether
# "neighbouring" means fixed windows or a sliding neighbourhood. Our choice: fixed windows —
# the 2×2 quadrants above — so both steps are partitions (documented in `mt.schemes`).
#
# Which is official: the official code (`timesformer/models/vit.py`, `attention_type`
# `'space_only'`, `'joint_space_time'`, `'divided_space_time'`) implements space, joint and
# divided only. The axial and local-global groupings follow the paper's §3 and Fig. 2; how
# this package runs them (CLS policy, extra `Linear`, lesson 04) is our extension of the
# official divided rule.

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
    print(
        f"{step:>6}: G = {idx.shape[0]:2d} groups of L = {idx.shape[1]:2d}; group 0 = "
        f"{idx[0].tolist()}"
    )

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
    colours = [
        "white",
        "tab:green",
        "tab:orange",
        "tab:purple",
        "gold",
        "tab:cyan",
        "tab:pink",
        "tab:olive",
        "tab:blue",
    ]
    frames = [f for f in (qt - 1, qt, qt + 1) if 0 <= f < T]
    fig, axes = plt.subplots(
        len(schemes), len(frames), figsize=(2.4 * len(frames), 2.3 * len(schemes))
    )
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
        handles = [
            Patch(color=colours[k], label=" & ".join(n for s, n in enumerate(names) if k >> s & 1))
            for k in present
        ]
        axes[r, -1].legend(
            handles=handles,
            loc="center left",
            bbox_to_anchor=(1.02, 0.5),
            fontsize=8,
            title="seen by step",
        )
    fig.suptitle("Query patch (blue) and the keys it attends to, per step (cf. paper Fig. 2)")
    fig.tight_layout()
    return fig


figure2()
plt.show()

# %% [markdown]
# ## Comparisons per query
#
# Summing a mask row counts the keys one query is compared with. The last step of a block also
# sees the CLS token (the CLS rule above; lesson 04 builds it). At the paper's size — 8 frames of 224×224 with
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
    print(
        f"{scheme:>12}: keys per step {per_step} + CLS = {counts[scheme]:5d}"
        f"   paper: {paper.get(scheme, '—')}"
    )
print(f"joint / divided: {counts['joint'] / counts['divided']:.1f}× more comparisons per query")

# %% [markdown]
# Our divided count is one less than the paper's formula: the paper counts the CLS token in
# both steps, while the official code (and this package) leave the CLS token out of the
# temporal step — it only takes part in the spatial step (lesson 04). Joint matches exactly.
#
# ## Questions
# 1. For axial attention at 8×224, how many keys does one query see per block? Why can the
#    information of any patch still reach any other patch after one block?
# 2. Which grouping has the fewest keys per query? Which patches can *never* influence each
#    other within one block of that scheme?
# 3. The local windows span all frames. How many tokens does one local group hold at 8×224,
#    and how does that compare with one `space` group?
# 4. Why must the groups of a step form a partition for "one batched attention over groups" to
#    work? What would break for a sliding neighbourhood?
#
# **Exercises** — `exercises/04_axial_attention.ipynb` (the width and height steps) and
# `exercises/05_local_global_attention.ipynb` (windows and the stride-2 global groups, on
# tokens in the official layout); each auto-check compares yours with the package.
# Next: `04_attention_steps.ipynb`.
