"""``holdem-lab size CONFIG``: how big a run's game is before anything is built.

Hold'em trees are counted, not built (holdem_lab.games.betting.holdem_tree_size), so a game far
too large to train is sized in the time the count takes; Kuhn and Leduc are built (they are
tiny). Memory comes from the same formula as the solver's own check and the ``#SBATCH`` lines
from the same sizing as ``holdem-train-blueprint --print-sbatch``.

Speed is measured, not estimated (``--measure SECONDS``): the game is built and trained for
that long with the config's engine and workers. A node visit costs several times more once the
tables outgrow the caches, so no formula from the sizes alone would say what a run will do.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from holdem_lab.cli.sbatch import (
    CPUS_PER_TASK,
    SHARDED_CPUS_PER_TASK,
    bucket_file_bytes,
    resource_lines,
)
from holdem_lab.config import GameSpec, MCCFRConfig
from holdem_lab.games.betting import DEFAULT_MAX_NODES
from holdem_lab.solver.solver import resolve_engine, solver_bytes

TABLE_DTYPES: tuple[np.dtype[np.floating], ...] = (np.dtype(np.float64), np.dtype(np.float32))
"""The dtypes the solver's tables can be held in (one column each in the report)."""


@dataclass(frozen=True, kw_only=True)
class GameSizing:
    """A game's size: nodes by kind, infosets, widest node, bucket tables, and for Hold'em the
    rounds and menu entries the infosets come from."""

    game: str
    num_players: int
    nodes: int
    decision: int
    fold_terminal: int
    showdown_terminal: int
    max_actions: int
    infosets: int
    num_buckets: tuple[int, ...]
    bucket_table_bytes: int
    breakdown: str | None = None
    infosets_by_round: tuple[int, ...] = ()

    def solver_bytes(self, dtype: np.dtype[np.floating] = TABLE_DTYPES[0],
                     average_rounds: tuple[int, ...] | None = None) -> int:
        """What a Solver of this game holds with its tables in `dtype` and strategy sums on
        `average_rounds` (None: every round)."""
        rows = None if average_rounds is None else \
            sum(self.infosets_by_round[r] for r in set(average_rounds))
        return solver_bytes(num_rows=self.infosets, max_actions=self.max_actions,
                            num_nodes=self.nodes, num_players=self.num_players,
                            bucket_table_bytes=self.bucket_table_bytes,
                            table_itemsize=dtype.itemsize, strategy_rows=rows)


def size_game(spec: GameSpec) -> GameSizing:
    """The size of the game `spec` names (Hold'em counted without building its tree)."""
    if spec.game != "holdem":
        from holdem_lab.games import build_game

        game = build_game(spec)
        counts = game.tree.counts()
        decision = np.asarray(game.tree.decision_nodes, dtype=np.int64)
        rounds = game.tree.round[decision].astype(np.int64)
        return GameSizing(game=spec.game, num_players=game.num_players, nodes=counts["nodes"],
                          decision=counts["decision"], fold_terminal=counts["fold_terminal"],
                          showdown_terminal=counts["showdown_terminal"],
                          max_actions=game.max_actions, infosets=game.num_rows,
                          num_buckets=tuple(game.num_buckets), bucket_table_bytes=0,
                          infosets_by_round=tuple(
                              int((rounds == r).sum()) * int(game.num_buckets[r])
                              for r in range(game.tree.num_rounds)))
    from holdem_lab.games.holdem import holdem_size

    params = dict(spec.game_params)
    if spec.buckets is not None:
        params["buckets"] = spec.buckets
    try:
        size = holdem_size(**params)
    except TypeError as exc:
        from holdem_lab.errors import GameError

        raise GameError(f"holdem: invalid parameters {params!r}: {exc}") from None
    tree = size.tree
    return GameSizing(game="holdem", num_players=tree.num_players, nodes=tree.nodes,
                      decision=tree.decision, fold_terminal=tree.fold_terminal,
                      showdown_terminal=tree.showdown_terminal, max_actions=tree.max_actions,
                      infosets=size.infosets, num_buckets=size.num_buckets,
                      bucket_table_bytes=size.bucket_table_bytes,
                      breakdown=tree.breakdown(size.num_buckets),
                      infosets_by_round=tuple(d * int(b) for d, b in zip(
                          tree.decision_by_round, size.num_buckets, strict=True)))


def _bytes(count: int) -> str:
    for unit, scale in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if count >= scale:
            return f"{count / scale:,.2f} {unit}"
    return f"{count} B"


def size_lines(spec: GameSpec, table_dtype: str = "float64",
               average_rounds: tuple[int, ...] | None = None) -> list[str]:
    """The report of ``holdem-lab size``; the ``#SBATCH --mem`` line is for `table_dtype`,
    the config's, and memory counts strategy sums on the config's `average_rounds`."""
    size = size_game(spec)
    lines = [
        f"game: {size.game}, {size.num_players} players",
        f"nodes: {size.nodes:,} ({size.decision:,} decision, {size.fold_terminal:,} fold, "
        f"{size.showdown_terminal:,} showdown), at most {size.max_actions} actions per node",
        f"infosets: {size.infosets:,} (buckets per round: "
        f"{'/'.join(str(b) for b in size.num_buckets)})",
    ]
    if size.breakdown is not None:
        lines.append(size.breakdown)
    kept = "" if average_rounds is None else \
        f"; strategy sums on rounds {', '.join(map(str, sorted(set(average_rounds))))} only"
    lines.append("memory at a chunk's peak (solver tables, action mask, tree and buckets"
                 f"{kept}), by table dtype:")
    lines += [f"  {dtype.name:<8} {_bytes(size.solver_bytes(dtype, average_rounds))}"
              + ("  (this config's table_dtype)" if dtype.name == table_dtype else "")
              for dtype in TABLE_DTYPES]
    if size.game == "holdem" and size.nodes > DEFAULT_MAX_NODES:
        lines.append(f"over max_nodes={DEFAULT_MAX_NODES:,}: training refuses this game")
    # The default engine's CPUs (a config's --workers would replace them).
    cpus = CPUS_PER_TASK if resolve_engine("auto", size.infosets) == "sequential" \
        else SHARDED_CPUS_PER_TASK
    lines += resource_lines(size.solver_bytes(np.dtype(table_dtype), average_rounds),
                            bucket_file_bytes(spec),
                            cpus)
    return lines


def measured_speed_lines(spec: GameSpec, config: MCCFRConfig, seconds: float,
                         workers: int | None = None) -> list[str]:
    """Build the game, train it for `seconds` (after a warm-up that loads the kernels and
    touches the tables) with the config's engine and `workers` (default: the config's), and
    say what speed it reached. The speed of the first iterations: it changes as the regrets
    grow and the sampled paths narrow, and with pruning."""
    from holdem_lab.games import build_game
    from holdem_lab.solver.solver import Solver, check_memory, strategy_layout

    game = build_game(spec)
    check_memory(game, table_dtype=config.table_dtype,
                 strategy_rows=strategy_layout(game, config.average_rounds)[1])
    settings = config.replace(num_workers=workers or config.num_workers, ray_address=None)
    solver = Solver(game, settings)
    amount = solver.batch_iterations if solver.engine == "sharded" else 64
    started = time.perf_counter()
    while time.perf_counter() - started < min(2.0, seconds):  # warm-up, not timed
        solver.run(amount)
    first, nodes = solver.iteration, solver.statistics()["nodes_visited"]
    started = time.perf_counter()
    while (spent := time.perf_counter() - started) < seconds:
        before = time.perf_counter()
        solver.run(amount)
        if time.perf_counter() - before < 0.1:
            amount *= 2
    iterations = solver.iteration - first
    visits = solver.statistics()["nodes_visited"] - nodes
    rate = iterations / spent
    engine = f"{solver.engine} engine, {solver.workers} worker" \
        + ("s" if solver.workers != 1 else "")
    return [f"speed measured over {spent:.1f} s ({engine}, after a warm-up): "
            f"{rate:,.0f} iterations/s, {visits / spent / 1e6:,.1f}M node visits/s; "
            f"an hour is about {rate * 3600 / 1e6:,.1f}M iterations at this speed, which is "
            "that of the start of training (it changes as the strategy narrows, and with "
            "pruning)"]
