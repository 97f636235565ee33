"""Checkpoint store: complete, atomic, pickle-free checkpoints of a training run, and the one
file I/O layer every part of the package writes and reads through.

* :func:`atomic_write` / :func:`atomic_file`: a file appears whole under its name or not at
  all (temp file in the same directory, fsync, rename, fsync of the directory);
* :func:`move_durably`: a file already whole (written by another process) renamed into place;
* :func:`read_npz`: an npz file read without pickles, checked against the sha256 and size its
  caller trusts;
* :func:`read_metadata`: a checkpoint's metadata, self-hash and ``format_version`` checked,
  :data:`~holdem_lab.checkpoint.store.MIGRATIONS` applied.

See :mod:`holdem_lab.checkpoint.store` for the guarantees and
:mod:`holdem_lab.checkpoint.layout` for the file names.
"""

from holdem_lab.checkpoint.fileio import (
    AtomicFile,
    AtomicWriteError,
    atomic_file,
    atomic_write,
    move_durably,
)
from holdem_lab.checkpoint.layout import (
    ITERATION_DIGITS,
    MAX_ITERATION,
    CheckpointInfo,
    CheckpointPaths,
    PayloadRole,
    checkpoint_stem,
    parse_checkpoint_name,
)
from holdem_lab.checkpoint.store import (
    FORMAT_VERSION,
    RESERVED_METADATA_KEYS,
    CheckpointVerificationError,
    LoadedCheckpoint,
    PayloadError,
    VerificationReason,
    clean_temp_files,
    delete_checkpoint,
    find_latest_complete,
    list_checkpoints,
    load_checkpoint,
    load_latest_complete,
    prune_checkpoints,
    read_metadata,
    read_npz,
    verify_checkpoint,
    write_checkpoint,
)

__all__ = [
    "FORMAT_VERSION",
    "ITERATION_DIGITS",
    "MAX_ITERATION",
    "RESERVED_METADATA_KEYS",
    "AtomicFile",
    "AtomicWriteError",
    "CheckpointInfo",
    "CheckpointPaths",
    "CheckpointVerificationError",
    "LoadedCheckpoint",
    "PayloadError",
    "PayloadRole",
    "VerificationReason",
    "atomic_file",
    "atomic_write",
    "checkpoint_stem",
    "clean_temp_files",
    "delete_checkpoint",
    "find_latest_complete",
    "list_checkpoints",
    "load_checkpoint",
    "load_latest_complete",
    "move_durably",
    "parse_checkpoint_name",
    "prune_checkpoints",
    "read_metadata",
    "read_npz",
    "verify_checkpoint",
    "write_checkpoint",
]
