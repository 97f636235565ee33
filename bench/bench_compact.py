"""Compact tables against float64 at equal wall time: what float32 regrets and strategy sums
kept on preflop only cost in quality, and what they save in memory.

* Leduc (sequential engine): exact exploitability after `--leduc-seconds` of training, median
  over `--seeds` seeds, float64 against float32.
* Heads-up Hold'em (holdem_lab/configs/default_hu.yaml with its bucket file when built, every
  core): each variant trains for `--holdem-seconds`, then local best response (`fcpa`) plays
  its blueprint for `--lbr-seconds` on one deal list shared by all variants; the variants are
  compared on the deals all of them played, each against float64 as a paired difference.
  Variants: float64; float32 regrets; float32 regrets with strategy sums on preflop only (the
  current strategy plays the later rounds). `--holdem-iterations N` trains each for N
  iterations instead, for a machine shared with other work, where equal time is not equal
  work (float32 regrets run at least as fast as float64: `bench_discount`-style timing in the
  README).

Memory is `memory_needed` (bytes per infoset-action).

    python -m bench.bench_compact [--leduc-seconds 10] [--seeds 5] [--holdem-seconds 120]
        [--holdem-iterations N] [--lbr-seconds 40] [--out FILE]
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import time
from pathlib import Path
from typing import Any

import numpy as np

from bench.bench_sweep import LBR_PAIRS_PER_SECOND_BOUND, TrainResult, train_for
from holdem_lab import MCCFRConfig, Solver, exploitability, load_game
from holdem_lab.config import load_run_config
from holdem_lab.solver.solver import memory_needed, strategy_layout

DEFAULT_CONFIG = Path(__file__).resolve().parents[1] / "holdem_lab/configs/default_hu.yaml"
VARIANTS: dict[str, dict[str, Any]] = {
    "float64": {"table_dtype": "float64"},
    "float32 regrets": {"table_dtype": "float32"},
    "float32 regrets, preflop averages": {"table_dtype": "float32", "average_rounds": (0,)},
}


def _bytes_per_entry(game: Any, setting: dict[str, Any]) -> float:
    rows = strategy_layout(game, setting.get("average_rounds"))[1]
    return memory_needed(game, setting["table_dtype"], rows) / (game.num_rows * game.max_actions)


def leduc(seconds: float, seeds: int) -> dict[str, Any]:
    game = load_game("leduc")
    out: dict[str, Any] = {}
    for name in ("float64", "float32 regrets"):
        setting = VARIANTS[name]
        values, rates = [], []
        for seed in range(seeds):
            config = MCCFRConfig(seed=seed, engine="sequential", **setting)
            Solver(game, config).run(1)  # compile outside the timed region
            result = train_for(Solver(game, config), seconds)
            values.append(exploitability(game, result.solver.average_policy()))
            rates.append(result.iterations_per_second)
        out[name] = {"exploitability_median": statistics.median(values),
                     "exploitability": values, "iterations_per_second": statistics.median(rates),
                     "bytes_per_entry": _bytes_per_entry(game, setting)}
    return out


def holdem(seconds: float, lbr_seconds: float, config_path: Path = DEFAULT_CONFIG,
           iterations: int | None = None) -> dict[str, Any]:
    from holdem_lab.eval.lbr import local_best_response, make_deals
    from holdem_lab.solver.solver import resolve_workers

    spec, base = load_run_config(config_path)
    params = dict(spec.game_params)
    built = bool(spec.buckets and Path(spec.buckets).exists())
    game = load_game("holdem", buckets=spec.buckets, **params) if built \
        else load_game("holdem", **params)
    threads = resolve_workers(None)
    deals = make_deals(max(2, int(lbr_seconds * LBR_PAIRS_PER_SECOND_BOUND)), seed=7)
    rows: dict[str, Any] = {}
    scores: dict[str, np.ndarray] = {}
    for name, setting in VARIANTS.items():
        config = base.replace(seed=0, num_workers=None, **setting)
        Solver(game, config).run(1)
        solver = Solver(game, config)
        if iterations is None:
            result = train_for(solver, seconds)
        else:
            started = time.perf_counter()
            solver.run(iterations)
            result = TrainResult(solver.iteration, time.perf_counter() - started, solver)
        started = time.perf_counter()
        lbr = local_best_response(
            game, result.solver.average_policy(), deals=deals, threads=threads,
            should_stop=lambda started=started: time.perf_counter() - started > lbr_seconds)
        scores[name] = lbr.pair_scores
        rows[name] = {"iterations": result.iterations,
                      "iterations_per_second": result.iterations_per_second,
                      "bytes_per_entry": _bytes_per_entry(game, setting)}
    common = min(len(s) for s in scores.values())
    for name, row in rows.items():
        own = scores[name][:common]
        row["lbr_mbb"], row["lbr_ci95"] = _interval(own)
        row["vs_float64_mbb"], row["vs_float64_ci95"] = _interval(own - scores["float64"][:common])
    return {"abstraction": "bucket file" if built else "lossless preflop, one bucket postflop",
            "infosets": int(game.num_rows), "seconds": seconds, "iterations": iterations,
            "deal_pairs": common, "variants": rows}


def _interval(scores: np.ndarray) -> tuple[float, float]:
    """Mean and 95% half-width, in mbb/hand (a deal pair's score is per hand already)."""
    mean = float(np.mean(scores))
    half = 1.96 * float(np.std(scores, ddof=1)) / math.sqrt(len(scores)) if len(scores) > 1 \
        else math.inf
    return mean, half


def run(leduc_seconds: float = 10.0, seeds: int = 5, holdem_seconds: float = 120.0,
        lbr_seconds: float = 40.0, holdem_iterations: int | None = None) -> dict[str, Any]:
    return {"leduc": leduc(leduc_seconds, seeds),
            "holdem": holdem(holdem_seconds, lbr_seconds, iterations=holdem_iterations)}


def print_table(results: dict[str, Any]) -> None:
    print(f"{'Leduc':<30}{'it/s':>12}{'exploitability':>16}{'bytes/entry':>13}")
    for name, row in results["leduc"].items():
        print(f"{name:<30}{row['iterations_per_second']:>12,.0f}"
              f"{row['exploitability_median']:>16.5f}{row['bytes_per_entry']:>13.1f}")
    hold = results["holdem"]
    budget = f"{hold['iterations']:,} iterations" if hold["iterations"] else \
        f"{hold['seconds']:g} s"
    print(f"Hold'em ({hold['abstraction']}, {hold['infosets']:,} infosets, {budget} each, "
          f"LBR on {hold['deal_pairs']:,} deal pairs)")
    print(f"{'variant':<30}{'it/s':>12}{'LBR mbb/hand':>20}{'vs float64':>20}{'bytes/entry':>13}")
    for name, row in hold["variants"].items():
        print(f"{name:<30}{row['iterations_per_second']:>12,.0f}"
              f"{row['lbr_mbb']:>+12.0f} ±{row['lbr_ci95']:<6.0f}"
              f"{row['vs_float64_mbb']:>+12.0f} ±{row['vs_float64_ci95']:<6.0f}"
              f"{row['bytes_per_entry']:>13.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--leduc-seconds", type=float, default=10.0)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--holdem-seconds", type=float, default=120.0)
    parser.add_argument("--holdem-iterations", type=int,
                        help="train each Hold'em variant this many iterations, not seconds")
    parser.add_argument("--lbr-seconds", type=float, default=40.0)
    parser.add_argument("--out", help="write the figures as JSON here")
    args = parser.parse_args()
    results = run(args.leduc_seconds, args.seeds, args.holdem_seconds, args.lbr_seconds,
                  args.holdem_iterations)
    print_table(results)
    if args.out:
        Path(args.out).write_text(json.dumps(results, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
