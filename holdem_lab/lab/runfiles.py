"""Reading a run directory for the notebooks: checkpoint metadata and policies only.

Analysis and strategy browsing never need the solver state (``_regrets.npz``, the largest file
of a Hold'em checkpoint), so nothing here reads it. Metadata is checked against its own
``metadata_sha256`` and a policy against the sha256 its metadata records, so a damaged or
half-written file is reported instead of being plotted. Checkpoints whose metadata cannot be
read are skipped and described in ``problems``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from holdem_lab import checkpoint as checkpoint_io
from holdem_lab.checkpoint import CheckpointInfo, VerificationReason, list_checkpoints
from holdem_lab.chunks.runner import CHECKPOINT_DIR, TENSORBOARD_DIR, build_game
from holdem_lab.config import GameSpec
from holdem_lab.errors import CheckpointError
from holdem_lab.games import Game

NOTEBOOK_SUFFIX = ".ipynb"
POLICY_ARRAY = "average_policy"


@dataclass(frozen=True)
class CheckpointRecord:
    """A checkpoint whose metadata was read and checked: where it is and what it says."""

    info: CheckpointInfo
    metadata: dict[str, Any]

    @property
    def iteration(self) -> int:
        return self.info.iteration

    @property
    def chunk_index(self) -> int:
        return int(self.metadata.get("chunk_index", 0))

    @property
    def notebook(self) -> Path:
        """Where the executed chunk notebook that wrote this checkpoint is kept."""
        return notebook_path(self.info)


def checkpoint_dir(run_dir: str | os.PathLike[str]) -> Path:
    """The directory holding a run's checkpoints."""
    return Path(run_dir) / CHECKPOINT_DIR


def tensorboard_dir(run_dir: str | os.PathLike[str]) -> Path:
    """The directory holding a run's TensorBoard event files."""
    return Path(run_dir) / TENSORBOARD_DIR


def notebook_path(info: CheckpointInfo) -> Path:
    """The executed chunk notebook kept next to a checkpoint, with the checkpoint's stem."""
    return info.directory / (info.stem + NOTEBOOK_SUFFIX)


def read_metadata(info: CheckpointInfo) -> dict[str, Any]:
    """The checkpoint's metadata as the checkpoint store reads it: checked against its
    self-hash and ``format_version``, older versions migrated.

    Raises CheckpointError (with the file and the reason) when it is missing, not JSON,
    altered or of an unknown format."""
    return checkpoint_io.read_metadata(info)


def run_checkpoints(run_dir: str | os.PathLike[str]
                    ) -> tuple[list[CheckpointRecord], list[str]]:
    """Every checkpoint of a run with readable metadata, oldest first, and one problem line
    per checkpoint that was skipped."""
    records: list[CheckpointRecord] = []
    problems: list[str] = []
    for info in list_checkpoints(checkpoint_dir(run_dir)):
        try:
            records.append(CheckpointRecord(info, read_metadata(info)))
        except CheckpointError as exc:
            problems.append(str(exc))
    return records, problems


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


def game_spec_of(metadata: dict[str, Any]) -> GameSpec:
    """The GameSpec a checkpoint was trained on."""
    spec = metadata.get("game_spec")
    if not isinstance(spec, dict):
        raise CheckpointError("checkpoint metadata has no game_spec")
    return GameSpec(game=spec.get("game", "leduc"), game_params=spec.get("game_params") or {},
                    buckets=spec.get("buckets"))


def game_of(metadata: dict[str, Any]) -> Game:
    """Rebuild the game a checkpoint was trained on (buckets included)."""
    return build_game(game_spec_of(metadata))
