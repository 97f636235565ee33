"""What a checkpoint array may be, and how an npz payload is inspected and loaded safely.

Only plain numeric or boolean arrays are stored: no object arrays (they would be pickled),
no structured, string or datetime dtypes, and no NaN or infinity in floating-point data
(a non-finite regret or strategy sum means training already diverged; better to fail at write
time than to resume from it).

Loading never unpickles. Before ``np.load(..., allow_pickle=False)`` sees an archive, the zip
directory and each member's ``.npy`` header are parsed with numpy's literal-only header
reader and checked against the real file size, so a forged header cannot make the loader
allocate more memory than the file actually holds.
"""

from __future__ import annotations

import math
import re
import struct
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from typing import IO, Any

import numpy as np

ALLOWED_KINDS = frozenset("biufc")
"""dtype kinds a checkpoint array may have: bool, signed/unsigned int, float, complex."""

ARRAY_NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-]{0,127}")
"""Names usable as npz member names on every platform (no path separators)."""

RESERVED_ARRAY_NAMES = frozenset({"file", "allow_pickle"})
"""Parameter names of ``np.savez``: arrays cannot be passed under these keywords."""

_FINITE_CHECK_ELEMENTS = 1 << 20
_NPY_SUFFIX = ".npy"

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
    def of(cls, array: np.ndarray[Any, Any]) -> ArraySpec:
        """Spec of an in-memory array."""
        return cls(array.dtype, tuple(int(n) for n in array.shape))


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


def array_problem(array: np.ndarray[Any, Any]) -> str | None:
    """Why ``array`` may not be stored in (or loaded from) a checkpoint, or None."""
    problem = dtype_problem(array.dtype)
    if problem is not None:
        return problem
    if has_non_finite(array):
        return "contains NaN or infinity"
    return None


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


def inspect_npz(stream: IO[bytes], file_size: int) -> dict[str, ArraySpec]:
    """Check an npz archive's structure without reading array data; return member specs.

    Refuses (``NpzFormatError``): anything that is not a zip archive, encrypted or compressed
    members, names that are not ``<valid name>.npy``, duplicate names, members extending past
    the end of the file, npy versions other than 1.0/2.0, disallowed dtypes (object arrays are
    detected from the header alone), and any member whose header claims a data size different
    from the bytes actually stored. The last check is the memory guard: ``np.load`` allocates
    the claimed size before reading, and the claim can never exceed ``file_size``.
    """
    stream.seek(0)
    try:
        with zipfile.ZipFile(stream) as archive:
            specs: dict[str, ArraySpec] = {}
            total = 0
            for member in archive.infolist():
                name = _member_array_name(member, specs)
                if member.header_offset + member.compress_size > file_size:
                    raise NpzFormatError(f"member {member.filename!r} extends past end of file")
                total += member.file_size
                if total > file_size:
                    raise NpzFormatError("members claim more bytes than the file holds")
                specs[name] = _read_member_spec(archive, member)
            return specs
    except NpzFormatError:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile) as exc:
        raise NpzFormatError(f"not a valid npz (zip) archive: {exc}") from exc
    except _PARSER_ERRORS as exc:
        raise NpzFormatError(f"malformed npz archive: {exc}") from exc


def _member_array_name(member: zipfile.ZipInfo, seen: Mapping[str, ArraySpec]) -> str:
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


def _read_member_spec(archive: zipfile.ZipFile, member: zipfile.ZipInfo) -> ArraySpec:
    with archive.open(member) as handle:
        version = np.lib.format.read_magic(handle)
        if version == (1, 0):
            shape, _fortran, dtype = np.lib.format.read_array_header_1_0(handle)
        elif version == (2, 0):
            shape, _fortran, dtype = np.lib.format.read_array_header_2_0(handle)
        else:
            raise NpzFormatError(f"member {member.filename!r}: unsupported npy version {version}")
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
    return ArraySpec(dtype, tuple(shape))


def load_npz(stream: IO[bytes], specs: Mapping[str, ArraySpec]) -> dict[str, np.ndarray[Any, Any]]:
    """Load every array of an archive already checked by :func:`inspect_npz`.

    Uses ``np.load(..., allow_pickle=False)`` only, then re-checks each array's dtype and
    shape against ``specs`` and refuses NaN/infinity (``NpzFormatError`` naming the array).
    """
    stream.seek(0)
    arrays: dict[str, np.ndarray[Any, Any]] = {}
    try:
        with np.load(stream, allow_pickle=False) as npz:
            if set(npz.files) != set(specs):
                raise NpzFormatError("archive members changed while loading")
            for name in npz.files:
                array = npz[name]
                spec = specs[name]
                if array.dtype != spec.dtype or array.shape != spec.shape:
                    raise NpzFormatError(f"array {name!r} does not match its header")
                arrays[name] = array
    except NpzFormatError:
        raise
    except (zipfile.BadZipFile, *_PARSER_ERRORS) as exc:
        raise NpzFormatError(f"cannot load arrays: {exc}") from exc
    for name, array in arrays.items():
        problem = array_problem(array)
        if problem is not None:
            raise NpzFormatError(f"array {name!r} {problem}")
    return arrays
