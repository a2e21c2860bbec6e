"""TimeSformerConfig: every size and choice of the model in one validated dataclass.

Presets follow the ViT family the paper initialises from (§4, Appendix A):
``tiny`` = ViT-Ti, ``small`` = ViT-S, ``base`` = ViT-B/16 at 8×224 (the paper's
TimeSformer). ``nano`` is ours: small enough to train on a laptop CPU in minutes.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field, fields

from .errors import UserError
from .schemes import SCHEME_ALIASES, SCHEMES, canonical_scheme, check_grid

# Official TimeSformer normalisation (Kinetics); ViT / HF checkpoints use 0.5 / 0.5.
OFFICIAL_MEAN = (0.45, 0.45, 0.45)
OFFICIAL_STD = (0.225, 0.225, 0.225)

PRESETS = {
    "nano": dict(num_frames=8, image_size=32, patch_size=8, embed_dim=64, depth=4, num_heads=4),
    "tiny": dict(num_frames=8, image_size=224, patch_size=16, embed_dim=192, depth=12, num_heads=3),
    "small": dict(
        num_frames=8, image_size=224, patch_size=16, embed_dim=384, depth=12, num_heads=6
    ),
    "base": dict(
        num_frames=8, image_size=224, patch_size=16, embed_dim=768, depth=12, num_heads=12
    ),
}


@dataclass
class TimeSformerConfig:
    """All hyper-parameters of a TimeSformer.

    ``num_frames`` and ``image_size`` are the sizes the embeddings were learned at;
    the model accepts other T/H/W and interpolates the embeddings (see ``embed.py``).
    """

    num_frames: int = 8
    image_size: int = 224
    patch_size: int = 16
    in_channels: int = 3
    embed_dim: int = 768
    depth: int = 12
    num_heads: int = 12
    mlp_ratio: float = 4.0
    qkv_bias: bool = True
    num_classes: int = 400
    attention: str = "divided"
    drop_path_rate: float = 0.0
    dropout: float = 0.0
    attention_dropout: float = 0.0
    layer_norm_eps: float = 1e-6
    mean: tuple[float, float, float] = OFFICIAL_MEAN
    std: tuple[float, float, float] = OFFICIAL_STD
    label_names: list[str] | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self.attention = canonical_scheme(self.attention)
        self.mean, self.std = tuple(self.mean), tuple(self.std)
        self.validate()

    # ------------------------------------------------------------------ checks
    def validate(self) -> None:
        """Raise a one-line ValueError for any inconsistent field."""
        for name in (
            "num_frames",
            "image_size",
            "patch_size",
            "in_channels",
            "embed_dim",
            "depth",
            "num_heads",
        ):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise UserError(f"{name} must be a positive integer, got {value!r}")
        if self.num_classes < 0:
            raise UserError(f"num_classes must be >= 0 (0 = no head), got {self.num_classes}")
        if self.image_size % self.patch_size:
            raise UserError(
                f"image_size {self.image_size} is not a multiple of patch_size {self.patch_size}"
            )
        if self.embed_dim % self.num_heads:
            raise UserError(
                f"embed_dim {self.embed_dim} is not divisible by num_heads {self.num_heads}"
            )
        for name in ("drop_path_rate", "dropout", "attention_dropout"):
            if not 0.0 <= getattr(self, name) < 1.0:
                raise UserError(f"{name} must be in [0, 1), got {getattr(self, name)}")
        if len(self.mean) != self.in_channels or len(self.std) != self.in_channels:
            raise UserError(f"mean/std need {self.in_channels} values (one per channel)")
        if self.label_names is not None and len(self.label_names) != self.num_classes:
            raise UserError(f"{len(self.label_names)} label_names for {self.num_classes} classes")
        grid = self.image_size // self.patch_size
        check_grid(self.attention, self.num_frames, grid, grid)  # e.g. local_global: even

    # ------------------------------------------------------------- derived sizes
    @property
    def grid_size(self) -> int:
        """Patches per side, H' = W' = image_size / patch_size."""
        return self.image_size // self.patch_size

    @property
    def num_patches(self) -> int:
        """N = H'·W' patches per frame (paper §3)."""
        return self.grid_size**2

    @property
    def head_dim(self) -> int:
        return self.embed_dim // self.num_heads

    # ------------------------------------------------------------ construction
    @classmethod
    def preset(cls, name: str, **overrides) -> TimeSformerConfig:
        """``TimeSformerConfig.preset("base", attention="axial", num_frames=16)``."""
        if name not in PRESETS:
            raise UserError(f"unknown preset {name!r}; expected one of: {', '.join(PRESETS)}")
        return cls.from_dict({**PRESETS[name], **overrides})

    @classmethod
    def from_dict(cls, values: dict) -> TimeSformerConfig:
        """Build from a dict, refusing unknown keys with the list of known ones."""
        check_known_fields(cls, values)
        return cls(**values)

    def to_dict(self) -> dict:
        d = dataclasses.asdict(self)
        d["mean"], d["std"] = list(self.mean), list(self.std)
        return d

    def replace(self, **changes) -> TimeSformerConfig:
        """A copy with some fields changed (validated again)."""
        return self.from_dict({**self.to_dict(), **changes})


def check_known_fields(dataclass_type, values: dict) -> None:
    """One-line error for the first key of ``values`` that is not a field of the dataclass
    (shared by ``TimeSformerConfig``, ``train.TrainConfig`` and ``demo.DemoBudget``)."""
    known = {f.name for f in fields(dataclass_type)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise UserError(
            f"unknown config field {unknown[0]!r}; known fields: {', '.join(sorted(known))}"
        )


__all__ = [
    "SCHEMES",
    "SCHEME_ALIASES",
    "canonical_scheme",
    "OFFICIAL_MEAN",
    "OFFICIAL_STD",
    "PRESETS",
    "TimeSformerConfig",
    "check_known_fields",
]
