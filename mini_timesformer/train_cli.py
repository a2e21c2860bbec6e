"""``mini-timesformer train`` and ``mini-timesformer eval`` (registered by cli.py).

    mini-timesformer train --preset nano --attention divided --data synthetic-motion \\
        --steps 400 --batch-size 64 --out runs/divided
    torchrun --nproc_per_node=2 -m mini_timesformer train ...   # DistributedDataParallel
    mini-timesformer eval --checkpoint runs/divided --data synthetic-motion --views 1x1
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
    return value


def _views(text: str) -> tuple[int, int]:
    clips, sep, crops = text.partition("x")
    if not (sep and clips.isdigit() and crops in ("1", "3") and int(clips) >= 1):
        raise argparse.ArgumentTypeError(f"expected CLIPSxCROPS such as 1x3 (crops 1 or 3), "
                                         f"got {text!r}")
    return int(clips), int(crops)


DATA_HELP = "synthetic-motion | synthetic-appearance | kinetics:DIR | folder:DIR"


def add_commands(subparsers) -> None:
    from .config import PRESETS, SCHEMES

    p = subparsers.add_parser("train", help="train a TimeSformer (one device or torchrun)",
                              description=__doc__,
                              formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--preset", default="nano", choices=list(PRESETS))
    p.add_argument("--attention", default="divided", metavar="SCHEME",
                   help=f"one of {', '.join(SCHEMES)} (default divided)")
    p.add_argument("--data", default="synthetic-motion", help=DATA_HELP)
    p.add_argument("--frames", type=_positive_int, default=8)
    p.add_argument("--size", type=_positive_int, default=None,
                   help="frame size (default: the preset's)")
    p.add_argument("--init", default="scratch", help="scratch | vit:PATH | PATH (checkpoint)")
    p.add_argument("--epochs", type=_positive_int, default=10)
    p.add_argument("--steps", type=_positive_int, default=None, help="overrides --epochs")
    p.add_argument("--batch-size", type=_positive_int, default=32, help="per process")
    p.add_argument("--accum", type=_positive_int, default=1,
                   help="micro-batches per optimiser step (effective batch = batch × accum)")
    p.add_argument("--optimizer", choices=["adamw", "sgd"], default="adamw",
                   help="adamw + warmup + cosine (default) or the paper's SGD recipe")
    p.add_argument("--lr", type=_positive_float, default=None)
    p.add_argument("--weight-decay", type=float, default=None)
    p.add_argument("--warmup-steps", type=int, default=None)
    p.add_argument("--clip-grad", type=float, default=1.0, help="max gradient norm (0 = off)")
    p.add_argument("--drop-path", type=float, default=0.0)
    p.add_argument("--train-size", type=_positive_int, default=4096,
                   help="synthetic clips per epoch")
    p.add_argument("--val-size", type=_positive_int, default=512)
    p.add_argument("--stride", type=_positive_int, default=32)
    p.add_argument("--workers", type=int, default=0, help="DataLoader worker processes")
    p.add_argument("--device", default="auto", help="auto (cuda → mps → cpu), cpu, cuda, mps")
    p.add_argument("--threads", type=_positive_int, default=None,
                   help="CPU threads (default: torch's; 1 is fastest on a busy machine)")
    p.add_argument("--no-bf16", dest="bf16", action="store_false",
                   help="fp32 on CUDA too (bf16 autocast is the default there)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default="runs/train")
    p.add_argument("--resume", action="store_true",
                   help="continue from OUT/checkpoints/last.pt")
    p.add_argument("--checkpoint-every", type=int, default=0,
                   help="steps between checkpoints (0 = each epoch end)")
    p.add_argument("--val-every", type=int, default=1, help="epochs (0 = only at the end)")
    p.add_argument("--no-progress", dest="progress", action="store_false")
    p.set_defaults(func=_train)

    p = subparsers.add_parser("eval", help="multi-view evaluation of a checkpoint")
    p.add_argument("--checkpoint", required=True,
                   help="a run directory, its checkpoints/last.pt, or a pretrained model dir")
    p.add_argument("--data", default="synthetic-motion", help=DATA_HELP)
    p.add_argument("--split", default="val", help="kinetics/folder split (default val)")
    p.add_argument("--views", type=_views, default=(1, 3),
                   help="temporal clips x spatial crops (default 1x3, the paper's)")
    p.add_argument("--size", type=_positive_int, default=None,
                   help="crop size (default: the model's image_size)")
    p.add_argument("--stride", type=_positive_int, default=32)
    p.add_argument("--val-size", type=_positive_int, default=512)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--batch-size", type=_positive_int, default=16)
    p.add_argument("--workers", type=int, default=0)
    p.add_argument("--device", default="auto")
    p.add_argument("--out", default=None, help="folder for metrics.json and confusion.png "
                   "(default: CHECKPOINT_RUN/eval)")
    p.set_defaults(func=_eval)


def _train(args) -> int:
    from .train import NonFiniteLossError, train
    from .train_config import TrainConfig

    options = {k: v for k, v in vars(args).items() if k not in ("command", "func")}
    cfg = TrainConfig(**options)
    try:
        out = train(cfg)
    except NonFiniteLossError as err:
        print(f"mini-timesformer train: error: {err}", file=sys.stderr)
        return 1
    if int(os.environ.get("RANK", "0")) != 0:  # under torchrun only rank 0 reports
        return 0
    metrics = json.loads((out / "metrics.json").read_text())
    val = metrics.get("val") or {}
    if val:
        print(f"validation top-1 {val['top1']:.2%}, top-5 {val['top5']:.2%}")
    print(f"run written to {out}")
    return 0


def load_model(path):
    """A model from a run directory / ``.pt`` training checkpoint or a pretrained folder."""
    path = Path(path)
    if path.suffix == ".pt" or (path / "checkpoints" / "last.pt").exists():
        from .checkpoint import model_from_checkpoint

        model, state = model_from_checkpoint(path)
        return model, state.get("classes")
    if not path.exists():
        raise FileNotFoundError(f"no checkpoint at {path} (expected a run directory, a .pt "
                                f"file or a pretrained model folder)")
    from .pretrained import from_pretrained

    model = from_pretrained(path)
    return model, model.config.label_names


def _eval(args) -> int:
    from .evaluate import MultiViewClips, evaluate, format_metrics, save_report
    from .train_config import TrainConfig, pick_device, raw_datasets

    model, classes = load_model(args.checkpoint)
    mc = model.config
    size = args.size or mc.image_size
    cfg = TrainConfig(data=args.data, frames=mc.num_frames, size=size, stride=args.stride,
                      val_size=args.val_size, seed=args.seed)
    raw = raw_datasets(cfg, args.split)
    if raw is None:
        raise FileNotFoundError(f"--data {args.data}: no {args.split!r} split found")
    if len(raw.classes) != mc.num_classes:
        raise ValueError(f"the model has {mc.num_classes} classes but --data {args.data} has "
                         f"{len(raw.classes)}")
    clips, crops = args.views
    views = MultiViewClips(raw, size, mc.mean, mc.std, clips, crops, mc.num_frames, args.stride)
    device = pick_device(args.device)
    metrics = evaluate(model.to(device), views, batch_size=args.batch_size, device=device,
                       workers=args.workers, classes=classes or raw.classes, progress=True)
    ckpt = Path(args.checkpoint)
    run_dir = ckpt.parent.parent if ckpt.suffix == ".pt" else ckpt
    out = Path(args.out) if args.out else run_dir / "eval"
    save_report(metrics, out, title=f"{mc.attention}: {args.data}")
    print(format_metrics(metrics))
    print(f"written to {out / 'metrics.json'} and {out / 'confusion.png'}")
    return 0
