"""Checks for exercise 12: a pre-trained model at a new frame size and frame count (paper
§4.3 and Fig. 5: more tokens; Appendix A: the ViT's position embedding on a new grid).

The references: ``resize_grid`` (bicubic, non-square grids — ``embed.resize_pos_embed``
takes square sources only and gives the same on those), ``resize_frames`` (linear; the
package's ``embed.resize_time_embed`` is nearest) and the token count of the package's own
``VideoEmbedding``. Each named mistake is a variant computed on the same inputs.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from einops import rearrange

from .core import ATOL, RTOL, CheckFailed, as_tensor, call, passed, randn

# (old grid, new grid): square and non-square, up and down
GRID_CASES = (((2, 2), (4, 4)), ((4, 4), (6, 6)), ((3, 5), (6, 4)), ((4, 6), (2, 3)))
FRAME_CASES = ((8, 16), (8, 4), (4, 6), (3, 32), (8, 8))
TOKEN_CASES = (
    (32, 8, 8, "divided"),
    (48, 8, 8, "space"),
    (224, 16, 8, "joint"),
    (448, 16, 16, "space"),
    (16, 8, 4, "axial"),
)


def resize_grid(pos, old_grid, new_grid, mode="bicubic", align_corners=False, order="h w"):
    """The reference (and its variants): CLS slot kept, the (h w) grid part resized in 2-D."""
    cls, grid = pos[:, :1], pos[:, 1:]
    h, w = old_grid if order == "h w" else old_grid[::-1]
    grid = rearrange(grid, f"1 ({order}) d -> 1 d h w", h=h, w=w)  # (1, D, h, w)
    kwargs = {} if mode == "nearest" else {"align_corners": align_corners}
    grid = F.interpolate(grid, size=tuple(new_grid), mode=mode, **kwargs)  # (1, D, H', W')
    return torch.cat([cls, rearrange(grid, "1 d h w -> 1 (h w) d")], dim=1)


def resize_frames(time, num_frames, mode="linear", align_corners=False):
    """The reference (and its variants): the time embedding (1, T0, D) at ``num_frames``."""
    kwargs = {} if mode == "nearest" else {"align_corners": align_corners}
    resized = F.interpolate(time.transpose(1, 2), size=num_frames, mode=mode, **kwargs)
    return resized.transpose(1, 2)  # (1, D, T) -> (1, T, D)


def _name_mistake(got, expected, what, variants):
    if torch.allclose(got, expected, atol=ATOL, rtol=RTOL):
        return
    for mistake, make in variants.items():
        other = make()
        if other.shape == got.shape and torch.allclose(got, other, atol=ATOL, rtol=RTOL):
            raise CheckFailed(f"{what}: wrong values. Likely mistake: {mistake}")
    gap = (got - expected).abs().max().item()
    raise CheckFailed(f"{what}: wrong values (max difference {gap:.3g})")


def check_resize_position(fn, cases=GRID_CASES) -> None:
    """fn(pos (1, 1 + h·w, D), old_grid (h, w), new_grid (H', W')) -> (1, 1 + H'·W', D)."""
    for seed, (old, new) in enumerate(cases):
        _position_case(fn, seed, old, new)
    passed(f"position embedding on {len(cases)} new grids (square and not), CLS slot kept")


def _position_case(fn, seed, old, new) -> None:
    pos = randn(1, 1 + old[0] * old[1], 8, seed=seed)
    what = f"resize_position_embedding(pos, {old}, {new})"
    got = as_tensor(
        call(
            fn, pos.clone(), old, new, what=what,
            hint="reshape the grid part with old_grid (h, w); it need not be square",
        ),
        what,
    )  # fmt: skip
    shape = (1, 1 + new[0] * new[1], 8)
    if tuple(got.shape) != shape:
        hint = (
            "the CLS slot (index 0) was dropped; keep it in front"
            if tuple(got.shape) == (1, new[0] * new[1], 8)
            else "1 CLS slot + H'·W' grid positions"
        )
        raise CheckFailed(f"{what}: shape {tuple(got.shape)}, expected {shape}. {hint}")
    if not torch.allclose(got[:, 0], pos[:, 0], atol=ATOL, rtol=RTOL):
        raise CheckFailed(f"{what}: the CLS slot changed; only the grid part is resized")
    _name_mistake(
        got,
        resize_grid(pos, old, new),
        what,
        {
            "nearest interpolation; resize bicubically (as from_vit does)": lambda: resize_grid(
                pos, old, new, mode="nearest"
            ),
            "bilinear interpolation; resize bicubically (as from_vit does)": lambda: resize_grid(
                pos, old, new, mode="bilinear"
            ),
            "align_corners=True; use align_corners=False": lambda: resize_grid(
                pos, old, new, align_corners=True
            ),
            "the grid read as (w h): tokens are row-major, (h w), h the slower axis": lambda: (
                resize_grid(pos, old, new, order="w h")
            ),
        },
    )


def check_resize_time(fn, cases=FRAME_CASES) -> None:
    """fn(time (1, T0, D), num_frames) -> (1, num_frames, D), linearly interpolated."""
    for seed, (T0, T) in enumerate(cases):
        _time_case(fn, seed, T0, T)
    passed(f"time embedding at {len(cases)} new frame counts, more and fewer")


def _time_case(fn, seed, T0, T) -> None:
    time = randn(1, T0, 8, seed=10 + seed)
    what = f"resize_time_embedding(time with {T0} frames, {T})"
    got = as_tensor(call(fn, time.clone(), T, what=what, hint="interpolate along frames"), what)
    if tuple(got.shape) != (1, T, 8):
        hint = (
            "interpolate along the frame axis: F.interpolate wants (1, D, T0)"
            if tuple(got.shape) in ((1, T0, T), (1, 8, T))
            else "(1, num_frames, D)"
        )
        raise CheckFailed(f"{what}: shape {tuple(got.shape)}, expected {(1, T, 8)}. {hint}")
    _name_mistake(
        got,
        resize_frames(time, T),
        what,
        {
            "nearest interpolation (what embed.resize_time_embed does): this exercise "
            "interpolates linearly": lambda: resize_frames(time, T, mode="nearest"),
            "align_corners=True; use align_corners=False": lambda: resize_frames(
                time, T, align_corners=True
            ),
            "the frames repeated (tiled); interpolate between neighbouring frames": lambda: (
                time.repeat(1, -(-T // T0), 1)[:, :T]
            ),
        },
    )


def reference_tokens(image_size: int, patch_size: int, num_frames: int, scheme: str) -> int:
    """Tokens entering attention for one clip: the package's own embedding, counted."""
    from ..config import TimeSformerConfig
    from ..embed import VideoEmbedding

    cfg = TimeSformerConfig(
        image_size=image_size, patch_size=patch_size, num_frames=num_frames,
        embed_dim=8, depth=1, num_heads=1, attention=scheme,
    )  # fmt: skip
    embed = VideoEmbedding(cfg)
    with torch.no_grad():
        video = torch.zeros(1, num_frames, 3, image_size, image_size)
        tokens, _ = embed(video, use_time=scheme != "space")  # (1 or T, 1 + ..., D)
    return tokens.shape[0] * tokens.shape[1]


def check_clip_tokens(fn, cases=TOKEN_CASES) -> None:
    """fn(image_size, patch_size, num_frames, scheme) -> the tokens of one clip (CLS included)."""
    for size, P, T, scheme in cases:
        what = f"clip_tokens({size}, {P}, {T}, {scheme!r})"
        got = call(fn, size, P, T, scheme, what=what, hint="return an int")
        expected = reference_tokens(size, P, T, scheme)
        if got == expected:
            continue
        N = (size // P) ** 2
        variants = {
            1 + T * N: "space-only folds frames into the batch: each frame has its own CLS, "
            "T·(1 + N)",
            T * (1 + N): "one CLS for the whole clip except in space-only: 1 + T·N",
            T * N: "the CLS token(s) left out",
            1 + T * (size // P): "N is the patches of a frame: (H / P)², not H / P",
        }
        hint = variants.get(got)
        raise CheckFailed(
            f"{what}: got {got!r}, expected {expected}"
            + (f". Likely mistake: {hint}" if hint else "")
        )
    passed(f"tokens per clip for {len(cases)} sizes, frame counts and schemes")
