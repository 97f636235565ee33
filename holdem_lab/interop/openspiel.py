"""Export an average policy to OpenSpiel's `kuhn_poker` / `leduc_poker` information states.

The result maps every OpenSpiel information-state string of the acting player to
{OpenSpiel action id: probability}, without OpenSpiel being a dependency of this package; with
OpenSpiel installed, ``to_openspiel(game, policy, tabular=True)`` returns it as OpenSpiel's own
`open_spiel.python.policy.TabularPolicy`, ready for its tools (exploitability, best response).
Rank-keyed Leduc rows are expanded to every card they stand for.

Action ids: Kuhn 0 = pass (check or fold), 1 = bet (bet or call); Leduc 0 = fold, 1 = call
(or check), 2 = raise. OpenSpiel's Leduc starts every player with 100 chips.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal, overload

import numpy as np

from holdem_lab.checkpoint import atomic_write
from holdem_lab.errors import GameError
from holdem_lab.games.game import Game
from holdem_lab.games.tree import BET_RAISE, CHECK_CALL, FOLD

LEDUC_STARTING_MONEY = 100
OPENSPIEL_NAMES = {"kuhn": "kuhn_poker", "leduc": "leduc_poker"}


def _path_to(game: Game, node: int) -> list[tuple[int, int, int, bool]]:
    """(round, player, action kind, facing a bet) of every action from the root to `node`."""
    tree = game.tree
    steps = []
    child = node
    parent = int(tree.parent[child])
    while parent >= 0:
        a = int(np.flatnonzero(tree.children[parent] == child)[0])
        facing = bool(tree.contrib[parent, tree.player[parent]] < tree.contrib[parent].max())
        steps.append((int(tree.round[parent]), int(tree.player[parent]),
                      int(tree.action_kind[parent, a]), facing))
        child, parent = parent, int(tree.parent[parent])
    return steps[::-1]


def _kuhn_action_id(kind: int, facing: bool) -> int:
    if kind == FOLD:
        return 0
    if kind == CHECK_CALL:
        return 1 if facing else 0
    return 1


def _leduc_action_id(kind: int) -> int:
    return {FOLD: 0, CHECK_CALL: 1, BET_RAISE: 2}[kind]


@overload
def to_openspiel(game: Game, policy: np.ndarray, *,
                 tabular: Literal[False] = False) -> dict[str, dict[int, float]]: ...


@overload
def to_openspiel(game: Game, policy: np.ndarray, *, tabular: Literal[True]) -> Any: ...


def to_openspiel(game: Game, policy: np.ndarray, *, tabular: bool = False) -> Any:
    """{OpenSpiel information state string: {action id: probability}} for Kuhn or Leduc; with
    ``tabular=True``, OpenSpiel's ``TabularPolicy`` of ``kuhn_poker``/``leduc_poker`` holding
    it (GameError when OpenSpiel is not installed)."""
    table = _information_states(game, policy)
    return _tabular_policy(game, table) if tabular else table


def _tabular_policy(game: Game, table: dict[str, dict[int, float]]) -> Any:
    try:
        import pyspiel
        from open_spiel.python.policy import TabularPolicy
    except ImportError:
        raise GameError("to_openspiel(tabular=True) needs OpenSpiel: pip install "
                        "open_spiel") from None
    result = TabularPolicy(pyspiel.load_game(OPENSPIEL_NAMES[game.name]))
    if set(table) != set(result.state_lookup):
        raise GameError(f"the exported information states do not match OpenSpiel's "
                        f"{OPENSPIEL_NAMES[game.name]} ({len(table)} against "
                        f"{len(result.state_lookup)}); the game's parameters must be "
                        "OpenSpiel's defaults")
    for key, probabilities in table.items():
        row = result.state_lookup[key]
        result.action_probability_array[row, :] = 0.0
        for action, probability in probabilities.items():
            result.action_probability_array[row, action] = probability
    return result


def _information_states(game: Game, policy: np.ndarray) -> dict[str, dict[int, float]]:
    if game.name not in OPENSPIEL_NAMES:
        raise GameError(f"to_openspiel: no OpenSpiel counterpart for game {game.name!r}")
    policy = np.asarray(policy, dtype=np.float64)
    if policy.shape != (game.num_rows, game.max_actions):
        raise ValueError(f"policy shape {policy.shape} != {(game.num_rows, game.max_actions)}")
    tree = game.tree
    deck = game.cards.deck_size
    out: dict[str, dict[int, float]] = {}
    for node in map(int, tree.decision_nodes):
        player = int(tree.player[node])
        round_index = int(tree.round[node])
        steps = _path_to(game, node)
        kinds = [int(tree.action_kind[node, a]) for a in range(int(tree.num_actions[node]))]
        facing = bool(tree.contrib[node, player] < tree.contrib[node].max())
        if game.name == "kuhn":
            history = "".join("pb"[_kuhn_action_id(k, f)] for _, _, k, f in steps)
            ids = [_kuhn_action_id(k, facing) for k in kinds]
            for hole in range(deck):
                row = game.row_of(node, int(game.small_bucket_table[0, hole, deck]))
                out[f"{hole}{history}"] = {i: float(policy[row, a]) for a, i in enumerate(ids)}
            continue
        ids = [_leduc_action_id(k) for k in kinds]
        rounds = [" ".join(str(_leduc_action_id(k)) for r, _, k, _ in steps if r == i)
                  for i in range(2)]
        pot = float(tree.contrib[node].sum())
        money = " ".join(str(int(LEDUC_STARTING_MONEY - c)) for c in tree.contrib[node])
        boards = [deck] if round_index == 0 else list(range(deck))
        for hole in range(deck):
            for board in boards:
                if board == hole:
                    continue
                public = "" if board == deck else f"[Public: {board}]"
                key = (f"[Observer: {player}][Private: {hole}][Round {round_index + 1}]"
                       f"[Player: {player}][Pot: {int(pot)}][Money: {money}]{public}"
                       f"[Round1: {rounds[0]}][Round2: {rounds[1]}]")
                row = game.row_of(node, int(game.small_bucket_table[round_index, hole, board]))
                out[key] = {i: float(policy[row, a]) for a, i in enumerate(ids)}
    return out


def save_openspiel_policy(game: Game, policy: np.ndarray, path: str | Path) -> Path:
    """Write `to_openspiel` as JSON (action ids as strings, as JSON keys must be)."""
    path = Path(path)
    data = {key: {str(k): v for k, v in probs.items()}
            for key, probs in to_openspiel(game, policy).items()}
    atomic_write(path, json.dumps(data, indent=1, sort_keys=True))
    return path

