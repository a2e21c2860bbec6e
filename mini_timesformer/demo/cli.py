"""``mini-timesformer demo`` (``make demo``) and ``gpu-check`` (``make gpu-check``),
registered by ``mini_timesformer.cli``."""

from __future__ import annotations

from dataclasses import replace

import torch

from .budgets import BUDGETS, resolve_budget


def _demo_command(args) -> int:
    if args.long:
        return _long_command(args)
    from .run import run_demo  # imported when run: keeps ``--help`` fast

    budget = "smoke" if args.smoke else args.budget
    if args.steps is not None:
        _, base = resolve_budget(budget, torch.cuda.is_available())
        budget = base.replace(motion_steps=args.steps, appearance_steps=max(1, args.steps // 3))
    run_demo(args.out or "runs/demo", budget, args.device, args.threads, args.seed)
    return 0


def _long_command(args) -> int:
    from .long_range import resolve_long_budget, run_long

    budget = "smoke" if args.smoke else args.budget
    if args.steps is not None:
        budget = replace(resolve_long_budget(budget)[1], steps=args.steps)
    run_long(args.out or "runs/demo-long", budget, args.device, args.threads, args.seed)
    return 0


def _gpu_check_command(args) -> int:
    from .gpu_check import run_gpu_check  # imported when run: keeps ``--help`` fast

    run_gpu_check(args.out, args.smoke)
    return 0


def add_commands(subparsers) -> None:
    """Register ``mini-timesformer demo`` and ``gpu-check``."""
    parser = subparsers.add_parser(
        "demo", help="the course's main job: train and compare all five schemes"
    )
    parser.add_argument(
        "--long",
        action="store_true",
        help="instead: more frames vs accuracy and cost, divided and joint "
        "(RQ5, Table 8; writes runs/demo-long)",
    )
    parser.add_argument("--out", default=None, help="default: runs/demo (--long: runs/demo-long)")
    parser.add_argument(
        "--budget",
        default="auto",
        help=f"auto (gpu if CUDA, else cpu) or one of: {', '.join(BUDGETS)}",
    )
    parser.add_argument("--smoke", action="store_true", help="= --budget smoke (seconds)")
    parser.add_argument(
        "--steps",
        type=int,
        default=None,
        help="optimiser steps per scheme on motion (appearance: a third; --long: per run)",
    )
    parser.add_argument("--device", default="auto")
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        help="CPU threads (default: 1 on a busy machine, else all cores)",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.set_defaults(func=_demo_command)
    parser = subparsers.add_parser(
        "gpu-check",
        help="the one-GPU recipe proven offline: demo, Kinetics-layout training, "
        "ours vs HF (--smoke: CPU)",
    )
    parser.add_argument(
        "--smoke", action="store_true", help="CPU, tiny sizes: every section in well under a minute"
    )
    parser.add_argument("--out", default="runs/gpu-check")
    parser.set_defaults(func=_gpu_check_command)
