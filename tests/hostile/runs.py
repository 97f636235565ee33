"""Reference runs, exact state comparison and run-directory snapshots."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

from holdem_lab import MCCFRConfig, Solver, load_game
from holdem_lab.checkpoint import load_checkpoint
from holdem_lab.chunks import ChunkStatus, run_chunk
from holdem_lab.chunks.runner import latest_checkpoint, rng_state_from_json
from holdem_lab.config import GameSpec
from holdem_lab.rundir import RunDir

REPO = Path(__file__).resolve().parents[2]
LEDUC = GameSpec(game="leduc")
TRAIN_MODULE = "holdem_lab.cli.train"


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
    rng = np.random.default_rng()
    rng.bit_generator.state = rng_state_from_json(meta["rng_state"])
    assert rng.bit_generator.state == expected.rng.bit_generator.state
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


def cli_command(logdir: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", TRAIN_MODULE, "--logdir", str(logdir), "--no-progress", *args]


def cli(logdir: Path, *args: str, timeout: float = 180,
        env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """The training command in a subprocess (run from the repository)."""
    return subprocess.run(cli_command(logdir, *args), capture_output=True, text=True,
                          timeout=timeout, cwd=REPO, env=env)


def one_line_error(stderr: str) -> str:
    """The single error line of a refused command (asserts there is exactly one)."""
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, f"expected one error line, got {len(lines)}:\n{stderr}"
    assert "Traceback" not in stderr
    assert lines[0].startswith("holdem-train-blueprint: error: "), lines[0]
    return lines[0]
