"""A run across its chunks, as plain data and as figures (the library behind
``notebooks/analysis.ipynb``).

:func:`load_run` gathers everything from two sources and returns plain dicts and lists (no
dataframes), so tests and notebooks can assert on exactly what will be drawn:

* checkpoint metadata: one point per checkpoint (exploitability, average regret per round,
  epsilon, discount steps and factors, elapsed time, peak memory) and the per-chunk history of
  the newest checkpoint (start/end iteration, seconds, peak memory, iterations per second);
* TensorBoard scalars (``read_scalars``): the denser series logged every
  ``tensorboard_log_interval`` iterations, preferred over metadata whenever present.

Each ``plot_*`` function draws one figure with the chunk boundaries marked; :func:`save_figures`
writes them as PNG files. Peak memory per chunk is the figure chunking exists for: every chunk
is a fresh process, so it stays flat however long the run.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import EngFormatter, MaxNLocator

from holdem_lab.checkpoint import atomic_file
from holdem_lab.chunks.tensorboard import read_scalars
from holdem_lab.errors import CheckpointError
from holdem_lab.rundir import CheckpointRecord, RunDir, summarize_problems

MB = 2**20
"""The unit of every ``*_mb`` figure: a mebibyte (the TensorBoard tag keeps its old name)."""

# series name -> TensorBoard tag
TENSORBOARD_TAGS: dict[str, str] = {
    "exploitability": "exploitability",
    "iterations_per_second": "train/iterations_per_second",
    "epsilon": "train/epsilon",
    "discount_steps": "train/discount_steps",
    "elapsed_seconds": "train/elapsed_seconds",
    "peak_rss_mb": "memory/peak_rss_mb",
    "pruned_share": "train/pruned_share",
}
REGRET_TAG_PREFIX = "regret/average_"
DISCOUNT_TAG_PREFIX = "discount/"


def _series(points: list[tuple[int, float]], source: str) -> dict[str, Any]:
    points = sorted(points)
    return {"steps": [int(s) for s, _ in points], "values": [float(v) for _, v in points],
            "source": source}


def _checkpoint_row(record: CheckpointRecord) -> dict[str, Any]:
    meta = record.metadata
    metrics = meta.get("metrics") or {}
    notebook = meta.get("notebook") or {}
    discount = meta.get("discount") or {}
    return {
        "iteration": record.iteration,
        "chunk_index": record.chunk_index,
        "elapsed_seconds": meta.get("elapsed_seconds"),
        "epsilon": meta.get("epsilon"),
        "discount_steps": meta.get("discount_steps"),
        "discount_factors": {name.removeprefix(DISCOUNT_TAG_PREFIX): value
                             for name, value in (discount.get("latest_factors") or {}).items()},
        "exploitability": metrics.get("exploitability"),
        "average_regret_by_round": dict(metrics.get("average_regret_by_round") or {}),
        "peak_rss_mb": metrics["peak_rss_bytes"] / MB
        if metrics.get("peak_rss_bytes") is not None else None,
        "pid": meta.get("pid"),
        "kernel_pid": notebook.get("kernel_pid"),
        "notebook": str(record.notebook) if record.notebook.exists() else None,
    }


def _metadata_series(rows: list[dict[str, Any]], value: Callable[[dict[str, Any]], Any]
                     ) -> dict[str, Any]:
    points = [(row["iteration"], value(row)) for row in rows]
    return _series([(s, float(v)) for s, v in points if v is not None], "metadata")


def _field(group: str, name: str) -> Callable[[dict[str, Any]], Any]:
    """A getter of ``row[group][name]`` (None when absent)."""
    def get(row: dict[str, Any]) -> Any:
        return row[group].get(name)
    return get


def load_run(run_dir: str | os.PathLike[str]) -> dict[str, Any]:
    """Everything the analysis plots, as plain data.

    Keys: ``run_dir``, ``game``, ``config`` (the newest checkpoint's settings), ``iteration``,
    ``checkpoints`` (one row per checkpoint), ``chunks`` (one row per finished chunk),
    ``boundaries`` (iterations where a new chunk started), ``series`` ({name: {"steps",
    "values", "source"}} with names ``exploitability``, ``regret/<round>``, ``epsilon``,
    ``discount_steps``, ``discount/<factor>``, ``elapsed_seconds``, ``iterations_per_second``,
    ``peak_rss_mb``), ``tensorboard_tags`` and ``problems`` (checkpoints skipped).
    Raises CheckpointError when the run has no readable checkpoint."""
    run = RunDir(run_dir)
    records, problems = run.records()
    if not records:
        # records() lists problems oldest first; the summary names the newest.
        detail = f" ({summarize_problems(problems[::-1])})" if problems else ""
        raise CheckpointError(f"{run_dir} holds no readable checkpoint{detail}")
    latest = records[-1].metadata
    rows = [_checkpoint_row(record) for record in records]
    chunks = []
    for position, chunk in enumerate(latest.get("chunks") or []):
        chunks.append({
            "index": int(chunk.get("chunk_index", position)),
            "start_iteration": int(chunk["start_iteration"]),
            "end_iteration": int(chunk["end_iteration"]),
            "seconds": float(chunk["seconds"]),
            "peak_rss_mb": float(chunk["peak_rss_bytes"]) / MB,
            "iterations_per_second": float(chunk["iterations_per_second"]),
        })
    boundaries = sorted({c["start_iteration"] for c in chunks if c["start_iteration"] > 0})

    scalars = read_scalars(run.tensorboard) if run.tensorboard.is_dir() else {}
    series: dict[str, dict[str, Any]] = {}

    def pick(name: str, tag: str, fallback: Callable[[dict[str, Any]], Any] | None) -> None:
        if scalars.get(tag):
            series[name] = _series(scalars[tag], "tensorboard")
        elif fallback is not None:
            series[name] = _metadata_series(rows, fallback)

    pick("exploitability", TENSORBOARD_TAGS["exploitability"], lambda r: r["exploitability"])
    rounds = sorted({name for row in rows for name in row["average_regret_by_round"]} |
                    {tag[len(REGRET_TAG_PREFIX):] for tag in scalars
                     if tag.startswith(REGRET_TAG_PREFIX)})
    for name in rounds:
        pick(f"regret/{name}", REGRET_TAG_PREFIX + name, _field("average_regret_by_round", name))
    pick("epsilon", TENSORBOARD_TAGS["epsilon"], lambda r: r["epsilon"])
    pick("discount_steps", TENSORBOARD_TAGS["discount_steps"], lambda r: r["discount_steps"])
    factors = sorted({name for row in rows for name in row["discount_factors"]} |
                     {tag[len(DISCOUNT_TAG_PREFIX):] for tag in scalars
                      if tag.startswith(DISCOUNT_TAG_PREFIX)})
    for name in factors:
        pick(f"discount/{name}", DISCOUNT_TAG_PREFIX + name, _field("discount_factors", name))
    pick("elapsed_seconds", TENSORBOARD_TAGS["elapsed_seconds"], lambda r: r["elapsed_seconds"])
    pick("iterations_per_second", TENSORBOARD_TAGS["iterations_per_second"], None)
    pick("peak_rss_mb", TENSORBOARD_TAGS["peak_rss_mb"], lambda r: r["peak_rss_mb"])
    # Heads-up Hold'em: the match against each baseline at the end of every chunk.
    for record in records:
        for baseline, result in (record.metadata.get("evaluation") or {}).items():
            entry = series.setdefault(f"evaluation/{baseline}",
                                      {"steps": [], "values": [], "ci95": [],
                                       "source": "metadata"})
            entry["steps"].append(record.iteration)
            entry["values"].append(float(result["mbb_per_hand"]))
            entry["ci95"].append(float(result["ci95_mbb"]))

    spec = latest.get("game_spec") or {}
    return {
        "run_dir": str(run_dir),
        "game": spec.get("game"),
        "config": dict(latest.get("config") or {}),
        "iteration": records[-1].iteration,
        "checkpoints": rows,
        "chunks": chunks,
        "boundaries": boundaries,
        "series": series,
        "tensorboard_tags": sorted(scalars),
        "problems": problems,
    }


def summarize(data: Mapping[str, Any]) -> dict[str, Any]:
    """Headline numbers of a run: progress, exploitability, speed, and how flat peak memory
    stayed across chunks (``memory_ratio`` = largest / smallest chunk peak)."""
    chunks = data["chunks"]
    exploitability = data["series"].get("exploitability", {"values": []})["values"]
    peaks = [c["peak_rss_mb"] for c in chunks]
    target = data["config"].get("num_iterations")
    return {
        "game": data["game"],
        "iteration": data["iteration"],
        "target_iterations": target,
        "complete": target is not None and data["iteration"] >= target,
        "chunks": len(chunks),
        "checkpoints": len(data["checkpoints"]),
        "elapsed_seconds": data["checkpoints"][-1]["elapsed_seconds"],
        "first_exploitability": exploitability[0] if exploitability else None,
        "final_exploitability": exploitability[-1] if exploitability else None,
        "iterations_per_second_by_chunk": [c["iterations_per_second"] for c in chunks],
        "peak_rss_mb_by_chunk": peaks,
        "memory_ratio": max(peaks) / min(peaks) if peaks and min(peaks) > 0 else None,
    }


def format_summary(summary: Mapping[str, Any]) -> str:
    """The summary as readable lines."""
    lines = [f"game: {summary['game']}",
             f"iteration: {summary['iteration']:,}"
             + (f" of {summary['target_iterations']:,}" if summary["target_iterations"] else "")
             + (" (complete)" if summary["complete"] else ""),
             f"chunks: {summary['chunks']}, checkpoints: {summary['checkpoints']}",
             f"elapsed: {summary['elapsed_seconds']:.1f} s"]
    if summary["final_exploitability"] is not None:
        lines.append(f"exploitability: {summary['first_exploitability']:.5g} -> "
                     f"{summary['final_exploitability']:.5g}")
    if summary["peak_rss_mb_by_chunk"]:
        peaks = summary["peak_rss_mb_by_chunk"]
        lines.append(f"peak memory per chunk: {min(peaks):.0f}-{max(peaks):.0f} MiB "
                     f"(largest/smallest = {summary['memory_ratio']:.2f})")
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------
# Figures


def _mark_chunks(ax: Axes, boundaries: list[int]) -> None:
    """Dashed vertical lines where a new chunk (a new process) started."""
    for position, iteration in enumerate(boundaries):
        ax.axvline(iteration, color="0.55", linestyle="--", linewidth=0.9,
                   label="chunk boundary" if position == 0 else None)


def _empty(ax: Axes, message: str) -> None:
    ax.text(0.5, 0.5, message, ha="center", va="center", transform=ax.transAxes, color="0.4")


def _line(ax: Axes, series: Mapping[str, Any] | None, label: str, **style: Any) -> bool:
    if not series or not series["steps"]:
        return False
    marker = "o" if len(series["steps"]) <= 30 else None
    ax.plot(series["steps"], series["values"], label=label, marker=marker, markersize=3,
            **style)
    return True


def _finish(ax: Axes, title: str, ylabel: str, boundaries: list[int]) -> None:
    _mark_chunks(ax, boundaries)
    ax.set_title(title)
    ax.set_xlabel("iteration")
    ax.xaxis.set_major_locator(MaxNLocator(nbins=6, integer=True))
    ax.xaxis.set_major_formatter(EngFormatter(sep=""))  # 150k, not 150000
    ax.set_ylabel(ylabel)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize="small")


def plot_exploitability(data: Mapping[str, Any]) -> Figure:
    """Exact exploitability (Kuhn/Leduc) against iterations, log scale."""
    figure = Figure(figsize=(8, 4), layout="constrained")
    ax = figure.subplots()
    series = data["series"].get("exploitability")
    if _line(ax, series, f"exploitability ({series['source'] if series else ''})"):
        if series is not None and all(v > 0 for v in series["values"]):
            ax.set_yscale("log")
    else:
        _empty(ax, "no exploitability logged: it is exact for Kuhn and Leduc only\n"
                   "(Hold'em: see the matches against baselines)")
    _finish(ax, "Exploitability", "exploitability (chips per hand)", data["boundaries"])
    return figure


def plot_regret(data: Mapping[str, Any]) -> Figure:
    """Average positive regret per infoset and iteration, one line per betting round."""
    figure = Figure(figsize=(8, 4), layout="constrained")
    ax = figure.subplots()
    drawn = False
    for name in sorted(k for k in data["series"] if k.startswith("regret/")):
        drawn |= _line(ax, data["series"][name], name.split("/", 1)[1])
    if not drawn:
        _empty(ax, "no regret logged")
    _finish(ax, "Average regret by round", "mean max_a R+(I, a) / t", data["boundaries"])
    return figure


def _per_chunk_bars(ax: Axes, chunks: list[dict[str, Any]], key: str, ylabel: str) -> None:
    if not chunks:
        _empty(ax, "no finished chunk yet")
        return
    ax.bar([str(c["index"]) for c in chunks], [c[key] for c in chunks], color="tab:blue")
    ax.set_xlabel("chunk")
    ax.set_ylabel(ylabel)


def plot_speed(data: Mapping[str, Any]) -> Figure:
    """Iterations per second of each chunk (wall clock), and the cumulative compute rate."""
    figure = Figure(figsize=(10, 3.8), layout="constrained")
    left, right = figure.subplots(1, 2)
    _per_chunk_bars(left, data["chunks"], "iterations_per_second", "iterations / s")
    left.set_title("Iterations per second, per chunk")
    if not _line(right, data["series"].get("iterations_per_second"), "compute rate"):
        _empty(right, "no TensorBoard rate logged")
    _finish(right, "Iterations per second (compute time)", "iterations / s", data["boundaries"])
    return figure


def plot_memory(data: Mapping[str, Any]) -> Figure:
    """Peak memory of each chunk's process (flat: each chunk starts a fresh process) and peak
    memory against iterations."""
    figure = Figure(figsize=(10, 3.8), layout="constrained")
    left, right = figure.subplots(1, 2)
    _per_chunk_bars(left, data["chunks"], "peak_rss_mb", "peak RSS (MiB)")
    left.set_title("Peak memory of each chunk, at its end")
    if data["chunks"]:
        left.set_ylim(0, max(c["peak_rss_mb"] for c in data["chunks"]) * 1.15)
    if not _line(right, data["series"].get("peak_rss_mb"), "peak RSS"):
        _empty(right, "no memory logged")
    _finish(right, "Peak memory so far, sampled while training", "MiB", data["boundaries"])
    return figure


def plot_schedules(data: Mapping[str, Any]) -> Figure:
    """The exploration epsilon and the discount factors (and steps) over the run."""
    figure = Figure(figsize=(10, 3.8), layout="constrained")
    left, right = figure.subplots(1, 2)
    if not _line(left, data["series"].get("epsilon"), "epsilon"):
        _empty(left, "no epsilon logged")
    _finish(left, "Exploration epsilon", "epsilon", data["boundaries"])
    drawn = False
    for name in sorted(k for k in data["series"] if k.startswith("discount/")):
        drawn |= _line(right, data["series"][name], name.split("/", 1)[1])
    if not drawn:
        _empty(right, "no discounting (discount_mode none, or nothing logged)")
    _finish(right, "Discount factors of the latest step", "factor", data["boundaries"])
    return figure


def plot_elapsed(data: Mapping[str, Any]) -> Figure:
    """Training time against iterations, summed over chunks."""
    figure = Figure(figsize=(8, 4), layout="constrained")
    ax = figure.subplots()
    if not _line(ax, data["series"].get("elapsed_seconds"), "elapsed"):
        _empty(ax, "no elapsed time logged")
    _finish(ax, "Elapsed training time", "seconds", data["boundaries"])
    return figure


def plot_evaluation(data: Mapping[str, Any]) -> Figure:
    """Heads-up Hold'em: the blueprint's winnings against each baseline agent (duplicate deals,
    mbb/hand with 95% confidence intervals) at the end of every chunk."""
    figure = Figure(figsize=(8, 4), layout="constrained")
    ax = figure.subplots()
    drawn = False
    for name, series in sorted(data["series"].items()):
        if not name.startswith("evaluation/") or not series["steps"]:
            continue
        ax.errorbar(series["steps"], series["values"], yerr=series["ci95"], marker="o",
                    capsize=3, label=f"vs {name.removeprefix('evaluation/')}")
        drawn = True
    if drawn:
        ax.axhline(0.0, color="black", linewidth=0.8)
        ax.legend(loc="best")
    else:
        _empty(ax, "no match evaluation recorded\n(heads-up Hold'em runs record one per chunk)")
    _finish(ax, "Blueprint against baseline agents", "mbb/hand", data["boundaries"])
    return figure


FIGURES: dict[str, Callable[[Mapping[str, Any]], Figure]] = {
    "exploitability": plot_exploitability,
    "evaluation": plot_evaluation,
    "regret": plot_regret,
    "speed": plot_speed,
    "memory": plot_memory,
    "schedules": plot_schedules,
    "elapsed": plot_elapsed,
}
"""Figure name (and PNG file stem) -> function drawing it."""


def make_figures(data: Mapping[str, Any]) -> dict[str, Figure]:
    """Every analysis figure of a run, by name."""
    return {name: plot(data) for name, plot in FIGURES.items()}


def save_figures(figures: Mapping[str, Figure], directory: str | os.PathLike[str],
                 dpi: int = 100) -> dict[str, Path]:
    """Write each figure as ``<directory>/<name>.png`` (atomically: a temp file renamed into
    place) and return the paths."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Path] = {}
    for name, figure in figures.items():
        path = directory / f"{name}.png"
        # Figures are redrawn from the run whenever lost, so an fsync buys nothing.
        with atomic_file(path, durable=False) as target, \
                os.fdopen(target.fd, "wb", closefd=False) as stream:
            figure.savefig(stream, format="png", dpi=dpi)
        paths[name] = path
    return paths


def analyze_run(run_dir: str | os.PathLike[str],
                output_dir: str | os.PathLike[str] | None = None) -> dict[str, Any]:
    """Load a run, draw every figure and save the PNGs (by default in ``<run>/analysis``).

    Returns ``{"data", "summary", "figures"}`` with ``figures`` mapping names to PNG paths."""
    data = load_run(run_dir)
    out = Path(output_dir) if output_dir else RunDir(run_dir).analysis
    paths = save_figures(make_figures(data), out)
    return {"data": data, "summary": summarize(data), "figures": paths}
