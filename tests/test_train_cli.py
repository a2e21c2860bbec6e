"""The ``train`` parser is generated from ``TrainConfig``'s fields (issue 20 item 3): a
default lives in one place, every flag the CLI has had keeps working."""

from __future__ import annotations

import argparse
import dataclasses

import pytest

from mini_timesformer.train.cli import add_commands
from mini_timesformer.train.config import TrainConfig


def train_parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser()
    add_commands(root.add_subparsers(dest="command"))
    return root


def parse(*argv) -> dict:
    options = vars(train_parser().parse_args(["train", *argv]))
    return {k: v for k, v in options.items() if k not in ("command", "func")}


CLI_FIELDS = [f for f in dataclasses.fields(TrainConfig) if f.metadata.get("cli", True)]


def test_every_field_default_is_the_parser_default():
    defaults = parse()
    assert set(defaults) == {f.name for f in CLI_FIELDS}
    for f in CLI_FIELDS:
        assert defaults[f.name] == f.default, f.name
    assert TrainConfig(**defaults) == TrainConfig()  # what `train` with no flags builds


def test_every_field_has_help_and_only_test_hooks_stay_off_the_cli():
    assert all(f.metadata["help"] for f in dataclasses.fields(TrainConfig))
    hidden = {f.name for f in dataclasses.fields(TrainConfig)} - {f.name for f in CLI_FIELDS}
    assert hidden == {"stop_after", "progress_label"}


# every flag `train` had before the parser was generated, with a value and the field it sets
OLD_FLAGS = [
    (["--model", "i3d"], "model", "i3d"),
    (["--preset", "tiny"], "preset", "tiny"),
    (["--attention", "joint"], "attention", "joint"),
    (["--data", "folder:x"], "data", "folder:x"),
    (["--frames", "4"], "num_frames", 4),
    (["--size", "64"], "image_size", 64),
    (["--init", "small"], "init", "small"),
    (["--epochs", "3"], "epochs", 3),
    (["--steps", "7"], "steps", 7),
    (["--batch-size", "4"], "batch_size", 4),
    (["--accum", "2"], "accum", 2),
    (["--optimizer", "sgd"], "optimizer", "sgd"),
    (["--lr", "0.01"], "lr", 0.01),
    (["--weight-decay", "0.1"], "weight_decay", 0.1),
    (["--warmup-steps", "5"], "warmup_steps", 5),
    (["--clip-grad", "0"], "clip_grad", 0.0),
    (["--drop-path", "0.1"], "drop_path_rate", 0.1),
    (["--train-size", "64"], "train_size", 64),
    (["--val-size", "16"], "val_size", 16),
    (["--stride", "8"], "stride", 8),
    (["--workers", "2"], "workers", 2),
    (["--device", "cpu"], "device", "cpu"),
    (["--threads", "1"], "threads", 1),
    (["--bf16"], "bf16", True),
    (["--no-bf16"], "bf16", False),
    (["--seed", "3"], "seed", 3),
    (["--out", "runs/x"], "out", "runs/x"),
    (["--resume"], "resume", True),
    (["--checkpoint-every", "10"], "checkpoint_every", 10),
    (["--val-every", "0"], "val_every", 0),
    (["--attention-every", "2"], "attention_every", 2),
    (["--no-progress"], "progress", False),
]


@pytest.mark.parametrize("argv, name, value", OLD_FLAGS, ids=[a[0] for a, _, _ in OLD_FLAGS])
def test_every_old_flag_sets_its_field(argv, name, value):
    options = parse(*argv)
    assert options[name] == value and type(options[name]) is type(value)
    changed = {k for k, v in options.items() if v != getattr(TrainConfig, k)}
    assert changed == {name}


def test_choices_come_from_the_declared_tuples():
    from mini_timesformer.config import PRESETS
    from mini_timesformer.train.config import MODELS, OPTIMIZERS

    actions = {
        a.dest: a for a in train_parser()._subparsers._group_actions[0].choices["train"]._actions
    }
    assert actions["model"].choices == list(MODELS)
    assert actions["optimizer"].choices == list(OPTIMIZERS)
    assert actions["preset"].choices == list(PRESETS)


def test_demo_budgets_take_their_model_fields_from_the_nano_preset():
    from mini_timesformer.config import PRESETS, TimeSformerConfig
    from mini_timesformer.demo.budgets import BUDGETS, MODEL_FIELDS, DemoBudget, model_config

    field_names = {f.name for f in dataclasses.fields(TimeSformerConfig)}
    assert set(MODEL_FIELDS) <= field_names  # the budget's model fields are the config's
    default = DemoBudget()
    assert {k: v for k, v in default.model_fields().items() if k != "depth"} == {
        k: v for k, v in PRESETS["nano"].items() if k != "depth"
    }
    for budget in BUDGETS.values():  # model_config copies every model field, nothing else
        cfg = model_config(budget, "divided", num_classes=8)
        assert {name: getattr(cfg, name) for name in MODEL_FIELDS} == budget.model_fields()
