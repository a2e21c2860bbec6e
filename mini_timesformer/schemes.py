"""The five space-time attention schemes of the paper (§3, Fig. 1-2), as *groupings*.

Every fact about a scheme lives on one record here: a ``Grouping`` per kind of attention
step (its einops pattern, the sizes of its extra axes, what grid it needs, whether its
groups span frames) and a ``Scheme`` (its steps in order, its paper name and section,
whether it folds frames into the batch). The model, the cost formulas and the figures
read these records instead of testing a scheme's name.

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
per-frame ViT: the model folds frames into the batch, so every frame has its own CLS token
(``Scheme.per_frame``).

Local-global: the paper (§3) gives the sizes, local attention over the neighbouring
F × H/2 × W/2 patches, then a global attention at stride 2 in t, h and w; it leaves open only
fixed windows vs a sliding neighbourhood. Our choice, fixed windows: ``local`` splits the
H'×W' patch grid into 2×2 quadrant windows spanning all frames; ``global`` groups tokens
whose (t mod 2, h mod 2, w mod 2) agree, i.e. each query sees the whole clip at stride 2.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass

import torch
from einops import rearrange

from .errors import UserError


def _whole_axes(t: int, h: int, w: int) -> dict[str, int]:
    """Axis sizes of a pattern that only names t, h and w."""
    return dict(t=t, h=h, w=w)


@dataclass(frozen=True)
class Grouping:
    """How one attention step cuts the T·N patch tokens into groups (§3, Fig. 1).

    ``pattern``: einops, time-major tokens ``b (t h w) d`` -> groups ``(b G) L d``;
    ``temporal``: its groups hold tokens of several frames on clips long enough (the step
    attends over time; ``global`` does from 4 frames on, at stride 2);
    ``sizes``: (T, H', W') -> the size of every axis the pattern names inside ``(t h w)``
    (extra axes such as ``local``'s windows); ``needs``: the grids it can cut, in words,
    for the error message. Whether a grid fits is read off ``sizes`` (``fits``).
    """

    name: str
    pattern: str
    temporal: bool
    sizes: Callable[[int, int, int], dict[str, int]] = _whole_axes
    needs: str = "any grid"

    def fits(self, t: int, h: int, w: int) -> bool:
        """True when the named axes multiply back to the T·H'·W' tokens (no remainder)."""
        return math.prod(self.sizes(t, h, w).values()) == t * h * w


@dataclass(frozen=True)
class Scheme:
    """A space-time attention scheme (§3, Fig. 1): its attention steps, in order.

    The last step is the ViT step: it carries the CLS token (``cls_step``); every earlier
    step is an "added" step that leaves the CLS token out. ``per_frame``: frames are
    folded into the batch, each a one-frame clip with its own CLS token (``space``, a
    per-frame ViT), which needs steps that never span frames.
    """

    name: str
    steps: tuple[Grouping, ...]
    paper: str  # the paper's name for it and where it is defined
    per_frame: bool = False

    def __post_init__(self) -> None:
        names = [g.name for g in self.steps]
        if not names or len(set(names)) != len(names):
            raise UserError(f"scheme {self.name!r} needs distinct steps, got {names}")
        if self.per_frame and any(g.temporal for g in self.steps):
            raise UserError(f"per-frame scheme {self.name!r} has a step over frames: {names}")

    @property
    def step_names(self) -> tuple[str, ...]:
        return tuple(g.name for g in self.steps)

    @property
    def cls_step(self) -> str:
        """The step that carries the CLS token: the last one (the ViT step)."""
        return self.steps[-1].name

    def is_added(self, step: str) -> bool:
        """True for a step before the ViT step (own zero-initialised Linear, no CLS)."""
        return step != self.cls_step

    @property
    def temporal_step(self) -> str:
        """The first step whose groups span frames (a per-frame scheme: its last step)."""
        return next((g.name for g in self.steps if g.temporal), self.cls_step)

    def frame_grid(self, grid: tuple[int, int, int]) -> tuple[int, int, int]:
        """The (T, H', W') grid one attention "clip" sees: a single frame if per-frame."""
        return (1, *grid[1:]) if self.per_frame else tuple(grid)

    def num_tokens(self, t: int, n: int) -> int:
        """Tokens of one clip, CLS included: T·(1 + N) if per-frame, else 1 + T·N."""
        return t * (1 + n) if self.per_frame else 1 + t * n


def _local_sizes(t: int, h: int, w: int) -> dict[str, int]:
    """2×2 windows (wh, ww) of (H'/2)×(W'/2) patches, all frames (our choice, see above)."""
    return dict(t=t, wh=2, h=h // 2, ww=2, w=w // 2)


def _global_sizes(t: int, h: int, w: int) -> dict[str, int]:
    """Strides st, sh, sw = 2 in t, h, w (no stride in t for a single frame)."""
    st = 2 if t > 1 else 1
    return dict(t=t // st, st=st, h=h // 2, sh=2, w=w // 2, sw=2)


# Every grouping, by name: how it cuts the time-major token axis "(t h w)".
GROUPINGS = {
    g.name: g
    for g in (
        Grouping("joint", "b (t h w) d -> b (t h w) d", temporal=True),
        Grouping("space", "b (t h w) d -> (b t) (h w) d", temporal=False),
        Grouping("time", "b (t h w) d -> (b h w) t d", temporal=True),
        Grouping("width", "b (t h w) d -> (b t h) w d", temporal=False),
        Grouping("height", "b (t h w) d -> (b t w) h d", temporal=False),
        Grouping(
            "local",
            "b (t wh h ww w) d -> (b wh ww) (t h w) d",
            temporal=True,
            sizes=_local_sizes,
            needs="an even patch grid",
        ),
        Grouping(
            "global",
            "b (t st h sh w sw) d -> (b st sh sw) (t h w) d",
            temporal=True,
            sizes=_global_sizes,
            needs="an even patch grid and an even number of frames (or 1)",
        ),
    )
}

# Every scheme, by name, in the paper's order (Table 1).
SCHEME_RECORDS = {
    s.name: s
    for s in (
        Scheme("space", (GROUPINGS["space"],), "Space (S), §3", per_frame=True),
        Scheme("joint", (GROUPINGS["joint"],), "Joint Space-Time (ST), §3"),
        Scheme("divided", (GROUPINGS["time"], GROUPINGS["space"]), "Divided Space-Time (T+S), §3"),
        Scheme(
            "local_global",
            (GROUPINGS["local"], GROUPINGS["global"]),
            "Sparse Local Global (L+G), §3",
        ),
        Scheme(
            "axial",
            (GROUPINGS["time"], GROUPINGS["width"], GROUPINGS["height"]),
            "Axial (T+W+H), §3",
        ),
    )
}


def register(scheme: Scheme) -> None:
    """Make ``scheme`` and its groupings known by name (``STEPS``, the model, the figures).

    tests/test_new_scheme.py registers a sixth scheme for the duration of a test."""
    if scheme.name in SCHEME_RECORDS or scheme.name in SCHEME_ALIASES:
        raise UserError(f"a scheme called {scheme.name!r} exists already")
    for g in scheme.steps:
        if GROUPINGS.get(g.name, g) != g:
            raise UserError(f"a different grouping is already called {g.name!r}")
    GROUPINGS.update((g.name, g) for g in scheme.steps)
    SCHEME_RECORDS[scheme.name] = scheme


class _StepNames(Mapping):
    """``STEPS[scheme] = (step names, in order)``, read off ``SCHEME_RECORDS`` (a view)."""

    def __getitem__(self, name: str) -> tuple[str, ...]:
        return SCHEME_RECORDS[name].step_names

    def __iter__(self) -> Iterator[str]:
        return iter(SCHEME_RECORDS)

    def __len__(self) -> int:
        return len(SCHEME_RECORDS)

    def __repr__(self) -> str:
        return repr(dict(self))


# A scheme's attention steps, in order; the last one is the ViT step (with CLS).
STEPS = _StepNames()
SCHEMES = tuple(STEPS)  # ("space", "joint", "divided", "local_global", "axial")

# Names used by the official code and Hugging Face `transformers`.
SCHEME_ALIASES = {
    "space_only": "space",
    "joint_space_time": "joint",
    "divided_space_time": "divided",
}


def canonical_scheme(name: str) -> str:
    """Map a scheme name or an official/HF alias to a known scheme's name."""
    name = SCHEME_ALIASES.get(name, name)
    if name not in SCHEME_RECORDS:
        known = ", ".join((*SCHEME_RECORDS, *SCHEME_ALIASES))
        raise UserError(f"unknown attention scheme {name!r}; expected one of: {known}")
    return name


def scheme_record(name: str) -> Scheme:
    """The ``Scheme`` record of a scheme name or alias."""
    return SCHEME_RECORDS[canonical_scheme(name)]


def grouping_record(name: str) -> Grouping:
    """The ``Grouping`` record of a step name."""
    if name not in GROUPINGS:
        raise UserError(f"unknown grouping {name!r}; expected one of: {', '.join(GROUPINGS)}")
    return GROUPINGS[name]


def split_groups(x: torch.Tensor, grouping: str, grid: tuple[int, int, int]) -> torch.Tensor:
    """Patch tokens (B, T·N, D) -> groups (B·G, L, D)."""
    g = grouping_record(grouping)
    return rearrange(x, g.pattern, **g.sizes(*grid))


def merge_groups(x: torch.Tensor, grouping: str, grid: tuple[int, int, int]) -> torch.Tensor:
    """Groups (B·G, L, D) -> patch tokens (B, T·N, D); inverse of ``split_groups``."""
    g = grouping_record(grouping)
    source, target = g.pattern.split(" -> ")
    return rearrange(x, f"{target} -> {source}", **g.sizes(*grid))


def num_groups(grouping: str, grid: tuple[int, int, int]) -> int:
    """G, the number of groups a step of this grouping forms for one clip (read off the
    grouping's own pattern, so a new grouping needs nothing here)."""
    t, h, w = grid
    index = torch.empty(1, t * h * w, 0)  # (1, T·N, 0): shapes only, no data
    return split_groups(index, grouping, grid).shape[0]


def check_grid(scheme: str, t: int, h: int, w: int) -> None:
    """Raise a one-line ValueError if ``scheme`` cannot partition a T×H'×W' token grid."""
    record = scheme_record(scheme)
    for g in record.steps:
        if not g.fits(t, h, w):
            raise UserError(
                f"{record.name} needs {g.needs}: got T={t}, H'={h}, W'={w} patches; e.g. "
                f"8 frames at 224 px with patch 16 (14×14) or 32 px with patch 8 (4×4) work"
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
    "Grouping",
    "Scheme",
    "GROUPINGS",
    "SCHEME_RECORDS",
    "register",
    "scheme_record",
    "grouping_record",
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
