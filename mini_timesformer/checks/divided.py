"""Checks for exercise 3: divided space-time attention (paper §3, "Space-Time Self-Attention Models", Eq. 11 and 6-9, Fig. 1;
``model.AttentionStep`` and ``model.Block`` with the ``divided`` scheme)."""

from __future__ import annotations

import torch

from ..model import Block
from ..schemes import scheme_record, visibility
from .core import CheckFailed, check_shape, compare, passed, randn, randomize, single_thread
from .steps import (
    SPACE_MAJOR,
    check_visibility,
    grouped,
    in_layout,
    layout_mistakes,
    make_step,
    run_step,
    tiny_config,
    to_patch_major,
    to_time_major,
)

_COMMON = {
    "forgot the LayerNorm (step.norm) before the attention": dict(norm=False),
    "forgot the residual connection: return x + update": dict(residual=False),
}


def _tokens(grid, batch, seed):
    T, H, W = grid
    return randn(batch, 1 + T * H * W, 16, seed=seed)  # (B, 1 + T·N, D), CLS first


def _values_and_visibility(
    fn, got, expected, step, x, grid, variants, scheme: str = "divided"
) -> None:
    """Values vs the package step (naming the variant matched), then the perturbation
    probe of who sees whom; ``variants`` maps mistakes to ``run_step`` switches (a dict)
    or to a function computing the wrong output."""
    what = f"{step.grouping}_step"
    compare(
        got,
        expected,
        f"{what} output",
        {
            m: (kw if callable(kw) else (lambda kw=kw: run_step(step, x, grid, **kw)))
            for m, kw in variants.items()
        },
    )
    check_visibility(
        lambda y: fn(y, grid, step),
        x[:1],
        grid,
        visibility(scheme, *grid)[step.grouping],
        what,
        cls_changes=step.with_cls,
    )


def _time_major_on_official(step, x, grid):
    """What a step written for time-major tokens computes on official-layout tokens,
    seen from time-major coordinates."""
    return lambda: to_time_major(run_step(step, to_patch_major(x, grid), grid), grid)


def _order_mistakes(layout, step, x, grid, pattern):
    """The token-order mistake for this layout: (n, t) splits of time-major tokens, or
    time-major patterns on the official patch-major tokens."""
    if layout == "official":
        return layout_mistakes(layout, _time_major_on_official(step, x, grid))
    return {
        "wrong token order: tokens are time-major (index t·N + n), you split them as "
        f"(n, t); use '{pattern}'": grouped(SPACE_MAJOR[step.grouping])
    }


def _run(fn, x, grid, step, what):
    got = fn(x.clone(), grid, step)
    return check_shape(got, x.shape, what, "return every token, CLS first: (B, 1 + T·N, D)")


@single_thread
def check_time_step(
    time_step, grid=(3, 2, 3), batch: int = 2, seed: int = 0, layout: str = "ours"
) -> None:
    """time_step(x, grid, step): each patch attends to the same position in all T frames.

    ``step`` is a package ``AttentionStep`` (grouping "time", an added step: CLS left out,
    extra Linear ``step.extra`` before the residual) with random weights.
    """
    time_step = in_layout(time_step, layout)
    step = make_step("time", added=True, seed=seed)
    x = _tokens(grid, batch, seed + 1)
    got = _run(time_step, x, grid, step, "time_step(x, grid, step)")
    with torch.no_grad():
        expected = step(x, grid)[0]
        if not torch.equal(got[:, 0], x[:, 0]):
            raise CheckFailed(
                "time_step changed the CLS token. CLS in the wrong step: the time "
                "step leaves it out and passes it through unchanged; it takes part "
                "in the space step"
            )
        variants = {
            "CLS in the wrong step: the time step must leave the CLS token out of its "
            "groups (it joins the space step)": dict(cls="mean", keep_cls=True),
            "grouped the patches of one frame (that is the space step); the time step "
            "groups one patch position n across the T frames": grouped(
                "b (t h w) d -> (b t) (h w) d"
            ),
            **_order_mistakes(layout, step, x, grid, "b (t n) d -> (b n) t d"),
            "forgot the extra Linear step.extra (the official temporal_fc) before the "
            "residual": dict(extra=False),
            **_COMMON,
        }
        _values_and_visibility(time_step, got, expected, step, x, grid, variants)
    T, H, W = grid
    passed(
        f"time_step: T={T}, {H}×{W} patches, same as the package; each patch sees "
        "only its own position in every frame"
    )


@single_thread
def check_space_step(
    space_step, grid=(3, 2, 3), batch: int = 2, seed: int = 0, layout: str = "ours"
) -> None:
    """space_step(x, grid, step): each patch attends to the patches of its own frame and a
    copy of the CLS token; the CLS output is the mean over the T frames' copies.

    ``step`` is a package ``AttentionStep`` (grouping "space", the block's ViT step).
    """
    space_step = in_layout(space_step, layout)
    step = make_step("space", added=False, seed=seed)
    x = _tokens(grid, batch, seed + 1)
    got = _run(space_step, x, grid, step, "space_step(x, grid, step)")
    with torch.no_grad():
        expected = step(x, grid)[0]
        variants = {
            "the space step must include the CLS token: copy it into every frame's group "
            "(after step.norm) and make its update the mean of the T outputs": dict(cls="skip"),
            "kept the CLS output of one frame only; average the T frames' CLS outputs": dict(
                cls="first"
            ),
            "summed the T frames' CLS outputs; average them": dict(cls="sum"),
            "the CLS copies must go through step.norm too": dict(cls_norm=False),
            "grouped one patch position across time (that is the time step); the space "
            "step groups the N patches of one frame": grouped("b (t h w) d -> (b h w) t d"),
            **_order_mistakes(layout, step, x, grid, "b (t n) d -> (b t) n d"),
            **_COMMON,
        }
        _values_and_visibility(space_step, got, expected, step, x, grid, variants)
    T, H, W = grid
    passed(
        f"space_step: T={T}, {H}×{W} patches, same as the package; CLS averaged over "
        "frames; each patch sees only its own frame"
    )


@single_thread
def check_divided_block(
    divided_block, grid=(2, 2, 2), batch: int = 2, seed: int = 0, layout: str = "ours"
) -> None:
    """divided_block(x, grid, block): time step, space step, then the MLP
    (LayerNorm -> MLP -> residual), as a package ``Block(divided)`` with random weights."""
    divided_block = in_layout(divided_block, layout)
    block = randomize(Block(tiny_config(attention="divided")), seed)
    x = _tokens(grid, batch, seed + 1)
    got = check_shape(
        divided_block(x.clone(), grid, block),
        x.shape,
        "divided_block(x, grid, block)",
        "return every token, CLS first",
    )
    with torch.no_grad():
        expected = block(x, grid)[0]
        time, space = block.steps["time"], block.steps["space"]

        def mlp(y, norm=True, residual=True):
            update = block.mlp(block.norm(y) if norm else y)
            return y + update if residual else update

        variants = {
            "space step before the time step; the paper applies time first, then space": lambda: (
                mlp(time(space(x, grid)[0], grid)[0])
            ),
            "forgot the MLP": lambda: space(time(x, grid)[0], grid)[0],
            "forgot the LayerNorm (block.norm) before the MLP": lambda: mlp(
                space(time(x, grid)[0], grid)[0], norm=False
            ),
            "forgot the MLP's residual connection": lambda: mlp(
                space(time(x, grid)[0], grid)[0], residual=False
            ),
        }
        compare(got, expected, "divided_block output", variants)
    passed("divided_block: time -> space -> MLP, same as the package's Block")


@single_thread
def check_axial_step(
    step_fn, grouping: str, grid=(3, 2, 4), batch: int = 2, seed: int = 0, layout: str = "ours"
) -> None:
    """step_fn(x, grid, step) for the axial scheme's ``width`` step (added: CLS left out,
    extra Linear) or ``height`` step (the block's ViT step: a CLS copy in each of the T·W'
    column groups, their outputs averaged), against the package's ``AttentionStep``."""
    step_fn = in_layout(step_fn, layout)
    last = scheme_record("axial").cls_step == grouping  # the ViT step: carries the CLS
    step = make_step(grouping, added=not last, seed=seed)
    x = _tokens(grid, batch, seed + 1)
    what = f"{grouping}_step(x, grid, step)"
    got = _run(step_fn, x, grid, step, what)
    other = "height" if grouping == "width" else "width"
    patterns = {"width": "b (t h w) d -> (b t h) w d", "height": "b (t h w) d -> (b t w) h d"}
    with torch.no_grad():
        expected = step(x, grid)[0]
        if not last and not torch.equal(got[:, 0], x[:, 0]):
            raise CheckFailed(
                f"{grouping}_step changed the CLS token: the width step is an "
                "added step; it leaves the CLS token out and passes it through"
            )
        variants = {
            f"grouped by {'columns' if grouping == 'width' else 'rows'} (that is the {other} "
            f"step); the {grouping} step groups one {'row' if grouping == 'width' else 'column'}"
            " of one frame": grouped(patterns[other]),
            "grouped the whole frame (the divided space step)": grouped(
                "b (t h w) d -> (b t) (h w) d"
            ),
            **layout_mistakes(layout, _time_major_on_official(step, x, grid)),
            **_COMMON,
        }
        if last:
            variants.update(
                {
                    "the height step is the block's last (ViT) step: copy the normalised CLS "
                    "token into every column group and make its update the mean of the T·W' "
                    "outputs": dict(cls="skip"),
                    "kept one group's CLS output only; average all T·W' copies": dict(cls="first"),
                    "summed the CLS copies' outputs; average them": dict(cls="sum"),
                    "the CLS copies must go through step.norm too": dict(cls_norm=False),
                }
            )
        else:
            variants.update(
                {
                    "the width step is an added step: forgot its extra Linear step.extra before "
                    "the residual": dict(extra=False),
                }
            )
        _values_and_visibility(step_fn, got, expected, step, x, grid, variants, "axial")
    T, H, W = grid
    groups = T * H if grouping == "width" else T * W
    passed(
        f"{grouping}_step: T={T}, {H}×{W} patches, {groups} groups per clip, same as the "
        "package; each patch sees only its " + ("row" if grouping == "width" else "column")
    )
