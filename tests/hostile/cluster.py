"""Training through a real multi-node Ray cluster on loopback, for tests/test_cluster.py.

Run inside a network namespace of its own that has only loopback (so that every node registers
as 127.0.0.1 and no test traffic leaves the machine), as the test does:

    unshare -n sh -c 'ip link set lo up && python -m hostile.cluster WORKDIR identity ...'

It starts a cluster of two one-CPU nodes (ray.cluster_utils.Cluster: a head and a worker node,
each with its own raylet and object store), runs the named scenarios against it and prints one
JSON object: per scenario, what the test compares (digests, or the run directory to compare
with a reference run).
"""

from __future__ import annotations

import io
import json
import os
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any

from holdem_lab import MCCFRConfig, Solver, load_game
from holdem_lab.chunks import ChunkStatus, run_chunk
from holdem_lab.config import GameSpec
from hostile.parallel import HOLDEM_MENU, digest
from hostile.runs import start, train_with_kills, wait_for_line

NODES = 2
OBJECT_STORE_BYTES = 100 << 20

CASES: dict[str, tuple[str, dict[str, Any], int]] = {
    # name: (game, settings, iterations in three runs)
    "leduc": ("leduc", dict(discount_mode="linear", discount_interval=3, batch_iterations=64,
                            shards=8, enable_pruning=True, prune_warmup_iterations=64,
                            prune_probability=0.5, prune_threshold=-0.5, regret_floor=-5.0,
                            sampling="outcome"), 1152),
    "holdem": ("holdem", dict(discount_mode="dcfr", discount_interval=50, batch_iterations=256,
                              shards=16, enable_pruning=True, prune_warmup_iterations=256,
                              prune_probability=0.5, prune_threshold=-1.0,
                              regret_floor=-40.0), 1536),
}
HOLDEM = GameSpec(game="holdem", game_params={"bet_sizing": HOLDEM_MENU})
CHUNK_CONFIG = MCCFRConfig(num_iterations=1536, enable_chunked_training=True,
                           chunk_size_iterations=512, checkpoint_interval=256,
                           batch_iterations=128, shards=16, seed=5, engine="sharded",
                           discount_mode="dcfr", discount_interval=5, tensorboard_log_interval=256,
                           evaluation_deal_pairs=0, lbr_hands=0)
FULL = os.environ.get("HOLDEM_LAB_FULL") == "1"
DRIVER_KILLS = 2 if FULL else 1
DRIVER_ITERATIONS = 120_000 if FULL else 40_000
DRIVER_ARGS = ["--game", "leduc", "--engine", "sharded", "--batch-iterations", "64",
               "--shards", "8", "--discount-mode", "linear", "--discount-interval", "7",
               "--iters", str(DRIVER_ITERATIONS), "--chunked", "--chunk-iterations",
               str(DRIVER_ITERATIONS // 2), "--checkpoint-interval", "6400", "--seed", "21",
               "--no-tensorboard"]
DRIVER_CONFIG = MCCFRConfig(engine="sharded", batch_iterations=64, shards=8, seed=21,
                            discount_mode="linear", discount_interval=7)


def game_of(name: str) -> Any:
    return load_game(name, bet_sizing=HOLDEM_MENU) if name == "holdem" else load_game(name)


def config_of(case: str, address: str | None) -> MCCFRConfig:
    _, settings, _ = CASES[case]
    return MCCFRConfig(engine="sharded", seed=7, num_workers=1, ray_address=address,
                       **settings)


def train(case: str, address: str | None) -> Solver:
    game_name, _, iterations = CASES[case]
    solver = Solver(game_of(game_name), config_of(case, address))
    for _ in range(3):  # through the run boundaries a chunk has
        solver.run(iterations // 3)
    return solver


def identity(address: str, workdir: Path) -> dict[str, Any]:
    """Each case on the cluster and in this process, digested."""
    out: dict[str, Any] = {}
    for case in CASES:
        on_cluster = train(case, address)
        info = on_cluster.cluster_info()
        assert info is not None
        out[case] = {"cluster": digest(on_cluster), "local": digest(train(case, None)),
                     "nodes": len(info["nodes"]), "node_ips": sorted(
                         n["node_ip"] for n in info["nodes"]),
                     "shards": [n["shards"] for n in info["nodes"]],
                     "statistics": on_cluster.statistics(),
                     "bytes_per_batch": on_cluster.cluster().bytes_per_batch,
                     "table_bytes": int(on_cluster.regrets.nbytes
                                        + on_cluster.strategy_sum.nbytes)}
        on_cluster.cluster().stop()
    return out


def chunks(address: str, workdir: Path) -> dict[str, Any]:
    """Chunks that alternate between the cluster and this process, to completion."""
    logdir = workdir / "chunks"
    ends = []
    for k in range(8):
        config = CHUNK_CONFIG.replace(ray_address=address if k % 2 == 0 else None,
                                      num_workers=1)
        result = run_chunk(logdir, HOLDEM, config, progress=False, tensorboard=False,
                           out=io.StringIO())
        ends.append(result.iteration)
        if result.status is ChunkStatus.COMPLETE:
            break
    return {"logdir": str(logdir), "ends": ends}


def kill_worker(address: str, workdir: Path) -> dict[str, Any]:
    """A run during which one actor's process is killed with SIGKILL mid-batch."""
    case = "holdem"
    game_name, _, iterations = CASES[case]
    solver = Solver(game_of(game_name), config_of(case, address))
    solver.run(CASES[case][1]["batch_iterations"])  # the actors are up
    engine = solver.cluster()
    victim = int(engine.nodes[-1]["platform"]["pid"])
    start = solver.iteration
    killed: list[int] = []

    def kill_when_training() -> None:
        while solver.iterations_completed_now < start + 512:
            time.sleep(0.001)
        os.kill(victim, signal.SIGKILL)
        killed.append(solver.iterations_completed_now)

    killer = threading.Thread(target=kill_when_training, daemon=True)
    killer.start()
    total = 40 * CASES[case][1]["batch_iterations"]
    solver.run(total)
    killer.join(timeout=60)
    reference = Solver(game_of(game_name), config_of(case, None))
    reference.run(solver.iteration)
    return {"killed_at": killed, "iteration": solver.iteration,
            "recoveries": engine.recoveries, "cluster": digest(solver),
            "local": digest(reference)}


def stall(address: str, workdir: Path) -> dict[str, Any]:
    """A run during which one actor stops (SIGSTOP): the batch times out with a ClusterError
    that says why, instead of hanging."""
    from holdem_lab.errors import ClusterError

    case = "leduc"
    solver = Solver(game_of("leduc"), config_of(case, address))
    solver.run(CASES[case][1]["batch_iterations"])
    engine = solver.cluster()
    engine.batch_timeout = 3.0
    victim = int(engine.nodes[0]["platform"]["pid"])
    os.kill(victim, signal.SIGSTOP)
    started = time.perf_counter()
    try:
        solver.run(100 * CASES[case][1]["batch_iterations"])
        error = ""
    except ClusterError as exc:
        error = exc.message()
    finally:
        os.kill(victim, signal.SIGCONT)
    return {"error": error, "waited": time.perf_counter() - started,
            "exit_code": ClusterError.exit_code}


def kill_driver(address: str, workdir: Path) -> dict[str, Any]:
    """The training command on the cluster, killed with SIGKILL mid-chunk, run to the end."""
    logdir = workdir / "driver"
    kills = train_with_kills(logdir, [*DRIVER_ARGS, "--ray-address", address],
                             kills=DRIVER_KILLS, max_delay=4.0, seed=3)
    return {"logdir": str(logdir), "kills": kills}


def sigterm(address: str, workdir: Path) -> dict[str, Any]:
    """SIGTERM to a chunk training on the cluster: it checkpoints and exits 8, as on one
    machine (Ray's driver set-up must leave the chunk's signal handling in place)."""
    logdir = workdir / "sigterm"
    process = start(logdir, *DRIVER_ARGS, "--ray-address", address)
    wait_for_line(process, "Starting fresh")
    wait_for_line(process, "Checkpoint saved")  # the interval checkpoint: training on the cluster
    process.send_signal(signal.SIGTERM)
    out, err = process.communicate(timeout=120)
    return {"logdir": str(logdir), "exit_code": process.returncode, "stdout": out[-2000:],
            "stderr": err[-2000:]}


SCENARIOS = {"identity": identity, "chunks": chunks, "kill-worker": kill_worker,
             "stall": stall, "kill-driver": kill_driver, "sigterm": sigterm}


def main(argv: list[str]) -> None:
    workdir = Path(argv[0])
    names = argv[1:]
    # Short paths: Ray's sockets live under the temp dir and a socket path has ~100 bytes.
    temp_dir = workdir / "ray"
    temp_dir.mkdir(parents=True, exist_ok=True)
    os.environ["RAY_TMPDIR"] = str(workdir)  # Ray's address file too, not the machine's /tmp/ray
    import ray
    from ray.cluster_utils import Cluster

    node_args = {"num_cpus": 1, "object_store_memory": OBJECT_STORE_BYTES}
    cluster = Cluster(initialize_head=True, head_node_args={
        **node_args, "temp_dir": str(temp_dir), "include_dashboard": False})
    try:
        for _ in range(NODES - 1):
            cluster.add_node(**node_args)
        cluster.wait_for_nodes()
        out = {}
        for name in names:
            started = time.perf_counter()
            out[name] = SCENARIOS[name](cluster.address, workdir)
            out[name]["seconds"] = time.perf_counter() - started
        print(json.dumps(out))
    finally:
        ray.shutdown()
        cluster.shutdown()


if __name__ == "__main__":
    main(sys.argv[1:])
