"""The sharded engine: the same tables bit for bit for any number of workers, through chunks
whose worker count changes, through SIGKILL; its batch rules, random streams and identity."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hostile.parallel import CASES, HOLDEM_MENU
from hostile.runs import REPO, assert_same_state, train_with_kills

from holdem_lab import MCCFRConfig, Solver, load_game
from holdem_lab.checkpoint import load_checkpoint
from holdem_lab.checkpoint.store import FORMAT_VERSION, metadata_digest
from holdem_lab.chunks import ChunkStatus, run_chunk
from holdem_lab.chunks.runner import latest_checkpoint, rng_state_to_json
from holdem_lab.config import GameSpec
from holdem_lab.errors import ConfigError, ResumeMismatchError
from holdem_lab.games.streams import (
    LEGACY_SEQUENTIAL_STREAM,
    SEQUENTIAL_STREAM,
    counter_draws,
    stream_key,
)
from holdem_lab.solver import batches
from holdem_lab.solver.solver import batch_sizes, resolve_engine

HOLDEM = GameSpec(game="holdem", game_params={"bet_sizing": HOLDEM_MENU})
SHARDED = dict(engine="sharded", discount_mode="dcfr", discount_interval=5,
               enable_pruning=True, prune_warmup_iterations=128, prune_probability=0.5,
               prune_threshold=-20.0, regret_floor=-40.0)


@pytest.fixture(scope="module")
def worker_digests() -> dict[str, dict[str, object]]:
    """Every case of hostile/parallel.py trained on 1, 2, 3 and 4 workers (4 oversubscribes a
    2-core machine on purpose), in a process whose numba pool has 4 threads."""
    env = dict(os.environ, NUMBA_NUM_THREADS="4")
    done = subprocess.run([sys.executable, "-m", "hostile.parallel", "1", "2", "3", "4"],
                          cwd=REPO / "tests", env=env, capture_output=True, text=True,
                          timeout=900)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)  # type: ignore[no-any-return]


@pytest.mark.parametrize("case", sorted(CASES))
def test_every_worker_count_gives_the_same_tables(
        worker_digests: dict[str, dict[str, object]], case: str) -> None:
    digests = worker_digests[case]["digests"]
    assert isinstance(digests, dict) and sorted(digests) == ["1", "2", "3", "4"]
    assert len(set(digests.values())) == 1, digests
    statistics = worker_digests[case]["statistics"]
    assert isinstance(statistics, dict)
    # The cases exercise what they claim to: pruning acted, and every iteration traversed.
    assert statistics["pruned_actions"] > 0
    assert statistics["traversals"] == 2 * CASES[case][2]


def test_the_sharded_engine_trains_and_its_seeds_differ() -> None:
    game = load_game("leduc")
    config = MCCFRConfig(engine="sharded", seed=3, discount_mode="linear")
    one, two = Solver(game, config), Solver(game, config.replace(seed=4))
    one.run(20_000)
    two.run(20_000)
    assert one.iteration == two.iteration == 20_000
    assert np.abs(one.regrets).sum() > 0 and not np.array_equal(one.regrets, two.regrets)
    from holdem_lab import exploitability
    assert exploitability(game, one.average_policy()) < 0.5  # uniform play: 2.37


def test_run_rounds_up_to_whole_batches_and_a_state_off_a_boundary_is_refused() -> None:
    game = load_game("leduc")
    solver = Solver(game, MCCFRConfig(engine="sharded", batch_iterations=64, shards=8))
    assert solver.run(1) == 64 and solver.iteration == 64
    assert solver.run(65) == 128 and solver.iteration == 192
    state = solver.state_dict()
    state["iteration"] = 100
    with pytest.raises(ValueError, match="not on a batch boundary"):
        Solver(game, solver.config).load_state_dict(state)


def test_batch_rule_follows_the_infoset_count() -> None:
    assert batch_sizes(12) == (16, 8)  # Kuhn: the smallest batch
    assert batch_sizes(288) == (16, 8)  # Leduc
    assert batch_sizes(205_966) == (512, 32)  # the default heads-up config
    assert batch_sizes(10**8) == (512, 32)
    for rows in (12, 288, 5_000, 70_000, 10**6):
        batch, shards = batch_sizes(rows)
        assert batch % shards == 0 and batch // shards >= 2
    assert resolve_engine("auto", 288) == "sequential"
    assert resolve_engine("auto", 205_966) == "sharded"
    assert resolve_engine("sharded", 12) == "sharded"


def test_discount_steps_within_a_batch_are_counted_from_the_interval_and_stop() -> None:
    game = load_game("leduc")
    solver = Solver(game, MCCFRConfig(discount_mode="dcfr", discount_interval=3))
    iparams = solver._iparams
    assert batches.discount_steps_in(iparams, 1, 16) == 5  # after 3, 6, 9, 12, 15
    assert batches.discount_steps_in(iparams, 17, 32) == 5  # 18 .. 30
    stop = Solver(game, MCCFRConfig(discount_mode="linear", discount_interval=3,
                                    discount_stop_iteration=20))
    assert batches.discount_steps_in(stop._iparams, 17, 32) == 1  # 18 only


def test_counter_streams_are_uniform_and_distinct_per_shard() -> None:
    draws = counter_draws(7, 0, 0, 200_000)
    assert draws.min() >= 0.0 and draws.max() < 1.0
    assert abs(draws.mean() - 0.5) < 0.005
    assert abs(np.var(draws) - 1 / 12) < 0.002
    counts, _ = np.histogram(draws, bins=20, range=(0.0, 1.0))
    assert counts.min() > 9_000 and counts.max() < 11_000
    keys = {stream_key(seed, batch, shard) for seed in range(3) for batch in range(50)
            for shard in range(64)}
    assert len(keys) == 3 * 50 * 64
    assert np.array_equal(counter_draws(7, 0, 0, 10), draws[:10])
    other = counter_draws(7, 0, 1, 10_000)
    assert abs(np.corrcoef(draws[:10_000], other)[0, 1]) < 0.05


def _run_chunks(logdir: Path, config: MCCFRConfig, workers: list[int]) -> list[int]:
    ends = []
    for count in workers:
        result = run_chunk(logdir, HOLDEM, config.replace(num_workers=count), progress=False,
                           tensorboard=False)
        ends.append(result.iteration)
        if result.status is ChunkStatus.COMPLETE:
            break
    return ends


def test_chunks_with_a_changing_worker_count_equal_one_run(tmp_path: Path) -> None:
    config = MCCFRConfig(num_iterations=2_000, enable_chunked_training=True,
                         chunk_size_iterations=300, checkpoint_interval=250,
                         batch_iterations=128, shards=16, seed=5,
                         **SHARDED)  # type: ignore[arg-type]
    ends = _run_chunks(tmp_path, config, [2, 1, 2, 1, 2, 1, 2, 1])
    # Limits and intervals fall on batch boundaries: 300 -> 384 per chunk, 2,000 -> 2,048.
    assert ends == [384, 768, 1152, 1536, 1920, 2048]
    reference = Solver(load_game("holdem", bet_sizing=HOLDEM_MENU), config)
    reference.run(2_048)
    assert_same_state(tmp_path, reference)
    info = latest_checkpoint(tmp_path)
    assert info is not None
    meta = load_checkpoint(info).metadata
    assert meta["engine"] == {"name": "sharded", "batch_iterations": 128, "shards": 16,
                              "streams": reference.engine_info()["streams"]}
    assert set(meta["platform"]) >= {"numba", "llvmlite", "numpy", "cpu"}
    changes = [c["changes"] for c in meta["config_changes"]]
    assert changes[0]["num_workers"] == [2, 1]
    # Interval checkpoints at 256-iteration multiples (250 rounded up to whole batches).
    assert meta["metrics"]["update_buffer_bytes"] > 0


def test_status_says_how_a_sharded_run_trained(tmp_path: Path) -> None:
    from holdem_lab.cli.status import describe_run

    config = MCCFRConfig(num_iterations=512, batch_iterations=128, shards=16, seed=5,
                         num_workers=1, **SHARDED)  # type: ignore[arg-type]
    run_chunk(tmp_path, HOLDEM, config, progress=False, tensorboard=False)
    speed = next(line for line in describe_run(tmp_path) if line.startswith("speed:"))
    assert speed.endswith(" on 1 worker (sharded engine, batches of 128 in 16 shards)")


def test_a_different_batch_or_engine_is_refused_naming_it(tmp_path: Path) -> None:
    config = MCCFRConfig(num_iterations=1_000, enable_chunked_training=True,
                         chunk_size_iterations=256, batch_iterations=128, shards=16, seed=5,
                         **SHARDED)  # type: ignore[arg-type]
    run_chunk(tmp_path, HOLDEM, config, progress=False, tensorboard=False)
    for change in (dict(batch_iterations=256), dict(shards=8), dict(engine="sequential")):
        with pytest.raises(ResumeMismatchError, match="engine mismatch"):
            run_chunk(tmp_path, HOLDEM, config.replace(**change), progress=False,
                      tensorboard=False)


def _legacy_stream(document: dict[str, object], seed: int) -> None:
    """Make a forged older document's sequential run one that drew from numpy's PCG64, as every
    sequential run before the counter stream did: its engine record and its generator state
    (that of a fresh generator: the forged run continues from there)."""
    state = np.random.default_rng(seed).bit_generator.state
    document["rng_state"] = rng_state_to_json(dict(state))
    if "engine" in document:
        document["engine"] = {"name": "sequential", "streams": LEGACY_SEQUENTIAL_STREAM}


def _legacy_reference(config: MCCFRConfig, first: int, then: int) -> Solver:
    """What a forged legacy run holds after `first` iterations of the counter stream (the tables
    the forged checkpoint kept) and `then` more from a fresh PCG64 generator."""
    reference = Solver(load_game("holdem", bet_sizing=HOLDEM_MENU), config)
    reference.run(first)
    reference.adopt_engine({"name": "sequential", "streams": LEGACY_SEQUENTIAL_STREAM})
    reference.run(then)
    return reference


def test_a_format_1_checkpoint_names_the_engine_that_continues_it(tmp_path: Path) -> None:
    """Checkpoints written before the sharded engine (format_version 1) were all trained by
    the sequential engine: they resume with it (and its numpy stream), and are refused with the
    flag otherwise."""
    # Without discounting: a forged version-1 document must hold true values, as they did.
    config = MCCFRConfig(num_iterations=600, enable_chunked_training=True,
                         chunk_size_iterations=200, seed=2, engine="sequential",
                         discount_mode="none")
    run_chunk(tmp_path, HOLDEM, config, progress=False, tensorboard=False)
    info = latest_checkpoint(tmp_path)
    assert info is not None and FORMAT_VERSION == 4
    document = json.loads(info.metadata_path.read_text())
    document.pop("metadata_sha256")
    document.pop("engine")
    document.pop("platform")
    document.pop("discount_window_start")
    for key in ("engine", "batch_iterations", "shards"):
        document["config"].pop(key)
    _legacy_stream(document, seed=2)
    document["format_version"] = 1
    document["metadata_sha256"] = metadata_digest(document)
    info.metadata_path.write_text(json.dumps(document))
    with pytest.raises(ResumeMismatchError, match="--engine sequential"):
        run_chunk(tmp_path, HOLDEM, config.replace(engine="sharded"), progress=False,
                  tensorboard=False)
    result = run_chunk(tmp_path, HOLDEM, config, progress=False, tensorboard=False)
    assert result.iteration == 400
    assert_same_state(tmp_path, _legacy_reference(config, 200, 200))


@pytest.mark.parametrize("engine", ["sequential", "auto"])
def test_a_sequential_run_on_numpys_stream_continues_with_it(tmp_path: Path,
                                                             engine: str) -> None:
    """A sequential run started before the counter stream (format 3, PCG64) continues with
    numpy's generator from its saved state, bit for bit, under an explicit engine as under
    `auto` (no setting chooses the stream), and keeps recording it."""
    config = MCCFRConfig(num_iterations=600, enable_chunked_training=True,
                         chunk_size_iterations=200, seed=3, engine="sequential")
    run_chunk(tmp_path, HOLDEM, config, progress=False, tensorboard=False)
    info = latest_checkpoint(tmp_path)
    assert info is not None
    document = json.loads(info.metadata_path.read_text())
    assert document["engine"] == {"name": "sequential", "streams": SEQUENTIAL_STREAM}
    assert document["rng_state"]["bit_generator"] == "SplitMix64"
    document.pop("metadata_sha256")
    _legacy_stream(document, seed=3)
    document["format_version"] = 3
    document["metadata_sha256"] = metadata_digest(document)
    info.metadata_path.write_text(json.dumps(document))
    out = io.StringIO()
    resumed = config.replace(engine=engine)
    for _ in range(2):
        run_chunk(tmp_path, HOLDEM, resumed, progress=False, tensorboard=False, out=out)
    assert "Continuing with the" in out.getvalue()  # the stream, or the engine with it
    info = latest_checkpoint(tmp_path)
    assert info is not None and info.iteration == 600
    assert load_checkpoint(info).metadata["engine"]["streams"] == LEGACY_SEQUENTIAL_STREAM
    assert_same_state(tmp_path, _legacy_reference(config, 200, 400))


def test_the_sequential_stream_is_drawn_from_a_counter_keyed_by_the_seed() -> None:
    """A new sequential run draws from the counter stream: the same seed the same bits, another
    seed others, and its state (one counter) restores exactly; a state that is not a 64-bit
    counter is refused."""
    game = load_game("leduc")
    runs = [Solver(game, MCCFRConfig(seed=seed, engine="sequential")) for seed in (4, 4, 5)]
    for solver in runs:
        solver.run(300)
    assert runs[0].engine_info()["streams"] == SEQUENTIAL_STREAM
    assert runs[0].rng_state() == runs[1].rng_state() != runs[2].rng_state()
    assert np.array_equal(runs[0].regrets, runs[1].regrets)
    assert not np.array_equal(runs[0].regrets, runs[2].regrets)
    copy = Solver(game, MCCFRConfig(seed=9, engine="sequential"))
    copy.load_state_dict(runs[0].state_dict())
    for solver in (copy, runs[0]):
        solver.run(300)
    assert np.array_equal(copy.regrets, runs[0].regrets)
    assert copy.rng_state() == runs[0].rng_state()
    state = runs[0].state_dict()
    for bad, message in (({"bit_generator": "PCG64", "state": {}}, "rng_state is for 'PCG64'"),
                         ({"bit_generator": "SplitMix64", "state": {"state": -1}},
                          "not a 64-bit unsigned integer"),
                         ({"bit_generator": "SplitMix64", "state": {"state": 1 << 64}},
                          "not a 64-bit unsigned integer"),
                         ({"bit_generator": "SplitMix64", "state": {"state": 1, "inc": 2}},
                          "must be")):
        with pytest.raises(ValueError, match=message):
            copy.load_state_dict(state | {"rng_state": bad})


def test_auto_continues_a_run_with_the_engine_it_was_started_with(tmp_path: Path) -> None:
    """`engine: auto` with the batch left to the rules adopts the checkpoint's engine record,
    so a change of this version's rules never strands a run."""
    config = MCCFRConfig(num_iterations=768, enable_chunked_training=True,
                         chunk_size_iterations=256, batch_iterations=128, shards=16, seed=6,
                         **SHARDED)  # type: ignore[arg-type]
    run_chunk(tmp_path, HOLDEM, config, progress=False, tensorboard=False)
    auto = config.replace(engine="auto", batch_iterations=None, shards=None)
    out = io.StringIO()
    result = run_chunk(tmp_path, HOLDEM, auto, progress=False, tensorboard=False, out=out)
    assert result.iteration == 512
    assert "Continuing with the engine the run was started with: sharded" in out.getvalue()
    reference = Solver(load_game("holdem", bet_sizing=HOLDEM_MENU), config)
    reference.run(512)
    assert_same_state(tmp_path, reference)


def test_a_slurm_job_bounds_the_default_worker_count(monkeypatch: pytest.MonkeyPatch) -> None:
    from holdem_lab.solver.solver import available_cores

    monkeypatch.setenv("SLURM_CPUS_PER_TASK", "1")
    assert available_cores() == 1
    monkeypatch.setenv("SLURM_CPUS_PER_TASK", "")
    assert available_cores() == len(os.sched_getaffinity(0))


def test_a_stop_request_leaves_the_tables_at_a_batch_boundary() -> None:
    game = load_game("leduc")
    solver = Solver(game, MCCFRConfig(engine="sharded", batch_iterations=64, shards=8))
    solver.run(128)
    solver.request_stop()
    assert solver.run(640) == 0 and solver.iteration == 128


def test_more_workers_than_numba_threads_is_a_clear_error() -> None:
    import numba

    too_many = numba.config.NUMBA_NUM_THREADS + 1
    with pytest.raises(ConfigError, match=f"NUMBA_NUM_THREADS={too_many}"):
        Solver(load_game("leduc"), MCCFRConfig(engine="sharded", num_workers=too_many))
    with pytest.raises(ConfigError, match="sequential engine runs on one core"):
        MCCFRConfig(engine="sequential", num_workers=2)


def test_sigkill_with_two_workers_loses_nothing(tmp_path: Path) -> None:
    """The kill -9 test of tests/test_chunks.py, on the sharded engine with 2 workers."""
    kills = 3
    total = 600_000
    args = ["--game", "leduc", "--engine", "sharded", "--batch-iterations", "256",
            "--shards", "16", "--workers", "2", "--discount-mode", "linear",
            "--discount-interval", "7", "--iters", str(total), "--chunked",
            "--chunk-iterations", "200000", "--checkpoint-interval", "20000",
            "--seed", "21", "--no-tensorboard"]
    logdir = tmp_path / "run"
    assert train_with_kills(logdir, args, kills=kills, max_delay=0.6, seed=5) == kills
    config = MCCFRConfig(engine="sharded", batch_iterations=256, shards=16, seed=21,
                         discount_mode="linear", discount_interval=7)
    reference = Solver(load_game("leduc"), config)
    reference.run(total)
    assert_same_state(logdir, reference)
