"""docs/architecture.md, "How to add a sixth attention scheme", is true: a scheme made of
existing groupings needs one entry in ``schemes.STEPS`` and nothing else — the model, its
parameter and MAC counts, the visibility masks (Fig. 2) and rollout follow. Here the
space-then-time order the paper compares in §4.7 is added for the duration of a test."""

import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

import mini_timesformer as mt
from mini_timesformer import cost, schemes
from mini_timesformer.viz import rollout


@pytest.fixture
def sixth_scheme(monkeypatch):
    monkeypatch.setitem(schemes.STEPS, "space_then_time", ("space", "time"))
    monkeypatch.setattr(schemes, "SCHEMES", tuple(schemes.STEPS))  # as at import time
    return "space_then_time"


def test_a_sixth_scheme_needs_one_steps_entry(sixth_scheme, one_thread):
    cfg = mt.TimeSformerConfig.preset("nano", attention=sixth_scheme, num_classes=3)
    model = mt.TimeSformer(cfg).eval()
    assert list(model.blocks[0].steps) == ["space", "time"]  # time is the ViT (CLS) step
    assert cost.params(cfg) == sum(p.numel() for p in model.parameters())
    video = torch.randn(1, 4, 3, 32, 32)
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        logits, attention = model.forward_with_attention(video)
    assert logits.shape == (1, 3)
    assert abs(cost.macs(cfg, 4, 32) / (counter.get_total_flops() / 2) - 1) < 0.01
    masks = schemes.visibility(sixth_scheme, 4, 4, 4)
    divided = schemes.visibility("divided", 4, 4, 4)
    assert list(masks) == ["space", "time"]
    assert all(torch.equal(masks[s], divided[s]) for s in ("space", "time"))
    heat = rollout.rollout(attention, sixth_scheme, (4, 4, 4))
    assert heat.shape == (1, 4, 4, 4) and torch.allclose(heat.sum(), torch.tensor(1.0))
