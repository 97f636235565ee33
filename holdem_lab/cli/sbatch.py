"""The ``#SBATCH`` lines a run's Slurm jobs need, from the trainer's own memory sizing
(``holdem-train-blueprint --print-sbatch``; ``scripts/slurm/submit.sh`` submits with them)."""

from __future__ import annotations

import hashlib
import math
import os
import re
from pathlib import Path

from holdem_lab.games import Game
from holdem_lab.solver.solver import memory_needed

# What a chunk holds besides the solver: the interpreter, numba and its compiled kernels, the
# card lookup tables and TensorBoard (a Leduc chunk, whose solver is a few KiB, peaks near
# half of it).
PROCESS_BASE_BYTES = 512 * 2**20
# Headroom over the sum, for allocator slack and the checkpoint writer's buffers.
MARGIN = 1.25
# Training runs in one kernel thread while the main thread only waits for it.
CPUS_PER_TASK = 1


def job_memory_bytes(game: Game, bucket_file_bytes: int = 0) -> int:
    """Memory to ask for one chunk of ``game``: the solver's tables (:func:`memory_needed`),
    the bucket file being read while its tables are built, and the process itself, with
    :data:`MARGIN`."""
    return int(MARGIN * (memory_needed(game) + bucket_file_bytes + PROCESS_BASE_BYTES))


def job_name(logdir: str | os.PathLike[str]) -> str:
    """A Slurm job name for the chain of one run: ``holdem-<run>-<6 hex>``, the hex from the
    run's absolute path, so ``scancel --name`` cancels that run's chain and no other."""
    path = Path(logdir).absolute()
    stem = re.sub(r"[^A-Za-z0-9_.-]", "_", path.name)[:40] or "run"
    return f"holdem-{stem}-{hashlib.sha256(str(path).encode()).hexdigest()[:6]}"


def sbatch_lines(game: Game, logdir: str | os.PathLike[str], bucket_file_bytes: int = 0
                 ) -> list[str]:
    """The ``#SBATCH`` lines of a run: its chain's name, memory (MiB, rounded up) and CPUs."""
    mebibytes = math.ceil(job_memory_bytes(game, bucket_file_bytes) / 2**20)
    return [f"#SBATCH --job-name={job_name(logdir)}",
            f"#SBATCH --mem={mebibytes}M",
            f"#SBATCH --cpus-per-task={CPUS_PER_TASK}"]
