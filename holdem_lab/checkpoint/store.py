"""The checkpoint store: complete, atomic, pickle-free checkpoints of a training run.

A checkpoint at iteration N is three files in one directory (see :mod:`.layout`): a policy
npz, a solver-state npz and a metadata JSON object. The metadata is written last and records
each payload's name, size and sha256, so a checkpoint is *complete* iff its metadata exists,
parses, has the expected ``format_version`` and ``iteration``, and both payloads match the
recorded sizes and hashes. A crash at any instant therefore leaves either the previous set of
complete checkpoints or that set plus one new complete checkpoint; never a half-written file
under a final name that could be mistaken for a good one.

Why each step exists:

* every file is written under a hidden temp name, flushed and fsynced, then atomically
  ``os.replace``-d onto its final name, then the directory is fsynced
  (:func:`~holdem_lab.checkpoint.fileio.atomic_file`), so a power loss cannot expose a file
  whose name exists but whose contents were never persisted;
* hashes are computed as the bytes stream to disk, so writing a multi-gigabyte payload costs
  one pass, not two (and contiguous array data is not even copied on its way to the file);
* loading checks the archive's structure before allocating anything, never unpickles, and
  reads each array's bytes straight into the array while checking the file's sha256 (or,
  when not verifying, the members' CRC-32) in the same pass, so a file planted under a
  checkpoint name can neither run code nor exhaust memory;
* older checkpoints are never modified by a write, and retention deletes metadata before
  payloads so an interrupted deletion leaves an *incomplete* checkpoint, not a wrong one.

Callers must hold the run directory's lock: the store assumes one writer per directory.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import math
import operator
import os
import stat
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any, NoReturn

import numpy as np
import numpy.typing as npt

from holdem_lab.checkpoint.arrays import (
    READER_WORKERS,
    ArraySpec,
    NonFiniteArrayError,
    NpzContents,
    NpzFormatError,
    StreamedArray,
    dtype_problem,
    name_problem,
    read_npz_fd,
    write_npz,
)
from holdem_lab.checkpoint.fileio import (
    WRITER_WORKERS,
    AtomicFile,
    AtomicWriteError,
    HashingWriter,
    SerialWorkers,
    atomic_file,
    fsync_directory,
    open_for_reading,
    sha256_of_fd,
    write_all,
)
from holdem_lab.checkpoint.layout import (
    ITERATION_DIGITS,
    CheckpointInfo,
    CheckpointPaths,
    PayloadRole,
    is_temp_name,
    parse_checkpoint_name,
    unfinished_metadata_iteration,
)
from holdem_lab.errors import CheckpointError, CheckpointVerificationError, PayloadError

FORMAT_VERSION = 4
"""Version of the on-disk layout and metadata schema written by this module. Version 2 adds
the ``engine`` record (version 1 checkpoints were all trained by the sequential engine);
version 3 stores the tables lazily discounted, with ``discount_window_start``; version 4 may
record a sequential run's random stream as a counter (``rng_state`` of ``SplitMix64``), which
earlier versions cannot continue."""


def _engine_of_version_1(document: dict[str, Any]) -> dict[str, Any]:
    """Version 1 -> 2: name the engine that trained every version-1 run, in the record and in
    its config, so that a resume compares like with like and says how to continue it."""
    document = dict(document)
    document.setdefault("engine", {"name": "sequential", "streams": "numpy PCG64 (one stream)"})
    config = document.get("config")
    if isinstance(config, dict):
        config = dict(config)
        config.setdefault("engine", "sequential")
        config.setdefault("batch_iterations", None)
        config.setdefault("shards", None)
        document["config"] = config
    document["format_version"] = 2
    return document


def _window_of_version_2(document: dict[str, Any]) -> dict[str, Any]:
    """Version 2 -> 3: version-2 tables hold true values, which is a discount window starting
    at the last step."""
    document = dict(document)
    document.setdefault("discount_window_start", document.get("discount_steps"))
    document["format_version"] = 3
    return document


def _stream_of_version_3(document: dict[str, Any]) -> dict[str, Any]:
    """Version 3 -> 4: nothing to change (a version-3 sequential run records its numpy stream,
    and continues with it)."""
    return dict(document, format_version=4)


MIGRATIONS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {
    1: _engine_of_version_1, 2: _window_of_version_2, 3: _stream_of_version_3}
"""Metadata migrations: MIGRATIONS[v] turns a verified version-v document into version v + 1.
Applied, in order, after the metadata's own hash is checked, so older checkpoints stay loadable
(their next write is at FORMAT_VERSION)."""

RESERVED_METADATA_KEYS = frozenset({"iteration", "format_version", "files", "metadata_sha256"})
"""Metadata keys filled in by :func:`write_checkpoint`; callers may not supply them."""

MAX_METADATA_BYTES = 64 << 20
"""Metadata files larger than this are refused unread (they are a few KB in practice)."""

_SHA256_HEX_LEN = 64
_HEX_DIGITS = frozenset("0123456789abcdef")

Array = npt.NDArray[Any]


class VerificationReason(StrEnum):
    """Why a checkpoint is not complete (or, at load time, not acceptable)."""

    METADATA_MISSING = "metadata missing"
    METADATA_UNREADABLE = "unreadable metadata"
    METADATA_INVALID = "invalid metadata"
    FORMAT_VERSION = "unsupported format_version"
    FORMAT_NEWER = "written by a newer format_version"
    ITERATION_MISMATCH = "iteration mismatch"
    PAYLOAD_MISSING = "payload missing"
    PAYLOAD_UNREADABLE = "unreadable payload"
    SIZE_MISMATCH = "size mismatch"
    SHA256_MISMATCH = "sha256 mismatch"
    PAYLOAD_INVALID = "invalid payload"


@dataclass(frozen=True)
class LoadedCheckpoint:
    """A checkpoint read back into memory.

    ``metadata`` is the full JSON object, including the ``iteration``, ``format_version`` and
    ``files`` entries added by :func:`write_checkpoint`.
    """

    info: CheckpointInfo
    metadata: dict[str, Any]
    policy: dict[str, Array]
    state: dict[str, Array]

    @property
    def iteration(self) -> int:
        """Training iteration the checkpoint was taken at."""
        return self.info.iteration


@dataclass(frozen=True)
class _PayloadRecord:
    """One ``files`` entry of the metadata: what a payload file must be."""

    name: str
    size: int
    sha256: str
    arrays: dict[str, Any]


@dataclass(frozen=True)
class _Manifest:
    metadata: dict[str, Any]
    payloads: dict[PayloadRole, _PayloadRecord]


# --------------------------------------------------------------------------------------------
# Writing


def write_checkpoint(
    directory: str | os.PathLike[str],
    iteration: int,
    policy: Mapping[str, Array | StreamedArray],
    state: Mapping[str, Array | StreamedArray],
    metadata: Mapping[str, Any],
) -> CheckpointPaths:
    """Write the checkpoint at ``iteration`` into ``directory`` (created if missing).

    ``policy`` (average-strategy arrays) goes to ``checkpoint_iter{N:012d}.npz``; ``state``
    (regrets, strategy sums, any other arrays needed to resume) to ``…_regrets.npz``; then
    ``metadata`` plus ``iteration``, ``format_version`` and ``files`` (name, ``size_bytes``,
    ``sha256`` and array dtypes/shapes of each payload) to ``…_metadata.json``, last.

    Arrays must be numpy arrays of bool/int/float/complex dtype with finite values, named
    like identifiers (``.`` and ``-`` also allowed), and must not be modified (by another
    thread) until this returns: their memory is written to the files without being copied.
    A :class:`~holdem_lab.checkpoint.arrays.StreamedArray` is stored as the array its blocks
    make up (the same bytes), computed as it is written instead of held whole.
    Names and dtypes are checked before anything is written; NaN and infinity are looked for
    chunk by chunk as the data streams to the files (no separate pass over the arrays), so a
    non-finite value fails the write part-way and the rollback below removes what was written.
    Metadata must be strict JSON (numpy scalars are converted; NaN and infinity are refused).

    All or nothing: on any exception nothing new remains (temp files and any file already
    renamed into place by this call are removed) and the exception propagates; OS failures
    surface as :class:`CheckpointError` naming the file and the OS error. Checkpoints at other
    iterations are never touched. A *complete* checkpoint at the same iteration is refused;
    an incomplete one (left by a crash) is replaced.
    """
    info = CheckpointInfo(_as_iteration(iteration), Path(directory))
    payloads = {
        PayloadRole.POLICY: _validated_arrays(PayloadRole.POLICY, policy),
        PayloadRole.STATE: _validated_arrays(PayloadRole.STATE, state),
    }
    user_metadata = _validated_metadata(metadata)
    _prepare_directory(info)
    _discard_incomplete(info)

    writer = _AtomicWriter(info)
    try:
        # The metadata's temp file is created before the payloads and renamed after them: a
        # writer killed on the way leaves it beside the payloads, which tells the next start
        # that they are an unfinished write (clean_temp_files), not a checkpoint whose
        # metadata was lost.
        with writer.metadata_file():
            files: dict[str, Any] = {}
            with SerialWorkers(*WRITER_WORKERS) as workers:
                for role, arrays in payloads.items():
                    files[role.value] = writer.write_payload(role, arrays, workers)
            document = {
                "format_version": FORMAT_VERSION,
                "iteration": info.iteration,
                **user_metadata,
                "files": files,
            }
            document["metadata_sha256"] = metadata_digest(document)
            writer.write_metadata(document)
    except BaseException:
        writer.roll_back()
        raise
    return info.paths


class _AtomicWriter:
    """Writes the files of one checkpoint and remembers what to undo if a step fails."""

    def __init__(self, info: CheckpointInfo) -> None:
        self._info = info
        self._placed: list[Path] = []
        self._metadata_fd = -1

    def write_payload(
        self, role: PayloadRole, arrays: Mapping[str, Array | StreamedArray],
        workers: SerialWorkers
    ) -> dict[str, Any]:
        """Write one npz payload atomically; return its metadata ``files`` entry."""
        final = self._info.payload_path(role)
        sink: list[HashingWriter] = []

        def body(fd: int) -> None:
            with HashingWriter(fd, workers) as stream:
                sink.append(stream)
                write_npz(stream, arrays, refuse_non_finite=True)

        try:
            size = self._write_atomically(final, body)
        except NonFiniteArrayError as exc:
            raise CheckpointError(
                f"cannot checkpoint {role.value} array {exc.name!r}: contains NaN or infinity"
            ) from exc
        stream = sink[0]
        if size != stream.tell():
            raise CheckpointError(
                f"cannot write checkpoint iteration {self._info.iteration}: {final} holds "
                f"{size} bytes after writing {stream.tell()}"
            )
        return {
            "name": final.name,
            "size_bytes": size,
            "sha256": stream.hexdigest(),
            "arrays": {name: ArraySpec.of(array).to_json() for name, array in arrays.items()},
        }

    @contextlib.contextmanager
    def metadata_file(self) -> Iterator[None]:
        """The metadata's atomic file around the whole write: created on entry, renamed into
        place on a normal exit (the checkpoint is then complete), removed on an exception."""
        with self._atomic(self._info.metadata_path) as target:
            self._metadata_fd = target.fd
            try:
                yield
            finally:
                self._metadata_fd = -1

    def write_metadata(self, document: Mapping[str, Any]) -> None:
        """Write the metadata JSON into the file `metadata_file` holds open (its errors are
        reported as that file's)."""
        text = json.dumps(document, indent=2, allow_nan=False, default=_json_default) + "\n"
        write_all(self._metadata_fd, text.encode("utf-8"))  # an OSError: see metadata_file

    def _write_atomically(self, final: Path, body: Callable[[int], None]) -> int:
        """:func:`atomic_file` around ``body(fd)``; return the size written."""
        with self._atomic(final) as target:
            body(target.fd)
        return target.size

    @contextlib.contextmanager
    def _atomic(self, final: Path) -> Iterator[AtomicFile]:
        """:func:`atomic_file`, its failures as CheckpointError, and the final name kept for
        the roll-back once it is in place."""
        target: AtomicFile | None = None
        try:
            with atomic_file(final) as target:
                yield target
        except AtomicWriteError as exc:
            raise CheckpointError(
                f"cannot write checkpoint iteration {self._info.iteration}: "
                f"{exc.step} {exc.path}: {exc.strerror}"
            ) from exc
        finally:
            if target is not None and target.renamed:
                self._placed.append(final)  # roll back by unlinking the final name

    def roll_back(self) -> None:
        """Best-effort removal of every file this writer put in place, metadata first (each
        temp file is removed by :func:`atomic_file` itself)."""
        placed = sorted(self._placed, key=lambda p: p != self._info.metadata_path)
        for path in placed:
            with contextlib.suppress(OSError):
                os.unlink(path)
        self._placed.clear()
        with contextlib.suppress(OSError):
            fsync_directory(self._info.directory)


def _as_iteration(iteration: object) -> int:
    if isinstance(iteration, bool | np.bool_):
        raise CheckpointError("iteration must be an int, not bool")
    try:
        return operator.index(iteration)  # type: ignore[arg-type]
    except TypeError:
        raise CheckpointError(f"iteration must be an int, not {type(iteration).__name__}") from None


def _validated_arrays(role: PayloadRole, arrays: object) -> dict[str, Array | StreamedArray]:
    if not isinstance(arrays, Mapping):
        raise CheckpointError(f"{role.value} arrays must be a mapping of name to numpy array")
    result: dict[str, Array | StreamedArray] = {}
    for name, array in arrays.items():
        problem = name_problem(name)
        if problem is None and not isinstance(array, np.ndarray | StreamedArray):
            problem = f"{type(array).__name__} is not a numpy array"
        if problem is None:  # NaN and infinity are looked for while writing
            problem = dtype_problem(array.dtype)
        if problem is not None:
            raise CheckpointError(f"cannot checkpoint {role.value} array {name!r}: {problem}")
        result[name] = array
    return result


def _validated_metadata(metadata: object) -> dict[str, Any]:
    if not isinstance(metadata, Mapping):
        raise CheckpointError("checkpoint metadata must be a mapping with str keys")
    for key in metadata:
        if not isinstance(key, str):
            raise CheckpointError(f"checkpoint metadata keys must be str, got {key!r}")
        if key in RESERVED_METADATA_KEYS:
            raise CheckpointError(
                f"checkpoint metadata key {key!r} is reserved (written by the store)"
            )
    result = dict(metadata)
    bad = _find_non_finite(result, "metadata")
    if bad is not None:
        raise CheckpointError(f"checkpoint {bad}: NaN and infinity are not valid JSON")
    try:
        json.dumps(result, allow_nan=False, default=_json_default)
    except (TypeError, ValueError, RecursionError) as exc:
        raise CheckpointError(f"checkpoint metadata is not valid JSON: {exc}") from exc
    return result


def _find_non_finite(value: object, where: str) -> str | None:
    """Locate a NaN/infinite float in a JSON-like value, e.g. ``metadata['loss'][2] is nan``."""
    if isinstance(value, float | np.floating) and not math.isfinite(value):
        return f"{where} is {value}"
    if isinstance(value, Mapping):
        for key, item in value.items():
            found = _find_non_finite(item, f"{where}[{key!r}]")
            if found is not None:
                return found
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            found = _find_non_finite(item, f"{where}[{index}]")
            if found is not None:
                return found
    return None


def _json_default(value: object) -> object:
    """Convert numpy scalars to Python scalars for JSON; refuse anything else."""
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    raise TypeError(f"object of type {type(value).__name__} is not JSON serializable")


def _prepare_directory(info: CheckpointInfo) -> None:
    directory = info.directory
    try:
        if not directory.is_dir():
            directory.mkdir(parents=True, exist_ok=True)
            fsync_directory(directory.parent)
    except OSError as exc:
        raise CheckpointError(
            f"cannot create checkpoint directory {directory}: {_os_detail(exc)}"
        ) from exc


def _discard_incomplete(info: CheckpointInfo) -> None:
    """Refuse to overwrite a complete checkpoint; drop the metadata of an incomplete one.

    Payload files of an incomplete checkpoint are simply replaced by the new write.
    """
    paths = info.paths
    if not any(os.path.lexists(p) for p in (paths.policy, paths.state, paths.metadata)):
        return
    try:
        verify_checkpoint(info)
    except CheckpointVerificationError:
        pass
    else:
        raise CheckpointError(
            f"a complete checkpoint for iteration {info.iteration} already exists in "
            f"{info.directory}; delete it before writing a new one"
        )
    try:
        if os.path.lexists(paths.metadata):
            os.unlink(paths.metadata)
            fsync_directory(info.directory)
    except OSError as exc:
        raise CheckpointError(
            f"cannot remove stale metadata {paths.metadata}: {_os_detail(exc)}"
        ) from exc


# --------------------------------------------------------------------------------------------
# Listing and verification


def list_checkpoints(directory: str | os.PathLike[str]) -> list[CheckpointInfo]:
    """Every checkpoint with at least one file in ``directory``, sorted by iteration.

    Only regular files whose name is exactly a checkpoint file name count; temp files, other
    files, symlinks and directories are ignored. A missing directory has no checkpoints.
    Listed checkpoints may be incomplete: use :func:`verify_checkpoint`.
    """
    root = Path(directory)
    iterations: set[int] = set()
    try:
        with os.scandir(root) as entries:
            for entry in entries:
                iteration = parse_checkpoint_name(entry.name)
                if iteration is not None and _is_regular_file(entry):
                    iterations.add(iteration)
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise CheckpointError(
            f"cannot list checkpoint directory {root}: {_os_detail(exc)}"
        ) from exc
    return [CheckpointInfo(iteration, root) for iteration in sorted(iterations)]


def verify_checkpoint(info: CheckpointInfo) -> None:
    """Return if the checkpoint is complete, else raise :class:`CheckpointVerificationError`.

    Checks, in order: metadata exists, is a readable JSON object, has this module's
    ``format_version`` and the file name's ``iteration``, and describes both payloads; both
    payload files exist with the recorded sizes; both hash to the recorded sha256. Reads each
    payload once.
    """
    manifest = _read_manifest(info)
    for role in PayloadRole:  # cheap checks for both files before hashing either
        fd = _open_payload(info, role)
        try:
            _check_payload_size(info, role, fd, manifest.payloads[role])
        finally:
            os.close(fd)
    for role in PayloadRole:
        record = manifest.payloads[role]
        fd = _open_payload(info, role)
        try:
            _check_payload_size(info, role, fd, record)
            try:
                digest, count = sha256_of_fd(fd)
            except OSError as exc:
                _fail(info, VerificationReason.PAYLOAD_UNREADABLE, role, _os_detail(exc))
            _check_digest(info, role, record, digest, count)
        finally:
            os.close(fd)


def find_latest_complete(
    directory: str | os.PathLike[str],
) -> tuple[CheckpointInfo | None, list[str]]:
    """The newest complete checkpoint in ``directory`` and why each newer one was skipped.

    Returns ``(info, problems)``: one human-readable problem per newer checkpoint that failed
    verification (newest first). ``(None, [])`` means the directory holds no checkpoint files
    at all; ``(None, problems)`` with problems non-empty means checkpoint files exist but none
    is complete, and the caller must not silently start from scratch over them.
    """
    problems: list[str] = []
    for info in reversed(list_checkpoints(directory)):
        try:
            verify_checkpoint(info)
        except CheckpointVerificationError as exc:
            _raise_if_newer_format(exc)
            problems.append(str(exc))
        else:
            return info, problems
    return None, problems


def load_latest_complete(
    directory: str | os.PathLike[str],
    *,
    include_policy: bool = True,
    report: Callable[[str], None] | None = None,
) -> tuple[LoadedCheckpoint | None, list[str]]:
    """Load the newest complete checkpoint in ``directory``, reading each payload once.

    The same choice as :func:`find_latest_complete` followed by :func:`load_checkpoint`, but
    each candidate, newest first, is verified by loading it (the sha256 is computed as the
    bytes are read) instead of being hashed once to choose it and again to load it. Returns
    ``(loaded, problems)`` with the same meaning of ``problems`` as
    :func:`find_latest_complete`; ``report``, if given, receives each problem as it is found
    (before an error stops the search). A complete checkpoint whose contents are refused
    (``PAYLOAD_INVALID``: the metadata vouches for bytes that are not a valid payload, so it
    was forged or written by a broken writer) is not skipped: the error is raised, as the
    two-step form would.
    """
    problems: list[str] = []
    for info in reversed(list_checkpoints(directory)):
        try:
            loaded = load_checkpoint(info, include_policy=include_policy)
        except CheckpointVerificationError as exc:
            _raise_if_newer_format(exc)
            if exc.reason is VerificationReason.PAYLOAD_INVALID:
                # The payload read so far hashed correctly; the two-step form skips the
                # checkpoint only if it is also incomplete (say, the other payload is damaged).
                try:
                    verify_checkpoint(info)
                except CheckpointVerificationError as incomplete:
                    exc = incomplete
                else:
                    raise
            problems.append(str(exc))
            if report is not None:
                report(str(exc))
        else:
            return loaded, problems
    return None, problems


def _raise_if_newer_format(exc: CheckpointVerificationError) -> None:
    """A checkpoint written by a newer holdem_lab is not corrupt: skipping it would let this
    version overwrite it when training reaches the same iteration, so the search stops."""
    if exc.reason is VerificationReason.FORMAT_NEWER:
        raise CheckpointError(
            f"{exc}; refusing to train this run with an older version (nothing was changed)"
        ) from exc


def metadata_digest(document: Mapping[str, Any]) -> str:
    """sha256 of the metadata's canonical JSON (sorted keys, no spaces), so that a flipped byte
    anywhere in the metadata file is detected like one in a payload."""
    canonical = json.dumps(document, sort_keys=True, separators=(",", ":"), allow_nan=False,
                           default=_json_default, ensure_ascii=True)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def read_metadata(checkpoint: CheckpointInfo | str | os.PathLike[str]) -> dict[str, Any]:
    """A checkpoint's metadata, verified and brought up to :data:`FORMAT_VERSION`.

    ``checkpoint`` is a :class:`CheckpointInfo` or the path of its ``…_metadata.json``. The
    document must be a JSON object no larger than :data:`MAX_METADATA_BYTES` whose
    ``metadata_sha256`` matches it, whose ``iteration`` is the file name's and whose
    ``format_version`` is this one's or an older one :data:`MIGRATIONS` can bring up to date
    (the migrations are applied); it must describe both payloads. Returned without
    ``metadata_sha256``. Payloads are not read. Raises :class:`CheckpointVerificationError`.
    """
    if isinstance(checkpoint, CheckpointInfo):
        info = checkpoint
    else:
        path = Path(checkpoint)
        iteration = parse_checkpoint_name(path.name)
        info = CheckpointInfo(iteration or 0, path.parent)
        if iteration is None or info.metadata_path.name != path.name:
            raise CheckpointError(
                f"{path} is not a checkpoint metadata file "
                f"(checkpoint_iter<{ITERATION_DIGITS} digits>_metadata.json)"
            )
    return _read_manifest(info).metadata


def _read_manifest(info: CheckpointInfo) -> _Manifest:
    """Read and validate the metadata of ``info`` (everything except payload contents)."""
    path = info.metadata_path
    reason = VerificationReason
    try:
        fd = open_for_reading(path)
    except FileNotFoundError:
        _fail(info, reason.METADATA_MISSING, None, "file not found")
    except OSError as exc:
        _fail(info, reason.METADATA_UNREADABLE, None, _os_detail(exc))
    try:
        status = os.fstat(fd)
        if not stat.S_ISREG(status.st_mode):
            _fail(info, reason.METADATA_UNREADABLE, None, "not a regular file")
        if status.st_size > MAX_METADATA_BYTES:
            _fail(info, reason.METADATA_UNREADABLE, None, f"{status.st_size} bytes is too large")
        raw = _read_to_end(fd, MAX_METADATA_BYTES)
    except OSError as exc:
        _fail(info, reason.METADATA_UNREADABLE, None, _os_detail(exc))
    finally:
        os.close(fd)
    try:
        document = json.loads(raw.decode("utf-8"), parse_constant=_refuse_json_constant)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        _fail(info, reason.METADATA_UNREADABLE, None, f"not valid JSON: {exc}")
    if not isinstance(document, dict):
        _fail(info, reason.METADATA_INVALID, None, "not a JSON object")

    version = document.get("format_version")
    if type(version) is int and version > FORMAT_VERSION:
        _fail(info, reason.FORMAT_NEWER, None,
              f"format_version {version}; this version of holdem_lab reads up to "
              f"{FORMAT_VERSION}: upgrade holdem_lab to use it")
    if type(version) is not int or not (
            version == FORMAT_VERSION
            or all(v in MIGRATIONS for v in range(max(version, 1), FORMAT_VERSION))
            and version >= 1):
        _fail(info, reason.FORMAT_VERSION, None, f"expected {FORMAT_VERSION}, found {version!r}")
    recorded = document.get("iteration")
    if type(recorded) is not int or recorded != info.iteration:
        _fail(
            info,
            reason.ITERATION_MISMATCH,
            None,
            f"file name says {info.iteration}, metadata says {recorded!r}",
        )
    recorded_digest = document.pop("metadata_sha256", None)
    if recorded_digest != metadata_digest(document):
        _fail(info, reason.METADATA_INVALID, None,
              "metadata_sha256 does not match the metadata (the file was altered)")
    for step in range(version, FORMAT_VERSION):
        document = MIGRATIONS[step](document)
    files = document.get("files")
    if not isinstance(files, dict):
        _fail(info, reason.METADATA_INVALID, None, "'files' is not a JSON object")
    payloads = {role: _payload_record(info, role, files.get(role.value)) for role in PayloadRole}
    return _Manifest(document, payloads)


def _payload_record(info: CheckpointInfo, role: PayloadRole, entry: object) -> _PayloadRecord:
    def invalid(detail: str) -> NoReturn:
        _fail(info, VerificationReason.METADATA_INVALID, None, f"files.{role.value}: {detail}")

    if not isinstance(entry, dict):
        invalid("missing or not a JSON object")
    name, size, digest = entry.get("name"), entry.get("size_bytes"), entry.get("sha256")
    arrays = entry.get("arrays")
    expected_name = info.payload_path(role).name
    if name != expected_name:
        invalid(f"names {name!r}, expected {expected_name!r}")
    if type(size) is not int or size < 0:
        invalid(f"size_bytes {size!r} is not a non-negative integer")
    if (
        not isinstance(digest, str)
        or len(digest) != _SHA256_HEX_LEN
        or not set(digest) <= _HEX_DIGITS
    ):
        invalid(f"sha256 {digest!r} is not 64 lowercase hex digits")
    if not isinstance(arrays, dict):
        invalid("'arrays' is not a JSON object")
    return _PayloadRecord(name=expected_name, size=size, sha256=digest, arrays=arrays)


def _open_payload(info: CheckpointInfo, role: PayloadRole) -> int:
    try:
        return open_for_reading(info.payload_path(role))
    except FileNotFoundError:
        _fail(info, VerificationReason.PAYLOAD_MISSING, role, "file not found")
    except OSError as exc:
        _fail(info, VerificationReason.PAYLOAD_UNREADABLE, role, _os_detail(exc))


def _payload_size(info: CheckpointInfo, role: PayloadRole, fd: int) -> int:
    """Size of the open payload file, which must be a regular file."""
    try:
        status = os.fstat(fd)
    except OSError as exc:
        _fail(info, VerificationReason.PAYLOAD_UNREADABLE, role, _os_detail(exc))
    if not stat.S_ISREG(status.st_mode):
        _fail(info, VerificationReason.PAYLOAD_UNREADABLE, role, "not a regular file")
    return status.st_size


def _check_payload_size(
    info: CheckpointInfo, role: PayloadRole, fd: int, record: _PayloadRecord
) -> int:
    size = _payload_size(info, role, fd)
    if size != record.size:
        _fail(
            info,
            VerificationReason.SIZE_MISMATCH,
            role,
            f"expected {record.size} bytes, file has {size}",
        )
    return size


def _check_digest(
    info: CheckpointInfo, role: PayloadRole, record: _PayloadRecord, digest: str, count: int
) -> None:
    if count != record.size:
        _fail(
            info,
            VerificationReason.SIZE_MISMATCH,
            role,
            f"expected {record.size} bytes, read {count}",
        )
    if digest != record.sha256:
        _fail(
            info,
            VerificationReason.SHA256_MISMATCH,
            role,
            f"expected {record.sha256}, found {digest}",
        )


def _fail(
    info: CheckpointInfo, reason: VerificationReason, role: PayloadRole | None, detail: str
) -> NoReturn:
    """Raise the verification error for ``role``'s payload (None: the metadata file)."""
    path = info.metadata_path if role is None else info.payload_path(role)
    raise CheckpointVerificationError(info, reason, path, detail)


def _refuse_json_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not valid JSON")


def _read_to_end(fd: int, limit: int) -> bytes:
    chunks: list[bytes] = []
    total = 0
    while True:
        chunk = os.read(fd, 1 << 20)
        if not chunk:
            return b"".join(chunks)
        total += len(chunk)
        if total > limit:
            raise OSError(errno.EFBIG, f"file grew beyond {limit} bytes while reading")
        chunks.append(chunk)


# --------------------------------------------------------------------------------------------
# Loading


def load_checkpoint(
    info: CheckpointInfo, verify: bool = True, *, include_policy: bool = True
) -> LoadedCheckpoint:
    """Load a checkpoint's metadata and arrays, refusing anything unsafe or inconsistent.

    With ``include_policy=False``, ``policy`` comes back empty: the policy payload is read and
    checked exactly as in a full load (a damaged or hostile policy still fails the load), but
    its arrays are dropped before the state is read. Resuming needs no policy, and holding it
    would add its size to the memory a resume peaks at.

    With ``verify`` (the default) the payload sizes and sha256 are checked as part of the
    same read (hashing runs on a worker thread over the chunks as they are read); a mismatch
    is reported before any problem with the archive's contents. The zip CRC-32 of the members
    is then not computed: the sha256 covers every byte the CRCs cover, so it would add CPU
    time and no protection. Without ``verify``, every member's CRC-32 is checked instead, so
    a damaged byte is still detected. Whatever ``verify`` says, the metadata is validated,
    each archive's structure is checked before any array is allocated (no pickles, no
    object/structured dtypes, no member whose header claims more bytes than it holds), every
    float array must be finite, and the arrays must match the dtypes and shapes the metadata
    lists. Raises :class:`CheckpointVerificationError` naming the file and the reason.
    """
    manifest = _read_manifest(info)
    loaded: dict[PayloadRole, dict[str, Array]] = {}
    with SerialWorkers(*READER_WORKERS) as workers:
        for role in PayloadRole:  # the policy first, so that it can be dropped before the state
            loaded[role] = _load_payload(info, role, manifest.payloads[role], verify, workers)
            if role is PayloadRole.POLICY and not include_policy:
                loaded[role] = {}
    return LoadedCheckpoint(
        info=info,
        metadata=manifest.metadata,
        policy=loaded[PayloadRole.POLICY],
        state=loaded[PayloadRole.STATE],
    )


def _load_payload(
    info: CheckpointInfo,
    role: PayloadRole,
    record: _PayloadRecord,
    verify: bool,
    workers: SerialWorkers,
) -> dict[str, Array]:
    """Read one payload in one pass; a wrong size or hash is reported before anything else."""
    try:
        arrays = read_npz(
            info.payload_path(role),
            sha256=record.sha256 if verify else None,
            size=record.size if verify else None,
            workers=workers,
        )
    except PayloadError as exc:
        raise CheckpointVerificationError(info, exc.reason, exc.path, exc.detail) from None
    listed = {name: ArraySpec.of(array).to_json() for name, array in arrays.items()}
    if listed != record.arrays:
        _fail(
            info,
            VerificationReason.PAYLOAD_INVALID,
            role,
            "arrays differ from the listing in the metadata",
        )
    return arrays


def read_npz(
    path: str | os.PathLike[str],
    *,
    sha256: str | None = None,
    size: int | None = None,
    workers: SerialWorkers | None = None,
) -> dict[str, Array]:
    """Every array of the npz file at ``path``, read safely and in one pass.

    The archive's structure is checked before anything is allocated (no pickles, no object or
    structured dtypes, no member claiming more bytes than the file holds), each array's bytes
    are read straight into it, and every float array must be finite. With ``sha256`` (the hex
    digest the caller trusts, e.g. from checkpoint metadata) the file is hashed as it is read
    and must match, and with ``size`` it must have that many bytes; a mismatch is reported
    before any problem with the contents (a damaged file is named as damaged, not as invalid).
    Without ``sha256`` each member's zip CRC-32 is checked instead. ``workers``
    (``SerialWorkers(*READER_WORKERS)``) lets several reads share their threads.

    Raises :class:`PayloadError` naming the file and the reason.
    """
    file = Path(path)

    def fail(reason: VerificationReason, detail: str) -> NoReturn:
        raise PayloadError(reason, file, detail)

    try:
        fd = open_for_reading(file)
    except FileNotFoundError:
        fail(VerificationReason.PAYLOAD_MISSING, "file not found")
    except OSError as exc:
        fail(VerificationReason.PAYLOAD_UNREADABLE, _os_detail(exc))
    contents: NpzContents | None = None
    invalid: NpzFormatError | None = None
    try:
        status = os.fstat(fd)
        if not stat.S_ISREG(status.st_mode):
            fail(VerificationReason.PAYLOAD_UNREADABLE, "not a regular file")
        if size is not None and status.st_size != size:
            fail(VerificationReason.SIZE_MISMATCH,
                 f"expected {size} bytes, file has {status.st_size}")
        pool = (contextlib.nullcontext(workers) if workers is not None
                else SerialWorkers(*READER_WORKERS))
        with pool as running:
            try:
                contents = read_npz_fd(fd, status.st_size, running,
                                       sha256=sha256 is not None, crc32=sha256 is None)
            except NpzFormatError as exc:
                invalid = exc
        if sha256 is not None:
            if contents is None:  # stopped early: hash the file to tell corruption from forgery
                digest, count = sha256_of_fd(fd)
            else:
                assert contents.sha256 is not None
                digest, count = contents.sha256, contents.bytes_hashed
            if size is not None and count != size:
                fail(VerificationReason.SIZE_MISMATCH, f"expected {size} bytes, read {count}")
            if digest != sha256:
                fail(VerificationReason.SHA256_MISMATCH, f"expected {sha256}, found {digest}")
    except OSError as exc:
        fail(VerificationReason.PAYLOAD_UNREADABLE, _os_detail(exc))
    finally:
        os.close(fd)
    if invalid is not None:
        fail(VerificationReason.PAYLOAD_INVALID, str(invalid))
    assert contents is not None
    return contents.arrays


# --------------------------------------------------------------------------------------------
# Deletion and retention


def delete_checkpoint(info: CheckpointInfo) -> None:
    """Delete the checkpoint's files: metadata first (made durable), then both payloads.

    If interrupted, what remains is an incomplete checkpoint (no metadata), which readers
    skip; never payloads vouched for by metadata that no longer matches them. Missing files
    are ignored.
    """
    paths = info.paths
    _unlink_durably(info, [paths.metadata])
    _unlink_durably(info, [paths.policy, paths.state])


def prune_checkpoints(directory: str | os.PathLike[str], keep_last: int) -> list[CheckpointInfo]:
    """Retention: keep the ``keep_last`` newest complete checkpoints, delete older complete ones.

    Only complete checkpoints older than the newest complete one are candidates, so the newest
    complete checkpoint always survives (``keep_last`` must be at least 1). Incomplete
    checkpoints and temp files are never touched here. Verifies (hashes) every checkpoint in
    the directory. Returns the deleted checkpoints, oldest first.
    """
    if isinstance(keep_last, bool) or not isinstance(keep_last, int) or keep_last < 1:
        raise CheckpointError(f"keep_last must be an int >= 1, got {keep_last!r}")
    complete: list[CheckpointInfo] = []
    for info in list_checkpoints(directory):
        try:
            verify_checkpoint(info)
        except CheckpointVerificationError:
            continue
        complete.append(info)
    doomed = complete[:-keep_last]
    for info in doomed:
        delete_checkpoint(info)
    return doomed


def clean_temp_files(directory: str | os.PathLike[str]) -> list[Path]:
    """Remove temp files left in ``directory`` by a checkpoint writer that crashed, and the
    payloads of the checkpoint it was writing.

    Only names of the writer's exact temp pattern (``.checkpoint_iter…<suffix>.tmp-<pid>-
    <16 hex>``) are removed. The writer creates the metadata's temp file before its payloads
    and renames it last, so payloads of that iteration without its metadata beside such a
    temp file were never complete: they go first (payloads without metadata and without the
    temp file are a checkpoint whose metadata was lost, which a resume refuses instead). Call
    it while holding the run lock, before training starts: a concurrently running writer would
    lose its files (its write would then fail cleanly). Returns the removed paths.
    """
    root = Path(directory)
    doomed: list[Path] = []
    try:
        with os.scandir(root) as entries:
            for entry in entries:
                if is_temp_name(entry.name) and _is_regular_file(entry):
                    doomed.append(root / entry.name)
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise CheckpointError(
            f"cannot list checkpoint directory {root}: {_os_detail(exc)}"
        ) from exc
    unfinished: list[Path] = []
    for temp in doomed:
        iteration = unfinished_metadata_iteration(temp.name)
        if iteration is not None:
            paths = CheckpointInfo(iteration, root).paths
            if not os.path.lexists(paths.metadata):
                unfinished += [p for p in (paths.policy, paths.state) if os.path.lexists(p)]
    doomed = unfinished + doomed  # payloads before the temp file that vouches they are doomed
    current = root
    try:
        for current in doomed:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(current)
        current = root
        if doomed:
            fsync_directory(root)
    except OSError as exc:
        raise CheckpointError(f"cannot remove temp file {current}: {_os_detail(exc)}") from exc
    return sorted(doomed)


def _unlink_durably(info: CheckpointInfo, paths: list[Path]) -> None:
    """Unlink ``paths`` (missing ones are fine), then fsync the directory."""
    current = info.directory
    try:
        for current in paths:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(current)
        current = info.directory
        fsync_directory(current)
    except OSError as exc:
        raise CheckpointError(
            f"cannot delete checkpoint iteration {info.iteration}: {current}: {_os_detail(exc)}"
        ) from exc


def _is_regular_file(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_file(follow_symlinks=False)
    except OSError:
        return False


def _os_detail(exc: OSError) -> str:
    return exc.strerror or str(exc) or type(exc).__name__
