"""The strategy explorer: views as plain data, the view registry (the Hold'em hook), and the
widgets driven from code: setting a widget's value runs its observer and changes what is
shown."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest
from hostile.runs import run_to_completion

from holdem_lab import MCCFRConfig, load_game
from holdem_lab.checkpoint import load_checkpoint
from holdem_lab.chunks.runner import latest_checkpoint
from holdem_lab.config import GameSpec
from holdem_lab.errors import CheckpointError
from holdem_lab.games import Game
from holdem_lab.lab.explore import Explorer, discover_runs, render_html, render_png
from holdem_lab.lab.runfiles import load_policy
from holdem_lab.lab.views import (
    NodeView,
    Panel,
    PlayerView,
    PreflopGridView,
    StrategyView,
    action_names,
    preflop_grid,
    preflop_hand_classes,
    register_views,
    unregister_views,
    views_for,
)
from holdem_lab.rundir import RunDir

CONFIG = MCCFRConfig(num_iterations=300, enable_chunked_training=True, chunk_size_iterations=100,
                     seed=11)


def _train(logdir: Path, game: str) -> None:
    run_to_completion(logdir, CONFIG, GameSpec(game=game), limit=5)


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("runs")
    _train(root / "leduc", "leduc")
    _train(root / "kuhn", "kuhn")
    return root


def test_action_names_and_node_view_of_kuhn() -> None:
    game = load_game("kuhn")
    labels = {game.tree.labels[int(n)]: int(n) for n in game.tree.decision_nodes}
    assert action_names(game, labels[""]) == ["check", "bet to 2"]
    assert action_names(game, labels["cr"]) == ["fold", "call"]
    view = NodeView()
    assert [label for label, _ in view.choices(game)] == \
        ["P0 · (start)", "P1 · c", "P0 · cr", "P1 · r"]
    policy = np.random.default_rng(0).dirichlet([1, 1], size=game.num_rows)
    (panel,) = view.panels(game, policy, labels["cr"])
    assert panel.row_labels == ("J", "Q", "K") and panel.column_labels == ("fold", "call")
    rows = game.rows_of_node(labels["cr"])
    assert np.array_equal(panel.values, policy[rows.start:rows.stop])
    (change,) = view.panels(game, policy, labels["cr"], baseline=np.full_like(policy, 0.5))
    assert change.kind == "change"
    assert np.allclose(change.values, policy[rows.start:rows.stop] - 0.5)


def test_player_view_lists_every_infoset_of_the_player() -> None:
    game = load_game("leduc")
    policy = np.zeros((game.num_rows, game.max_actions))
    mask = game.row_action_mask()
    policy[mask] = 1.0
    policy /= policy.sum(axis=1, keepdims=True)
    for player in (0, 1):
        (panel,) = PlayerView().panels(game, policy, player)
        nodes = [int(n) for n in game.tree.decision_nodes if game.tree.player[n] == player]
        assert len(panel.row_labels) == sum(len(game.rows_of_node(n)) for n in nodes)
        assert np.allclose(np.nansum(panel.values, axis=1), 1.0)
        assert panel.column_labels == ("fold", "check/call", "bet/raise")
    assert sum(len(PlayerView().panels(game, policy, p)[0].row_labels) for p in (0, 1)) == \
        game.num_rows


def test_views_for_small_games_and_the_registry_hook() -> None:
    kuhn = load_game("kuhn")
    assert [type(v) for v in views_for(kuhn)] == [NodeView, PlayerView]

    class Marginal(StrategyView):
        name = "bet frequency"
        picker = "player"

        def choices(self, game: Game) -> list[tuple[str, int]]:
            return [("everyone", 0)]

        def panels(self, game: Game, policy: np.ndarray, choice: int,
                   baseline: np.ndarray | None = None) -> list[Panel]:
            return [Panel("mean", ("all",), ("p",), np.array([[float(policy[:, 1].mean())]]))]

    register_views("kuhn", lambda game: [Marginal()])
    try:
        with pytest.raises(ValueError, match="already registered"):
            register_views("kuhn", lambda game: [])
        assert [v.name for v in views_for(kuhn)] == ["bet frequency"]
    finally:
        unregister_views("kuhn")
    assert [type(v) for v in views_for(kuhn)] == [NodeView, PlayerView]


def test_preflop_grid_view_plugs_in_for_hand_class_buckets() -> None:
    grid = preflop_hand_classes()
    assert grid[0][0] == "AA" and grid[0][1] == "AKs" and grid[1][0] == "AKo"
    assert grid[12][12] == "22" and grid[11][12] == "32s" and grid[12][11] == "32o"
    classes = [name for row in grid for name in row]
    assert len(set(classes)) == 169
    # A stand-in for Hold'em: Kuhn's betting tree with the 169 hand classes as buckets.
    game = dataclasses.replace(load_game("kuhn"), num_buckets=(169,),
                               bucket_names=(tuple(classes),))
    views = views_for(game)
    assert isinstance(views[0], PreflopGridView) and views[0].picker == "betting history"
    policy = np.random.default_rng(1).dirichlet([1, 1], size=game.num_rows)
    node = views[0].choices(game)[0][1]
    panels = views[0].panels(game, policy, node)
    assert [p.title.split(": ")[-1] for p in panels] == ["check", "bet to 2"]
    start = game.rows_of_node(node).start
    assert panels[1].values.shape == (13, 13)
    assert panels[1].cell("A", "K") == pytest.approx(policy[start + classes.index("AKs"), 1])
    assert panels[1].cell("K", "A") == pytest.approx(policy[start + classes.index("AKo"), 1])
    assert np.isnan(preflop_grid({"AA": 1.0})[1, 1])
    assert not PreflopGridView.applies_to(load_game("leduc"))


def test_rendering_tables_and_heatmaps() -> None:
    panel = Panel("t", ("J", "Q"), ("fold", "call"), np.array([[0.25, np.nan], [1.0, 0.0]]))
    html = render_html([panel])
    assert "<th>fold</th>" in html and "0.250" in html and "<td></td>" in html
    assert render_png([panel])[:4] == b"\x89PNG"
    assert json.dumps(panel.to_dict())


def test_explorer_widgets_drive_the_view(runs: Path) -> None:
    explorer = Explorer(runs / "leduc", runs_root=runs, images=False)
    assert sorted(Path(p).name for p in explorer.run.options) == ["kuhn", "leduc"]
    assert explorer.error is None and explorer.render_count == 1
    assert explorer.checkpoint.max == 2 and explorer.checkpoint.value == 2
    assert explorer.current()["iteration"] == 300
    newest = [row[:] for row in explorer.current()["panels"][0]["values"]]

    explorer.checkpoint.value = 0  # the observer re-renders the oldest checkpoint
    assert explorer.render_count == 2
    assert explorer.current()["iteration"] == 100
    oldest = explorer.current()["panels"][0]["values"]
    assert oldest != newest
    assert "iteration 100" in explorer.checkpoint_label.value

    explorer.checkpoint.value = 2
    explorer.compare.value = True  # change since the baseline (checkpoint 0)
    panel = explorer.panels[0]
    assert panel.kind == "change" and explorer.current()["baseline_iteration"] == 100
    assert np.allclose(panel.values, np.array(newest) - np.array(oldest))
    assert "change since iteration 100" in explorer.status.value

    explorer.view.value = 1  # all infosets of a player: the picker follows the view
    assert explorer.choice.description == "player"
    assert [label for label, _ in explorer.choice.options] == ["player 0", "player 1"]
    before = explorer.render_count
    explorer.choice.value = 1
    assert explorer.render_count == before + 1
    assert explorer.panels[0].title == "change, player 1: every infoset"


def test_explorer_matches_the_checkpoint_policy(runs: Path) -> None:
    explorer = Explorer(runs / "kuhn", runs_root=runs, images=True)
    assert explorer.image.value[:4] == b"\x89PNG"
    info = latest_checkpoint(runs / "kuhn")
    assert info is not None
    policy = load_checkpoint(info).policy["average_policy"]
    game = load_game("kuhn")
    rows = game.rows_of_node(0)
    assert np.array_equal(explorer.panels[0].values, policy[rows.start:rows.stop, :2])
    html_before = explorer.table.value
    explorer.run.value = str(runs / "leduc")  # switching runs reloads game and checkpoints
    assert explorer.game is not None and explorer.game.name == "leduc"
    assert explorer.table.value != html_before


def test_explorer_reports_problems_instead_of_raising(runs: Path, tmp_path: Path) -> None:
    explorer = Explorer(runs_root=tmp_path, images=False)
    assert explorer.error is None and explorer.panels == []
    assert explorer.status.value == "pick a run directory" and explorer.render_count == 0
    explorer.run.value = str(tmp_path / "missing")
    assert explorer.error is not None and "no readable checkpoint" in explorer.error
    assert "no readable checkpoint" in explorer.status.value


def test_policy_files_are_checked_against_their_metadata(runs: Path, tmp_path: Path) -> None:
    import shutil

    copy = tmp_path / "run"
    shutil.copytree(runs / "kuhn", copy)
    records, problems = RunDir(copy).records()
    assert problems == [] and [r.iteration for r in records] == [100, 200, 300]
    path = records[0].info.policy_path
    data = bytearray(path.read_bytes())
    data[-30] ^= 0x01
    path.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match="does not match its metadata"):
        load_policy(records[0])
    explorer = Explorer(copy, runs_root=tmp_path, images=False)
    explorer.checkpoint.value = 0
    assert explorer.error is not None and "does not match its metadata" in explorer.error
    assert discover_runs(tmp_path) == [str(copy)]
