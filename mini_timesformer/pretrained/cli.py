"""``mini-timesformer predict VIDEO --checkpoint PATH`` (registered by ``mini_timesformer.cli``).

A command module: it wires the loader (``TimeSformer.from_pretrained``), the test
protocol (``predict.py``) and, with ``--attention``, the rollout animation (``mt.viz``).
"""

from __future__ import annotations

import json


def _run(args) -> int:
    from ..model import TimeSformer
    from .predict import format_text, predict, read_views

    model = TimeSformer.from_pretrained(args.checkpoint)
    result = predict(
        model, args.video, topk=args.topk, views=args.views, stride=args.stride, device=args.device
    )
    result["checkpoint"] = str(args.checkpoint)
    if args.attention:  # attention rollout of the centre view, animated (mt.viz)
        from ..viz import save_attention_animation

        view = read_views(args.video, model.config, result["views"]["stride"], 1, 1)
        result["attention"] = str(save_attention_animation(model, view, None, args.attention))
    print(json.dumps(result, indent=2) if args.json else format_text(result))
    return 0


def add_commands(subparsers) -> None:
    p = subparsers.add_parser(
        "predict", help="classify a video file with a checkpoint (paper's test protocol)"
    )
    p.add_argument("video", help="video file (mp4, avi, mkv, webm, ...), decoded with PyAV")
    p.add_argument(
        "--checkpoint",
        required=True,
        help="Hugging Face directory, official .pyth, save_pretrained directory, "
        "or training run/checkpoint",
    )
    p.add_argument("--topk", type=int, default=5, help="classes to print (default 5)")
    p.add_argument(
        "--views",
        default="1x3",
        help="temporal clips x spatial crops, averaged (default 1x3, the paper's)",
    )
    p.add_argument(
        "--stride",
        type=int,
        default=None,
        help="frames between sampled frames at 30 fps (default: the paper's for "
        "the checkpoint's frame count: 8x32, 16x16, 96x4)",
    )
    p.add_argument("--device", default="auto", help="auto (cuda, mps, cpu), cpu, cuda, ...")
    p.add_argument("--json", action="store_true", help="print machine-readable JSON")
    p.add_argument(
        "--attention",
        metavar="OUT.gif",
        help="also save the attention rollout over the centre view (.gif or .mp4)",
    )
    p.set_defaults(func=_run)
