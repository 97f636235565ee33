"""No-limit Texas Hold'em for 2-6 players in the engine's game shape.

The betting tree comes from `holdem_lab.games.betting` (a bet-size menu per round, exact NLHE
min-raise rules, blinds and antes in the contributions). The card abstraction maps
(hole cards, visible board, round) to a bucket through the suit-isomorphic index of
`holdem_lab.cards.isomorphism`:

* without a bucket file: preflop lossless (169 classes), one bucket on each later round, the
  smallest abstraction that still runs the solver end to end;
* with a bucket file (`holdem-build-buckets`): one lookup table per round keyed by the index.

The bucket file's sha256 is part of the game's identity, so a run refuses to resume with other
buckets.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from holdem_lab.errors import GameError
from holdem_lab.games.betting import (
    BetSizing,
    TreeSize,
    build_holdem_tree,
    default_bet_sizing,
    holdem_tree_params,
    holdem_tree_size,
)
from holdem_lab.games.game import BUCKETS_HOLDEM, SHOWDOWN_HOLDEM, CardModel, Game

RANK_CHARS = "23456789TJQKA"
SUIT_CHARS = "cdhs"
PREFLOP_CLASSES = 169


def holdem_card_model() -> CardModel:
    """52 cards, card = 4 * rank + suit; two hole cards; 0, 3, 4, 5 board cards by round."""
    cards = np.arange(52)
    return CardModel(card_rank=(cards // 4).astype(np.int8),
                     card_suit=(cards % 4).astype(np.int8), hole_cards=2,
                     board_visible=(0, 3, 4, 5),
                     card_names=tuple(RANK_CHARS[c // 4] + SUIT_CHARS[c % 4] for c in cards))


@dataclass(frozen=True)
class HoldemSize:
    """A Hold'em game's size before it is built: its exact betting tree counts, the buckets
    per round and the bytes of the bucket tables the game would hold."""

    tree: TreeSize
    num_buckets: tuple[int, ...]
    bucket_table_bytes: int

    @property
    def infosets(self) -> int:
        return self.tree.infosets(self.num_buckets)


def _sizing(bet_sizing: BetSizing | Mapping[str, Any] | None, num_players: int) -> BetSizing:
    if isinstance(bet_sizing, Mapping):
        return BetSizing.from_dict(bet_sizing)
    if bet_sizing is None:
        return default_bet_sizing(num_players)
    if isinstance(bet_sizing, BetSizing):
        return bet_sizing
    raise GameError(f"bet_sizing={bet_sizing!r}: must be a mapping or a BetSizing")


def holdem_size(num_players: int = 2, stack: int | Sequence[int] = 200, small_blind: int = 1,
                big_blind: int = 2, ante: int = 0,
                bet_sizing: BetSizing | Mapping[str, Any] | None = None,
                buckets: str | Path | None = None, ante_type: str | None = None) -> HoldemSize:
    """The size of `holdem` with the same parameters, counted without building the tree (the
    bucket file, when given, is read and verified for its counts and table sizes)."""
    tree = holdem_tree_size(num_players=num_players, stacks=stack, small_blind=small_blind,
                            big_blind=big_blind, ante=ante,
                            sizing=_sizing(bet_sizing, num_players), ante_type=ante_type)
    if buckets is None:
        return HoldemSize(tree, (PREFLOP_CLASSES, 1, 1, 1), 0)
    from holdem_lab.abstraction.buckets import load_buckets

    loaded = load_buckets(buckets)
    arrays = [np.asarray(t) for t in loaded.tables]
    itemsize = np.result_type(*[a.dtype for a in arrays]).itemsize
    return HoldemSize(tree, tuple(int(c) for c in loaded.counts),
                      sum(a.shape[0] for a in arrays) * itemsize)


def holdem(num_players: int = 2, stack: int | Sequence[int] = 200, small_blind: int = 1,
           big_blind: int = 2, ante: int = 0,
           bet_sizing: BetSizing | Mapping[str, Any] | None = None,
           buckets: str | Path | None = None, ante_type: str | None = None) -> Game:
    """No-limit Hold'em: `stack` chips per seat (or one value per seat), blinds and ante in
    chips, a bet-size menu (`BetSizing` or its dict form; `default_bet_sizing(num_players)`
    when None) and an optional bucket file.
    `ante_type` is "none", "uniform" (every seat antes; the default when `ante` > 0) or
    "big_blind" (the big blind antes for the table, as dead money; holdem_lab.rules.table).
    A tree over `DEFAULT_MAX_NODES` nodes is refused, with its size, before anything is
    built."""
    sizing = _sizing(bet_sizing, num_players)
    tree = build_holdem_tree(num_players=num_players, stacks=stack, small_blind=small_blind,
                             big_blind=big_blind, ante=ante, sizing=sizing,
                             ante_type=ante_type)
    params: dict[str, Any] = {
        "num_players": num_players,
        "stack": list(stack) if isinstance(stack, Sequence) else stack,
        "small_blind": small_blind, "big_blind": big_blind, "ante": ante,
        "bet_sizing": sizing.as_dict(),
    }
    if holdem_tree_params(tree).table.big_blind_ante:
        params["ante_type"] = "big_blind"  # only then, so other games keep their identity
    if buckets is None:
        tables = np.zeros(0, dtype=np.uint8)
        offsets = np.zeros(5, dtype=np.int64)
        counts: tuple[int, ...] = (PREFLOP_CLASSES, 1, 1, 1)
        bucket_hash = None
    else:
        from holdem_lab.abstraction.buckets import load_buckets

        loaded = load_buckets(buckets)
        arrays = [np.asarray(t) for t in loaded.tables]
        dtype = np.result_type(*[a.dtype for a in arrays])
        tables = np.concatenate([a.astype(dtype, copy=False) for a in arrays])
        offsets = np.zeros(5, dtype=np.int64)
        offsets[1:] = np.cumsum([a.shape[0] for a in arrays])
        counts = tuple(int(c) for c in loaded.counts)
        bucket_hash = loaded.sha256
        params["buckets"] = str(buckets)
    names = (tuple(_preflop_names()) if counts[0] == PREFLOP_CLASSES
             else tuple(f"pre{b}" for b in range(counts[0])),) + tuple(
        tuple(f"{street}{b}" for b in range(count))
        for street, count in zip(("flop", "turn", "river"), counts[1:], strict=True))
    dummy = np.zeros((4, 1, 1), dtype=np.int32)
    return Game(name="holdem", params=params, tree=tree, cards=holdem_card_model(),
                showdown_kind=SHOWDOWN_HOLDEM, bucket_kind=BUCKETS_HOLDEM, num_buckets=counts,
                small_bucket_table=dummy, exact_bucket_table=dummy,
                num_exact_buckets=counts, bucket_names=names, bucket_hash=bucket_hash,
                holdem_bucket_tables=tables, holdem_table_offsets=offsets)


def _preflop_names() -> list[str]:
    from holdem_lab.cards.isomorphism import preflop_class_name

    return [preflop_class_name(i) for i in range(PREFLOP_CLASSES)]

