"""Training-kernel speed of this checkout against another git revision, measured in the same run:
CPU seconds for a fixed number of MCCFR iterations on Leduc (holdem_lab/configs/leduc_small.yaml)
and on the default heads-up Hold'em config (holdem_lab/configs/default_hu.yaml, with its bucket
file when it has been built, else the lossless-preflop abstraction), and the ratio new / old.

    python -m bench.bench_kernel_revisions [--base REV] [--pairs 5]

The base revision (default: the merge-base of HEAD and `main`) is checked out with
`git worktree add` into a temporary directory. Each measurement is a fresh process that imports
`holdem_lab` from one checkout (PYTHONPATH), builds the game, warms the kernel up, then runs the
same iterations from the same solver state several times and keeps the least CPU time (the
repeat least disturbed by other work on the machine). The two checkouts alternate, swapping
which goes first in every pair; the reported ratio is the median over the pairs. Both checkouts
must train identically: the workers report a digest of the regret and strategy tables, and a
mismatch is an error, unless `--different-bits` says the change draws other samples (a new
random stream): then the time per node visited is the figure to compare (reported always).

Figures on the shared 2-core development machine, against the kernel that wrote dealing and
payoffs out in place (two runs of 5 pairs): Leduc 0.988 and 0.999, Hold'em with the default
buckets 0.983 and 1.015 (single pairs 0.90-1.13: Hold'em is memory-bound and noisier). The
shared functions are inlined into the kernel with borrowed array views
(holdem_lab.games.numba_tools.borrowed); passed as ordinary arrays, numba's reference counting
at every terminal made Leduc 1.35x slower, and 1.03x with only the dealing arrays left counted.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
CONFIGS = {"leduc": REPO / "holdem_lab/configs/leduc_small.yaml",
           "holdem": REPO / "holdem_lab/configs/default_hu.yaml"}
DEFAULT_ITERATIONS = {"leduc": 1_000_000, "holdem": 150_000}
WARMUP_ITERATIONS = 2_000
REPEATS = 5


def _worker(case: str, iterations: int, repeats: int, buckets: str) -> dict[str, Any]:
    """One measurement, run in a process whose `holdem_lab` comes from the checkout under test:
    the same `iterations` from the same solver state, `repeats` times; the least disturbed
    repeat (least CPU time) counts."""
    import copy
    import time

    import numpy as np

    import holdem_lab
    from holdem_lab import Solver, load_game
    from holdem_lab.config import load_run_config

    spec, config = load_run_config(CONFIGS[case])
    params = dict(spec.game_params)
    if case == "holdem" and buckets:
        params["buckets"] = buckets
    game = load_game(spec.game, **params)
    if "engine" in config.to_dict():  # the kernel under test is the sequential one
        config = config.replace(engine="sequential")
    solver = Solver(game, config)
    solver.run(WARMUP_ITERATIONS)  # loads the cached kernel and touches the tables
    start = copy.deepcopy(solver.state_dict())
    cpu, wall = [], []
    for _ in range(repeats):
        solver.load_state_dict(start)
        wall_started, cpu_started = time.perf_counter(), time.process_time()
        solver.run(iterations)
        cpu.append(time.process_time() - cpu_started)
        wall.append(time.perf_counter() - wall_started)
    digest = hashlib.sha256()
    for table in (solver.regrets, solver.strategy_sum):
        digest.update(np.ascontiguousarray(table).tobytes())
    return {"cpu_seconds": min(cpu), "wall_seconds": min(wall), "iterations": iterations,
            "nodes": int(solver.stats[0] - start["stats"][0]), "digest": digest.hexdigest(),
            "package": str(Path(holdem_lab.__file__).parent)}


def _measure(checkout: Path, case: str, iterations: int, repeats: int,
             buckets: str) -> dict[str, Any]:
    env = dict(os.environ, PYTHONPATH=str(checkout))
    # Run by path (not -m) so that the current directory cannot shadow PYTHONPATH.
    result = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--worker", case,
         "--iterations", str(iterations), "--repeats", str(repeats), "--buckets", buckets],
        capture_output=True, text=True, env=env, cwd=tempfile.gettempdir(), check=False)
    if result.returncode != 0:
        raise RuntimeError(f"{case} worker in {checkout} failed:\n{result.stderr[-2000:]}")
    figures: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    if Path(figures["package"]) != checkout / "holdem_lab":
        raise RuntimeError(f"the worker imported {figures['package']}, not {checkout}")
    return figures


def _git(*args: str) -> str:
    return subprocess.run(["git", "-C", str(REPO), *args], capture_output=True, text=True,
                          check=True).stdout.strip()


def default_base() -> str:
    return _git("merge-base", "HEAD", "main")


def default_buckets() -> str:
    from holdem_lab.config import load_run_config

    spec, _ = load_run_config(CONFIGS["holdem"])
    if spec.buckets is None:
        return ""
    path = Path(spec.buckets)
    path = path if path.is_absolute() else REPO / path
    return str(path) if path.exists() else ""


def run(base: str | None = None, pairs: int = 5, cases: tuple[str, ...] = ("leduc", "holdem"),
        iterations: dict[str, int] | None = None, buckets: str | None = None,
        repeats: int = REPEATS, same_bits: bool = True) -> dict[str, Any]:
    base = base or default_base()
    commit = _git("rev-parse", base)
    counts = {**DEFAULT_ITERATIONS, **(iterations or {})}
    bucket_file = default_buckets() if buckets is None else buckets
    out: dict[str, Any] = {"base": base, "base_commit": commit, "head_commit": _git("rev-parse",
                                                                                    "HEAD"),
                           "dirty": bool(_git("status", "--porcelain", "--untracked-files=no")),
                           "pairs": pairs, "holdem_buckets": bucket_file or "lossless preflop"}
    with tempfile.TemporaryDirectory(prefix="bench_kernel_") as tmp:
        old = Path(tmp) / "base"
        _git("worktree", "add", "--detach", str(old), commit)
        try:
            checkouts = {"new": REPO, "old": old}
            for case in cases:
                n = counts[case]
                for checkout in checkouts.values():  # compile into each checkout's cache
                    _measure(checkout, case, 1_000, 1, bucket_file)
                samples: dict[str, list[dict[str, Any]]] = {"new": [], "old": []}
                for pair in range(pairs):
                    order = ("new", "old") if pair % 2 == 0 else ("old", "new")
                    for name in order:
                        samples[name].append(_measure(checkouts[name], case, n, repeats,
                                                      bucket_file))
                digests = {s["digest"] for s in samples["new"] + samples["old"]}
                if same_bits and len(digests) != 1:
                    raise RuntimeError(f"{case}: the two revisions trained differently")
                ratios = [a["cpu_seconds"] / b["cpu_seconds"]
                          for a, b in zip(samples["new"], samples["old"], strict=True)]
                node_ratios = [a["cpu_seconds"] / a["nodes"] / (b["cpu_seconds"] / b["nodes"])
                               for a, b in zip(samples["new"], samples["old"], strict=True)]
                out[case] = {
                    "iterations": n,
                    "nodes_per_run": samples["new"][0]["nodes"],
                    "new_cpu_seconds": [s["cpu_seconds"] for s in samples["new"]],
                    "old_cpu_seconds": [s["cpu_seconds"] for s in samples["old"]],
                    "new_wall_seconds": [s["wall_seconds"] for s in samples["new"]],
                    "old_wall_seconds": [s["wall_seconds"] for s in samples["old"]],
                    "new_median_cpu_seconds": statistics.median(s["cpu_seconds"]
                                                                for s in samples["new"]),
                    "old_median_cpu_seconds": statistics.median(s["cpu_seconds"]
                                                                for s in samples["old"]),
                    "pair_time_ratios": ratios,
                    "time_ratio_median": statistics.median(ratios),
                    "node_time_ratio_median": statistics.median(node_ratios),
                    "same_bits": len(digests) == 1,
                }
        finally:
            _git("worktree", "remove", "--force", str(old))
    out["target"] = "time ratio new / old within 1 +- 0.03"
    return out


def print_table(result: dict[str, Any]) -> None:
    print(f"this checkout ({result['head_commit'][:10]}{', dirty' if result['dirty'] else ''}) "
          f"vs {result['base']} ({result['base_commit'][:10]}), "
          f"median of {result['pairs']} paired runs")
    for case in ("leduc", "holdem"):
        if case not in result:
            continue
        figures = result[case]
        label = case if case == "leduc" else f"holdem ({result['holdem_buckets']})"
        print(f"  {label}: {figures['iterations']:,} iterations, "
              f"new {figures['new_median_cpu_seconds']:.3f} s, "
              f"old {figures['old_median_cpu_seconds']:.3f} s CPU, time ratio new/old "
              f"{figures['time_ratio_median']:.3f} (pairs: "
              + ", ".join(f"{r:.3f}" for r in figures["pair_time_ratios"]) + "), per node "
              f"{figures['node_time_ratio_median']:.3f}"
              + ("" if figures["same_bits"] else "; the revisions train differently"))
    print(f"  target: {result['target']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base", help="git revision to compare with (default: merge-base "
                                       "of HEAD and main)")
    parser.add_argument("--pairs", type=int, default=5)
    parser.add_argument("--cases", nargs="+", choices=sorted(CONFIGS), default=["leduc",
                                                                                "holdem"])
    parser.add_argument("--leduc-iterations", type=int, default=DEFAULT_ITERATIONS["leduc"])
    parser.add_argument("--holdem-iterations", type=int, default=DEFAULT_ITERATIONS["holdem"])
    parser.add_argument("--repeats", type=int, default=REPEATS,
                        help="timed repeats per process; the least CPU time counts")
    parser.add_argument("--buckets", help="Hold'em bucket file (default: the config's, when "
                                          "built; '' for the lossless-preflop abstraction)")
    parser.add_argument("--different-bits", action="store_true",
                        help="the revisions may train differently (e.g. another random "
                             "stream): compare, do not require equal tables")
    parser.add_argument("--out", help="JSON output file")
    parser.add_argument("--worker", choices=sorted(CONFIGS), help=argparse.SUPPRESS)
    parser.add_argument("--iterations", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(_worker(args.worker, args.iterations, args.repeats,
                                 args.buckets or "")))
        return
    result = run(args.base, args.pairs, tuple(args.cases),
                 {"leduc": args.leduc_iterations, "holdem": args.holdem_iterations},
                 args.buckets, args.repeats, not args.different_bits)
    print_table(result)
    if args.out:
        Path(args.out).write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
