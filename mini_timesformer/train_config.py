"""What a training run needs before the loop starts: its config, data, model and device.

``TrainConfig`` holds every choice of a run (the CLI flags of ``mini-timesformer train``
map one to one onto its fields). ``--data`` takes one of:

* ``synthetic-motion`` / ``synthetic-appearance`` — clips generated on the fly
  (``mt.data.SyntheticVideos``); motion classes need time, appearance classes do not;
* ``kinetics:DIR`` — Kinetics in its official layout (``mt.data.KineticsDataset``);
* ``folder:DIR`` — ``DIR/<class>/<video>`` (or ``DIR/train`` and ``DIR/val`` holding that).

``--init`` takes ``scratch``, ``vit:PATH`` (ImageNet ViT weights, the paper's
initialisation, Appendix A) or ``PATH`` (a TimeSformer checkpoint to fine-tune).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, fields
from pathlib import Path

import torch

from .config import SCHEMES, TimeSformerConfig, canonical_scheme

SYNTHETIC_KINDS = {"synthetic-motion": "motion", "synthetic-appearance": "appearance"}
VAL_SEED_OFFSET = 100_003  # synthetic validation clips never coincide with training clips


@dataclass
class TrainConfig:
    """Every choice of a training run (defaults: a nano model on synthetic motion, CPU)."""

    # model
    preset: str = "nano"
    attention: str = "divided"
    frames: int = 8
    size: int | None = None  # frame size; default = the preset's image_size
    init: str = "scratch"
    drop_path: float = 0.0
    # data
    data: str = "synthetic-motion"
    train_size: int = 4096  # synthetic clips per epoch
    val_size: int = 512
    stride: int = 32  # frames between sampled frames (file datasets, at 30 fps)
    workers: int = 0
    # optimisation
    epochs: int = 10
    steps: int | None = None  # overrides epochs
    batch_size: int = 32
    accum: int = 1
    optimizer: str = "adamw"
    lr: float | None = None  # adamw 1e-3, sgd 0.005
    weight_decay: float | None = None  # adamw 0.05, sgd 1e-4
    warmup_steps: int | None = None
    clip_grad: float = 1.0
    label_smoothing: float = 0.0
    bf16: bool = True  # autocast on CUDA only
    # bookkeeping
    out: str = "runs/train"
    seed: int = 0
    device: str = "auto"
    threads: int | None = None  # CPU threads for torch (None: torch's default)
    resume: bool = False
    val_every: int = 1  # epochs; 0 = only at the end
    checkpoint_every: int = 0  # steps; 0 = at each epoch end
    stop_after: int | None = None  # stop (as if killed) after this many steps
    progress: bool = True
    progress_label: str | None = None
    plots: bool = True

    def __post_init__(self) -> None:
        self.attention = canonical_scheme(self.attention)
        positive = ("frames", "train_size", "val_size", "stride", "epochs", "batch_size", "accum")
        for name in positive:
            if not isinstance(getattr(self, name), int) or getattr(self, name) < 1:
                raise ValueError(f"{name} must be a positive integer, got {getattr(self, name)!r}")
        if self.steps is not None and self.steps < 1:
            raise ValueError(f"steps must be a positive integer, got {self.steps}")
        if self.optimizer not in ("adamw", "sgd"):
            raise ValueError(f"unknown optimizer {self.optimizer!r}; expected adamw or sgd")
        if self.workers < 0:
            raise ValueError(f"workers must be >= 0, got {self.workers}")
        parse_data_spec(self.data)  # fail early on a malformed --data

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    def replace(self, **changes) -> TrainConfig:
        known = {f.name for f in fields(self)}
        unknown = sorted(set(changes) - known)
        if unknown:
            raise ValueError(f"unknown training option {unknown[0]!r}; "
                             f"known: {', '.join(sorted(known))}")
        return TrainConfig(**{**self.to_dict(), **changes})


def parse_data_spec(spec: str) -> tuple[str, str | None]:
    """``"kinetics:DIR"`` -> ``("kinetics", "DIR")``; ``"synthetic-motion"`` -> (it, None)."""
    if spec in SYNTHETIC_KINDS:
        return spec, None
    kind, sep, root = spec.partition(":")
    if kind in ("kinetics", "folder") and sep and root:
        return kind, root
    raise ValueError(f"unknown --data {spec!r}; expected synthetic-motion, "
                     f"synthetic-appearance, kinetics:DIR or folder:DIR")


def image_size(cfg: TrainConfig) -> int:
    from .config import PRESETS

    if cfg.preset not in PRESETS:
        raise ValueError(f"unknown preset {cfg.preset!r}; expected one of: {', '.join(PRESETS)}")
    return cfg.size or PRESETS[cfg.preset]["image_size"]


class AugmentedClips(torch.utils.data.Dataset):
    """Training view of a clip dataset: augmentation (optional) then normalisation.

    The augmentation of item ``i`` in epoch ``e`` draws from its own generator seeded
    with ``(seed, e, i)``, so it does not depend on the worker that loads it or on
    whether the run was resumed.
    """

    def __init__(self, base, mean, std, crop_size: int | None = None, flip: bool = False,
                 seed: int = 0):
        self.base, self.mean, self.std = base, mean, std
        self.crop_size, self.flip, self.seed, self.epoch = crop_size, flip, seed, 0
        self.classes = list(base.classes)

    def __len__(self) -> int:
        return len(self.base)

    def set_epoch(self, epoch: int) -> None:
        """New augmentations (and new temporal windows of file datasets) each epoch."""
        self.epoch = epoch
        if hasattr(self.base, "set_epoch"):
            self.base.set_epoch(epoch)

    def __getitem__(self, index: int):
        from .data import to_float_clip, train_transform

        clip, label = self.base[index]  # uint8 (T, 3, H, W)
        if self.crop_size is not None:
            generator = torch.Generator().manual_seed(
                (self.seed * 1_000_003 + self.epoch) * 10_000_019 + index)
            clip = train_transform(self.crop_size, flip=self.flip, generator=generator)(clip)
        return to_float_clip(clip, self.mean, self.std), label


def raw_datasets(cfg: TrainConfig, split: str):
    """The uint8 clip dataset of ``--data`` for ``split`` ("train" or "val"); None if absent."""
    from . import data

    kind, root = parse_data_spec(cfg.data)
    size = image_size(cfg)
    if kind in SYNTHETIC_KINDS:
        n, seed = (cfg.train_size, cfg.seed) if split == "train" else (
            cfg.val_size, cfg.seed + VAL_SEED_OFFSET)
        return data.SyntheticVideos(SYNTHETIC_KINDS[kind], num_frames=cfg.frames,
                                    image_size=size, size=n, seed=seed)
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"--data {cfg.data}: {root} is not a directory")
    train = split == "train"
    # seed: temporal windows are a function of (seed, epoch, index), so resuming is exact
    common = dict(num_frames=cfg.frames, stride=cfg.stride, train=train, seed=cfg.seed)
    if kind == "kinetics":
        return data.KineticsDataset(root, split, **common)
    if (root / "train").is_dir():
        sub = root / split
        return data.VideoFolder(sub, **common) if sub.is_dir() else None
    return data.VideoFolder(root, **common) if train else None


def build_datasets(cfg: TrainConfig, mean, std, raw=None, verbose: bool = True):
    """``(train_set, val_set or None)``: float clips normalised with the model's mean/std.

    ``raw``: ``(train, val)`` uint8 datasets already built by ``raw_datasets``.
    """
    kind, _ = parse_data_spec(cfg.data)
    train_raw, val_raw = raw or (raw_datasets(cfg, "train"), raw_datasets(cfg, "val"))
    synthetic = kind in SYNTHETIC_KINDS
    # file datasets: the paper's scale jitter + crop + flip; synthetic clips: none
    train_set = AugmentedClips(train_raw, mean, std, None if synthetic else image_size(cfg),
                               flip=not synthetic, seed=cfg.seed)
    val_set = None
    if val_raw is not None:
        val_set = (AugmentedClips(val_raw, mean, std) if synthetic
                   else EvalViews(val_raw, image_size(cfg), mean, std))
    if verbose:
        print(f"data {cfg.data}: {len(train_raw)} training clips"
              + (f", {len(val_raw)} validation clips" if val_raw is not None else "")
              + f", {len(train_raw.classes)} classes")
    return train_set, val_set


class EvalViews(torch.utils.data.Dataset):
    """Validation clips of a file dataset: short side = crop, one centre crop, float."""

    def __init__(self, base, crop_size: int, mean, std):
        self.base, self.crop_size, self.mean, self.std = base, crop_size, mean, std
        self.classes = list(base.classes)

    def __len__(self) -> int:
        return len(self.base)

    def __getitem__(self, index: int):
        from .data import test_views

        clip, label = self.base[index]
        view = test_views(clip, self.crop_size, num_crops=1, mean=self.mean, std=self.std)
        return view[0], label  # (T, 3, crop, crop)


def build_model(cfg: TrainConfig, num_classes: int):
    """The TimeSformer ``--init`` asks for, with a ``num_classes``-way head."""
    from .model import TimeSformer

    if cfg.attention not in SCHEMES:
        raise ValueError(f"unknown attention scheme {cfg.attention!r}")
    sizes = dict(attention=cfg.attention, num_classes=num_classes, num_frames=cfg.frames,
                 image_size=image_size(cfg), drop_path_rate=cfg.drop_path)
    if cfg.init == "scratch":
        return TimeSformer(TimeSformerConfig.preset(cfg.preset, **sizes))
    from . import pretrained

    if cfg.init.startswith("vit:"):
        return pretrained.from_vit(TimeSformerConfig.preset(cfg.preset, **sizes), cfg.init[4:])
    path = Path(cfg.init)
    if not path.exists():
        raise FileNotFoundError(f"--init {cfg.init}: no such file or directory (expected "
                                f"scratch, vit:PATH or a checkpoint PATH)")
    # a run directory, a training checkpoint or a pretrained model; new head if needed
    return pretrained.from_pretrained(path, num_classes=num_classes)


def pick_device(name: str = "auto", local_rank: int = 0) -> torch.device:
    """``auto``: cuda (this process's GPU under torchrun) → mps → cpu."""
    if name != "auto":
        device = torch.device(name)
        if device.type == "cuda" and not torch.cuda.is_available():
            raise ValueError("--device cuda asked for, but no CUDA GPU is available")
        return device
    if torch.cuda.is_available():
        torch.cuda.set_device(local_rank)
        return torch.device("cuda", local_rank)
    if torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")
