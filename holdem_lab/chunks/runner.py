"""The chunk runner: resume or start, train to the chunk or total limit, checkpoint, flush, stop.

`run_chunk` is the only place that decides when a run checkpoints, stops or resumes; the CLI
(`holdem-train-blueprint`) and the chunk notebook are thin callers. One call is one chunk:

1. take the run lock, remove temp files a crashed writer left, find the newest complete
   checkpoint (a corrupt newer one is reported and skipped; checkpoint files that are all
   incomplete are refused rather than silently replaced by a fresh start);
2. rebuild the game, refuse a changed game, bucket file or training setting (see `resume`),
   restore the solver state exactly (tables, RNG, iteration, discount steps, elapsed time);
3. train in batches until the chunk limit (iterations and/or minutes, whichever first) or the
   total (iterations and/or time budget, whichever first), writing interval checkpoints
   (`checkpoint_interval` iterations, `snapshot_interval_seconds`) on the way;
4. write the final checkpoint, flush TensorBoard, apply retention, and report.
"""

from __future__ import annotations

import math
import os
import platform
import reprlib
import socket
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any, NoReturn, TextIO

import numpy as np

from holdem_lab import __version__
from holdem_lab.checkpoint import (
    MAX_ITERATION,
    CheckpointInfo,
    clean_temp_files,
    find_latest_complete,
    list_checkpoints,
    load_latest_complete,
    prune_checkpoints,
    write_checkpoint,
)
from holdem_lab.chunks.lock import RunLock
from holdem_lab.chunks.resume import check_config, check_game
from holdem_lab.chunks.signals import GracefulStop
from holdem_lab.chunks.tensorboard import ScalarLog
from holdem_lab.config import GameSpec, MCCFRConfig
from holdem_lab.errors import CheckpointError
from holdem_lab.eval.exact import exploitability
from holdem_lab.games import Game, load_game
from holdem_lab.process import peak_rss_bytes
from holdem_lab.solver import Solver
from holdem_lab.solver.solver import memory_needed

CHECKPOINT_DIR = "checkpoints"
TENSORBOARD_DIR = "tensorboard"
STATE_ARRAYS = ("regrets", "strategy_sum", "stats")


class ChunkStatus(StrEnum):
    """How a chunk ended."""

    CHUNK_DONE = "chunk_done"  # the chunk limit was reached; training continues next chunk
    COMPLETE = "complete"  # the total (iterations or time budget) is reached
    STOPPED = "stopped"  # asked to stop early (signal); a checkpoint was written


@dataclass(frozen=True)
class ChunkResult:
    """What one chunk did."""

    status: ChunkStatus
    iteration: int
    start_iteration: int
    checkpoint: Path | None
    elapsed_seconds: float
    chunk_seconds: float
    chunk_index: int
    reason: str
    skipped: tuple[str, ...] = field(default=())

    @property
    def trained_iterations(self) -> int:
        return self.iteration - self.start_iteration


def build_game(spec: GameSpec) -> Game:
    """The game a GameSpec names (buckets included when given)."""
    params = dict(spec.game_params)
    if spec.buckets is not None:
        params["buckets"] = spec.buckets
    return load_game(spec.game, **params)


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
    """The bit-generator state :func:`rng_state_to_json` wrote (a checkpoint's ``rng_state``),
    ready for ``Generator.bit_generator.state``."""
    def convert(key: str, value: Any) -> Any:
        if isinstance(value, dict):
            return {k: convert(k, v) for k, v in value.items()}
        if key in ("bit_generator",):
            return value
        if isinstance(value, str):
            return int(value)
        return value
    return {k: convert(k, v) for k, v in state.items()}


def _check_resume_fields(info: CheckpointInfo, meta: dict[str, Any]) -> None:
    """Refuse metadata fields a resume cannot use. The store vouches that the files are the
    ones the metadata lists, not that every field has the right type: a forged or damaged but
    re-sealed checkpoint must be refused here, naming the field, rather than crash the solver
    or be silently coerced (1.5 discount steps read as 1)."""
    def refuse(key: str, expected: str) -> NoReturn:
        raise CheckpointError(f"{info.metadata_path}: metadata field {key!r} must be {expected},"
                              f" found {reprlib.repr(meta.get(key))}")

    for key in ("discount_steps", "chunk_index"):
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


def _average_regret_by_round(game: Game, solver: Solver) -> dict[str, float]:
    """Mean over a round's infosets of max_a R+(I, a) / t: the quantity CFR's bound drives to 0."""
    if solver.iteration == 0:
        return {}
    positive = np.maximum(solver.regrets, 0.0).max(axis=1) / solver.iteration
    out = {}
    tree = game.tree
    decision = np.asarray(tree.decision_nodes, dtype=np.int64)
    for r in range(tree.num_rounds):
        nodes = decision[tree.round[decision] == r]
        if len(nodes):
            buckets = np.arange(game.num_buckets[r], dtype=np.int64)
            index = game.row_offset[nodes, None] + buckets[None, :] * game.row_stride[nodes, None]
            out[f"round{r}"] = float(positive[index.ravel()].mean())
    return out


def _epsilon_position(config: MCCFRConfig, iteration: int) -> int:
    """Index of the schedule entry in force for the next iteration (-1: the base epsilon)."""
    position = -1
    for i, (start, _) in enumerate(config.epsilon_schedule):
        if iteration + 1 >= start:
            position = i
    return position


class _Printer:
    def __init__(self, stream: TextIO | None) -> None:
        self.stream = stream if stream is not None else sys.stdout

    def __call__(self, message: str) -> None:
        print(message, file=self.stream, flush=True)


def run_chunk(logdir: str | os.PathLike[str], spec: GameSpec, config: MCCFRConfig, *,
              keep_last: int | None = None, tensorboard: bool = True, progress: bool = True,
              clock: Callable[[], float] = time.monotonic, out: TextIO | None = None,
              should_stop: Callable[[], bool] | None = None,
              graceful: GracefulStop | None = None,
              extra_metadata: dict[str, Any] | None = None) -> ChunkResult:
    """Run one chunk of the run in `logdir` (see the module docstring). With `graceful`
    (installed signal handling) a SIGTERM/SIGINT stops the chunk after the iteration in
    progress, with a final checkpoint."""
    say = _Printer(out)
    logdir = Path(logdir)
    checkpoints = logdir / CHECKPOINT_DIR
    if keep_last is not None and keep_last < 1:
        from holdem_lab.errors import ConfigError
        raise ConfigError("keep_last", keep_last, "must be >= 1")
    with RunLock(logdir):
        checkpoints.mkdir(parents=True, exist_ok=True)
        return _run_locked(logdir, checkpoints, spec, config, keep_last, tensorboard, progress,
                           clock, say, should_stop, graceful, extra_metadata or {})


def _run_locked(logdir: Path, checkpoints: Path, spec: GameSpec, config: MCCFRConfig,
                keep_last: int | None, tensorboard: bool, progress: bool,
                clock: Callable[[], float], say: _Printer,
                should_stop: Callable[[], bool] | None, graceful: GracefulStop | None,
                extra_metadata: dict[str, Any]) -> ChunkResult:
    chunk_started = clock()
    if config.enable_chunked_training:
        say("Chunked Training Mode Initialized")
        limits = []
        if config.chunk_size_iterations is not None:
            limits.append(f"{config.chunk_size_iterations:,} iterations")
        if config.chunk_size_minutes is not None:
            limits.append(f"{config.chunk_size_minutes:g} minutes")
        say(f"Chunk size: {' or '.join(limits)}")
    clean_temp_files(checkpoints)
    game = build_game(spec)
    needed = memory_needed(game)
    size = f"{needed / 2**20:,.1f} MiB" if needed >= 2**20 else f"{needed / 2**10:,.0f} KiB"
    say(f"Game: {game.name}, {game.num_rows:,} infosets; the solver needs {size}")
    # Before the checkpoint is read: the memory check must not count the loaded state, which
    # the solver takes over instead of its own (untouched) tables.
    solver = Solver(game, config)
    # The policy is read and checked, not kept: resuming needs the state only.
    loaded, problems = load_latest_complete(
        checkpoints, include_policy=False,
        report=lambda problem: say(f"Skipping incomplete or corrupt checkpoint: {problem}"))
    if loaded is None and list_checkpoints(checkpoints):
        # Every problem again, though each was printed as it was found: the output may not
        # have been shown (a quiet notebook driver, a log that keeps stderr only).
        raise CheckpointError(
            f"{checkpoints} holds checkpoint files but none is complete; refusing to start over "
            "them (move them away to start a fresh run): " + "; ".join(problems))
    previous_elapsed = 0.0
    chunk_index = 0
    history: list[dict[str, Any]] = []
    config_changes: list[dict[str, Any]] = []
    latest: CheckpointInfo | None = None
    if loaded is None:
        say("Starting fresh training (no checkpoint found)")
    else:
        latest = loaded.info
        say(f"Resuming from checkpoint: {latest.policy_path}")
        meta = loaded.metadata
        _check_resume_fields(latest, meta)
        check_game(meta["game_identity"], game.identity())
        changes = check_config(meta["config"], config)
        config_changes = list(meta.get("config_changes", []))
        if changes:
            config_changes.append({"iteration": loaded.iteration, "changes": changes})
            for key, (old, new) in changes.items():
                say(f"Setting changed since the last chunk: {key}: {old!r} -> {new!r}")
        state: dict[str, Any] = dict(loaded.state)
        try:
            stats = state.get("stats", solver.stats)  # the kernel writes it without bounds checks
            if stats.shape != solver.stats.shape or stats.dtype != solver.stats.dtype:
                raise ValueError(f"stats: shape {stats.shape} dtype {stats.dtype}, expected "
                                 f"{solver.stats.shape} {solver.stats.dtype}")
            state.update(iteration=meta["iteration"], discount_steps=meta["discount_steps"],
                         rng_state=rng_state_from_json(meta["rng_state"]),
                         compute_seconds=float(meta["compute_seconds"]))
            solver.load_state_dict(state, copy=False)
        except (KeyError, TypeError, ValueError, OverflowError, AttributeError) as exc:
            detail = f"missing key {exc}" if isinstance(exc, KeyError) else str(exc)
            raise CheckpointError(f"{latest.directory / latest.stem}: cannot restore the "
                                  f"solver state from it: {detail}") from exc
        previous_elapsed = float(meta["elapsed_seconds"])
        chunk_index = meta["chunk_index"] + 1
        history = list(meta.get("chunks", []))
        say(f"Successfully resumed from iteration {solver.iteration}")
    start_iteration = solver.iteration
    start_compute = solver.compute_seconds
    if graceful is not None:
        graceful.attach(solver)
        if should_stop is None:
            should_stop = graceful

    def elapsed_now() -> float:
        return previous_elapsed + (clock() - chunk_started)

    # Totals: is anything left to do?
    def total_reached() -> str | None:
        if config.num_iterations is not None and solver.iteration >= config.num_iterations:
            return (f"Total iteration limit reached: {solver.iteration} >= "
                    f"{config.num_iterations}")
        if config.time_budget_seconds is not None and elapsed_now() >= config.time_budget_seconds:
            return (f"Time budget reached: {elapsed_now():.1f} s >= "
                    f"{config.time_budget_seconds:g} s")
        return None

    done = total_reached()
    if done is not None:
        say(f"Training already complete: {done}")
        return ChunkResult(status=ChunkStatus.COMPLETE, iteration=solver.iteration,
                           start_iteration=start_iteration,
                           checkpoint=latest.policy_path if latest else None,
                           elapsed_seconds=previous_elapsed, chunk_seconds=0.0,
                           chunk_index=chunk_index - 1, reason=done, skipped=tuple(problems))

    chunk_end = None
    if config.enable_chunked_training and config.chunk_size_iterations is not None:
        chunk_end = start_iteration + config.chunk_size_iterations
    iteration_end = config.num_iterations
    if chunk_end is not None:
        iteration_end = chunk_end if iteration_end is None else min(iteration_end, chunk_end)
    chunk_seconds_limit = (config.chunk_size_minutes * 60.0
                           if config.enable_chunked_training and config.chunk_size_minutes
                           else None)

    # Steps up to the checkpoint's iteration were logged before it was written and stay; any
    # later step comes from a chunk that died after its last checkpoint and is purged.
    scalars = ScalarLog(logdir / TENSORBOARD_DIR,
                        purge_step=start_iteration + 1 if start_iteration else 0,
                        chunk_index=chunk_index, enabled=tensorboard)
    small_game = game.name in ("kuhn", "leduc")
    measured: tuple[int, float] | None = None  # (iteration, exact exploitability there)
    last_checkpoint: Path | None = latest.policy_path if latest else None
    last_checkpoint_iteration = start_iteration
    last_snapshot_clock = clock()

    def save(within_chunk: str | None = None) -> Path:
        """Write a checkpoint; ``within_chunk`` names why one is written before the chunk's end
        (the end-of-chunk line is the guide's, word for word)."""
        nonlocal last_checkpoint, last_checkpoint_iteration, last_snapshot_clock
        note = f" ({within_chunk})" if within_chunk else ""
        say(f"Saving checkpoint at iteration {solver.iteration}...{note}")
        # Exact and cheap (a few ms for Leduc): every Kuhn/Leduc checkpoint records its own.
        current_exploitability = exploitability_now() if small_game else None
        scalars.flush()
        paths = write_checkpoint(
            checkpoints, solver.iteration, policy=_policy_arrays(solver),
            state={name: solver.state_dict()[name] for name in STATE_ARRAYS},
            metadata=_metadata(game, solver, config, spec, elapsed_now(),
                               clock() - chunk_started, chunk_index, start_iteration, history,
                               config_changes, current_exploitability, extra_metadata))
        say("Checkpoint saved successfully")
        last_checkpoint = paths.policy
        last_checkpoint_iteration = solver.iteration
        last_snapshot_clock = clock()
        return paths.policy

    def exploitability_now() -> float:
        """The current average policy's exact exploitability, computed once per iteration
        (a checkpoint and a logged step may fall on the same one)."""
        nonlocal measured
        if measured is None or measured[0] != solver.iteration:
            measured = (solver.iteration, exploitability(game, solver.average_policy()))
        return measured[1]

    def log_scalars() -> None:
        values: dict[str, float] = {}
        if (small_game and config.exploitability_interval
                and solver.iteration % config.exploitability_interval == 0):
            values["exploitability"] = exploitability_now()
        if scalars.enabled and solver.iteration % config.tensorboard_log_interval == 0:
            seconds = max(solver.compute_seconds, 1e-9)
            stats = solver.statistics()
            values.update({
                "train/iterations_per_second": solver.iteration / seconds
                if solver.iteration else 0.0,
                "train/epsilon": solver.epsilon(),
                "train/discount_steps": float(solver.discount_steps),
                "train/pruned_share": stats["pruned_iterations"] / max(solver.iteration, 1),
                "train/elapsed_seconds": elapsed_now(),
                "memory/peak_rss_mb": peak_rss_bytes() / 2**20,
            })
            for name, value in _average_regret_by_round(game, solver).items():
                values[f"regret/average_{name}"] = value
            values.update(_discount_factors(config, solver.discount_steps))
        scalars.scalars(solver.iteration, values)

    bar = _progress_bar(progress, start_iteration, iteration_end)
    batch = 64
    reason = ""
    status = ChunkStatus.CHUNK_DONE
    try:
        while True:
            # Batches end where something is due: a TensorBoard step (only when logging), a
            # checkpoint, an exploitability evaluation.
            stop_points = [config.tensorboard_log_interval] if scalars.enabled else []
            if config.checkpoint_interval:
                stop_points.append(config.checkpoint_interval)
            if small_game and config.exploitability_interval:
                stop_points.append(config.exploitability_interval)
            target = min((solver.iteration + p - solver.iteration % p for p in stop_points),
                         default=solver.iteration + batch)
            if iteration_end is not None:
                target = min(target, iteration_end)
            step = min(batch, target - solver.iteration)
            before = clock()
            step = solver.run(step)
            spent = clock() - before
            if spent < 0.25 and batch < 1 << 22:
                batch *= 2
            elif spent > 1.0 and batch > 1:
                batch //= 2
            if bar is not None:
                bar.update(step)
            if (scalars.enabled and solver.iteration % config.tensorboard_log_interval == 0) or (
                    small_game and config.exploitability_interval
                    and solver.iteration % config.exploitability_interval == 0):
                log_scalars()
            done = total_reached()
            if done is not None:
                reason, status = done, ChunkStatus.COMPLETE
                break
            if chunk_end is not None and solver.iteration >= chunk_end:
                reason = f"Chunk iteration limit reached: {solver.iteration} >= {chunk_end}"
                break
            if chunk_seconds_limit is not None and clock() - chunk_started >= chunk_seconds_limit:
                reason = (f"Chunk time limit reached: {clock() - chunk_started:.1f} s >= "
                          f"{chunk_seconds_limit:g} s")
                break
            if should_stop is not None and should_stop():
                reason, status = "Stop requested", ChunkStatus.STOPPED
                if graceful is not None and graceful.signal_name is not None:
                    reason = (f"Stopped by {graceful.signal_name} during iteration "
                              f"{(graceful.signal_iteration or 0) + 1}; checkpointing at "
                              f"iteration {solver.iteration}")
                    extra_metadata = {**extra_metadata, "stop": {
                        "signal": graceful.signal_name,
                        "signal_iteration": graceful.signal_iteration,
                        "iteration": solver.iteration}}
                break
            if config.checkpoint_interval and solver.iteration % config.checkpoint_interval == 0:
                save("interval")
            elif (config.snapshot_interval_seconds is not None
                  and clock() - last_snapshot_clock >= config.snapshot_interval_seconds):
                save("snapshot")
    finally:
        if bar is not None:
            bar.close()
    say(reason)
    match_results = _evaluate_against_baselines(game, solver, config, say)
    if match_results:
        extra_metadata = {**extra_metadata, "evaluation": match_results}
        scalars.scalars(solver.iteration, {f"eval/mbb_vs_{name}": result["mbb_per_hand"]
                                           for name, result in match_results.items()})
    if solver.iteration != last_checkpoint_iteration or last_checkpoint is None:
        history.append({"chunk_index": chunk_index, "start_iteration": start_iteration,
                        "end_iteration": solver.iteration,
                        "seconds": clock() - chunk_started, "peak_rss_bytes": peak_rss_bytes(),
                        "compute_seconds": solver.compute_seconds - start_compute,
                        "iterations_per_second": (solver.iteration - start_iteration)
                        / max(clock() - chunk_started, 1e-9)})
        save()
    say("Flushing TensorBoard logs...")
    scalars.close()
    if keep_last is not None:
        for removed in prune_checkpoints(checkpoints, keep_last):
            say(f"Removed old checkpoint {removed.stem} (keep last {keep_last})")
    chunk_seconds = clock() - chunk_started
    if status is ChunkStatus.COMPLETE:
        say("Training complete")
    elif status is ChunkStatus.STOPPED:
        say("Chunk stopped early by request - Process will now exit")
    else:
        say("Chunk Complete - Process will now exit to free memory")
    say(f"Progress: iteration {solver.iteration}")
    if status is not ChunkStatus.COMPLETE:
        say("Restart this command to continue training from checkpoint")
    return ChunkResult(status=status, iteration=solver.iteration,
                       start_iteration=start_iteration, checkpoint=last_checkpoint,
                       elapsed_seconds=elapsed_now(), chunk_seconds=chunk_seconds,
                       chunk_index=chunk_index, reason=reason, skipped=tuple(problems))


EVALUATION_BASELINES = ("uniform", "always_call", "always_raise_pot", "equity_threshold")


def _evaluate_against_baselines(game: Game, solver: Solver, config: MCCFRConfig,
                                say: _Printer) -> dict[str, dict[str, float]]:
    """Heads-up Hold'em: the blueprint against each baseline in a duplicate match (fixed seed,
    so every chunk is measured on the same deals)."""
    if game.name != "holdem" or game.num_players != 2 or config.evaluation_deal_pairs < 2:
        return {}
    from holdem_lab.eval.match import play_match

    policy = solver.average_policy()
    out: dict[str, dict[str, float]] = {}
    for baseline in EVALUATION_BASELINES:
        result = play_match(game, policy, baseline, deal_pairs=config.evaluation_deal_pairs,
                            seed=config.seed)
        say(result.summary())
        out[baseline] = {"mbb_per_hand": result.mbb_per_hand, "ci95_mbb": result.ci95_mbb,
                         "deal_pairs": float(result.deal_pairs)}
    return out


def _progress_bar(enabled: bool, start: int, end: int | None) -> Any:
    if not enabled:
        return None
    from tqdm.auto import tqdm

    total = None if end is None else end - start
    return tqdm(total=total, unit="it", unit_scale=True, desc="MCCFR", dynamic_ncols=True,
                mininterval=0.5)


def _discount_factors(config: MCCFRConfig, steps: int) -> dict[str, float]:
    """The factors of the latest discount step, for the logs."""
    if config.discount_mode == "none" or steps == 0:
        return {}
    k = float(steps)
    if config.discount_mode == "linear":
        return {"discount/regret_positive": k / (k + 1), "discount/regret_negative": k / (k + 1),
                "discount/strategy": k / (k + 1)}
    ka, kb = k ** config.dcfr_alpha, k ** config.dcfr_beta
    return {"discount/regret_positive": ka / (ka + 1), "discount/regret_negative": kb / (kb + 1),
            "discount/strategy": (k / (k + 1)) ** config.dcfr_gamma}


def _policy_arrays(solver: Solver) -> dict[str, np.ndarray]:
    return {"average_policy": solver.average_policy()}


def _metadata(game: Game, solver: Solver, config: MCCFRConfig, spec: GameSpec,
              elapsed: float, chunk_elapsed: float, chunk_index: int, start_iteration: int,
              history: list[dict[str, Any]], config_changes: list[dict[str, Any]],
              exploitability_here: float | None, extra: dict[str, Any]) -> dict[str, Any]:
    stats = solver.statistics()
    trained = solver.iteration - start_iteration
    metrics: dict[str, Any] = {
        "iterations_per_second": trained / chunk_elapsed if chunk_elapsed > 0 else None,
        "compute_iterations_per_second": solver.iteration / solver.compute_seconds
        if solver.compute_seconds > 0 else None,
        "infosets": game.num_rows,
        "average_regret_by_round": _average_regret_by_round(game, solver),
        "pruned_share": stats["pruned_iterations"] / max(solver.iteration, 1),
        "nodes_visited": stats["nodes_visited"],
        "peak_rss_bytes": peak_rss_bytes(),
        "exploitability": exploitability_here,
    }
    return {
        "t_global": solver.iteration,
        "elapsed_seconds": elapsed,
        "chunk_elapsed_seconds": chunk_elapsed,
        "compute_seconds": solver.compute_seconds,
        "chunk_index": chunk_index,
        "chunk_start_iteration": start_iteration,
        "rng_state": rng_state_to_json(dict(solver.rng.bit_generator.state)),
        "epsilon": solver.epsilon(),
        "epsilon_schedule_position": _epsilon_position(config, solver.iteration),
        "discount_steps": solver.discount_steps,
        "discount": {"mode": config.discount_mode, "interval": config.discount_interval,
                     "alpha": config.dcfr_alpha, "beta": config.dcfr_beta,
                     "gamma": config.dcfr_gamma, "stop_iteration": config.discount_stop_iteration,
                     "steps": solver.discount_steps,
                     "latest_factors": _discount_factors(config, solver.discount_steps)},
        "bucket_hash": game.bucket_hash,
        "game_identity": game.identity(),
        "game_spec": spec.to_dict(),
        "config": config.to_dict(),
        "config_changes": config_changes,
        "chunks": history,
        "metrics": metrics,
        "package_version": __version__,
        "python_version": platform.python_version(),
        "host": socket.gethostname(),
        "pid": os.getpid(),
        "written_at_unix": time.time(),
        **extra,
    }


def latest_checkpoint(logdir: str | os.PathLike[str]) -> CheckpointInfo | None:
    """The newest complete checkpoint of a run, or None."""
    info, _ = find_latest_complete(Path(logdir) / CHECKPOINT_DIR)
    return info
