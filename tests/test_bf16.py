"""bf16 autocast proven on CPU: the GPU recipe trains under bf16 autocast, tested here.

Tolerances, set from measurements on a nano model (8×32², width 64, depth 4, 5 classes,
10 AdamW steps at lr 1e-3 on one fixed batch of 8 clips, 1 CPU thread), over all five
schemes × 3 seeds:

* same weights, fp32 forward vs bf16-autocast forward: max |logit difference| 0.0026 to
  0.0072 (0.20-0.56% of the largest |logit|). Tolerance: **0.02** absolute (≈ 3× the
  worst measured; bf16 keeps 8 significant bits, a relative step of 2⁻⁸ ≈ 0.4%).
* training: the loss falls from ~1.61 (ln 5) to 0.78-0.99 in 10 steps under bf16, and
  the bf16 loss curve stays within 0.003-0.050 of the fp32 curve from the same start.
  Tolerances: the last loss below **0.75 ×** the first, and every step's loss within
  **0.15** of fp32's (≈ 3× the worst measured).
"""

import pytest
import torch
import torch.nn.functional as F

import mini_timesformer as mt

LOGIT_TOLERANCE = 0.02
CURVE_TOLERANCE = 0.15
STEPS = 10


def nano_and_batch(attention: str, seed: int = 0):
    """A fresh nano model and one fixed batch: float (8, 8, 3, 32, 32) clips, 5 labels."""
    torch.manual_seed(seed)
    cfg = mt.TimeSformerConfig.preset("nano", attention=attention, num_classes=5)
    generator = torch.Generator().manual_seed(seed)
    clips = torch.randn(8, 8, 3, 32, 32, generator=generator)  # (B, T, C, H, W)
    return mt.TimeSformer(cfg), clips, torch.arange(8) % 5


def train_steps(model, clips, labels, bf16: bool) -> list[float]:
    """``STEPS`` AdamW steps on one batch, under CPU bf16 autocast or in fp32."""
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    losses = []
    for _ in range(STEPS):
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            loss = F.cross_entropy(model(clips).float(), labels)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        losses.append(loss.item())
    return losses


def test_cpu_autocast_runs_the_model_in_bf16(one_thread):
    model, clips, _ = nano_and_batch("divided")
    with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16):
        logits = model(clips)
    assert logits.dtype == torch.bfloat16  # autocast is active on CPU, not a no-op
    with torch.no_grad():
        assert model(clips).dtype == torch.float32


@pytest.mark.parametrize("attention", ["divided", "joint"])
def test_bf16_training_loss_falls_like_fp32(one_thread, attention):
    model, clips, labels = nano_and_batch(attention)
    bf16 = train_steps(model, clips, labels, bf16=True)
    assert all(torch.isfinite(torch.tensor(bf16)))
    assert bf16[-1] < 0.75 * bf16[0], f"bf16 loss did not fall: {bf16}"
    reference, _, _ = nano_and_batch(attention)
    fp32 = train_steps(reference, clips, labels, bf16=False)
    gap = max(abs(a - b) for a, b in zip(bf16, fp32))
    assert gap <= CURVE_TOLERANCE, f"bf16 vs fp32 loss curves differ by {gap:.3f}"


@pytest.mark.parametrize("attention", ["divided", "joint", "space"])
def test_bf16_logits_within_tolerance_of_fp32(one_thread, attention):
    model, clips, labels = nano_and_batch(attention)
    train_steps(model, clips, labels, bf16=True)  # weights trained under bf16
    model.eval()
    with torch.no_grad():
        fp32 = model(clips)
        with torch.autocast("cpu", dtype=torch.bfloat16):
            bf16 = model(clips).float()
    difference = (bf16 - fp32).abs().max().item()
    assert 0 < difference <= LOGIT_TOLERANCE, (
        f"max |logit difference| bf16 vs fp32 = {difference:.4f} (tolerance {LOGIT_TOLERANCE})"
    )


def training_head_dtypes(model) -> list:
    """Record the dtype of the classifier head's output at every training forward pass."""
    seen = []

    def hook(module, inputs, output):
        if module.training:  # not the validation at the end (fp32 on CPU)
            seen.append(output.dtype)

    model.head.register_forward_hook(hook)
    return seen


@pytest.mark.parametrize(
    "bf16, expected", [(True, torch.bfloat16), (None, torch.float32), (False, torch.float32)]
)
def test_train_loop_autocasts_on_cpu_only_when_asked(one_thread, tmp_path, bf16, expected):
    """``TrainConfig.bf16``: True = bf16 autocast on any device (CPU too), None (default)
    = on CUDA only, False = never; steps.csv records the DataLoader wait of each step."""
    import csv

    model = mt.TimeSformer(
        mt.TimeSformerConfig.preset(
            "nano", attention="divided", num_frames=4, image_size=16, depth=1, num_classes=8
        )
    )
    seen = training_head_dtypes(model)
    run = mt.train.train(
        model=model,
        data="synthetic-motion",
        num_frames=4,
        image_size=16,
        train_size=16,
        val_size=8,
        batch_size=8,
        steps=3,
        bf16=bf16,
        device="cpu",
        out=str(tmp_path / "run"),
        progress=False,
        plots=False,
    )
    assert len(seen) == 3 and set(seen) == {expected}
    with open(run / "steps.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 3
    for row in rows:
        assert 0 <= float(row["data_seconds"]) <= float(row["seconds"])
        assert torch.isfinite(torch.tensor(float(row["loss"])))
