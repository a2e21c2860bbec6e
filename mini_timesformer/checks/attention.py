"""Checks for exercise 2: attention with a visibility mask, separate q/k/v projections
from the fused qkv, and masked multi-head attention (paper §3, Eq. 2-5; ``attention.py``)."""

from __future__ import annotations

import torch
from einops import rearrange

from ..attention import MultiHeadAttention
from ..schemes import merge_groups, split_groups, visibility
from .core import CheckFailed, check_shape, compare, passed, randn, randomize, single_thread, unpack


# ------------------------------------------------------------ masked attention
def masked_reference(q, k, v, visible, scale):
    """softmax(QKᵀ·scale with hidden keys at −∞) V: the weights of hidden keys are 0."""
    scores = (q @ k.transpose(-2, -1) * scale).masked_fill(~visible, float("-inf"))
    weights = scores.softmax(dim=-1)
    return weights @ v, weights


def _masked_variants(q, k, v, visible, scale):
    """(output, weights) of the classic mistakes with a visibility mask."""
    scores = q @ k.transpose(-2, -1) * scale
    full = scores.softmax(-1)
    after = full * visible  # masked after the softmax, rows no longer sum to 1
    return {
        "ignored the mask: keys where visible is False must get weight 0": lambda: (full @ v, full),
        "inverted the mask: True means the query may attend to the key": lambda: (
            masked_reference(q, k, v, ~visible, scale) if bool((~visible).any(-1).all()) else None
        ),
        "masked after the softmax without renormalising: set hidden scores to −inf "
        "before the softmax (rows must still sum to 1)": lambda: (after @ v, after),
        "multiplied the scores by the mask: a score of 0 still gets weight; hidden "
        "scores must be −inf": lambda: (lambda w: (w @ v, w))((scores * visible).softmax(-1)),
        "missing the 1/√d scaling of the scores Q·Kᵀ": lambda: masked_reference(
            q, k, v, visible, 1.0
        ),
        "softmax over the wrong axis (the queries, dim=-2)": lambda: (lambda w: (w @ v, w))(
            (scores.masked_fill(~visible, float("-inf"))).softmax(-2).nan_to_num(0.0)
        ),
    }


@single_thread
def check_masked_attention(
    masked_attention,
    batch: int = 2,
    heads: int = 3,
    queries: int = 5,
    keys: int | None = None,
    head_dim: int = 4,
    magnitude: float = 1.0,
    seed: int = 0,
) -> None:
    """masked_attention(q, k, v, visible) -> (out, weights): softmax(QKᵀ/√d) V where query i
    may only attend to key j if visible[..., i, j] (bool, True = visible)."""
    keys = keys or queries
    q = magnitude * randn(batch, heads, queries, head_dim, seed=seed)
    k = magnitude * randn(batch, heads, keys, head_dim, seed=seed + 1)
    v = randn(batch, heads, keys, head_dim, seed=seed + 2)
    gen = torch.Generator().manual_seed(seed + 3)
    visible = torch.rand(queries, keys, generator=gen) < 0.5
    visible[torch.arange(queries), torch.arange(queries) % keys] = True  # each row sees one
    out, weights = unpack(
        masked_attention(q.clone(), k.clone(), v.clone(), visible.clone()),
        2,
        "masked_attention(q, k, v, visible)",
    )
    check_shape(
        weights,
        (batch, heads, queries, keys),
        "masked attention weights",
        "one row per query, one column per key: (…, Lq, Lk)",
    )
    check_shape(
        out,
        (batch, heads, queries, head_dim),
        "masked attention output",
        "weights (…, Lq, Lk) @ V (…, Lk, d) -> (…, Lq, d)",
    )
    if not bool(torch.isfinite(weights).all()):
        raise CheckFailed(
            "masked attention weights contain inf/NaN: use −inf scores with "
            "torch.softmax (stable), or subtract each row's max first"
        )
    scale = head_dim**-0.5
    expected_out, expected_w = masked_reference(q, k, v, visible, scale)
    wrong = _masked_variants(q, k, v, visible, scale)
    compare(
        weights,
        expected_w,
        "masked attention weights",
        {m: (lambda f=f: r[1] if (r := f()) is not None else None) for m, f in wrong.items()},
    )
    if bool((weights.masked_select(~visible) != 0).any()):
        raise CheckFailed("masked attention: a hidden key got a non-zero weight")
    compare(
        out,
        expected_out,
        "masked attention output",
        {m: (lambda f=f: r[0] if (r := f()) is not None else None) for m, f in wrong.items()},
    )
    # property: what a query cannot see cannot change its output
    j = int((~visible).sum(0).argmax())  # the key hidden from the most queries
    blind = ~visible[:, j]
    if blind.any():
        bumped = v.clone()
        bumped[..., j, :] += 100.0
        moved, _ = masked_attention(q, k, bumped, visible)
        compare(
            moved[..., blind, :],
            expected_out[..., blind, :],
            f"output of the queries that cannot see key {j}, after changing its value",
            hint="a hidden key's value must not reach the query",
        )
    passed(
        f"masked_attention: {queries} queries × {keys} keys, hidden keys get weight 0, "
        "rows sum to 1"
    )


def _qkv_slices(attn: MultiHeadAttention, layout: str = "3 d"):
    """(W, b) of q, k, v inside the fused qkv, for the right layout or a wrong one."""
    D = attn.qkv.in_features
    W, b = attn.qkv.weight, attn.qkv.bias
    if layout == "3 d":  # rows [q | k | v]
        return [
            (W[i * D : (i + 1) * D], None if b is None else b[i * D : (i + 1) * D])
            for i in range(3)
        ]
    # "d 3": rows interleaved q0 k0 v0 q1 k1 v1 ...
    return [(W.view(D, 3, D)[:, i], None if b is None else b.view(D, 3)[:, i]) for i in range(3)]


@single_thread
def check_split_qkv(
    split_qkv, dim: int = 12, heads: int = 3, qkv_bias: bool = True, seed: int = 0
) -> None:
    """split_qkv(attn) -> (q_proj, k_proj, v_proj): three nn.Linear(D, D) holding the fused
    attn.qkv's weights (as libraries with separate query/key/value layers store them)."""
    attn = randomize(MultiHeadAttention(dim, heads, qkv_bias=qkv_bias), seed)
    x = randn(3, dim, seed=seed + 1)
    projs = unpack(split_qkv(attn), 3, "split_qkv(attn)")
    with torch.no_grad():
        expected = attn.qkv(x).split(dim, dim=-1)
        for name, proj, want, i in zip("qkv", projs, expected, range(3)):
            if not isinstance(proj, torch.nn.Linear) or proj.weight.shape != (dim, dim):
                raise CheckFailed(
                    f"split_qkv: {name}_proj must be an nn.Linear(D, D), got {type(proj).__name__}"
                )
            if (proj.bias is None) != (attn.qkv.bias is None):
                raise CheckFailed(
                    f"split_qkv: {name}_proj must have a bias exactly when "
                    "attn.qkv has one (copy its slice of attn.qkv.bias)"
                )

            def wrong(layout, i=i):
                w, b = _qkv_slices(attn, layout)[i]
                return x @ w.T + (0 if b is None else b)

            compare(
                proj(x),
                want,
                f"{name}_proj(x)",
                {
                    "took interleaved rows (q, k, v alternating); the fused output is "
                    "[all of Q | all of K | all of V]: rows i·D … (i+1)·D of qkv.weight": lambda: (
                        wrong("d 3")
                    ),
                    "forgot the bias slice of attn.qkv.bias": lambda i=i: (
                        x @ _qkv_slices(attn)[i][0].T
                    ),
                },
            )
    passed(
        f"split_qkv: D = {dim}{'' if qkv_bias else ', no bias'}; q, k, v projections "
        "equal the fused qkv's three parts"
    )


def _mha_separate(attn, x, visible=None, scale=None, heads_layout="h d", proj=True):
    """Multi-head attention from the fused module, with an optional mask and mistakes."""
    B, L, D = x.shape
    h = attn.num_heads
    q, k, v = attn.qkv(x).split(D, dim=-1)
    pattern = "b l (h d) -> b h l d" if heads_layout == "h d" else "b l (d h) -> b h l d"
    q, k, v = (rearrange(t, pattern, h=h) for t in (q, k, v))
    mask = torch.ones(L, L, dtype=torch.bool) if visible is None else visible
    out, weights = masked_reference(q, k, v, mask, scale or attn.scale)
    out = rearrange(out, "b h l d -> b l (h d)")
    return (attn.proj(out) if proj else out), weights


@single_thread
def check_multi_head_masked(
    multi_head, batch: int = 2, grid=(2, 2, 2), dim: int = 12, heads: int = 3, seed: int = 0
) -> None:
    """multi_head(x, q_proj, k_proj, v_proj, proj, heads, visible=None) -> (out (B, L, D),
    weights (B, heads, L, L)), against the package's ``MultiHeadAttention`` (same weights).

    Property: with the divided time step's visibility mask over the T·N patch tokens,
    masked attention over the whole clip equals attention inside the time groups.
    """
    attn = randomize(MultiHeadAttention(dim, heads), seed)
    T, H, W = grid
    L = T * H * W
    x = randn(batch, L, dim, seed=seed + 1)
    projs = []
    for w, b in _qkv_slices(attn):
        layer = torch.nn.Linear(dim, dim)
        with torch.no_grad():
            layer.weight.copy_(w)
            layer.bias.copy_(b)
        projs.append(layer)
    time_mask = visibility("divided", T, H, W)["time"]  # (L, L) bool
    with torch.no_grad():
        for visible, what in ((None, "no mask"), (time_mask, "time-step mask")):
            args = () if visible is None else (visible.clone(),)
            out, weights = unpack(
                multi_head(x.clone(), *projs, attn.proj, heads, *args),
                2,
                "multi_head(x, q_proj, k_proj, v_proj, proj, heads, visible)",
            )
            check_shape(
                weights,
                (batch, heads, L, L),
                f"multi-head weights ({what})",
                "split D into (heads, d_h), heads before the tokens: (B, heads, L, L)",
            )
            check_shape(
                out,
                (batch, L, dim),
                f"multi-head output ({what})",
                "concatenate the heads back to D and apply proj",
            )
            mistakes = {
                "scaled by 1/√D (the full width); each head uses 1/√d_h, d_h = D / heads": dict(
                    scale=dim**-0.5
                ),
                "heads interleaved: split each of Q, K, V as (heads, d_h), heads first": dict(
                    heads_layout="d h"
                ),
                "forgot the output projection proj (W_O)": dict(proj=False),
            }
            if visible is not None:
                mistakes["ignored the visibility mask"] = dict(visible=None)
            expected_out, expected_w = _mha_separate(attn, x, visible)

            def variants(index, visible=visible, mistakes=mistakes):
                return {
                    m: (lambda kw=kw: _mha_separate(attn, x, **{"visible": visible, **kw})[index])
                    for m, kw in mistakes.items()
                }

            compare(weights, expected_w, f"multi-head weights ({what})", variants(1))
            compare(out, expected_out, f"multi-head output ({what})", variants(0))
            if visible is None:
                compare(out, attn(x)[0], "multi-head output vs the package's fused module")
        grouped = merge_groups(attn(split_groups(x, "time", grid))[0], "time", grid)
        compare(
            out,
            grouped,
            "masked attention with the time-step mask vs attention inside the time groups",
            hint="a visibility mask and a grouping are two ways to write the same step",
        )
    passed(
        f"multi_head: {heads} heads from separate q/k/v projections, same as the fused "
        f"module; with the time-step mask it equals attention inside the {H * W} time "
        "groups"
    )
