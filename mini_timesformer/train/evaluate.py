"""Evaluation with the paper's multi-view test protocol (§4, Appendix A).

Each test video gives V views (temporal clips × spatial crops; the paper uses 1 middle
clip × 3 crops). *Clip-level* accuracy scores every view on its own; *video-level*
accuracy averages the views' softmax scores first, which is what the paper reports.

    metrics = evaluate(model, dataset)   # items: (float clip (T,3,H,W) or views (V,T,3,H,W), label)
    metrics["top1"], metrics["clip_top1"], metrics["per_class"], metrics["confusion"]

Under ``torchrun`` each process scores its own share of the videos and the counts
(confusion matrix, top-k hits, loss) are summed across processes.
"""

from __future__ import annotations

import math
from pathlib import Path

import torch

from ..data.transforms import check_views
from ..errors import UserError
from .distributed import DistContext, all_reduce_sum


class MultiViewClips(torch.utils.data.Dataset):
    """Test views of a uint8 clip dataset: items ``(float views (V, T, 3, crop, crop), label)``.

    When the dataset knows its files (``dataset.samples`` = ``[(path, label), ...]``) the
    views are ``num_clips`` evenly spaced temporal clips × ``num_crops`` spatial crops read
    with ``mt.data.load_clip_views``; otherwise (synthetic clips) the crops of its one clip.
    """

    def __init__(
        self,
        base,
        crop_size: int,
        mean,
        std,
        num_clips: int = 1,
        num_crops: int = 3,
        num_frames: int = 8,
        stride: int = 32,
    ):
        check_views(num_clips, num_crops)
        self.base, self.crop_size, self.mean, self.std = base, crop_size, mean, std
        self.num_clips, self.num_crops = num_clips, num_crops
        self.num_frames, self.stride = num_frames, stride
        self.classes = list(base.classes)
        self.samples = getattr(base, "samples", None)

    def __len__(self) -> int:
        return len(self.base)

    def __getitem__(self, index: int):
        from ..data import eval_views, load_clip_views

        if self.samples is not None:
            path, label = self.samples[index][:2]
            views = load_clip_views(
                path,
                self.num_frames,
                self.stride,
                self.crop_size,
                self.mean,
                self.std,
                num_clips=self.num_clips,
                num_crops=self.num_crops,
            )
            return views, int(label)  # (V, T, 3, crop, crop), clip-major
        clip, label = self.base[index]
        return eval_views(clip, self.crop_size, self.num_crops, mean=self.mean, std=self.std), int(
            label
        )


class MetricCounts:
    """Sums from which every metric follows; summed across processes with one all-reduce."""

    def __init__(self, num_classes: int, device="cpu"):
        self.num_classes = num_classes
        self.confusion = torch.zeros(
            num_classes, num_classes, dtype=torch.float64, device=device
        )  # rows: true class, cols: predicted
        self.sums = torch.zeros(5, dtype=torch.float64, device=device)
        # clip top-1 hits, clip top-5 hits, views, video top-5 hits, video NLL sum

    def add(self, view_probs: torch.Tensor, labels: torch.Tensor) -> None:
        """view_probs: (B, V, C) softmax scores of each view; labels: (B,)."""
        B, V, C = view_probs.shape
        k = min(5, C)
        labels = labels.to(view_probs.device)
        per_view = labels[:, None].expand(B, V)  # (B, V)
        clip_topk = view_probs.topk(k, dim=-1).indices  # (B, V, k)
        video_probs = view_probs.mean(dim=1)  # (B, C): the paper's softmax averaging
        video_topk = video_probs.topk(k, dim=-1).indices  # (B, k)
        self.sums += torch.stack(
            [
                (clip_topk[..., 0] == per_view).sum(),
                (clip_topk == per_view[..., None]).any(-1).sum(),
                torch.tensor(B * V, device=view_probs.device),
                (video_topk == labels[:, None]).any(-1).sum(),
                -video_probs.gather(1, labels[:, None]).clamp_min(1e-12).log().sum(),
            ]
        ).to(self.sums)
        flat = labels * C + video_topk[:, 0]  # (true, predicted) pair index
        self.confusion += torch.bincount(flat, minlength=C * C).view(C, C).to(self.confusion)

    def reduce(self, ctx: DistContext | None) -> MetricCounts:
        if ctx is not None and ctx.active:
            all_reduce_sum(self.confusion, ctx)
            all_reduce_sum(self.sums, ctx)
        return self

    def metrics(self, classes: list[str] | None = None) -> dict:
        conf = self.confusion.cpu()
        videos = conf.sum().item()
        clip_top1, clip_top5, views, video_top5, nll = self.sums.tolist()
        per_class_total = conf.sum(1)
        names = classes or [str(c) for c in range(self.num_classes)]
        per_class = {
            name: (conf[c, c] / per_class_total[c]).item() if per_class_total[c] else None
            for c, name in enumerate(names)
        }
        return {
            "top1": conf.diagonal().sum().item() / videos if videos else math.nan,
            "top5": video_top5 / videos if videos else math.nan,
            "clip_top1": clip_top1 / views if views else math.nan,
            "clip_top5": clip_top5 / views if views else math.nan,
            "loss": nll / videos if videos else math.nan,
            "num_videos": int(videos),
            "views_per_video": int(round(views / videos)) if videos else 0,
            "per_class": per_class,
            "classes": names,
            "confusion": conf.long().tolist(),
        }


def compute_metrics(
    view_probs: torch.Tensor, labels: torch.Tensor, classes: list[str] | None = None
) -> dict:
    """Metrics of a prediction set: view_probs (videos, views, classes), labels (videos,)."""
    if view_probs.ndim != 3 or labels.shape != view_probs.shape[:1]:
        raise UserError(
            f"expected view_probs (videos, views, classes) and labels (videos,), "
            f"got {tuple(view_probs.shape)} and {tuple(labels.shape)}"
        )
    counts = MetricCounts(view_probs.shape[-1])
    counts.add(view_probs, labels)
    return counts.metrics(classes)


@torch.no_grad()
def evaluate(
    model,
    dataset,
    *,
    batch_size: int = 16,
    device=None,
    ctx: DistContext | None = None,
    workers: int = 0,
    classes=None,
    bf16: bool = True,
    progress: bool = False,
) -> dict:
    """Top-1/top-5 (video- and clip-level), loss, per-class accuracy, confusion matrix.

    ``dataset`` items: ``(float clip (T, 3, H, W), label)`` (one view) or
    ``(float views (V, T, 3, H, W), label)`` (see ``MultiViewClips``).
    """
    model = getattr(model, "module", model)  # never through DDP: no collective in forward
    device = torch.device(device) if device is not None else next(model.parameters()).device
    ctx = ctx or DistContext()
    was_training = model.training
    model.eval()
    shard = list(range(ctx.rank, len(dataset), ctx.world_size))  # no padding: exact counts
    loader = torch.utils.data.DataLoader(
        torch.utils.data.Subset(dataset, shard),
        batch_size=batch_size,
        num_workers=workers,
        generator=torch.Generator(),
    )  # a generator of its own: the global RNG stays untouched
    counts = MetricCounts(model.config.num_classes, device)
    autocast = device.type == "cuda" and bf16
    for clips, labels in _maybe_progress(loader, progress and ctx.rank == 0):
        clips = clips.to(device)
        if clips.ndim == 5:  # (B, T, 3, H, W): one view per video
            clips = clips[:, None]
        B, V = clips.shape[:2]
        with torch.autocast("cuda", dtype=torch.bfloat16, enabled=autocast):
            logits = model(clips.flatten(0, 1))  # (B·V, T, 3, H, W) -> (B·V, C)
        probs = logits.float().softmax(-1).view(B, V, -1)  # (B, V, C)
        counts.add(probs, labels.to(device))
    model.train(was_training)
    return counts.reduce(ctx).metrics(classes or getattr(dataset, "classes", None))


def _maybe_progress(loader, show: bool):
    if not show:
        return loader
    from tqdm.auto import tqdm

    return tqdm(loader, desc="eval", unit="batch")


def save_report(metrics: dict, out_dir, title: str = "evaluation") -> Path:
    """Write ``metrics.json`` and ``confusion.png`` into ``out_dir``; returns the folder."""
    import json

    from ..viz.training import plot_confusion

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    fig = plot_confusion(metrics["confusion"], metrics["classes"], title)
    fig.savefig(out / "confusion.png", dpi=120, bbox_inches="tight")
    return out


def format_metrics(metrics: dict) -> str:
    """A few readable lines: video- and clip-level top-1/top-5 and the weakest classes."""
    lines = [
        f"videos: {metrics['num_videos']} × {metrics['views_per_video']} view(s)",
        f"video-level top-1 {metrics['top1']:.2%}  top-5 {metrics['top5']:.2%}",
        f"clip-level  top-1 {metrics['clip_top1']:.2%}  top-5 {metrics['clip_top5']:.2%}",
    ]
    scored = [(acc, name) for name, acc in metrics["per_class"].items() if acc is not None]
    if scored:
        worst = ", ".join(f"{name} {acc:.0%}" for acc, name in sorted(scored)[:3])
        lines.append(f"weakest classes: {worst}")
    return "\n".join(lines)
