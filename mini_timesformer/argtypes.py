"""Argument types shared by the subcommands: each turns bad text into a one-line usage
error (``argparse.ArgumentTypeError``), which the parser prints with exit status 2."""

from __future__ import annotations

import argparse
import functools

from .errors import UserError


def positive_int(text: str) -> int:
    """``"4"`` -> 4; zero, negatives and non-numbers are refused."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def positive_float(text: str) -> float:
    """``"1e-3"`` -> 0.001; zero, negatives and non-numbers are refused."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
    return value


def int_list(text: str) -> tuple[int, ...]:
    """``"2,4,8"`` (or spaces) -> (2, 4, 8); one-line ``UserError`` otherwise."""
    try:
        values = tuple(int(v) for v in text.replace(",", " ").split())
    except ValueError:
        values = ()
    if not values or min(values) < 1:
        raise UserError(f"expected positive integers separated by commas, got {text!r}")
    return values


def from_parser(parse):
    """An argparse ``type`` from a function that raises ``UserError`` on bad text."""

    @functools.wraps(parse)
    def convert(text: str):
        try:
            return parse(text)
        except UserError as err:
            raise argparse.ArgumentTypeError(str(err)) from None

    return convert


__all__ = ["positive_int", "positive_float", "int_list", "from_parser"]
