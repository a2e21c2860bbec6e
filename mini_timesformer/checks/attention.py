"""Checks for exercise 2: scaled dot-product and multi-head attention (paper §3,
Eq. 2-5; ``attention.py``)."""

from __future__ import annotations

import torch

from ..attention import MultiHeadAttention, explicit_attention
from .core import CheckFailed, check_shape, compare, passed, randn, randomize, single_thread, unpack


def _weights_variants(q, k, scale):
    """Attention weights computed with the classic mistakes."""
    scores = q @ k.transpose(-2, -1)
    return {
        "missing the 1/√d scaling of the scores Q·Kᵀ": lambda: scores.softmax(-1),
        "scaled by 1/d instead of 1/√d": lambda: (scores * scale**2).softmax(-1),
        "softmax over the wrong axis (the queries, dim=-2); each query's row must sum "
        "to 1 over the keys (dim=-1)": lambda: (scores * scale).softmax(-2),
        "computed K·Qᵀ instead of Q·Kᵀ (rows must be queries, columns keys)":
            lambda: (k @ q.transpose(-2, -1) * scale).softmax(-1)
            if q.shape == k.shape else None,
    }


@single_thread
def check_attention(attention, batch: int = 2, heads: int = 3, queries: int = 5,
                    keys: int | None = None, head_dim: int = 4, magnitude: float = 1.0,
                    seed: int = 0) -> None:
    """attention(q, k, v) -> (out (…, Lq, d), weights (…, Lq, Lk)) = softmax(QKᵀ/√d)V."""
    keys = keys or queries
    q = magnitude * randn(batch, heads, queries, head_dim, seed=seed)
    k = magnitude * randn(batch, heads, keys, head_dim, seed=seed + 1)
    v = randn(batch, heads, keys, head_dim, seed=seed + 2)
    out, weights = unpack(attention(q.clone(), k.clone(), v.clone()), 2,
                          "attention(q, k, v)")
    check_shape(weights, (batch, heads, queries, keys), "attention weights",
                "one row per query, one column per key: Q·Kᵀ has shape (…, Lq, Lk)")
    check_shape(out, (batch, heads, queries, head_dim), "attention output",
                "weights (…, Lq, Lk) @ V (…, Lk, d) -> (…, Lq, d)")
    scale = head_dim**-0.5
    expected_out, expected_w = explicit_attention(q, k, v, scale)
    wrong_w = _weights_variants(q, k, scale)
    if not bool(torch.isfinite(weights).all()):
        raise CheckFailed("attention weights contain inf/NaN: exp() of large scores "
                          "overflows; subtract each row's max first or use torch.softmax")
    compare(weights, expected_w, "attention weights", wrong_w)
    # property: every row is a probability distribution over the keys
    if (weights < 0).any() or not torch.allclose(weights.sum(-1), torch.ones(())):
        raise CheckFailed("attention weights: every row must be ≥ 0 and sum to 1")
    variants = {mistake: (lambda f=f: (w @ v if (w := f()) is not None else None))
                for mistake, f in wrong_w.items()}
    variants["returned the weights times the keys (use the values V)"] = lambda: expected_w @ k
    compare(out, expected_out, "attention output", variants)
    # property: permuting the keys together with their values changes nothing
    perm = torch.randperm(keys, generator=torch.Generator().manual_seed(seed))
    out_perm, _ = attention(q, k[..., perm, :], v[..., perm, :])
    compare(out_perm, expected_out, "attention output after permuting keys and values",
            hint="attention is a weighted average over keys: their order must not matter")
    passed(f"attention: {queries} queries × {keys} keys, d = {head_dim}, "
           "rows sum to 1, key order irrelevant")


def _mha(module: MultiHeadAttention, x, qkv_order="3 h d", scale=None, proj=True):
    """Multi-head attention written out, with optional mistakes."""
    B, L, D = x.shape
    h = module.num_heads
    qkv = module.qkv(x)  # (B, L, 3·D)
    if qkv_order == "3 h d":  # (B, L, 3, heads, d_h)
        qkv = qkv.view(B, L, 3, h, D // h)
    elif qkv_order == "h 3 d":
        qkv = qkv.view(B, L, h, 3, D // h).transpose(2, 3)
    else:  # "3 d h": heads interleaved inside each of q, k, v
        qkv = qkv.view(B, L, 3, D // h, h).transpose(3, 4)
    q, k, v = qkv.permute(2, 0, 3, 1, 4)  # each (B, heads, L, d_h)
    out, weights = explicit_attention(q, k, v, scale or module.scale)
    out = out.transpose(1, 2).reshape(B, L, D)  # (B, heads, L, d_h) -> (B, L, D)
    return (module.proj(out) if proj else out), weights


@single_thread
def check_multi_head(multi_head, batch: int = 2, tokens: int = 5, dim: int = 12,
                     heads: int = 3, seed: int = 0) -> None:
    """multi_head(x (B, L, D), attn) -> (out (B, L, D), weights (B, heads, L, L)).

    ``attn`` is a package ``MultiHeadAttention`` (fused ``qkv`` and ``proj``) with random
    weights; ``attn(x, need_weights=True)`` is the reference.
    """
    module = randomize(MultiHeadAttention(dim, heads), seed)
    x = randn(batch, tokens, dim, seed=seed + 1)
    out, weights = unpack(multi_head(x.clone(), module), 2, "multi_head(x, attn)")
    check_shape(weights, (batch, heads, tokens, tokens), "multi-head weights",
                "split D into (heads, d_h) and move heads before the tokens: (B, heads, L, d_h)")
    check_shape(out, (batch, tokens, dim), "multi-head output",
                "concatenate the heads back to D and apply attn.proj")
    with torch.no_grad():
        expected_out, expected_w = module(x, need_weights=True)
        mistakes = {
            "scaled by 1/√D (the full width); each head uses 1/√d_h, d_h = D / heads":
                dict(scale=dim**-0.5),
            "split the fused qkv as (heads, 3, d_h); its output is [all Q | all K | all V]: "
            "view it as (B, L, 3, heads, d_h)": dict(qkv_order="h 3 d"),
            "heads interleaved: split each of Q, K, V as (heads, d_h), heads first":
                dict(qkv_order="3 d h"),
            "forgot the output projection attn.proj (W_O)": dict(proj=False),
        }
        compare(weights, expected_w, "multi-head weights",
                {m: (lambda kw=kw: _mha(module, x, **kw)[1]) for m, kw in mistakes.items()})
        compare(out, expected_out, "multi-head output",
                {m: (lambda kw=kw: _mha(module, x, **kw)[0]) for m, kw in mistakes.items()})
    passed(f"multi_head: {heads} heads of d_h = {dim // heads}, same as MultiHeadAttention")
