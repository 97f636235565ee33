"""One writer per run: an advisory lock on `<logdir>/.lock`.

`fcntl.flock` locks belong to the open file and vanish when the process dies, however it dies,
so a stale lock from a killed chunk can never block the next one. The file itself records the
holder's pid and host for the error message.
"""

from __future__ import annotations

import fcntl
import os
import socket
import stat
from pathlib import Path
from types import TracebackType

from holdem_lab.errors import RunLockedError

LOCK_NAME = ".lock"


class RunLock:
    """Context manager holding the run directory's lock (non-blocking)."""

    def __init__(self, logdir: Path) -> None:
        self.path = Path(logdir) / LOCK_NAME
        self._fd: int | None = None

    def __enter__(self) -> RunLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
        except OSError as exc:
            raise RunLockedError(f"cannot open the run lock {self.path}: {exc.strerror} "
                                 "(it must be a regular file, not a link)") from None
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            os.close(fd)
            raise RunLockedError(f"the run lock {self.path} is not a regular file")
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = ""
            try:
                holder = os.pread(fd, 200, 0).decode("utf-8", "replace").strip()
            finally:
                os.close(fd)
            raise RunLockedError(
                f"{self.path.parent} is being trained by another process ({holder or 'unknown'});"
                " wait for it to finish or stop it first") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()} on {socket.gethostname()}\n".encode(), 0)
        self._fd = fd
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None
