"""Checks for exercise 8: attention rollout (Abnar & Zuidema 2020; the paper's Fig. 7,
§4.6; ``mt.rollout``)."""

from __future__ import annotations

import torch

from ..model import TimeSformer
from .core import CheckFailed, check_shape, compare, passed, randn, randomize, single_thread
from .steps import tiny_config


def _time_matrix_variant(weights, grid, order="tn", cls_row=True, transpose=False):
    """The time step's token-to-token matrix written with loops, optionally wrong."""
    B = weights.shape[0]
    T, H, W = grid
    N = H * W
    A = weights.new_zeros(B, 1 + T * N, 1 + T * N)
    A[:, 0, 0] = 1.0 if cls_row else 0.0
    for n in range(N):
        ids = 1 + (n + N * torch.arange(T) if order == "tn" else n * T + torch.arange(T))
        A[:, ids[:, None], ids[None, :]] = weights[:, n]
    return A.transpose(1, 2) if transpose else A


@single_thread
def check_time_step_matrix(fn, grid=(3, 2, 2), batch: int = 2, seed: int = 0) -> None:
    """fn(weights (B, N, T, T), grid) -> (B, 1 + T·N, 1 + T·N): the divided time step as
    one token-to-token matrix, against ``mt.rollout.step_matrix``."""
    from ..rollout import step_matrix

    T, H, W = grid
    M = 1 + T * H * W
    weights = randn(batch, H * W, T, T, seed=seed).softmax(-1)  # rows sum to 1
    got = fn(weights.clone(), grid)
    check_shape(got, (batch, M, M), "time_step_matrix(weights, grid)",
                "one row and one column per token, CLS included: (B, 1 + T·N, 1 + T·N)")
    expected = step_matrix(weights, "time", grid, with_cls=False)
    variants = {
        "wrong token order: group n (patch position n) holds tokens 1 + n + t·N, "
        "t = 0 … T−1 (time-major)": lambda: _time_matrix_variant(weights, grid, order="nt"),
        "the CLS row must be e₀ (a 1 on the diagonal): the time step leaves the CLS "
        "token as it is": lambda: _time_matrix_variant(weights, grid, cls_row=False),
        "transposed: row i is query i's weights over the keys (columns)":
            lambda: _time_matrix_variant(weights, grid, transpose=True),
    }
    compare(got, expected, "time_step_matrix", variants)
    if not torch.allclose(got.sum(-1), torch.ones(batch, M)):
        raise CheckFailed("time_step_matrix: every row must sum to 1")
    passed(f"time_step_matrix: T={T}, {H}×{W} patches, as mt.rollout.step_matrix; rows sum to 1")


def _finish(M: torch.Tensor, grid, row: bool = True, normalise: bool = True):
    v = M[:, 0, 1:] if row else M[:, 1:, 0]  # CLS row (or column) over the patches
    if normalise:
        v = v / v.sum(-1, keepdim=True)
    return v.reshape(-1, *grid)


def _rollout_variant(attention, grid, heads="mean", residual=True, order="last-left",
                     layers=None, **finish):
    M = None
    for block in attention[-layers:] if layers else attention:
        w = block["joint"][:, 0]  # (B, heads, L, L)
        A = w.mean(1) if heads == "mean" else w.amax(1)
        R = 0.5 * A + 0.5 * torch.eye(A.shape[-1]) if residual else A
        M = R if M is None else (R @ M if order == "last-left" else M @ R)
    return _finish(M, grid, **finish)


@single_thread
def check_rollout(fn, frames: int = 2, grid_side: int = 2, depth: int = 3, batch: int = 2,
                  seed: int = 0) -> None:
    """fn(attention, grid) -> relevance (B, T, H', W') for a joint-attention model, against
    ``mt.rollout.rollout`` (heads averaged, residual 0.5·A + 0.5·I, CLS row, sum 1)."""
    from ..rollout import rollout

    cfg = tiny_config(attention="joint", num_frames=frames, image_size=4 * grid_side,
                      depth=depth)
    model = randomize(TimeSformer(cfg), seed)
    video = randn(batch, frames, 3, cfg.image_size, cfg.image_size, seed=seed + 1)
    with torch.no_grad():
        _, attention = model(video, return_attention=True)
    grid = (frames, grid_side, grid_side)
    got = fn(attention, grid)
    check_shape(got, (batch, *grid), "rollout(attention, grid)",
                "one relevance per patch: the CLS row without its CLS column, as (B, T, H', W')")
    variants = {
        "forgot the residual: each layer is 0.5·A + 0.5·I":
            lambda: _rollout_variant(attention, grid, residual=False),
        "multiplied the layers in the wrong order: R = M_L ··· M_1 (later layers on the left)":
            lambda: _rollout_variant(attention, grid, order="first-left"),
        "took the maximum over heads; average them (the paper averages heads)":
            lambda: _rollout_variant(attention, grid, heads="max"),
        "read the CLS column; take the CLS row (what the CLS token gathers)":
            lambda: _rollout_variant(attention, grid, row=False),
        "used only the last layer; multiply the matrices of all layers":
            lambda: _rollout_variant(attention, grid, layers=1),
        "did not normalise: the patch relevances of a clip should sum to 1":
            lambda: _rollout_variant(attention, grid, normalise=False),
    }
    compare(got, rollout(attention, "joint", grid), "rollout relevance", variants)
    # property: if every token attends uniformly, every patch is equally relevant
    L = 1 + frames * grid_side**2
    uniform = [{"joint": torch.full((batch, 1, 2, L, L), 1.0 / L)} for _ in range(depth)]
    compare(fn(uniform, grid), torch.full((batch, *grid), 1.0 / (L - 1)),
            "rollout of uniform attention", hint="uniform attention must give equal relevance")
    passed(f"rollout: {depth} joint blocks, T={frames}, {grid_side}×{grid_side} patches, as "
           "mt.rollout.rollout; uniform attention gives a uniform map")
