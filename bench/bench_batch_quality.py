"""What a batch costs in accuracy: Leduc exploitability after the same number of iterations for
the sharded engine with several batch sizes, against the sequential engine, median over seeds.
Iteration counts, not time: the figures do not depend on the machine or on its load.

    python -m bench.bench_batch_quality [--iterations 1e6 1e7] [--seeds 5]
        [--discount none dcfr] [--batches 16 64 256 1024]

Each batch size runs with 8 shards (16 iterations: 8 shards of 2), so the shard count does not
confound the batch size; the worker count cannot change any figure.
"""

from __future__ import annotations

import argparse
import statistics
from typing import Any

from holdem_lab import MCCFRConfig, Solver, exploitability, load_game


def _exploitability(config: MCCFRConfig, iterations: int) -> float:
    game = load_game("leduc")
    solver = Solver(game, config)
    solver.run(iterations)
    return exploitability(game, solver.average_policy())


def run(iterations: tuple[int, ...] = (1_000_000,), seeds: int = 5,
        discounts: tuple[str, ...] = ("none", "dcfr"),
        batches: tuple[int, ...] = (16, 64, 256)) -> dict[str, Any]:
    figures: dict[str, Any] = {}
    for mode in discounts:
        for count in iterations:
            row: dict[str, Any] = {}
            base = MCCFRConfig(discount_mode=mode, num_workers=1)  # type: ignore[arg-type]
            sequential = [_exploitability(base.replace(engine="sequential", seed=seed), count)
                          for seed in range(seeds)]
            row["sequential"] = statistics.median(sequential)
            for batch in batches:
                values = [_exploitability(base.replace(engine="sharded", seed=seed,
                                                       batch_iterations=batch, shards=8),
                                          count) for seed in range(seeds)]
                row[f"batch_{batch}"] = statistics.median(values)
                row[f"batch_{batch}_ratio"] = row[f"batch_{batch}"] / row["sequential"]
            figures[f"{mode}@{count}"] = row
    return figures


def print_table(figures: dict[str, Any]) -> None:
    print("Leduc exploitability, median over seeds (ratio to the sequential engine)")
    for key, row in figures.items():
        cells = [f"sequential {row['sequential']:.5f}"]
        cells += [f"batch {name.split('_')[1]}: {value:.5f} ({row[name + '_ratio']:.2f}x)"
                  for name, value in row.items()
                  if name.startswith("batch_") and not name.endswith("_ratio")]
        print(f"  {key:16} " + ", ".join(cells))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--iterations", type=float, nargs="+", default=[1e6])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--discount", nargs="+", default=["none", "dcfr"])
    parser.add_argument("--batches", type=int, nargs="+", default=[16, 64, 256])
    args = parser.parse_args()
    print_table(run(tuple(int(i) for i in args.iterations), args.seeds, tuple(args.discount),
                    tuple(args.batches)))


if __name__ == "__main__":
    main()
