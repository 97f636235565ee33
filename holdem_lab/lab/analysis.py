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
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import (
    EngFormatter,
    LogFormatterSciNotation,
    LogLocator,
    MaxNLocator,
    NullFormatter,
)

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


def _optional_float(value: Any) -> float | None:
    return float(value) if value is not None else None


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
    chunks: list[dict[str, Any]] = []
    for position, chunk in enumerate(latest.get("chunks") or []):
        trained = int(chunk["end_iteration"]) - int(chunk["start_iteration"])
        compute = chunk.get("compute_seconds")
        chunks.append({
            "index": int(chunk.get("chunk_index", position)),
            "start_iteration": int(chunk["start_iteration"]),
            "end_iteration": int(chunk["end_iteration"]),
            "seconds": float(chunk["seconds"]),
            "peak_rss_mb": float(chunk["peak_rss_bytes"]) / MB,
            "iterations_per_second": float(chunk["iterations_per_second"]),
            "compute_seconds": float(compute) if compute is not None else None,
            "compute_iterations_per_second": trained / float(compute)
            if compute else None,
            # Recorded by newer runs only: None where a chunk did not record it.
            "first_batch_seconds": _optional_float(chunk.get("first_batch_seconds")),
            "evaluation_seconds": _optional_float(chunk.get("evaluation_seconds")),
        })
    boundaries = sorted({int(c["start_iteration"]) for c in chunks
                         if c["start_iteration"] > 0})

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
    # Hold'em: the match against each baseline at the end of every chunk.
    for record in records:
        for baseline, result in (record.metadata.get("evaluation") or {}).items():
            entry = series.setdefault(f"evaluation/{baseline}",
                                      {"steps": [], "values": [], "ci95": [],
                                       "source": "metadata"})
            entry["steps"].append(record.iteration)
            entry["values"].append(float(result["mbb_per_hand"]))
            entry["ci95"].append(float(result["ci95_mbb"]))
        # Local best response at the end of every chunk (the same deals each time).
        lbr = record.metadata.get("lbr")
        if isinstance(lbr, dict):
            entry = series.setdefault("lbr", {"steps": [], "values": [], "ci95": [],
                                              "actions": lbr.get("actions"),
                                              "source": "metadata"})
            entry["steps"].append(record.iteration)
            entry["values"].append(float(lbr["mbb_per_hand"]))
            entry["ci95"].append(float(lbr["ci95_mbb"]))

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
        "lbr_by_chunk": [(step, value, ci) for step, value, ci in zip(
            *(data["series"].get("lbr", {}).get(key, []) for key in ("steps", "values", "ci95")),
            strict=True)],
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
    if summary["lbr_by_chunk"]:
        lines.append("local best response (mbb/hand): " + ", ".join(
            f"{value:+.0f} ± {ci:.0f} at {step:,}" for step, value, ci in summary["lbr_by_chunk"]))
    if summary["peak_rss_mb_by_chunk"]:
        peaks = summary["peak_rss_mb_by_chunk"]
        lines.append(f"peak memory per chunk: {min(peaks):.0f}-{max(peaks):.0f} MiB "
                     f"(largest/smallest = {summary['memory_ratio']:.2f})")
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------
# Figures


CHUNK_BOUNDARY = "chunk-boundary"
"""The ``gid`` of the dashed lines marking chunk boundaries (they are not data)."""

NO_DATA = " \N{EM DASH} "
"""Separates a panel's title from the reason it is empty: an empty panel always says why."""


def _mark_chunks(ax: Axes, boundaries: list[int]) -> None:
    """Dashed vertical lines where a new chunk (a new process) started."""
    for position, iteration in enumerate(boundaries):
        ax.axvline(iteration, color="0.55", linestyle="--", linewidth=0.9,
                   label="chunk boundary" if position == 0 else None, gid=CHUNK_BOUNDARY)


def _line(ax: Axes, series: Mapping[str, Any] | None, label: str, **style: Any) -> bool:
    if not series or not series["steps"]:
        return False
    marker = "o" if len(series["steps"]) <= 30 else None
    ax.plot(series["steps"], series["values"], label=label, marker=marker, markersize=3,
            **style)
    return True


def _finish(ax: Axes, title: str, ylabel: str, boundaries: list[int], *,
            empty: str | None = None, log_x: bool = False) -> None:
    """Title, labels, chunk boundaries and legend; ``empty`` (why there is nothing to draw)
    goes into the title of a panel without data."""
    if empty is not None:
        ax.set_title(f"{title}{NO_DATA}{empty}", fontsize="medium", wrap=True)
        ax.set_xticks([])
        ax.set_yticks([])
        return
    _mark_chunks(ax, boundaries)
    ax.set_title(title)
    ax.set_xlabel("iteration")
    # Room below the axes, so the first x label clears a y label at the bottom corner.
    ax.tick_params(axis="x", pad=7)
    if log_x:
        log_iterations(ax)
    else:
        ax.xaxis.set_major_locator(MaxNLocator(nbins=6, integer=True))
        ax.xaxis.set_major_formatter(EngFormatter(sep=""))  # 150k, not 150000
    ax.set_ylabel(ylabel)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize="small")


class _PlainLogFormatter(LogFormatterSciNotation):
    """Matplotlib's choice of which log ticks to label, written as plain numbers ("2.5",
    "0.08") rather than "2.5x10^0"."""

    def __call__(self, x: float, pos: int | None = None) -> str:
        return f"{x:.3g}" if super().__call__(x, pos) else ""


def log_values(ax: Axes) -> None:
    """A log y axis labelled with plain numbers."""
    ax.set_yscale("log")
    ax.yaxis.set_major_formatter(_PlainLogFormatter())
    ax.yaxis.set_minor_formatter(_PlainLogFormatter(labelOnlyBase=False))


def log_iterations(ax: Axes) -> None:
    """A log x axis of iterations labelled 200, 500, 1k, 2k: steps a reader can place, with
    room between them."""
    ax.set_xscale("log")
    ax.xaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
    ax.xaxis.set_major_formatter(EngFormatter(sep=""))
    ax.xaxis.set_minor_formatter(NullFormatter())


def _positive(values: list[float]) -> bool:
    return bool(values) and all(v > 0 for v in values)


def plot_exploitability(data: Mapping[str, Any]) -> Figure:
    """Exact exploitability (Kuhn/Leduc) against iterations, on log-log axes (MCCFR's
    O(1/sqrt(T)) is a straight line there); for heads-up Hold'em, local best response with its
    95% confidence band at the end of every chunk."""
    figure = Figure(figsize=(8, 4), layout="constrained")
    ax = figure.subplots()
    series = data["series"].get("exploitability")
    lbr = data["series"].get("lbr")
    if not (series and series["steps"]) and lbr and lbr["steps"]:
        _lbr_band(ax, lbr, "local best response")
        _finish(ax, f"Local best response ({lbr.get('actions') or 'fcpa'}), a lower bound on "
                "exploitability", "mbb/hand", data["boundaries"])
        return figure
    if not _line(ax, series, f"exploitability ({series['source'] if series else ''})"):
        reason = ("heads-up Hold'em: no local best response recorded (lbr_hands)"
                  if data["game"] == "holdem" else "exact for Kuhn and Leduc, local best "
                  "response for heads-up Hold'em")
        _finish(ax, "Exploitability", "", [], empty=reason)
        return figure
    assert series is not None
    log = _positive(series["values"]) and _positive(series["steps"])
    if log:
        log_values(ax)
    _finish(ax, "Exploitability", "exploitability (chips per hand)", data["boundaries"],
            log_x=log)
    return figure


def _lbr_band(ax: Axes, lbr: Mapping[str, Any], label: str, **style: Any) -> None:
    """LBR values with their 95% confidence band."""
    steps, values, ci = lbr["steps"], lbr["values"], lbr["ci95"]
    (line,) = ax.plot(steps, values, marker="o", markersize=3, label=label, **style)
    ax.fill_between(steps, [v - c for v, c in zip(values, ci, strict=True)],
                    [v + c for v, c in zip(values, ci, strict=True)],
                    color=line.get_color(), alpha=0.2, linewidth=0)


def plot_regret(data: Mapping[str, Any]) -> Figure:
    """Average positive regret per infoset and iteration, one line per betting round, on
    log-log axes (it decays as a power of the iteration)."""
    figure = Figure(figsize=(8, 4), layout="constrained")
    ax = figure.subplots()
    names = sorted(k for k in data["series"] if k.startswith("regret/"))
    drawn = False
    log = True
    for name in names:
        series = data["series"][name]
        drawn |= _line(ax, series, name.split("/", 1)[1])
        log = log and _positive(series["values"]) and _positive(series["steps"])
    if not drawn:
        _finish(ax, "Average regret by round", "", [], empty="no regret logged")
        return figure
    if log:
        log_values(ax)
    _finish(ax, "Average regret by round", "mean max_a R+(I, a) / t", data["boundaries"],
            log_x=log)
    return figure


def plot_speed(data: Mapping[str, Any]) -> Figure:
    """Speed, per chunk and per logging interval: each chunk's training rate (compute time)
    beside its wall-clock rate, where each chunk's seconds went (the first batch holds numba's
    compilation or cache loading, and Hold'em's matches are evaluation), and the rate over
    each TensorBoard logging interval."""
    figure = Figure(figsize=(15, 4), layout="constrained")
    rates, times, intervals = figure.subplots(1, 3)
    chunks = data["chunks"]
    if not chunks:
        _finish(rates, "Iterations per second, per chunk", "", [], empty="no finished chunk")
        _finish(times, "Time per chunk", "", [], empty="no finished chunk")
    else:
        labels = [str(c["index"]) for c in chunks]
        positions = list(range(len(chunks)))
        compute = [c["compute_iterations_per_second"] or 0.0 for c in chunks]
        wall = [c["iterations_per_second"] for c in chunks]
        rates.bar([x - 0.2 for x in positions], compute, width=0.4, color="tab:blue",
                  label="training (compute time)")
        rates.bar([x + 0.2 for x in positions], wall, width=0.4, color="tab:gray",
                  label="wall clock (whole chunk)")
        rates.set_xticks(positions, labels)
        rates.set_xlabel("chunk")
        rates.set_ylabel("iterations / s")
        rates.yaxis.set_major_formatter(EngFormatter(sep=""))
        rates.set_title("Iterations per second, per chunk")
        rates.set_ylim(0, max([*compute, *wall]) * 1.35)  # room for the legend
        rates.legend(fontsize="small", loc="upper left")
        _time_breakdown(times, chunks, positions, labels)
    if not _line(intervals, data["series"].get("iterations_per_second"), "rate"):
        _finish(intervals, "Rate per logging interval", "", [],
                empty="no TensorBoard rate logged")
    else:
        _finish(intervals, "Rate per logging interval (compute time)", "iterations / s",
                data["boundaries"])
        series = data["series"]["iterations_per_second"]
        intervals.set_ylim(0, max(series["values"]) * 1.35)
        intervals.yaxis.set_major_formatter(EngFormatter(sep=""))
        if chunks and chunks[0]["start_iteration"] == 0 and series["steps"][0] <= \
                chunks[0]["end_iteration"]:
            intervals.annotate("includes numba compilation", (series["steps"][0],
                               series["values"][0]), xytext=(12, 24),
                               textcoords="offset points", fontsize="x-small",
                               arrowprops={"arrowstyle": "->", "color": "0.4"})
    return figure


def _time_breakdown(ax: Axes, chunks: list[dict[str, Any]], positions: list[int],
                    labels: list[str]) -> None:
    """Stacked bars: where each chunk's wall-clock seconds went."""
    parts: dict[str, list[float]] = {
        "first batch (numba compile / cache load)": [], "training": [],
        "evaluation (matches, LBR)": [], "other (start, resume, checkpoints)": []}
    for chunk in chunks:
        first = chunk["first_batch_seconds"] or 0.0
        compute = chunk["compute_seconds"] or 0.0
        evaluation = chunk["evaluation_seconds"] or 0.0
        parts["first batch (numba compile / cache load)"].append(first)
        parts["training"].append(max(compute - first, 0.0))
        parts["evaluation (matches, LBR)"].append(evaluation)
        parts["other (start, resume, checkpoints)"].append(
            max(chunk["seconds"] - max(compute, first) - evaluation, 0.0))
    bottom = [0.0] * len(chunks)
    colors = ("tab:orange", "tab:blue", "tab:green", "0.7")
    total = sum(chunk["seconds"] for chunk in chunks)
    for (name, values), color in zip(parts.items(), colors, strict=True):
        if sum(values) > 0.002 * total:  # a part too thin to see gets no legend entry
            ax.bar(positions, values, bottom=bottom, color=color, label=name)
            bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    ax.set_xticks(positions, labels)
    ax.set_xlabel("chunk")
    ax.set_ylabel("seconds")
    ax.set_title("Time per chunk")
    ax.set_ylim(0, max(bottom) * 1.45)  # room for the legend
    ax.legend(fontsize="x-small", loc="upper right")


def plot_memory(data: Mapping[str, Any]) -> Figure:
    """Peak memory of each chunk's process (flat: each chunk starts a fresh process) and peak
    memory against iterations; both axes start at 0, and the title states the change."""
    figure = Figure(figsize=(10, 3.8), layout="constrained")
    left, right = figure.subplots(1, 2)
    chunks = data["chunks"]
    if chunks:
        peaks = [c["peak_rss_mb"] for c in chunks]
        left.bar([str(c["index"]) for c in chunks], peaks, color="tab:blue")
        left.set_xlabel("chunk")
        left.set_ylabel("peak RSS (MiB)")
        left.set_ylim(0, max(peaks) * 1.15)
        left.set_title(f"Peak memory of each chunk{_change(peaks)}")
    else:
        _finish(left, "Peak memory of each chunk", "", [], empty="no finished chunk")
    series = data["series"].get("peak_rss_mb")
    if not _line(right, series, "peak RSS"):
        _finish(right, "Peak memory while training", "", [], empty="no memory logged")
    else:
        assert series is not None
        _finish(right, f"Peak memory while training{_change(series['values'])}", "MiB",
                data["boundaries"])
        right.set_ylim(0, max(series["values"]) * 1.15)
    return figure


def _change(values: list[float]) -> str:
    """A second title line ``+3 MiB (+2.1%) first to last``; nothing for fewer than two
    values."""
    if len(values) < 2 or values[0] <= 0:
        return ""
    delta = values[-1] - values[0]
    return f"\n{delta:+.0f} MiB ({100 * delta / values[0]:+.1f}%) first to last"


def plot_schedules(data: Mapping[str, Any]) -> Figure:
    """The exploration epsilon (outcome sampling only: external sampling never explores) and
    the discount factors over the run."""
    figure = Figure(figsize=(10, 3.8), layout="constrained")
    left, right = figure.subplots(1, 2)
    sampling = data["config"].get("sampling", "external")
    if sampling != "outcome":
        _finish(left, "Exploration epsilon", "", [],
                empty=f"not used: {sampling} sampling never explores")
    elif not _line(left, data["series"].get("epsilon"), "epsilon"):
        _finish(left, "Exploration epsilon", "", [], empty="no epsilon logged")
    else:
        _finish(left, "Exploration epsilon", "epsilon", data["boundaries"])
        left.set_ylim(0, 1.05)
    drawn = False
    for name in sorted(k for k in data["series"] if k.startswith("discount/")):
        drawn |= _line(right, data["series"][name], name.split("/", 1)[1])
    if not drawn:
        mode = data["config"].get("discount_mode", "none")
        _finish(right, "Discount factors", "", [],
                empty="none: discount_mode is none" if mode == "none" else "nothing logged")
    else:
        _finish(right, "Discount factors of the latest step", "factor", data["boundaries"])
    return figure


def plot_elapsed(data: Mapping[str, Any]) -> Figure:
    """Training time against iterations, summed over chunks."""
    figure = Figure(figsize=(8, 4), layout="constrained")
    ax = figure.subplots()
    if not _line(ax, data["series"].get("elapsed_seconds"), "elapsed"):
        _finish(ax, "Elapsed training time", "", [], empty="no elapsed time logged")
    else:
        _finish(ax, "Elapsed training time", "seconds", data["boundaries"])
    return figure


def plot_evaluation(data: Mapping[str, Any]) -> Figure:
    """Hold'em: the blueprint's winnings against each baseline agent (duplicate deals; with 3 to
    6 players, one blueprint seat against the baseline in every other seat, over every rotation;
    mbb/hand with 95% confidence intervals) at the end of every chunk."""
    figure = Figure(figsize=(8, 4), layout="constrained")
    ax = figure.subplots()
    drawn = False
    shown = [(name, series) for name, series in sorted(data["series"].items())
             if name.startswith("evaluation/") and series["steps"]]
    for position, (name, series) in enumerate(shown):
        ax.errorbar(_dodge(series["steps"], position, len(shown), data["iteration"]),
                    series["values"], yerr=series["ci95"], marker="o", capsize=3,
                    label=f"vs {name.removeprefix('evaluation/')}")
        drawn = True
    if not drawn:
        reason = ("Hold'em runs only (Kuhn and Leduc: see exploitability)"
                  if data["game"] != "holdem" else "no match recorded (evaluation_deal_pairs)")
        _finish(ax, "Blueprint against baseline agents", "", [], empty=reason)
        return figure
    ax.axhline(0.0, color="black", linewidth=0.8)
    # Every match is played where a chunk ends: boundary lines would run through the bars.
    players = int(data["config"].get("num_players") or 2)
    title = ("Blueprint against baseline agents, at the end of each chunk" if players == 2 else
             f"{players}-player: blueprint seat against baseline agents (every rotation), "
             "at the end of each chunk")
    _finish(ax, title, "mbb/hand", [])
    return figure


def _dodge(steps: list[int], position: int, count: int, span: int) -> list[float]:
    """``steps`` moved a little sideways, so that series measured at the same iterations do
    not draw their error bars over each other."""
    shift = (position - (count - 1) / 2) * 0.012 * max(span, 1)
    return [step + shift for step in steps]


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


# --------------------------------------------------------------------------------------------
# Several runs overlaid


def run_labels(runs: Sequence[Mapping[str, Any]]) -> list[str]:
    """A short distinct label per run: its directory name, with its parent's where two
    directories share a name."""
    paths = [Path(run["run_dir"]) for run in runs]
    names = [path.name for path in paths]
    return [f"{path.parent.name}/{path.name}" if names.count(path.name) > 1 else path.name
            for path in paths]


def compare_runs(runs: Sequence[str | os.PathLike[str] | Mapping[str, Any]]
                 ) -> dict[str, Figure]:
    """Two or more runs overlaid, one colour per run: exploitability (Kuhn/Leduc) or the
    matches against baselines (heads-up Hold'em), speed per logging interval and per chunk,
    and peak memory. ``runs`` are run directories or :func:`load_run` results. Returns
    ``{"compare_exploitability" | "compare_evaluation", "compare_speed", "compare_memory":
    Figure}`` (the evaluation figure when some run recorded matches); ValueError for fewer
    than two runs."""
    if len(runs) < 2:
        raise ValueError(f"compare_runs needs two or more runs, got {len(runs)}")
    loaded = [run if isinstance(run, Mapping) else load_run(run) for run in runs]
    labels = run_labels(loaded)
    figures = {"compare_exploitability": _compare_exploitability(loaded, labels)}
    if any(name.startswith("evaluation/") for run in loaded for name in run["series"]):
        figures["compare_evaluation"] = _compare_evaluation(loaded, labels)
    figures["compare_speed"] = _compare_speed(loaded, labels)
    figures["compare_memory"] = _compare_memory(loaded, labels)
    return figures


def _compare_exploitability(runs: list[Mapping[str, Any]], labels: list[str]) -> Figure:
    figure = Figure(figsize=(8, 4), layout="constrained")
    ax = figure.subplots()
    if not any(run["series"].get("exploitability", {}).get("steps") for run in runs) \
            and any(run["series"].get("lbr") for run in runs):
        missing = []
        for run, label in zip(runs, labels, strict=True):
            if run["series"].get("lbr"):
                _lbr_band(ax, run["series"]["lbr"], label)
            else:
                missing.append(label)
        title = "Local best response" + (f" (not measured: {', '.join(missing)})"
                                         if missing else "")
        _finish(ax, title, "mbb/hand", [])
        return figure
    drawn = [_line(ax, run["series"].get("exploitability"), label)
             for run, label in zip(runs, labels, strict=True)]
    if not any(drawn):
        _finish(ax, "Exploitability", "", [], empty="no run measured it (exact for Kuhn and "
                "Leduc only; Hold'em: see the matches)")
        return figure
    values = [v for run in runs for v in run["series"].get("exploitability", {}).get(
        "values", [])]
    log = _positive(values)
    if log:
        log_values(ax)
    missing = [label for label, shown in zip(labels, drawn, strict=True) if not shown]
    title = "Exploitability" + (f" (not measured: {', '.join(missing)})" if missing else "")
    _finish(ax, title, "exploitability (chips per hand)", [], log_x=log)
    return figure


def _compare_evaluation(runs: list[Mapping[str, Any]], labels: list[str]) -> Figure:
    baselines = sorted({name for run in runs for name in run["series"]
                        if name.startswith("evaluation/")})
    figure = Figure(figsize=(4.5 * len(baselines), 4), layout="constrained")
    axes = figure.subplots(1, len(baselines), squeeze=False)[0]
    for ax, name in zip(axes, baselines, strict=True):
        span = max(run["iteration"] for run in runs)
        for position, (run, label) in enumerate(zip(runs, labels, strict=True)):
            series = run["series"].get(name)
            if series and series["steps"]:
                ax.errorbar(_dodge(series["steps"], position, len(runs), span),
                            series["values"], yerr=series["ci95"], marker="o", capsize=3,
                            label=label)
        ax.axhline(0.0, color="black", linewidth=0.8)
        _finish(ax, f"vs {name.removeprefix('evaluation/')}", "mbb/hand", [])
    return figure


def _compare_speed(runs: list[Mapping[str, Any]], labels: list[str]) -> Figure:
    figure = Figure(figsize=(11, 4), layout="constrained")
    intervals, chunks = figure.subplots(1, 2)
    drawn = [_line(intervals, run["series"].get("iterations_per_second"), label)
             for run, label in zip(runs, labels, strict=True)]
    if any(drawn):
        _finish(intervals, "Rate per logging interval (compute time)", "iterations / s", [])
        intervals.set_ylim(bottom=0)
        intervals.yaxis.set_major_formatter(EngFormatter(sep=""))
    else:
        _finish(intervals, "Rate per logging interval", "", [],
                empty="no run logged it to TensorBoard")
    any_chunk = False
    for run, label in zip(runs, labels, strict=True):
        rows = [c for c in run["chunks"] if c["compute_iterations_per_second"]]
        if rows:
            chunks.plot([c["index"] for c in rows],
                        [c["compute_iterations_per_second"] for c in rows], marker="o",
                        label=label)
            any_chunk = True
    if any_chunk:
        chunks.set_title("Training rate per chunk\n(compute time; chunk 0 includes compilation)")
        chunks.set_xlabel("chunk")
        chunks.set_ylabel("iterations / s")
        chunks.xaxis.set_major_locator(MaxNLocator(integer=True))
        chunks.set_ylim(bottom=0)
        chunks.yaxis.set_major_formatter(EngFormatter(sep=""))
        chunks.legend(fontsize="small")
    else:
        _finish(chunks, "Training rate per chunk", "", [], empty="no finished chunk")
    return figure


def _compare_memory(runs: list[Mapping[str, Any]], labels: list[str]) -> Figure:
    figure = Figure(figsize=(8, 4), layout="constrained")
    ax = figure.subplots()
    drawn = [_line(ax, run["series"].get("peak_rss_mb"), label)
             for run, label in zip(runs, labels, strict=True)]
    if not any(drawn):
        _finish(ax, "Peak memory", "", [], empty="no run logged it")
        return figure
    _finish(ax, "Peak memory while training", "MiB", [])
    peaks = [v for run in runs for v in run["series"].get("peak_rss_mb", {}).get("values", [])]
    ax.set_ylim(0, max(peaks) * 1.3)  # from 0, with room for the legend
    return figure


def analyze_run(run_dir: str | os.PathLike[str],
                output_dir: str | os.PathLike[str] | None = None) -> dict[str, Any]:
    """Load a run, draw every figure and save the PNGs (by default in ``<run>/analysis``).

    Returns ``{"data", "summary", "figures"}`` with ``figures`` mapping names to PNG paths."""
    data = load_run(run_dir)
    out = Path(output_dir) if output_dir else RunDir(run_dir).analysis
    paths = save_figures(make_figures(data), out)
    return {"data": data, "summary": summarize(data), "figures": paths}
