"""Command-line entry points."""

from __future__ import annotations

import argparse
from decimal import Decimal, InvalidOperation
from typing import NoReturn


class ArgumentParser(argparse.ArgumentParser):
    """argparse's parser with a usage mistake reported on one line, like every other error of
    these commands (``--help`` shows the usage)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def count(text: str) -> int:
    """An argparse type for counts: ``1000000``, ``1_000_000`` or ``1e6``, whole numbers only
    (parsed exactly, so ``1e30`` is 10**30, not the nearest float)."""
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        raise argparse.ArgumentTypeError(f"invalid count: {text!r}") from None
    if not value.is_finite() or value != value.to_integral_value():
        raise argparse.ArgumentTypeError(f"invalid count: {text!r} is not a whole number")
    return int(value)


def positive_count(text: str) -> int:
    """:func:`count`, at least 1."""
    value = count(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} must be >= 1")
    return value
