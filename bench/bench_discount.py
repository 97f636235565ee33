"""What discounting costs per iteration, on one worker: CPU time per iteration with each
discount setting, measured in interleaved slices (the least of each setting's slices: the slice
least disturbed by other work on the machine).

* Leduc on the sequential engine (the engine `auto` gives it);
* the default heads-up Hold'em config on the sequential engine and on the sharded engine with one
  worker, where discount steps fall at batch boundaries.

Two ratios per setting: against no discounting (target: discounting every iteration takes at
most 1.10x the time), and against the same mode every 100 iterations, where the steps cost next
to nothing: discounted runs play different strategies, which cost different time per iteration
(more mixed strategies, more unpredictable branches), so the second ratio is the cost of the
steps themselves.

    python -m bench.bench_discount [--rounds 5] [--seconds 1.0] [--out FILE]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

from holdem_lab import MCCFRConfig, Solver, load_game
from holdem_lab.config import load_run_config

DEFAULT_CONFIG = Path(__file__).resolve().parents[1] / "holdem_lab/configs/default_hu.yaml"
TARGET_TIME_RATIO = 1.10
SETTINGS: dict[str, dict[str, Any]] = {
    "none": {"discount_mode": "none"},
    "linear every iteration": {"discount_mode": "linear", "discount_interval": 1},
    "linear every 100": {"discount_mode": "linear", "discount_interval": 100},
    "dcfr every iteration": {"discount_mode": "dcfr", "discount_interval": 1},
    "dcfr every 100": {"discount_mode": "dcfr", "discount_interval": 100},
}


def _holdem_game() -> Any:
    spec, _ = load_run_config(DEFAULT_CONFIG)
    params = dict(spec.game_params)
    if spec.buckets and Path(spec.buckets).exists():
        return load_game("holdem", buckets=spec.buckets, **params)
    return load_game("holdem", **params)


def _rates(game: Any, engine: dict[str, Any], slice_iterations: int, rounds: int,
           seconds: float) -> dict[str, Any]:
    solvers = {name: Solver(game, MCCFRConfig(seed=1, **setting, **engine))
               for name, setting in SETTINGS.items()}
    for solver in solvers.values():
        solver.run(slice_iterations)  # compile, and leave the empty-table start behind
    best: dict[str, float] = {name: float("inf") for name in solvers}
    for _ in range(rounds):
        for name, solver in solvers.items():
            started, done = time.process_time(), 0
            while time.process_time() - started < seconds:
                done += solver.run(slice_iterations)
            best[name] = min(best[name], (time.process_time() - started) / done)
    out: dict[str, Any] = {}
    for name, seconds_per_iteration in best.items():
        mode = SETTINGS[name]["discount_mode"]
        out[name] = {"iterations_per_cpu_second": 1.0 / seconds_per_iteration,
                     "time_ratio": seconds_per_iteration / best["none"],
                     "time_ratio_to_every_100": seconds_per_iteration / best[f"{mode} every 100"]
                     if mode != "none" else 1.0}
    return out


def run(rounds: int = 5, seconds: float = 1.0) -> dict[str, Any]:
    leduc = load_game("leduc")
    holdem = _holdem_game()
    return {
        "leduc sequential": _rates(leduc, {"engine": "sequential"}, 20_000, rounds, seconds),
        "holdem sequential": _rates(holdem, {"engine": "sequential"}, 1_024, rounds, seconds),
        "holdem sharded, 1 worker": _rates(holdem, {"engine": "sharded", "num_workers": 1},
                                           1_024, rounds, seconds),
        "target": f"time ratio <= {TARGET_TIME_RATIO} for every setting",
    }


def print_table(results: dict[str, Any]) -> None:
    print(f"{'game / engine':<28}{'discounting':<24}{'it/cpu-s':>12}{'vs none':>10}"
          f"{'vs every 100':>14}")
    for group, figures in results.items():
        if not isinstance(figures, dict):
            continue
        for name, row in figures.items():
            print(f"{group:<28}{name:<24}{row['iterations_per_cpu_second']:>12,.0f}"
                  f"{row['time_ratio']:>10.3f}{row['time_ratio_to_every_100']:>14.3f}")
    print(f"target: {results['target']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5, help="interleaved slices per setting")
    parser.add_argument("--seconds", type=float, default=1.0, help="length of one slice")
    parser.add_argument("--out", help="write the figures as JSON here")
    args = parser.parse_args()
    results = run(args.rounds, args.seconds)
    print_table(results)
    if args.out:
        Path(args.out).write_text(json.dumps(results, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
