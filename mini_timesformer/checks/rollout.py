"""Checks for exercise 8: attention rollout (Abnar & Zuidema 2020; the paper's Fig. 7,
§4.8; ``mt.rollout``)."""

from __future__ import annotations

import torch

from ..model import TimeSformer
from .core import CheckFailed, call, check_shape, compare, passed, randn, randomize, single_thread
from .steps import tiny_config

AXIAL = ("time", "width", "height")


def _axial_weights(batch: int, grid, step: str, seed: int) -> torch.Tensor:
    """Random head-averaged weights (B, G, L, L) of one axial step, rows summing to 1."""
    from ..schemes import num_groups

    T, H, W = grid
    G = num_groups(step, grid)
    L = T * H * W // G + (1 if step == AXIAL[-1] else 0)  # the last step has a CLS copy
    return randn(batch, G, L, L, seed=seed).mul(2).softmax(-1)


def _step_variant(weights, step, grid, as_step=None, cls_row="mean", transpose=False):
    """The package's matrix, or one built with a classic mistake."""
    from ..viz.rollout import step_matrix

    with_cls = step == AXIAL[-1]
    A = step_matrix(weights, as_step or step, grid, with_cls)
    if with_cls and cls_row != "mean":
        G = weights.shape[1]
        A[:, 0] *= G if cls_row == "sum" else 0
        if cls_row == "first":
            A[:, 0] = step_matrix(weights[:, :1].expand_as(weights).contiguous(), step, grid, True)[
                :, 0
            ]
    if not with_cls and cls_row == "none":
        A[:, 0, 0] = 0.0
    return A.transpose(1, 2) if transpose else A


@single_thread
def check_step_matrix(fn, grid=(2, 2, 3), batch: int = 2, seed: int = 0) -> None:
    """fn(weights (B, G, L, L), step, grid) -> (B, 1 + T·N, 1 + T·N) for each step of an
    axial block, against ``mt.rollout.step_matrix``."""
    T, H, W = grid
    M = 1 + T * H * W
    for i, step in enumerate(AXIAL):
        weights = _axial_weights(batch, grid, step, seed + i)
        given = call(
            fn,
            weights.clone(),
            step,
            grid,
            what=f"step_matrix(weights, {step!r}, grid)",
            hint=f"the {step} step's groups are not the divided ones: "
            + {
                "time": "H'·W' groups of T tokens",
                "width": "T·H' groups (one row of a frame) of W' tokens",
                "height": "T·W' groups (one column of a frame) of H' tokens",
            }[step],
        )
        got = check_shape(
            given,
            (batch, M, M),
            f"step_matrix(weights, {step!r}, grid)",
            "one row and one column per token, CLS included: (B, 1 + T·N, 1 + T·N)",
        )
        variants = {}
        if step != "time" and H == W:  # rows and columns have the same shape: swappable
            other = "height" if step == "width" else "width"
            variants[
                f"wrong groups: group g of the {step} step is "
                + (
                    "row h of frame t, g = t·H' + h"
                    if step == "width"
                    else "column w of frame t, g = t·W' + w"
                )
                + " (the order of the package's rearrange)"
            ] = lambda s=step, o=other, w=weights: _step_variant(w, s, grid, as_step=o)
        variants.update(
            {
                "transposed: row i is query i's weights over the keys (columns)": lambda s=step, w=weights: (
                    _step_variant(w, s, grid, transpose=True)
                ),
            }
        )
        if step == AXIAL[-1]:
            variants.update(
                {
                    "the CLS row must be the mean of its G copies' rows, not their sum": lambda s=step, w=weights: (
                        _step_variant(w, s, grid, cls_row="sum")
                    ),
                    "the CLS row must average all G copies (one per column group)": lambda s=step, w=weights: (
                        _step_variant(w, s, grid, cls_row="first")
                    ),
                    "the CLS row is missing: the last step updates the CLS token with the mean "
                    "of its copies": lambda s=step, w=weights: _step_variant(
                        w, s, grid, cls_row="none0"
                    ),
                }
            )
        else:
            variants[
                "the CLS row of an added step must be e₀ (a 1 on the diagonal): the "
                "step leaves the CLS token as it is"
            ] = lambda s=step, w=weights: _step_variant(w, s, grid, cls_row="none")
        compare(got, _step_variant(weights, step, grid), f"step_matrix({step!r})", variants)
        if not torch.allclose(got.sum(-1), torch.ones(batch, M), atol=1e-5):
            raise CheckFailed(f"step_matrix({step!r}): every row must sum to 1")
    passed(
        f"step_matrix: time, width and height steps at T={T}, {H}×{W} patches, as "
        "mt.rollout.step_matrix; rows sum to 1"
    )


def _axial_variant(
    attention,
    grid,
    heads="mean",
    residual=True,
    order="later-left",
    step_order="later-left",
    layers=None,
    row=True,
    normalise=True,
):
    from ..viz.rollout import step_matrix

    total = None
    for block in attention[-layers:] if layers else attention:
        M = None
        for step in AXIAL:
            w = block[step]
            w = w.mean(2) if heads == "mean" else w.amax(2)
            A = step_matrix(w, step, grid, step == AXIAL[-1])
            R = 0.5 * A + 0.5 * torch.eye(A.shape[-1]) if residual else A
            M = R if M is None else (R @ M if step_order == "later-left" else M @ R)
        total = M if total is None else (M @ total if order == "later-left" else total @ M)
    return _finish(total, grid, row=row, normalise=normalise)


def _finish(M: torch.Tensor, grid, row: bool = True, normalise: bool = True):
    v = M[:, 0, 1:] if row else M[:, 1:, 0]  # CLS row (or column) over the patches
    if normalise:
        v = v / v.sum(-1, keepdim=True)
    return v.reshape(-1, *grid)


@single_thread
def check_axial_rollout(
    fn, frames: int = 2, grid=(2, 3), depth: int = 2, batch: int = 2, seed: int = 0
) -> None:
    """fn(attention, grid) -> relevance (B, T, H', W') for an axial model, against
    ``mt.rollout.rollout`` (heads averaged, 0.5·A + 0.5·I per step, steps and blocks
    multiplied later-left, CLS row, sum 1)."""
    from ..viz.rollout import rollout

    H, W = grid
    cfg = tiny_config(attention="axial", num_frames=frames, image_size=4 * max(H, W), depth=depth)
    model = randomize(TimeSformer(cfg), seed)
    video = randn(batch, frames, 3, 4 * H, 4 * W, seed=seed + 1)
    with torch.no_grad():
        _, attention = model.forward_with_attention(video)
    grid3 = (frames, H, W)
    got = call(
        fn,
        attention,
        grid3,
        what="axial_rollout(attention, grid)",
        hint="an axial block's steps are 'time', 'width' and 'height' (in that order), "
        "not a divided block's 'time' and 'space'",
    )
    check_shape(
        got,
        (batch, *grid3),
        "axial_rollout(attention, grid)",
        "one relevance per patch: the CLS row without its CLS column, as (B, T, H', W')",
    )
    variants = {
        "forgot the residual: each step is 0.5·A + 0.5·I": lambda: _axial_variant(
            attention, grid3, residual=False
        ),
        "multiplied a block's steps in the wrong order: M = R_height · R_width · R_time": lambda: (
            _axial_variant(attention, grid3, step_order="earlier-left")
        ),
        "multiplied the blocks in the wrong order: R = M_L ··· M_1 (later blocks on the left)": lambda: (
            _axial_variant(attention, grid3, order="earlier-left")
        ),
        "took the maximum over heads; average them (the paper averages heads)": lambda: (
            _axial_variant(attention, grid3, heads="max")
        ),
        "read the CLS column; take the CLS row (what the CLS token gathers)": lambda: (
            _axial_variant(attention, grid3, row=False)
        ),
        "used only the last block; multiply the matrices of all blocks": lambda: _axial_variant(
            attention, grid3, layers=1
        ),
        "did not normalise: the patch relevances of a clip should sum to 1": lambda: _axial_variant(
            attention, grid3, normalise=False
        ),
    }
    compare(got, rollout(attention, "axial", grid3), "axial rollout relevance", variants)
    # property: uniform attention in every group gives every patch the same relevance
    uniform = []
    for block in attention:
        uniform.append({k: torch.full_like(w, 1.0 / w.shape[-1]) for k, w in block.items()})
    compare(
        fn(uniform, grid3),
        torch.full((batch, *grid3), 1.0 / (frames * H * W)),
        "axial rollout of uniform attention",
        hint="uniform attention in every group must give every patch equal relevance",
    )
    passed(
        f"axial_rollout: {depth} blocks of time, width, height at T={frames}, {H}×{W} "
        "patches, as mt.rollout.rollout"
    )
