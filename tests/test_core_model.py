"""The model against an independent, loop-and-mask reference, and its properties."""

import pytest
import torch

import mini_timesformer as mt
from mini_timesformer.embed import resize_pos_embed, resize_time_embed
from tests.helpers import nano, randomize

# ----------------------------------------------------------------------------- reference
# Written from the paper's definitions with explicit loops and visibility masks, sharing
# only the weights with the package: patch embedding as a Linear on flattened patches,
# attention as masked softmax(QKᵀ/√d)V, the CLS copied into each group and averaged.


# The steps of each scheme and who sees whom, from the paper's §3 / Fig. 1-2 (local-global:
# our documented choice of fixed 2×2 quadrant windows), built here without mt.schemes.
PAPER_STEPS = {
    "space": ("space",),
    "joint": ("joint",),
    "divided": ("time", "space"),
    "local_global": ("local", "global"),
    "axial": ("time", "width", "height"),
}


def paper_masks(scheme, T, h, w):
    """{step: (T·N, T·N) bool}, entry [i, j]: token i may attend to token j (time-major)."""
    t, y, x = torch.meshgrid(torch.arange(T), torch.arange(h), torch.arange(w), indexing="ij")
    t, y, x = t.flatten(), y.flatten(), x.flatten()  # (T·N,) coordinates of every token

    def same(a):
        return a[:, None] == a[None, :]

    rule = {
        "space": same(t),
        "joint": torch.ones(len(t), len(t), dtype=torch.bool),
        "time": same(y) & same(x),
        "width": same(t) & same(y),
        "height": same(t) & same(x),
        "local": same(y // (h // 2)) & same(x // (w // 2)),
        "global": same(t % 2) & same(y % 2) & same(x % 2),
    }
    return {step: rule[step] for step in PAPER_STEPS[scheme]}


def ref_attention(attn, queries, keys):
    """Multi-head attention of ``queries`` (Lq, D) over ``keys`` (Lk, D), explicit."""
    D, H = queries.shape[-1], attn.num_heads
    W, b = attn.qkv.weight, attn.qkv.bias
    q = queries @ W[:D].T + b[:D]
    k = keys @ W[D : 2 * D].T + b[D : 2 * D]
    v = keys @ W[2 * D :].T + b[2 * D :]
    outs = []
    for h in range(H):
        s = slice(h * D // H, (h + 1) * D // H)
        weights = torch.softmax(q[:, s] @ k[:, s].T / (D // H) ** 0.5, dim=-1)
        outs.append(weights @ v[:, s])
    return attn.proj(torch.cat(outs, dim=-1))


def ref_step(step, x, mask):
    """One attention step on one clip x (1 + T·N, D) with visibility mask (T·N, T·N)."""
    y = step.norm(x)
    cls, patches = y[:1], y[1:]
    out = torch.stack(
        [
            ref_attention(
                step.attn,
                patches[i : i + 1],
                torch.cat([cls, patches[mask[i]]]) if step.with_cls else patches[mask[i]],
            )[0]
            for i in range(len(patches))
        ]
    )
    if step.extra is not None:  # added step: CLS untouched, extra Linear on the output
        return torch.cat([x[:1], x[1:] + step.extra(out)])
    groups = torch.unique(mask, dim=0)  # one row per group
    cls_out = torch.stack(
        [ref_attention(step.attn, cls, torch.cat([cls, patches[g]]))[0] for g in groups]
    ).mean(0, keepdim=True)
    return x + torch.cat([cls_out, out])


def ref_forward(model, video):
    cfg, emb = model.config, model.embed
    B, T, C, H, W = video.shape
    P, D = cfg.patch_size, cfg.embed_dim
    h, w = H // P, W // P
    # (B, T, C, h, P, w, P) -> (B, T, h·w, C·P·P): flattened patches, row-major grid
    flat = video.reshape(B, T, C, h, P, w, P).permute(0, 1, 3, 5, 2, 4, 6).reshape(B, T, h * w, -1)
    tokens = flat @ emb.patch_embed.proj.weight.reshape(D, -1).T + emb.patch_embed.proj.bias
    tokens = tokens + emb.pos_embed[:, 1:]  # (B, T, N, D)
    cls = (emb.cls_token + emb.pos_embed[:, :1])[0]  # (1, D)
    logits = []
    for b in range(B):
        if cfg.attention == "space":  # a ViT on every frame, final tokens averaged
            mask = paper_masks("space", 1, h, w)["space"]
            finals = []
            for t in range(T):
                x = torch.cat([cls, tokens[b, t]])
                for block in model.blocks:
                    x = ref_step(block.steps["space"], x, mask)
                    x = x + block.mlp(block.norm(x))
                finals.append(x)
            x = torch.stack(finals).mean(0)
        else:
            masks = paper_masks(cfg.attention, T, h, w)
            x = torch.cat([cls, (tokens[b] + emb.time_embed[0, :, None]).reshape(T * h * w, D)])
            for block in model.blocks:
                for name, step in block.steps.items():
                    x = ref_step(step, x, masks[name])
                x = x + block.mlp(block.norm(x))
        logits.append(model.head(model.norm(x)[0]))
    return torch.stack(logits)


@pytest.mark.parametrize("scheme", mt.SCHEMES)
def test_model_equals_the_loop_reference(scheme):
    torch.manual_seed(0)
    model = randomize(mt.TimeSformer(nano(scheme, depth=2)), std=0.1)
    video = torch.randn(2, 4, 3, 32, 32)
    cfg_frames = model.embed.time_embed.shape[1]
    model.embed.time_embed.data = model.embed.time_embed.data[:, :4]  # learned for 4 frames
    with torch.no_grad():
        torch.testing.assert_close(model(video), ref_forward(model, video), atol=2e-5, rtol=1e-4)
    assert cfg_frames == 8


# ---------------------------------------------------------------------------- properties
def test_token_layout_is_cls_then_time_major():
    """Token 1 + t·N + n holds frame t's patch n (row-major over the patch grid)."""
    model = mt.TimeSformer(nano())
    emb = model.embed
    with torch.no_grad():
        emb.pos_embed.zero_(), emb.time_embed.zero_(), emb.cls_token.zero_()
        emb.patch_embed.proj.bias.zero_()
    N, P = 16, 8
    for t, n in [(0, 0), (2, 5), (7, 15)]:
        video = torch.zeros(1, 8, 3, 32, 32)
        row, col = divmod(n, 4)
        video[0, t, :, row * P : (row + 1) * P, col * P : (col + 1) * P] = 1.0
        tokens, grid = emb(video)
        assert grid == (8, 4, 4) and tokens.shape == (1, 1 + 8 * N, 64)
        nonzero = tokens[0].abs().sum(-1).nonzero().flatten().tolist()
        assert nonzero == [1 + t * N + n]


@pytest.mark.parametrize("scheme", mt.SCHEMES)
def test_fast_path_equals_explicit_path_and_rows_sum_to_one(scheme):
    model = randomize(mt.TimeSformer(nano(scheme)), std=0.2)
    video = torch.randn(2, 8, 3, 32, 32)
    with torch.no_grad():
        fast = model(video)
        explicit, attention = model.forward_with_attention(video)
    torch.testing.assert_close(fast, explicit, atol=1e-5, rtol=1e-5)
    assert len(attention) == model.config.depth
    assert list(attention[0]) == list(mt.schemes.STEPS[scheme])
    for weights in attention[0].values():
        B, G, heads, L, L2 = weights.shape
        assert (B, heads, L) == (2, 4, L2)
        torch.testing.assert_close(weights.sum(-1), torch.ones(B, G, heads, L))


@pytest.mark.parametrize(
    "scheme,expected",
    [
        ("space", {"space": (8, 17)}),
        ("joint", {"joint": (1, 129)}),
        ("divided", {"time": (16, 8), "space": (8, 17)}),
        ("local_global", {"local": (4, 32), "global": (8, 17)}),
        ("axial", {"time": (16, 8), "width": (32, 4), "height": (32, 5)}),
    ],
)
def test_attention_shapes_documented_per_step(scheme, expected):
    """(B, G, heads, L, L): G groups of L tokens; L counts the CLS copy in the last step."""
    model = mt.TimeSformer(nano(scheme)).eval()
    _, attention = model.forward_with_attention(torch.randn(1, 8, 3, 32, 32))
    assert {k: (w.shape[1], w.shape[3]) for k, w in attention[-1].items()} == expected


@pytest.mark.parametrize("scheme", mt.SCHEMES)
def test_visibility_matches_the_modules(scheme):
    """Perturb one input token of a single step: exactly the visible outputs change."""
    T, h, w = 4, 4, 4
    model = randomize(mt.TimeSformer(nano(scheme, num_frames=T)), std=0.05)  # soft attention
    masks = paper_masks(scheme, T, h, w)
    D = model.config.embed_dim
    for name, step in model.blocks[0].steps.items():
        if scheme == "space":  # frames folded into the batch, one CLS each
            x = torch.randn(T, 1 + h * w, D)
            run = lambda x, step=step: step(x, (1, h, w))[0][:, 1:].reshape(T * h * w, D)
        else:
            x = torch.randn(1, 1 + T * h * w, D)
            run = lambda x, step=step: step(x, (T, h, w))[0][0, 1:]
        with torch.no_grad():  # (a random bump: a constant shift would vanish in LayerNorm)
            base = run(x)
            for j in [0, 5, 21, T * h * w - 1]:
                bumped = x.clone()
                if scheme == "space":
                    bumped[j // (h * w), 1 + j % (h * w)] += torch.randn(D)
                else:
                    bumped[0, 1 + j] += torch.randn(D)
                changed = (run(bumped) - base).abs().amax(-1) > 1e-6
                assert torch.equal(changed, masks[name][:, j]), (scheme, name, j)


@pytest.mark.parametrize("scheme", mt.SCHEMES)
def test_package_visibility_equals_the_paper_masks(scheme):
    for T, h, w in [(4, 4, 4), (2, 6, 4), (8, 2, 2)]:
        got = mt.schemes.visibility(scheme, T, h, w)
        want = paper_masks(scheme, T, h, w)
        assert list(got) == list(want) and all(torch.equal(got[k], want[k]) for k in want)


def test_visibility_counts_match_the_paper():
    T, h, w = 8, 14, 14
    N = h * w
    seen = {k: int(m[0].sum()) for k, m in mt.schemes.visibility("divided", T, h, w).items()}
    assert seen == {"time": T, "space": N}
    assert int(mt.schemes.visibility("joint", T, h, w)["joint"][0].sum()) == T * N
    axial = mt.schemes.visibility("axial", T, h, w)
    assert [int(m[0].sum()) for m in axial.values()] == [T, w, h]
    lg = mt.schemes.visibility("local_global", T, h, w)
    assert int(lg["local"][0].sum()) == T * N // 4 and int(lg["global"][0].sum()) == T * N // 8
    # global: token (t=0, h=0, w=0) sees (2, 2, 4) but not (1, 0, 0)
    assert lg["global"][0, 2 * N + 2 * w + 4] and not lg["global"][0, N]


def test_space_only_is_blind_to_frame_order_and_the_others_are_not():
    video = torch.randn(2, 8, 3, 32, 32)
    reverse = video.flip(1)
    for scheme in mt.SCHEMES:
        model = randomize(mt.TimeSformer(nano(scheme)), std=0.1)
        with torch.no_grad():
            gap = (model(video) - model(reverse)).abs().max().item()
            if scheme == "space":
                assert gap < 1e-5
            else:
                assert gap > 1e-3, scheme
                model.embed.time_embed.zero_()  # without a time embedding (paper Table 4)…
                if scheme != "local_global":  # …only L+G's stride-2 time grouping sees order
                    assert (model(video) - model(reverse)).abs().max().item() < 1e-4


@pytest.mark.parametrize("scheme", mt.SCHEMES)
@pytest.mark.parametrize("preset", ["nano", "tiny", "small", "base"])
def test_every_preset_and_scheme(preset, scheme):
    """Full-width models with one block, run on a small clip (embeddings interpolated)."""
    cfg = mt.TimeSformerConfig.preset(preset, attention=scheme, depth=1, num_classes=7)
    model = mt.TimeSformer(cfg).eval()
    side = 4 * cfg.patch_size
    with torch.no_grad():
        assert model(torch.randn(2, 2, 3, side, side)).shape == (2, 7)


@pytest.mark.parametrize("scheme", mt.SCHEMES)
def test_other_frame_counts_and_sizes_run(scheme):
    model = mt.TimeSformer(nano(scheme)).eval()
    with torch.no_grad():
        for T, H, W in [(4, 32, 32), (16, 64, 48), (2, 16, 16)]:
            assert model(torch.randn(1, T, 3, H, W)).shape == (1, 5)


def test_embedding_interpolation_is_nearest_and_identity_at_config_size():
    pos = torch.randn(1, 1 + 4, 3)  # 2×2 grid
    assert resize_pos_embed(pos, (2, 2)) is pos
    up = resize_pos_embed(pos, (4, 4))[0, 1:].reshape(4, 4, 3)
    grid = pos[0, 1:].reshape(2, 2, 3)
    torch.testing.assert_close(up, grid.repeat_interleave(2, 0).repeat_interleave(2, 1))
    time = torch.randn(1, 4, 3)
    torch.testing.assert_close(resize_time_embed(time, 8)[0], time[0].repeat_interleave(2, 0))


def test_deterministic_under_a_seed_and_stochastic_depth_only_in_training():
    video = torch.randn(2, 8, 3, 32, 32)
    outs = []
    for _ in range(2):
        torch.manual_seed(3)
        outs.append(mt.TimeSformer(nano(drop_path_rate=0.5)).eval()(video))
    torch.testing.assert_close(outs[0], outs[1], rtol=0, atol=0)
    model = randomize(mt.TimeSformer(nano(drop_path_rate=0.5)), std=0.1).train()
    torch.manual_seed(0)
    a = model(video)
    torch.manual_seed(1)
    assert not torch.allclose(a, model(video))


def test_initialisation_follows_vit_and_the_paper():
    model = mt.TimeSformer(mt.TimeSformerConfig.preset("small", depth=2, attention="axial"))
    assert model.embed.time_embed.abs().sum() == 0
    for block in model.blocks:
        extras = [s.extra for s in block.steps.values()]
        assert extras[-1] is None and all(e.weight.abs().sum() == 0 for e in extras[:-1])
    weight = model.blocks[0].mlp.fc1.weight  # trunc_normal_(std=0.02) cuts at ±2 (absolute)
    assert abs(weight.std().item() - 0.02) < 0.002 and model.blocks[0].mlp.fc1.bias.abs().sum() == 0


def test_space_scheme_keeps_an_unused_frozen_time_embedding():
    model = mt.TimeSformer(nano("space"))
    assert not model.embed.time_embed.requires_grad
    with torch.no_grad():
        video = torch.randn(1, 8, 3, 32, 32)
        before = model(video)
        model.embed.time_embed.normal_()
        torch.testing.assert_close(model(video), before)


@pytest.mark.parametrize(
    "shape,message",
    [
        ((1, 8, 32, 32), "expected a video batch of shape (B, T, 3, H, W), got (1, 8, 32, 32)"),
        ((1, 8, 1, 32, 32), "expected 3 channels at dim 2 of (B, T, C, H, W), got 1"),
        ((1, 3, 8, 32, 32), "expected 3 channels at dim 2"),
        ((1, 8, 3, 30, 32), "frame size 30×32 is not a multiple of the patch size 8"),
    ],
)
def test_bad_inputs_give_one_line_errors(shape, message):
    model = mt.TimeSformer(nano())
    with pytest.raises(ValueError) as err:
        model(torch.randn(*shape))
    assert message in str(err.value) and "\n" not in str(err.value)


def test_local_global_rejects_grids_it_cannot_split():
    model = mt.TimeSformer(nano("local_global"))
    with pytest.raises(ValueError, match="local_global needs an even patch grid.*T=3"):
        model(torch.randn(1, 3, 3, 32, 32))
    with pytest.raises(ValueError, match="H'=3"):
        model(torch.randn(1, 8, 3, 24, 32))
    assert model(torch.randn(1, 1, 3, 32, 32)).shape == (1, 5)  # a single frame is fine
