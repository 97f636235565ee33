"""The engines' speed on trained tables: a checkpoint's regrets and strategy sums are copied into
fresh solvers of each engine and worker count, which then train in turn (interleaved rounds, the
best round kept). Fresh tables understate what a large game costs: untouched pages read as
zeros from one shared page, so the cache misses of a trained run only appear once most rows
have been written.

    python -m bench.bench_trained_engines CONFIG CHECKPOINT [--variants seq,sh2,sh2-128]
        [--seconds 15] [--rounds 2]

CHECKPOINT is a run's `checkpoint_iter….npz` (its `_regrets.npz` holds the tables). Variants:
`seq` the sequential kernel; `shN` the sharded engine on N workers, `shN-B` with batches of B.
Each solver holds a copy of the tables.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from holdem_lab import Solver
from holdem_lab.config import MCCFRConfig, load_run_config
from holdem_lab.games import build_game


def variant_config(config: MCCFRConfig, name: str) -> MCCFRConfig:
    if name == "seq":
        return config.replace(engine="sequential", num_workers=None)
    workers, _, batch = name.removeprefix("sh").partition("-")
    return config.replace(engine="sharded", num_workers=int(workers),
                          batch_iterations=int(batch) if batch else None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("config", type=Path)
    parser.add_argument("checkpoint", type=Path)
    parser.add_argument("--variants", default="seq,sh2")
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    spec, config = load_run_config(args.config)
    game = build_game(spec)
    tables = np.load(args.checkpoint.with_name(args.checkpoint.stem + "_regrets.npz"))
    solvers = {}
    for name in args.variants.split(","):
        solver = Solver(game, variant_config(config, name))
        solver.regrets[:] = tables["regrets"]
        solver.strategy_sum[:] = tables["strategy_sum"]
        solvers[name] = solver
    rates: dict[str, list[tuple[float, float]]] = {name: [] for name in solvers}
    for _ in range(args.rounds):
        for name, solver in solvers.items():
            amount = solver.batch_iterations if solver.engine == "sharded" else 1000
            solver.run(amount)  # the kernels loaded
            first, nodes = solver.iteration, solver.statistics()["nodes_visited"]
            started = time.perf_counter()
            while (spent := time.perf_counter() - started) < args.seconds:
                solver.run(amount)
                amount = min(2 * amount, 1 << 18)
            rates[name].append(((solver.iteration - first) / spent,
                                (solver.statistics()["nodes_visited"] - nodes) / spent))
    print(f"{args.config.name}, tables of {args.checkpoint.name}")
    for name, measured in rates.items():
        best = max(measured)
        print(f"  {name:10} {best[0]:10,.0f} it/s  {best[1] / 1e6:6.2f}M node visits/s  "
              f"(rounds: {', '.join(f'{r:,.0f}' for r, _ in measured)} it/s)")


if __name__ == "__main__":
    main()
