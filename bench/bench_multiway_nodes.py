"""Six-max per-node speed against heads-up with the same bet menu and buckets, measured in the
same run on the sequential kernel (one core, so the engine's parallel scaling does not enter):
node visits/s of holdem_lab/configs/sixmax.yaml's game and of the same game for two players,
interleaved, and their ratio (target: six-max keeps >= 40% of heads-up's per-node speed).

    python -m bench.bench_multiway_nodes [--seconds 20] [--rounds 2] [--table-dtype float32]

Both games use sixmax.yaml's bucket file when it has been built (make buckets), else the
lossless-preflop abstraction; each is warmed up until its strategy has left the uniform start
(the warm-up is not timed). The six-max game needs about 6 GiB.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

from holdem_lab import MCCFRConfig, Solver, load_game
from holdem_lab.config import load_run_config

SIXMAX = Path(__file__).resolve().parents[1] / "holdem_lab/configs/sixmax.yaml"


def _games() -> tuple[Any, Any, str]:
    spec, _ = load_run_config(SIXMAX)
    params = dict(spec.game_params)
    buckets: dict[str, Any] = {}
    source = "lossless preflop, one bucket postflop"
    if spec.buckets and Path(spec.buckets).exists():
        buckets, source = {"buckets": spec.buckets}, "sixmax.yaml's bucket file"
    six = load_game("holdem", **buckets, **params)
    params["num_players"] = 2
    two = load_game("holdem", **buckets, **params)
    return six, two, source


def _nodes_per_second(solver: Solver, seconds: float) -> float:
    nodes = solver.statistics()["nodes_visited"]
    started = time.perf_counter()
    amount = 1000
    while time.perf_counter() - started < seconds:
        solver.run(amount)
    spent = time.perf_counter() - started
    return (solver.statistics()["nodes_visited"] - nodes) / spent


def run(seconds: float = 20.0, rounds: int = 2, warmup: int = 200_000,
        table_dtype: str = "float64") -> dict[str, Any]:
    six, two, source = _games()
    config = MCCFRConfig(engine="sequential", discount_mode="linear", discount_interval=10_000,
                         table_dtype=table_dtype)  # type: ignore[arg-type]
    solvers = {"sixmax": Solver(six, config.replace(num_players=6)),
               "heads_up": Solver(two, config)}
    for solver in solvers.values():
        solver.run(warmup)
    rates: dict[str, list[float]] = {name: [] for name in solvers}
    for _ in range(rounds):
        for name, solver in solvers.items():
            rates[name].append(_nodes_per_second(solver, seconds))
    best = {name: max(values) for name, values in rates.items()}
    return {"abstraction": source, "table_dtype": table_dtype,
            "infosets": {"sixmax": six.num_rows, "heads_up": two.num_rows},
            "nodes_per_second": best,
            "ns_per_node": {name: 1e9 / value for name, value in best.items()},
            "ratio": best["sixmax"] / best["heads_up"]}


def print_table(figures: dict[str, Any]) -> None:
    print(f"abstraction: {figures['abstraction']}; regrets {figures['table_dtype']}")
    for name in ("heads_up", "sixmax"):
        print(f"  {name:9} {figures['infosets'][name]:>12,} infosets  "
              f"{figures['nodes_per_second'][name] / 1e6:6.1f}M nodes/s  "
              f"{figures['ns_per_node'][name]:6.1f} ns/node")
    print(f"  six-max / heads-up per-node speed: {figures['ratio']:.2f} (target >= 0.40)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--warmup", type=int, default=200_000)
    parser.add_argument("--table-dtype", choices=("float64", "float32"), default="float64",
                        help="regret table dtype of both games")
    args = parser.parse_args()
    print_table(run(args.seconds, args.rounds, args.warmup, args.table_dtype))


if __name__ == "__main__":
    main()
