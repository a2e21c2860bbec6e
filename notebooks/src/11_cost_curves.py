# %% [markdown]
# # 11 · Cost curves: FLOPs and memory against resolution and clip length
#
# **Objectives** — after this lesson you can
# 1. write the multiply-add count of joint and divided attention as a function of frames `T`
#    and patches `N`, and check it against the package;
# 2. reproduce the paper's Fig. 3 (cost vs frame size and vs number of frames) for all five
#    schemes, and find where divided attention becomes cheaper than joint attention;
# 3. explain why joint attention runs out of GPU memory at 448 px or 32 frames (§4.1), and
#    what fused attention kernels change — and what they do not;
# 4. measure time and memory on your own machine and compare them with the analytic curves.
#
# **Time budget** — 30 min; compute under a minute on a 2-core CPU in smoke mode, about two
# minutes in full mode (which measures bigger clips).
#
# Paper: §4.1 "Analysis of Self-Attention Schemes", Fig. 3; Tables 2 and 5 (TFLOPs).
#
# Research questions (lesson 00): RQ2 (cost at higher resolution and for more frames).

# %%
# %matplotlib inline
import os

import matplotlib.pyplot as plt
import torch
from IPython.display import display

import mini_timesformer as mt
from mini_timesformer.checks.measured import expect
from mini_timesformer.perf import curves, measure
from mini_timesformer.runtime import pick_device
from mini_timesformer.viz import cost_figures

SMOKE = os.environ.get("MINI_TIMESFORMER_SMOKE") == "1"
# measured peak ÷ hand-counted memory at the largest measured size, full mode on a CPU
# (measured here: 1.16–1.32, see the last section); smoke mode and other devices only print it
MEASURED = not SMOKE and str(pick_device("auto")) == "cpu"
HAND_LOW, HAND_HIGH = 0.9, 2.0
_ = torch.manual_seed(0)

# %% [markdown]
# ## Counting multiply-adds by hand
#
# One multiply-add (MAC) is one "FLOP" in the paper's tables: the paper does not name its
# counter, but its TFLOPs equal our MAC counts (lesson 05) — fvcore's convention. For one
# clip with `T` frames of `N` patches, width `D`, `L` blocks and an MLP of width `4D`:
#
# * patch embedding: `T·N · D · 3P²`;
# * an attention step over `G` groups of `ℓ` tokens: `qkv` `3D²` and projection `D²` per token,
#   plus `Q Kᵀ` and `A V`, `2·G·ℓ²·D` — the only term that is quadratic in the group length;
# * an added step's extra `Linear`: `D²` per patch token;
# * the MLP: `8D²` per token; the head `D·K`.
#
# Joint attention is one group of `ℓ = T·N + 1` tokens. Divided attention is a temporal step
# (`N` groups of `T`, no CLS) and a spatial step (`T` groups of `N + 1`, the CLS copied in).


# %%
def macs_by_hand(scheme: str, T: int, size: int, D=768, L=12, P=16, K=400) -> int:
    """Multiply-adds of one forward pass of a ViT-B TimeSformer (joint or divided)."""
    N = (size // P) ** 2
    embed = T * N * D * 3 * P * P
    if scheme == "joint":
        steps = [(1, T * N + 1, False)]  # (groups, tokens per group, added step?)
    elif scheme == "divided":
        steps = [(N, T, True), (T, N + 1, False)]
    else:
        raise ValueError(f"by hand only for joint and divided, got {scheme!r}")
    block = 0
    for G, length, added in steps:
        block += G * length * 4 * D * D  # qkv (3D²) + output projection (D²) per token
        block += 2 * G * length**2 * D  # Q·Kᵀ and A·V
        block += T * N * D * D if added else 0  # the extra Linear on patch tokens
    block += (T * N + 1) * 8 * D * D  # MLP: D -> 4D -> D
    return embed + L * block + D * K


for scheme in ("joint", "divided"):
    for T, size in [(8, 224), (8, 448), (32, 224), (96, 224)]:
        cfg = mt.TimeSformerConfig.preset("base", attention=scheme, num_frames=T, image_size=size)
        assert macs_by_hand(scheme, T, size) == mt.cost.macs(cfg), (scheme, T, size)
print("hand-counted MACs == mt.cost.macs for joint and divided at four clip sizes")

# %% [markdown]
# ## The paper's Fig. 3
#
# Fig. 3 plots the cost of joint and divided attention for growing frame size (8 frames) and
# growing number of frames (224 px). Joint attention's quadratic term `(T·N)²·D` takes over as
# the clip grows; divided attention's grows as `T·N·(T + N)·D`.

# %%
sizes = list(range(224, 561, 16 if not SMOKE else 56))
frames = [8, 16, 24, 32, 48, 64, 80, 96]
by_size = {s: [macs_by_hand(s, 8, px) / 1e12 for px in sizes] for s in ("joint", "divided")}
by_frames = {s: [macs_by_hand(s, T, 224) / 1e12 for T in frames] for s in ("joint", "divided")}
crossing = next(px for px, j, d in zip(sizes, by_size["joint"], by_size["divided"]) if d < j)
print(f"at 8 frames, divided attention is cheaper than joint from {crossing} px on")
for px in (224, 448):
    i = sizes.index(px) if px in sizes else None
    if i is not None:
        ratio = by_size["joint"][i] / by_size["divided"][i]
        print(
            f"  {px} px: joint {by_size['joint'][i]:.2f} vs divided {by_size['divided'][i]:.2f} "
            f"TMACs per view ({ratio:.2f}×)"
        )
assert by_size["divided"][0] > by_size["joint"][0]  # at 224 px joint is (slightly) cheaper
assert by_size["divided"][-1] < by_size["joint"][-1] / 1.5  # at 560 px divided is far cheaper

fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
for scheme, colour in (("joint", "tab:red"), ("divided", "tab:blue")):
    axes[0].plot(sizes, by_size[scheme], "o-", color=colour, label=scheme)
    axes[1].plot(frames, by_frames[scheme], "o-", color=colour, label=scheme)
axes[0].set(xlabel="frame size (px), 8 frames", ylabel="TFLOPs per view (1 MAC = 1 FLOP)")
axes[1].set(xlabel="number of frames, 224 px", ylabel="TFLOPs per view (1 MAC = 1 FLOP)")
axes[0].axvline(crossing, color="k", lw=0.7, ls=":")
for ax in axes:
    ax.legend()
    ax.grid(alpha=0.3)
fig.suptitle("Joint vs divided space-time attention, ViT-B (cf. paper Fig. 3)")
fig.tight_layout()
plt.show()

# %% [markdown]
# The package's `mt.curves` extends Fig. 3 to all five schemes, and adds parameters and memory
# (local-global is missing at 336 px: a 21×21 patch grid cannot be cut into 2×2 quadrants).

# %%
rows = curves.sweep()  # ViT-B: sizes 224..560 at 8 frames, frames 8..96 at 224 px
assert curves.config_at("base", "local_global", 8, 336) is None  # 336 / 16 = 21 patches: odd
for row in rows:
    if row["scheme"] in ("joint", "divided"):
        T, px = row["frames"], row["size"]
        assert abs(row["gmacs"] - macs_by_hand(row["scheme"], T, px) / 1e9) < 1e-6
display(cost_figures.plot_cost_curves(rows))

# %% [markdown]
# ## Memory: why joint attention does not fit (§4.1)
#
# The paper reports a GPU memory overflow for joint attention once frames reach 448 px or clips
# 32 frames, while divided attention fits (§4.1). Its GPUs are Tesla V100s (§4.2, Table 2); the
# paper does not state their memory, so the 32 GB V100 below is our assumption. The reason is
# the attention matrix. Eager attention stores the softmax of the `ℓ × ℓ` scores of every head
# for the backward pass;
# for joint attention `ℓ = T·N + 1`, so the stored scores grow with `(T·N)²`.


# %%
def eager_scores_gib(scheme: str, T: int, size: int, heads=12, layers=12, P=16) -> float:
    """GiB of softmax probabilities kept for backward (fp32, one clip, all layers)."""
    N = (size // P) ** 2
    groups = [(1, T * N + 1)] if scheme == "joint" else [(N, T), (T, N + 1)]
    return layers * sum(G * heads * length**2 for G, length in groups) * 4 / 2**30


for scheme in ("joint", "divided"):
    for T, px in [(8, 224), (8, 448), (32, 224)]:
        print(
            f"{scheme:>8} {T:2d}×{px}: attention probabilities kept for backward "
            f"{eager_scores_gib(scheme, T, px):6.1f} GiB per clip"
        )

# %% [markdown]
# ## Activation memory by hand, tensor by tensor
#
# The probabilities are the largest item, not the only one. Autograd keeps, for the backward
# pass, whatever each operation needs to compute its gradients: a `Linear` keeps its input
# (∂W = xᵀ·∂y), a LayerNorm its input (and a mean and a deviation per token, too small to
# count), a GELU its input, `Q Kᵀ` keeps `q` and `k`, `A V` keeps `A` and `v`, and softmax keeps
# its output. Walking one block of divided attention with these rules — `tokens = 1 + T·N`, an
# attention step over `G` groups of `ℓ` tokens (`rows = G·ℓ`, CLS copies included), `h` heads:
#
# | kept for backward | numbers | kept by |
# |---|---|---|
# | the step's input (residual stream) | `tokens·D` | the step's LayerNorm |
# | the normalised, grouped tokens | `rows·D` | the `qkv` Linear |
# | `q`, `k`, `v` | `3·rows·D` | `Q Kᵀ` (q, k) and `A V` (v) |
# | eager: the probabilities `A`; fused: one log-sum-exp per query and head | `G·h·ℓ²` or `G·h·ℓ` | softmax and `A V`; the fused kernel |
# | the attention output, per head | `rows·D` | the fused kernel's backward |
# | the heads merged back, `(rows, D)` | `rows·D` | the output projection |
# | an added step: the projection's output on the patch tokens | `T·N·D` | the extra `Linear` |
# | MLP: its input, the normalised input, the `4D` hidden before and after GELU | `2·tokens·D + 2·tokens·4D` | LayerNorm, `fc1`, GELU, `fc2` |
#
# Eager attention also holds, for one layer at a time, the raw scores and their gradient next
# to the stored probabilities: a transient `2·G·h·ℓ²`. Everything is fp32 here: 4 bytes per
# number (under bf16 autocast most of these tensors take 2). This is the package's estimate
# (`mt.cost.activation_elements`); our choice of what to count — the big tensors, not every
# small buffer.


# %%
def activations_by_hand(scheme: str, T: int, size: int, fused: bool, D=768, L=12, h=12, P=16):
    """(kept-for-backward bytes, eager transient bytes) of one fp32 ViT-B clip."""
    N = (size // P) ** 2
    tokens = 1 + T * N
    steps = [(1, T * N + 1, False)] if scheme == "joint" else [(N, T, True), (T, N + 1, False)]
    block, transient = 0, 0
    for G, length, added in steps:
        rows = G * length
        block += tokens * D  # step input, kept by the LayerNorm
        block += rows * D  # normalised grouped tokens, kept by qkv
        block += 3 * rows * D  # q, k, v
        block += G * h * length * (1 if fused else length)  # log-sum-exp, or probabilities
        block += 2 * rows * D  # attention output per head, and merged (the projection's input)
        block += T * N * D if added else 0  # the extra Linear's input
        if not fused:
            transient = max(transient, 2 * G * h * length**2)  # scores and their gradient
    block += 2 * tokens * D + 2 * tokens * 4 * D  # MLP
    return 4 * L * block, 4 * transient  # fp32: 4 bytes a number


for scheme in ("joint", "divided"):
    for T, px in [(8, 224), (8, 448), (32, 224)]:
        cfg = curves.config_at("base", scheme, T, px)
        for fused in (False, True):
            kept, transient = activations_by_hand(scheme, T, px, fused)
            package = mt.cost.training_memory(cfg, batch=1, fused=fused)
            assert (kept, transient) == (package["activations"], package["transient"])
        eager_kept, _ = activations_by_hand(scheme, T, px, fused=False)
        scores = eager_scores_gib(scheme, T, px)
        print(
            f"{scheme:>8} {T:2d}×{px}: kept for backward {eager_kept / 2**30:6.1f} GiB eager "
            f"({scores / (eager_kept / 2**30):.0%} of it attention probabilities), "
            f"{activations_by_hand(scheme, T, px, True)[0] / 2**30:5.2f} GiB fused"
        )
print("hand-counted activations == mt.cost.training_memory, eager and fused, at three clips")

# %% [markdown]
# The package's `curves.training_memory` adds everything else a training step holds — weights,
# gradients, SGD momentum, the other activations — and `curves.max_batch` asks how many clips
# fit in 32 GB. Beside the paper's statement:

# %%
points = {
    "8×224": (8, 224),
    "8×448 (paper: joint OOM)": (8, 448),
    "32×224 (paper: joint OOM)": (32, 224),
}
fits = {}
for name, (T, px) in points.items():
    for scheme in ("joint", "divided"):
        cfg = curves.config_at("base", scheme, T, px)
        eager = mt.cost.training_memory(cfg, batch=1)["total"] / 2**30
        fused = mt.cost.training_memory(cfg, batch=1, fused=True)["total"] / 2**30
        fits[name, scheme] = mt.cost.max_batch(cfg)
        print(
            f"{name:>26} {scheme:>8}: one clip needs {eager:5.1f} GiB eager, {fused:4.1f} GiB "
            f"fused; clips that fit in 32 GB (eager): {fits[name, scheme]}"
        )
for name in list(points)[1:]:  # where the paper's joint model ran out of memory
    assert fits[name, "joint"] <= 1 < fits[name, "divided"]

# %% [markdown]
# By this estimate a *single* joint clip at 448 px or 32 frames barely fits, so any useful
# batch does not — consistent with the paper's out-of-memory report — while divided attention
# still fits several clips.
#
# **What fused attention changes.** Flash / memory-efficient kernels (what
# `torch.nn.functional.scaled_dot_product_attention` picks) never store the `ℓ × ℓ` matrix:
# they recompute it block by block in the backward pass, keeping one log-sum-exp per query.
# Memory becomes linear in the sequence length — the dashed lines in the memory panels above,
# where joint attention now fits at every size. The multiply-adds do **not** change: joint
# attention at high resolution stays expensive in time, which is the paper's argument for
# divided attention that still holds today.

# %%
cfg = curves.config_at("base", "joint", 8, 448)
eager_b, fused_b = (mt.cost.attention_memory(cfg, fused=f) for f in (False, True))
print(
    f"joint 8×448, one layer: eager {eager_b / 2**30:.2f} GiB vs fused {fused_b / 2**30:.3f} GiB"
    f" ({eager_b / fused_b:.0f}× less); MACs unchanged: {mt.cost.macs(cfg) / 1e9:.0f} GMACs"
)
assert eager_b > 10 * fused_b  # at least an order of magnitude
worst = max(r["train_fused_gib"] for r in rows if r["scheme"] == "joint")
print(f"joint attention, fused, largest clip of the sweep: {worst:.1f} GiB for one clip")
assert worst < mt.cost.V100_BYTES / 2**30  # fits in 32 GB at every size and length

# %% [markdown]
# ## Measured on this machine
#
# Analytic counts are exact by construction; time and memory depend on the hardware. We time a
# training step (forward + backward) of small `nano` models at a few frame sizes, for the fused
# path and for the eager path (which keeps the weights), and put the analytic curves beside
# the measurements. On a shared CPU the times are noisy; on a GPU use the same cell with
# bigger sizes.

# %%
measured = measure.measure_sweep(
    schemes=("joint", "divided"), sizes=(32,) if SMOKE else (32, 48, 64, 96), batch=1
)
print(measure.format_measured(measured))
display(cost_figures.plot_measured(measured))
for scheme in ("joint", "divided"):
    peaks = {
        r["eager"]: r["peak_bytes"]
        for r in measured
        if r["scheme"] == scheme and r["size"] == max(x["size"] for x in measured)
    }
    print(
        f"{scheme}: eager / fused peak memory at the largest size: {peaks[True] / peaks[False]:.2f}"
    )
assert all(r["time_s"] > 0 and r["peak_bytes"] >= 0 for r in measured)

# %% [markdown]
# ### The hand count against torch's measured memory
#
# `measure` runs forward + backward and reports the peak above what the weights already took
# (`perf.measure`: CPU resident-set high-water mark or CUDA `max_memory_allocated`). At that
# peak the step holds the kept activations, the transient of the last eager layer and the
# gradients (as many numbers as parameters; no optimiser step here). The same
# `activations_by_hand`, now with the nano models' width, depth, heads and patch size:


# %%
for r in measured:
    cfg = curves.config_at("nano", r["scheme"], r["frames"], r["size"], num_classes=10)
    kept, transient = activations_by_hand(
        cfg.attention,
        cfg.num_frames,
        cfg.image_size,
        not r["eager"],
        D=cfg.embed_dim,
        L=cfg.depth,
        h=cfg.num_heads,
        P=cfg.patch_size,
    )
    ours = r["batch"] * (kept + transient) + 4 * mt.cost.params(cfg)  # + the gradients
    assert ours == r["estimate_bytes"]  # the package's estimate, the same count
    r["hand_ratio"] = r["peak_bytes"] / ours
    print(
        f"{r['scheme']:>8} {r['size']:3d} px {'eager' if r['eager'] else 'fused'}: measured "
        f"{r['peak_bytes'] / 2**20:6.1f} MiB, by hand {ours / 2**20:6.1f} MiB "
        f"(measured / hand {r['hand_ratio']:.2f})"
    )
big = [r for r in measured if r["size"] == max(x["size"] for x in measured)]
for what, ratio in (("smallest", min), ("largest", max)):
    expect(
        f"measured peak / hand count at {big[0]['size']} px, {what} of eager and fused",
        ratio(r["hand_ratio"] for r in big),
        HAND_LOW,
        HAND_HIGH,
        measured=MEASURED,
    )

# %% [markdown]
# The hand count is a floor, not the whole bill: measured here (full mode, 2-core CPU) the
# peak at 96 px was 1.16–1.32× it at load about 9, and 1.18× (divided) to 1.75× (joint,
# eager) in a second run at load about 2 — more on the smallest clips, where a few MiB of
# allocator and kernel workspace weigh more. What it leaves out: the small buffers
# (LayerNorm's per-token statistics), the gradients of the activations that the backward pass
# creates layer by layer while the kept tensors of the layers below still wait — for eager
# joint attention that includes the gradient of a `(T·N)²` probability matrix beside the
# matrix itself, which is why that row is the furthest off — and the allocator's rounding. What it gets right is the shape: eager joint attention grows with
# `(T·N)²`, everything else with `T·N`.

# %% [markdown]
# ## Questions
# 1. From the formula, at which frame size does the quadratic attention term of joint attention
#    overtake its linear layers (`qkv`, projection, MLP)? Check with `macs_by_hand`.
# 2. Divided attention has *more* multiply-adds than joint attention at 224 px. Why is it still
#    the better choice in the paper's Table 1?
# 3. Fused attention removes the memory wall. Which of the paper's conclusions in §4.1 would
#    change with today's kernels, and which would not?
# 4. Why does the eager/fused memory ratio you measured grow with the frame size?
#
# **Exercise** — `exercises/09_flop_formula.ipynb` (stretch): MAC formulas for axial and
# local-global attention, checked against `FlopCounterMode`.
# Next: `12_time_matters.ipynb`.
