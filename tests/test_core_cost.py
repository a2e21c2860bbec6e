"""Analytic cost (mt.cost) against the real modules, FlopCounterMode and the paper."""

import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

import mini_timesformer as mt
from mini_timesformer import cost
from mini_timesformer.cli import main
from tests.helpers import nano

PAPER_PARAMS_174 = {
    "space": 85_938_606,
    "joint": 85_938_606,
    "divided": 121_392_558,
    "local_global": 121_392_558,
    "axial": 156_846_510,
}


def count(model):
    return sum(p.numel() for p in model.parameters())


@pytest.mark.parametrize("scheme", mt.SCHEMES)
@pytest.mark.parametrize(
    "overrides",
    [
        {},
        dict(
            embed_dim=48, num_heads=3, mlp_ratio=2.0, qkv_bias=False, num_classes=0, image_size=64
        ),
    ],
)
def test_analytic_params_equal_the_module_count(scheme, overrides):
    cfg = nano(scheme, **overrides)
    assert cost.params(cfg) == count(mt.TimeSformer(cfg))


@pytest.mark.parametrize("scheme", PAPER_PARAMS_174)  # the paper's five
def test_paper_parameter_counts_exact(scheme):
    cfg = mt.TimeSformerConfig.preset("base", attention=scheme, num_classes=174)
    with torch.device("meta"):  # count without allocating 157M floats
        model = mt.TimeSformer(cfg)
    assert cost.params(cfg) == count(model) == PAPER_PARAMS_174[scheme]


def test_each_added_step_costs_what_the_paper_says():
    base = {s: cost.params(mt.TimeSformerConfig.preset("base", attention=s)) for s in mt.SCHEMES}
    assert (base["divided"] - base["joint"]) / 12 == 2_954_496
    assert (base["axial"] - base["divided"]) / 12 == 2_954_496


@pytest.mark.parametrize("scheme", mt.SCHEMES)
@pytest.mark.parametrize("frames,size", [(8, 32), (4, 64), (2, 48)])
def test_analytic_macs_match_flop_counter(scheme, frames, size):
    if scheme == "local_global" and size == 48:
        frames, size = 2, 64  # L+G needs an even patch grid
    cfg = nano(scheme)
    model = mt.TimeSformer(cfg).eval()
    # the explicit attention path is made of matmuls that FlopCounterMode sees
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        model.forward_with_attention(torch.randn(1, frames, 3, size, size))
    measured = counter.get_total_flops() / 2  # FlopCounterMode counts 2 FLOPs per MAC
    assert abs(cost.macs(cfg, frames, size) / measured - 1) < 0.01


@pytest.mark.parametrize(
    "frames,size,paper_tflops", [(8, 224, 0.59), (16, 448, 5.11), (96, 224, 7.14)]
)
def test_paper_tflops_of_divided_variants(frames, size, paper_tflops):
    # Tables 2 and 5 give divided attention's cost for 3 views, rounded to 0.01 TFLOPs; the
    # paper gives no per-view number and none for the other schemes
    cfg = mt.TimeSformerConfig.preset("base", attention="divided", num_classes=400)
    assert round(3 * cost.macs(cfg, frames, size) / 1e12, 2) == paper_tflops


@pytest.mark.parametrize(
    "scheme,frames,size,derived_gmacs",
    [
        ("divided", 8, 224, 195.8),
        ("joint", 8, 224, 179.6),
        ("space", 8, 224, 140.5),
        ("divided", 16, 448, 1702.7),
        ("divided", 96, 224, 2379.9),
        ("joint", 8, 448, 1261.8),
        ("divided", 8, 448, 850.4),
        ("joint", 32, 224, 1261.8),
        ("divided", 64, 224, 1579.2),
        ("joint", 96, 224, 8135.7),
        ("divided", 8, 560, 1408.3),
    ],
)
def test_derived_gmacs(scheme, frames, size, derived_gmacs):
    # our per-view counts (derived by hand, docs/architecture.md), not the paper's numbers
    cfg = mt.TimeSformerConfig.preset("base", attention=scheme)
    assert abs(cost.macs(cfg, frames, size) / 1e9 / derived_gmacs - 1) < 0.005


def test_keys_per_query_and_attention_memory():
    cfg = mt.TimeSformerConfig.preset("base", attention="joint")
    assert cost.keys_per_query(cfg) == 8 * 196 + 1
    assert cost.keys_per_query(cfg.replace(attention="divided")) == 8 + 196 + 1
    eager = cost.attention_memory(cfg, fused=False)
    assert eager == 2 * 12 * 1569**2 * 4  # scores + softmax, fp32
    fused = cost.attention_memory(cfg, fused=True)
    assert fused < eager / 10  # linear in L instead of quadratic
    # doubling the frames quadruples eager memory for joint, doubles fused memory
    assert cost.attention_memory(cfg, fused=False, num_frames=16) / eager == pytest.approx(
        (16 * 196 + 1) ** 2 / 1569**2
    )


def test_summary_command_prints_table1(capsys):
    assert main(["summary"]) == 0
    out = capsys.readouterr().out
    for scheme, n in PAPER_PARAMS_174.items():
        assert f"| {scheme} | {n:,} |" in out
    assert "195.8" in out and "one multiply-add counted as one FLOP" in out


def test_cli_errors_are_one_line(capsys):
    assert main(["summary", "--preset", "huge"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == (
        "mini-timesformer summary: error: unknown preset 'huge'; "
        "expected one of: nano, tiny, small, base"
    )


@pytest.mark.parametrize(
    "argv", [["frob"], ["summary", "--bogus"], ["train", "--lr", "abc"], ["demo", "--threads", "x"]]
)
def test_argument_errors_are_one_line_for_every_command(argv, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and err.count("\n") == 1 and "error:" in err
