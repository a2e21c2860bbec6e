"""Auto-checks of exercises 7-9 (sampling and views, axial rollout, MAC formulas): each classic
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


@pytest.mark.parametrize(
    "mistake, hint",
    [
        (dict(start="zero"), "first window.*official decoder"),
        (dict(spacing=1), "consecutive frames"),
        (dict(windows="k/K"), "official decoder.s convention"),
        (dict(rounding=round), "floor"),
        (dict(clamp=False), "out of range"),
    ],
)
def test_dense_sampling_mistakes_are_named(mistake, hint):
    caught(checks.check_dense_indices, dense_as(**mistake), hint)


def test_dense_sampling_segment_and_type_mistakes():
    segments = lambda V, T, r, k=0, K=1: [min(int((t + 0.5) * V / T), V - 1) for t in range(T)]
    caught(checks.check_dense_indices, segments, "segment sampling")
    caught(checks.check_dense_indices, lambda *a: [float(i) for i in dense_as()(*a)], "list of int")
    caught(checks.check_dense_indices, lambda *a: dense_as()(*a)[:-1], "one per frame")


def test_segment_sampling_mistakes():
    checks.check_segment_indices(
        lambda V, T: [min(int((2 * t + 1) * V / (2 * T)), V - 1) for t in range(T)]
    )
    caught(
        checks.check_segment_indices, lambda V, T: [int(t * V / T) for t in range(T)], "its middle"
    )
    caught(
        checks.check_segment_indices,
        lambda V, T: [round(i) for i in torch.linspace(0, V - 1, T).tolist()],
        "linspace",
    )


def crops_as(offsets="ok", along="long"):
    def three_crops(clip, crop):
        H, W = clip.shape[-2:]
        long = max(H, W) - crop
        starts = {
            "ok": (0, long // 2, long),
            "ceil": (0, -(-long // 2), long),
            "centre": (long // 2,) * 3,
        }[offsets]
        wide = (W >= H) if along == "long" else (W < H)
        views = [
            clip.narrow(-1 if wide else -2, s, crop).narrow(-2 if wide else -1, 0, crop)
            for s in (starts if along == "long" else (0, 0, 0))
        ]
        return torch.stack(views)

    return three_crops


@pytest.mark.parametrize(
    "mistake, hint",
    [
        (dict(along="short"), "short side"),
        (dict(offsets="ceil"), r"\(long − crop\) // 2"),
        (dict(offsets="centre"), "three copies of the centre"),
    ],
)
def test_crop_mistakes_are_named(mistake, hint):
    checks.check_three_crops(crops_as())
    caught(checks.check_three_crops, crops_as(**mistake), hint)


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (lambda m, v: m(v).mean(0).softmax(-1), "averaged the logits"),
        (lambda m, v: m(v).softmax(-1).max(0).values, "maximum over views"),
        (lambda m, v: m(v[:1]).softmax(-1)[0], "first view"),
        (lambda m, v: m(v).mean(0), "returned averaged logits"),
        (lambda m, v: m(v).softmax(-1), r"expected shape \(5,\)"),
    ],
)
def test_multi_view_mistakes_are_named(wrong, hint):
    checks.check_predict_views(
        lambda m, v: torch.stack([m(x[None])[0].softmax(-1) for x in v]).mean(0).detach()
    )
    caught(checks.check_predict_views, lambda m, v: wrong(m, v).detach(), hint)


# ----------------------------------------------------------------- exercise 8
def step_matrix_as(order="tn", cls_row="mean", transpose=False, swap=False):
    """Axial step matrices written from (t, h, w) loops over token ids, optionally wrong."""

    def step_matrix(weights, step, grid):
        T, H, W = grid
        N = H * W
        tok = (
            (lambda t, h, w: 1 + t * N + h * W + w)
            if order == "tn"
            else (lambda t, h, w: 1 + (h * W + w) * T + t)
        )
        kind = {"width": "height", "height": "width"}.get(step, step) if swap else step
        if kind == "time":
            groups = [[tok(t, h, w) for t in range(T)] for h in range(H) for w in range(W)]
        elif kind == "width":
            groups = [[tok(t, h, w) for w in range(W)] for t in range(T) for h in range(H)]
        else:
            groups = [[tok(t, h, w) for h in range(H)] for t in range(T) for w in range(W)]
        A = torch.zeros(weights.shape[0], 1 + T * N, 1 + T * N)
        G = len(groups)
        for g, ids in enumerate(groups):
            if step == "height":
                ids = [0] + ids
                for a, i in enumerate(ids[1:], 1):
                    A[:, i, ids] = weights[:, g, a]
                share = {"mean": 1 / G, "sum": 1.0, "none": 0.0}[cls_row]
                A[:, 0, ids] += share * weights[:, g, 0]
            else:
                for a, i in enumerate(ids):
                    A[:, i, ids] = weights[:, g, a]
        if step != "height":
            A[:, 0, 0] = 0.0 if cls_row == "none" else 1.0
        return A.transpose(1, 2) if transpose else A

    return step_matrix


@pytest.mark.parametrize(
    "mistake, hint, grid",
    [
        (dict(transpose=True), "transposed", (2, 2, 3)),
        (dict(cls_row="sum"), "mean of its G copies", (2, 2, 3)),
        (dict(cls_row="none"), "must be e₀", (2, 2, 3)),
        (dict(swap=True), "wrong groups", (2, 2, 2)),
    ],
)
def test_step_matrix_mistakes_are_named(mistake, hint, grid):
    checks.check_step_matrix(step_matrix_as(), grid=grid)
    caught(checks.check_step_matrix, step_matrix_as(**mistake), hint, grid=grid)


def test_step_matrix_wrong_order_fails():
    caught(checks.check_step_matrix, step_matrix_as(order="nt"), "wrong values")


def axial_rollout_as(
    residual=True,
    step_order="later-left",
    order="later-left",
    heads="mean",
    row=True,
    last_only=False,
    normalise=True,
):
    def rollout(attention, grid):
        M_total = None
        for block in attention[-1:] if last_only else attention:
            M = None
            for step in ("time", "width", "height"):
                w = block[step]
                A = step_matrix_as()(w.mean(2) if heads == "mean" else w.amax(2), step, grid)
                R = (A + torch.eye(A.shape[-1])) / 2 if residual else A
                M = R if M is None else (R @ M if step_order == "later-left" else M @ R)
            M_total = (
                M if M_total is None else (M @ M_total if order == "later-left" else M_total @ M)
            )
        v = M_total[:, 0, 1:] if row else M_total[:, 1:, 0]
        return (v / v.sum(-1, keepdim=True) if normalise else v).reshape(-1, *grid)

    return rollout


@pytest.mark.parametrize(
    "mistake, hint",
    [
        (dict(residual=False), "forgot the residual"),
        (dict(step_order="earlier-left"), "steps in the wrong order"),
        (dict(order="earlier-left"), "blocks in the wrong order"),
        (dict(heads="max"), "maximum over heads"),
        (dict(row=False), "CLS column"),
        (dict(last_only=True), "only the last block"),
        (dict(normalise=False), "did not normalise"),
    ],
)
def test_axial_rollout_mistakes_are_named(mistake, hint):
    checks.check_axial_rollout(axial_rollout_as())
    caught(checks.check_axial_rollout, axial_rollout_as(**mistake), hint)


# ----------------------------------------------------------------- exercise 9
def macs_as(
    scheme,
    factor=1,
    cls_copies=True,
    extra="added",
    products=2,
    embed=True,
    head=True,
    mlp_cls=True,
):
    """MACs by listing every group of every step by hand (rows r × a → b features)."""

    def count(cfg, T, S):
        D, P = cfg.embed_dim, cfg.patch_size
        side = S // P
        N = side * side
        hid = int(D * cfg.mlp_ratio)
        if scheme == "axial":
            steps = [(N, T), (T * side, side), (T * side, side)]
        else:
            G = 8 if T > 1 else 4
            steps = [(4, T * N // 4), (G, T * N // G)]
        total = T * N * cfg.in_channels * P * P * D if embed else 0
        for _ in range(cfg.depth):
            for i, (G, L) in enumerate(steps):
                last = i == len(steps) - 1
                L += last and cls_copies
                total += G * L * 4 * D * D + products * G * L * L * D
                if {"added": not last, "none": False, "first": i == 0, "all": True}[extra]:
                    total += T * N * D * D
            total += (T * N + mlp_cls) * 2 * D * hid
        return factor * (total + (D * cfg.num_classes if head else 0))

    return count


@pytest.mark.parametrize("scheme", ["axial", "local_global"])
def test_mac_formulas_match_the_measurement(scheme):
    checks.check_macs(macs_as(scheme), scheme)


@pytest.mark.parametrize(
    "scheme, mistake, hint",
    [
        ("axial", dict(factor=2), "2 FLOPs per multiply-add"),
        ("axial", dict(cls_copies=False), "CLS copy in each group of the last step \\(height\\)"),
        ("axial", dict(extra="none"), "forgot the extra Linear"),
        ("axial", dict(extra="first"), "only the first step"),
        ("local_global", dict(extra="all"), "last step \\(global\\) an extra Linear"),
        ("local_global", dict(products=1), "one attention product"),
        ("local_global", dict(embed=False), "patch embedding"),
        ("axial", dict(head=False), "classification head"),
        ("local_global", dict(mlp_cls=False), "MLP runs on the CLS token"),
    ],
)
def test_mac_formula_mistakes_are_named(scheme, mistake, hint):
    caught(checks.check_macs, macs_as(scheme, **mistake), hint, scheme)
    caught(checks.check_macs, lambda *a: float(macs_as(scheme)(*a)), "expected an int", scheme)
