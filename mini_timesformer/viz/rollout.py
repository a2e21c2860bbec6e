"""Attention rollout (Abnar & Zuidema 2020) for all five schemes — the paper's Fig. 7.

A block's attention steps mix tokens one after the other, each with a residual. Rollout
turns every step into a token-to-token matrix over [CLS, T·N patches], adds the
residual as ``(1 - r)·A + r·I`` (r = 0.5, heads averaged: Abnar & Zuidema's recipe; the
paper's §4.8 / Fig. 7 only says it visualises with attention rollout), and
multiplies the matrices of all steps of all blocks:

    R = M_L ··· M_1,   M_block = R_last_step ··· R_first_step

The CLS row of R says how much each input patch contributed to the final CLS token.

Token-to-token matrix of one step (see ``schemes.py`` for groups and the CLS policy):

* an added step (CLS left out): patch i in group g has row W[g, i, :] over its group;
  the CLS row is the identity (the CLS token is not updated);
* the block's last step (CLS copied into each of its G groups, outputs averaged): patch
  rows also have a CLS column; the CLS row is the mean over groups of the copies' rows.
* a per-frame scheme (``space``): every frame is its own ViT with its own CLS; the clip's CLS is the mean of
  the frames' CLS tokens, so a clip's relevance is the mean of per-frame rollouts.

Materialising the (1 + T·N)² matrix is fine for small clips (``dense=True``, used by the
tests) but not at 8×224 with factorised schemes. The default keeps only the CLS *row*,
e₀ᵀ R, and multiplies it by one step at a time, from the last step backwards, using the
group structure — the cost of one step is that of the attention weights themselves.
"""

from __future__ import annotations

import torch
from einops import rearrange

from ..errors import UserError
from ..schemes import merge_groups, scheme_record, split_groups


def head_reduce(weights: torch.Tensor, head: int | None = None) -> torch.Tensor:
    """Attention weights (B, G, heads, L, L) -> (B, G, L, L): mean over heads, or one head."""
    if head is None:
        return weights.mean(dim=2)
    if not -weights.shape[2] <= head < weights.shape[2]:
        raise UserError(f"head {head} out of range: the model has {weights.shape[2]} heads")
    return weights[:, :, head]


def _steps(attention: list[dict], scheme: str, head: int | None):
    """Per block, ``[(step name, head-reduced weights (B', G, L, L), with_cls)]``.

    For a per-frame scheme (``space``) the T frames are folded into the batch (B' = B·T)
    and each frame is a 1-group clip with its own CLS; for the other schemes B' = B.
    """
    record = scheme_record(scheme)
    blocks = []
    for block in attention:
        if tuple(block) != record.step_names:
            raise UserError(
                f"attention steps {list(block)} do not match scheme {scheme!r} "
                f"(expected {list(record.step_names)})"
            )
        steps = []
        for name, w in block.items():
            if w is None:
                raise UserError("no attention weights: call model.forward_with_attention(video)")
            if record.per_frame:  # (B, T, heads, 1+N, 1+N) -> (B·T, 1, heads, 1+N, 1+N)
                w = rearrange(w, "b t h q k -> (b t) 1 h q k")
            steps.append((name, head_reduce(w, head), not record.is_added(name)))
        blocks.append(steps)
    return blocks


def propagate(v: torch.Tensor, weights: torch.Tensor, step: str, grid, with_cls: bool):
    """Row vectors times one step's token-to-token matrix, without building it.

    v: (B, 1 + T·N) relevance over [CLS, patches]; weights: (B, G, L, L) (heads reduced).
    Returns v @ A_step, shape (B, 1 + T·N).
    """
    B, G = weights.shape[:2]
    cls, patches = v[:, :1], v[:, 1:]
    groups = split_groups(patches.unsqueeze(-1), step, grid).view(B, G, -1)  # (B, G, L)
    if with_cls:  # the CLS row is the mean of its G copies: each copy carries v_cls / G
        groups = torch.cat([cls.unsqueeze(1).expand(B, G, 1) / G, groups], dim=2)
    out = torch.einsum("bgq,bgqk->bgk", groups, weights)  # (B, G, L): what each key receives
    if with_cls:  # the G copies of the CLS key add up to the one CLS token
        cls, out = out[:, :, 0].sum(dim=1, keepdim=True), out[:, :, 1:]  # (B, 1), (B, G, L)
    patches = merge_groups(out.reshape(B * G, -1, 1), step, grid)[..., 0]  # (B, T·N)
    return torch.cat([cls, patches], dim=1)


def step_matrix(weights: torch.Tensor, step: str, grid, with_cls: bool) -> torch.Tensor:
    """The dense token-to-token matrix (B, 1 + T·N, 1 + T·N) of one step (rows sum to 1)."""
    B, G, L, _ = weights.shape
    n = grid[0] * grid[1] * grid[2]
    ids = split_groups(torch.arange(n).view(1, n, 1), step, grid)[..., 0] + 1  # (G, L') token ids
    if with_cls:  # slot 0 of every group is a copy of the CLS token (id 0)
        ids = torch.cat([torch.zeros(G, 1, dtype=torch.long), ids], dim=1)  # (G, L)
    A = weights.new_zeros(B, 1 + n, 1 + n)
    b = torch.arange(B).view(B, 1, 1, 1).expand(B, G, L, L)
    rows = ids.view(1, G, L, 1).expand(B, G, L, L)
    cols = ids.view(1, G, 1, L).expand(B, G, L, L)
    A.index_put_((b, rows, cols), weights, accumulate=True)  # CLS row: sum over copies
    if with_cls:
        A[:, 0] /= G  # ... then the mean
    else:
        A[:, 0, 0] = 1.0  # added steps leave the CLS token as it is
    return A


def block_matrices(
    attention: list[dict], scheme: str, grid, head: int | None = None, residual: float = 0.5
) -> list[torch.Tensor]:
    """One dense relevance matrix per block, M = ∏ (residual·I + (1 - residual)·A_step).

    Shapes (B, 1 + T·N, 1 + T·N); per-frame (``space``): (B·T, 1 + N, 1 + N), one per frame.
    """
    frame_grid = scheme_record(scheme).frame_grid(grid)
    out = []
    for steps in _steps(attention, scheme, head):
        M = None
        for name, w, with_cls in steps:
            A = step_matrix(w, name, frame_grid, with_cls)
            eye = torch.eye(A.shape[-1], dtype=A.dtype, device=A.device)
            R = residual * eye + (1 - residual) * A
            M = R if M is None else R @ M  # later steps act after earlier ones
        out.append(M)
    return out


def _normalise(relevance: torch.Tensor) -> torch.Tensor:
    """(B, T·N) non-negative masses -> sum 1 per clip; uniform where no mass reached patches."""
    total = relevance.sum(dim=1, keepdim=True)
    uniform = torch.full_like(relevance, 1.0 / relevance.shape[1])
    return torch.where(total > 1e-12, relevance / total.clamp_min(1e-30), uniform)


def rollout(
    attention: list[dict],
    scheme: str,
    grid,
    head: int | None = None,
    residual: float = 0.5,
    dense: bool = False,
) -> torch.Tensor:
    """CLS relevance (B, T, H', W') from ``model.forward_with_attention(video)[1]``.

    Sums to 1 over each clip's patches (the CLS token's mass on itself is dropped, as in
    the usual ViT rollout plots). ``dense=True`` multiplies the full matrices (small inputs).
    """
    if not 0.0 <= residual < 1.0:
        raise UserError(f"residual must be in [0, 1), got {residual}")
    T, h, w = grid
    record = scheme_record(scheme)
    frame_grid = record.frame_grid(grid)
    if dense:
        M = None
        for block in block_matrices(attention, scheme, grid, head, residual):
            M = block if M is None else block @ M  # R = M_L ··· M_1
        v = M[:, 0]  # (B', 1 + n): the CLS row
    else:
        blocks = _steps(attention, scheme, head)
        B = blocks[0][0][1].shape[0]
        v = torch.zeros(
            B, 1 + frame_grid[0] * h * w, dtype=blocks[0][0][1].dtype, device=blocks[0][0][1].device
        )
        v[:, 0] = 1.0  # e₀ᵀ
        for steps in reversed(blocks):  # e₀ᵀ M_L ··· M_1, last step first
            for name, wts, with_cls in reversed(steps):
                v = residual * v + (1 - residual) * propagate(v, wts, name, frame_grid, with_cls)
    patches = v[:, 1:]  # (B', T'·N)
    if record.per_frame:  # (B·T, N) -> (B, T·N): the clip CLS is the frames' mean
        patches = rearrange(patches, "(b t) n -> b (t n)", t=T)
    return _normalise(patches).view(-1, T, h, w)  # (B, T·N) -> (B, T, H', W')


def query_attention(
    attention: list[dict],
    scheme: str,
    grid,
    layer: int,
    step: str,
    query: tuple[int, int, int] | None = None,
    head: int | None = None,
) -> torch.Tensor:
    """What one query sees in one step: (B, T, H', W') weights over the patch keys.

    ``query=None`` is the (clip) CLS token, else a patch (t, h, w). The CLS key's weight
    is left out, so a map sums to 1 minus the weight the query puts on the CLS token.
    """
    T, h, w = grid
    if not -len(attention) <= layer < len(attention):
        raise UserError(f"layer {layer} out of range: the model has {len(attention)} blocks")
    steps = {name: (wts, cls) for name, wts, cls in _steps([attention[layer]], scheme, head)[0]}
    if step not in steps:
        raise UserError(
            f"unknown step {step!r} for scheme {scheme!r}; expected one of {list(steps)}"
        )
    wts, with_cls = steps[step]
    record = scheme_record(scheme)
    frame_grid = record.frame_grid(grid)
    v = wts.new_zeros(wts.shape[0], 1 + frame_grid[0] * h * w)  # (B', 1 + T'·N)
    if query is None:
        v[:, 0] = 1.0 / (T if record.per_frame else 1)
    else:
        qt, qh, qw = query
        if not (0 <= qt < T and 0 <= qh < h and 0 <= qw < w):
            raise UserError(f"query patch {query} outside the (T, H', W') = {grid} grid")
        if record.per_frame:  # only the query's own frame (row qt of each clip) is set
            v.view(-1, T, v.shape[1])[:, qt, 1 + qh * w + qw] = 1.0
        else:
            v[:, 1 + (qt * h + qh) * w + qw] = 1.0
    out = propagate(v, wts, step, frame_grid, with_cls)[:, 1:]  # drop the CLS key
    return out.reshape(-1, T, h, w)  # (B, T, H', W'), per-frame too: (B·T, N) -> (B, T·N)


def _grid_of(model, video: torch.Tensor) -> tuple[int, int, int]:
    P = model.config.patch_size
    return (video.shape[1], video.shape[-2] // P, video.shape[-1] // P)


@torch.no_grad()
def model_attention(model, video: torch.Tensor):
    """Run ``model`` in eval mode: ``(logits, attention list, grid (T, H', W'))``."""
    was_training = model.training
    model.eval()
    try:
        logits, attention = model.forward_with_attention(video)
    finally:
        model.train(was_training)
    return logits, attention, _grid_of(model, video)


def attention_rollout(
    model, video: torch.Tensor, head: int | None = None, residual: float = 0.5, dense: bool = False
) -> torch.Tensor:
    """CLS rollout of ``model`` on ``video`` (B, T, 3, H, W): (B, T, H', W'), sums to 1."""
    _, attention, grid = model_attention(model, video)
    return rollout(attention, model.config.attention, grid, head, residual, dense)


def patch_coverage(masks: torch.Tensor, patch_size: int) -> torch.Tensor:
    """Pixel masks (B, T, H, W) -> fraction of each patch covered, (B, T, H', W')."""
    return torch.nn.functional.avg_pool2d(masks.float().flatten(0, 1), patch_size).view(
        *masks.shape[:2], masks.shape[2] // patch_size, masks.shape[3] // patch_size
    )


def object_attention_ratio(relevance: torch.Tensor, coverage: torch.Tensor) -> torch.Tensor:
    """Rollout mass on the object ÷ the object's area fraction, per clip (1 = chance).

    relevance (B, T, H', W') sums to 1 per clip; coverage (B, T, H', W') in [0, 1] is the
    fraction of each patch the object covers. A patch's mass is spread evenly over its
    pixels, so the object's mass is Σ relevance·coverage and its area fraction is the mean
    coverage.
    """
    mass = (relevance * coverage).flatten(1).sum(dim=1)
    area = coverage.flatten(1).mean(dim=1)
    if (area <= 0).any():
        raise UserError("a clip has no object pixels: cannot compare mass with area")
    return mass / area


def synthetic_object_masks(dataset, index: int) -> torch.Tensor:
    """Where the object of ``SyntheticVideos`` item ``index`` is: bool (T, H, W).

    The clip is drawn twice from its generator parameters, with a white and with a black
    object (same background and noise); pixels that differ belong to the object.
    """
    from dataclasses import replace

    from ..data.synthetic import render

    params = dataset.params(index)
    white = render(replace(params, colour=(1.0, 1.0, 1.0)), dataset.image_size).float()
    black = render(replace(params, colour=(0.0, 0.0, 0.0)), dataset.image_size).float()
    return (white - black).amax(dim=1) > 40  # (T, 3, H, W) -> (T, H, W); dark half: 0.35·255


@torch.no_grad()
def object_attention(model, dataset, num_clips: int = 256, batch_size: int = 32) -> dict:
    """CLS rollout mass on the moving object ÷ the object's area, over synthetic clips.

    ``dataset``: a ``SyntheticVideos`` (no transform). 1.0 means the rollout ignores where
    the object is; the paper's Fig. 7 claim is that it is clearly above 1.
    """
    from ..data import to_float_clip

    ratios, areas, masses = [], [], []
    for start in range(0, min(num_clips, len(dataset)), batch_size):
        idx = range(start, min(start + batch_size, num_clips, len(dataset)))
        clips = torch.stack([dataset[i][0] for i in idx])  # (B, T, 3, H, W) uint8
        masks = torch.stack([synthetic_object_masks(dataset, i) for i in idx])  # (B, T, H, W)
        video = to_float_clip(clips, model.config.mean, model.config.std)
        relevance = attention_rollout(model, video)
        coverage = patch_coverage(masks, model.config.patch_size)
        ratios.append(object_attention_ratio(relevance, coverage))
        areas.append(coverage.flatten(1).mean(dim=1))
        masses.append((relevance * coverage).flatten(1).sum(dim=1))
    ratios = torch.cat(ratios)
    return {
        "clips": len(ratios),
        "ratio_mean": ratios.mean().item(),
        "ratio_median": ratios.median().item(),
        "clips_above_1": (ratios > 1).float().mean().item(),
        "object_area": torch.cat(areas).mean().item(),
        "object_mass": torch.cat(masses).mean().item(),
    }


__all__ = [
    "head_reduce",
    "propagate",
    "step_matrix",
    "block_matrices",
    "rollout",
    "query_attention",
    "model_attention",
    "attention_rollout",
    "patch_coverage",
    "object_attention_ratio",
    "synthetic_object_masks",
    "object_attention",
]
