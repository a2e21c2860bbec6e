"""Shared machinery of the exercise auto-checks.

Every check runs in the same order: **shapes** first (with a hint), then **values**
against the package's reference with the same (copied) weights on random inputs, then
**properties** (rows sum to 1, which tokens a query can see, degenerate sizes). When values
differ, the check recomputes deliberately wrong variants of the reference on the same
inputs and names the mistake whose output the student's matches. Nothing is compared
with stored arrays: every expected value is computed on the fly.
"""

from __future__ import annotations

import math

import torch

from ..random_weights import randomize  # noqa: F401 - re-exported for the checks
from ..runtime import single_thread as single_thread  # checks run on one thread: tiny tensors

ATOL = 1e-4
RTOL = 1e-4


class CheckFailed(AssertionError):
    """A check found a mismatch; the message says what was expected and the likely mistake."""


def call(fn, *args, what: str, hint: str):
    """``fn(*args)``, a student's function; a crash becomes a ``CheckFailed`` naming the call,
    the error and the likely mistake (an unfinished stub's NotImplementedError passes through)."""
    try:
        return fn(*args)
    except NotImplementedError:
        raise
    except Exception as error:  # noqa: BLE001 - any crash in student code gets the hint
        first = str(error).splitlines()[0] if str(error) else ""
        raise CheckFailed(
            f"{what} raised {type(error).__name__}: {first}. Likely mistake: {hint}"
        ) from error


def passed(message: str) -> None:
    """Report one passed check (printed in the notebook / by ``mini-timesformer check``)."""
    print(f"  ok  {message}")


def generator(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def randn(*shape, seed: int) -> torch.Tensor:
    """A reproducible standard-normal float32 tensor."""
    return torch.randn(*shape, generator=generator(seed))


def as_tensor(value, what: str) -> torch.Tensor:
    if not torch.is_tensor(value):
        raise CheckFailed(f"{what}: expected a torch.Tensor, got {type(value).__name__}")
    return value


def unpack(value, count: int, what: str) -> tuple:
    """Check that a function returned a tuple of ``count`` items."""
    if not isinstance(value, tuple | list) or len(value) != count:
        got = f"a {type(value).__name__}" + (
            f" of length {len(value)}" if isinstance(value, tuple | list) else ""
        )
        raise CheckFailed(f"{what}: expected a tuple of {count} values, got {got}")
    return tuple(value)


def check_shape(value, expected, what: str, hint: str = "") -> torch.Tensor:
    """Shape check, the first thing every check does."""
    value = as_tensor(value, what)
    if tuple(value.shape) != tuple(expected):
        raise CheckFailed(
            f"{what}: expected shape {tuple(expected)}, got {tuple(value.shape)}"
            + (f". Hint: {hint}" if hint else "")
        )
    return value


def close(a: torch.Tensor, b: torch.Tensor) -> bool:
    return (
        a.shape == b.shape
        and bool(torch.isfinite(a).all())
        and torch.allclose(a.double(), b.double(), atol=ATOL, rtol=RTOL)
    )


def compare(
    got, expected: torch.Tensor, what: str, variants: dict | None = None, hint: str = ""
) -> None:
    """Value check: ``got`` ≈ ``expected``; otherwise name the mistake it matches.

    ``variants`` maps a description of a mistake to a function computing the reference
    with that mistake made (evaluated lazily, only when the values differ).
    """
    got = check_shape(got, expected.shape, what, hint)
    if got.dtype != expected.dtype:
        raise CheckFailed(f"{what}: expected dtype {expected.dtype}, got {got.dtype}")
    if close(got, expected):
        return
    for mistake, make in (variants or {}).items():
        wrong = make()
        if wrong is not None and close(got, wrong):
            raise CheckFailed(f"{what}: wrong values. Likely mistake: {mistake}")
    diff = (got.double() - expected.double()).abs().nan_to_num(math.inf)
    where = tuple(int(i) for i in torch.unravel_index(diff.argmax(), diff.shape))
    raise CheckFailed(
        f"{what}: wrong values (largest difference {diff.max().item():.3g} at "
        f"index {where})" + (f". Hint: {hint}" if hint else "")
    )


def changed_tokens(fn, x: torch.Tensor, token: int, eps: float = 1.0) -> torch.Tensor:
    """Which output tokens of ``fn(x)`` (B, L, D) -> (B, L, D) move when token ``token``
    of the input is perturbed: a bool vector (L,). Reads off what a query can see."""
    with torch.no_grad():
        base = fn(x)
        bumped = x.clone()  # a random direction: a constant shift would vanish in LayerNorm
        bumped[:, token] += eps * randn(x.shape[-1], seed=token)
        moved = fn(bumped)
    return (moved - base).abs().amax(dim=(0, 2)) > 1e-6


def describe_tokens(mask: torch.Tensor, grid) -> str:
    """Name a few tokens of a patch-token mask as (t, h, w) triples."""
    T, H, W = grid
    ids = mask.nonzero().flatten().tolist()
    names = [f"(t={i // (H * W)}, h={i // W % H}, w={i % W})" for i in ids[:4]]
    return ", ".join(names) + (f" and {len(ids) - 4} more" if len(ids) > 4 else "")
