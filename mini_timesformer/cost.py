"""Analytic cost of a TimeSformer: parameters, multiply-accumulates, memory.

Convention (fvcore, as in the paper's Tables 2 and 5): one multiply-add (MAC) is counted
as one "FLOP". ``macs()`` counts the matrix products (patch-embedding conv, every Linear,
the two attention products Q·Kᵀ and A·V); norms, softmax, GELU and additions are left
out, as fvcore leaves them out. Tests check these formulas against the real modules
(``sum(p.numel())``) and against ``torch.utils.flop_counter.FlopCounterMode`` (÷ 2).

Memory: ``attention_memory`` (one attention step, eager vs fused) and the training-memory
estimate ``training_memory`` (weights, gradients, optimiser state, stored activations),
checked against measured peaks in ``tests/test_curves.py``. ``perf/curves.py`` sweeps
these over frame sizes and frame counts (the paper's Fig. 3).

The 3-D CNN baseline (``cnn.VideoResNet``, the paper's comparison of §4.2 / Table 2):
``cnn_params`` and ``cnn_macs``, same conventions (convolutions and the head counted;
BatchNorm, ReLU and pooling left out); ``params`` and ``macs`` accept its config too.
"""

from __future__ import annotations

from dataclasses import dataclass

from .cnn import VideoCNNConfig, midplanes, stage_strides
from .config import TimeSformerConfig
from .schemes import num_groups, scheme_record

V100_BYTES = 32 * 2**30  # the paper's GPU (§4.1)
GIB = 2**30


@dataclass
class StepShape:
    """Where one attention step runs: G groups of L keys each (CLS copy included)."""

    name: str
    groups: int
    length: int
    added: bool


def step_shapes(
    cfg: TimeSformerConfig, num_frames: int | None = None, image_size: int | None = None
) -> list[StepShape]:
    """The groups each step of one block forms for one clip (see ``schemes.py``)."""
    T = num_frames or cfg.num_frames
    side = (image_size or cfg.image_size) // cfg.patch_size
    scheme = scheme_record(cfg.attention)
    shapes = []
    for name in scheme.step_names:
        added = scheme.is_added(name)
        grid = (T, side, side)
        G = num_groups(name, grid)
        L = T * side * side // G + (0 if added else 1)  # the last step adds a CLS copy
        shapes.append(StepShape(name, G, L, added))
    return shapes


def params(cfg: TimeSformerConfig) -> int:
    """Exact number of parameters of ``TimeSformer(cfg)`` (or ``VideoResNet(cfg)``)."""
    if isinstance(cfg, VideoCNNConfig):
        return cnn_params(cfg)
    D, C, P = cfg.embed_dim, cfg.in_channels, cfg.patch_size
    hidden = int(D * cfg.mlp_ratio)
    embed = D * C * P * P + D + D + (1 + cfg.num_patches) * D + cfg.num_frames * D
    attention = D * 3 * D + (3 * D if cfg.qkv_bias else 0) + D * D + D + 2 * D
    extra = D * D + D  # the zero-initialised Linear of an added step
    steps = len(scheme_record(cfg.attention).steps)
    mlp = 2 * D + D * hidden + hidden + hidden * D + D
    block = steps * attention + (steps - 1) * extra + mlp
    head = D * cfg.num_classes + cfg.num_classes
    return embed + cfg.depth * block + 2 * D + head


def macs(
    cfg: TimeSformerConfig, num_frames: int | None = None, image_size: int | None = None
) -> int:
    """Multiply-accumulates of one forward pass on one clip (one "view"); a
    ``VideoCNNConfig`` goes to ``cnn_macs``."""
    if isinstance(cfg, VideoCNNConfig):
        return cnn_macs(cfg, num_frames, image_size)
    T = num_frames or cfg.num_frames
    N = ((image_size or cfg.image_size) // cfg.patch_size) ** 2
    D, C, P = cfg.embed_dim, cfg.in_channels, cfg.patch_size
    hidden = int(D * cfg.mlp_ratio)
    total = T * N * D * C * P * P  # patch embedding
    tokens = scheme_record(cfg.attention).num_tokens(T, N)  # a CLS per frame if per-frame
    block = 0
    for s in step_shapes(cfg, T, image_size):
        rows = s.groups * s.length  # tokens entering this step's qkv (CLS copies included)
        block += rows * D * 3 * D  # qkv
        block += 2 * s.groups * s.length**2 * D  # Q·Kᵀ and A·V, summed over heads
        block += rows * D * D  # output projection
        if s.added:
            block += T * N * D * D  # extra Linear on the patch tokens
    block += tokens * D * hidden * 2  # MLP
    return total + cfg.depth * block + D * cfg.num_classes


def keys_per_query(
    cfg: TimeSformerConfig, num_frames: int | None = None, image_size: int | None = None
) -> int:
    """How many keys one patch query is compared with in one block (all steps)."""
    return sum(s.length for s in step_shapes(cfg, num_frames, image_size))


def attention_memory(
    cfg: TimeSformerConfig,
    batch: int = 1,
    fused: bool = True,
    num_frames: int | None = None,
    image_size: int | None = None,
    bytes_per_element: int = 4,
) -> int:
    """Bytes one attention step holds for its largest grouping (one layer).

    Eager attention materialises the scores and the softmax, 2·G·heads·L² numbers;
    fused (flash / memory-efficient) attention keeps q, k, v, the output and one
    log-sum-exp per query: G·heads·L·(4·d_h + 1) numbers, linear in L.
    """
    heads, d_h = cfg.num_heads, cfg.head_dim
    per_step = []
    for s in step_shapes(cfg, num_frames, image_size):
        if fused:
            per_step.append(s.groups * heads * s.length * (4 * d_h + 1))
        else:
            per_step.append(2 * s.groups * heads * s.length**2)
    return batch * max(per_step) * bytes_per_element


def activation_elements(cfg: TimeSformerConfig, fused: bool) -> tuple[int, int]:
    """Numbers stored for backward by one clip, and the largest transient extra.

    An estimate that counts the big tensors autograd keeps per block: each step's input,
    its normalised grouped tokens, q/k/v, the attention result and projection input
    (+ the extra Linear's input for added steps); eager attention also keeps the softmax
    probabilities (G·heads·L²), fused keeps one log-sum-exp per query and head. The MLP
    keeps its input, LayerNorm output and both hidden activations (2·4D). The transient
    is the scores and their gradient that live next to the stored probabilities during
    one eager layer (2·G·heads·L²); fused attention has none worth counting.
    """
    D, heads = cfg.embed_dim, cfg.num_heads
    T, N = cfg.num_frames, cfg.num_patches
    hidden = int(D * cfg.mlp_ratio)
    tokens = scheme_record(cfg.attention).num_tokens(T, N)
    block, transient = 0, 0
    for s in step_shapes(cfg):
        rows = s.groups * s.length  # grouped tokens, CLS copies included
        core = s.groups * heads * s.length * (1 if fused else s.length)  # lse, or probabilities
        block += tokens * D + rows * D + 3 * rows * D + core + rows * D + rows * D
        block += T * N * D if s.added else 0
        if not fused:
            transient = max(transient, 2 * s.groups * heads * s.length**2)
    block += 2 * tokens * D + 2 * tokens * hidden  # MLP
    return cfg.depth * block, transient


def training_memory(
    cfg: TimeSformerConfig,
    batch: int = 1,
    fused: bool = False,
    bytes_per_element: int = 4,
    optimizer_states: int = 1,
) -> dict:
    """Estimated bytes of one training step: weights, gradients, optimizer state
    (1 = SGD with momentum, the paper's optimizer; 2 = Adam) and activations of a batch."""
    p = params(cfg) * bytes_per_element
    stored, transient = activation_elements(cfg, fused)
    parts = {
        "weights": p,
        "gradients": p,
        "optimizer": optimizer_states * p,
        "activations": batch * stored * bytes_per_element,
        "transient": batch * transient * bytes_per_element,
    }
    parts["total"] = sum(parts.values())
    return parts


def max_batch(
    cfg: TimeSformerConfig, fused: bool = False, budget: int = V100_BYTES, **kwargs
) -> int:
    """The largest batch whose training-memory estimate fits in ``budget`` bytes (0 = none)."""
    fixed = training_memory(cfg, 0, fused, **kwargs)["total"]
    per_clip = training_memory(cfg, 1, fused, **kwargs)["total"] - fixed
    return max(0, int((budget - fixed) // per_clip))


# ------------------------------------------------------------- the 3-D CNN baseline
def _cnn_blocks(cfg: VideoCNNConfig):
    """(in, out, stride) of every BasicBlock in order."""
    planes = [w for w, n in zip(cfg.widths, cfg.blocks) for _ in range(n)]
    return list(zip([cfg.stem_width, *planes[:-1]], planes, stage_strides(cfg)))


def cnn_params(cfg: VideoCNNConfig) -> int:
    """Exact number of parameters of ``cnn.VideoResNet(cfg)`` (convolutions have no bias;
    each BatchNorm has a scale and a shift per channel)."""
    C, W = cfg.in_channels, cfg.stem_width
    if cfg.arch == "r2plus1d":
        m = midplanes(C, W)
        total = m * C * 9 + 2 * m + W * m * 3 + 2 * W  # spatial, BN, temporal, BN
    else:
        total = W * C * 27 + 2 * W
    for i, o, s in _cnn_blocks(cfg):
        if cfg.arch == "r2plus1d":
            m = midplanes(i, o)  # both (2+1)D pairs of a block use it
            total += (m * i * 9 + 2 * m + o * m * 3) + (m * o * 9 + 2 * m + o * m * 3)
        else:
            total += o * i * 27 + o * o * 27
        total += 2 * 2 * o  # norm1, norm2
        if s != 1 or i != o:
            total += o * i + 2 * o  # 1×1×1 shortcut + its BN
    return total + cfg.widths[-1] * cfg.num_classes + cfg.num_classes


def cnn_macs(
    cfg: VideoCNNConfig, num_frames: int | None = None, image_size: int | None = None
) -> int:
    """Multiply-accumulates of one forward pass of ``VideoResNet(cfg)`` on one clip: a
    convolution costs (output positions) × C_out × C_in × kernel volume."""
    T = num_frames or cfg.num_frames
    H = W = image_size or cfg.image_size

    def down(n: int, stride: int) -> int:  # output length of a kernel-3/pad-1 or 1×1 conv
        return (n - 1) // stride + 1

    C, Ws = cfg.in_channels, cfg.stem_width
    H, W = down(H, 2), down(W, 2)
    if cfg.arch == "r2plus1d":
        m = midplanes(C, Ws)
        total = T * H * W * (m * C * 9 + Ws * m * 3)
    else:
        total = T * H * W * Ws * C * 27
    for i, o, s in _cnn_blocks(cfg):
        t, h, w = T, down(H, s), down(W, s)  # after the spatial stride
        T, H, W = down(T, s), h, w  # after the temporal stride too
        if cfg.arch == "r2plus1d":
            m = midplanes(i, o)
            total += t * h * w * m * i * 9 + T * H * W * o * m * 3  # conv1
            total += T * H * W * (m * o * 9 + o * m * 3)  # conv2
        else:
            total += T * H * W * (o * i * 27 + o * o * 27)
        if s != 1 or i != o:
            total += T * H * W * o * i
    return total + cfg.widths[-1] * cfg.num_classes
