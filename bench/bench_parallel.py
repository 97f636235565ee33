"""The sharded engine on every core: iterations/s and node visits/s with 2 workers against 1
worker of the same engine and against the sequential kernel, measured in the same run, on Leduc
and on the default heads-up Hold'em config; the merge's share of a batch; and Leduc
exploitability after equal wall time for the three.

    python -m bench.bench_parallel [--rounds 3] [--seconds 4] [--budgets 10 60]

Each speed figure is the best of `rounds` interleaved measurements of `seconds` of training
from the same solver state (the best being the one least disturbed by other work). The Hold'em
config uses its bucket file when it has been built (make buckets), else the lossless-preflop
abstraction, which says so in the output.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path
from typing import Any

import numba
import numpy as np

from holdem_lab import MCCFRConfig, Solver, exploitability, load_game
from holdem_lab.config import load_run_config
from holdem_lab.games import build_game

REPO = Path(__file__).resolve().parents[1]
LEDUC_SHARDED = {"batch_iterations": 256, "shards": 16}
"""Leduc's sharded settings here: the automatic rule gives its 288 infosets batches of 16
iterations (and `engine: auto` the sequential engine); 256 keeps two workers busy, at the
quality the README's table states for each discount mode."""


def _holdem() -> tuple[Any, MCCFRConfig, str]:
    spec, config = load_run_config(REPO / "holdem_lab/configs/default_hu.yaml")
    source = "default buckets"
    if spec.buckets is not None and not Path(spec.buckets).exists():
        from holdem_lab.config import GameSpec

        spec = GameSpec(game="holdem", game_params=dict(spec.game_params))
        source = "lossless preflop, no bucket file (make buckets for the default buckets)"
    return build_game(spec), config, source


def _variants(config: MCCFRConfig, sharded: dict[str, Any]) -> dict[str, MCCFRConfig]:
    base = config.replace(num_iterations=None, enable_chunked_training=False,
                          chunk_size_iterations=None, chunk_size_minutes=None)
    return {"sequential": base.replace(engine="sequential", num_workers=1),
            "sharded_1": base.replace(engine="sharded", num_workers=1, **sharded),
            "sharded_2": base.replace(engine="sharded", num_workers=2, **sharded)}


def _speed(game: Any, config: MCCFRConfig, seconds: float, warm: Solver) -> dict[str, float]:
    """Iterations/s and node visits/s over about `seconds` of training, continuing from the
    warmed-up state `warm` (copied) so every variant measures the same stretch of the run."""
    solver = Solver(game, config)
    # The tables and counters are shared; each engine keeps the random stream it draws from.
    solver.load_state_dict(warm.state_dict() | {"rng_state": solver.rng_state()})
    solver.run(1)  # compiled before timing (the kernels are cached on disk)
    step = max(solver.batch_iterations, 1)
    nodes0, iterations0 = solver.statistics()["nodes_visited"], solver.iteration
    started = time.perf_counter()
    amount = step
    while time.perf_counter() - started < seconds:
        solver.run(amount)
        if time.perf_counter() - started < seconds / 20:
            amount *= 2
    spent = time.perf_counter() - started
    return {"iterations_per_second": (solver.iteration - iterations0) / spent,
            "nodes_per_second": (solver.statistics()["nodes_visited"] - nodes0) / spent}


def _merge_share(game: Any, config: MCCFRConfig, batches_to_time: int = 20) -> dict[str, float]:
    """CPU time of the merge against a whole batch on one worker: the shards of a batch are
    run, then their logs merged and timed on their own."""
    from holdem_lab.solver import batches as kernels_batches

    solver = Solver(game, config.replace(num_workers=1))
    solver.run(solver.batch_iterations * 50)  # warm: tables and logs as mid-run
    numba.set_num_threads(1)
    batch_seconds = merge_seconds = 0.0
    for _ in range(batches_to_time):
        regrets, strategy = solver.regrets.copy(), solver.strategy_sum.copy()
        started = time.perf_counter()
        solver.run(solver.batch_iterations)
        batch_seconds += time.perf_counter() - started
        started = time.perf_counter()
        for part in range(kernels_batches.LOG_PARTS):
            kernels_batches._merge_part(regrets, strategy, solver._log_rows,
                                        solver._log_values, solver._log_counts, part, False,
                                        0.0, solver._scale)
        merge_seconds += time.perf_counter() - started
    return {"merge_share_of_batch": merge_seconds / batch_seconds,
            "log_entries_per_batch": float(solver._log_counts.sum()),
            "update_buffer_bytes": float(solver.buffer_bytes),
            "table_bytes": float(solver.regrets.nbytes + solver.strategy_sum.nbytes)}


def _quality(config: MCCFRConfig, budgets: list[float]) -> dict[str, float]:
    """Exact Leduc exploitability after each wall-clock budget of training (evaluation time
    excluded)."""
    game = load_game("leduc")
    Solver(game, config).run(1)
    solver = Solver(game, config)
    out: dict[str, float] = {}
    trained = 0.0
    amount = max(solver.batch_iterations, 1000)
    for budget in sorted(budgets):
        while trained < budget:
            started = time.perf_counter()
            solver.run(amount)
            trained += time.perf_counter() - started
        out[f"exploitability_at_{budget:g}s"] = exploitability(game, solver.average_policy())
        out[f"iterations_at_{budget:g}s"] = solver.iteration
    return out


def run(rounds: int = 3, seconds: float = 4.0, budgets: tuple[float, ...] = (10.0, 60.0),
        discount_mode: str = "linear") -> dict[str, Any]:
    if numba.config.NUMBA_NUM_THREADS < 2:
        return {"skipped": "numba has one thread here (NUMBA_NUM_THREADS)"}
    figures: dict[str, Any] = {"cores": os.cpu_count(),
                               "numba_threads": numba.config.NUMBA_NUM_THREADS}
    leduc_config = MCCFRConfig(discount_mode=discount_mode, discount_interval=100, seed=1)
    holdem_game, holdem_config, source = _holdem()
    figures["holdem_abstraction"] = source
    cases = {"leduc": (load_game("leduc"), _variants(leduc_config, LEDUC_SHARDED)),
             "holdem": (holdem_game, _variants(holdem_config, {}))}
    for name, (game, variants) in cases.items():
        warm = Solver(game, variants["sharded_1"])
        warm.run(warm.batch_iterations * 4 if name == "holdem" else 50_000)
        best: dict[str, dict[str, float]] = {}
        for _ in range(rounds):
            for label, config in variants.items():
                measured = _speed(game, config, seconds, warm)
                if measured["iterations_per_second"] > best.get(label, {}).get(
                        "iterations_per_second", 0.0):
                    best[label] = measured
        sharded = Solver(game, variants["sharded_1"])
        result: dict[str, Any] = {label: value for label, value in best.items()}
        result["batch_iterations"], result["shards"] = sharded.batch_iterations, sharded.shards
        result["infosets"] = game.num_rows
        for label in ("sharded_1", "sharded_2"):
            result[f"{label}_vs_sequential"] = (best[label]["iterations_per_second"]
                                                / best["sequential"]["iterations_per_second"])
        result["two_vs_one_worker"] = (best["sharded_2"]["iterations_per_second"]
                                       / best["sharded_1"]["iterations_per_second"])
        result.update(_merge_share(game, variants["sharded_1"]))
        figures[name] = result
    if budgets:
        figures["leduc_quality"] = {
            label: _quality(config, list(budgets))
            for label, config in _variants(leduc_config, LEDUC_SHARDED).items()}
    return figures


def print_table(figures: dict[str, Any]) -> None:
    if "skipped" in figures:
        print(f"skipped: {figures['skipped']}")
        return
    print(f"Hold'em abstraction: {figures['holdem_abstraction']}")
    print(f"{'game':8} {'variant':12} {'it/s':>12} {'nodes/s':>14} {'vs sequential':>14}")
    for game in ("leduc", "holdem"):
        result = figures[game]
        for label in ("sequential", "sharded_1", "sharded_2"):
            ratio = result.get(f"{label}_vs_sequential", 1.0)
            print(f"{game:8} {label:12} {result[label]['iterations_per_second']:12,.0f} "
                  f"{result[label]['nodes_per_second']:14,.0f} {ratio:13.2f}x")
        print(f"{game:8} batches of {result['batch_iterations']} in {result['shards']} shards; "
              f"2 workers / 1 worker {result['two_vs_one_worker']:.2f}x; merge "
              f"{100 * result['merge_share_of_batch']:.1f}% of a batch; update logs "
              f"{result['update_buffer_bytes'] / 2**20:.1f} MiB against tables of "
              f"{result['table_bytes'] / 2**20:.1f} MiB")
    quality = figures.get("leduc_quality")
    if quality:
        print("Leduc exploitability at equal wall time:")
        for label, values in quality.items():
            cells = ", ".join(f"{key.removeprefix('exploitability_at_')}: {value:.5f}"
                              for key, value in values.items()
                              if key.startswith("exploitability"))
            print(f"  {label:12} {cells}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--budgets", type=float, nargs="*", default=[10.0, 60.0])
    parser.add_argument("--discount-mode", default="linear")
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()
    figures = run(args.rounds, args.seconds, tuple(args.budgets), args.discount_mode)
    print_table(figures)
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2, default=float))


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
