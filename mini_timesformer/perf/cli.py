"""``mini-timesformer cost`` (the paper's Fig. 3, analytic, optionally measured) and
``mini-timesformer bench`` (ours vs Hugging Face), registered by ``mini_timesformer.cli``.

    mini-timesformer cost --plot runs/cost.png
    mini-timesformer bench --scheme joint --modes train
"""

from __future__ import annotations

import json
from pathlib import Path

import torch

from ..argtypes import int_list
from ..errors import UserError
from ..runtime import cpu_threads
from ..schemes import SCHEMES, canonical_scheme
from . import hf, timing
from .bench import (
    compare_schemes,
    compare_with_hf,
    format_comparison,
    format_curve,
    format_schemes,
    memory_curve,
)
from .curves import DEFAULT_FRAMES, DEFAULT_SIZES, first_over, format_table, sweep, to_csv


def add_commands(subparsers) -> None:
    """Register ``cost`` and ``bench``."""
    _add_cost(subparsers)
    _add_bench(subparsers)


def _cost_command(args) -> int:
    """``mini-timesformer cost``: the table, the 32 GB crossings, optional plots/measurement."""
    schemes = tuple(canonical_scheme(s) for s in args.schemes.split(","))
    rows = sweep(schemes, int_list(args.sizes), int_list(args.frames), args.preset, args.batch)
    if args.csv:
        print(to_csv(rows), end="")
    else:
        print(format_table(rows))
        print(
            f"\n(per view; 1 MAC = 1 FLOP (fvcore); memory fp32 in GiB, batch {args.batch}; "
            "training = weights + grads + SGD momentum + activations, eager vs fused)"
        )
        for scheme in schemes:
            for kind in ("size", "frames"):
                eager = first_over(rows, scheme, kind)
                fused = first_over(rows, scheme, kind, "train_fused_gib")
                print(
                    f"{scheme:>12} over 32 GB along {kind:>6}: eager at {eager or '-'}, "
                    f"fused at {fused or '-'}"
                )
    if args.plot:
        from ..viz.cost_figures import plot_cost_curves

        fig = plot_cost_curves(rows, args.batch)
        fig.savefig(args.plot, dpi=110)
        print(f"curves written to {args.plot}")
    if args.measure:
        from ..viz.cost_figures import plot_measured
        from .measure import format_measured, measure_sweep

        measured = measure_sweep(sizes=int_list(args.measure_sizes), batch=2)
        print(format_measured(measured))
        if args.plot:
            out = str(args.plot).rsplit(".", 1)
            path = f"{out[0]}_measured.{out[1] if len(out) > 1 else 'png'}"
            plot_measured(measured).savefig(path, dpi=110)
            print(f"measured plot written to {path}")
    return 0


def _add_cost(subparsers) -> None:
    p = subparsers.add_parser(
        "cost",
        help="GMACs, params and memory of the five schemes vs frame size and frames (paper Fig. 3)",
    )
    p.add_argument("--preset", default="base", help="model size (default: base, as the paper)")
    p.add_argument("--schemes", default=",".join(SCHEMES), help="comma-separated schemes")
    p.add_argument(
        "--sizes",
        default=",".join(map(str, DEFAULT_SIZES)),
        help="frame sizes in px, at the first frame count (default: 224,336,448,560)",
    )
    p.add_argument(
        "--frames",
        default=",".join(map(str, DEFAULT_FRAMES)),
        help="frame counts, at the first size (default: 8,32,64,96)",
    )
    p.add_argument("--batch", type=int, default=1, help="clips per GPU for memory (default 1)")
    p.add_argument("--plot", metavar="OUT.png", help="also draw the curves")
    p.add_argument("--csv", action="store_true", help="print CSV instead of Markdown")
    p.add_argument(
        "--measure",
        action="store_true",
        help="also time fwd+bwd of nano joint/divided models on this device",
    )
    p.add_argument("--measure-sizes", default="32,48,64", help="sizes for --measure (px)")
    p.set_defaults(func=_cost_command)


def _modes(text: str) -> tuple[str, ...]:
    modes = tuple(m.strip() for m in text.split(",") if m.strip())
    bad = [m for m in modes if m not in timing.MODES]
    if not modes or bad:
        raise UserError(
            f"--modes expects a comma-separated subset of {','.join(timing.MODES)}, got {text!r}"
        )
    return modes


def _bench_command(args) -> int:
    """Handler of ``mini-timesformer bench``: check the flags, run on ``--threads``."""
    for name in ("frames", "size", "batch", "reps"):
        if getattr(args, name) < 1:
            raise UserError(f"--{name} must be >= 1, got {getattr(args, name)}")
    if args.threads is not None and args.threads < 1:
        raise UserError(f"--threads must be >= 1, got {args.threads}")
    modes = _modes(args.modes)
    scheme = canonical_scheme(args.scheme)
    with cpu_threads(args.threads):
        result, text = _run_bench(args, modes, scheme)
        result["load_avg_end"] = timing.machine_info(torch.device("cpu")).get("load_avg")
    print(text + f"\nload average at end (1/5/15 min): {result['load_avg_end']}")
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(result, indent=1))
    return 0


def _run_bench(args, modes: tuple[str, ...], scheme: str) -> tuple[dict, str]:
    """The comparison ``bench``'s flags ask for: ``(result, text)``."""
    common = dict(batch=args.batch, device=args.device, dtype=args.dtype)
    if args.memory_curve:
        rows = memory_curve(
            args.preset,
            scheme,
            int_list(args.memory_curve),
            args.size,
            mode=modes[-1],
            use_hf=not args.no_hf,
            **common,
        )
        return {"memory_curve": rows}, format_curve(rows, scheme, modes[-1])
    if args.schemes:
        result = compare_schemes(
            args.preset,
            args.frames,
            args.size,
            modes=modes,
            reps=args.reps,
            warmup=args.warmup,
            memory=not args.no_memory,
            **common,
        )
        return result, format_schemes(result)
    cfg = hf.bench_config(args.preset, scheme, args.frames, args.size)
    use_hf = not args.no_hf and scheme in hf.HF_SCHEMES
    result = compare_with_hf(
        cfg,
        modes=modes,
        reps=args.reps,
        warmup=args.warmup,
        use_hf=use_hf,
        memory=not args.no_memory,
        check=not args.no_check,
        compile=args.compile,
        **common,
    )
    return result, format_comparison(result)


def _add_bench(subparsers) -> None:
    p = subparsers.add_parser(
        "bench",
        help="speed and memory: ours vs Hugging Face, fraction of matmul peak, the five schemes",
    )
    p.add_argument("--scheme", default="divided", help="attention scheme (default divided)")
    p.add_argument("--preset", default="base", help="model size (default base = ViT-B)")
    p.add_argument("--frames", type=int, default=8)
    p.add_argument("--size", type=int, default=224, help="frame height = width in pixels")
    p.add_argument("--batch", type=int, default=1)
    p.add_argument(
        "--dtype",
        choices=tuple(timing.DTYPES),
        default="fp32",
        help="fp32, or autocast to bf16/fp16",
    )
    p.add_argument("--device", default="auto", help="auto (cuda > mps > cpu), cpu, cuda, mps")
    p.add_argument("--compile", action="store_true", help="torch.compile our model (opt-in)")
    p.add_argument("--modes", default="forward,train", help="forward,train (default both)")
    p.add_argument("--reps", type=int, default=3, help="timed rounds; medians reported")
    p.add_argument("--warmup", type=int, default=1, help="untimed rounds first")
    p.add_argument("--threads", type=int, help="torch threads (default: torch's)")
    p.add_argument("--no-hf", action="store_true", help="time ours only")
    p.add_argument("--no-memory", action="store_true", help="skip the memory subprocesses")
    p.add_argument("--no-check", action="store_true", help="skip the output comparison")
    p.add_argument("--schemes", action="store_true", help="compare the five schemes (ours)")
    p.add_argument(
        "--memory-curve",
        metavar="FRAMES",
        help="e.g. 2,4,8: peak memory of ours and HF over frames",
    )
    p.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    p.set_defaults(func=_bench_command)
