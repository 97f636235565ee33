"""Every figure the analysis and the explorer draw, for Kuhn, Leduc and heads-up Hold'em runs:
saved under ``test-artifacts/figures/`` to be looked at, and checked for what a reader trips
over: an empty panel that does not say why, text running into other text, speed and memory
axes that hide or inflate the change they are about."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.text import Text

from holdem_lab import MCCFRConfig
from holdem_lab.chunks import ChunkResult, ChunkStatus, run_chunk
from holdem_lab.chunks.tensorboard import read_scalars
from holdem_lab.config import GameSpec
from holdem_lab.lab.analysis import (
    CHUNK_BOUNDARY,
    NO_DATA,
    compare_runs,
    load_run,
    make_figures,
    save_figures,
)
from holdem_lab.lab.chunk import chunk_summary, plot_chunk_summary
from holdem_lab.lab.explore import render_figure
from holdem_lab.lab.runfiles import game_of, load_policy
from holdem_lab.lab.views import views_for
from holdem_lab.rundir import RunDir

ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts" / "figures"
SMALL_MENU = {"bet_sizes": [[1.0], [1.0], [1.0], [1.0]], "max_raises": [2, 1, 1, 1]}

RUNS: dict[str, tuple[GameSpec, MCCFRConfig]] = {
    "kuhn": (GameSpec(game="kuhn"), MCCFRConfig(
        num_iterations=3000, enable_chunked_training=True, chunk_size_iterations=1000,
        tensorboard_log_interval=100, exploitability_interval=250, seed=1)),
    "leduc": (GameSpec(game="leduc"), MCCFRConfig(
        num_iterations=3000, enable_chunked_training=True, chunk_size_iterations=1000,
        tensorboard_log_interval=100, exploitability_interval=250, sampling="outcome",
        epsilon_schedule=((0, 0.6), (1500, 0.3)), discount_mode="dcfr", discount_interval=50,
        seed=2)),
    "holdem": (GameSpec(game="holdem", game_params={"bet_sizing": SMALL_MENU}), MCCFRConfig(
        num_iterations=3000, enable_chunked_training=True, chunk_size_iterations=1000,
        tensorboard_log_interval=100, evaluation_deal_pairs=100, lbr_hands=50,
        discount_mode="linear", discount_interval=100, seed=3)),
}


@dataclass(frozen=True)
class Trained:
    path: Path
    last: ChunkResult


def _train(logdir: Path, spec: GameSpec, config: MCCFRConfig) -> Trained:
    for _ in range(5):
        result = run_chunk(logdir, spec, config, progress=False, out=_Discard())
        if result.status is ChunkStatus.COMPLETE:
            return Trained(logdir, result)
    raise AssertionError("the run did not complete")


class _Discard:
    def write(self, text: str) -> int:
        return len(text)

    def flush(self) -> None:
        pass


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Trained]:
    root = tmp_path_factory.mktemp("figures")
    # LBR's kernels compiled (or loaded from numba's cache) before any chunk is timed: the
    # speed figure shows chunk 0's own first batch, not a one-off compilation of the evaluator.
    from holdem_lab.eval.lbr import local_best_response
    from holdem_lab.games import build_game

    game = build_game(RUNS["holdem"][0])
    local_best_response(game, np.full((game.num_rows, game.max_actions), 1.0), deal_pairs=2)
    return {name: _train(root / name, *settings) for name, settings in RUNS.items()}


def _data_axes(figure: Figure) -> list[Axes]:
    """The panels of a figure: colorbars and unused grid slots are not panels."""
    return [ax for ax in figure.axes if ax.axison and not hasattr(ax, "_colorbar")]


def _has_data(ax: Axes) -> bool:
    lines = [line for line in ax.lines if line.get_gid() != CHUNK_BOUNDARY]
    return bool(lines or ax.patches or ax.collections or ax.images)


def _empty_panels_without_reason(figure: Figure) -> list[str]:
    return [ax.get_title() or "(untitled)" for ax in _data_axes(figure)
            if not _has_data(ax) and NO_DATA not in ax.get_title()]


def _drawn_texts(figure: Figure) -> list[Text]:
    """The texts a reader sees: titles, axis labels, texts, legends, and the tick labels of
    ticks inside the view (an axis keeps labels for ticks outside it, which are not drawn)."""
    texts: list[Text] = list(figure.texts)
    for ax in figure.axes:
        if not ax.axison:
            continue
        texts += [ax.title, ax._left_title, ax._right_title, *ax.texts]  # type: ignore[attr-defined]
        legend = ax.get_legend()
        if legend is not None:
            texts += legend.get_texts()
        for axis in (ax.xaxis, ax.yaxis):
            texts += [axis.label, axis.get_offset_text()]
            low, high = sorted(axis.get_view_interval())
            span = (high - low) * 1e-9
            for tick in [*axis.get_major_ticks(), *axis.get_minor_ticks()]:
                if low - span <= tick.get_loc() <= high + span and tick.label1.get_visible():
                    texts.append(tick.label1)
    return [t for t in texts if t.get_visible() and t.get_text().strip()]


def _overlapping_text(figure: Figure) -> list[tuple[str, str]]:
    """Pairs of drawn texts whose boxes intersect (by more than a pixel)."""
    renderer = FigureCanvasAgg(figure).get_renderer()
    figure.draw(renderer)
    boxes = []
    for text in _drawn_texts(figure):
        box = text.get_window_extent(renderer)
        boxes.append((text.get_text(), box.x0 + 1, box.y0 + 1, box.x1 - 1, box.y1 - 1))
    if not boxes:
        return []
    x0, y0, x1, y1 = (np.array([b[k] for b in boxes]) for k in range(1, 5))
    overlap = ((x0[:, None] < x1[None, :]) & (x0[None, :] < x1[:, None])
               & (y0[:, None] < y1[None, :]) & (y0[None, :] < y1[:, None]))
    np.fill_diagonal(overlap, False)
    return [(boxes[i][0], boxes[j][0]) for i, j in zip(*np.nonzero(np.triu(overlap)),
                                                       strict=True)]


def _clipped_text(figure: Figure) -> list[str]:
    """Drawn texts that run past the figure's edge (a title cut off mid-word)."""
    renderer = FigureCanvasAgg(figure).get_renderer()
    figure.draw(renderer)
    width, height = figure.bbox.width, figure.bbox.height
    clipped = []
    for text in _drawn_texts(figure):
        box = text.get_window_extent(renderer)
        if box.x0 < -1 or box.y0 < -1 or box.x1 > width + 1 or box.y1 > height + 1:
            clipped.append(text.get_text())
    return clipped


def _check(figure: Figure, where: str) -> None:
    assert not _empty_panels_without_reason(figure), where
    overlapping = _overlapping_text(figure)
    assert not overlapping, f"{where}: overlapping text {overlapping[:5]}"
    clipped = _clipped_text(figure)
    assert not clipped, f"{where}: text past the figure's edge {clipped[:5]}"


@pytest.mark.parametrize("game", list(RUNS))
def test_analysis_figures_are_readable(runs: dict[str, Trained], game: str) -> None:
    data = load_run(runs[game].path)
    figures = make_figures(data)
    save_figures(figures, ARTIFACTS / game / "analysis")
    for name, figure in figures.items():
        _check(figure, f"{game}/{name}")

    # Average regret decays as a power of t: log-log axes.
    regret = figures["regret"].axes[0]
    assert (regret.get_xscale(), regret.get_yscale()) == ("log", "log")
    # Epsilon only for outcome sampling; under external sampling the panel says it is unused.
    epsilon = figures["schedules"].axes[0]
    if data["config"]["sampling"] == "outcome":
        assert _has_data(epsilon)
    else:
        assert not _has_data(epsilon) and "not used" in epsilon.get_title()
    # Memory starts at 0 and its title states the change, however small.
    for ax in figures["memory"].axes:
        assert ax.get_ylim()[0] == 0
        assert "%) first to last" in ax.get_title()
    # Speed: the logged rate is over each interval, not a running average that only climbs.
    tags = read_scalars(RunDir(runs[game].path).tensorboard)
    logged = [value for _, value in tags["train/iterations_per_second"]]
    compute = sum(c["compute_seconds"] for c in data["chunks"])
    iterations = data["iteration"]
    interval = RUNS[game][1].tensorboard_log_interval
    # Each logged rate covers `interval` iterations: their times add up to the compute time.
    assert sum(interval / rate for rate in logged) == pytest.approx(compute, rel=0.02)
    assert len(logged) == iterations // interval
    # The per-chunk breakdown shows chunk 0's first batch (compilation) apart from training.
    speed = figures["speed"]
    legend = speed.axes[1].get_legend()
    assert legend is not None
    assert "first batch (numba compile / cache load)" in [t.get_text()
                                                          for t in legend.get_texts()]
    # The chunk notebook's own figure, with the same rules.
    summary = plot_chunk_summary(chunk_summary(runs[game].last, runs[game].path))
    summary.savefig(ARTIFACTS / game / "analysis" / "chunk_summary.png", dpi=100)
    _check(summary, f"{game}/chunk summary")
    if game == "holdem":
        assert all(c["evaluation_seconds"] > 0 for c in data["chunks"])
        assert _has_data(figures["evaluation"].axes[0])
    else:
        assert NO_DATA in figures["evaluation"].axes[0].get_title()


@pytest.mark.parametrize("game", list(RUNS))
def test_explorer_figures_are_readable(runs: dict[str, Trained], game: str) -> None:
    run = RunDir(runs[game].path)
    records, _ = run.records()
    game_object = game_of(records[-1].metadata)
    policy = load_policy(records[-1])
    first = load_policy(records[0])
    directory = ARTIFACTS / game / "explore"
    directory.mkdir(parents=True, exist_ok=True)
    for view in views_for(game_object):
        choices = view.choices(game_object)
        for label, choice in itertools.islice(choices, 2):
            for baseline in (None, first):
                panels = view.panels(game_object, policy, choice, baseline)
                figure = render_figure(panels)
                stem = f"{view.name}_{choice}{'_change' if baseline is not None else ''}"
                figure.savefig(directory / f"{stem.replace(' ', '_')}.png", dpi=80)
                _check(figure, f"{game}/{view.name}/{label}")


def test_compare_runs_overlays_runs(runs: dict[str, Trained], tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="two or more runs"):
        compare_runs([runs["leduc"].path])
    second = tmp_path / "leduc_b"
    spec, config = RUNS["leduc"]
    _train(second, spec, config.replace(seed=9))
    figures = compare_runs([runs["leduc"].path, second, runs["kuhn"].path])
    assert set(figures) == {"compare_exploitability", "compare_speed", "compare_memory"}
    save_figures(figures, ARTIFACTS / "compare")
    for name, figure in figures.items():
        _check(figure, name)
    legend = figures["compare_exploitability"].axes[0].get_legend()
    assert legend is not None
    assert [t.get_text() for t in legend.get_texts()] == ["leduc", "leduc_b", "kuhn"]
    exploitability = figures["compare_exploitability"].axes[0]
    drawn = [np.asarray(line.get_ydata()).tolist() for line in exploitability.lines]
    assert drawn[0] == load_run(runs["leduc"].path)["series"]["exploitability"]["values"]
    assert drawn[1] == load_run(second)["series"]["exploitability"]["values"]
    assert drawn[0] != drawn[1]  # another seed, another curve
    assert len(figures["compare_memory"].axes[0].lines) == 3

    with_holdem = compare_runs([runs["holdem"].path, runs["leduc"].path])
    assert "compare_evaluation" in with_holdem
    title = with_holdem["compare_exploitability"].axes[0].get_title()
    assert "not measured: holdem" in title
    for name, figure in with_holdem.items():
        _check(figure, name)
    save_figures(with_holdem, ARTIFACTS / "compare_holdem")
