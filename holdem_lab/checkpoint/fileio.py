"""Low-level file I/O for checkpoints: durable writes and sha256 hashing that costs no extra pass.

Checkpoint payloads can be gigabytes, so the bytes are hashed while they stream through the
writer (never re-read from disk), and on the read side the hash is computed by a background
thread over the same file descriptor while the main thread parses the arrays. ``hashlib``,
``os.write`` and ``os.preadv`` all release the GIL on large buffers, so hashing overlaps with
the rest of the work on a second core.

All system calls go through the ``os`` module (``os.write``, ``os.fsync``, ``os.replace``...)
rather than buffered file objects, so that every step can fail loudly and be tested.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import io
import os
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

BytesLike = bytes | bytearray | memoryview

ASYNC_MIN_BYTES = 1 << 20
"""Writes at least this large (immutable ``bytes``) are hashed and written on worker threads."""

READ_CHUNK_BYTES = 8 << 20
"""Buffer size used when hashing an existing file."""

_O_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_O_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_O_DIRECTORY = getattr(os, "O_DIRECTORY", 0)


def open_new_file(path: Path) -> int:
    """Create ``path`` exclusively for writing and return the raw descriptor.

    ``O_EXCL`` guarantees the writer never truncates or appends to a file it did not create.
    """
    return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _O_CLOEXEC, 0o666)


def open_for_reading(path: Path) -> int:
    """Open ``path`` read-only without following a symlink in its last component."""
    return os.open(path, os.O_RDONLY | _O_NOFOLLOW | _O_CLOEXEC)


def write_all(fd: int, data: BytesLike) -> None:
    """Write every byte of ``data`` to ``fd``, looping over short writes."""
    view = memoryview(data).cast("B")
    offset = 0
    total = view.nbytes
    while offset < total:
        written = os.write(fd, view[offset:])
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


class HashingWriter:
    """Forward-only, write-only file object over a raw descriptor that sha256-hashes its input.

    It deliberately refuses ``seek``: ``zipfile`` (used by ``np.savez``) then writes each
    member's CRC and sizes in a trailing data descriptor instead of seeking back to patch the
    local header, so the bytes that reach the file are exactly the bytes hashed, in order.

    With an ``executor`` (two workers), each large immutable chunk is hashed and written on
    the workers while the caller produces the next chunk; at most one chunk is in flight, so
    memory stays bounded and order is preserved (small or mutable writes are done inline after
    the in-flight chunk completes). Errors from the workers surface on the next call. Use it
    as a context manager: leaving the block waits for in-flight work, so the descriptor can be
    closed safely even when an exception is propagating.
    """

    def __init__(self, fd: int, executor: ThreadPoolExecutor | None = None) -> None:
        self._fd = fd
        self._executor = executor
        self._sha = hashlib.sha256()
        self._position = 0
        self._in_flight: list[Future[None]] = []

    def __enter__(self) -> HashingWriter:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, *_: object) -> None:
        if exc_type is None:
            self.drain()
        else:
            self._wait_quietly()

    def write(self, data: BytesLike) -> int:
        """Hash and write all of ``data``; return its length in bytes."""
        view = memoryview(data).cast("B")
        size = view.nbytes
        if size == 0:
            return 0
        self.drain()
        if self._executor is not None and isinstance(data, bytes) and size >= ASYNC_MIN_BYTES:
            self._in_flight = [
                self._executor.submit(self._sha.update, data),
                self._executor.submit(write_all, self._fd, data),
            ]
        else:
            self._sha.update(view)
            write_all(self._fd, view)
        self._position += size
        return size

    def drain(self) -> None:
        """Wait until every byte passed to :meth:`write` is hashed and handed to the OS."""
        in_flight, self._in_flight = self._in_flight, []
        for future in in_flight:
            future.result()

    def _wait_quietly(self) -> None:
        in_flight, self._in_flight = self._in_flight, []
        for future in in_flight:
            with contextlib.suppress(BaseException):
                future.result()

    def read(self, size: int = -1) -> bytes:
        """Refuse: the stream is write-only (the method exists because numpy's ``savez``
        recognises file objects by their having ``read``)."""
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
        """Wait for in-flight writes; durability is ``os.fsync``'s job."""
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
    buffer = bytearray(READ_CHUNK_BYTES)
    view = memoryview(buffer)
    offset = 0
    while True:
        count = os.preadv(fd, [buffer], offset)
        if count == 0:
            break
        sha.update(view[:count])
        offset += count
    return sha.hexdigest(), offset
