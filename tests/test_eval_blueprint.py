"""Blueprint queries speak one unit both ways: every action label a query returns ("bet/raise
to 15": the chips the player has in the hand) leads back, sent as an action, to the node that
label's edge leads to."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import numpy as np
import pytest

from holdem_lab import load_game
from holdem_lab.cards.isomorphism import preflop_class_of_name, preflop_grid_position
from holdem_lab.errors import IllegalActionError
from holdem_lab.eval.blueprint import Blueprint
from holdem_lab.games.tree import DECISION, FOLD

MENU = {"bet_sizes": [[0.5, 1.0], [0.5, 1.0], [1.0], [1.0]], "max_raises": [2, 2, 1, 1]}
LABEL = re.compile(r"^(?:bet/raise|all-in) to (\d+)$")


def _token(blueprint: Blueprint, node: int, edge: int, label: str) -> str:
    """The action a label stands for, its amount read from the label itself."""
    tree = blueprint.game.tree
    if int(tree.action_kind[node, edge]) == FOLD:
        return "f"
    match = LABEL.match(label)
    if match is not None:
        return f"r{match.group(1)}"
    player = int(tree.player[node])
    facing = tree.contrib[node].max() > tree.contrib[node][player]
    return "c" if facing else "x"


@pytest.mark.parametrize("ante", [0, 1])
def test_every_label_round_trips_through_query(ante: int) -> None:
    game = load_game("holdem", bet_sizing=MENU, ante=ante)
    policy = np.full((game.num_rows, game.max_actions), 1.0 / game.max_actions)
    blueprint = Blueprint(game=game, policy=policy, iteration=0, source="test")
    tree = game.tree
    stack: list[tuple[int, list[str]]] = [(0, [])]
    checked = later_streets = 0
    while stack:
        node, actions = stack.pop()
        for edge, label in enumerate(blueprint.node_actions(node)):
            child = int(tree.children[node, edge])
            path = [*actions, _token(blueprint, node, edge, label)]
            if tree.terminal[child] != DECISION:
                continue
            assert blueprint.node_of(path) == child, (tree.labels[child], path)
            checked += 1
            later_streets += bool(LABEL.match(label)) and int(tree.round[node]) > 0
            stack.append((child, path))
    assert checked == len(tree.decision_nodes) - 1  # every decision node but the root
    assert later_streets > 50  # bets after the flop, where the two units differ
    # query itself, on a turn decision reached through labels
    turn = next(n for n in tree.decision_nodes if tree.round[n] == 2)
    path: list[str] = []
    chain = []
    node = turn
    while node != 0:
        parent = int(np.argwhere(tree.children == node)[0][0])
        chain.append((parent, int(np.argwhere(tree.children[parent] == node)[0][0])))
        node = parent
    for parent, edge in reversed(chain):
        path.append(_token(blueprint, parent, edge, blueprint.node_actions(parent)[edge]))
    answer = blueprint.query("AsKd", "2c7h9s Td", path)
    assert list(answer) == blueprint.node_actions(turn)
    assert list(answer.values()) == pytest.approx(
        [1.0 / game.max_actions] * int(tree.num_actions[turn]))


def test_an_amount_the_hand_cannot_take_is_named_as_given() -> None:
    game = load_game("holdem", bet_sizing=MENU)
    blueprint = Blueprint(game=game, policy=np.zeros((game.num_rows, game.max_actions)),
                          iteration=0, source="test")
    # Preflop both players have 2 chips in after the call; a flop bet to 2 bets nothing.
    with pytest.raises(IllegalActionError, match=r"action 2 \(r2, chips in the hand\)"):
        blueprint.node_of(["c", "x", "r2"])


def test_preflop_chart_exports_as_csv(tmp_path: Path) -> None:
    game = load_game("holdem", bet_sizing=MENU)
    rng = np.random.default_rng(0)
    policy = rng.random((game.num_rows, game.max_actions))
    blueprint = Blueprint(game=game, policy=policy, iteration=0, source="test")
    path = blueprint.save_preflop_csv(tmp_path / "chart.csv")
    rows = list(csv.reader(path.open()))
    assert rows[0] == ["hand", *blueprint.node_actions(0)]
    assert len(rows) == 170 and len({row[0] for row in rows[1:]}) == 169
    assert [rows[1][0], rows[2][0], rows[14][0], rows[-1][0]] == ["AA", "AKs", "AKo", "22"]
    grid = blueprint.preflop_grid(0)
    for row in rows[1:]:
        cls = preflop_class_of_name(row[0])
        r, c = preflop_grid_position(cls)
        assert [float(x) for x in row[1:]] == pytest.approx(grid[r, c], abs=1e-6)
        assert [float(x) for x in row[1:]] == pytest.approx(
            policy[game.row_of(0, cls), :len(row) - 1], abs=1e-6)
