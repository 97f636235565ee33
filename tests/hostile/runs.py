"""Runs for the tests: reference runs, exact state comparison, run-directory snapshots, and the
training command in-process or in a subprocess."""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from holdem_lab import MCCFRConfig, Solver, load_game
from holdem_lab.checkpoint import CheckpointInfo, list_checkpoints, load_checkpoint
from holdem_lab.chunks import ChunkStatus, run_chunk
from holdem_lab.chunks.runner import latest_checkpoint, rng_state_from_json
from holdem_lab.cli import exit_codes
from holdem_lab.cli.train import main as train_main
from holdem_lab.config import GameSpec, config_from_mapping
from holdem_lab.rundir import RunDir

REPO = Path(__file__).resolve().parents[2]
LEDUC = GameSpec(game="leduc")
TRAIN_MODULE = "holdem_lab.cli.train"
CHECKPOINTS = "checkpoints"

# One small Leduc run with every state-changing option on (discounting, pruning, a regret
# floor, an epsilon schedule), so that an inexact resume cannot go unnoticed.
SETTINGS: dict[str, Any] = {
    "game": "leduc", "num_iterations": 40, "enable_chunked_training": True,
    "chunk_size_iterations": 20, "seed": 11, "discount_mode": "dcfr", "discount_interval": 3,
    "enable_pruning": True, "prune_warmup_iterations": 10, "prune_threshold": -2.0,
    "regret_floor": -5.0, "sampling": "outcome", "epsilon_schedule": [[0, 0.6], [25, 0.3]],
}
SPEC, CONFIG = config_from_mapping(SETTINGS)


def reference(config: MCCFRConfig, iterations: int, game: str = "leduc") -> Solver:
    """An uninterrupted, in-memory run of `iterations` iterations."""
    solver = Solver(load_game(game), config)
    solver.run(iterations)
    return solver


def assert_same_state(logdir: Path, expected: Solver) -> None:
    """The newest complete checkpoint of `logdir` holds exactly `expected`'s state."""
    info = latest_checkpoint(logdir)
    assert info is not None, f"no complete checkpoint in {logdir}"
    loaded = load_checkpoint(info)
    meta = loaded.metadata
    assert meta["iteration"] == meta["t_global"] == expected.iteration
    assert np.array_equal(loaded.state["regrets"], expected.regrets)
    assert np.array_equal(loaded.state["strategy_sum"], expected.strategy_sum)
    assert np.array_equal(loaded.policy["average_policy"], expected.average_policy())
    assert rng_state_from_json(meta["rng_state"]) == expected.rng_state()
    assert meta["discount_steps"] == expected.discount_steps


def quiet_chunk(logdir: Path, config: MCCFRConfig, spec: GameSpec = LEDUC,
                keep_last: int | None = None) -> ChunkStatus:
    """One in-process chunk without progress bar, TensorBoard or output."""
    result = run_chunk(logdir, spec, config, keep_last=keep_last, progress=False,
                       tensorboard=False, out=io.StringIO())
    return result.status


def run_to_completion(logdir: Path, config: MCCFRConfig, spec: GameSpec = LEDUC,
                      limit: int = 200) -> int:
    """Chunks until COMPLETE; returns how many chunks ran."""
    for count in range(1, limit + 1):
        if quiet_chunk(logdir, config, spec) is ChunkStatus.COMPLETE:
            return count
    raise AssertionError(f"training did not complete in {limit} chunks")


def snapshot(root: Path) -> dict[str, bytes]:
    """Every regular file under `root` (relative path -> bytes), the run lock excepted: every
    chunk that takes the lock rewrites the holder line in it, refused or not."""
    files: dict[str, bytes] = {}
    for path in sorted(root.rglob("*")):
        if path.is_file() and not path.is_symlink() and path != RunDir(root).lock_path:
            files[str(path.relative_to(root))] = path.read_bytes()
    return files


def temp_files(directory: Path) -> list[str]:
    """Writer temp files (hidden `.checkpoint_iter…tmp-…` names) left in `directory`."""
    if not directory.is_dir():
        return []
    return sorted(name for name in os.listdir(directory) if ".tmp-" in name)


def first_chunk(logdir: Path) -> Path:
    """`logdir` after the first chunk of SETTINGS: one complete checkpoint, at iteration 20."""
    assert quiet_chunk(logdir, CONFIG, SPEC) is ChunkStatus.CHUNK_DONE
    assert [i.iteration for i in list_checkpoints(logdir / CHECKPOINTS)] == [20]
    return logdir


def checkpoint_files(logdir: Path, iteration: int) -> dict[str, bytes]:
    """The files of checkpoint `iteration` in `logdir` that exist (name -> bytes)."""
    info = CheckpointInfo(iteration, logdir / CHECKPOINTS)
    return {p.name: p.read_bytes() for p in (info.policy_path, info.state_path,
                                             info.metadata_path) if p.exists()}


def copy_run(base: Path, target: Path) -> Path:
    shutil.copytree(base, target, symlinks=True)
    return target


def write_settings(path: Path, settings: dict[str, Any]) -> Path:
    path.write_text(yaml.safe_dump(settings))
    return path


def train_in_process(*args: str) -> tuple[int, str, str]:
    """holdem-train-blueprint in-process: (exit code, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = train_main(list(args))
        except SystemExit as exc:  # argparse
            code = exc.code if isinstance(exc.code, int) else 2
    return code, out.getvalue(), err.getvalue()


def train_args(logdir: Path, config_file: Path, *extra: str) -> list[str]:
    return ["--logdir", str(logdir), "--config", str(config_file), "--no-progress",
            "--no-tensorboard", *extra]


def cli_command(logdir: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", TRAIN_MODULE, "--logdir", str(logdir), "--no-progress", *args]


def cli(logdir: Path, *args: str, timeout: float = 180,
        env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """The training command in a subprocess (run from the repository)."""
    return subprocess.run(cli_command(logdir, *args), capture_output=True, text=True,
                          timeout=timeout, cwd=REPO, env=env)


def start(logdir: Path, *args: str) -> subprocess.Popen[str]:
    """The training command started in a subprocess, its output piped."""
    return subprocess.Popen(cli_command(logdir, *args), cwd=REPO, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def train_with_kills(logdir: Path, args: list[str], *, kills: int, max_delay: float,
                     seed: int, attempts: int = 200) -> int:
    """Run the training command over `logdir` until it completes, killing its first `kills`
    chunks with SIGKILL at a random moment of their training (up to `max_delay` seconds after
    a chunk starts training); returns how many were killed."""
    rng = np.random.default_rng(seed)
    killed = 0
    for _ in range(attempts):
        process = start(logdir, *args)
        if killed < kills:
            wait_for_line(process, "Starting fresh", "Successfully resumed")
            time.sleep(float(rng.uniform(0.0, max_delay)))
            if process.poll() is None:
                os.kill(process.pid, signal.SIGKILL)
                killed += 1
        _, err = process.communicate(timeout=300)
        if process.returncode == exit_codes.COMPLETE:
            return killed
        assert process.returncode in (exit_codes.CHUNK_DONE, -signal.SIGKILL), err
    raise AssertionError("training did not complete")


def wait_for_line(process: subprocess.Popen[str], *prefixes: str) -> str:
    """Read `process`'s output up to the first line starting with one of `prefixes`."""
    assert process.stdout is not None
    for line in process.stdout:
        if line.startswith(prefixes):
            return line
    _, stderr = process.communicate()
    raise AssertionError(f"exited {process.returncode} without printing {prefixes}: {stderr}")


def one_line_error(stderr: str) -> str:
    """The single error line of a refused command (asserts there is exactly one)."""
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, f"expected one error line, got {len(lines)}:\n{stderr}"
    assert "Traceback" not in stderr
    assert lines[0].startswith("holdem-train-blueprint: error: "), lines[0]
    return lines[0]
