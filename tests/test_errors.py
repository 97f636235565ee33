"""The error table: every error class's exit code, the codes of errors known only by name (a
chunk notebook's), and README.md's exit-code table, which must say what the table says."""

from __future__ import annotations

import errno
import re
from pathlib import Path

import pytest

from holdem_lab import errors
from holdem_lab.checkpoint import CheckpointInfo
from holdem_lab.checkpoint.store import CheckpointVerificationError as StoreVerificationError
from holdem_lab.checkpoint.store import VerificationReason
from holdem_lab.errors import (
    EXIT_CODES,
    CheckpointError,
    CheckpointVerificationError,
    ConfigError,
    HoldemLabError,
    error_classes,
    exit_code_for_name,
    exit_code_of,
)
from holdem_lab.lab import driver

README = Path(__file__).resolve().parents[1] / "README.md"


def _readme_exit_codes() -> dict[int, str]:
    text = README.read_text(encoding="utf-8")
    section = text[text.index("**Exit codes**"):]
    section = section[section.index("| code | meaning |"):]
    table: dict[int, str] = {}
    for line in section.splitlines()[2:]:
        match = re.fullmatch(r"\| (\d+) \| (.+) \|", line)
        if match is None:
            break
        table[int(match[1])] = match[2]
    return table


def test_the_readme_exit_code_table_is_the_error_table() -> None:
    assert _readme_exit_codes() == EXIT_CODES


def test_every_error_class_lives_in_errors_and_has_a_documented_code() -> None:
    classes = list(error_classes())
    names = {cls.__name__ for cls in classes}
    assert {"ConfigError", "GameError", "IllegalActionError", "CheckpointError",
            "CheckpointVerificationError", "ResumeMismatchError", "BlueprintMismatchError",
            "BucketError", "RunLockedError", "LabError", "ChunkFailedError",
            "AnalysisFailedError"} <= names
    assert len(names) == len(classes), "two error classes share a name"
    for cls in classes:
        assert cls.__module__ == "holdem_lab.errors", cls
        assert cls.exit_code in EXIT_CODES, cls
        assert cls.exit_code not in (errors.CHUNK_DONE, errors.COMPLETE, errors.STOPPED), cls


def test_the_old_homes_of_moved_classes_still_name_the_same_classes() -> None:
    assert StoreVerificationError is CheckpointVerificationError
    assert issubclass(CheckpointVerificationError, CheckpointError)
    assert driver.LabError is errors.LabError
    assert driver.ChunkFailedError is errors.ChunkFailedError
    assert driver.AnalysisFailedError is errors.AnalysisFailedError
    assert issubclass(errors.ChunkFailedError, errors.LabError)
    assert issubclass(errors.AnalysisFailedError, errors.LabError)
    assert issubclass(errors.LabError, HoldemLabError)


def test_a_verification_error_reads_as_before(tmp_path: Path) -> None:
    info = CheckpointInfo(400, tmp_path)
    error = CheckpointVerificationError(info, VerificationReason.SHA256_MISMATCH,
                                        tmp_path / "x.npz", "expected a, found b")
    assert str(error) == (f"checkpoint_iter000000000400: sha256 mismatch in {tmp_path}/x.npz: "
                          "expected a, found b")
    assert exit_code_of(error) == errors.CHECKPOINT


@pytest.mark.parametrize(("name", "code"), [
    ("ConfigError", errors.USAGE),
    ("GameError", errors.USAGE),
    ("ResumeMismatchError", errors.MISMATCH),
    ("BucketError", errors.MISMATCH),
    ("RunLockedError", errors.LOCKED),
    ("CheckpointError", errors.CHECKPOINT),
    ("CheckpointVerificationError", errors.CHECKPOINT),
    ("OSError", errors.IO),
    ("PermissionError", errors.IO),
    ("FileNotFoundError", errors.IO),
    ("IsADirectoryError", errors.IO),
    ("NotADirectoryError", errors.IO),
    ("ConnectionResetError", errors.IO),
    ("KeyboardInterrupt", errors.INTERRUPTED),
    ("DeadKernelError", errors.ERROR),
    ("MissingResult", errors.ERROR),
    ("ValueError", errors.ERROR),
    ("HoldemLabError", errors.ERROR),
    ("print", errors.ERROR),
])
def test_a_notebook_error_name_maps_through_the_same_table(name: str, code: int) -> None:
    assert exit_code_for_name(name) == code


def test_a_checkpoint_error_caused_by_the_system_is_an_io_error() -> None:
    try:
        raise CheckpointError("cannot write") from OSError(errno.ENOSPC, "No space left")
    except CheckpointError as exc:
        assert exit_code_of(exc) == errors.IO
    assert exit_code_of(CheckpointError("corrupt")) == errors.CHECKPOINT
    assert exit_code_of(OSError(errno.EIO, "I/O")) == errors.IO
    assert exit_code_of(KeyboardInterrupt()) == errors.INTERRUPTED
    assert exit_code_of(RuntimeError("bug")) == errors.ERROR


def test_config_error_carries_its_related_fields() -> None:
    error = ConfigError("regret_floor", -1.0, "must be <= prune_threshold",
                        related=("prune_threshold",))
    assert error.fields == ("regret_floor", "prune_threshold")
    assert str(error) == "regret_floor=-1.0: must be <= prune_threshold"
    assert ConfigError("seed", -1, "must be >= 0").fields == ("seed",)
    assert error.message() == "invalid configuration: regret_floor=-1.0: must be <= " \
                              "prune_threshold"
