"""Kuhn and Leduc: sizes against OpenSpiel's counts, known values, and game invariants."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from holdem_lab import expected_values, exploitability, load_game, nash_conv, uniform_policy
from holdem_lab.errors import GameError
from holdem_lab.eval.exact import best_response_values
from holdem_lab.games.game import Game
from holdem_lab.games.payoffs import terminal_payoffs
from holdem_lab.games.small import enumerate_deals, expanded_node_counts


def test_kuhn_sizes_match_openspiel() -> None:
    game = load_game("kuhn")
    assert expanded_node_counts(game) == {"chance": 4, "decision": 24, "terminal": 30,
                                          "infosets": 12}
    assert game.num_rows == 12


@pytest.mark.parametrize("suit_isomorphic", [True, False])
def test_leduc_sizes_match_openspiel(suit_isomorphic: bool) -> None:
    game = load_game("leduc", suit_isomorphic=suit_isomorphic)
    assert expanded_node_counts(game) == {"chance": 157, "decision": 3780, "terminal": 5520,
                                          "infosets": 936}
    assert game.num_rows == (288 if suit_isomorphic else 936)


def test_uniform_nash_conv_kuhn() -> None:
    game = load_game("kuhn")
    assert nash_conv(game, uniform_policy(game)) == pytest.approx(11 / 12, abs=1e-12)


@pytest.mark.parametrize("suit_isomorphic", [True, False])
def test_uniform_nash_conv_leduc(suit_isomorphic: bool) -> None:
    game = load_game("leduc", suit_isomorphic=suit_isomorphic)
    assert nash_conv(game, uniform_policy(game)) == pytest.approx(4.747222222222222, abs=1e-9)


def _kuhn_policy(game: Game, alpha: float) -> np.ndarray:
    """The known equilibrium family (Kuhn 1950), alpha in [0, 1/3], by node label and card."""
    labels = {label: node for node, label in enumerate(game.tree.labels)
              if game.tree.terminal[node] == 0}
    policy = np.zeros((game.num_rows, game.max_actions))
    # P0 at the root: bet J with alpha, never with Q, K with 3 alpha. Actions: check, bet.
    # P1 after a check: bet J 1/3, check Q, bet K. Actions: check, bet.
    # P1 facing a bet: fold J, call Q 1/3, call K. Actions: fold, call.
    # P0 after check-bet: fold J, call Q alpha + 1/3, call K. Actions: fold, call.
    second = {"": (alpha, 0.0, 3 * alpha), "c": (1 / 3, 0.0, 1.0), "r": (0.0, 1 / 3, 1.0),
              "cr": (0.0, alpha + 1 / 3, 1.0)}
    for label, probs in second.items():
        node = labels[label]
        for card, p in enumerate(probs):
            row = game.row_of(node, card)
            policy[row, :2] = (1 - p, p)
    return policy


@pytest.mark.parametrize("alpha", [0.0, 0.1, 0.25, 1 / 3])
def test_kuhn_equilibrium_family(alpha: float) -> None:
    game = load_game("kuhn")
    policy = _kuhn_policy(game, alpha)
    assert exploitability(game, policy) == pytest.approx(0.0, abs=1e-12)
    values = expected_values(game, policy)
    assert values[0] == pytest.approx(-1 / 18, abs=1e-12)
    assert best_response_values(game, policy) == pytest.approx([-1 / 18, 1 / 18], abs=1e-12)


def test_kuhn_off_equilibrium_is_exploitable() -> None:
    game = load_game("kuhn")
    policy = _kuhn_policy(game, 0.5)  # alpha outside [0, 1/3]
    assert exploitability(game, policy) > 1e-3


@pytest.mark.parametrize("name", ["kuhn", "leduc"])
def test_payoffs_are_zero_sum(name: str) -> None:
    game = load_game(name)
    deals = enumerate_deals(game)
    utilities = terminal_payoffs(game.tree, deals.strength)
    terminal = game.tree.terminal != 0
    assert np.allclose(utilities[terminal].sum(axis=-1), 0.0)
    assert np.all(utilities[~terminal] == 0.0)


@pytest.mark.parametrize("suit_isomorphic", [True, False])
def test_rows_never_depend_on_an_opponent_card(suit_isomorphic: bool) -> None:
    game = load_game("leduc", suit_isomorphic=suit_isomorphic)
    deals = enumerate_deals(game)
    for player in range(2):
        own = {}
        for d in range(deals.cards.shape[0]):
            hole, board = int(deals.cards[d, player]), int(deals.cards[d, 2])
            for r in range(2):
                key = (r, hole, board if r == 1 else -1)
                bucket = int(deals.buckets[d, player, r])
                assert own.setdefault(key, bucket) == bucket


def test_leduc_showdown_rules() -> None:
    game = load_game("leduc")
    deals = enumerate_deals(game)
    ranks = game.cards.card_rank
    for cards, strength in zip(deals.cards, deals.strength, strict=True):
        board = int(cards[2])
        for p in range(2):
            paired = ranks[cards[p]] == ranks[board]
            assert (strength[p] >= 1000) == paired


@given(st.integers(0, 2**32 - 1), st.sampled_from(["kuhn", "leduc"]))
def test_exploitability_is_non_negative_for_random_policies(seed: int, name: str) -> None:
    game = load_game(name)
    rng = np.random.default_rng(seed)
    weights = rng.random((game.num_rows, game.max_actions)) * game.row_action_mask()
    policy = weights / weights.sum(axis=1, keepdims=True)
    assert nash_conv(game, policy) >= -1e-12
    assert expected_values(game, policy).sum() == pytest.approx(0.0, abs=1e-12)


def test_unknown_game_and_bad_parameters() -> None:
    from holdem_lab.games import load_game as load

    with pytest.raises(GameError, match="unknown game 'chess'"):
        load("chess")
    with pytest.raises(GameError, match="num_players=3"):
        load("kuhn", num_players=3)
    with pytest.raises(GameError, match="invalid parameters"):
        load("leduc", colour="red")
    with pytest.raises(GameError, match="suit_isomorphic='yes'"):
        load("leduc", suit_isomorphic="yes")
