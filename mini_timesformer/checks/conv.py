"""Checks for exercise 11: the cost of a (2+1)D convolution for any kernel and stride, and
I3D's inflation of a 2-D kernel (the 3-D CNN baselines of paper §4.2 and Table 2;
``cnn.Conv2Plus1D``, ``cost.cnn_macs``).

References: R(2+1)D's middle width (Tran et al., CVPR 2018, Sec. 3.5) for a t×d×d kernel;
the block built from ``nn.Conv3d`` layers, its parameters counted with ``numel`` and its
multiply-adds with ``FlopCounterMode`` (2 FLOPs per MAC); inflation as Carreira &
Zisserman (CVPR 2017) describe it: the 2-D kernel repeated over t frames and divided by t,
so that a static clip gives the 2-D response.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from .core import CheckFailed, call, generator, passed, single_thread

# (n_in, n_out, t, d): the 3×3×3 case and kernels that are not
MIDPLANES_CASES = ((8, 24, 3, 3), (3, 8, 3, 7), (16, 16, 5, 3), (64, 128, 3, 1), (24, 40, 1, 5))
# (n_in, n_out, t, d, T, H, W, stride)
COST_CASES = (
    (8, 24, 3, 3, 8, 16, 16, 1),
    (8, 16, 5, 3, 8, 16, 16, 1),
    (3, 24, 3, 7, 8, 32, 32, 2),
    (24, 24, 5, 5, 7, 15, 15, 2),
    (16, 32, 3, 3, 16, 9, 12, 3),
)
# (C_out, C_in, d, t)
INFLATE_CASES = ((4, 3, 3, 5), (6, 2, 5, 4), (2, 5, 1, 3))


def reference_midplanes(n_in: int, n_out: int, t: int, d: int) -> int:
    """The middle width that gives a (2+1)D pair the weights of a t×d×d kernel, rounded down."""
    return (t * d * d * n_in * n_out) // (d * d * n_in + t * n_out)


def reference_block(n_in: int, n_out: int, t: int, d: int, stride: int) -> nn.Sequential:
    """Spatial 1×d×d (stride in H, W) -> BatchNorm -> ReLU -> temporal t×1×1 (stride in T)."""
    mid = reference_midplanes(n_in, n_out, t, d)
    return nn.Sequential(
        nn.Conv3d(n_in, mid, (1, d, d), (1, stride, stride), (0, d // 2, d // 2), bias=False),
        nn.BatchNorm3d(mid),
        nn.ReLU(),
        nn.Conv3d(mid, n_out, (t, 1, 1), (stride, 1, 1), (t // 2, 0, 0), bias=False),
    )


@single_thread
def reference_cost(n_in, n_out, t, d, T, H, W, stride) -> tuple[int, int]:
    """(parameters, MACs on one (n_in, T, H, W) input) of ``reference_block``, counted."""
    block = reference_block(n_in, n_out, t, d, stride).eval()
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        block(torch.zeros(1, n_in, T, H, W))
    return sum(p.numel() for p in block.parameters()), counter.get_total_flops() // 2


def _integer(value, what: str) -> int:
    if isinstance(value, torch.Tensor) and value.numel() == 1:
        value = value.item()
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool):
        raise CheckFailed(f"{what}: expected an integer, got {value!r}")
    return value


def check_midplanes(fn, cases=MIDPLANES_CASES) -> None:
    """fn(n_in, n_out, t, d) -> the (2+1)D middle width for a t×d×d kernel."""
    for n_in, n_out, t, d in cases:
        what = f"midplanes({n_in}, {n_out}, t={t}, d={d})"
        got = _integer(call(fn, n_in, n_out, t, d, what=what, hint="see the formula"), what)
        expected = reference_midplanes(n_in, n_out, t, d)
        if got == expected:
            continue
        num, den = t * d * d * n_in * n_out, d * d * n_in + t * n_out
        variants = {
            "the 27, 9 and 3 of the 3×3×3 case: for a t×d×d kernel they are t·d², d² and t": (
                27 * n_in * n_out
            )
            // (9 * n_in + 3 * n_out),
            "rounded up or to the nearest: Tran et al. round down (floor)": -(-num // den),
            "d²·N_out + t·N_in in the denominator: the spatial kernel (d² weights) reads the "
            "N_in input channels, the temporal one (t) writes the N_out": num
            // (d * d * n_out + t * n_in),
        }
        hint = next((m for m, v in variants.items() if v == got and v != expected), None)
        raise CheckFailed(
            f"{what}: got {got}, expected {expected}"
            + (f". Likely mistake: {hint}" if hint else "")
        )
    passed(f"the (2+1)D middle width for {len(cases)} kernels, 3×3×3 and others")


def _out(n: int, k: int, s: int) -> int:
    """Output length of a kernel-k convolution with 'same' padding k // 2 and stride s."""
    return (n + 2 * (k // 2) - k) // s + 1


def _cost_variants(n_in, n_out, t, d, T, H, W, s) -> dict[str, tuple[int | None, int | None]]:
    """The classic mistakes: (params, MACs) each would give (None: that part is right)."""
    m = reference_midplanes(n_in, n_out, t, d)
    weights = m * n_in * d * d + n_out * m * t

    def macs(t_sp, h, w, t_tm, kt=t, kd=d, mid=m):
        return t_sp * h * w * mid * n_in * kd * kd + t_tm * h * w * n_out * mid * kt

    h, w, tt = _out(H, d, s), _out(W, d, s), _out(T, t, s)
    m3 = (27 * n_in * n_out) // (9 * n_in + 3 * n_out)
    h3, w3, tt3 = _out(H, 3, s), _out(W, 3, s), _out(T, 3, s)
    return {
        "a 3×3×3 kernel (the lesson's formulas): this block's kernel is t×d×d — 1×d×d "
        "spatially, t×1×1 in time, with the middle width for that kernel": (
            m3 * n_in * 9 + 2 * m3 + n_out * m3 * 3,
            macs(T, h3, w3, tt3, kt=3, kd=3, mid=m3),
        ),
        "no BatchNorm in the parameters: its scale and shift are 2·M parameters": (weights, None),
        "BatchNorm's running mean and variance counted: they are buffers, not parameters": (
            weights + 4 * m,
            None,
        ),
        "FLOPs as FlopCounterMode reports them: one multiply-add is one MAC (divide by 2)": (
            None,
            2 * macs(T, h, w, tt),
        ),
        "the stride left out: the spatial convolution strides H and W, the temporal one T": (
            None,
            macs(T, H, W, T),
        ),
        "the spatial convolution strided in time too: it keeps all T frames (stride (1, s, s))": (
            None,
            macs(tt, h, w, tt),
        ),
        "no padding: the block pads d // 2 in space and t // 2 in time ('same' at stride 1)": (
            None,
            macs(T, (H - d) // s + 1, (W - d) // s + 1, (T - t) // s + 1),
        ),
    }


def check_conv2plus1d_cost(fn, cases=COST_CASES) -> None:
    """fn(n_in, n_out, t, d, T, H, W, stride) -> (parameters, MACs) of one (2+1)D pair."""
    for case in cases:
        what = "conv2plus1d_cost({}, {}, t={}, d={}, T={}, H={}, W={}, stride={})".format(*case)
        got = call(fn, *case, what=what, hint="return (parameters, MACs)")
        if not isinstance(got, tuple | list) or len(got) != 2:
            raise CheckFailed(f"{what}: expected a pair (parameters, MACs), got {got!r}")
        got = (_integer(got[0], f"{what} parameters"), _integer(got[1], f"{what} MACs"))
        expected = reference_cost(*case)
        for i, part in enumerate(("parameters", "MACs")):
            if got[i] == expected[i]:
                continue
            hint = next(
                (
                    m
                    for m, v in _cost_variants(*case).items()
                    if v[i] == got[i] and v[i] != expected[i]
                ),
                None,
            )
            raise CheckFailed(
                f"{what}: {part} {got[i]:,}, expected {expected[i]:,} (numel / FlopCounterMode"
                f" of the block built from nn.Conv3d)"
                + (f". Likely mistake: {hint}" if hint else "")
            )
    passed(f"parameters and MACs of {len(cases)} (2+1)D pairs, other kernels and strides")


def reference_inflate(weight: torch.Tensor, t: int) -> torch.Tensor:
    """(C_out, C_in, d, d) -> (C_out, C_in, t, d, d): repeated over time, divided by t."""
    return weight[:, :, None].expand(-1, -1, t, -1, -1) / t


def check_inflate(fn, cases=INFLATE_CASES) -> None:
    """fn(weight (C_out, C_in, d, d), t) -> the I3D-inflated (C_out, C_in, t, d, d) kernel."""
    for c_out, c_in, d, t in cases:
        g = generator(c_out * 100 + t)
        weight = torch.randn(c_out, c_in, d, d, generator=g)
        what = f"inflate(weight {tuple(weight.shape)}, t={t})"
        got = call(fn, weight.clone(), t, what=what, hint="return a tensor")
        expected_shape = (c_out, c_in, t, d, d)
        if not isinstance(got, torch.Tensor) or tuple(got.shape) != expected_shape:
            shape = tuple(got.shape) if isinstance(got, torch.Tensor) else type(got).__name__
            raise CheckFailed(
                f"{what}: expected shape {expected_shape} (C_out, C_in, t, d, d: the time axis "
                f"goes between the channels and the spatial axes), got {shape}"
            )
        got = got.detach().float()
        T, S = t + 3, 9
        frame = torch.randn(1, c_in, S, S, generator=g)
        static = frame[:, :, None].expand(-1, -1, T, -1, -1)  # (1, C_in, T, S, S): one frame
        pad = d // 2
        image = F.conv2d(frame, weight, padding=pad)  # (1, C_out, S, S)
        response = F.conv3d(static, got, padding=(0, pad, pad))  # (1, C_out, T - t + 1, S, S)
        scale = (response[:, :, 0] * image).sum() / (image * image).sum()
        if not torch.allclose(response, image[:, :, None].expand_as(response), atol=1e-4):
            hint = (
                f"the response is {scale:.3g}× the 2-D one: divide the repeated kernel by t"
                if abs(scale - t) < 1e-3
                else "a static clip (one frame repeated) must give the 2-D kernel's response on "
                "every frame: the t slices of the kernel must sum to the 2-D kernel"
            )
            raise CheckFailed(f"{what}: wrong response on a static clip. Likely mistake: {hint}")
        moving = torch.randn(1, c_in, T, S, S, generator=g)
        expected = reference_inflate(weight, t)
        if not torch.allclose(
            F.conv3d(moving, got, padding=(0, pad, pad)),
            F.conv3d(moving, expected, padding=(0, pad, pad)),
            atol=1e-4,
        ):
            centre = torch.zeros_like(expected)
            centre[:, :, t // 2] = weight
            hint = (
                "the 2-D kernel at the centre frame only: right on a static clip too, but I3D "
                "repeats it over all t frames, each slice ÷ t"
                if torch.allclose(got, centre, atol=1e-6)
                else "every time slice is the same, weight / t (I3D's repetition)"
            )
            raise CheckFailed(f"{what}: right on a static clip, wrong on a moving one: {hint}")
    passed(
        f"inflation of {len(cases)} 2-D kernels: the 2-D response on static clips, I3D's on moving ones"
    )
