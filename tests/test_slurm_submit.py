"""The Slurm recipe without a cluster: the #SBATCH lines the trainer prints from its own memory
sizing, submit.sh passing them on with the checkout's command (no virtualenv on PATH), a chain
that keeps its run's name and options from job to job, and the checkout's command reached
through symlinks. ``tests/test_slurm.py`` runs the chain on a real one-node cluster."""

from __future__ import annotations

import math
import os
import subprocess
from pathlib import Path

import pytest
from hostile.runs import REPO, train_in_process

from holdem_lab.cli.sbatch import PROCESS_BASE_BYTES, job_memory_bytes, job_name
from holdem_lab.games import load_game
from holdem_lab.solver.solver import memory_needed

SLURM = REPO / "scripts" / "slurm"
BIN = REPO / "bin" / "holdem-train-blueprint"
SYSTEM_PATH = "/usr/local/bin:/usr/bin:/bin"

pytestmark = pytest.mark.timeout(300)


def _fake_tools(directory: Path, record: Path) -> Path:
    """``sbatch`` and ``scancel`` that append their arguments (and HOLDEM_TRAIN) to ``record``;
    sbatch answers with job id 42."""
    directory.mkdir()
    for tool, answer in (("sbatch", "echo 42"), ("scancel", "true")):
        script = directory / tool
        script.write_text(f'#!/bin/bash\necho "{tool} HOLDEM_TRAIN=${{HOLDEM_TRAIN:-}} $*" '
                          f'>> {record}\n{answer}\n')
        script.chmod(0o755)
    return directory


def test_print_sbatch_gives_the_runs_name_memory_and_cpus(tmp_path: Path) -> None:
    game = load_game("holdem")
    code, out, err = train_in_process("--logdir", str(tmp_path / "runs" / "hu"), "--game",
                                      "holdem", "--print-sbatch")
    assert code == 0, err
    mebibytes = math.ceil(job_memory_bytes(game) / 2**20)
    assert out.splitlines() == [f"#SBATCH --job-name={job_name(tmp_path / 'runs' / 'hu')}",
                                f"#SBATCH --mem={mebibytes}M", "#SBATCH --cpus-per-task=1"]
    assert job_memory_bytes(game) > memory_needed(game) + PROCESS_BASE_BYTES
    assert not (tmp_path / "runs").exists()  # printing trains nothing and creates nothing
    # A bigger game asks for more; two runs of the same name elsewhere get different names.
    assert job_memory_bytes(load_game("holdem", num_players=3)) > job_memory_bytes(game)
    assert job_name(tmp_path / "a" / "hu") != job_name(tmp_path / "b" / "hu")
    assert job_name(tmp_path / "a" / "hu").startswith("holdem-hu-")


def test_submit_passes_the_lines_and_the_checkouts_command(tmp_path: Path) -> None:
    record = tmp_path / "calls"
    tools = _fake_tools(tmp_path / "tools", record)
    logdir = tmp_path / "runs" / "leduc"
    env = {"PATH": f"{tools}:{SYSTEM_PATH}", "HOME": str(tmp_path)}  # no virtualenv on PATH
    result = subprocess.run([str(SLURM / "submit.sh"), "--game", "leduc", "--logdir",
                             str(logdir), "--iters", "100", "--chunked", "--chunk-iterations",
                             "10"], cwd=tmp_path, env=env, capture_output=True, text=True,
                            timeout=240)
    assert result.returncode == 0, result.stderr
    name = job_name(logdir)
    assert f"scancel --name={name}" in result.stdout
    call = record.read_text().strip()
    assert call.startswith(f"sbatch HOLDEM_TRAIN={BIN} --parsable --job-name={name} --mem=")
    assert " --cpus-per-task=1 " in call
    assert call.endswith(f"{SLURM / 'train_chunk.sbatch'} --game leduc --logdir {logdir} "
                         "--iters 100 --chunked --chunk-iterations 10")


def test_the_chain_keeps_its_name_and_options_and_ends_on_complete(tmp_path: Path) -> None:
    record = tmp_path / "calls"
    tools = _fake_tools(tmp_path / "tools", record)
    trainer = tmp_path / "trainer"
    trainer.write_text("#!/bin/bash\nexit 3\n")  # training complete
    trainer.chmod(0o755)
    env = {"PATH": f"{tools}:{SYSTEM_PATH}", "SLURM_JOB_ID": "7",
           "SLURM_JOB_NAME": "holdem-hu-abc123", "HOLDEM_TRAIN": str(trainer),
           "HOLDEM_SBATCH_OPTIONS": "--mem=996M --cpus-per-task=1"}
    result = subprocess.run(["bash", str(SLURM / "train_chunk.sbatch"), "--logdir",
                             str(tmp_path / "run")], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    sbatch, scancel = record.read_text().strip().splitlines()
    assert "--job-name=holdem-hu-abc123 --mem=996M --cpus-per-task=1 --dependency=afterany:7" \
        in sbatch
    assert scancel.startswith("scancel ") and scancel.endswith(" 42")
    # Without a training command the job says what to do instead of failing obscurely.
    env["HOLDEM_TRAIN"] = "holdem-train-blueprint"
    result = subprocess.run(["bash", str(SLURM / "train_chunk.sbatch")], cwd=tmp_path,
                            env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "training command not found" in result.stdout and "submit.sh" in result.stdout


def test_the_checkouts_command_works_through_symlinks(tmp_path: Path) -> None:
    (tmp_path / "linked-bin").symlink_to(REPO / "bin")
    (tmp_path / "holdem-train-blueprint").symlink_to(BIN)
    env = {**os.environ, "PATH": SYSTEM_PATH}
    for command in (tmp_path / "linked-bin" / "holdem-train-blueprint",
                    tmp_path / "holdem-train-blueprint"):
        result = subprocess.run([str(command), "--logdir", str(tmp_path / "run"), "--game",
                                 "kuhn", "--iters", "5", "--no-progress", "--no-tensorboard"],
                                cwd=tmp_path, env=env, capture_output=True, text=True,
                                timeout=240)
        assert result.returncode == 3, result.stderr
