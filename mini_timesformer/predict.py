"""``mini-timesformer predict VIDEO --checkpoint PATH``: classify a video file.

Test protocol of the paper (Appendix A): T frames every r frames from the middle of the
video, short side resized to the crop size, three spatial crops (left/centre/right along
the long side), softmax scores averaged over the views. ``--views 3x3`` takes three
evenly spaced temporal clips as well (V = clips × crops views, all averaged).
"""

from __future__ import annotations

import json
from pathlib import Path

import torch

# Frame stride of the paper's variants (§4.3): 8×32 TimeSformer, 16×16 -HR, 96×4 -L.
PAPER_STRIDE = {8: 32, 16: 16, 96: 4}


def parse_views(text: str) -> tuple[int, int]:
    """'1x3' -> (1 clip, 3 crops)."""
    try:
        clips, crops = (int(part) for part in text.lower().split("x"))
    except ValueError:
        raise ValueError(f"--views expects CLIPSxCROPS such as 1x3 or 3x3, got {text!r}"
                         ) from None
    if clips < 1 or crops not in (1, 3):
        raise ValueError(f"--views expects at least 1 clip and 1 or 3 crops, got {text!r}")
    return clips, crops


def _device(name: str) -> torch.device:
    if name != "auto":
        return torch.device(name)
    if torch.cuda.is_available():
        return torch.device("cuda")
    if torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def _read_views(video, cfg, stride: int, clips: int, crops: int) -> torch.Tensor:
    """(V, T, 3, crop, crop) normalised views; any decoding failure -> one-line ValueError."""
    import av

    from .data import load_clip_views

    path = Path(video)
    if not path.is_file():
        raise FileNotFoundError(f"video file not found: {path}")
    try:
        return load_clip_views(path, cfg.num_frames, stride, cfg.image_size, cfg.mean,
                               cfg.std, num_clips=clips, num_crops=crops)
    except (av.error.FFmpegError, RuntimeError, IndexError, EOFError, ValueError) as err:
        reason = " ".join(str(err).split()) or type(err).__name__  # keep it on one line
        raise ValueError(f"cannot decode {path} as a video ({reason})") from None


@torch.no_grad()
def predict(model, video, *, topk: int = 5, views: str = "1x3", stride: int | None = None,
            device: str = "auto") -> dict:
    """Top-k classes of one video file: a dict ready for JSON (see ``format_text``)."""
    from .pretrained import label_names_for

    cfg = model.config
    clips, crops = parse_views(views)
    stride = stride or PAPER_STRIDE.get(cfg.num_frames, 32)
    if topk < 1:
        raise ValueError(f"--topk must be >= 1, got {topk}")
    if cfg.num_classes == 0:
        raise ValueError("the checkpoint has no classification head (num_classes = 0)")
    batch = _read_views(video, cfg, stride, clips, crops)  # (V, T, 3, crop, crop)
    dev = _device(device)
    model = model.to(dev).eval()
    probs = model(batch.to(dev)).float().softmax(dim=-1).mean(dim=0).cpu()  # (classes,)
    names, source = label_names_for(cfg)
    top = probs.topk(min(topk, cfg.num_classes))
    return {
        "video": str(video),
        "views": {"clips": clips, "crops": crops, "num_frames": cfg.num_frames,
                  "stride": stride, "crop_size": cfg.image_size},
        "label_source": source,
        "predictions": [{"rank": r + 1, "index": int(i), "label": names[int(i)],
                         "probability": float(p)}
                        for r, (p, i) in enumerate(zip(top.values, top.indices))],
    }


def format_text(result: dict) -> str:
    v = result["views"]
    lines = [f"{result['video']}: {v['clips']} clip(s) x {v['crops']} crop(s), "
             f"{v['num_frames']} frames every {v['stride']}, {v['crop_size']} px "
             f"(labels: {result['label_source']})"]
    width = max(len(p["label"]) for p in result["predictions"])
    for p in result["predictions"]:
        lines.append(f"{p['rank']:>3}. {p['label']:<{width}}  {100 * p['probability']:6.2f}%")
    return "\n".join(lines)


def _run(args) -> int:
    from .pretrained import from_pretrained

    model = from_pretrained(args.checkpoint)
    result = predict(model, args.video, topk=args.topk, views=args.views, stride=args.stride,
                     device=args.device)
    result["checkpoint"] = str(args.checkpoint)
    if args.attention:  # attention rollout of the centre view, animated (mt.viz)
        from .viz import save_attention_animation

        view = _read_views(args.video, model.config, result["views"]["stride"], 1, 1)
        result["attention"] = str(save_attention_animation(model, view, None, args.attention))
    print(json.dumps(result, indent=2) if args.json else format_text(result))
    return 0


def add_commands(subparsers) -> None:
    p = subparsers.add_parser(
        "predict", help="classify a video file with a checkpoint (paper's test protocol)")
    p.add_argument("video", help="video file (mp4, avi, mkv, webm, ...), decoded with PyAV")
    p.add_argument("--checkpoint", required=True,
                   help="Hugging Face directory, official .pyth, save_pretrained directory, "
                        "or training run/checkpoint")
    p.add_argument("--topk", type=int, default=5, help="classes to print (default 5)")
    p.add_argument("--views", default="1x3",
                   help="temporal clips x spatial crops, averaged (default 1x3, the paper's)")
    p.add_argument("--stride", type=int, default=None,
                   help="frames between sampled frames at 30 fps (default: the paper's for "
                        "the checkpoint's frame count: 8x32, 16x16, 96x4)")
    p.add_argument("--device", default="auto", help="auto (cuda, mps, cpu), cpu, cuda, ...")
    p.add_argument("--json", action="store_true", help="print machine-readable JSON")
    p.add_argument("--attention", metavar="OUT.gif",
                   help="also save the attention rollout over the centre view (.gif or .mp4)")
    p.set_defaults(func=_run)
