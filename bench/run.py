"""Run every benchmark, print its table and save all figures as one JSON file.

    python -m bench.run --out bench/results.json [--quick]

Each benchmark compares against a baseline measured in the same run on the same machine.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from importlib import import_module
from typing import Any

# (module, keyword arguments for a full run, keyword arguments for --quick)
BENCHMARKS: tuple[tuple[str, dict[str, Any], dict[str, Any]], ...] = (
    ("bench.bench_mccfr", {"budgets": (10.0, 30.0)}, {"budgets": (3.0,)}),
    ("bench.bench_cards", {}, {"seconds": 0.5}),
    ("bench.bench_holdem", {}, {"rounds": 2, "seconds": 0.5}),
    ("bench.bench_tree_size", {}, {"repeats": 1}),
    ("bench.bench_checkpoint", {}, {"size_mb": 32}),
    ("bench.bench_chunks", {"target_seconds": 60.0}, {"target_seconds": 10.0}),
    ("bench.bench_buckets", {}, {"ks": (10,)}),
    ("bench.bench_discount", {}, {"rounds": 2, "seconds": 0.5}),
    ("bench.bench_compact", {}, {"leduc_seconds": 1.0, "seeds": 2, "holdem_seconds": 10.0,
                                  "lbr_seconds": 5.0}),
    ("bench.bench_parallel", {}, {"rounds": 1, "seconds": 2.0, "budgets": (5.0,)}),
    ("bench.bench_lbr", {}, {"train_seconds": 10.0, "core_seconds": 5.0, "budget_seconds": 20.0}),
    ("bench.bench_sweep", {}, {"quick": True}),
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default="bench/results.json", help="JSON output file")
    parser.add_argument("--quick", action="store_true", help="short budgets (a smoke run)")
    parser.add_argument("--only", nargs="*", help="run only these modules (e.g. bench_mccfr)")
    args = parser.parse_args()
    results: dict[str, Any] = {"machine": {"python": platform.python_version(),
                                           "processor": platform.processor(),
                                           "started_unix": time.time()}}
    for module_name, full, quick in BENCHMARKS:
        short = module_name.rsplit(".", 1)[-1]
        if args.only and short not in args.only:
            continue
        try:
            module = import_module(module_name)
        except ImportError as exc:
            print(f"[{short}] skipped: {exc}")
            continue
        print(f"\n== {short}")
        figures = module.run(**(quick if args.quick else full))
        if hasattr(module, "print_table"):
            module.print_table(figures)
        elif hasattr(module, "format_table"):
            print(module.format_table(figures))
        results[short] = figures
    with open(args.out, "w", encoding="utf-8") as handle:
        json.dump(results, handle, indent=2, default=str)
    print(f"\nfigures saved to {args.out}")


if __name__ == "__main__":
    main()
