"""Checkpoint store: atomic writes, completeness verification, safe loading and retention."""

from __future__ import annotations

import errno
import hashlib
import io
import itertools
import json
import os
import pickle
import shutil
import subprocess
import tracemalloc
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from holdem_lab.checkpoint import (
    FORMAT_VERSION,
    CheckpointInfo,
    CheckpointVerificationError,
    PayloadError,
    PayloadRole,
    VerificationReason,
    arrays,
    clean_temp_files,
    delete_checkpoint,
    fileio,
    find_latest_complete,
    list_checkpoints,
    load_checkpoint,
    load_latest_complete,
    prune_checkpoints,
    read_metadata,
    read_npz,
    store,
    verify_checkpoint,
    write_checkpoint,
)
from holdem_lab.checkpoint.store import metadata_digest
from holdem_lab.errors import CheckpointError, HoldemLabError

Arrays = dict[str, np.ndarray[Any, Any]]


def _policy(seed: int) -> Arrays:
    rng = np.random.default_rng(seed)
    return {"average_strategy": rng.random((6, 3))}


def _state(seed: int) -> Arrays:
    rng = np.random.default_rng(1000 + seed)
    return {
        "regrets": rng.standard_normal((6, 3)).astype(np.float32),
        "strategy_sums": rng.random((6, 3)),
        "visits": rng.integers(0, 100, size=6, dtype=np.int64),
    }


def _write(directory: Path, iteration: int, **extra: Any) -> CheckpointInfo:
    metadata = {"elapsed_seconds": iteration * 0.5, **extra}
    paths = write_checkpoint(directory, iteration, _policy(iteration), _state(iteration), metadata)
    return paths.info


def _temp_files(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.startswith(".checkpoint_iter"))


def _reason(info: CheckpointInfo) -> VerificationReason:
    with pytest.raises(CheckpointVerificationError) as caught:
        verify_checkpoint(info)
    return caught.value.reason


def _sealed(metadata: dict[str, Any]) -> str:
    """The metadata as a forger who knows the format would write it: with a matching self-hash,
    so that the check under test is the one that must catch the forgery."""
    metadata = {k: v for k, v in metadata.items() if k != "metadata_sha256"}
    metadata["metadata_sha256"] = metadata_digest(metadata)
    return json.dumps(metadata)


def _forge_metadata(info: CheckpointInfo, role: PayloadRole) -> None:
    """Make the metadata vouch for whatever bytes the ``role`` payload now holds."""
    metadata = json.loads(info.metadata_path.read_text())
    data = info.payload_path(role).read_bytes()
    entry = metadata["files"][role.value]
    entry["size_bytes"] = len(data)
    entry["sha256"] = hashlib.sha256(data).hexdigest()
    info.metadata_path.write_text(_sealed(metadata))


def _forge_garbage_payload(info: CheckpointInfo, role: PayloadRole) -> None:
    """Replace the ``role`` payload with bytes that are no npz archive, and make the metadata
    vouch for them: the checkpoint passes every integrity check but cannot be loaded."""
    info.payload_path(role).write_bytes(b"not an npz archive, but the metadata vouches for it")
    _forge_metadata(info, role)


class _Bomb:
    """Unpickling it calls ``open(marker, "w")``, creating the marker file."""

    def __init__(self, marker: Path) -> None:
        self.marker = str(marker)

    def __reduce__(self) -> tuple[Any, ...]:
        return (open, (self.marker, "w"))


# --------------------------------------------------------------------------------------------
# Round trip


def test_round_trip_is_bit_identical_and_records_hashes(tmp_path: Path) -> None:
    directory = tmp_path / "runs" / "x" / "checkpoints"  # created on demand
    fortran = np.asfortranarray(np.arange(12, dtype=np.float64).reshape(3, 4) / 7)
    policy: Arrays = {
        "average_strategy": np.random.default_rng(0).random((5, 4)),
        "fortran": fortran,
        "strided": np.arange(20, dtype=np.int16)[::3],
        "scalar": np.array(2.5, dtype=np.float32),
        "empty": np.zeros((0, 3), dtype=np.float64),
    }
    state: Arrays = {
        "regrets": np.array([-1.5, 0.0, 3.25], dtype=np.float32),
        "mask": np.array([True, False, True]),
        "counts": np.array([0, 2**63 - 1], dtype=np.int64),
        "small": np.array([255, 0], dtype=np.uint8),
        "complex": np.array([1 + 2j, -3j], dtype=np.complex64),
    }
    metadata = {
        "elapsed_seconds": 12.5,
        "game": "leduc",
        "config": {"seed": 7, "buckets": [1, 2, 3]},
        "numpy_int": np.int64(3),
        "numpy_bool": np.bool_(True),
    }

    paths = write_checkpoint(directory, 300, policy, state, metadata)

    assert paths.policy == directory / "checkpoint_iter000000000300.npz"
    assert paths.state == directory / "checkpoint_iter000000000300_regrets.npz"
    assert paths.metadata == directory / "checkpoint_iter000000000300_metadata.json"
    assert sorted(p.name for p in directory.iterdir()) == sorted(
        [paths.policy.name, paths.state.name, paths.metadata.name]
    )
    loaded = load_checkpoint(paths.info)
    for original, restored in ((policy, loaded.policy), (state, loaded.state)):
        assert list(restored) == list(original)
        for name, array in original.items():
            assert restored[name].dtype == array.dtype, name
            assert restored[name].shape == array.shape, name
            assert restored[name].tobytes() == array.tobytes(), name
    assert loaded.iteration == 300
    assert loaded.metadata["iteration"] == 300
    assert loaded.metadata["format_version"] == FORMAT_VERSION == 4
    assert loaded.metadata["elapsed_seconds"] == 12.5
    assert loaded.metadata["game"] == "leduc"
    assert loaded.metadata["config"] == {"seed": 7, "buckets": [1, 2, 3]}
    assert loaded.metadata["numpy_int"] == 3 and loaded.metadata["numpy_bool"] is True
    for role, path in ((PayloadRole.POLICY, paths.policy), (PayloadRole.STATE, paths.state)):
        entry = loaded.metadata["files"][role.value]
        data = path.read_bytes()
        assert entry["name"] == path.name
        assert entry["size_bytes"] == len(data)
        assert entry["sha256"] == hashlib.sha256(data).hexdigest()
    assert loaded.metadata["files"]["state"]["arrays"]["regrets"] == {
        "dtype": "<f4",
        "shape": [3],
    }
    # Plain numpy can read the payloads without pickle support.
    with np.load(paths.state, allow_pickle=False) as npz:
        assert npz["counts"].tolist() == [0, 2**63 - 1]
    verify_checkpoint(paths.info)
    assert find_latest_complete(directory) == (paths.info, [])


def test_large_arrays_take_the_threaded_path_and_round_trip(tmp_path: Path) -> None:
    big = np.random.default_rng(1).random(3 * fileio.ASYNC_MIN_BYTES // 8 + 5)
    info = write_checkpoint(tmp_path, 1, {"p": big}, {"r": big[::-1].copy()}, {}).info
    loaded = load_checkpoint(info)
    assert loaded.policy["p"].tobytes() == big.tobytes()
    assert loaded.state["r"].tobytes() == big[::-1].tobytes()


def test_load_without_verify_skips_hashes_but_not_safety(tmp_path: Path) -> None:
    info = _write(tmp_path, 10)
    loaded = load_checkpoint(info, verify=False)
    assert loaded.state["visits"].tolist() == _state(10)["visits"].tolist()


def test_loading_without_the_policy_holds_only_the_state(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    policy = {"average_strategy": rng.random((2_000_000, 2))}  # 32 MB each
    state = {"regrets": rng.standard_normal((2_000_000, 2))}
    info = write_checkpoint(tmp_path, 1, policy, state, {}).info
    tracemalloc.start()
    try:
        loaded = load_checkpoint(info, include_policy=False)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert loaded.policy == {}
    assert np.array_equal(loaded.state["regrets"], state["regrets"])
    assert state["regrets"].nbytes <= peak < 1.25 * state["regrets"].nbytes, peak / 2**20
    assert np.array_equal(load_checkpoint(info).policy["average_strategy"],
                          policy["average_strategy"])


def test_loading_without_the_policy_still_checks_it(tmp_path: Path) -> None:
    info = _write(tmp_path, 10)
    data = bytearray(info.policy_path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    info.policy_path.write_bytes(bytes(data))
    with pytest.raises(CheckpointVerificationError, match="sha256 mismatch") as caught:
        load_checkpoint(info, include_policy=False)
    assert str(info.policy_path) in str(caught.value)


# --------------------------------------------------------------------------------------------
# Damage to each of the three files


def _delete(path: Path) -> None:
    path.unlink()


def _truncate(path: Path) -> None:
    os.truncate(path, path.stat().st_size // 2)


def _flip_middle_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


def _flip_first_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[0] ^= 0x01  # "{" becomes "z": no longer JSON
    path.write_bytes(bytes(data))


DAMAGE_CASES = [
    ("policy", _delete, VerificationReason.PAYLOAD_MISSING),
    ("policy", _truncate, VerificationReason.SIZE_MISMATCH),
    ("policy", _flip_middle_byte, VerificationReason.SHA256_MISMATCH),
    ("state", _delete, VerificationReason.PAYLOAD_MISSING),
    ("state", _truncate, VerificationReason.SIZE_MISMATCH),
    ("state", _flip_middle_byte, VerificationReason.SHA256_MISMATCH),
    ("metadata", _delete, VerificationReason.METADATA_MISSING),
    ("metadata", _truncate, VerificationReason.METADATA_UNREADABLE),
    ("metadata", _flip_first_byte, VerificationReason.METADATA_UNREADABLE),
]


@pytest.mark.parametrize(
    ("which", "damage", "reason"),
    DAMAGE_CASES,
    ids=[f"{w}-{d.__name__.strip('_')}" for w, d, _ in DAMAGE_CASES],
)
def test_damaged_file_is_detected_and_previous_checkpoint_used(
    tmp_path: Path, which: str, damage: Callable[[Path], None], reason: VerificationReason
) -> None:
    previous = _write(tmp_path, 300)
    latest = _write(tmp_path, 1000)
    target = getattr(latest.paths, which)

    damage(target)

    with pytest.raises(CheckpointVerificationError) as caught:
        verify_checkpoint(latest)
    assert caught.value.reason is reason
    assert caught.value.path == target
    assert target.name in str(caught.value)
    with pytest.raises(CheckpointVerificationError):
        load_checkpoint(latest)
    found, problems = find_latest_complete(tmp_path)
    assert found == previous
    assert len(problems) == 1
    assert problems[0].startswith("checkpoint_iter000000001000: ")
    assert reason.value in problems[0] and target.name in problems[0]
    assert load_checkpoint(found).metadata["iteration"] == 300
    # The one-pass form (verify by loading) makes the same choice and reports the same problem.
    loaded, loaded_problems = load_latest_complete(tmp_path)
    assert loaded is not None and loaded.info == previous
    assert loaded_problems == problems
    assert loaded.state["visits"].tolist() == _state(300)["visits"].tolist()


def test_load_latest_complete_reads_each_payload_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _write(tmp_path, 300)
    latest = _write(tmp_path, 1000)

    def no_second_pass(*_: object) -> None:
        raise AssertionError("a payload was hashed outside the load")

    monkeypatch.setattr(store, "sha256_of_fd", no_second_pass)
    monkeypatch.setattr(store, "verify_checkpoint", no_second_pass)
    loaded, problems = load_latest_complete(tmp_path, include_policy=False)
    assert problems == [] and loaded is not None and loaded.info == latest
    assert loaded.policy == {}
    assert loaded.state["visits"].tolist() == _state(1000)["visits"].tolist()
    assert load_latest_complete(tmp_path / "absent") == (None, [])


def test_load_latest_complete_refuses_a_forged_payload_instead_of_skipping_it(
    tmp_path: Path,
) -> None:
    _write(tmp_path, 300)
    latest = _write(tmp_path, 1000)
    _forge_garbage_payload(latest, PayloadRole.STATE)
    # Integrity holds (the hashes match), so the two-step form would choose it and fail to
    # load it; the one-pass form fails the same way rather than quietly training from 300.
    assert find_latest_complete(tmp_path)[0] == latest
    with pytest.raises(CheckpointVerificationError) as caught:
        load_latest_complete(tmp_path)
    assert caught.value.reason is VerificationReason.PAYLOAD_INVALID


def test_load_latest_complete_skips_a_forged_payload_next_to_a_damaged_one(
    tmp_path: Path,
) -> None:
    previous = _write(tmp_path, 300)
    latest = _write(tmp_path, 1000)
    _forge_garbage_payload(latest, PayloadRole.POLICY)
    _flip_middle_byte(latest.state_path)
    # The checkpoint is incomplete (its state fails its hash), so both forms skip it, even
    # though the first payload the one-pass form reads is the forged one.
    assert find_latest_complete(tmp_path)[0] == previous
    seen: list[str] = []
    loaded, problems = load_latest_complete(tmp_path, report=seen.append)
    assert loaded is not None and loaded.info == previous
    assert problems == seen and len(problems) == 1
    assert VerificationReason.SHA256_MISMATCH.value in problems[0]
    assert latest.state_path.name in problems[0]


def test_load_latest_complete_reports_skipped_checkpoints_before_an_error(
    tmp_path: Path,
) -> None:
    _write(tmp_path, 100)
    forged = _write(tmp_path, 300)
    _forge_garbage_payload(forged, PayloadRole.STATE)
    damaged = _write(tmp_path, 1000)
    _truncate(damaged.state_path)
    seen: list[str] = []
    with pytest.raises(CheckpointVerificationError):
        load_latest_complete(tmp_path, report=seen.append)
    assert len(seen) == 1 and seen[0].startswith("checkpoint_iter000000001000: ")


def test_load_latest_complete_stops_at_a_newer_format(tmp_path: Path) -> None:
    _write(tmp_path, 300)
    latest = _write(tmp_path, 1000)
    metadata = json.loads(latest.metadata_path.read_text())
    metadata["format_version"] += 1
    latest.metadata_path.write_text(_sealed(metadata))
    for search in (find_latest_complete, load_latest_complete):
        with pytest.raises(CheckpointError, match="newer format_version.*older version"):
            search(tmp_path)


def test_flipped_hash_digit_in_metadata_is_detected(tmp_path: Path) -> None:
    info = _write(tmp_path, 7)
    metadata = json.loads(info.metadata_path.read_text())
    digest = metadata["files"]["state"]["sha256"]
    metadata["files"]["state"]["sha256"] = ("0" if digest[0] != "0" else "1") + digest[1:]
    info.metadata_path.write_text(json.dumps(metadata))
    # The metadata carries a hash of itself, so the edit is caught before any payload is read.
    assert _reason(info) is VerificationReason.METADATA_INVALID
    # Re-sealing the edited metadata leaves the payload hash as the one that disagrees.
    info.metadata_path.write_text(_sealed(metadata))
    assert _reason(info) is VerificationReason.SHA256_MISMATCH


@pytest.mark.parametrize(
    ("edit", "reason"),
    [
        ({"format_version": FORMAT_VERSION + 1}, VerificationReason.FORMAT_NEWER),
        ({"format_version": 0}, VerificationReason.FORMAT_VERSION),
        ({"format_version": "1"}, VerificationReason.FORMAT_VERSION),
        ({"iteration": 8}, VerificationReason.ITERATION_MISMATCH),
        ({"files": []}, VerificationReason.METADATA_INVALID),
    ],
)
def test_metadata_fields_are_checked(
    tmp_path: Path, edit: dict[str, Any], reason: VerificationReason
) -> None:
    info = _write(tmp_path, 7)
    metadata = json.loads(info.metadata_path.read_text())
    metadata.update(edit)
    info.metadata_path.write_text(_sealed(metadata))
    assert _reason(info) is reason


def test_metadata_of_another_iteration_is_an_iteration_mismatch(tmp_path: Path) -> None:
    older, newer = _write(tmp_path, 40), _write(tmp_path, 300)
    shutil.copyfile(older.metadata_path, newer.metadata_path)
    assert _reason(newer) is VerificationReason.ITERATION_MISMATCH
    assert find_latest_complete(tmp_path)[0] == older


def test_metadata_naming_another_file_is_invalid(tmp_path: Path) -> None:
    info = _write(tmp_path, 7)
    (tmp_path.parent / "elsewhere.npz").write_bytes(info.policy_path.read_bytes())
    metadata = json.loads(info.metadata_path.read_text())
    metadata["files"]["policy"]["name"] = "../elsewhere.npz"
    info.metadata_path.write_text(_sealed(metadata))
    assert _reason(info) is VerificationReason.METADATA_INVALID


def test_nan_literal_in_metadata_file_is_unreadable(tmp_path: Path) -> None:
    info = _write(tmp_path, 7)
    text = info.metadata_path.read_text().replace(
        '"elapsed_seconds": 3.5', '"elapsed_seconds": NaN'
    )
    assert "NaN" in text
    info.metadata_path.write_text(text)
    assert _reason(info) is VerificationReason.METADATA_UNREADABLE


@pytest.mark.parametrize("role", list(PayloadRole))
def test_payload_swapped_in_from_another_checkpoint_is_detected(
    tmp_path: Path, role: PayloadRole
) -> None:
    older, newer = _write(tmp_path, 40), _write(tmp_path, 300)
    # Same array names, dtypes and shapes: identical size, so only the hash can tell.
    assert older.payload_path(role).stat().st_size == newer.payload_path(role).stat().st_size
    shutil.copyfile(older.payload_path(role), newer.payload_path(role))

    assert _reason(newer) is VerificationReason.SHA256_MISMATCH
    found, problems = find_latest_complete(tmp_path)
    assert found == older
    assert "sha256 mismatch" in problems[0]


def test_no_complete_checkpoint_returns_none_with_problems(tmp_path: Path) -> None:
    assert find_latest_complete(tmp_path / "missing") == (None, [])
    assert find_latest_complete(tmp_path) == (None, [])
    first, second = _write(tmp_path, 1), _write(tmp_path, 2)
    first.metadata_path.unlink()
    _flip_middle_byte(second.state_path)

    found, problems = find_latest_complete(tmp_path)

    assert found is None
    assert len(problems) == 2
    assert problems[0].startswith("checkpoint_iter000000000002: sha256 mismatch")
    assert problems[1].startswith("checkpoint_iter000000000001: metadata missing")


# --------------------------------------------------------------------------------------------
# Safe loading


def test_planted_pickle_with_matching_metadata_is_never_unpickled(tmp_path: Path) -> None:
    control_marker = tmp_path / "control_marker"
    pickle.loads(pickle.dumps(_Bomb(control_marker)))
    assert control_marker.exists(), "the bomb must be live for this test to mean anything"

    marker = tmp_path / "marker"
    info = _write(tmp_path, 100)
    assert info.policy_path.name == "checkpoint_iter000000000100.npz"
    info.policy_path.write_bytes(pickle.dumps(_Bomb(marker)))
    _forge_metadata(info, PayloadRole.POLICY)
    verify_checkpoint(info)  # the hashes match: integrity alone cannot catch this

    for verify in (True, False):
        with pytest.raises(CheckpointVerificationError) as caught:
            load_checkpoint(info, verify=verify)
        assert caught.value.reason is VerificationReason.PAYLOAD_INVALID
        assert caught.value.path == info.policy_path
    assert not marker.exists()


def test_object_array_inside_npz_is_refused_without_unpickling(tmp_path: Path) -> None:
    control_marker, marker = tmp_path / "control_marker", tmp_path / "marker"
    info = _write(tmp_path, 100)
    np.savez(tmp_path / "control.npz", regrets=np.array([_Bomb(control_marker)], dtype=object))
    with np.load(tmp_path / "control.npz", allow_pickle=True) as npz:
        npz["regrets"]
    assert control_marker.exists(), "the bomb must be live for this test to mean anything"

    with open(info.state_path, "wb") as handle:
        np.savez(handle, regrets=np.array([_Bomb(marker)], dtype=object))
    _forge_metadata(info, PayloadRole.STATE)

    with pytest.raises(CheckpointVerificationError) as caught:
        load_checkpoint(info)
    assert caught.value.reason is VerificationReason.PAYLOAD_INVALID
    assert "regrets" in str(caught.value) and "object" in str(caught.value)
    assert not marker.exists()


def test_nan_in_stored_array_is_refused_naming_the_array(tmp_path: Path) -> None:
    info = _write(tmp_path, 5)
    state = _state(5)
    state["strategy_sums"][2, 1] = np.nan
    with open(info.state_path, "wb") as handle:
        np.savez(handle, allow_pickle=False, **state)
    _forge_metadata(info, PayloadRole.STATE)

    with pytest.raises(CheckpointVerificationError) as caught:
        load_checkpoint(info)
    assert caught.value.reason is VerificationReason.PAYLOAD_INVALID
    assert "'strategy_sums'" in str(caught.value) and "NaN" in str(caught.value)


def _npy_header(shape: tuple[int, ...]) -> bytes:
    buffer = io.BytesIO()
    header = {"descr": "<f8", "fortran_order": False, "shape": shape}
    np.lib.format.write_array_header_1_0(buffer, header)
    return buffer.getvalue()


def test_member_claiming_absurd_size_is_refused_before_allocation(tmp_path: Path) -> None:
    info = _write(tmp_path, 5)
    with zipfile.ZipFile(info.state_path, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("regrets.npy", _npy_header((10**12,)) + b"\0" * 64)
    _forge_metadata(info, PayloadRole.STATE)

    with pytest.raises(CheckpointVerificationError) as caught:
        load_checkpoint(info)
    assert caught.value.reason is VerificationReason.PAYLOAD_INVALID
    assert "header claims 8000000000000 data bytes" in str(caught.value)


def test_compressed_member_is_refused(tmp_path: Path) -> None:
    info = _write(tmp_path, 5)
    with zipfile.ZipFile(info.state_path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("regrets.npy", _npy_header((4096,)) + b"\0" * 4096 * 8)
    _forge_metadata(info, PayloadRole.STATE)

    with pytest.raises(CheckpointVerificationError, match="compressed"):
        load_checkpoint(info)


def test_arrays_differing_from_metadata_listing_are_refused(tmp_path: Path) -> None:
    info = _write(tmp_path, 5)
    with open(info.policy_path, "wb") as handle:
        np.savez(handle, average_strategy=np.zeros((3, 6)))  # transposed shape
    _forge_metadata(info, PayloadRole.POLICY)
    with pytest.raises(CheckpointVerificationError, match="listing"):
        load_checkpoint(info)


# --------------------------------------------------------------------------------------------
# What write_checkpoint refuses


@pytest.mark.parametrize(
    ("policy", "state", "message"),
    [
        ({"p": np.array([object()], dtype=object)}, {}, "object"),
        ({}, {"r": np.array([1.0, np.nan])}, "NaN"),
        ({}, {"r": np.array([1.0, -np.inf], dtype=np.float32)}, "NaN or infinity"),
        ({}, {"r": np.array([1 + 0j, complex(0, np.inf)])}, "NaN or infinity"),
        ({}, {"r": np.array(["text"])}, "not a plain numeric"),
        ({}, {"r": np.zeros(2, dtype=[("a", "f8")])}, "not a plain numeric"),
        ({}, {"r": [1.0, 2.0]}, "not a numpy array"),
        ({}, {"a/b": np.zeros(2)}, "array name"),
        ({}, {"file": np.zeros(2)}, "reserved"),
    ],
)
def test_write_refuses_invalid_arrays_and_writes_nothing(
    tmp_path: Path, policy: dict[str, Any], state: dict[str, Any], message: str
) -> None:
    with pytest.raises(CheckpointError, match=message):
        write_checkpoint(tmp_path, 1, policy, state, {})
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("layout", ["contiguous", "strided"])
def test_nan_found_part_way_through_the_write_rolls_everything_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, layout: str
) -> None:
    """NaN is looked for while the data streams out: here only after the policy file is in
    place and most of the state is written, through the threaded pipeline in many chunks."""
    monkeypatch.setattr(arrays, "WRITE_CHUNK_BYTES", 4096)
    _write(tmp_path, 10)
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    regrets = np.ones(3 * fileio.ASYNC_MIN_BYTES // 8, dtype=np.float64)
    if layout == "strided":
        regrets = np.ones((regrets.size, 2))[:, 0]
    regrets[-3] = np.nan
    state = {"strategy_sums": np.zeros(1000), "regrets": regrets}
    with pytest.raises(CheckpointError, match="state array 'regrets': contains NaN or infinity"):
        write_checkpoint(tmp_path, 20, _policy(0), state, {})
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before
    assert find_latest_complete(tmp_path) == (CheckpointInfo(10, tmp_path), [])


@pytest.mark.parametrize(
    ("metadata", "message"),
    [
        ({"loss": [0.5, float("nan")]}, r"metadata\['loss'\]\[1\] is nan"),
        ({"best": {"gap": float("inf")}}, r"metadata\['best'\]\['gap'\] is inf"),
        ({"iteration": 1}, "reserved"),
        ({"files": {}}, "reserved"),
        ({"when": object()}, "not valid JSON"),
        ({1: "x"}, "keys must be str"),
    ],
)
def test_write_refuses_invalid_metadata(
    tmp_path: Path, metadata: dict[Any, Any], message: str
) -> None:
    with pytest.raises(CheckpointError, match=message):
        write_checkpoint(tmp_path, 1, _policy(1), _state(1), metadata)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("iteration", [-1, 10**12, True, 1.0, "3"])
def test_write_refuses_invalid_iteration(tmp_path: Path, iteration: Any) -> None:
    with pytest.raises(CheckpointError, match="iteration"):
        write_checkpoint(tmp_path, iteration, _policy(1), _state(1), {})


def test_errors_belong_to_the_project_hierarchy() -> None:
    assert issubclass(CheckpointVerificationError, CheckpointError)
    assert issubclass(CheckpointError, HoldemLabError)


def test_complete_checkpoint_is_not_overwritten(tmp_path: Path) -> None:
    info = _write(tmp_path, 10)
    before = {p: p.read_bytes() for p in tmp_path.iterdir()}
    with pytest.raises(CheckpointError, match="already exists"):
        write_checkpoint(tmp_path, 10, _policy(99), _state(99), {})
    assert {p: p.read_bytes() for p in tmp_path.iterdir()} == before
    verify_checkpoint(info)


def test_incomplete_checkpoint_at_same_iteration_is_replaced(tmp_path: Path) -> None:
    info = _write(tmp_path, 10)
    _flip_middle_byte(info.state_path)  # e.g. left behind by a crashed or broken run
    write_checkpoint(tmp_path, 10, _policy(99), _state(99), {"attempt": 2})
    loaded = load_checkpoint(info)
    assert loaded.metadata["attempt"] == 2
    assert loaded.policy["average_strategy"].tobytes() == _policy(99)["average_strategy"].tobytes()


# --------------------------------------------------------------------------------------------
# Fault injection


def _instrument(monkeypatch: pytest.MonkeyPatch, name: str, fail_at: int | None) -> Iterator[int]:
    """Wrap ``os.<name>`` (or ``fileio.start_writeback``): count calls, raise ENOSPC on call
    number ``fail_at``."""
    owner: Any = fileio if name == "start_writeback" else os
    real = getattr(owner, name)
    counter = itertools.count(1)
    seen: list[int] = []

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        call = next(counter)
        seen.append(call)
        if call == fail_at:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real(*args, **kwargs)

    monkeypatch.setattr(owner, name, wrapper)
    return iter(seen)


def _calls_during_write(tmp_path: Path, name: str) -> int:
    """How often writing checkpoint 20 next to checkpoint 10 calls ``os.<name>`` (or
    ``fileio.start_writeback``)."""
    template = tmp_path / "template"
    if not template.exists():
        _write(template, 10)
    directory = tmp_path / "count"
    shutil.copytree(template, directory)
    with pytest.MonkeyPatch.context() as patch:
        seen = _instrument(patch, name, None)
        _write(directory, 20)
    shutil.rmtree(directory)
    return len(list(seen))


def _copy_of_template(tmp_path: Path, fail_at: int) -> tuple[Path, CheckpointInfo]:
    """A fresh directory holding a copy of the template's complete checkpoint 10."""
    directory = tmp_path / f"fail_{fail_at}"
    shutil.copytree(tmp_path / "template", directory)
    return directory, CheckpointInfo(10, directory)


@pytest.mark.parametrize(
    ("mode", "name"),
    [
        *itertools.product(
            ["inline", "threaded", "flushing"], ["write", "fsync", "replace", "open", "close"]
        ),
        ("flushing", "start_writeback"),
    ],
)
def test_failure_at_every_system_call_leaves_previous_checkpoint_intact(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, mode: str
) -> None:
    """inline: small writes are made by the caller; threaded: every write goes through the
    worker threads; flushing: also in small chunks, with the disk write started (on its own
    thread) every 64 bytes, so each of those requests can fail too."""
    if mode != "inline":
        monkeypatch.setattr(fileio, "ASYNC_MIN_BYTES", 0)
    if mode == "flushing":
        monkeypatch.setattr(arrays, "WRITE_CHUNK_BYTES", 48)
        monkeypatch.setattr(fileio, "FLUSH_INTERVAL_BYTES", 64)
        monkeypatch.setattr(fileio, "MAX_IN_FLIGHT_BYTES", 100)
    total = _calls_during_write(tmp_path, name)
    if name == "start_writeback":  # several per payload file
        assert total >= 6, total
    assert total >= 3, f"{name} should be used by every file written"
    for fail_at in range(1, total + 1):
        directory, previous = _copy_of_template(tmp_path, fail_at)
        before = {p.name: p.read_bytes() for p in directory.iterdir()}

        with pytest.MonkeyPatch.context() as patch:
            _instrument(patch, name, fail_at)
            with pytest.raises(CheckpointError) as caught:
                _write(directory, 20)

        message = str(caught.value)
        assert "No space left on device" in message, message
        assert str(directory) in message, message
        assert isinstance(caught.value.__cause__, OSError)
        assert _temp_files(directory) == [], fail_at
        assert {p.name: p.read_bytes() for p in directory.iterdir()} == before, fail_at
        assert list_checkpoints(directory) == [previous]
        verify_checkpoint(previous)
        assert load_checkpoint(previous).metadata["iteration"] == 10
        assert find_latest_complete(directory) == (previous, [])


@pytest.mark.parametrize("name", ["write", "fsync", "replace"])
def test_crash_at_any_point_never_exposes_a_partial_checkpoint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    """A killed writer cannot roll back: whatever it left must read as old or complete-new."""
    monkeypatch.setattr(store._AtomicWriter, "roll_back", lambda self: None)
    total = _calls_during_write(tmp_path, name)
    outcomes = set()
    for fail_at in range(1, total + 1):
        directory, previous = _copy_of_template(tmp_path, fail_at)
        with pytest.MonkeyPatch.context() as patch:
            _instrument(patch, name, fail_at)
            with pytest.raises(CheckpointError):
                _write(directory, 20)

        found, problems = find_latest_complete(directory)
        assert found in (previous, CheckpointInfo(20, directory)), fail_at
        loaded = load_checkpoint(found)  # whichever it is, it is whole
        assert loaded.metadata["elapsed_seconds"] == found.iteration * 0.5
        if found == previous:
            assert all(p.startswith("checkpoint_iter000000000020: ") for p in problems)
        outcomes.add(found.iteration)
        verify_checkpoint(previous)
        leftovers = _temp_files(directory)
        assert sorted(p.name for p in clean_temp_files(directory)) == leftovers
        assert _temp_files(directory) == []
    assert 10 in outcomes


def test_interrupted_deletion_leaves_an_incomplete_checkpoint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    older, newer = _write(tmp_path, 10), _write(tmp_path, 20)
    real_unlink = os.unlink
    removed: list[str] = []

    def unlink_once(path: Any, *args: Any, **kwargs: Any) -> None:
        if removed:
            raise OSError(errno.EIO, os.strerror(errno.EIO))
        removed.append(Path(path).name)
        real_unlink(path, *args, **kwargs)

    monkeypatch.setattr(os, "unlink", unlink_once)
    with pytest.raises(CheckpointError, match="Input/output error"):
        delete_checkpoint(newer)
    monkeypatch.undo()

    assert removed == [newer.metadata_path.name]
    assert newer.policy_path.exists() and newer.state_path.exists()
    found, problems = find_latest_complete(tmp_path)
    assert found == older
    assert "metadata missing" in problems[0]


# --------------------------------------------------------------------------------------------
# Listing, temp files, retention


def test_list_matches_exact_names_only(tmp_path: Path) -> None:
    directory = tmp_path / "checkpoints"
    real = _write(directory, 20)
    (tmp_path / "x").write_text("outside")
    junk_files = [
        "checkpoint_iter5_metadata.json",
        "checkpoint_iter000000000010_metadata.json.tmp",
        "checkpoint_iter000000000011.npz\n",
        "xcheckpoint_iter000000000012.npz",
        "checkpoint_iter0000000000013.npz",
        "checkpoint_iter\u0660\u0660\u0660\u0660\u0660\u0660\u0660\u0660\u0660\u0660\u0661\u0664.npz",
        "CHECKPOINT_ITER000000000015.npz",
        "checkpoint_iter000000000016_REGRETS.npz",
        "checkpoint_iter-00000000017.npz",
        ".checkpoint_iter000000000018.npz.tmp-123-0123456789abcdef",
    ]
    for name in junk_files:
        (directory / name).write_text("junk")
    (directory / "checkpoint_iter000000000019.npz").mkdir()
    (directory / "checkpoint_iter000000000021_metadata.json").symlink_to("../x")

    assert list_checkpoints(directory) == [real]
    assert find_latest_complete(directory) == (real, [])
    assert list_checkpoints(tmp_path / "does-not-exist") == []
    with pytest.raises(CheckpointError):
        list_checkpoints(tmp_path / "x")


def test_clean_temp_files_removes_only_writer_temp_files(tmp_path: Path) -> None:
    info = _write(tmp_path, 20)
    temps = [
        ".checkpoint_iter000000000030.npz.tmp-4242-0123456789abcdef",
        ".checkpoint_iter000000000030_regrets.npz.tmp-4242-fedcba9876543210",
        ".checkpoint_iter000000000030_metadata.json.tmp-1-00000000000000ff",
    ]
    keep = [".checkpoint_iter000000000030.npz.tmp-x-0123456789abcdef", "notes.txt"]
    for name in temps + keep:
        (tmp_path / name).write_bytes(b"partial")

    removed = clean_temp_files(tmp_path)

    assert sorted(p.name for p in removed) == sorted(temps)
    remaining = {p.name for p in tmp_path.iterdir()}
    assert set(keep) <= remaining and not set(temps) & remaining
    verify_checkpoint(info)
    assert clean_temp_files(tmp_path / "missing") == []


def test_prune_keeps_newest_complete_and_ignores_incomplete(tmp_path: Path) -> None:
    complete = [_write(tmp_path, i) for i in (10, 20, 30, 40)]
    corrupt = _write(tmp_path, 25)
    _flip_middle_byte(corrupt.policy_path)
    incomplete = _write(tmp_path, 50)
    incomplete.metadata_path.unlink()

    deleted = prune_checkpoints(tmp_path, keep_last=2)

    assert deleted == complete[:2]
    assert list_checkpoints(tmp_path) == [corrupt, complete[2], complete[3], incomplete]
    assert find_latest_complete(tmp_path)[0] == complete[3]
    assert prune_checkpoints(tmp_path, keep_last=1) == [complete[2]]
    assert prune_checkpoints(tmp_path, keep_last=1) == []
    verify_checkpoint(complete[3])
    for bad in (0, -1, True):
        with pytest.raises(CheckpointError, match="keep_last"):
            prune_checkpoints(tmp_path, keep_last=bad)


def test_prune_never_deletes_the_only_complete_checkpoint(tmp_path: Path) -> None:
    only = _write(tmp_path, 10)
    newer = _write(tmp_path, 20)
    newer.state_path.unlink()
    assert prune_checkpoints(tmp_path, keep_last=1) == []
    verify_checkpoint(only)


# --------------------------------------------------------------------------------------------
# The documented shell recipes


@pytest.mark.skipif(shutil.which("jq") is None, reason="jq is not installed")
def test_jq_recipes_print_latest_values(tmp_path: Path) -> None:
    directory = tmp_path / "runs" / "x" / "checkpoints"
    elapsed = {5: 1.25, 40: 9.5, 300: 70.0, 1000: 245.75}
    for iteration in (1000, 5, 300, 40):  # creation order must not matter
        write_checkpoint(
            directory,
            iteration,
            _policy(iteration),
            _state(iteration),
            {"elapsed_seconds": elapsed[iteration]},
        )

    def shell(command: str) -> str:
        result = subprocess.run(
            command, shell=True, cwd=tmp_path, capture_output=True, text=True, check=True
        )
        return result.stdout.strip()

    glob = "runs/x/checkpoints/checkpoint_iter*_metadata.json"
    assert shell(f"jq '.iteration' {glob} | tail -1") == "1000"
    assert shell(f"jq '.elapsed_seconds' {glob} | tail -1") == "245.75"
    assert shell(f"jq '.iteration' {glob}").split() == ["5", "40", "300", "1000"]


# --------------------------------------------------------------------------------------------
# The layer's readers on their own: read_npz and read_metadata


def test_read_npz_returns_the_arrays_checked_against_the_expected_hash(tmp_path: Path) -> None:
    info = _write(tmp_path, 10)
    entry = json.loads(info.metadata_path.read_text())["files"]["state"]
    loaded = read_npz(info.state_path, sha256=entry["sha256"], size=entry["size_bytes"])
    assert list(loaded) == list(_state(10))
    for name, array in _state(10).items():
        assert loaded[name].dtype == array.dtype and loaded[name].tobytes() == array.tobytes()
    assert read_npz(info.state_path)["visits"].tolist() == _state(10)["visits"].tolist()


def test_read_npz_refuses_a_hash_or_size_mismatch(tmp_path: Path) -> None:
    info = _write(tmp_path, 10)
    entry = json.loads(info.metadata_path.read_text())["files"]["policy"]
    other = hashlib.sha256(b"another file").hexdigest()
    with pytest.raises(PayloadError, match="sha256 mismatch") as caught:
        read_npz(info.policy_path, sha256=other, size=entry["size_bytes"])
    assert caught.value.reason is VerificationReason.SHA256_MISMATCH
    assert caught.value.path == info.policy_path
    assert f"expected {other}, found {entry['sha256']}" in str(caught.value)
    with pytest.raises(PayloadError, match=f"expected {entry['size_bytes'] + 1} bytes"):
        read_npz(info.policy_path, sha256=entry["sha256"], size=entry["size_bytes"] + 1)
    # A flipped byte inside a member: the zip structure is intact, the hash tells.
    data = bytearray(info.policy_path.read_bytes())
    data[len(data) // 3] ^= 0x01
    info.policy_path.write_bytes(bytes(data))
    with pytest.raises(PayloadError) as caught:
        read_npz(info.policy_path, sha256=entry["sha256"], size=entry["size_bytes"])
    assert caught.value.reason is VerificationReason.SHA256_MISMATCH
    with pytest.raises(PayloadError, match="CRC-32"):  # no hash given: the CRCs are checked
        read_npz(info.policy_path)
    with pytest.raises(PayloadError, match="payload missing"):
        read_npz(tmp_path / "absent.npz", sha256=entry["sha256"])


def test_read_npz_never_unpickles(tmp_path: Path) -> None:
    marker = tmp_path / "unpickled"
    path = tmp_path / "planted.npz"
    with open(path, "wb") as stream:
        np.savez(stream, bomb=np.array([_Bomb(marker)], dtype=object))
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    with pytest.raises(PayloadError, match="holds Python objects"):
        read_npz(path, sha256=digest)
    assert not marker.exists()


def test_read_metadata_checks_the_self_hash_and_format_version(tmp_path: Path) -> None:
    info = _write(tmp_path, 10, note="kept")
    metadata = read_metadata(info)
    assert metadata == read_metadata(info.metadata_path)  # by path as well
    assert metadata["note"] == "kept" and metadata["format_version"] == FORMAT_VERSION
    assert "metadata_sha256" not in metadata
    with pytest.raises(CheckpointError, match="not a checkpoint metadata file"):
        read_metadata(info.policy_path)
    document = json.loads(info.metadata_path.read_text())
    document["note"] = "edited"
    info.metadata_path.write_text(json.dumps(document))
    with pytest.raises(CheckpointVerificationError, match="metadata_sha256 does not match"):
        read_metadata(info)
    document["format_version"] = FORMAT_VERSION + 1
    info.metadata_path.write_text(_sealed(document))
    with pytest.raises(CheckpointVerificationError) as caught:
        read_metadata(info)
    assert caught.value.reason is VerificationReason.FORMAT_NEWER


def test_read_metadata_and_load_apply_the_migrations(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A checkpoint written at the current version reads, once the format moves on, through
    the registered migration; without one it is refused as an unsupported version."""
    info = _write(tmp_path, 10, old_name=3)
    monkeypatch.setattr(store, "FORMAT_VERSION", FORMAT_VERSION + 1)
    with pytest.raises(CheckpointVerificationError) as caught:
        read_metadata(info)
    assert caught.value.reason is VerificationReason.FORMAT_VERSION

    def rename_field(document: dict[str, Any]) -> dict[str, Any]:
        document = dict(document)
        document["new_name"] = document.pop("old_name")
        document["format_version"] = FORMAT_VERSION + 1
        return document

    monkeypatch.setitem(store.MIGRATIONS, FORMAT_VERSION, rename_field)
    metadata = read_metadata(info)
    assert metadata["new_name"] == 3 and "old_name" not in metadata
    assert metadata["format_version"] == FORMAT_VERSION + 1
    assert load_checkpoint(info).metadata == metadata
    verify_checkpoint(info)



def test_payloads_beside_their_metadata_temp_file_are_an_unfinished_write(
        tmp_path: Path) -> None:
    killed = _write(tmp_path, 20)  # payloads in place, metadata not yet renamed
    killed.metadata_path.rename(
        tmp_path / ".checkpoint_iter000000000020_metadata.json.tmp-7-00000000000000aa")
    lost = _write(tmp_path, 30)  # metadata lost some other way: no temp file
    lost.metadata_path.unlink()
    complete = _write(tmp_path, 40)
    (tmp_path / ".checkpoint_iter000000000040_metadata.json.tmp-7-00000000000000bb").touch()

    removed = clean_temp_files(tmp_path)

    assert [p.name for p in removed] == [
        ".checkpoint_iter000000000020_metadata.json.tmp-7-00000000000000aa",
        ".checkpoint_iter000000000040_metadata.json.tmp-7-00000000000000bb",
        "checkpoint_iter000000000020.npz", "checkpoint_iter000000000020_regrets.npz"]
    assert lost.policy_path.exists() and lost.state_path.exists()
    verify_checkpoint(complete)
