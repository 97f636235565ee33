"""The notebooks' checkpoint readers (holdem_lab.lab.runfiles) read through the checkpoint
store's own layer: same self-hash, format_version and migrations, same payload checks."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from holdem_lab.checkpoint import (
    FORMAT_VERSION,
    CheckpointInfo,
    read_metadata,
    store,
    write_checkpoint,
)
from holdem_lab.errors import CheckpointError
from holdem_lab.lab.runfiles import load_policy
from holdem_lab.rundir import CheckpointRecord


def _write(directory: Path, iteration: int, metadata: dict[str, Any]) -> CheckpointInfo:
    policy = {"average_policy": np.full((4, 2), 0.5)}
    state = {"regrets": np.zeros((4, 2))}
    return write_checkpoint(directory, iteration, policy, state, metadata).info


def test_a_migration_is_applied_on_the_notebooks_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A checkpoint of an older format_version (the current one, once a fake newer one is
    declared) reads through the registered migration, exactly as the store reads it."""
    info = _write(tmp_path, 100, {"chunk": 2})
    monkeypatch.setattr(store, "FORMAT_VERSION", FORMAT_VERSION + 1)
    with pytest.raises(CheckpointError, match="unsupported format_version"):
        read_metadata(info)  # no migration registered: refused, not misread

    def chunk_to_chunk_index(document: dict[str, Any]) -> dict[str, Any]:
        document = dict(document)
        document["chunk_index"] = document.pop("chunk")
        document["format_version"] = FORMAT_VERSION + 1
        return document

    monkeypatch.setitem(store.MIGRATIONS, FORMAT_VERSION, chunk_to_chunk_index)
    metadata = read_metadata(info)
    assert metadata["format_version"] == FORMAT_VERSION + 1
    assert "chunk" not in metadata
    record = CheckpointRecord(info, metadata)
    assert record.chunk_index == 2
    assert load_policy(record).tolist() == [[0.5, 0.5]] * 4


def test_a_newer_format_and_an_altered_file_are_refused(tmp_path: Path) -> None:
    info = _write(tmp_path, 100, {})
    document = json.loads(info.metadata_path.read_text())
    document["format_version"] = FORMAT_VERSION + 1
    document.pop("metadata_sha256")
    document["metadata_sha256"] = store.metadata_digest(document)
    info.metadata_path.write_text(json.dumps(document))
    with pytest.raises(CheckpointError, match="written by a newer format_version"):
        read_metadata(info)
    document["format_version"] = FORMAT_VERSION  # an edit, not resealed
    info.metadata_path.write_text(json.dumps(document))
    with pytest.raises(CheckpointError, match="metadata_sha256 does not match"):
        read_metadata(info)


def test_load_policy_refuses_a_policy_its_metadata_does_not_vouch_for(tmp_path: Path) -> None:
    info = _write(tmp_path, 100, {})
    record = CheckpointRecord(info, read_metadata(info))
    data = bytearray(info.policy_path.read_bytes())
    data[len(data) // 3] ^= 0x01  # inside a member: the zip structure is intact
    info.policy_path.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match="does not match its metadata") as caught:
        load_policy(record)
    assert "sha256 mismatch" in str(caught.value)
    forged = CheckpointRecord(info, {**record.metadata, "files": {}})
    with pytest.raises(CheckpointError, match="records no size and sha256"):
        load_policy(forged)
