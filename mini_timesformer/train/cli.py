"""``mini-timesformer train`` and ``mini-timesformer eval`` (registered by ``mini_timesformer.cli``).

    mini-timesformer train --preset nano --attention divided --data synthetic-motion \\
        --steps 400 --batch-size 64 --out runs/divided
    torchrun --nproc_per_node=2 -m mini_timesformer train ...   # DistributedDataParallel
    mini-timesformer train --model r2plus1d --steps 400 --out runs/r2plus1d   # the 3-D CNN
    mini-timesformer eval --checkpoint runs/divided --data synthetic-motion --views 1x1
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from ..argtypes import from_parser, positive_float, positive_int
from ..data.transforms import parse_views
from ..errors import MissingPathError, UserError

DATA_HELP = "synthetic-motion | synthetic-appearance | kinetics:DIR | folder:DIR"


def add_commands(subparsers) -> None:
    from ..config import PRESETS, SCHEMES
    from .config import MODELS

    p = subparsers.add_parser(
        "train",
        help="train a TimeSformer or a 3-D CNN baseline (one device or torchrun)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--model",
        default="timesformer",
        choices=list(MODELS),
        help="timesformer (default) or a 3-D CNN baseline: r2plus1d | i3d (mt.cnn)",
    )
    p.add_argument("--preset", default="nano", choices=list(PRESETS))
    p.add_argument(
        "--attention",
        default="divided",
        metavar="SCHEME",
        help=f"one of {', '.join(SCHEMES)} (default divided)",
    )
    p.add_argument("--data", default="synthetic-motion", help=DATA_HELP)
    p.add_argument("--frames", dest="num_frames", type=positive_int, default=8)
    p.add_argument(
        "--size",
        dest="image_size",
        type=positive_int,
        default=None,
        help="frame size (default: the preset's)",
    )
    p.add_argument(
        "--init",
        default="auto",
        help="auto (from scratch: small for nano/tiny, vit-default for small/base) "
        "| small | vit-default | vit:PATH (ImageNet ViT) | PATH (checkpoint)",
    )
    p.add_argument("--epochs", type=positive_int, default=10)
    p.add_argument("--steps", type=positive_int, default=None, help="overrides --epochs")
    p.add_argument("--batch-size", type=positive_int, default=32, help="per process")
    p.add_argument(
        "--accum",
        type=positive_int,
        default=1,
        help="micro-batches per optimiser step (effective batch = batch × accum)",
    )
    p.add_argument(
        "--optimizer",
        choices=["adamw", "sgd"],
        default="adamw",
        help="adamw + warmup + cosine (default) or the paper's SGD recipe",
    )
    p.add_argument("--lr", type=positive_float, default=None)
    p.add_argument("--weight-decay", type=float, default=None)
    p.add_argument("--warmup-steps", type=int, default=None)
    p.add_argument("--clip-grad", type=float, default=1.0, help="max gradient norm (0 = off)")
    p.add_argument("--drop-path", dest="drop_path_rate", type=float, default=0.0)
    p.add_argument(
        "--train-size", type=positive_int, default=4096, help="synthetic clips per epoch"
    )
    p.add_argument("--val-size", type=positive_int, default=512)
    p.add_argument("--stride", type=positive_int, default=32)
    p.add_argument("--workers", type=int, default=0, help="DataLoader worker processes")
    p.add_argument("--device", default="auto", help="auto (cuda → mps → cpu), cpu, cuda, mps")
    p.add_argument(
        "--threads",
        type=positive_int,
        default=None,
        help="CPU threads (default: torch's; 1 is fastest on a busy machine)",
    )
    p.add_argument(
        "--bf16",
        dest="bf16",
        action="store_const",
        const=True,
        default=None,
        help="bf16 autocast on any device, CPU too (default: on CUDA only)",
    )
    p.add_argument(
        "--no-bf16", dest="bf16", action="store_const", const=False, help="fp32 on CUDA too"
    )
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default="runs/train")
    p.add_argument("--resume", action="store_true", help="continue from OUT/checkpoints/last.pt")
    p.add_argument(
        "--checkpoint-every",
        type=int,
        default=0,
        help="steps between checkpoints (0 = each epoch end)",
    )
    p.add_argument("--val-every", type=int, default=1, help="epochs (0 = only at the end)")
    p.add_argument(
        "--attention-every",
        type=int,
        default=None,
        metavar="EPOCHS",
        help="attention rollout of 4 validation clips every EPOCHS epochs into "
        "OUT/attention/ (PNG per epoch + epochs.gif); default: about 10 per run "
        "on synthetic data, off on files; 0 = off",
    )
    p.add_argument("--no-progress", dest="progress", action="store_false")
    p.set_defaults(func=_train)

    p = subparsers.add_parser("eval", help="multi-view evaluation of a checkpoint")
    p.add_argument(
        "--checkpoint",
        required=True,
        help="a run directory, its checkpoints/last.pt, or a pretrained model dir",
    )
    p.add_argument("--data", default="synthetic-motion", help=DATA_HELP)
    p.add_argument("--split", default="val", help="kinetics/folder split (default val)")
    p.add_argument(
        "--views",
        type=from_parser(parse_views),
        default=(1, 3),
        help="temporal clips x spatial crops (default 1x3, the paper's)",
    )
    p.add_argument(
        "--size",
        type=positive_int,
        default=None,
        help="crop size (default: the model's image_size)",
    )
    p.add_argument("--stride", type=positive_int, default=32)
    p.add_argument("--val-size", type=positive_int, default=512)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--batch-size", type=positive_int, default=16)
    p.add_argument("--workers", type=int, default=0)
    p.add_argument("--device", default="auto")
    p.add_argument(
        "--out",
        default=None,
        help="folder for metrics.json and confusion.png (default: CHECKPOINT_RUN/eval)",
    )
    p.set_defaults(func=_eval)


def _train(args) -> int:
    from .callbacks import standard_callbacks
    from .config import TrainConfig
    from .loop import NonFiniteLossError, train

    options = {k: v for k, v in vars(args).items() if k not in ("command", "func")}
    cfg = TrainConfig(**options)
    try:  # progress bar, attention snapshots, curves and report: train/callbacks.py
        out = train(cfg, callbacks=standard_callbacks(cfg))
    except NonFiniteLossError as err:
        print(f"mini-timesformer train: error: {err}", file=sys.stderr)
        return 1
    if int(os.environ.get("RANK", "0")) != 0:  # under torchrun only rank 0 reports
        return 0
    metrics = json.loads((out / "metrics.json").read_text())
    val = metrics.get("val") or {}
    if val:
        print(
            f"validation top-1 {val['top1']:.2%}, top-5 {val['top5']:.2%} (init {metrics['init']})"
        )
    if metrics.get("findings"):
        from .report import format_findings

        print(format_findings(metrics["findings"]))
    if metrics.get("attention_gif"):
        print(f"attention while training: {metrics['attention_gif']}")
    print(f"run written to {out} (summary: {out / 'report.md'})")
    return 0


def _eval(args) -> int:
    from ..runtime import pick_device
    from .config import TrainConfig
    from .evaluate import MultiViewClips, evaluate, format_metrics, save_report
    from .inputs import raw_datasets
    from .models import load_model, model_label

    model = load_model(args.checkpoint)  # run dir, checkpoint or model dir; TimeSformer or CNN
    mc = model.config
    classes = mc.label_names
    size = args.size or mc.image_size
    cfg = TrainConfig(
        data=args.data,
        num_frames=mc.num_frames,
        image_size=size,
        stride=args.stride,
        val_size=args.val_size,
        seed=args.seed,
    )
    raw = raw_datasets(cfg, args.split)
    if raw is None:
        raise MissingPathError(f"--data {args.data}: no {args.split!r} split found")
    if len(raw.classes) != mc.num_classes:
        raise UserError(
            f"the model has {mc.num_classes} classes but --data {args.data} has {len(raw.classes)}"
        )
    clips, crops = args.views
    views = MultiViewClips(raw, size, mc.mean, mc.std, clips, crops, mc.num_frames, args.stride)
    device = pick_device(args.device)
    metrics = evaluate(
        model.to(device),
        views,
        batch_size=args.batch_size,
        device=device,
        workers=args.workers,
        classes=classes or raw.classes,
        progress=True,
    )
    ckpt = Path(args.checkpoint)
    run_dir = ckpt.parent.parent if ckpt.suffix == ".pt" else ckpt
    out = Path(args.out) if args.out else run_dir / "eval"
    save_report(metrics, out, title=f"{model_label(model)}: {args.data}")
    print(format_metrics(metrics))
    print(f"written to {out / 'metrics.json'} and {out / 'confusion.png'}")
    return 0
