"""Classify one video file with a model (``mini-timesformer predict``, see ``cli.py``).

Test protocol of the paper (Appendix A): T frames every r frames from the middle of the
video, short side resized to the crop size, three spatial crops (placed left/centre/right
along the long side as official ``datasets/transform.py`` ``uniform_crop`` does), softmax scores averaged over the views. ``--views 3x3`` takes three
evenly spaced temporal clips as well (V = clips × crops views, all averaged).
"""

from __future__ import annotations

from pathlib import Path

import torch

from ..data.transforms import parse_views
from ..errors import MissingPathError, UserError
from ..runtime import pick_device
from .labels import label_names_for

# Frame stride of the paper's variants (§4.3): 8×32 TimeSformer, 16×16 -HR, 96×4 -L.
PAPER_STRIDE = {8: 32, 16: 16, 96: 4}


def read_views(video, cfg, stride: int, clips: int, crops: int) -> torch.Tensor:
    """(V, T, 3, crop, crop) normalised views; any decoding failure -> one-line ValueError."""
    import av

    from ..data import load_clip_views

    path = Path(video)
    if not path.is_file():
        raise MissingPathError(f"video file not found: {path}")
    try:
        return load_clip_views(
            path,
            cfg.num_frames,
            stride,
            cfg.image_size,
            cfg.mean,
            cfg.std,
            num_clips=clips,
            num_crops=crops,
        )
    except (av.error.FFmpegError, RuntimeError, IndexError, EOFError, ValueError) as err:
        reason = " ".join(str(err).split()) or type(err).__name__  # keep it on one line
        raise UserError(f"cannot decode {path} as a video ({reason})") from None


@torch.no_grad()
def predict(
    model,
    video,
    *,
    topk: int = 5,
    views: str = "1x3",
    stride: int | None = None,
    device: str = "auto",
) -> dict:
    """Top-k classes of one video file: a dict ready for JSON (see ``format_text``)."""
    cfg = model.config
    clips, crops = parse_views(views)
    stride = stride or PAPER_STRIDE.get(cfg.num_frames, 32)
    if topk < 1:
        raise UserError(f"--topk must be >= 1, got {topk}")
    if cfg.num_classes == 0:
        raise UserError("the checkpoint has no classification head (num_classes = 0)")
    batch = read_views(video, cfg, stride, clips, crops)  # (V, T, 3, crop, crop)
    dev = pick_device(device)
    model = model.to(dev).eval()
    probs = model(batch.to(dev)).float().softmax(dim=-1).mean(dim=0).cpu()  # (classes,)
    names, source = label_names_for(cfg)
    top = probs.topk(min(topk, cfg.num_classes))
    return {
        "video": str(video),
        "views": {
            "clips": clips,
            "crops": crops,
            "num_frames": cfg.num_frames,
            "stride": stride,
            "crop_size": cfg.image_size,
        },
        "label_source": source,
        "predictions": [
            {"rank": r + 1, "index": int(i), "label": names[int(i)], "probability": float(p)}
            for r, (p, i) in enumerate(zip(top.values, top.indices))
        ],
    }


def format_text(result: dict) -> str:
    v = result["views"]
    lines = [
        f"{result['video']}: {v['clips']} clip(s) x {v['crops']} crop(s), "
        f"{v['num_frames']} frames every {v['stride']}, {v['crop_size']} px "
        f"(labels: {result['label_source']})"
    ]
    width = max(len(p["label"]) for p in result["predictions"])
    for p in result["predictions"]:
        lines.append(f"{p['rank']:>3}. {p['label']:<{width}}  {100 * p['probability']:6.2f}%")
    return "\n".join(lines)
