"""The exception hierarchy and the exit-code table of holdem_lab's commands.

Every error holdem_lab raises on purpose derives from HoldemLabError. Each class carries the
exit code a command returns for it (``exit_code``) and the label its one-line message starts
with (``label``); :data:`EXIT_CODES` describes every code. The commands turn an error into that
line and code through :func:`holdem_lab.cli.run_command`; README.md's exit-code table is tested
against :data:`EXIT_CODES`.

The codes are chosen so that a plain shell loop works::

    while holdem-train-blueprint ...; do :; done

keeps running chunks while each exits 0 ("chunk done, run me again") and stops on anything else,
including 3, "training complete". (The chunked-training guide's loop breaks on any non-zero
code; with these codes it ends when training is complete instead of spinning forever.)
"""

from __future__ import annotations

import builtins
import reprlib
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

if TYPE_CHECKING:  # annotations only: checkpoint/ imports this module, never the reverse
    from holdem_lab.checkpoint.layout import CheckpointInfo
    from holdem_lab.checkpoint.store import VerificationReason

CHUNK_DONE = 0
ERROR = 1
USAGE = 2
COMPLETE = 3
CHECKPOINT = 4
MISMATCH = 5
LOCKED = 6
IO = 7
STOPPED = 8
CLUSTER = 9
INTERRUPTED = 130  # 128 + SIGINT, as a shell reports a command Ctrl-C ended

EXIT_CODES: dict[int, str] = {
    CHUNK_DONE: "chunk done, training not complete: run the same command again (other "
                "commands: success)",
    ERROR: "unexpected error (a bug: the traceback is printed)",
    USAGE: "invalid arguments or configuration",
    COMPLETE: "training complete (nothing left to do)",
    CHECKPOINT: "checkpoints corrupt or incomplete and refused",
    MISMATCH: "bucket file refused (missing or damaged), or resume refused: the game, the bucket "
              "file or a training setting changed",
    LOCKED: "another process is training this run",
    IO: "I/O error (disk full, permissions)",
    STOPPED: "stopped by SIGTERM/SIGINT after writing a checkpoint: run again to continue",
    CLUSTER: "the Ray cluster was lost (head, node or connection) or a batch did not finish "
             "in time; the last complete checkpoint is kept: run again to resume",
    INTERRUPTED: "interrupted by Ctrl-C outside training (training stops with 8 instead)",
}
"""Every exit code of the commands and what it means (the single table)."""

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

    exit_code: ClassVar[int] = ERROR
    label: ClassVar[str] = ""

    def exit_status(self) -> int:
        """The exit code for this error: its class's, unless the instance knows better."""
        return self.exit_code

    def message(self) -> str:
        """The error as a command reports it: its label, then what happened."""
        return f"{self.label}: {self}" if self.label else str(self)


class ConfigError(HoldemLabError, ValueError):
    """A configuration field has an invalid value, or a config file has an unknown key.

    ``related`` names the other fields the error is about (a rule between fields), so that a
    command can point at every flag that sets one of them."""

    exit_code = USAGE
    label = "invalid configuration"

    def __init__(self, field: str, value: object, reason: str, *,
                 related: tuple[str, ...] = ()) -> None:
        self.field = field
        self.value = value
        self.reason = reason
        self.related = related
        super().__init__(f"{_SHORT.repr(field) if not isinstance(field, str) else field}="
                         f"{_SHORT.repr(value)}: {reason}")

    @property
    def fields(self) -> tuple[str, ...]:
        """The field the error is about, then the related ones."""
        return (self.field, *self.related)


class GameError(HoldemLabError, ValueError):
    """A game could not be built from the given parameters."""

    exit_code = USAGE
    label = "invalid game"


class IllegalActionError(HoldemLabError, ValueError):
    """An action is not legal in the current state of a hand."""

    label = "illegal action"


class CheckpointError(HoldemLabError):
    """A checkpoint is missing, incomplete, corrupt, or of an unknown format."""

    exit_code = CHECKPOINT
    label = "checkpoint error"

    def exit_status(self) -> int:
        # A checkpoint that could not be read or written for a system reason is an I/O error.
        return IO if isinstance(self.__cause__, OSError) else self.exit_code


class CheckpointVerificationError(CheckpointError):
    """A checkpoint is incomplete or corrupt; ``reason`` says how and ``path`` which file.

    The message reads like ``checkpoint_iter000000000400: sha256 mismatch in
    /run/checkpoints/checkpoint_iter000000000400_regrets.npz: expected 3f2a…, found 9c41…``.
    """

    def __init__(
        self, info: CheckpointInfo, reason: VerificationReason, path: Path, detail: str = ""
    ) -> None:
        self.info = info
        self.reason = reason
        self.path = path
        self.detail = detail
        message = f"{info.stem}: {reason.value} in {path}"
        super().__init__(f"{message}: {detail}" if detail else message)


class PayloadError(CheckpointError):
    """An npz file read by ``holdem_lab.checkpoint.read_npz`` is missing, unreadable, not the
    expected bytes or not a valid payload; ``reason`` says which and ``path`` names the file.

    The message reads like ``sha256 mismatch in /run/checkpoints/checkpoint_iter…npz: expected
    3f2a…, found 9c41…``.
    """

    def __init__(self, reason: VerificationReason, path: Path, detail: str) -> None:
        self.reason = reason
        self.path = path
        self.detail = detail
        super().__init__(f"{reason.value} in {path}: {detail}")


class ResumeMismatchError(HoldemLabError):
    """A run cannot be resumed because something that defines it changed (game, buckets, config)."""

    exit_code = MISMATCH
    label = "cannot resume"


class BlueprintMismatchError(HoldemLabError):
    """Two blueprints cannot be played against each other: their games or abstractions differ."""

    exit_code = MISMATCH
    label = "blueprints do not match"


class BucketError(HoldemLabError):
    """A bucket file is malformed or does not match the game."""

    exit_code = MISMATCH
    label = "bucket file refused"


class ClusterError(HoldemLabError):
    """Training on a Ray cluster could not go on: the cluster cannot be reached, its nodes
    differ, every recovery from a lost actor failed, or a batch did not finish in time."""

    exit_code = CLUSTER
    label = "Ray cluster"


class RunLockedError(HoldemLabError):
    """Another process holds the run directory's lock."""

    exit_code = LOCKED


class LabError(HoldemLabError):
    """The driver could not run a notebook (missing notebook or kernel, bad parameters)."""

    exit_code = USAGE


class ChunkFailedError(LabError):
    """A chunk's notebook failed. ``notebook`` is its executed copy (error included) or None
    when the kernel died before anything was saved; ``error_name`` is the exception class
    raised in the notebook (``DeadKernelError`` when the kernel died)."""

    exit_code = ERROR

    def __init__(self, index: int, notebook: Path | None, error_name: str, error_value: str,
                 ) -> None:
        self.index = index
        self.notebook = notebook
        self.error_name = error_name
        self.error_value = error_value
        where = f"; executed notebook: {notebook}" if notebook else ""
        super().__init__(f"chunk {index} failed: {error_name}: {error_value}{where}")

    def exit_status(self) -> int:
        # The chunk's own error decides, as if the chunk had run in this process.
        return exit_code_for_name(self.error_name)


class AnalysisFailedError(LabError):
    """The analysis notebook failed (training itself is unaffected)."""

    exit_code = ERROR

    def __init__(self, notebook: Path | None, error_name: str, error_value: str) -> None:
        self.notebook = notebook
        self.error_name = error_name
        self.error_value = error_value
        where = f"; executed notebook: {notebook}" if notebook else ""
        super().__init__(f"analysis failed: {error_name}: {error_value}{where}")


def error_classes() -> Iterator[type[HoldemLabError]]:
    """HoldemLabError and every subclass of it, parents first."""
    pending: list[type[HoldemLabError]] = [HoldemLabError]
    seen: set[type[HoldemLabError]] = set()
    while pending:
        cls = pending.pop(0)
        if cls not in seen:
            seen.add(cls)
            yield cls
            pending.extend(cls.__subclasses__())


def exit_code_for_name(name: str) -> int:
    """The exit code of an error known only by its class name (as a notebook reports it): a
    HoldemLabError class's code, 7 for OSError and its built-in subclasses, 130 for
    KeyboardInterrupt, else 1."""
    for cls in error_classes():
        if cls.__name__ == name:
            return cls.exit_code
    builtin = getattr(builtins, name, None)
    if isinstance(builtin, type) and issubclass(builtin, OSError):
        return IO
    if builtin is KeyboardInterrupt:
        return INTERRUPTED
    return ERROR


def exit_code_of(error: BaseException) -> int:
    """The exit code a command returns for ``error``."""
    if isinstance(error, HoldemLabError):
        return error.exit_status()
    if isinstance(error, OSError):
        return IO
    if isinstance(error, KeyboardInterrupt):
        return INTERRUPTED
    return ERROR
