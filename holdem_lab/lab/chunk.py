"""The library behind ``notebooks/chunk.ipynb``: one chunk of a run, as a notebook.

The notebook is deliberately thin: it validates its papermill parameters with
:func:`prepare_chunk` (every mistake raises here, before anything is written), calls
:func:`holdem_lab.chunks.run_chunk` exactly once, hands the outcome to the driver with
:func:`write_result`, and shows :func:`chunk_summary` / :func:`plot_chunk_summary`.

What the notebook records travels in the checkpoint itself: :meth:`ChunkRequest.extra_metadata`
goes into every checkpoint the chunk writes under the ``notebook`` key (parameters, kernel pid,
interpreter), so a checkpoint says which notebook execution produced it.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from matplotlib.axes import Axes
from matplotlib.figure import Figure

from holdem_lab.checkpoint import atomic_write
from holdem_lab.chunks.plan import ChunkPlan
from holdem_lab.chunks.runner import ChunkResult
from holdem_lab.chunks.signals import GracefulStop
from holdem_lab.config import NOTEBOOK_OVERRIDE_FIELDS, GameSpec, MCCFRConfig, load_run_config
from holdem_lab.errors import ConfigError
from holdem_lab.games import build_game
from holdem_lab.lab.analysis import NO_DATA, log_iterations, log_values
from holdem_lab.process import peak_rss_bytes
from holdem_lab.rundir import RunDir

PARAMETERS: dict[str, Any] = {
    "config_path": "",
    "logdir": "",
    "chunk_iterations": None,
    "chunk_minutes": None,
    "num_iterations": None,
    "game": None,
    "seed": None,
    "workers": None,
    "ray_address": None,
    "keep_last": None,
    "tensorboard": True,
    "progress": True,
    "result_path": "",
}
"""The chunk notebook's parameters and their defaults (its ``parameters`` cell declares exactly
these)."""

OVERRIDE_FIELDS: dict[str, str] = NOTEBOOK_OVERRIDE_FIELDS
"""Notebook parameters that override a field of the run config (parameter -> config field)."""

METADATA_KEY = "notebook"
"""Key under which the chunk notebook's record is stored in checkpoint metadata."""

RESULT_FIELDS = ("status", "iteration", "start_iteration", "checkpoint", "chunk_index",
                 "chunk_seconds", "elapsed_seconds", "reason", "kernel_pid", "peak_rss_bytes")


@dataclass(frozen=True)
class ChunkRequest:
    """Validated parameters of one chunk: what `run_chunk` gets and what the chunk records."""

    logdir: Path
    config_path: Path
    spec: GameSpec
    config: MCCFRConfig
    keep_last: int | None
    tensorboard: bool
    progress: bool
    result_path: Path | None
    parameters: dict[str, Any] = field(default_factory=dict)

    def extra_metadata(self) -> dict[str, Any]:
        """What the chunk adds to its checkpoints' metadata: the notebook's parameters and the
        kernel that ran it (each chunk runs in its own kernel process)."""
        return {METADATA_KEY: {
            "parameters": dict(self.parameters),
            "kernel_pid": os.getpid(),
            "python": sys.executable,
            "driven": self.result_path is not None,
        }}

    def describe(self) -> str:
        """The settings that decide this chunk's length, as readable lines."""
        return "\n".join([
            f"run directory: {self.logdir}",
            f"config: {self.config_path}",
            f"game: {self.spec.game}",
            *ChunkPlan.for_chunk(self.config).describe(),
        ])


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check(name: str, value: Any, *, kind: str, minimum: float | None = None,
           strict: bool = False, optional: bool = True) -> None:
    """Raise ConfigError naming the parameter unless `value` is of `kind` within bounds."""
    if value is None and optional:
        return
    if kind == "int":
        if not _is_int(value):
            raise ConfigError(name, value, "must be an integer" + (" or None" if optional else ""))
    elif kind == "number":
        if not (_is_int(value) or isinstance(value, float)) or not math.isfinite(value):
            raise ConfigError(name, value, "must be a finite number" +
                              (" or None" if optional else ""))
    elif kind == "bool":
        if not isinstance(value, bool):
            raise ConfigError(name, value, "must be True or False")
    elif kind == "str" and not isinstance(value, str):
        raise ConfigError(name, value, "must be a string")
    if minimum is not None:
        if strict and value <= minimum:
            raise ConfigError(name, value, f"must be > {minimum:g}")
        if not strict and value < minimum:
            raise ConfigError(name, value, f"must be >= {minimum:g}")


def prepare_chunk(**parameters: Any) -> ChunkRequest:
    """Validate the chunk notebook's parameters and load the run config.

    Raises ConfigError (or GameError for a game that cannot be built) naming the parameter and
    the value; nothing is created or written before every check has passed, so a failed
    validation leaves the run directory exactly as it was."""
    unknown = sorted(set(parameters) - set(PARAMETERS))
    if unknown:
        raise ConfigError(unknown[0], parameters[unknown[0]],
                          f"unknown parameter (known: {', '.join(PARAMETERS)})")
    values = {**PARAMETERS, **parameters}
    for name in ("config_path", "logdir", "result_path"):
        _check(name, values[name], kind="str", optional=False)
    for name in ("config_path", "logdir"):
        if not values[name].strip():
            raise ConfigError(name, values[name], "is required (a path)")
    _check("chunk_iterations", values["chunk_iterations"], kind="int", minimum=1)
    _check("num_iterations", values["num_iterations"], kind="int", minimum=1)
    _check("seed", values["seed"], kind="int", minimum=0)
    _check("workers", values["workers"], kind="int", minimum=1)
    _check("ray_address", values["ray_address"], kind="str")
    _check("keep_last", values["keep_last"], kind="int", minimum=1)
    _check("chunk_minutes", values["chunk_minutes"], kind="number", minimum=0, strict=True)
    _check("game", values["game"], kind="str")
    _check("tensorboard", values["tensorboard"], kind="bool")
    _check("progress", values["progress"], kind="bool")

    logdir = Path(values["logdir"]).expanduser()
    if logdir.exists() and not logdir.is_dir():
        raise ConfigError("logdir", values["logdir"], "exists and is not a directory")
    result_path: Path | None = None
    if values["result_path"]:
        result_path = Path(values["result_path"]).expanduser()
        if not result_path.parent.is_dir():
            raise ConfigError("result_path", values["result_path"],
                              "its directory does not exist")
    config_path = Path(values["config_path"]).expanduser()
    overrides = {OVERRIDE_FIELDS[name]: values[name] for name in OVERRIDE_FIELDS
                 if values[name] is not None}
    if values["chunk_iterations"] is not None or values["chunk_minutes"] is not None:
        overrides["enable_chunked_training"] = True
    spec, config = load_run_config(config_path, overrides)
    spec = RunDir(logdir).with_buckets_found(spec)  # a resume opens from any directory
    build_game(spec)  # a game that cannot be built is a parameter mistake too: fail now
    return ChunkRequest(logdir=logdir, config_path=config_path, spec=spec, config=config,
                        keep_last=values["keep_last"], tensorboard=values["tensorboard"],
                        progress=values["progress"], result_path=result_path,
                        parameters=values)


@contextlib.contextmanager
def stop_on_signal() -> Iterator[GracefulStop]:
    """Signal handling for the cell that trains: SIGINT (the kernel's interrupt, which is how
    ``holdem-lab chunks`` passes on a Ctrl-C) or SIGTERM stops the chunk after the iteration in
    progress with a checkpoint, exactly as in ``holdem-train-blueprint``; the kernel's own
    handlers are back when the block ends."""
    graceful = GracefulStop().install()
    try:
        yield graceful
    finally:
        graceful.uninstall()


def result_record(result: ChunkResult) -> dict[str, Any]:
    """The chunk's outcome as a JSON-ready dict (what the driver reads back)."""
    return {
        "status": result.status.value,
        "iteration": result.iteration,
        "start_iteration": result.start_iteration,
        "checkpoint": str(result.checkpoint) if result.checkpoint is not None else None,
        "chunk_index": result.chunk_index,
        "chunk_seconds": result.chunk_seconds,
        "elapsed_seconds": result.elapsed_seconds,
        "reason": result.reason,
        "kernel_pid": os.getpid(),
        "peak_rss_bytes": peak_rss_bytes(),
    }


def write_result(request: ChunkRequest, result: ChunkResult) -> Path | None:
    """Hand the chunk's outcome to the driver: write it atomically to `result_path` (a temp
    file renamed into place, so the driver never reads half a file). No-op when the notebook
    runs without a driver."""
    if request.result_path is None:
        return None
    path = request.result_path
    atomic_write(path, json.dumps(result_record(result), indent=1))
    return path


def read_result(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a result written by :func:`write_result`; ValueError if it is not one."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    if not isinstance(data, dict) or any(key not in data for key in RESULT_FIELDS):
        raise ValueError(f"{path} is not a chunk result (expected keys {RESULT_FIELDS})")
    return data


def chunk_summary(result: ChunkResult, logdir: str | os.PathLike[str]) -> dict[str, Any]:
    """What the chunk did and the run's progress so far, as plain data: iterations, time,
    memory, and exploitability / average regret per checkpoint from checkpoint metadata."""
    records, _ = RunDir(logdir).records()
    iterations: list[int] = []
    exploitability: list[float | None] = []
    regret: dict[str, list[float | None]] = {}
    for record in records:
        metrics = record.metadata.get("metrics", {})
        iterations.append(record.iteration)
        exploitability.append(metrics.get("exploitability"))
        by_round = metrics.get("average_regret_by_round") or {}
        for name in by_round:
            regret.setdefault(name, [None] * (len(iterations) - 1))
        for name, values in regret.items():
            values.append(by_round.get(name))
    seconds = result.chunk_seconds
    return {
        "status": result.status.value,
        "reason": result.reason,
        "chunk_index": result.chunk_index,
        "start_iteration": result.start_iteration,
        "iteration": result.iteration,
        "trained_iterations": result.trained_iterations,
        "chunk_seconds": seconds,
        "elapsed_seconds": result.elapsed_seconds,
        "iterations_per_second": result.trained_iterations / seconds if seconds > 0 else None,
        "training_seconds": result.training_seconds,
        "training_iterations_per_second": result.trained_iterations / result.training_seconds
        if result.training_seconds > 0 else None,
        "peak_rss_mb": peak_rss_bytes() / 2**20,
        "checkpoint": str(result.checkpoint) if result.checkpoint is not None else None,
        "history": {"iteration": iterations, "exploitability": exploitability,
                    "average_regret": regret},
    }


def format_summary(summary: Mapping[str, Any]) -> str:
    """The summary as a few readable lines."""
    rate = summary["iterations_per_second"]
    training = summary.get("training_iterations_per_second")
    lines = [
        f"status: {summary['status']} ({summary['reason']})",
        f"chunk {summary['chunk_index']}: iterations {summary['start_iteration']:,} -> "
        f"{summary['iteration']:,} ({summary['trained_iterations']:,} trained)",
        f"time: {summary['chunk_seconds']:.1f} s this chunk, "
        f"{summary['elapsed_seconds']:.1f} s in total"
        + (f", {rate:,.0f} iterations/s" if rate else "")
        + (f" ({summary['training_seconds']:.1f} s of it training, at {training:,.0f} "
           "iterations/s: the rest builds the game, loads, evaluates and writes)"
           if training else ""),
        f"peak memory of this kernel so far: {summary['peak_rss_mb']:.0f} MiB",
        f"checkpoint: {summary['checkpoint']}",
    ]
    known = [v for v in summary["history"]["exploitability"] if v is not None]
    if known:
        lines.append(f"exploitability at the last checkpoint that measured it: {known[-1]:.5g}")
    return "\n".join(lines)


def plot_chunk_summary(summary: Mapping[str, Any]) -> Figure:
    """Exploitability and average regret per round at each checkpoint so far, on log-log axes
    (both decay as a power of the iteration); an empty panel says why in its title."""
    history = summary["history"]
    figure = Figure(figsize=(9, 3.2), layout="constrained")
    left, right = figure.subplots(1, 2)
    points = [(i, v) for i, v in zip(history["iteration"], history["exploitability"],
                                     strict=True) if v is not None]
    if points:
        left.plot(*zip(*points, strict=True), marker="o")
        _log_log(left, points)
        left.set_title("exploitability per checkpoint")
        left.set_xlabel("iteration")
    else:
        left.set_title(f"exploitability{NO_DATA}exact for Kuhn and Leduc only",
                       fontsize="medium")
        left.set_xticks([])
        left.set_yticks([])
    drawn: list[tuple[int, float]] = []
    for name, values in sorted(history["average_regret"].items()):
        pairs = [(i, v) for i, v in zip(history["iteration"], values, strict=True)
                 if v is not None]
        if pairs:
            right.plot(*zip(*pairs, strict=True), marker="o", label=name)
            drawn += pairs
    if drawn:
        _log_log(right, drawn)
        right.legend(fontsize="small")
        right.set_title("average positive regret / t")
        right.set_xlabel("iteration")
    else:
        right.set_title(f"average regret{NO_DATA}none recorded", fontsize="medium")
        right.set_xticks([])
        right.set_yticks([])
    return figure


def _log_log(ax: Axes, points: list[tuple[int, float]]) -> None:
    """Log-log axes when every point allows them."""
    if all(i > 0 and v > 0 for i, v in points):
        log_iterations(ax)
        log_values(ax)
