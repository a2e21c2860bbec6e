"""A small 3-D CNN baseline: a video ResNet with (2+1)D or full 3-D convolutions.

The TimeSformer paper compares itself with 3-D CNNs (§4.2, Table 2: SlowFast R50 and I3D
R50 on training time, parameters and inference cost; Fig. 4: accuracy against the amount of
training data). This module is that baseline at laptop size, written for reading:

* ``arch="r2plus1d"``: every 3×3×3 convolution is factorised into a spatial 1×3×3
  convolution, BatchNorm, ReLU and a temporal 3×1×1 convolution (R(2+1)D, Tran et al.,
  "A Closer Look at Spatiotemporal Convolutions for Action Recognition", CVPR 2018, their
  Sec. 3.5). The middle width ``M = ⌊27·N_in·N_out / (9·N_in + 3·N_out)⌋`` keeps the
  parameters of the full 3-D kernel (same section).
* ``arch="i3d"``: full 3×3×3 kernels in the same ResNet (a 3-D ResNet, R3D in Tran et al.;
  "I3D-style" after Carreira & Zisserman, "Quo Vadis, Action Recognition?", CVPR 2017, who
  inflate 2-D kernels into 3-D ones; our network is a ResNet, not their Inception).

Layout (our choice of sizes; the structure of a ResNet BasicBlock as in Tran et al.):
stem (spatial stride 2) -> one stage per ``widths`` entry, each of ``blocks`` BasicBlocks,
stages after the first with stride 2 in time, height and width -> global average pool ->
Linear head. Input ``(B, T, C, H, W)`` like the TimeSformer. Params and MACs:
``cost.cnn_params`` / ``cost.cnn_macs``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import torch
from torch import nn

from .config import OFFICIAL_MEAN, OFFICIAL_STD, check_known_fields
from .errors import UserError
from .pretrained.mixin import WeightsMixin

ARCHS = ("r2plus1d", "i3d")

# Our choice of sizes. ``nano``: the demo's nano TimeSformer (depth 2, width 64, patch 8,
# 8×32² clips; divided: 156,488 params, 0.0206 GMACs/view) -> r2plus1d 141,864 params /
# 0.0176 GMACs, i3d 179,728 / 0.0187 (8 classes). ``tiny``: the tiny (ViT-Ti) divided
# TimeSformer at 8×224² (7.76 M params, 13.5 GMACs) -> r2plus1d 4.23 M / 13.9 GMACs.
CNN_PRESETS = {
    "nano": dict(num_frames=8, image_size=32, stem_width=8, widths=(8, 24, 64), blocks=(1, 1, 1)),
    "tiny": dict(
        num_frames=8, image_size=224, stem_width=32, widths=(32, 64, 128, 256), blocks=(1, 2, 2, 1)
    ),
}


@dataclass
class VideoCNNConfig:
    """Every size and choice of a ``VideoResNet`` (validated like ``TimeSformerConfig``)."""

    arch: str = "r2plus1d"
    num_frames: int = 8  # the clip length it is trained on (the network takes any T)
    image_size: int = 32
    in_channels: int = 3
    stem_width: int = 8
    widths: tuple[int, ...] = (8, 24, 64)
    blocks: tuple[int, ...] = (1, 1, 1)
    num_classes: int = 400
    dropout: float = 0.0
    mean: tuple[float, float, float] = OFFICIAL_MEAN
    std: tuple[float, float, float] = OFFICIAL_STD
    label_names: list[str] | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self.widths, self.blocks = tuple(self.widths), tuple(self.blocks)
        self.mean, self.std = tuple(self.mean), tuple(self.std)
        self.validate()

    def validate(self) -> None:
        """Raise a one-line ``UserError`` for any inconsistent field."""
        if self.arch not in ARCHS:
            raise UserError(f"unknown CNN arch {self.arch!r}; expected one of: {', '.join(ARCHS)}")
        for name in ("num_frames", "image_size", "in_channels", "stem_width"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise UserError(f"{name} must be a positive integer, got {value!r}")
        if not self.widths or len(self.widths) != len(self.blocks):
            raise UserError(
                f"widths and blocks need one entry per stage, got "
                f"{len(self.widths)} widths and {len(self.blocks)} blocks"
            )
        if any(not isinstance(v, int) or v < 1 for v in (*self.widths, *self.blocks)):
            raise UserError(
                f"widths and blocks must be positive integers, got {self.widths} and {self.blocks}"
            )
        if self.num_classes < 0:
            raise UserError(f"num_classes must be >= 0 (0 = no head), got {self.num_classes}")
        if not 0.0 <= self.dropout < 1.0:
            raise UserError(f"dropout must be in [0, 1), got {self.dropout}")
        if len(self.mean) != self.in_channels or len(self.std) != self.in_channels:
            raise UserError(f"mean/std need {self.in_channels} values (one per channel)")
        if self.label_names is not None and len(self.label_names) != self.num_classes:
            raise UserError(f"{len(self.label_names)} label_names for {self.num_classes} classes")

    @classmethod
    def preset(cls, name: str, **overrides) -> VideoCNNConfig:
        """``VideoCNNConfig.preset("nano", arch="i3d", num_classes=8)``."""
        if name not in CNN_PRESETS:
            raise UserError(
                f"unknown CNN preset {name!r}; expected one of: {', '.join(CNN_PRESETS)}"
            )
        return cls.from_dict({**CNN_PRESETS[name], **overrides})

    @classmethod
    def from_dict(cls, values: dict) -> VideoCNNConfig:
        check_known_fields(cls, values)
        return cls(**values)

    def to_dict(self) -> dict:
        d = dataclasses.asdict(self)
        for key in ("widths", "blocks", "mean", "std"):
            d[key] = list(d[key])
        return d

    def replace(self, **changes) -> VideoCNNConfig:
        return self.from_dict({**self.to_dict(), **changes})


def midplanes(in_planes: int, out_planes: int) -> int:
    """Width between the spatial and the temporal convolution of a (2+1)D pair: the one that
    keeps a full 3×3×3 kernel's parameter count (Tran et al. 2018, Sec. 3.5), rounded down."""
    return (in_planes * out_planes * 27) // (in_planes * 9 + 3 * out_planes)


class Conv2Plus1D(nn.Module):
    """A 3×3×3 convolution factorised (R(2+1)D, Tran et al. 2018, Sec. 3.5): spatial 1×3×3
    (stride s in H, W) -> BatchNorm -> ReLU -> temporal 3×1×1 (stride s in T). No bias."""

    def __init__(self, in_planes: int, out_planes: int, mid_planes: int, stride: int = 1):
        super().__init__()
        self.spatial = nn.Conv3d(
            in_planes,
            mid_planes,
            (1, 3, 3),
            stride=(1, stride, stride),
            padding=(0, 1, 1),
            bias=False,
        )
        self.norm = nn.BatchNorm3d(mid_planes)
        self.relu = nn.ReLU()
        self.temporal = nn.Conv3d(
            mid_planes, out_planes, (3, 1, 1), stride=(stride, 1, 1), padding=(1, 0, 0), bias=False
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, C, T, H, W) -> (B, C', T', H', W')
        return self.temporal(self.relu(self.norm(self.spatial(x))))


def conv3x3x3(
    arch: str, in_planes: int, out_planes: int, stride: int = 1, mid_planes: int | None = None
) -> nn.Module:
    """The block's convolution: (2+1)D for ``r2plus1d`` (middle width ``mid_planes``, by
    default ``midplanes(in, out)``), a full 3×3×3 kernel for ``i3d``."""
    if arch == "r2plus1d":
        mid = mid_planes or midplanes(in_planes, out_planes)
        return Conv2Plus1D(in_planes, out_planes, mid, stride)
    return nn.Conv3d(in_planes, out_planes, 3, stride=stride, padding=1, bias=False)


class BasicBlock(nn.Module):
    """ResNet basic block in 3-D: conv -> BN -> ReLU -> conv -> BN, + shortcut, ReLU.

    The shortcut is the identity, or a strided 1×1×1 convolution + BN where the width or
    the size changes. Both convolutions' middle width is ``midplanes(in, out)`` (as in
    torchvision's ``BasicBlock``, which the tests use as the reference).
    """

    def __init__(self, arch: str, in_planes: int, out_planes: int, stride: int = 1):
        super().__init__()
        mid = midplanes(in_planes, out_planes)  # both convolutions use it
        self.conv1 = conv3x3x3(arch, in_planes, out_planes, stride, mid)
        self.norm1 = nn.BatchNorm3d(out_planes)
        self.conv2 = conv3x3x3(arch, out_planes, out_planes, 1, mid)
        self.norm2 = nn.BatchNorm3d(out_planes)
        self.relu = nn.ReLU()
        self.shortcut = None
        if stride != 1 or in_planes != out_planes:
            self.shortcut = nn.Sequential(
                nn.Conv3d(in_planes, out_planes, 1, stride=stride, bias=False),
                nn.BatchNorm3d(out_planes),
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, C, T, H, W) -> (B, C', T', H', W')
        out = self.norm2(self.conv2(self.relu(self.norm1(self.conv1(x)))))
        residual = x if self.shortcut is None else self.shortcut(x)
        return self.relu(out + residual)


class Stem(nn.Module):
    """The first layer, spatial stride 2 (our size choice for 32² frames: 3×3 kernels).
    ``r2plus1d``: spatial 1×3×3 -> BN -> ReLU -> temporal 3×1×1; ``i3d``: one 3×3×3."""

    def __init__(self, cfg: VideoCNNConfig):
        super().__init__()
        C, W = cfg.in_channels, cfg.stem_width
        if cfg.arch == "r2plus1d":
            mid = midplanes(C, W)
            layers = [
                nn.Conv3d(C, mid, (1, 3, 3), stride=(1, 2, 2), padding=(0, 1, 1), bias=False),
                nn.BatchNorm3d(mid),
                nn.ReLU(),
                nn.Conv3d(mid, W, (3, 1, 1), padding=(1, 0, 0), bias=False),
            ]
        else:
            layers = [nn.Conv3d(C, W, 3, stride=(1, 2, 2), padding=1, bias=False)]
        self.layers = nn.Sequential(*layers, nn.BatchNorm3d(W), nn.ReLU())

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, C, T, H, W) -> (B, W, T, H/2, W/2)
        return self.layers(x)


def stage_strides(cfg: VideoCNNConfig) -> list[int]:
    """Stride of each block, in order: 2 for the first block of every stage but the first."""
    return [2 if (s > 0 and b == 0) else 1 for s, n in enumerate(cfg.blocks) for b in range(n)]


class VideoResNet(WeightsMixin, nn.Module):
    """3-D CNN video classifier: ``logits = model(video)``, video (B, T, C, H, W).

    ``from_pretrained`` / ``save_pretrained`` come from ``pretrained.mixin.WeightsMixin``
    (the same files as the TimeSformer's, with ``model_type`` ``mini-timesformer-cnn``).
    """

    config_class = VideoCNNConfig
    model_type = "mini-timesformer-cnn"

    def __init__(self, cfg: VideoCNNConfig):
        super().__init__()
        self.config = cfg
        self.stem = Stem(cfg)
        planes = [w for w, n in zip(cfg.widths, cfg.blocks) for _ in range(n)]
        ins = [cfg.stem_width, *planes[:-1]]
        self.blocks = nn.ModuleList(
            BasicBlock(cfg.arch, i, o, s) for i, o, s in zip(ins, planes, stage_strides(cfg))
        )
        self.head_drop = nn.Dropout(cfg.dropout)
        width = cfg.widths[-1]
        self.head = nn.Linear(width, cfg.num_classes) if cfg.num_classes else nn.Identity()
        self.apply(_init_cnn_weights)

    def check_input(self, video: torch.Tensor) -> None:
        """One-line ``UserError`` for inputs the model cannot take."""
        C = self.config.in_channels
        if not torch.is_tensor(video) or video.ndim != 5:
            shape = tuple(video.shape) if torch.is_tensor(video) else type(video).__name__
            raise UserError(f"expected a video batch of shape (B, T, {C}, H, W), got {shape}")
        if video.shape[2] != C:
            raise UserError(
                f"expected {C} channels at dim 2 of (B, T, C, H, W), "
                f"got {video.shape[2]} (shape {tuple(video.shape)})"
            )

    def forward_features(self, video: torch.Tensor) -> torch.Tensor:
        """Video (B, T, C, H, W) -> pooled features (B, widths[-1])."""
        self.check_input(video)
        x = video.transpose(1, 2)  # (B, T, C, H, W) -> (B, C, T, H, W), Conv3d's layout
        x = self.stem(x)
        for block in self.blocks:
            x = block(x)
        return x.mean(dim=(2, 3, 4))  # global average pool: (B, C', T', H', W') -> (B, C')

    def forward(self, video: torch.Tensor) -> torch.Tensor:
        """Video (B, T, C, H, W) -> logits (B, num_classes)."""
        return self.head(self.head_drop(self.forward_features(video)))


def _init_cnn_weights(module: nn.Module) -> None:
    """He initialisation for convolutions (fan-out, ReLU), BN = identity, small head
    (the usual ResNet initialisation; torchvision's ``VideoResNet`` does the same)."""
    if isinstance(module, nn.Conv3d):
        nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")
    elif isinstance(module, nn.BatchNorm3d):
        nn.init.ones_(module.weight)
        nn.init.zeros_(module.bias)
    elif isinstance(module, nn.Linear):
        nn.init.normal_(module.weight, 0, 0.01)
        nn.init.zeros_(module.bias)


__all__ = [
    "ARCHS",
    "CNN_PRESETS",
    "VideoCNNConfig",
    "Conv2Plus1D",
    "BasicBlock",
    "Stem",
    "VideoResNet",
    "midplanes",
    "conv3x3x3",
    "stage_strides",
]
