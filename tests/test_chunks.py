"""Chunked training: exact resume, complete checkpoints, refusal of unsafe resumes, the CLI's exit
codes, and the chunked-training guide's shell recipes run as written."""

from __future__ import annotations

import io
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from hostile.runs import (
    REPO,
    assert_same_state,
    cli,
    reference,
    start,
    train_with_kills,
    wait_for_line,
)
from hypothesis import given, settings
from hypothesis import strategies as st

from holdem_lab import MCCFRConfig, Solver, exploitability, load_game
from holdem_lab.checkpoint import find_latest_complete, list_checkpoints, load_checkpoint
from holdem_lab.checkpoint.store import metadata_digest
from holdem_lab.chunks import ChunkStatus, run_chunk
from holdem_lab.chunks.runner import latest_checkpoint
from holdem_lab.chunks.tensorboard import read_scalars
from holdem_lab.cli import exit_codes
from holdem_lab.config import GameSpec
from holdem_lab.errors import CheckpointError, ResumeMismatchError

FULL = os.environ.get("HOLDEM_LAB_FULL") == "1"

LEDUC = GameSpec(game="leduc")
OPTIONS = dict(discount_mode="dcfr", discount_interval=7, enable_pruning=True,
               prune_warmup_iterations=40, prune_threshold=-2.0, regret_floor=-5.0,
               epsilon_schedule=((0, 0.6), (150, 0.3)))


def _run_to_completion(logdir: Path, config: MCCFRConfig, spec: GameSpec = LEDUC,
                       limit: int = 100) -> list[int]:
    ends = []
    for _ in range(limit):
        result = run_chunk(logdir, spec, config, progress=False, tensorboard=False)
        ends.append(result.iteration)
        if result.status is ChunkStatus.COMPLETE:
            return ends
    raise AssertionError("training did not complete")


def test_chunks_of_ten_run_each_iteration_once(tmp_path: Path) -> None:
    config = MCCFRConfig(num_iterations=30, enable_chunked_training=True,
                         chunk_size_iterations=10, discount_mode="linear", seed=1)
    ends = _run_to_completion(tmp_path, config)
    assert ends == [10, 20, 30]
    info = latest_checkpoint(tmp_path)
    assert info is not None
    chunks = load_checkpoint(info).metadata["chunks"]
    assert [(c["start_iteration"], c["end_iteration"]) for c in chunks] == \
        [(0, 10), (10, 20), (20, 30)]
    assert_same_state(tmp_path, reference(config, 30))


@settings(max_examples=8 if not FULL else 40)
@given(chunk=st.integers(1, 120), interval=st.one_of(st.none(), st.integers(1, 90)),
       total=st.integers(1, 400), sampling=st.sampled_from(["external", "outcome"]))
def test_chunked_equals_unchunked_bit_for_bit(tmp_path_factory: pytest.TempPathFactory,
                                              chunk: int, interval: int | None, total: int,
                                              sampling: str) -> None:
    logdir = tmp_path_factory.mktemp("run")
    config = MCCFRConfig(num_iterations=total, enable_chunked_training=True,
                         chunk_size_iterations=chunk, checkpoint_interval=interval,
                         sampling=sampling, seed=9, **OPTIONS)  # type: ignore[arg-type]
    _run_to_completion(logdir, config, limit=500)
    assert_same_state(logdir, reference(config, total))


def test_changing_chunk_size_between_chunks_is_safe_and_recorded(tmp_path: Path) -> None:
    base = MCCFRConfig(num_iterations=100, enable_chunked_training=True,
                       chunk_size_iterations=30, seed=2, **OPTIONS)  # type: ignore[arg-type]
    run_chunk(tmp_path, LEDUC, base, progress=False, tensorboard=False)
    changed = base.replace(chunk_size_iterations=50, checkpoint_interval=10)
    _run_to_completion(tmp_path, changed)
    assert_same_state(tmp_path, reference(base, 100))
    info = latest_checkpoint(tmp_path)
    assert info is not None
    changes = load_checkpoint(info).metadata["config_changes"]
    assert changes[0]["iteration"] == 30
    assert changes[0]["changes"]["chunk_size_iterations"] == [30, 50]


@pytest.mark.parametrize(("field", "value"), [("seed", 3), ("discount_mode", "dcfr"),
                                              ("sampling", "outcome"), ("dcfr_alpha", 2.0)])
def test_unsafe_config_change_is_refused_with_both_values(tmp_path: Path, field: str,
                                                          value: object) -> None:
    config = MCCFRConfig(num_iterations=100, enable_chunked_training=True,
                         chunk_size_iterations=30, seed=2)
    run_chunk(tmp_path, LEDUC, config, progress=False, tensorboard=False)
    before = sorted(p.name for p in (tmp_path / "checkpoints").iterdir())
    with pytest.raises(ResumeMismatchError) as caught:
        run_chunk(tmp_path, LEDUC, config.replace(**{field: value}), progress=False,
                  tensorboard=False)
    assert f"config mismatch in {field}" in str(caught.value)
    assert repr(getattr(config, field)) in str(caught.value) and repr(value) in str(caught.value)
    assert sorted(p.name for p in (tmp_path / "checkpoints").iterdir()) == before


def test_game_change_is_refused(tmp_path: Path) -> None:
    config = MCCFRConfig(num_iterations=100, enable_chunked_training=True,
                         chunk_size_iterations=30)
    run_chunk(tmp_path, LEDUC, config, progress=False, tensorboard=False)
    other = GameSpec(game="leduc", game_params={"suit_isomorphic": False})
    with pytest.raises(ResumeMismatchError, match="game mismatch in params"):
        run_chunk(tmp_path, other, config, progress=False, tensorboard=False)


def _tamper_bucket_hash(logdir: Path, value: str) -> None:
    for info in list_checkpoints(logdir / "checkpoints"):
        meta = json.loads(info.metadata_path.read_text())
        meta["game_identity"]["bucket_hash"] = value
        del meta["metadata_sha256"]
        meta["metadata_sha256"] = metadata_digest(meta)  # a genuine checkpoint of other buckets
        info.metadata_path.write_text(json.dumps(meta))


def test_bucket_mismatch_names_both_hashes_and_overwrites_nothing(tmp_path: Path) -> None:
    config = MCCFRConfig(num_iterations=100, enable_chunked_training=True,
                         chunk_size_iterations=30)
    run_chunk(tmp_path, LEDUC, config, progress=False, tensorboard=False)
    _tamper_bucket_hash(tmp_path, "a" * 64)
    snapshot = {p.name: p.read_bytes() for p in (tmp_path / "checkpoints").iterdir()}
    with pytest.raises(ResumeMismatchError) as caught:
        run_chunk(tmp_path, LEDUC, config, progress=False, tensorboard=False)
    assert "a" * 64 in str(caught.value) and "None" in str(caught.value)
    assert {p.name: p.read_bytes() for p in (tmp_path / "checkpoints").iterdir()} == snapshot
    cli = _cli(tmp_path, "--iters", "100", "--chunked", "--chunk-iterations", "30")
    assert cli.returncode == exit_codes.MISMATCH
    assert "a" * 64 in cli.stderr
    assert {p.name: p.read_bytes() for p in (tmp_path / "checkpoints").iterdir()} == snapshot


@pytest.mark.parametrize("suffix", [".npz", "_regrets.npz", "_metadata.json"])
@pytest.mark.parametrize("damage", ["delete", "truncate", "flip"])
def test_damaged_newest_checkpoint_falls_back_to_previous(tmp_path: Path, suffix: str,
                                                          damage: str) -> None:
    config = MCCFRConfig(num_iterations=60, enable_chunked_training=True,
                         chunk_size_iterations=20, seed=4)
    run_chunk(tmp_path, LEDUC, config, progress=False, tensorboard=False)
    run_chunk(tmp_path, LEDUC, config, progress=False, tensorboard=False)
    target = tmp_path / "checkpoints" / f"checkpoint_iter{40:012d}{suffix}"
    data = target.read_bytes()
    if damage == "delete":
        target.unlink()
    elif damage == "truncate":
        target.write_bytes(data[: len(data) // 2])
    else:
        flipped = bytearray(data)
        flipped[len(data) // 2] ^= 0x40
        target.write_bytes(bytes(flipped))
    info, problems = find_latest_complete(tmp_path / "checkpoints")
    assert info is not None and info.iteration == 20
    assert len(problems) == 1 and f"checkpoint_iter{40:012d}" in problems[0]
    result = run_chunk(tmp_path, LEDUC, config, progress=False, tensorboard=False)
    assert result.start_iteration in (20, 40)
    _run_to_completion(tmp_path, config)
    assert_same_state(tmp_path, reference(config, 60))


def test_resume_checks_memory_before_it_loads_the_checkpoint(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import io

    from holdem_lab import rundir
    from holdem_lab.chunks import runner

    config = MCCFRConfig(num_iterations=60, enable_chunked_training=True,
                         chunk_size_iterations=20, seed=4)
    run_chunk(tmp_path, LEDUC, config, progress=False, tensorboard=False)
    run_chunk(tmp_path, LEDUC, config, progress=False, tensorboard=False)
    (tmp_path / "checkpoints" / f"checkpoint_iter{40:012d}_regrets.npz").write_bytes(b"junk")
    events: list[str] = []
    real_solver, real_load = runner.Solver, rundir.load_latest_complete

    def solver(*args: object, **kwargs: object) -> Solver:
        events.append("solver")  # Solver() runs check_memory
        return real_solver(*args, **kwargs)  # type: ignore[arg-type]

    def load(*args: object, **kwargs: object) -> object:
        events.append("load")
        return real_load(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(runner, "Solver", solver)
    monkeypatch.setattr(rundir, "load_latest_complete", load)
    out = io.StringIO()
    result = run_chunk(tmp_path, LEDUC, config, progress=False, tensorboard=False, out=out)
    # The check must not count the loaded tables, which the solver takes over.
    assert events == ["solver", "load"]
    assert result.start_iteration == 20
    text = out.getvalue()
    assert text.index("Skipping incomplete or corrupt checkpoint: checkpoint_iter") \
        < text.index("Resuming from checkpoint:")


def test_no_silent_fresh_start_over_broken_checkpoints(tmp_path: Path) -> None:
    config = MCCFRConfig(num_iterations=60, enable_chunked_training=True,
                         chunk_size_iterations=20)
    run_chunk(tmp_path, LEDUC, config, progress=False, tensorboard=False)
    (tmp_path / "checkpoints" / f"checkpoint_iter{20:012d}_regrets.npz").write_bytes(b"junk")
    with pytest.raises(CheckpointError, match="none is complete; refusing to start over"):
        run_chunk(tmp_path, LEDUC, config, progress=False, tensorboard=False)


def test_time_limited_chunks_and_budget_with_an_injected_clock(tmp_path: Path) -> None:
    now = [0.0]

    def clock() -> float:
        now[0] += 0.5  # every look at the clock advances half a second
        return now[0]

    config = MCCFRConfig(time_budget_seconds=40.0, enable_chunked_training=True,
                         chunk_size_minutes=0.25, seed=3)
    statuses = []
    for _ in range(20):
        result = run_chunk(tmp_path, LEDUC, config, progress=False, tensorboard=False,
                           clock=clock)
        statuses.append(result.status)
        assert result.chunk_seconds < 15.0 + 5.0
        if result.status is ChunkStatus.COMPLETE:
            break
    assert statuses[-1] is ChunkStatus.COMPLETE and len(statuses) >= 3
    info = latest_checkpoint(tmp_path)
    assert info is not None
    meta = load_checkpoint(info).metadata
    assert meta["elapsed_seconds"] >= 40.0
    assert sum(c["seconds"] for c in meta["chunks"]) == pytest.approx(meta["elapsed_seconds"],
                                                                       rel=0.3)
    assert_same_state(tmp_path, reference(config, meta["iteration"]))


def _stepping_clock(step: float) -> Callable[[], float]:
    """A clock that moves ``step`` seconds every time it is read."""
    now = [0.0]

    def clock() -> float:
        now[0] += step
        return now[0]

    return clock


@pytest.mark.parametrize(("iterations", "minutes", "reason"), [
    (300, 10.0, "Chunk iteration limit reached: 300 >= 300"),  # iterations first
    (10**9, 0.05, "Chunk time limit reached: "),  # minutes first
])
def test_hybrid_chunks_stop_at_whichever_limit_comes_first(
    tmp_path: Path, iterations: int, minutes: float, reason: str
) -> None:
    """Both chunk limits at once (the guide's hybrid chunks): the first one reached ends the
    chunk, and the run stays the unchunked run."""
    config = MCCFRConfig(num_iterations=2000, enable_chunked_training=True,
                         chunk_size_iterations=iterations, chunk_size_minutes=minutes, seed=5,
                         **OPTIONS)  # type: ignore[arg-type]
    result = run_chunk(tmp_path, LEDUC, config, progress=False, tensorboard=False,
                       clock=_stepping_clock(0.5))
    assert result.status is ChunkStatus.CHUNK_DONE
    assert result.reason.startswith(reason), result.reason
    if iterations == 300:
        assert result.iteration == 300
    else:
        assert 0 < result.iteration < 2000 and result.chunk_seconds >= 3.0
    assert_same_state(tmp_path, reference(config, result.iteration))


def test_snapshot_interval_checkpoints_within_a_chunk(tmp_path: Path) -> None:
    """--snapshot-interval: a complete checkpoint every so many seconds of the chunk, on top
    of the end-of-chunk one, each resumable to the same run."""
    config = MCCFRConfig(num_iterations=3000, enable_chunked_training=True,
                         chunk_size_iterations=3000, snapshot_interval_seconds=4.0, seed=9,
                         **OPTIONS)  # type: ignore[arg-type]
    out = io.StringIO()
    run_chunk(tmp_path, LEDUC, config, progress=False, tensorboard=False,
              clock=_stepping_clock(0.5), out=out)
    saved = [line for line in out.getvalue().splitlines() if line.startswith("Saving")]
    snapshots = [line for line in saved if line.endswith("... (snapshot)")]
    assert len(snapshots) >= 2 and saved[-1] == "Saving checkpoint at iteration 3000...", saved
    iterations = [info.iteration for info in list_checkpoints(tmp_path / "checkpoints")]
    assert len(iterations) == len(saved) and iterations[-1] == 3000
    middle = iterations[len(iterations) // 2]
    assert 0 < middle < 3000
    for info in list_checkpoints(tmp_path / "checkpoints"):
        if info.iteration > middle:
            for path in (info.metadata_path, info.policy_path, info.state_path):
                path.unlink()
    result = run_chunk(tmp_path, LEDUC, config, progress=False, tensorboard=False,
                       clock=_stepping_clock(0.5))
    assert result.start_iteration == middle and result.status is ChunkStatus.COMPLETE
    assert_same_state(tmp_path, reference(config, 3000))


def test_every_small_game_checkpoint_records_its_exact_exploitability(tmp_path: Path) -> None:
    """No exploitability_interval needed: each Kuhn/Leduc checkpoint measures its own policy."""
    config = MCCFRConfig(num_iterations=500, enable_chunked_training=True,
                         chunk_size_iterations=500, checkpoint_interval=200, seed=2)
    run_chunk(tmp_path, LEDUC, config, progress=False, tensorboard=False)
    game = load_game("leduc")
    infos = list_checkpoints(tmp_path / "checkpoints")
    assert [info.iteration for info in infos] == [200, 400, 500]
    for info in infos:
        loaded = load_checkpoint(info)
        assert loaded.metadata["metrics"]["exploitability"] == exploitability(
            game, loaded.policy["average_policy"])


def test_metadata_holds_every_promised_field(tmp_path: Path) -> None:
    config = MCCFRConfig(num_iterations=50, enable_chunked_training=True,
                         chunk_size_iterations=50, exploitability_interval=25,
                         tensorboard_log_interval=25, **OPTIONS)  # type: ignore[arg-type]
    run_chunk(tmp_path, LEDUC, config, progress=False)
    info = latest_checkpoint(tmp_path)
    assert info is not None
    meta = load_checkpoint(info).metadata
    for key in ("iteration", "t_global", "elapsed_seconds", "chunk_elapsed_seconds",
                "rng_state", "epsilon", "epsilon_schedule_position", "discount",
                "discount_steps", "bucket_hash", "config", "game_identity", "metrics",
                "package_version", "format_version", "chunks"):
        assert key in meta, key
    assert meta["epsilon"] == 0.6 and meta["epsilon_schedule_position"] == 0
    for key in ("iterations_per_second", "infosets", "average_regret_by_round",
                "pruned_share", "peak_rss_bytes", "exploitability"):
        assert meta["metrics"][key] is not None, key
    assert set(meta["metrics"]["average_regret_by_round"]) == {"round0", "round1"}


def test_tensorboard_series_is_continuous_across_chunks(tmp_path: Path) -> None:
    config = MCCFRConfig(num_iterations=90, enable_chunked_training=True,
                         chunk_size_iterations=30, tensorboard_log_interval=10,
                         exploitability_interval=30)
    for _ in range(3):
        run_chunk(tmp_path, LEDUC, config, progress=False)
    scalars = read_scalars(tmp_path / "tensorboard")
    assert [s for s, _ in scalars["train/epsilon"]] == list(range(10, 91, 10))
    assert [s for s, _ in scalars["exploitability"]] == [30, 60, 90]
    values = [v for _, v in scalars["exploitability"]]
    assert values[0] > values[-1]


def _cli(logdir: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return cli(logdir, "--game", "leduc", *args, timeout=timeout)


def test_a_large_table_logs_its_regret_averages_at_checkpoints_only(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from holdem_lab.chunks import runner

    monkeypatch.setattr(runner, "REGRET_SCALARS_MAX_BYTES", 0)  # every table counts as large
    config = MCCFRConfig(num_iterations=60, tensorboard_log_interval=20, seed=1)
    run_chunk(tmp_path, LEDUC, config, progress=False)
    scalars = read_scalars(tmp_path / "tensorboard")
    assert "train/iterations_per_second" in scalars
    assert not any(tag.startswith("regret/") for tag in scalars)
    info = latest_checkpoint(tmp_path)
    assert info is not None
    assert set(load_checkpoint(info).metadata["metrics"]["average_regret_by_round"]) == \
        {"round0", "round1"}


def test_regret_scans_take_a_bounded_share_of_the_chunk(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A regret scan that takes a second is repeated only once 1/REGRET_SCAN_SHARE seconds have
    passed since it started: every step is logged, the scans only when they are due."""
    from holdem_lab.chunks import runner

    now = [0.0]
    scans: list[float] = []

    def clock() -> float:
        now[0] += 0.5  # each look at the clock: half a second of training
        return now[0]

    real = runner.average_regret_by_round

    def slow_scan(game: object, solver: Solver) -> dict[str, float]:
        scans.append(now[0])
        now[0] += 1.0
        return real(game, solver)  # type: ignore[arg-type]

    monkeypatch.setattr(runner, "average_regret_by_round", slow_scan)
    config = MCCFRConfig(num_iterations=2000, tensorboard_log_interval=10, seed=1)
    run_chunk(tmp_path, LEDUC, config, progress=False, clock=clock)
    scalars = read_scalars(tmp_path / "tensorboard")
    assert [s for s, _ in scalars["train/epsilon"]] == list(range(10, 2001, 10))
    logged = [s for s, _ in scalars["regret/average_round0"]]
    assert logged[0] == 10 and 2 <= len(logged) < 200 / 10
    gaps = np.diff(scans[:len(logged)])
    assert gaps.min() >= 1.0 / runner.REGRET_SCAN_SHARE, gaps


def test_peak_rss_is_the_chunks_own_not_its_parents(tmp_path: Path) -> None:
    """Linux carries ``ru_maxrss`` over from the parent through fork and exec; a chunk started
    by a process holding much more memory than the chunk uses must still report its own."""
    ballast = np.ones(600 * 2**20 // 8)  # 600 MB, touched
    try:
        result = _cli(tmp_path, "--iters", "500", "--no-tensorboard")
    finally:
        del ballast
    assert result.returncode == exit_codes.COMPLETE, result.stderr
    info = latest_checkpoint(tmp_path)
    assert info is not None
    peak = load_checkpoint(info).metadata["metrics"]["peak_rss_bytes"]
    assert 50 * 2**20 < peak < 450 * 2**20, peak / 2**20


def test_peak_rss_is_flat_across_chunks(tmp_path: Path) -> None:
    """A resumed chunk holds no more memory than the first: loading a checkpoint costs its
    arrays, not fixed-size read buffers (Leduc's tables are tiny, so any would show)."""
    args = ("--iters", "3000", "--chunked", "--chunk-iterations", "1000", "--no-tensorboard")
    for code in (exit_codes.CHUNK_DONE, exit_codes.CHUNK_DONE, exit_codes.COMPLETE):
        result = _cli(tmp_path, *args)
        assert result.returncode == code, result.stderr
    info = latest_checkpoint(tmp_path)
    assert info is not None
    peaks = [c["peak_rss_bytes"] for c in load_checkpoint(info).metadata["chunks"]]
    assert len(peaks) == 3
    assert max(peaks) <= 1.02 * min(peaks), [p / 2**20 for p in peaks]


def test_cli_exit_codes_and_messages(tmp_path: Path) -> None:
    """The guide's lines, whole: a first chunk, then a resumed chunk that stops at its own
    limit, then the last chunk and a call after completion."""
    args = ("--iters", "3000", "--chunked", "--chunk-iterations", "1000", "--no-tensorboard")
    first = _cli(tmp_path, *args)
    assert first.returncode == exit_codes.CHUNK_DONE, first.stderr
    lines = first.stdout.splitlines()
    for line in ("Chunked Training Mode Initialized", "Chunk size: 1,000 iterations",
                 "Starting fresh training (no checkpoint found)",
                 "Chunk iteration limit reached: 1000 >= 1000",
                 "Saving checkpoint at iteration 1000...", "Checkpoint saved successfully",
                 "Flushing TensorBoard logs...",
                 "Chunk Complete - Process will now exit to free memory",
                 "Progress: iteration 1000",
                 "Restart this command to continue training from checkpoint"):
        assert line in lines, line
    second = _cli(tmp_path, *args)
    assert second.returncode == exit_codes.CHUNK_DONE, second.stderr
    lines = second.stdout.splitlines()
    assert "Successfully resumed from iteration 1000" in lines
    assert any(line.startswith("Resuming from checkpoint: ") for line in lines)
    assert "Chunk iteration limit reached: 2000 >= 2000" in lines
    assert "Saving checkpoint at iteration 2000..." in lines
    last = _cli(tmp_path, *args)
    assert last.returncode == exit_codes.COMPLETE, last.stderr
    assert "Total iteration limit reached: 3000 >= 3000" in last.stdout.splitlines()
    again = _cli(tmp_path, *args)
    assert again.returncode == exit_codes.COMPLETE
    assert "Training already complete" in again.stdout


def test_cli_reports_bad_configuration_in_one_line(tmp_path: Path) -> None:
    result = _cli(tmp_path, "--iters", "0")
    assert result.returncode == exit_codes.USAGE
    assert result.stderr.strip() == ("holdem-train-blueprint: error: invalid configuration: "
                                     "num_iterations=0: must be >= 1 (flags: --iters)")
    config = tmp_path / "bad.yaml"
    config.write_text("num_iterations: 10\nchunk_size: 5\n")
    result = _cli(tmp_path, "--config", str(config))
    assert result.returncode == exit_codes.USAGE
    assert "chunk_size=5: unknown key" in result.stderr
    assert "Traceback" not in result.stderr


def test_spec_bash_loop_and_jq_recipes(tmp_path: Path) -> None:
    if shutil.which("jq") is None:
        pytest.skip("jq is not installed")
    # The guide's loop, as written, with this repository's command and a tiny Leduc run.
    script = """#!/bin/bash
while true; do
    ./bin/holdem-train-blueprint \\
        --game leduc \\
        --logdir RUN \\
        --iters 300 \\
        --chunked \\
        --chunk-iterations 100 \\
        --no-progress

    # Check exit code
    if [ $? -ne 0 ]; then
        echo "Training failed or interrupted"
        break
    fi

    # Optional: Add a small delay between chunks
    sleep 5
done

echo "Training complete or stopped"
""".replace("RUN", str(tmp_path / "my_training"))
    path = tmp_path / "run_chunked_training.sh"
    path.write_text(script)
    result = subprocess.run(["bash", str(path)], cwd=REPO, capture_output=True, text=True,
                            timeout=600)
    assert result.returncode == 0
    assert result.stdout.count("Chunk Complete - Process will now exit") == 2
    assert "Training complete\n" in result.stdout
    # The loop's own test cannot tell "complete" (3) from a failure: its message shows once,
    # at the end, as the README says.
    assert result.stdout.count("Training failed or interrupted") == 1
    assert result.stdout.rstrip().endswith("Training complete or stopped")
    checkpoints = tmp_path / "my_training" / "checkpoints"
    pattern = str(checkpoints / "checkpoint_iter*_metadata.json")
    iteration = subprocess.run(f"jq '.iteration' {pattern} | tail -1", shell=True,
                               capture_output=True, text=True, check=True)
    assert iteration.stdout.strip() == "300"
    elapsed = subprocess.run(f"jq '.elapsed_seconds' {pattern} | tail -1", shell=True,
                             capture_output=True, text=True, check=True)
    info = latest_checkpoint(tmp_path / "my_training")
    assert info is not None
    assert float(elapsed.stdout) == load_checkpoint(info).metadata["elapsed_seconds"]
    hours = subprocess.run(f"jq '.elapsed_seconds / 3600' {pattern} | tail -1", shell=True,
                           capture_output=True, text=True, check=True)
    assert float(hours.stdout) == pytest.approx(float(elapsed.stdout) / 3600)


def test_sigkill_at_random_moments_loses_nothing(tmp_path: Path) -> None:
    kills = 12 if FULL else 4
    total = 1_000_000 + 100_000 * kills
    config = MCCFRConfig(num_iterations=total, enable_chunked_training=True,
                         chunk_size_iterations=200_000, checkpoint_interval=20_000,
                         tensorboard_log_interval=2_000, seed=21, **OPTIONS)  # type: ignore
    args = ["--iters", str(total), "--chunked", "--chunk-iterations", "200000",
            "--checkpoint-interval", "20000", "--tensorboard-interval", "2000", "--seed", "21"]
    config_file = tmp_path / "options.yaml"
    config_file.write_text(
        "discount_mode: dcfr\ndiscount_interval: 7\nenable_pruning: true\n"
        "prune_warmup_iterations: 40\nprune_threshold: -2.0\nregret_floor: -5.0\n"
        "epsilon_schedule: [[0, 0.6], [150, 0.3]]\n")
    logdir = tmp_path / "run"
    # Killed at a random moment of a chunk's training, interval checkpoint writes included
    # (one every 20,000 iterations).
    killed = train_with_kills(logdir, ["--game", "leduc", "--config", str(config_file), *args],
                              kills=kills, max_delay=1.0, seed=123)
    assert killed == kills
    assert_same_state(logdir, reference(config, total))
    scalars = read_scalars(logdir / "tensorboard")
    steps = [s for s, _ in scalars["train/epsilon"]]
    assert steps == list(range(2_000, total + 1, 2_000))


def test_sigint_stops_with_a_checkpoint_and_exit_code_8(tmp_path: Path) -> None:
    """Ctrl-C (SIGINT) is handled like SIGTERM: checkpoint, then exit code 8."""
    config = MCCFRConfig(num_iterations=50_000_000, enable_chunked_training=True,
                         chunk_size_iterations=50_000_000, checkpoint_interval=500_000, seed=4)
    logdir = tmp_path / "run"
    process = start(logdir, "--game", "leduc", "--iters", "50000000", "--chunked",
                    "--chunk-iterations", "50000000", "--checkpoint-interval", "500000",
                    "--seed", "4", "--no-tensorboard")
    # Training is under way once its first interval checkpoint is out; the signal comes a
    # moment later, well inside the stretch to the next one (half a second of training or more).
    wait_for_line(process, "Checkpoint saved successfully")
    time.sleep(0.1)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=120)
    assert process.returncode == exit_codes.STOPPED, err
    assert "Stopped by SIGINT during iteration" in out
    info = latest_checkpoint(logdir)
    assert info is not None and info.iteration > 500_000
    assert load_checkpoint(info).metadata["stop"]["signal"] == "SIGINT"
    assert_same_state(logdir, reference(config, info.iteration))


@pytest.mark.timeout(1200)  # HOLDEM_LAB_FULL=1 trains 40M iterations twice (chunks and reference)
def test_sigterm_checkpoints_within_one_iteration_and_resumes_exactly(tmp_path: Path) -> None:
    signals = 20 if FULL else 6
    # A chunk trains for ~2 s (about 1M Leduc iterations/s) and is stopped after at most
    # 0.8 s, so each signal lands inside training and the run outlasts the signals.
    total = 2_000_000 * signals
    config = MCCFRConfig(num_iterations=total, enable_chunked_training=True,
                         chunk_size_iterations=2_000_000, seed=8, discount_mode="linear",
                         discount_interval=100)
    args = ["--iters", str(total), "--chunked", "--chunk-iterations", "2000000", "--seed", "8",
            "--discount-mode", "linear", "--discount-interval", "100", "--no-tensorboard"]
    logdir = tmp_path / "run"
    rng = np.random.default_rng(7)
    stopped = 0
    for _ in range(200):
        process = start(logdir, "--game", "leduc", *args)
        sent = False
        if stopped < signals:
            # Wait until the chunk is training (it prints its resume line), then a random delay.
            wait_for_line(process, "Starting fresh", "Successfully resumed")
            time.sleep(float(rng.uniform(0.0, 0.8)))
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                sent = True
        out, err = process.communicate(timeout=300)
        code = process.returncode
        if sent and code == exit_codes.STOPPED:
            stopped += 1
            info = latest_checkpoint(logdir)
            assert info is not None
            stop = load_checkpoint(info).metadata["stop"]
            assert stop["signal"] == "SIGTERM"
            assert 0 <= stop["iteration"] - stop["signal_iteration"] <= 1, stop
            assert stop["iteration"] == info.iteration
        elif code == exit_codes.COMPLETE:
            break
        elif sent and code == -signal.SIGTERM:
            # The chunk had finished and the interpreter was shutting down: nothing to save.
            assert "Progress: iteration" in out
        else:
            assert code == exit_codes.CHUNK_DONE, err
    assert stopped == signals
    assert_same_state(logdir, reference(config, total))


def test_every_small_game_checkpoint_prints_and_logs_its_exploitability(tmp_path: Path) -> None:
    config = MCCFRConfig(num_iterations=90, enable_chunked_training=True,
                         chunk_size_iterations=30, tensorboard_log_interval=10)
    out = io.StringIO()
    for _ in range(3):
        run_chunk(tmp_path, LEDUC, config, progress=False, out=out)
    scalars = read_scalars(tmp_path / "tensorboard")
    assert [s for s, _ in scalars["exploitability"]] == [30, 60, 90]
    info = latest_checkpoint(tmp_path)
    assert info is not None
    measured = load_checkpoint(info).metadata["metrics"]["exploitability"]
    assert scalars["exploitability"][-1][1] == pytest.approx(measured, rel=1e-6)
    assert f"Exploitability at iteration 90: {measured:.6g} (exact)" in out.getvalue()


def test_a_signal_right_after_an_interval_checkpoint_stops_on_it(tmp_path: Path) -> None:
    """The signal lands after the interval checkpoint is written and before another iteration
    runs: that checkpoint already holds the state, the chunk stops on it and says so."""
    import signal as signals

    from holdem_lab.chunks.signals import GracefulStop

    graceful = GracefulStop()  # not installed: the signal is delivered by hand below

    class SignalAfterCheckpoint(io.StringIO):
        def write(self, text: str) -> int:
            if text.startswith("Checkpoint saved successfully") and graceful.signal_name is None:
                graceful._handle(signals.SIGINT, None)
            return super().write(text)

    config = MCCFRConfig(num_iterations=400, enable_chunked_training=True,
                         chunk_size_iterations=400, checkpoint_interval=100, seed=9)
    out = SignalAfterCheckpoint()
    result = run_chunk(tmp_path, LEDUC, config, progress=False, tensorboard=False, out=out,
                       graceful=graceful)
    assert result.status is ChunkStatus.STOPPED and result.iteration == 100
    assert result.reason == ("Stopped by SIGINT right after the checkpoint at iteration 100, "
                             "which holds this state")
    assert out.getvalue().count("Saving checkpoint") == 1
    _run_to_completion(tmp_path, config)
    assert_same_state(tmp_path, reference(config, 400))


KILL_BEFORE_METADATA = """
import os, sys
from holdem_lab import MCCFRConfig
from holdem_lab.checkpoint import store
from holdem_lab.chunks import run_chunk
from holdem_lab.config import GameSpec

def die(self, document):  # the writer is killed between its payloads and its metadata
    os.kill(os.getpid(), 9)

store._AtomicWriter.write_metadata = die
run_chunk(sys.argv[1], GameSpec(game="leduc"),
          MCCFRConfig(num_iterations=60, enable_chunked_training=True, chunk_size_iterations=20,
                      seed=4), progress=False, tensorboard=False)
"""


def test_a_first_checkpoint_write_killed_before_its_metadata_starts_over(tmp_path: Path) -> None:
    """SIGKILL after the payloads of a run's first checkpoint are in place but before its
    metadata: the next chunk removes them (the metadata's temp file beside them says they
    never completed) and starts fresh, and the run ends as one run would."""
    done = subprocess.run([sys.executable, "-c", KILL_BEFORE_METADATA, str(tmp_path)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == -signal.SIGKILL, done.stderr
    checkpoints = tmp_path / "checkpoints"
    names = sorted(p.name for p in checkpoints.iterdir())
    assert names[1:] == ["checkpoint_iter000000000020.npz",
                         "checkpoint_iter000000000020_regrets.npz"]
    assert names[0].startswith(".checkpoint_iter000000000020_metadata.json.tmp-")
    config = MCCFRConfig(num_iterations=60, enable_chunked_training=True,
                         chunk_size_iterations=20, seed=4)
    out = io.StringIO()
    result = run_chunk(tmp_path, LEDUC, config, progress=False, tensorboard=False, out=out)
    assert result.start_iteration == 0 and result.iteration == 20
    assert "Removed checkpoint_iter000000000020_regrets.npz: its checkpoint's write was " \
        "stopped" in out.getvalue()
    for _ in range(2):
        run_chunk(tmp_path, LEDUC, config, progress=False, tensorboard=False)
    reference = Solver(load_game("leduc"), config)
    reference.run(60)
    assert_same_state(tmp_path, reference)
