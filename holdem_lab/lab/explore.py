"""Browse a run's strategies with widgets (the library behind ``notebooks/explore.ipynb``).

:class:`Explorer` holds a few ipywidgets wired with observers: a run picker, a slider over the
run's checkpoints, a view menu and its picker (from :func:`holdem_lab.lab.views.views_for`, so
Hold'em views plug in without changes here), and a "change since" toggle with a second slider
to compare two checkpoints. Every change re-renders: ``explorer.panels`` holds the data shown
(plain :class:`~holdem_lab.lab.views.Panel` grids), ``explorer.table`` an HTML table of it and
``explorer.image`` a PNG heatmap. ``render_count`` counts renders, so code (and tests) can
drive the widgets by setting ``.value`` and check what happened.

Policies are read from the checkpoints' policy files only (see
:mod:`holdem_lab.lab.runfiles`) and cached per checkpoint.
"""

from __future__ import annotations

import html
import io
import math
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import ipywidgets as widgets
import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import PercentFormatter

from holdem_lab.errors import HoldemLabError
from holdem_lab.games import Game
from holdem_lab.lab.runfiles import game_of, load_policy
from holdem_lab.lab.views import CHANGE, Panel, StrategyView, views_for
from holdem_lab.rundir import CheckpointRecord, RunDir, summarize_problems

POLICY_CACHE_SIZE = 4
"""Policies kept in memory by an Explorer (the current and baseline checkpoints, and two
more for quick back-and-forth)."""

MAX_ANNOTATED_CELLS = 400
"""Heatmaps with at most this many cells print their values in the cells."""


def discover_runs(root: str | os.PathLike[str]) -> list[str]:
    """Run directories under ``root`` (itself included): those with a ``checkpoints``
    directory holding checkpoint metadata."""
    root = Path(root)
    if not root.is_dir():
        return []
    candidates = [root, *sorted(p for p in root.iterdir() if p.is_dir())]
    return [str(p) for p in candidates if RunDir.is_run(p)]


def render_html(panels: Sequence[Panel], digits: int = 3) -> str:
    """The panels as HTML tables (values rounded; blank where an action does not apply)."""
    parts = []
    for panel in panels:
        head = "".join(f"<th>{html.escape(c)}</th>" for c in panel.column_labels)
        rows = []
        for label, values in zip(panel.row_labels, panel.values, strict=True):
            cells = "".join(
                "<td></td>" if np.isnan(v) else
                f"<td style='text-align:right'>{v:+.{digits}f}</td>" if panel.kind == CHANGE
                else f"<td style='text-align:right'>{v:.{digits}f}</td>" for v in values)
            rows.append(f"<tr><th style='text-align:left'>{html.escape(label)}</th>{cells}</tr>")
        parts.append(f"<h4>{html.escape(panel.title)}</h4><table><tr><th></th>{head}</tr>"
                     + "".join(rows) + "</table>")
    return "\n".join(parts)


PANELS_PER_ROW = 3
"""Heatmaps side by side before the next row starts: more would squeeze the cells until
their values overlap."""

MAX_WIDTH = 16.0
"""Inches: wider rows of heatmaps wrap (an image wider than a notebook scrolls sideways)."""

MAX_HEIGHT = 16.0
"""Inches: a taller heatmap labels every k-th row instead of growing."""

LABEL_POINTS = 9.0
"""The height a row label needs (an x-small font and its spacing)."""

PERCENT_COLUMNS = 6
"""Probability grids with more columns than this print percentages ("85"), which fit a cell,
rather than "0.85"."""


def _cell_text(value: float, change: bool, percent: bool) -> str:
    if percent:
        rounded = round(100 * value) + 0  # + 0 turns -0 into 0
        return f"{rounded:+d}" if change and rounded else f"{rounded:d}"
    return f"{value:+.2f}" if change else f"{value:.2f}"


def render_figure(panels: Sequence[Panel]) -> Figure:
    """The panels as heatmaps, at most :data:`PANELS_PER_ROW` to a row: probabilities on a
    white-to-blue scale in [0, 1], changes on a diverging scale in [-1, 1]. Cells are sized for
    the values they print (percentages for wide grids), so labels never run into each other."""
    count = max(len(panels), 1)
    widest = max((len(p.column_labels) for p in panels), default=1)
    tallest = max((len(p.row_labels) for p in panels), default=1)
    label_width = max((len(label) for p in panels for label in p.row_labels), default=1)
    annotated = any(p.values.size <= MAX_ANNOTATED_CELLS for p in panels)
    cell_width = 0.38 if annotated else 0.3
    cell_height = 0.3 if annotated else 0.2
    panel_width = 1.8 + 0.06 * label_width + cell_width * widest
    panel_height = 1.3 + cell_height * tallest
    per_row = max(1, min(count, PANELS_PER_ROW, int(MAX_WIDTH // panel_width)))
    rows = -(-count // per_row)
    height = min(panel_height * rows, MAX_HEIGHT)
    figure = Figure(figsize=(min(panel_width * per_row, MAX_WIDTH), height),
                    layout="constrained")
    # A label per row while they fit, else every k-th: never one label over the next.
    room = (height / rows - 1.3) * 72.0
    stride = max(1, math.ceil(tallest * LABEL_POINTS / max(room, LABEL_POINTS)))
    axes = np.atleast_1d(figure.subplots(rows, per_row, squeeze=False).ravel())
    for ax, panel in zip(axes, panels, strict=False):
        change = panel.kind == CHANGE
        percent = len(panel.column_labels) > PERCENT_COLUMNS
        image = ax.imshow(np.ma.masked_invalid(panel.values), aspect="auto",
                          cmap="RdBu" if change else "Blues",
                          vmin=-1.0 if change else 0.0, vmax=1.0)
        labelled = range(0, len(panel.row_labels), stride)
        ax.set_title(panel.title + (f"\n(a label every {stride} rows)" if stride > 1 else ""),
                     fontsize="small")
        ax.set_xticks(range(len(panel.column_labels)), panel.column_labels, fontsize="x-small",
                      rotation=30 if len(panel.column_labels) > 4 and not percent else 0)
        ax.set_yticks(list(labelled), [panel.row_labels[i] for i in labelled],
                      fontsize="x-small")
        if panel.values.size <= MAX_ANNOTATED_CELLS:
            for (i, j), value in np.ndenumerate(panel.values):
                if not np.isnan(value):
                    ax.text(j, i, _cell_text(value, change, percent), ha="center",
                            va="center", fontsize="x-small",
                            color="white" if abs(value) > 0.6 else "black")
        bar = figure.colorbar(image, ax=ax, shrink=0.8)
        if percent:  # the scale in the unit the cells print
            bar.formatter = PercentFormatter(xmax=1.0, decimals=0)
    for ax in axes[len(panels):]:
        ax.set_axis_off()
    return figure


def render_png(panels: Sequence[Panel], dpi: int = 80) -> bytes:
    """The heatmaps of :func:`render_figure` as PNG bytes."""
    buffer = io.BytesIO()
    render_figure(panels).savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()


class Explorer:
    """Widgets to browse a run's strategy checkpoint by checkpoint (see the module docstring).

    ``run_dir``: the run to open (optional); ``runs_root``: where the run picker looks for
    runs; ``images``: render PNG heatmaps (tables are always rendered); ``buckets``: the
    Hold'em bucket file to use instead of the one the run records (it must have the same
    sha256)."""

    def __init__(self, run_dir: str | os.PathLike[str] | None = None, *,
                 runs_root: str | os.PathLike[str] = "runs", images: bool = True,
                 buckets: str | os.PathLike[str] | None = None) -> None:
        self.images = images
        self.buckets = buckets
        self.records: list[CheckpointRecord] = []
        self.game: Game | None = None
        self.views: list[StrategyView] = []
        self.panels: list[Panel] = []
        self.render_count = 0
        self.error: str | None = None
        self._policies: dict[int, np.ndarray] = {}
        self._quiet = False

        runs = discover_runs(runs_root)
        self.run = widgets.Combobox(value="", options=runs, description="run",
                                    placeholder="path of a run directory",
                                    ensure_option=False, continuous_update=False,
                                    layout=widgets.Layout(width="60%"))
        self.checkpoint = widgets.IntSlider(value=0, min=0, max=0, description="checkpoint",
                                            continuous_update=False)
        self.checkpoint_label = widgets.Label()
        self.compare = widgets.Checkbox(value=False, description="show change since",
                                        indent=False)
        self.baseline = widgets.IntSlider(value=0, min=0, max=0, description="baseline",
                                          continuous_update=False)
        self.baseline_label = widgets.Label()
        self.view = widgets.Dropdown(options=[], description="view")
        self.choice = widgets.Dropdown(options=[], description="choice")
        self.status = widgets.HTML()
        self.table = widgets.HTML()
        self.image = widgets.Image(format="png")
        self.widget = widgets.VBox([
            self.run,
            widgets.HBox([self.checkpoint, self.checkpoint_label]),
            widgets.HBox([self.compare, self.baseline, self.baseline_label]),
            widgets.HBox([self.view, self.choice]),
            self.status,
            widgets.Tab(children=[self.image, self.table], titles=("heatmap", "table")),
        ])

        self.run.observe(self._on_run, names="value")
        self.view.observe(self._on_view, names="value")
        for control in (self.checkpoint, self.baseline, self.compare, self.choice):
            control.observe(self._on_selection, names="value")
        if run_dir is not None:
            self.run.value = str(run_dir)
        else:
            self.status.value = "pick a run directory"

    # Display in Jupyter as the widget box.
    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.widget._repr_mimebundle_(**kwargs)

    @contextmanager
    def _batch(self) -> Iterator[None]:
        """Change several widgets without rendering after each change."""
        previous, self._quiet = self._quiet, True
        try:
            yield
        finally:
            self._quiet = previous

    # ---------------------------------------------------------------------------------------
    # Observers

    def _on_run(self, change: dict[str, Any]) -> None:
        if not self._quiet:
            self.open_run(change["new"])

    def _on_view(self, change: dict[str, Any]) -> None:
        if self._quiet:
            return
        with self._batch():
            self._fill_choices()
        self.render()

    def _on_selection(self, change: dict[str, Any]) -> None:
        if not self._quiet:
            self.render()

    # ---------------------------------------------------------------------------------------

    def open_run(self, run_dir: str | os.PathLike[str]) -> None:
        """Load a run's checkpoints and game, reset the controls and render the newest
        checkpoint. Problems (no checkpoints, unreadable game) are shown, not raised."""
        self.records, self.game, self.views, self.panels = [], None, [], []
        self._policies.clear()
        path = str(run_dir).strip()
        if not path:
            self._show_error("pick a run directory")
            return
        try:
            run = RunDir(path)
            records, problems = run.records()
            if not records:
                raise HoldemLabError(f"no readable checkpoint in {run.checkpoints}"
                                     + (f" ({summarize_problems(problems)})"
                                        if problems else ""))
            game = game_of(records[-1].metadata, run_root=run.root, buckets=self.buckets)
        except HoldemLabError as exc:
            self._show_error(str(exc))
            return
        self.records, self.game, self.views = records, game, views_for(game)
        last = len(records) - 1
        with self._batch():
            if self.run.value != path:
                self.run.value = path
            for slider in (self.checkpoint, self.baseline):
                slider.max = max(last, 0)
                slider.disabled = last == 0
            self.checkpoint.value = last
            self.baseline.value = 0
            self.view.options = [(view.name, position)
                                 for position, view in enumerate(self.views)]
            self.view.value = 0
            self._fill_choices()
        self.render()

    def _fill_choices(self) -> None:
        if self.game is None or not self.views:
            return
        view = self.views[self.view.value or 0]
        self.choice.description = view.picker
        options = view.choices(self.game)
        self.choice.options = options
        self.choice.value = options[0][1] if options else None

    def _show_error(self, message: str) -> None:
        self.error = message
        self.status.value = f"<span style='color:#b00'>{html.escape(message)}</span>"
        self.table.value = ""
        self.image.value = b""

    def policy(self, position: int) -> np.ndarray:
        """The average policy of the checkpoint at ``position``. The last few are cached
        (current and baseline), not all: a Hold'em policy can be large."""
        record = self.records[position]
        policy = self._policies.pop(record.iteration, None)
        if policy is None:
            policy = load_policy(record)
        self._policies[record.iteration] = policy  # most recently used last
        while len(self._policies) > POLICY_CACHE_SIZE:
            del self._policies[next(iter(self._policies))]
        return policy

    def _describe(self, position: int) -> str:
        record = self.records[position]
        return (f"iteration {record.iteration:,} (chunk {record.chunk_index}), "
                f"{position + 1} of {len(self.records)}")

    def render(self) -> None:
        """Recompute the panels for the current selection and update the table and heatmap."""
        if self.game is None or not self.records or self.choice.value is None:
            return
        self.error = None
        self.checkpoint_label.value = self._describe(self.checkpoint.value)
        self.baseline_label.value = self._describe(self.baseline.value)
        try:
            policy = self.policy(self.checkpoint.value)
            baseline = self.policy(self.baseline.value) if self.compare.value else None
            view = self.views[self.view.value or 0]
            self.panels = view.panels(self.game, policy, int(self.choice.value), baseline)
        except HoldemLabError as exc:
            self._show_error(str(exc))
            return
        record = self.records[self.checkpoint.value]
        summary = f"{self.game.name}: {self._describe(self.checkpoint.value)}"
        if baseline is not None:
            largest = max((float(np.nanmax(np.abs(p.values))) for p in self.panels
                           if p.values.size), default=0.0)
            summary += (f"; change since iteration {self.records[self.baseline.value].iteration:,}"
                        f", largest |change| shown: {largest:.3f}")
        exploitability = (record.metadata.get("metrics") or {}).get("exploitability")
        if exploitability is not None:
            summary += f"; exploitability {exploitability:.4g}"
        self.status.value = html.escape(summary)
        self.table.value = render_html(self.panels)
        if self.images:
            self.image.value = render_png(self.panels)
        self.render_count += 1

    def current(self) -> dict[str, Any]:
        """What is shown, as plain data: the selection and the panels."""
        record = self.records[self.checkpoint.value] if self.records else None
        return {
            "run": self.run.value,
            "iteration": record.iteration if record else None,
            "baseline_iteration": self.records[self.baseline.value].iteration
            if record and self.compare.value else None,
            "view": self.views[self.view.value or 0].name if self.views else None,
            "choice": self.choice.value,
            "panels": [panel.to_dict() for panel in self.panels],
            "render_count": self.render_count,
            "error": self.error,
        }
