"""Cost curves of the five schemes: the paper's Fig. 3, extended (§4.1, "Varying the size").

Everything here is analytic (from ``cost.py``): GMACs per view (one multiply-add = one
"FLOP", fvcore), parameters, attention memory per layer and a training-memory estimate,
as functions of the frame size (224 -> 560 px) and of the number of frames (8 -> 96).

The lesson of Fig. 3: joint space-time attention's cost grows with (T·N)², divided
attention's with T·N·(T + N). With *eager* attention the (T·N)² scores are also stored,
and the paper's joint model runs out of a 32 GB V100 at 448 px or 32 frames; *fused*
(flash / memory-efficient) attention stores O(T·N) per layer, so memory stops being
quadratic — but the FLOPs still are.
"""

from __future__ import annotations

import csv
import io

from . import cost
from .config import SCHEMES, TimeSformerConfig

DEFAULT_SIZES = (224, 336, 448, 560)
DEFAULT_FRAMES = (8, 32, 64, 96)
V100_BYTES = 32 * 2**30  # the paper's GPU (§4.1)
GIB = 2**30


def config_at(preset: str, scheme: str, num_frames: int, image_size: int,
              **overrides) -> TimeSformerConfig | None:
    """The preset's config at a new clip size; None where the scheme cannot split the grid
    (local_global needs an even patch grid, e.g. not 336 px = 21×21 patches of 16)."""
    try:
        return TimeSformerConfig.preset(preset, attention=scheme, num_frames=num_frames,
                                        image_size=image_size, **overrides)
    except ValueError:
        return None


def activation_elements(cfg: TimeSformerConfig, fused: bool) -> tuple[int, int]:
    """Numbers stored for backward by one clip, and the largest transient extra.

    An estimate that counts the big tensors autograd keeps per block: each step's input,
    its normalised grouped tokens, q/k/v, the attention result and projection input
    (+ the extra Linear's input for added steps); eager attention also keeps the softmax
    probabilities (G·heads·L²), fused keeps one log-sum-exp per query and head. The MLP
    keeps its input, LayerNorm output and both hidden activations (2·4D). The transient
    is the scores and their gradient that live next to the stored probabilities during
    one eager layer (2·G·heads·L²); fused attention has none worth counting.
    """
    D, heads = cfg.embed_dim, cfg.num_heads
    T, N = cfg.num_frames, cfg.num_patches
    hidden = int(D * cfg.mlp_ratio)
    tokens = T * (1 + N) if cfg.attention == "space" else 1 + T * N
    block, transient = 0, 0
    for s in cost.step_shapes(cfg):
        rows = s.groups * s.length  # grouped tokens, CLS copies included
        core = s.groups * heads * s.length * (1 if fused else s.length)  # lse, or probabilities
        block += tokens * D + rows * D + 3 * rows * D + core + rows * D + rows * D
        block += T * N * D if s.added else 0
        if not fused:
            transient = max(transient, 2 * s.groups * heads * s.length**2)
    block += 2 * tokens * D + 2 * tokens * hidden  # MLP
    return cfg.depth * block, transient


def training_memory(cfg: TimeSformerConfig, batch: int = 1, fused: bool = False,
                    bytes_per_element: int = 4, optimizer_states: int = 1) -> dict:
    """Estimated bytes of one training step: weights, gradients, optimizer state
    (1 = SGD with momentum, the paper's optimizer; 2 = Adam) and activations of a batch."""
    p = cost.params(cfg) * bytes_per_element
    stored, transient = activation_elements(cfg, fused)
    parts = {"weights": p, "gradients": p, "optimizer": optimizer_states * p,
             "activations": batch * stored * bytes_per_element,
             "transient": batch * transient * bytes_per_element}
    parts["total"] = sum(parts.values())
    return parts


def max_batch(cfg: TimeSformerConfig, fused: bool = False, budget: int = V100_BYTES,
              **kwargs) -> int:
    """The largest batch whose training-memory estimate fits in ``budget`` bytes (0 = none)."""
    fixed = training_memory(cfg, 0, fused, **kwargs)["total"]
    per_clip = training_memory(cfg, 1, fused, **kwargs)["total"] - fixed
    return max(0, int((budget - fixed) // per_clip))


def cost_row(cfg: TimeSformerConfig, batch: int = 1) -> dict:
    """One point of the curves (memories in GiB, fp32)."""
    return {
        "scheme": cfg.attention, "frames": cfg.num_frames, "size": cfg.image_size,
        "params_m": cost.params(cfg) / 1e6,
        "gmacs": cost.macs(cfg) / 1e9,
        "keys_per_query": cost.keys_per_query(cfg),
        "attn_eager_gib": cost.attention_memory(cfg, batch, fused=False) / GIB,
        "attn_fused_gib": cost.attention_memory(cfg, batch, fused=True) / GIB,
        "train_eager_gib": training_memory(cfg, batch, fused=False)["total"] / GIB,
        "train_fused_gib": training_memory(cfg, batch, fused=True)["total"] / GIB,
        "max_batch_eager_32g": max_batch(cfg, fused=False),
        "max_batch_fused_32g": max_batch(cfg, fused=True),
    }


def sweep(schemes=SCHEMES, sizes=DEFAULT_SIZES, frames=DEFAULT_FRAMES, preset: str = "base",
          batch: int = 1, base_frames: int | None = None, base_size: int | None = None,
          num_classes: int = 400) -> list[dict]:
    """Fig. 3's two sweeps for each scheme: size at ``base_frames``, frames at ``base_size``
    (default: the first frame count and the first size, 8 and 224 px as in the paper).

    Rows carry ``sweep`` = "size" or "frames"; a scheme that cannot split a grid is skipped.
    """
    base_frames = base_frames or (frames[0] if frames else 8)
    base_size = base_size or (sizes[0] if sizes else 224)
    rows = []
    for scheme in schemes:
        points = [("size", base_frames, s) for s in sizes] + [("frames", f, base_size)
                                                             for f in frames]
        for kind, T, size in points:
            cfg = config_at(preset, scheme, T, size, num_classes=num_classes)
            if cfg is not None:
                rows.append({"sweep": kind, **cost_row(cfg, batch)})
    return rows


def first_over(rows: list[dict], scheme: str, kind: str, key: str = "train_eager_gib",
               budget_gib: float = V100_BYTES / GIB):
    """The first size (or frame count) of a sweep where ``key`` exceeds the budget, or None."""
    axis = "size" if kind == "size" else "frames"
    for r in sorted((r for r in rows if r["scheme"] == scheme and r["sweep"] == kind),
                    key=lambda r: r[axis]):
        if r[key] > budget_gib:
            return r[axis]
    return None


COLUMNS = ("sweep", "scheme", "frames", "size", "params_m", "gmacs", "keys_per_query",
           "attn_eager_gib", "attn_fused_gib", "train_eager_gib", "train_fused_gib",
           "max_batch_eager_32g", "max_batch_fused_32g")


def _number(x: float) -> str:
    """1261.8, 86.11, 0.0123: one decimal for big numbers, 3 significant digits below 100."""
    return f"{x:.1f}" if abs(x) >= 100 else f"{x:.3g}"


def format_table(rows: list[dict]) -> str:
    """A Markdown table of ``sweep`` rows."""
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    for r in rows:
        cells = [_number(r[c]) if isinstance(r[c], float) else str(r[c]) for c in COLUMNS]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def to_csv(rows: list[dict]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def plot_cost_curves(rows: list[dict], batch: int = 1):
    """The paper's Fig. 3 for all schemes: GMACs, params, attention and training memory
    against frame size (top) and frame count (bottom). Returns a matplotlib Figure."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(17, 7.5), layout="constrained")
    axes = fig.subplots(2, 4)
    panels = [("gmacs", None, "GMACs per view (1 MAC = 1 FLOP)"),
              ("params_m", None, "parameters (M); space = joint, divided = local_global"),
              ("attn_eager_gib", "attn_fused_gib", f"attention memory, one layer, batch {batch} (GiB)"),
              ("train_eager_gib", "train_fused_gib", f"training memory, batch {batch} (GiB)")]
    schemes = list(dict.fromkeys(r["scheme"] for r in rows))
    colours = dict(zip(SCHEMES, ["tab:gray", "tab:red", "tab:blue", "tab:green", "tab:purple"]))
    for row_axes, kind, axis in ((axes[0], "size", "size"), (axes[1], "frames", "frames")):
        for ax, (key, fused_key, title) in zip(row_axes, panels):
            for scheme in schemes:
                pts = sorted((r for r in rows if r["scheme"] == scheme and r["sweep"] == kind),
                             key=lambda r: r[axis])
                xs = [r[axis] for r in pts]
                ax.plot(xs, [r[key] for r in pts], "o-", color=colours.get(scheme), label=scheme)
                if fused_key:
                    ax.plot(xs, [r[fused_key] for r in pts], "--", color=colours.get(scheme))
            if key.startswith("train"):
                ax.axhline(V100_BYTES / GIB, color="k", lw=0.8)
                ax.text(xs[0] if xs else 0, V100_BYTES / GIB * 1.15, "32 GB V100", fontsize=8)
            if fused_key:  # memories span orders of magnitude; GMACs stay linear as in Fig. 3
                ax.set_yscale("log")
            ax.set_xlabel("frame size (px)" if kind == "size" else "frames")
            ax.set_title(title, fontsize=9)
            ax.grid(alpha=0.3)
    axes[0, 0].legend(fontsize=8)
    axes[0, 2].plot([], [], "k-", label="eager (T·N × T·N scores)")
    axes[0, 2].plot([], [], "k--", label="fused (flash / mem-efficient)")
    axes[0, 2].legend(fontsize=7, loc="upper left")
    fig.suptitle("Cost of the five attention schemes (paper Fig. 3 extended): top 8 frames, "
                 "bottom 224 px; ViT-B/16, fp32")
    return fig


def _int_list(text: str) -> tuple[int, ...]:
    try:
        values = tuple(int(v) for v in text.replace(",", " ").split())
    except ValueError:
        values = ()
    if not values or min(values) < 1:
        raise ValueError(f"expected positive integers separated by commas, got {text!r}")
    return values


def _cost_command(args) -> int:
    """``mini-timesformer cost``: the table, the 32 GB crossings, optional plots/measurement."""
    from .config import canonical_scheme

    schemes = tuple(canonical_scheme(s) for s in args.schemes.split(","))
    rows = sweep(schemes, _int_list(args.sizes), _int_list(args.frames), args.preset,
                 args.batch)
    if args.csv:
        print(to_csv(rows), end="")
    else:
        print(format_table(rows))
        print(f"\n(per view; 1 MAC = 1 FLOP (fvcore); memory fp32 in GiB, batch {args.batch}; "
              "training = weights + grads + SGD momentum + activations, eager vs fused)")
        for scheme in schemes:
            for kind in ("size", "frames"):
                eager = first_over(rows, scheme, kind)
                fused = first_over(rows, scheme, kind, "train_fused_gib")
                print(f"{scheme:>12} over 32 GB along {kind:>6}: eager at {eager or '-'}, "
                      f"fused at {fused or '-'}")
    if args.plot:
        fig = plot_cost_curves(rows, args.batch)
        fig.savefig(args.plot, dpi=110)
        print(f"curves written to {args.plot}")
    if args.measure:
        from .measure import format_measured, measure_sweep, plot_measured

        measured = measure_sweep(sizes=_int_list(args.measure_sizes), batch=2)
        print(format_measured(measured))
        if args.plot:
            out = str(args.plot).rsplit(".", 1)
            path = f"{out[0]}_measured.{out[1] if len(out) > 1 else 'png'}"
            plot_measured(measured).savefig(path, dpi=110)
            print(f"measured plot written to {path}")
    return 0


def add_commands(subparsers) -> None:
    """Register ``mini-timesformer cost``."""
    p = subparsers.add_parser("cost", help="GMACs, params and memory of the five schemes vs "
                                           "frame size and frames (paper Fig. 3)")
    p.add_argument("--preset", default="base", help="model size (default: base, as the paper)")
    p.add_argument("--schemes", default=",".join(SCHEMES), help="comma-separated schemes")
    p.add_argument("--sizes", default=",".join(map(str, DEFAULT_SIZES)),
                   help="frame sizes in px, at the first frame count (default: 224,336,448,560)")
    p.add_argument("--frames", default=",".join(map(str, DEFAULT_FRAMES)),
                   help="frame counts, at the first size (default: 8,32,64,96)")
    p.add_argument("--batch", type=int, default=1, help="clips per GPU for memory (default 1)")
    p.add_argument("--plot", metavar="OUT.png", help="also draw the curves")
    p.add_argument("--csv", action="store_true", help="print CSV instead of Markdown")
    p.add_argument("--measure", action="store_true",
                   help="also time fwd+bwd of nano joint/divided models on this device")
    p.add_argument("--measure-sizes", default="32,48,64", help="sizes for --measure (px)")
    p.set_defaults(func=_cost_command)


__all__ = ["DEFAULT_SIZES", "DEFAULT_FRAMES", "V100_BYTES", "config_at", "activation_elements",
           "training_memory", "max_batch", "cost_row", "sweep", "first_over", "format_table",
           "to_csv", "plot_cost_curves", "add_commands"]
