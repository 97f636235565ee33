"""The run lock (holdem_lab/chunks/lock.py): one writer per run directory. Two chunks
started together, a lock left by a killed chunk, a lock name planted as a symlink."""

from __future__ import annotations

import contextlib
import queue
import signal
import socket
import threading
from pathlib import Path
from typing import IO

from hostile.runs import (
    CHECKPOINTS,
    CONFIG,
    SETTINGS,
    SPEC,
    assert_same_state,
    cli,
    one_line_error,
    quiet_chunk,
    reference,
    run_to_completion,
    start,
    wait_for_line,
    write_settings,
)

from holdem_lab import MCCFRConfig
from holdem_lab.checkpoint import list_checkpoints
from holdem_lab.cli import exit_codes
from holdem_lab.config import config_from_mapping
from holdem_lab.rundir import RunDir


def _pump(index: int, stream: IO[str], lines: queue.Queue[tuple[int, str]]) -> None:
    for line in stream:
        lines.put((index, line.rstrip("\n")))


def _lock_settings(tmp_path: Path) -> tuple[Path, MCCFRConfig]:
    # Chunks of 150k Leduc iterations (a fraction of a second to a second): long enough that
    # a chunk which has just announced itself is still training when it is frozen or killed.
    settings = {**SETTINGS, "num_iterations": 300_000, "chunk_size_iterations": 150_000}
    return write_settings(tmp_path / "run.yaml", settings), config_from_mapping(settings)[1]


def test_two_chunks_started_together_one_trains_the_other_exits_6(tmp_path: Path) -> None:
    config_file, config = _lock_settings(tmp_path)
    logdir = tmp_path / "run"
    args = ("--config", str(config_file), "--no-tensorboard")
    processes = [start(logdir, *args), start(logdir, *args)]
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
    victim = start(logdir, *args)
    wait_for_line(victim, "Starting fresh training")
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
