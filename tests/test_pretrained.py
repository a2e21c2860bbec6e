"""Checkpoint loading/saving and ImageNet ViT init, against the real reference code.

Every checkpoint is made locally from random ``transformers`` / ``timm`` models (nothing is
downloaded): HF TimeSformers of several shapes must give our model the same logits.
"""

from __future__ import annotations

import json

import pytest
import torch
import transformers
from safetensors.torch import load_file, save_file
from timm.models.vision_transformer import VisionTransformer

import mini_timesformer as mt
from mini_timesformer import pretrained as P

HF_SHAPES = [  # attention, frames, image, patch, width, depth, heads, labels
    ("divided_space_time", 4, 32, 8, 32, 2, 4, 5),
    ("divided_space_time", 3, 48, 16, 24, 3, 3, 7),
    ("joint_space_time", 2, 24, 4, 16, 1, 2, 3),
    ("space_only", 3, 32, 8, 32, 2, 2, 4),
]


def _randomize(module: torch.nn.Module, seed: int = 0) -> None:
    """Random values everywhere (LayerNorms, zero-initialised tensors too)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.randn(p.shape, generator=g) * 0.2)


def _hf_model(attention, frames, image, patch, width, depth, heads, labels):
    config = transformers.TimesformerConfig(
        image_size=image, patch_size=patch, num_frames=frames, hidden_size=width,
        num_hidden_layers=depth, num_attention_heads=heads, intermediate_size=2 * width,
        attention_type=attention, id2label={i: f"action {i}" for i in range(labels)})
    model = transformers.TimesformerForVideoClassification(config).eval()
    _randomize(model, seed=frames * 100 + width)
    return model


@torch.no_grad()
def _hf_logits(hf, video):
    """HF logits; space-only HF returns per-frame tokens, so average them before the final
    LayerNorm as the official space-only model does (see the report on HF space_only)."""
    out = hf(video, output_hidden_states=True)
    if hf.config.attention_type != "space_only":
        return out.logits
    B, T = video.shape[:2]
    last = out.hidden_states[-1]  # (B·T, 1 + N, D), before the final LayerNorm
    tokens = last.view(B, T, *last.shape[1:]).mean(dim=1)  # (B, 1 + N, D)
    return hf.classifier(hf.timesformer.layernorm(tokens)[:, 0])


@pytest.mark.parametrize("shape", HF_SHAPES, ids=lambda s: f"{s[0]}-{s[1]}x{s[2]}p{s[3]}")
def test_hf_directory_gives_same_logits(shape, tmp_path):
    attention, frames, image, patch, width, depth, heads, labels = shape
    hf = _hf_model(*shape)
    hf.save_pretrained(tmp_path)
    (tmp_path / "preprocessor_config.json").write_text(
        json.dumps({"image_mean": [0.45, 0.45, 0.45], "image_std": [0.225, 0.225, 0.225]}))
    model = mt.TimeSformer.from_pretrained(tmp_path)
    cfg = model.config
    assert (cfg.num_frames, cfg.image_size, cfg.patch_size, cfg.embed_dim, cfg.depth,
            cfg.num_heads, cfg.num_classes) == (frames, image, patch, width, depth, heads, labels)
    assert cfg.attention == mt.config.canonical_scheme(attention)
    assert cfg.label_names == [f"action {i}" for i in range(labels)]
    assert cfg.mean == (0.45, 0.45, 0.45) and cfg.std == (0.225, 0.225, 0.225)
    video = torch.randn(2, frames, 3, image, image)
    with torch.no_grad():
        ours = model(video)
    torch.testing.assert_close(ours, _hf_logits(hf, video), atol=1e-5, rtol=0)


def test_hf_joint_matches_at_other_input_sizes():
    """Both resize the space/time embeddings by nearest interpolation for new T, H', W'.
    (HF's divided layer reshapes with the config's T and W', so only joint is compared.)"""
    hf = _hf_model(*HF_SHAPES[2])  # joint, 2 frames, 24 px, patch 4
    model = mt.TimeSformer(P.config_from_hf(hf.config)).eval()
    model.load_state_dict(P.convert_hf_state_dict(hf.state_dict()))
    for frames, size in ((3, 24), (2, 36), (4, 16)):
        video = torch.randn(1, frames, 3, size, size)
        with torch.no_grad():
            torch.testing.assert_close(model(video), hf(video).logits, atol=1e-5, rtol=0)


def test_hf_bare_model_in_pytorch_model_bin(tmp_path):
    """A headless ``TimesformerModel`` (keys without the ``timesformer.`` prefix) saved as
    pytorch_model.bin: features match; without num_classes=0 the missing head is an error."""
    hf = _hf_model(*HF_SHAPES[0]).timesformer
    hf.config.save_pretrained(tmp_path)
    torch.save(hf.state_dict(), tmp_path / "pytorch_model.bin")
    with pytest.raises(ValueError, match="missing key 'head.weight'"):
        mt.TimeSformer.from_pretrained(tmp_path)
    model = mt.TimeSformer.from_pretrained(tmp_path, num_classes=0)
    video = torch.randn(1, 4, 3, 32, 32)
    with torch.no_grad():
        expected = hf(video).last_hidden_state[:, 0]  # final-normalised CLS
        torch.testing.assert_close(model(video), expected, atol=1e-5, rtol=0)


def test_hf_export_loads_strictly_into_transformers():
    hf = _hf_model(*HF_SHAPES[0])
    model = mt.TimeSformer(P.config_from_hf(hf.config))
    model.load_state_dict(P.convert_hf_state_dict(hf.state_dict()))
    fresh = transformers.TimesformerForVideoClassification(hf.config).eval()
    fresh.load_state_dict(P.to_hf_state_dict(model), strict=True)
    video = torch.randn(1, 4, 3, 32, 32)
    torch.testing.assert_close(_hf_logits(fresh, video), _hf_logits(hf, video), atol=0, rtol=0)
    assert P.config_from_hf(hf.config.to_dict()).mean == (0.5, 0.5, 0.5)  # HF conversion's


# Official .pyth layout written with its own rules (from the official key names), not ours.
_OFFICIAL_RULES = [
    ("timesformer.embeddings.patch_embeddings.projection.", "model.patch_embed.proj."),
    ("timesformer.embeddings.cls_token", "model.cls_token"),
    ("timesformer.embeddings.position_embeddings", "model.pos_embed"),
    ("timesformer.embeddings.time_embeddings", "model.time_embed"),
    ("timesformer.encoder.layer.", "model.blocks."),
    (".temporal_layernorm.", ".temporal_norm1."),
    (".temporal_attention.attention.qkv.", ".temporal_attn.qkv."),
    (".temporal_attention.output.dense.", ".temporal_attn.proj."),
    (".temporal_dense.", ".temporal_fc."),
    (".layernorm_before.", ".norm1."),
    (".attention.attention.qkv.", ".attn.qkv."),
    (".attention.output.dense.", ".attn.proj."),
    (".layernorm_after.", ".norm2."),
    (".intermediate.dense.", ".mlp.fc1."),
    (".output.dense.", ".mlp.fc2."),
    ("timesformer.layernorm.", "model.norm."),
    ("classifier.", "model.head."),
]


def _official_from_hf(hf) -> dict:
    state = {}
    for key, value in hf.state_dict().items():
        for old, new in _OFFICIAL_RULES:
            key = key.replace(old, new)
        state[key] = value.clone()
    return state


@pytest.mark.parametrize("index", [0, 3], ids=["divided", "space_only"])
def test_official_pyth_gives_same_logits(index, tmp_path):
    shape = HF_SHAPES[index]
    attention, frames, image, _, _, _, heads, labels = shape
    hf = _hf_model(*shape)
    cfg_text = ("DATA:\n  MEAN: [0.45, 0.45, 0.45]\n  STD: [0.225, 0.225, 0.225]\n"
                f"  NUM_FRAMES: {frames}\nTIMESFORMER:\n  ATTENTION_TYPE: {attention}\n")
    path = tmp_path / "TimeSformer.pyth"
    torch.save({"epoch": 15, "model_state": _official_from_hf(hf), "cfg": cfg_text}, path)
    model = mt.TimeSformer.from_pretrained(path, num_heads=heads)
    assert model.config.num_classes == labels and model.config.num_frames == frames
    assert model.config.mean == (0.45, 0.45, 0.45)
    video = torch.randn(2, frames, 3, image, image)
    with torch.no_grad():
        torch.testing.assert_close(model(video), _hf_logits(hf, video), atol=1e-5, rtol=0)
    back = P.to_official_state_dict(model)["model_state"]
    assert set(back) == set(_official_from_hf(hf))


def test_official_without_cfg_infers_from_weights(tmp_path):
    hf = _hf_model(*HF_SHAPES[1])  # width 24 -> heads cannot come from the weights
    path = tmp_path / "ckpt.pyth"
    torch.save({"model_state": _official_from_hf(hf)}, path)
    with pytest.raises(ValueError, match="not divisible|embed_dim"):
        mt.TimeSformer.from_pretrained(path, num_heads=5)
    model = mt.TimeSformer.from_pretrained(path, num_heads=3)
    assert model.config.attention == "divided" and model.config.depth == 3
    assert model.config.image_size == 48 and model.config.patch_size == 16


def _small_cfg(attention, **kw):
    return mt.TimeSformerConfig(**{**dict(num_frames=2, image_size=16, patch_size=8,
                                          embed_dim=16, depth=2, num_heads=2, num_classes=3,
                                          attention=attention), **kw})


@pytest.mark.parametrize("attention", mt.SCHEMES)
def test_save_pretrained_round_trips_exactly(attention, tmp_path):
    cfg = _small_cfg(attention, label_names=["a", "b", "c"], mean=(0.5,) * 3, std=(0.25,) * 3)
    model = mt.TimeSformer(cfg).eval()
    _randomize(model)
    model.save_pretrained(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config.json", "model.safetensors"]
    loaded = mt.TimeSformer.from_pretrained(tmp_path)
    assert loaded.config == cfg
    for key, value in model.state_dict().items():
        assert torch.equal(loaded.state_dict()[key], value), key
    video = torch.randn(1, 2, 3, 16, 16)
    with torch.no_grad():
        assert torch.equal(loaded(video), model(video))


def test_training_checkpoint_loads(tmp_path):
    from mini_timesformer.checkpoint import save_checkpoint

    model = mt.TimeSformer(_small_cfg("divided")).eval()
    path = save_checkpoint(tmp_path / "last.pt", model=model, classes=["x", "y", "z"])
    loaded = mt.TimeSformer.from_pretrained(path)
    assert loaded.config.label_names == ["x", "y", "z"]
    assert all(torch.equal(loaded.state_dict()[k], v) for k, v in model.state_dict().items())


def test_new_num_classes_replaces_only_the_head(tmp_path):
    model = mt.TimeSformer(_small_cfg("divided", label_names=["a", "b", "c"]))
    model.save_pretrained(tmp_path)
    loaded = mt.TimeSformer.from_pretrained(tmp_path, num_classes=7)
    assert loaded.head.out_features == 7 and loaded.config.label_names is None
    assert torch.equal(loaded.embed.pos_embed, model.embed.pos_embed)


def test_mismatched_checkpoints_get_one_line_errors(tmp_path):
    model = mt.TimeSformer(_small_cfg("divided"))
    model.save_pretrained(tmp_path)
    with pytest.raises(ValueError, match=r"missing key 'blocks\.2\..*expected shape") as err:
        mt.TimeSformer.from_pretrained(tmp_path, depth=3)
    assert "\n" not in str(err.value)
    state = load_file(str(tmp_path / "model.safetensors"))
    state["embed.pos_embed"] = torch.zeros(1, 9, 16)
    save_file(state, str(tmp_path / "model.safetensors"))
    with pytest.raises(ValueError, match=r"'embed.pos_embed' has shape \(1, 9, 16\), "
                                         r"expected \(1, 5, 16\)"):
        mt.TimeSformer.from_pretrained(tmp_path)
    state["embed.pos_embed"], state["blocks.0.extra_thing"] = torch.zeros(1, 5, 16), torch.ones(1)
    save_file(state, str(tmp_path / "model.safetensors"))
    with pytest.raises(ValueError, match=r"unexpected key 'blocks.0.extra_thing'"):
        mt.TimeSformer.from_pretrained(tmp_path)
    hf_state = P.to_hf_state_dict(model)
    hf_state["timesformer.encoder.layer.0.surprise.weight"] = torch.ones(1)
    with pytest.raises(ValueError, match="unexpected key 'timesformer.encoder.layer.0.surprise"):
        P.convert_hf_state_dict(hf_state)
    with pytest.raises(ValueError, match="no Hugging Face or official checkpoint layout"):
        P.to_hf_state_dict(mt.TimeSformer(_small_cfg("axial")))
    with pytest.raises(FileNotFoundError, match="no checkpoint at"):
        mt.TimeSformer.from_pretrained(tmp_path / "nope")


def test_label_names():
    from torchvision.models._meta import _KINETICS400_CATEGORIES

    names = P.load_label_names("kinetics400")
    assert names == list(_KINETICS400_CATEGORIES) and len(set(names)) == 400
    with pytest.raises(ValueError, match="unknown label set 'imagenet'"):
        P.load_label_names("imagenet")
    assert P.label_names_for(_small_cfg("space", num_classes=400))[1] == "kinetics400"
    assert P.label_names_for(_small_cfg("space"))[0] == ["class_0", "class_1", "class_2"]


# ------------------------------------------------------------------ ImageNet ViT init
def _vit(dim=32, depth=2, heads=4, size=32, patch=8, classes=5, seed=1):
    vit = VisionTransformer(img_size=size, patch_size=patch, embed_dim=dim, depth=depth,
                            num_heads=heads, num_classes=classes).eval()
    _randomize(vit, seed)
    return vit


def _vit_cfg(attention, frames=3, **kw):
    return mt.TimeSformerConfig(**{**dict(num_frames=frames, image_size=32, patch_size=8,
                                          embed_dim=32, depth=2, num_heads=4, num_classes=5,
                                          attention=attention), **kw})


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
            torch.testing.assert_close(model.forward_features(static), expected,
                                       atol=1e-5, rtol=0)


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
            _randomize(step.attn, seed=7)
            _randomize(step.norm, seed=8)
        torch.testing.assert_close(model.forward_features(video), before, atol=0, rtol=0)
        _randomize(added[0].extra, seed=9)
        assert not torch.allclose(model.forward_features(video), before)


def test_from_vit_copies_weights_and_interpolates_pos_embed(tmp_path):
    from timm.layers import resample_abs_pos_embed

    vit = _vit()
    model = mt.TimeSformer.from_vit(_vit_cfg("axial", image_size=48), vit)
    expected = resample_abs_pos_embed(vit.pos_embed, [6, 6], num_prefix_tokens=1,
                                      interpolation="bicubic", antialias=False)
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
    out = {"embedding/kernel": s["patch_embed.proj.weight"].transpose(2, 3, 1, 0),
           "embedding/bias": s["patch_embed.proj.bias"], "cls": s["cls_token"],
           "Transformer/posembed_input/pos_embedding": s["pos_embed"],
           "Transformer/encoder_norm/scale": s["norm.weight"],
           "Transformer/encoder_norm/bias": s["norm.bias"],
           "head/kernel": s["head.weight"].T, "head/bias": s["head.bias"]}
    for i in range(len(vit.blocks)):
        b, p = f"Transformer/encoderblock_{i}/", f"blocks.{i}."
        mha = b + "MultiHeadDotProductAttention_1/"
        for j, name in enumerate(("query", "key", "value")):
            w = s[p + "attn.qkv.weight"][j * D:(j + 1) * D]  # (D_out, D_in)
            out[mha + f"{name}/kernel"] = w.T.reshape(D, heads, D // heads)
            out[mha + f"{name}/bias"] = s[p + "attn.qkv.bias"][j * D:(j + 1) * D].reshape(
                heads, D // heads)
        out[mha + "out/kernel"] = s[p + "attn.proj.weight"].T.reshape(heads, D // heads, D)
        out[mha + "out/bias"] = s[p + "attn.proj.bias"]
        for ln, norm in (("LayerNorm_0", "norm1"), ("LayerNorm_2", "norm2")):
            out[b + f"{ln}/scale"], out[b + f"{ln}/bias"] = (s[p + norm + ".weight"],
                                                             s[p + norm + ".bias"])
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

    vit = timm.create_model(f"vit_{size}_patch16_224", pretrained=False, img_size=32, depth=1,
                            num_classes=0)
    cfg = mt.TimeSformerConfig.preset(size, depth=1, image_size=32, num_frames=2,
                                      num_classes=10)
    model = mt.TimeSformer.from_vit(cfg, vit)
    assert model.config.mean == (0.5, 0.5, 0.5) and model.config.std == (0.5, 0.5, 0.5)
    assert torch.equal(model.embed.cls_token, vit.cls_token)


def test_from_vit_rejects_mismatches():
    vit = _vit()
    cases = [(dict(embed_dim=64), "ViT width 32 does not match config embed_dim 64"),
             (dict(patch_size=16), "ViT patch size 8 does not match config patch_size 16"),
             (dict(depth=3), "ViT depth 2 does not match config depth 3")]
    for change, message in cases:
        with pytest.raises(ValueError, match=message):
            mt.TimeSformer.from_vit(_vit_cfg("divided", **change), vit)
    state = {**vit.state_dict(), "blocks.0.ls1.gamma": torch.ones(32)}
    with pytest.raises(ValueError, match="unsupported ViT variant: key 'blocks.0.ls1.gamma'"):
        mt.TimeSformer.from_vit(_vit_cfg("divided"), state)
