"""Reading a run directory for the notebooks: checkpoint metadata and policies only.

Analysis and strategy browsing never need the solver state (``_regrets.npz``, the largest file
of a Hold'em checkpoint), so nothing here reads it. Metadata is checked against its own
``metadata_sha256`` and a policy against the sha256 its metadata records, so a damaged or
half-written file is reported instead of being plotted. Checkpoints whose metadata cannot be
read are skipped and described in ``problems``.
"""

from __future__ import annotations

import hashlib
import io
from typing import Any

import numpy as np

from holdem_lab.checkpoint.arrays import NpzFormatError, inspect_npz, load_npz
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
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise CheckpointError(f"{info.stem}: cannot read {path}: {exc.strerror}") from None
    if entry.get("size_bytes") != len(data) or \
            entry.get("sha256") != hashlib.sha256(data).hexdigest():
        raise CheckpointError(f"{info.stem}: {path} does not match its metadata "
                              "(size or sha256 differ)")
    stream = io.BytesIO(data)
    try:
        arrays = load_npz(stream, inspect_npz(stream, len(data)))
    except NpzFormatError as exc:
        raise CheckpointError(f"{info.stem}: {path}: {exc}") from None
    if POLICY_ARRAY not in arrays:
        raise CheckpointError(f"{info.stem}: {path} holds no {POLICY_ARRAY!r} array")
    return arrays[POLICY_ARRAY]


def game_of(metadata: dict[str, Any]) -> Game:
    """Rebuild the game a checkpoint was trained on (buckets included)."""
    return build_game(game_spec_of(metadata))
