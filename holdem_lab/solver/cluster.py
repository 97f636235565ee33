"""The sharded engine on a Ray cluster: the same batches, their shards run on many machines.

One actor per node (`Replica`, all of the node's CPUs, numba threads inside) holds a private,
mutable replica of the game and the tables, initialised once from the object store. The shards
of a batch are cut into one contiguous range per actor, in proportion to its CPUs (the result
depends only on the shard order, never on who ran a shard). Per batch every actor runs its
shards against its replica and returns their logs packed (`batches.pack_logs`: the entries
without the logs' spare capacity, row codes as int32, trailing zeros dropped); every actor
then merges all the logs in shard order (`batches.merge_batch`, the kernel the local engine
runs), so the replicas stay identical to
each other and to a single-process run bit for bit. One call per batch does both: the merge of
batch k and the shards of batch k+1, and the chunk process keeps the next call queued while it
waits for the last, so an actor only waits for the others' logs, never for the chunk process.

The chunk process (the Ray driver) keeps the state every `Solver.run` starts from: when the run
returns it copies the tables from one replica, so checkpoints and evaluation see a normal
Solver. A lost actor (its process or node died) makes the run start again from that state on
new actors (on the nodes still alive), which ends identical since the run is deterministic; a
batch that does not finish within `batch_timeout` seconds, or a cluster that cannot be reached,
is a ClusterError (exit code 9), after which the next chunk resumes from the last checkpoint.

Ray is imported here only: a run that never names a cluster never imports it.
"""

from __future__ import annotations

import hashlib
import logging
import os
import signal
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from holdem_lab.errors import ClusterError
from holdem_lab.solver import batches, kernels

if TYPE_CHECKING:
    from holdem_lab.games.game import Game
    from holdem_lab.solver.solver import Solver

BATCH_TIMEOUT_SECONDS = 900.0
"""How long the chunk process waits for one batch (the first includes the actors' start and
numba's compilation or cache loading) before it gives up with a ClusterError."""
MAX_RECOVERIES = 3
"""Lost actors a single `run` recovers from before it gives up."""
KEPT_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGUSR1)
"""Signals whose handlers (a chunk's graceful stop) survive joining the cluster."""


def assign_shards(shards: int, cpus: list[int]) -> list[tuple[int, int]]:
    """Contiguous (first shard, count) ranges, one per node in order, in proportion to the
    nodes' CPUs (largest remainders first); a node may get none when shards are fewer than
    nodes."""
    total = sum(cpus)
    if shards < 1 or not cpus or min(cpus) < 1:
        raise ValueError(f"cannot assign {shards} shards to nodes with {cpus} CPUs")
    exact = [shards * c / total for c in cpus]
    counts = [int(e) for e in exact]
    by_remainder = sorted(range(len(cpus)), key=lambda i: (counts[i] - exact[i], i))
    for i in by_remainder[:shards - sum(counts)]:
        counts[i] += 1
    ranges, first = [], 0
    for count in counts:
        ranges.append((first, count))
        first += count
    return ranges


def node_platform() -> dict[str, str]:
    """What a node's bits depend on: numba, llvmlite and numpy versions and numba's CPU target
    (NUMBA_CPU_NAME pins it on mixed clusters, e.g. `generic`)."""
    import llvmlite
    import llvmlite.binding as llvm
    import numba

    cpu = os.environ.get("NUMBA_CPU_NAME") or llvm.get_host_cpu_name()
    features = os.environ.get("NUMBA_CPU_FEATURES") or (
        "" if os.environ.get("NUMBA_CPU_NAME") else llvm.get_host_cpu_features().flatten())
    return {"numba": numba.__version__, "llvmlite": llvmlite.__version__,
            "numpy": np.__version__, "cpu_target": cpu,
            # The feature list is long: its digest says whether two nodes share it.
            "cpu_features": hashlib.sha256(features.encode()).hexdigest()[:16]}


class Replica:
    """One node's replica (run as a Ray actor): the solver state, the logs of every shard of a
    batch, and the range of shards this node runs."""

    def __init__(self, game: Game, config: Any, engine: dict[str, Any], state: dict[str, Any],
                 first_shard: int, num_shards: int, threads: int) -> None:
        import numba

        from holdem_lab.solver.solver import Solver

        threads = max(1, min(threads, int(numba.config.NUMBA_NUM_THREADS)))  # type: ignore[attr-defined]
        solver = Solver(game, config.replace(ray_address=None, num_workers=threads))
        solver.adopt_engine(engine)
        solver.load_state_dict(state)
        self.solver = solver
        self.first_shard, self.num_shards = first_shard, num_shards
        self.threads = threads
        self.capacity = 0
        shards = solver.shards
        self.log_counts = np.zeros((shards, batches.LOG_PARTS), dtype=np.int64)
        self.shard_stats = np.zeros((shards, kernels.NUM_STATS), dtype=np.int64)
        self.log_rows = np.zeros((shards, batches.LOG_PARTS, 0), dtype=np.int64)
        self.log_values = np.zeros((shards, batches.LOG_PARTS, 0, game.max_actions))
        self.pending: int | None = None  # the batch (first iteration) whose shards ran last
        # Row codes (2 * row + table) travel as int32 when every code fits.
        largest = 2 * max(solver.regrets.shape[0], solver.strategy_sum.shape[0]) + 1
        self.code_type = np.zeros(0, dtype=np.int32 if largest < 2**31 else np.int64)
        self.control = np.zeros(2, dtype=np.int64)

    def platform(self) -> dict[str, str]:
        return {**node_platform(), "pid": str(os.getpid())}

    def step(self, next_t0: int | None, *packs: Any) -> tuple[dict[str, float], Any]:
        """Merge the pending batch (every actor's packed logs, in actor order; None stands for
        this actor's own, which are in place), then run this node's shards of the batch that
        starts at `next_t0`, if any. Returns (a summary, this node's packed logs)."""
        import numba

        numba.set_num_threads(self.threads)
        numba.set_parallel_chunksize(1)
        merged = 0
        clock = [time.perf_counter()]
        if self.pending is not None:
            merged = self._merge(self.pending, packs)
            self.pending = None
        clock.append(time.perf_counter())
        packed: Any = None
        if next_t0 is not None:
            self._run_shards(next_t0)
            clock.append(time.perf_counter())
            self.pending = next_t0
            packed = batches.pack_logs(self.first_shard, self.num_shards, self.shard_stats,
                                       self.log_rows, self.log_values, self.log_counts,
                                       self.code_type)
        clock += [time.perf_counter()] * (4 - len(clock))
        packed_bytes = 0 if packed is None else sum(int(a.nbytes) for a in packed)
        return {"merged_through": merged, "packed_bytes": packed_bytes,
                "merge_seconds": clock[1] - clock[0], "shard_seconds": clock[2] - clock[1],
                "pack_seconds": clock[3] - clock[2]}, packed

    def tables(self) -> dict[str, Any]:
        """The replica's state, for the chunk process to take over."""
        solver = self.solver
        return {"regrets": solver.regrets, "strategy_sum": solver.strategy_sum,
                "stats": solver.stats, "iteration": solver.iteration,
                "discount": solver._discount, "scale": solver._scale}

    def _run_shards(self, t0: int) -> None:
        solver = self.solver
        if self.capacity == 0:
            self._grow(8 * (solver.batch_iterations // solver.shards))
        while True:
            needed = batches.run_shards(
                solver.arrays, solver.regrets, solver.strategy_sum, solver._sum_shift,
                solver.config.seed, t0, solver.batch_iterations, self.first_shard,
                self.num_shards, solver._iparams, solver._fparams, solver._schedule_iterations,
                solver._schedule_values, solver._discount, solver._scale, self.shard_stats,
                self.control, self.log_rows, self.log_values, self.log_counts)
            if needed <= self.capacity:
                return
            self._grow(needed + needed // 4)  # and run the shards again, to the same logs

    def _merge(self, t0: int, packs: tuple[Any, ...]) -> int:
        solver = self.solver
        first = 0
        for pack in packs:
            if pack is None:  # this actor's own logs, in place
                first += self.num_shards
                continue
            counts, codes, lengths, values, stats = pack
            if counts.size and int(counts.max()) > self.capacity:
                self._grow(int(counts.max()))
            batches.unpack_logs(first, counts, codes, lengths, values, stats, self.shard_stats,
                                self.log_rows, self.log_values, self.log_counts)
            first += counts.shape[0]
        if first != solver.shards:
            raise RuntimeError(f"the logs of {first} shards arrived, expected {solver.shards}")
        t1 = int(batches.merge_batch(solver.regrets, solver.strategy_sum, t0,
                                     solver.batch_iterations, solver._iparams, solver._fparams,
                                     solver._discount, solver._scale, solver.stats,
                                     self.shard_stats, self.log_rows, self.log_values,
                                     self.log_counts))
        solver.iteration = t1
        return t1

    def _grow(self, capacity: int) -> None:
        """Larger logs, keeping the entries already in them (this node's shards of a batch not
        yet merged)."""
        shards, parts, old, width = self.log_values.shape
        rows = np.zeros((shards, parts, capacity), dtype=np.int64)
        values = np.zeros((shards, parts, capacity, width))
        keep = min(old, capacity)
        rows[:, :, :keep] = self.log_rows[:, :, :keep]
        values[:, :, :keep] = self.log_values[:, :, :keep]
        self.log_rows, self.log_values, self.capacity = rows, values, capacity


@dataclass
class ClusterEngine:
    """The chunk process's side: connects to the cluster at `address`, starts the actors and
    runs batches through them for one Solver."""

    address: str
    batch_timeout: float = BATCH_TIMEOUT_SECONDS
    actors: list[Any] = field(default_factory=list)
    ranges: list[tuple[int, int]] = field(default_factory=list)
    nodes: list[dict[str, Any]] = field(default_factory=list)
    recoveries: int = 0
    bytes_per_batch: float = 0.0
    timing: dict[str, float] = field(default_factory=dict)
    """Totals for benchmarks: batches, the slowest actor's merge, shard and pack seconds per
    call, and the seconds spent fetching the tables."""
    _synced: tuple[int, int] | None = None  # the solver state the replicas hold (`_key`)

    def connect(self) -> None:
        """Join the cluster as its driver (once per process)."""
        import ray

        if ray.is_initialized():
            return
        # Ray's driver installs a fatal-signal handler for SIGTERM that would end the chunk
        # without its checkpoint: the handlers in place before go back once it is connected.
        # A signal that arrives meanwhile is held until they are back (blocked, not lost).
        main = threading.current_thread() is threading.main_thread()
        handlers = {sig: signal.getsignal(sig) for sig in KEPT_SIGNALS} if main else {}
        if main:
            signal.pthread_sigmask(signal.SIG_BLOCK, KEPT_SIGNALS)
        try:
            ray.init(address=self.address, logging_level=logging.ERROR, log_to_driver=False,
                     configure_logging=False)
        except Exception as exc:  # Ray raises ConnectionError, RuntimeError, ValueError...
            raise ClusterError(f"cannot connect to the Ray cluster at {self.address}: "
                               f"{type(exc).__name__}: {exc}".splitlines()[0]) from None
        finally:
            for sig, handler in handlers.items():
                if handler is not None:
                    signal.signal(sig, handler)
            if main:
                signal.pthread_sigmask(signal.SIG_UNBLOCK, KEPT_SIGNALS)

    def describe(self) -> dict[str, Any]:
        """What a checkpoint records of the cluster that trained the chunk."""
        return {"address": self.address, "recoveries": self.recoveries,
                "nodes": [{"node_ip": n["ip"], "cpus": n["cpus"], "shards": list(r),
                           **n["platform"]} for n, r in zip(self.nodes, self.ranges,
                                                          strict=True)]}

    # Actors ------------------------------------------------------------------------------

    def start(self, solver: Solver) -> None:
        """One actor per alive node with CPUs, each given its range of shards and initialised
        from the solver's state through the object store."""
        import ray
        from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

        self.stop()
        alive = [n for n in ray.nodes()
                 if n.get("Alive") and float(n.get("Resources", {}).get("CPU", 0)) >= 1]
        if not alive:
            raise ClusterError(f"the Ray cluster at {self.address} has no node with a CPU")
        alive.sort(key=lambda n: (n["NodeManagerAddress"], n["NodeID"]))
        cpus = [int(float(n["Resources"]["CPU"])) for n in alive]
        ranges = assign_shards(solver.shards, cpus)
        chosen = [(n, c, r) for n, c, r in zip(alive, cpus, ranges, strict=True) if r[1] > 0]
        game_ref = ray.put(solver.game)
        state_ref = ray.put(solver.state_dict())
        remote = ray.remote(Replica)
        actors = []
        for node, count, (first, shards) in chosen:
            actors.append(remote.options(
                num_cpus=count, max_restarts=0, max_task_retries=0,
                scheduling_strategy=NodeAffinitySchedulingStrategy(node["NodeID"], soft=False),
            ).remote(game_ref, solver.config, solver.engine_info(), state_ref, first, shards,
                     count))
        self.actors = actors
        self.ranges = [r for _, _, r in chosen]
        platforms = self._get([a.platform.remote() for a in actors])  # type: ignore[attr-defined]
        self.nodes = [{"ip": n["NodeManagerAddress"], "cpus": c, "platform": p}
                      for (n, c, _), p in zip(chosen, platforms, strict=True)]
        keys = ("numba", "llvmlite", "numpy", "cpu_target", "cpu_features")
        if len({tuple(p[k] for k in keys) for p in platforms}) > 1:
            differ = sorted({f"{p['cpu_target']} (numba {p['numba']}, numpy {p['numpy']})"
                             for p in platforms})
            self.stop()
            raise ClusterError("the nodes differ in numba/numpy versions or CPU target ("
                               + "; ".join(differ) + "): install the same versions and set "
                               "NUMBA_CPU_NAME=generic on every node for identical results")
        self._synced = self._key(solver)

    def _start_checked(self, solver: Solver) -> None:
        """`start`, any failure of which but a lost actor is the cluster's (exit code 9)."""
        import ray.exceptions

        try:
            self.start(solver)
        except (ClusterError, ray.exceptions.GetTimeoutError, ray.exceptions.RayActorError):
            raise
        except Exception as exc:  # the head or the connection is gone: Ray raises many kinds
            self.actors = []
            raise ClusterError(f"cannot start actors on the cluster at {self.address}: "
                               f"{type(exc).__name__}: {exc}".splitlines()[0]) from None

    def stop(self) -> None:
        """End the actors (the cluster stays up)."""
        import ray

        for actor in self.actors:
            try:
                ray.kill(actor, no_restart=True)
            except Exception:  # an actor that is already gone needs no ending
                continue
        self.actors = []
        self._synced = None

    # Training ----------------------------------------------------------------------------

    def run_batches(self, solver: Solver, count: int) -> int:
        """Run `count` batches of `solver` on the cluster (fewer after `request_stop`) and take
        the replicas' tables over; returns the discount steps so far."""
        import ray.exceptions

        self.connect()
        start_iteration = solver.iteration
        lost = 0
        while True:
            try:
                if self._synced != self._key(solver) or not self.actors:
                    self._start_checked(solver)
                self._train(solver, count)
                self._take_tables(solver)
                return solver.discount_steps
            except ray.exceptions.GetTimeoutError:
                self.stop()
                raise ClusterError(f"a batch did not finish within {self.batch_timeout:.0f} s "
                                   f"on the cluster at {self.address} (a node stalled or the "
                                   "network is down)") from None
            except ray.exceptions.RayError as exc:
                cause = getattr(exc, "cause", None)
                if isinstance(exc, ray.exceptions.RayTaskError) and cause is not None \
                        and not isinstance(cause, ray.exceptions.RayError):
                    self.stop()
                    raise cause from exc  # the actor's code failed: not the cluster's fault
                # A lost actor or node: start again from the state the run started from (the
                # solver's own tables, untouched while the replicas train), on the nodes alive.
                self.stop()
                lost += 1
                self.recoveries += 1
                solver.control[1] = start_iteration
                if lost > MAX_RECOVERIES:
                    raise ClusterError(f"lost actors {lost} times in one run on the cluster at "
                                       f"{self.address}; last: {type(exc).__name__}") from None

    def _train(self, solver: Solver, count: int) -> None:
        """The batches: one call per actor and batch (the merge of the previous batch and the
        shards of the next), the next call queued before the last is awaited; a last call
        merges the last batch. A stop request ends the run after the batch in progress."""
        batch = solver.batch_iterations
        first = solver.iteration + 1
        actors = self.actors
        submitted = 0
        sent = 0
        inflight: deque[list[Any]] = deque()  # per call: each actor's summary ref
        logs: list[Any] = [None] * len(actors)
        while True:
            final = submitted >= count or solver.control[0] != 0
            if final and submitted == 0:
                return
            next_t0 = None if final else first + submitted * batch
            calls = [actor.step.options(num_returns=2).remote(
                next_t0, *[ref if i != j else None for i, ref in enumerate(logs)])
                for j, actor in enumerate(actors)]
            inflight.append([summary for summary, _ in calls])
            logs = [packed for _, packed in calls]
            if not final:
                submitted += 1
            while len(inflight) > (0 if final else 1):
                summaries = self._get(inflight.popleft())
                merged = max(s["merged_through"] for s in summaries)
                if merged:
                    solver.control[1] = merged
                # Each actor's logs go to every other actor.
                sent += sum(s["packed_bytes"] for s in summaries) * (len(actors) - 1)
                for key in ("merge_seconds", "shard_seconds", "pack_seconds"):
                    self.timing[key] = self.timing.get(key, 0.0) + max(s[key] for s in summaries)
                self.timing["batches"] = self.timing.get("batches", 0.0) + (
                    1.0 if merged else 0.0)
            if final:
                break
        self.bytes_per_batch = sent / submitted

    def _take_tables(self, solver: Solver) -> None:
        started = time.perf_counter()
        tables = self._get([self.actors[0].tables.remote()])[0]
        solver._adopt_replica(tables)
        self.timing["fetch_seconds"] = self.timing.get("fetch_seconds", 0.0) \
            + time.perf_counter() - started
        self._synced = (solver._state_token, int(tables["iteration"]))

    @staticmethod
    def _key(solver: Solver) -> tuple[int, int]:
        """Which state a solver holds: replicas made from it hold the same while it matches."""
        return solver._state_token, solver.iteration

    def _get(self, refs: list[Any]) -> list[Any]:
        import ray

        return list(ray.get(refs, timeout=self.batch_timeout))
