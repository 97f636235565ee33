"""Exit codes of holdem_lab's commands, chosen so that a plain shell loop works:

    while holdem-train-blueprint ...; do :; done

keeps running chunks while each exits 0 ("chunk done, run me again") and stops on anything else,
including 3, "training complete". (The chunked-training guide's loop breaks on any non-zero
code; with these codes it ends when training is complete instead of spinning forever.)
"""

from __future__ import annotations

CHUNK_DONE = 0  # a chunk finished and checkpointed; training is not complete: run again
ERROR = 1  # unexpected failure (a bug): the traceback is printed
USAGE = 2  # invalid command line or configuration
COMPLETE = 3  # training reached its total (iterations or time budget); nothing left to do
CHECKPOINT = 4  # checkpoints are unreadable, corrupt or incomplete and were refused
MISMATCH = 5  # bucket file refused, or resume refused: game, buckets or a setting changed
LOCKED = 6  # another process is training this run
IO = 7  # a file could not be written or read (disk full, permissions, ...)
STOPPED = 8  # stopped early by a signal after writing a checkpoint: run again to continue

DESCRIPTIONS = {
    CHUNK_DONE: "chunk done, training continues: run the same command again",
    ERROR: "unexpected error (please report it with the traceback)",
    USAGE: "invalid arguments or configuration",
    COMPLETE: "training complete",
    CHECKPOINT: "checkpoint refused (corrupt, incomplete or unreadable)",
    MISMATCH: "bucket file refused (missing or damaged), or resume refused: the game, "
              "bucket file or a training setting changed",
    LOCKED: "another process is training this run",
    IO: "I/O error",
    STOPPED: "stopped by a signal after checkpointing: run again to continue",
}


def epilog() -> str:
    """The exit-code table for --help."""
    lines = ["exit codes:"]
    lines += [f"  {code:<3} {text}" for code, text in sorted(DESCRIPTIONS.items())]
    return "\n".join(lines)
