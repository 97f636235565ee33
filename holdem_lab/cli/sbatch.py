"""The ``#SBATCH`` lines a run's Slurm jobs need, from the trainer's own memory sizing
(``holdem-train-blueprint --print-sbatch``; ``scripts/slurm/submit.sh`` submits with them)."""

from __future__ import annotations

import hashlib
import math
import os
import re
from pathlib import Path

from holdem_lab.config import GameSpec, MCCFRConfig
from holdem_lab.games import Game
from holdem_lab.solver.solver import memory_needed, resolve_engine

# What a chunk holds besides the solver: the interpreter, numba and its compiled kernels, the
# card lookup tables and TensorBoard (a Leduc chunk, whose solver is a few KiB, peaks near
# half of it).
PROCESS_BASE_BYTES = 512 * 2**20
# Headroom over the sum, for allocator slack and the checkpoint writer's buffers.
MARGIN = 1.25
# The sequential engine trains in one kernel thread while the main thread only waits for it.
CPUS_PER_TASK = 1
# The sharded engine's request when no worker count is given: a common share of a node; the
# job then trains on every CPU it is given (--workers sets both).
SHARDED_CPUS_PER_TASK = 8


def job_memory_bytes(game: Game, bucket_file_bytes: int = 0, table_dtype: str = "float64") -> int:
    """Memory to ask for one chunk of ``game``: the solver's tables (:func:`memory_needed`),
    the bucket file being read while its tables are built, and the process itself, with
    :data:`MARGIN`."""
    return memory_for_job(memory_needed(game, table_dtype), bucket_file_bytes)


def memory_for_job(solver_bytes: int, bucket_file_bytes: int = 0) -> int:
    """:func:`job_memory_bytes` from the solver's bytes alone (``holdem-lab size`` sizes a game
    before building it)."""
    return int(MARGIN * (solver_bytes + bucket_file_bytes + PROCESS_BASE_BYTES))


def resource_lines(solver_bytes: int, bucket_file_bytes: int = 0,
                   cpus: int = CPUS_PER_TASK) -> list[str]:
    """The ``#SBATCH`` memory (MiB, rounded up) and CPU lines for a solver of that size."""
    mebibytes = math.ceil(memory_for_job(solver_bytes, bucket_file_bytes) / 2**20)
    return [f"#SBATCH --mem={mebibytes}M", f"#SBATCH --cpus-per-task={cpus}"]


def cpus_per_task(config: MCCFRConfig, game: Game) -> int:
    """CPUs a chunk of this run uses: its worker count when the config gives one, one for the
    sequential engine, else :data:`SHARDED_CPUS_PER_TASK`."""
    if resolve_engine(config.engine, game.num_rows) == "sequential":
        return CPUS_PER_TASK
    return config.num_workers or SHARDED_CPUS_PER_TASK


def bucket_file_bytes(spec: GameSpec) -> int:
    """Size of the spec's bucket npz (0 without one, or when it is not there yet)."""
    if spec.buckets is None:
        return 0
    path = Path(spec.buckets)
    npz = path / "buckets.npz" if path.is_dir() else path
    return npz.stat().st_size if npz.is_file() else 0


def job_name(logdir: str | os.PathLike[str]) -> str:
    """A Slurm job name for the chain of one run: ``holdem-<run>-<6 hex>``, the hex from the
    run's absolute path, so ``scancel --name`` cancels that run's chain and no other."""
    path = Path(logdir).absolute()
    stem = re.sub(r"[^A-Za-z0-9_.-]", "_", path.name)[:40] or "run"
    return f"holdem-{stem}-{hashlib.sha256(str(path).encode()).hexdigest()[:6]}"


def sbatch_lines(game: Game, logdir: str | os.PathLike[str], bucket_file_bytes: int = 0,
                 cpus: int = CPUS_PER_TASK, table_dtype: str = "float64",
                 strategy_rows: int | None = None) -> list[str]:
    """The ``#SBATCH`` lines of a run: its chain's name, memory (MiB, rounded up) and CPUs."""
    return [f"#SBATCH --job-name={job_name(logdir)}",
            *resource_lines(memory_needed(game, table_dtype, strategy_rows), bucket_file_bytes,
                            cpus)]
