"""What a training run needs before the loop starts: its datasets and its model.

* ``raw_datasets(cfg, split)``: the uint8 clips of ``--data`` (synthetic, Kinetics, folder);
* ``AugmentedClips`` / ``EvalViews`` / ``build_datasets``: float, normalised clips for
  training (augmented) and validation;
* ``build_model(cfg, num_classes)``: the TimeSformer ``--init`` asks for (from scratch
  with the small-model or ViT's init, an ImageNet ViT, or a checkpoint to fine-tune), or
  with ``--model r2plus1d|i3d`` the 3-D CNN (He init, or a CNN checkpoint).
"""

from __future__ import annotations

import logging
from pathlib import Path

import torch

from .. import data
from ..cnn import VideoCNNConfig, VideoResNet
from ..config import TimeSformerConfig
from ..errors import MissingPathError, UserError
from ..model import TimeSformer
from .config import (
    FROM_SCRATCH_INITS,
    SYNTHETIC_KINDS,
    VAL_SEED_OFFSET,
    TrainConfig,
    image_size,
    parse_data_spec,
    resolve_init,
)
from .init import small_model_init

log = logging.getLogger(__name__)


class AugmentedClips(torch.utils.data.Dataset):
    """Training view of a clip dataset: augmentation (optional) then normalisation.

    The augmentation of item ``i`` in epoch ``e`` draws from its own generator seeded
    with ``(seed, e, i)``, so it does not depend on the worker that loads it or on
    whether the run was resumed.
    """

    def __init__(
        self, base, mean, std, crop_size: int | None = None, flip: bool = False, seed: int = 0
    ):
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
        clip, label = self.base[index]  # uint8 (T, 3, H, W)
        if self.crop_size is not None:
            generator = data.item_generator(self.seed, self.epoch, index)
            clip = data.train_transform(self.crop_size, flip=self.flip, generator=generator)(clip)
        return data.to_float_clip(clip, self.mean, self.std), label


def raw_datasets(cfg: TrainConfig, split: str):
    """The uint8 clip dataset of ``--data`` for ``split`` ("train" or "val"); None if absent."""
    kind, root = parse_data_spec(cfg.data)
    size = image_size(cfg)
    if kind in SYNTHETIC_KINDS:
        n, seed = (
            (cfg.train_size, cfg.seed)
            if split == "train"
            else (cfg.val_size, cfg.seed + VAL_SEED_OFFSET)
        )
        return data.SyntheticVideos(
            SYNTHETIC_KINDS[kind], num_frames=cfg.num_frames, image_size=size, size=n, seed=seed
        )
    root = Path(root)
    if not root.is_dir():
        raise MissingPathError(f"--data {cfg.data}: {root} is not a directory")
    train = split == "train"
    # seed: temporal windows are a function of (seed, epoch, index), so resuming is exact
    common = dict(num_frames=cfg.num_frames, stride=cfg.stride, train=train, seed=cfg.seed)
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
    train_set = AugmentedClips(
        train_raw,
        mean,
        std,
        None if synthetic else image_size(cfg),
        flip=not synthetic,
        seed=cfg.seed,
    )
    val_set = None
    if val_raw is not None:
        val_set = (
            AugmentedClips(val_raw, mean, std)
            if synthetic
            else EvalViews(val_raw, image_size(cfg), mean, std)
        )
    if verbose:  # shown by the CLI (logging at INFO); quiet in notebooks and tests
        log.info(
            "data %s: %d training clips%s, %d classes",
            cfg.data,
            len(train_raw),
            f", {len(val_raw)} validation clips" if val_raw is not None else "",
            len(train_raw.classes),
        )
    return train_set, val_set


class EvalViews(torch.utils.data.Dataset):
    """Validation clips of a file dataset: short side = crop, one centre crop, float."""

    def __init__(self, base, crop_size: int, mean, std):
        self.base, self.crop_size, self.mean, self.std = base, crop_size, mean, std
        self.classes = list(base.classes)

    def __len__(self) -> int:
        return len(self.base)

    def __getitem__(self, index: int):
        clip, label = self.base[index]
        view = data.eval_views(clip, self.crop_size, num_crops=1, mean=self.mean, std=self.std)
        return view[0], label  # (T, 3, crop, crop)


def build_model(cfg: TrainConfig, num_classes: int):
    """The TimeSformer (or, with ``--model r2plus1d|i3d``, the 3-D CNN) ``--init`` asks
    for, with a ``num_classes``-way head."""
    if cfg.model != "timesformer":
        return _build_cnn(cfg, num_classes)
    sizes = dict(
        attention=cfg.attention,
        num_classes=num_classes,
        num_frames=cfg.num_frames,
        image_size=image_size(cfg),
        drop_path_rate=cfg.drop_path_rate,
    )
    init = resolve_init(cfg)
    if init in FROM_SCRATCH_INITS:
        model = TimeSformer(TimeSformerConfig.preset(cfg.preset, **sizes))  # ViT's init
        return small_model_init(model, extra=True) if init == "small" else model
    if cfg.init.startswith("vit:"):
        return TimeSformer.from_vit(TimeSformerConfig.preset(cfg.preset, **sizes), cfg.init[4:])
    path = Path(cfg.init)
    if not path.exists():
        raise MissingPathError(
            f"--init {cfg.init}: no such file or directory (expected "
            f"auto, small, vit-default, vit:PATH or a checkpoint PATH)"
        )
    # a run directory, a training checkpoint or a pretrained model; new head if needed
    return TimeSformer.from_pretrained(path, num_classes=num_classes)


def _build_cnn(cfg: TrainConfig, num_classes: int):
    """``cnn.VideoResNet`` of ``cfg.preset``'s CNN sizes (He init), or loaded from
    ``--init PATH`` (a new head when the classes differ)."""
    from .models import load_model

    if resolve_init(cfg) == "he":
        sizes = dict(num_classes=num_classes, num_frames=cfg.num_frames, image_size=image_size(cfg))
        return VideoResNet(VideoCNNConfig.preset(cfg.preset, arch=cfg.model, **sizes))
    if not Path(cfg.init).exists():
        raise MissingPathError(
            f"--init {cfg.init}: no such file or directory (expected auto "
            f"or a checkpoint PATH for --model {cfg.model})"
        )
    model = load_model(cfg.init, num_classes=num_classes)
    if not isinstance(model, VideoResNet) or model.config.arch != cfg.model:
        raise UserError(f"--init {cfg.init} does not hold a {cfg.model} model")
    return model
