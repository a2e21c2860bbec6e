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
from dataclasses import dataclass

from ..cnn import ARCHS
from ..config import check_known_fields
from ..errors import UserError
from ..schemes import canonical_scheme

SYNTHETIC_KINDS = {"synthetic-motion": "motion", "synthetic-appearance": "appearance"}
VAL_SEED_OFFSET = 100_003  # synthetic validation clips never coincide with training clips
FROM_SCRATCH_INITS = ("small", "vit-default")
MODELS = ("timesformer", *ARCHS)  # --model
SMALL_INIT_PRESETS = ("nano", "tiny")  # our choice: at width 64 ViT's init sits at 50% (docs)


@dataclass
class TrainConfig:
    """Every choice of a training run (defaults: a nano model on synthetic motion, CPU)."""

    # model
    model: str = "timesformer"  # timesformer | r2plus1d | i3d (the 3-D CNN, cnn.py)
    preset: str = "nano"
    attention: str = "divided"
    num_frames: int = 8  # --frames
    image_size: int | None = None  # --size: frame size; default = the preset's
    init: str = "auto"  # auto | small | vit-default | vit:PATH | PATH ("scratch" = auto)
    drop_path_rate: float = 0.0  # --drop-path
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
    bf16: bool | None = None  # bf16 autocast: None = on CUDA only, True = any device (CPU too)
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
    attention_every: int | None = None  # epochs; None: auto (synthetic data), 0 = off

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
        if self.optimizer not in ("adamw", "sgd"):
            raise UserError(f"unknown optimizer {self.optimizer!r}; expected adamw or sgd")
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
    from ..config import PRESETS

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
