"""Local best response speed and precision on the default heads-up blueprint.

A blueprint of the default config (holdem_lab/configs/default_hu.yaml: its bucket file when it
has been built, else the lossless-preflop abstraction) is trained for `train_seconds`, then LBR
(`fcpa`, imaginary observations) plays it:

* on one thread for `core_seconds`: LBR hands/s per core, by the wall clock and per second of
  CPU time (the two differ when other work shares the machine; target >= 1,000);
* on two threads for `budget_seconds` on one deal list: the 95% half-width against wall time,
  read from prefixes of the list (target: +-100 mbb/hand or tighter within 180 s).

    python -m bench.bench_lbr [--train-seconds 60] [--budget-seconds 180] [--out FILE]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import time
from pathlib import Path
from typing import Any

import numpy as np

from holdem_lab import MCCFRConfig, Solver, load_game
from holdem_lab.config import load_run_config
from holdem_lab.eval.lbr import local_best_response, make_deals

DEFAULT_CONFIG = Path(__file__).resolve().parents[1] / "holdem_lab/configs/default_hu.yaml"
TARGET_HANDS_PER_CORE = 1000.0
TARGET_HALF_WIDTH = 100.0
TARGET_SECONDS = 180.0


def _blueprint(config_path: Path, train_seconds: float) -> tuple[Any, np.ndarray, dict[str, Any]]:
    spec, config = load_run_config(config_path)
    params = dict(spec.game_params)
    if spec.buckets and Path(spec.buckets).exists():
        game, abstraction = load_game("holdem", buckets=spec.buckets, **params), "bucket file"
    else:
        game = load_game("holdem", **params)
        abstraction = "lossless preflop, one bucket postflop"
    solver = Solver(game, MCCFRConfig(discount_mode=config.discount_mode,
                                      discount_interval=config.discount_interval, seed=1))
    started = time.perf_counter()
    while time.perf_counter() - started < train_seconds:
        solver.run(5_000)
    info = {"abstraction": abstraction, "infosets": game.num_rows,
            "training_iterations": int(solver.iteration),
            "training_seconds": time.perf_counter() - started}
    return game, solver.average_policy(), info


def run(train_seconds: float = 60.0, core_seconds: float = 20.0,
        budget_seconds: float = TARGET_SECONDS, config_path: Path = DEFAULT_CONFIG
        ) -> dict[str, Any]:
    game, policy, out = _blueprint(config_path, train_seconds)
    out["load_average_before"] = os.getloadavg()[0]  # other work on the machine slows LBR
    local_best_response(game, policy, deal_pairs=8, threads=1)  # compile
    pairs = 64
    while True:
        cpu = time.process_time()
        single = local_best_response(game, policy, deal_pairs=pairs, seed=1, threads=1)
        cpu = time.process_time() - cpu
        if single.seconds >= core_seconds or pairs >= 1 << 22:
            break
        pairs = max(pairs * 2, int(pairs * core_seconds / max(single.seconds, 1e-3) * 1.1))
    per_core = 2 * single.deal_pairs / single.seconds
    out["hands_per_second_per_core"] = per_core
    # Per second of CPU time: what one core does when nothing else runs on it.
    out["hands_per_cpu_second"] = 2 * single.deal_pairs / cpu
    # Slices of one long deal list on two threads until the budget is spent; the interval at
    # each moment is that of the deals played so far.
    deals = make_deals(max(int(per_core * budget_seconds * 4), 4096), seed=2)
    marks: list[tuple[int, float]] = []
    started = time.perf_counter()

    def mark(done: int) -> None:
        marks.append((done, time.perf_counter() - started))

    full = local_best_response(
        game, policy, deals=deals, threads=2, batch=1024, progress=mark,
        should_stop=lambda: time.perf_counter() - started >= budget_seconds)
    curve = []
    for done, seconds in marks:
        scores = full.pair_scores[:done]
        curve.append({"seconds": seconds, "hands": 2 * done,
                      "mbb_per_hand": float(scores.mean()),
                      "ci95_mbb": 1.96 * float(scores.std(ddof=1)) / math.sqrt(done)})
    out["two_cores"] = {"hands_per_second": 2 * full.deal_pairs / full.seconds,
                        "mbb_per_hand": full.mbb_per_hand, "ci95_mbb": full.ci95_mbb,
                        "sd_per_pair_mbb": full.sd_per_pair_mbb, "seconds": full.seconds,
                        "curve": curve}
    within = [p for p in curve if p["seconds"] <= TARGET_SECONDS]
    out["ci95_within_180s"] = within[-1]["ci95_mbb"] if within else None
    reached = [p["seconds"] for p in curve if p["ci95_mbb"] <= TARGET_HALF_WIDTH]
    out["seconds_to_ci95_100"] = reached[0] if reached else None
    # Projected from the standard deviation per pair and the two-core rate.
    rate = full.deal_pairs / full.seconds
    out["projected_seconds_to_ci95_100"] = (1.96 * full.sd_per_pair_mbb / TARGET_HALF_WIDTH) \
        ** 2 / rate
    out["load_average_after"] = os.getloadavg()[0]
    out["targets"] = {"hands_per_second_per_core": f">= {TARGET_HANDS_PER_CORE:,.0f}",
                      "ci95_mbb": f"<= {TARGET_HALF_WIDTH:.0f} within {TARGET_SECONDS:.0f} s "
                                  "on 2 cores"}
    return out


def print_table(result: dict[str, Any]) -> None:
    two = result["two_cores"]
    print(f"LBR (fcpa) on the default blueprint ({result['abstraction']}, "
          f"{result['infosets']:,} infosets, {result['training_iterations']:,} iterations)")
    print(f"  one core   {result['hands_per_second_per_core']:>10,.0f} hands/s, "
          f"{result['hands_per_cpu_second']:,.0f} per CPU second "
          f"(target >= {TARGET_HANDS_PER_CORE:,.0f}; load average "
          f"{result['load_average_before']:.1f} before, {result['load_average_after']:.1f} "
          "after)")
    print(f"  two cores  {two['hands_per_second']:>10,.0f} hands/s, "
          f"{two['mbb_per_hand']:+.0f} ± {two['ci95_mbb']:.0f} mbb/hand after "
          f"{two['seconds']:.0f} s (sd {two['sd_per_pair_mbb']:,.0f} per deal pair)")
    for point in two["curve"][:: max(1, len(two["curve"]) // 8)]:
        print(f"    {point['seconds']:>7.1f} s {point['hands']:>10,} hands "
              f"± {point['ci95_mbb']:>8.1f} mbb/hand")
    reached = result["seconds_to_ci95_100"]
    print(f"  ± {TARGET_HALF_WIDTH:.0f} mbb/hand reached after "
          + (f"{reached:.0f} s" if reached is not None else "(not within the budget)")
          + f"; projected {result['projected_seconds_to_ci95_100']:.0f} s "
          f"(target {TARGET_SECONDS:.0f} s)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--train-seconds", type=float, default=60.0)
    parser.add_argument("--core-seconds", type=float, default=20.0)
    parser.add_argument("--budget-seconds", type=float, default=TARGET_SECONDS)
    parser.add_argument("--config", type=Path, default=DEFAULT_CONFIG)
    parser.add_argument("--out", help="write the figures as JSON here")
    args = parser.parse_args()
    result = run(args.train_seconds, args.core_seconds, args.budget_seconds, args.config)
    print_table(result)
    if args.out:
        Path(args.out).write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
