"""Checkpoint store: complete, atomic, pickle-free checkpoints of a training run.

See :mod:`holdem_lab.checkpoint.store` for the guarantees and
:mod:`holdem_lab.checkpoint.layout` for the file names.
"""

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
    VerificationReason,
    clean_temp_files,
    delete_checkpoint,
    find_latest_complete,
    list_checkpoints,
    load_checkpoint,
    load_latest_complete,
    prune_checkpoints,
    verify_checkpoint,
    write_checkpoint,
)

__all__ = [
    "FORMAT_VERSION",
    "ITERATION_DIGITS",
    "MAX_ITERATION",
    "RESERVED_METADATA_KEYS",
    "CheckpointInfo",
    "CheckpointPaths",
    "CheckpointVerificationError",
    "LoadedCheckpoint",
    "PayloadRole",
    "VerificationReason",
    "checkpoint_stem",
    "clean_temp_files",
    "delete_checkpoint",
    "find_latest_complete",
    "list_checkpoints",
    "load_checkpoint",
    "load_latest_complete",
    "parse_checkpoint_name",
    "prune_checkpoints",
    "verify_checkpoint",
    "write_checkpoint",
]
