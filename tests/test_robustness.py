"""Robustness: holdem_lab run directories under concurrent writers, full or failing disks, and
hostile inputs (config files, bucket paths, planted checkpoint files, notebook parameters).

Every refusal is checked for the exception or exit code, a one-line message naming the problem,
and a run directory left byte for byte as it was; every recovery is checked by finishing the run
and comparing it with an uninterrupted one bit for bit.
"""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import io
import json
import os
import queue
import shutil
import signal
import socket
import subprocess
import sys
import threading
import tracemalloc
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

import numpy as np
import pytest
import yaml
from hostile import faults, forge
from hostile.runs import (
    REPO,
    assert_same_state,
    cli,
    cli_command,
    one_line_error,
    quiet_chunk,
    reference,
    run_to_completion,
    snapshot,
    temp_files,
)

from holdem_lab import MCCFRConfig, Solver
from holdem_lab.checkpoint import (
    CheckpointInfo,
    find_latest_complete,
    list_checkpoints,
    load_checkpoint,
)
from holdem_lab.chunks import ChunkStatus
from holdem_lab.cli import exit_codes
from holdem_lab.cli.train import main as train_main
from holdem_lab.config import config_from_mapping
from holdem_lab.errors import CheckpointError, ConfigError
from holdem_lab.lab.chunk import prepare_chunk
from holdem_lab.rundir import RunDir

# One small Leduc run with every state-changing option on (discounting, pruning, a regret
# floor, an epsilon schedule), so that an inexact resume cannot go unnoticed.
SETTINGS: dict[str, Any] = {
    "game": "leduc", "num_iterations": 40, "enable_chunked_training": True,
    "chunk_size_iterations": 20, "seed": 11, "discount_mode": "dcfr", "discount_interval": 3,
    "enable_pruning": True, "prune_warmup_iterations": 10, "prune_threshold": -2.0,
    "regret_floor": -5.0, "sampling": "outcome", "epsilon_schedule": [[0, 0.6], [25, 0.3]],
}
SPEC, CONFIG = config_from_mapping(SETTINGS)
CHECKPOINTS = "checkpoints"


def _write_settings(path: Path, settings: dict[str, Any]) -> Path:
    path.write_text(yaml.safe_dump(settings))
    return path


@pytest.fixture(scope="module")
def base_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A run directory after its first chunk: one complete checkpoint, at iteration 20."""
    logdir = tmp_path_factory.mktemp("base") / "run"
    assert quiet_chunk(logdir, CONFIG, SPEC) is ChunkStatus.CHUNK_DONE
    assert [i.iteration for i in list_checkpoints(logdir / CHECKPOINTS)] == [20]
    return logdir


@pytest.fixture(scope="module")
def expected() -> Solver:
    """The uninterrupted 40-iteration run every recovered run must equal."""
    return reference(CONFIG, 40)


def _copy(base: Path, target: Path) -> Path:
    shutil.copytree(base, target, symlinks=True)
    return target


def _main(*args: str) -> tuple[int, str, str]:
    """holdem-train-blueprint in-process: (exit code, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = train_main(list(args))
        except SystemExit as exc:  # argparse
            code = exc.code if isinstance(exc.code, int) else 2
    return code, out.getvalue(), err.getvalue()


def _train_args(logdir: Path, config_file: Path, *extra: str) -> list[str]:
    return ["--logdir", str(logdir), "--config", str(config_file), "--no-progress",
            "--no-tensorboard", *extra]


# ------------------------------------------------------------------------------------------
# One writer per run


def _pump(index: int, stream: IO[str], lines: queue.Queue[tuple[int, str]]) -> None:
    for line in stream:
        lines.put((index, line.rstrip("\n")))


def _start(logdir: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(cli_command(logdir, *args), cwd=REPO, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def _lock_settings(tmp_path: Path) -> tuple[Path, MCCFRConfig]:
    # Chunks of 150k Leduc iterations (a fraction of a second to a second): long enough that
    # a chunk which has just announced itself is still training when it is frozen or killed.
    settings = {**SETTINGS, "num_iterations": 300_000, "chunk_size_iterations": 150_000}
    return _write_settings(tmp_path / "run.yaml", settings), config_from_mapping(settings)[1]


def test_two_chunks_started_together_one_trains_the_other_exits_6(tmp_path: Path) -> None:
    config_file, config = _lock_settings(tmp_path)
    logdir = tmp_path / "run"
    args = ("--config", str(config_file), "--no-tensorboard")
    processes = [_start(logdir, *args), _start(logdir, *args)]
    lines: queue.Queue[tuple[int, str]] = queue.Queue()
    pumps = []
    for index, process in enumerate(processes):
        assert process.stdout is not None
        pumps.append(threading.Thread(target=_pump, args=(index, process.stdout, lines),
                                      daemon=True))
        pumps[-1].start()
    printed: list[tuple[int, str]] = []
    try:
        # The first process to print its banner holds the lock (it is printed under it).
        # Freeze it there, so the other one is certain to find the run taken.
        while True:
            index, line = lines.get(timeout=180)
            printed.append((index, line))
            if line == "Chunked Training Mode Initialized":
                break
        holder, other = processes[index], processes[1 - index]
        holder.send_signal(signal.SIGSTOP)
        assert holder.poll() is None, "the holder finished its chunk before it could be frozen"
        code = other.wait(timeout=180)
        assert other.stderr is not None
        error = one_line_error(other.stderr.read())
        assert code == exit_codes.LOCKED
        assert f"pid {holder.pid} on {socket.gethostname()}" in error
        assert "is being trained by another process" in error
        holder.send_signal(signal.SIGCONT)
        assert holder.wait(timeout=180) == exit_codes.CHUNK_DONE
    finally:
        for process in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGCONT)
                process.kill()
                process.wait()
    for pump in pumps:
        pump.join(timeout=60)
    while not lines.empty():
        printed.append(lines.get())
    banners = [i for i, line in printed if line == "Chunked Training Mode Initialized"]
    assert banners == [index], "exactly one process may train"
    assert [i.iteration for i in list_checkpoints(logdir / CHECKPOINTS)] == [150_000]
    assert run_to_completion(logdir, config, SPEC) == 1
    assert_same_state(logdir, reference(config, 300_000))


def test_lock_of_a_killed_chunk_is_taken_over(tmp_path: Path) -> None:
    config_file, config = _lock_settings(tmp_path)
    logdir = tmp_path / "run"
    args = ("--config", str(config_file), "--no-tensorboard")
    victim = _start(logdir, *args)
    assert victim.stdout is not None
    for line in victim.stdout:
        if line.startswith("Starting fresh training"):
            break
    victim.kill()
    assert victim.wait(timeout=60) == -signal.SIGKILL
    assert RunDir(logdir).lock_path.read_text().startswith(f"pid {victim.pid} on ")
    assert list_checkpoints(logdir / CHECKPOINTS) == []

    successor = cli(logdir, *args)
    assert successor.returncode == exit_codes.CHUNK_DONE, successor.stderr
    assert "Starting fresh training" in successor.stdout
    assert RunDir(logdir).lock_path.read_text().startswith("pid ")
    assert f"pid {victim.pid} " not in RunDir(logdir).lock_path.read_text()
    assert run_to_completion(logdir, config, SPEC) == 1
    assert_same_state(logdir, reference(config, 300_000))


def test_a_lock_symlink_cannot_truncate_a_file_outside_the_run(tmp_path: Path) -> None:
    victim = tmp_path / "precious.txt"
    victim.write_text("not yours\n")
    logdir = tmp_path / "run"
    logdir.mkdir()
    RunDir(logdir).lock_path.symlink_to(victim)
    with contextlib.suppress(Exception):
        quiet_chunk(logdir, CONFIG, SPEC)
    assert victim.read_text() == "not yours\n"


# ------------------------------------------------------------------------------------------
# Full disk and I/O errors while the runner writes a checkpoint

FAULT_MODES: dict[str, faults.Fault] = {  # `at` is set for each point of the sweep
    # One call fails, the next ones work (a transient error).
    "eio-once": faults.Fault(errno.EIO, at=0),
    # From the failing call on, every write and fsync fails: the disk stays full.
    "disk-full": faults.Fault(errno.ENOSPC, at=0, sticky=True,
                              sticky_ops=frozenset({"write", "fsync"})),
    # From the failing call on, everything fails, the clean-up's unlinks included: temp
    # files (or a renamed payload) stay behind for the next chunk to deal with.
    "device-lost": faults.Fault(errno.EIO, at=0, sticky=True),
}


def _checkpoint_files(logdir: Path, iteration: int) -> dict[str, bytes]:
    info = CheckpointInfo(iteration, logdir / CHECKPOINTS)
    return {p.name: p.read_bytes() for p in (info.policy_path, info.state_path,
                                             info.metadata_path) if p.exists()}


@pytest.mark.parametrize("mode", sorted(FAULT_MODES))
def test_a_fault_at_every_write_step_leaves_a_resumable_run(
        mode: str, base_run: Path, expected: Solver, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The second (last) chunk writes checkpoint 40 and applies retention (keep_last=1).
    Fail its n-th system call, for n = 1, 2, ... until the chunk goes through, and after
    every failure check the previous checkpoint, temp files, retention, and that the resumed
    run ends bit-identical to an uninterrupted one."""
    proxy = faults.install(monkeypatch)
    faults.arm_runner_writes(monkeypatch, proxy)
    previous = _checkpoint_files(base_run, 20)
    clean = _copy(base_run, tmp_path / "clean")
    assert quiet_chunk(clean, CONFIG, SPEC, keep_last=1) is ChunkStatus.COMPLETE
    calls = proxy.calls
    per_window = {w: sum(e.window == w for e in proxy.events) for w in ("write", "prune")}
    # 3 files x (create, writes, fsync, size, close, rename, directory fsync) and retention's
    # deletion of checkpoint 20 (3 unlinks and 2 directory fsyncs).
    assert per_window["write"] >= 40 and per_window["prune"] >= 8, per_window
    exercised = {"write": 0, "prune": 0}
    left_behind = 0
    n = 0
    while True:
        n += 1
        logdir = _copy(base_run, tmp_path / f"n{n}")
        proxy.events.clear()
        proxy.fault = dataclasses.replace(FAULT_MODES[mode], at=n)
        error: CheckpointError | None = None
        try:
            status = quiet_chunk(logdir, CONFIG, SPEC, keep_last=1)
        except CheckpointError as exc:
            error = exc
        fired = proxy.fired
        proxy.fault = None
        if not fired:
            assert error is None and status is ChunkStatus.COMPLETE
            break
        window = fired[0].window
        exercised[window] += 1
        checkpoints = logdir / CHECKPOINTS
        latest, _ = find_latest_complete(checkpoints)
        assert latest is not None, f"n={n}: no complete checkpoint left"
        load_checkpoint(latest)
        if error is not None:
            assert isinstance(error.__cause__, OSError), error  # the CLI's exit code 7
        if window == "write":
            # A failed write fails the chunk, leaves checkpoint 20 untouched and deletes nothing.
            assert error is not None, f"n={n}: a failed checkpoint write went unreported"
            assert _checkpoint_files(logdir, 20) == previous
            assert not any(e.op == "unlink" and "iter000000000020" in (e.path or "")
                           for e in proxy.events)
            if mode != "device-lost":
                assert latest.iteration == 20
                assert temp_files(checkpoints) == []
                assert _checkpoint_files(logdir, 40) == {}
        else:
            # Retention runs only once checkpoint 40 is complete, and never removes it.
            assert latest.iteration == 40
            published = [e.index for e in proxy.events
                         if e.op == "replace" and e.path is not None
                         and e.path.endswith("iter000000000040_metadata.json")]
            assert published, "retention ran before the new checkpoint was published"
            assert all(e.index > published[0] for e in proxy.events
                       if e.op == "unlink" and "iter000000000020" in (e.path or ""))
        left_behind += bool(temp_files(checkpoints))
        run_to_completion(logdir, CONFIG, SPEC)
        assert temp_files(checkpoints) == []
        assert_same_state(logdir, expected)
        shutil.rmtree(logdir)
    print(f"{mode}: {n - 1} fault points ({exercised}), temp files left for the next chunk "
          f"after {left_behind}")
    # Every faultable call of the clean chunk was made to fail once, and no other.
    assert n - 1 == calls, (n, calls)
    assert exercised == per_window
    if mode == "device-lost":
        assert left_behind > 0  # the next chunk had temp files to remove
    else:
        assert left_behind == 0


def test_retention_keeps_the_only_complete_checkpoint_when_the_write_fails(
        base_run: Path, expected: Solver, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    logdir = _copy(base_run, tmp_path / "run")
    checkpoints = logdir / CHECKPOINTS
    # A newer checkpoint that does not verify (a flipped byte in its regrets): the run resumes
    # from 20, so 20 is the only complete checkpoint.
    assert quiet_chunk(logdir, CONFIG.replace(num_iterations=60), SPEC) is ChunkStatus.CHUNK_DONE
    state = CheckpointInfo(40, checkpoints).state_path
    data = bytearray(state.read_bytes())
    data[len(data) // 2] ^= 0x01
    state.write_bytes(bytes(data))
    before = snapshot(logdir)
    proxy = faults.install(monkeypatch)
    faults.arm_runner_writes(monkeypatch, proxy)
    proxy.fault = faults.Fault(errno.ENOSPC, at=1, sticky=True)
    with pytest.raises(CheckpointError, match="No space left on device"):
        quiet_chunk(logdir, CONFIG, SPEC, keep_last=1)
    assert {e.window for e in proxy.events} == {"write"}  # retention never ran
    after = snapshot(logdir)
    # Checkpoint 20 is intact; the only change is the damaged 40's metadata, discarded as
    # incomplete before the new 40 was written.
    assert {k: v for k, v in after.items() if "iter000000000040" not in k} == \
        {k: v for k, v in before.items() if "iter000000000040" not in k}
    latest, problems = find_latest_complete(checkpoints)
    assert latest is not None and latest.iteration == 20 and len(problems) == 1
    proxy.fault = None
    assert quiet_chunk(logdir, CONFIG, SPEC, keep_last=1) is ChunkStatus.COMPLETE
    assert [i.iteration for i in list_checkpoints(checkpoints)] == [40]
    assert_same_state(logdir, expected)


def test_retention_keeps_the_newest_complete_checkpoints(tmp_path: Path) -> None:
    config = CONFIG.replace(num_iterations=100)
    logdir = tmp_path / "run"
    seen = []
    for _ in range(5):
        quiet_chunk(logdir, config, SPEC, keep_last=2)
        seen.append([i.iteration for i in list_checkpoints(logdir / CHECKPOINTS)])
    assert seen == [[20], [20, 40], [40, 60], [60, 80], [80, 100]]
    assert_same_state(logdir, reference(config, 100))


@contextlib.contextmanager
def _tiny_filesystem(path: Path) -> Iterator[bool]:
    """Mount a 256 KiB tmpfs on `path` (True), or yield False where mounting is not allowed."""
    path.mkdir(parents=True)
    mounted = False
    if os.geteuid() == 0 and shutil.which("mount"):
        mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k,mode=0755",
                                  "holdem-lab-test", str(path)],
                                 capture_output=True).returncode == 0
    try:
        yield mounted
    finally:
        if mounted:
            subprocess.run(["umount", str(path)], check=True)


def _fill(directory: Path) -> Path:
    """Fill the filesystem of `directory` with one file; return it."""
    filler = directory / "filler.bin"
    block = b"\xff" * 4096
    with filler.open("wb", buffering=0) as handle, contextlib.suppress(OSError):
        while True:
            handle.write(block)
    return filler


def test_cli_on_a_full_disk_exits_7_with_one_line_and_resumes_exactly(
        tmp_path: Path, expected: Solver) -> None:
    """The command line on a real full filesystem (a tiny tmpfs as the checkpoint directory)
    where the test may mount one; elsewhere the same chunk with every write failing ENOSPC,
    injected in the child process (tests/hostile/full_disk_cli.py)."""
    config_file = _write_settings(tmp_path / "run.yaml", SETTINGS)
    logdir = tmp_path / "run"
    args = ("--config", str(config_file), "--no-tensorboard")
    with _tiny_filesystem(logdir / CHECKPOINTS) as mounted:
        first = cli(logdir, *args)
        assert first.returncode == exit_codes.CHUNK_DONE, first.stderr
        if mounted:
            filler = _fill(logdir / CHECKPOINTS)
            failed = cli(logdir, *args)
        else:
            env = {**os.environ, "PYTHONPATH": str(REPO / "tests")}
            failed = subprocess.run(
                [sys.executable, "-m", "hostile.full_disk_cli", "--logdir", str(logdir),
                 "--no-progress", *args], capture_output=True, text=True, timeout=180,
                cwd=REPO, env=env)
        assert failed.returncode == exit_codes.IO, failed.stderr
        error = one_line_error(failed.stderr)
        assert "No space left on device" in error
        # A full file system is found before the chunk trains; a write failing later names
        # the checkpoint it was writing.
        assert ("a checkpoint of this run needs" if mounted else "checkpoint_iter000000000040") \
            in error, error
        assert temp_files(logdir / CHECKPOINTS) == []
        latest, problems = find_latest_complete(logdir / CHECKPOINTS)
        assert latest is not None and latest.iteration == 20 and problems == []
        load_checkpoint(latest)
        if mounted:
            filler.unlink()
        last = cli(logdir, *args)
        assert last.returncode == exit_codes.COMPLETE, last.stderr
        assert_same_state(logdir, expected)


# ------------------------------------------------------------------------------------------
# Hostile and broken inputs: config files

ALIAS_BOMB = "game_params: {" + ", ".join(
    ["a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    + [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 6)]
) + "}\nnum_iterations: *a5\n"  # 346 bytes; the value expands to 9**6 = 531441 items

CONFIG_CORPUS: list[Any] = [
    pytest.param("num_iterations: [1, 2\n", "config=", id="malformed-yaml"),
    pytest.param("num_iterations: 10\n\tseed: 1\n", "config=", id="tab-indentation"),
    pytest.param(b"num_iterations: 10\n\xff\xfe\x00\n", "config=", id="not-utf8"),
    pytest.param("- 1\n- 2\n", "config=", id="top-level-list"),
    pytest.param("42\n", "config=", id="top-level-scalar"),
    pytest.param("num_iterations: !!python/object/apply:os.system ['touch {marker}']\n",
                 "config=", id="python-object-apply"),
    pytest.param("num_iterations: !!python/object/new:subprocess.Popen [[touch, '{marker}']]\n",
                 "config=", id="python-object-new"),
    pytest.param("seed: !!python/name:os.system\n", "config=", id="python-name"),
    pytest.param("num_iterations: many\n", "num_iterations=", id="string-for-int"),
    pytest.param("seed: [1]\n", "seed=", id="list-for-int"),
    pytest.param("seed: true\n", "seed=", id="bool-for-int"),
    pytest.param("discount_mode: 5\n", "discount_mode=", id="int-for-choice"),
    pytest.param("enable_pruning: perhaps\n", "enable_pruning=", id="string-for-bool"),
    pytest.param("chunk_size_minutes: {}\n", "chunk_size_minutes=", id="mapping-for-number"),
    pytest.param("epsilon_schedule: [[1, 0.5, 3]]\n", "epsilon_schedule=", id="bad-schedule"),
    pytest.param("epsilon_schedule: [[2, 0.5], [1, 0.5]]\n", "epsilon_schedule=",
                 id="unordered-schedule"),
    pytest.param("game_params: [1]\n", "game_params=", id="list-for-game-params"),
    pytest.param("buckets: 5\n", "buckets=", id="int-for-path"),
    pytest.param("game: ../../etc/passwd\n", "game=", id="path-for-game"),
    pytest.param("time_budget_seconds: .nan\n", "time_budget_seconds=", id="nan"),
    pytest.param("chunk_size_minutes: .inf\n", "chunk_size_minutes=", id="inf"),
    pytest.param("exploration_epsilon: -.inf\n", "exploration_epsilon=", id="minus-inf"),
    pytest.param("num_iterations: .inf\n", "num_iterations=", id="inf-for-int"),
    pytest.param("num_iterations: 1e400\n", "num_iterations=", id="overflowing-literal"),
    pytest.param("num_players: 1000000000000000000000000000000\n", "num_players=",
                 id="huge-player-count"),
    pytest.param("chunk_size: 5\n", "chunk_size=", id="unknown-key"),
    pytest.param("__class__: 1\n", "__class__=", id="dunder-key"),
    pytest.param("1: 2\n", "1=", id="int-key"),
    pytest.param("num_iterations: 10\ndiscount_interval: 100000000000000000000000\n",
                 "discount_interval=", id="int64-overflow-discount-interval"),
    pytest.param("num_iterations: 10\nprune_warmup_iterations: 100000000000000000000000\n",
                 "prune_warmup_iterations=", id="int64-overflow-prune-warmup"),
    pytest.param("num_iterations: 10\ndiscount_stop_iteration: 100000000000000000000000\n",
                 "discount_stop_iteration=", id="int64-overflow-discount-stop"),
    pytest.param("time_budget_seconds: " + "9" * 400 + "\n", "time_budget_seconds=",
                 id="int-beyond-float"),
    pytest.param("num_iterations: 40\ndcfr_alpha: 1.0e+300\n", "dcfr_alpha=",
                 id="overflowing-dcfr-exponent"),
    pytest.param(ALIAS_BOMB, "num_iterations=", id="yaml-alias-bomb"),
]


@pytest.mark.parametrize(("text", "field"), CONFIG_CORPUS)
def test_hostile_config_file_is_refused_in_one_line_naming_the_field(
        text: str | bytes, field: str, tmp_path: Path) -> None:
    marker = tmp_path / "executed"
    config_file = tmp_path / "hostile.yaml"
    if isinstance(text, bytes):
        config_file.write_bytes(text)
    else:
        config_file.write_text(text.replace("{marker}", str(marker)))
    before = config_file.read_bytes()
    logdir = tmp_path / "run"
    code, _, err = _main(*_train_args(logdir, config_file))
    error = one_line_error(err)
    assert len(error) < 2000, f"{len(error)}-character error line"
    assert code == exit_codes.USAGE, err
    assert f"invalid configuration: {field}" in error
    assert not marker.exists(), "the config file ran code"
    assert not logdir.exists(), "a refused config created the run directory"
    assert config_file.read_bytes() == before


def test_config_keys_of_every_type_are_refused_as_config_errors() -> None:
    for bad in ([1, 2], "text", 3, None):
        with pytest.raises(ConfigError, match="<config>"):
            config_from_mapping(bad)  # type: ignore[arg-type]


def test_an_oversized_config_file_is_refused_unread(tmp_path: Path) -> None:
    config_file = tmp_path / "huge.yaml"
    with config_file.open("wb") as handle:
        handle.truncate(64 << 20)  # sparse: no disk used
    tracemalloc.start()
    try:
        code, _, err = _main(*_train_args(tmp_path / "run", config_file))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert code == exit_codes.USAGE and "config=" in one_line_error(err)
    assert peak < 16 << 20, f"peak {peak / 2**20:.0f} MiB to refuse a config file"


# ------------------------------------------------------------------------------------------
# Hostile and broken inputs: bucket paths


def _bucket_tricks(root: Path) -> dict[str, str]:
    fifo_dir = root / "fifo"
    fifo_dir.mkdir()
    os.mkfifo(fifo_dir / "buckets.npz")
    (fifo_dir / "buckets.json").write_text("{}")
    (root / "loop1").symlink_to(root / "loop2")
    (root / "loop2").symlink_to(root / "loop1")
    sparse = root / "sparse"
    sparse.mkdir()
    (sparse / "buckets.npz").write_bytes(b"")
    with (sparse / "buckets.json").open("wb") as handle:
        handle.truncate(2 << 30)
    nested = root / "nested"
    (nested / "buckets.npz").mkdir(parents=True)
    (nested / "buckets.json").write_text("{}")
    return {
        "missing": str(root / "no" / "such" / "buckets.npz"),
        "device": "/dev/zero",
        "fifo-directory": str(fifo_dir),
        "fifo-file": str(fifo_dir / "buckets.npz"),
        "symlink-loop": str(root / "loop1"),
        "2-GiB-summary": str(sparse),
        "directory-named-npz": str(nested),
        "dot-dot-to-system-file": "../" * 12 + "etc/passwd",
    }


@pytest.mark.timeout(120)
def test_bucket_path_tricks_are_refused_without_reading_or_blocking(tmp_path: Path) -> None:
    tricks = _bucket_tricks(tmp_path)
    refused = {}
    for name, path in tricks.items():
        logdir = tmp_path / f"run-{name}"
        tracemalloc.start()
        try:
            code, _, err = _main("--logdir", str(logdir), "--game", "holdem", "--buckets", path,
                                 "--iters", "2", "--no-progress", "--no-tensorboard")
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        error = one_line_error(err)
        assert code == exit_codes.MISMATCH, (name, err)
        assert "bucket file refused" in error, (name, error)
        assert peak < 64 << 20, (name, peak)
        assert list_checkpoints(logdir / CHECKPOINTS) == []
        refused[name] = error
    assert len(refused) == len(tricks) == 8
    code, _, err = _main("--logdir", str(tmp_path / "leduc"), "--game", "leduc", "--buckets",
                         tricks["missing"], "--iters", "2", "--no-progress", "--no-tensorboard")
    assert code == exit_codes.USAGE
    assert "only Hold'em uses a bucket file, and the game is leduc" in one_line_error(err)


def test_the_guides_flags_that_do_not_apply_are_explained(tmp_path: Path) -> None:
    """The guide's commands pass --buckets (a .pkl) and no --game: the game is Hold'em, and a
    pickle path is refused saying what to pass instead. Its --num-instances is explained."""
    pickle_path = tmp_path / "data" / "buckets.pkl"
    pickle_path.parent.mkdir()
    pickle_path.write_bytes(b"\x80\x04N.")  # pickle of None: must never be opened as one
    logdir = tmp_path / "run"
    code, out, err = _main("--logdir", str(logdir), "--buckets", str(pickle_path), "--iters",
                           "2", "--no-progress", "--no-tensorboard")
    assert code == exit_codes.MISMATCH, err
    assert one_line_error(err) == (
        f"holdem-train-blueprint: error: bucket file refused: {pickle_path}: bucket files are "
        "never pickles; pass the directory holdem-build-buckets wrote (buckets.npz and "
        "buckets.json)")
    assert list_checkpoints(logdir / CHECKPOINTS) == []
    for flag in (["--num-instances", "4"], ["--num-instances"], ["--num-instances=auto"]):
        code, _, err = _main("--logdir", str(logdir), *flag, "--iters", "2")
        assert code == exit_codes.USAGE
        assert "there is no multi-instance mode" in one_line_error(err)
    spec, _ = config_from_mapping({"buckets": "data/buckets/default"})
    assert spec.game == "holdem"
    spec, _ = config_from_mapping({"buckets": None})
    assert spec.game == "leduc"


# ------------------------------------------------------------------------------------------
# Hostile and broken inputs: files planted in the checkpoint directory
#
# Each case turns the run's only checkpoint (iteration 20) into something hostile whose
# metadata still vouches for it (sizes, sha256 and the metadata self-hash recomputed), so the
# bytes reach the parsers. The command must refuse with exit code 4 and one line naming the
# problem, run no code, stay within a small memory budget and leave every file as it was.

Mutation = Callable[[CheckpointInfo, Path], None]


def _state(info: CheckpointInfo) -> dict[str, np.ndarray[Any, Any]]:
    return dict(load_checkpoint(info).state)


def _policy(info: CheckpointInfo) -> dict[str, np.ndarray[Any, Any]]:
    return dict(load_checkpoint(info).policy)


def _swap_arrays(role: str, change: Callable[[dict[str, np.ndarray[Any, Any]]], None]
                 ) -> Mutation:
    def mutate(info: CheckpointInfo, marker: Path) -> None:
        arrays = _state(info) if role == "state" else _policy(info)
        change(arrays)
        forge.replace_payload(info, role, forge.npz_bytes(arrays), forge.listing(arrays))
    return mutate


def _swap_bytes(role: str, make: Callable[[CheckpointInfo, Path], bytes]) -> Mutation:
    def mutate(info: CheckpointInfo, marker: Path) -> None:
        forge.replace_payload(info, role, make(info, marker))
    return mutate


def _set_field(key: str, value: Any) -> Mutation:
    def mutate(info: CheckpointInfo, marker: Path) -> None:
        forge.rewrite_metadata(info, lambda document: document.__setitem__(key, value))
    return mutate


def _edit(change: Callable[[dict[str, Any]], None]) -> Mutation:
    def mutate(info: CheckpointInfo, marker: Path) -> None:
        forge.rewrite_metadata(info, change)
    return mutate


def _raw_metadata(make: Callable[[Path], None]) -> Mutation:
    def mutate(info: CheckpointInfo, marker: Path) -> None:
        info.metadata_path.unlink()
        make(info.metadata_path)
    return mutate


def _sparse(size: int) -> Callable[[Path], None]:
    def make(path: Path) -> None:
        with path.open("wb") as handle:
            handle.truncate(size)
    return make


def _text(text: str | bytes) -> Callable[[Path], None]:
    def make(path: Path) -> None:
        path.write_bytes(text.encode() if isinstance(text, str) else text)
    return make


def _nan_regrets(arrays: dict[str, np.ndarray[Any, Any]]) -> None:
    arrays["regrets"][3, 1] = np.nan


def _inf_policy(arrays: dict[str, np.ndarray[Any, Any]]) -> None:
    arrays["average_policy"][0, 0] = np.inf


def _small_regrets(arrays: dict[str, np.ndarray[Any, Any]]) -> None:
    arrays["regrets"] = np.zeros((3, 3))


def _float32_regrets(arrays: dict[str, np.ndarray[Any, Any]]) -> None:
    arrays["regrets"] = arrays["regrets"].astype(np.float32)


def _2d_stats(arrays: dict[str, np.ndarray[Any, Any]]) -> None:
    arrays["stats"] = np.zeros((3, 8), dtype=np.int64)  # the kernel would write past it


def _float_stats(arrays: dict[str, np.ndarray[Any, Any]]) -> None:
    arrays["stats"] = arrays["stats"] + 0.5


def _zip_bomb(info: CheckpointInfo, marker: Path) -> bytes:
    header = forge.npy_header_bytes((2 << 20,))  # 16 MiB of float64 zeros, deflated to ~16 KiB
    return forge.zip_bytes({"average_policy.npy": header + bytes(16 << 20)},
                           compression=zipfile.ZIP_DEFLATED)


def _escaping_member(info: CheckpointInfo, marker: Path) -> bytes:
    return forge.zip_bytes({"../../escape.npy": info.policy_path.read_bytes()[:64]})


def _deep(path: Path) -> None:
    path.write_text("[" * 200_000 + "]" * 200_000)


CHECKPOINT_CORPUS: dict[str, tuple[Mutation, str]] = {
    # payloads
    "pickle-as-policy": (_swap_bytes("policy", lambda i, m: forge.pickle_bytes(m)),
                         "not a valid npz"),
    "pickle-as-regrets": (_swap_bytes("state", lambda i, m: forge.pickle_bytes(m)),
                          "not a valid npz"),
    "object-array-npz": (_swap_bytes("policy", lambda i, m: forge.object_npz_bytes(m)),
                         "holds Python objects"),
    "absurd-shape-header": (_swap_bytes("policy", lambda i, m: forge.absurd_shape_npz()),
                            "header claims"),
    "lying-zip-directory": (_swap_bytes("policy", lambda i, m: forge.lying_zip_directory(
        _policy(i)["average_policy"])), "past end of file"),
    "zip-bomb-member": (_swap_bytes("policy", _zip_bomb), "compressed"),
    "member-name-escapes": (_swap_bytes("policy", _escaping_member), "must start with"),
    "nan-in-regrets": (_swap_arrays("state", _nan_regrets), "NaN or infinity"),
    "inf-in-policy": (_swap_arrays("policy", _inf_policy), "NaN or infinity"),
    "regrets-of-another-game": (_swap_arrays("state", _small_regrets), "regrets: shape (3, 3)"),
    "float32-regrets": (_swap_arrays("state", _float32_regrets), "dtype float32"),
    "stats-2d": (_swap_arrays("state", _2d_stats), "stats: shape (3, 8)"),
    "stats-float": (_swap_arrays("state", _float_stats), "stats: shape (4,) dtype float64"),
    # metadata as bytes
    "metadata-65-MiB": (_raw_metadata(_sparse(65 << 20)), "is too large"),
    "metadata-deeply-nested": (_raw_metadata(_deep), "not valid JSON"),
    "metadata-not-object": (_raw_metadata(_text("[]")), "not a JSON object"),
    "metadata-nan-literal": (_raw_metadata(_text('{"iteration": NaN}')), "not valid JSON"),
    "metadata-not-utf8": (_raw_metadata(_text(b'{"a": "\xff\xfe"}')), "not valid JSON"),
    "metadata-deleted": (_raw_metadata(lambda path: None), "metadata missing"),
    "metadata-edited-unsealed": (_raw_metadata(_text(json.dumps({
        "format_version": 1, "iteration": 20, "files": {}, "metadata_sha256": "0" * 64}))),
        "metadata_sha256 does not match"),
    # metadata fields, resealed
    "format-version-newer": (_set_field("format_version", 2), "written by a newer format_version"),
    "format-version-string": (_set_field("format_version", "1"), "unsupported format_version"),
    "iteration-string": (_set_field("iteration", "20"), "iteration mismatch"),
    "iteration-float": (_set_field("iteration", 20.0), "iteration mismatch"),
    "iteration-bool": (_set_field("iteration", True), "iteration mismatch"),
    "rng-state-string": (_set_field("rng_state", "hello"), "'rng_state' must be a JSON object"),
    "rng-state-other-generator": (_set_field("rng_state", {"bit_generator": "MT19937"}),
                                  "rng_state is for 'MT19937'"),
    "rng-state-garbage-number": (_edit(lambda d: d["rng_state"]["state"].update(state="zz")),
                                 "invalid literal for int()"),
    "rng-state-beyond-uint128": (_edit(lambda d: d["rng_state"]["state"].update(
        state=str(2**200))), "cannot restore the solver state"),
    "rng-state-missing-key": (_edit(lambda d: d["rng_state"].pop("state")), "missing key"),
    "discount-steps-fraction": (_set_field("discount_steps", 1.5), "'discount_steps' must be"),
    "discount-steps-negative": (_set_field("discount_steps", -5), "'discount_steps' must be"),
    "chunk-index-huge": (_set_field("chunk_index", 10**400), "'chunk_index' must be"),
    "elapsed-list": (_set_field("elapsed_seconds", []), "'elapsed_seconds' must be"),
    "config-list": (_set_field("config", [1]), "'config' must be a JSON object"),
    "game-identity-missing": (_edit(lambda d: d.pop("game_identity")), "'game_identity'"),
    "chunks-string": (_set_field("chunks", "abc"), "'chunks' must be a list"),
    "payload-name-dot-dot": (_edit(lambda d: d["files"]["policy"].update(
        name="../../../etc/passwd")), "files.policy: names '../../../etc/passwd'"),
    "payload-size-negative": (_edit(lambda d: d["files"]["state"].update(size_bytes=-1)),
                              "size_bytes -1"),
    "payload-sha-uppercase": (_edit(lambda d: d["files"]["state"].update(
        sha256=d["files"]["state"]["sha256"].upper())), "64 lowercase hex digits"),
}


@pytest.mark.parametrize("case", sorted(CHECKPOINT_CORPUS))
def test_hostile_checkpoint_is_refused_and_nothing_changes(
        case: str, base_run: Path, tmp_path: Path) -> None:
    mutate, expected_text = CHECKPOINT_CORPUS[case]
    logdir = _copy(base_run, tmp_path / "run")
    info = list_checkpoints(logdir / CHECKPOINTS)[0]
    marker = tmp_path / "executed"
    mutate(info, marker)
    config_file = _write_settings(tmp_path / "run.yaml", SETTINGS)
    before = snapshot(logdir)
    tracemalloc.start()
    try:
        code, _, err = _main(*_train_args(logdir, config_file))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    error = one_line_error(err)
    assert code == exit_codes.CHECKPOINT, err
    assert expected_text in error
    assert "checkpoint_iter000000000020" in error
    assert not marker.exists(), "a planted file ran code"
    assert peak < 48 << 20, f"peak {peak / 2**20:.0f} MiB to refuse a checkpoint"
    assert snapshot(logdir) == before



def test_checkpoint_names_that_are_symlinks_never_touch_their_targets(
        base_run: Path, expected: Solver, tmp_path: Path) -> None:
    """Checkpoint names planted as symlinks to files outside the run: listing ignores them,
    reading never follows them, and writing checkpoint 40 replaces the links themselves."""
    logdir = _copy(base_run, tmp_path / "run")
    target = CheckpointInfo(40, logdir / CHECKPOINTS)
    victims = {}
    for path in (target.policy_path, target.state_path, target.metadata_path):
        victim = tmp_path / f"victim-{path.name}"
        victim.write_bytes(b"precious " + path.name.encode())
        path.symlink_to(victim)
        victims[victim] = victim.read_bytes()
    assert run_to_completion(logdir, CONFIG, SPEC) == 1
    assert {v: v.read_bytes() for v in victims} == victims
    assert not any(p.is_symlink() for p in (logdir / CHECKPOINTS).iterdir())
    assert_same_state(logdir, expected)


def test_odd_names_in_the_checkpoint_directory_are_ignored(
        base_run: Path, expected: Solver, tmp_path: Path) -> None:
    logdir = _copy(base_run, tmp_path / "run")
    checkpoints = logdir / CHECKPOINTS
    genuine = CheckpointInfo(20, checkpoints)
    odd = ["checkpoint_iter40_metadata.json", "checkpoint_iter000000000040.npz\n",
           "checkpoint_iter000000000040.npz.bak", "..checkpoint_iter000000000040.npz",
           "checkpoint_iter०००००००००००40.npz", ".checkpoint_iter000000000040.npz.tmp-1-zz"]
    for name in odd:
        (checkpoints / name).write_bytes(genuine.metadata_path.read_bytes())
    (checkpoints / "checkpoint_iter000000000060_metadata.json").mkdir()
    planted = {name: (checkpoints / name).read_bytes() for name in odd}
    assert [i.iteration for i in list_checkpoints(checkpoints)] == [20]
    assert run_to_completion(logdir, CONFIG, SPEC) == 1
    assert {name: (checkpoints / name).read_bytes() for name in odd} == planted
    assert (checkpoints / "checkpoint_iter000000000060_metadata.json").is_dir()
    assert_same_state(logdir, expected)


def test_a_directory_at_the_next_checkpoint_name_fails_the_write_cleanly(
        base_run: Path, expected: Solver, tmp_path: Path) -> None:
    logdir = _copy(base_run, tmp_path / "run")
    blocker = CheckpointInfo(40, logdir / CHECKPOINTS).state_path
    blocker.mkdir()
    config_file = _write_settings(tmp_path / "run.yaml", SETTINGS)
    code, _, err = _main(*_train_args(logdir, config_file))
    error = one_line_error(err)
    assert code == exit_codes.IO and str(blocker) in error, err
    latest, _ = find_latest_complete(logdir / CHECKPOINTS)
    assert latest is not None and latest.iteration == 20
    assert temp_files(logdir / CHECKPOINTS) == []
    blocker.rmdir()
    assert run_to_completion(logdir, CONFIG, SPEC) == 1
    assert_same_state(logdir, expected)


def test_a_newer_format_checkpoint_is_never_overwritten(
        base_run: Path, tmp_path: Path) -> None:
    logdir = _copy(base_run, tmp_path / "run")
    assert quiet_chunk(logdir, CONFIG.replace(num_iterations=60), SPEC) is ChunkStatus.CHUNK_DONE
    newer = CheckpointInfo(40, logdir / CHECKPOINTS)
    forge.rewrite_metadata(newer, lambda document: document.update(format_version=2))
    written_by_newer = _checkpoint_files(logdir, 40)
    with contextlib.suppress(CheckpointError):
        quiet_chunk(logdir, CONFIG.replace(num_iterations=60), SPEC)
    assert _checkpoint_files(logdir, 40) == written_by_newer


# ------------------------------------------------------------------------------------------
# Hostile and broken inputs: the chunk notebook's parameters

NOTEBOOK_CORPUS: dict[str, tuple[dict[str, Any], str]] = {
    "unknown-parameter": ({"bogus": 1}, "bogus="),
    "empty-logdir": ({"logdir": ""}, "logdir="),
    "logdir-not-a-string": ({"logdir": ["x"]}, "logdir="),
    "logdir-is-a-file": ({"logdir": "{config}"}, "logdir="),
    "bool-chunk-iterations": ({"chunk_iterations": True}, "chunk_iterations="),
    "nan-chunk-minutes": ({"chunk_minutes": float("nan")}, "chunk_minutes="),
    "inf-chunk-minutes": ({"chunk_minutes": float("inf")}, "chunk_minutes="),
    "zero-keep-last": ({"keep_last": 0}, "keep_last="),
    "negative-seed": ({"seed": -1}, "seed="),
    "string-tensorboard": ({"tensorboard": "yes"}, "tensorboard="),
    "path-for-game": ({"game": "../../etc/passwd"}, "game="),
    "result-in-missing-directory": ({"result_path": "/no/such/dir/result.json"},
                                    "result_path="),
    "python-tag-in-config": ({"config_path": "{evil}"}, "config="),
    "missing-config": ({"config_path": "/no/such/run.yaml"}, "config="),
}


@pytest.mark.parametrize("case", sorted(NOTEBOOK_CORPUS))
def test_hostile_notebook_parameters_are_refused_before_anything_is_written(
        case: str, tmp_path: Path) -> None:
    marker = tmp_path / "executed"
    config_file = _write_settings(tmp_path / "run.yaml", SETTINGS)
    evil = tmp_path / "evil.yaml"
    evil.write_text(f"num_iterations: !!python/object/apply:os.system ['touch {marker}']\n")
    overrides, field = NOTEBOOK_CORPUS[case]
    logdir = tmp_path / "run"
    parameters: dict[str, Any] = {"config_path": str(config_file), "logdir": str(logdir)}
    for key, value in overrides.items():
        parameters[key] = (value.format(config=config_file, evil=evil)
                           if isinstance(value, str) else value)
    with pytest.raises(ConfigError) as caught:
        prepare_chunk(**parameters)
    assert str(caught.value).startswith(field), str(caught.value)
    assert not marker.exists()
    assert not logdir.exists()


@pytest.mark.parametrize(("args", "message"), [
    # (argparse's wording of the choices after this prefix changed in Python 3.12.8)
    (["--sampling", "Outcome"], "argument --sampling: invalid choice: 'Outcome'"),
    (["--iters", "2.5"], "argument --iters: invalid count: '2.5' is not a whole number"),
    (["--iters", "inf"], "argument --iters: invalid count: 'inf' is not a whole number"),
    (["--iters", "ten"], "argument --iters: invalid count: 'ten'"),
    (["--bogus"], "unrecognized arguments: --bogus"),
])
def test_usage_mistakes_are_one_line(tmp_path: Path, args: list[str], message: str) -> None:
    code, _, err = _main("--logdir", str(tmp_path / "run"), *args)
    assert code == exit_codes.USAGE
    line = one_line_error(err)
    assert line.startswith(f"holdem-train-blueprint: error: {message}"), line
    assert line.endswith(" (see holdem-train-blueprint --help)"), line


def test_config_errors_name_the_flags_of_the_fields_they_are_about(tmp_path: Path) -> None:
    code, _, err = _main("--logdir", str(tmp_path / "a"), "--chunked", "--iters", "10")
    assert code == exit_codes.USAGE
    assert one_line_error(err).endswith(
        "needs chunk_size_iterations and/or chunk_size_minutes "
        "(flags: --chunked, --chunk-iterations, --chunk-minutes)")
    # A value that happens to contain field names adds no flags.
    code, _, err = _main("--logdir", str(tmp_path / "b"), "--game", "kuhn", "--buckets",
                         "/data/seed/sampling")
    assert one_line_error(err).endswith("and the game is kuhn (flags: --buckets, --game)")
    config = tmp_path / "run.yaml"
    config.write_text("chunk_size: 5\n")
    code, _, err = _main("--logdir", str(tmp_path / "c"), "--config", str(config))
    assert "unknown key" in one_line_error(err) and "(flags:" not in err


def test_counts_accept_scientific_and_grouped_notation(tmp_path: Path) -> None:
    for text in ("3e2", "3_00", "300", "3.00E2"):
        code, out, err = _main("--logdir", str(tmp_path / text), "--game", "leduc", "--iters",
                               text, "--no-progress", "--no-tensorboard")
        assert code == exit_codes.COMPLETE, err
        assert "Total iteration limit reached: 300 >= 300" in out
