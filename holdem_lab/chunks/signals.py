"""Graceful stop on SIGTERM / SIGINT (a batch scheduler's warning signal, or Ctrl-C).

The first signal asks the solver to stop after the iteration in progress; the chunk runner then
writes a complete checkpoint, flushes TensorBoard and reports STOPPED (exit code 8: run again to
continue). A second signal aborts at once: whatever was being written is left as temp files,
which the next chunk removes, and the last complete checkpoint stays valid.
"""

from __future__ import annotations

import os
import signal
from types import FrameType
from typing import Any

from holdem_lab.solver import Solver

HANDLED = (signal.SIGTERM, signal.SIGINT)


class GracefulStop:
    """Installable signal handling; also usable as a runner's `should_stop` callable."""

    def __init__(self) -> None:
        self.signal_name: str | None = None
        self.signal_iteration: int | None = None
        self._solver: Solver | None = None
        self._previous: dict[int, Any] = {}

    def install(self) -> GracefulStop:
        for signum in HANDLED:
            self._previous[signum] = signal.signal(signum, self._handle)
        return self

    def uninstall(self) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
        self._previous.clear()

    def attach(self, solver: Solver) -> None:
        """Let the solver be interrupted between iterations."""
        self._solver = solver
        solver.interruptible = True
        if self.signal_name is not None:
            solver.request_stop()

    def __call__(self) -> bool:
        return self.signal_name is not None

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.signal_name is not None:
            os._exit(128 + signum)  # second signal: abort now; checkpoints are atomic
        self.signal_name = signal.Signals(signum).name
        if self._solver is not None:
            # Stop first, then read: the kernel can finish at most the iteration in progress.
            self._solver.request_stop()
            self.signal_iteration = self._solver.iterations_completed_now
