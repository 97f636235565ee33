"""The card layer: card encoding, a table-driven hand evaluator and suit-isomorphic hand indexing.

* `holdem_lab.cards.deck` -- cards are ints ``4 * rank + suit`` (rank 0..12 = 2..A, suit
  0..3 = c, d, h, s); parsing and formatting.
* `holdem_lab.cards.evaluator` -- 5/6/7-card hand values (1..7462, higher is better), with
  ``@njit`` kernels for use inside other numba code.
* `holdem_lab.cards.isomorphism` -- Waugh's (2013) bijection between suit-isomorphism classes of
  hands and ``0..N-1`` for each betting round, its inverse, and preflop class names.

The evaluator and isomorphism modules build their lookup tables when first imported, so they are
loaded lazily: importing ``holdem_lab.cards`` (or its ``deck`` module) stays cheap until one of
their names is used.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from holdem_lab.cards.deck import (
    NUM_CARDS,
    NUM_RANKS,
    NUM_SUITS,
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

if TYPE_CHECKING:
    from holdem_lab.cards.evaluator import (
        CATEGORY_FIRST_VALUE,
        CATEGORY_NAMES,
        NUM_HAND_VALUES,
        eval5_kernel,
        eval6_kernel,
        eval7_kernel,
        evaluate5,
        evaluate6,
        evaluate7,
        hand_category,
        hand_category_kernel,
    )
    from holdem_lab.cards.isomorphism import (
        FLOP,
        LAYOUT_CARDS,
        LAYOUT_GROUPS,
        LAYOUT_SIZES,
        PREFLOP,
        RIVER,
        RIVER_PERFECT_RECALL,
        TURN,
        TURN_PERFECT_RECALL,
        canonical_form,
        index_hand,
        index_hands,
        index_kernel,
        preflop_class,
        preflop_class_kernel,
        preflop_class_name,
        preflop_class_of_name,
        preflop_grid,
        preflop_grid_position,
        round_size,
        unindex_hand,
        unindex_hands,
        unindex_kernel,
    )

_LAZY = {
    "holdem_lab.cards.evaluator": (
        "CATEGORY_FIRST_VALUE",
        "CATEGORY_NAMES",
        "NUM_HAND_VALUES",
        "eval5_kernel",
        "eval6_kernel",
        "eval7_kernel",
        "evaluate5",
        "evaluate6",
        "evaluate7",
        "hand_category",
        "hand_category_kernel",
    ),
    "holdem_lab.cards.isomorphism": (
        "FLOP",
        "LAYOUT_CARDS",
        "LAYOUT_GROUPS",
        "LAYOUT_SIZES",
        "PREFLOP",
        "RIVER",
        "RIVER_PERFECT_RECALL",
        "TURN",
        "TURN_PERFECT_RECALL",
        "canonical_form",
        "index_hand",
        "index_hands",
        "index_kernel",
        "preflop_class",
        "preflop_class_kernel",
        "preflop_class_name",
        "preflop_class_of_name",
        "preflop_grid",
        "preflop_grid_position",
        "round_size",
        "unindex_hand",
        "unindex_hands",
        "unindex_kernel",
    ),
}
_MODULE_OF = {name: module for module, names in _LAZY.items() for name in names}


def __getattr__(name: str) -> Any:
    """Load the evaluator or isomorphism module on first use of one of its names."""
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


__all__ = [
    "CATEGORY_FIRST_VALUE",
    "CATEGORY_NAMES",
    "FLOP",
    "LAYOUT_CARDS",
    "LAYOUT_GROUPS",
    "LAYOUT_SIZES",
    "NUM_CARDS",
    "NUM_HAND_VALUES",
    "NUM_RANKS",
    "NUM_SUITS",
    "PREFLOP",
    "RANKS",
    "RIVER",
    "RIVER_PERFECT_RECALL",
    "SUITS",
    "TURN",
    "TURN_PERFECT_RECALL",
    "canonical_form",
    "card_rank",
    "card_str",
    "card_suit",
    "cards_str",
    "eval5_kernel",
    "eval6_kernel",
    "eval7_kernel",
    "evaluate5",
    "evaluate6",
    "evaluate7",
    "full_deck",
    "hand_category",
    "hand_category_kernel",
    "index_hand",
    "index_hands",
    "index_kernel",
    "make_card",
    "parse_card",
    "parse_cards",
    "preflop_class",
    "preflop_class_kernel",
    "preflop_class_name",
    "preflop_class_of_name",
    "preflop_grid",
    "preflop_grid_position",
    "round_size",
    "sample_hands",
    "unindex_hand",
    "unindex_hands",
    "unindex_kernel",
]
