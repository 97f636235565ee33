"""The exit codes of holdem_lab's commands, as names, and their --help text: a view of the table
in :mod:`holdem_lab.errors` (:data:`~holdem_lab.errors.EXIT_CODES`)."""

from __future__ import annotations

import textwrap
from collections.abc import Iterable, Mapping

from holdem_lab.errors import (
    CHECKPOINT,
    CHUNK_DONE,
    CLUSTER,
    COMPLETE,
    ERROR,
    EXIT_CODES,
    INTERRUPTED,
    IO,
    LOCKED,
    MISMATCH,
    STOPPED,
    USAGE,
)

__all__ = ["CHECKPOINT", "CHUNK_DONE", "CLUSTER", "COMPLETE", "DESCRIPTIONS", "ERROR",
           "INTERRUPTED", "IO", "LOCKED", "MISMATCH", "STOPPED", "USAGE", "epilog"]

DESCRIPTIONS: Mapping[int, str] = EXIT_CODES


def epilog(codes: Iterable[int] | None = None, meanings: Mapping[int, str] | None = None
           ) -> str:
    """The exit-code table for --help: ``codes`` (default: all) with the table's text, except
    where ``meanings`` says what a code means for this command (what "done" is, say)."""
    meanings = meanings or {}
    lines = ["exit codes:"]
    for code in sorted(EXIT_CODES if codes is None else codes):
        lines += textwrap.wrap(meanings.get(code, EXIT_CODES[code]), width=94,
                               initial_indent=f"  {code:<4}", subsequent_indent=" " * 6)
    return "\n".join(lines)
