"""Leduc MCCFR: holdem_lab's numba engine against OpenSpiel's C++ external-sampling solver,
measured in the same process on the same machine.

Figures: iterations per second of each, and the exploitability each reaches after the same
wall-clock budgets. Our exploitability is exact (holdem_lab.eval.exact, which agrees with
OpenSpiel's to 1e-10 on exported policies); OpenSpiel's is computed by OpenSpiel.
"""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

from holdem_lab import MCCFRConfig, Solver, exploitability, load_game


def _ours(budget: float, config: MCCFRConfig, checkpoints: list[float]) -> dict[str, Any]:
    game = load_game("leduc")
    solver = Solver(game, config)
    solver.run(10)  # compile or load the kernels outside the timed region
    solver = Solver(game, config)
    results: dict[str, Any] = {}
    batch = 10_000
    started = time.perf_counter()
    pending = sorted(checkpoints)
    while pending:
        solver.run(batch)
        spent = time.perf_counter() - started
        if spent >= pending[0]:
            results[f"exploitability_at_{pending[0]:g}s"] = exploitability(
                game, solver.average_policy())
            results[f"iterations_at_{pending[0]:g}s"] = solver.iteration
            pending.pop(0)
            started_eval_gap = time.perf_counter() - started - spent
            started += started_eval_gap  # exclude evaluation time from the training clock
    results["iterations_per_second"] = solver.iteration / solver.compute_seconds
    results["nodes_per_second"] = solver.statistics()["nodes_visited"] / solver.compute_seconds
    results["ns_per_node"] = 1e9 / results["nodes_per_second"]
    return results


def _openspiel(checkpoints: list[float]) -> dict[str, Any]:
    import pyspiel
    from open_spiel.python.algorithms import exploitability as os_exploitability

    game = pyspiel.load_game("leduc_poker")
    solver = pyspiel.ExternalSamplingMCCFRSolver(game, seed=1)
    results: dict[str, Any] = {}
    iterations = 0
    training = 0.0
    pending = sorted(checkpoints)
    while pending:
        started = time.perf_counter()
        for _ in range(1000):
            solver.run_iteration()
        training += time.perf_counter() - started
        iterations += 1000
        if training >= pending[0]:
            results[f"exploitability_at_{pending[0]:g}s"] = os_exploitability.exploitability(
                game, solver.average_policy())
            results[f"iterations_at_{pending[0]:g}s"] = iterations
            pending.pop(0)
    results["iterations_per_second"] = iterations / training
    return results


def interleaved_rates(rounds: int = 5, seconds: float = 1.0) -> dict[str, float]:
    """Iterations/s of both solvers measured in alternating slices, so that a busy machine
    slows both alike; the median slice of each is reported."""
    import statistics

    import pyspiel

    game = load_game("leduc")
    ours = Solver(game, MCCFRConfig(seed=2))  # the defaults
    ours.run(10)
    theirs = pyspiel.ExternalSamplingMCCFRSolver(pyspiel.load_game("leduc_poker"), seed=2)
    our_rates, their_rates = [], []
    for _ in range(rounds):
        started, done = time.perf_counter(), 0
        while time.perf_counter() - started < seconds:
            for _ in range(500):
                theirs.run_iteration()
            done += 500
        their_rates.append(done / (time.perf_counter() - started))
        started, done = time.perf_counter(), 0
        while time.perf_counter() - started < seconds:
            ours.run(20_000)
            done += 20_000
        our_rates.append(done / (time.perf_counter() - started))
    ours_median = statistics.median(our_rates)
    theirs_median = statistics.median(their_rates)
    return {"holdem_lab_iterations_per_second": ours_median,
            "openspiel_iterations_per_second": theirs_median,
            "speed_ratio": ours_median / theirs_median}


def run(budgets: tuple[float, ...] = (10.0, 30.0)) -> dict[str, Any]:
    """Both solvers for the largest budget, with exploitability at each budget."""
    checkpoints = list(budgets)
    theirs = _openspiel(checkpoints)
    variants = {
        "defaults": MCCFRConfig(seed=1),
        "external_none": MCCFRConfig(seed=1, discount_mode="none"),
        "external_linear": MCCFRConfig(seed=1, discount_mode="linear", discount_interval=100),
    }
    ours = {name: _ours(max(budgets), config, checkpoints) for name, config in variants.items()}
    ratios: dict[str, Any] = {}
    for name, figures in ours.items():
        ratios[name] = {"speed_ratio": figures["iterations_per_second"]
                        / theirs["iterations_per_second"]}
        for budget in budgets:
            key = f"exploitability_at_{budget:g}s"
            ratios[name][f"exploitability_ratio_at_{budget:g}s"] = figures[key] / theirs[key]
    return {"openspiel_external_sampling": theirs, "holdem_lab": ours, "ratios": ratios,
            "interleaved": interleaved_rates(),
            "targets": {"speed_ratio": ">= 50", "exploitability_ratio": "<= 0.1"}}


def print_table(results: dict[str, Any]) -> None:
    theirs = results["openspiel_external_sampling"]
    print(f"{'solver':<28}{'it/s':>12}{'expl@10s':>12}{'expl@30s':>12}{'speed x':>10}")
    print(f"{'OpenSpiel C++ ES':<28}{theirs['iterations_per_second']:>12,.0f}"
          f"{theirs.get('exploitability_at_10s', float('nan')):>12.4f}"
          f"{theirs.get('exploitability_at_30s', float('nan')):>12.4f}{1.0:>10.1f}")
    for name, figures in results["holdem_lab"].items():
        ratio = results["ratios"][name]["speed_ratio"]
        print(f"{'holdem_lab ' + name:<28}{figures['iterations_per_second']:>12,.0f}"
              f"{figures.get('exploitability_at_10s', float('nan')):>12.4f}"
              f"{figures.get('exploitability_at_30s', float('nan')):>12.4f}{ratio:>10.1f}")
    inter = results["interleaved"]
    print(f"interleaved slices: holdem_lab {inter['holdem_lab_iterations_per_second']:,.0f} it/s,"
          f" OpenSpiel {inter['openspiel_iterations_per_second']:,.0f} it/s,"
          f" ratio {inter['speed_ratio']:.1f}x (target >= 50x)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--budgets", type=float, nargs="+", default=[10.0, 30.0])
    parser.add_argument("--out", help="write the figures as JSON here")
    args = parser.parse_args()
    results = run(tuple(args.budgets))
    print_table(results)
    if args.out:
        with open(args.out, "w", encoding="utf-8") as handle:
            json.dump(results, handle, indent=2)


if __name__ == "__main__":
    main()
