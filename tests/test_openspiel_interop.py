"""Export to OpenSpiel: every information state is covered and OpenSpiel's own exploitability
of the exported policy equals ours."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

from holdem_lab import MCCFRConfig, Solver, exploitability, load_game, to_openspiel
from holdem_lab.errors import GameError
from holdem_lab.interop.openspiel import save_openspiel_policy

pyspiel = pytest.importorskip("pyspiel")
os_policy = pytest.importorskip("open_spiel.python.policy")
os_exploitability = pytest.importorskip("open_spiel.python.algorithms.exploitability")


@pytest.mark.parametrize(("name", "params", "openspiel_name"), [
    ("kuhn", {}, "kuhn_poker"),
    ("leduc", {}, "leduc_poker"),
    ("leduc", {"suit_isomorphic": False}, "leduc_poker"),
])
def test_openspiel_agrees_on_exploitability(name: str, params: dict[str, object],
                                            openspiel_name: str) -> None:
    game = load_game(name, **params)
    solver = Solver(game, MCCFRConfig(seed=4, discount_mode="none"))
    solver.run(2000)
    policy = solver.average_policy()
    exported = to_openspiel(game, policy)
    os_game = pyspiel.load_game(openspiel_name)
    table = os_policy.TabularPolicy(os_game)
    assert set(exported) == set(table.state_lookup)
    for key, probs in exported.items():
        row = table.state_lookup[key]
        table.action_probability_array[row, :] = 0.0
        for action, p in probs.items():
            assert action in table.legal_actions_mask[row].nonzero()[0]
            table.action_probability_array[row, action] = p
    theirs = os_exploitability.exploitability(os_game, table)
    assert theirs == pytest.approx(exploitability(game, policy), abs=1e-10)


def test_saved_json_round_trips(tmp_path: Path) -> None:
    game = load_game("kuhn")
    policy = Solver(game).average_policy()
    path = save_openspiel_policy(game, policy, tmp_path / "kuhn.json")
    data = json.loads(path.read_text())
    assert data["0"] == {"0": 0.5, "1": 0.5}
    assert len(data) == 12


def test_export_rejects_wrong_shapes_and_games() -> None:
    game = load_game("kuhn")
    with pytest.raises(ValueError, match="policy shape"):
        to_openspiel(game, np.zeros((3, 2)))
    fake = load_game("leduc")
    object.__setattr__(fake, "name", "holdem")
    with pytest.raises(GameError, match="no OpenSpiel counterpart"):
        to_openspiel(fake, np.zeros((fake.num_rows, fake.max_actions)))


@pytest.mark.parametrize(("name", "openspiel_name"), [("kuhn", "kuhn_poker"),
                                                      ("leduc", "leduc_poker")])
def test_tabular_export_is_openspiels_own_policy(name: str, openspiel_name: str) -> None:
    game = load_game(name)
    solver = Solver(game, MCCFRConfig(seed=2, discount_mode="none"))
    solver.run(1000)
    policy = solver.average_policy()
    table = to_openspiel(game, policy, tabular=True)
    assert isinstance(table, os_policy.TabularPolicy)
    os_game = pyspiel.load_game(openspiel_name)
    assert os_exploitability.exploitability(os_game, table) == pytest.approx(
        exploitability(game, policy), abs=1e-10)
    exported = to_openspiel(game, policy)
    for key, probabilities in exported.items():
        row = table.action_probability_array[table.state_lookup[key]]
        assert {a: row[a] for a in probabilities} == probabilities
        assert row.sum() == pytest.approx(1.0)


def test_tabular_export_without_openspiel_says_what_to_install(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pyspiel", None)  # import fails as if not installed
    game = load_game("kuhn")
    with pytest.raises(GameError, match="pip install open_spiel"):
        to_openspiel(game, Solver(game).average_policy(), tabular=True)
    with pytest.raises(GameError, match="must be OpenSpiel's defaults"):
        monkeypatch.delitem(sys.modules, "pyspiel")
        small = load_game("leduc")
        object.__setattr__(small, "name", "kuhn")
        to_openspiel(small, np.zeros((small.num_rows, small.max_actions)), tabular=True)
