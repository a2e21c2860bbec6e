"""The run's report: from-scratch inits by name, known plateaus diagnosed from constructed
confusion matrices and prediction sets (not from one threshold on top-1)."""

from __future__ import annotations

import math

import pytest
import torch

from mini_timesformer.data.synthetic import APPEARANCE_CLASSES, MOTION_CLASSES, reversed_pairs
from mini_timesformer.train.config import TrainConfig, resolve_init
from mini_timesformer.train.evaluate import compute_metrics
from mini_timesformer.train.inputs import build_model
from mini_timesformer.train.report import diagnose, pair_counts, write_report

pytestmark = pytest.mark.usefixtures("one_thread")  # tests/conftest.py
CLASSES = list(MOTION_CLASSES)
PAIRS = reversed_pairs(CLASSES)


def confusion_from(rule, per_class: int = 40) -> list[list[int]]:
    """Confusion matrix (rows: true) where ``rule(true, k)`` is the k-th clip's prediction."""
    conf = [[0] * 8 for _ in range(8)]
    for true in range(8):
        for k in range(per_class):
            conf[true][rule(true, k)] += 1
    return conf


def partner(c: int) -> int:
    return c ^ 1  # 0<->1, 2<->3, ...: the class played backwards


def test_reversed_pairs_are_the_motion_classes_and_their_reverses():
    pairs = reversed_pairs(CLASSES)
    assert pairs == [(0, 1), (2, 3), (4, 5), (6, 7)]
    names = {
        ("move_right", "move_left"),
        ("move_down", "move_up"),
        ("rotate_cw", "rotate_ccw"),
        ("grow", "shrink"),
    }
    assert {(CLASSES[a], CLASSES[b]) for a, b in pairs} == names
    assert reversed_pairs(list(APPEARANCE_CLASSES)) is None


def test_order_blind_plateau_is_found_and_says_what_to_try():
    # right pair always, direction a coin flip (alternating): top-1 50%
    conf = confusion_from(lambda c, k: c if k % 2 else partner(c))
    total, in_pair, exact = pair_counts(conf, reversed_pairs(CLASSES))
    assert (total, in_pair, exact) == (320, 320, 160)
    [finding] = diagnose({"confusion": conf}, "divided", "vit-default", PAIRS)
    assert finding["plateau"] == "order-blind" and finding["reached"]
    assert "sits at" in finding["message"]
    assert finding["pair_accuracy"] == 1.0 and finding["direction_accuracy"] == 0.5
    assert "--init small" in finding["message"] and "50.0%" in finding["message"]
    # already the small init: no advice to switch to it, but more steps / lr
    [finding] = diagnose({"confusion": conf}, "divided", "small", PAIRS)
    assert "--init small" not in finding["message"] and "--steps" in finding["message"]
    # space-only attention: this is its ceiling, the advice is another scheme
    [finding] = diagnose({"confusion": conf}, "space", "small", PAIRS)
    assert "Space-only" in finding["message"] and "--attention" in finding["message"]


def test_fifty_percent_with_scattered_errors_is_not_the_order_blind_plateau():
    # same top-1 (50%) but the wrong half spread over the other classes: pair accuracy ~57%
    conf = confusion_from(lambda c, k: c if k % 2 else (c + 1 + k % 7) % 8)
    assert sum(conf[c][c] for c in range(8)) / 320 == 0.5
    assert diagnose({"confusion": conf}, "divided", "vit-default", PAIRS) == []


def test_a_model_that_learnt_the_direction_has_no_finding():
    conf = confusion_from(lambda c, k: c if k % 10 else partner(c))  # 90% top-1
    assert diagnose({"confusion": conf}, "divided", "small", PAIRS) == []


def test_direction_band_edges():
    # right pair always; direction right in 24/40 = 60% (inside the band) vs 26/40 = 65%
    inside = confusion_from(lambda c, k: c if k < 24 else partner(c))
    outside = confusion_from(lambda c, k: c if k < 26 else partner(c))
    assert diagnose({"confusion": inside}, "divided", "small", PAIRS)[0]["plateau"] == "order-blind"
    assert diagnose({"confusion": outside}, "divided", "small", PAIRS) == []
    # direction a coin flip, the pair right for 70%: heading for the plateau, not at it
    vague = confusion_from(lambda c, k: (c + 2) % 8 if k < 12 else (c if k % 2 else partner(c)))
    assert pair_counts(vague, reversed_pairs(CLASSES))[1] / 320 == 0.7
    [finding] = diagnose({"confusion": vague}, "divided", "small", PAIRS)
    assert not finding["reached"] and "is heading for" in finding["message"]
    # ... the pair right for only 40% (guessing: 25%): too early to say
    early = confusion_from(lambda c, k: (c + 2) % 8 if k < 24 else (c if k % 2 else partner(c)))
    assert diagnose({"confusion": early}, "divided", "small", PAIRS) == []


def test_an_order_blind_prediction_set_sits_at_the_plateau_with_loss_ln2():
    """Scores that depend only on which pair a clip is in: the detector fires, and the loss
    is ln 2 as the report says."""
    generator = torch.Generator().manual_seed(0)
    labels = torch.arange(512) % 8
    probs = torch.zeros(512, 1, 8)
    pair = labels - labels % 2
    tilt = 1e-4 * (torch.rand(512, generator=generator) - 0.5)  # breaks the tie at random
    probs[torch.arange(512), 0, pair] = 0.5 + tilt
    probs[torch.arange(512), 0, pair + 1] = 0.5 - tilt
    metrics = compute_metrics(probs, labels, CLASSES)
    assert 0.4 < metrics["top1"] < 0.6
    assert metrics["loss"] == pytest.approx(math.log(2), abs=1e-3)
    [finding] = diagnose(metrics, "divided", "vit-default", PAIRS)
    assert finding["plateau"] == "order-blind" and finding["pair_accuracy"] == 1.0


def test_chance_and_non_motion_classes():
    uniform = [[5] * 8 for _ in range(8)]
    [finding] = diagnose({"confusion": uniform}, "divided", "vit-default", PAIRS)
    assert finding["plateau"] == "chance" and "12.5%" in finding["message"]
    # appearance classes at 50% with pair-like errors: no pairs there, no order-blind claim
    conf = confusion_from(lambda c, k: c if k % 2 else partner(c))
    assert (
        diagnose({"confusion": conf}, "divided", "small", reversed_pairs(APPEARANCE_CLASSES)) == []
    )
    # too few clips to say anything; no validation at all
    few = confusion_from(lambda c, k: c if k % 2 else partner(c), per_class=2)
    assert diagnose({"confusion": few}, "divided", "small", PAIRS) == []
    assert diagnose({}, "divided", "small", PAIRS) == []


def test_report_names_the_init_and_the_finding(tmp_path):
    conf = confusion_from(lambda c, k: c if k % 2 else partner(c))
    val = {"confusion": conf, "top1": 0.5, "top5": 1.0, "loss": 0.69, "num_videos": 320}
    findings = diagnose(val, "divided", "vit-default", PAIRS)
    summary = {
        "attention": "divided",
        "params": 1234,
        "init": "vit-default",
        "steps": 10,
        "train_seconds": 60.0,
        "val": val,
    }
    text = write_report(tmp_path, TrainConfig(), summary, findings).read_text()
    assert "init `vit-default`" in text and "order-blind plateau" in text
    assert findings[0]["message"] in text


def test_init_auto_is_small_for_nano_and_tiny_and_vit_default_for_small_and_base():
    assert [resolve_init(TrainConfig(preset=p)) for p in ("nano", "tiny", "small", "base")] == [
        "small",
        "small",
        "vit-default",
        "vit-default",
    ]
    assert resolve_init(TrainConfig(preset="nano", init="scratch")) == "small"  # old name
    assert resolve_init(TrainConfig(preset="nano", init="vit-default")) == "vit-default"
    assert resolve_init(TrainConfig(preset="base", init="small")) == "small"


def test_small_and_vit_default_inits_differ_as_documented():
    torch.manual_seed(0)
    small = build_model(TrainConfig(preset="nano"), 8)  # auto = small
    torch.manual_seed(0)
    vit = build_model(TrainConfig(preset="nano", init="vit-default"), 8)
    qkv = "blocks.0.steps.space.attn.qkv.weight"
    width = small.config.embed_dim
    assert dict(small.named_parameters())[qkv].std().item() == pytest.approx(width**-0.5, rel=0.1)
    assert dict(vit.named_parameters())[qkv].std().item() == pytest.approx(0.02, rel=0.1)
    assert small.embed.pos_embed.std().item() == pytest.approx(0.88, rel=0.1)  # trunc ±2σ
    assert vit.embed.time_embed.abs().max().item() == 0.0
    extra = [n for n, _ in vit.named_parameters() if "extra" in n and n.endswith("weight")]
    assert extra, "divided blocks have a temporal_fc"
    for name in extra:
        assert dict(vit.named_parameters())[name].abs().max().item() == 0.0
        assert dict(small.named_parameters())[name].abs().max().item() > 0.0


def test_the_cli_prints_the_plateau_and_report_md_has_it(tmp_path, monkeypatch, capsys):
    """End to end with validation replaced by an order-blind result (the real one would
    need minutes of training): the console and report.md say so, metrics.json keeps it."""
    import json

    from mini_timesformer.cli import main
    from mini_timesformer.train import loop

    conf = confusion_from(lambda c, k: c if k % 2 else partner(c))
    val = {"confusion": conf, "top1": 0.5, "top5": 1.0, "loss": 0.69, "num_videos": 320}
    monkeypatch.setattr(loop, "evaluate", lambda *args, **kwargs: val)
    out = tmp_path / "run"
    assert (
        main(
            [
                "train",
                "--init",
                "vit-default",
                "--frames",
                "4",
                "--size",
                "16",
                "--steps",
                "2",
                "--train-size",
                "16",
                "--val-size",
                "8",
                "--batch-size",
                "8",
                "--threads",
                "1",
                "--no-progress",
                "--attention-every",
                "0",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    printed = capsys.readouterr().out
    assert "(init vit-default)" in printed
    assert "note: Validation top-1 50.0% sits at the order-blind plateau" in printed
    assert "--init small" in printed
    assert "order-blind plateau" in (out / "report.md").read_text()
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["init"] == "vit-default" and metrics["findings"][0]["reached"]
    assert json.loads((out / "train_config.json").read_text())["init_used"] == "vit-default"
