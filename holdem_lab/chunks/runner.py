"""The chunk runner: resume or start, train to the chunk or total limit, checkpoint, flush, stop.

`run_chunk` is the only place that decides when a run checkpoints, stops or resumes; the CLI
(`holdem-train-blueprint`) and the chunk notebook are thin callers. One call is one chunk:

1. take the run lock, remove temp files a crashed writer left (and the payloads it had put in
   place before its metadata, which it writes last), find the newest complete
   checkpoint (a corrupt newer one is reported and skipped; checkpoint files that are all
   incomplete are refused rather than silently replaced by a fresh start);
2. rebuild the game, refuse a changed game, bucket file or training setting (see `resume`),
   restore the solver state exactly (tables, RNG, iteration, discount steps, elapsed time);
3. train in batches until the chunk limit or the total (see `plan`), writing interval
   checkpoints (`checkpoint_interval` iterations, `snapshot_interval_seconds`) on the way;
4. write the final checkpoint, flush TensorBoard, apply retention, and report.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any, TextIO

from holdem_lab.checkpoint import (
    CheckpointInfo,
    clean_temp_files,
    prune_checkpoints,
    write_checkpoint,
)
from holdem_lab.chunks.metadata import (
    RunHistory,
    average_regret_by_round,
    checkpoint_metadata,
    chunk_record,
    discount_factors,
    rng_state_from_json,
    rng_state_to_json,
)
from holdem_lab.chunks.plan import ChunkPlan
from holdem_lab.chunks.policy import evaluation_policy, streamed_average_policy
from holdem_lab.chunks.resume import restore
from holdem_lab.chunks.signals import GracefulStop
from holdem_lab.chunks.tensorboard import ScalarLog
from holdem_lab.config import GameSpec, MCCFRConfig
from holdem_lab.errors import CheckpointError, ConfigError
from holdem_lab.eval.agents import PolicyTables
from holdem_lab.eval.exact import exploitability
from holdem_lab.games import Game, build_game
from holdem_lab.process import peak_rss_bytes
from holdem_lab.rundir import RunDir, summarize_problems
from holdem_lab.solver import Solver
from holdem_lab.solver.solver import memory_needed, strategy_layout

__all__ = ["ChunkResult", "ChunkStatus", "latest_checkpoint", "rng_state_from_json",
           "rng_state_to_json", "run_chunk"]

STATE_ARRAYS = ("regrets", "strategy_sum", "stats")
EVALUATION_BASELINES = ("uniform", "always_call", "always_raise_pot", "equity_threshold")


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
    training_seconds: float = 0.0
    """Of `chunk_seconds`, the time spent in the training kernels (the rest: building the game,
    loading and writing checkpoints, evaluating)."""

    @property
    def trained_iterations(self) -> int:
        return self.iteration - self.start_iteration


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
    if keep_last is not None and keep_last < 1:
        raise ConfigError("keep_last", keep_last, "must be >= 1")
    say = _Printer(out)
    run = RunDir(logdir)
    chunk_started = clock()
    # Before the lock: a game or bucket file that is refused must leave no trace of a run.
    spec = run.with_buckets_found(spec)
    game = build_game(spec)
    with run.lock():
        limits = ChunkPlan.for_chunk(config).chunk_limits()
        if limits is not None:
            say("Chunked Training Mode Initialized")
            say(f"Chunk size: {limits}")
        run.checkpoints.mkdir(parents=True, exist_ok=True)
        for path in clean_temp_files(run.checkpoints):
            if not path.name.startswith("."):
                say(f"Removed {path.name}: its checkpoint's write was stopped before its "
                    "metadata, so it was never complete")
        needed = memory_needed(game, config.table_dtype,
                               strategy_layout(game, config.average_rounds)[1])
        size = f"{needed / 2**20:,.1f} MiB" if needed >= 2**20 else f"{needed / 2**10:,.0f} KiB"
        say(f"Game: {game.name}, {game.num_rows:,} infosets; the solver needs {size}")
        # Before the checkpoint is read: the memory check must not count the loaded state,
        # which the solver takes over instead of its own (untouched) tables.
        solver = Solver(game, config)
        say(describe_engine(solver))
        run.check_room(_checkpoint_bytes(solver))
        history, problems = _resume(run, game, config, solver, say)
        chunk = _Chunk(run=run, game=game, spec=spec, config=config, solver=solver,
                       history=history, clock=clock, started=chunk_started, say=say,
                       tensorboard=tensorboard, extra=dict(extra_metadata or {}),
                       skipped=tuple(problems))
        done = chunk.plan.why_complete_at_start()
        if done is not None:
            say(f"Training already complete: {done}")
            return chunk.result(ChunkStatus.COMPLETE, done, already_complete=True)
        if graceful is not None:
            graceful.attach(solver)
            if should_stop is None:
                should_stop = graceful
        status, reason = chunk.train(progress, should_stop, graceful)
        return chunk.finish(status, reason, keep_last)


REGRET_SCALARS_MAX_BYTES = 256 << 20
"""Regret tables up to this size get their per-round averages logged at every TensorBoard
step; a larger one gets them at checkpoints only (the metadata), since scanning a table of
several GiB at every step costs more than the training between steps."""
REGRET_SCAN_SHARE = 0.02
"""And at most this share of a chunk's time goes to those scans: a step skips them while less
than 1/share times the last scan's duration has passed since it, unless the scan took under
REGRET_SCAN_FREE seconds (small tables: every step keeps its series)."""
REGRET_SCAN_FREE = 0.01


def describe_engine(solver: Solver) -> str:
    """The engine line a chunk prints."""
    if solver.engine == "sequential":
        ignored = solver.config.num_workers not in (None, 1)
        return ("Engine: sequential (one random stream, one core)"
                + ("; the worker count is ignored: use --engine sharded for more" if ignored
                   else ""))
    where = (f"on the Ray cluster at {solver.config.ray_address}" if solver.config.ray_address
             else f"on {solver.workers} worker{'s' if solver.workers != 1 else ''}")
    return (f"Engine: sharded, batches of {solver.batch_iterations:,} iterations in "
            f"{solver.shards} shards, {where}")


def _resume(run: RunDir, game: Game, config: MCCFRConfig, solver: Solver, say: _Printer
            ) -> tuple[RunHistory, list[str]]:
    """The history of the run from its newest complete checkpoint, with the solver restored
    there, or a fresh history; and the checkpoints skipped on the way."""
    # The policy is read and checked, not kept: resuming needs the state only.
    loaded, problems = run.load_latest(
        include_policy=False,
        report=lambda problem: say(f"Skipping incomplete or corrupt checkpoint: {problem}"))
    if loaded is None and run.has_checkpoint_files():
        # Every problem again, though each was printed as it was found: the output may not
        # have been shown (a quiet notebook driver, a log that keeps stderr only).
        raise CheckpointError(
            f"{run.checkpoints} holds checkpoint files but none is complete; refusing to start "
            "over them (move them away to start a fresh run): " + summarize_problems(problems))
    if loaded is None:
        say("Starting fresh training (no checkpoint found)")
        return RunHistory(), problems
    say(f"Resuming from checkpoint: {loaded.info.policy_path}")
    history = restore(loaded, game, config, solver, say)
    say(f"Successfully resumed from iteration {solver.iteration}")
    return history, problems


class _Chunk:
    """One chunk in progress: the solver, the plan it follows and what it has written."""

    def __init__(self, *, run: RunDir, game: Game, spec: GameSpec, config: MCCFRConfig,
                 solver: Solver, history: RunHistory, clock: Callable[[], float],
                 started: float, say: _Printer, tensorboard: bool, extra: dict[str, Any],
                 skipped: tuple[str, ...]) -> None:
        self.run, self.game, self.spec, self.config = run, game, spec, config
        self.solver, self.history, self.clock, self.started = solver, history, clock, started
        self.say, self.extra, self.skipped = say, extra, skipped
        self.start_iteration = solver.iteration
        self.start_compute = solver.compute_seconds
        self.plan = ChunkPlan.for_chunk(config, self.start_iteration, history.previous_elapsed)
        self.small_game = game.name in ("kuhn", "leduc")
        self.last_checkpoint: CheckpointInfo | None = history.checkpoint
        self.last_snapshot_clock = clock()
        self.measured: tuple[int, float] | None = None  # (iteration, exact exploitability)
        self.logged_exploitability = -1  # the iteration whose exploitability was last logged
        # (iteration, compute seconds) at the last logged rate: the rate is over the interval.
        self.rate_mark = (solver.iteration, solver.compute_seconds)
        self.regret_scan = (0.0, 0.0)  # when the last regret scan started, and its seconds
        # The first batch of a process includes numba's compilation (or cache loading), and
        # Hold'em's matches run at the chunk's end: both are recorded apart from training.
        self.first_batch_seconds: float | None = None
        self.evaluation_seconds = 0.0
        # Steps up to the checkpoint's iteration were logged before it was written and stay;
        # any later step comes from a chunk that died after its last checkpoint and is purged.
        self.scalars = ScalarLog(
            run.tensorboard, purge_step=self.start_iteration + 1 if self.start_iteration else 0,
            chunk_index=history.chunk_index, enabled=tensorboard)

    def seconds(self) -> float:
        """Seconds since the chunk started."""
        return self.clock() - self.started

    # Training ----------------------------------------------------------------------------

    def every(self, interval: int | None) -> int | None:
        """An interval of the config as the engine can keep it: rounded up to whole batches
        of the sharded engine (the tables exist only at batch boundaries)."""
        if not interval:
            return None
        batch = self.solver.batch_iterations
        return -(-interval // batch) * batch

    def due(self, interval: int | None) -> bool:
        """Whether something every `interval` iterations is due at the current iteration."""
        every = self.every(interval)
        return every is not None and self.solver.iteration % every == 0

    def stop_points(self) -> list[int]:
        """Intervals at which a batch must end: something is due there."""
        config = self.config
        intervals = [config.tensorboard_log_interval if self.scalars.enabled else None,
                     config.checkpoint_interval,
                     config.exploitability_interval if self.small_game else None]
        return [every for every in map(self.every, intervals) if every]

    def train(self, progress: bool, should_stop: Callable[[], bool] | None,
              graceful: GracefulStop | None) -> tuple[ChunkStatus, str]:
        """Train in batches until the plan or a stop request ends the chunk; batches grow or
        shrink so that each takes a fraction of a second."""
        solver, config, plan = self.solver, self.config, self.plan
        bar = _progress_bar(progress, self.start_iteration, plan.iteration_end)
        stop_points = self.stop_points()
        batch = 64
        try:
            while True:
                target = min((solver.iteration + p - solver.iteration % p for p in stop_points),
                             default=solver.iteration + batch)
                if plan.iteration_end is not None:
                    target = min(target, plan.iteration_end)
                before = self.clock()
                step = solver.run(min(batch, target - solver.iteration))
                spent = self.clock() - before
                if self.first_batch_seconds is None:
                    self.first_batch_seconds = spent
                if spent < 0.25 and batch < 1 << 22:
                    batch *= 2
                elif spent > 1.0 and batch > 1:
                    batch //= 2
                if bar is not None:
                    bar.update(step)
                    _aim_at_time_limit(bar, plan, self.seconds())
                self.log_scalars()
                done = plan.why_complete(solver.iteration,
                                         plan.previous_elapsed + self.seconds())
                if done is not None:
                    return ChunkStatus.COMPLETE, done
                ends = plan.why_chunk_ends(solver.iteration, self.seconds())
                if ends is not None:
                    return ChunkStatus.CHUNK_DONE, ends
                if should_stop is not None and should_stop():
                    return ChunkStatus.STOPPED, self.stop_reason(graceful)
                if self.due(config.checkpoint_interval):
                    self.save("interval")
                elif (config.snapshot_interval_seconds is not None and self.clock()
                      - self.last_snapshot_clock >= config.snapshot_interval_seconds):
                    self.save("snapshot")
        finally:
            if bar is not None:
                bar.close()

    def stop_reason(self, graceful: GracefulStop | None) -> str:
        """Why a stop request ended the chunk; a signal is recorded in the metadata too."""
        if graceful is None or graceful.signal_name is None:
            return "Stop requested"
        last = self.last_checkpoint
        if last is not None and last.iteration == self.solver.iteration:
            # The signal came after the checkpoint was written and before another iteration
            # ran: that checkpoint already holds this exact state and is not rewritten.
            return (f"Stopped by {graceful.signal_name} right after the checkpoint at "
                    f"iteration {last.iteration}, which holds this state")
        self.extra["stop"] = {"signal": graceful.signal_name,
                              "signal_iteration": graceful.signal_iteration,
                              "iteration": self.solver.iteration}
        return (f"Stopped by {graceful.signal_name} during iteration "
                f"{(graceful.signal_iteration or 0) + 1}; checkpointing at "
                f"iteration {self.solver.iteration}")

    # Measuring ---------------------------------------------------------------------------

    def exploitability_now(self) -> float:
        """The current average policy's exact exploitability, computed once per iteration
        (a checkpoint and a logged step may fall on the same one)."""
        if self.measured is None or self.measured[0] != self.solver.iteration:
            self.measured = (self.solver.iteration,
                             exploitability(self.game, self.solver.average_policy()))
        return self.measured[1]

    def log_scalars(self) -> None:
        """Log the scalars due at the current iteration, if any."""
        solver, config = self.solver, self.config
        values: dict[str, float] = {}
        if self.small_game and self.due(config.exploitability_interval):
            values["exploitability"] = self.exploitability_now()
            self.logged_exploitability = solver.iteration
        if self.scalars.enabled and self.due(config.tensorboard_log_interval):
            # Over the interval since the last logged rate, not since the run began: a running
            # average hides a slowdown and climbs all run as the compilation time is diluted.
            iterations = solver.iteration - self.rate_mark[0]
            seconds = solver.compute_seconds - self.rate_mark[1]
            self.rate_mark = (solver.iteration, solver.compute_seconds)
            stats = solver.statistics()
            values.update({
                "train/iterations_per_second": iterations / seconds if seconds > 0 else 0.0,
                "train/epsilon": solver.epsilon(),
                "train/discount_steps": float(solver.discount_steps),
                "train/pruned_share": stats["pruned_iterations"] / max(solver.iteration, 1),
                "train/elapsed_seconds": self.plan.previous_elapsed + self.seconds(),
                "memory/peak_rss_mb": peak_rss_bytes() / 2**20,
            })
            last_started, last_spent = self.regret_scan
            if solver.regrets.nbytes <= REGRET_SCALARS_MAX_BYTES and (
                    last_spent < REGRET_SCAN_FREE
                    or self.clock() - last_started >= last_spent / REGRET_SCAN_SHARE):
                started = self.clock()
                for name, value in average_regret_by_round(self.game, solver).items():
                    values[f"regret/average_{name}"] = value
                self.regret_scan = (started, self.clock() - started)
            values.update(discount_factors(config, solver.discount_steps))
        if values:
            self.scalars.scalars(solver.iteration, values)

    def evaluate(self) -> None:
        """Hold'em: the blueprint against each baseline in a duplicate match (heads-up, or one
        blueprint seat against the baseline in every other seat, every seat rotation on the same
        cards), and, heads-up, local best response against it (fixed seeds, so every chunk is
        measured on the same deals and chunk-to-chunk differences are paired)."""
        game, config = self.game, self.config
        if game.name != "holdem":
            return
        policy = evaluation_policy(self.solver)
        if config.evaluation_deal_pairs >= 2:
            self.play_matches(policy)
        if game.num_players == 2 and config.lbr_hands >= 2 and not game.tree.dead_money:
            self.measure_lbr(policy)

    def play_matches(self, policy: PolicyTables) -> None:
        from holdem_lab.eval.match import play_match, play_multiway_match

        # The solver's kernel arrays are the game's: building another copy walks the whole
        # tree again.
        results: dict[str, dict[str, float]] = {}
        seats: dict[str, dict[str, dict[str, float]]] = {}
        for baseline in EVALUATION_BASELINES:
            if self.game.num_players == 2:
                match = play_match(self.game, policy, baseline,
                                   deal_pairs=self.config.evaluation_deal_pairs,
                                   seed=self.config.seed, arrays=self.solver.arrays)
                self.say(match.summary())
                results[baseline] = {"mbb_per_hand": match.mbb_per_hand,
                                     "ci95_mbb": match.ci95_mbb,
                                     "deal_pairs": float(match.deal_pairs)}
                continue
            multiway = play_multiway_match(self.game, policy, baseline,
                                           deals=self.config.evaluation_deal_pairs,
                                           seed=self.config.seed, arrays=self.solver.arrays)
            self.say(multiway.summary())
            # Same keys as heads-up, so every reader of `evaluation` plots multiway runs too.
            results[baseline] = {"mbb_per_hand": multiway.mbb_per_hand,
                                 "ci95_mbb": multiway.ci95_mbb,
                                 "deal_pairs": float(multiway.deals)}
            seats[baseline] = {seat.position: {"mbb_per_hand": seat.mbb_per_hand,
                                               "ci95_mbb": seat.ci95_mbb}
                               for seat in multiway.seats}
        self.extra["evaluation"] = results
        if seats:
            self.extra["evaluation_seats"] = seats
        self.scalars.scalars(self.solver.iteration, {
            f"eval/mbb_vs_{name}": result["mbb_per_hand"] for name, result in results.items()})

    def measure_lbr(self, policy: PolicyTables) -> None:
        from holdem_lab.eval.lbr import local_best_response, make_deals

        result = local_best_response(self.game, policy,
                                     deals=make_deals(self.config.lbr_hands, self.config.seed))
        self.say(result.summary())
        self.extra["lbr"] = result.as_dict()
        self.scalars.scalars(self.solver.iteration, {"eval/lbr_mbb": result.mbb_per_hand,
                                                     "eval/lbr_ci95_mbb": result.ci95_mbb})

    # Writing -----------------------------------------------------------------------------

    def save(self, within_chunk: str | None = None) -> None:
        """Write a checkpoint; ``within_chunk`` names why one is written before the chunk's end
        (the end-of-chunk line is the guide's, word for word)."""
        solver = self.solver
        note = f" ({within_chunk})" if within_chunk else ""
        self.say(f"Saving checkpoint at iteration {solver.iteration}...{note}")
        # Exact and cheap for Kuhn and Leduc: every such checkpoint records and logs its own.
        measured = self.exploitability_now() if self.small_game else None
        if measured is not None and self.logged_exploitability != solver.iteration:
            self.scalars.scalars(solver.iteration, {"exploitability": measured})
            self.logged_exploitability = solver.iteration
        self.scalars.flush()
        state = solver.state_dict()
        paths = write_checkpoint(
            self.run.checkpoints, solver.iteration,
            policy={"average_policy": streamed_average_policy(solver)},
            state={name: state[name] for name in STATE_ARRAYS},
            metadata=checkpoint_metadata(
                self.game, solver, self.config, self.spec, self.history,
                start_iteration=self.start_iteration, chunk_elapsed=self.seconds(),
                exploitability=measured, extra=self.extra))
        self.say("Checkpoint saved successfully")
        if measured is not None:
            self.say(f"Exploitability at iteration {solver.iteration}: {measured:.6g} (exact)")
        self.last_checkpoint = paths.info
        self.last_snapshot_clock = self.clock()

    def finish(self, status: ChunkStatus, reason: str, keep_last: int | None) -> ChunkResult:
        """Evaluate, write the chunk's last checkpoint (unless one was just written), flush,
        apply retention and report."""
        self.say(reason)
        evaluation_started = self.clock()
        self.evaluate()
        self.evaluation_seconds = self.clock() - evaluation_started
        last = self.last_checkpoint
        if last is None or last.iteration != self.solver.iteration:
            record = chunk_record(self.history, self.start_iteration, self.solver,
                                  self.start_compute, self.seconds())
            record["first_batch_seconds"] = self.first_batch_seconds or 0.0
            record["evaluation_seconds"] = self.evaluation_seconds
            self.history.chunks.append(record)
            self.save()
        self.say("Flushing TensorBoard logs...")
        self.scalars.close()
        if keep_last is not None:
            for removed in prune_checkpoints(self.run.checkpoints, keep_last):
                self.say(f"Removed old checkpoint {removed.stem} (keep last {keep_last})")
        if status is ChunkStatus.COMPLETE:
            self.say("Training complete")
        elif status is ChunkStatus.STOPPED:
            self.say("Chunk stopped early by request - Process will now exit")
        else:
            self.say("Chunk Complete - Process will now exit to free memory")
        self.say(f"Progress: iteration {self.solver.iteration}")
        if status is not ChunkStatus.COMPLETE:
            self.say("Restart this command to continue training from checkpoint")
        return self.result(status, reason)

    def result(self, status: ChunkStatus, reason: str, *,
               already_complete: bool = False) -> ChunkResult:
        """The chunk's outcome; a run found complete before training reports its last chunk."""
        last = self.last_checkpoint
        seconds = 0.0 if already_complete else self.seconds()
        return ChunkResult(
            status=status, iteration=self.solver.iteration, start_iteration=self.start_iteration,
            checkpoint=last.policy_path if last is not None else None,
            elapsed_seconds=self.plan.previous_elapsed + seconds, chunk_seconds=seconds,
            chunk_index=self.history.chunk_index - (1 if already_complete else 0),
            reason=reason, skipped=self.skipped,
            training_seconds=self.solver.compute_seconds - self.start_compute)


def _checkpoint_bytes(solver: Solver) -> int:
    """The payload bytes of one checkpoint: the average policy and the state arrays, stored
    uncompressed."""
    return solver.regrets.nbytes + sum(solver.state_dict()[name].nbytes
                                       for name in STATE_ARRAYS)


def _progress_bar(enabled: bool, start: int, end: int | None) -> Any:
    if not enabled:
        return None
    from tqdm.auto import tqdm

    total = None if end is None else end - start
    return tqdm(total=total, unit="it", unit_scale=True, desc="MCCFR", dynamic_ncols=True,
                mininterval=0.5)


def _aim_at_time_limit(bar: Any, plan: ChunkPlan, seconds: float) -> None:
    """With a time limit, the bar's total becomes the iterations the chunk will reach at its
    speed so far when that limit comes first, so that the bar fills and its remaining time is
    the chunk's, not that of an iteration total it will never reach."""
    limit = plan.seconds_end
    if limit is None or seconds <= 0.0 or bar.n <= 0:
        return
    reachable = bar.n + int(bar.n / seconds * max(limit - seconds, 0.0))
    end = plan.iteration_end
    bar.total = reachable if end is None else min(reachable, end - plan.start_iteration)
    # A notebook's bar is a widget (description, bar, text) whose length was fixed at creation.
    widgets = getattr(getattr(bar, "container", None), "children", None)
    if widgets is not None and len(widgets) == 3:
        widgets[1].max = bar.total


def latest_checkpoint(logdir: str | os.PathLike[str]) -> CheckpointInfo | None:
    """The newest complete checkpoint of a run, or None."""
    return RunDir(logdir).latest_complete()
