"""Auto-checks of exercises 7-9 (sampling and views, rollout, FLOP formula): each classic
mistake, implemented deliberately wrong here, is caught with the hint that names it."""

import math

import pytest
import torch

from mini_timesformer import checks
from mini_timesformer.checks import CheckFailed


def caught(check, fn, hint, *args, **kwargs):
    with pytest.raises(CheckFailed, match=hint):
        check(fn, *args, **kwargs)


# ----------------------------------------------------------------- exercise 7
def dense_as(start="middle", spacing=None, rounding=math.floor, clamp=True, windows="k/(K-1)"):
    def dense(V, T, r, k=0, K=1):
        slack = max(V - T * r, 0)
        if start == "zero":
            s = 0
        elif K == 1:
            s = slack / 2
        else:
            s = slack * k / ((K - 1) if windows == "k/(K-1)" else K)
        frames = [rounding(s + t * (spacing or r)) for t in range(T)]
        return [min(f, V - 1) for f in frames] if clamp else frames
    return dense


def test_dense_sampling_passes_and_accepts_a_tensor():
    checks.check_dense_indices(dense_as())
    checks.check_dense_indices(lambda *a: torch.tensor(dense_as()(*a)))


@pytest.mark.parametrize("mistake, hint", [
    (dict(start="zero"), "first window.*official decoder"),
    (dict(spacing=1), "consecutive frames"),
    (dict(windows="k/K"), "official decoder.s convention"),
    (dict(rounding=round), "floor"),
    (dict(clamp=False), "out of range"),
])
def test_dense_sampling_mistakes_are_named(mistake, hint):
    caught(checks.check_dense_indices, dense_as(**mistake), hint)


def test_dense_sampling_segment_and_type_mistakes():
    segments = lambda V, T, r, k=0, K=1: [min(int((t + 0.5) * V / T), V - 1) for t in range(T)]
    caught(checks.check_dense_indices, segments, "segment sampling")
    caught(checks.check_dense_indices, lambda *a: [float(i) for i in dense_as()(*a)],
           "list of int")
    caught(checks.check_dense_indices, lambda *a: dense_as()(*a)[:-1], "one per frame")


def test_segment_sampling_mistakes():
    checks.check_segment_indices(lambda V, T: [min(int((2 * t + 1) * V / (2 * T)), V - 1)
                                               for t in range(T)])
    caught(checks.check_segment_indices, lambda V, T: [int(t * V / T) for t in range(T)],
           "its middle")
    caught(checks.check_segment_indices,
           lambda V, T: [round(i) for i in torch.linspace(0, V - 1, T).tolist()], "linspace")


def crops_as(offsets="ok", along="long"):
    def three_crops(clip, crop):
        H, W = clip.shape[-2:]
        long = max(H, W) - crop
        starts = {"ok": (0, long // 2, long), "ceil": (0, -(-long // 2), long),
                  "centre": (long // 2,) * 3}[offsets]
        wide = (W >= H) if along == "long" else (W < H)
        views = [clip.narrow(-1 if wide else -2, s, crop).narrow(-2 if wide else -1, 0, crop)
                 for s in (starts if along == "long" else (0, 0, 0))]
        return torch.stack(views)
    return three_crops


@pytest.mark.parametrize("mistake, hint", [
    (dict(along="short"), "short side"),
    (dict(offsets="ceil"), r"\(long − crop\) // 2"),
    (dict(offsets="centre"), "three copies of the centre"),
])
def test_crop_mistakes_are_named(mistake, hint):
    checks.check_three_crops(crops_as())
    caught(checks.check_three_crops, crops_as(**mistake), hint)


@pytest.mark.parametrize("wrong, hint", [
    (lambda m, v: m(v).mean(0).softmax(-1), "averaged the logits"),
    (lambda m, v: m(v).softmax(-1).max(0).values, "maximum over views"),
    (lambda m, v: m(v[:1]).softmax(-1)[0], "first view"),
    (lambda m, v: m(v).mean(0), "returned averaged logits"),
    (lambda m, v: m(v).softmax(-1), r"expected shape \(5,\)"),
])
def test_multi_view_mistakes_are_named(wrong, hint):
    checks.check_predict_views(lambda m, v: torch.stack([m(x[None])[0].softmax(-1)
                                                         for x in v]).mean(0).detach())
    caught(checks.check_predict_views, lambda m, v: wrong(m, v).detach(), hint)


# ----------------------------------------------------------------- exercise 8
def time_matrix_as(order="tn", cls_row=True, transpose=False):
    def time_step_matrix(weights, grid):
        T, H, W = grid
        N = H * W
        A = torch.zeros(weights.shape[0], 1 + T * N, 1 + T * N)
        A[:, 0, 0] = float(cls_row)
        token = (lambda t, n: 1 + t * N + n) if order == "tn" else (lambda t, n: 1 + n * T + t)
        for n in range(N):
            for q in range(T):
                for k in range(T):
                    A[:, token(q, n), token(k, n)] = weights[:, n, q, k]
        return A.transpose(1, 2) if transpose else A
    return time_step_matrix


@pytest.mark.parametrize("mistake, hint", [
    (dict(order="nt"), "wrong token order"),
    (dict(cls_row=False), "CLS row must be e₀"),
    (dict(transpose=True), "transposed"),
])
def test_time_step_matrix_mistakes_are_named(mistake, hint):
    checks.check_time_step_matrix(time_matrix_as())
    caught(checks.check_time_step_matrix, time_matrix_as(**mistake), hint)


def rollout_as(residual=True, order="later-left", heads="mean", row=True, last_only=False,
               normalise=True):
    def rollout(attention, grid):
        mats = []
        for block in attention:
            w = block["joint"][:, 0]
            A = w.mean(1) if heads == "mean" else w.max(1).values
            mats.append((A + torch.eye(A.shape[-1])) / 2 if residual else A)
        if last_only:
            mats = mats[-1:]
        R = mats[0]
        for A in mats[1:]:
            R = A @ R if order == "later-left" else R @ A
        v = R[:, 0, 1:] if row else R[:, 1:, 0]
        return (v / v.sum(-1, keepdim=True) if normalise else v).reshape(-1, *grid)
    return rollout


@pytest.mark.parametrize("mistake, hint", [
    (dict(residual=False), "forgot the residual"),
    (dict(order="earlier-left"), "wrong order"),
    (dict(heads="max"), "maximum over heads"),
    (dict(row=False), "CLS column"),
    (dict(last_only=True), "only the last layer"),
    (dict(normalise=False), "did not normalise"),
])
def test_rollout_mistakes_are_named(mistake, hint):
    checks.check_rollout(rollout_as())
    caught(checks.check_rollout, rollout_as(**mistake), hint)


# ----------------------------------------------------------------- exercise 9
def macs_as(factor=1, cls_copies=True, extra=True, products=2, embed=True, head=True,
            mlp_cls=True):
    """Divided MACs by listing every matrix product (r rows × a → b features)."""
    def divided_macs(cfg, T, S):
        D, P = cfg.embed_dim, cfg.patch_size
        N = (S // P) ** 2
        hid = int(D * cfg.mlp_ratio)
        products_ = [(T * N, cfg.in_channels * P * P, D)] if embed else []
        for _ in range(cfg.depth):
            Ls = N + 1 if cls_copies else N
            products_ += [(N * T, D, 3 * D), (N * T, D, D)]  # time: qkv, proj
            products_ += [(N, T, T * D)] * products  # Q·Kᵀ and A·V over N groups
            products_ += [(T * N, D, D)] if extra else []
            products_ += [(T * Ls, D, 3 * D), (T * Ls, D, D)] + [(T, Ls, Ls * D)] * products
            products_ += [(T * N + mlp_cls, D, hid), (T * N + mlp_cls, hid, D)]
        products_ += [(1, D, cfg.num_classes)] if head else []
        return factor * sum(r * a * b for r, a, b in products_)
    return divided_macs


@pytest.mark.parametrize("mistake, hint", [
    (dict(factor=2), "2 FLOPs per multiply-add"),
    (dict(cls_copies=False), "CLS copy"),
    (dict(extra=False), "temporal_fc"),
    (dict(products=1), "one attention product"),
    (dict(embed=False), "patch embedding"),
    (dict(head=False), "classification head"),
    (dict(mlp_cls=False), "MLP runs on the CLS token"),
])
def test_flop_formula_mistakes_are_named(mistake, hint):
    caught(checks.check_divided_macs, macs_as(**mistake), hint)


def test_flop_formula_matches_measurement_and_paper():
    checks.check_divided_macs(macs_as())
    checks.check_paper_tflops(macs_as())
    caught(checks.check_paper_tflops, macs_as(cls_copies=False), "the paper says")
