"""The five space-time attention schemes of the paper (§3, Fig. 1-2), as *groupings*.

A scheme is an ordered list of attention steps; each step lets every patch token attend
to the other tokens of its **group**. A grouping is a partition of the T·N patch tokens,
so a step runs as one batched attention after a rearrange:

    patch tokens (B, T·N, D)  --split-->  (B·G, L, D)  --attention-->  --merge-->  (B, T·N, D)

Tokens are time-major: token index = t·N + h·W' + w (frame 0's patches first).

| scheme         | steps (in order)        | paper                     |
|----------------|-------------------------|---------------------------|
| space          | space                   | Space (S)                 |
| joint          | joint                   | Joint Space-Time (ST)     |
| divided        | time, space             | Divided Space-Time (T+S)  |
| local_global   | local, global           | Sparse Local Global (L+G) |
| axial          | time, width, height     | Axial (T+W+H)             |

CLS policy (the official divided code, ``timesformer/models/vit.py`` ``Block``): the last
step of a block is the ViT attention; the CLS token is copied into each of its groups and
the G outputs for the CLS are averaged. Earlier ("added") steps leave the CLS token out.
The official code has space, joint and divided only; applying this rule to axial and
local-global is our extension (it reproduces Table 1's parameter counts). ``space`` is a
per-frame ViT: the model folds frames into the batch, so every frame has its own CLS token.

Local-global: the paper (§3) gives the sizes, local attention over the neighbouring
F × H/2 × W/2 patches, then a global attention at stride 2 in t, h and w; it leaves open only
fixed windows vs a sliding neighbourhood. Our choice, fixed windows: ``local`` splits the
H'×W' patch grid into 2×2 quadrant windows spanning all frames; ``global`` groups tokens
whose (t mod 2, h mod 2, w mod 2) agree, i.e. each query sees the whole clip at stride 2.
"""

from __future__ import annotations

from collections import OrderedDict

import torch
from einops import rearrange

from .errors import UserError

# A scheme = its attention steps, in order; the last one is the ViT step (with CLS).
STEPS = {
    "space": ("space",),
    "joint": ("joint",),
    "divided": ("time", "space"),
    "local_global": ("local", "global"),
    "axial": ("time", "width", "height"),
}
SCHEMES = tuple(STEPS)  # ("space", "joint", "divided", "local_global", "axial")

# Names used by the official code and Hugging Face `transformers`.
SCHEME_ALIASES = {
    "space_only": "space",
    "joint_space_time": "joint",
    "divided_space_time": "divided",
}


def canonical_scheme(name: str) -> str:
    """Map a scheme name or an official/HF alias to one of ``SCHEMES``."""
    name = SCHEME_ALIASES.get(name, name)
    if name not in SCHEMES:
        known = ", ".join(SCHEMES + tuple(SCHEME_ALIASES))
        raise UserError(f"unknown attention scheme {name!r}; expected one of: {known}")
    return name


# How each grouping cuts the time-major token axis: "(t h w)" -> (groups, group length).
# Extra axes: wh/ww = number of local windows per side (2); st/sh/sw = global strides (2).
_GROUPED = {
    "joint": "b (t h w) d -> b (t h w) d",
    "space": "b (t h w) d -> (b t) (h w) d",
    "time": "b (t h w) d -> (b h w) t d",
    "width": "b (t h w) d -> (b t h) w d",
    "height": "b (t h w) d -> (b t w) h d",
    "local": "b (t wh h ww w) d -> (b wh ww) (t h w) d",
    "global": "b (t st h sh w sw) d -> (b st sh sw) (t h w) d",
}


def _axis_sizes(grouping: str, t: int, h: int, w: int) -> dict[str, int]:
    """Named axis sizes for the einops pattern of ``grouping`` on a T×H'×W' grid."""
    if grouping == "local":  # 2×2 windows of (h/2)×(w/2) patches, all frames
        return dict(t=t, wh=2, h=h // 2, ww=2, w=w // 2)
    if grouping == "global":  # stride 2 in t, h, w (no stride in t for a single frame)
        st = 2 if t > 1 else 1
        return dict(t=t // st, st=st, h=h // 2, sh=2, w=w // 2, sw=2)
    return dict(t=t, h=h, w=w)


def split_groups(x: torch.Tensor, grouping: str, grid: tuple[int, int, int]) -> torch.Tensor:
    """Patch tokens (B, T·N, D) -> groups (B·G, L, D)."""
    return rearrange(x, _GROUPED[grouping], **_axis_sizes(grouping, *grid))


def merge_groups(x: torch.Tensor, grouping: str, grid: tuple[int, int, int]) -> torch.Tensor:
    """Groups (B·G, L, D) -> patch tokens (B, T·N, D); inverse of ``split_groups``."""
    source, target = _GROUPED[grouping].split(" -> ")
    return rearrange(x, f"{target} -> {source}", **_axis_sizes(grouping, *grid))


def num_groups(grouping: str, grid: tuple[int, int, int]) -> int:
    """G, the number of groups a step of this grouping forms for one clip (read off the
    grouping's own pattern, so a new grouping needs nothing here)."""
    t, h, w = grid
    index = torch.empty(1, t * h * w, 0)  # (1, T·N, 0): shapes only, no data
    return split_groups(index, grouping, grid).shape[0]


def check_grid(scheme: str, t: int, h: int, w: int) -> None:
    """Raise a one-line ValueError if ``scheme`` cannot partition a T×H'×W' token grid."""
    if canonical_scheme(scheme) != "local_global":
        return
    if h % 2 or w % 2 or (t > 1 and t % 2):
        raise UserError(
            f"local_global needs an even patch grid and an even number of frames (or 1): "
            f"got T={t}, H'={h}, W'={w} patches; e.g. 8 frames at 224 px with patch 16 "
            f"(14×14) or 32 px with patch 8 (4×4) work"
        )


def visibility(scheme: str, num_frames: int, grid_h: int, grid_w: int) -> OrderedDict:
    """Which patch token can attend to which, per step of ``scheme``.

    Returns ``{step name: bool tensor (T·N, T·N)}`` in step order; entry [i, j] is True
    when query token i sees key token j in that step. Tokens are time-major
    (index t·N + h·W' + w); the CLS token is left out. Used to draw the paper's Fig. 2.
    """
    scheme = canonical_scheme(scheme)
    grid = (num_frames, grid_h, grid_w)
    check_grid(scheme, *grid)
    index = torch.arange(num_frames * grid_h * grid_w).view(1, -1, 1)  # (1, T·N, 1)
    masks = OrderedDict()
    for step in STEPS[scheme]:
        groups = split_groups(index, step, grid)[..., 0]  # (G, L): token ids per group
        group_of = torch.empty(index.numel(), dtype=torch.long)
        group_of[groups.flatten()] = torch.arange(groups.shape[0]).repeat_interleave(
            groups.shape[1]
        )
        masks[step] = group_of[:, None] == group_of[None, :]  # (T·N, T·N)
    return masks


__all__ = [
    "SCHEMES",
    "SCHEME_ALIASES",
    "canonical_scheme",
    "STEPS",
    "split_groups",
    "merge_groups",
    "num_groups",
    "check_grid",
    "visibility",
]
