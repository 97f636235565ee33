"""The MCCFR solver: dense tables, one explicit RNG, and the config that drives the kernels.

`Solver(game, config)` owns `regrets` and `strategy_sum` (num_rows, max_actions float64 arrays),
`iteration` (t_global: iterations completed), `discount_steps` and a `numpy.random.Generator`
seeded from `config.seed`. `run(n)` performs iterations iteration+1 .. iteration+n. Its whole
state is `state_dict()`; `load_state_dict()` restores it exactly, so a run split anywhere
continues bit for bit.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import numpy as np

from holdem_lab.config import MCCFRConfig
from holdem_lab.errors import ConfigError, GameError
from holdem_lab.games.game import Game, GameArrays, node_table_bytes_for
from holdem_lab.solver import kernels

_DISCOUNT_CODES = {"none": kernels.DISCOUNT_NONE, "linear": kernels.DISCOUNT_LINEAR,
                   "dcfr": kernels.DISCOUNT_DCFR}
_SAMPLING_CODES = {"external": kernels.SAMPLING_EXTERNAL, "outcome": kernels.SAMPLING_OUTCOME}
STAT_NAMES = ("nodes_visited", "pruned_iterations", "pruned_actions", "traversals")


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
        check_memory(game)
        self._arrays = game.arrays()
        shape = (game.num_rows, game.max_actions)
        self.regrets = np.zeros(shape, dtype=np.float64)
        self.strategy_sum = np.zeros(shape, dtype=np.float64)
        self.rng = np.random.default_rng(config.seed)
        self.iteration = 0
        self.discount_steps = 0
        self.stats = np.zeros(kernels.NUM_STATS, dtype=np.int64)
        self.compute_seconds = 0.0
        self.control = np.zeros(2, dtype=np.int64)
        self.interruptible = False
        self._kernel_thread: _KernelThread | None = None
        schedule = config.epsilon_schedule
        self._schedule_iterations = np.array([s[0] for s in schedule], dtype=np.int64)
        self._schedule_values = np.array([s[1] for s in schedule], dtype=np.float64)
        self._iparams, self._fparams = _parameters(config)

    # ------------------------------------------------------------------ training

    def run(self, iterations: int) -> int:
        """Perform `iterations` more MCCFR iterations; returns how many were performed (fewer
        only when `request_stop` was called meanwhile)."""
        if isinstance(iterations, bool) or not isinstance(iterations, int | np.integer) \
                or iterations < 0:
            raise ValueError(f"iterations={iterations!r} must be a non-negative integer")
        if iterations == 0 or self.control[0] != 0:
            return 0
        started = time.perf_counter()
        self.control[1] = self.iteration
        args = (self._arrays, self.regrets, self.strategy_sum, self.rng, self.iteration + 1,
                int(iterations), self._iparams, self._fparams, self._schedule_iterations,
                self._schedule_values, self.discount_steps, self.stats, self.control)
        # Interruptible: the kernel runs without the GIL in a worker thread, so that the main
        # thread stays free to run signal handlers (which call request_stop). The thread is
        # kept between calls: starting one costs about a millisecond, as much as a thousand
        # Leduc iterations.
        steps = self._worker().run(args) if self.interruptible \
            else kernels.run_iterations(*args)
        self.discount_steps = int(steps)
        done = int(self.control[1]) - self.iteration
        self.iteration = int(self.control[1])
        self.compute_seconds += time.perf_counter() - started
        return done

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
        return _normalise(np.maximum(self.regrets, 0.0), self.game.row_action_mask())

    def average_policy(self) -> np.ndarray:
        """The average strategy (normalised strategy sums; uniform for rows never reached). This
        is the policy that converges to equilibrium."""
        return _normalise(self.strategy_sum, self.game.row_action_mask())

    def epsilon(self) -> float:
        """Outcome-sampling exploration in force for the next iteration."""
        return self.config.epsilon_at(self.iteration + 1)

    # ------------------------------------------------------------------ state

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
            "rng_state": self.rng.bit_generator.state,
            "epsilon": self.epsilon(),
            "compute_seconds": self.compute_seconds,
        }

    def load_state_dict(self, state: dict[str, Any], *, copy: bool = True) -> None:
        """Restore a state produced by `state_dict`. The arrays are copied unless `copy` is
        False, when the solver takes over arrays that are C-ordered, writable, own their memory
        (no views, no memory maps) and do not overlap (the caller must not use them
        afterwards): a resume then holds each table once, not twice."""
        shape = (self.game.num_rows, self.game.max_actions)
        tables: list[np.ndarray] = []
        for name in ("regrets", "strategy_sum"):
            array = np.asarray(state[name])
            if array.shape != shape or array.dtype != np.float64:
                raise ValueError(f"{name}: shape {array.shape} dtype {array.dtype}, "
                                 f"expected {shape} float64")
            flags = array.flags
            if copy or not (flags.c_contiguous and flags.writeable and flags.owndata) \
                    or any(np.shares_memory(array, other) for other in tables):
                array = np.array(array, dtype=np.float64, order="C", copy=True)
            tables.append(array)
        self.regrets, self.strategy_sum = tables
        self.stats = np.array(state.get("stats", np.zeros(kernels.NUM_STATS)), dtype=np.int64)
        self.iteration = int(state["iteration"])
        self.discount_steps = int(state["discount_steps"])
        self.compute_seconds = float(state.get("compute_seconds", 0.0))
        rng_state = state["rng_state"]
        if rng_state.get("bit_generator") != type(self.rng.bit_generator).__name__:
            raise ValueError(f"rng_state is for {rng_state.get('bit_generator')!r}, "
                             f"expected {type(self.rng.bit_generator).__name__!r}")
        self.rng.bit_generator.state = rng_state

    def statistics(self) -> dict[str, int]:
        return {name: int(v) for name, v in zip(STAT_NAMES, self.stats, strict=True)}


class _KernelThread:
    """A daemon thread that runs `kernels.run_iterations` calls handed to it, one at a time,
    while the calling thread waits in short timed waits (during which Python runs signal
    handlers)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._job = threading.Condition(self._lock)
        self._done = threading.Event()
        self._args: tuple[Any, ...] | None = None
        self._result: int | None = None
        self._error: BaseException | None = None
        self._closed = False
        self._thread = threading.Thread(target=self._serve, name="mccfr", daemon=True)
        self._thread.start()

    def run(self, args: tuple[Any, ...]) -> int:
        with self._job:
            self._args, self._result, self._error = args, None, None
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
                self._result = int(kernels.run_iterations(*args))
            except BaseException as exc:  # reported to the caller by run()
                self._error = exc
            del args  # the tables belong to the solver, not to an idle thread
            self._done.set()


def memory_needed(game: Game) -> int:
    """Bytes a chunk of this game holds at its peak: regrets and strategy sums (float64, rows x
    actions), the average policy its evaluation holds (a checkpoint streams it instead) with
    the row action mask it is normalised with, and the game's tables."""
    return solver_bytes(num_rows=game.num_rows, max_actions=game.max_actions,
                        num_nodes=game.tree.num_nodes, num_players=game.num_players,
                        bucket_table_bytes=int(game.holdem_bucket_tables.nbytes))


def solver_bytes(*, num_rows: int, max_actions: int, num_nodes: int, num_players: int,
                 bucket_table_bytes: int, table_itemsize: int = 8) -> int:
    """`memory_needed` from the sizes alone (a game sized before it is built): three tables of
    `table_itemsize`-byte entries and a one-byte action mask of the same shape, the tree's
    per-node arrays and labels, the kernels' node table and the bucket tables."""
    table = num_rows * max_actions * table_itemsize
    mask = num_rows * max_actions
    # Per node: children int32, action kinds int8 and amounts float64 per action;
    # contributions float64 and folded flags per player; parent int32; player, round, terminal
    # kind and action count int8; at most one decision index, row offset, row stride and
    # kernel row int64 each; the label.
    per_node = max_actions * (4 + 1 + 8) + num_players * (8 + 1) + 4 + 4 + 4 * 8 + _LABEL_BYTES
    tree = num_nodes * per_node + node_table_bytes_for(num_nodes, max_actions, num_players)
    return 3 * table + mask + tree + bucket_table_bytes


# A node's label is a Python str of a few dozen characters (49 bytes of header) in a tuple.
_LABEL_BYTES = 96


def check_memory(game: Game, available: int | None = None) -> int:
    """Refuse a game whose solver would not fit in the memory available now, with the figure."""
    needed = memory_needed(game)
    if available is None:
        import psutil

        available = int(psutil.virtual_memory().available)
    if needed > available:
        raise ConfigError("game", game.name,
                          f"needs {needed / 2**30:.2f} GiB for {game.num_rows:,} infosets x "
                          f"{game.max_actions} actions but only {available / 2**30:.2f} GiB "
                          "is available: use fewer buckets, bet sizes or players")
    return needed


def _parameters(config: MCCFRConfig) -> tuple[np.ndarray, np.ndarray]:
    """The config as the integer and float vectors the kernels read."""
    iparams = np.zeros(kernels.NUM_IPARAMS, dtype=np.int64)
    fparams = np.zeros(kernels.NUM_FPARAMS, dtype=np.float64)
    iparams[kernels.I_SAMPLING] = _SAMPLING_CODES[config.sampling]
    iparams[kernels.I_DISCOUNT_MODE] = _DISCOUNT_CODES[config.discount_mode]
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
    return iparams, fparams


def _normalise(weights: np.ndarray, mask: np.ndarray) -> np.ndarray:
    weights = np.where(mask, weights, 0.0)
    totals = weights.sum(axis=1, keepdims=True)
    counts = mask.sum(axis=1, keepdims=True)
    uniform = np.where(mask, 1.0 / np.maximum(counts, 1), 0.0)
    safe = np.where(totals > 0.0, totals, 1.0)
    return np.where(totals > 0.0, weights / safe, uniform)
