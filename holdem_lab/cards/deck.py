"""Card encoding shared by the whole project.

A card is the integer ``4 * rank + suit`` with rank 0..12 meaning 2, 3, ..., 9, T, J, Q, K, A and
suit 0..3 meaning clubs, diamonds, hearts, spades; ``0`` is the deuce of clubs and ``51`` the ace
of spades. The encoding keeps the rank in the high bits (``card >> 2``) and the suit in the low
two bits (``card & 3``), so numba kernels split a card with one shift and one mask. It is also
the id used by the ``phevaluator`` package, which the tests use as an independent reference.

Arrays of cards use ``np.int8``. Text uses the usual two-character form (``"As"``, ``"Td"``,
``"2c"``): rank letter, then suit letter.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import numpy as np
import numpy.typing as npt

from holdem_lab.errors import GameError

RANKS = "23456789TJQKA"
"""Rank characters in rank order: ``RANKS[card >> 2]``."""
SUITS = "cdhs"
"""Suit characters in suit order: ``SUITS[card & 3]``."""
NUM_RANKS = 13
NUM_SUITS = 4
NUM_CARDS = 52

_RANK_OF_CHAR = {ch: i for i, ch in enumerate(RANKS)} | {
    ch.lower(): i for i, ch in enumerate(RANKS) if ch.isalpha()
}
_SUIT_OF_CHAR = {ch: i for i, ch in enumerate(SUITS)} | {
    ch.upper(): i for i, ch in enumerate(SUITS)
}
_SEPARATORS = re.compile(r"[\s,]+")


def make_card(rank: int, suit: int) -> int:
    """The card int of ``rank`` (0..12, deuce..ace) and ``suit`` (0..3, c/d/h/s)."""
    if not (isinstance(rank, int | np.integer) and 0 <= rank < NUM_RANKS):
        raise GameError(f"invalid rank {rank!r}: expected an integer in 0..12")
    if not (isinstance(suit, int | np.integer) and 0 <= suit < NUM_SUITS):
        raise GameError(f"invalid suit {suit!r}: expected an integer in 0..3")
    return 4 * int(rank) + int(suit)


def card_rank(card: int) -> int:
    """Rank 0..12 (deuce..ace) of a card int."""
    return _check_card(card) >> 2


def card_suit(card: int) -> int:
    """Suit 0..3 (c, d, h, s) of a card int."""
    return _check_card(card) & 3


def parse_card(text: str) -> int:
    """Parse one card such as ``"As"`` or ``"td"`` into its int.

    The rank letter may be upper or lower case, and so may the suit letter. Anything else
    (wrong length, unknown letter, not a string) raises `GameError` naming the input.
    """
    if not isinstance(text, str):
        raise GameError(f"invalid card {text!r}: expected a two-character string such as 'As'")
    if len(text) != 2 or text[0] not in _RANK_OF_CHAR or text[1] not in _SUIT_OF_CHAR:
        raise GameError(
            f"invalid card {text!r}: expected a rank in {RANKS} followed by a suit in {SUITS}"
        )
    return 4 * _RANK_OF_CHAR[text[0]] + _SUIT_OF_CHAR[text[1]]


def parse_cards(text: str) -> npt.NDArray[np.int8]:
    """Parse several cards into an ``int8`` array, in the order written.

    Accepts concatenated cards (``"AsKd"``) and cards separated by spaces or commas
    (``"As Kd"``, ``"As,Kd"``). The empty string gives an empty array. A malformed card or a
    card given twice raises `GameError` naming it.
    """
    if not isinstance(text, str):
        raise GameError(f"invalid cards {text!r}: expected a string such as 'AsKd'")
    cards: list[int] = []
    for token in _SEPARATORS.split(text.strip()):
        if not token:
            continue
        if len(token) % 2:
            raise GameError(f"invalid cards {token!r} in {text!r}: odd number of characters")
        for i in range(0, len(token), 2):
            card = parse_card(token[i : i + 2])
            if card in cards:
                raise GameError(f"duplicate card {token[i : i + 2]!r} in {text!r}")
            cards.append(card)
    return np.array(cards, dtype=np.int8)


def _check_card(card: object) -> int:
    if isinstance(card, bool) or not isinstance(card, int | np.integer):
        raise GameError(f"invalid card {card!r}: expected an integer in 0..51")
    if not 0 <= card < NUM_CARDS:
        raise GameError(f"invalid card {card!r}: expected an integer in 0..51")
    return int(card)


def card_str(card: int) -> str:
    """Two-character text of a card int, e.g. ``card_str(51) == "As"``."""
    c = _check_card(card)
    return RANKS[c >> 2] + SUITS[c & 3]


def cards_str(cards: Iterable[int] | npt.NDArray[np.integer], sep: str = "") -> str:
    """Text of a sequence of card ints, joined with ``sep`` (``"AsKd"`` by default)."""
    return sep.join(card_str(c) for c in np.asarray(cards).reshape(-1).tolist())


def full_deck() -> npt.NDArray[np.int8]:
    """All 52 card ints in order, as ``int8``."""
    return np.arange(NUM_CARDS, dtype=np.int8)


def sample_hands(rng: np.random.Generator, n: int, k: int = 7) -> npt.NDArray[np.int8]:
    """``n`` independent uniform draws of ``k`` distinct cards, as an ``(n, k)`` ``int8`` array.

    Each row is a uniformly random ordered sample without replacement from the 52 cards
    (rejection sampling of rows that contain a repeated card for small ``k``, a random
    permutation otherwise), so the result depends only on the state of ``rng``. Meant for
    tests, benchmarks and Monte Carlo estimates.
    """
    if not isinstance(rng, np.random.Generator):
        raise GameError(f"rng must be a numpy Generator, got {type(rng).__name__}")
    if not 0 <= k <= NUM_CARDS:
        raise GameError(f"invalid hand size {k!r}: expected 0..52")
    if n < 0:
        raise GameError(f"invalid number of hands {n!r}: expected n >= 0")
    if k > 12:  # rejection would be wasteful; rank random keys instead
        return np.argsort(rng.random((n, NUM_CARDS)), axis=1)[:, :k].astype(np.int8)
    out = np.empty((n, k), dtype=np.int8)
    pending = np.arange(n)
    while pending.size:
        draw = rng.integers(0, NUM_CARDS, size=(pending.size, k), dtype=np.int8)
        srt = np.sort(draw, axis=1)
        ok = np.all(srt[:, 1:] != srt[:, :-1], axis=1)
        out[pending[ok]] = draw[ok]
        pending = pending[~ok]
    return out
