"""Speed and memory, ours vs Hugging Face, on the same weights (``mini-timesformer bench``).

    mini-timesformer bench                                  # base divided 8×224, fp32
    mini-timesformer bench --scheme joint --modes train     # where fused attention pays
    mini-timesformer bench --schemes                        # the five schemes side by side
    mini-timesformer bench --scheme joint --memory-curve 2,4,8

For each pass (forward; training step = forward + backward) it prints clips/s of ours and
of HF's ``TimesformerForVideoClassification`` (eager attention), the ratio ours/HF, the
peak memory of each (fresh subprocess per model), and achieved FLOP/s as a fraction of a
large matmul measured in the same interleaved rounds. Helpers live in ``timing.py``, ``hf.py`` and
``probe.py``;
results and the command that produced them are in docs/performance.md.
"""

from __future__ import annotations

import torch

from ..config import SCHEMES
from ..markdown import markdown_table
from ..runtime import pick_device
from . import hf as hf_bridge
from . import timing
from .probe import probe_memory

GB = 1e9


def _video(cfg, batch: int, device, seed: int = 1) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    video = torch.randn(
        batch, cfg.num_frames, cfg.in_channels, cfg.image_size, cfg.image_size, generator=generator
    )  # (B, T, C, H, W)
    return video.to(device)


def check_outputs(ours, hf, video: torch.Tensor) -> dict:
    """Max |difference| of fp32 logits: ours (fused SDPA) vs HF, and vs our explicit path."""
    with torch.no_grad():
        fast = timing.logits_of(ours.eval(), video)
        explicit = ours.forward_with_attention(video)[0]
        diffs = {"explicit": (fast - explicit).abs().max().item()}
        if hf is not None:
            diffs["hf"] = (fast - timing.logits_of(hf.eval(), video)).abs().max().item()
    return diffs


def _row(cfg, mode, impl, times, batch, peak_flops, memory) -> dict:
    row = {"mode": mode, "impl": impl, **timing.summarize(times)}
    row["clips_per_s"] = batch / row["median_s"]
    row["gflops"] = timing.flops_per_step(cfg, mode, batch) / row["median_s"] / 1e9
    row["of_peak"] = row["gflops"] * 1e9 / peak_flops
    if memory is not None:
        row.update(peak_bytes=memory["peak_bytes"], memory_method=memory["method"])
    return row


def _probe(enabled, cfg, impl, mode, batch, device, dtype):
    if not enabled:
        return None
    return probe_memory(cfg, impl, mode, batch, device.type, dtype)


def compare_with_hf(
    cfg,
    batch=1,
    device="cpu",
    dtype="fp32",
    modes=timing.MODES,
    reps=3,
    warmup=1,
    use_hf=True,
    memory=True,
    check=True,
    compile=False,
) -> dict:
    """Ours vs HF (same weights, same input), interleaved; see the module docstring."""
    device = pick_device(str(device))
    if use_hf:
        ours, hf = hf_bridge.make_pair(cfg)
        hf = hf.to(device)
    else:
        ours, hf = hf_bridge.random_model(cfg, "ours"), None
    ours = ours.to(device)
    video = _video(cfg, batch, device)
    result = {
        "config": cfg.to_dict(),
        "batch": batch,
        "dtype": dtype,
        "compile": compile,
        "machine": timing.machine_info(device),
        "rows": [],
        "ratios": {},
    }
    if check:
        result["max_abs_diff"] = check_outputs(ours, hf, video)
    runner = torch.compile(ours) if compile else ours
    matmul, matmul_flop = timing.matmul_step(device, dtype)
    for mode in modes:
        fns = {"ours": timing.step_fn(runner, video, mode, device, dtype)}
        if hf is not None:
            fns["hf"] = timing.step_fn(hf, video, mode, device, dtype)
        fns["matmul"] = matmul
        times = timing.time_interleaved(fns, reps, warmup, device)
        peak = matmul_flop / timing.summarize(times.pop("matmul"))["median_s"]
        result.setdefault("matmul_gflops", {})[mode] = peak / 1e9
        for impl, t in times.items():
            mem = _probe(memory, cfg, impl, mode, batch, device, dtype)
            result["rows"].append(_row(cfg, mode, impl, t, batch, peak, mem))
        if hf is not None:
            ours_row, hf_row = result["rows"][-2:]
            ratio = {"speed": ours_row["clips_per_s"] / hf_row["clips_per_s"]}
            if memory:
                ratio["memory"] = ours_row["peak_bytes"] / max(hf_row["peak_bytes"], 1)
            result["ratios"][mode] = ratio
    return result


def compare_schemes(
    preset="base",
    frames=8,
    size=224,
    batch=1,
    device="cpu",
    dtype="fp32",
    modes=("forward",),
    reps=3,
    warmup=1,
    memory=True,
) -> dict:
    """The five schemes of ours against each other at one size (interleaved rounds)."""
    device = pick_device(str(device))
    cfgs = {s: hf_bridge.bench_config(preset, s, frames, size) for s in SCHEMES}
    models = {s: hf_bridge.random_model(c, "ours").to(device) for s, c in cfgs.items()}
    video = _video(cfgs["divided"], batch, device)
    matmul, matmul_flop = timing.matmul_step(device, dtype)
    result = {
        "preset": preset,
        "frames": frames,
        "size": size,
        "batch": batch,
        "dtype": dtype,
        "machine": timing.machine_info(device),
        "rows": [],
    }
    for mode in modes:
        fns = {s: timing.step_fn(m, video, mode, device, dtype) for s, m in models.items()}
        times = timing.time_interleaved({**fns, "matmul": matmul}, reps, warmup, device)
        peak = matmul_flop / timing.summarize(times.pop("matmul"))["median_s"]
        result.setdefault("matmul_gflops", {})[mode] = peak / 1e9
        for s, t in times.items():
            mem = _probe(memory, cfgs[s], "ours", mode, batch, device, dtype)
            result["rows"].append(_row(cfgs[s], mode, s, t, batch, peak, mem))
    return result


def memory_curve(
    preset="base",
    scheme="joint",
    frames=(2, 4, 8),
    size=224,
    batch=1,
    device="cpu",
    dtype="fp32",
    mode="train",
    use_hf=True,
) -> list[dict]:
    """Peak memory of one step of ours (and HF) over the number of frames."""
    device = pick_device(str(device))
    rows = []
    for t in frames:
        cfg = hf_bridge.bench_config(preset, scheme, t, size)
        row = {"frames": t, "tokens": 1 + t * (size // cfg.patch_size) ** 2}
        for impl in ("ours", "hf") if use_hf else ("ours",):
            row[impl] = probe_memory(cfg, impl, mode, batch, device.type, dtype)["peak_bytes"]
        rows.append(row)
    return rows


# ------------------------------------------------------------------------ printing
def format_machine(info: dict) -> str:
    text = (
        f"machine: {info['cpu']} ({info['cpu_capability']}), {info['cores']} cores, "
        f"{info['threads']} torch threads, device {info['device']}"
    )
    if "gpu" in info:
        text += f" ({info['gpu']})"
    text += (
        f"\nversions: python {info['python']}, torch {info['torch']}, "
        f"transformers {info['transformers']}"
    )
    if "load_avg" in info:
        text += f"\nload average at start (1/5/15 min): {info['load_avg']}"
    return text


def _mem(row) -> str:
    return f"{row['peak_bytes'] / GB:.2f} GB" if "peak_bytes" in row else "-"


def format_rows(rows, name_header="impl") -> str:
    header = ("pass", name_header, "median s", "min–max s", "clips/s", "GFLOP/s")
    header += ("of matmul peak", "peak memory")
    cells = [
        (
            r["mode"],
            r["impl"],
            f"{r['median_s']:.3f}",
            f"{r['min_s']:.3f}–{r['max_s']:.3f}",
            f"{r['clips_per_s']:.3f}",
            f"{r['gflops']:.1f}",
            f"{r['of_peak']:.0%}",
            _mem(r),
        )
        for r in rows
    ]
    return markdown_table(header, cells, "llrrrrrr")


def format_comparison(result: dict) -> str:
    c = result["config"]
    lines = [
        f"bench: {c['attention']} {c['num_frames']}×{c['image_size']} "
        f"(D={c['embed_dim']}, depth {c['depth']}), batch {result['batch']}, "
        f"{result['dtype']}{', torch.compile' if result['compile'] else ''}",
        format_machine(result["machine"]),
    ]
    peaks = ", ".join(f"{m} rounds {g:.1f}" for m, g in result["matmul_gflops"].items())
    lines.append(f"matmul peak (square matmul, median, GFLOP/s): {peaks}")
    if "max_abs_diff" in result:
        d = result["max_abs_diff"]
        lines.append(
            "max |logit difference| of ours (fused SDPA): "
            + ", ".join(f"vs {k} {v:.2e}" for k, v in d.items())
        )
    lines += ["", format_rows(result["rows"])]
    for mode, r in result["ratios"].items():
        mem = f", peak memory ours/HF {r['memory']:.2f}×" if "memory" in r else ""
        lines.append(f"{mode}: ours/HF throughput {r['speed']:.2f}×{mem}")
    lines.append(
        "FLOP = 2·MACs per clip forward (cost.macs), ×3 for a training step; "
        "memory = peak above the pre-step level, first step in a fresh process"
    )
    return "\n".join(lines)


def format_schemes(result: dict) -> str:
    lines = [
        f"bench --schemes: {result['preset']} {result['frames']}×{result['size']}, "
        f"batch {result['batch']}, {result['dtype']}",
        format_machine(result["machine"]),
    ]
    peaks = ", ".join(f"{m} rounds {g:.1f}" for m, g in result["matmul_gflops"].items())
    lines += [f"matmul peak (GFLOP/s): {peaks}", "", format_rows(result["rows"], "scheme")]
    return "\n".join(lines)


def format_curve(rows, scheme: str, mode: str) -> str:
    cells = []
    for r in rows:
        hf = r.get("hf")
        ratio = f"{r['ours'] / hf:.2f}" if hf else "-"
        hf_text = f"{hf / GB:.2f} GB" if hf else "-"
        cells.append((r["frames"], r["tokens"], f"{r['ours'] / GB:.2f} GB", hf_text, ratio))
    table = markdown_table(("frames", "tokens", "ours", "HF", "ours/HF"), cells, "rrrrr")
    return f"peak memory of one {mode} step over frames ({scheme}):\n{table}"
