"""Kuhn and Leduc poker, with the rules of OpenSpiel's `kuhn_poker` and `leduc_poker`.

Kuhn (Kuhn 1950): three cards J < Q < K, ante 1, one betting round, bet size 1, one bet at most.
Leduc (Southey et al. 2005): six cards (J, Q, K in two suits), ante 1, two rounds with raise
sizes 2 and 4 and at most two raises a round, one public card dealt before the second round; a
private card pairing the public card wins, otherwise the higher private card, equal ranks split.
Player 0 acts first in every round; folding is offered only when facing a bet.

Card ids follow OpenSpiel: Kuhn card c has rank c; Leduc card c has rank c // 2 and suit c % 2.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from holdem_lab.errors import GameError
from holdem_lab.games.dealing import deal_small
from holdem_lab.games.game import (
    BUCKETS_SMALL_TABLE,
    SHOWDOWN_HIGH_CARD,
    SHOWDOWN_LEDUC,
    CardModel,
    Game,
)
from holdem_lab.games.tree import DECISION, build_limit_tree

RANK_NAMES = "JQK"


def kuhn(num_players: int = 2) -> Game:
    """Two-player Kuhn poker (12 infosets)."""
    if num_players != 2:
        raise GameError(f"kuhn: num_players={num_players!r}; only 2 players are supported")
    tree = build_limit_tree(num_players=2, ante=1.0, raise_sizes=(1.0,), max_raises=1)
    cards = CardModel(card_rank=np.arange(3, dtype=np.int8),
                      card_suit=np.zeros(3, dtype=np.int8), hole_cards=1, board_visible=(0,),
                      card_names=tuple(RANK_NAMES))
    table = np.zeros((1, 3, 4), dtype=np.int32)
    for hole in range(3):
        table[0, hole, 3] = hole
    names = (tuple(RANK_NAMES),)
    return Game(name="kuhn", params={"num_players": 2}, tree=tree, cards=cards,
                showdown_kind=SHOWDOWN_HIGH_CARD, bucket_kind=BUCKETS_SMALL_TABLE,
                num_buckets=(3,), small_bucket_table=table, exact_bucket_table=table.copy(),
                num_exact_buckets=(3,), bucket_names=names)


def leduc(num_players: int = 2, suit_isomorphic: bool = True) -> Game:
    """Two-player Leduc poker. With `suit_isomorphic` (default) infosets are keyed by ranks, which
    is lossless because suits never matter (288 infosets); otherwise by cards, as OpenSpiel
    counts them (936 infosets)."""
    if num_players != 2:
        raise GameError(f"leduc: num_players={num_players!r}; only 2 players are supported")
    if not isinstance(suit_isomorphic, bool):
        raise GameError(f"leduc: suit_isomorphic={suit_isomorphic!r} must be true or false")
    tree = build_limit_tree(num_players=2, ante=1.0, raise_sizes=(2.0, 4.0), max_raises=2)
    deck = 6
    ranks = np.arange(deck, dtype=np.int8) // 2
    names_of_cards = tuple(f"{RANK_NAMES[c // 2]}{'sh'[c % 2]}" for c in range(deck))
    cards = CardModel(card_rank=ranks, card_suit=np.arange(deck, dtype=np.int8) % 2,
                      hole_cards=1, board_visible=(0, 1), card_names=names_of_cards)
    exact = np.zeros((2, deck, deck + 1), dtype=np.int32)
    by_rank = np.zeros((2, deck, deck + 1), dtype=np.int32)
    for hole in range(deck):
        exact[0, hole, deck] = hole
        by_rank[0, hole, deck] = ranks[hole]
        for board in range(deck):
            if board != hole:
                exact[1, hole, board] = hole * (deck - 1) + (board if board < hole else board - 1)
            by_rank[1, hole, board] = ranks[hole] * 3 + ranks[board]
    exact_names = (names_of_cards,
                   tuple(f"{names_of_cards[h]}|{names_of_cards[b]}"
                         for h in range(deck) for b in range(deck) if b != h))
    if suit_isomorphic:
        table, counts = by_rank, (3, 9)
        names = (tuple(RANK_NAMES), tuple(f"{a}|{b}" for a in RANK_NAMES for b in RANK_NAMES))
    else:
        table, counts, names = exact, (deck, deck * (deck - 1)), exact_names
    return Game(name="leduc", params={"num_players": 2, "suit_isomorphic": suit_isomorphic},
                tree=tree, cards=cards, showdown_kind=SHOWDOWN_LEDUC,
                bucket_kind=BUCKETS_SMALL_TABLE, num_buckets=counts, small_bucket_table=table,
                exact_bucket_table=exact, num_exact_buckets=(deck, deck * (deck - 1)),
                bucket_names=names)


@dataclass(frozen=True, eq=False)
class Deals:
    """Every deal of a small game with its probability: `cards[d]` (hole cards of each player,
    then the board), `buckets[d, p, r]`, `exact_keys[d, p, r]` (lossless private information)
    and `strength[d, p]`."""

    cards: np.ndarray
    probability: np.ndarray
    buckets: np.ndarray
    exact_keys: np.ndarray
    strength: np.ndarray


def enumerate_deals(game: Game) -> Deals:
    """All ordered deals of a small game (Kuhn 6, Leduc 120), computed with the dealing kernel
    training uses (holdem_lab.games.dealing) so that evaluation and training see identical
    buckets and strengths."""
    if game.bucket_kind != BUCKETS_SMALL_TABLE:
        raise GameError(f"{game.name}: exact deal enumeration is only for Kuhn and Leduc")
    cards_model = game.cards
    num_dealt = game.num_players * cards_model.hole_cards + cards_model.board_total
    sequences = np.asarray(list(itertools.permutations(range(cards_model.deck_size), num_dealt)),
                           dtype=np.int64)
    num_deals = sequences.shape[0]
    buckets = np.zeros((num_deals, game.num_players, game.tree.num_rounds), dtype=np.int64)
    exact = np.zeros_like(buckets)
    strength = np.zeros((num_deals, game.num_players), dtype=np.int64)
    board_visible = np.asarray(cards_model.board_visible, dtype=np.int64)
    card_rank = cards_model.card_rank.astype(np.int64)
    scratch = np.zeros(game.num_players, dtype=np.int64)

    def deal(table: np.ndarray, cards: np.ndarray, keys: np.ndarray, out: np.ndarray) -> None:
        deal_small(game.num_players, game.tree.num_rounds, cards_model.hole_cards,
                   cards_model.board_total, board_visible, cards_model.deck_size, card_rank,
                   game.showdown_kind, table, cards, keys, out)

    for d in range(num_deals):
        deal(game.small_bucket_table, sequences[d], buckets[d], strength[d])
        deal(game.exact_bucket_table, sequences[d], exact[d], scratch)
    probability = np.full(num_deals, 1.0 / num_deals)
    return Deals(cards=sequences, probability=probability, buckets=buckets, exact_keys=exact,
                 strength=strength)


def expanded_node_counts(game: Game) -> dict[str, int]:
    """Node counts of the full game tree with chance nodes, counted the way OpenSpiel counts
    them: each private card dealt one at a time, then one chance node per board deal."""
    deck = game.cards.deck_size
    private = game.num_players * game.cards.hole_cards

    def arrangements(k: int) -> int:
        out = 1
        for i in range(k):
            out *= deck - i
        return out

    private_deals = arrangements(private)
    chance = sum(arrangements(k) for k in range(private))
    tree = game.tree
    deals_in_round = []
    for r in range(tree.num_rounds):
        board = game.cards.board_visible[r]
        visible = private_deals
        for i in range(board):
            visible *= deck - private - i
        deals_in_round.append(visible)
    decision = terminal = 0
    for node in range(tree.num_nodes):
        r = int(tree.round[node])
        if tree.terminal[node] == DECISION:
            decision += deals_in_round[r]
            parent = int(tree.parent[node])
            if parent >= 0 and int(tree.round[parent]) == r - 1:
                chance += deals_in_round[r - 1]
        else:
            terminal += deals_in_round[r]
    exact_infosets = sum(game.num_exact_buckets[int(tree.round[n])] for n in tree.decision_nodes)
    return {"chance": chance, "decision": decision, "terminal": terminal,
            "infosets": exact_infosets}
