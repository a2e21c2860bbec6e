"""The 3-D CNN baseline (``mini_timesformer/cnn.py``): its (2+1)D and full-3-D blocks equal
torchvision's ``Conv2Plus1D`` / ``Conv3DSimple`` / ``BasicBlock`` on copied weights; the
analytic params and MACs equal ``sum(numel)`` and ``FlopCounterMode`` (÷ 2); bad configs
and inputs give one-line errors; ``save_pretrained`` / ``from_pretrained`` round-trip."""

from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode
from torchvision.models.video import resnet as tv

import mini_timesformer as mt
from mini_timesformer.cnn import (
    ARCHS,
    CNN_PRESETS,
    BasicBlock,
    Conv2Plus1D,
    VideoCNNConfig,
    VideoResNet,
    midplanes,
)
from mini_timesformer.errors import UserError
from mini_timesformer.random_weights import randomize


def copy_by_order(ours: nn.Module, reference: nn.Module) -> None:
    """Copy ``reference``'s state (parameters and BN buffers) into ``ours``, entry by entry
    in registration order; every shape must match."""
    mine, theirs = ours.state_dict(), reference.state_dict()
    assert len(mine) == len(theirs), (list(mine), list(theirs))
    for (k1, v1), (k2, v2) in zip(mine.items(), theirs.items()):
        assert v1.shape == v2.shape, (k1, k2)
    ours.load_state_dict(dict(zip(mine, theirs.values())))


def perturb_batchnorm(module: nn.Module, seed: int = 0) -> None:
    """Random BN statistics and affine weights, so eval-mode BN is not the identity."""
    g = torch.Generator().manual_seed(seed)
    for m in module.modules():
        if isinstance(m, nn.BatchNorm3d):
            m.running_mean.copy_(torch.randn(m.num_features, generator=g))
            m.running_var.copy_(torch.rand(m.num_features, generator=g) + 0.5)
            m.weight.data.copy_(torch.randn(m.num_features, generator=g))
            m.bias.data.copy_(torch.randn(m.num_features, generator=g))


@pytest.mark.parametrize("stride", [1, 2])
def test_conv2plus1d_equals_torchvision(stride):
    torch.manual_seed(0)
    reference = tv.Conv2Plus1D(6, 10, midplanes(6, 10), stride=stride)
    perturb_batchnorm(reference)
    ours = Conv2Plus1D(6, 10, midplanes(6, 10), stride=stride)
    copy_by_order(ours, reference)
    x = torch.randn(2, 6, 5, 9, 9)
    for mode in (False, True):  # eval (running stats) and train (batch stats)
        reference.train(mode), ours.train(mode)
        torch.testing.assert_close(ours(x), reference(x))


@pytest.mark.parametrize("arch, builder", [("r2plus1d", tv.Conv2Plus1D), ("i3d", tv.Conv3DSimple)])
@pytest.mark.parametrize("in_planes, planes, stride", [(8, 8, 1), (8, 16, 2)])
def test_basic_block_equals_torchvision(arch, builder, in_planes, planes, stride):
    torch.manual_seed(1)
    downsample = None
    if stride != 1 or in_planes != planes:
        downsample = nn.Sequential(
            nn.Conv3d(in_planes, planes, 1, stride=stride, bias=False), nn.BatchNorm3d(planes)
        )
    reference = tv.BasicBlock(in_planes, planes, builder, stride, downsample).eval()
    perturb_batchnorm(reference)
    ours = BasicBlock(arch, in_planes, planes, stride).eval()
    copy_by_order(ours, reference)
    x = torch.randn(2, in_planes, 4, 8, 8)
    torch.testing.assert_close(ours(x), reference(x.clone()))  # theirs adds in place


def test_midplanes_keeps_the_3d_parameter_count():
    """Tran et al.'s rule: the (2+1)D pair has about the parameters of the 3×3×3 kernel."""
    for n_in, n_out in [(8, 8), (16, 32), (64, 64)]:
        m = midplanes(n_in, n_out)
        factorised = m * n_in * 9 + n_out * m * 3
        assert factorised <= n_in * n_out * 27 < factorised + n_in * 9 + 3 * n_out


CASES = [(arch, preset) for arch in ARCHS for preset in CNN_PRESETS]


@pytest.mark.parametrize("arch, preset", CASES)
def test_params_equal_the_modules(arch, preset):
    cfg = VideoCNNConfig.preset(preset, arch=arch, num_classes=7)
    model = VideoResNet(cfg)
    assert (
        mt.cost.params(cfg) == mt.cost.cnn_params(cfg) == sum(p.numel() for p in model.parameters())
    )


@pytest.mark.parametrize("arch", ARCHS)
@pytest.mark.parametrize("frames, size", [(8, 32), (5, 20), (3, 7)])
def test_macs_equal_flop_counter(arch, frames, size):
    cfg = VideoCNNConfig.preset("nano", arch=arch, num_classes=5)
    model = VideoResNet(cfg).eval()
    with FlopCounterMode(display=False) as counter:
        model(torch.randn(1, frames, 3, size, size))
    assert mt.cost.macs(cfg, num_frames=frames, image_size=size) == counter.get_total_flops() // 2


def test_nano_presets_are_near_the_demo_timesformer_budget():
    tsf = mt.TimeSformerConfig.preset("nano", depth=2, attention="divided", num_classes=8)
    for arch in ARCHS:
        cfg = VideoCNNConfig.preset("nano", arch=arch, num_classes=8)
        assert 0.75 < mt.cost.params(cfg) / mt.cost.params(tsf) < 1.25, arch
        assert 0.75 < mt.cost.macs(cfg) / mt.cost.macs(tsf) < 1.25, arch


@pytest.mark.parametrize("arch", ARCHS)
def test_forward_shapes_and_features(arch):
    cfg = VideoCNNConfig.preset("nano", arch=arch, num_classes=4)
    model = VideoResNet(cfg).eval()
    video = torch.randn(3, 8, 3, 32, 32)
    logits = model(video)
    assert logits.shape == (3, 4)
    torch.testing.assert_close(logits, model.head(model.forward_features(video)))
    assert model(torch.randn(1, 16, 3, 48, 48)).shape == (1, 4)  # any T, H, W


def test_the_cnn_sees_frame_order():
    """Unlike the space-only scheme, temporal kernels make the output depend on order."""
    model = VideoResNet(VideoCNNConfig.preset("nano", num_classes=4)).eval()
    randomize(model, seed=0)
    video = torch.randn(2, 8, 3, 32, 32)
    assert not torch.allclose(model(video), model(video.flip(1)), atol=1e-4)


def test_bad_configs_and_inputs_are_one_line_errors():
    with pytest.raises(UserError, match="unknown CNN arch 'c3d'; expected one of: r2plus1d, i3d"):
        VideoCNNConfig(arch="c3d")
    with pytest.raises(UserError, match="one entry per stage, got 2 widths and 3 blocks"):
        VideoCNNConfig(widths=(8, 16), blocks=(1, 1, 1))
    with pytest.raises(UserError, match="unknown CNN preset 'huge'"):
        VideoCNNConfig.preset("huge")
    with pytest.raises(UserError, match="unknown config field 'depth'"):
        VideoCNNConfig.from_dict({"depth": 2})
    model = VideoResNet(VideoCNNConfig.preset("nano", num_classes=2))
    with pytest.raises(
        UserError,
        match=r"expected a video batch of shape \(B, T, 3, H, W\), "
        r"got \(8, 3, 32, 32\)",
    ):
        model(torch.randn(8, 3, 32, 32))
    with pytest.raises(UserError, match="expected 3 channels at dim 2"):
        model(torch.randn(1, 8, 1, 32, 32))


def test_save_and_load_round_trip(tmp_path):
    cfg = VideoCNNConfig.preset("nano", arch="i3d", num_classes=3, label_names=["a", "b", "c"])
    model = VideoResNet(cfg).eval()
    randomize(model, seed=2)
    model.save_pretrained(tmp_path / "cnn")
    back = VideoResNet.from_pretrained(tmp_path / "cnn")
    assert back.config == cfg and not back.training
    video = torch.randn(2, 8, 3, 32, 32)
    torch.testing.assert_close(back(video), model(video))
    with pytest.raises(
        UserError, match="holds a 'mini-timesformer-cnn' model, not a 'mini-timesformer' one"
    ):
        mt.TimeSformer.from_pretrained(tmp_path / "cnn")
    fresh = VideoResNet.from_pretrained(tmp_path / "cnn", num_classes=5)  # new head
    assert fresh.head.out_features == 5


def test_load_model_picks_the_class_that_saved(tmp_path):
    from mini_timesformer.train.models import load_model

    cnn = VideoResNet(VideoCNNConfig.preset("nano", num_classes=2))
    tsf = mt.TimeSformer(mt.TimeSformerConfig.preset("nano", depth=1, num_classes=2))
    cnn.save_pretrained(tmp_path / "cnn")
    tsf.save_pretrained(tmp_path / "tsf")
    assert type(load_model(tmp_path / "cnn")) is VideoResNet
    assert type(load_model(tmp_path / "tsf")) is mt.TimeSformer
