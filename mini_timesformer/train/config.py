"""``TrainConfig``: every choice of a training run, validated, and the ``--data`` spec.

The CLI flags of ``mini-timesformer train`` map one to one onto its fields; model sizes
use ``TimeSformerConfig``'s names (``num_frames``, ``image_size``, ``drop_path_rate``; flags
``--frames``, ``--size``, ``--drop-path``). ``--data`` takes one of:

* ``synthetic-motion`` / ``synthetic-appearance`` — clips generated on the fly
  (``mt.data.SyntheticVideos``); motion classes need time, appearance classes do not;
* ``kinetics:DIR`` — Kinetics in its official layout (``mt.data.KineticsDataset``);
* ``folder:DIR`` — ``DIR/<class>/<video>`` (or ``DIR/train`` and ``DIR/val`` holding that).

``--model`` takes ``timesformer`` (the default), or ``r2plus1d`` / ``i3d``: the 3-D CNN
baseline ``cnn.VideoResNet`` (the paper's comparison, §4.2), sized by the same ``--preset``
(``nano`` / ``tiny``, ``cnn.CNN_PRESETS``) and trained by the same loop on the same data;
``--attention`` is then unused, ``--init`` is ``auto`` (He init) or a CNN checkpoint PATH.

``--init`` takes ``auto`` (from scratch, the preset's default: ``small`` for nano and tiny,
``vit-default`` for small and base; ``scratch`` is its old name), ``small``
(``train.init.small_model_init``: LeCun-normal weights, position/time embeddings of std
1.0, random ``extra`` Linear; our choice), ``vit-default`` (ViT's from-scratch init: std
0.02, zero time embedding and ``extra`` Linear), ``vit:PATH`` (ImageNet ViT weights, the
paper's initialisation, Appendix A) or ``PATH`` (a TimeSformer checkpoint to fine-tune).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field

from ..argtypes import positive_float, positive_int
from ..cnn import ARCHS
from ..config import PRESETS, check_known_fields
from ..errors import UserError
from ..schemes import SCHEMES, canonical_scheme

SYNTHETIC_KINDS = {"synthetic-motion": "motion", "synthetic-appearance": "appearance"}
VAL_SEED_OFFSET = 100_003  # synthetic validation clips never coincide with training clips
FROM_SCRATCH_INITS = ("small", "vit-default")
MODELS = ("timesformer", *ARCHS)  # --model
OPTIMIZERS = ("adamw", "sgd")  # --optimizer (train/optim.py)
DATA_HELP = "synthetic-motion | synthetic-appearance | kinetics:DIR | folder:DIR"
SMALL_INIT_PRESETS = ("nano", "tiny")  # our choice: at width 64 ViT's init sits at 50% (docs)


def option(default, help: str, **cli):
    """A ``TrainConfig`` field: its default and its ``train`` flag's help, in one place.

    ``cli`` (all optional): ``flag`` (default ``--field-name``), ``type`` (default: the
    field's type), ``choices``, ``metavar``; ``cli=False`` keeps it out of the CLI. The
    parser is generated from these (``train.cli.add_config_arguments``).
    """
    return field(default=default, metadata={"help": help, **cli})


@dataclass
class TrainConfig:
    """Every choice of a training run (defaults: a nano model on synthetic motion, CPU)."""

    # model
    model: str = option(
        "timesformer",
        "timesformer or a 3-D CNN baseline: r2plus1d | i3d (mt.cnn)",
        choices=MODELS,
    )
    preset: str = option("nano", "model size (CNNs: nano, tiny)", choices=tuple(PRESETS))
    attention: str = option(
        "divided", f"one of {', '.join(SCHEMES)}", metavar="SCHEME"
    )  # aliases too (canonical_scheme)
    num_frames: int = option(8, "frames per clip", flag="--frames", type=positive_int)
    image_size: int | None = option(
        None, "frame size (default: the preset's)", flag="--size", type=positive_int
    )
    init: str = option(
        "auto",
        "auto (from scratch: small for nano/tiny, vit-default for small/base) | small | "
        "vit-default | vit:PATH (ImageNet ViT) | PATH (checkpoint); scratch = auto",
    )
    drop_path_rate: float = option(0.0, "stochastic depth rate", flag="--drop-path")
    # data
    data: str = option("synthetic-motion", DATA_HELP)
    train_size: int = option(4096, "synthetic clips per epoch", type=positive_int)
    val_size: int = option(512, "synthetic validation clips", type=positive_int)
    stride: int = option(
        32, "frames between sampled frames (file datasets, at 30 fps)", type=positive_int
    )
    workers: int = option(0, "DataLoader worker processes")
    # optimisation
    epochs: int = option(10, "epochs (--steps wins)", type=positive_int)
    steps: int | None = option(None, "optimiser steps; overrides --epochs", type=positive_int)
    batch_size: int = option(32, "clips per process per micro-batch", type=positive_int)
    accum: int = option(
        1,
        "micro-batches per optimiser step (effective batch = batch × accum)",
        type=positive_int,
    )
    optimizer: str = option(
        "adamw",
        "adamw + warmup + cosine or the paper's SGD recipe",
        choices=OPTIMIZERS,
    )
    lr: float | None = option(None, "learning rate (adamw 1e-3, sgd 0.005)", type=positive_float)
    weight_decay: float | None = option(None, "weight decay (adamw 0.05, sgd 1e-4)")
    warmup_steps: int | None = option(
        None, "linear warmup steps (default: adamw 10% of the run, at most 500; sgd 0)"
    )
    clip_grad: float = option(1.0, "max gradient norm (0 = off)")
    label_smoothing: float = option(0.0, "label smoothing of the cross-entropy")
    bf16: bool | None = option(
        None, "bf16 autocast on any device, CPU too (default: on CUDA only; --no-bf16: fp32)"
    )
    # bookkeeping
    out: str = option("runs/train", "run directory")
    seed: int = option(0, "random seed (data order, init, augmentation)")
    device: str = option("auto", "auto (cuda → mps → cpu), cpu, cuda, mps")
    threads: int | None = option(
        None, "CPU threads (default: torch's; 1 is fastest on a busy machine)", type=positive_int
    )
    resume: bool = option(False, "continue from OUT/checkpoints/last.pt")
    val_every: int = option(1, "epochs between validations (0 = only at the end)")
    checkpoint_every: int = option(0, "steps between checkpoints (0 = each epoch end)")
    stop_after: int | None = option(None, "stop as if killed after N steps (tests)", cli=False)
    progress: bool = option(True, "progress bar")
    progress_label: str | None = option(None, "progress bar label", cli=False)
    plots: bool = option(True, "curves.png and attention snapshots")
    attention_every: int | None = option(
        None,
        "attention rollout of 4 validation clips every EPOCHS epochs into OUT/attention/ "
        "(PNG per epoch + epochs.gif); default: about 10 per run on synthetic data, off on "
        "files; 0 = off",
        metavar="EPOCHS",
    )

    def __post_init__(self) -> None:
        self.attention = canonical_scheme(self.attention)
        positive = (
            "num_frames",
            "train_size",
            "val_size",
            "stride",
            "epochs",
            "batch_size",
            "accum",
        )
        for name in positive:
            if not isinstance(getattr(self, name), int) or getattr(self, name) < 1:
                raise UserError(f"{name} must be a positive integer, got {getattr(self, name)!r}")
        if self.steps is not None and self.steps < 1:
            raise UserError(f"steps must be a positive integer, got {self.steps}")
        if self.optimizer not in OPTIMIZERS:
            raise UserError(
                f"unknown optimizer {self.optimizer!r}; expected one of: {', '.join(OPTIMIZERS)}"
            )
        if self.workers < 0:
            raise UserError(f"workers must be >= 0, got {self.workers}")
        if self.attention_every is not None and self.attention_every < 0:
            raise UserError(f"attention_every must be >= 0, got {self.attention_every}")
        parse_data_spec(self.data)  # fail early on a malformed --data
        if self.model not in MODELS:
            raise UserError(f"unknown model {self.model!r}; expected one of: {', '.join(MODELS)}")
        if self.model != "timesformer":
            self.check_cnn_options()

    def check_cnn_options(self) -> None:
        """One-line ``UserError`` for TimeSformer-only options given with a 3-D CNN."""
        from ..cnn import CNN_PRESETS

        model = f"--model {self.model}"
        if self.preset not in CNN_PRESETS:
            raise UserError(
                f"{model} has the presets {', '.join(CNN_PRESETS)}, got --preset {self.preset}"
            )
        if self.init.startswith("vit:") or self.init in FROM_SCRATCH_INITS:
            raise UserError(
                f"--init {self.init} is a TimeSformer initialisation; {model} "
                f"takes auto (He init) or a checkpoint PATH"
            )
        if self.attention != TrainConfig.attention:
            raise UserError(f"{model} has no attention scheme; drop --attention {self.attention}")
        if self.attention_every:
            raise UserError(f"{model} has no attention to snapshot; drop --attention-every")
        if self.drop_path_rate:
            raise UserError(f"{model} has no drop path; drop --drop-path {self.drop_path_rate}")

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    def replace(self, **changes) -> TrainConfig:
        return TrainConfig.from_dict({**self.to_dict(), **changes})

    @classmethod
    def from_dict(cls, values: dict) -> TrainConfig:
        """Build from a dict, refusing unknown keys with the list of known ones."""
        check_known_fields(cls, values)
        return cls(**values)


def parse_data_spec(spec: str) -> tuple[str, str | None]:
    """``"kinetics:DIR"`` -> ``("kinetics", "DIR")``; ``"synthetic-motion"`` -> (it, None)."""
    if spec in SYNTHETIC_KINDS:
        return spec, None
    kind, sep, root = spec.partition(":")
    if kind in ("kinetics", "folder") and sep and root:
        return kind, root
    raise UserError(
        f"unknown --data {spec!r}; expected synthetic-motion, "
        f"synthetic-appearance, kinetics:DIR or folder:DIR"
    )


def image_size(cfg: TrainConfig) -> int:
    if cfg.preset not in PRESETS:
        raise UserError(f"unknown preset {cfg.preset!r}; expected one of: {', '.join(PRESETS)}")
    return cfg.image_size or PRESETS[cfg.preset]["image_size"]


def resolve_init(cfg: TrainConfig) -> str:
    """``--init`` with ``auto`` (or ``scratch``) replaced by the preset's from-scratch init:
    ``small`` for nano and tiny, ``vit-default`` for small and base (our choice); ``he``
    (``cnn.VideoResNet``'s own init) for the 3-D CNN."""
    if cfg.init in ("auto", "scratch") and cfg.model != "timesformer":
        return "he"
    if cfg.init in ("auto", "scratch"):
        return "small" if cfg.preset in SMALL_INIT_PRESETS else "vit-default"
    return cfg.init


def attention_every(cfg: TrainConfig, epochs: int) -> int:
    """Epochs between attention snapshots (0 = none) for a run of ``epochs`` epochs.

    ``cfg.attention_every``, or when it is None (auto): on synthetic data with plots on,
    about ten snapshots per run; on files none (our choice: those are large models on a
    GPU, where keeping every block's attention weights costs memory; ask with the option).
    """
    if cfg.attention_every is not None:
        return cfg.attention_every
    if cfg.model != "timesformer":  # the 3-D CNN has no attention
        return 0
    if not cfg.plots or parse_data_spec(cfg.data)[0] not in SYNTHETIC_KINDS:
        return 0
    return max(1, math.ceil(epochs / 10))
