"""The MCCFR solver: dense tables, its random streams, and the config that drives the kernels.

`Solver(game, config)` owns `regrets` (num_rows, max_actions, of `config.table_dtype`) and
`strategy_sum` (float64, the rows of the rounds whose average is kept: `config.average_rounds`),
`iteration` (t_global: iterations completed) and `discount_steps`. Discounting is lazy: the
tables hold values divided by the discount factors of the current window (`table_scale()`; the
policies need no conversion, `true_regrets()` gives regrets in chips). Two engines train them
(`engine: auto`, the default, picks one from the game's size: `resolve_engine`):

- `sharded`: batches of `batch_iterations` iterations, each cut into `shards`
  shards with counter-based random streams keyed by (seed, batch, shard), run on `workers`
  numba threads against the tables as they were at the batch start, and merged in shard order
  (holdem_lab.solver.batches). The tables are the same bit for bit for any number of workers,
  and a run stops only on batch boundaries.
- `sequential`: one counter stream keyed by `config.seed` (holdem_lab.games.streams; runs
  started with a `numpy.random.Generator` continue with it), regrets updated after every
  iteration, one core (holdem_lab.solver.kernels).

`run(n)` performs at least n more iterations (whole batches). The whole state is
`state_dict()`; `load_state_dict()` restores it exactly, so a run split at any stop continues
bit for bit.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import numba
import numpy as np

from holdem_lab.config import MAX_BATCH_ITERATIONS, MCCFRConfig
from holdem_lab.errors import ConfigError, GameError
from holdem_lab.games.game import Game, GameArrays, node_table_bytes_for
from holdem_lab.games.streams import (
    LEGACY_SEQUENTIAL_STREAM,
    SEQUENTIAL_STREAM,
    STREAM_SCHEME,
    CounterStream,
)
from holdem_lab.solver import batches, kernels

if TYPE_CHECKING:  # imported when a run names a cluster: it imports Ray
    from holdem_lab.solver.cluster import ClusterEngine

DISCOUNT_CODES = {"none": kernels.DISCOUNT_NONE, "linear": kernels.DISCOUNT_LINEAR,
                   "dcfr": kernels.DISCOUNT_DCFR}
_SAMPLING_CODES = {"external": kernels.SAMPLING_EXTERNAL, "outcome": kernels.SAMPLING_OUTCOME}
STAT_NAMES = ("nodes_visited", "pruned_iterations", "pruned_actions", "traversals")

MAX_SHARDS = 32
"""Shards per batch the automatic rule gives a large game (the most workers it can keep busy)."""
MAX_BATCH = 512
"""Iterations per batch the automatic rule gives a large game: a batch's update logs then stay
in the cache, which makes the merge cheaper than for larger batches."""


def batch_sizes(num_rows: int) -> tuple[int, int]:
    """The sharded engine's (batch_iterations, shards) for a game with `num_rows` infosets.

    Iterations within a batch all play the strategy of its start, which costs accuracy once a
    batch is large next to the number of infosets; a batch must also hold enough work per shard
    to repay starting it. The rule keeps the batch at about a sixteenth of the infosets, between
    16 and MAX_BATCH iterations, and cuts it into shards of at least two iterations, at most
    MAX_SHARDS of them (bench/bench_parallel.py measures the trade-off)."""
    batch = 16
    while batch * 2 <= min(num_rows // 16, MAX_BATCH):
        batch *= 2
    return batch, min(MAX_SHARDS, batch // 2)


AUTO_SHARDED_ROWS = 10_000
"""Infosets from which `engine: auto` chooses the sharded engine."""


def resolve_engine(engine: str, num_rows: int) -> str:
    """The engine `engine` names for a game of `num_rows` infosets. `auto` is sharded from
    AUTO_SHARDED_ROWS infosets: below that even the smallest batch that repays its start
    delays updates enough to cost accuracy (Leduc's 288 infosets: batches of 16 iterations end
    10M iterations 13% above the sequential engine's exploitability without discounting), and one
    core already runs such a game at over a million iterations per second."""
    if engine == "auto":
        return "sharded" if num_rows >= AUTO_SHARDED_ROWS else "sequential"
    return engine


def available_cores() -> int:
    """Cores this process may use: its CPU affinity, and no more than a Slurm job's
    SLURM_CPUS_PER_TASK (clusters that do not bind cores leave the whole node in the
    affinity)."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        cores = os.cpu_count() or 1
    slurm = os.environ.get("SLURM_CPUS_PER_TASK", "")
    if slurm.isdigit() and int(slurm) > 0:
        cores = min(cores, int(slurm))
    return cores


def resolve_workers(requested: int | None) -> int:
    """The worker threads a solver uses: `requested`, or every core the process may use; more
    than numba's thread pool (NUMBA_NUM_THREADS) is refused with the way to get more."""
    limit = int(numba.config.NUMBA_NUM_THREADS)  # type: ignore[attr-defined]
    if requested is None:
        return max(1, min(available_cores(), limit))
    if requested > limit:
        raise ConfigError("num_workers", requested,
                          f"numba's thread pool has {limit} threads in this process: set the "
                          f"environment variable NUMBA_NUM_THREADS={requested} before starting "
                          "it")
    return requested


class Solver:
    """Monte Carlo CFR over a Game, configured by an MCCFRConfig."""

    def __init__(self, game: Game, config: MCCFRConfig | None = None) -> None:
        config = config or MCCFRConfig(num_players=game.num_players)
        if config.num_players != game.num_players:
            raise ConfigError("num_players", config.num_players,
                              f"the game {game.name!r} has {game.num_players} players")
        self.game = game
        self.config = config
        if game.max_actions > kernels.MAX_ACTIONS:
            raise GameError(f"the game has nodes with {game.max_actions} actions; the training "
                            f"kernel supports at most {kernels.MAX_ACTIONS} per node")
        self._sum_shift, sum_rows = strategy_layout(game, config.average_rounds)
        check_memory(game, table_dtype=config.table_dtype, strategy_rows=sum_rows)
        self._arrays = game.arrays()
        self.table_dtype = np.dtype(config.table_dtype)
        self.regrets = np.zeros((game.num_rows, game.max_actions), dtype=self.table_dtype)
        # Strategy sums stay float64: a frequently visited row's sum grows with the iterations,
        # and float32 would round away every contribution below 2^-24 of it.
        self.strategy_sum = np.zeros((sum_rows, game.max_actions), dtype=np.float64)
        # The sharded engine's shards key their own streams; its Generator is only recorded.
        self.rng: np.random.Generator | CounterStream = np.random.default_rng(config.seed)
        self.iteration = 0
        self._discount = np.zeros(2, dtype=np.int64)
        self._scale = np.ones(kernels.NUM_SCALES)
        self.stats = np.zeros(kernels.NUM_STATS, dtype=np.int64)
        self.compute_seconds = 0.0
        self.control = np.zeros(2, dtype=np.int64)
        self.interruptible = False
        self._kernel_thread: _KernelThread | None = None
        schedule = config.epsilon_schedule
        self._schedule_iterations = np.array([s[0] for s in schedule], dtype=np.int64)
        self._schedule_values = np.array([s[1] for s in schedule], dtype=np.float64)
        self._iparams, self._fparams = _parameters(config)
        self.engine = resolve_engine(config.engine, game.num_rows)
        self.workers = 1
        self.batch_iterations = 1
        self.shards = 1
        if self.engine == "sequential":
            self.rng = CounterStream(config.seed)
        if self.engine == "sharded":
            auto_batch, auto_shards = batch_sizes(game.num_rows)
            self.batch_iterations = config.batch_iterations or auto_batch
            self.shards = config.shards or (
                auto_shards if config.batch_iterations is None
                else _divisor_at_most(self.batch_iterations, MAX_SHARDS))
            if self.batch_iterations % self.shards:
                source = "" if config.batch_iterations else \
                    " (the automatic batch for this game: set --batch-iterations too)"
                raise ConfigError("batch_iterations", self.batch_iterations,
                                  f"must be a multiple of shards ({self.shards}){source}",
                                  related=("shards",))
            self.workers = resolve_workers(config.num_workers)
        elif config.ray_address is not None:
            raise ConfigError("ray_address", config.ray_address,
                              f"a Ray cluster runs the sharded engine, and engine "
                              f"{config.engine!r} is sequential for {game.name}: set engine: "
                              "sharded", related=("engine",))
        self._cluster: ClusterEngine | None = None
        self._state_token = 0  # changes whenever a state is loaded (replicas must reload)
        self._log_capacity = 0
        self._log_rows = np.zeros((0, 0, 0), dtype=np.int64)
        self._log_values = np.zeros((0, 0, 0, 0))
        self._log_counts, self._shard_stats = _shard_counters(self.shards)

    # ------------------------------------------------------------------ training

    def run(self, iterations: int) -> int:
        """Perform `iterations` more MCCFR iterations, rounded up to whole batches (see
        `batch_iterations`); returns how many were performed (fewer only when `request_stop`
        was called meanwhile)."""
        if isinstance(iterations, bool) or not isinstance(iterations, int | np.integer) \
                or iterations < 0:
            raise ValueError(f"iterations={iterations!r} must be a non-negative integer")
        if iterations == 0 or self.control[0] != 0:
            return 0
        started = time.perf_counter()
        self.control[1] = self.iteration
        if self.engine == "sharded" and self.config.ray_address is not None:
            self.cluster().connect()  # in this thread: Ray's set-up expects the main thread
        if self.engine == "sharded":
            job: Callable[[], int] = lambda: self._run_batches(  # noqa: E731
                -(-int(iterations) // self.batch_iterations))
        else:
            rng = self.rng.counter if isinstance(self.rng, CounterStream) else self.rng
            args = (self._arrays, self.regrets, self.strategy_sum, self._sum_shift, rng,
                    self.iteration + 1,
                    int(iterations), self._iparams, self._fparams, self._schedule_iterations,
                    self._schedule_values, self._discount, self._scale, self.stats, self.control)
            job = lambda: int(kernels.run_iterations(*args))  # noqa: E731
        # Interruptible: the kernel runs without the GIL in a worker thread, so that the main
        # thread stays free to run signal handlers (which call request_stop). The thread is
        # kept between calls: starting one costs about a millisecond, as much as a thousand
        # Leduc iterations.
        if self.interruptible:
            self._worker().run(job)
        else:
            job()
        done = int(self.control[1]) - self.iteration
        self.iteration = int(self.control[1])
        self.compute_seconds += time.perf_counter() - started
        return done

    @property
    def discount_steps(self) -> int:
        """Discount steps taken so far."""
        return int(self._discount[kernels.D_STEPS])

    @property
    def discount_window_start(self) -> int:
        """The discount step the tables' current scale starts from (lazy discounting)."""
        return int(self._discount[kernels.D_WINDOW_START])

    def table_scale(self) -> dict[str, float]:
        """What the stored tables are multiplied by to give true values: positive regrets,
        negative regrets and strategy sums (1.0 each without discounting)."""
        return {"regret_positive": float(self._scale[kernels.SCALE_POSITIVE]),
                "regret_negative": float(self._scale[kernels.SCALE_NEGATIVE]),
                "strategy": float(self._scale[kernels.SCALE_STRATEGY])}

    def true_regrets(self, rows: slice | None = None) -> np.ndarray:
        """Regrets (of `rows`, default all) in chips: the stored values times their scale."""
        block = self.regrets[rows if rows is not None else slice(None)]
        scale = self.table_scale()
        return np.where(block > 0.0, block * scale["regret_positive"],
                        block * scale["regret_negative"])

    def _run_batches(self, count: int) -> int:
        """Run `count` batches of the sharded engine (in the calling thread, whose numba thread
        count it sets); returns the discount steps so far."""
        if self.iteration % self.batch_iterations:
            raise ValueError(f"iteration {self.iteration} is not on a batch boundary "
                             f"(batches of {self.batch_iterations})")
        if self.config.ray_address is not None:
            return self.cluster().run_batches(self, count)
        numba.set_num_threads(self.workers)
        # Shards differ in work (their deals differ): hand them out one at a time, so a worker
        # that finishes early takes the next instead of idling at the end of the batch.
        numba.set_parallel_chunksize(1)
        first = self.iteration + 1
        while count > 0:
            if self._log_capacity == 0:
                # A first guess from the batch; logs that overflow grow and rerun their batch.
                self._grow_logs(8 * (self.batch_iterations // self.shards))
            done, needed = batches.run_batches(
                self._arrays, self.regrets, self.strategy_sum, self._sum_shift, self.config.seed,
                first, count,
                self.batch_iterations // self.shards, self._iparams, self._fparams,
                self._schedule_iterations, self._schedule_values, self._discount, self._scale,
                self.stats,
                self._shard_stats, self.control, self._log_rows, self._log_values,
                self._log_counts)
            count -= done
            first += done * self.batch_iterations
            if needed:
                self._grow_logs(needed + needed // 4)
            elif count > 0:  # stopped by request_stop
                break
        return self.discount_steps

    def cluster(self) -> ClusterEngine:
        """The engine that runs this solver's batches on the Ray cluster `config.ray_address`
        (made on first use)."""
        if self._cluster is None:
            from holdem_lab.solver.cluster import ClusterEngine

            assert self.config.ray_address is not None
            self._cluster = ClusterEngine(self.config.ray_address)
        return self._cluster

    def cluster_info(self) -> dict[str, Any] | None:
        """The Ray cluster that trained this solver's last batches (its nodes, their platform,
        the shards each ran), or None on one machine."""
        if self._cluster is None or not self._cluster.nodes:
            return None
        return self._cluster.describe()

    def _adopt_replica(self, tables: dict[str, Any]) -> None:
        """Take over a cluster replica's state at the end of a run (the iteration comes through
        `control`, as from the local kernels)."""
        np.copyto(self.regrets, tables["regrets"])
        np.copyto(self.strategy_sum, tables["strategy_sum"])
        np.copyto(self.stats, tables["stats"])
        np.copyto(self._discount, tables["discount"])
        np.copyto(self._scale, tables["scale"])

    def _grow_logs(self, capacity: int) -> None:
        self._log_capacity = capacity
        shape = (self.shards, batches.LOG_PARTS, capacity)
        self._log_rows = np.zeros(shape, dtype=np.int64)
        self._log_values = np.zeros((*shape, self.game.max_actions))

    @property
    def buffer_bytes(self) -> int:
        """Bytes the sharded engine's update logs hold now (they grow to the largest batch's
        need and stay there)."""
        return int(self._log_rows.nbytes + self._log_values.nbytes)

    def adopt_engine(self, record: dict[str, Any]) -> None:
        """Take the engine a checkpoint records (`engine_info()`) instead of the one the config
        left to the rules, so that `engine: auto` continues a run with the engine, batch and
        shards it was started with, whatever the rules of this version would pick now."""
        name = record.get("name")
        seed = self.config.seed
        if name == "sequential":
            streams = record.get("streams")
            if streams == SEQUENTIAL_STREAM:
                self.rng = CounterStream(seed)
            elif streams == LEGACY_SEQUENTIAL_STREAM:
                self.rng = np.random.default_rng(seed)
            else:
                raise ValueError(f"engine record {record!r} names no known random stream")
            self.engine, self.batch_iterations, self.shards, self.workers = \
                "sequential", 1, 1, 1
        elif name == "sharded":
            batch, shards = record.get("batch_iterations"), record.get("shards")
            if not (isinstance(batch, int) and isinstance(shards, int) and 0 < shards <= batch
                    and batch <= MAX_BATCH_ITERATIONS and batch % shards == 0):
                raise ValueError(f"engine record {record!r} has no valid batch and shards")
            self.engine, self.batch_iterations, self.shards = "sharded", batch, shards
            self.workers = resolve_workers(self.config.num_workers)
            self.rng = np.random.default_rng(seed)
        else:
            raise ValueError(f"engine record {record!r} names no engine")
        self._log_capacity = 0
        self._log_counts, self._shard_stats = _shard_counters(self.shards)
        if self._cluster is not None:
            self._cluster.stop()  # its actors hold the shards of the engine it had

    def engine_info(self) -> dict[str, Any]:
        """What a checkpoint records of the engine: part of the run's identity."""
        if self.engine == "sequential":
            return {"name": "sequential", "streams": SEQUENTIAL_STREAM
                    if isinstance(self.rng, CounterStream) else LEGACY_SEQUENTIAL_STREAM}
        return {"name": "sharded", "batch_iterations": self.batch_iterations,
                "shards": self.shards, "streams": STREAM_SCHEME}

    def __del__(self) -> None:
        thread = getattr(self, "_kernel_thread", None)
        if thread is not None:
            thread.close()

    def _worker(self) -> _KernelThread:
        if self._kernel_thread is None:
            self._kernel_thread = _KernelThread()
        return self._kernel_thread

    def request_stop(self) -> None:
        """Stop the running (and any later) `run` after the iteration in progress. Safe to call
        from a signal handler."""
        self.control[0] = 1

    @property
    def stop_requested(self) -> bool:
        return bool(self.control[0])

    @property
    def iterations_completed_now(self) -> int:
        """The last completed iteration, also while `run` is in progress."""
        return int(self.control[1])

    # ------------------------------------------------------------------ policies

    def current_policy(self) -> np.ndarray:
        """Regret-matching strategy of every infoset row (uniform where no regret is positive)."""
        return _normalise(_positive(self.regrets), self.game.row_action_mask())

    def average_policy(self) -> np.ndarray:
        """The average strategy (normalised strategy sums; uniform for rows never reached). This
        is the policy that converges to equilibrium. On rounds whose average is not kept
        (`average_rounds`), the current strategy."""
        mask = self.game.row_action_mask()
        if self.strategy_sum.shape[0] == self.regrets.shape[0]:
            return _normalise(self.strategy_sum, mask)
        return np.concatenate([block for block in self.policy_blocks(mask)])

    def policy_blocks(self, mask: np.ndarray, block_rows: int | None = None
                      ) -> Iterator[np.ndarray]:
        """`average_policy()` as consecutive blocks of at most `block_rows` rows (the same bits:
        the normalisation is row by row), `mask` being the game's `row_action_mask()`."""
        rows = self.regrets.shape[0]
        step = block_rows or rows
        if self.strategy_sum.shape[0] == rows:
            for start in range(0, rows, step):
                yield _normalise(self.strategy_sum[start:start + step], mask[start:start + step])
            return
        assert self.game.row_groups is not None  # a layout with fewer rows needs groups
        for group, (first, end) in zip(self._sum_shift.ravel(),
                                       self.game.row_groups.reshape(-1, 2), strict=True):
            for start in range(int(first), int(end), step):
                stop = min(start + step, int(end))
                if group >= 0:
                    weights = self.strategy_sum[start - group:stop - group]
                else:
                    weights = _positive(self.regrets[start:stop])
                yield _normalise(weights, mask[start:stop])

    def epsilon(self) -> float:
        """Outcome-sampling exploration in force for the next iteration."""
        return self.config.epsilon_at(self.iteration + 1)

    # ------------------------------------------------------------------ state

    @property
    def sum_shift(self) -> np.ndarray:
        """Per (player, round), the shift from an infoset row to its strategy-sum row, -1 where
        the round keeps no sums (`strategy_layout`)."""
        return self._sum_shift

    @property
    def arrays(self) -> GameArrays:
        """The game's kernel arrays this solver built (building them again costs seconds on a
        large tree: evaluation reuses these)."""
        return self._arrays

    def state_dict(self) -> dict[str, Any]:
        """Everything needed to continue exactly: arrays and JSON-ready scalars."""
        return {
            "regrets": self.regrets,
            "strategy_sum": self.strategy_sum,
            "stats": self.stats,
            "iteration": self.iteration,
            "discount_steps": self.discount_steps,
            "discount_window_start": self.discount_window_start,
            "rng_state": self.rng_state(),
            "epsilon": self.epsilon(),
            "compute_seconds": self.compute_seconds,
        }

    def load_state_dict(self, state: dict[str, Any], *, copy: bool = True) -> None:
        """Restore a state produced by `state_dict`. The arrays are copied unless `copy` is
        False, when the solver takes over arrays that are C-ordered, writable, own their memory
        (no views, no memory maps) and do not overlap (the caller must not use them
        afterwards): a resume then holds each table once, not twice."""
        iteration = int(state["iteration"])
        if iteration % self.batch_iterations:
            raise ValueError(f"iteration {iteration} is not on a batch boundary of this "
                             f"engine (batches of {self.batch_iterations} iterations)")
        tables: list[np.ndarray] = []
        for name, table in (("regrets", self.regrets), ("strategy_sum", self.strategy_sum)):
            shape, dtype = table.shape, table.dtype
            array = np.asarray(state[name])
            if array.shape != shape or array.dtype != dtype:
                raise ValueError(f"{name}: shape {array.shape} dtype {array.dtype}, "
                                 f"expected {shape} {dtype}")
            flags = array.flags
            if copy or not (flags.c_contiguous and flags.writeable and flags.owndata) \
                    or any(np.shares_memory(array, other) for other in tables):
                array = np.array(array, dtype=dtype, order="C", copy=True)
            tables.append(array)
        self.regrets, self.strategy_sum = tables
        self._state_token += 1
        self.stats = np.array(state.get("stats", np.zeros(kernels.NUM_STATS)), dtype=np.int64)
        self.iteration = iteration
        steps = int(state["discount_steps"])
        # States from before lazy discounting hold true values: a window starting now.
        window = int(state.get("discount_window_start", steps))
        if not 0 <= window <= steps or steps - window > kernels.WINDOW_STEPS:
            raise ValueError(f"discount_window_start {window} is not within the "
                             f"{kernels.WINDOW_STEPS} steps up to discount_steps {steps}")
        self._discount[:] = (steps, window)
        self._scale = kernels.window_scale(
            int(self._iparams[kernels.I_DISCOUNT_MODE]), window, steps,
            *(float(self._fparams[i]) for i in (kernels.F_ALPHA, kernels.F_BETA,
                                                 kernels.F_GAMMA)))
        self.compute_seconds = float(state.get("compute_seconds", 0.0))
        rng_state = state["rng_state"]
        if isinstance(self.rng, CounterStream):
            self.rng.state = rng_state
            return
        if rng_state.get("bit_generator") != type(self.rng.bit_generator).__name__:
            raise ValueError(f"rng_state is for {rng_state.get('bit_generator')!r}, "
                             f"expected {type(self.rng.bit_generator).__name__!r}")
        self.rng.bit_generator.state = rng_state

    def rng_state(self) -> dict[str, Any]:
        """The random stream's whole state, as a checkpoint stores it (`load_state_dict`
        restores it): a numpy bit generator's, or the sequential counter's in the same shape."""
        if isinstance(self.rng, CounterStream):
            return self.rng.state
        return dict(self.rng.bit_generator.state)

    def statistics(self) -> dict[str, int]:
        return {name: int(v) for name, v in zip(STAT_NAMES, self.stats, strict=True)}


class _KernelThread:
    """A daemon thread that runs the training calls handed to it, one at a time,
    while the calling thread waits in short timed waits (during which Python runs signal
    handlers)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._job = threading.Condition(self._lock)
        self._done = threading.Event()
        self._args: Callable[[], int] | None = None
        self._result: int | None = None
        self._error: BaseException | None = None
        self._closed = False
        self._thread = threading.Thread(target=self._serve, name="mccfr", daemon=True)
        self._thread.start()

    def run(self, job: Callable[[], int]) -> int:
        with self._job:
            self._args, self._result, self._error = job, None, None
            self._done.clear()
            self._job.notify()
        while not self._done.wait(0.05):
            if not self._thread.is_alive():  # pragma: no cover - the loop below never exits
                raise RuntimeError("the training thread died")
        error, self._error = self._error, None
        if error is not None:
            raise RuntimeError("the training kernel failed") from error
        assert self._result is not None
        return self._result

    def close(self) -> None:
        """Let the thread end once it is idle (it holds no reference to the solver's tables
        between calls)."""
        with self._job:
            self._closed = True
            self._job.notify()

    def _serve(self) -> None:
        while True:
            with self._job:
                while self._args is None and not self._closed:
                    self._job.wait()
                if self._args is None:
                    return
                args, self._args = self._args, None
            try:
                self._result = int(args())
            except BaseException as exc:  # reported to the caller by run()
                self._error = exc
            del args  # the tables belong to the solver, not to an idle thread
            self._done.set()


def memory_needed(game: Game, table_dtype: str = "float64",
                  strategy_rows: int | None = None) -> int:
    """Bytes a chunk of this game holds at its peak: regrets (`table_dtype`, rows x actions)
    and float64 strategy sums (on `strategy_rows` rows, default all), or the float64 average
    policy a resume reads and checks before it reads them, if that is more (float32 regrets
    with sums on few rounds); the row action mask a checkpoint normalises the average policy
    with (it streams the policy itself; evaluation reads the tables in place); and the game's
    tables."""
    return solver_bytes(num_rows=game.num_rows, max_actions=game.max_actions,
                        num_nodes=game.tree.num_nodes, num_players=game.num_players,
                        bucket_table_bytes=int(game.holdem_bucket_tables.nbytes),
                        table_itemsize=np.dtype(table_dtype).itemsize,
                        strategy_rows=strategy_rows)


def solver_bytes(*, num_rows: int, max_actions: int, num_nodes: int, num_players: int,
                 bucket_table_bytes: int, table_itemsize: int = 8,
                 strategy_rows: int | None = None) -> int:
    """`memory_needed` from the sizes alone (a game sized before it is built): regrets of
    `table_itemsize`-byte entries and float64 strategy sums on `strategy_rows` rows (or a
    resume's float64 policy, if larger), a one-byte action mask of the regrets' shape, the
    tree's per-node arrays and labels, the kernels' node table and the bucket tables."""
    table = num_rows * max_actions * table_itemsize
    sums = (num_rows if strategy_rows is None else strategy_rows) * max_actions * 8
    # A resume reads the policy payload (to check it) and drops it before the tables arrive.
    policy = num_rows * max_actions * 8
    mask = num_rows * max_actions
    # Per node: children int32, action kinds int8 and amounts float64 per action;
    # contributions float64 and folded flags per player; parent int32; player, round, terminal
    # kind and action count int8; at most one decision index, row offset, row stride and
    # kernel row int64 each; the label.
    per_node = max_actions * (4 + 1 + 8) + num_players * (8 + 1) + 4 + 4 + 4 * 8 + _LABEL_BYTES
    tree = num_nodes * per_node + node_table_bytes_for(num_nodes, max_actions, num_players)
    return max(table + sums, policy) + mask + tree + bucket_table_bytes


# A node's label is a Python str of a few dozen characters (49 bytes of header) in a tuple.
_LABEL_BYTES = 96


def check_memory(game: Game, available: int | None = None, table_dtype: str = "float64",
                 strategy_rows: int | None = None) -> int:
    """Refuse a game whose solver would not fit in the memory available now, with the figure."""
    needed = memory_needed(game, table_dtype, strategy_rows)
    if available is None:
        import psutil

        available = int(psutil.virtual_memory().available)
    if needed > available:
        raise ConfigError("game", game.name,
                          f"needs {needed / 2**30:.2f} GiB for {game.num_rows:,} infosets x "
                          f"{game.max_actions} actions but only {available / 2**30:.2f} GiB "
                          "is available: use fewer buckets, bet sizes or players"
                          + (", or table_dtype float32" if table_dtype == "float64" else ""))
    return needed


def strategy_layout(game: Game, average_rounds: tuple[int, ...] | None
                    ) -> tuple[np.ndarray, int]:
    """Where strategy sums live: per (player, round), the shift from an infoset row to its row
    of the strategy-sum table (-1: the round keeps none), and that table's row count. With
    every round averaged the two tables share rows. Otherwise the kept (player, round) groups
    of rows are packed in row order (Hold'em's rows are grouped so)."""
    shift = np.zeros((game.num_players, game.tree.num_rounds), dtype=np.int64)
    if average_rounds is None:
        return shift, game.num_rows
    if game.row_groups is None:
        raise ConfigError("average_rounds", list(average_rounds),
                          f"needs a Hold'em game ({game.name} keeps every round's average)")
    if max(average_rounds) >= game.tree.num_rounds:
        raise ConfigError("average_rounds", list(average_rounds),
                          f"the game has rounds 0 .. {game.tree.num_rounds - 1}")
    kept = 0
    for player in range(game.num_players):
        for rnd in range(game.tree.num_rounds):
            first, end = (int(v) for v in game.row_groups[player, rnd])
            if rnd in average_rounds:
                shift[player, rnd] = first - kept
                kept += end - first
            else:
                shift[player, rnd] = -1
    return shift, kept


def _parameters(config: MCCFRConfig) -> tuple[np.ndarray, np.ndarray]:
    """The config as the integer and float vectors the kernels read."""
    iparams = np.zeros(kernels.NUM_IPARAMS, dtype=np.int64)
    fparams = np.zeros(kernels.NUM_FPARAMS, dtype=np.float64)
    iparams[kernels.I_SAMPLING] = _SAMPLING_CODES[config.sampling]
    iparams[kernels.I_DISCOUNT_MODE] = DISCOUNT_CODES[config.discount_mode]
    iparams[kernels.I_DISCOUNT_INTERVAL] = config.discount_interval
    iparams[kernels.I_DISCOUNT_STOP] = config.discount_stop_iteration or 0
    iparams[kernels.I_PRUNING] = int(config.enable_pruning)
    iparams[kernels.I_PRUNE_WARMUP] = config.prune_warmup_iterations
    iparams[kernels.I_USE_FLOOR] = int(config.regret_floor is not None)
    fparams[kernels.F_EPSILON] = config.exploration_epsilon
    fparams[kernels.F_ALPHA] = config.dcfr_alpha
    fparams[kernels.F_BETA] = config.dcfr_beta
    fparams[kernels.F_GAMMA] = config.dcfr_gamma
    fparams[kernels.F_PRUNE_THRESHOLD] = config.prune_threshold
    fparams[kernels.F_PRUNE_PROBABILITY] = config.prune_probability
    fparams[kernels.F_REGRET_FLOOR] = config.regret_floor if config.regret_floor is not None \
        else 0.0
    fparams[kernels.F_SCALE_FLOOR] = kernels.SCALE_FLOORS[config.table_dtype]
    return iparams, fparams


def _shard_counters(shards: int) -> tuple[np.ndarray, np.ndarray]:
    """Each shard's log-part counts and statistics, padded to whole cache lines: the shards
    that run at once update them constantly and must not share a line."""
    line = 64 // np.dtype(np.int64).itemsize
    counts = np.zeros((shards, -(-batches.LOG_PARTS // line) * line + line), dtype=np.int64)
    stats = np.zeros((shards, -(-kernels.NUM_STATS // line) * line), dtype=np.int64)
    return counts, stats


def _divisor_at_most(number: int, limit: int) -> int:
    """The largest divisor of `number` that is at most `limit`."""
    return max(d for d in range(1, min(number, limit) + 1) if number % d == 0)


def _positive(regrets: np.ndarray) -> np.ndarray:
    """The positive parts of regrets as float64, so that float32 regrets are normalised in
    float64 as the evaluation kernels read them (holdem_lab.eval.agents.policy_probability)."""
    return np.maximum(regrets, 0.0, dtype=np.float64)


def _normalise(weights: np.ndarray, mask: np.ndarray) -> np.ndarray:
    weights = np.where(mask, weights, 0.0)
    totals = weights.sum(axis=1, keepdims=True)
    counts = mask.sum(axis=1, keepdims=True)
    uniform = np.where(mask, 1.0 / np.maximum(counts, 1), 0.0)
    safe = np.where(totals > 0.0, totals, 1.0)
    return np.where(totals > 0.0, weights / safe, uniform)
