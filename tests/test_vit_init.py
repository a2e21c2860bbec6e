"""ImageNet ViT initialisation (paper Appendix A) against random ``timm`` ViTs built offline.

What holds exactly right after ``from_vit`` is derived in ``mini_timesformer/vit_init.py``.
"""

from __future__ import annotations

import pytest
import torch
from helpers import randomize
from safetensors.torch import save_file
from timm.models.vision_transformer import VisionTransformer

import mini_timesformer as mt


def _vit(dim=32, depth=2, heads=4, size=32, patch=8, classes=5, seed=1):
    vit = VisionTransformer(
        img_size=size,
        patch_size=patch,
        embed_dim=dim,
        depth=depth,
        num_heads=heads,
        num_classes=classes,
    ).eval()
    randomize(vit, seed, std=0.2)
    return vit


def _vit_cfg(attention, frames=3, **kw):
    return mt.TimeSformerConfig(
        **{
            **dict(
                num_frames=frames,
                image_size=32,
                patch_size=8,
                embed_dim=32,
                depth=2,
                num_heads=4,
                num_classes=5,
                attention=attention,
            ),
            **kw,
        }
    )


@torch.no_grad()
def _vit_prenorm_cls(vit, frames):
    """The ViT's CLS token before the final LayerNorm, one per frame: (F, D)."""
    x = vit.patch_embed.proj(frames).flatten(2).transpose(1, 2)  # (F, N, D)
    pos = vit.pos_embed
    cls = (vit.cls_token + pos[:, :1]).expand(x.shape[0], -1, -1)
    x = torch.cat([cls, x + pos[:, 1:]], dim=1)  # (F, 1 + N, D)
    for block in vit.blocks:
        x = block(x)
    return x[:, 0]


def test_from_vit_space_is_frame_averaged_vit():
    vit = _vit()
    model = mt.TimeSformer.from_vit(_vit_cfg("space"), vit).eval()
    video = torch.randn(2, 3, 3, 32, 32)
    expected = vit.norm(_vit_prenorm_cls(vit, video.flatten(0, 1)).view(2, 3, -1).mean(1))
    with torch.no_grad():
        torch.testing.assert_close(model.forward_features(video), expected, atol=1e-5, rtol=0)


@pytest.mark.parametrize("attention", ["divided", "joint"])
def test_from_vit_single_frame_and_static_clip_equal_vit(attention):
    vit = _vit()
    model = mt.TimeSformer.from_vit(_vit_cfg(attention), vit).eval()
    frame = torch.randn(2, 1, 3, 32, 32)
    with torch.no_grad():
        expected = vit.forward_features(frame[:, 0])[:, 0]  # normalised CLS
        torch.testing.assert_close(model.forward_features(frame), expected, atol=1e-5, rtol=0)
        if attention == "divided":  # T identical frames: time steps add 0, CLS mean = copy
            static = frame.expand(-1, 3, -1, -1, -1)
            torch.testing.assert_close(model.forward_features(static), expected, atol=1e-5, rtol=0)


def test_from_vit_axial_on_one_patch_column_is_the_vit():
    vit = _vit(size=32)
    model = mt.TimeSformer.from_vit(_vit_cfg("axial"), vit).eval()
    column = torch.randn(2, 1, 3, 32, 8)  # 4 x 1 patch grid: height step = whole frame
    with torch.no_grad():
        x = vit.patch_embed.proj(column[:, 0]).flatten(2).transpose(1, 2)  # (B, 4, D)
        pos = mt.embed.resize_pos_embed(vit.pos_embed, (4, 1))  # same resize as the model
        x = torch.cat([(vit.cls_token + pos[:, :1]).expand(2, -1, -1), x + pos[:, 1:]], 1)
        expected = vit.norm(vit.blocks(x))[:, 0]
        torch.testing.assert_close(model.forward_features(column), expected, atol=1e-5, rtol=0)


@pytest.mark.parametrize("attention", ["divided", "local_global", "axial"])
def test_from_vit_added_steps_start_as_identity(attention):
    model = mt.TimeSformer.from_vit(_vit_cfg(attention, frames=2), _vit()).eval()
    assert not model.embed.time_embed.any()
    video = torch.randn(1, 2, 3, 32, 32)
    with torch.no_grad():
        before = model.forward_features(video)
        added = [s for b in model.blocks for s in b.steps.values() if s.extra is not None]
        assert added and all(not s.extra.weight.any() for s in added)
        for step in added:  # whatever the added attention computes, nothing changes
            randomize(step.attn, seed=7, std=0.2)
            randomize(step.norm, seed=8, std=0.2)
        torch.testing.assert_close(model.forward_features(video), before, atol=0, rtol=0)
        randomize(added[0].extra, seed=9, std=0.2)
        assert not torch.allclose(model.forward_features(video), before)


def test_from_vit_copies_weights_and_interpolates_pos_embed(tmp_path):
    from timm.layers import resample_abs_pos_embed

    vit = _vit()
    model = mt.TimeSformer.from_vit(_vit_cfg("axial", image_size=48), vit)
    expected = resample_abs_pos_embed(
        vit.pos_embed, [6, 6], num_prefix_tokens=1, interpolation="bicubic", antialias=False
    )
    torch.testing.assert_close(model.embed.pos_embed, expected)
    for step in model.blocks[1].steps.values():  # every step = the ViT attention
        assert torch.equal(step.attn.qkv.weight, vit.blocks[1].attn.qkv.weight)
        assert torch.equal(step.norm.weight, vit.blocks[1].norm1.weight)
    assert torch.equal(model.head.weight, vit.head.weight)  # 5 classes = ViT's 5
    other = mt.TimeSformer.from_vit(_vit_cfg("axial", num_classes=4), vit)
    assert other.head.out_features == 4
    torch.save(vit.state_dict(), tmp_path / "vit.pth")
    save_file(vit.state_dict(), str(tmp_path / "vit.safetensors"))
    for source in (tmp_path / "vit.pth", str(tmp_path / "vit.safetensors"), vit.state_dict()):
        again = mt.TimeSformer.from_vit(_vit_cfg("divided"), source)
        assert torch.equal(again.blocks[0].mlp.fc2.weight, vit.blocks[0].mlp.fc2.weight)


def _write_jax_npz(vit, path):
    """A timm ViT in the original JAX release's .npz layout (checked with timm's reader)."""
    import numpy as np

    s = {k: v.detach().numpy() for k, v in vit.state_dict().items()}
    D, heads = vit.embed_dim, vit.blocks[0].attn.num_heads
    out = {
        "embedding/kernel": s["patch_embed.proj.weight"].transpose(2, 3, 1, 0),
        "embedding/bias": s["patch_embed.proj.bias"],
        "cls": s["cls_token"],
        "Transformer/posembed_input/pos_embedding": s["pos_embed"],
        "Transformer/encoder_norm/scale": s["norm.weight"],
        "Transformer/encoder_norm/bias": s["norm.bias"],
        "head/kernel": s["head.weight"].T,
        "head/bias": s["head.bias"],
    }
    for i in range(len(vit.blocks)):
        b, p = f"Transformer/encoderblock_{i}/", f"blocks.{i}."
        mha = b + "MultiHeadDotProductAttention_1/"
        for j, name in enumerate(("query", "key", "value")):
            w = s[p + "attn.qkv.weight"][j * D : (j + 1) * D]  # (D_out, D_in)
            out[mha + f"{name}/kernel"] = w.T.reshape(D, heads, D // heads)
            out[mha + f"{name}/bias"] = s[p + "attn.qkv.bias"][j * D : (j + 1) * D].reshape(
                heads, D // heads
            )
        out[mha + "out/kernel"] = s[p + "attn.proj.weight"].T.reshape(heads, D // heads, D)
        out[mha + "out/bias"] = s[p + "attn.proj.bias"]
        for ln, norm in (("LayerNorm_0", "norm1"), ("LayerNorm_2", "norm2")):
            out[b + f"{ln}/scale"], out[b + f"{ln}/bias"] = (
                s[p + norm + ".weight"],
                s[p + norm + ".bias"],
            )
        for j, fc in enumerate(("fc1", "fc2")):
            out[b + f"MlpBlock_3/Dense_{j}/kernel"] = s[p + f"mlp.{fc}.weight"].T
            out[b + f"MlpBlock_3/Dense_{j}/bias"] = s[p + f"mlp.{fc}.bias"]
    np.savez(path, **out)


def test_from_vit_reads_original_jax_npz(tmp_path):
    from timm.models.vision_transformer import _load_weights

    vit = _vit()
    _write_jax_npz(vit, tmp_path / "ViT-tiny.npz")
    check = _vit(seed=5)  # reference: timm's own .npz reader gives back the same ViT
    _load_weights(check, str(tmp_path / "ViT-tiny.npz"))
    for key, value in vit.state_dict().items():
        torch.testing.assert_close(check.state_dict()[key], value, atol=0, rtol=0)
    ours = mt.TimeSformer.from_vit(_vit_cfg("divided"), tmp_path / "ViT-tiny.npz")
    expected = mt.TimeSformer.from_vit(_vit_cfg("divided"), vit)
    for key, value in expected.state_dict().items():  # head too: 5 classes = the ViT's
        torch.testing.assert_close(ours.state_dict()[key], value, atol=0, rtol=0)


@pytest.mark.parametrize("size", ["tiny", "small", "base"])
def test_from_vit_timm_families_carry_normalisation(size):
    import timm

    vit = timm.create_model(
        f"vit_{size}_patch16_224", pretrained=False, img_size=32, depth=1, num_classes=0
    )
    cfg = mt.TimeSformerConfig.preset(size, depth=1, image_size=32, num_frames=2, num_classes=10)
    model = mt.TimeSformer.from_vit(cfg, vit)
    assert model.config.mean == (0.5, 0.5, 0.5) and model.config.std == (0.5, 0.5, 0.5)
    assert torch.equal(model.embed.cls_token, vit.cls_token)


def test_from_vit_rejects_mismatches():
    vit = _vit()
    cases = [
        (dict(embed_dim=64), "ViT width 32 does not match config embed_dim 64"),
        (dict(patch_size=16), "ViT patch size 8 does not match config patch_size 16"),
        (dict(depth=3), "ViT depth 2 does not match config depth 3"),
    ]
    for change, message in cases:
        with pytest.raises(ValueError, match=message):
            mt.TimeSformer.from_vit(_vit_cfg("divided", **change), vit)
    state = {**vit.state_dict(), "blocks.0.ls1.gamma": torch.ones(32)}
    with pytest.raises(ValueError, match="unsupported ViT variant: key 'blocks.0.ls1.gamma'"):
        mt.TimeSformer.from_vit(_vit_cfg("divided"), state)


@pytest.mark.parametrize("size", [16, 48])  # 4x4 grid down to 2x2, up to 6x6
def test_pos_embed_resample_with_and_without_timm_agree(size, monkeypatch):
    import sys

    vit = _vit()
    with_timm = mt.TimeSformer.from_vit(_vit_cfg("divided", image_size=size), vit)
    monkeypatch.setitem(sys.modules, "timm.layers", None)  # as if timm were not installed
    with pytest.raises(ImportError):
        from timm.layers import resample_abs_pos_embed  # noqa: F401
    without = mt.TimeSformer.from_vit(_vit_cfg("divided", image_size=size), vit)
    assert with_timm.embed.pos_embed.shape == (1, 1 + (size // 8) ** 2, 32)
    torch.testing.assert_close(without.embed.pos_embed, with_timm.embed.pos_embed)


@pytest.mark.parametrize("attention", mt.SCHEMES)
def test_vit_key_map_reaches_every_weight_but_the_zero_ones(attention):
    from mini_timesformer.pretrained.formats import vit_key_map

    model = mt.TimeSformer(_vit_cfg(attention, frames=2))
    mapping = vit_key_map(list(model.blocks[0].steps), depth=2)
    left = set(model.state_dict()) - set(mapping)
    assert left == {"embed.time_embed"} | {k for k in model.state_dict() if ".extra." in k}
    assert set(mapping.values()) == set(_vit().state_dict())  # the ViT's keys, each used
