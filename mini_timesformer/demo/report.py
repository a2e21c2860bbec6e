"""The demo's report: results.json, a Markdown table, findings stated from the numbers,
training curves, cost vs accuracy and an attention-rollout figure (``run.py`` calls it).
Rows: the five schemes, then the 3-D CNN baselines (``cnn.ARCHS``), same columns."""

from __future__ import annotations

import json
from pathlib import Path

from ..cnn import ARCHS
from ..config import SCHEMES
from ..markdown import markdown_table
from ..perf.table1 import format_table1, table1_rows
from ..runtime import last_checkpoint

MOTION_CEILING = 0.5  # space-only cannot tell a clip from its reverse (demo/__init__.py)
GOOD = 0.9  # what a scheme that models time should reach on motion clips


ROWS = (*SCHEMES, *ARCHS)  # the table's order: the five schemes, then the 3-D CNNs
RESULT_KEYS = ("accuracy", "params", "gmacs", "train_seconds", "infer_ms")  # results.json


def format_results(results: dict) -> str:
    """Model | params | GMACs/view | inference ms/clip | top-1 and training time per dataset."""
    kinds = list(results)
    header = ["model", "params", "GMACs/view*", "infer ms/clip†"]
    header += [f"{k} {column}" for k in kinds for column in ("top-1", "train s")]
    table = []
    for name in ROWS:
        rows = [results[k].get(name) for k in kinds]
        first = next((r for r in rows if r), None)
        if first is None:
            continue
        cells = [name, f"{first['params']:,}", f"{first['gmacs']:.3g}", f"{first['infer_ms']:.2f}"]
        for r in rows:
            cells += [f"{r['accuracy']:.1%}", f"{r['train_seconds']:.1f}"] if r else ["–", "–"]
        table.append(cells)
    return markdown_table(header, table, "l" + "r" * (len(header) - 1))


def cnn_findings(results: dict) -> list[str]:
    """Each 3-D CNN beside divided attention (the paper's TimeSformer), from the numbers."""
    out = []
    for kind, rows in results.items():
        ref = rows.get("divided")
        for arch in (a for a in ARCHS if a in rows):
            r = rows[arch]
            line = (
                f"- {kind.capitalize()}: the 3-D CNN {arch} reaches {r['accuracy']:.1%} "
                f"with {r['params']:,} params, {r['gmacs']:.3g} GMACs/view, "
                f"{r['train_seconds']:.0f} s of training and {r['infer_ms']:.2f} ms per clip"
            )
            if ref:
                line += (
                    f" (divided: {ref['accuracy']:.1%}, {ref['params']:,}, "
                    f"{ref['gmacs']:.3g}, {ref['train_seconds']:.0f} s, {ref['infer_ms']:.2f} ms)"
                )
            out.append(line + ".")
    if out:
        out.append(
            "- Paper, Table 2 (K400, ViT-B scale): TimeSformer 0.59 TFLOPs for 3 views and "
            "416 V100-hours of training vs SlowFast R50's 1.97 TFLOPs and 3840 hours."
        )
    return out


def findings(results: dict) -> list[str]:
    """What the measured numbers say about the paper's claim (no number is assumed)."""
    out = []
    motion = {s: r for s, r in results.get("motion", {}).items() if s in SCHEMES}
    timed = {s: r["accuracy"] for s, r in motion.items() if s != "space"}
    if timed:
        reached = [s for s, a in timed.items() if a >= GOOD]
        missed = [f"{s} ({a:.1%})" for s, a in timed.items() if a < GOOD]
        out.append(
            f"- Motion: {len(reached)} of {len(timed)} schemes that model time reach "
            f"≥ {GOOD:.0%} top-1"
            + (f" ({', '.join(reached)})" if reached else "")
            + (f"; below: {', '.join(missed)}." if missed else ".")
        )
    if "space" in motion:
        acc = motion["space"]["accuracy"]
        verdict = (
            "at"
            if abs(acc - MOTION_CEILING) <= 0.05
            else ("below" if acc < MOTION_CEILING else "above (unexpected: check the data)")
        )
        out.append(
            f"- Motion: space-only attention reaches {acc:.1%}, {verdict} its 50% "
            f"ceiling — it averages frames, so a clip and its reverse look the same "
            f"(cf. SSv2 in Table 1: 36.6 vs 59.5)."
        )
        if timed:
            gaps = [a - acc for a in timed.values()]
            beaten = sum(g > 0 for g in gaps)
            out.append(
                f"- Motion: {beaten} of {len(gaps)} schemes that model time beat "
                f"space-only, by {min(gaps) * 100:+.1f} to {max(gaps) * 100:+.1f} "
                f"points."
            )
    appearance = {s: r for s, r in results.get("appearance", {}).items() if s in SCHEMES}
    if "space" in appearance and len(appearance) > 1:
        acc = appearance["space"]["accuracy"]
        best_scheme, best = max(
            ((s, r["accuracy"]) for s, r in appearance.items()), key=lambda item: item[1]
        )
        if best - acc <= 0.05:  # space-only is (within 5 points of) the best
            out.append(
                f"- Appearance: space-only reaches {acc:.1%} (best: {best_scheme} "
                f"{best:.1%}) — one frame is enough, as on Kinetics (Table 1: 76.9 vs "
                f"78.0)."
                + (
                    ""
                    if best >= GOOD
                    else f" No scheme reaches {GOOD:.0%} "
                    f"within this budget: the tiny models are still "
                    f"learning the shapes."
                )
            )
        elif best < GOOD:
            out.append(
                f"- Appearance: not learned within this budget (best {best_scheme} "
                f"{best:.1%}, space-only {acc:.1%}), so it says nothing yet about "
                f"space-only attention on appearance."
            )
        else:
            out.append(
                f"- Appearance: space-only reaches {acc:.1%}, {best - acc:.1%} behind "
                f"{best_scheme} ({best:.1%}): more than expected."
            )
    expected = bool(
        timed
        and all(a >= GOOD for a in timed.values())
        and "space" in motion
        and motion["space"]["accuracy"] <= MOTION_CEILING + 0.05
    )
    out.append(
        "- The expected outcome "
        + ("holds" if expected else "does NOT fully hold")
        + " in this run."
    )
    return out + cnn_findings(results)


def _curves(out: Path, results: dict) -> list[str]:
    from ..viz.training import curves_figure, read_csv

    names = []
    for kind, rows in results.items():
        runs = {s: read_csv(Path(r["run"]) / "steps.csv") for s, r in rows.items()}
        fig = curves_figure(runs, title=f"{kind} clips: training curves (same budget)")
        fig.savefig(out / f"curves_{kind}.png", dpi=110, bbox_inches="tight")
        names.append(f"curves_{kind}.png")
    return names


def _cost_accuracy(out: Path, results: dict) -> str:
    from ..viz.cost_figures import cost_accuracy_figure

    points = {
        kind: [(s, r["gmacs"], r["accuracy"]) for s, r in rows.items()]
        for kind, rows in results.items()
    }
    cost_accuracy_figure(points).savefig(out / "cost_vs_accuracy.png", dpi=110, bbox_inches="tight")
    return "cost_vs_accuracy.png"


def _attention(out: Path, results: dict, budget) -> str | None:
    """Attention rollout (Abnar & Zuidema 2020, the paper's Fig. 7) of the best motion model
    among the schemes that model time."""
    try:
        from ..viz.maps import plot_attention_frames
        from ..viz.rollout import attention_rollout
    except ImportError:
        return None
    timed = {s: r for s, r in results.get("motion", {}).items() if s in SCHEMES and s != "space"}
    if not timed:
        return None
    scheme = max(timed, key=lambda s: timed[s]["accuracy"])
    row = timed[scheme]
    from ..data import SyntheticVideos, to_float_clip
    from ..model import TimeSformer
    from ..train.config import VAL_SEED_OFFSET

    model = TimeSformer.from_pretrained(last_checkpoint(row["run"]))
    clips = SyntheticVideos(
        "motion",
        num_frames=budget.num_frames,
        image_size=budget.image_size,
        size=1,
        seed=VAL_SEED_OFFSET,
    )
    frames, label = clips[0]  # uint8 (T, 3, H, W)
    video = to_float_clip(frames, model.config.mean, model.config.std)[None]  # (1, T, 3, H, W)
    heat = attention_rollout(model, video)[0]  # (T, H', W')
    predicted = model.eval()(video).argmax(-1).item()
    fig = plot_attention_frames(
        frames,
        heat,
        title=f"{scheme}, attention rollout: true "
        f"{clips.classes[label]}, predicted {clips.classes[predicted]}",
    )
    fig.savefig(out / "attention.png", dpi=110, bbox_inches="tight")
    return "attention.png"


def write_report(out: Path, results: dict, meta: dict, budget) -> dict:
    """Write results.json, run_info.json and report.md (+ figures); returns the table and
    findings."""
    out = Path(out)
    write_results(out, results, meta)
    table, found = format_results(results), findings(results)
    figures = _curves(out, results) + [_cost_accuracy(out, results)]
    attention = _attention(out, results, budget)
    figures += [attention] if attention else []
    (out / "report.md").write_text(report_text(meta, table, found, figures))
    return {"table": table, "findings": found}


def write_results(out: Path, results: dict, meta: dict) -> None:
    """results.json (accuracy, params, GMACs, seconds per kind and scheme) and run_info.json."""
    clean = {
        k: {s: {key: r[key] for key in RESULT_KEYS} for s, r in rows.items()}
        for k, rows in results.items()
    }
    (out / "results.json").write_text(json.dumps(clean, indent=2) + "\n")
    (out / "run_info.json").write_text(json.dumps(meta, indent=2) + "\n")


def settings_text(meta: dict) -> list[str]:
    """The report's first lines: device, time, model, optimiser and data of the run."""
    s = meta["settings"]
    init = (
        f"From-scratch init for small models (`train.small_model_init`: LeCun-normal "
        f"weights, position/time embeddings std {s['embed_std']}); with ViT's 0.02 init "
        f"the same budget stays near 50% on motion."
        if s["embed_std"]
        else "ViT init (model.py)."
    )
    return [
        f"Device: {meta['device']}"
        + (
            f", {meta['parallel_runs']} run(s) at a time with {meta['threads']} CPU thread(s) each"
            if meta["threads"]
            else ""
        )
        + f". Total time: {meta['total_seconds'] / 60:.1f} min (budget {meta['budget']!r}).",
        f"Model: depth {s['depth']}, width {s['embed_dim']}, {s['num_heads']} heads, patch "
        f"{s['patch_size']}; clips {s['num_frames']}×{s['image_size']}²; AdamW lr {s['lr']} "
        f"with warmup + cosine, batch {s['batch_size']}; {s['motion_steps']} steps per scheme "
        f"on motion, {s['appearance_steps']} on appearance; {s['train_clips']} training and "
        f"{s['val_clips']} validation clips per dataset (8 classes each). Accuracy = "
        f"validation top-1. " + init,
    ] + (
        [
            f"3-D CNN rows ({', '.join(s['cnn_archs'])}): `cnn.VideoResNet`, preset "
            f"`{s['cnn_preset']}` (`cnn.CNN_PRESETS`), He init, the same clips, optimiser, "
            f"batch and steps."
        ]
        if s.get("cnn_archs")
        else []
    )


def report_text(meta: dict, table: str, found: list[str], figures: list[str]) -> str:
    """report.md: settings, the results table, findings, figures, the paper-scale Table 1."""
    lines = [
        "# mini-timesformer demo: five attention schemes and a 3-D CNN, one budget",
        "",
        *settings_text(meta),
        "",
        table,
        "",
        "*GMACs per view (one multiply-add = one FLOP, fvcore convention, as the paper). "
        "Train s = seconds of optimiser steps. †Inference: median of 10 forward passes on "
        "one clip (batch 1, no gradients) after training, on the training run's device "
        "and threads (measured while the other runs train: a shared machine).",
        "",
        "## What the numbers say",
        "",
        *found,
        "",
        "## Figures",
        "",
        *[f"![{name}]({name})" for name in figures],
        "",
        "## The same schemes at the paper's scale (ViT-B, 8×224², analytic)",
        "",
        format_table1(table1_rows()),
        "",
    ]
    return "\n".join(lines)
