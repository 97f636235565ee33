"""Command-line entry points."""

from __future__ import annotations

import argparse
from typing import NoReturn


class ArgumentParser(argparse.ArgumentParser):
    """argparse's parser with a usage mistake reported on one line, like every other error of
    these commands (``--help`` shows the usage)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def count(text: str) -> int:
    """An argparse type for counts: ``1000000``, ``1_000_000`` or ``1e6``, whole numbers only."""
    try:
        return int(text)
    except ValueError:
        pass
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid count: {text!r}") from None
    if not value.is_integer():
        raise argparse.ArgumentTypeError(f"invalid count: {text!r} is not a whole number")
    return int(value)
