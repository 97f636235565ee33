"""Match evaluation on cases with known answers."""

from __future__ import annotations

import numpy as np
import pytest

from holdem_lab import load_game
from holdem_lab.cards.deck import parse_cards
from holdem_lab.errors import GameError
from holdem_lab.eval.agents import hand_strength
from holdem_lab.eval.match import play_match, preflop_equity_table

GAME_PARAMS = {"bet_sizing": {"bet_sizes": [[1.0], [1.0], [1.0], [1.0]],
                              "max_raises": [2, 1, 1, 1]}}


def test_identical_deterministic_agents_tie_exactly() -> None:
    game = load_game("holdem", **GAME_PARAMS)
    result = play_match(game, "always_call", "always_call", deal_pairs=500, seed=0)
    assert result.mbb_per_hand == 0.0 and result.ci95_mbb == 0.0


def test_an_agent_against_itself_is_zero_within_its_interval() -> None:
    game = load_game("holdem", **GAME_PARAMS)
    result = play_match(game, "uniform", "uniform", deal_pairs=4000, seed=1)
    assert result.low <= 0.0 <= result.high


def test_folding_to_every_bet_loses_its_blinds() -> None:
    game = load_game("holdem", **GAME_PARAMS)
    result = play_match(game, "always_fold", "always_raise_pot", deal_pairs=500, seed=2)
    # Small blind 1 folds to a raise (-1 chip); as big blind it folds to the raise (-2 chips):
    # -1.5 chips per hand = -750 mbb/hand with a 2-chip big blind.
    assert result.mbb_per_hand == pytest.approx(-750.0)


def test_equity_heuristic_beats_a_calling_station() -> None:
    game = load_game("holdem", **GAME_PARAMS)
    result = play_match(game, "equity_threshold", "always_call", deal_pairs=3000, seed=3)
    assert result.low > 0.0, result.summary()


def test_hand_strength_known_values() -> None:
    board = parse_cards("AhKhQhJhTh").astype(np.int64)
    nuts = parse_cards("2c3d").astype(np.int64)
    # A royal flush on board: every holding ties.
    assert hand_strength(nuts[0], nuts[1], board, 5) == pytest.approx(0.5)
    board = parse_cards("2c7d9hJsKc").astype(np.int64)
    aces = parse_cards("AsAd").astype(np.int64)
    assert 0.85 < hand_strength(aces[0], aces[1], board, 5) < 1.0


def test_preflop_equities_order_classes_sensibly() -> None:
    from holdem_lab.cards.isomorphism import preflop_class_of_name

    table = preflop_equity_table()
    assert table[preflop_class_of_name("AA")] == pytest.approx(0.85, abs=0.02)
    assert table[preflop_class_of_name("72o")] == pytest.approx(0.35, abs=0.02)
    assert table[preflop_class_of_name("AA")] == table.max()


def test_match_argument_errors() -> None:
    game = load_game("holdem", **GAME_PARAMS)
    with pytest.raises(GameError, match="unknown agent 'shark'"):
        play_match(game, "shark", "uniform")
    with pytest.raises(GameError, match="deal_pairs=1"):
        play_match(game, "uniform", "uniform", deal_pairs=1)
    with pytest.raises(GameError, match="heads-up Hold'em"):
        play_match(load_game("leduc"), "uniform", "uniform")
    with pytest.raises(GameError, match="policy shape"):
        play_match(game, np.zeros((2, 2)), "uniform")
