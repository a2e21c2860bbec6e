"""The report of ``demo --long``: results.json, a Markdown table, findings stated from the
measured numbers, and one figure — accuracy vs frames (the paper's Table 8) beside cost vs
frames (Fig. 3), in miniature (``long_range.py`` calls it)."""

from __future__ import annotations

import json
from pathlib import Path

from matplotlib.figure import Figure  # no pyplot: works headless and in notebooks alike

from .. import cost
from ..config import TimeSformerConfig
from ..data.synthetic_long import LONG_CLASSES
from ..markdown import markdown_table
from ..runtime import atomic_write_text
from ..viz.colours import SCHEME_COLOURS

PAPER_TABLE8 = {8: 56.8, 32: 61.2, 64: 62.2, 96: 62.6}  # HowTo100M top-1 (§4.6, Table 8)
CHANCE = 1 / len(LONG_CLASSES)


def format_long_results(results: dict) -> str:
    """One row per (scheme, T): top-1 vs ceiling, measured time and memory, analytic cost."""
    header = ("scheme", "frames", "ceiling", "top-1", "train s/step", "fwd+bwd s")
    header += ("peak MiB (measured)", "MiB (analytic)", "GMACs/clip")
    cells = [
        (
            scheme,
            T,
            f"{r['ceiling']:.1%}",
            f"{r['accuracy']:.1%}",
            f"{r['seconds_per_step']:.3f}",
            f"{r.get('step_seconds', float('nan')):.3f}",
            f"{r.get('peak_mib', float('nan')):.0f}",
            f"{r['analytic_mib']:.0f}",
            f"{r['gmacs']:.4f}",
        )
        for scheme, rows in results.items()
        for T, r in rows.items()
    ]
    return markdown_table(header, cells, "lrrrrrrrr")


def long_findings(results: dict) -> list[str]:
    """What the numbers say about RQ5 (no number is assumed)."""
    out = []
    for scheme, rows in results.items():
        if len(rows) < 2:
            continue
        short, long = min(rows), max(rows)
        gain = rows[long]["accuracy"] - rows[short]["accuracy"]
        verdict = "beats" if gain > 0 else "does NOT beat"
        out.append(
            f"- {scheme}: {long} frames {verdict} {short} frames: "
            f"{rows[long]['accuracy']:.1%} vs {rows[short]['accuracy']:.1%} "
            f"({gain * 100:+.1f} points; ceilings {rows[long]['ceiling']:.1%} vs "
            f"{rows[short]['ceiling']:.1%}). "
            f"It costs {rows[long]['gmacs'] / rows[short]['gmacs']:.1f}× the GMACs"
            + (
                f" and {rows[long]['step_seconds'] / rows[short]['step_seconds']:.1f}× "
                f"the measured step time"
                if "step_seconds" in rows[long]
                else ""
            )
            + "."
        )
        gaps = [f"{T}: {100 * (r['ceiling'] - r['accuracy']):+.1f}" for T, r in rows.items()]
        out.append(f"- {scheme}: points below the sampler's ceiling per T — {', '.join(gaps)}.")
    div, joint = results.get("divided", {}), results.get("joint", {})
    both = sorted(set(div) & set(joint))
    if both:
        ratios = ", ".join(f"{T}: {joint[T]['gmacs'] / div[T]['gmacs']:.2f}×" for T in both)
        T, N = both[-1], div[both[-1]]["patches"]
        base = {
            a: cost.macs(TimeSformerConfig.preset("base", attention=a), num_frames=T)
            for a in ("joint", "divided")
        }
        out.append(
            f"- cost, joint / divided GMACs per T — {ratios}. A joint query meets N·T "
            f"keys, a divided one N + T: with N = {N} patches per frame the gap opens "
            f"slowly; at the paper's 224 px (N = 196) joint costs "
            f"{base['joint'] / base['divided']:.1f}× divided at {T} frames (`cost`)."
        )
    return out


def plot_long_range(results: dict, paper: bool = True):
    """Left: top-1 vs frames per scheme, with the sampler's ceiling and chance (Table 8 in
    miniature). Right: measured step time and analytic GMACs vs frames (Fig. 3)."""
    fig = Figure(figsize=(11, 4), layout="constrained")
    acc_ax, cost_ax = fig.subplots(1, 2)
    ceiling = {}
    for scheme, rows in results.items():
        Ts, colour = list(rows), SCHEME_COLOURS.get(scheme)
        acc_ax.plot(
            Ts,
            [100 * rows[T]["accuracy"] for T in Ts],
            "o-",
            color=colour,
            label=f"{scheme} (trained per T)",
        )
        ceiling |= {T: r["ceiling"] for T, r in rows.items()}
        if "step_seconds" in rows[Ts[0]]:
            cost_ax.plot(
                Ts,
                [rows[T]["step_seconds"] for T in Ts],
                "o-",
                color=colour,
                label=f"{scheme}: measured s/step",
            )
    Ts = sorted(ceiling)
    acc_ax.plot(Ts, [100 * ceiling[T] for T in Ts], "k--", lw=1, label="sampler ceiling")
    acc_ax.axhline(100 * CHANCE, color="k", ls=":", lw=1, label="chance")
    if paper:
        acc_ax.plot(
            list(PAPER_TABLE8),
            list(PAPER_TABLE8.values()),
            "s:",
            color="tab:green",
            label="paper, HowTo100M (Table 8)",
        )
    acc_ax.set(
        xscale="log",
        xlabel="frames sampled from the clip",
        ylabel="top-1 (%)",
        ylim=(0, 105),
        title="Does a longer clip pay off? (Table 8 in miniature)",
    )
    gmacs_ax = cost_ax.twinx()
    for scheme, rows in results.items():
        gmacs_ax.plot(
            list(rows),
            [r["gmacs"] for r in rows.values()],
            "--",
            color=SCHEME_COLOURS.get(scheme),
            label=f"{scheme}: GMACs (analytic)",
        )
    cost_ax.set(
        xscale="log",
        xlabel="frames",
        ylabel="training step (s, measured)",
        title="What does it cost? (Fig. 3 in miniature)",
    )
    gmacs_ax.set_ylabel("GMACs per clip (dashed)")
    ticks = sorted(set(Ts) | (set(PAPER_TABLE8) if paper else set()))
    for ax, xs in ((acc_ax, ticks), (cost_ax, Ts)):
        ax.set_xticks(xs, [str(T) for T in xs])
        ax.minorticks_off()
        ax.grid(alpha=0.3)
    acc_ax.legend(fontsize=7, loc="upper left")
    handles = cost_ax.get_legend_handles_labels()
    extra = gmacs_ax.get_legend_handles_labels()
    cost_ax.legend(handles[0] + extra[0], handles[1] + extra[1], fontsize=7, loc="upper left")
    return fig


def write_long_report(out: Path, results: dict, meta: dict) -> dict:
    """results.json, run_info.json, long_range.png and report.md; returns table + findings."""
    out = Path(out)
    atomic_write_text(
        out / "results.json",
        json.dumps(
            {s: {str(T): r for T, r in rows.items()} for s, rows in results.items()}, indent=2
        ),
    )
    atomic_write_text(out / "run_info.json", json.dumps(meta, indent=2) + "\n")
    plot_long_range(results).savefig(out / "long_range.png", dpi=120)
    table, found = format_long_results(results), long_findings(results)
    s, m = meta["settings"], meta["settings"]["model"]
    load = (
        f"; load average {meta['load_at_start']:.1f} at the start, "
        f"{meta['load_at_end']:.1f} at the end"
        if meta.get("load_at_start")
        else ""
    )
    text = "\n".join(
        [
            "# mini-timesformer demo --long: more frames, better accuracy? (RQ5)",
            "",
            f"Device: {meta['device']}, {meta['parallel_runs']} run(s) at a time, "
            f"{meta['threads']} thread(s) each{load}. Total time: "
            f"{meta['total_seconds'] / 60:.1f} min (budget {meta['budget']!r}).",
            "",
            f"Data: `long` synthetic clips of {s['clip_frames']} frames × {m['image_size']}² "
            f"(the class is the number of 2-frame flashes, 1–4; chance {CHANCE:.0%}); every run "
            f"samples T frames uniformly (every {s['clip_frames']}/T). {m['train_clips']} "
            f"training, {m['val_clips']} validation clips. Model: depth {m['depth']}, width "
            f"{m['embed_dim']}, {m['num_heads']} heads, patch {m['patch_size']}; AdamW lr "
            f"{m['lr']}, batch {m['batch_size']}, {s['steps']} steps per run. Ceiling = the best "
            f"top-1 possible from the T sampled frames (`sampler_ceiling`). Step time and peak "
            f"memory: one forward + backward pass at the training batch (`perf.measure`); "
            f"analytic memory: `cost.training_memory` (fused attention).",
            "",
            table,
            "",
            *found,
            "",
            "![accuracy and cost vs frames](long_range.png)",
            "",
            "Paper (§4.6, Table 8, HowTo100M top-1): "
            + ", ".join(f"{T} frames {a}" for T, a in PAPER_TABLE8.items())
            + ".",
            "",
        ]
    )
    atomic_write_text(out / "report.md", text)
    return {"table": table, "findings": found}
