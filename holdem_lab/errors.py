"""The exception hierarchy: every error holdem_lab raises on purpose derives from HoldemLabError.

The CLI maps each class to one line of text and a documented exit code
(see holdem_lab.cli.exit_codes).
"""

from __future__ import annotations

import reprlib

# Values are shown in messages through a bounded repr: a hostile config (a YAML alias bomb,
# a million-element list) must still give a one-line error.
_SHORT = reprlib.Repr()
_SHORT.maxstring = 80
_SHORT.maxother = 80
_SHORT.maxlong = 40
_SHORT.maxlist = _SHORT.maxtuple = _SHORT.maxdict = _SHORT.maxset = 6
_SHORT.maxlevel = 3


class HoldemLabError(Exception):
    """Root of every error raised deliberately by holdem_lab."""


class ConfigError(HoldemLabError, ValueError):
    """A configuration field has an invalid value, or a config file has an unknown key."""

    def __init__(self, field: str, value: object, reason: str) -> None:
        self.field = field
        self.value = value
        self.reason = reason
        super().__init__(f"{_SHORT.repr(field) if not isinstance(field, str) else field}="
                         f"{_SHORT.repr(value)}: {reason}")


class GameError(HoldemLabError, ValueError):
    """A game could not be built from the given parameters."""


class IllegalActionError(HoldemLabError, ValueError):
    """An action is not legal in the current state of a hand."""


class CheckpointError(HoldemLabError):
    """A checkpoint is missing, incomplete, corrupt, or of an unknown format."""


class ResumeMismatchError(HoldemLabError):
    """A run cannot be resumed because something that defines it changed (game, buckets, config)."""


class BucketError(HoldemLabError):
    """A bucket file is malformed or does not match the game."""


class RunLockedError(HoldemLabError):
    """Another process holds the run directory's lock."""
