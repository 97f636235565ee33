"""Table-driven poker hand evaluation for 5, 6 and 7 cards, compiled with numba.

Value convention
----------------
Every evaluator returns the *hand value*, an integer in ``1..7462``: higher is better, equal
values tie. The 7,462 values are exactly the 7,462 equivalence classes of five-card poker hands
in their standard order (1 is 7-5-4-3-2 in mixed suits, 7462 a royal flush), so a value can index a
table. Values of a category form one contiguous block: `CATEGORY_FIRST_VALUE` holds the first
value of each category and `hand_category` maps a value to its category (0 high card ...
8 straight flush, named in `CATEGORY_NAMES`). For 6 and 7 cards the value is that of the best
five-card hand among them.

Algorithm
---------
*Rank part.* Without a flush, the value of a hand depends only on the multiset of its ranks.
Each rank ``r`` has a key ``RANK_KEYS[r]``: 0 for the deuce, and for the other ranks the greedy
sequence in which each key is the smallest integer above the previous one such that all
multisets of at most seven of the ranks 3..A so far, with at most four copies of each, have
distinct key sums. A multiset of n cards is determined by its part without deuces (the deuces
make up the rest), so adding the keys of a hand's cards names its rank multiset by one integer
below 2**23. A perfect hash of the row-displacement kind (Tarjan and Yao, "Storing a sparse
table", CACM 22(11), 1979) turns that integer into a slot: the low ``ROW_BITS`` bits pick a row,
the row's displacement plus the remaining high bits give the slot, and the slot holds the value::

    value = HASHn_VALUE[HASHn_OFFSET[key & (2**ROW_BITS - 1)] + (key >> ROW_BITS)]

The displacements are found at import by first-fit placement of the rows in decreasing order of
size. For 7 cards the 49,205 rank multisets fill 49,205 consecutive slots (the value table is
padded to ~50,000 int16 entries, ~100 KB, so that even invalid input stays in bounds) and the
displacement table has 16,384 int32 entries (64 KB); both stay in the L2 cache.

*Flush part.* Each card's key also adds 1 to a 4-bit counter for its suit (bits 0-15). The
counters start at 3, so a suit holding five or more cards sets bit 3 of its nibble
(``key & 0x8888``). With at most seven cards only one suit can do so, and a flush then rules out
quads and full houses, so the hand's value is the value of the flush suit's 13-bit rank mask in
the 8,192-entry `FLUSH_VALUE` table (straight flushes included).

All tables are built deterministically with numpy (and one small numba helper for the row
placement) the first time the module is imported after its code changed; the result is kept on
disk and read by later processes (`holdem_lab.cards.tablecache`, keyed by the sha256 of this
file and of `holdem_lab.cards.deck`).

Calling from numba
------------------
The scalar kernels `eval7_kernel`, `eval6_kernel` and `eval5_kernel` are ``@njit`` functions
taking the card ints (any integer type) as separate arguments, e.g. ``eval7_kernel(c0, c1, c2,
c3, c4, c5, c6) -> int32``. They read the module-level tables as globals, which numba freezes
into the compiled code as constants, so other ``@njit`` code calls them with no extra arguments;
they are declared ``inline="always"``, so numba inlines them into the caller's loop (a call
across separately compiled numba functions would cost more than the evaluation). They do not
validate their input: cards must be distinct ints in ``0..51``. `hand_category_kernel(value)`
gives the category of a value inside numba code.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import numpy.typing as npt
from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic

from holdem_lab.cards import deck
from holdem_lab.cards.deck import NUM_CARDS, parse_card, parse_cards
from holdem_lab.cards.tablecache import cached_tables
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
"""Per-rank keys (deuce..ace): the key sum of n <= 7 cards identifies their rank multiset; see the
module docstring."""

_SUIT_SHIFT = 16  # rank-key sum lives above the four suit counters
_SUIT_COUNTERS_START = 0x3333  # each 4-bit suit counter starts at 3 ...
_FLUSH_BITS = 0x8888  # ... so bit 3 of a nibble means five or more cards of that suit
_ROW_BITS_5 = 12
_ROW_BITS_6 = 13
_ROW_BITS_7 = 14
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


_PATTERN_CATEGORY = {  # rank-count pattern, largest count first -> category (non-flush)
    (1, 1, 1, 1, 1): 0,
    (2, 1, 1, 1, 0): 1,
    (2, 2, 1, 0, 0): 2,
    (3, 1, 1, 0, 0): 3,
    (3, 2, 0, 0, 0): 6,
    (4, 1, 0, 0, 0): 7,
}


def _five_card_scores(hands: npt.NDArray[np.int64], flush: bool) -> npt.NDArray[np.int64]:
    """Integers ordering five-card hands as poker does: category first, then tie-breaks.

    ``hands`` holds sorted rank rows (a rank multiset, or five distinct ranks when ``flush``).
    The score is ``category * 13**5`` plus the ranks in order of (count, rank), both decreasing,
    read as base-13 digits; a straight's only tie-break is its top rank (the five for A-2-3-4-5).
    """
    m = hands.shape[0]
    counts = np.zeros((m, 13), np.int64)
    rows = np.arange(m)
    for j in range(5):
        counts[rows, hands[:, j]] += 1
    order = np.argsort(-(counts * 16 + np.arange(13)), axis=1, kind="stable")[:, :5]
    ordered_counts = np.take_along_axis(counts, order, axis=1)
    ranks_in_order = np.where(ordered_counts > 0, order, 0)
    digits = 13 ** np.arange(4, -1, -1, dtype=np.int64)
    tiebreak = ranks_in_order @ digits
    pattern = ordered_counts @ (5 ** np.arange(4, -1, -1, dtype=np.int64))
    category = np.full(m, -1, np.int64)
    for counts_pattern, cat in _PATTERN_CATEGORY.items():
        category[pattern == np.dot(counts_pattern, 5 ** np.arange(4, -1, -1))] = cat
    distinct = ordered_counts[:, 4] == 1
    wheel = np.all(hands == np.array([0, 1, 2, 3, 12]), axis=1)
    straight = distinct & ((hands[:, 4] - hands[:, 0] == 4) | wheel)
    straight_top = np.where(wheel, 3, hands[:, 4])
    category = np.where(straight, 8, 5) if flush else np.where(straight, 4, category)
    tiebreak = np.where(straight, straight_top * digits[0], tiebreak)
    if np.any(category < 0):
        raise RuntimeError("unexpected rank pattern")
    return category * 13**5 + tiebreak


def _build_class_values() -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], dict[int, int]]:
    """Values of the five-card classes.

    Returns the sorted base-13 codes of the non-flush five-rank multisets, their values (aligned),
    and a map from flush rank masks (five bits) to their values.
    """
    multisets = _rank_multisets(5)
    flush_ranks = np.array(list(itertools.combinations(range(13), 5)), np.int64)
    plain_scores = _five_card_scores(multisets, flush=False)
    flush_scores = _five_card_scores(flush_ranks, flush=True)
    all_scores = np.unique(np.concatenate((plain_scores, flush_scores)))
    if all_scores.size != NUM_HAND_VALUES:
        raise RuntimeError("five-card class enumeration is inconsistent")
    plain_values = np.searchsorted(all_scores, plain_scores) + 1
    flush_values = np.searchsorted(all_scores, flush_scores) + 1
    codes = multisets @ (13 ** np.arange(5, dtype=np.int64))
    order = np.argsort(codes)
    flush_masks = (1 << flush_ranks).sum(axis=1)
    flush_value_of = dict(zip(flush_masks.tolist(), flush_values.tolist(), strict=True))
    return codes[order], plain_values[order].astype(np.int64), flush_value_of


def _best_of_subsets(
    multisets: npt.NDArray[np.int64], codes5: npt.NDArray[np.int64], values5: npt.NDArray[np.int64]
) -> npt.NDArray[np.int64]:
    """Value of the best five-rank sub-multiset of each row (rows are sorted multisets)."""
    n = multisets.shape[1]
    value_of_code = np.zeros(13**5, np.int16)  # dense map: base-13 code of 5 sorted ranks
    value_of_code[codes5] = values5
    best = np.zeros(multisets.shape[0], np.int64)
    for subset in itertools.combinations(range(n), 5):  # sub-rows of sorted rows stay sorted
        codes = multisets[:, subset] @ (13 ** np.arange(5, dtype=np.int64))
        np.maximum(best, value_of_code[codes], out=best)
    return best


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
def _place_rows(
    cols: np.ndarray, starts: np.ndarray, row_order: np.ndarray, capacity: int
) -> np.ndarray:
    """First-fit placement of the rows of a displacement hash.

    Row ``r`` holds the ascending columns ``cols[starts[r]:starts[r + 1]]``; rows are placed in
    the order ``row_order``, each at the smallest displacement that puts all its columns on free
    slots (the first column goes to a free slot found through a union-find "next free slot"
    forest, then the other columns are checked). Returns the displacement of each row.
    """
    nrows = starts.shape[0] - 1
    occupied = np.zeros(capacity, np.bool_)
    nxt = np.arange(capacity + 1)
    offsets = np.zeros(nrows, np.int64)
    for t in range(row_order.shape[0]):
        r = row_order[t]
        a = starts[r]
        b = starts[r + 1]
        if a == b:
            continue
        first = cols[a]
        slot = first
        while True:
            root = slot  # next free slot >= slot, compressing the path behind us
            while nxt[root] != root:
                root = nxt[root]
            while nxt[slot] != root:
                step = nxt[slot]
                nxt[slot] = root
                slot = step
            slot = root
            offset = slot - first
            fits = True
            for j in range(a + 1, b):
                if occupied[offset + cols[j]]:
                    fits = False
                    break
            if fits:
                break
            slot += 1
        offsets[r] = offset
        for j in range(a, b):
            p = offset + cols[j]
            occupied[p] = True
            nxt[p] = p + 1
    return offsets


def _displace(keys: npt.NDArray[np.int64], row_bits: int) -> npt.NDArray[np.int64]:
    """Displacements of a perfect hash of distinct ``keys`` (Tarjan and Yao's row displacement).

    Row ``key & (2**row_bits - 1)`` holds column ``key >> row_bits``; rows are placed in
    decreasing order of size (ties by row number, so the result is deterministic).
    """
    nrows = 1 << row_bits
    rows = keys & (nrows - 1)
    cols = keys >> row_bits
    order = np.lexsort((cols, rows))
    counts = np.bincount(rows, minlength=nrows)
    starts = np.concatenate(([0], np.cumsum(counts)))
    row_order = np.argsort(-counts, kind="stable")
    capacity = 2 * keys.size + 2 * int(cols.max()) + 2
    return _place_rows(cols[order], starts, row_order, capacity)


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
    offsets = _displace(keys, row_bits)
    slots = offsets[keys & ((1 << row_bits) - 1)] + (keys >> row_bits)
    # Pad so that any n cards in 0..51, even repeated ones, hash inside the table.
    size = max(int(slots.max()), int(offsets.max()) + (n * int(RANK_KEYS[-1]) >> row_bits)) + 1
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

_TABLE_NAMES = ("flush", "hash5_offset", "hash5_value", "hash6_offset", "hash6_value",
                "hash7_offset", "hash7_value")
_TABLES = cached_tables(
    "evaluator",
    [__file__, deck.__file__],
    lambda: dict(zip(_TABLE_NAMES, _build_tables(), strict=True)),
)
(
    FLUSH_VALUE,
    HASH5_OFFSET,
    HASH5_VALUE,
    HASH6_OFFSET,
    HASH6_VALUE,
    HASH7_OFFSET,
    HASH7_VALUE,
) = (_TABLES[name] for name in _TABLE_NAMES)

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


def _popcount_typer(typingctx: Any, x: Any) -> Any:
    sig = types.int64(types.uint64)

    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        fnty = ir.FunctionType(ir.IntType(64), [ir.IntType(64)])
        fn = cgutils.get_or_insert_function(builder.module, fnty, "llvm.ctpop.i64")
        return builder.call(fn, args)

    return sig, codegen


_popcount: Any = intrinsic(_popcount_typer)
"""``_popcount(x)``: set bits of a uint64 in numba code, as LLVM's ``ctpop`` (one instruction
where the CPU has it, a short bit-twiddling sequence otherwise)."""


@njit(cache=True, inline="always")
def _invalid(bits: Any, cards_or: Any, k: int) -> Any:
    """True unless ``k`` cards are distinct and all in 0..51.

    ``cards_or`` is the OR of the cards as unsigned ints (a negative card wraps to a huge value,
    so the OR is >= 64 exactly when some card is outside 0..63); ``bits`` is the OR of
    ``1 << (card & 63)``, whose bits 52..63 flag cards 52..63 and which has fewer than ``k``
    bits set exactly when a card repeats.
    """
    return ((cards_or | (bits >> np.uint64(52))) >= np.uint64(64)) | (_popcount(bits) != k)


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
        if _invalid(b0 | b1 | b2 | b3 | b4 | b5 | b6, u, 7):
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
        if _invalid(b0 | b1 | b2 | b3 | b4 | b5, u, 6):
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
        if _invalid(b0 | b1 | b2 | b3 | b4, u, 5):
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


_PY_CARD_KEY: list[int] = CARD_KEY.tolist()
_PY_FLUSH: list[int] = FLUSH_VALUE.tolist()
_PY_HASH: dict[int, tuple[list[int], list[int], int]] = {
    5: (HASH5_OFFSET.tolist(), HASH5_VALUE.tolist(), _ROW_BITS_5),
    6: (HASH6_OFFSET.tolist(), HASH6_VALUE.tolist(), _ROW_BITS_6),
    7: (HASH7_OFFSET.tolist(), HASH7_VALUE.tolist(), _ROW_BITS_7),
}


def _value_py(hand: list[int] | tuple[int, ...], k: int) -> int:
    """Value of one valid hand, computed in Python from the kernels' tables.

    For a single hand this is cheaper than a call into compiled code, whose argument dispatch
    alone costs more than the whole lookup.
    """
    key = _SUIT_COUNTERS_START
    for c in hand:
        key += _PY_CARD_KEY[c]
    if key & _FLUSH_BITS:
        suit = 0 if key & 0x8 else 1 if key & 0x80 else 2 if key & 0x800 else 3
        mask = 0
        for c in hand:
            if c & 3 == suit:
                mask |= 1 << (c >> 2)
        return _PY_FLUSH[mask]
    offsets, values, bits = _PY_HASH[k]
    r = key >> _SUIT_SHIFT
    return values[offsets[r & ((1 << bits) - 1)] + (r >> bits)]


def _evaluate(
    cards: object, k: int, batches: tuple[object, object], check: bool
) -> int | npt.NDArray[np.int32]:
    if type(cards) in (list, tuple) and len(cards) == k:  # type: ignore[arg-type]
        # Fast path for a list or tuple of k plain ints: validate and sum the keys in one pass.
        seen = 0
        key = _SUIT_COUNTERS_START
        for c in cards:  # type: ignore[attr-defined]
            if type(c) is not int or c < 0 or c >= NUM_CARDS:
                break
            seen |= 1 << c
            key += _PY_CARD_KEY[c]
        else:
            if seen.bit_count() != k:
                raise _hand_error(list(cards))  # type: ignore[call-overload]
            if key & _FLUSH_BITS:
                return _value_py(cards, k)  # type: ignore[arg-type]
            offsets, values, bits = _PY_HASH[k]
            r = key >> _SUIT_SHIFT
            return values[offsets[r & ((1 << bits) - 1)] + (r >> bits)]
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
    return _value_py(_single_hand(cards, k), k)


def evaluate7(cards: object, *, check: bool = True) -> int | npt.NDArray[np.int32]:
    """Value(s) of seven-card hands: 1..7462, higher is better, equal values tie.

    ``cards`` is either one hand -- seven card ints, card strings, or text such as
    ``"AsKd 2c3c4c5c6c"`` -- giving an ``int``, or an ``(n, 7)`` integer array (any integer
    dtype; ``int8`` is fastest) giving an ``int32`` array of ``n`` values. A card outside 0..51,
    or a card repeated within a hand, raises `GameError`. For a batch, ``check=False`` skips the
    per-hand repeated-card test (faster; `bench.bench_cards` measures both); cards are still
    range-checked, and a hand with a repeated card then gets a meaningless value.
    """
    return _evaluate(cards, 7, (_eval7_batch, _eval7_batch_unchecked), check)


def evaluate6(cards: object, *, check: bool = True) -> int | npt.NDArray[np.int32]:
    """Value(s) of the best five of six cards; same conventions as `evaluate7`."""
    return _evaluate(cards, 6, (_eval6_batch, _eval6_batch_unchecked), check)


def evaluate5(cards: object, *, check: bool = True) -> int | npt.NDArray[np.int32]:
    """Value(s) of five-card hands; same conventions as `evaluate7`."""
    return _evaluate(cards, 5, (_eval5_batch, _eval5_batch_unchecked), check)


def hand_category(value: int | npt.ArrayLike) -> int | npt.NDArray[np.int8]:
    """Category 0..8 (index into `CATEGORY_NAMES`) of a hand value or an array of values."""
    arr = np.asarray(value)
    if arr.dtype.kind not in _INT_KINDS or (
        arr.size and (int(arr.min()) < 1 or int(arr.max()) > NUM_HAND_VALUES)
    ):
        raise GameError(f"invalid hand value {value!r}: expected integers in 1..{NUM_HAND_VALUES}")
    cats = VALUE_CATEGORY[arr]
    return int(cats) if cats.ndim == 0 else cats
