"""RunDir: the one owner of a run directory's layout."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from holdem_lab.checkpoint import CheckpointInfo
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
