# %% [markdown]
# # 00 · Welcome: what TimeSformer is, and how this course works
#
# **Objectives** — after this lesson you can
# 1. say in two sentences what TimeSformer is and which questions the paper asks;
# 2. find your way around the sixteen lessons and the exercises;
# 3. check that your environment works (CPU, GPU or Colab);
# 4. run a first forward pass through the `mini_timesformer` package and read its output.
#
# **Time budget** — 15 min reading; compute under a minute on a 2-core CPU (smoke and full mode).
#
# Paper: G. Bertasius, H. Wang, L. Torresani, *Is Space-Time Attention All You Need for Video
# Understanding?*, ICML 2021 (arXiv 2102.05095). Section numbers below refer to it.

# %%
# %matplotlib inline
import os
import platform
import sys
import time

import matplotlib.pyplot as plt
import torch

import mini_timesformer as mt

SMOKE = os.environ.get("MINI_TIMESFORMER_SMOKE") == "1"  # tiny sizes for CI (nbval)
torch.manual_seed(0)
print(f"smoke mode: {SMOKE}")

# %% [markdown]
# ## What TimeSformer is (paper §1, §3)
#
# Image transformers (ViT) showed that a plain Transformer over image *patches* can classify
# images as well as a convolutional network. TimeSformer asks whether the same works for
# **video**: cut every frame into patches, treat the whole clip as one long sequence of
# patch tokens, and classify it with self-attention alone — no convolutions over time.
#
# The catch is cost. A clip of `T` frames with `N` patches each has `T·N` tokens, and full
# self-attention compares every token with every other one, so its cost grows with
# `(T·N)²`. The paper therefore studies **which tokens each patch should attend to**. In
# plain words, the questions it studies — grouped by this course into five research
# questions, RQ1–RQ5 (the grouping and numbering are ours, not a list in the paper); later
# lessons cite them by number, and `docs/course.md` maps every section, table and figure of
# the paper to the lessons:
#
# * **RQ1 · Which space-time attention scheme works best?** Five candidates (§3, Figs. 1–2):
#   attend only within the frame (*space*), to everything (*joint*), first along time and
#   then within the frame (*divided*), to a local window plus a sparse global set
#   (*local-global*), or along time, width and height one after another (*axial*) — compared
#   on Kinetics-400 (appearance-heavy) and Something-Something-v2 (motion-heavy) (§4.1,
#   Table 1).
# * **RQ2 · What does it cost?** Comparisons per query and inference cost of each scheme, and
#   whether divided attention stays affordable at higher resolution and for more frames where
#   joint attention runs out of memory (§4.1, Fig. 3; Tables 2 and 5).
# * **RQ3 · Does it compete with 3-D CNNs?** Accuracy, training time and inference cost
#   against SlowFast and I3D (§4.2, Table 2; §4.5, Tables 5–7).
# * **RQ4 · What matters?** ImageNet pre-training (§4.2, Table 3), the positional embeddings —
#   does the model know the order of frames without them? (§4.4, Table 4) — and the number of
#   tokens (§4.3, Fig. 5).
# * **RQ5 · Long-range modelling.** Does a model that sees longer clips — up to 96 frames —
#   do better, and need fewer test clips? (§4.3, Fig. 5; §4.5, Fig. 6; §4.6, Table 8.)
#
# The paper's answer to the first question is *divided space-time attention*: it was the most
# accurate on both datasets and stays affordable at high resolution and for long clips.

# %% [markdown]
# ## The course map
#
# | lesson | you build / measure |
# |---|---|
# | 00 welcome | environment check, a first forward pass |
# | 01 video as patches | a clip as a tensor, patch embedding, einops, CLS / space / time embeddings, two token orders |
# | 02 self-attention | scaled dot-product and multi-head attention from scratch |
# | 03 space-time attention | the five schemes as groupings; visibility; the paper's Fig. 2; keys per query |
# | 04 attention steps | one attention step and the CLS policy; the divided block; frame shuffling |
# | 05 the TimeSformer | blocks and classifier; Table 1 parameter counts; ViT init; checkpoints |
# | 06 video data | decoding, frame sampling, augmentation, synthetic motion vs appearance |
# | 07 training | a training loop; your own model trained with it; the init that decides |
# | 08 five schemes | the five schemes on motion vs appearance clips (Table 1 in miniature) |
# | 09 real data | test views on real videos; a Kinetics subset on one GPU; a UCF101 subset |
# | 10 attention maps | attention rollout, per-step maps, where the model looks |
# | 11 cost curves | FLOPs and memory vs resolution and frames (the paper's Fig. 3) |
# | 12 time matters | positional-embedding ablation, more frames, test-time views |
# | 13 long clips | a task only long clips solve: accuracy and cost vs frames (Table 8, Fig. 3) |
# | 14 vs a 3-D CNN | the (2+1)D convolution by hand; divided TimeSformer vs R(2+1)D on motion and appearance, and against the amount of data (Table 2, Fig. 4) |
# | 15 pretraining and resolution | a ViT pre-trained on a small vs a large image set, inflated with `from_vit`, against from scratch (Table 3); accuracy vs tokens and GMACs at three frame sizes (Fig. 5) |
#
# Every lesson has the same shape: **objectives and time budget → the concept (with the
# paper section) → build the piece from scratch in small cells → check it against the
# package with the same weights → use the package → a figure → questions and the matching
# exercise.** The `exercises/` folder holds graded exercises (one per topic) that check your
# code automatically against the package.

# %% [markdown]
# ## How to run the course
#
# * **CPU (laptop)** — everything runs on a CPU; the lessons use small models (the `nano`
#   preset) that train in minutes. `make lab` creates `.venv` and opens JupyterLab.
# * **GPU** — the same notebooks pick `cuda` (or Apple `mps`) automatically when present;
#   lessons 07, 08 and 10 then train longer, and the cost lesson measures on the GPU.
# * **Colab** — `!pip install git+<this repository>` in the first cell, then open a lesson.
# * **Smoke mode** — `MINI_TIMESFORMER_SMOKE=1` shrinks every size and step count so the
#   whole course runs in CI (`make test`, via `pytest --nbval-lax`). The text then still
#   makes sense, but the trained-model results need the full mode.
#
# ## Environment check


# %%
def pick_device() -> torch.device:
    """cuda -> mps -> cpu, the order the package uses."""
    if torch.cuda.is_available():
        return torch.device("cuda")
    if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


device = pick_device()
print(f"python {platform.python_version()} on {platform.system()} ({sys.platform})")
print(f"torch {torch.__version__}, mini_timesformer {mt.__version__}")
print(f"device: {device}; CPU threads used by torch: {torch.get_num_threads()}")
assert sys.version_info >= (3, 10), "the package needs Python 3.10 or newer"
assert mt.SCHEMES == ("space", "joint", "divided", "local_global", "axial")

# %% [markdown]
# ## A first forward pass
#
# A video batch is a float tensor of shape `(B, T, C, H, W)`: `B` clips of `T` frames, each
# with `C = 3` colour channels of `H × W` pixels. The `nano` preset is our own small size
# (the paper's model is the `base` preset, a ViT-B/16): it takes 8 frames of 32×32 pixels.

# %%
cfg = mt.TimeSformerConfig.preset("nano", attention="divided", num_classes=6)
model = mt.TimeSformer(cfg).to(device).eval()
num_params = sum(p.numel() for p in model.parameters())
print(cfg)
print(f"parameters: {num_params:,}")

# %% [markdown]
# Let us make a clip we can look at: a white square that moves one step to the right in every
# frame, on a dark background.


# %%
def moving_square(T: int, size: int, side: int = 8, step: int = 3) -> torch.Tensor:
    """A (T, 3, size, size) clip in [0, 1]: a square moving `step` px right per frame."""
    clip = torch.zeros(T, 3, size, size)
    top = (size - side) // 2
    for t in range(T):
        left = (t * step) % (size - side)
        clip[t, :, top : top + side, left : left + side] = 1.0
    return clip


clip = moving_square(cfg.num_frames, cfg.image_size)
video = ((clip - 0.45) / 0.225).unsqueeze(0).to(device)  # (1, T, 3, H, W), official mean/std
start = time.perf_counter()
with torch.no_grad():
    logits = model(video)
elapsed = time.perf_counter() - start
probs = logits.softmax(dim=-1)[0].cpu()
print(f"input {tuple(video.shape)} -> logits {tuple(logits.shape)} in {elapsed * 1000:.1f} ms")
print("class probabilities:", [f"{p:.3f}" for p in probs.tolist()])

# %% [markdown]
# The model is untrained, so the probabilities say nothing yet — they are close to uniform
# because the classifier starts from small random weights. Some checks that hold anyway:

# %%
assert logits.shape == (1, cfg.num_classes)
torch.testing.assert_close(probs.sum(), torch.tensor(1.0))
assert torch.isfinite(logits).all()
gap = (probs - 1 / cfg.num_classes).abs().max().item()
print(f"largest distance from uniform (1/{cfg.num_classes}): {gap:.4f}")
assert gap < 0.1
# the same clip gives the same logits (eval mode: no dropout)
with torch.no_grad():
    torch.testing.assert_close(model(video), logits)
# a wrong input shape gets a one-line error that says what was expected
try:
    model(video[:, :, :2])
except ValueError as err:
    print("ValueError:", err)
else:
    raise AssertionError("a 2-channel video should be refused")

# %% [markdown]
# ## A first figure: the clip and what the model says

# %%
fig, axes = plt.subplots(1, cfg.num_frames + 1, figsize=(2 * (cfg.num_frames + 1), 2.2))
for t in range(cfg.num_frames):
    axes[t].imshow(clip[t].permute(1, 2, 0))  # (3, H, W) -> (H, W, 3) for matplotlib
    axes[t].set_title(f"frame {t}")
    axes[t].axis("off")
axes[-1].bar(range(cfg.num_classes), probs)
axes[-1].set_title("untrained p(class)")
axes[-1].set_ylim(0, 1)
fig.tight_layout()
plt.show()

# %% [markdown]
# The same model with every scheme of the paper: only the attention changes, the interface
# stays the same. The parameter counts differ because divided, local-global and axial
# attention add attention steps to every block (lesson 05 counts them exactly).

# %%
for scheme in mt.SCHEMES:
    m = mt.TimeSformer(cfg.replace(attention=scheme)).eval()
    with torch.no_grad():
        out = m(video.cpu())
    n = sum(p.numel() for p in m.parameters())
    print(f"{scheme:>12}: logits {tuple(out.shape)}, {n:,} parameters")
    assert out.shape == (1, cfg.num_classes)

# %% [markdown]
# ## Questions
# 1. A clip of 8 frames at 224×224 with 16×16 patches: how many patch tokens does it have?
#    How many pairs of tokens does joint space-time attention compare? (Lesson 03 checks.)
# 2. Why might a model that only attends within each frame still do well on Kinetics, but not
#    on Something-Something-v2?
# 3. The untrained model's probabilities above are not exactly uniform. Where does the
#    difference come from?
#
# **Exercise** — none for this lesson; the first one, `exercises/01_patch_embedding.ipynb`,
# goes with lesson 01. Next: `01_video_as_patches.ipynb`.
