"""Facts about the running process that its reports record."""

from __future__ import annotations

import resource
import sys


def peak_rss_bytes() -> int:
    """Peak resident memory, in bytes, of this process since it started its program.

    On Linux this is ``VmHWM`` of ``/proc/self/status``, the high-water mark of the process's
    own address space. ``getrusage``'s ``ru_maxrss`` is not used there: Linux carries it over
    from the parent through fork and exec, so a chunk started by a process holding more memory
    than the chunk uses would report the parent's peak. Elsewhere (macOS), or if the file
    cannot be read, ``ru_maxrss`` is the answer.
    """
    if sys.platform.startswith("linux"):
        try:
            with open("/proc/self/status", encoding="ascii", errors="replace") as status:
                for line in status:
                    if line.startswith("VmHWM:"):
                        return int(line.split()[1]) * 1024  # reported in kB
        except (OSError, ValueError, IndexError):
            pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(peak if sys.platform == "darwin" else peak * 1024)
