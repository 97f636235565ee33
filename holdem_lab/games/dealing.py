"""Chance: dealing the cards, and what a deal gives each player (a bucket per round and a
showdown strength).

These numba functions are the one definition of dealing: the training kernel, the exact
evaluation's enumeration of Kuhn and Leduc deals and the head-to-head match kernel all call them,
so evaluation sees exactly the buckets and strengths that training sees. A deal is a card
sequence: each player's hole cards in turn, then the board. They are inlined into their numba
callers (the training kernel calls them once per iteration).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit

from holdem_lab.cards.evaluator import eval7_kernel
from holdem_lab.cards.isomorphism import index_kernel, preflop_class_kernel
from holdem_lab.games.game import SHOWDOWN_LEDUC
from holdem_lab.games.numba_tools import prefetch
from holdem_lab.games.streams import uniform

PAIR_BONUS = 1000
"""Added to a Leduc strength when the private card pairs the board (above every rank)."""


@njit(cache=True, inline="always")
def deal_cards(rng: Any, cards: np.ndarray, dealt: int) -> None:
    """Deal `dealt` cards uniformly without replacement from a fresh deck of `cards.shape[0]`
    cards: a partial Fisher-Yates shuffle of `cards`, whose first `dealt` entries are the
    deal."""
    deck_size = cards.shape[0]
    for i in range(deck_size):
        cards[i] = i
    for j in range(dealt):
        pick = j + int(uniform(rng) * (deck_size - j))
        if pick >= deck_size:  # rounding can reach deck_size when random() is close to 1
            pick = deck_size - 1
        tmp = cards[j]
        cards[j] = cards[pick]
        cards[pick] = tmp


@njit(cache=True, inline="always")
def small_hand_strength(card_rank: np.ndarray, showdown_kind: int, hole: int, board: int) -> int:
    """Showdown strength in Kuhn (the rank of the private card) and Leduc (a pair with the public
    card `board` beats every unpaired hand, then rank); `board` < 0 when no board is dealt."""
    rank = card_rank[hole]
    if showdown_kind == SHOWDOWN_LEDUC and board >= 0 and card_rank[board] == rank:
        return PAIR_BONUS + rank
    return rank


@njit(cache=True, inline="always")
def deal_small(num_players: int, num_rounds: int, hole_cards: int, board_total: int,
               board_visible: np.ndarray, deck_size: int, card_rank: np.ndarray,
               showdown_kind: int, bucket_table: np.ndarray, cards: np.ndarray,
               buckets: np.ndarray, strength: np.ndarray) -> None:
    """Fill `buckets[player, round]` (a lookup by round, private card and public card, where
    `deck_size` stands for "no public card yet") and `strength[player]` from the Kuhn or Leduc
    deal `cards`."""
    board_start = num_players * hole_cards
    last_board = cards[board_start] if board_total > 0 else -1
    for p in range(num_players):
        hole = cards[p * hole_cards]
        for r in range(num_rounds):
            board = cards[board_start] if board_visible[r] > 0 else deck_size
            buckets[p, r] = bucket_table[r, hole, board]
        strength[p] = small_hand_strength(card_rank, showdown_kind, hole, last_board)


@njit(cache=True, inline="always")
def holdem_table_index(hand: np.ndarray, round_index: int,
                       holdem_offsets: np.ndarray) -> np.int64:
    """Where the bucket of `hand` (hole cards, then the board) on a round is read: its position in
    the concatenated per-round tables, at the suit-isomorphic index of (hole cards, visible
    board). A round without a table has its bucket returned directly: the lossless preflop
    class (169) or the one bucket of a later round."""
    start = holdem_offsets[round_index]
    has_table = holdem_offsets[round_index + 1] > start
    if round_index == 0:
        index = preflop_class_kernel(hand[0], hand[1])
    elif has_table:
        index = index_kernel(hand, round_index)
    else:
        index = np.int64(0)
    return index + start if has_table else index


@njit(cache=True)
def holdem_bucket(hand: np.ndarray, round_index: int, holdem_tables: np.ndarray,
                  holdem_offsets: np.ndarray) -> np.int64:
    """Bucket of `hand` (hole cards, then the board) on a round (see holdem_table_index)."""
    index = holdem_table_index(hand, round_index, holdem_offsets)
    if holdem_offsets[round_index + 1] > holdem_offsets[round_index]:
        return holdem_tables[index]
    return index


@njit(cache=True, inline="always")
def deal_holdem(num_players: int, num_rounds: int, holdem_tables: np.ndarray,
                holdem_offsets: np.ndarray, cards: np.ndarray, hand: np.ndarray,
                buckets: np.ndarray, strength: np.ndarray) -> None:
    """Fill `buckets[player, round]` and `strength[player]` (the seven-card rank) from the
    Hold'em deal `cards` (two hole cards per player, then five board cards); `hand` is
    seven-card scratch space."""
    board_start = 2 * num_players
    for j in range(5):
        hand[2 + j] = cards[board_start + j]
    for p in range(num_players):
        hand[0] = cards[2 * p]
        hand[1] = cards[2 * p + 1]
        for rnd in range(num_rounds):
            index = holdem_table_index(hand, rnd, holdem_offsets)
            if holdem_offsets[rnd + 1] > holdem_offsets[rnd]:
                prefetch(holdem_tables, index)  # type: ignore[call-arg]  # typed by numba
            buckets[p, rnd] = index
        strength[p] = eval7_kernel(hand[0], hand[1], hand[2], hand[3], hand[4], hand[5],
                                   hand[6])
    # The table reads come after every index is known, so that their cache misses (the river
    # table is large) overlap instead of following one another.
    for p in range(num_players):
        for rnd in range(num_rounds):
            if holdem_offsets[rnd + 1] > holdem_offsets[rnd]:
                buckets[p, rnd] = holdem_tables[buckets[p, rnd]]

