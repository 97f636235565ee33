"""Table-driven poker hand evaluation for 5, 6 and 7 cards, compiled with numba.

Value convention
----------------
Every evaluator returns the *hand value*, an integer in ``1..7462``: higher is better, equal
values tie. The 7,462 values are exactly the 7,462 equivalence classes of five-card poker hands
in their standard order (1 is 7-5-4-3-2 offsuit, 7462 a royal flush), so a value can index a
table. Values of a category form one contiguous block: `CATEGORY_FIRST_VALUE` holds the first
value of each category and `hand_category` maps a value to its category (0 high card ...
8 straight flush, named in `CATEGORY_NAMES`). For 6 and 7 cards the value is that of the best
five-card hand among them.

Algorithm
---------
*Rank part.* Without a flush, the value of a hand depends only on the multiset of its ranks.
Each rank ``r`` has a key ``RANK_KEYS[r]`` chosen so that all sums of at most seven keys with at
most four copies of each key are distinct. The keys are the greedy sequence with that property:
each is the smallest integer above the previous one that keeps the sums distinct (key 0 for the
deuce acts as padding). Adding the keys of a hand's cards therefore names its rank multiset by
one integer below 2**23. A minimal perfect hash of the displacement kind (Tarjan and Yao, "Storing
a sparse table", CACM 1979) turns that integer into a slot: the low ``ROW_BITS`` bits pick a row,
the row's displacement plus the remaining high bits give the slot, and the slot holds the value::

    value = HASHn_VALUE[HASHn_OFFSET[key & (2**ROW_BITS - 1)] + (key >> ROW_BITS)]

The displacements are found at import by first-fit placement of the rows in decreasing order of
size; the tables for 7 cards hold 49,205 rank multisets in about 50,000 slots (~100 KB) plus a
32 KB displacement table, so both stay in the L2 cache.

*Flush part.* Each card's key also adds 1 to a 4-bit counter for its suit (bits 0-15). The
counters start at 3, so a suit holding five or more cards sets bit 3 of its nibble
(``key & 0x8888``). With at most seven cards only one suit can do so, and a flush then rules out
quads and full houses, so the hand's value is the value of the flush suit's 13-bit rank mask in
the 8,192-entry `FLUSH_VALUE` table (straight flushes included).

All tables are built deterministically with numpy (and one small numba helper) when the module is
first imported, in a fraction of a second; nothing is read from disk.

Calling from numba
------------------
The scalar kernels `eval7_kernel`, `eval6_kernel` and `eval5_kernel` are ``@njit`` functions
taking the card ints as separate integer arguments, e.g. ``eval7_kernel(c0, c1, c2, c3, c4, c5,
c6) -> int32``. They read the module-level tables as globals, which numba freezes into the
compiled code as constants, so other ``@njit`` code can call them with no extra arguments. They
do not validate their input: cards must be distinct ints in ``0..51``.
"""

from __future__ import annotations

import itertools
from collections import Counter
from typing import Any

import numpy as np
import numpy.typing as npt
from numba import njit

from holdem_lab.cards.deck import NUM_CARDS, parse_card, parse_cards
from holdem_lab.errors import GameError

__all__ = [
    "CATEGORY_FIRST_VALUE",
    "CATEGORY_NAMES",
    "NUM_HAND_VALUES",
    "RANK_KEYS",
    "eval5_kernel",
    "eval6_kernel",
    "eval7_kernel",
    "evaluate5",
    "evaluate6",
    "evaluate7",
    "hand_category",
    "hand_category_kernel",
]

NUM_HAND_VALUES = 7462
"""Number of distinct hand values (five-card equivalence classes)."""

CATEGORY_NAMES: tuple[str, ...] = (
    "high card",
    "one pair",
    "two pair",
    "three of a kind",
    "straight",
    "flush",
    "full house",
    "four of a kind",
    "straight flush",
)
"""Names of the categories returned by `hand_category`, weakest first."""

_CLASSES_PER_CATEGORY = (1277, 2860, 858, 858, 10, 1277, 156, 156, 10)
CATEGORY_FIRST_VALUE = np.concatenate(([1], 1 + np.cumsum(_CLASSES_PER_CATEGORY)[:-1])).astype(
    np.int32
)
"""First (weakest) value of each category; category ``c`` spans values
``CATEGORY_FIRST_VALUE[c] .. CATEGORY_FIRST_VALUE[c + 1] - 1``."""

RANK_KEYS = np.array(
    [0, 1, 5, 24, 112, 521, 2247, 9244, 30823, 103066, 250154, 667453, 1526359], dtype=np.int64
)
"""Per-rank keys (deuce..ace) whose sums over at most seven ranks, each used at most four times,
are all distinct; see the module docstring."""

_SUIT_SHIFT = 16  # rank-key sum lives above the four suit counters
_SUIT_COUNTERS_START = 0x3333  # each 4-bit suit counter starts at 3 ...
_FLUSH_BITS = 0x8888  # ... so bit 3 of a nibble means five or more cards of that suit
_ROW_BITS_5 = 12
_ROW_BITS_6 = 13
_ROW_BITS_7 = 13
_ROW_MASK_5 = (1 << _ROW_BITS_5) - 1
_ROW_MASK_6 = (1 << _ROW_BITS_6) - 1
_ROW_MASK_7 = (1 << _ROW_BITS_7) - 1


# --------------------------------------------------------------------------------------------
# Table construction
# --------------------------------------------------------------------------------------------


def _rank_multisets(n: int) -> npt.NDArray[np.int64]:
    """All multisets of ``n`` ranks with at most four copies of a rank, as sorted rows."""
    combos = np.array(list(itertools.combinations_with_replacement(range(13), n)), np.int64)
    counts = np.zeros((len(combos), 13), np.int64)
    rows = np.arange(len(combos))
    for j in range(n):
        counts[rows, combos[:, j]] += 1
    return combos[counts.max(axis=1) <= 4]


def _straight_top(ranks: frozenset[int]) -> int:
    """Top rank of the straight made by five distinct ranks, or -1 (the wheel's top is the 5)."""
    if len(ranks) != 5:
        return -1
    if max(ranks) - min(ranks) == 4:
        return max(ranks)
    if ranks == frozenset((12, 0, 1, 2, 3)):
        return 3
    return -1


def _five_card_score(ranks: tuple[int, ...], flush: bool) -> int:
    """An integer ordering five-card hands like poker does: category first, then tie-breaks."""
    counts = Counter(ranks)
    groups = sorted(counts.items(), key=lambda rc: (rc[1], rc[0]), reverse=True)
    pattern = tuple(c for _, c in groups)
    order = [r for r, _ in groups]
    top = _straight_top(frozenset(ranks))
    if top >= 0:
        category, order = (8 if flush else 4), [top]
    elif flush:
        category = 5
    else:
        category = {
            (1, 1, 1, 1, 1): 0,
            (2, 1, 1, 1): 1,
            (2, 2, 1): 2,
            (3, 1, 1): 3,
            (3, 2): 6,
            (4, 1): 7,
        }[pattern]
    score = category
    for i in range(5):
        score = score * 13 + (order[i] if i < len(order) else 0)
    return score


def _build_class_values() -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], dict[int, int]]:
    """Values of the five-card classes.

    Returns the sorted base-13 codes of the non-flush five-rank multisets, their values (aligned),
    and a map from flush rank masks (five bits) to their values.
    """
    multisets = _rank_multisets(5)
    plain_scores = [_five_card_score(tuple(row), False) for row in multisets.tolist()]
    flush_masks = [sum(1 << r for r in c) for c in itertools.combinations(range(13), 5)]
    flush_scores = [
        _five_card_score(tuple(r for r in range(13) if m >> r & 1), True) for m in flush_masks
    ]
    all_scores = np.array(sorted(set(plain_scores + flush_scores)), dtype=np.int64)
    if all_scores.size != NUM_HAND_VALUES:
        raise RuntimeError("five-card class enumeration is inconsistent")
    plain_values = np.searchsorted(all_scores, plain_scores) + 1
    flush_values = np.searchsorted(all_scores, flush_scores) + 1
    codes = multisets @ (13 ** np.arange(5, dtype=np.int64))
    order = np.argsort(codes)
    flush_value_of = dict(zip(flush_masks, flush_values.tolist(), strict=True))
    return codes[order], plain_values[order].astype(np.int64), flush_value_of


def _best_of_subsets(
    multisets: npt.NDArray[np.int64], codes5: npt.NDArray[np.int64], values5: npt.NDArray[np.int64]
) -> npt.NDArray[np.int64]:
    """Value of the best five-rank sub-multiset of each row (rows are sorted multisets)."""
    n = multisets.shape[1]
    subsets = np.array(list(itertools.combinations(range(n), 5)), dtype=np.int64)
    sub = multisets[:, subsets]  # (m, C(n,5), 5), each row still sorted
    codes = sub @ (13 ** np.arange(5, dtype=np.int64))
    values = values5[np.searchsorted(codes5, codes)]
    return values.max(axis=1)


def _build_flush_table(flush_value_of: dict[int, int]) -> npt.NDArray[np.int16]:
    """Best flush (or straight flush) value for each 13-bit rank mask with >= 5 bits, else 0."""
    table = np.zeros(1 << 13, dtype=np.int16)
    straights = [(top, sum(1 << r for r in range(top - 4, top + 1))) for top in range(12, 3, -1)]
    straights.append((3, 0b1_0000_0000_1111))  # the wheel A-2-3-4-5
    for mask in range(1 << 13):
        if mask.bit_count() < 5:
            continue
        best = -1
        for _, need in straights:
            if mask & need == need:
                best = flush_value_of[need]
                break
        if best < 0:
            top5 = mask
            while top5.bit_count() > 5:
                top5 &= top5 - 1  # drop the lowest rank
            best = flush_value_of[top5]
        table[mask] = best
    return table


@njit(cache=True)
def _next_free(nxt: np.ndarray, i: int) -> int:
    """Smallest free slot >= i in a union-find "next free" forest (with path compression)."""
    root = i
    while nxt[root] != root:
        root = nxt[root]
    while nxt[i] != root:
        j = nxt[i]
        nxt[i] = root
        i = j
    return root


@njit(cache=True)
def _displace(keys: np.ndarray, row_bits: int) -> tuple[np.ndarray, int]:
    """Displacements for a minimal perfect hash of distinct ascending ``keys``.

    Row ``key & (2**row_bits - 1)`` holds the column ``key >> row_bits``. Rows are placed in
    decreasing order of size (ties by row number, so the result is deterministic); each gets
    the smallest displacement that puts all its columns on free slots. Returns the displacement
    per row and the number of slots used.
    """
    nrows = 1 << row_bits
    mask = nrows - 1
    n = keys.shape[0]
    count = np.zeros(nrows, np.int64)
    max_col = 0
    for i in range(n):
        count[keys[i] & mask] += 1
        max_col = max(max_col, keys[i] >> row_bits)
    start = np.zeros(nrows + 1, np.int64)
    for r in range(nrows):
        start[r + 1] = start[r] + count[r]
    fill = start[:-1].copy()
    cols = np.empty(n, np.int64)
    for i in range(n):  # keys ascending, so each row's columns come out ascending
        r = keys[i] & mask
        cols[fill[r]] = keys[i] >> row_bits
        fill[r] += 1
    order = np.argsort(-count, kind="mergesort")
    cap = 2 * n + 2 * max_col + 2
    occupied = np.zeros(cap, np.bool_)
    nxt = np.arange(cap + 1)
    offsets = np.zeros(nrows, np.int64)
    size = 0
    for t in range(nrows):
        r = order[t]
        if count[r] == 0:
            break
        first = cols[start[r]]
        slot = _next_free(nxt, first)
        while True:
            offset = slot - first
            fits = True
            for j in range(start[r] + 1, start[r + 1]):
                if occupied[offset + cols[j]]:
                    fits = False
                    break
            if fits:
                break
            slot = _next_free(nxt, slot + 1)
        offsets[r] = offset
        for j in range(start[r], start[r + 1]):
            p = offset + cols[j]
            occupied[p] = True
            nxt[p] = p + 1
            size = max(size, p + 1)
    return offsets, size


def _build_hash(
    n: int, row_bits: int, codes5: npt.NDArray[np.int64], values5: npt.NDArray[np.int64]
) -> tuple[npt.NDArray[np.int32], npt.NDArray[np.int16]]:
    """Perfect-hash tables mapping the rank-key sum of ``n`` non-flush cards to the hand value."""
    multisets = _rank_multisets(n)
    values = _best_of_subsets(multisets, codes5, values5)
    keys = RANK_KEYS[multisets].sum(axis=1)
    order = np.argsort(keys)
    keys, values = keys[order], values[order]
    if np.any(keys[1:] == keys[:-1]):
        raise RuntimeError("RANK_KEYS do not separate rank multisets")
    offsets, size = _displace(keys, row_bits)
    slots = offsets[keys & ((1 << row_bits) - 1)] + (keys >> row_bits)
    # Pad so that any n cards in 0..51, even repeated ones, hash inside the table.
    size = max(size, int(offsets.max()) + (n * int(RANK_KEYS[-1]) >> row_bits) + 1)
    table = np.zeros(size, dtype=np.int16)
    table[slots] = values
    return offsets.astype(np.int32), table


def _build_tables() -> tuple[npt.NDArray[np.int16 | np.int32], ...]:
    codes5, values5, flush_value_of = _build_class_values()
    flush = _build_flush_table(flush_value_of)
    h5 = _build_hash(5, _ROW_BITS_5, codes5, values5)
    h6 = _build_hash(6, _ROW_BITS_6, codes5, values5)
    h7 = _build_hash(7, _ROW_BITS_7, codes5, values5)
    return flush, *h5, *h6, *h7


CARD_KEY = (RANK_KEYS[np.arange(NUM_CARDS) >> 2] << _SUIT_SHIFT) + (
    1 << (4 * (np.arange(NUM_CARDS, dtype=np.int64) & 3))
)
"""Per-card key: rank key shifted above the suit counters, plus 1 in the card's suit counter."""

(
    FLUSH_VALUE,
    HASH5_OFFSET,
    HASH5_VALUE,
    HASH6_OFFSET,
    HASH6_VALUE,
    HASH7_OFFSET,
    HASH7_VALUE,
) = _build_tables()

VALUE_CATEGORY = np.zeros(NUM_HAND_VALUES + 1, dtype=np.int8)
"""Category of each value (index 0 is unused)."""
for _c, _first in enumerate(CATEGORY_FIRST_VALUE.tolist()):
    VALUE_CATEGORY[_first:] = _c


# --------------------------------------------------------------------------------------------
# Kernels
# --------------------------------------------------------------------------------------------


@njit(cache=True, inline="always")
def _flush_suit(key: int) -> int:
    if key & 0x8:
        return 0
    if key & 0x80:
        return 1
    if key & 0x800:
        return 2
    return 3


@njit(cache=True, inline="always")
def _rank_bit_if_suit(card: int, suit: int) -> int:
    return (1 << (card >> 2)) if (card & 3) == suit else 0


@njit(cache=True, inline="always")
def eval7_kernel(c0: int, c1: int, c2: int, c3: int, c4: int, c5: int, c6: int) -> np.int32:
    """Value (1..7462, higher is better) of the best five of seven distinct cards.

    Callable from other ``@njit`` code; arguments are card ints ``0..51`` (any integer type) and
    are not validated.
    """
    key = (
        _SUIT_COUNTERS_START
        + CARD_KEY[np.uint8(c0)]
        + CARD_KEY[np.uint8(c1)]
        + CARD_KEY[np.uint8(c2)]
        + CARD_KEY[np.uint8(c3)]
        + CARD_KEY[np.uint8(c4)]
        + CARD_KEY[np.uint8(c5)]
        + CARD_KEY[np.uint8(c6)]
    )
    if key & _FLUSH_BITS:
        s = _flush_suit(key)
        mask = (
            _rank_bit_if_suit(c0, s)
            | _rank_bit_if_suit(c1, s)
            | _rank_bit_if_suit(c2, s)
            | _rank_bit_if_suit(c3, s)
            | _rank_bit_if_suit(c4, s)
            | _rank_bit_if_suit(c5, s)
            | _rank_bit_if_suit(c6, s)
        )
        return np.int32(FLUSH_VALUE[np.uint64(mask)])
    r = key >> _SUIT_SHIFT
    slot = HASH7_OFFSET[np.uint64(r & _ROW_MASK_7)] + (r >> _ROW_BITS_7)
    return np.int32(HASH7_VALUE[np.uint64(slot)])


@njit(cache=True, inline="always")
def eval6_kernel(c0: int, c1: int, c2: int, c3: int, c4: int, c5: int) -> np.int32:
    """Value (1..7462) of the best five of six distinct cards; see `eval7_kernel`."""
    key = (
        _SUIT_COUNTERS_START
        + CARD_KEY[np.uint8(c0)]
        + CARD_KEY[np.uint8(c1)]
        + CARD_KEY[np.uint8(c2)]
        + CARD_KEY[np.uint8(c3)]
        + CARD_KEY[np.uint8(c4)]
        + CARD_KEY[np.uint8(c5)]
    )
    if key & _FLUSH_BITS:
        s = _flush_suit(key)
        mask = (
            _rank_bit_if_suit(c0, s)
            | _rank_bit_if_suit(c1, s)
            | _rank_bit_if_suit(c2, s)
            | _rank_bit_if_suit(c3, s)
            | _rank_bit_if_suit(c4, s)
            | _rank_bit_if_suit(c5, s)
        )
        return np.int32(FLUSH_VALUE[np.uint64(mask)])
    r = key >> _SUIT_SHIFT
    slot = HASH6_OFFSET[np.uint64(r & _ROW_MASK_6)] + (r >> _ROW_BITS_6)
    return np.int32(HASH6_VALUE[np.uint64(slot)])


@njit(cache=True, inline="always")
def eval5_kernel(c0: int, c1: int, c2: int, c3: int, c4: int) -> np.int32:
    """Value (1..7462) of five distinct cards; see `eval7_kernel`."""
    key = (
        _SUIT_COUNTERS_START
        + CARD_KEY[np.uint8(c0)]
        + CARD_KEY[np.uint8(c1)]
        + CARD_KEY[np.uint8(c2)]
        + CARD_KEY[np.uint8(c3)]
        + CARD_KEY[np.uint8(c4)]
    )
    if key & _FLUSH_BITS:
        mask = (1 << (c0 >> 2)) | (1 << (c1 >> 2)) | (1 << (c2 >> 2))
        mask |= (1 << (c3 >> 2)) | (1 << (c4 >> 2))
        return np.int32(FLUSH_VALUE[np.uint64(mask)])
    r = key >> _SUIT_SHIFT
    slot = HASH5_OFFSET[np.uint64(r & _ROW_MASK_5)] + (r >> _ROW_BITS_5)
    return np.int32(HASH5_VALUE[np.uint64(slot)])


@njit(cache=True, inline="always")
def hand_category_kernel(value: int) -> int:
    """Category 0..8 (high card .. straight flush) of a hand value; ``@njit``-callable."""
    return VALUE_CATEGORY[value]


@njit(cache=True, inline="always")
def _card_bit(card: int) -> np.uint64:
    return np.uint64(1) << (np.uint64(card) & np.uint64(63))


@njit(cache=True, inline="always")
def _invalid(bits_or: Any, bits_sum: Any, cards_or: Any) -> Any:
    """True unless every card is in 0..51 and no card repeats.

    ``cards_or`` is the OR of the cards as unsigned ints (a negative card wraps to a huge value,
    so the OR is >= 64 exactly when some card is outside 0..63); ``bits_or`` and ``bits_sum``
    are the OR and the sum of ``1 << card``, which differ exactly when a card repeats; bits 52..63
    of ``bits_or`` flag cards 52..63.
    """
    return ((cards_or | (bits_or >> np.uint64(52))) >= np.uint64(64)) | (bits_or != bits_sum)


@njit(cache=True)
def _eval7_batch(cards: np.ndarray, out: np.ndarray) -> int:
    """Fill ``out`` with the values of the rows of ``cards``.

    Returns -1, or the first row holding a card outside 0..51 or a repeated card (rows from
    there on are left unevaluated).
    """
    for i in range(cards.shape[0]):
        c0, c1, c2, c3 = cards[i, 0], cards[i, 1], cards[i, 2], cards[i, 3]
        c4, c5, c6 = cards[i, 4], cards[i, 5], cards[i, 6]
        b0, b1, b2, b3 = _card_bit(c0), _card_bit(c1), _card_bit(c2), _card_bit(c3)
        b4, b5, b6 = _card_bit(c4), _card_bit(c5), _card_bit(c6)
        u = (
            np.uint64(c0)
            | np.uint64(c1)
            | np.uint64(c2)
            | np.uint64(c3)
            | np.uint64(c4)
            | np.uint64(c5)
            | np.uint64(c6)
        )
        if _invalid(b0 | b1 | b2 | b3 | b4 | b5 | b6, b0 + b1 + b2 + b3 + b4 + b5 + b6, u):
            return i
        out[i] = eval7_kernel(c0, c1, c2, c3, c4, c5, c6)
    return -1


@njit(cache=True)
def _eval6_batch(cards: np.ndarray, out: np.ndarray) -> int:
    """Like `_eval7_batch` for six cards."""
    for i in range(cards.shape[0]):
        c0, c1, c2 = cards[i, 0], cards[i, 1], cards[i, 2]
        c3, c4, c5 = cards[i, 3], cards[i, 4], cards[i, 5]
        b0, b1, b2 = _card_bit(c0), _card_bit(c1), _card_bit(c2)
        b3, b4, b5 = _card_bit(c3), _card_bit(c4), _card_bit(c5)
        u = (
            np.uint64(c0)
            | np.uint64(c1)
            | np.uint64(c2)
            | np.uint64(c3)
            | np.uint64(c4)
            | np.uint64(c5)
        )
        if _invalid(b0 | b1 | b2 | b3 | b4 | b5, b0 + b1 + b2 + b3 + b4 + b5, u):
            return i
        out[i] = eval6_kernel(c0, c1, c2, c3, c4, c5)
    return -1


@njit(cache=True)
def _eval5_batch(cards: np.ndarray, out: np.ndarray) -> int:
    """Like `_eval7_batch` for five cards."""
    for i in range(cards.shape[0]):
        c0, c1, c2, c3, c4 = cards[i, 0], cards[i, 1], cards[i, 2], cards[i, 3], cards[i, 4]
        b0, b1, b2 = _card_bit(c0), _card_bit(c1), _card_bit(c2)
        b3, b4 = _card_bit(c3), _card_bit(c4)
        u = np.uint64(c0) | np.uint64(c1) | np.uint64(c2) | np.uint64(c3) | np.uint64(c4)
        if _invalid(b0 | b1 | b2 | b3 | b4, b0 + b1 + b2 + b3 + b4, u):
            return i
        out[i] = eval5_kernel(c0, c1, c2, c3, c4)
    return -1


@njit(cache=True)
def _eval7_batch_unchecked(cards: np.ndarray, out: np.ndarray) -> int:
    """`_eval7_batch` without the repeated-card check (cards are known to be in 0..51)."""
    for i in range(cards.shape[0]):
        c0, c1, c2, c3 = cards[i, 0], cards[i, 1], cards[i, 2], cards[i, 3]
        out[i] = eval7_kernel(c0, c1, c2, c3, cards[i, 4], cards[i, 5], cards[i, 6])
    return -1


@njit(cache=True)
def _eval6_batch_unchecked(cards: np.ndarray, out: np.ndarray) -> int:
    """`_eval6_batch` without the repeated-card check (cards are known to be in 0..51)."""
    for i in range(cards.shape[0]):
        out[i] = eval6_kernel(
            cards[i, 0], cards[i, 1], cards[i, 2], cards[i, 3], cards[i, 4], cards[i, 5]
        )
    return -1


@njit(cache=True)
def _eval5_batch_unchecked(cards: np.ndarray, out: np.ndarray) -> int:
    """`_eval5_batch` without the repeated-card check (cards are known to be in 0..51)."""
    for i in range(cards.shape[0]):
        out[i] = eval5_kernel(cards[i, 0], cards[i, 1], cards[i, 2], cards[i, 3], cards[i, 4])
    return -1


# --------------------------------------------------------------------------------------------
# Python API
# --------------------------------------------------------------------------------------------

_INT_KINDS = "iu"


def _hand_error(hand: list[object]) -> GameError:
    """The error describing what is wrong with one hand (bad card or repeated card)."""
    for c in hand:
        if isinstance(c, bool) or not isinstance(c, int | np.integer) or not 0 <= c < NUM_CARDS:
            return GameError(f"invalid card {c!r}: expected an integer in 0..51")
    return GameError(f"repeated card in hand {[int(c) for c in hand]}")  # type: ignore[call-overload]


def _single_hand(cards: str | np.ndarray | list[object] | tuple[object, ...], k: int) -> list[int]:
    """One validated hand of ``k`` cards as Python ints (accepts ints and card text)."""
    if isinstance(cards, str):
        items: list[object] = list(parse_cards(cards).tolist())
    elif isinstance(cards, np.ndarray):
        items = list(cards.tolist())
    else:
        items = list(cards)
    if len(items) != k:
        raise GameError(f"expected {k} cards or an (n, {k}) array of cards, got {cards!r}")
    hand = [parse_card(c) if isinstance(c, str) else c for c in items]
    for c in hand:
        if isinstance(c, bool) or not isinstance(c, int | np.integer) or not 0 <= c < NUM_CARDS:
            raise _hand_error(hand)
    if len(set(hand)) != k:
        raise _hand_error(hand)
    return [int(c) for c in hand]  # type: ignore[call-overload]


def _evaluate(
    cards: object, k: int, kernel: object, batches: tuple[object, object], check: bool
) -> int | npt.NDArray[np.int32]:
    if not isinstance(cards, str | np.ndarray | list | tuple):
        raise GameError(f"invalid cards {cards!r}: expected card ints 0..51 or card text")
    nested = isinstance(cards, list | tuple) and bool(cards) and not np.isscalar(cards[0])
    if nested or isinstance(cards, np.ndarray) and cards.ndim == 2:
        arr = np.asarray(cards)
        if arr.ndim != 2 or arr.shape[1] != k:
            raise GameError(f"expected an (n, {k}) array of cards, got shape {arr.shape}")
        if arr.dtype.kind not in _INT_KINDS:
            if arr.size:
                raise GameError(f"invalid cards of dtype {arr.dtype}: expected integers 0..51")
            arr = arr.astype(np.int8)
        out = np.empty(arr.shape[0], dtype=np.int32)
        if not check and arr.size and (int(arr.min()) < 0 or int(arr.max()) >= NUM_CARDS):
            bad_value = int(arr.min()) if int(arr.min()) < 0 else int(arr.max())
            raise GameError(f"invalid card {bad_value}: expected an integer in 0..51")
        bad = batches[0 if check else 1](arr, out)  # type: ignore[operator]
        if bad >= 0:
            raise _hand_error(arr[bad].tolist())
        return out
    if isinstance(cards, np.ndarray) and cards.ndim != 1:
        raise GameError(f"expected {k} cards or an (n, {k}) array, got shape {cards.shape}")
    return int(kernel(*_single_hand(cards, k)))  # type: ignore[operator]


def evaluate7(cards: object, *, check: bool = True) -> int | npt.NDArray[np.int32]:
    """Value(s) of seven-card hands: 1..7462, higher is better, equal values tie.

    ``cards`` is either one hand -- seven card ints, card strings, or text such as
    ``"AsKd 2c3c4c5c6c"`` -- giving an ``int``, or an ``(n, 7)`` integer array (any integer
    dtype; ``int8`` is fastest) giving an ``int32`` array of ``n`` values. A card outside 0..51,
    or a card repeated within a hand, raises `GameError`. For a batch, ``check=False`` skips the
    per-hand repeated-card test (about 40% faster); cards are still range-checked, and a hand
    with a repeated card then gets a meaningless value.
    """
    return _evaluate(cards, 7, eval7_kernel, (_eval7_batch, _eval7_batch_unchecked), check)


def evaluate6(cards: object, *, check: bool = True) -> int | npt.NDArray[np.int32]:
    """Value(s) of the best five of six cards; same conventions as `evaluate7`."""
    return _evaluate(cards, 6, eval6_kernel, (_eval6_batch, _eval6_batch_unchecked), check)


def evaluate5(cards: object, *, check: bool = True) -> int | npt.NDArray[np.int32]:
    """Value(s) of five-card hands; same conventions as `evaluate7`."""
    return _evaluate(cards, 5, eval5_kernel, (_eval5_batch, _eval5_batch_unchecked), check)


def hand_category(value: int | npt.ArrayLike) -> int | npt.NDArray[np.int8]:
    """Category 0..8 (index into `CATEGORY_NAMES`) of a hand value or an array of values."""
    arr = np.asarray(value)
    if arr.dtype.kind not in _INT_KINDS or (
        arr.size and (int(arr.min()) < 1 or int(arr.max()) > NUM_HAND_VALUES)
    ):
        raise GameError(f"invalid hand value {value!r}: expected integers in 1..{NUM_HAND_VALUES}")
    cats = VALUE_CATEGORY[arr]
    return int(cats) if cats.ndim == 0 else cats
