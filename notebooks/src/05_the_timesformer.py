# %% [markdown]
# # 05 · The TimeSformer: blocks, classifier, size and cost, pretrained weights
#
# **Objectives** — after this lesson you can
# 1. assemble the classifier — embedding, `L` blocks, final LayerNorm, CLS, linear head — and
#    explain the space-only exception (a per-frame ViT averaged over frames);
# 2. (capstone) assemble **your own** classifier from your code of lessons 01–04, prove that it
#    equals `mt.TimeSformer` on copied weights, and save it for lesson 07 to train;
# 3. count the parameters of every scheme by hand and match the paper's Table 1 exactly;
# 4. count multiply-adds and match the paper's inference cost (Tables 2 and 5);
# 5. initialise a TimeSformer from an image ViT as the paper does, and say exactly what the
#    freshly initialised model computes;
# 6. load a TimeSformer checkpoint in the Hugging Face or official layout.
#
# **Time budget** — 40 min; compute about a minute on a 2-core CPU.
#
# Paper: §3 (the model), §4.2 and Appendix A (ImageNet initialisation), Table 1 (parameters),
# Tables 2 and 5 (TFLOPs).
#
# Research questions (lesson 00): RQ2 (cost), RQ3 (parameters and TFLOPs against 3-D CNNs), RQ4 (ImageNet initialisation).

# %%
# %matplotlib inline
import os
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import torch
from einops import rearrange
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

import mini_timesformer as mt
from mini_timesformer.perf.table1 import PAPER_TABLE1
from mini_timesformer.runtime import runs_dir
from mini_timesformer.schemes import STEPS

SMOKE = os.environ.get("MINI_TIMESFORMER_SMOKE") == "1"
RUNS = runs_dir()  # the repository's runs/ (or $MINI_TIMESFORMER_HOME)
_ = torch.manual_seed(0)

# %% [markdown]
# ## The classifier, assembled by hand
#
# Lessons 01–04 built and checked the pieces. The whole model (§3, Fig. 1) is:
#
# ```
# tokens = embed(video)                      # (B, 1 + T·N, D), CLS first, time-major
# for block in blocks: tokens = block(tokens)  # the scheme's attention steps, then the MLP
# logits = head(LayerNorm(tokens)[:, 0])     # the CLS token -> classes
# ```
#
# *Space-only* is the exception (official code): frames never meet, so it runs as a ViT on
# every frame — frames folded into the batch, each with its own CLS — and averages the frames'
# final tokens before the LayerNorm. We write both paths with the package's modules and check
# that they give the package's logits.


# %%
def forward_by_hand(model: mt.TimeSformer, video: torch.Tensor) -> torch.Tensor:
    """Logits (B, classes) of `model` for video (B, T, C, H, W), step by step."""
    B, T, _, H, W = video.shape
    P = model.config.patch_size
    per_frame = model.config.attention == "space"
    tokens, _ = model.embed(video, use_time=not per_frame)
    grid = (1 if per_frame else T, H // P, W // P)  # space-only: each frame is its own clip
    for block in model.blocks:
        tokens, _ = block(tokens, grid)
    if per_frame:  # (B·T, 1 + N, D) -> (B, 1 + N, D): average the frames' tokens
        tokens = rearrange(tokens, "(b t) l d -> b t l d", b=B).mean(dim=1)
    return model.head(model.norm(tokens)[:, 0])


cfg = mt.TimeSformerConfig.preset("nano", num_classes=7)
video = torch.randn(2, cfg.num_frames, 3, cfg.image_size, cfg.image_size)
for scheme in mt.SCHEMES:
    model = mt.TimeSformer(cfg.replace(attention=scheme)).eval()
    with torch.no_grad():
        torch.testing.assert_close(forward_by_hand(model, video), model(video))
print("hand-assembled forward == model(video) for all five schemes")

# %% [markdown]
# ## Capstone, part 1: your own TimeSformer
#
# `forward_by_hand` used the package's modules. The capstone builds the same classifier from
# **your** code of the last four lessons, proves that it computes exactly what `mt.TimeSformer`
# computes, and saves it for lesson 07, where you train it from scratch with your own loop:
#
# | piece | your definitions | from |
# |---|---|---|
# | patch embedding, token layout | `patchify`, `LinearPatchEmbed`, `embed_tokens` | lesson 01 |
# | attention | `attention`, `MyMultiHeadAttention` | lesson 02 |
# | groupings | `group_key`, `group_index` (index arithmetic) | lesson 03 |
# | step (CLS policy, extra `Linear`), MLP, block | `MyStep`, `MyMLP`, `MyBlock` | lesson 04 |
#
# Every notebook runs alone, so we do not re-run those lessons: `mt.checks.capstone` reads the
# definitions above from the **saved** lesson notebooks (save after you edit one) and runs
# them as one module. Change one of them and this section tests your version.

# %%
from mini_timesformer.checks import capstone  # noqa: E402

parts = capstone.load_parts()  # your lesson 01–04 code, as one module
for lesson, names in capstone.PARTS.items():
    print(f"from {lesson}.ipynb: {', '.join(names)}")
LinearPatchEmbed, embed_tokens = parts.LinearPatchEmbed, parts.embed_tokens
MyMultiHeadAttention, MyBlock = parts.MyMultiHeadAttention, parts.MyBlock

# %% [markdown]
# Three small classes finish the model (divided attention, the paper's choice). Lesson 04's
# `MyStep` calls the package's attention as `attn(x, need_weights=True)`; `StepAttention` is
# your lesson-02 attention with that call, and `MyTimeSformer` puts it into every step — no
# module of the package is left inside your model.


# %%
class StepAttention(MyMultiHeadAttention):
    """Your lesson-02 attention, called the way your lesson-04 step calls the package's."""

    def forward(self, x, need_weights=True):
        return super().forward(x)  # yours always returns (output, weights)


class MyVideoEmbedding(nn.Module):
    """Your lesson-01 patch embedding and token layout, with the package's parameter names."""

    def __init__(self, cfg):
        super().__init__()
        D, N = cfg.embed_dim, (cfg.image_size // cfg.patch_size) ** 2
        self.patch_embed = LinearPatchEmbed(cfg.patch_size, cfg.in_channels, D)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, D))
        self.pos_embed = nn.Parameter(torch.zeros(1, 1 + N, D))  # CLS slot + N locations
        self.time_embed = nn.Parameter(torch.zeros(1, cfg.num_frames, D))

    def forward(self, video):
        """(B, T, C, H, W) -> tokens (B, 1 + T·N, D), CLS first, time-major."""
        return embed_tokens(
            self.patch_embed(video), self.cls_token, self.pos_embed, self.time_embed
        )


class MyTimeSformer(nn.Module):
    """Divided space-time TimeSformer from your parts: logits (B, K) = model(video)."""

    def __init__(self, cfg):
        super().__init__()
        D, heads = cfg.embed_dim, cfg.num_heads
        self.patch_size = cfg.patch_size
        self.embed = MyVideoEmbedding(cfg)
        self.blocks = nn.ModuleList(MyBlock(D, heads, "divided") for _ in range(cfg.depth))
        for block in self.blocks:
            for step in block.steps.values():
                step.attn = StepAttention(D, heads)  # yours, in place of the package's
        self.norm = nn.LayerNorm(D, eps=1e-6)
        self.head = nn.Linear(D, cfg.num_classes)

    def forward(self, video):
        B, T, _, H, W = video.shape
        grid = (T, H // self.patch_size, W // self.patch_size)  # (T, H', W')
        x = self.embed(video)  # (B, 1 + T·N, D)
        for block in self.blocks:
            x = block(x, grid)
        return self.head(self.norm(x)[:, 0])  # the CLS token -> K logits


# %% [markdown]
# **The proof.** Your classes use the package's parameter names, so its state dict loads into
# yours by name — except the patch embedding, where the package's `Conv2d` filter
# `(D, C, P, P)` is your `Linear` matrix `(D, C·P·P)` (lesson 01). We give the package model
# random weights everywhere first (its time embedding and `extra` Linear start at zero, which
# would hide a mistake in them), then compare logits.


# %%
def load_package_weights(mine, package):
    """Copy an mt.TimeSformer's weights into MyTimeSformer (a state-dict mapping)."""
    state = {}
    for name, tensor in package.state_dict().items():
        if name.startswith("embed.patch_embed.proj."):  # the package's Conv2d
            name = name.replace(".proj.", ".linear.")
            if tensor.ndim == 4:  # filter (D, C, P, P) -> matrix (D, C·P·P); bias stays (D,)
                tensor = tensor.flatten(1)
        state[name] = tensor
    mine.load_state_dict(state)  # strict: a missing or unexpected name is an error
    return mine


my_cfg = mt.TimeSformerConfig.preset("nano", attention="divided", num_classes=8)
package = mt.TimeSformer(my_cfg).eval()
with torch.no_grad():
    for p in package.parameters():  # no zero left: every path of the model is tested
        p.normal_(std=0.2)
mine = load_package_weights(MyTimeSformer(my_cfg), package).eval()
clips = torch.randn(3, my_cfg.num_frames, 3, my_cfg.image_size, my_cfg.image_size)
with torch.no_grad():
    expected = package(clips)
    torch.testing.assert_close(mine(clips), expected)
foreign = {type(m).__name__ for m in mine.modules() if type(m).__module__.startswith("mini_t")}
assert not foreign, f"package modules left in your model: {foreign}"
n_mine, n_package = (sum(p.numel() for p in m.parameters()) for m in (mine, package))
assert n_mine == n_package
print(
    f"your TimeSformer == mt.TimeSformer: logits equal on {len(clips)} clips; "
    f"{n_mine:,} parameters each; no package module inside yours"
)

# %% [markdown]
# **Saved for lesson 07.** `capstone.write_model()` writes everything above — your lesson 01–04
# parts and this section's classes — to `runs/course/my_timesformer.py`; lesson 07 imports it
# (and, if it is missing, writes it the same way). Importing the file back and repeating the
# proof checks that the file holds what this notebook ran (if it fails: save the notebook).

# %%
path = capstone.write_model()
my = capstone.load_model()
saved = load_package_weights(my.MyTimeSformer(my_cfg), package).eval()
with torch.no_grad():
    torch.testing.assert_close(
        saved(clips), expected, msg=lambda m: f"{path} differs from this notebook; save it. {m}"
    )
print(f"wrote {path} ({len(path.read_text().splitlines())} lines); it gives the same logits")

# %% [markdown]
# ## Parameters: Table 1, exactly
#
# Counting by hand, for width `D`, depth `L`, patch `P`, `N` patches, `T` frames and `K` classes
# (every `Linear` has a bias, LayerNorm has a scale and a shift):
#
# * embedding: patch projection `3·P²·D + D`, CLS `D`, spatial `(1 + N)·D`, temporal `T·D`;
# * one attention step: LayerNorm `2D`, qkv `3D² + 3D`, output projection `D² + D`;
#   an *added* step also has the extra `Linear(D, D)`: `D² + D`;
# * MLP with its LayerNorm: `2D + (4D² + 4D) + (4D² + D)`;
# * final LayerNorm `2D` and head `K·D + K`.
#
# Table 1 reports ViT-B (`D = 768`, `L = 12`, `P = 16`) at 8×224. Its rounded counts come out
# exact with a `K = 174` head — Something-Something-v2's classes.


# %%
def params_by_hand(D, L, P, N, T, K, steps):
    embed = 3 * P * P * D + D + D + (1 + N) * D + T * D
    step = 2 * D + 3 * D * D + 3 * D + D * D + D
    extra = D * D + D
    mlp = 2 * D + 4 * D * D + 4 * D + 4 * D * D + D
    block = steps * step + (steps - 1) * extra + mlp
    return embed + L * block + 2 * D + K * D + K


rows = []
for scheme in mt.SCHEMES:
    base = mt.TimeSformerConfig.preset("base", attention=scheme, num_classes=174)
    with torch.device("meta"):  # shapes only: no memory, no time
        counted = sum(p.numel() for p in mt.TimeSformer(base).parameters())
    mine = params_by_hand(768, 12, 16, base.num_patches, base.num_frames, 174, len(STEPS[scheme]))
    paper_m = PAPER_TABLE1[scheme][0]
    assert mine == counted == mt.cost.params(base), scheme
    assert round(mine / 1e6, 1) == paper_m, (scheme, mine, paper_m)
    rows.append((scheme, mine, paper_m))
    print(f"{scheme:>12}: {mine:>12,} parameters = {mine / 1e6:.1f}M   paper: {paper_m}M")
per_step = params_by_hand(768, 12, 16, 196, 8, 174, 2) - params_by_hand(768, 12, 16, 196, 8, 174, 1)
print(f"each added attention step costs {per_step // 12:,} parameters per block")

# %% [markdown]
# ## Cost: multiply-adds and the paper's TFLOPs
#
# The paper's "FLOPs" are multiply-adds (fvcore's convention: the paper does not name its
# counter, but its TFLOPs equal the MAC counts below). `mt.cost.macs` counts the
# matrix products analytically. We check it against PyTorch's own `FlopCounterMode`, which
# counts the operations a forward pass really runs (it reports multiply *and* add, hence ÷ 2) —
# on the **meta** device, so the ViT-B model costs no memory and no compute here.


# %%
def measured_macs(cfg, frames=None, size=None) -> int:
    with torch.device("meta"):
        model = mt.TimeSformer(cfg).eval()
        clip = torch.empty(
            1, frames or cfg.num_frames, 3, size or cfg.image_size, size or cfg.image_size
        )
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        model(clip)
    return counter.get_total_flops() // 2


checked = ["divided"] if SMOKE else list(mt.SCHEMES)
for scheme in checked:
    base = mt.TimeSformerConfig.preset("base", attention=scheme)
    analytic, measured = mt.cost.macs(base), measured_macs(base)
    print(
        f"{scheme:>12}: analytic {analytic / 1e9:7.1f} GMACs, FlopCounterMode {measured / 1e9:7.1f}"
    )
    assert analytic == measured, scheme

# %% [markdown]
# The paper reports inference cost for **three views** (one clip, three spatial crops,
# Appendix A) in TFLOPs. Our per-view GMACs × 3, beside the paper's numbers:

# %%
paper_tflops = {
    "TimeSformer (8×224)": (8, 224, 0.59),
    "TimeSformer-HR (16×448)": (16, 448, 5.11),
    "TimeSformer-L (96×224)": (96, 224, 7.14),
}
divided = mt.TimeSformerConfig.preset("base", attention="divided")
for name, (frames, size, paper) in paper_tflops.items():
    per_view = mt.cost.macs(divided, num_frames=frames, image_size=size)
    ours = 3 * per_view / 1e12
    print(f"{name:>24}: {per_view / 1e9:7.1f} GMACs/view × 3 = {ours:.2f} TFLOPs   paper: {paper}")
    assert round(ours, 2) == paper, name

# %%
table = mt.perf.table1.table1_rows()
fig, axes = plt.subplots(1, 2, figsize=(10, 3.5))
xs = torch.arange(len(table))
axes[0].bar(xs - 0.2, [r["params"] / 1e6 for r in table], 0.4, label="ours (exact)")
axes[0].bar(xs + 0.2, [r["paper_params_m"] for r in table], 0.4, label="paper Table 1")
axes[0].set_ylabel("parameters (M)")
axes[0].legend()
axes[1].bar(xs, [r["gmacs"] for r in table], color="tab:green")
axes[1].set_ylabel("GMACs per 8×224 view")
for ax in axes:
    ax.set_xticks(xs, [r["scheme"] for r in table], rotation=20)
fig.suptitle("ViT-B TimeSformer, five schemes: size (left) and inference cost (right)")
fig.tight_layout()
plt.show()

# %% [markdown]
# At 8×224 divided attention costs a little *more* per view than joint attention: its extra
# qkv, projection and `Linear` outweigh the smaller attention matrices. Lesson 11 shows the
# order flip as the resolution and the number of frames grow.

# %%
gmacs = {r["scheme"]: r["gmacs"] for r in table}
print(f"8×224 per view: joint {gmacs['joint']:.1f}, divided {gmacs['divided']:.1f} GMACs")
assert gmacs["divided"] > gmacs["joint"]

# %% [markdown]
# ## Initialising from an image ViT (Appendix A)
#
# The paper starts from a ViT trained on ImageNet (§4, §4.2 Table 3) and says that the
# temporal and the spatial attention of each block "are initialized with the same weights",
# the ViT's attention (Appendix A). The rest comes from the official code, not the paper's
# text: `timesformer/models/helpers.py`, `load_pretrained`, copies the ViT's `attn` and
# `norm1` into `temporal_attn` and `temporal_norm1`, and `timesformer/models/vit.py`,
# `VisionTransformer.__init__`, creates the time embedding as zeros and sets `temporal_fc`
# (our extra `Linear`) to zero. So: the patch embedding, CLS token, spatial embedding, every
# block's MLP and the final LayerNorm are copied; **every attention step** starts from the ViT
# block's attention; the added steps' extra `Linear` and the temporal embedding start at
# **zero** (for axial and local-global, our extension of the same rule). Then every added step
# adds zero, and the model computes what the ViT computes — exactly so on a clip whose frames
# are all the same image.
#
# We build a small random ViT with `timm` (offline; with internet you would use
# `timm.create_model("vit_base_patch16_224", pretrained=True)` and the `base` preset).

# %%
from timm.models.vision_transformer import VisionTransformer  # noqa: E402

small = mt.TimeSformerConfig.preset("nano", attention="divided", num_classes=5)
vit = VisionTransformer(
    img_size=small.image_size,
    patch_size=small.patch_size,
    embed_dim=small.embed_dim,
    depth=small.depth,
    num_heads=small.num_heads,
    num_classes=5,
).eval()
with torch.no_grad():  # random but not tiny weights everywhere, so the checks can fail
    for p in vit.parameters():
        p.normal_(std=0.2)
model = mt.TimeSformer.from_vit(small, vit).eval()
added = [s for b in model.blocks for s in b.steps.values() if s.extra is not None]
assert not model.embed.time_embed.any() and all(not s.extra.weight.any() for s in added)

image = torch.randn(2, 3, small.image_size, small.image_size)
still = image[:, None].expand(-1, small.num_frames, -1, -1, -1)  # (B, T, 3, H, W), T copies
with torch.no_grad():
    vit_logits = vit(image)
    ours = model(still)
torch.testing.assert_close(ours, vit_logits, atol=1e-5, rtol=1e-4)
print(f"still clip: TimeSformer-from-ViT == ViT (max diff {(ours - vit_logits).abs().max():.1e})")

# %% [markdown]
# On a clip whose frames differ, the divided model is *close to* but not exactly the per-frame
# ViT averaged over frames: the frames share one CLS token, whose update is the mean of the
# per-frame updates, and from block 2 on the patches read that shared token. The space-only
# model, in contrast, *is* the per-frame ViT by construction. Let us measure both.

# %%
moving = torch.randn(2, small.num_frames, 3, small.image_size, small.image_size)
with torch.no_grad():
    frame_feats = vit.forward_features(moving.flatten(0, 1))[:, 0]  # (B·T, D) normalised CLS
    per_frame_avg = frame_feats.view(2, small.num_frames, -1).mean(1)
    divided_feats = model.forward_features(moving)
gap = (divided_feats - per_frame_avg).norm(dim=-1) / per_frame_avg.norm(dim=-1)
print(f"divided-from-ViT vs per-frame ViT averaged, relative gap: {gap.max():.3f}")
assert gap.max() > 1e-3  # not identical ...
assert gap.max() < 1.0  # ... but the same kind of features

# %% [markdown]
# ## Loading a TimeSformer checkpoint
#
# Two published layouts exist: the official PySlowFast `.pyth` files and the Hugging Face port
# (`facebook/timesformer-base-finetuned-k400` and friends). `mt.TimeSformer.from_pretrained`
# reads both (and its own `save_pretrained` format), mapping every key one to one — no tensor
# is permuted, although both layouts order tokens patch-major `(h w t)` and this package
# time-major `(t h w)` (lesson 01). Offline, we make a small Hugging Face model with random
# weights everywhere (its zero-initialised time embedding and `temporal_dense` too, so every
# part counts), save it, load it, and compare logits: the Hugging Face model runs patch-major
# inside, ours time-major, with the same tensors — the end-to-end check of lesson 01's claim
# that the token order does not touch the weights.

# %%
import transformers  # noqa: E402

hf_config = transformers.TimesformerConfig(
    image_size=32,
    patch_size=8,
    num_frames=4,
    hidden_size=64,
    num_hidden_layers=2,
    num_attention_heads=4,
    intermediate_size=256,
    attention_type="divided_space_time",
    id2label={i: f"action {i}" for i in range(5)},
)
hf = transformers.TimesformerForVideoClassification(hf_config).eval()
with torch.no_grad():
    for p in hf.parameters():  # random everywhere, zero-initialised tensors included
        p.normal_(std=0.2)
RUNS.mkdir(parents=True, exist_ok=True)
with tempfile.TemporaryDirectory(dir=RUNS) as tmp:
    hf.save_pretrained(tmp)
    print("a Hugging Face checkpoint:", sorted(p.name for p in Path(tmp).iterdir()))
    loaded = mt.TimeSformer.from_pretrained(tmp)
    official = Path(tmp) / "official.pyth"  # the same weights in the official layout
    torch.save(mt.pretrained.to_official_state_dict(loaded), official)
    from_official = mt.TimeSformer.from_pretrained(official, num_heads=4)
clip = torch.randn(2, 4, 3, 32, 32)
with torch.no_grad():
    expected = hf(clip).logits
    torch.testing.assert_close(loaded(clip), expected, atol=1e-5, rtol=1e-4)
    torch.testing.assert_close(from_official(clip), expected, atol=1e-5, rtol=1e-4)
print(
    f"loaded: {loaded.config.attention}, {loaded.config.num_frames} frames, "
    f"labels {loaded.config.label_names}"
)
print("Hugging Face logits == ours, from both layouts")

# %% [markdown]
# **The real weights.** With internet, download a snapshot once (e.g.
# `huggingface-cli download facebook/timesformer-base-finetuned-k400 --local-dir
# runs/timesformer-k400`) and point `MINI_TIMESFORMER_CHECKPOINT` at it; the next cell then
# loads it and checks the paper's size. The course never downloads anything by itself.

# %%
real = os.environ.get("MINI_TIMESFORMER_CHECKPOINT")
if real and Path(real).exists():
    k400 = mt.TimeSformer.from_pretrained(real)
    n = sum(p.numel() for p in k400.parameters())
    print(f"{real}: {k400.config.attention}, {n:,} parameters, {k400.config.num_classes} classes")
    assert n == mt.cost.params(k400.config)
else:
    print("no real checkpoint given (set MINI_TIMESFORMER_CHECKPOINT to a downloaded one)")

# %% [markdown]
# ## Questions
# 1. Why does the paper's divided model have more parameters than joint attention, although
#    joint attention compares far more pairs of tokens?
# 2. Where does each added step's parameter count come from? Which term dominates?
# 3. Why start the extra `Linear` and the temporal embedding at zero, rather than copying
#    something from the ViT? What would a non-zero temporal embedding do at step 0?
# 4. A still clip gives exactly the ViT's logits. Would a clip of a moving object too? Why not?
#
# **Exercise** — `exercises/06_classifier_and_parameters.ipynb`: the space-only classifier
# with per-frame logits, and the parameter count of any config on paper, reproducing Table 1;
# checked against the package.
# Next: `06_video_data.ipynb`.
