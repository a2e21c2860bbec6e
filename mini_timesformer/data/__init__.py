"""Video data for TimeSformer: PyAV decoding, frame sampling, transforms, datasets.

import mini_timesformer as mt
info = mt.data.probe_video(path)                    # VideoInfo(num_frames, fps, ...)
clip = mt.data.read_frames(path, mt.data.dense_indices(info.num_frames, 8, 32))
views = mt.data.load_clip_views(path, 8, 32, 224, cfg.mean, cfg.std)  # (3, T, 3, 224, 224)
ds = mt.data.SyntheticVideos("motion", num_frames=8, image_size=32, size=4096)
clip, label = ds[0]                                 # uint8 (T, 3, H, W), int
"""

from .datasets import VideoClipDataset, VideoFolder, item_generator
from .kinetics import KineticsDataset, read_annotations
from .sampling import clip_span, dense_indices, segment_indices
from .synthetic import MOTION_CLASSES, SyntheticVideos
from .synthetic_long import LONG_CLASSES, sampler_ceiling
from .transforms import (
    TrainTransform,
    eval_views,
    load_clip_views,
    parse_views,
    resize_short_side,
    to_float_clip,
    train_transform,
)
from .video import (
    VIDEO_EXTENSIONS,
    VideoInfo,
    probe_video,
    read_clip,
    read_frames,
    read_video,
    sample_video_paths,
    write_video,
)

__all__ = [
    "KineticsDataset",
    "read_annotations",
    "VideoClipDataset",
    "VideoFolder",
    "item_generator",
    "clip_span",
    "dense_indices",
    "segment_indices",
    "MOTION_CLASSES",
    "SyntheticVideos",
    "LONG_CLASSES",
    "sampler_ceiling",
    "TrainTransform",
    "load_clip_views",
    "parse_views",
    "resize_short_side",
    "eval_views",
    "to_float_clip",
    "train_transform",
    "VIDEO_EXTENSIONS",
    "VideoInfo",
    "probe_video",
    "read_clip",
    "read_frames",
    "read_video",
    "sample_video_paths",
    "write_video",
]
