"""Training checkpoints: everything needed to continue a run exactly where it stopped.

A checkpoint holds the model, optimiser and scheduler states, the random-number
generators (Python, NumPy, torch CPU and CUDA), the model config, the training config,
the class names and the step/epoch reached. It is written atomically
(``runtime.atomic_write``: a temporary file in the same folder, fsync, then ``os.replace``
over the old one), so a crash mid-write leaves the previous checkpoint intact. To get the
model back for inference, ``TimeSformer.from_pretrained(path)`` (a 3-D CNN's:
``VideoResNet.from_pretrained``; either: ``train.models.load_model``) reads these files too.
"""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import torch

from ..errors import MissingPathError, UserError
from ..runtime import atomic_write, last_checkpoint


def rng_state() -> dict:
    """The state of every random generator a training step may touch."""
    py_version, py_state, py_gauss = random.getstate()
    np_name, np_keys, np_pos, np_has_gauss, np_gauss = np.random.get_state()
    state = {
        "python": [py_version, list(py_state), py_gauss],
        "numpy": [
            np_name,
            torch.from_numpy(np_keys.astype(np.int64)),
            np_pos,
            np_has_gauss,
            np_gauss,
        ],
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict) -> None:
    """Restore what ``rng_state`` captured."""
    py_version, py_state, py_gauss = state["python"]
    random.setstate((py_version, tuple(py_state), py_gauss))
    np_name, np_keys, np_pos, np_has_gauss, np_gauss = state["numpy"]
    np.random.set_state(
        (np_name, np_keys.numpy().astype(np.uint32), np_pos, np_has_gauss, np_gauss)
    )
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def save_checkpoint(
    path,
    *,
    model,
    optimizer=None,
    scheduler=None,
    step: int = 0,
    epoch: int = 0,
    train_config: dict | None = None,
    classes: list[str] | None = None,
    extra: dict | None = None,
) -> Path:
    """Write a training checkpoint atomically (see the module docstring)."""
    model = getattr(model, "module", model)  # unwrap DistributedDataParallel
    state = {
        "format": "mini-timesformer-checkpoint/1",
        "model_config": model.config.to_dict(),
        "model_type": getattr(model, "model_type", "mini-timesformer"),  # or the CNN's
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict() if optimizer is not None else None,
        "scheduler": scheduler.state_dict() if scheduler is not None else None,
        "rng": rng_state(),
        "step": step,
        "epoch": epoch,
        "train_config": train_config or {},
        "classes": list(classes) if classes is not None else None,
        "extra": extra or {},
    }
    return atomic_write(path, lambda tmp: _torch_save(state, tmp))


def load_checkpoint(path, map_location="cpu") -> dict:
    """Read a checkpoint written by ``save_checkpoint`` (tensors and plain types only)."""
    path = Path(path)
    if path.is_dir():
        path = last_checkpoint(path) if last_checkpoint(path).parent.is_dir() else path
    if not path.is_file():
        raise MissingPathError(
            f"no checkpoint at {path} (expected a .pt file written by "
            f"`mini-timesformer train` or its run directory)"
        )
    try:
        state = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as err:  # noqa: BLE001 - any unpickling failure is a bad file here
        raise UserError(
            f"{path}: not a readable training checkpoint ({type(err).__name__})"
        ) from None
    if not isinstance(state, dict) or "model_config" not in state:
        raise UserError(f"{path} is not a mini-timesformer training checkpoint")
    return state


def _torch_save(obj, path) -> None:
    with open(path, "wb") as f:
        torch.save(obj, f)
