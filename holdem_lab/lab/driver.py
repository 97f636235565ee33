"""Run a training run chunk after chunk, each chunk a notebook executed in a fresh kernel.

:func:`run_chunks` is what ``holdem-lab chunks`` runs. Each chunk is ``notebooks/chunk.ipynb``
executed by papermill in a new kernel process, so the memory a chunk used is returned to the
system when its kernel exits, exactly like one ``holdem-train-blueprint --chunked`` invocation.
The notebook calls :func:`holdem_lab.chunks.run_chunk` once; this module never trains.

Files, inside the run directory:

* ``checkpoints/checkpoint_iter{N:012d}.ipynb``: the executed notebook of the chunk that wrote
  checkpoint N, next to it with the same stem. The checkpoint's name is only known when the
  chunk ends, so the notebook is executed under ``.lab-tmp/`` and renamed into place
  atomically (same file system) once the chunk has reported its checkpoint;
* ``failed/chunk_<index>_<timestamp>.ipynb``: the executed notebook of a chunk that failed,
  error included. A failure never leaves a half checkpoint (checkpoints are written
  atomically), so running again resumes from the last complete one;
* ``analysis/analysis.ipynb`` and ``analysis/*.png``: the analysis notebook, executed when
  the loop ends.

Ctrl-C while a chunk trains is forwarded to the chunk's kernel (its own process group, so the
terminal's signal does not reach it), where the notebook's graceful stop handles it as
``holdem-train-blueprint`` does: the chunk checkpoints after the iteration in progress, the
notebook finishes normally and is kept next to that checkpoint, and the driver stops with status
``stopped``. A second Ctrl-C aborts at once. Interrupted any other way (a killed kernel, a
reboot) and run again, the driver moves the notebook of the unfinished chunk to ``failed/`` and
continues from the last complete checkpoint. A lock on ``.lab.lock`` keeps two drivers off the
same run (each chunk also takes the run's own lock).
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any, TextIO

from holdem_lab.checkpoint import CheckpointInfo, atomic_write, move_durably, read_metadata
from holdem_lab.chunks.plan import ChunkPlan
from holdem_lab.chunks.runner import ChunkStatus
from holdem_lab.config import MCCFRConfig
from holdem_lab.errors import AnalysisFailedError, ChunkFailedError, ConfigError, LabError
from holdem_lab.lab import chunk as chunk_notebook
from holdem_lab.rundir import RunDir, notebook_beside

CHUNK_NOTEBOOK = "chunk.ipynb"
ANALYSIS_NOTEBOOK = "analysis.ipynb"
EXPLORE_NOTEBOOK = "explore.ipynb"
DEFAULT_KERNEL = "python3"

# Kernel options: the kernel's own log lines (a warning about unencrypted local TCP sockets at
# start, a note about the interrupt it receives at shutdown) would otherwise be printed on the
# driver's terminal once per chunk. Errors in cells are unaffected: they are in the notebook.
KERNEL_ARGUMENTS = ["--IPKernelApp.log_level=CRITICAL"]


@dataclass(frozen=True)
class ChunkOutcome:
    """One chunk executed by the driver."""

    index: int
    status: ChunkStatus
    start_iteration: int
    iteration: int
    checkpoint: Path | None
    notebook: Path | None
    seconds: float
    kernel_pid: int
    peak_rss_bytes: int
    interrupted: bool = False  # Ctrl-C was forwarded to the chunk's kernel


@dataclass(frozen=True)
class RunOutcome:
    """What :func:`run_chunks` did. ``status``: ``complete`` (the run reached its total),
    ``max_chunks`` (stopped after the requested number of chunks), or ``stopped`` (a chunk was
    stopped early)."""

    run_dir: Path
    status: str
    iteration: int
    chunks: tuple[ChunkOutcome, ...]
    analysis_notebook: Path | None = None
    figures: dict[str, Path] = field(default_factory=dict)


# --------------------------------------------------------------------------------------------
# Notebooks and kernels


def default_notebooks_dir() -> Path:
    """``notebooks/`` of the source checkout holdem_lab is installed from."""
    return Path(__file__).resolve().parents[2] / "notebooks"


def find_notebook(name: str, notebooks_dir: str | os.PathLike[str] | None = None) -> Path:
    """The path of one of the lab notebooks; LabError naming the place looked at if absent."""
    directory = Path(notebooks_dir) if notebooks_dir is not None else default_notebooks_dir()
    path = directory / name
    if not path.is_file():
        raise LabError(f"notebook {name} not found in {directory} (pass the notebooks "
                       "directory of a holdem_lab checkout)")
    return path


def check_kernel(kernel_name: str) -> None:
    """LabError with the command that fixes it when the Jupyter kernel is not installed."""
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    try:
        KernelSpecManager().get_kernel_spec(kernel_name)
    except NoSuchKernel:
        raise LabError(
            f"Jupyter kernel {kernel_name!r} is not installed; install it with "
            f"`{sys.executable} -m ipykernel install --sys-prefix --name {kernel_name}` "
            "(make setup does this)") from None


@dataclass(frozen=True)
class _Execution:
    """How one notebook execution ended: ok, or the error class and message."""

    ok: bool
    error_name: str = ""
    error_value: str = ""


def _execute(source: Path, target: Path, parameters: Mapping[str, Any], kernel_name: str,
             echo: TextIO | None, interrupts: _Interrupts | None = None) -> _Execution:
    """Execute a notebook with papermill in a new kernel, saving the executed copy to
    ``target`` as it runs. A failing cell and a dying kernel are reported, not raised. With
    ``interrupts``, Ctrl-C meanwhile is forwarded to the kernel (see :class:`_Interrupts`)."""
    import papermill
    from jupyter_client.manager import AsyncKernelManager
    from nbclient.exceptions import DeadKernelError
    from papermill.exceptions import PapermillExecutionError

    manager = AsyncKernelManager(kernel_name=kernel_name)
    aborted = True
    try:
        with interrupts.forwarding_to(manager) if interrupts else contextlib.nullcontext():
            papermill.execute_notebook(
                str(source), str(target), parameters=dict(parameters), kernel_name=kernel_name,
                progress_bar=False, stdout_file=echo, extra_arguments=KERNEL_ARGUMENTS,
                km=manager)
        aborted = False
    except PapermillExecutionError as exc:
        aborted = False
        return _Execution(False, exc.ename, str(exc.evalue))
    except DeadKernelError as exc:
        _mark_dead_kernel(target, str(exc))
        return _Execution(False, "DeadKernelError", f"the kernel died ({exc})")
    except Exception as exc:  # the kernel could not be started or reached
        return _Execution(False, type(exc).__name__, str(exc) or repr(exc))
    finally:
        _shut_down(manager, now=aborted)
    return _Execution(True)


def _shut_down(manager: Any, *, now: bool) -> None:
    """Shut the notebook's kernel down and wait for its process: papermill leaves a kernel it
    did not create running, and every chunk must give its memory back. ``now`` kills it (an
    aborted execution must not go on training)."""
    from jupyter_core.utils import run_sync

    with contextlib.suppress(Exception):
        if run_sync(manager.is_alive)():
            run_sync(manager.shutdown_kernel)(now=now)
    with contextlib.suppress(Exception):
        run_sync(manager.cleanup_resources)()


class _Interrupts:
    """Ctrl-C (SIGINT) while a chunk notebook executes.

    The kernel runs in a session of its own, so the terminal's SIGINT reaches only the driver;
    the first one is sent on to the kernel's process group, where the chunk notebook's graceful
    stop turns it into a checkpoint after the iteration in progress (the notebook then finishes
    normally). A second one raises KeyboardInterrupt here: the driver aborts, as before."""

    def __init__(self, say: _Say) -> None:
        self.say = say
        self.forwarded = False

    @contextlib.contextmanager
    def forwarding_to(self, manager: Any) -> Any:
        """Forward SIGINT to ``manager``'s kernel while the block runs (main thread only:
        elsewhere Python delivers no signal and the default behaviour stays)."""
        if threading.current_thread() is not threading.main_thread():
            yield
            return

        def handle(signum: int, frame: FrameType | None) -> None:
            provisioner = getattr(manager, "provisioner", None)
            pgid = getattr(provisioner, "pgid", None)
            if self.forwarded or not pgid:
                raise KeyboardInterrupt  # a second Ctrl-C, or no kernel yet: abort
            self.forwarded = True
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pgid, signal.SIGINT)
            # A handler can interrupt a print in progress on the same stream: never fail here.
            with contextlib.suppress(RuntimeError, OSError, ValueError):
                self.say("Interrupt: the chunk checkpoints after the iteration in progress "
                         "and stops (Ctrl-C again to abort now)")

        previous = signal.signal(signal.SIGINT, handle)
        try:
            yield
        finally:
            signal.signal(signal.SIGINT, previous)


def _mark_dead_kernel(notebook: Path, detail: str) -> None:
    """Papermill does not finalize a notebook whose kernel died: say so at its top."""
    import nbformat

    if not notebook.is_file():
        return
    with contextlib.suppress(Exception):
        document = nbformat.read(str(notebook), as_version=4)
        document.cells.insert(0, nbformat.v4.new_markdown_cell(
            "**The kernel died while this notebook was executing** "
            f"({detail}); the outputs below stop where it died."))
        atomic_write(notebook, nbformat.writes(document))


# --------------------------------------------------------------------------------------------
# Files of the run directory


def _move_into(source: Path, target: Path) -> Path:
    """Atomically rename ``source`` to ``target`` (a directory in the same run) and make the
    rename durable."""
    target.parent.mkdir(parents=True, exist_ok=True)
    move_durably(source, target)
    return target


def _keep_failed(run: RunDir, notebook: Path, name: str) -> Path | None:
    if not notebook.is_file():
        return None
    return _move_into(notebook, run.failed_notebook(name))


def _recover_interrupted(run: RunDir, say: _Say) -> None:
    """Notebooks left in the temp directory by a driver that was interrupted go to
    ``failed/`` (they are the record of an unfinished chunk); stale results are removed."""
    if not run.temp.is_dir():
        return
    for path in sorted(run.temp.iterdir()):
        if path.suffix == ".ipynb" and path.is_file():
            kept = _keep_failed(run, path, f"{path.stem}_interrupted")
            say(f"Found the notebook of an interrupted execution; kept as {kept}")
        elif path.is_file():
            path.unlink()


def _next_chunk(run: RunDir) -> tuple[int, dict[str, Any] | None]:
    """The index of the next chunk and the metadata of the last complete checkpoint."""
    info = run.latest_complete()
    if info is None:
        return 0, None
    metadata = read_metadata(info)
    return int(metadata.get("chunk_index", -1)) + 1, metadata


def _plan(config: MCCFRConfig, metadata: dict[str, Any] | None) -> ChunkPlan:
    """The plan of the next chunk, as run_chunk will make it."""
    if metadata is None:
        return ChunkPlan.for_chunk(config)
    return ChunkPlan.for_chunk(config, int(metadata["iteration"]),
                               float(metadata.get("elapsed_seconds", 0.0)))


class _Say:
    def __init__(self, out: TextIO | None) -> None:
        self.out = out if out is not None else sys.stdout

    def __call__(self, message: str) -> None:
        print(message, file=self.out, flush=True)


# --------------------------------------------------------------------------------------------
# One chunk


def _chunk_locked(run: RunDir, config_path: Path, parameters: Mapping[str, Any],
                  notebook: Path, kernel_name: str, echo: TextIO | None,
                  say: _Say) -> ChunkOutcome:
    index, _ = _next_chunk(run)
    run.temp.mkdir(parents=True, exist_ok=True)
    executed = run.temp / f"chunk_{index:04d}.ipynb"
    result_path = run.temp / f"chunk_{index:04d}.result.json"
    result_path.unlink(missing_ok=True)
    values = {**parameters, "config_path": str(config_path), "logdir": str(run.root),
              "result_path": str(result_path)}
    say(f"Chunk {index}: executing {notebook.name} in a fresh kernel")
    started = time.monotonic()
    interrupts = _Interrupts(say)
    try:
        execution = _execute(notebook, executed, values, kernel_name, echo, interrupts)
    except BaseException:
        _keep_failed(run, executed, f"chunk_{index:04d}_interrupted")
        result_path.unlink(missing_ok=True)
        raise
    if not execution.ok and interrupts.forwarded:
        # The interrupt landed outside the training cell (starting up, or the summary): the
        # checkpoints written so far stay, the notebook is the record of an interrupted chunk.
        _keep_failed(run, executed, f"chunk_{index:04d}_interrupted")
        result_path.unlink(missing_ok=True)
        raise KeyboardInterrupt
    if not execution.ok:
        kept = _keep_failed(run, executed, f"chunk_{index:04d}")
        result_path.unlink(missing_ok=True)
        raise ChunkFailedError(index, kept, execution.error_name, execution.error_value)
    try:
        result = chunk_notebook.read_result(result_path)
    except (OSError, ValueError):
        kept = _keep_failed(run, executed, f"chunk_{index:04d}")
        raise ChunkFailedError(index, kept, "MissingResult",
                               "the notebook ran but did not report the chunk's result "
                               "(its write_result cell did not run)") from None
    result_path.unlink(missing_ok=True)
    status = ChunkStatus(result["status"])
    checkpoint = Path(result["checkpoint"]) if result["checkpoint"] else None
    placed: Path | None = None
    if result["iteration"] == result["start_iteration"] or checkpoint is None:
        executed.unlink(missing_ok=True)  # nothing trained, no checkpoint to sit next to
    else:
        iteration = run.owns_checkpoint(checkpoint)
        if iteration is None:
            kept = _keep_failed(run, executed, f"chunk_{index:04d}")
            raise ChunkFailedError(index, kept, "BadResult",
                                   f"reported checkpoint {checkpoint} is not a checkpoint "
                                   f"of {run.root}")
        placed = _move_into(executed, notebook_beside(CheckpointInfo(iteration,
                                                                     run.checkpoints)))
    return ChunkOutcome(index=int(result["chunk_index"]), status=status,
                        start_iteration=result["start_iteration"],
                        iteration=result["iteration"], checkpoint=checkpoint, notebook=placed,
                        seconds=time.monotonic() - started, kernel_pid=result["kernel_pid"],
                        peak_rss_bytes=result["peak_rss_bytes"],
                        interrupted=interrupts.forwarded)


def execute_chunk(run_dir: str | os.PathLike[str], config_path: str | os.PathLike[str], *,
                  parameters: Mapping[str, Any] | None = None,
                  notebooks_dir: str | os.PathLike[str] | None = None,
                  kernel_name: str = DEFAULT_KERNEL, echo: TextIO | None = None,
                  out: TextIO | None = None) -> ChunkOutcome:
    """Execute one chunk notebook for the run, exactly as :func:`run_chunks` does.

    ``parameters`` are passed to the notebook as they are (besides ``config_path``,
    ``logdir`` and ``result_path``, which the driver sets): the notebook's own validation
    judges them. On success the executed notebook is saved next to the checkpoint the chunk
    wrote; on failure it goes to ``failed/`` and ChunkFailedError is raised. ``echo``
    receives the kernel's output as it arrives."""
    run = RunDir(Path(run_dir).expanduser().resolve())
    run.root.mkdir(parents=True, exist_ok=True)
    notebook = find_notebook(CHUNK_NOTEBOOK, notebooks_dir)
    check_kernel(kernel_name)
    say = _Say(out)
    with run.driver_lock():
        _recover_interrupted(run, say)
        return _chunk_locked(run, Path(config_path).expanduser().resolve(),
                             dict(parameters or {}), notebook, kernel_name, echo, say)


# --------------------------------------------------------------------------------------------
# Analysis


def run_analysis(run_dir: str | os.PathLike[str], *,
                 notebooks_dir: str | os.PathLike[str] | None = None,
                 kernel_name: str = DEFAULT_KERNEL, out: TextIO | None = None
                 ) -> tuple[Path, dict[str, Path]]:
    """Execute the analysis notebook for a run; returns the executed notebook
    (``<run>/analysis/analysis.ipynb``) and the PNG figures it saved beside it."""
    run = RunDir(Path(run_dir).expanduser().resolve())
    notebook = find_notebook(ANALYSIS_NOTEBOOK, notebooks_dir)
    check_kernel(kernel_name)
    say = _Say(out)
    with run.driver_lock():
        return _analysis_locked(run, notebook, kernel_name, say)


def _analysis_locked(run: RunDir, notebook: Path, kernel_name: str,
                     say: _Say) -> tuple[Path, dict[str, Path]]:
    output = run.analysis
    run.temp.mkdir(parents=True, exist_ok=True)
    executed = run.temp / ANALYSIS_NOTEBOOK
    say(f"Analysis: executing {notebook.name}")
    try:
        execution = _execute(notebook, executed,
                             {"run_dir": str(run.root), "output_dir": str(output)},
                             kernel_name, None)
    except BaseException:
        _keep_failed(run, executed, "analysis_interrupted")
        raise
    if not execution.ok:
        kept = _keep_failed(run, executed, "analysis")
        raise AnalysisFailedError(kept, execution.error_name, execution.error_value)
    placed = _move_into(executed, output / ANALYSIS_NOTEBOOK)
    figures = {path.stem: path for path in sorted(output.glob("*.png"))}
    return placed, figures


# --------------------------------------------------------------------------------------------
# The loop


def _validate(config_path: Path, run_dir: Path, overrides: Mapping[str, Any],
              keep_last: int | None, max_chunks: int | None) -> MCCFRConfig:
    """Check everything knowable before starting a kernel, with the notebook's own rules."""
    if max_chunks is not None and (isinstance(max_chunks, bool) or not isinstance(
            max_chunks, int) or max_chunks < 1):
        raise ConfigError("max_chunks", max_chunks, "must be an integer >= 1")
    reserved = {"config_path", "logdir", "result_path", "keep_last", "progress", "tensorboard"}
    for name in overrides:
        if name in reserved or name not in chunk_notebook.PARAMETERS:
            allowed = sorted(set(chunk_notebook.PARAMETERS) - reserved)
            raise ConfigError(name, overrides[name],
                              f"not a chunk parameter the driver passes on "
                              f"(allowed: {', '.join(allowed)})")
    request = chunk_notebook.prepare_chunk(config_path=str(config_path), logdir=str(run_dir),
                                           keep_last=keep_last, **dict(overrides))
    return request.config


def run_chunks(config_path: str | os.PathLike[str], run_dir: str | os.PathLike[str], *,
               max_chunks: int | None = None, overrides: Mapping[str, Any] | None = None,
               keep_last: int | None = None, tensorboard: bool = True, progress: bool = True,
               analysis: bool = True, notebooks_dir: str | os.PathLike[str] | None = None,
               kernel_name: str = DEFAULT_KERNEL, echo: TextIO | None = None,
               out: TextIO | None = None) -> RunOutcome:
    """Train the run in ``run_dir`` with the settings of ``config_path`` to completion,
    one chunk notebook (fresh kernel) after another, then execute the analysis notebook.

    ``max_chunks`` stops after that many chunks (run again to continue); ``overrides`` are
    chunk-notebook parameters that override the config (``chunk_iterations``,
    ``chunk_minutes``, ``num_iterations``, ``game``, ``seed``, ``workers``, ``ray_address``);
    ``keep_last`` keeps only the newest checkpoints (their notebooks stay, as the record of
    each chunk); ``progress`` shows a progress bar in each chunk notebook; ``analysis=False``
    skips the analysis.
    ``out`` receives the driver's messages (default stdout), ``echo`` the kernels' output.

    Raises ConfigError / LabError before anything runs when the config, the overrides, the
    notebooks or the kernel are unusable, ChunkFailedError when a chunk fails (its notebook is
    kept in ``failed/``; the checkpoints are untouched) and AnalysisFailedError when only the
    analysis failed."""
    config_path = Path(config_path).expanduser().resolve()
    run = RunDir(Path(run_dir).expanduser().resolve())
    overrides = dict(overrides or {})
    config = _validate(config_path, run.root, overrides, keep_last, max_chunks)
    chunk_nb = find_notebook(CHUNK_NOTEBOOK, notebooks_dir)
    analysis_nb = find_notebook(ANALYSIS_NOTEBOOK, notebooks_dir) if analysis else None
    check_kernel(kernel_name)
    say = _Say(out)
    run.root.mkdir(parents=True, exist_ok=True)
    parameters = {**overrides, "keep_last": keep_last, "tensorboard": tensorboard,
                  "progress": progress}
    outcomes: list[ChunkOutcome] = []
    with run.driver_lock():
        _recover_interrupted(run, say)
        index, metadata = _next_chunk(run)
        done = _plan(config, metadata).why_complete_at_start()
        iteration = int(metadata["iteration"]) if metadata else 0
        if metadata is None:
            say(f"Run {run.root}: starting fresh")
        else:
            say(f"Run {run.root}: continuing from iteration {iteration:,} (chunk {index})")
        status = "complete"
        if done is not None:
            say(f"Training already complete: {done}")
        while done is None:
            if max_chunks is not None and len(outcomes) >= max_chunks:
                status = "max_chunks"
                say(f"Stopping after {max_chunks} chunk(s) as asked; training is not "
                    "complete: run the same command again to continue")
                break
            outcome = _chunk_locked(run, config_path, parameters, chunk_nb, kernel_name,
                                    echo, say)
            outcomes.append(outcome)
            iteration = outcome.iteration
            say(f"Chunk {outcome.index} {outcome.status.value}: iterations "
                f"{outcome.start_iteration:,} -> {outcome.iteration:,} in "
                f"{outcome.seconds:.1f} s (kernel pid {outcome.kernel_pid}, peak memory "
                f"{outcome.peak_rss_bytes / 2**20:.0f} MiB)"
                + (f"; notebook {outcome.notebook}" if outcome.notebook else ""))
            if outcome.status is ChunkStatus.COMPLETE:
                break
            if outcome.status is ChunkStatus.STOPPED or outcome.interrupted:
                status = "stopped"
                break
            if outcome.iteration == outcome.start_iteration:
                raise LabError(f"chunk {outcome.index} made no progress; stopping")
        analysis_notebook: Path | None = None
        figures: dict[str, Path] = {}
        interrupted = any(outcome.interrupted for outcome in outcomes)
        if interrupted and analysis_nb is not None:
            say("Interrupted: the analysis is not executed (holdem-lab analyze runs it)")
        if analysis_nb is not None and iteration > 0 and not interrupted:
            analysis_notebook, figures = _analysis_locked(run, analysis_nb, kernel_name,
                                                          say)
    _report(run, analysis_notebook, figures, say)
    return RunOutcome(run_dir=run.root, status=status, iteration=iteration,
                      chunks=tuple(outcomes), analysis_notebook=analysis_notebook,
                      figures=figures)


def _report(run: RunDir, analysis_notebook: Path | None, figures: Mapping[str, Path],
            say: _Say) -> None:
    """Say where everything is."""
    say(f"Results in {run.root}:")
    say(f"  checkpoints and their chunk notebooks: {run.checkpoints} "
        f"({len(run.notebooks())} notebooks)")
    if analysis_notebook is not None:
        say(f"  analysis notebook: {analysis_notebook}")
    if figures:
        say(f"  figures: {', '.join(str(p) for p in figures.values())}")
    if run.failed.is_dir() and any(run.failed.iterdir()):
        say(f"  notebooks of failed or interrupted chunks: {run.failed}")
    say(f"  TensorBoard: tensorboard --logdir {run.tensorboard}")
    say(f"  strategies: open notebooks/{EXPLORE_NOTEBOOK} with run_dir = \"{run.root}\"")
