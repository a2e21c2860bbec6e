"""Attention rollout (Abnar & Zuidema 2020) for the five schemes: properties and references."""

import pytest
import torch
from helpers import nano, randomize

import mini_timesformer as mt
from mini_timesformer.viz import rollout as ro


def _attention(scheme, T=4, size=32, depth=2, num_heads=4, seed=0):
    model = randomize(mt.TimeSformer(nano(scheme, depth=depth, num_heads=num_heads)), seed, std=0.2)
    video = torch.randn(2, T, 3, size, size, generator=torch.Generator().manual_seed(seed))
    _, attention, grid = ro.model_attention(model, video)
    return model, video, attention, grid


@pytest.mark.parametrize("scheme", mt.SCHEMES)
def test_block_matrices_are_row_stochastic_and_rollout_sums_to_one(scheme):
    _, _, attention, grid = _attention(scheme)
    rolled = None
    for M in ro.block_matrices(attention, scheme, grid):
        assert (M >= 0).all()
        torch.testing.assert_close(M.sum(-1), torch.ones(M.shape[:-1]))
        rolled = M if rolled is None else M @ rolled
    torch.testing.assert_close(rolled.sum(-1), torch.ones(rolled.shape[:-1]))
    relevance = ro.rollout(attention, scheme, grid)
    assert relevance.shape == (2, *grid)
    torch.testing.assert_close(relevance.sum(dim=(1, 2, 3)), torch.ones(2))


@pytest.mark.parametrize("scheme", mt.SCHEMES)
def test_factorised_rollout_equals_the_dense_product(scheme):
    _, _, attention, grid = _attention(scheme, seed=1)
    for head in (None, 1):
        fast = ro.rollout(attention, scheme, grid, head=head)
        dense = ro.rollout(attention, scheme, grid, head=head, dense=True)
        torch.testing.assert_close(fast, dense, rtol=1e-4, atol=1e-7)


def _textbook_rollout(layers):
    """Abnar & Zuidema: per layer (A_mean_heads + I) / 2, multiply, CLS row, drop CLS."""
    R = None
    for A in layers:  # (B, heads, L, L)
        A = A.mean(dim=1) + torch.eye(A.shape[-1])
        A = A / A.sum(dim=-1, keepdim=True)
        R = A if R is None else A @ R
    cls = R[:, 0, 1:]
    return cls / cls.sum(dim=-1, keepdim=True)


def test_joint_rollout_is_the_textbook_rollout():
    _, _, attention, grid = _attention("joint", seed=2)
    expected = _textbook_rollout([block["joint"][:, 0] for block in attention])
    torch.testing.assert_close(ro.rollout(attention, "joint", grid).flatten(1), expected)


def test_space_rollout_is_the_mean_of_per_frame_vit_rollouts():
    _, _, attention, grid = _attention("space", seed=3)
    T = grid[0]
    per_frame = []
    for t in range(T):  # each frame is a ViT with its own CLS; masses before normalising
        R = None
        for block in attention:
            A = block["space"][:, t].mean(dim=1)
            A = (A + torch.eye(A.shape[-1])) / 2
            R = A if R is None else A @ R
        per_frame.append(R[:, 0, 1:])
    mass = torch.cat(per_frame, dim=1)
    expected = mass / mass.sum(dim=1, keepdim=True)
    torch.testing.assert_close(ro.rollout(attention, "space", grid).flatten(1), expected)


@pytest.mark.parametrize("scheme", mt.SCHEMES)
def test_uniform_attention_gives_a_uniform_map(scheme):
    model = randomize(mt.TimeSformer(nano(scheme, depth=2)), std=0.2)
    with torch.no_grad():  # q = k = 0 -> every score equal -> softmax uniform in each group
        for module in model.modules():
            if isinstance(module, mt.attention.MultiHeadAttention):
                module.qkv.weight.zero_()
                module.qkv.bias.zero_()
    relevance = ro.attention_rollout(model, torch.randn(1, 4, 3, 32, 32))
    torch.testing.assert_close(relevance, torch.full_like(relevance, 1 / relevance[0].numel()))


@pytest.mark.parametrize("scheme", mt.SCHEMES)
def test_identity_attention_gives_identity_blocks_and_a_uniform_map(scheme):
    _, _, attention, grid = _attention(scheme, depth=2)
    identity = [
        {k: torch.eye(w.shape[-1]).expand_as(w).clone() for k, w in block.items()}
        for block in attention
    ]
    for M in ro.block_matrices(identity, scheme, grid):
        torch.testing.assert_close(M, torch.eye(M.shape[-1]).expand_as(M))
    # no mass ever reaches a patch, so rollout falls back to the uniform map
    relevance = ro.rollout(identity, scheme, grid)
    torch.testing.assert_close(relevance, torch.full_like(relevance, 1 / relevance[0].numel()))


@pytest.mark.parametrize("scheme", ["joint", "divided", "local_global", "axial"])
def test_step_matrix_is_the_mixing_the_model_really_does(scheme):
    """With one head, every step's residual branch is A_step @ (its per-token values)."""
    model = randomize(mt.TimeSformer(nano(scheme, depth=1, num_heads=1)), seed=4, std=0.2)
    grid = (4, 4, 4)
    x = torch.randn(2, 1 + 4 * 16, 64)
    for step in model.blocks[0].steps.values():
        with torch.no_grad():
            out, weights = step(x, grid, need_weights=True)
            D = x.shape[-1]
            values = step.attn.proj(step.attn.qkv(step.norm(x))[..., 2 * D :])  # (B, 1+n, D)
            if step.extra is not None:
                values = step.extra(values)
        A = ro.step_matrix(weights.mean(dim=2), step.grouping, grid, step.with_cls)
        delta, expected = out - x, A @ values
        if not step.with_cls:  # added steps leave the CLS token unchanged
            torch.testing.assert_close(delta[:, 0], torch.zeros_like(delta[:, 0]))
            delta, expected = delta[:, 1:], expected[:, 1:]
        torch.testing.assert_close(delta, expected, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("scheme", mt.SCHEMES)
def test_a_query_only_sees_what_the_scheme_lets_it_see(scheme):
    _, _, attention, grid = _attention(scheme, seed=5)
    masks = mt.schemes.visibility(scheme, *grid)
    query = (1, 2, 3)
    q = (query[0] * grid[1] + query[1]) * grid[2] + query[2]
    for step, mask in masks.items():
        seen = ro.query_attention(attention, scheme, grid, layer=1, step=step, query=query)
        assert ((seen.flatten(1) > 0) == mask[q]).all()
        # the CLS key takes the rest of the row in the block's last step
        last = step == list(masks)[-1]
        total = seen.flatten(1).sum(dim=1)
        assert (total < 1).all() if last else torch.allclose(total, torch.ones(2))


def test_bad_arguments_get_one_line_errors():
    _, _, attention, grid = _attention("divided", depth=1)
    with pytest.raises(ValueError, match="head 9 out of range"):
        ro.rollout(attention, "divided", grid, head=9)
    with pytest.raises(ValueError, match="do not match scheme 'joint'"):
        ro.rollout(attention, "joint", grid)
    with pytest.raises(ValueError, match="unknown step 'width'"):
        ro.query_attention(attention, "divided", grid, 0, "width")
    with pytest.raises(ValueError, match="outside"):
        ro.query_attention(attention, "divided", grid, 0, "space", query=(9, 0, 0))


def test_object_attention_ratio_is_one_for_uniform_relevance_and_grows_with_focus():
    coverage = torch.zeros(1, 2, 4, 4)
    coverage[0, :, 1, 1] = 1.0
    coverage[0, :, 1, 2] = 0.5
    uniform = torch.full((1, 2, 4, 4), 1 / 32)
    torch.testing.assert_close(ro.object_attention_ratio(uniform, coverage), torch.ones(1))
    focused = torch.zeros(1, 2, 4, 4)
    focused[0, :, 1, 1] = 0.5  # all mass on fully covered patches: ratio = 1 / area fraction
    area = coverage.mean()
    torch.testing.assert_close(ro.object_attention_ratio(focused, coverage), 1 / area.view(1))
    masks = torch.zeros(1, 2, 32, 32)
    masks[:, :, 8:16, 8:12] = 1
    torch.testing.assert_close(ro.patch_coverage(masks, 8)[0, 0, 1, 1], torch.tensor(0.5))


def test_synthetic_object_masks_sit_on_the_generated_object():
    from mini_timesformer.data import SyntheticVideos

    dataset = SyntheticVideos("motion", size=16, seed=3)
    for index in (0, 2, 6):  # move right, move down, grow
        masks = ro.synthetic_object_masks(dataset, index)  # (T, H, W)
        states = dataset.params(index).states  # (T, 4): cx, cy, angle, radius
        ys, xs = torch.meshgrid(torch.arange(32.0), torch.arange(32.0), indexing="ij")
        for t in range(masks.shape[0]):
            m = masks[t].float()
            centre = torch.stack([(m * xs).sum(), (m * ys).sum()]) / m.sum()
            # shapes are centred on (cx, cy) up to their asymmetry (a triangle's centroid)
            assert (centre - states[t, :2]).norm() < 0.5 * states[t, 3] + 1, (index, t)
            assert m.sum() < (2 * states[t, 3] + 2) ** 2  # inside the bounding square


def test_object_attention_reports_the_ratio_of_the_rollout():
    from mini_timesformer.data import SyntheticVideos

    dataset = SyntheticVideos("motion", size=4, seed=1)
    model = randomize(mt.TimeSformer(nano("divided", depth=1, num_classes=8)), std=0.2)
    report = ro.object_attention(model, dataset, num_clips=4, batch_size=3)
    clips = torch.stack([dataset[i][0] for i in range(4)])
    video = mt.data.to_float_clip(clips, model.config.mean, model.config.std)
    coverage = ro.patch_coverage(
        torch.stack([ro.synthetic_object_masks(dataset, i) for i in range(4)]), 8
    )
    expected = ro.object_attention_ratio(ro.attention_rollout(model, video), coverage)
    assert report["clips"] == 4
    assert report["ratio_mean"] == pytest.approx(expected.mean().item(), rel=1e-5)
    assert 0 < report["object_area"] < 0.5
