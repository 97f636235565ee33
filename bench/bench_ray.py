"""The sharded engine on a Ray cluster against one process: iterations/s of two one-CPU Ray
nodes (one actor each) against one process with 2 workers and with 1 worker, training the same
run from the same state; the bytes the nodes exchange per batch against the tables' size; where
a batch's time goes on the actors (shards, merge, packing logs) and in fetching the tables.

    python -m bench.bench_ray [--seconds 20] [--rounds 2] [--batch 16384] [--warm 200000]

The default heads-up Hold'em config, with its bucket file when it has been built (make
buckets), else the lossless-preflop abstraction (said in the output). The cluster is two nodes
of ray.cluster_utils.Cluster on this machine, in a network namespace of its own that has only
loopback (the script re-runs itself under `unshare -n`, which needs root). Every variant runs
`run()` calls of about a second, as a chunk does (the cluster's tables are fetched after each).
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.bench_parallel import _holdem
from holdem_lab import Solver

REPO = Path(__file__).resolve().parents[1]
INSIDE = "HOLDEM_LAB_BENCH_NETNS"


def _speed(solver: Solver, seconds: float) -> dict[str, float]:
    """Iterations/s over about `seconds`, in run() calls of about a second each."""
    solver.run(solver.batch_iterations)  # compiled, actors started
    iterations0 = solver.iteration
    started = time.perf_counter()
    amount = solver.batch_iterations
    while time.perf_counter() - started < seconds:
        before = time.perf_counter()
        solver.run(amount)
        if time.perf_counter() - before < 0.5:
            amount *= 2
    spent = time.perf_counter() - started
    return {"iterations_per_second": (solver.iteration - iterations0) / spent,
            "iterations": solver.iteration - iterations0, "seconds": spent}


def measure(args: argparse.Namespace) -> dict[str, Any]:
    import ray
    from ray.cluster_utils import Cluster

    game, base, source = _holdem()
    config = base.replace(num_iterations=None, enable_chunked_training=False,
                          chunk_size_iterations=None, chunk_size_minutes=None,
                          engine="sharded", batch_iterations=args.batch, shards=args.shards)
    warm = Solver(game, config.replace(num_workers=2))
    warm.run(args.warm)
    state = warm.state_dict()
    temp = Path(tempfile.mkdtemp(prefix="hlbench"))
    os.environ["RAY_TMPDIR"] = str(temp)  # Ray's address file too, not the machine's /tmp/ray
    (temp / "ray").mkdir()
    node = {"num_cpus": 1, "object_store_memory": 512 << 20}
    cluster = Cluster(initialize_head=True,
                      head_node_args={**node, "temp_dir": str(temp / "ray"),
                                      "include_dashboard": False})
    cluster.add_node(**node)
    cluster.wait_for_nodes()
    variants = {"one_process_1_worker": config.replace(num_workers=1),
                "one_process_2_workers": config.replace(num_workers=2),
                "ray_2_nodes_1_cpu": config.replace(num_workers=1,
                                                    ray_address=cluster.address)}
    speeds: dict[str, list[float]] = {name: [] for name in variants}
    cluster_detail: dict[str, Any] = {}
    try:
        for _ in range(args.rounds):  # interleaved, the best of each kept
            for name, variant in variants.items():
                solver = Solver(game, variant)
                solver.load_state_dict(state)
                result = _speed(solver, args.seconds)
                speeds[name].append(result["iterations_per_second"])
                if variant.ray_address is not None:
                    engine = solver.cluster()
                    timing = dict(engine.timing)
                    batches_done = max(timing.pop("batches", 1.0), 1.0)
                    cluster_detail = {
                        "bytes_per_batch": engine.bytes_per_batch,
                        "table_bytes": int(solver.regrets.nbytes + solver.strategy_sum.nbytes),
                        "per_batch_seconds": {k: v / batches_done for k, v in timing.items()
                                              if k != "fetch_seconds"},
                        "fetch_seconds_total": timing.get("fetch_seconds", 0.0),
                        "batches": batches_done, "nodes": solver.cluster_info()}
                    engine.stop()
                del solver
    finally:
        ray.shutdown()
        cluster.shutdown()
        shutil.rmtree(temp, ignore_errors=True)
    best = {name: max(values) for name, values in speeds.items()}
    one = best["one_process_1_worker"]
    return {"game": f"default heads-up Hold'em ({source}), {game.num_rows:,} infosets",
            "batch_iterations": args.batch, "shards": args.shards,
            "warm_iterations": args.warm, "seconds": args.seconds, "rounds": args.rounds,
            "iterations_per_second": best, "all_rounds": speeds,
            "ratio_vs_1_worker": {name: value / one for name, value in best.items()},
            "cluster": cluster_detail}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--batch", type=int, default=16384)
    parser.add_argument("--shards", type=int, default=32)
    parser.add_argument("--warm", type=int, default=200_000)
    parser.add_argument("--out", help="also write the JSON here")
    args = parser.parse_args(argv)
    if os.environ.get(INSIDE) != "1":
        command = " ".join(shlex.quote(a) for a in (sys.executable, "-m", "bench.bench_ray",
                                                     *(argv if argv is not None
                                                       else sys.argv[1:])))
        env = dict(os.environ, **{INSIDE: "1", "RAY_USAGE_STATS_ENABLED": "0"})
        sys.exit(subprocess.run(["unshare", "-n", "sh", "-c",
                                 f"ip link set lo up && exec {command}"],
                                cwd=REPO, env=env).returncode)
    result = measure(args)
    text = json.dumps(result, indent=2)
    print(text)
    if args.out:
        Path(args.out).write_text(text + "\n")


if __name__ == "__main__":
    main()
