"""``report.json`` and ``report.md`` of ``gpu-check`` (see ``demo/gpu_check.py``)."""

from __future__ import annotations

import json
from pathlib import Path

from ..markdown import markdown_table
from ..runtime import atomic_write_text

# Top-1 of `make demo` on a 2-core CPU (the `cpu` budget: depth 2, 800 steps), the
# README's table. The `gpu` budget trains a deeper model longer, so these are a floor
# to compare against, not the same run.
CPU_DEMO_TOP1 = {
    "motion": {
        "space": 0.354,
        "joint": 0.901,
        "divided": 0.969,
        "local_global": 0.948,
        "axial": 0.857,
    },
    "appearance": {"space": 0.779, "divided": 0.698},
}
GB = 1e9


def _pct(value) -> str:
    return "–" if value is None else f"{value:.1%}"


def _head(report: dict) -> list[str]:
    info, peak = report["machine"], report["peak"]
    device = info.get("gpu") or f"CPU: {info['cpu']} ({info['threads']} threads)"
    nominal = (
        f"{peak['nominal_tflops']:.1f} TFLOP/s ({peak['nominal_source']})"
        if peak["nominal_tflops"]
        else f"unknown ({peak['nominal_source']})"
    )
    return [
        f"# gpu-check report ({report['mode']} mode)",
        "",
        f"Total {report['total_seconds']:.0f} s (budget {report['budget_seconds']} s: "
        f"{'within' if report['within_budget'] else 'OVER'}).",
        "",
        markdown_table(
            ("", ""),
            [
                ("device", device),
                (
                    "versions",
                    f"torch {info['torch']}, CUDA {info['cuda']}, cuDNN {info['cudnn']}, "
                    f"transformers {info['transformers']}, Python {info['python']}",
                ),
                ("load average", info.get("load_avg", "unknown")),
                ("bf16 peak, vendor", nominal),
                (
                    "bf16 peak, matmul measured here",
                    f"{peak['measured_bf16_matmul_tflops']:.2f} TFLOP/s",
                ),
                ("MFU divides by", peak["mfu_basis"]),
            ],
        ),
        "",
    ]


def _demo(section: dict) -> list[str]:
    lines = [
        f"## (a) demo, `{section['budget']}` budget",
        "",
        f"{section['seconds']:.0f} s; full report: `{section['report']}`.",
        "",
    ]
    cells = []
    for kind, rows in section["top1"].items():
        for scheme, top1 in rows.items():
            cpu = section["cpu_top1"].get(kind, {}).get(scheme)
            diff = "–" if cpu is None else f"{(top1 - cpu) * 100:+.1f} points"
            cells.append((kind, scheme, _pct(top1), _pct(cpu), diff))
    header = ("clips", "scheme", "top-1 here", "top-1 CPU run (README)", "difference")
    lines.append(markdown_table(header, cells, "llrrr"))
    return lines + [
        "",
        "The CPU run used the `cpu` budget (depth 2, 800 steps); a different "
        "budget gives different numbers: read the gap, not equality.",
        "",
    ]


def _recipe(section: dict) -> list[str]:
    plan, data = section["plan"], section["data"]
    clips = data["clips"]
    return [
        "## (b) Kinetics-subset recipe: synthetic mp4s, decoded cache, DataLoader workers",
        "",
        f"`{plan['preset']}` divided {plan['frames']}×{plan['size']}², stride "
        f"{plan['stride']}, bf16 autocast, fused attention, SGD lr {plan['lr']}, batch "
        f"{plan['batch_size']}, {plan['workers']} workers, {section['steps']} steps "
        f"(random weights: speed, not accuracy). Data: {clips['train']} + {clips['val']} "
        f"clips of {plan['clip_frames']} frames at {plan['clip_size']}² written in "
        f"{data['write_seconds']:.1f} s, decoded into the cache in "
        f"{data['cache_seconds']:.1f} s.",
        "",
        markdown_table(
            ("", ""),
            [
                ("step time (median, step 1 left out)", f"{section['step_time_s'] * 1e3:.1f} ms"),
                ("clips/s", f"{section['clips_per_s']:.1f}"),
                ("first step (workers start, warm-up)", f"{section['first_step_s']:.2f} s"),
                (
                    "data-loader stall fraction",
                    f"{section['stall_fraction']:.1%} ({section['data_wait_s']:.2f} s of "
                    f"{section['loop_s']:.2f} s)",
                ),
                ("model TFLOP/s", f"{section['tflops']:.3f}"),
                ("MFU", f"{section['mfu']:.1%}"),
                (
                    "peak memory",
                    f"{section['peak_memory_bytes'] / GB:.2f} GB ({section['memory_method']})",
                ),
                (
                    "loss, first → last step",
                    f"{section['loss_first']:.3f} → {section['loss_last']:.3f}",
                ),
                ("validation top-1", _pct(section["val_top1"])),
                ("section time", f"{section['seconds']:.1f} s (training run `{section['run']}`)"),
            ],
        ),
        "",
    ]


def _bench(section: dict) -> list[str]:
    cfg = section["config"]
    lines = [
        f"## (c) ViT training step: ours vs Hugging Face eager ({cfg['attention']}, "
        f"width {cfg['embed_dim']}, depth {cfg['depth']}, {cfg['num_frames']}×"
        f"{cfg['image_size']}², {section['dtype']})",
        "",
    ]
    cells = [
        (
            name,
            r["batch"],
            f"{r['step_time_s'] * 1e3:.1f} ms",
            f"{r['clips_per_s']:.1f}",
            f"{r['tflops']:.3f}",
            f"{r['mfu']:.1%}",
            f"{r['peak_memory_bytes'] / GB:.2f} GB",
        )
        for name, r in section["same_batch"].items()
    ]
    header = ("model", "batch", "step time", "clips/s", "TFLOP/s", "MFU", "peak memory")
    lines.append(markdown_table(header, cells, "lrrrrrr"))
    largest = ", ".join(f"{k} {v}" for k, v in section["largest_batch"].items())
    own = ", ".join(
        f"{k} {v['clips_per_s']:.1f} clips/s at batch {v['batch']}"
        for k, v in section["own_largest_batch"].items()
    )
    diffs = ", ".join(f"{k} {v:.1e}" for k, v in section["max_abs_diff"].items())
    return lines + [
        "",
        f"ours / HF: **{section['ratio_ours_hf']:.2f}×** at the same batch; "
        f"largest batch that fits: {largest}; at its own largest batch: {own}. "
        f"Max |logit difference| (fp32) vs: {diffs}. MFU divides by the "
        f"{section['mfu_basis']} peak; {section['seconds']:.0f} s.",
        "",
    ]


HOW = """## How these numbers are computed

* step time: median wall time of an optimiser step (`steps.csv`, column `seconds`),
  the first step left out; clips/s = batch / step time.
* stall fraction: total time the loop waits in `next()` on the DataLoader (`data_seconds`)
  / total step time, all steps: an upper bound on the GPU's wait for data.
* MFU: 3 × 2 × `cost.macs` per clip × batch (forward + backward FLOP) / step time /
  the peak named above.
* peak memory: `torch.cuda.max_memory_allocated` on a GPU; on CPU the process's RSS
  high-water mark (workers not included).
"""


def write_report(out: Path, report: dict) -> None:
    """``out/report.json`` (all numbers) and ``out/report.md`` (the same, for reading)."""
    sections = report["sections"]
    lines = (
        _head(report)
        + _demo(sections["demo"])
        + _recipe(sections["recipe"])
        + _bench(sections["bench"])
        + [HOW]
    )
    atomic_write_text(out / "report.json", json.dumps(report, indent=2) + "\n")
    atomic_write_text(out / "report.md", "\n".join(lines))
