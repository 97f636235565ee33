"""Checkpoint payload I/O: the npz writer, the threaded hashing writer and the one-pass reader.

The store's behaviour (atomicity, verification, refusals) is tested in test_checkpoint_store;
these tests pin down the layers under it: byte compatibility with ``np.savez``, ordering and
copying rules of :class:`HashingWriter`, and the checks :func:`read_npz_fd` makes on its own
(CRC-32, local headers, overlapping members) without relying on a sha256 mismatch.
"""

from __future__ import annotations

import ctypes
import errno
import hashlib
import io
import itertools
import os
import struct
import sys
import zipfile
import zlib
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from holdem_lab.checkpoint import (
    CheckpointVerificationError,
    PayloadRole,
    VerificationReason,
    arrays,
    fileio,
    load_checkpoint,
    write_checkpoint,
)
from holdem_lab.checkpoint.arrays import NpzFormatError, inspect_npz_layout, read_npz_fd, write_npz
from holdem_lab.checkpoint.fileio import WRITER_WORKERS, HashingWriter, SerialWorkers
from holdem_lab.checkpoint.store import metadata_digest
from holdem_lab.errors import CheckpointError

Arrays = dict[str, np.ndarray[Any, Any]]


class ForwardOnly(io.RawIOBase):
    """A non-seekable in-memory sink, like the store's stream (zipfile then writes data
    descriptors instead of seeking back)."""

    def __init__(self) -> None:
        self.buffer = bytearray()

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        chunk = bytes(data)
        self.buffer += chunk
        return len(chunk)

    def tell(self) -> int:
        return len(self.buffer)


def _varied_arrays() -> Arrays:
    rng = np.random.default_rng(3)
    return {
        "c_order": rng.random((7, 5)),
        "fortran": np.asfortranarray(rng.random((4, 6)).astype(np.float32)),
        "strided": np.arange(50, dtype=np.int16)[::3],
        "transposed_view": rng.random((3, 5, 2)).transpose(1, 0, 2),
        "scalar": np.array(2.5),
        "empty": np.zeros((0, 3)),
        "flags": np.array([True, False, True]),
        "complex": np.array([1 + 2j, -3j], dtype=np.complex64),
        "big_endian": np.arange(6, dtype=">f8").reshape(2, 3),
        "wide": rng.integers(0, 2**62, size=(9,), dtype=np.int64),
        "one_d_large": rng.random(3001),
    }


def _savez_bytes(values: Arrays) -> bytes:
    sink = ForwardOnly()
    np.savez(sink, allow_pickle=False, **values)
    return bytes(sink.buffer)


def _small_pipeline(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make every write asynchronous and every buffer tiny, so small arrays take many chunks,
    fill the queue and start write-back often."""
    monkeypatch.setattr(fileio, "ASYNC_MIN_BYTES", 0)
    monkeypatch.setattr(fileio, "MAX_IN_FLIGHT_BYTES", 96)
    monkeypatch.setattr(fileio, "FLUSH_INTERVAL_BYTES", 200)
    monkeypatch.setattr(fileio, "WRITE_CALL_BYTES", 40)
    monkeypatch.setattr(arrays, "WRITE_CHUNK_BYTES", 64)
    monkeypatch.setattr(arrays, "READ_CHUNK_BYTES", 56)
    monkeypatch.setattr(arrays, "MAX_READ_AHEAD_BYTES", 120)


# --------------------------------------------------------------------------------------------
# Writing


@pytest.mark.parametrize("pipeline", ["default", "small"])
def test_write_npz_writes_exactly_what_np_savez_writes(
    monkeypatch: pytest.MonkeyPatch, pipeline: str
) -> None:
    if pipeline == "small":
        _small_pipeline(monkeypatch)
    values = _varied_arrays()
    sink = ForwardOnly()
    write_npz(sink, values)
    assert bytes(sink.buffer) == _savez_bytes(values)


@pytest.mark.parametrize("limit", ["sizes_and_offsets", "member_count"])
def test_zip64_records_match_zipfiles_beyond_its_limits(
    monkeypatch: pytest.MonkeyPatch, limit: str
) -> None:
    """Members over 2 GiB, offsets past 2 GiB and more than 65,535 members need zip64 fields
    and end records; with zipfile's limits (and ours) lowered, small arrays take those paths
    and the bytes must still be np.savez's, and readable."""
    if limit == "sizes_and_offsets":
        monkeypatch.setattr(zipfile, "ZIP64_LIMIT", 300)
        monkeypatch.setattr(arrays, "ZIP64_LIMIT", 300)
    else:
        monkeypatch.setattr(zipfile, "ZIP_FILECOUNT_LIMIT", 2)
        monkeypatch.setattr(arrays, "_ZIP_FILECOUNT_LIMIT", 2)
    values = _varied_arrays()
    sink = ForwardOnly()
    write_npz(sink, values)
    data = bytes(sink.buffer)
    assert data == _savez_bytes(values)
    assert b"PK\x06\x06" in data  # the zip64 end record is there
    layout = inspect_npz_layout(io.BytesIO(data), len(data))
    assert [member.name for member in layout] == list(values)
    with np.load(io.BytesIO(data), allow_pickle=False) as loaded:
        for name, value in values.items():
            assert np.array_equal(loaded[name], value)
    assert zipfile.ZipFile(io.BytesIO(data)).testzip() is None  # every CRC-32 checks


def test_zip64_end_records_for_more_members_than_a_zip_counts() -> None:
    """65,536 members: the end record's count is capped and the zip64 records hold the real
    one (zipfile's limits left as they are)."""
    values = {f"a{i}": np.zeros(0, dtype=np.uint8) for i in range(65_536)}
    sink = ForwardOnly()
    write_npz(sink, values)
    data = bytes(sink.buffer)
    assert data == _savez_bytes(values)
    assert len(zipfile.ZipFile(io.BytesIO(data)).infolist()) == 65_536


def test_stored_zip_writer_refuses_misordered_calls() -> None:
    archive = arrays.StoredZipWriter(ForwardOnly())
    with pytest.raises(ValueError, match="no member is started"):
        archive.write(b"x")
    with pytest.raises(ValueError, match="no member is started"):
        archive.end_member()
    archive.start_member("a.npy")
    with pytest.raises(ValueError, match="previous member is not ended"):
        archive.start_member("b.npy")
    with pytest.raises(ValueError, match="last member is not ended"):
        archive.finish()
    archive.end_member()
    archive.finish()
    for call in (archive.finish, lambda: archive.start_member("c.npy")):
        with pytest.raises(ValueError, match="the archive is finished"):
            call()


def test_stored_zip_writer_stops_at_a_failed_write() -> None:
    """After the stream raised, the records could not describe the file: no call goes on."""

    class Failing(ForwardOnly):
        def write(self, data: Any) -> int:
            if len(self.buffer) > 100:
                raise OSError(errno.ENOSPC, "No space left on device")
            return super().write(data)

    archive = arrays.StoredZipWriter(Failing())
    archive.start_member("a.npy")
    archive.write(b"x" * 200)
    with pytest.raises(OSError):
        archive.write(b"y")
    for call in (archive.end_member, archive.finish, lambda: archive.write(b"z")):
        with pytest.raises(ValueError, match="a write to the stream failed"):
            call()


def test_fast_crc32_is_zlibs() -> None:
    assert arrays.fast_crc32 is not zlib.crc32  # ISA-L's, a dependency, is installed
    data = np.random.default_rng(1).integers(0, 256, size=100_003, dtype=np.uint8)
    view = memoryview(data).toreadonly()
    assert arrays.fast_crc32(view, 0) == zlib.crc32(view)
    assert arrays.fast_crc32(view[5000:], arrays.fast_crc32(view[:5000], 0)) == zlib.crc32(view)


def test_payload_file_is_byte_identical_to_np_savez_and_hashed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _small_pipeline(monkeypatch)
    requests: list[tuple[int, int]] = []
    real_start = fileio.start_writeback

    def recording_start(fd: int, offset: int, length: int) -> None:
        requests.append((offset, length))
        real_start(fd, offset, length)

    monkeypatch.setattr(fileio, "start_writeback", recording_start)
    values = _varied_arrays()
    fd = os.open(tmp_path / "out.npz", os.O_WRONLY | os.O_CREAT | os.O_EXCL)
    try:
        with SerialWorkers(*WRITER_WORKERS) as workers, HashingWriter(fd, workers) as stream:
            write_npz(stream, values)
    finally:
        os.close(fd)
    data = (tmp_path / "out.npz").read_bytes()
    assert data == _savez_bytes(values)
    assert stream.hexdigest() == hashlib.sha256(data).hexdigest()
    assert stream.tell() == len(data)
    # Write-back is started for consecutive ranges of at least 200 bytes, from the start.
    assert len(requests) >= len(data) // 400, "write-back started about every 200 bytes"
    assert [offset for offset, _ in requests] == list(
        itertools.accumulate([0] + [length for _, length in requests[:-1]])
    )
    assert all(length >= 200 for _, length in requests)
    assert sum(length for _, length in requests) <= len(data)
    with np.load(tmp_path / "out.npz", allow_pickle=False) as npz:
        for name, array in values.items():
            assert np.array_equal(npz[name], array), name


def test_write_npz_passes_contiguous_data_as_read_only_views(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(arrays, "WRITE_CHUNK_BYTES", 1024)
    seen: list[Any] = []

    class Recorder(ForwardOnly):
        def write(self, data: Any) -> int:
            seen.append(data)
            return super().write(data)

    big = np.arange(3 * 1024 // 8 + 5, dtype=np.float64)
    fortran = np.asfortranarray(np.arange(300.0).reshape(10, 30))
    for array in (big, fortran):
        seen.clear()
        write_npz(Recorder(), {"a": array})
        views = [data for data in seen if isinstance(data, memoryview)]
        assert all(view.readonly for view in views)
        assert [view.nbytes for view in views] == [
            min(1024, array.nbytes - start) for start in range(0, array.nbytes, 1024)
        ]
        assert b"".join(bytes(view) for view in views) == array.tobytes(order="A")
        assert not np.shares_memory(np.frombuffer(bytes(views[0]), np.uint8), array)
        assert all(
            np.shares_memory(np.frombuffer(view, np.uint8), array) for view in views
        ), "no copies"


def test_write_npz_refuses_object_arrays() -> None:
    with pytest.raises(ValueError, match="object"):
        write_npz(ForwardOnly(), {"bad": np.array([object()], dtype=object)})


# --------------------------------------------------------------------------------------------
# HashingWriter


def test_hashing_writer_keeps_order_and_copies_mutable_buffers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _small_pipeline(monkeypatch)
    monkeypatch.setattr(fileio, "ASYNC_MIN_BYTES", 64)  # small writes go inline unless queued
    scratch = bytearray(b"m" * 50)  # small and mutable: copied if queued
    large_scratch = bytearray(b"L" * 100)  # large and mutable: written by the caller's thread
    frozen = np.arange(40, dtype=np.uint8)
    frozen_view = frozen.data.toreadonly()
    pieces: list[Any] = [b"a" * 100, b"b" * 10, scratch, b"e" * 80, large_scratch,
                         frozen_view, b"c" * 70, b"d" * 3]
    expected = b"".join(bytes(piece) for piece in pieces)
    fd = os.open(tmp_path / "out.bin", os.O_WRONLY | os.O_CREAT | os.O_EXCL)
    try:
        with SerialWorkers(*WRITER_WORKERS) as workers, HashingWriter(fd, workers) as stream:
            for piece in pieces:
                assert stream.write(piece) == len(memoryview(piece))
                if isinstance(piece, bytearray):
                    piece[:] = b"X" * len(piece)  # the caller reuses its buffer at once
    finally:
        os.close(fd)
    assert (tmp_path / "out.bin").read_bytes() == expected
    assert stream.hexdigest() == hashlib.sha256(expected).hexdigest()


@pytest.mark.parametrize("failing", ["write", "start_writeback"])
def test_worker_failure_surfaces_and_stops_later_writes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failing: str
) -> None:
    _small_pipeline(monkeypatch)
    owner: Any = os if failing == "write" else fileio
    real = getattr(owner, failing)
    calls: list[int] = []

    def fail_third(*args: Any) -> Any:
        calls.append(1)
        if len(calls) == 3:
            raise OSError(errno.EIO, os.strerror(errno.EIO))
        return real(*args)

    monkeypatch.setattr(owner, failing, fail_third)
    fd = os.open(tmp_path / "out.bin", os.O_WRONLY | os.O_CREAT | os.O_EXCL)
    try:
        with SerialWorkers(*WRITER_WORKERS) as workers:
            stream = HashingWriter(fd, workers)
            with pytest.raises(OSError, match="Input/output error"), stream:
                for _ in range(200):
                    stream.write(b"x" * 50)
            with pytest.raises(OSError, match="Input/output error"):
                stream.write(b"after")  # a failed writer stays failed
    finally:
        os.close(fd)
    if failing == "write":
        # Nothing was written after the failed call: chunks queued behind it were dropped.
        assert os.path.getsize(tmp_path / "out.bin") == 50


def test_start_writeback_starts_the_disk_write_and_reports_errors(tmp_path: Path) -> None:
    if sys.platform.startswith("linux"):
        assert fileio._SYNC_FILE_RANGE is not None, "sync_file_range should be in use on Linux"
    path = tmp_path / "out.bin"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL)
    try:
        os.write(fd, b"x" * 10_000)
        fileio.start_writeback(fd, 0, 10_000)
        fileio.start_writeback(fd, 4096, 100)  # any range, even one not page-aligned
        os.fsync(fd)
    finally:
        os.close(fd)
    assert path.read_bytes() == b"x" * 10_000
    with pytest.raises(OSError) as caught:
        fileio.start_writeback(fd, 0, 10_000)  # closed descriptor
    assert caught.value.errno == errno.EBADF


@pytest.mark.parametrize("code", [errno.ENOSYS, errno.EPERM])
def test_a_refused_sync_file_range_falls_back_to_fsync(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, code: int
) -> None:
    refused: list[int] = []

    def refusing(fd: int, offset: int, length: int, flags: int) -> int:
        refused.append(offset)
        ctypes.set_errno(code)
        return -1

    fsyncs: list[int] = []
    real_fsync = os.fsync

    def counting_fsync(fd: int) -> None:
        fsyncs.append(fd)
        real_fsync(fd)

    monkeypatch.setattr(fileio, "_SYNC_FILE_RANGE", refusing)
    monkeypatch.setattr(os, "fsync", counting_fsync)
    monkeypatch.setattr(fileio, "FLUSH_INTERVAL_BYTES", 1 << 16)
    monkeypatch.setattr(arrays, "WRITE_CHUNK_BYTES", 1 << 16)
    values = {"v": np.arange(100_000, dtype=np.float64)}  # 800 kB: a dozen write-back requests
    info = write_checkpoint(tmp_path, 1, values, values, {}).info
    assert refused == [0], "asked once, then never again in this process"
    assert fileio._SYNC_FILE_RANGE is None
    assert len(fsyncs) > 12
    assert np.array_equal(load_checkpoint(info).state["v"], values["v"])


def test_a_failing_sync_file_range_fails_the_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def failing(fd: int, offset: int, length: int, flags: int) -> int:
        ctypes.set_errno(errno.EIO)
        return -1

    monkeypatch.setattr(fileio, "_SYNC_FILE_RANGE", failing)
    monkeypatch.setattr(fileio, "FLUSH_INTERVAL_BYTES", 1 << 16)
    monkeypatch.setattr(arrays, "WRITE_CHUNK_BYTES", 1 << 16)
    values = {"v": np.arange(100_000, dtype=np.float64)}
    with pytest.raises(CheckpointError, match="Input/output error"):
        write_checkpoint(tmp_path, 1, values, values, {})
    assert list(tmp_path.iterdir()) == []


def test_fsync_failure_inside_checkpoint_write_names_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _small_pipeline(monkeypatch)
    real_fsync = os.fsync
    calls: list[int] = []

    def fail_first(fd: int) -> None:
        calls.append(fd)
        if len(calls) == 1:
            raise OSError(errno.EIO, os.strerror(errno.EIO))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fail_first)
    values = {"v": np.arange(500, dtype=np.float64)}
    with pytest.raises(CheckpointError) as caught:
        write_checkpoint(tmp_path, 1, values, values, {})
    assert "Input/output error" in str(caught.value)
    assert ".checkpoint_iter000000000001.npz.tmp-" in str(caught.value)
    assert list(tmp_path.iterdir()) == []


# --------------------------------------------------------------------------------------------
# Reading


def _read(path: Path, *, sha256: bool = True, crc32: bool = True) -> arrays.NpzContents:
    fd = os.open(path, os.O_RDONLY)
    try:
        with SerialWorkers(*arrays.READER_WORKERS) as workers:
            return read_npz_fd(fd, os.fstat(fd).st_size, workers, sha256=sha256, crc32=crc32)
    finally:
        os.close(fd)


@pytest.mark.parametrize("pipeline", ["default", "small"])
def test_read_npz_round_trips_and_hashes_the_whole_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pipeline: str
) -> None:
    if pipeline == "small":
        _small_pipeline(monkeypatch)
    values = _varied_arrays()
    data = _savez_bytes(values)
    (tmp_path / "a.npz").write_bytes(data)
    contents = _read(tmp_path / "a.npz")
    assert contents.sha256 == hashlib.sha256(data).hexdigest()
    assert contents.bytes_hashed == len(data)
    assert list(contents.arrays) == list(values)
    with np.load(tmp_path / "a.npz", allow_pickle=False) as npz:
        for name in values:
            restored, reference = contents.arrays[name], npz[name]
            assert restored.dtype == reference.dtype and restored.shape == reference.shape
            assert restored.flags.f_contiguous == reference.flags.f_contiguous, name
            assert restored.tobytes("A") == reference.tobytes("A"), name
    unhashed = _read(tmp_path / "a.npz", sha256=False)
    assert unhashed.sha256 is None
    assert all(np.array_equal(unhashed.arrays[n], values[n]) for n in values)


def test_read_npz_hashes_bytes_appended_after_the_archive(tmp_path: Path) -> None:
    data = _savez_bytes({"v": np.arange(10.0)})
    (tmp_path / "a.npz").write_bytes(data + b"extra")
    fd = os.open(tmp_path / "a.npz", os.O_RDONLY)
    try:
        with SerialWorkers(*arrays.READER_WORKERS) as workers:
            contents = read_npz_fd(fd, len(data), workers, sha256=True)
    finally:
        os.close(fd)
    assert contents.bytes_hashed == len(data) + 5
    assert contents.sha256 == hashlib.sha256(data + b"extra").hexdigest()


def _local_header_offsets(data: bytes) -> dict[str, tuple[int, int]]:
    """member name -> (local header offset, offset of its stored data)."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        result = {}
        for info in archive.infolist():
            name_length, extra_length = struct.unpack_from("<HH", data, info.header_offset + 26)
            result[info.filename] = (info.header_offset,
                                     info.header_offset + 30 + name_length + extra_length)
        return result


def test_data_offset_comes_from_the_local_header(tmp_path: Path) -> None:
    """numpy's zip64 local headers carry an extra field the central directory lacks: a
    reader that took the central directory's lengths would read from the wrong offset."""
    data = _savez_bytes({"v": np.arange(10.0)})
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        (info,) = archive.infolist()
    local_extra = struct.unpack_from("<H", data, info.header_offset + 28)[0]
    assert local_extra != len(info.extra)
    (tmp_path / "a.npz").write_bytes(data)
    assert _read(tmp_path / "a.npz").arrays["v"].tolist() == list(np.arange(10.0))


def _flip(data: bytes, offset: int) -> bytes:
    damaged = bytearray(data)
    damaged[offset] ^= 0x01
    return bytes(damaged)


def test_flipped_data_byte_fails_the_crc_naming_the_array(tmp_path: Path) -> None:
    # Members larger than zipfile's 4 KiB read-ahead: inspecting the header does not reach
    # the end of the member, where zipfile would check the CRC itself.
    data = _savez_bytes({"first": np.arange(1000.0), "second": np.arange(2000.0)})
    _, start = _local_header_offsets(data)["second.npy"]
    (tmp_path / "a.npz").write_bytes(_flip(data, start + 128 + 8 * 1500))
    for sha256 in (True, False):
        with pytest.raises(NpzFormatError, match=r"'second': CRC-32 mismatch"):
            _read(tmp_path / "a.npz", sha256=sha256)


def test_crc32_false_reads_without_checking_the_crcs_but_still_hashes(tmp_path: Path) -> None:
    """For callers that compare the sha256 with a trusted digest: the damaged byte is
    loaded as is, and the digest (of the damaged file) is what exposes it."""
    data = _savez_bytes({"first": np.arange(1000.0), "second": np.arange(2000.0)})
    _, start = _local_header_offsets(data)["second.npy"]
    damaged = _flip(data, start + 128 + 8 * 1500)
    (tmp_path / "a.npz").write_bytes(damaged)
    contents = _read(tmp_path / "a.npz", crc32=False)
    assert contents.sha256 == hashlib.sha256(damaged).hexdigest()
    assert contents.sha256 != hashlib.sha256(data).hexdigest()
    assert contents.arrays["second"][1500] != 1500.0
    assert contents.arrays["first"].tolist() == list(np.arange(1000.0))


def test_wrong_crc_in_the_directory_is_refused(tmp_path: Path) -> None:
    data = _savez_bytes({"v": np.arange(1000.0)})
    directory = data.rindex(b"PK\x01\x02")
    (tmp_path / "a.npz").write_bytes(_flip(data, directory + 16))  # the CRC-32 field
    with pytest.raises(NpzFormatError, match="CRC-32 mismatch"):
        _read(tmp_path / "a.npz")


@pytest.mark.parametrize(
    ("field", "delta"),
    [("signature", 0), ("name length", 26), ("extra length", 28), ("extra length", 29)],
)
def test_damaged_local_header_is_refused(tmp_path: Path, field: str, delta: int) -> None:
    data = _savez_bytes({"first": np.arange(30.0), "second": np.arange(40.0)})
    header, _ = _local_header_offsets(data)["second.npy"]
    (tmp_path / "a.npz").write_bytes(_flip(data, header + delta))
    with pytest.raises(NpzFormatError):
        _read(tmp_path / "a.npz")


def test_members_sharing_bytes_are_refused(tmp_path: Path) -> None:
    """A member whose local header and data sit inside another member's data: each is a
    valid member on its own (name, CRC, sizes agree), but the archive is not one np.savez
    writes, and reading it would alias bytes."""
    inner = np.arange(8.0)
    inner_npy = arrays._npy_header(inner) + inner.tobytes()
    alone = io.BytesIO()
    with zipfile.ZipFile(alone, "w") as archive:
        archive.writestr("inner.npy", inner_npy)
    inner_record = alone.getvalue()[: alone.getvalue().index(b"PK\x01\x02")]  # header + data
    outer = np.frombuffer(inner_record, dtype=np.uint8)
    built = io.BytesIO()
    with zipfile.ZipFile(built, "w") as archive:
        archive.writestr("outer.npy", arrays._npy_header(outer) + outer.tobytes())
        archive.writestr("inner.npy", inner_npy)
    data = bytearray(built.getvalue())
    planted = _local_header_offsets(bytes(data))["outer.npy"][1] + len(arrays._npy_header(outer))
    inner_entry = data.rindex(b"PK\x01\x02")  # central directory record of inner.npy
    assert data[inner_entry + 46 : inner_entry + 55] == b"inner.npy"
    struct.pack_into("<L", data, inner_entry + 42, planted)  # now points into outer's data
    path = tmp_path / "a.npz"
    path.write_bytes(bytes(data))
    with zipfile.ZipFile(path) as archive:
        assert archive.getinfo("inner.npy").header_offset == planted
        assert archive.read("inner.npy") == inner_npy  # zipfile itself sees nothing wrong
    with pytest.raises(NpzFormatError, match="overlap"):
        _read(path)
    with open(path, "rb") as stream, pytest.raises(NpzFormatError, match="overlap"):
        inspect_npz_layout(stream, len(data))


def test_file_shrinking_while_read_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "a.npz"
    path.write_bytes(_savez_bytes({"v": np.arange(100.0)}))
    inspect = arrays.inspect_npz_layout

    def inspect_then_truncate(stream: Any, file_size: int) -> Any:
        layout = inspect(stream, file_size)
        os.truncate(path, 300)  # after its structure was checked, before its data is read
        return layout

    monkeypatch.setattr(arrays, "inspect_npz_layout", inspect_then_truncate)
    for sha256 in (True, False):
        path.write_bytes(_savez_bytes({"v": np.arange(100.0)}))
        with pytest.raises(NpzFormatError, match="file ends at byte 300"):
            _read(path, sha256=sha256)


# --------------------------------------------------------------------------------------------
# Through the store


def _forge(info: Any, role: PayloadRole, data: bytes) -> None:
    """Replace a payload and make the metadata vouch for it (as a forger could)."""
    import json

    info.payload_path(role).write_bytes(data)
    document = json.loads(info.metadata_path.read_text())
    document.pop("metadata_sha256")
    document["files"][role.value]["size_bytes"] = len(data)
    document["files"][role.value]["sha256"] = hashlib.sha256(data).hexdigest()
    document["metadata_sha256"] = metadata_digest(document)
    info.metadata_path.write_text(json.dumps(document))


def test_store_checks_crcs_only_when_not_verifying_the_sha256(tmp_path: Path) -> None:
    """A payload whose metadata vouches for its sha256 although a member's CRC-32 is wrong:
    without verify the CRC catches it; with verify the sha256 is the integrity check and the
    CRCs are not computed (whoever can rewrite the recorded sha256 can rewrite a CRC too)."""
    values = {"average_strategy": np.arange(4096.0).reshape(1024, 4)}
    info = write_checkpoint(tmp_path, 1, values, {"r": np.zeros(3)}, {}).info
    data = info.policy_path.read_bytes()
    _, start = _local_header_offsets(data)["average_strategy.npy"]
    damaged = _flip(data, start + 128 + 20_000)
    _forge(info, PayloadRole.POLICY, damaged)
    with pytest.raises(CheckpointVerificationError) as caught:
        load_checkpoint(info, verify=False)
    assert caught.value.reason is VerificationReason.PAYLOAD_INVALID
    assert "'average_strategy': CRC-32 mismatch" in str(caught.value)
    loaded = load_checkpoint(info, verify=True)
    assert loaded.policy["average_strategy"].tobytes() == damaged[
        start + 128 : start + 128 + values["average_strategy"].nbytes
    ]


def test_store_reports_a_sha256_mismatch_before_a_crc_mismatch(tmp_path: Path) -> None:
    values = {"average_strategy": np.arange(4096.0).reshape(1024, 4)}
    info = write_checkpoint(tmp_path, 1, values, {"r": np.zeros(3)}, {}).info
    data = info.policy_path.read_bytes()
    _, start = _local_header_offsets(data)["average_strategy.npy"]
    info.policy_path.write_bytes(_flip(data, start + 128 + 20_000))
    with pytest.raises(CheckpointVerificationError) as caught:
        load_checkpoint(info)
    assert caught.value.reason is VerificationReason.SHA256_MISMATCH
    with pytest.raises(CheckpointVerificationError, match="CRC-32") as caught:
        load_checkpoint(info, verify=False)
    assert caught.value.reason is VerificationReason.PAYLOAD_INVALID


def test_store_round_trip_with_many_small_chunks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _small_pipeline(monkeypatch)
    values = _varied_arrays()
    info = write_checkpoint(tmp_path, 1, values, {"crc": np.array([zlib.crc32(b"x")])}, {}).info
    assert info.policy_path.read_bytes() == _savez_bytes(values)
    loaded = load_checkpoint(info)
    for name, array in values.items():
        assert loaded.policy[name].tobytes() == array.tobytes(), name


def test_read_npy_header_reads_versions_1_and_2_and_refuses_others() -> None:
    from holdem_lab.checkpoint.arrays import NpyVersionError, read_npy_header

    array = np.zeros((3, 4), dtype=np.float32)
    for version in ((1, 0), (2, 0)):
        stream = io.BytesIO()
        np.lib.format.write_array(stream, array, version=version)
        stream.seek(0)
        assert read_npy_header(stream) == ((3, 4), False, np.dtype(np.float32))
    stream = io.BytesIO()
    np.lib.format.write_array(stream, array, version=(1, 0))
    forged = bytearray(stream.getvalue())
    forged[6] = 3  # major version byte after the magic string
    with pytest.raises(NpyVersionError, match=r"unsupported npy version \(3, 0\)"):
        read_npy_header(io.BytesIO(bytes(forged)))
