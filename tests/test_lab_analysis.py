"""The analysis library: a run across chunks as plain data (from checkpoint metadata and
TensorBoard) and as PNG figures with the chunk boundaries marked."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from matplotlib.patches import Rectangle

from holdem_lab import MCCFRConfig
from holdem_lab.chunks import ChunkResult, ChunkStatus, run_chunk
from holdem_lab.config import GameSpec
from holdem_lab.errors import CheckpointError
from holdem_lab.lab.analysis import (
    FIGURES,
    analyze_run,
    format_summary,
    load_run,
    make_figures,
    summarize,
)
from holdem_lab.lab.chunk import chunk_summary, plot_chunk_summary
from holdem_lab.lab.chunk import format_summary as format_chunk_summary

CONFIG = MCCFRConfig(num_iterations=300, enable_chunked_training=True, chunk_size_iterations=100,
                     exploitability_interval=50, tensorboard_log_interval=25,
                     discount_mode="dcfr", discount_interval=7, seed=5)


def _train(logdir: Path, tensorboard: bool = True) -> list[ChunkResult]:
    results = []
    for _ in range(5):
        result = run_chunk(logdir, GameSpec(game="leduc"), CONFIG, progress=False,
                           tensorboard=tensorboard,
                           extra_metadata={"notebook": {"kernel_pid": 4242}})
        results.append(result)
        if result.status is ChunkStatus.COMPLETE:
            return results
    raise AssertionError("the run did not complete")


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    logdir = tmp_path_factory.mktemp("analysis") / "run"
    _train(logdir)
    return logdir


def test_load_run_gathers_chunks_boundaries_and_series(run: Path) -> None:
    data = load_run(run)
    assert data["game"] == "leduc" and data["iteration"] == 300
    assert [(c["index"], c["start_iteration"], c["end_iteration"]) for c in data["chunks"]] == \
        [(0, 0, 100), (1, 100, 200), (2, 200, 300)]
    assert data["boundaries"] == [100, 200]
    assert [row["iteration"] for row in data["checkpoints"]] == [100, 200, 300]
    assert all(row["kernel_pid"] == 4242 for row in data["checkpoints"])
    series = data["series"]
    exploitability = series["exploitability"]
    assert exploitability["source"] == "tensorboard"
    assert exploitability["steps"] == [50, 100, 150, 200, 250, 300]
    assert exploitability["values"][-1] < exploitability["values"][0]
    assert {"regret/round0", "regret/round1"} <= set(series)
    assert series["regret/round1"]["steps"] == list(range(25, 301, 25))
    assert series["epsilon"]["values"] == pytest.approx([0.6] * 12)
    assert {k for k in series if k.startswith("discount/")} == \
        {"discount/regret_positive", "discount/regret_negative", "discount/strategy"}
    elapsed = series["elapsed_seconds"]["values"]
    assert elapsed == sorted(elapsed)
    assert all(v > 0 for v in series["peak_rss_mb"]["values"])
    assert all(c["peak_rss_mb"] > 0 and c["iterations_per_second"] > 0 for c in data["chunks"])
    json.dumps(data)  # plain data all the way down


def test_metadata_is_the_fallback_without_tensorboard(tmp_path: Path) -> None:
    _train(tmp_path, tensorboard=False)
    data = load_run(tmp_path)
    assert data["tensorboard_tags"] == []
    exploitability = data["series"]["exploitability"]
    assert exploitability["source"] == "metadata"
    assert exploitability["steps"] == [100, 200, 300]
    assert data["series"]["regret/round0"]["steps"] == [100, 200, 300]
    assert "iterations_per_second" not in data["series"]  # only TensorBoard has it


def test_summary_reports_flat_memory_and_progress(run: Path) -> None:
    summary = summarize(load_run(run))
    assert summary["complete"] and summary["chunks"] == 3 and summary["checkpoints"] == 3
    assert len(summary["peak_rss_mb_by_chunk"]) == 3
    # Chunks run in one process here, so peak RSS can only grow, but only a little.
    assert 1.0 <= summary["memory_ratio"] < 1.5
    assert summary["final_exploitability"] < summary["first_exploitability"]
    text = format_summary(summary)
    assert "iteration: 300 of 300 (complete)" in text and "chunks: 3" in text


def test_figures_mark_chunk_boundaries_and_are_saved_as_png(run: Path, tmp_path: Path) -> None:
    data = load_run(run)
    figures = make_figures(data)
    assert set(figures) == set(FIGURES)
    for name in ("exploitability", "regret", "elapsed"):
        ax = figures[name].axes[0]
        boundaries = [np.asarray(line.get_xdata())[0] for line in ax.lines
                      if line.get_linestyle() == "--"]
        assert boundaries == [100, 200], name
    ax = figures["exploitability"].axes[0]
    assert ax.get_yscale() == "log"
    steps = np.asarray(ax.lines[0].get_xdata()).tolist()
    assert steps == data["series"]["exploitability"]["steps"]
    bars = [bar for bar in figures["memory"].axes[0].patches if isinstance(bar, Rectangle)]
    assert [bar.get_height() for bar in bars] == \
        pytest.approx([c["peak_rss_mb"] for c in data["chunks"]])

    result = analyze_run(run, tmp_path / "out")
    assert set(result["figures"]) == set(FIGURES)
    for path in result["figures"].values():
        assert path.parent == tmp_path / "out"
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not list((tmp_path / "out").glob(".*"))  # no temp files left
    assert result["summary"]["iteration"] == 300


def test_altered_metadata_is_skipped_and_reported(run: Path, tmp_path: Path) -> None:
    import shutil

    copy = tmp_path / "run"
    shutil.copytree(run, copy)
    path = copy / "checkpoints" / f"checkpoint_iter{200:012d}_metadata.json"
    meta = json.loads(path.read_text())
    meta["elapsed_seconds"] = 1e9  # altered without updating its self-hash
    path.write_text(json.dumps(meta))
    data = load_run(copy)
    assert [row["iteration"] for row in data["checkpoints"]] == [100, 300]
    assert len(data["problems"]) == 1 and "altered" in data["problems"][0]


def test_a_run_without_checkpoints_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(CheckpointError, match="holds no readable checkpoint"):
        load_run(tmp_path)


def test_a_run_whose_every_checkpoint_is_broken_is_one_short_line(run: Path,
                                                                   tmp_path: Path) -> None:
    copy = tmp_path / "run"
    shutil.copytree(run, copy)
    for path in sorted((copy / "checkpoints").glob("*_metadata.json")):
        path.write_text("{" + "x" * 5000)
    with pytest.raises(CheckpointError) as caught:
        load_run(copy)
    message = str(caught.value)
    assert "\n" not in message and len(message) < 600, message
    assert "checkpoint_iter000000000300" in message  # the newest is named
    assert "and 2 older checkpoints with problems" in message


def test_chunk_summary_of_the_last_chunk(tmp_path: Path) -> None:
    results = _train(tmp_path)
    summary = chunk_summary(results[-1], tmp_path)
    assert summary["status"] == "complete"
    assert (summary["start_iteration"], summary["iteration"]) == (200, 300)
    assert summary["history"]["iteration"] == [100, 200, 300]
    assert all(v is not None for v in summary["history"]["exploitability"])
    assert set(summary["history"]["average_regret"]) == {"round0", "round1"}
    assert "chunk 2: iterations 200 -> 300 (100 trained)" in format_chunk_summary(summary)
    # Training is part of the chunk's time; its own rate is the kernels'.
    assert 0 < summary["training_seconds"] <= summary["chunk_seconds"]
    assert summary["training_iterations_per_second"] >= summary["iterations_per_second"]
    assert "s of it training, at " in format_chunk_summary(summary)
    figure = plot_chunk_summary(summary)
    assert len(figure.axes) == 2
    assert np.asarray(figure.axes[0].lines[0].get_xdata()).tolist() == [100, 200, 300]
