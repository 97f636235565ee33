"""The chunk runner's checkpoint writes under full or failing disks, and retention.

Every failure is checked for the exception or exit code, the previous checkpoint left as it
was, and a run that, once finished, equals an uninterrupted one bit for bit.
"""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from hostile import faults
from hostile.runs import (
    CHECKPOINTS,
    CONFIG,
    REPO,
    SETTINGS,
    SPEC,
    assert_same_state,
    checkpoint_files,
    cli,
    copy_run,
    one_line_error,
    quiet_chunk,
    reference,
    run_to_completion,
    snapshot,
    temp_files,
    write_settings,
)

from holdem_lab import Solver
from holdem_lab.checkpoint import (
    CheckpointInfo,
    find_latest_complete,
    list_checkpoints,
    load_checkpoint,
)
from holdem_lab.chunks import ChunkStatus
from holdem_lab.cli import exit_codes
from holdem_lab.errors import CheckpointError

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
    previous = checkpoint_files(base_run, 20)
    clean = copy_run(base_run, tmp_path / "clean")
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
        logdir = copy_run(base_run, tmp_path / f"n{n}")
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
            assert checkpoint_files(logdir, 20) == previous
            assert not any(e.op == "unlink" and "iter000000000020" in (e.path or "")
                           for e in proxy.events)
            if mode != "device-lost":
                assert latest.iteration == 20
                assert temp_files(checkpoints) == []
                assert checkpoint_files(logdir, 40) == {}
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
    logdir = copy_run(base_run, tmp_path / "run")
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
    config_file = write_settings(tmp_path / "run.yaml", SETTINGS)
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
