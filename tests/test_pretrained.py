"""Checkpoint loading and saving, against the real reference code (``transformers``).

Every checkpoint is made locally from random models (nothing is downloaded): HF
TimeSformers of several shapes must give our model the same logits; the official .pyth
layout is written from them with its own renaming rules.
"""

from __future__ import annotations

import json

import pytest
import torch
import transformers
from helpers import randomize
from safetensors.torch import load_file, save_file

import mini_timesformer as mt
from mini_timesformer import pretrained as P

HF_SHAPES = [  # attention, frames, image, patch, width, depth, heads, labels
    ("divided_space_time", 4, 32, 8, 32, 2, 4, 5),
    ("divided_space_time", 3, 48, 16, 24, 3, 3, 7),
    ("joint_space_time", 2, 24, 4, 16, 1, 2, 3),
    ("space_only", 3, 32, 8, 32, 2, 2, 4),
]


def _hf_model(attention, frames, image, patch, width, depth, heads, labels):
    config = transformers.TimesformerConfig(
        image_size=image,
        patch_size=patch,
        num_frames=frames,
        hidden_size=width,
        num_hidden_layers=depth,
        num_attention_heads=heads,
        intermediate_size=2 * width,
        attention_type=attention,
        id2label={i: f"action {i}" for i in range(labels)},
    )
    model = transformers.TimesformerForVideoClassification(config).eval()
    randomize(model, seed=frames * 100 + width, std=0.2)
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
        json.dumps({"image_mean": [0.45, 0.45, 0.45], "image_std": [0.225, 0.225, 0.225]})
    )
    model = mt.TimeSformer.from_pretrained(tmp_path)
    cfg = model.config
    assert (
        cfg.num_frames,
        cfg.image_size,
        cfg.patch_size,
        cfg.embed_dim,
        cfg.depth,
        cfg.num_heads,
        cfg.num_classes,
    ) == (frames, image, patch, width, depth, heads, labels)
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
    cfg_text = (
        "DATA:\n  MEAN: [0.45, 0.45, 0.45]\n  STD: [0.225, 0.225, 0.225]\n"
        f"  NUM_FRAMES: {frames}\nTIMESFORMER:\n  ATTENTION_TYPE: {attention}\n"
    )
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
    return mt.TimeSformerConfig(
        **{
            **dict(
                num_frames=2,
                image_size=16,
                patch_size=8,
                embed_dim=16,
                depth=2,
                num_heads=2,
                num_classes=3,
                attention=attention,
            ),
            **kw,
        }
    )


@pytest.mark.parametrize("attention", mt.SCHEMES)
def test_save_pretrained_round_trips_exactly(attention, tmp_path):
    cfg = _small_cfg(attention, label_names=["a", "b", "c"], mean=(0.5,) * 3, std=(0.25,) * 3)
    model = mt.TimeSformer(cfg).eval()
    randomize(model, std=0.2)
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
    from mini_timesformer.train.checkpoint import save_checkpoint

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
    with pytest.raises(
        ValueError,
        match=r"'embed.pos_embed' has shape \(1, 9, 16\), "
        r"expected \(1, 5, 16\)",
    ):
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


def test_unreadable_files_are_user_errors(tmp_path):
    """A broken config.json or weights file is bad input (one line), not a traceback."""
    from mini_timesformer.errors import UserError

    mt.TimeSformer(_small_cfg("divided")).save_pretrained(tmp_path)
    (tmp_path / "model.safetensors").write_bytes(b"half a file")
    with pytest.raises(UserError, match=r"model\.safetensors: not a readable weights file"):
        mt.TimeSformer.from_pretrained(tmp_path)
    (tmp_path / "config.json").write_text("{not json")
    with pytest.raises(UserError, match=r"config\.json: not valid JSON"):
        mt.TimeSformer.from_pretrained(tmp_path)
    (tmp_path / "run.pt").write_bytes(b"not a pickle")
    with pytest.raises(UserError, match="not a readable PyTorch checkpoint"):
        mt.TimeSformer.from_pretrained(tmp_path / "run.pt")
