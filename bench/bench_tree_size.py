"""Sizing Hold'em trees before they are built: `holdem_tree_size` for 2 to 6 players.

For each player count, the heads-up menu forced on every count (`BetSizing()`, the largest
trees: 120,745,299 nodes at six players) and the default menu of the count
(`default_bet_sizing`), 200-chip stacks, blinds 1/2: the best of `repeats` exact counts in
this process (the walk compiled, or loaded from numba's cache, before timing). The baseline is
building the same tree (`build_holdem_tree`), for the trees of at most `BUILD_LIMIT_NODES`
nodes. Then `holdem-lab size` end to end on the shipped multiway configs, in a fresh process
(start-up, imports, the compiled walk loaded from numba's cache, the bucket file read).

Target: every count under a second.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from holdem_lab.games.betting import (
    DEFAULT_MAX_NODES,
    BetSizing,
    build_holdem_tree,
    default_bet_sizing,
    holdem_tree_size,
)

CONFIGS = Path(__file__).resolve().parents[1] / "holdem_lab" / "configs"
BUILD_LIMIT_NODES = 500_000
"""Trees up to this size are also built, as the baseline."""


def _best(repeats: int, call: Any) -> tuple[float, Any]:
    best, result = float("inf"), None
    for _ in range(repeats):
        started = time.perf_counter()
        result = call()
        best = min(best, time.perf_counter() - started)
    return best, result


def run(repeats: int = 3, players: tuple[int, ...] = (2, 3, 4, 5, 6),
        configs: tuple[str, ...] = ("threeway.yaml", "sixmax.yaml")) -> dict[str, Any]:
    table = dict(stacks=200, small_blind=1, big_blind=2)
    holdem_tree_size(num_players=2, **table)  # compile (or load the cache) before timing
    rows: list[dict[str, Any]] = []
    for num_players in players:
        for menu, sizing in (("heads-up", BetSizing()),
                             ("default", default_bet_sizing(num_players))):
            seconds, size = _best(repeats, lambda n=num_players, s=sizing: holdem_tree_size(
                num_players=n, sizing=s, **table))
            row: dict[str, Any] = {"players": num_players, "menu": menu, "nodes": size.nodes,
                                   "decisions": size.decision, "size_seconds": seconds}
            if size.nodes <= min(BUILD_LIMIT_NODES, DEFAULT_MAX_NODES):
                row["build_seconds"], _ = _best(1, lambda n=num_players, s=sizing:
                                                build_holdem_tree(num_players=n, sizing=s,
                                                                  **table))
            rows.append(row)
    cli: list[dict[str, Any]] = []
    lab = [sys.executable, "-m", "holdem_lab.cli.lab", "size"]
    for name in configs:
        started = time.perf_counter()
        done = subprocess.run([*lab, str(CONFIGS / name)], capture_output=True, text=True,
                              check=False)
        cli.append({"config": name, "seconds": time.perf_counter() - started,
                    "exit_code": done.returncode,
                    "first_line": (done.stdout or done.stderr).splitlines()[:1]})
    return {"repeats": repeats, "rows": rows, "cli": cli}


def print_table(result: dict[str, Any]) -> None:
    print(f"holdem_tree_size, 200-chip stacks, blinds 1/2 (best of {result['repeats']})")
    print(f"{'players':>7}  {'menu':<8}  {'nodes':>13}  {'size':>8}  {'build':>8}")
    for row in result["rows"]:
        build = f"{row['build_seconds']:.3f} s" if "build_seconds" in row else "-"
        print(f"{row['players']:>7}  {row['menu']:<8}  {row['nodes']:>13,}  "
              f"{row['size_seconds']:.3f} s  {build:>8}")
    for entry in result["cli"]:
        print(f"holdem-lab size {entry['config']}: {entry['seconds']:.2f} s in a fresh process "
              f"(exit {entry['exit_code']})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()
    result = run(repeats=args.repeats)
    print_table(result)
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
