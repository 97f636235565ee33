"""Command-line entry points, and the one way every command turns a failure into an exit code
and a line of text (:func:`run_command`)."""

from __future__ import annotations

import argparse
import sys
import traceback
from collections.abc import Callable, Mapping
from decimal import Decimal, InvalidOperation
from typing import NoReturn

from holdem_lab.errors import ERROR, INTERRUPTED, IO, ConfigError, HoldemLabError


class ArgumentParser(argparse.ArgumentParser):
    """argparse's parser with a usage mistake reported on one line, like every other error of
    these commands (``--help`` shows the usage)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


class HelpFormatter(argparse.RawDescriptionHelpFormatter,
                    argparse.ArgumentDefaultsHelpFormatter):
    """Descriptions and epilogs as written, and every option's default in its help (an option
    whose default is None or False shows none)."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help or ""
        if action.default is None or action.default is False or "(default" in text:
            return action.help
        return super()._get_help_string(action)


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


def run_command(prog: str, body: Callable[[], int], *,
                field_flags: Mapping[str, str] | None = None,
                interrupted: str = "interrupted") -> int:
    """Run a command's body and return its exit code; every failure becomes the code of
    :data:`holdem_lab.errors.EXIT_CODES` it maps to and one line on stderr.

    A HoldemLabError gets its class's code and label, an OSError 7, Ctrl-C 130 and the
    ``interrupted`` line (a command that checkpoints on a signal returns 8 from its body
    instead), anything else 1 with its traceback (a bug). ``field_flags`` (config field ->
    flag) adds to a ConfigError the flags that set the fields it is about."""
    try:
        return body()
    except KeyboardInterrupt:
        return fail(prog, INTERRUPTED, interrupted)
    except ConfigError as exc:
        return fail(prog, exc.exit_status(), exc.message() + flag_hint(exc, field_flags or {}))
    except HoldemLabError as exc:
        return fail(prog, exc.exit_status(), exc.message())
    except OSError as exc:
        return fail(prog, IO, f"I/O error: {exc}")
    except Exception:  # a bug: show everything
        traceback.print_exc()
        return ERROR


def flag_hint(error: ConfigError, field_flags: Mapping[str, str]) -> str:
    """The flags of the config fields an error is about, for whoever set them on the command
    line: `` (flags: --chunked, --chunk-iterations)``, or nothing (an unknown key has none)."""
    if error.field not in field_flags:
        return ""
    flags = list(dict.fromkeys(field_flags[field] for field in error.fields
                               if field in field_flags))
    return f" (flags: {', '.join(flags)})"


def fail(prog: str, code: int, message: str) -> int:
    """Print ``message`` on stderr as one line (a YAML parser's message spans several) and
    return ``code``."""
    line = " ".join(part.strip() for part in message.splitlines() if part.strip())
    print(f"{prog}: error: {line}", file=sys.stderr)
    return code
