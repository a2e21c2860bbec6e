"""``mini-timesformer train`` and ``mini-timesformer eval`` (registered by ``mini_timesformer.cli``).

    mini-timesformer train --preset nano --attention divided --data synthetic-motion \\
        --steps 400 --batch-size 64 --out runs/divided
    torchrun --nproc_per_node=2 -m mini_timesformer train ...   # DistributedDataParallel
    mini-timesformer train --model r2plus1d --steps 400 --out runs/r2plus1d   # the 3-D CNN
    mini-timesformer eval --checkpoint runs/divided --data synthetic-motion --views 1x1
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import typing
from pathlib import Path

from ..argtypes import from_parser, positive_int
from ..data.transforms import parse_views
from ..errors import MissingPathError, UserError


def add_config_arguments(parser, config_class) -> None:
    """One flag per field of the dataclass ``config_class`` (``TrainConfig``), generated
    from the field: name (``--batch-size``, or its ``flag``), default, help, ``type``
    (else the field's own), ``choices`` and ``metavar`` from ``train.config.option``.
    Booleans: default False -> ``--name``; default True -> ``--no-name``; None ->
    ``--name`` / ``--no-name``. Fields with ``cli=False`` get no flag."""
    hints = typing.get_type_hints(config_class)
    for f in dataclasses.fields(config_class):
        meta = dict(f.metadata)
        if not meta.pop("cli", True):
            continue
        flag = meta.pop("flag", None) or "--" + f.name.replace("_", "-")
        help_ = meta.pop("help").replace("%", "%%")  # argparse formats help with %
        kind = next(t for t in typing.get_args(hints[f.name]) or (hints[f.name],) if t is not None)
        if kind is bool:
            no = "--no-" + flag[2:]
            if f.default is None:
                parser.add_argument(flag, dest=f.name, action="store_const", const=True, help=help_)
                parser.add_argument(no, dest=f.name, action="store_const", const=False)
            elif f.default:
                parser.add_argument(no, dest=f.name, action="store_false", help=f"no {help_}")
            else:
                parser.add_argument(flag, dest=f.name, action="store_true", help=help_)
            parser.set_defaults(**{f.name: f.default})
            continue
        if "choices" in meta:
            meta["choices"] = list(meta["choices"])
        meta.setdefault("type", kind)
        default = "" if f.default is None else f" (default {f.default})"
        parser.add_argument(
            flag, dest=f.name, default=f.default, help=help_ + default.replace("%", "%%"), **meta
        )


def add_commands(subparsers) -> None:
    from .config import DATA_HELP, TrainConfig

    p = subparsers.add_parser(
        "train",
        help="train a TimeSformer or a 3-D CNN baseline (one device or torchrun)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_config_arguments(p, TrainConfig)  # one flag per TrainConfig field
    p.set_defaults(func=_train)

    p = subparsers.add_parser("eval", help="multi-view evaluation of a checkpoint")
    p.add_argument(
        "--checkpoint",
        required=True,
        help="a run directory, its checkpoints/last.pt, or a pretrained model dir",
    )
    p.add_argument("--data", default=TrainConfig.data, help=DATA_HELP)
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
    # the same clips as training sees: TrainConfig's defaults
    p.add_argument("--stride", type=positive_int, default=TrainConfig.stride)
    p.add_argument("--val-size", type=positive_int, default=TrainConfig.val_size)
    p.add_argument("--seed", type=int, default=TrainConfig.seed)
    p.add_argument("--batch-size", type=positive_int, default=16)
    p.add_argument("--workers", type=int, default=TrainConfig.workers)
    p.add_argument("--device", default=TrainConfig.device)
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
