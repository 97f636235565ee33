"""Forged checkpoint files: hostile payloads under genuine-looking, correctly hashed metadata.

A checkpoint's metadata records each payload's size and sha256 and hashes itself, but none of
that is secret: anyone who can write the directory can recompute it. These helpers do exactly
that, so the payloads reach the parser instead of being stopped by a hash mismatch.
"""

from __future__ import annotations

import hashlib
import io
import json
import pickle
import struct
import zipfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from holdem_lab.checkpoint import CheckpointInfo
from holdem_lab.checkpoint.store import FORMAT_VERSION, metadata_digest


class Tripwire:
    """Unpickling this object creates `marker` (proof that a pickle was executed)."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, ...]:
        return (open, (str(self.marker), "w"))


def pickle_bytes(marker: Path) -> bytes:
    """A pickle whose loading would create `marker`."""
    return pickle.dumps({"average_policy": Tripwire(marker)})


def npz_bytes(arrays: Mapping[str, np.ndarray[Any, Any]], allow_pickle: bool = False) -> bytes:
    """An npz archive as numpy writes it (stored members)."""
    buffer = io.BytesIO()
    np.savez(buffer, allow_pickle=allow_pickle, **arrays)
    return buffer.getvalue()


def object_npz_bytes(marker: Path) -> bytes:
    """An npz whose member is an object array holding a Tripwire (a pickle inside .npy)."""
    array = np.empty(1, dtype=object)
    array[0] = Tripwire(marker)
    return npz_bytes({"average_policy": array}, allow_pickle=True)


def npy_header_bytes(shape: tuple[int, ...], dtype: str = "<f8") -> bytes:
    """An .npy v1.0 header claiming `shape`, with no data after it."""
    header = {"descr": dtype, "fortran_order": False, "shape": shape}
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(buffer, header)
    return buffer.getvalue()


def zip_bytes(members: Mapping[str, bytes], compression: int = zipfile.ZIP_STORED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=compression) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def absurd_shape_npz(shape: tuple[int, ...] = (10**9, 10**6)) -> bytes:
    """A well-formed zip whose .npy header claims `shape` float64 (petabytes) but holds 64
    bytes of data."""
    return zip_bytes({"average_policy.npy": npy_header_bytes(shape) + b"\0" * 64})


def npy_bytes(array: np.ndarray[Any, Any]) -> bytes:
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, array, allow_pickle=False)
    return buffer.getvalue()


def lying_zip_directory(array: np.ndarray[Any, Any], claimed: int = 0xFFFF_FFF0) -> bytes:
    """A one-member archive of `array` whose central directory claims `claimed` (4 GiB)
    bytes for the member, compressed and uncompressed."""
    out = bytearray(zip_bytes({"average_policy.npy": npy_bytes(array)}))
    start = 0
    while (index := out.find(b"PK\x01\x02", start)) >= 0:
        struct.pack_into("<II", out, index + 20, claimed, claimed)  # compressed, uncompressed
        start = index + 4
    return bytes(out)


def file_record(name: str, data: bytes, arrays: Mapping[str, Any] | None = None
                ) -> dict[str, Any]:
    return {"name": name, "size_bytes": len(data), "sha256": hashlib.sha256(data).hexdigest(),
            "arrays": dict(arrays or {})}


def seal(document: dict[str, Any]) -> dict[str, Any]:
    """Recompute the metadata's self-hash."""
    document.pop("metadata_sha256", None)
    document["metadata_sha256"] = metadata_digest(document)
    return document


def plant(directory: Path, iteration: int, *, policy: bytes, state: bytes,
          metadata: Mapping[str, Any] | None = None,
          arrays: Mapping[str, Mapping[str, Any]] | None = None,
          format_version: int = FORMAT_VERSION) -> CheckpointInfo:
    """Write a checkpoint whose metadata vouches for `policy` and `state` (sizes, hashes,
    self-hash all correct), with `metadata` as the rest of its fields."""
    info = CheckpointInfo(iteration, directory)
    directory.mkdir(parents=True, exist_ok=True)
    info.policy_path.write_bytes(policy)
    info.state_path.write_bytes(state)
    listed = arrays or {}
    document: dict[str, Any] = {"format_version": format_version, "iteration": iteration,
                                **(metadata or {})}
    document["files"] = {
        "policy": file_record(info.policy_path.name, policy, listed.get("policy")),
        "state": file_record(info.state_path.name, state, listed.get("state")),
    }
    info.metadata_path.write_text(json.dumps(seal(document)))
    return info


def rewrite_metadata(info: CheckpointInfo, change: Callable[[dict[str, Any]], None]) -> None:
    """Apply `change` to a checkpoint's metadata and reseal it (a valid self-hash)."""
    document = json.loads(info.metadata_path.read_text())
    change(document)
    info.metadata_path.write_text(json.dumps(seal(document)))


def replace_payload(info: CheckpointInfo, role: str, data: bytes,
                    arrays: Mapping[str, Any] | None = None) -> None:
    """Swap a payload for `data` and make the metadata vouch for it."""
    path = info.policy_path if role == "policy" else info.state_path
    path.write_bytes(data)

    def change(document: dict[str, Any]) -> None:
        record = document["files"][role]
        listed = record["arrays"] if arrays is None else dict(arrays)
        document["files"][role] = file_record(path.name, data, listed)

    rewrite_metadata(info, change)


def listing(arrays: Mapping[str, np.ndarray[Any, Any]]) -> dict[str, Any]:
    """The metadata's `arrays` entry for in-memory arrays."""
    return {name: {"dtype": a.dtype.str, "shape": list(a.shape)} for name, a in arrays.items()}
