"""Cost figures: the paper's Fig. 3 for all schemes (analytic, from ``perf.curves.sweep``),
measured time and memory beside the estimates (``perf.measure.measure_sweep``), and
accuracy against cost for the demo. Each returns a matplotlib ``Figure``."""

from __future__ import annotations

from matplotlib.figure import Figure  # no pyplot: works headless and in notebooks alike

from ..cost import GIB, V100_BYTES
from .colours import scheme_colour


def plot_cost_curves(rows: list[dict], batch: int = 1):
    """The paper's Fig. 3 for all schemes: GMACs, params, attention and training memory
    against frame size (top) and frame count (bottom). Returns a matplotlib Figure."""
    fig = Figure(figsize=(17, 7.5), layout="constrained")
    axes = fig.subplots(2, 4)
    panels = [
        ("gmacs", None, "GMACs per view (1 MAC = 1 FLOP)"),
        ("params_m", None, "parameters (M); space = joint, divided = local_global"),
        ("attn_eager_gib", "attn_fused_gib", f"attention memory, one layer, batch {batch} (GiB)"),
        ("train_eager_gib", "train_fused_gib", f"training memory, batch {batch} (GiB)"),
    ]
    schemes = list(dict.fromkeys(r["scheme"] for r in rows))
    for row_axes, kind, axis in ((axes[0], "size", "size"), (axes[1], "frames", "frames")):
        for ax, (key, fused_key, title) in zip(row_axes, panels):
            for scheme in schemes:
                pts = sorted(
                    (r for r in rows if r["scheme"] == scheme and r["sweep"] == kind),
                    key=lambda r: r[axis],
                )
                xs = [r[axis] for r in pts]
                ax.plot(xs, [r[key] for r in pts], "o-", color=scheme_colour(scheme), label=scheme)
                if fused_key:
                    ax.plot(xs, [r[fused_key] for r in pts], "--", color=scheme_colour(scheme))
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
    fig.suptitle(
        "Cost of the attention schemes (paper Fig. 3 extended): top 8 frames, "
        "bottom 224 px; ViT-B/16, fp32"
    )
    return fig


def plot_measured(rows: list[dict]):
    """Measured time and peak memory (markers) beside the analytic curves (lines).

    Time is compared with GMACs × one throughput fitted to all fused points (a straight
    line means time follows the MAC count); memory with ``cost.training_memory``.
    """
    fig = Figure(figsize=(11, 4.2), layout="constrained")
    ax_t, ax_m = fig.subplots(1, 2)
    fused = [r for r in rows if not r["eager"]]
    rate = sum(r["gmacs"] * r["time_s"] for r in fused) / max(
        sum(r["gmacs"] ** 2 for r in fused), 1e-12
    )  # s per GMAC, least squares
    for scheme in dict.fromkeys(r["scheme"] for r in rows):
        for eager, marker, style in ((False, "o", "-"), (True, "s", "--")):
            pts = sorted(
                (r for r in rows if r["scheme"] == scheme and r["eager"] == eager),
                key=lambda r: r["size"],
            )
            if not pts:
                continue
            xs = [r["size"] for r in pts]
            label = f"{scheme} {'eager' if eager else 'fused'}"
            c = scheme_colour(scheme)
            ax_t.plot(
                xs,
                [r["time_s"] * 1e3 for r in pts],
                marker,
                color=c,
                label=label,
                mfc="none" if eager else c,
            )
            if not eager:
                ax_t.plot(xs, [r["gmacs"] * rate * 1e3 for r in pts], "-", color=c, alpha=0.6)
            ax_m.plot(
                xs,
                [r["peak_bytes"] / 2**20 for r in pts],
                marker,
                color=c,
                label=f"{label} measured",
                mfc="none" if eager else c,
            )
            ax_m.plot(xs, [r["estimate_bytes"] / 2**20 for r in pts], style, color=c, alpha=0.6)
    device = rows[0]["device"] if rows else "?"
    ax_t.set(
        xlabel="frame size (px)",
        ylabel="time per step (ms)",
        title=f"fwd+bwd time on {device} (line: GMACs × fitted rate)",
    )
    ax_m.set(
        xlabel="frame size (px)",
        ylabel="peak memory (MiB)",
        title="peak memory (lines: analytic estimate)",
    )
    for ax in (ax_t, ax_m):
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    return fig


def cost_accuracy_figure(points: dict[str, list[tuple[str, float, float]]]):
    """Accuracy against GMACs per view; ``points``: dataset -> [(scheme, gmacs, accuracy)]."""
    fig = Figure(figsize=(6, 4))
    ax = fig.subplots()
    for (dataset, rows), marker in zip(points.items(), "os^D"):
        ax.scatter(
            [g for _, g, _ in rows], [a for _, _, a in rows], marker=marker, label=dataset, s=50
        )
        for scheme, g, a in rows:
            ax.annotate(scheme, (g, a), textcoords="offset points", xytext=(4, 4), fontsize=8)
    ax.set(
        xlabel="GMACs per view (1 MAC = 1 FLOP, fvcore)", ylabel="validation top-1", ylim=(0, 1.05)
    )
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    return fig
