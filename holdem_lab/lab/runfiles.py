"""Reading a run directory for the notebooks: checkpoint metadata and policies only.

Analysis and strategy browsing never need the solver state (``_regrets.npz``, the largest file
of a Hold'em checkpoint), so nothing here reads it. Metadata is checked against its own
``metadata_sha256`` and a policy against the sha256 its metadata records, so a damaged or
half-written file is reported instead of being plotted. Checkpoints whose metadata cannot be
read are skipped and described in ``problems``.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from holdem_lab import checkpoint as checkpoint_io
from holdem_lab.checkpoint import VerificationReason
from holdem_lab.errors import CheckpointError
from holdem_lab.games import Game, build_game
from holdem_lab.rundir import CheckpointRecord, game_spec_of

POLICY_ARRAY = "average_policy"


def load_policy(record: CheckpointRecord) -> np.ndarray:
    """The average policy of a checkpoint, read safely (no pickles, header checks) and checked
    against the size and sha256 its metadata records."""
    info = record.info
    path = info.policy_path
    entry = record.metadata.get("files", {}).get("policy", {})
    sha256, size = entry.get("sha256"), entry.get("size_bytes")
    if not isinstance(sha256, str) or type(size) is not int:
        raise CheckpointError(f"{info.stem}: its metadata records no size and sha256 for {path}")
    try:
        arrays = checkpoint_io.read_npz(path, sha256=sha256, size=size)
    except checkpoint_io.PayloadError as exc:
        if exc.reason in (VerificationReason.SIZE_MISMATCH, VerificationReason.SHA256_MISMATCH):
            raise CheckpointError(f"{info.stem}: {path} does not match its metadata "
                                  f"({exc.reason.value}: {exc.detail})") from None
        raise CheckpointError(f"{info.stem}: {exc}") from None
    if POLICY_ARRAY not in arrays:
        raise CheckpointError(f"{info.stem}: {path} holds no {POLICY_ARRAY!r} array")
    return arrays[POLICY_ARRAY]


def game_of(metadata: dict[str, Any], *, run_root: str | os.PathLike[str] | None = None,
            buckets: str | os.PathLike[str] | None = None) -> Game:
    """Rebuild the game a checkpoint was trained on (buckets included: the recorded file, one
    with its sha256 next to ``run_root`` or in the bucket directory, or ``buckets``; see
    :func:`holdem_lab.rundir.game_spec_of`)."""
    return build_game(game_spec_of(metadata, run_root=run_root, buckets=buckets))
