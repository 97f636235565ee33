"""`python -m hostile.full_disk_cli ARGS`: holdem-train-blueprint on a disk that is full.

Used where the tests may not mount a tiny filesystem: the checkpoint store's `os` is replaced
by the fault-injecting proxy, and from the first call the runner makes while writing a
checkpoint, every write and fsync fails with ENOSPC, exactly what a full filesystem returns.
Everything else (argument parsing, the runner, the error mapping to exit code 7) is the real
command.
"""

from __future__ import annotations

import errno
import sys

import pytest

from holdem_lab.cli.train import main
from hostile import faults

if __name__ == "__main__":
    patch = pytest.MonkeyPatch()
    proxy = faults.install(patch)
    faults.arm_runner_writes(patch, proxy)
    proxy.fault = faults.Fault(errno.ENOSPC, at=1, sticky=True,
                               sticky_ops=frozenset({"write", "fsync"}))
    sys.exit(main(sys.argv[1:]))
