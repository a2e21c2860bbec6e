"""The run's report: what was trained, how it ended, and known plateaus in plain words.

``diagnose`` recognises two plateaus from the validation confusion matrix (our checks):

* **chance** — top-1 no better than guessing among the classes;
* **order-blind** — given the data's pairs of reversed classes (on ``synthetic-motion``
  class 2k+1 is class 2k played backwards, ``data.synthetic.reversed_pairs``), so
  the *set* of frames says which pair a clip belongs to and only their *order* says the
  direction. A model that sees the set but not the order picks the right pair and then
  guesses the direction: pair accuracy near 100%, accuracy within the right pair near
  50%, top-1 at most 50%, and a loss about ln 2 above what the pair alone would cost.
  With the pair right for 50-80% of the clips the run is still *heading for* it.
  Space-only attention is order-blind by construction (paper §4.1, Table 1: its collapse
  on Something-Something-V2); tiny models with ViT's init sit there for a long time
  (docs/training.md).

Both tests use the counts, not one threshold on top-1: a 50% top-1 made of scattered
errors (right pair half the time) is not the order-blind plateau.
"""

from __future__ import annotations

from pathlib import Path

from ..runtime import atomic_write_text

MIN_CLIPS = 32  # fewer validation clips say nothing either way
PAIR_ACCURACY_MIN = 0.8  # "sees which pair": predicted class in the clip's pair
PAIR_ACCURACY_TREND = 0.5  # twice the 25% of guessing: pairs learnt, order not (yet)
DIRECTION_BAND = 0.1  # accuracy within the right pair in 0.5 ± this: guessing the order
CHANCE_BAND = 0.05  # top-1 within 1/C + this: guessing the class


def pair_counts(confusion, pairs) -> tuple[float, float, float]:
    """``(clips, clips predicted in their pair, clips predicted exactly)`` of a confusion
    matrix (rows: true class, columns: predicted)."""
    total = sum(map(sum, confusion))
    exact = sum(confusion[c][c] for c in range(len(confusion)))
    in_pair = sum(confusion[a][b] for pair in pairs for a in pair for b in pair)
    return float(total), float(in_pair), float(exact)


def diagnose(val: dict, attention: str, init: str, pairs=None) -> list[dict]:
    """Known plateaus of validation metrics ``val`` (with ``confusion``); [] if none.

    ``pairs``: the data's (forward, backward) class pairs, if it has them (the synthetic
    motion set: ``data.synthetic.reversed_pairs``); without them only chance is recognised.
    Each finding: ``{"plateau", "message", ...numbers}``; the message says what to try.
    """
    confusion = (val or {}).get("confusion")
    if not confusion:
        return []
    C = len(confusion)
    total, in_pair, exact = pair_counts(confusion, pairs or [])
    if total < MIN_CLIPS:
        return []
    top1 = exact / total
    if pairs is not None and in_pair > 0:
        pair_acc, direction = in_pair / total, exact / in_pair
        if pair_acc >= PAIR_ACCURACY_TREND and abs(direction - 0.5) <= DIRECTION_BAND:
            reached = pair_acc >= PAIR_ACCURACY_MIN
            return [
                {
                    "plateau": "order-blind",
                    "reached": reached,
                    "top1": top1,
                    "pair_accuracy": pair_acc,
                    "direction_accuracy": direction,
                    "message": _order_blind_message(
                        top1, pair_acc, direction, attention, init, reached
                    ),
                }
            ]
    if top1 <= 1 / C + CHANCE_BAND:
        return [
            {
                "plateau": "chance",
                "top1": top1,
                "message": (
                    f"Validation top-1 {top1:.1%} is at chance ({1 / C:.1%} for {C} "
                    f"classes): the model has not learnt anything yet. Try more "
                    f"steps, another --lr (e.g. 3x lower if the loss jumps around)"
                    + (", or --init small" if init == "vit-default" else "")
                    + "."
                ),
            }
        ]
    return []


def _order_blind_message(top1, pair_acc, direction, attention, init, reached) -> str:
    where = "sits at" if reached else "is heading for"
    seen = (
        f"Validation top-1 {top1:.1%} {where} the order-blind plateau of synthetic "
        f"motion: the model picks the right pair of reversed classes for {pair_acc:.0%} of "
        f"the clips but the direction within the pair only {direction:.0%} of the time "
        f"(guessing: 50%). It sees which frames a clip has, not their order: that way top-1 "
        f"cannot pass 50% and the loss cannot fall below ln 2 = 0.69."
    )
    if attention == "space":
        return seen + (
            " Space-only attention never compares frames, so this is its ceiling "
            "(the paper's Table 1, Something-Something-V2): train a scheme that "
            "models time (--attention divided, joint, ...) to go past it."
        )
    tips = ["more steps (--steps / --epochs)", "a higher or lower --lr"]
    if init == "vit-default":
        tips.insert(
            0, "--init small (ViT's init keeps tiny models here for 800+ steps, docs/training.md)"
        )
    return seen + " Try " + ", ".join(tips[:-1]) + " or " + tips[-1] + "."


def write_report(out, cfg, summary: dict, findings: list[dict], snapshots=None) -> Path:
    """``OUT/report.md``: the run in a few lines, its findings and its figures."""
    out = Path(out)
    val = summary.get("val") or {}
    built = summary["init"] != "model passed to train()"
    lines = [
        f"# Training run `{out.name}`",
        "",
        "- model: "
        + (f"preset `{cfg.preset}`, " if built else "")
        + (
            f"attention `{summary['attention']}`, "
            if summary.get("model", "timesformer") == "timesformer"
            else f"3-D CNN `{summary['model']}`, "
        )
        + f"{summary['params']:,} parameters, "
        f"init `{summary['init']}`",
        f"- data: `{cfg.data}`, {cfg.num_frames} frames; {summary['steps']} optimiser steps, "
        f"{summary['train_seconds'] / 60:.1f} min of training",
    ]
    if val:
        lines.append(
            f"- validation: top-1 {val['top1']:.1%}, top-5 {val['top5']:.1%}, "
            f"loss {val['loss']:.3f} ({val['num_videos']} clips)"
        )
    lines += ["", "## Findings", ""]
    lines += [f"- **{f['plateau']} plateau.** {f['message']}" for f in findings] or [
        "- no known plateau" + ("" if val else " (no validation run)")
    ]
    figures = [name for name in ("curves.png",) if (out / name).exists()]
    if snapshots:
        figures.append(str(snapshots.relative_to(out)))
    if figures:
        lines += ["", "## Figures", ""] + [f"![{name}]({name})" for name in figures]
    return atomic_write_text(out / "report.md", "\n".join(lines) + "\n")


def format_findings(findings: list[dict]) -> str:
    """The console lines printed at the end of a run."""
    return "\n".join(f"note: {f['message']}" for f in findings)


__all__ = ["pair_counts", "diagnose", "write_report", "format_findings"]
