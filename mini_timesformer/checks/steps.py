"""An attention step re-implemented with switches, to compute deliberate mistakes.

``run_step`` does what ``model.AttentionStep.forward`` does (a test proves they agree
with every switch at its default); each switch turns one piece off or swaps it for a
classic mistake, so a check can say *which* mistake a student's output matches.
"""

from __future__ import annotations

import torch
from einops import rearrange
from torch import nn

from ..config import TimeSformerConfig
from ..errors import UserError
from ..model import AttentionStep
from ..schemes import merge_groups, split_groups
from .core import CheckFailed, changed_tokens, describe_tokens, randomize

# Groupings written with the token axis in the wrong order: (n t) instead of (t n).
SPACE_MAJOR = {
    "time": "b (h w t) d -> (b h w) t d",
    "space": "b (h w t) d -> (b t) (h w) d",
}


def to_patch_major(tokens: torch.Tensor, grid) -> torch.Tensor:
    """(B, 1 + T·N, D) time-major (t h w) -> the official / Hugging Face patch-major order
    (h w t), CLS kept first (official ``vit.py``: ``'b (h w t) m'``)."""
    T, H, W = grid
    body = rearrange(tokens[:, 1:], "b (t h w) d -> b (h w t) d", t=T, h=H, w=W)
    return torch.cat([tokens[:, :1], body], dim=1)


def to_time_major(tokens: torch.Tensor, grid) -> torch.Tensor:
    """Inverse of ``to_patch_major``."""
    T, H, W = grid
    body = rearrange(tokens[:, 1:], "b (h w t) d -> b (t h w) d", t=T, h=H, w=W)
    return torch.cat([tokens[:, :1], body], dim=1)


def in_layout(fn, layout: str):
    """A student's ``fn(x, grid, module)`` that takes tokens in ``layout`` ("ours":
    time-major, "official": patch-major), seen from time-major coordinates, so that every
    check (values, variants, visibility probes) runs unchanged."""
    if layout == "ours":
        return fn
    if layout != "official":
        raise UserError(f"layout must be 'ours' or 'official', got {layout!r}")
    return lambda x, grid, module: to_time_major(fn(to_patch_major(x, grid), grid, module), grid)


def layout_mistakes(layout: str, run) -> dict:
    """The token-order mistake of a layout: ``run(x_layout) -> out_layout`` done by a step
    that groups as if the tokens were in the other order; returns {message: kwargs or fn}."""
    if layout != "official":
        return {}
    return {
        "wrong token order: here the tokens are in the official patch-major layout "
        "(h w t), token 1 + n·T + t; you grouped them as time-major (t h w). Use the "
        "official patterns, e.g. 'b (h w t) d -> (b h w) t d'": run
    }


def tiny_config(**overrides) -> TimeSformerConfig:
    """A few-parameter config for checks (sizes of the clip come from the inputs)."""
    values = dict(
        num_frames=2, image_size=8, patch_size=4, embed_dim=16, depth=1, num_heads=4, num_classes=5
    )
    return TimeSformerConfig(**{**values, **overrides})


def make_step(grouping: str, added: bool, seed: int, cfg: TimeSformerConfig | None = None):
    """A package ``AttentionStep`` with random weights (the reference of a check)."""
    step = AttentionStep(cfg or tiny_config(), grouping, added=added, drop_path=0.0)
    return randomize(step, seed)


def pattern_fns(pattern: str):
    """(split, merge) functions from an einops pattern 'b (...) d -> (b ...) L d'."""
    source, target = pattern.split(" -> ")

    def split(x, grid):
        T, H, W = grid
        return rearrange(x, pattern, t=T, h=H, w=W)

    def merge(x, grid):
        T, H, W = grid
        return rearrange(x, f"{target} -> {source}", t=T, h=H, w=W)

    return split, merge


def grouped(pattern: str) -> dict:
    """``run_step`` switches that group tokens with an einops pattern instead."""
    split, merge = pattern_fns(pattern)
    return dict(split=split, merge=merge)


def package_fns(grouping: str):
    """(split, merge) of the package for a grouping name."""
    return (
        lambda x, grid: split_groups(x, grouping, grid),
        lambda x, grid: merge_groups(x, grouping, grid),
    )


def run_step(
    step: nn.Module,
    x: torch.Tensor,
    grid,
    split=None,
    merge=None,
    *,
    cls: str | None = None,
    norm: bool = True,
    cls_norm: bool = True,
    extra: bool = True,
    residual: bool = True,
    keep_cls: bool = False,
) -> torch.Tensor:
    """One attention step on x (B, 1 + T·N, D), CLS first.

    cls: "leave" (added step: CLS neither attends nor changes), "mean" (ViT step: copy
    CLS into each group, average the G outputs), or the mistakes "first" (keep one
    copy), "sum" (sum the copies), "skip" (ViT step that forgets the CLS token).
    keep_cls: return the input CLS token unchanged whatever the step did with it.
    """
    default_split, default_merge = package_fns(step.grouping)
    split, merge = split or default_split, merge or default_merge
    cls = cls or ("mean" if step.with_cls else "leave")
    ln = step.norm if norm else nn.Identity()
    B = x.shape[0]
    cls_token, patches = x[:, :1], x[:, 1:]
    groups = split(ln(patches), grid)  # (B·G, L, D)
    G = groups.shape[0] // B
    with_cls = cls in ("mean", "first", "sum")
    if with_cls:
        copies = (ln(cls_token) if cls_norm else cls_token).repeat_interleave(G, dim=0)
        groups = torch.cat([copies, groups], dim=1)  # (B·G, 1 + L, D)
    out, _ = step.attn(groups)
    cls_out = torch.zeros_like(cls_token)
    if with_cls:
        per_group = out[:, 0].view(B, G, -1)  # (B, G, D)
        pooled = {"mean": per_group.mean(1), "first": per_group[:, 0], "sum": per_group.sum(1)}
        cls_out, out = pooled[cls][:, None], out[:, 1:]
    patch_out = merge(out, grid)  # (B, T·N, D)
    if extra and step.extra is not None:
        patch_out = step.extra(patch_out)
    if keep_cls:
        cls_out = torch.zeros_like(cls_token)
    update = torch.cat([cls_out, patch_out], dim=1)
    if residual:
        return x + update
    return torch.cat([cls_token, patch_out], dim=1) if cls == "leave" else update


def check_visibility(
    step_fn,
    x: torch.Tensor,
    grid,
    expected: torch.Tensor,
    what: str,
    cls_changes: bool,
    probes: int = 3,
) -> None:
    """Perturb single patch tokens and check which outputs move.

    expected: bool (T·N, T·N), entry [i, j] = query i sees key j (``schemes.visibility``).
    """
    M = expected.shape[0]
    for j in sorted({0, M // 2, M - 1})[:probes]:
        moved = changed_tokens(step_fn, x, 1 + j)
        moved_patches, should = moved[1:].clone(), expected[:, j].clone()
        moved_patches[j] = should[j] = True  # the token itself always moves (residual)
        T, H, W = grid
        name = describe_tokens(torch.arange(M) == j, grid)
        leaked = moved_patches & ~should
        if leaked.any():
            raise CheckFailed(
                f"{what}: changing token {name} also changed "
                f"{describe_tokens(leaked, grid)}, which should not see it"
            )
        blind = should & ~moved_patches
        if blind.any():
            raise CheckFailed(
                f"{what}: changing token {name} did not change "
                f"{describe_tokens(blind, grid)}, which should see it"
            )
        if bool(moved[0]) != cls_changes:
            raise CheckFailed(
                f"{what}: the CLS token {'did not change' if cls_changes else 'changed'}"
                f" when patch token {name} changed; in this step the CLS token "
                + ("attends to every patch" if cls_changes else "takes no part")
            )
