"""The one strict model loader, and our own save format.

* ``load_pretrained(TimeSformer, path)`` reads a Hugging Face TimeSformer directory, an
  official ``.pyth`` file, our ``save_pretrained`` directory, or a ``mini-timesformer
  train`` checkpoint / run directory, builds the matching config and loads the weights
  strictly (one-line errors naming the first bad key). The key mapping between the layouts
  is the table in ``formats.py``. Users call it as ``TimeSformer.from_pretrained(path)``.
* ``save_pretrained(model, dir)`` writes ``config.json`` + ``model.safetensors``, each
  atomically (``runtime.atomic_write``).

The model class says which of our models it is: ``model_class.config_class`` builds its
config and ``model_class.model_type`` names it in ``config.json`` and in checkpoints
(``mini-timesformer`` for the TimeSformer, ``mini-timesformer-cnn`` for ``cnn.VideoResNet``;
``saved_model_type(path)`` reads it, so a caller can pick the class).

The model class is an argument: this package never imports ``model.py`` (which imports
``pretrained.mixin``), so the imports stay one-way.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch

from ..config import TimeSformerConfig
from ..errors import MissingPathError, UserError
from ..runtime import atomic_write, atomic_write_text, last_checkpoint
from .formats import (
    config_from_hf,
    config_from_official,
    convert_hf_state_dict,
    convert_official_state_dict,
)

OUR_MODEL_TYPE = "mini-timesformer"
OUR_MODEL_TYPES = (OUR_MODEL_TYPE, "mini-timesformer-cnn")  # TimeSformer, cnn.VideoResNet

__all__ = [
    "load_pretrained",
    "save_pretrained",
    "load_state_dict_strict",
    "OUR_MODEL_TYPE",
    "OUR_MODEL_TYPES",
    "saved_model_type",
]


# ------------------------------------------------------------------ strict loading
def load_state_dict_strict(model: torch.nn.Module, state: dict, source: str = "checkpoint"):
    """``model.load_state_dict(state)`` with one-line errors naming the first bad key."""
    expected = model.state_dict()
    for key, tensor in expected.items():
        if key not in state:
            raise UserError(
                f"{source}: missing key {key!r} (expected shape "
                f"{tuple(tensor.shape)}); the checkpoint does not fit this config"
            )
    for key in state:
        if key not in expected:
            raise UserError(
                f"{source}: unexpected key {key!r}; the model has no such "
                f"parameter (wrong scheme or depth?)"
            )
    for key, tensor in expected.items():
        if tuple(state[key].shape) != tuple(tensor.shape):
            raise UserError(
                f"{source}: key {key!r} has shape {tuple(state[key].shape)}, "
                f"expected {tuple(tensor.shape)} for this config"
            )
    model.load_state_dict(state, strict=True)
    return model


def _build(model_class, cfg: TimeSformerConfig, state: dict, overrides: dict, source: str):
    """Apply the caller's config fields, then load strictly (eval mode). A different
    ``num_classes`` drops the checkpoint's head (fine-tuning on other classes): the model
    keeps its freshly initialised one."""
    overrides = dict(overrides)
    new_head = "num_classes" in overrides and overrides["num_classes"] != cfg.num_classes
    if new_head:
        state = {k: v for k, v in state.items() if not k.startswith("head.")}
        overrides.setdefault("label_names", None)
    model = model_class(cfg.replace(**overrides) if overrides else cfg)
    if new_head and model.config.num_classes:
        state = {
            **state,
            "head.weight": model.head.weight.detach(),
            "head.bias": model.head.bias.detach(),
        }
    return load_state_dict_strict(model, state, source).eval()


# ------------------------------------------------------------------ formats
def _read_weights(directory: Path) -> dict:
    """The state dict in a directory: model.safetensors or pytorch_model.bin."""
    for name in ("model.safetensors", "pytorch_model.bin"):
        path = directory / name
        if not path.is_file():
            continue
        try:
            if name.endswith(".safetensors"):
                from safetensors.torch import load_file

                return load_file(str(path))
            return torch.load(path, map_location="cpu", weights_only=True)
        except Exception as err:  # noqa: BLE001 - any failure to read is a bad file here
            raise UserError(f"{path}: not a readable weights file ({type(err).__name__})") from None
    raise MissingPathError(
        f"{directory}: no model.safetensors or pytorch_model.bin next to config.json"
    )


def _model_type(model_class) -> str:
    return getattr(model_class, "model_type", OUR_MODEL_TYPE)


def _config_class(model_class):
    return getattr(model_class, "config_class", TimeSformerConfig)


def _check_type(model_class, kind: str, source) -> None:
    """One-line error when a file holds another of our models than ``model_class``."""
    if kind != _model_type(model_class):
        raise UserError(
            f"{source}: holds a {kind!r} model, not a {_model_type(model_class)!r}"
            f" one; load it with the matching class (train.models.load_model "
            f"picks it)"
        )


def _from_directory(model_class, directory: Path, overrides: dict):
    try:
        config = json.loads((directory / "config.json").read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise UserError(f"{directory / 'config.json'}: not valid JSON ({err})") from None
    if not isinstance(config, dict):
        raise UserError(f"{directory / 'config.json'}: expected a JSON object")
    state = _read_weights(directory)
    kind = config.get("model_type")
    if kind in OUR_MODEL_TYPES:
        _check_type(model_class, kind, directory / "config.json")
        values = {k: v for k, v in config.items() if k not in ("model_type", "format_version")}
        cfg = _config_class(model_class).from_dict(values)
    elif kind == "timesformer":
        processor = directory / "preprocessor_config.json"
        norm = {}
        if processor.is_file():  # HF keeps normalisation with the processor, not the model
            p = json.loads(processor.read_text())
            if "image_mean" in p and "image_std" in p:
                norm = dict(mean=tuple(p["image_mean"]), std=tuple(p["image_std"]))
        cfg = config_from_hf(config, **norm)
        state = convert_hf_state_dict(state, cfg.attention, cfg.num_frames)
    else:
        raise UserError(
            f"{directory / 'config.json'}: model_type {kind!r} is not a "
            f"TimeSformer; expected 'timesformer' (Hugging Face) or one of "
            f"ours: {', '.join(OUR_MODEL_TYPES)}"
        )
    return _build(model_class, cfg, state, overrides, str(directory))


def _official_settings(checkpoint: dict) -> dict:
    """Scheme and normalisation from the PySlowFast ``cfg`` string some .pyth files carry."""
    text = checkpoint.get("cfg")
    if not isinstance(text, str):
        return {}
    try:
        import yaml

        tree = yaml.safe_load(text) or {}
    except Exception:  # noqa: BLE001 - an unreadable cfg simply gives no hints
        return {}
    data, tsf = tree.get("DATA", {}), tree.get("TIMESFORMER", {})
    hints = {}
    if "MEAN" in data and "STD" in data:
        hints.update(mean=tuple(data["MEAN"]), std=tuple(data["STD"]))
    if "NUM_FRAMES" in data:
        hints["num_frames"] = int(data["NUM_FRAMES"])
    if "ATTENTION_TYPE" in tsf:
        hints["attention"] = tsf["ATTENTION_TYPE"]
    return hints


def _from_file(model_class, path: Path, overrides: dict):
    if path.suffix == ".safetensors" and (path.parent / "config.json").is_file():
        return _from_directory(model_class, path.parent, overrides)
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # noqa: BLE001 - any unpickling failure is a bad file here
        raise UserError(
            f"{path}: not a readable PyTorch checkpoint ({type(err).__name__})"
        ) from None
    if not isinstance(checkpoint, dict):
        raise UserError(f"{path}: expected a dict checkpoint, got {type(checkpoint).__name__}")
    if str(checkpoint.get("format", "")).startswith("mini-timesformer-checkpoint"):
        _check_type(model_class, checkpoint.get("model_type", OUR_MODEL_TYPE), path)
        cfg = _config_class(model_class).from_dict(checkpoint["model_config"])
        if cfg.label_names is None and checkpoint.get("classes"):
            cfg = cfg.replace(label_names=list(checkpoint["classes"]))
        state = dict(checkpoint["model"])
        return _build(model_class, cfg, state, overrides, str(path))
    if "model_state" not in checkpoint and not any(k.startswith("model.") for k in checkpoint):
        raise UserError(
            f"{path}: unknown checkpoint layout; expected an official .pyth "
            f"(dict with 'model_state') or a mini-timesformer checkpoint"
        )
    hints = {**_official_settings(checkpoint), **overrides}
    state = convert_official_state_dict(
        checkpoint, hints.get("attention"), hints.get("num_frames", 8)
    )
    return _build(model_class, config_from_official(state), state, hints, str(path))


def load_pretrained(model_class, path, **overrides):
    """Load any supported checkpoint (format detected) into ``model_class`` (eval mode).

    ``path``: a Hugging Face TimeSformer directory (``config.json`` with model_type
    ``timesformer`` + ``model.safetensors``/``pytorch_model.bin``, e.g. a local snapshot of
    ``facebook/timesformer-base-finetuned-k400``), our ``save_pretrained`` directory, an
    official ``.pyth`` file, or a training checkpoint / run directory. ``overrides`` are
    config fields (e.g. ``num_heads`` for official files, whose weights do not fix it, or a
    new ``num_classes`` to fine-tune with a fresh head).
    """
    path = Path(path)
    if not path.exists():
        raise MissingPathError(
            f"no checkpoint at {path} (expected a directory with "
            f"config.json, a .pyth/.pt file or a run directory)"
        )
    if path.is_dir():
        if (path / "config.json").is_file():
            return _from_directory(model_class, path, overrides)
        if last_checkpoint(path).is_file():
            return _from_file(model_class, last_checkpoint(path), overrides)
        raise MissingPathError(
            f"{path}: no config.json (Hugging Face or save_pretrained "
            f"directory) and no checkpoints/last.pt (training run)"
        )
    return _from_file(model_class, path, overrides)


def save_pretrained(model, directory) -> Path:
    """Write ``config.json`` (config + label names + mean/std) and ``model.safetensors``.

    Each file is written atomically (temporary name, fsync, rename), so a crash never
    leaves a half-written model. ``load_pretrained(type(model), directory)`` gives back
    identical weights.
    """
    from safetensors.torch import save_file

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    config = {"model_type": _model_type(type(model)), "format_version": 1, **model.config.to_dict()}
    state = {k: v.detach().contiguous().cpu() for k, v in model.state_dict().items()}
    atomic_write(directory / "model.safetensors", lambda tmp: save_file(state, tmp))
    atomic_write_text(directory / "config.json", json.dumps(config, indent=2))
    return directory


def saved_model_type(path) -> str:
    """Which of our models a ``save_pretrained`` directory, training checkpoint or run
    directory holds (``model_type``; anything else counts as a TimeSformer)."""
    path = Path(path)
    if path.is_dir() and (path / "config.json").is_file():
        try:
            kind = json.loads((path / "config.json").read_text()).get("model_type")
        except (json.JSONDecodeError, UnicodeDecodeError, AttributeError):
            kind = None
        return kind if kind in OUR_MODEL_TYPES else OUR_MODEL_TYPE
    if path.is_dir():
        path = last_checkpoint(path)
    if path.is_file() and path.suffix == ".pt":
        try:
            checkpoint = torch.load(path, map_location="cpu", weights_only=True)
        except Exception:  # noqa: BLE001 - unreadable: the loader gives the real error
            return OUR_MODEL_TYPE
        if isinstance(checkpoint, dict):
            return checkpoint.get("model_type", OUR_MODEL_TYPE)
    return OUR_MODEL_TYPE
