"""What a checkpoint's metadata says about the run, and how a resume reads it back.

The metadata is the run's record: the exact solver state that is not an array (iteration, RNG
state, discount steps, seconds), the game and settings it was trained with, the history of its
chunks and the metrics measured at the checkpoint. :func:`checkpoint_metadata` writes it;
:func:`check_resume_fields` refuses a document a resume cannot trust.
"""

from __future__ import annotations

import math
import os
import platform
import reprlib
import socket
import time
from dataclasses import dataclass, field
from typing import Any, NoReturn

import numpy as np
from numba import njit

from holdem_lab import __version__
from holdem_lab.checkpoint import MAX_ITERATION, CheckpointInfo
from holdem_lab.config import GameSpec, MCCFRConfig
from holdem_lab.errors import CheckpointError
from holdem_lab.games import Game
from holdem_lab.process import peak_rss_bytes
from holdem_lab.solver import Solver
from holdem_lab.solver.kernels import step_factors
from holdem_lab.solver.solver import DISCOUNT_CODES


def rng_state_to_json(state: dict[str, Any]) -> dict[str, Any]:
    """Bit-generator state with its large integers as decimal strings (exact in any JSON
    reader)."""
    def convert(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: convert(v) for k, v in value.items()}
        if isinstance(value, bool):
            return value
        if isinstance(value, int | np.integer):
            return str(int(value))
        return value
    return convert(state)


def rng_state_from_json(state: dict[str, Any]) -> dict[str, Any]:
    """The random stream's state :func:`rng_state_to_json` wrote (a checkpoint's
    ``rng_state``), ready for ``Solver.load_state_dict``."""
    def convert(key: str, value: Any) -> Any:
        if isinstance(value, dict):
            return {k: convert(k, v) for k, v in value.items()}
        if key in ("bit_generator",):
            return value
        if isinstance(value, str):
            return int(value)
        return value
    return {k: convert(k, v) for k, v in state.items()}


def platform_record() -> dict[str, str]:
    """What the bits of a run depend on beyond its settings: the same tables are promised for
    the same numba, llvmlite and numpy versions on the same CPU type."""
    import llvmlite
    import numba

    return {"numba": numba.__version__, "llvmlite": llvmlite.__version__,
            "numpy": np.__version__, "cpu": cpu_model(), "machine": platform.machine()}


def cpu_model() -> str:
    """The CPU's model name (Linux's /proc/cpuinfo), else what the platform module says."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as lines:
            for line in lines:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def check_resume_fields(info: CheckpointInfo, meta: dict[str, Any]) -> None:
    """Refuse metadata fields a resume cannot use. The store vouches that the files are the
    ones the metadata lists, not that every field has the right type: a forged or damaged but
    re-sealed checkpoint must be refused here, naming the field, rather than crash the solver
    or be silently coerced (1.5 discount steps read as 1)."""
    def refuse(key: str, expected: str) -> NoReturn:
        raise CheckpointError(f"{info.metadata_path}: metadata field {key!r} must be {expected},"
                              f" found {reprlib.repr(meta.get(key))}")

    for key in ("discount_steps", "discount_window_start", "chunk_index"):
        value = meta.get(key)
        if isinstance(value, bool) or not isinstance(value, int) \
                or not 0 <= value <= MAX_ITERATION:
            refuse(key, f"an integer in [0, {MAX_ITERATION}]")
    for key in ("compute_seconds", "elapsed_seconds"):
        value = meta.get(key)
        if isinstance(value, bool) or not isinstance(value, int | float) \
                or not 0 <= value < math.inf:
            refuse(key, "a finite number of seconds >= 0")
    for key in ("game_identity", "config", "rng_state"):
        if not isinstance(meta.get(key), dict):
            refuse(key, "a JSON object")
    for key in ("chunks", "config_changes"):
        value = meta.get(key, [])
        if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
            refuse(key, "a list of JSON objects")


def average_regret_by_round(game: Game, solver: Solver) -> dict[str, float]:
    """Mean over a round's infosets of max_a R+(I, a) / t: the quantity CFR's bound drives to 0."""
    if solver.iteration == 0:
        return {}
    regrets = solver.regrets
    # Only positive regrets count, and they share one scale.
    scale = solver.table_scale()["regret_positive"] / solver.iteration
    tree = game.tree
    if game.row_groups is not None:
        # Hold'em keeps each (player, round)'s rows together: one pass over the table, which a
        # chunk may take every few seconds.
        sums, counts = _row_group_maxima(regrets, game.row_groups)
        return {f"round{r}": float(sums[r] / counts[r] * scale)
                for r in range(tree.num_rounds) if counts[r]}
    positive = np.maximum(regrets, 0.0).max(axis=1) * scale  # Kuhn and Leduc: tiny tables
    out = {}
    decision = np.asarray(tree.decision_nodes, dtype=np.int64)
    for r in range(tree.num_rounds):
        nodes = decision[tree.round[decision] == r]
        if len(nodes):
            buckets = np.arange(game.num_buckets[r], dtype=np.int64)
            index = game.row_offset[nodes, None] + buckets[None, :] * game.row_stride[nodes, None]
            out[f"round{r}"] = float(positive[index.ravel()].mean())
    return out


@njit(cache=True, nogil=True)
def _row_group_maxima(regrets: np.ndarray, row_groups: np.ndarray) -> tuple[np.ndarray,
                                                                            np.ndarray]:
    """Per round, the sum over its rows of max(0, max_a regret) and the number of rows
    (`row_groups`: [start, end) of each player's rows of each round)."""
    rounds = row_groups.shape[1]
    sums = np.zeros(rounds)
    counts = np.zeros(rounds, dtype=np.int64)
    for p in range(row_groups.shape[0]):
        for r in range(rounds):
            for row in range(row_groups[p, r, 0], row_groups[p, r, 1]):
                best = 0.0
                for b in range(regrets.shape[1]):
                    value = float(regrets[row, b])
                    if value > best:
                        best = value
                sums[r] += best
            counts[r] += row_groups[p, r, 1] - row_groups[p, r, 0]
    return sums, counts


def epsilon_position(config: MCCFRConfig, iteration: int) -> int:
    """Index of the schedule entry in force for the next iteration (-1: the base epsilon)."""
    position = -1
    for i, (start, _) in enumerate(config.epsilon_schedule):
        if iteration + 1 >= start:
            position = i
    return position


def discount_factors(config: MCCFRConfig, steps: int) -> dict[str, float]:
    """The factors of the latest discount step, for the logs."""
    if config.discount_mode == "none" or steps == 0:
        return {}
    factors = step_factors(DISCOUNT_CODES[config.discount_mode], steps, config.dcfr_alpha,
                           config.dcfr_beta, config.dcfr_gamma)
    return {f"discount/{name}": float(value) for name, value in
            zip(("regret_positive", "regret_negative", "strategy"), factors, strict=True)}


@dataclass
class RunHistory:
    """What a chunk carries over from the checkpoint it resumed from (empty for a fresh run):
    where it resumed, which chunk it is, the run's seconds so far, the record of earlier chunks
    and of settings changed between them."""

    checkpoint: CheckpointInfo | None = None
    chunk_index: int = 0
    previous_elapsed: float = 0.0
    chunks: list[dict[str, Any]] = field(default_factory=list)
    config_changes: list[dict[str, Any]] = field(default_factory=list)


def chunk_record(history: RunHistory, start_iteration: int, solver: Solver, start_compute: float,
                 seconds: float) -> dict[str, Any]:
    """One finished chunk, as the ``chunks`` list of the metadata records it."""
    return {"chunk_index": history.chunk_index, "start_iteration": start_iteration,
            "end_iteration": solver.iteration, "seconds": seconds,
            "peak_rss_bytes": peak_rss_bytes(),
            "compute_seconds": solver.compute_seconds - start_compute,
            "iterations_per_second": (solver.iteration - start_iteration) / max(seconds, 1e-9)}


def checkpoint_metadata(game: Game, solver: Solver, config: MCCFRConfig, spec: GameSpec,
                        history: RunHistory, *, start_iteration: int, chunk_elapsed: float,
                        exploitability: float | None, extra: dict[str, Any]) -> dict[str, Any]:
    """The metadata document of a checkpoint written now, ``chunk_elapsed`` seconds into the
    chunk that started at ``start_iteration``; ``extra`` adds top-level keys (the notebook's
    record, a stop signal, match results)."""
    stats = solver.statistics()
    trained = solver.iteration - start_iteration
    metrics: dict[str, Any] = {
        "iterations_per_second": trained / chunk_elapsed if chunk_elapsed > 0 else None,
        "compute_iterations_per_second": solver.iteration / solver.compute_seconds
        if solver.compute_seconds > 0 else None,
        "infosets": game.num_rows,
        "average_regret_by_round": average_regret_by_round(game, solver),
        "pruned_share": stats["pruned_iterations"] / max(solver.iteration, 1),
        "nodes_visited": stats["nodes_visited"],
        "workers": solver.workers,
        "update_buffer_bytes": solver.buffer_bytes,
        "peak_rss_bytes": peak_rss_bytes(),
        "exploitability": exploitability,
    }
    return {
        "t_global": solver.iteration,
        "elapsed_seconds": history.previous_elapsed + chunk_elapsed,
        "chunk_elapsed_seconds": chunk_elapsed,
        "compute_seconds": solver.compute_seconds,
        "chunk_index": history.chunk_index,
        "chunk_start_iteration": start_iteration,
        "rng_state": rng_state_to_json(solver.rng_state()),
        "epsilon": solver.epsilon(),
        "epsilon_schedule_position": epsilon_position(config, solver.iteration),
        "discount_steps": solver.discount_steps,
        "discount_window_start": solver.discount_window_start,
        "engine": solver.engine_info(),
        "platform": platform_record(),
        # The nodes that trained on a Ray cluster (None on one machine): where the bits came from.
        "cluster": solver.cluster_info(),
        "discount": {"mode": config.discount_mode, "interval": config.discount_interval,
                     "alpha": config.dcfr_alpha, "beta": config.dcfr_beta,
                     "gamma": config.dcfr_gamma, "stop_iteration": config.discount_stop_iteration,
                     "steps": solver.discount_steps,
                     "latest_factors": discount_factors(config, solver.discount_steps),
                     # The tables are stored lazily discounted: true = stored x this.
                     "table_scale": solver.table_scale()},
        "bucket_hash": game.bucket_hash,
        "game_identity": game.identity(),
        "game_spec": spec.to_dict(),
        "config": config.to_dict(),
        "config_changes": history.config_changes,
        "chunks": history.chunks,
        "metrics": metrics,
        "package_version": __version__,
        "python_version": platform.python_version(),
        "host": socket.gethostname(),
        "pid": os.getpid(),
        "written_at_unix": time.time(),
        **extra,
    }
