"""Card encoding: parsing, formatting, validation and random deals."""

from __future__ import annotations

import numpy as np
import pytest

from holdem_lab.cards.deck import (
    NUM_CARDS,
    RANKS,
    SUITS,
    card_rank,
    card_str,
    card_suit,
    cards_str,
    full_deck,
    make_card,
    parse_card,
    parse_cards,
    sample_hands,
)
from holdem_lab.errors import GameError


def test_encoding_is_four_rank_plus_suit() -> None:
    assert parse_card("2c") == 0
    assert parse_card("2s") == 3
    assert parse_card("3c") == 4
    assert parse_card("Td") == 4 * 8 + 1
    assert parse_card("Ah") == 50
    assert parse_card("As") == 51
    for rank in range(13):
        for suit in range(4):
            card = make_card(rank, suit)
            assert card == 4 * rank + suit
            assert card_rank(card) == rank
            assert card_suit(card) == suit
            assert card_str(card) == RANKS[rank] + SUITS[suit]


def test_round_trip_every_card() -> None:
    for card in range(NUM_CARDS):
        assert parse_card(card_str(card)) == card
    deck = full_deck()
    assert deck.dtype == np.int8
    assert np.array_equal(parse_cards(cards_str(deck)), deck)
    assert np.array_equal(parse_cards(cards_str(deck, sep=" ")), deck)


def test_parse_cards_forms() -> None:
    expected = np.array([51, 45], dtype=np.int8)
    for text in ("AsKd", "As Kd", "As,Kd", "  as kD ", "As, Kd"):
        got = parse_cards(text)
        assert got.dtype == np.int8
        assert np.array_equal(got, expected), text
    assert parse_cards("").size == 0
    assert cards_str([51, 45]) == "AsKd"
    assert cards_str(np.array([0, 1]), sep=" ") == "2c 2d"


@pytest.mark.parametrize("bad", ["", "A", "Asd", "1s", "Ax", "Zs", "sA", "10s", " As"])
def test_parse_card_rejects(bad: str) -> None:
    with pytest.raises(GameError, match=repr(bad).replace("\\", "\\\\")):
        parse_card(bad)


@pytest.mark.parametrize("bad", [12, None, b"As", 1.5])
def test_parse_card_rejects_non_strings(bad: object) -> None:
    with pytest.raises(GameError, match="invalid card"):
        parse_card(bad)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "culprit"),
    [("AsK", "'AsK'"), ("AsKx", "'Kx'"), ("As As", "'As'"), ("AsKdAs", "'As'"), ("Xs", "'Xs'")],
)
def test_parse_cards_rejects(text: str, culprit: str) -> None:
    with pytest.raises(GameError, match=culprit):
        parse_cards(text)


@pytest.mark.parametrize("bad", [-1, 52, 100, True, 1.0, "As", None])
def test_card_str_rejects(bad: object) -> None:
    with pytest.raises(GameError, match=repr(bad)):
        card_str(bad)  # type: ignore[arg-type]


@pytest.mark.parametrize(("rank", "suit"), [(13, 0), (-1, 0), (0, 4), (0, -1)])
def test_make_card_rejects(rank: int, suit: int) -> None:
    with pytest.raises(GameError, match=str(rank if not 0 <= rank < 13 else suit)):
        make_card(rank, suit)


def test_errors_are_value_errors() -> None:
    with pytest.raises(ValueError):
        parse_card("Qx")


@pytest.mark.parametrize("k", [2, 5, 7, 20, 52])
def test_sample_hands(k: int) -> None:
    hands = sample_hands(np.random.default_rng(42), 2000, k)
    assert hands.shape == (2000, k)
    assert hands.dtype == np.int8
    assert hands.min() >= 0
    assert hands.max() < NUM_CARDS
    srt = np.sort(hands, axis=1)
    assert np.all(srt[:, 1:] != srt[:, :-1])
    again = sample_hands(np.random.default_rng(42), 2000, k)
    assert np.array_equal(hands, again)


def test_sample_hands_is_roughly_uniform() -> None:
    hands = sample_hands(np.random.default_rng(7), 20000, 7)
    counts = np.bincount(hands.reshape(-1), minlength=NUM_CARDS)
    expected = 20000 * 7 / NUM_CARDS
    assert np.all(np.abs(counts - expected) < 6 * np.sqrt(expected))


def test_sample_hands_rejects() -> None:
    with pytest.raises(GameError):
        sample_hands(np.random.default_rng(0), 10, 53)
    with pytest.raises(GameError):
        sample_hands(np.random.default_rng(0), -1, 7)
    with pytest.raises(GameError):
        sample_hands(0, 10, 7)  # type: ignore[arg-type]
