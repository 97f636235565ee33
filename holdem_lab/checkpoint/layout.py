"""File names of a checkpoint directory: the three files of a checkpoint and writer temp files.

A checkpoint at iteration N is exactly three files in one directory::

    checkpoint_iter{N:012d}.npz                 policy (average-strategy arrays)
    checkpoint_iter{N:012d}_regrets.npz         full solver state (regrets, strategy sums, ...)
    checkpoint_iter{N:012d}_metadata.json       JSON object, written last; vouches for the other two

The iteration is zero-padded to a fixed width so that lexical order (shell globs, ``ls``)
is numeric order. Names are matched against the exact pattern, digits restricted to ASCII,
and paths are always rebuilt from the parsed iteration, never taken from a directory
entry, so odd names (``checkpoint_iter5_metadata.json``, a trailing newline, non-ASCII
digits) are simply not checkpoints.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from holdem_lab.errors import CheckpointError

ITERATION_DIGITS = 12
"""Width of the zero-padded iteration number in every checkpoint file name."""

MAX_ITERATION = 10**ITERATION_DIGITS - 1
"""Largest iteration representable in a checkpoint file name."""

_PREFIX = "checkpoint_iter"


class PayloadRole(StrEnum):
    """The two array files of a checkpoint; the value is the key used in metadata ``files``."""

    POLICY = "policy"
    STATE = "state"


_SUFFIXES: dict[str, str] = {
    "policy": ".npz",
    "state": "_regrets.npz",
    "metadata": "_metadata.json",
}

_NAME_RE = re.compile(
    rf"{_PREFIX}(?P<iteration>[0-9]{{{ITERATION_DIGITS}}})"
    r"(?P<suffix>\.npz|_regrets\.npz|_metadata\.json)"
)

_TEMP_RE = re.compile(
    rf"\.{_PREFIX}(?P<iteration>[0-9]{{{ITERATION_DIGITS}}})"
    r"(?P<suffix>\.npz|_regrets\.npz|_metadata\.json)"
    r"\.tmp-[0-9]+-[0-9a-f]{16}"
)


def checkpoint_stem(iteration: int) -> str:
    """Return the common prefix of the three file names, e.g. ``checkpoint_iter000000000300``."""
    if isinstance(iteration, bool) or not isinstance(iteration, int):
        raise CheckpointError(f"iteration must be an int, not {type(iteration).__name__}")
    if not 0 <= iteration <= MAX_ITERATION:
        raise CheckpointError(f"iteration must be in [0, {MAX_ITERATION}], got {iteration}")
    return f"{_PREFIX}{iteration:0{ITERATION_DIGITS}d}"


def parse_checkpoint_name(name: str) -> int | None:
    """Return the iteration if ``name`` is exactly one of the three checkpoint file names."""
    match = _NAME_RE.fullmatch(name)
    return int(match["iteration"]) if match else None


def is_temp_name(name: str) -> bool:
    """True if ``name`` is a temp file left by a checkpoint writer (see :func:`temp_name`)."""
    return _TEMP_RE.fullmatch(name) is not None


def unfinished_metadata_iteration(name: str) -> int | None:
    """The iteration if ``name`` is the temp file of a checkpoint's metadata: the writer holds
    it from before the payloads until the end of the write."""
    match = _TEMP_RE.fullmatch(name)
    return int(match["iteration"]) if match and match["suffix"] == _SUFFIXES["metadata"] \
        else None


def temp_name(final_name: str, pid: int, token: str) -> str:
    """Temp file name under which ``final_name`` is written before the atomic rename.

    Hidden (leading dot) so it never matches a checkpoint glob; carries the writer's pid and a
    random 16-hex-digit token so concurrent or crashed writers never collide.
    """
    return f".{final_name}.tmp-{pid}-{token}"


@dataclass(frozen=True)
class CheckpointPaths:
    """The three file paths of the checkpoint at ``iteration`` in ``directory``."""

    iteration: int
    directory: Path
    policy: Path
    state: Path
    metadata: Path

    @property
    def info(self) -> CheckpointInfo:
        """The :class:`CheckpointInfo` naming the same checkpoint."""
        return CheckpointInfo(self.iteration, self.directory)


@dataclass(frozen=True, order=True)
class CheckpointInfo:
    """A checkpoint found in (or destined for) a directory, identified by its iteration.

    Holds no file contents: whether the checkpoint is complete is decided by
    ``verify_checkpoint``. Ordered by iteration, then directory.
    """

    iteration: int
    directory: Path

    def __post_init__(self) -> None:
        checkpoint_stem(self.iteration)  # validates type and range

    @property
    def stem(self) -> str:
        """Common file-name prefix, e.g. ``checkpoint_iter000000000300``."""
        return checkpoint_stem(self.iteration)

    @property
    def policy_path(self) -> Path:
        """Path of the policy npz (``checkpoint_iter…npz``)."""
        return self.directory / (self.stem + _SUFFIXES["policy"])

    @property
    def state_path(self) -> Path:
        """Path of the solver-state npz (``checkpoint_iter…_regrets.npz``)."""
        return self.directory / (self.stem + _SUFFIXES["state"])

    @property
    def metadata_path(self) -> Path:
        """Path of the metadata JSON (``checkpoint_iter…_metadata.json``)."""
        return self.directory / (self.stem + _SUFFIXES["metadata"])

    def payload_path(self, role: PayloadRole) -> Path:
        """Path of the payload file playing ``role``."""
        return self.policy_path if role is PayloadRole.POLICY else self.state_path

    @property
    def paths(self) -> CheckpointPaths:
        """All three paths at once."""
        return CheckpointPaths(
            iteration=self.iteration,
            directory=self.directory,
            policy=self.policy_path,
            state=self.state_path,
            metadata=self.metadata_path,
        )
