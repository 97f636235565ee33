"""Low-level file I/O for checkpoints and every other file the package writes: atomic,
durable writes (:func:`atomic_write`, :func:`atomic_file`) and sha256 hashing that costs no
extra pass.

Checkpoint payloads can be gigabytes, so the bytes are hashed while they stream through the
writer (never re-read from disk), and on the read side they are hashed as they arrive in the
arrays' own memory (see :func:`holdem_lab.checkpoint.arrays.read_npz_fd`). ``hashlib``, the
CRC-32 (ISA-L's or zlib's), ``os.write``, ``os.fsync`` and ``os.preadv`` all release the GIL on
large buffers, so each of those streams of work runs on its own thread and they overlap on the
cores that are free.

All system calls go through the ``os`` module (``os.write``, ``os.fsync``, ``os.replace``...),
or :func:`start_writeback` for the one ``os`` lacks, rather than buffered file objects, so
that every step can fail loudly and be tested.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import hashlib
import io
import os
import secrets
import sys
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from types import TracebackType

from holdem_lab.checkpoint.layout import temp_name

BytesLike = bytes | bytearray | memoryview

ASYNC_MIN_BYTES = 1 << 20
"""Immutable writes at least this large are hashed and written on worker threads."""

MAX_IN_FLIGHT_BYTES = 32 << 20
"""At most this many bytes are queued for the worker threads of one :class:`HashingWriter`
(a single larger write is still accepted alone). Bounds the memory held by queued ``bytes``."""

FLUSH_INTERVAL_BYTES = 8 << 20
"""A :class:`HashingWriter` with threads starts the disk write of each further this many bytes
(:func:`start_writeback`, on a thread of its own), so that the disk absorbs the data while the
rest is still being produced and the caller's final fsync only has the tail left to flush.
0 disables it."""

READ_CHUNK_BYTES = 8 << 20
"""Buffer size used when hashing or reading an existing file."""

WRITE_CALL_BYTES = 1 << 20
"""Largest buffer passed to one ``os.write``: Linux sizes a buffered write's page-cache folios
by the call, and large folios are slow to find on a VM that hands free memory back to its host
(figures in :mod:`bench.bench_checkpoint`)."""

_O_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_O_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_O_DIRECTORY = getattr(os, "O_DIRECTORY", 0)


def _find_sync_file_range() -> ctypes._CFuncPtr | None:  # type: ignore[name-defined]
    """libc's ``sync_file_range`` (Linux), or None where there is none."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        function = ctypes.CDLL(None, use_errno=True).sync_file_range
    except (OSError, AttributeError):  # pragma: no cover - every Linux libc has it
        return None
    function.argtypes = [ctypes.c_int, ctypes.c_int64, ctypes.c_int64, ctypes.c_uint]
    function.restype = ctypes.c_int
    return function


_SYNC_FILE_RANGE = _find_sync_file_range()
_SYNC_FILE_RANGE_WRITE = 2  # from <fcntl.h>: start write-out of dirty pages, do not wait

_UNSUPPORTED = frozenset(
    getattr(errno, name)
    for name in ("ENOSYS", "EPERM", "EINVAL", "EOPNOTSUPP", "ENOTSUP", "ESPIPE")
    if hasattr(errno, name)
)
"""Errors by which a system says it does not offer ``sync_file_range`` (not I/O failures)."""


def start_writeback(fd: int, offset: int, length: int) -> None:
    """Start writing bytes ``offset .. offset + length`` of ``fd`` to the disk, without
    waiting for them and without making them durable: that is still the final ``os.fsync``'s
    job, which then finds most of the file already on its way.

    On Linux this is ``sync_file_range(SYNC_FILE_RANGE_WRITE)``: it queues the pages for the
    disk and returns, and unlike an ``fsync`` it commits no journal transaction and flushes no
    disk cache, so it is cheaper than a periodic fsync (figures in
    :mod:`bench.bench_checkpoint`). Elsewhere it is an ``os.fsync``, and so it is for
    the rest of the process once the kernel or a sandbox refuses the call itself (ENOSYS,
    EPERM, EINVAL, EOPNOTSUPP, ESPIPE: WSL 1 and some seccomp filters do). Any other failure
    raises ``OSError``; an I/O error met later by the write-back is reported by the final fsync.
    """
    global _SYNC_FILE_RANGE
    function = _SYNC_FILE_RANGE
    if function is not None:
        if function(fd, offset, length, _SYNC_FILE_RANGE_WRITE) == 0:
            return
        code = ctypes.get_errno()
        if code not in _UNSUPPORTED:
            raise OSError(code, os.strerror(code))
        _SYNC_FILE_RANGE = None
    os.fsync(fd)


def open_new_file(path: Path) -> int:
    """Create ``path`` exclusively for writing and return the raw descriptor.

    ``O_EXCL`` guarantees the writer never truncates or appends to a file it did not create.
    """
    return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _O_CLOEXEC, 0o666)


def open_for_reading(path: Path) -> int:
    """Open ``path`` read-only without following a symlink in its last component."""
    return os.open(path, os.O_RDONLY | _O_NOFOLLOW | _O_CLOEXEC)


def write_all(fd: int, data: BytesLike) -> None:
    """Write every byte of ``data`` to ``fd`` (at most :data:`WRITE_CALL_BYTES` per call),
    looping over short writes."""
    view = memoryview(data).cast("B")
    offset = 0
    total = view.nbytes
    while offset < total:
        written = os.write(fd, view[offset : offset + WRITE_CALL_BYTES])
        if written <= 0:  # pragma: no cover - a regular file never accepts zero bytes
            raise OSError(errno.EIO, "write accepted no bytes")
        offset += written


def fsync_directory(directory: Path) -> None:
    """Flush ``directory``'s entries (renames, unlinks) to stable storage.

    Filesystems that cannot fsync a directory report EINVAL; that is tolerated because there
    is nothing more the caller could do. Every other failure propagates.
    """
    fd = os.open(directory, os.O_RDONLY | _O_DIRECTORY | _O_CLOEXEC)
    try:
        try:
            os.fsync(fd)
        except OSError as exc:
            if exc.errno != errno.EINVAL:
                raise
    finally:
        os.close(fd)


class AtomicWriteError(OSError):
    """One step of an atomic write failed: ``step`` names it (``create``, ``write``, ``fsync``,
    ``close``, ``rename <temp> to``, ``fsync directory``) and ``path`` the file or directory it
    acted on. It is an ``OSError`` with the original's ``errno`` and ``strerror`` (the original
    is its ``__cause__``), so callers that handle ``OSError`` need not know it."""

    def __init__(self, step: str, path: Path, cause: OSError) -> None:
        super().__init__(cause.errno, cause.strerror or str(cause) or type(cause).__name__,
                         str(path))
        self.step = step
        self.path = path


class AtomicFile:
    """The temp file behind one :func:`atomic_file` block, and how far its commit got."""

    def __init__(self, path: Path, temp: Path, fd: int) -> None:
        self.path = path
        """The final name."""
        self.temp = temp
        """The hidden temp name the bytes are written under, in the same directory."""
        self.fd = fd
        """Raw descriptor of the temp file, open for writing at offset 0 (closed by the block)."""
        self.size = -1
        """Size in bytes of the file committed (-1 until the block has flushed it)."""
        self.renamed = False
        """True once the temp file is in place under the final name: whole, though not yet
        durable until the directory fsync that follows succeeds."""


@contextlib.contextmanager
def atomic_file(path: str | os.PathLike[str], *, durable: bool = True) -> Iterator[AtomicFile]:
    """Write a file that readers see whole or not at all: the block writes to
    ``AtomicFile.fd``, a new hidden temp file in ``path``'s directory (which must exist);
    leaving it flushes, renames the temp file onto ``path`` and makes the rename durable.

    With ``durable`` the file is ``fsync``-ed before the rename and the directory after it, so
    a power loss cannot leave the final name pointing at data never persisted; without it the
    write is still atomic for every other process (a cache or a file only this boot's processes
    read need no more). On any exception, in the block or in a step, the temp file is removed
    and the exception propagates: a failed ``os`` call as :class:`AtomicWriteError`, anything
    else as it is. ``path`` then keeps whatever it held before, except when the failure is the
    directory fsync after the rename (``renamed`` is True): the new file is in place, whole.
    """
    final = Path(path)
    temp = final.with_name(temp_name(final.name, os.getpid(), secrets.token_hex(8)))
    try:
        fd = open_new_file(temp)
    except OSError as exc:
        raise AtomicWriteError("create", temp, exc) from exc
    target = AtomicFile(final, temp, fd)
    open_fd: int | None = fd
    try:
        with _step("write", temp):
            yield target
        with _step("fsync" if durable else "stat", temp):
            if durable:
                os.fsync(fd)
            target.size = os.fstat(fd).st_size
        open_fd = None
        with _step("close", temp):
            os.close(fd)
        with _step(f"rename {temp.name} to", final):
            os.replace(temp, final)
        target.renamed = True
        if durable:
            with _step("fsync directory", final.parent):
                fsync_directory(final.parent)
    except BaseException:
        if open_fd is not None:
            with contextlib.suppress(OSError):
                os.close(open_fd)
        if not target.renamed:
            with contextlib.suppress(OSError):
                os.unlink(temp)
        raise


@contextlib.contextmanager
def _step(step: str, path: Path) -> Iterator[None]:
    """Report a failed ``os`` call of an atomic write as the step and the path it acted on."""
    try:
        yield
    except AtomicWriteError:
        raise
    except OSError as exc:
        raise AtomicWriteError(step, path, exc) from exc


def atomic_write(
    path: str | os.PathLike[str], data: BytesLike | str, *, durable: bool = True
) -> int:
    """Write ``data`` (bytes, or text stored as UTF-8) to ``path`` atomically and return its
    size in bytes; see :func:`atomic_file` for what ``durable`` adds and what a failure leaves
    (never a temp file, never a partial file under ``path``)."""
    payload = data.encode("utf-8") if isinstance(data, str) else data
    with atomic_file(path, durable=durable) as target:
        write_all(target.fd, payload)
    return target.size


def move_durably(source: str | os.PathLike[str], target: str | os.PathLike[str]) -> None:
    """Rename a file that is already whole (say, one a subprocess wrote under a temp name) onto
    ``target`` in one atomic step, then fsync ``target``'s directory (and ``source``'s, if it is
    another) so the move survives a power loss. Failures raise :class:`AtomicWriteError`;
    until the rename succeeds ``source`` stays where it was."""
    origin, destination = Path(source), Path(target)
    with _step(f"rename {origin} to", destination):
        os.replace(origin, destination)
    with _step("fsync directory", destination.parent):
        fsync_directory(destination.parent)
    if origin.parent.resolve() != destination.parent.resolve():
        with _step("fsync directory", origin.parent):
            fsync_directory(origin.parent)


class SerialWorkers:
    """Named single-thread executors: each runs its tasks one at a time, in submission order.

    Ordered streams of work (hashing a file's bytes, writing them, CRC-ing them) each get one
    worker, so that several chunks can be queued without ever being processed out of order.
    Use it as a context manager: leaving the block waits for every queued task.
    """

    def __init__(self, *names: str) -> None:
        self._executors = {
            name: ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"checkpoint-{name}")
            for name in names
        }

    def __getitem__(self, name: str) -> ThreadPoolExecutor:
        return self._executors[name]

    def __enter__(self) -> SerialWorkers:
        return self

    def __exit__(self, *_: object) -> None:
        self.shutdown()

    def shutdown(self) -> None:
        """Wait for every queued task, then stop the threads."""
        for executor in self._executors.values():
            executor.shutdown(wait=True)


WRITER_WORKERS = ("hash", "write", "flush")
"""The workers a threaded :class:`HashingWriter` uses: ``SerialWorkers(*WRITER_WORKERS)``."""


class HashingWriter:
    """Forward-only, write-only file object over a raw descriptor that sha256-hashes its input.

    It deliberately refuses ``seek``: ``zipfile`` then writes each member's CRC and sizes in a
    trailing data descriptor instead of seeking back to patch the local header, so the bytes
    that reach the file are exactly the bytes hashed, in order.

    With ``workers`` (:data:`WRITER_WORKERS`), large immutable chunks are queued: one thread
    hashes them, another writes them, in order, while the caller produces the next chunks; at
    most :data:`MAX_IN_FLIGHT_BYTES` are queued, so memory stays bounded. Once something is
    queued, later small writes are queued behind it too (copied first if their buffer is
    mutable), so order is kept without stalling the pipeline; a large mutable buffer waits
    for the queue to empty and is written by the caller's thread. Every
    :data:`FLUSH_INTERVAL_BYTES` the write thread queues a :func:`start_writeback` of the new
    bytes on the third worker without waiting for it, so the caller's final fsync has little
    left to do. A failed write-back request fails the write: it is
    raised by the next chunk written after it finished, or at the latest by :meth:`drain`.

    "Immutable" means ``bytes`` or a *read-only* ``memoryview``: a read-only view is taken as
    the caller's promise that the memory behind it does not change until the writer is
    drained. The checkpoint store passes read-only views of the caller's arrays, which cannot
    change while ``write_checkpoint`` runs (it returns only once everything is written), so
    array data is written without being copied.

    Errors from the workers surface on the next call, after every queued task has finished;
    from then on the writer is failed and every write raises the same error (so a
    ``finally`` that tries to finish the archive cannot write past the failure). Use it as a
    context manager: leaving the block waits for queued work, so the descriptor can be closed
    safely even when an exception is propagating.
    """

    def __init__(self, fd: int, workers: SerialWorkers | None = None) -> None:
        self._fd = fd
        self._workers = workers
        self._sha = hashlib.sha256()
        self._position = 0
        self._queued: deque[tuple[int, Future[None], Future[None]]] = deque()
        self._queued_bytes = 0
        self._error: BaseException | None = None
        # Owned by whichever thread writes (the write worker while anything is queued).
        self._write_failed = False
        self._unflushed = 0
        self._flushed_to = 0
        self._flushes: deque[Future[None]] = deque()

    def __enter__(self) -> HashingWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.drain()
        else:
            self._wait_quietly()

    def write(self, data: BytesLike) -> int:
        """Hash and write all of ``data`` (in order); return its length in bytes."""
        self._raise_if_failed()
        view = memoryview(data).cast("B")
        size = view.nbytes
        if size == 0:
            return 0
        immutable = isinstance(data, bytes) or (isinstance(data, memoryview) and data.readonly)
        large = size >= ASYNC_MIN_BYTES
        if self._workers is not None and (large and immutable or self._queued and not large):
            if not immutable:
                view = memoryview(bytes(view))  # small; the caller may reuse its buffer
            self._make_room(size)
            self._queued.append(
                (
                    size,
                    self._workers["hash"].submit(self._sha.update, view),
                    self._workers["write"].submit(self._write_chunk, view),
                )
            )
            self._queued_bytes += size
        else:  # nothing queued, or a large mutable buffer: wait for the queue, write here
            while self._queued:
                self._finish_oldest()
            self._sha.update(view)
            try:
                self._write_chunk(view)
            except BaseException as exc:
                self._error = exc
                raise
        self._position += size
        return size

    def _write_chunk(self, view: memoryview) -> None:
        """Write one chunk; every :data:`FLUSH_INTERVAL_BYTES`, start the disk write of the new
        bytes.

        Runs on the write worker (or inline when nothing is queued). After a failure, chunks
        still queued are skipped: the file is broken and the error is already on its way."""
        if self._write_failed:
            return
        try:
            while self._flushes and self._flushes[0].done():
                self._flushes.popleft().result()  # a failed write-back fails the write
            write_all(self._fd, view)
            self._unflushed += view.nbytes
            if (
                self._workers is not None
                and FLUSH_INTERVAL_BYTES > 0
                and self._unflushed >= FLUSH_INTERVAL_BYTES
            ):
                start, self._flushed_to = self._flushed_to, self._flushed_to + self._unflushed
                self._flushes.append(
                    self._workers["flush"].submit(start_writeback, self._fd, start, self._unflushed)
                )
                self._unflushed = 0
        except BaseException:
            self._write_failed = True
            raise

    def _make_room(self, size: int) -> None:
        """Collect finished chunks; wait for the oldest while the queue is full."""
        while self._queued and (
            self._queued_bytes + size > MAX_IN_FLIGHT_BYTES
            or (self._queued[0][1].done() and self._queued[0][2].done())
        ):
            self._finish_oldest()

    def _finish_oldest(self) -> None:
        size, hashed, written = self._queued.popleft()
        self._queued_bytes -= size
        try:
            hashed.result()
            written.result()
        except BaseException as exc:
            self._error = exc
            self._wait_quietly()
            raise

    def drain(self) -> None:
        """Wait until every byte passed to :meth:`write` is hashed and handed to the OS, and
        any write-back request has finished; raise the first error of any of them."""
        self._raise_if_failed()
        while self._queued:
            self._finish_oldest()
        while self._flushes:
            try:
                self._flushes.popleft().result()
            except BaseException as exc:
                self._error = exc
                self._wait_quietly()
                raise

    def _raise_if_failed(self) -> None:
        if self._error is not None:
            raise self._error

    def _wait_quietly(self) -> None:
        """Wait for everything queued (and any write-back request), ignoring errors: the caller
        is already propagating one. Afterwards no worker touches the descriptor."""
        queued, self._queued = self._queued, deque()
        self._queued_bytes = 0
        for _size, hashed, written in queued:
            for future in (hashed, written):
                with contextlib.suppress(BaseException):
                    future.result()
        flushes, self._flushes = self._flushes, deque()
        for flush in flushes:
            with contextlib.suppress(BaseException):
                flush.result()

    def read(self, size: int = -1) -> bytes:
        """Refuse: the stream is write-only."""
        raise io.UnsupportedOperation("checkpoint payload stream is write-only")

    def tell(self) -> int:
        """Number of bytes accepted so far (the file offset once drained)."""
        return self._position

    def seekable(self) -> bool:
        """Always False: the stream is hashed in order, so it cannot be rewound."""
        return False

    def seek(self, offset: int, whence: int = 0) -> int:
        """Refuse to move: see the class docstring."""
        raise io.UnsupportedOperation("checkpoint payload stream is not seekable")

    def flush(self) -> None:
        """Wait for queued writes; durability is ``os.fsync``'s job."""
        self.drain()

    def close(self) -> None:
        """Wait for queued writes; the descriptor stays open (it belongs to the caller)."""
        self.drain()

    def hexdigest(self) -> str:
        """sha256 of everything written."""
        self.drain()
        return self._sha.hexdigest()


def sha256_of_fd(fd: int) -> tuple[str, int]:
    """Hash the file open at ``fd`` from offset 0 to EOF with ``preadv`` (offset untouched).

    Returns ``(hexdigest, bytes_read)``. Because ``preadv`` does not move the shared file
    offset, another thread may read the same descriptor through a file object concurrently.
    """
    sha = hashlib.sha256()
    # No bigger than the file (a buffer is zero-filled, so its size is memory the process uses).
    buffer = bytearray(max(1, min(READ_CHUNK_BYTES, os.fstat(fd).st_size)))
    view = memoryview(buffer)
    offset = 0
    while True:
        count = os.preadv(fd, [buffer], offset)
        if count == 0:
            break
        sha.update(view[:count])
        offset += count
    return sha.hexdigest(), offset


def pread_into(fd: int, view: memoryview, offset: int) -> int:
    """Fill ``view`` from ``fd`` at ``offset`` with ``preadv``, looping over short reads.

    Returns the number of bytes read: less than ``len(view)`` only at end of file."""
    total = view.nbytes
    done = 0
    while done < total:
        count = os.preadv(fd, [view[done:]], offset + done)
        if count == 0:
            break
        done += count
    return done
