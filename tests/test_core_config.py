"""TimeSformerConfig: presets, overrides, aliases and one-line errors."""

import pytest

import mini_timesformer as mt


def test_presets_have_the_vit_dimensions():
    dims = {
        name: (
            mt.TimeSformerConfig.preset(name).embed_dim,
            mt.TimeSformerConfig.preset(name).num_heads,
        )
        for name in ("tiny", "small", "base")
    }
    assert dims == {"tiny": (192, 3), "small": (384, 6), "base": (768, 12)}
    base = mt.TimeSformerConfig.preset("base")
    assert (base.num_frames, base.image_size, base.patch_size, base.depth) == (8, 224, 16, 12)
    assert base.num_patches == 196


def test_any_field_can_be_overridden():
    cfg = mt.TimeSformerConfig.preset(
        "base", attention="axial", num_frames=16, image_size=448, num_classes=174
    )
    assert (cfg.attention, cfg.num_frames, cfg.image_size, cfg.num_classes) == (
        "axial",
        16,
        448,
        174,
    )
    assert cfg.replace(depth=2).depth == 2 and cfg.depth == 12


@pytest.mark.parametrize(
    "alias,name",
    [("space_only", "space"), ("joint_space_time", "joint"), ("divided_space_time", "divided")],
)
def test_official_names_are_aliases(alias, name):
    assert mt.TimeSformerConfig.preset("nano", attention=alias).attention == name


def test_dict_round_trip():
    cfg = mt.TimeSformerConfig.preset("nano", num_classes=3, label_names=["a", "b", "c"])
    assert mt.TimeSformerConfig.from_dict(cfg.to_dict()) == cfg


@pytest.mark.parametrize(
    "kwargs,message",
    [
        (dict(attention="spatial"), "unknown attention scheme 'spatial'"),
        (dict(embed_dim=100, num_heads=3), "embed_dim 100 is not divisible by num_heads 3"),
        (dict(image_size=36), "image_size 36 is not a multiple of patch_size 8"),
        (dict(depth=0), "depth must be a positive integer"),
        (dict(dropout=1.5), "dropout must be in [0, 1)"),
        (dict(num_classes=2, label_names=["a"]), "1 label_names for 2 classes"),
        (dict(attention="local_global", image_size=24), "local_global needs an even patch grid"),
        (dict(attention="local_global", num_frames=3), "even number of frames"),
    ],
)
def test_bad_fields_give_one_line_errors(kwargs, message):
    with pytest.raises(ValueError) as err:
        mt.TimeSformerConfig.preset("nano", **kwargs)
    assert message in str(err.value) and "\n" not in str(err.value)


def test_unknown_preset_and_field():
    with pytest.raises(ValueError, match="unknown preset 'huge'; expected one of: nano"):
        mt.TimeSformerConfig.preset("huge")
    with pytest.raises(ValueError, match="unknown config field 'frames'"):
        mt.TimeSformerConfig.preset("nano", frames=8)


def test_runs_dir_honours_the_home_variable_and_the_notebooks_folder(tmp_path, monkeypatch):
    from mini_timesformer.runtime import runs_dir

    monkeypatch.setenv("MINI_TIMESFORMER_HOME", str(tmp_path))
    assert runs_dir("course-06") == tmp_path / "course-06"
    monkeypatch.delenv("MINI_TIMESFORMER_HOME")
    (tmp_path / "notebooks").mkdir()
    monkeypatch.chdir(tmp_path / "notebooks")  # where Jupyter starts a lesson's kernel
    assert runs_dir("x").resolve() == (tmp_path / "runs" / "x").resolve()
