"""The notebooks: committed without outputs, parametrized, and executed for real with papermill.

A tiny Leduc run is trained by the driver in three chunks, each chunk notebook in its own fresh
kernel (interrupted after two chunks and resumed), and must end bit-identical to an unchunked
run; then the failure paths (invalid parameters, a refused resume through the CLI, a dying
kernel) must keep the failed notebook and leave the checkpoints byte for byte as they were;
and the analysis and explore notebooks must compute what they show.
"""

from __future__ import annotations

import ast
import io
import json
import os
import shutil
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

import nbformat
import numpy as np
import papermill
import pytest
from hostile.runs import wait_for_line

from holdem_lab import Solver
from holdem_lab.checkpoint import list_checkpoints, load_checkpoint
from holdem_lab.chunks.runner import latest_checkpoint, rng_state_from_json
from holdem_lab.cli import exit_codes
from holdem_lab.cli.lab import main as lab_main
from holdem_lab.config import load_run_config
from holdem_lab.errors import ConfigError
from holdem_lab.games import build_game
from holdem_lab.lab import chunk as chunk_lib
from holdem_lab.lab.analysis import FIGURES
from holdem_lab.lab.driver import (
    KERNEL_ARGUMENTS,
    ChunkFailedError,
    RunOutcome,
    _Interrupts,
    _Say,
    execute_chunk,
    run_chunks,
)
from holdem_lab.rundir import RunDir

FULL = os.environ.get("HOLDEM_LAB_FULL") == "1"
REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = REPO / "notebooks"
TINY = """\
game: leduc
num_iterations: 300
enable_chunked_training: true
chunk_size_iterations: 100
seed: 7
discount_mode: dcfr
discount_interval: 7
exploitability_interval: 50
tensorboard_log_interval: 25
"""


def _notebooks() -> list[Path]:
    return sorted(p for p in NOTEBOOKS.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)


def _snapshot(directory: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir())}


def _outputs_text(cell: nbformat.NotebookNode) -> str:
    parts = []
    for output in cell.get("outputs", []):
        parts.append("".join(output.get("text", "")))
        parts.append("".join(output.get("evalue", "")))
        parts.append("".join(output.get("data", {}).get("text/plain", "")))
    return "".join(parts)


# --------------------------------------------------------------------------------------------
# The committed notebooks


def test_committed_notebooks_have_no_outputs() -> None:
    notebooks = _notebooks()
    assert {p.name for p in notebooks} >= {"chunk.ipynb", "analysis.ipynb", "explore.ipynb"}
    for path in notebooks:
        document = nbformat.read(str(path), as_version=4)
        nbformat.validate(document)
        for number, cell in enumerate(document.cells):
            if cell.cell_type == "code":
                assert cell.outputs == [], f"{path.name} cell {number} has outputs"
                assert cell.execution_count is None, f"{path.name} cell {number} was executed"
        assert "widgets" not in document.metadata, f"{path.name} holds widget state"
        assert "papermill" not in document.metadata, f"{path.name} is an executed copy"


def test_each_notebook_declares_its_parameters() -> None:
    expected = {"chunk.ipynb": chunk_lib.PARAMETERS,
                "analysis.ipynb": {"run_dir": "", "output_dir": "", "compare_with": []},
                "explore.ipynb": {"run_dir": "", "runs_root": "../runs"}}
    for name, defaults in expected.items():
        document = nbformat.read(str(NOTEBOOKS / name), as_version=4)
        tagged = [c for c in document.cells if "parameters" in c.metadata.get("tags", [])]
        assert len(tagged) == 1, name
        declared = papermill.inspect_notebook(str(NOTEBOOKS / name))
        assert {k: ast.literal_eval(v["default"]) for k, v in declared.items()} == defaults


# --------------------------------------------------------------------------------------------
# Parameters of the chunk notebook


def _parameters(tmp_path: Path, **changes: object) -> dict[str, object]:
    config = tmp_path / "tiny.yaml"
    config.write_text(TINY)
    return {"config_path": str(config), "logdir": str(tmp_path / "run"), **changes}


@pytest.mark.parametrize(("changes", "message"), [
    ({"config_path": ""}, "config_path='': is required"),
    ({"config_path": "/nonexistent/run.yaml"}, "cannot be read"),
    ({"logdir": 3}, "logdir=3: must be a string"),
    ({"chunk_iterations": 0}, "chunk_iterations=0: must be >= 1"),
    ({"chunk_iterations": 2.5}, "chunk_iterations=2.5: must be an integer"),
    ({"chunk_minutes": -1}, "chunk_minutes=-1: must be > 0"),
    ({"num_iterations": True}, "num_iterations=True: must be an integer"),
    ({"seed": -2}, "seed=-2: must be >= 0"),
    ({"keep_last": 0}, "keep_last=0: must be >= 1"),
    ({"game": "chess"}, "game='chess': must be one of"),
    ({"tensorboard": "yes"}, "tensorboard='yes': must be True or False"),
    ({"chunk_size": 10}, "chunk_size=10: unknown parameter"),
    ({"result_path": "/nonexistent/dir/result.json"}, "its directory does not exist"),
])
def test_chunk_parameters_are_validated_before_anything_is_written(
        tmp_path: Path, changes: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        chunk_lib.prepare_chunk(**_parameters(tmp_path, **changes))
    assert message in str(caught.value)
    assert not (tmp_path / "run").exists()


def test_chunk_parameters_override_the_config(tmp_path: Path) -> None:
    request = chunk_lib.prepare_chunk(**_parameters(tmp_path, chunk_iterations=50, seed=3,
                                                    num_iterations=1000, keep_last=2))
    config = request.config
    assert (config.chunk_size_iterations, config.seed, config.num_iterations) == (50, 3, 1000)
    assert request.keep_last == 2 and request.result_path is None
    recorded = request.extra_metadata()["notebook"]
    assert recorded["kernel_pid"] == os.getpid() and recorded["driven"] is False
    assert recorded["parameters"]["chunk_iterations"] == 50
    assert "chunk: 50 iterations" in request.describe()
    assert not (tmp_path / "run").exists()


# --------------------------------------------------------------------------------------------
# A tiny run through the driver: 2 chunks, an interruption, then the last chunk and analysis


@dataclass
class LabRun:
    config: Path
    run: Path
    first: RunOutcome
    second: RunOutcome
    first_output: str
    second_output: str


@pytest.fixture(scope="module")
def lab_run(tmp_path_factory: pytest.TempPathFactory) -> LabRun:
    root = tmp_path_factory.mktemp("lab")
    config = root / "tiny.yaml"
    config.write_text(TINY)
    run = root / "run"
    out = io.StringIO()
    first = run_chunks(config, run, max_chunks=2, analysis=False, progress=False, out=out)
    # A driver killed while chunk 2 was executing leaves its notebook (and maybe a result).
    temp = RunDir(run).temp
    shutil.copy(NOTEBOOKS / "chunk.ipynb", temp / "chunk_0002.ipynb")
    (temp / "chunk_0002.result.json").write_text("{}")
    second_out = io.StringIO()
    second = run_chunks(config, run, progress=False, out=second_out)
    return LabRun(config, run, first, second, out.getvalue(), second_out.getvalue())


def test_three_chunks_in_three_fresh_kernels_equal_an_unchunked_run(lab_run: LabRun) -> None:
    first, second = lab_run.first, lab_run.second
    assert first.status == "max_chunks" and [c.iteration for c in first.chunks] == [100, 200]
    assert "Stopping after 2 chunk(s)" in lab_run.first_output
    assert second.status == "complete" and [c.iteration for c in second.chunks] == [300]
    assert "continuing from iteration 200 (chunk 2)" in lab_run.second_output
    outcomes = [*first.chunks, *second.chunks]
    assert [c.index for c in outcomes] == [0, 1, 2]

    checkpoints = list_checkpoints(lab_run.run / "checkpoints")
    assert [info.iteration for info in checkpoints] == [100, 200, 300]
    pids = []
    for info, outcome in zip(checkpoints, outcomes, strict=True):
        metadata = load_checkpoint(info).metadata
        recorded = metadata["notebook"]
        pids.append(recorded["kernel_pid"])
        assert recorded["kernel_pid"] == metadata["pid"] == outcome.kernel_pid
        assert recorded["driven"] is True and recorded["parameters"]["progress"] is False
        assert recorded["parameters"]["config_path"] == str(lab_run.config.resolve())
        # The executed notebook sits next to the checkpoint it produced, with its stem.
        notebook = info.directory / f"{info.stem}.ipynb"
        assert outcome.notebook == notebook and notebook.is_file()
        document = nbformat.read(str(notebook), as_version=4)
        assert document.metadata.papermill.exception is None
        injected = [c for c in document.cells if "injected-parameters" in c.metadata.tags]
        assert f"logdir = \"{lab_run.run.resolve()}\"" in injected[0].source
        assert not [o for c in document.cells for o in c.get("outputs", [])
                    if o.output_type == "error"]
        run_cell = next(c for c in document.cells if c.get("id") == "run")
        assert f"Saving checkpoint at iteration {info.iteration}" in _outputs_text(run_cell)
        summary_cell = next(c for c in document.cells if c.get("id") == "summary")
        assert any("image/png" in o.get("data", {}) for o in summary_cell.outputs)
    assert len(set(pids)) == 3 and os.getpid() not in pids
    for pid in pids:  # each kernel exited with its chunk, giving its memory back
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)

    spec, config = load_run_config(lab_run.config)
    reference = Solver(build_game(spec), config)
    reference.run(300)
    newest = latest_checkpoint(lab_run.run)
    assert newest is not None
    loaded = load_checkpoint(newest)
    assert np.array_equal(loaded.state["regrets"], reference.regrets)
    assert np.array_equal(loaded.state["strategy_sum"], reference.strategy_sum)
    assert np.array_equal(loaded.policy["average_policy"], reference.average_policy())
    assert rng_state_from_json(loaded.metadata["rng_state"]) == reference.rng_state()
    assert loaded.metadata["discount_steps"] == reference.discount_steps

    # The interrupted execution's notebook was kept, the stale result dropped.
    kept = list((RunDir(lab_run.run).failed).glob("chunk_0002_interrupted_*.ipynb"))
    assert len(kept) == 1
    assert list((RunDir(lab_run.run).temp).iterdir()) == []


def test_analysis_notebook_is_saved_with_png_figures(lab_run: LabRun) -> None:
    second = lab_run.second
    analysis = lab_run.run / "analysis"
    assert second.analysis_notebook == analysis / "analysis.ipynb"
    assert set(second.figures) == set(FIGURES)
    for name, path in second.figures.items():
        assert path == analysis / f"{name}.png"
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    document = nbformat.read(str(second.analysis_notebook), as_version=4)
    cells = {c.get("id"): c for c in document.cells}
    assert "iteration: 300 of 300 (complete)" in _outputs_text(cells["load"])
    assert "chunks: 3, checkpoints: 3" in _outputs_text(cells["load"])
    assert _outputs_text(cells["chunks"]).count("\n") == 4  # header + one line per chunk
    for name in FIGURES:
        assert any("image/png" in o.get("data", {}) for o in cells[name].outputs), name
    assert f"analysis notebook: {second.analysis_notebook}" in lab_run.second_output


def test_analysis_notebook_overlays_the_runs_of_compare_with(lab_run: LabRun,
                                                            tmp_path: Path) -> None:
    other = _copy_run(lab_run, tmp_path)
    output = tmp_path / "figures"
    executed = tmp_path / "analysis.ipynb"
    papermill.execute_notebook(str(NOTEBOOKS / "analysis.ipynb"), str(executed),
                               kernel_name="python3", progress_bar=False,
                               extra_arguments=KERNEL_ARGUMENTS,
                               parameters={"run_dir": str(lab_run.run),
                                           "output_dir": str(output),
                                           "compare_with": [str(other)]})
    document = nbformat.read(str(executed), as_version=4)
    compare = next(c for c in document.cells if c.get("id") == "compare")
    text = _outputs_text(compare)
    for name in ("compare_exploitability", "compare_speed", "compare_memory"):
        assert f"{name}: {output / name}.png" in text
        assert (output / f"{name}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert sum("image/png" in o.get("data", {}) for o in compare.outputs) == 3


def test_rerunning_a_complete_run_trains_nothing(lab_run: LabRun) -> None:
    before = _snapshot(lab_run.run / "checkpoints")
    out = io.StringIO()
    outcome = run_chunks(lab_run.config, lab_run.run, analysis=False, out=out)
    assert outcome.status == "complete" and outcome.chunks == () and outcome.iteration == 300
    assert "Training already complete: Total iteration limit reached: 300 >= 300" \
        in out.getvalue()
    assert _snapshot(lab_run.run / "checkpoints") == before


def _copy_run(lab_run: LabRun, tmp_path: Path) -> Path:
    copy = tmp_path / "run"
    shutil.copytree(lab_run.run, copy)
    return copy


def test_invalid_parameters_fail_the_chunk_and_keep_its_notebook(lab_run: LabRun,
                                                                 tmp_path: Path) -> None:
    run = _copy_run(lab_run, tmp_path)
    before = _snapshot(run / "checkpoints")
    with pytest.raises(ChunkFailedError) as caught:
        execute_chunk(run, lab_run.config, parameters={"chunk_iterations": 0},
                      out=io.StringIO())
    error = caught.value
    assert error.error_name == "ConfigError" and error.index == 3
    assert "chunk_iterations=0: must be >= 1" in error.error_value
    assert error.notebook is not None and error.notebook.parent == RunDir(run).failed
    assert error.notebook.name.startswith("chunk_0003_")
    document = nbformat.read(str(error.notebook), as_version=4)
    assert document.metadata.papermill.exception is True
    failed = [c for c in document.cells
              if any(o.output_type == "error" for o in c.get("outputs", []))]
    assert [c.get("id") for c in failed] == ["validate"]
    assert "chunk_iterations=0: must be >= 1" in _outputs_text(failed[0])
    assert _snapshot(run / "checkpoints") == before
    assert list((RunDir(run).temp).iterdir()) == []


def test_cli_reports_a_refused_resume_in_one_line(lab_run: LabRun, tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    run = _copy_run(lab_run, tmp_path)
    before = _snapshot(run / "checkpoints")
    changed = tmp_path / "changed.yaml"
    changed.write_text(TINY.replace("seed: 7", "seed: 8").replace("300", "400"))
    code = lab_main(["chunks", "--config", str(changed), "--run", str(run), "--no-progress",
                     "--quiet", "--no-analysis"])
    err = capsys.readouterr().err
    assert code == exit_codes.MISMATCH, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err
    assert lines[0].startswith("holdem-lab: error: chunk 3 failed: ResumeMismatchError: "
                               "config mismatch in seed: checkpoint has 7, current run has 8")
    notebook = Path(lines[0].rsplit("executed notebook: ", 1)[1])
    assert notebook.parent == RunDir(run.resolve()).failed and notebook.is_file()
    assert _snapshot(run / "checkpoints") == before


@pytest.mark.slow
@pytest.mark.skipif(not FULL, reason="one more kernel; HOLDEM_LAB_FULL=1 runs it")
def test_a_dead_kernel_is_a_failed_chunk_with_a_marked_notebook(lab_run: LabRun,
                                                                tmp_path: Path) -> None:
    run = _copy_run(lab_run, tmp_path)
    before = _snapshot(run / "checkpoints")
    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    document = nbformat.read(str(NOTEBOOKS / "chunk.ipynb"), as_version=4)
    position = [c.get("id") for c in document.cells].index("validate") + 1
    document.cells.insert(position, nbformat.v4.new_code_cell(
        "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)"))
    nbformat.write(document, str(notebooks / "chunk.ipynb"))
    with pytest.raises(ChunkFailedError) as caught:
        execute_chunk(run, lab_run.config, parameters={"num_iterations": 400},
                      notebooks_dir=notebooks, out=io.StringIO())
    assert caught.value.error_name == "DeadKernelError"
    notebook = caught.value.notebook
    assert notebook is not None and notebook.parent == RunDir(run).failed
    first = nbformat.read(str(notebook), as_version=4).cells[0]
    assert first.cell_type == "markdown" and "kernel died" in first.source
    assert _snapshot(run / "checkpoints") == before


# --------------------------------------------------------------------------------------------
# Ctrl-C on holdem-lab chunks

LONG = """\
game: leduc
num_iterations: 50000000
enable_chunked_training: true
chunk_size_iterations: 50000000
checkpoint_interval: 200000
seed: 4
"""


def test_ctrl_c_checkpoints_the_running_chunk_and_exits_8(tmp_path: Path) -> None:
    config = tmp_path / "long.yaml"
    config.write_text(LONG)
    run = tmp_path / "run"
    # Its own process group, as a shell's foreground job: the terminal's Ctrl-C goes to the
    # group, which the kernel (a session of its own) is not part of.
    process = subprocess.Popen(
        [sys.executable, "-m", "holdem_lab.cli.lab", "chunks", "--config", str(config),
         "--run", str(run), "--no-progress", "--no-tensorboard"],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        start_new_session=True)
    # Training is under way once the chunk's first interval checkpoint is out.
    wait_for_line(process, "Checkpoint saved successfully")
    os.killpg(process.pid, signal.SIGINT)
    out, err = process.communicate(timeout=120)
    assert process.returncode == exit_codes.STOPPED, err
    assert "Interrupt: the chunk checkpoints after the iteration in progress" in out
    assert "Chunk 0 stopped" in out and "Traceback" not in err
    stopped = next(line for line in out.splitlines() if line.startswith("Stopped by SIGINT"))
    info = latest_checkpoint(run)
    assert info is not None
    if "during iteration" in stopped:
        assert info.iteration > 200_000
        assert load_checkpoint(info).metadata["stop"]["signal"] == "SIGINT"
    else:  # it landed before another iteration ran: the interval checkpoint holds the state
        assert "right after the checkpoint at iteration 200000" in stopped
        assert info.iteration == 200_000
    # The notebook ran to its end and sits next to the checkpoint it wrote; nothing failed.
    notebook = info.directory / f"{info.stem}.ipynb"
    document = nbformat.read(str(notebook), as_version=4)
    assert document.metadata.papermill.exception is None
    summary = next(c for c in document.cells if c.get("id") == "summary")
    assert "status: stopped" in _outputs_text(summary)
    assert not RunDir(run).failed.exists() or not any(RunDir(run).failed.iterdir())
    assert list(RunDir(run).temp.iterdir()) == []


def test_a_second_ctrl_c_aborts_and_no_kernel_yet_aborts_at_once() -> None:
    # A stand-in kernel: a process in a session of its own that reports the SIGINT it gets.
    kernel = subprocess.Popen(
        [sys.executable, "-c", "import signal, sys\n"
         "signal.signal(signal.SIGINT, lambda *a: (print('got SIGINT', flush=True), "
         "sys.exit(0)))\nprint('ready', flush=True)\nsignal.pause()"],
        stdout=subprocess.PIPE, text=True, start_new_session=True)
    wait_for_line(kernel, "ready")
    manager = SimpleNamespace(provisioner=SimpleNamespace(pgid=kernel.pid))
    out = io.StringIO()
    before = signal.getsignal(signal.SIGINT)
    interrupts = _Interrupts(_Say(out))
    with interrupts.forwarding_to(manager):
        signal.raise_signal(signal.SIGINT)  # the first: forwarded, nothing raised here
        assert interrupts.forwarded
        assert wait_for_line(kernel, "got SIGINT")
        with pytest.raises(KeyboardInterrupt):
            signal.raise_signal(signal.SIGINT)  # the second: the driver aborts
    assert kernel.wait(timeout=30) == 0
    assert "Ctrl-C again to abort now" in out.getvalue()
    assert signal.getsignal(signal.SIGINT) is before

    # Before the kernel has started there is nothing to stop gracefully: abort at once.
    early = _Interrupts(_Say(io.StringIO()))
    with early.forwarding_to(SimpleNamespace(provisioner=None)), \
            pytest.raises(KeyboardInterrupt):
        signal.raise_signal(signal.SIGINT)
    assert not early.forwarded


# --------------------------------------------------------------------------------------------
# The explore notebook, with its widget driven from a cell


def test_explore_notebook_widget_change_updates_the_view(lab_run: LabRun,
                                                         tmp_path: Path) -> None:
    document = nbformat.read(str(NOTEBOOKS / "explore.ipynb"), as_version=4)
    document.cells.append(nbformat.v4.new_code_cell("""\
import json
shown = explorer.current()
renders = explorer.render_count
explorer.checkpoint.value = 0
assert explorer.render_count == renders + 1, "the slider's observer did not run"
after = explorer.current()
assert after["panels"] != shown["panels"], "the view did not change"
print("CHECK " + json.dumps({"before": shown["iteration"], "after": after["iteration"],
                             "renders": explorer.render_count,
                             "title": after["panels"][0]["title"]}))
"""))
    source, executed = tmp_path / "explore.ipynb", tmp_path / "explore.out.ipynb"
    nbformat.write(document, str(source))
    papermill.execute_notebook(str(source), str(executed), kernel_name="python3",
                               progress_bar=False, extra_arguments=KERNEL_ARGUMENTS,
                               parameters={"run_dir": str(lab_run.run),
                                           "runs_root": str(lab_run.run.parent)})
    result = nbformat.read(str(executed), as_version=4)
    widget = next(c for c in result.cells if c.get("id") == "explorer")
    assert any("application/vnd.jupyter.widget-view+json" in o.get("data", {})
               for o in widget.outputs)
    data = next(c for c in result.cells if c.get("id") == "data")
    assert "infosets of a node, iteration 300" in _outputs_text(data)
    line = next(x for x in _outputs_text(result.cells[-1]).splitlines() if x.startswith("CHECK"))
    check = json.loads(line[len("CHECK "):])
    assert check == {"before": 300, "after": 100, "renders": 2, "title": "P0 · (start)"}


# --------------------------------------------------------------------------------------------
# The command line, where no kernel is needed


def test_cli_usage_errors_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                       ) -> None:
    run = tmp_path / "run"
    code = lab_main(["chunks", "--config", str(tmp_path / "missing.yaml"), "--run", str(run)])
    err = capsys.readouterr().err
    assert code == exit_codes.USAGE and err.count("\n") == 1
    assert err.startswith("holdem-lab: error: invalid configuration: config=")
    assert "cannot be read" in err and not run.exists()

    config = tmp_path / "bad.yaml"
    config.write_text(TINY + "chunk_size: 5\n")
    assert lab_main(["chunks", "--config", str(config), "--run", str(run)]) == exit_codes.USAGE
    assert "chunk_size=5: unknown key" in capsys.readouterr().err

    config.write_text(TINY)
    assert lab_main(["chunks", "--config", str(config), "--run", str(run),
                     "--notebooks", str(tmp_path)]) == exit_codes.USAGE
    assert "notebook chunk.ipynb not found in" in capsys.readouterr().err
    assert lab_main(["chunks", "--config", str(config), "--run", str(run), "--kernel",
                     "no-such-kernel"]) == exit_codes.USAGE
    assert "Jupyter kernel 'no-such-kernel' is not installed" in capsys.readouterr().err

    with pytest.raises(SystemExit) as exited:
        lab_main(["chunks", "--config", str(config), "--run", str(run), "--max-chunks", "0"])
    assert exited.value.code == 2
    assert "--max-chunks: 0 must be >= 1" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        lab_main(["chunks", "--help"])
    help_text = capsys.readouterr().out
    assert "--max-chunks N" in help_text and "exit codes:" in help_text
    assert "RUN_DIR/failed/" in help_text
