"""``pretrained.vit_export.vit_state_dict``: a space-only TimeSformer on one frame is a ViT
— timm's ``VisionTransformer`` loads its weights strictly and gives the same logits, and
``from_vit`` takes them back."""

from __future__ import annotations

import pytest
import torch
from helpers import randomize
from timm.models.vision_transformer import VisionTransformer

import mini_timesformer as mt
from mini_timesformer.errors import UserError
from mini_timesformer.pretrained.vit_export import vit_state_dict

CFG = mt.TimeSformerConfig(
    num_frames=1, image_size=32, patch_size=8, embed_dim=32, depth=2, num_heads=4,
    num_classes=5, attention="space",
)  # fmt: skip


def _space_model(seed=3):
    model = mt.TimeSformer(CFG).eval()
    randomize(model, seed, std=0.2)
    return model


def test_timm_vit_loads_it_strictly_and_gives_the_same_logits():
    model = _space_model()
    vit = VisionTransformer(
        img_size=32, patch_size=8, embed_dim=32, depth=2, num_heads=4, num_classes=5
    ).eval()
    vit.load_state_dict(vit_state_dict(model), strict=True)
    images = torch.randn(4, 3, 32, 32)
    with torch.no_grad():
        torch.testing.assert_close(model(images[:, None]), vit(images), atol=1e-5, rtol=1e-5)


def test_from_vit_round_trip_gives_the_space_model_on_any_clip():
    model = _space_model()
    inflated = mt.TimeSformer.from_vit(CFG.replace(num_frames=4), vit_state_dict(model)).eval()
    clip = torch.randn(2, 4, 3, 32, 32)
    with torch.no_grad():  # space-only: the frames' pre-norm CLS tokens averaged (vit_init.py)
        torch.testing.assert_close(inflated(clip), model(clip), atol=1e-5, rtol=1e-5)
    divided = mt.TimeSformer.from_vit(CFG.replace(attention="divided"), vit_state_dict(model))
    with torch.no_grad():  # one frame: divided = the ViT (its time step adds zero)
        torch.testing.assert_close(
            divided.eval()(clip[:, :1]), model(clip[:, :1]), atol=1e-5, rtol=1e-5
        )


def test_the_state_is_a_copy_without_the_time_embedding():
    model = _space_model()
    state = vit_state_dict(model)
    assert not any("time" in key for key in state)
    state["cls_token"].add_(1.0)
    assert not torch.equal(state["cls_token"], model.embed.cls_token)


def test_other_schemes_are_refused_in_one_line():
    with pytest.raises(UserError, match="expected a 'space' TimeSformer .* got 'divided'"):
        vit_state_dict(mt.TimeSformer(CFG.replace(attention="divided")))
