"""Checks for exercises 4 and 5: token groupings of the axial (T+W+H) and sparse
local-global (L+G) schemes (paper §3, Fig. 2; ``schemes.py``).

A grouping is a partition of the T·N patch tokens; a step lets each token attend to its
group. The student writes ``split`` (B, T·N, D) -> (B·G, L, D) and ``merge`` (its
inverse). Checks: shape; the partition (which tokens share a group, i.e. who sees whom)
against ``schemes.split_groups``; ``merge`` undoes ``split``; then an attention step
built from them against the package's ``AttentionStep`` with the same weights, and the
visibility pattern read off by perturbing one token.
"""

from __future__ import annotations

import torch
from einops import rearrange

from ..errors import UserError
from ..schemes import STEPS, num_groups, scheme_record, split_groups, visibility
from .core import CheckFailed, as_tensor, check_shape, compare, passed, randn, single_thread
from .steps import check_visibility, make_step, run_step

SCHEME_OF = {
    "time": "axial",
    "width": "axial",
    "height": "axial",
    "local": "local_global",
    "global": "local_global",
}

# Classic wrong groupings: einops pattern and its axis sizes for a (T, H', W') grid.
MISTAKES = {
    "local": {
        "local windows must span all T frames (F×H/2×W/2 patches); yours stay in one frame": (
            "b (t wh h ww w) d -> (b t wh ww) (h w) d",
            lambda T, H, W: dict(t=T, wh=2, h=H // 2, ww=2, w=W // 2),
        ),
    },
    "global": {
        "the global step is dilated: it groups tokens 2 apart (same t mod 2, h mod 2, "
        "w mod 2); yours groups neighbouring tokens into contiguous blocks": (
            "b (st t sh h sw w) d -> (b st sh sw) (t h w) d",
            lambda T, H, W: dict(st=2, t=T // 2, sh=2, h=H // 2, sw=2, w=W // 2),
        ),
        "the global step strides in time too (t mod 2), not only in space": (
            "b (t h sh w sw) d -> (b sh sw) (t h w) d",
            lambda T, H, W: dict(t=T, h=H // 2, sh=2, w=W // 2, sw=2),
        ),
    },
}
NAMES = {
    "time": "the time grouping (same h, w across frames)",
    "space": "the space grouping (one whole frame)",
    "width": "the width grouping (one row: same t, h)",
    "height": "the height grouping (one column: same t, w)",
    "joint": "the joint grouping (everything)",
    "local": "the local grouping (2×2 quadrant windows over all frames)",
    "global": "the global grouping (stride 2 in t, h, w)",
}


def _partition(groups: torch.Tensor, count: int, what: str) -> torch.Tensor:
    """ids grouped (G, L) -> bool (count, count): True where two tokens share a group."""
    ids = groups.round().long()
    if ids.numel() != count or not torch.equal(ids.flatten().sort().values, torch.arange(count)):
        raise CheckFailed(
            f"{what}: every token must land in exactly one group "
            "(split should only rearrange tokens)"
        )
    group_of = torch.empty(count, dtype=torch.long)
    group_of[ids.flatten()] = torch.arange(ids.shape[0]).repeat_interleave(ids.shape[1])
    return group_of[:, None] == group_of[None, :]


def _body(tokens: torch.Tensor, grid, to: str) -> torch.Tensor:
    """Patch tokens without a CLS (B, T·N, D) between time-major and patch-major."""
    T, H, W = grid
    pattern = "b (t h w) d -> b (h w t) d" if to == "official" else "b (h w t) d -> b (t h w) d"
    return rearrange(tokens, pattern, t=T, h=H, w=W)


def _in_layout(split, merge, layout: str):
    """A student's split/merge for tokens in ``layout``, seen from time-major tokens."""
    if layout == "ours":
        return split, merge
    if layout != "official":
        raise UserError(f"layout must be 'ours' or 'official', got {layout!r}")
    return (
        lambda x, grid: split(_body(x, grid, "official"), grid),
        lambda groups, grid: _body(merge(groups, grid), grid, "ours"),
    )


def _wrong_partitions(grouping: str, ids: torch.Tensor, grid, layout: str = "ours"):
    """Partitions of the usual mistakes: other groupings and the listed wrong patterns."""
    T, H, W = grid
    if layout == "official":
        yield (
            "wrong token order: here the tokens are in the official patch-major layout "
            "(h w t); you split them as if they were time-major (t h w)",
            lambda: split_groups(_body(ids, grid, "official"), grouping, grid),
        )
    for other in ("time", "space", "width", "height", "joint", "local", "global"):
        if other == grouping or (other in ("local", "global") and (H % 2 or W % 2 or T % 2)):
            continue
        yield (
            f"you built {NAMES[other]}, not {NAMES[grouping]}",
            lambda o=other: split_groups(ids, o, grid),
        )
    for mistake, (pattern, sizes) in MISTAKES.get(grouping, {}).items():
        yield mistake, lambda p=pattern, s=sizes: rearrange(ids, p, **s(T, H, W))


def _check_partition(
    split, grouping, grid, batch, what, mistakes_only=False, layout: str = "ours"
) -> None:
    """Which tokens share a group (= who sees whom), batch included, vs the reference;
    a wrong partition is matched against the usual mistakes to name one."""
    M = grid[0] * grid[1] * grid[2]
    ids = torch.arange(batch * M, dtype=torch.float32).view(batch, M, 1)
    mine = _partition(split(ids, grid)[..., 0], batch * M, what)
    if torch.equal(mine, _partition(split_groups(ids, grouping, grid)[..., 0], batch * M, "")):
        return
    for mistake, make in _wrong_partitions(grouping, ids, grid, layout):
        if torch.equal(mine, _partition(make()[..., 0], batch * M, "variant")):
            raise CheckFailed(f"{what}: wrong groups. Likely mistake: {mistake}")
    if not mistakes_only:
        raise CheckFailed(
            f"{what}: wrong groups: tokens that should attend to each other "
            f"are in different groups. Tokens are time-major, index "
            f"t·N + h·W' + w; remember the clips of the batch must not mix"
        )


@single_thread
def check_grouping(
    split, merge, grouping: str, grid=(4, 4, 6), batch: int = 2, seed: int = 0, layout: str = "ours"
) -> None:
    """split(x (B, T·N, D), grid) -> (B·G, L, D) and merge (its inverse) for ``grouping``;
    with ``layout="official"`` the patch tokens are patch-major (h w t)."""
    split, merge = _in_layout(split, merge, layout)
    T, H, W = grid
    M, D = T * H * W, 16
    G = num_groups(grouping, grid)
    x = randn(batch, M, D, seed=seed)
    got = as_tensor(split(x.clone(), grid), f"{grouping} split(x, grid)")
    what, shape = f"{grouping} split(x, grid)", (batch * G, M // G, D)
    if got.shape != shape and got.ndim == 3 and got.numel() == x.numel():
        _check_partition(split, grouping, grid, batch, what, mistakes_only=True, layout=layout)
    check_shape(
        got,
        shape,
        what,
        f"the {grouping} grouping of a T={T}, {H}×{W} grid forms G={G} groups of "
        f"L={M // G} tokens per clip; stack the groups on the batch axis (B·G, L, D)",
    )
    _check_partition(split, grouping, grid, batch, what, layout=layout)
    back = merge(got, grid)
    check_shape(back, x.shape, f"{grouping} merge(groups, grid)", "merge returns (B, T·N, D)")
    if not torch.equal(back, x):
        raise CheckFailed(
            f"{grouping} merge(split(x)) must give x back: use the split "
            "pattern with its two sides swapped"
        )
    # an attention step built from the student's split/merge vs the package's step
    scheme = SCHEME_OF[grouping]
    added = scheme_record(scheme).is_added(grouping)
    step = make_step(grouping, added=added, seed=seed + 1)
    tokens = randn(batch, 1 + M, D, seed=seed + 2)  # CLS first
    with torch.no_grad():
        compare(
            run_step(step, tokens, grid, split, merge),
            step(tokens, grid)[0],
            f"attention step using your {grouping} split/merge",
        )
        check_visibility(
            lambda y: run_step(step, y, grid, split, merge),
            tokens[:1],
            grid,
            visibility(scheme, *grid)[grouping],
            f"{grouping} step",
            cls_changes=not added,
        )
    passed(
        f"{grouping}: T={T}, {H}×{W} patches -> {G} groups of {M // G}; the attention step "
        "matches the package and each token sees exactly its group"
    )


def reference_keys(scheme: str, grid) -> int:
    """Keys one patch query is compared with in one block: Σ over steps of its group
    size, plus the CLS copy in the last (ViT) step."""
    T, H, W = grid
    steps = STEPS[scheme]
    return sum(T * H * W // num_groups(s, grid) for s in steps) + 1


@single_thread
def check_keys_per_query(keys_per_query, scheme: str, grids=((8, 14, 14), (4, 2, 6))) -> None:
    """keys_per_query(T, H, W) -> int for ``scheme`` (a formula, not a count of a model)."""
    for grid in grids:
        got = keys_per_query(*grid)
        expected = reference_keys(scheme, grid)
        if not (isinstance(got, int) or isinstance(got, float) and got.is_integer()):
            raise CheckFailed(f"keys_per_query{grid}: expected an integer, got {got!r}")
        if got != expected:
            steps = len(STEPS[scheme])
            hint = {
                expected - 1: "forgot the CLS copy, one extra key in the last step",
                expected + steps - 1: "counted a CLS key in every step; only the last "
                "(ViT) step includes the CLS token",
            }
            raise CheckFailed(
                f"keys_per_query{grid} for {scheme}: expected {expected}, got "
                f"{got}" + (f". Likely mistake: {hint[got]}" if got in hint else "")
            )
    passed(
        f"keys_per_query({scheme}): matches the grouping sizes, e.g. "
        f"{reference_keys(scheme, grids[0])} keys at T={grids[0][0]}, "
        f"{grids[0][1]}×{grids[0][2]} patches (joint: {grids[0][0] * grids[0][1] * grids[0][2] + 1})"
    )


def reference_reach(masks) -> torch.Tensor:
    """Who can influence whom after all steps: R = M_last ∘ ... ∘ M_first (boolean)."""
    reach = None
    for mask in masks.values():  # in step order
        reach = mask if reach is None else (mask.float() @ reach.float()) > 0
    return reach


@single_thread
def check_block_reach(block_reach) -> None:
    """block_reach(masks) -> bool (T·N, T·N): token i is influenced by token j after all
    steps of one block. masks: ``schemes.visibility(...)``, one bool mask per step, in order."""
    cases = [
        ("axial", (2, 2, 3), None),
        ("axial", (2, 3, 2), ("time", "width")),
        ("axial", (3, 2, 2), ("width", "height")),
        ("divided", (2, 2, 3), None),
        ("space", (2, 2, 2), None),
        ("local_global", (4, 2, 4), None),
        ("local_global", (2, 4, 4), None),
    ]
    for scheme, grid, only in cases:
        masks = visibility(scheme, *grid)
        if only:
            masks = type(masks)((k, masks[k]) for k in only)
        names = " -> ".join(masks)
        first, *_, last = list(masks.values()) * (1 if len(masks) > 1 else 2)
        variants = {
            "took the union of the steps' masks; information also travels through "
            "intermediate tokens: compose the steps (boolean matrix product)": lambda m=masks: (
                torch.stack(list(m.values())).any(0)
            ),
            "used only the last step's mask": lambda last=last: last,
            "used only the first step's mask": lambda first=first: first,
        }
        got = block_reach(masks)
        compare(
            got,
            reference_reach(masks),
            f"block_reach for {scheme} ({names}) at grid {grid}",
            variants,
            "entry [i, j] must be True when a chain of steps "
            "carries token j's information to token i",
        )
    passed("block_reach: composes the steps in order, for five schemes and partial blocks")
