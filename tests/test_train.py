"""Training loop: learning, resume equivalence, atomic checkpoints, non-finite loss, optimiser
recipe, gradient accumulation, CLI errors. Tiny models and a few steps (CPU, seconds)."""

from __future__ import annotations

import pytest
import torch

import mini_timesformer as mt
from mini_timesformer.cli import main
from mini_timesformer.train import NonFiniteLossError, train
from mini_timesformer.train import checkpoint as ckpt
from mini_timesformer.train.optim import param_groups, step_decay, warmup_cosine
from tests.helpers import TINY_RUN as TINY
from tests.helpers import losses

pytestmark = pytest.mark.usefixtures("one_thread")  # tests/conftest.py


def tiny_model(attention="divided", drop_path=0.0, seed=0):
    torch.manual_seed(seed)
    cfg = mt.TimeSformerConfig(
        num_frames=4,
        image_size=16,
        patch_size=8,
        embed_dim=32,
        depth=1,
        num_heads=2,
        num_classes=8,
        attention=attention,
        drop_path_rate=drop_path,
    )
    return mt.TimeSformer(cfg)


def test_loss_goes_down_on_a_tiny_synthetic_run(tmp_path):
    run = train(
        model=tiny_model(),
        data="synthetic-appearance",
        steps=60,
        lr=1e-2,
        warmup_steps=4,
        out=str(tmp_path / "run"),
        **{**TINY, "plots": True, "train_size": 16},
    )  # 30 epochs of 16 clips
    values = [v for _, v in losses(run)]
    assert len(values) == 60
    first, last = sum(values[:4]) / 4, sum(values[-4:]) / 4
    assert last < 0.5 * first, (first, last)
    assert (run / "curves.png").stat().st_size > 0
    assert (run / "checkpoints" / "last.pt").exists()


def test_resume_reproduces_the_uninterrupted_loss_curve(tmp_path):
    common = dict(steps=8, lr=2e-3, warmup_steps=2, checkpoint_every=1, **TINY)
    full = train(model=tiny_model(drop_path=0.2), out=str(tmp_path / "full"), **common)
    part = train(
        model=tiny_model(drop_path=0.2), out=str(tmp_path / "part"), stop_after=3, **common
    )
    assert [s for s, _ in losses(part)] == [1, 2, 3]
    # a fresh process would rebuild the model from scratch; the checkpoint overwrites it
    resumed = train(
        model=tiny_model(drop_path=0.2, seed=123), out=str(tmp_path / "part"), resume=True, **common
    )
    assert losses(resumed) == losses(full)  # exact, steps 1..8 (drop path uses the RNG)
    assert losses(resumed, "lr") == losses(full, "lr")
    a = ckpt.load_checkpoint(full / "checkpoints" / "last.pt")["model"]
    b = ckpt.load_checkpoint(resumed / "checkpoints" / "last.pt")["model"]
    for key in a:
        torch.testing.assert_close(a[key], b[key], rtol=0, atol=0)


def test_crash_mid_write_leaves_the_previous_checkpoint_loadable(tmp_path, monkeypatch):
    model = tiny_model()
    path = tmp_path / "last.pt"
    ckpt.save_checkpoint(path, model=model, step=5)

    def broken_save(obj, f):
        f.write(b"half a checkpoint")
        raise OSError("disk full")

    monkeypatch.setattr(ckpt.torch, "save", broken_save)
    with pytest.raises(OSError, match="disk full"):
        ckpt.save_checkpoint(path, model=tiny_model(seed=1), step=6)
    monkeypatch.undo()
    state = ckpt.load_checkpoint(path)
    assert state["step"] == 5
    restored = mt.TimeSformer.from_pretrained(path)
    for key, value in model.state_dict().items():
        torch.testing.assert_close(restored.state_dict()[key], value)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["last.pt"]  # no temp file left


def test_rng_state_round_trip():
    state = ckpt.rng_state()
    first = torch.rand(3), __import__("random").random(), __import__("numpy").random.rand()
    ckpt.set_rng_state(state)
    second = torch.rand(3), __import__("random").random(), __import__("numpy").random.rand()
    torch.testing.assert_close(first[0], second[0])
    assert first[1:] == second[1:]


class NanAfter(torch.nn.Module):
    """Wraps a model; its forward returns NaN logits from the ``bad_call``-th call on."""

    def __init__(self, model, bad_call):
        super().__init__()
        self.inner, self.config, self.calls, self.bad_call = model, model.config, 0, bad_call

    def forward(self, video):
        self.calls += 1
        logits = self.inner(video)
        return logits * float("nan") if self.calls >= self.bad_call else logits


def test_non_finite_loss_names_the_step_and_keeps_the_last_good_checkpoint(tmp_path):
    with pytest.raises(NonFiniteLossError, match=r"non-finite loss nan at step 3\b.*kept"):
        train(
            model=NanAfter(tiny_model(), bad_call=3),
            steps=6,
            checkpoint_every=1,
            out=str(tmp_path / "run"),
            **TINY,
        )
    state = ckpt.load_checkpoint(tmp_path / "run" / "checkpoints" / "last.pt")
    assert state["step"] == 2
    assert all(torch.isfinite(v).all() for v in state["model"].values())


def test_no_weight_decay_on_norms_biases_cls_and_embeddings():
    model = tiny_model()
    decay, no_decay = param_groups(model, 0.05)
    names = {id(p): n for n, p in model.named_parameters()}
    decayed = {names[id(p)] for p in decay["params"]}
    kept = {names[id(p)] for p in no_decay["params"]}
    assert no_decay["weight_decay"] == 0.0 and decay["weight_decay"] == 0.05
    for name in (
        "embed.cls_token",
        "embed.pos_embed",
        "embed.time_embed",
        "norm.weight",
        "head.bias",
        "blocks.0.steps.time.attn.qkv.bias",
        "blocks.0.norm.weight",
    ):
        assert name in kept, name
    for name in (
        "blocks.0.steps.time.attn.qkv.weight",
        "blocks.0.mlp.fc1.weight",
        "embed.patch_embed.proj.weight",
        "head.weight",
        "blocks.0.steps.time.extra.weight",
    ):
        assert name in decayed, name
    assert decayed | kept == set(names.values()) and not decayed & kept
    frozen = param_groups(tiny_model("space"), 0.05)  # space: time_embed frozen, left out
    assert all(p.requires_grad for g in frozen for p in g["params"])


def test_schedules():
    total, warm = 100, 10
    ramp = [warmup_cosine(s, total, warm) for s in range(warm)]
    assert ramp == sorted(ramp) and ramp[-1] == pytest.approx(1.0)
    decay = [warmup_cosine(s, total, warm, 0.01) for s in range(warm, total + 1)]
    assert all(a >= b for a, b in zip(decay, decay[1:]))
    assert decay[-1] == pytest.approx(0.01)
    # the paper: lr / 10 at epoch 11 of 15, / 100 at epoch 14
    assert [step_decay(e, 15) for e in (0, 10, 11, 13, 14)] == pytest.approx([1, 1, 0.1, 0.1, 0.01])


def test_gradient_accumulation_matches_one_big_batch(tmp_path):
    common = dict(steps=1, lr=1e-3, warmup_steps=1, clip_grad=0.0, **TINY)
    big = train(model=tiny_model(), out=str(tmp_path / "big"), **common)
    acc = train(
        model=tiny_model(), out=str(tmp_path / "acc"), **{**common, "batch_size": 4, "accum": 2}
    )
    a = ckpt.load_checkpoint(big)["model"]
    b = ckpt.load_checkpoint(acc)["model"]
    changed = False
    for key in a:
        torch.testing.assert_close(a[key], b[key], rtol=1e-5, atol=1e-6)
        changed |= not torch.equal(a[key], tiny_model().state_dict()[key])
    assert changed
    assert losses(big)[0][1] == pytest.approx(losses(acc)[0][1], rel=1e-6)


@pytest.mark.parametrize(
    "argv, expected",
    [
        (["train", "--lr", "-1"], "--lr: expected a positive number"),
        (["train", "--batch-size", "0"], "--batch-size: expected a positive integer"),
        (["train", "--optimizer", "adam"], "invalid choice: 'adam'"),
        (["train", "--data", "imagenet"], "unknown --data 'imagenet'"),
        (["train", "--attention", "spacetime", "--steps", "1"], "unknown attention scheme"),
        (["train", "--data", "kinetics:/no/such/dir"], "is not a directory"),
        (
            ["train", "--init", "smal", "--steps", "1", "--train-size", "8"],
            "expected auto, small, vit-default, vit:PATH or a checkpoint PATH",
        ),
        (["train", "--attention-every", "-1"], "attention_every must be >= 0"),
        (["eval", "--checkpoint", "/no/such/run"], "no checkpoint at /no/such/run"),
        (["eval", "--checkpoint", "x", "--views", "3"], "expected CLIPSxCROPS"),
    ],
)
def test_cli_argument_errors_are_one_line(argv, expected, capsys):
    try:
        code = main(argv)
    except SystemExit as exit_:
        code = exit_.code
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert len(err.splitlines()) == 1, err
    assert err.startswith(f"mini-timesformer {argv[0]}: error:") and expected in err, err


def test_unreadable_checkpoint_is_a_user_error(tmp_path):
    from mini_timesformer.errors import UserError

    (tmp_path / "last.pt").write_bytes(b"half a checkpoint")
    with pytest.raises(UserError, match="not a readable training checkpoint"):
        ckpt.load_checkpoint(tmp_path / "last.pt")
