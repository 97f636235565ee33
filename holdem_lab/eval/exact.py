"""Exact best response, NashConv and exploitability for games whose deals can be enumerated.

A policy is a (num_rows, max_actions) array over the game's infoset rows (its card abstraction).
The best responder, however, sees its true private cards (the game's lossless "exact" keys), so
the figures are those of the real game, whatever abstraction the policy was trained on.

The best response walks the public betting tree once per player with a vector over all deals:
`reach[d]` is the chance probability of deal d times every other player's probability of the
actions so far. At the responder's nodes, each of its information sets picks the action with the
highest reach-weighted value summed over the deals it cannot tell apart. Conventions follow
OpenSpiel: NashConv = sum_i (BR_i - v_i); exploitability = NashConv / num_players.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from holdem_lab.games.game import Game
from holdem_lab.games.payoffs import terminal_payoffs
from holdem_lab.games.small import Deals, enumerate_deals
from holdem_lab.games.tree import DECISION


class _Exact:
    """Deals and terminal utilities of one game, computed once."""

    def __init__(self, game: Game) -> None:
        self.game = game
        self.deals: Deals = enumerate_deals(game)
        self.utilities = terminal_payoffs(game.tree, self.deals.strength)


@lru_cache(maxsize=8)
def _exact_for(game: Game) -> _Exact:
    return _Exact(game)


def _check_policy(game: Game, policy: np.ndarray) -> np.ndarray:
    policy = np.asarray(policy, dtype=np.float64)
    if policy.shape != (game.num_rows, game.max_actions):
        raise ValueError(f"policy shape {policy.shape} != {(game.num_rows, game.max_actions)}")
    return policy


def _action_probs(exact: _Exact, policy: np.ndarray, node: int) -> np.ndarray:
    tree = exact.game.tree
    player = int(tree.player[node])
    rows = exact.game.row_offset[node] + exact.game.row_stride[node] \
        * exact.deals.buckets[:, player, int(tree.round[node])]
    return policy[rows, : int(tree.num_actions[node])]


def best_response_value(game: Game, policy: np.ndarray, player: int) -> float:
    """Expected value for `player` of a best response to the others playing `policy`."""
    exact = _exact_for(game)
    policy = _check_policy(game, policy)
    tree = game.tree
    keys = exact.deals.exact_keys

    def walk(node: int, reach: np.ndarray) -> np.ndarray:
        if tree.terminal[node] != DECISION:
            return reach * exact.utilities[node, :, player]
        num_actions = int(tree.num_actions[node])
        children = tree.children[node]
        if int(tree.player[node]) != player:
            probs = _action_probs(exact, policy, node)
            total = np.zeros_like(reach)
            for a in range(num_actions):
                total += walk(int(children[a]), reach * probs[:, a])
            return total
        values = np.stack([walk(int(children[a]), reach) for a in range(num_actions)], axis=1)
        key = keys[:, player, int(tree.round[node])]
        sums = np.zeros((int(key.max()) + 1, num_actions))
        np.add.at(sums, key, values)
        best = np.argmax(sums, axis=1)
        return values[np.arange(values.shape[0]), best[key]]

    return float(walk(0, exact.deals.probability.copy()).sum())


def best_response_values(game: Game, policy: np.ndarray) -> np.ndarray:
    """Best-response value of every player against `policy`."""
    return np.array([best_response_value(game, policy, p) for p in range(game.num_players)])


def expected_values(game: Game, policy: np.ndarray) -> np.ndarray:
    """Expected chips won by each player when everyone plays `policy`."""
    exact = _exact_for(game)
    policy = _check_policy(game, policy)
    tree = game.tree

    def walk(node: int, reach: np.ndarray) -> np.ndarray:
        if tree.terminal[node] != DECISION:
            return reach @ exact.utilities[node]
        probs = _action_probs(exact, policy, node)
        total = np.zeros(game.num_players)
        for a in range(int(tree.num_actions[node])):
            total += walk(int(tree.children[node, a]), reach * probs[:, a])
        return total

    return walk(0, exact.deals.probability.copy())


def nash_conv(game: Game, policy: np.ndarray) -> float:
    """Sum over players of what a best response gains over the policy's own value."""
    return float(np.sum(best_response_values(game, policy) - expected_values(game, policy)))


def exploitability(game: Game, policy: np.ndarray) -> float:
    """NashConv / number of players (OpenSpiel's convention)."""
    return nash_conv(game, policy) / game.num_players


def uniform_policy(game: Game) -> np.ndarray:
    """Every legal action equally likely."""
    mask = game.row_action_mask()
    counts = mask.sum(axis=1, keepdims=True)
    return np.where(mask, 1.0 / np.maximum(counts, 1), 0.0)
