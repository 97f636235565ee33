"""In-process I/O fault injection for the checkpoint store.

The store does all of its system calls through the `os` module of `holdem_lab.checkpoint.store`
and `holdem_lab.checkpoint.fileio` (`os.open`, `os.write`, `os.fsync`, `os.close`,
`os.replace`, `os.unlink`, ...). `install` swaps that module attribute for a `FaultyOS` proxy:
every other attribute passes through to the real `os`, and while the proxy is *armed* each call
of a faultable operation is counted and may be made to fail like a full or dying disk.

Only the write side is counted: creating and writing files, fsyncing them and their directory,
renaming and unlinking. Reading (verification before retention, loading) passes through
untouched, so a sweep over "the n-th call" walks exactly the steps that write a checkpoint or
delete an old one.

Failures behave like the kernel's: `write`, `open`, `fsync`, `fstat`, `replace` and `unlink`
fail without doing anything; `close` releases the descriptor and then reports the error (as
Linux does for a close that returns EIO).
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from holdem_lab.checkpoint import fileio, store

FAULTABLE = ("open", "write", "fsync", "fstat", "close", "replace", "unlink")


@dataclass
class Fault:
    """Fail the `at`-th faultable call (1-based) with `errno`; with `sticky`, also every later
    one whose operation is in `sticky_ops` (a disk that stays full, or a device that is gone)."""

    errno: int
    at: int
    sticky: bool = False
    sticky_ops: frozenset[str] = frozenset(FAULTABLE)


@dataclass
class Event:
    """One faultable call made while armed: operation, path (if any), whether it failed."""

    index: int
    op: str
    path: str | None
    failed: bool
    window: str


@dataclass
class FaultyOS:
    """Stand-in for the `os` module inside the checkpoint store (see the module docstring)."""

    fault: Fault | None = None
    events: list[Event] = field(default_factory=list)
    window: str | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _fds: dict[int, str] = field(default_factory=dict)

    def __getattr__(self, name: str) -> Any:
        return getattr(os, name)

    # -- arming -----------------------------------------------------------------------------

    @contextlib.contextmanager
    def armed(self, window: str) -> Iterator[None]:
        """Count (and fail) faultable calls made inside the block, labelled `window`."""
        previous, self.window = self.window, window
        try:
            yield
        finally:
            self.window = previous

    @property
    def calls(self) -> int:
        return len(self.events)

    @property
    def fired(self) -> list[Event]:
        return [event for event in self.events if event.failed]

    def _check(self, op: str, path: str | None) -> bool:
        """Record the call; True if it must fail."""
        if self.window is None:
            return False
        with self._lock:
            index = len(self.events) + 1
            fault = self.fault
            failed = fault is not None and (
                index == fault.at or (fault.sticky and index > fault.at
                                      and op in fault.sticky_ops))
            self.events.append(Event(index, op, path, failed, self.window))
        return failed

    def _error(self) -> OSError:
        assert self.fault is not None
        return OSError(self.fault.errno, os.strerror(self.fault.errno))

    # -- the faultable operations ---------------------------------------------------------------

    def open(self, path: Any, flags: int, mode: int = 0o777, *args: Any, **kwargs: Any) -> int:
        # Files opened for writing, and directories (opened to fsync their entries).
        if not flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_DIRECTORY):
            return os.open(path, flags, mode, *args, **kwargs)
        if self._check("open", os.fsdecode(path)):
            raise self._error()
        fd = os.open(path, flags, mode, *args, **kwargs)
        self._fds[fd] = os.fsdecode(path)
        return fd

    def write(self, fd: int, data: Any) -> int:
        if self._check("write", self._fds.get(fd)):
            raise self._error()
        return os.write(fd, data)

    def fsync(self, fd: int) -> None:
        if fd in self._fds and self._check("fsync", self._fds[fd]):
            raise self._error()
        os.fsync(fd)

    def fstat(self, fd: int) -> os.stat_result:
        if fd in self._fds and self._check("fstat", self._fds[fd]):
            raise self._error()
        return os.fstat(fd)

    def close(self, fd: int) -> None:
        if fd not in self._fds:
            os.close(fd)
            return
        failed = self._check("close", self._fds.pop(fd))
        os.close(fd)
        if failed:
            raise self._error()

    def replace(self, src: Any, dst: Any, *args: Any, **kwargs: Any) -> None:
        if self._check("replace", os.fsdecode(dst)):
            raise self._error()
        os.replace(src, dst, *args, **kwargs)

    def unlink(self, path: Any, *args: Any, **kwargs: Any) -> None:
        if self._check("unlink", os.fsdecode(path)):
            raise self._error()
        os.unlink(path, *args, **kwargs)


def install(monkeypatch: pytest.MonkeyPatch) -> FaultyOS:
    """Put a FaultyOS in place of `os` in the checkpoint store's modules (until the test ends)."""
    proxy = FaultyOS()
    monkeypatch.setattr(fileio, "os", proxy)
    monkeypatch.setattr(store, "os", proxy)
    return proxy


def arm_runner_writes(monkeypatch: pytest.MonkeyPatch, proxy: FaultyOS) -> None:
    """Arm `proxy` while the chunk runner writes a checkpoint or applies retention."""
    from holdem_lab.chunks import runner

    def wrap(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            with proxy.armed(name):
                return function(*args, **kwargs)
        return wrapped

    monkeypatch.setattr(runner, "write_checkpoint", wrap("write", runner.write_checkpoint))
    monkeypatch.setattr(runner, "prune_checkpoints", wrap("prune", runner.prune_checkpoints))
