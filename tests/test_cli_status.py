"""`holdem-lab status RUN` on real small runs: progress, ETA, speed, the newest exact
exploitability or matches, disk used, and whether a process holds the run lock — asked
without ever taking a lock someone holds."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from hostile.runs import REPO, train_in_process

from holdem_lab.cli import exit_codes
from holdem_lab.cli.status import describe_run, disk_bytes
from holdem_lab.rundir import RunDir

pytestmark = pytest.mark.timeout(300)

HOLD_LOCK = ("import sys; from holdem_lab.rundir import RunDir\n"
             "with RunDir(sys.argv[1]).lock():\n"
             "    print('locked', flush=True); sys.stdin.read()\n")


def _status(run: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "holdem_lab.cli.lab", "status", str(run)],
                          cwd=REPO, capture_output=True, text=True, timeout=120)


def test_status_of_a_leduc_run_unlocked_and_locked(tmp_path: Path) -> None:
    run = tmp_path / "leduc"
    code, _, err = train_in_process("--logdir", str(run), "--game", "leduc", "--iters", "400",
                                    "--chunked", "--chunk-iterations", "100", "--no-progress",
                                    "--no-tensorboard")
    assert code == exit_codes.CHUNK_DONE, err
    meta = json.loads(sorted(run.glob("checkpoints/*_metadata.json"))[-1].read_text())
    speed = meta["chunks"][-1]["iterations_per_second"]
    result = _status(run)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == f"run: {run}"
    assert lines[2].startswith("iteration: 100 of 400 (25.0% done), after 1 chunk and ")
    assert lines[3] == f"ETA: {300 / speed:.0f} s of training left at the last chunk's speed"
    assert lines[4] == f"speed: {speed:,.0f} iterations/s in the last chunk"
    assert lines[5] == (f"exploitability: {meta['metrics']['exploitability']:.6g} (exact) at "
                        "iteration 100")
    assert lines[-2] == f"disk used: {disk_bytes(run) / 1024:,.1f} KiB"
    assert lines[-1] == "training now: no (nobody holds the run lock)"

    holder = subprocess.Popen([sys.executable, "-c", HOLD_LOCK, str(run)], cwd=REPO,
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "locked\n"
        for _ in range(2):  # asking twice: the first question took nothing from the holder
            result = _status(run)
            assert result.stdout.splitlines()[-1] == (
                f"training now: pid {holder.pid} on {_hostname()} holds the run lock")
        # A chunk started now is still refused: status never took the lock.
        code, _, err = train_in_process("--logdir", str(run), "--game", "leduc", "--iters",
                                        "400", "--chunked", "--chunk-iterations", "100",
                                        "--no-progress", "--no-tensorboard")
        assert code == exit_codes.LOCKED, err
    finally:
        holder.communicate("", timeout=60)
    assert describe_run(run)[-1] == "training now: no (nobody holds the run lock)"
    assert RunDir(run).lock_holder() is None


def _hostname() -> str:
    import socket

    return socket.gethostname()


def test_status_of_a_holdem_run_shows_its_matches_and_completion(tmp_path: Path) -> None:
    run = tmp_path / "hu"
    config = tmp_path / "hu.yaml"
    config.write_text(json.dumps({
        "game": "holdem", "num_iterations": 20, "evaluation_deal_pairs": 10,
        "game_params": {"bet_sizing": {"bet_sizes": [[1.0], [1.0], [1.0], [1.0]],
                                       "max_raises": [2, 1, 1, 1]}}}))
    code, _, err = train_in_process("--logdir", str(run), "--config", str(config),
                                    "--no-progress", "--no-tensorboard")
    assert code == exit_codes.COMPLETE, err
    lines = describe_run(run)
    assert lines[2].startswith("iteration: 20 of 20 (100.0% done)")
    assert lines[3] == "complete: Total iteration limit reached: 20 >= 20"
    assert "matches at iteration 20 (mbb/hand, 95% CI):" in lines
    evaluation = json.loads(sorted(run.glob("checkpoints/*_metadata.json"))[-1]
                            .read_text())["evaluation"]
    matches = [line for line in lines if line.startswith("  blueprint vs ")]
    assert len(matches) == len(evaluation) >= 2
    for line, (baseline, match) in zip(matches, evaluation.items(), strict=True):
        assert line.startswith(f"  blueprint vs {baseline}: {match['mbb_per_hand']:+.1f} (")
        assert line.endswith(", 10 deal pairs)")


def test_status_of_a_missing_or_empty_run(tmp_path: Path) -> None:
    result = _status(tmp_path / "nope")
    assert result.returncode == exit_codes.CHECKPOINT
    assert result.stderr.strip() == (f"holdem-lab: error: checkpoint error: {tmp_path / 'nope'} "
                                     "does not exist or is not a directory")
    (tmp_path / "empty").mkdir()
    assert describe_run(tmp_path / "empty")[1:] == [
        "no checkpoint yet", "disk used: 0 B", "training now: no (nobody holds the run lock)"]
