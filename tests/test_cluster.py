"""The sharded engine on a Ray cluster (holdem_lab.solver.cluster): replicas that run ranges of
shards and merge every shard's packed logs give the single-process tables bit for bit; through
a real multi-node cluster on loopback (tests/hostile/cluster.py), also across chunks, a killed
worker and a killed driver."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hostile.cluster import CASES as CLUSTER_CASES
from hostile.cluster import CHUNK_CONFIG, DRIVER_CONFIG, DRIVER_ITERATIONS, DRIVER_KILLS
from hostile.parallel import HOLDEM_MENU
from hostile.runs import REPO, assert_same_state, one_line_error, train_in_process

from holdem_lab import MCCFRConfig, Solver, load_game
from holdem_lab.checkpoint import list_checkpoints, load_checkpoint
from holdem_lab.chunks.runner import latest_checkpoint
from holdem_lab.errors import ConfigError
from holdem_lab.solver.cluster import Replica, assign_shards

SETTINGS = dict(engine="sharded", discount_mode="dcfr", discount_interval=5,
                enable_pruning=True, prune_warmup_iterations=32, prune_probability=0.5,
                prune_threshold=-20.0, regret_floor=-40.0, seed=11)


def test_shards_are_assigned_in_contiguous_ranges_by_cpus() -> None:
    assert assign_shards(16, [1, 1]) == [(0, 8), (8, 8)]
    assert assign_shards(16, [1, 3]) == [(0, 4), (4, 12)]
    assert assign_shards(7, [2, 2, 2]) == [(0, 3), (3, 2), (5, 2)]
    assert assign_shards(2, [1, 1, 1]) == [(0, 1), (1, 1), (2, 0)]
    for shards, cpus in ((32, [4, 4, 8, 1]), (9, [1] * 9), (5, [3, 1])):
        ranges = assign_shards(shards, cpus)
        assert sum(count for _, count in ranges) == shards
        assert all(first == sum(c for _, c in ranges[:i]) for i, (first, _) in enumerate(ranges))
    with pytest.raises(ValueError):
        assign_shards(4, [])


def test_packed_logs_unpack_to_the_same_bits() -> None:
    """Packing drops unused capacity and trailing +0.0 values; unpacking restores every entry
    bit for bit, -0.0 included."""
    from holdem_lab.solver import batches

    rng = np.random.default_rng(3)
    shards, parts, capacity, width = 5, batches.LOG_PARTS, 6, 4
    rows = rng.integers(0, 1000, size=(shards, parts, capacity))
    values = rng.choice(np.array([0.0, -0.0, 1.5, -2.25, 3e-300]),
                        size=(shards, parts, capacity, width))
    counts = np.zeros((shards, parts + 8), dtype=np.int64)
    counts[:, :parts] = rng.integers(0, capacity + 1, size=(shards, parts))
    stats = rng.integers(0, 99, size=(shards, 8))
    for code_type in (np.int32, np.int64):
        packed = batches.pack_logs(1, 3, stats, rows, values, counts,
                                   np.zeros(0, dtype=code_type))
        assert packed[1].dtype == code_type
        assert packed[3].size < 3 * parts * capacity * width
        out_rows = np.full_like(rows, -1)
        out_values = np.full_like(values, np.nan)
        out_counts = np.zeros_like(counts)
        out_stats = np.zeros_like(stats)
        batches.unpack_logs(1, *packed, out_stats, out_rows, out_values, out_counts)
        assert np.array_equal(out_counts[1:4, :parts], counts[1:4, :parts])
        assert np.array_equal(out_stats[1:4, :4], stats[1:4, :4])
        for s in range(1, 4):
            for part in range(parts):
                n = counts[s, part]
                assert np.array_equal(out_rows[s, part, :n], rows[s, part, :n])
                assert np.array_equal(out_values[s, part, :n].view(np.uint64),
                                      values[s, part, :n].view(np.uint64))


def _replicas(solver: Solver, cpus: list[int]) -> list[Replica]:
    state = solver.state_dict()
    return [Replica(solver.game, solver.config, solver.engine_info(), state, first, count, 1)
            for first, count in assign_shards(solver.shards, cpus) if count]


def _train_replicas(replicas: list[Replica], first: int, batch: int, count: int) -> None:
    """What the chunk process asks of the actors, in one process: each call merges the
    previous batch (every replica's packed logs, its own in place) and runs the next."""
    logs: list[object] = [None] * len(replicas)
    for call in range(count + 1):
        next_t0 = first + call * batch if call < count else None
        results = [r.step(next_t0, *[p if i != j else None for i, p in enumerate(logs)])
                   for j, r in enumerate(replicas)]
        logs = [packed for _, packed in results]


@pytest.mark.parametrize("game_name", ["leduc", "holdem"])
def test_replicas_merging_every_shard_equal_one_process(game_name: str) -> None:
    game = load_game(game_name, bet_sizing=HOLDEM_MENU) if game_name == "holdem" \
        else load_game(game_name)
    batch, shards = (64, 8) if game_name == "leduc" else (128, 16)
    config = MCCFRConfig(batch_iterations=batch, shards=shards, num_workers=1,
                         **SETTINGS)  # type: ignore[arg-type]
    if game_name == "leduc":  # Leduc's regrets are a few chips
        config = config.replace(discount_mode="linear", prune_threshold=-0.5, regret_floor=-5.0)
    reference = Solver(game, config)
    reference.run(3 * batch)
    start = Solver(game, config)
    start.run(batch)  # replicas start from a state with history, as after a resume
    replicas = _replicas(start, [1, 2, 1])
    _train_replicas(replicas, batch + 1, batch, 2)
    for replica in replicas:
        tables = replica.tables()
        assert tables["iteration"] == 3 * batch
        for name in ("regrets", "strategy_sum", "stats"):
            assert np.array_equal(tables[name], getattr(reference, name)), name
        assert np.array_equal(tables["scale"], reference._scale)
        assert np.array_equal(tables["discount"], reference._discount)
    # Pruning acted (Leduc) or at least drew its iterations (Hold'em, too early to skip).
    assert reference.statistics()["pruned_actions" if game_name == "leduc"
                                  else "pruned_iterations"] > 0
    adopted = Solver(game, config)
    adopted.load_state_dict(start.state_dict())
    adopted._adopt_replica(replicas[1].tables())
    assert np.array_equal(adopted.average_policy(), reference.average_policy())


def test_a_replica_grows_its_logs_and_keeps_the_merge_exact() -> None:
    game = load_game("leduc")
    config = MCCFRConfig(batch_iterations=64, shards=8, num_workers=1,
                         **SETTINGS)  # type: ignore[arg-type]
    reference = Solver(game, config)
    reference.run(128)
    replicas = _replicas(Solver(game, config), [1, 1])
    for replica in replicas:
        replica._grow(1)  # far too small: every batch overflows first
    _train_replicas(replicas, 1, 64, 2)
    assert replicas[0].capacity > 1
    assert np.array_equal(replicas[0].tables()["regrets"], reference.regrets)
    assert np.array_equal(replicas[1].tables()["strategy_sum"], reference.strategy_sum)


def test_a_cluster_address_is_checked_and_needs_the_sharded_engine() -> None:
    assert MCCFRConfig(ray_address="auto").ray_address == "auto"
    assert MCCFRConfig(ray_address="10.0.0.1:6379").ray_address == "10.0.0.1:6379"
    for bad in ("", "host", "host:port", "host:0", ":6379", "a b:1", 6379):
        with pytest.raises(ConfigError, match="ray_address"):
            MCCFRConfig(ray_address=bad)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="engine"):
        MCCFRConfig(engine="sequential", ray_address="auto")
    with pytest.raises(ConfigError, match="sharded"):
        Solver(load_game("leduc"), MCCFRConfig(ray_address="auto"))  # auto: sequential


def test_the_flag_reaches_the_config_and_a_bad_address_is_one_line(tmp_path: Path) -> None:
    from holdem_lab.cli.train import build_parser, settings_from_args

    args = build_parser().parse_args(["--logdir", str(tmp_path), "--ray-address", "auto"])
    assert settings_from_args(args)["ray_address"] == "auto"
    code, _, err = train_in_process("--logdir", str(tmp_path / "run"), "--game", "leduc",
                                    "--engine", "sharded", "--ray-address", "head:port")
    assert code == 2
    assert "ray_address='head:port': must be auto or HOST:PORT" in one_line_error(err)
    assert not (tmp_path / "run").exists()


def test_the_slurm_recipe_is_valid_bash_and_adds_the_cluster_address() -> None:
    script = REPO / "scripts" / "slurm" / "ray_chunks.sbatch"
    done = subprocess.run(["bash", "-n", str(script)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    text = script.read_text()
    assert '"$train" "$@" --ray-address "$address"' in text
    assert "start --head" in text and "--address=\"$address\"" in text


def test_a_plain_run_never_imports_ray() -> None:
    import subprocess
    import sys

    code = ("import sys\nfrom holdem_lab import MCCFRConfig, Solver, load_game\n"
            "s = Solver(load_game('leduc'), MCCFRConfig(engine='sharded', num_workers=1))\n"
            "s.run(64)\nimport holdem_lab.cli.train, holdem_lab.chunks\n"
            "print('ray' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"


# A real cluster ----------------------------------------------------------------------------

def _cluster_run(workdir: Path, *scenarios: str) -> dict[str, Any]:
    """hostile/cluster.py's scenarios on a fresh two-node cluster in a network namespace that
    has only loopback."""
    if shutil.which("unshare") is None or os.geteuid() != 0:
        pytest.fail("the cluster tests need root and unshare(1) for a private network namespace")
    command = " ".join(shlex.quote(a) for a in (sys.executable, "-m", "hostile.cluster",
                                                 str(workdir), *scenarios))
    env = dict(os.environ, NUMBA_NUM_THREADS="1", RAY_DEDUP_LOGS="0",
               RAY_USAGE_STATS_ENABLED="0")
    done = subprocess.run(["unshare", "-n", "sh", "-c", f"ip link set lo up && exec {command}"],
                          cwd=REPO / "tests", env=env, capture_output=True, text=True,
                          timeout=900)
    assert done.returncode == 0, done.stderr[-4000:]
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def cluster_results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    scenarios = ["identity", "chunks", "kill-worker", "stall", "kill-driver", "sigterm"]
    return _cluster_run(tmp_path_factory.mktemp("cluster"), *scenarios)


@pytest.mark.parametrize("case", sorted(CLUSTER_CASES))
def test_a_two_node_cluster_gives_the_single_process_tables(
        cluster_results: dict[str, Any], case: str) -> None:
    result = cluster_results["identity"][case]
    assert result["nodes"] == 2 and result["node_ips"] == ["127.0.0.1", "127.0.0.1"]
    assert sorted(result["shards"]) == ([[0, 4], [4, 4]] if case == "leduc"
                                        else [[0, 8], [8, 8]])
    assert result["cluster"] == result["local"]
    assert result["statistics"]["pruned_actions"] > 0
    assert result["bytes_per_batch"] > 0


def test_chunks_moving_between_a_cluster_and_one_process_equal_one_run(
        cluster_results: dict[str, Any]) -> None:
    result = cluster_results["chunks"]
    config = CHUNK_CONFIG
    assert result["ends"] == [512, 1024, 1536]
    reference = Solver(load_game("holdem", bet_sizing=HOLDEM_MENU), config)
    reference.run(1536)
    logdir = Path(result["logdir"])
    assert_same_state(logdir, reference)
    info = latest_checkpoint(logdir)
    assert info is not None
    meta = load_checkpoint(info).metadata
    changes = [c["changes"] for c in meta["config_changes"]]
    assert any("ray_address" in change for change in changes)
    first = load_checkpoint(sorted(list_checkpoints(logdir / "checkpoints"),
                                   key=lambda c: c.iteration)[0]).metadata
    assert first["cluster"] is not None and len(first["cluster"]["nodes"]) == 2
    assert meta["engine"] == reference.engine_info()


def test_a_worker_killed_mid_batch_is_recovered_and_the_run_ends_identical(
        cluster_results: dict[str, Any]) -> None:
    result = cluster_results["kill-worker"]
    assert result["killed_at"], "the actor was not killed during the run"
    assert result["recoveries"] >= 1
    assert result["cluster"] == result["local"]


def test_a_stalled_node_ends_the_batch_with_a_clear_error_not_a_hang(
        cluster_results: dict[str, Any]) -> None:
    result = cluster_results["stall"]
    assert result["error"].startswith("Ray cluster: a batch did not finish within 3 s"), result
    assert 3.0 <= result["waited"] < 30.0
    assert result["exit_code"] == 9


def test_sigterm_checkpoints_a_chunk_on_the_cluster_and_exits_8(
        cluster_results: dict[str, Any]) -> None:
    result = cluster_results["sigterm"]
    assert result["exit_code"] == 8, result["stderr"]
    assert "Chunk stopped early by request" in result["stdout"]
    info = latest_checkpoint(Path(result["logdir"]))
    assert info is not None and info.iteration > 0
    reference = Solver(load_game("leduc"), DRIVER_CONFIG)
    reference.run(info.iteration)
    assert_same_state(Path(result["logdir"]), reference)


@pytest.mark.slow
def test_a_killed_driver_leaves_a_run_the_next_chunk_resumes(
        cluster_results: dict[str, Any]) -> None:
    """The training command on the cluster killed with SIGKILL mid-chunk (once; twice in
    full), then run until training is complete: the run equals an uninterrupted one."""
    result = cluster_results["kill-driver"]
    assert result["kills"] == DRIVER_KILLS
    reference = Solver(load_game("leduc"), DRIVER_CONFIG)
    reference.run(DRIVER_ITERATIONS)
    assert_same_state(Path(result["logdir"]), reference)
