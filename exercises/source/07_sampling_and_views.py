# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Exercise 7: frame sampling and multi-view testing
#
# **Goal:** choose which frames make a clip and how a video is scored at test time,
# the way the paper does (§4 opening and Appendix A "Implementation Details"): 8 frames every 32
# (8×32) for training and testing, and at test time the middle clip, short side 224,
# three 224 crops, softmax scores averaged.
# **Before this:** lesson 06 (video data). **Time:** about 45 minutes. **Points:** 8.
#
# Replace each `raise NotImplementedError()` with your code and run the test cell below
# it. Without Jupyter: `mini-timesformer check exercises/07_sampling_and_views.ipynb`.

# %%
import torch

from mini_timesformer import checks
from mini_timesformer.data import clip_span

torch.manual_seed(0)

# %% [markdown]
# ## 1. Dense sampling, test mode (3 points)
#
# A clip of T frames taken every r frames covers T·r frames of the video: 8×32 covers
# 256 frames, about 8.5 s at 30 fps. At test time the clip is not random: with K clips
# per video their windows are evenly spaced from the first possible start to the last.
# The package's convention (`mt.data.dense_indices`), for a video of V frames:
#
# * slack = max(V − T·r, 0), the room the window can move in;
# * window start s = slack / 2 when K = 1 (the middle clip, as the paper describes its
#   test clip), else slack·k / (K − 1) for clip k = 0 … K − 1;
# * frame t of the clip is ⌊s + t·r⌋, capped at V − 1 (a video shorter than the clip
#   repeats its last frame, as the official loader does).
#
# The official code spaces its K test windows differently
# (`timesformer/datasets/decoder.py`, `get_start_end_idx`: s = slack·k / K), so its single
# view is the *first* window, not the middle one. Both are reasonable; the checks ask for
# the package's convention above and, if you write the official one, say so.
#
# Return a list of T ints.


# %%
def dense_indices(
    num_video_frames: int, num_frames: int, stride: int, clip_index: int = 0, num_clips: int = 1
) -> list[int]:
    """Frame indices of test clip ``clip_index`` of ``num_clips`` (T frames, stride r)."""
    ### BEGIN SOLUTION
    slack = max(num_video_frames - num_frames * stride, 0)
    start = slack / 2 if num_clips == 1 else slack * clip_index / (num_clips - 1)
    return [min(int(start + t * stride), num_video_frames - 1) for t in range(num_frames)]
    ### END SOLUTION


# %% grade_id="dense_tests" points=3
checks.check_dense_indices(dense_indices)
### BEGIN HIDDEN TESTS
checks.check_dense_indices(
    dense_indices,
    cases=((1, 8, 32, 0, 1), (96, 96, 1, 0, 1), (500, 16, 16, 1, 3), (10, 4, 2, 0, 2)),
)
### END HIDDEN TESTS

# %% [markdown]
# ## 2. Segment sampling (1 point)
#
# For Something-Something-v2 style data, frames are often sampled by **segments**: cut
# the video into T equal parts and take one frame from each; at test time the middle
# frame of each segment, ⌊(t + ½)·V / T⌋.


# %%
def segment_indices(num_video_frames: int, num_frames: int) -> list[int]:
    """The middle frame of each of T equal segments."""
    ### BEGIN SOLUTION
    size = num_video_frames / num_frames
    return [min(int((t + 0.5) * size), num_video_frames - 1) for t in range(num_frames)]
    ### END SOLUTION


# %% grade_id="segment_tests" points=1
checks.check_segment_indices(segment_indices)
### BEGIN HIDDEN TESTS
checks.check_segment_indices(segment_indices, cases=((1, 4), (1000, 96), (33, 8)))
### END HIDDEN TESTS

# %% [markdown]
# ## 3. Three spatial crops (2 points)
#
# After the short side is resized to the crop size, take three crops along the **long**
# side: left (or top), centre and right (or bottom) — the official code's rule
# (`timesformer/datasets/transform.py`, `uniform_crop`) and the package's; the paper's text
# says "top-left, center, bottom-right" (§4). The centre crop starts
# at (long − crop) // 2. A square clip gives three identical crops.
#
# `three_crops(clip, crop)`: uint8 clip (T, 3, H, W) with min(H, W) = crop →
# (3, T, 3, crop, crop).


# %%
def three_crops(clip: torch.Tensor, crop: int) -> torch.Tensor:
    """Left/top, centre, right/bottom crops along the long side: (3, T, 3, crop, crop)."""
    H, W = clip.shape[-2:]
    ### BEGIN SOLUTION
    long = max(H, W) - crop
    offsets = (0, long // 2, long)
    if W >= H:  # spread along the width
        views = [clip[..., :crop, o : o + crop] for o in offsets]
    else:
        views = [clip[..., o : o + crop, :crop] for o in offsets]
    return torch.stack(views)
    ### END SOLUTION


# %% grade_id="crops_tests" points=2
checks.check_three_crops(three_crops)
### BEGIN HIDDEN TESTS
checks.check_three_crops(three_crops, shapes=((3, 16, 29), (1, 31, 16)), crop=16, seed=1)
### END HIDDEN TESTS

# %% [markdown]
# ## 4. Score a video from its views (2 points)
#
# Each view (temporal clip × spatial crop) is classified on its own; the video's
# prediction is the **mean of the views' softmax scores** (the paper reports this
# "video-level" accuracy). `views` is a float tensor (V, T, 3, H, W): the views are
# the batch.


# %%
def predict_views(model, views: torch.Tensor) -> torch.Tensor:
    """Class probabilities (classes,) of one video from its V views."""
    ### BEGIN SOLUTION
    with torch.no_grad():
        return model(views).softmax(dim=-1).mean(dim=0)
    ### END SOLUTION


# %% grade_id="predict_tests" points=2
checks.check_predict_views(predict_views)
### BEGIN HIDDEN TESTS
checks.check_predict_views(predict_views, views=1, seed=1)
checks.check_predict_views(predict_views, views=9, frames=1, seed=2)
### END HIDDEN TESTS

# %% [markdown]
# The package's full test pipeline for a file is `mt.data.load_clip_views(path, 8, 32,
# 224, cfg.mean, cfg.std)`: it decodes only the frames it needs and returns the views
# (3, 8, 3, 224, 224), ready for `predict_views` (and `mini-timesformer predict`).

# %%
for T, r in [(8, 32), (16, 16), (96, 4)]:
    print(
        f"{T}×{r}: a clip covers {clip_span(T, r):.0f} frames "
        f"= {clip_span(T, r) / 30:.1f} s at 30 fps"
    )

# %% [markdown]
# ## Questions (not graded)
#
# 1. At 30 fps TimeSformer (8×32) and -HR (16×16) cover the same 256 frames (8.5 s),
#    while -L (96×4) covers 384 frames (12.8 s) with 12× the frames of the base model.
#    What does each trade for what?
# 2. Why might dense sampling suit Kinetics while SSv2 models often use segments?
# 3. 3 views cost 3× the compute of one (0.59 "TFLOPs" for TimeSformer in Table 2).
#    How would you measure what the extra views buy you? (Try `mini-timesformer eval`
#    with `--views 1x1` and `--views 1x3`.)
