"""RunDir: the one owner of a run directory's layout."""

from __future__ import annotations

import ast
import errno
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from holdem_lab.checkpoint import CheckpointInfo
from holdem_lab.cli import exit_codes
from holdem_lab.errors import RunLockedError
from holdem_lab.rundir import RunDir, notebook_beside

PACKAGE = Path(__file__).resolve().parents[1] / "holdem_lab"


def test_layout(tmp_path: Path) -> None:
    run = RunDir(tmp_path)
    assert run.checkpoints == tmp_path / "checkpoints"
    assert run.tensorboard == tmp_path / "tensorboard"
    assert run.analysis == tmp_path / "analysis"
    assert run.failed == tmp_path / "failed"
    assert notebook_beside(CheckpointInfo(300, run.checkpoints)) \
        == run.checkpoints / "checkpoint_iter000000000300.ipynb"


def test_the_chunk_and_driver_locks_are_separate(tmp_path: Path) -> None:
    run = RunDir(tmp_path)
    with run.lock(), run.driver_lock():
        with pytest.raises(RunLockedError, match="being trained by another process"), \
                run.lock():
            pass
        with pytest.raises(RunLockedError), run.driver_lock():
            pass
    with run.lock():  # released on exit
        pass


def test_failed_notebooks_never_overwrite_each_other(tmp_path: Path) -> None:
    run = RunDir(tmp_path)
    first = run.failed_notebook("chunk_0001")
    first.parent.mkdir(parents=True)
    first.write_text("{}")
    second = run.failed_notebook("chunk_0001")
    assert second != first and second.parent == run.failed and not second.exists()


def test_owns_checkpoint_accepts_only_its_own_checkpoint_files(tmp_path: Path) -> None:
    run = RunDir(tmp_path)
    run.checkpoints.mkdir()
    assert run.owns_checkpoint(run.checkpoints / "checkpoint_iter000000000300.npz") == 300
    assert run.owns_checkpoint(tmp_path / "checkpoint_iter000000000300.npz") is None
    assert run.owns_checkpoint(run.checkpoints / "checkpoint_iter300.npz") is None


def test_an_empty_directory_is_not_a_run(tmp_path: Path) -> None:
    run = RunDir(tmp_path)
    assert not RunDir.is_run(tmp_path)
    assert run.latest_complete() is None and run.records() == ([], [])
    assert not run.has_checkpoint_files()


# The run directory's entries. A module that joins one onto a path (``run / "checkpoints"``,
# ``os.path.join(run, ".lock")``) is a second owner of the layout.
LAYOUT_NAMES = {"checkpoints", "tensorboard", "analysis", "failed", ".lab-tmp", ".lock",
                ".lab.lock"}


def _joined_names(tree: ast.AST) -> list[ast.Constant]:
    """String constants joined onto a path: the right operand of ``/`` or an argument of
    ``joinpath``/``os.path.join``."""
    found = []
    for node in ast.walk(tree):
        operands: list[ast.expr] = []
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):
            operands = [node.right]
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                and node.func.attr in ("joinpath", "join"):
            operands = list(node.args)
        found += [operand for operand in operands if isinstance(operand, ast.Constant)
                  and isinstance(operand.value, str)]
    return found


def test_no_module_but_rundir_spells_a_run_directory_path() -> None:
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.name == "rundir.py":
            continue
        for node in _joined_names(ast.parse(path.read_text(encoding="utf-8"))):
            if node.value.strip("/") in LAYOUT_NAMES:
                offenders.append(f"{path.relative_to(PACKAGE)}:{node.lineno}: {node.value!r}")
    assert offenders == []


def test_the_path_check_sees_a_joined_layout_name() -> None:
    tree = ast.parse('run / "checkpoints"\nos.path.join(run, ".lock")\nx = {"failed": 1}')
    assert [node.value for node in _joined_names(tree)] == ["checkpoints", ".lock"]


# ------------------------------------------------------------------------------------------
# Storage that cannot hold a run: each says what is wrong, with the I/O exit code


def _train(logdir: Path, *extra: str, wrap: list[str] | None = None
           ) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "holdem_lab.cli.train", "--logdir", str(logdir), "--game",
               "kuhn", "--iters", "20", "--no-progress", "--no-tensorboard", *extra]
    return subprocess.run([*(wrap or []), *command], capture_output=True, text=True,
                          timeout=300, check=False)


def _mount(path: Path, how: str) -> list[str]:
    """A command prefix that runs the command with ``path`` mounted as ``how`` says in a mount
    namespace of its own."""
    mount = {"read-only": f'mount --bind -o ro "{path}" "{path}"',
             "tiny": f'mount -t tmpfs -o size=16k tmpfs "{path}"'}[how]
    return ["unshare", "-m", "sh", "-c", f'{mount} && exec "$@"', "sh"]


def _read_only_mount(path: Path) -> list[str]:
    """A command prefix that runs the command with ``path`` bind-mounted read-only in a mount
    namespace of its own (root ignores file modes, not a read-only mount)."""
    return _mount(path, "read-only")


def _can_mount_read_only(tmp_path: Path) -> bool:
    probe = tmp_path / "probe"
    probe.mkdir()
    if shutil.which("unshare") is None:
        return False
    result = subprocess.run([*_read_only_mount(probe), "touch", str(probe / "x")],
                            capture_output=True, text=True, check=False)
    return "Read-only file system" in result.stderr


def test_a_read_only_run_directory_is_an_io_error_naming_the_cause(tmp_path: Path) -> None:
    if not _can_mount_read_only(tmp_path):
        pytest.skip("needs unshare -m and bind mounts (root in a user namespace)")
    logdir = tmp_path / "run"
    assert _train(logdir, "--iters", "10").returncode == exit_codes.COMPLETE
    RunDir(logdir).lock_path.unlink()  # a run copied to read-only storage has no lock file yet
    result = _train(logdir, wrap=_read_only_mount(logdir))
    assert result.returncode == exit_codes.IO, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Read-only file system" in lines[0], result.stderr
    assert "another process" not in result.stderr


def test_a_file_system_without_flock_says_what_to_do(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    from holdem_lab import rundir

    def no_flock(fd: int, operation: int) -> None:
        raise OSError(errno.ENOSYS, "Function not implemented")

    monkeypatch.setattr(rundir.fcntl, "flock", no_flock)
    with pytest.raises(OSError, match="does not support flock") as caught, \
            RunDir(tmp_path).lock():
        pass
    assert caught.value.errno == errno.ENOSYS and "-o flock" in str(caught.value)


def test_a_refused_bucket_file_leaves_no_run_behind(tmp_path: Path) -> None:
    logdir = tmp_path / "run"
    result = subprocess.run(
        [sys.executable, "-m", "holdem_lab.cli.train", "--logdir", str(logdir), "--buckets",
         str(tmp_path / "missing"), "--iters", "2", "--no-progress", "--no-tensorboard"],
        capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == exit_codes.MISMATCH, result.stderr
    assert not logdir.exists()


@pytest.mark.parametrize(("how", "cause"), [
    ("read-only", "Read-only file system"),
    ("tiny", "No space left on device for a checkpoint in"),
])
def test_checkpoint_storage_is_checked_before_training(tmp_path: Path, how: str,
                                                       cause: str) -> None:
    if not _can_mount_read_only(tmp_path):
        pytest.skip("needs unshare -m and bind mounts (root in a user namespace)")
    logdir = tmp_path / "run"
    RunDir(logdir).checkpoints.mkdir(parents=True)
    result = subprocess.run(
        [*_mount(RunDir(logdir).checkpoints, how), sys.executable, "-m",
         "holdem_lab.cli.train", "--logdir", str(logdir), "--game", "leduc", "--iters",
         "100000", "--no-progress", "--no-tensorboard"],
        capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == exit_codes.IO, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and cause in lines[0], result.stderr
    assert "Starting fresh" not in result.stdout and "Saving checkpoint" not in result.stdout
