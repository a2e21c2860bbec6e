"""``mini-timesformer demo`` (``make demo``), registered by ``mini_timesformer.cli``."""

from __future__ import annotations

import torch

from .budgets import BUDGETS, resolve_budget


def _demo_command(args) -> int:
    from .run import run_demo  # imported when run: keeps ``--help`` fast

    budget = args.budget
    if args.steps is not None:
        _, base = resolve_budget(budget, torch.cuda.is_available())
        budget = base.replace(motion_steps=args.steps, appearance_steps=max(1, args.steps // 3))
    run_demo(args.out, budget, args.device, args.threads, args.seed)
    return 0


def add_commands(subparsers) -> None:
    """Register ``mini-timesformer demo``."""
    parser = subparsers.add_parser(
        "demo", help="the course's main job: train and compare all five schemes")
    parser.add_argument("--out", default="runs/demo")
    parser.add_argument("--budget", default="auto",
                        help=f"auto (gpu if CUDA, else cpu) or one of: {', '.join(BUDGETS)}")
    parser.add_argument("--steps", type=int, default=None,
                        help="optimiser steps per scheme on motion (appearance: a third)")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--threads", type=int, default=None,
                        help="CPU threads (default: 1 on a busy machine, else all cores)")
    parser.add_argument("--seed", type=int, default=0)
    parser.set_defaults(func=_demo_command)
