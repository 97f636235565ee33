"""What a checkpoint array may be, and how an npz payload is inspected and loaded safely.

Only plain numeric or boolean arrays are stored: no object arrays (they would be pickled),
no structured, string or datetime dtypes, and no NaN or infinity in floating-point data
(a non-finite regret or strategy sum means training already diverged; better to fail at write
time than to resume from it).

Loading never unpickles. Before any array is allocated, the zip directory, each member's local
header and its ``.npy`` header are parsed (the latter with numpy's literal-only header reader)
and checked against the real file size, so a forged header cannot make the loader allocate
more memory than the file actually holds.

Writing (:func:`write_npz`, through :class:`StoredZipWriter`) produces exactly the bytes
``np.savez`` writes to a forward-only stream, but hands contiguous array data to the stream as
read-only views instead of copies and computes the zip CRC-32 with ISA-L (:data:`fast_crc32`).
Reading (:func:`read_npz_fd`, behind :func:`holdem_lab.checkpoint.read_npz`) reads each
array's bytes straight into the array with ``preadv`` and, as it goes, on worker threads, hashes
the whole file with sha256 or checks each member's CRC-32 (or both): the file is read once.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import math
import os
import re
import struct
import sys
import zipfile
import zlib
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Future
from dataclasses import dataclass
from typing import IO, Any, Protocol

import numpy as np

from holdem_lab.checkpoint.fileio import READ_CHUNK_BYTES, SerialWorkers, pread_into

ALLOWED_KINDS = frozenset("biufc")
"""dtype kinds a checkpoint array may have: bool, signed/unsigned int, float, complex."""

ARRAY_NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-]{0,127}")
"""Names usable as npz member names on every platform (no path separators)."""

RESERVED_ARRAY_NAMES = frozenset({"file", "allow_pickle"})
"""Parameter names of ``np.savez``: arrays cannot be passed under these keywords."""

WRITE_CHUNK_BYTES = 8 << 20
"""Contiguous array data is handed to the output stream in slices of this many bytes."""

MAX_READ_AHEAD_BYTES = 32 << 20
"""How far :func:`read_npz_fd` may read ahead of its hashing and CRC workers."""

READER_WORKERS = ("hash", "crc")
"""The workers :func:`read_npz_fd` uses: ``SerialWorkers(*READER_WORKERS)``."""

_FINITE_CHECK_ELEMENTS = 1 << 20


def _fastest_crc32() -> Callable[[Any, int], int]:
    """CRC-32 as zip uses it: ISA-L's (carry-less multiply instructions, several times zlib's
    rate) when the ``isal`` package is installed, else zlib's."""
    try:
        from isal.isal_zlib import crc32 as isal_crc32
    except ImportError:  # pragma: no cover - isal is a dependency; zlib is the stand-in
        return zlib.crc32
    return isal_crc32


fast_crc32 = _fastest_crc32()
"""``fast_crc32(data, value) -> int``: the same function as ``zlib.crc32``, as fast as
available."""

_NPY_SUFFIX = ".npy"
_LOCAL_HEADER = struct.Struct("<4s2B4HL2L2H")  # zipfile.structFileHeader
_LOCAL_HEADER_MAGIC = b"PK\x03\x04"

# What zipfile and numpy's header reader raise on corrupt bytes (OSError is not among them:
# a genuine read failure is reported as such by the caller).
_PARSER_ERRORS = (
    ValueError,
    TypeError,
    KeyError,
    IndexError,
    EOFError,
    OverflowError,
    RuntimeError,
    NotImplementedError,
    struct.error,
)


class NpzFormatError(ValueError):
    """A payload is not an npz archive of plain numeric arrays as written by the store."""


@dataclass(frozen=True)
class ArraySpec:
    """dtype and shape of one stored array, as declared by its ``.npy`` header."""

    dtype: np.dtype[Any]
    shape: tuple[int, ...]

    def to_json(self) -> dict[str, Any]:
        """Form recorded in checkpoint metadata: ``{"dtype": "<f8", "shape": [3, 4]}``."""
        return {"dtype": self.dtype.str, "shape": list(self.shape)}

    @classmethod
    def of(cls, array: np.ndarray[Any, Any] | StreamedArray) -> ArraySpec:
        """Spec of an in-memory (or streamed) array."""
        return cls(array.dtype, tuple(int(n) for n in array.shape))


@dataclass(frozen=True)
class StreamedArray:
    """An array stored from row blocks computed as it is written, never held whole.

    It is stored exactly as the C-ordered array of `dtype` and `shape` whose rows ``blocks()``
    yields, in order, as C-contiguous arrays of that dtype (each one 1 row or more, together
    ``shape[0]`` rows): the same bytes, header and checksums. Writing one costs a block's
    memory, not the array's: a checkpoint's average policy is computed from the strategy sums
    block by block as it streams to the file. ``blocks()`` is called once per write."""

    dtype: np.dtype[Any]
    shape: tuple[int, ...]
    blocks: Callable[[], Iterator[np.ndarray[Any, Any]]]

    def __post_init__(self) -> None:
        object.__setattr__(self, "dtype", np.dtype(self.dtype))
        shape = tuple(int(n) for n in self.shape)
        if not shape or any(n < 0 for n in shape):
            raise ValueError(f"shape {self.shape!r}: a streamed array has rows (ndim >= 1)")
        object.__setattr__(self, "shape", shape)


def dtype_problem(dtype: np.dtype[Any]) -> str | None:
    """Why ``dtype`` may not be stored in a checkpoint, or None if it may."""
    if dtype.hasobject:
        return f"dtype {dtype} holds Python objects (object arrays are never stored)"
    if dtype.kind not in ALLOWED_KINDS or dtype.fields is not None or dtype.subdtype is not None:
        return f"dtype {dtype} is not a plain numeric or boolean dtype"
    return None


def has_non_finite(array: np.ndarray[Any, Any]) -> bool:
    """True if a float or complex array contains NaN or +-inf; checked in bounded-size chunks."""
    if array.dtype.kind not in "fc" or array.size == 0:
        return False
    for chunk in np.nditer(
        array,
        flags=["external_loop", "buffered", "zerosize_ok"],
        buffersize=_FINITE_CHECK_ELEMENTS,
        order="K",
    ):
        if not np.isfinite(chunk).all():
            return True
    return False


def name_problem(name: object) -> str | None:
    """Why ``name`` may not name a checkpoint array, or None."""
    if not isinstance(name, str):
        return f"array names must be str, got {type(name).__name__}"
    if ARRAY_NAME_RE.fullmatch(name) is None:
        return (
            f"array name {name!r} must start with a letter or '_' and contain only letters, "
            "digits, '_', '.', '-' (at most 128 characters)"
        )
    if name in RESERVED_ARRAY_NAMES:
        return f"array name {name!r} is reserved by np.savez"
    return None


@dataclass(frozen=True)
class MemberLayout:
    """Where one array of an npz archive lives in the file, and what it must hash to."""

    name: str
    spec: ArraySpec
    fortran_order: bool
    header_offset: int
    """Offset of the member's local file header."""
    data_offset: int
    """Offset of the member's stored bytes (its ``.npy`` header, then the array data)."""
    npy_header_size: int
    stored_size: int
    """Bytes stored for the member: ``.npy`` header plus array data."""
    crc32: int
    """CRC-32 of the stored bytes, as recorded in the zip central directory."""

    @property
    def array_offset(self) -> int:
        """Offset of the first byte of array data."""
        return self.data_offset + self.npy_header_size

    @property
    def end(self) -> int:
        """Offset just past the member's stored bytes."""
        return self.data_offset + self.stored_size


def inspect_npz_layout(stream: IO[bytes], file_size: int) -> list[MemberLayout]:
    """Check an npz archive's structure without reading array data; return its members in
    the order of the zip directory.

    Refuses (``NpzFormatError``): anything that is not a zip archive, encrypted or compressed
    members, names that are not ``<valid name>.npy``, duplicate names, members extending past
    the end of the file or overlapping one another, npy versions other than 1.0/2.0,
    disallowed dtypes (object arrays are detected from the header alone), and any member whose
    header claims a data size different from the bytes actually stored. The last check is the
    memory guard: a reader allocates the claimed size before reading, and the claim can never
    exceed ``file_size``.
    """
    stream.seek(0)
    try:
        with zipfile.ZipFile(stream) as archive:
            members: list[MemberLayout] = []
            seen: set[str] = set()
            total = 0
            for member in archive.infolist():
                name = _member_array_name(member, seen)
                seen.add(name)
                if member.header_offset + member.compress_size > file_size:
                    raise NpzFormatError(f"member {member.filename!r} extends past end of file")
                total += member.file_size
                if total > file_size:
                    raise NpzFormatError("members claim more bytes than the file holds")
                spec, fortran_order, npy_header_size = _read_member_header(archive, member)
                data_offset = _member_data_offset(stream, member)
                if data_offset + member.compress_size > file_size:
                    raise NpzFormatError(f"member {member.filename!r} extends past end of file")
                members.append(
                    MemberLayout(
                        name=name,
                        spec=spec,
                        fortran_order=fortran_order,
                        header_offset=member.header_offset,
                        data_offset=data_offset,
                        npy_header_size=npy_header_size,
                        stored_size=member.compress_size,
                        crc32=member.CRC,
                    )
                )
    except NpzFormatError:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile) as exc:
        raise NpzFormatError(f"not a valid npz (zip) archive: {exc}") from exc
    except _PARSER_ERRORS as exc:
        raise NpzFormatError(f"malformed npz archive: {exc}") from exc
    in_file_order = sorted(members, key=lambda m: m.header_offset)
    for before, after in zip(in_file_order, in_file_order[1:], strict=False):
        if after.header_offset < before.end:
            raise NpzFormatError(
                f"members {before.name + _NPY_SUFFIX!r} and {after.name + _NPY_SUFFIX!r} overlap"
            )
    return members


def _member_data_offset(stream: IO[bytes], member: zipfile.ZipInfo) -> int:
    """Offset of the member's stored bytes: after its *local* header, whose name and extra
    field lengths may differ from the central directory's."""
    stream.seek(member.header_offset)
    fixed = stream.read(_LOCAL_HEADER.size)
    if len(fixed) != _LOCAL_HEADER.size:
        raise NpzFormatError(f"member {member.filename!r}: truncated local header")
    fields = _LOCAL_HEADER.unpack(fixed)
    if fields[0] != _LOCAL_HEADER_MAGIC:
        raise NpzFormatError(f"member {member.filename!r}: bad local header signature")
    name_length, extra_length = fields[-2], fields[-1]
    return int(member.header_offset + _LOCAL_HEADER.size + name_length + extra_length)


def _member_array_name(member: zipfile.ZipInfo, seen: set[str]) -> str:
    if member.flag_bits & 0x1:
        raise NpzFormatError(f"member {member.filename!r} is encrypted")
    if member.compress_type != zipfile.ZIP_STORED:
        raise NpzFormatError(f"member {member.filename!r} is compressed; only stored is accepted")
    if member.compress_size != member.file_size:
        raise NpzFormatError(f"member {member.filename!r} has inconsistent sizes")
    if not member.filename.endswith(_NPY_SUFFIX):
        raise NpzFormatError(f"member {member.filename!r} is not an .npy array")
    name = member.filename[: -len(_NPY_SUFFIX)]
    problem = name_problem(name)
    if problem is not None:
        raise NpzFormatError(problem)
    if name in seen:
        raise NpzFormatError(f"duplicate member {member.filename!r}")
    return name


class NpyVersionError(ValueError):
    """An ``.npy`` header of a version other than 1.0 or 2.0."""

    def __init__(self, version: tuple[int, int]) -> None:
        super().__init__(f"unsupported npy version {version}")
        self.version = version


def read_npy_header(stream: IO[bytes]) -> tuple[tuple[int, ...], bool, np.dtype[Any]]:
    """Shape, fortran_order flag and dtype from the ``.npy`` header at the stream's position,
    with numpy's literal-only header reader (never unpickles). Versions 1.0 and 2.0 only
    (:class:`NpyVersionError`); a malformed header raises numpy's ValueError."""
    version = np.lib.format.read_magic(stream)
    if version == (1, 0):
        return np.lib.format.read_array_header_1_0(stream)
    if version == (2, 0):
        return np.lib.format.read_array_header_2_0(stream)
    raise NpyVersionError(version)


def _read_member_header(
    archive: zipfile.ZipFile, member: zipfile.ZipInfo
) -> tuple[ArraySpec, bool, int]:
    """The member's array spec, fortran_order flag and ``.npy`` header size in bytes."""
    with archive.open(member) as handle:
        try:
            shape, fortran_order, dtype = read_npy_header(handle)
        except NpyVersionError as exc:
            raise NpzFormatError(f"member {member.filename!r}: {exc}") from None
        header_size = handle.tell()
    problem = dtype_problem(dtype)
    if problem is not None:
        raise NpzFormatError(f"array {member.filename[: -len(_NPY_SUFFIX)]!r}: {problem}")
    if any(not isinstance(n, int) or n < 0 for n in shape):
        raise NpzFormatError(f"member {member.filename!r}: invalid shape {shape!r}")
    claimed = math.prod(shape) * dtype.itemsize
    if header_size + claimed != member.file_size:
        raise NpzFormatError(
            f"member {member.filename!r}: header claims {claimed} data bytes but the member "
            f"holds {member.file_size - header_size}"
        )
    return ArraySpec(dtype, tuple(shape)), bool(fortran_order), header_size


# --------------------------------------------------------------------------------------------
# Writing


class WritableStream(Protocol):
    """What :func:`write_npz` writes to: a forward-only binary stream."""

    def write(self, data: bytes | memoryview, /) -> int: ...


class NonFiniteArrayError(ValueError):
    """:func:`write_npz` met NaN or infinity in an array it was told to refuse them in."""

    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(f"array {name!r} contains NaN or infinity")


def write_npz(
    stream: WritableStream,
    arrays: Mapping[str, np.ndarray[Any, Any] | StreamedArray],
    *,
    refuse_non_finite: bool = False,
) -> None:
    """Write ``arrays`` to ``stream`` as an npz archive of stored (uncompressed) members.

    The bytes are exactly those ``np.savez(stream, allow_pickle=False, **arrays)`` writes to
    the same stream (same zip records, same ``.npy`` headers, same data order), so any numpy
    reads the result. The difference is cost: numpy copies every 16 MiB of a non-file stream's
    array data with ``tobytes`` and zipfile computes the CRC-32 with zlib; here C- or
    Fortran-contiguous data is passed as read-only ``memoryview`` slices of the array itself
    (about :data:`WRITE_CHUNK_BYTES` each), so the stream sees the caller's memory, and the
    CRC-32 is :data:`fast_crc32`. The arrays must therefore not change until the stream has
    consumed them (see :class:`~holdem_lab.checkpoint.fileio.HashingWriter`). Arrays that are
    not contiguous are copied chunk by chunk, as numpy does.

    With ``refuse_non_finite``, each chunk of a float or complex array is checked with
    ``np.isfinite`` just before it is handed to the stream (while the stream's workers are
    still busy with the previous chunks, so the check costs no pass of its own), and
    :class:`NonFiniteArrayError` is raised at the first NaN or infinity. What was written by
    then is an incomplete archive: the caller must discard it.

    A :class:`StreamedArray` is written as the array its blocks make up; a block of another
    dtype or row shape, or rows that do not add up to its shape, raise ValueError part-way
    (the archive is then incomplete, as above).
    """
    archive = StoredZipWriter(stream)
    for name, value in arrays.items():
        if isinstance(value, StreamedArray):
            dtype, parts = value.dtype, _streamed_parts(name, value)
            header = _npy_header_of(dtype, value.shape, fortran_order=False)
        else:
            array = np.asarray(value)
            dtype, parts = array.dtype, iter((array,))
            header = _npy_header(array)
        problem = dtype_problem(dtype)
        if problem is not None:
            raise ValueError(f"array {name!r}: {problem}")
        check = refuse_non_finite and dtype.kind in "fc"
        archive.start_member(name + _NPY_SUFFIX)
        archive.write(header)
        for part in parts:
            for values, data in _data_chunks(part):
                if check and not np.isfinite(values).all():
                    raise NonFiniteArrayError(name)
                archive.write(data)
        archive.end_member()
    archive.finish()


def _streamed_parts(name: str, array: StreamedArray) -> Iterator[np.ndarray[Any, Any]]:
    """The blocks of `array`, each checked to continue it (dtype, row shape, C order), and
    their rows checked to add up to its shape."""
    rows = 0
    for block in array.blocks():
        if not isinstance(block, np.ndarray) or block.dtype != array.dtype \
                or block.shape[1:] != array.shape[1:] or not block.flags.c_contiguous:
            raise ValueError(
                f"array {name!r}: a block must be a C-contiguous {array.dtype} array of rows "
                f"{array.shape[1:]!r}, got {getattr(block, 'dtype', type(block).__name__)} "
                f"{getattr(block, 'shape', '')}")
        rows += block.shape[0]
        if rows > array.shape[0]:
            raise ValueError(f"array {name!r}: blocks hold more than {array.shape[0]} rows")
        yield block
    if rows != array.shape[0]:
        raise ValueError(f"array {name!r}: blocks hold {rows} rows, not {array.shape[0]}")


ZIP64_LIMIT = (1 << 31) - 1
"""Sizes and offsets above this go to zip64 fields (zipfile's threshold)."""

_ZIP_FILECOUNT_LIMIT = (1 << 16) - 1
_ZIP64_VERSION = 45
_CREATE_SYSTEM = 0 if sys.platform == "win32" else 3  # as zipfile records it
_FLAG_DATA_DESCRIPTOR = 0x08
_EXTERNAL_ATTR = 0o600 << 16
_DOS_DATE = 1 << 5 | 1  # 1980-01-01, zipfile's date for members named by a string
_LOCAL_ZIP64_EXTRA = struct.pack("<HHQQ", 1, 16, 0, 0)
_DATA_DESCRIPTOR = struct.Struct("<4sLQQ")
_CENTRAL_HEADER = struct.Struct("<4s4B4HL2L5H2L")  # zipfile.structCentralDir
_END_RECORD = struct.Struct("<4s4H2LH")  # zipfile.structEndArchive
_ZIP64_END_RECORD = struct.Struct("<4sQ2H2L4Q")  # zipfile.structEndArchive64
_ZIP64_END_LOCATOR = struct.Struct("<4sLQL")  # zipfile.structEndArchive64Locator


class StoredZipWriter:
    """A zip archive of stored members, written to a forward-only stream in one pass.

    The records are byte for byte those ``zipfile.ZipFile(stream, "w", allowZip64=True)``
    writes to a stream it cannot seek when each member is opened with ``force_zip64=True``,
    which is how ``np.savez`` writes (Python 3.11 to 3.13 write the same bytes): a local header
    with zip64 placeholders, the data, a zip64 data descriptor with the CRC-32 and sizes, and at
    the end the central directory (zip64 fields and end records only where sizes, offsets or
    the member count need them). Being ours, it computes the CRC-32 with :data:`fast_crc32`
    and hands every buffer to the stream as it is, without copying.

    Once the stream has raised, or the archive is finished, every further call raises: the
    records could no longer describe the bytes in the file.
    """

    def __init__(self, stream: WritableStream) -> None:
        self._stream = stream
        self._offset = 0
        self._members: list[tuple[bytes, int, int, int]] = []  # name, header offset, crc, size
        self._current: tuple[bytes, int] | None = None
        self._crc = 0
        self._size = 0
        self._closed: str | None = None  # why no call is accepted any more

    def start_member(self, name: str) -> None:
        """Begin the member ``name`` (ASCII, as array names are)."""
        self._check_open()
        if self._current is not None:
            raise ValueError("the previous member is not ended")
        encoded = name.encode("ascii")
        self._current = (encoded, self._offset)
        self._crc = self._size = 0
        header = _LOCAL_HEADER.pack(
            _LOCAL_HEADER_MAGIC, _ZIP64_VERSION, 0, _FLAG_DATA_DESCRIPTOR, zipfile.ZIP_STORED,
            0, _DOS_DATE, 0, 0xFFFFFFFF, 0xFFFFFFFF, len(encoded), len(_LOCAL_ZIP64_EXTRA),
        )
        self._emit(header + encoded + _LOCAL_ZIP64_EXTRA)

    def write(self, data: bytes | memoryview) -> None:
        """Append ``data`` to the current member."""
        self._check_open()
        if self._current is None:
            raise ValueError("no member is started")
        self._emit(data)
        self._crc = fast_crc32(data, self._crc)
        self._size += memoryview(data).nbytes

    def end_member(self) -> None:
        """End the current member with its data descriptor."""
        self._check_open()
        if self._current is None:
            raise ValueError("no member is started")
        name, header_offset = self._current
        self._emit(_DATA_DESCRIPTOR.pack(b"PK\x07\x08", self._crc, self._size, self._size))
        self._members.append((name, header_offset, self._crc, self._size))
        self._current = None

    def finish(self) -> None:
        """Write the central directory and the end records; the archive is then complete."""
        self._check_open()
        if self._current is not None:
            raise ValueError("the last member is not ended")
        start = self._offset
        records = []
        for name, header_offset, crc, size in self._members:
            zip64: list[int] = []
            if size > ZIP64_LIMIT:
                zip64 += [size, size]
            if header_offset > ZIP64_LIMIT:
                zip64.append(header_offset)
            extra = struct.pack(f"<HH{len(zip64)}Q", 1, 8 * len(zip64), *zip64) if zip64 else b""
            sizes = 0xFFFFFFFF if size > ZIP64_LIMIT else size
            # Versions: 4.5 (zip64) for every member, as its local header's zip64 fields set it.
            records.append(_CENTRAL_HEADER.pack(
                b"PK\x01\x02", _ZIP64_VERSION, _CREATE_SYSTEM, _ZIP64_VERSION, 0,
                _FLAG_DATA_DESCRIPTOR, zipfile.ZIP_STORED, 0, _DOS_DATE, crc, sizes, sizes,
                len(name), len(extra), 0, 0, 0, _EXTERNAL_ATTR,
                0xFFFFFFFF if header_offset > ZIP64_LIMIT else header_offset,
            ) + name + extra)
        directory = b"".join(records)
        end = start + len(directory)
        count, size, offset = len(self._members), len(directory), start
        tail = b""
        if count > _ZIP_FILECOUNT_LIMIT or offset > ZIP64_LIMIT or size > ZIP64_LIMIT:
            tail = _ZIP64_END_RECORD.pack(
                b"PK\x06\x06", 44, _ZIP64_VERSION, _ZIP64_VERSION, 0, 0, count, count, size,
                offset,
            ) + _ZIP64_END_LOCATOR.pack(b"PK\x06\x07", 0, end, 1)
            count, size, offset = min(count, 0xFFFF), min(size, 0xFFFFFFFF), min(offset, 0xFFFFFFFF)
        self._emit(directory + tail + _END_RECORD.pack(
            b"PK\x05\x06", 0, 0, count, count, size, offset, 0))
        self._closed = "the archive is finished"

    def _check_open(self) -> None:
        if self._closed is not None:
            raise ValueError(self._closed)

    def _emit(self, data: bytes | memoryview) -> None:
        try:
            self._stream.write(data)
        except BaseException:
            self._closed = "a write to the stream failed"
            raise
        self._offset += memoryview(data).nbytes


def _npy_header(array: np.ndarray[Any, Any]) -> bytes:
    """The ``.npy`` header numpy writes for ``array`` (format 1.0 unless it does not fit)."""
    header = np.lib.format.header_data_from_array_1_0(array)
    return _npy_header_of(array.dtype, array.shape, fortran_order=header["fortran_order"])


def _npy_header_of(dtype: np.dtype[Any], shape: tuple[int, ...], *, fortran_order: bool
                   ) -> bytes:
    """The ``.npy`` header numpy writes for an array of `dtype` and `shape`."""
    header = {"descr": np.lib.format.dtype_to_descr(dtype), "fortran_order": fortran_order,
              "shape": tuple(shape)}
    buffer = io.BytesIO()
    try:
        np.lib.format.write_array_header_1_0(buffer, header)
    except ValueError:  # pragma: no cover - needs a header over 64 KiB (thousands of axes)
        buffer = io.BytesIO()
        np.lib.format.write_array_header_2_0(buffer, header)
    return buffer.getvalue()


def _data_chunks(
    array: np.ndarray[Any, Any],
) -> Iterator[tuple[np.ndarray[Any, Any], bytes | memoryview]]:
    """``array``'s data in the order ``np.save`` writes it (Fortran order for arrays that are
    only Fortran-contiguous, C order otherwise), chunk by chunk: each chunk's elements as a
    1-D array and its bytes (a read-only view of the array's memory when it is contiguous)."""
    if array.flags.c_contiguous:
        flat = array.reshape(-1, order="C")
    elif array.flags.f_contiguous:
        flat = array.reshape(-1, order="F")
    else:
        buffer_size = max(16 * 1024**2 // array.itemsize, 1)
        for chunk in np.nditer(
            array,
            flags=["external_loop", "buffered", "zerosize_ok"],
            buffersize=buffer_size,
            order="C",
        ):
            values = np.asarray(chunk)  # one operand: each chunk is an ndarray
            yield values, values.tobytes("C")
        return
    step = max(WRITE_CHUNK_BYTES // array.itemsize, 1)
    for start in range(0, flat.size, step):
        values = flat[start : start + step]
        yield values, values.view(np.uint8).data.toreadonly()


# --------------------------------------------------------------------------------------------
# Reading from a file descriptor


@dataclass(frozen=True)
class NpzContents:
    """What :func:`read_npz_fd` read: the arrays and, if hashing was asked for, the file's sha256
    and how many bytes it covers (the whole file, read to its end)."""

    arrays: dict[str, np.ndarray[Any, Any]]
    sha256: str | None
    bytes_hashed: int


def read_npz_fd(
    fd: int, file_size: int, workers: SerialWorkers, *, sha256: bool, crc32: bool = True
) -> NpzContents:
    """Read every array of the npz archive open at ``fd`` (``file_size`` bytes), safely.

    The structure is checked first (:func:`inspect_npz_layout`: no pickles, no object or
    structured dtypes, no member claiming more bytes than it stores). Then each array is
    allocated with its header's dtype, shape and order and its bytes are read into it with
    ``preadv``, in file order. With ``crc32``, each member's stored bytes go to the ``crc``
    worker, which checks the member's CRC-32 against the zip directory; with ``sha256``, every
    byte of the file (headers and directory included, then on to the end of the file even if
    it grew) goes to the ``hash`` worker. Finally every float array must be finite.

    A caller that compares the returned sha256 with a digest it trusts may pass
    ``crc32=False``: the digest covers every byte the CRCs cover (and the CRCs themselves),
    so a damaged byte is caught by the comparison and computing the CRCs would only cost CPU
    time. With neither ``sha256`` nor ``crc32`` nothing checks the bytes' integrity.

    Raises ``NpzFormatError`` for an invalid archive (naming the array where there is one)
    and ``OSError`` if reading fails. The descriptor's offset is used only while inspecting.
    """
    with os.fdopen(fd, "rb", closefd=False) as stream:
        members = inspect_npz_layout(stream, file_size)
    arrays = {
        m.name: np.empty(m.spec.shape, m.spec.dtype, order="F" if m.fortran_order else "C")
        for m in members
    }
    reader = _FileReader(fd, workers, sha256)
    try:
        problem: str | None = None
        for member in sorted(members, key=lambda m: m.header_offset):
            if sha256:
                reader.read_gap(member.data_offset)  # the local header: hashed, not CRC-ed
            else:
                reader.skip_to(member.data_offset)
            if crc32:
                reader.start_member(member)
            reader.read_gap(member.array_offset, crc=crc32)
            array = arrays[member.name]
            reader.read_into(array.reshape(-1, order="A").view(np.uint8).data, crc=crc32)
            if crc32:
                reader.finish_member()
            if problem is None and has_non_finite(array):
                problem = f"array {member.name!r} contains NaN or infinity"
        if sha256:
            reader.read_to_end(file_size)
        reader.wait()
    finally:
        reader.wait_quietly()
    if problem is not None:
        raise NpzFormatError(problem)
    return NpzContents(arrays, reader.hexdigest(), reader.offset if sha256 else 0)


class _FileReader:
    """Reads one file front to back with ``preadv``, feeding the chunks, in order, to sha256
    on the ``hash`` worker and to the current member's CRC-32 on the ``crc`` worker."""

    def __init__(self, fd: int, workers: SerialWorkers, sha256: bool) -> None:
        self._fd = fd
        self._workers = workers
        self._sha = hashlib.sha256() if sha256 else None
        self.offset = 0
        self._member_crc = _MemberCrc(None)
        self._queued: deque[tuple[int, list[Future[None]]]] = deque()
        self._queued_bytes = 0

    def skip_to(self, offset: int) -> None:
        """Move forward without reading (only when nothing is hashed)."""
        assert self._sha is None and offset >= self.offset
        self.offset = offset

    def read_gap(self, end: int, *, crc: bool = False) -> None:
        """Read the bytes up to ``end`` that belong to no array (headers, directory)."""
        while self.offset < end:
            buffer = bytearray(min(end - self.offset, READ_CHUNK_BYTES))
            self.read_into(memoryview(buffer), crc=crc)

    def read_to_end(self, file_size: int) -> None:
        """Hash the rest of the file, to its real end (bytes past ``file_size`` count too)."""
        self.read_gap(file_size)
        # Normally nothing is left: a small buffer keeps a load's memory to the arrays' own.
        buffer = bytearray(min(READ_CHUNK_BYTES, 1 << 16))
        while True:
            count = pread_into(self._fd, memoryview(buffer), self.offset)
            if count == 0:
                return
            self._submit(bytes(buffer[:count]), crc=False)

    def read_into(self, view: memoryview, *, crc: bool) -> None:
        """Fill ``view`` (bytes) from the current offset, chunk by chunk."""
        for start in range(0, view.nbytes, READ_CHUNK_BYTES):
            chunk = view[start : start + READ_CHUNK_BYTES]
            count = pread_into(self._fd, chunk, self.offset)
            if count < chunk.nbytes:
                raise NpzFormatError(
                    f"file ends at byte {self.offset + count} but its zip directory says more"
                )
            self._submit(chunk.toreadonly(), crc=crc)

    def _submit(self, chunk: bytes | memoryview, *, crc: bool) -> None:
        size = len(memoryview(chunk))
        while self._queued and self._queued_bytes + size > MAX_READ_AHEAD_BYTES:
            self._finish_oldest()
        futures: list[Future[None]] = []
        if self._sha is not None:
            futures.append(self._workers["hash"].submit(self._sha.update, chunk))
        if crc:
            futures.append(self._workers["crc"].submit(self._member_crc.update, chunk))
        self._queued.append((size, futures))
        self._queued_bytes += size
        self.offset += size

    def start_member(self, member: MemberLayout) -> None:
        """Start the CRC-32 of ``member``'s stored bytes (the reader is at its data offset)."""
        assert self.offset == member.data_offset
        self._member_crc = _MemberCrc(member)

    def finish_member(self) -> None:
        """Queue the check of the member's CRC-32 (a mismatch is raised by :meth:`wait`)."""
        check = self._workers["crc"].submit(self._member_crc.check)
        self._queued.append((0, [check]))

    def _finish_oldest(self) -> None:
        size, futures = self._queued.popleft()
        self._queued_bytes -= size
        for future in futures:
            future.result()

    def wait(self) -> None:
        """Wait for every queued chunk; raise the first error (a CRC mismatch)."""
        while self._queued:
            self._finish_oldest()

    def wait_quietly(self) -> None:
        """Wait for every queued chunk, ignoring errors (one is already propagating)."""
        queued, self._queued = self._queued, deque()
        self._queued_bytes = 0
        for _size, futures in queued:
            for future in futures:
                with contextlib.suppress(BaseException):
                    future.result()

    def hexdigest(self) -> str | None:
        """sha256 of everything read, or None when not hashing."""
        return None if self._sha is None else self._sha.hexdigest()


class _MemberCrc:
    """Running CRC-32 of one member's stored bytes; updated and checked on the crc worker."""

    def __init__(self, member: MemberLayout | None) -> None:
        self._member = member
        self._crc = 0

    def update(self, chunk: bytes | memoryview) -> None:
        self._crc = fast_crc32(chunk, self._crc)

    def check(self) -> None:
        member = self._member
        if member is not None and self._crc != member.crc32:
            raise NpzFormatError(
                f"array {member.name!r}: CRC-32 mismatch (the zip directory records "
                f"{member.crc32:08x}, the stored bytes give {self._crc:08x}): the file is corrupt"
            )
