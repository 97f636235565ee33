"""Suit-isomorphic indexing of Hold'em hands (Waugh 2013), compiled with numba.

Two hands are *isomorphic* when one becomes the other by renaming the suits (the same renaming
for every card). Isomorphic hands are strategically identical, so tables indexed by hand -- bucket
assignments, equities, strategies -- need one entry per isomorphism class. This module maps each
class to an integer in ``0..N-1`` and back, following K. Waugh, "A Fast and Optimal Hand
Isomorphism Algorithm" (AAAI Workshop on Computer Poker and Imperfect Information, 2013).

Cards are split into *groups*: cards within a group are unordered, and the split between groups
matters. A *layout* is a tuple of group sizes:

=======  ==================  =========================  ============================
layout   groups              meaning                    N (classes)
=======  ==================  =========================  ============================
0        2                   preflop: hole cards        169
1        2 + 3               flop: hole, board          1,286,792
2        2 + 4               turn: hole, board          13,960,050
3        2 + 5               river: hole, board         123,156,254
4        2 + 3 + 1           turn: hole, flop, turn     55,190,538
5        2 + 3 + 1 + 1       river: hole, flop, turn,   2,428,287,420
                             river
=======  ==================  =========================  ============================

Layouts 0..3 equal the betting round (`PREFLOP`, `FLOP`, `TURN`, `RIVER`): the board is one
unordered group, which gives the standard counts of canonical Hold'em hands and is what card
abstraction uses. Layouts 4 and 5 (`TURN_PERFECT_RECALL`, `RIVER_PERFECT_RECALL`) keep the flop,
turn and river cards apart, as perfect recall of the deal requires. Cards are given in layout
order: hole cards first, then the board (flop, turn, river).

Algorithm (after Waugh 2013)
----------------------------
For each suit, the ranks it holds in each group form a sequence of disjoint rank sets. Its
*shape* is the sequence of set sizes and its *suit index* ranks the sets in the combinatorial
(colex) number system, each set among the ranks still free in that suit, combined in mixed radix.
Sorting the four (shape, suit index) pairs puts every hand of a class into the same form. The
sorted list of shapes is the hand's *configuration*; classes are numbered configuration by
configuration (each has a precomputed offset), and within a configuration by the multiset of
suit indices of each run of suits with equal shape, itself ranked as a combination with
repetition. Unindexing inverts each step and assigns the suits clubs, diamonds, hearts, spades
in the sorted order, which yields one canonical representative of the class.

Implementation: each group's cards become one 64-bit word holding a 13-bit rank mask per suit.
Ranking a set among the free ranks renumbers the free ranks first (a parallel bit extract done
with two small tables for the low 7 and high 6 rank bits) and then reads an 8,192-entry colex
table. The four suit keys are sorted with a branch-free min/max network and the configuration is
found by a branch-free binary search over its sorted keys; no step allocates memory. Every table
is built with exact integer arithmetic, once per change of this code: later imports read it from
the on-disk cache of `holdem_lab.cards.tablecache`.

Calling from numba
------------------
``index_kernel(cards, layout) -> int64`` and ``unindex_kernel(index, layout, out) -> None`` are
``@njit`` functions that read module-level tables (frozen into the compiled code as constants);
``cards`` is a 1-D integer array whose first ``LAYOUT_CARDS[layout]`` entries are used, and
``out`` receives that many cards. ``preflop_class_kernel(c0, c1) -> int64`` gives the preflop
class (the layout-0 index) of two cards directly. No kernel validates its input.
"""

from __future__ import annotations

from itertools import pairwise, permutations, product
from math import comb
from typing import Any

import numpy as np
import numpy.typing as npt
from numba import njit

from holdem_lab.cards import deck
from holdem_lab.cards.deck import NUM_CARDS, RANKS, parse_card, parse_cards
from holdem_lab.cards.tablecache import cached_tables
from holdem_lab.errors import GameError

__all__ = [
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
]

PREFLOP, FLOP, TURN, RIVER = 0, 1, 2, 3
TURN_PERFECT_RECALL, RIVER_PERFECT_RECALL = 4, 5

LAYOUT_GROUPS: tuple[tuple[int, ...], ...] = ((2,), (2, 3), (2, 4), (2, 5), (2, 3, 1), (2, 3, 1, 1))
"""Group sizes of each layout (see the module docstring)."""

_NUM_LAYOUTS = len(LAYOUT_GROUPS)
_MAX_GROUPS = 4
_CODE_BASE = 48  # every layout's shape codes are below 48 (layout 5: 3 * 4 * 2 * 2)
_SUIT_INDEX_BITS = 24  # suit indices are below 720,720 < 2**24
_BINOM_ROWS = 1024  # C(n, k) tabulated for n < 1024, k <= 4

# --------------------------------------------------------------------------------------------
# Tables
# --------------------------------------------------------------------------------------------


def _multichoose(n: int, m: int) -> int:
    """Number of multisets of size ``m`` drawn from ``n`` kinds."""
    return 1 if m == 0 else comb(n + m - 1, m)


def _pext_table(bits: int) -> npt.NDArray[np.int64]:
    """``table[keep << bits | x]``: the bits of ``x`` at the positions set in ``keep``, packed
    down to the low bits (a software "parallel bit extract" on ``bits``-bit values)."""
    keep = np.arange(1 << bits)[:, None]
    x = np.arange(1 << bits)[None, :]
    out = np.zeros((1 << bits, 1 << bits), np.int64)
    pos = np.zeros_like(keep)
    for b in range(bits):
        kb = (keep >> b) & 1
        out |= (((x >> b) & 1) * kb) << pos
        pos = pos + kb
    return out.reshape(-1)


def _build_tables() -> dict[str, npt.NDArray[np.int64]]:
    """All tables the kernels read, built from the layouts with exact integer arithmetic.

    For each layout: group sizes and first card position, the mixed-radix weight of each group in
    a shape code, the number of suit indices of each shape (`shape_size`), the group counts of
    each code, and the sorted configurations with their offsets.
    """
    nl = _NUM_LAYOUTS
    t: dict[str, npt.NDArray[np.int64]] = {
        "ngroups": np.zeros(nl, np.int64),
        "ncards": np.zeros(nl, np.int64),
        "gsize": np.zeros((nl, _MAX_GROUPS), np.int64),
        "card_group": np.zeros((nl, 8), np.int64),
        "weight": np.zeros((nl, _MAX_GROUPS), np.int64),
        "shape_size": np.zeros((nl, _CODE_BASE), np.int64),
        "code_count": np.zeros((nl, _CODE_BASE, _MAX_GROUPS), np.int64),
        "nconf": np.zeros(nl, np.int64),
        "size": np.zeros(nl, np.int64),
    }
    all_confs: list[list[tuple[int, int]]] = []
    for layout, groups in enumerate(LAYOUT_GROUPS):
        t["ngroups"][layout] = len(groups)
        t["ncards"][layout] = sum(groups)
        weight = 1
        pos = 0
        for g, size in enumerate(groups):
            t["gsize"][layout, g] = size
            t["weight"][layout, g] = weight
            t["card_group"][layout, pos : pos + size] = g
            pos += size
            weight *= size + 1
        for code in range(weight):
            counts = [(code // int(t["weight"][layout, g])) % (s + 1) for g, s in enumerate(groups)]
            n, used = 1, 0
            for g, k in enumerate(counts):
                t["code_count"][layout, code, g] = k
                n *= comb(13 - used, k)
                used += k
            t["shape_size"][layout, code] = n if used <= 13 else 0
        # A configuration: the shape codes of the four suits, sorted in decreasing order.
        splits = [[s for s in product(range(k + 1), repeat=4) if sum(s) == k] for k in groups]
        configs = set()
        for split in product(*splits):
            suit_codes = [
                sum(split[g][s] * int(t["weight"][layout, g]) for g in range(len(groups)))
                for s in range(4)
            ]
            configs.add(tuple(sorted(suit_codes, reverse=True)))
        confs: list[tuple[int, int]] = []
        for codes in configs:
            key = ((codes[0] * _CODE_BASE + codes[1]) * _CODE_BASE + codes[2]) * _CODE_BASE
            key += codes[3]
            count = 1
            for code in set(codes):
                count *= _multichoose(int(t["shape_size"][layout, code]), codes.count(code))
            confs.append((key, count))
        confs.sort()
        all_confs.append(confs)
        t["nconf"][layout] = len(confs)
        t["size"][layout] = sum(c for _, c in confs)
    max_conf = max(len(c) for c in all_confs)
    t["conf_key"] = np.full((nl, max_conf), np.iinfo(np.int64).max, np.int64)
    t["conf_offset"] = np.zeros((nl, max_conf + 1), np.int64)
    for layout, confs in enumerate(all_confs):
        t["conf_key"][layout, : len(confs)] = [k for k, _ in confs]
        t["conf_offset"][layout, 1 : len(confs) + 1] = np.cumsum([c for _, c in confs])
        t["conf_offset"][layout, len(confs) + 1 :] = t["size"][layout]
    masks = np.arange(1 << 13)
    t["popcount"] = np.array([int(m).bit_count() for m in masks], np.int64)
    t["colex"] = np.zeros(1 << 13, np.int64)  # colex rank of a rank set: sum C(r_j, j + 1)
    for m in range(1 << 13):
        ranks = [r for r in range(13) if m >> r & 1]
        t["colex"][m] = sum(comb(r, j + 1) for j, r in enumerate(ranks))
    t["pext_lo"] = _pext_table(7)
    t["pext_hi"] = _pext_table(6)
    t["binom"] = np.array([[comb(n, k) for k in range(14)] for n in range(14)], np.int64)
    t["binom_wide"] = np.array(
        [[comb(n, k) for k in range(5)] for n in range(_BINOM_ROWS)], np.int64
    )
    # multichoose(shape_size, m) for runs of m suits of one shape, clipped where it cannot occur
    t["multi"] = np.zeros((nl, _CODE_BASE, 5), np.int64)
    for layout in range(nl):
        for code in range(_CODE_BASE):
            for m in range(5):
                n = _multichoose(int(t["shape_size"][layout, code]), m)
                t["multi"][layout, code, m] = min(n, 1 << 62)
    return t


_T = cached_tables("isomorphism", [__file__, deck.__file__], _build_tables)
_NGROUPS = _T["ngroups"]
_GSIZE = _T["gsize"]
_CARD_GROUP = _T["card_group"]
_WEIGHT = _T["weight"]
_CODE_COUNT = _T["code_count"]
_NCONF = _T["nconf"]
_CONF_KEY = _T["conf_key"]
_CONF_OFFSET = _T["conf_offset"]
_POPCOUNT = _T["popcount"]
_COLEX = _T["colex"]
_PEXT_LO = _T["pext_lo"]
_PEXT_HI = _T["pext_hi"]
_BINOM = _T["binom"]
_BINOM_WIDE = _T["binom_wide"]
_MULTI = _T["multi"]

LAYOUT_CARDS: tuple[int, ...] = tuple(int(n) for n in _T["ncards"])
"""Number of cards of each layout: (2, 5, 6, 7, 6, 7)."""
LAYOUT_SIZES: tuple[int, ...] = tuple(int(n) for n in _T["size"])
"""Number of isomorphism classes of each layout (the ``N`` of the module docstring)."""
_LAYOUT_CARDS_ARR = _T["ncards"]

# --------------------------------------------------------------------------------------------
# Kernels
# --------------------------------------------------------------------------------------------


@njit(cache=True)
def index_kernel(cards: np.ndarray, layout: int) -> np.int64:
    """Index in ``0..LAYOUT_SIZES[layout]-1`` of the hand in ``cards[:LAYOUT_CARDS[layout]]``.

    ``@njit``-callable; ``layout`` 0..3 is the betting round (board unordered), 4 and 5 the
    perfect-recall turn and river. Cards must be distinct ints in 0..51 (not checked).
    """
    # One 64-bit word per group: 13 rank bits for each suit, 16 bits apart.
    w0 = np.int64(0)
    w1 = np.int64(0)
    w2 = np.int64(0)
    w3 = np.int64(0)
    ncards = _LAYOUT_CARDS_ARR[layout]
    ngroups = _NGROUPS[layout]
    for i in range(7):  # constant trip counts let the compiler unroll the loops
        if i >= ncards:
            break
        c = np.int64(cards[i])
        bit = np.int64(1) << (16 * (c & 3) + (c >> 2))
        g = _CARD_GROUP[layout, i]
        if g == 0:
            w0 |= bit
        elif g == 1:
            w1 |= bit
        elif g == 2:
            w2 |= bit
        else:
            w3 |= bit
    # Per suit: key = shape code << 24 | suit index, kept sorted as k0 >= k1 >= k2 >= k3.
    k0 = np.int64(-1)
    k1 = np.int64(-1)
    k2 = np.int64(-1)
    k3 = np.int64(-1)
    for suit in range(4):
        shift = 16 * suit
        ranks = (w0 >> shift) & 0x1FFF  # first group: all 13 ranks are free
        n = _POPCOUNT[ranks]
        idx = _COLEX[ranks]
        mult = _BINOM[13, n]
        code = n
        used = ranks
        nused = n
        for g in range(1, _MAX_GROUPS):
            if g >= ngroups:
                break
            w = w1 if g == 1 else (w2 if g == 2 else w3)
            ranks = (w >> shift) & 0x1FFF
            n = _POPCOUNT[ranks]
            # colex rank of `ranks` among the ranks not yet used by this suit: renumber the
            # free ranks 0, 1, ... (a parallel bit extract from two small tables), look up
            keep = 0x1FFF & ~used
            low = _PEXT_LO[((keep & 0x7F) << 7) | (ranks & 0x7F)]
            high = _PEXT_HI[((keep >> 7) << 6) | (ranks >> 7)]
            idx += mult * _COLEX[low | (high << _POPCOUNT[keep & 0x7F])]
            mult *= _BINOM[13 - nused, n]
            used |= ranks
            nused += n
            code += n * _WEIGHT[layout, g]
        t = (code << _SUIT_INDEX_BITS) | idx
        k0, t = max(k0, t), min(k0, t)
        k1, t = max(k1, t), min(k1, t)
        k2, t = max(k2, t), min(k2, t)
        k3 = max(k3, t)
    s0 = k0 >> _SUIT_INDEX_BITS
    s1 = k1 >> _SUIT_INDEX_BITS
    s2 = k2 >> _SUIT_INDEX_BITS
    s3 = k3 >> _SUIT_INDEX_BITS
    key = ((s0 * _CODE_BASE + s1) * _CODE_BASE + s2) * _CODE_BASE + s3
    lo = 0  # the configuration holding `key` (branch-free binary search)
    n = _NCONF[layout]
    while n > 1:
        half = n >> 1
        lo = lo + half if _CONF_KEY[layout, lo + half] <= key else lo
        n -= half
    index = _CONF_OFFSET[layout, lo]
    # Runs of suits with equal shape: rank the multiset of their suit indices (combinations
    # with repetition); the runs combine in mixed radix.
    mask = (1 << _SUIT_INDEX_BITS) - 1
    radix = np.int64(1)
    start = 0
    for i in range(4):
        ki = k0 if i == 0 else (k1 if i == 1 else (k2 if i == 2 else k3))
        kn = k1 if i == 0 else (k2 if i == 1 else (k3 if i == 2 else k3))
        if i < 3 and (kn >> _SUIT_INDEX_BITS) == (ki >> _SUIT_INDEX_BITS):
            continue
        m = i - start + 1  # suits start..i; their indices decrease along the run
        run = ki & mask
        for j in range(1, m):  # the j-th smallest index sits at position i - j
            p = i - j
            kj = k0 if p == 0 else (k1 if p == 1 else (k2 if p == 2 else k3))
            run += _BINOM_WIDE[(kj & mask) + j, j + 1]
        index += radix * run
        radix *= _MULTI[layout, ki >> _SUIT_INDEX_BITS, m]
        start = i + 1
    return index


@njit(cache=True)
def unindex_kernel(index: int, layout: int, out: np.ndarray) -> None:
    """Write the canonical representative of class ``index`` into ``out[:LAYOUT_CARDS[layout]]``.

    ``@njit``-callable inverse of `index_kernel`: the cards come in layout order (hole cards,
    then the board), each group in increasing card order; the suits are clubs, diamonds, hearts,
    spades in decreasing order of (shape, suit index). ``index`` must be in range (not checked).
    """
    lo = 0  # last configuration whose offset is <= index
    n = _NCONF[layout]
    while n > 1:
        half = n >> 1
        lo = lo + half if _CONF_OFFSET[layout, lo + half] <= index else lo
        n -= half
    rem = index - _CONF_OFFSET[layout, lo]
    key = _CONF_KEY[layout, lo]
    s3 = key % _CODE_BASE
    s2 = (key // _CODE_BASE) % _CODE_BASE
    s1 = (key // (_CODE_BASE * _CODE_BASE)) % _CODE_BASE
    s0 = key // (_CODE_BASE * _CODE_BASE * _CODE_BASE)
    # Suit indices by position in the sorted order (position p becomes suit p).
    i0 = 0
    i1 = 0
    i2 = 0
    i3 = 0
    start = 0
    for i in range(4):
        si = s0 if i == 0 else (s1 if i == 1 else (s2 if i == 2 else s3))
        sn = s1 if i == 0 else (s2 if i == 1 else (s3 if i == 2 else -1))
        if i < 3 and sn == si:
            continue
        m = i - start + 1
        radix = _MULTI[layout, si, m]
        run = rem % radix
        rem //= radix
        for j in range(m - 1, -1, -1):  # invert sum_j C(a_j + j, j + 1), largest term first
            if j == 0:
                v = run
            else:
                b = j
                while _BINOM_WIDE[b + 1, j + 1] <= run:
                    b += 1
                run -= _BINOM_WIDE[b, j + 1]
                v = b - j
            p = i - j
            if p == 0:
                i0 = v
            elif p == 1:
                i1 = v
            elif p == 2:
                i2 = v
            else:
                i3 = v
        start = i + 1
    # Decode each suit index into its rank sets, group by group.
    fill0 = 0
    fill1 = 0
    fill2 = 0
    fill3 = 0
    base1 = _GSIZE[layout, 0]
    base2 = base1 + _GSIZE[layout, 1]
    base3 = base2 + _GSIZE[layout, 2]
    for suit in range(4):
        code = s0 if suit == 0 else (s1 if suit == 1 else (s2 if suit == 2 else s3))
        idx = i0 if suit == 0 else (i1 if suit == 1 else (i2 if suit == 2 else i3))
        used = 0
        for g in range(_NGROUPS[layout]):
            k = _CODE_COUNT[layout, code, g]
            free = 13 - _POPCOUNT[used]
            radix = _BINOM[free, k]
            c = idx % radix
            idx //= radix
            ranks = 0
            for j in range(k - 1, -1, -1):
                p = free - 1
                while _BINOM[p, j + 1] > c:
                    p -= 1
                c -= _BINOM[p, j + 1]
                r = -1  # the p-th (0-based) rank not in `used`
                seen = -1
                while seen < p:
                    r += 1
                    if not (used >> r) & 1:
                        seen += 1
                ranks |= 1 << r
                card = 4 * r + suit
                if g == 0:
                    out[fill0] = card
                    fill0 += 1
                elif g == 1:
                    out[base1 + fill1] = card
                    fill1 += 1
                elif g == 2:
                    out[base2 + fill2] = card
                    fill2 += 1
                else:
                    out[base3 + fill3] = card
                    fill3 += 1
            used |= ranks
    # Sort each group (insertion sort; groups hold at most five cards).
    start = 0
    for g in range(_NGROUPS[layout]):
        end = start + _GSIZE[layout, g]
        for a in range(start + 1, end):
            x = out[a]
            b = a - 1
            while b >= start and out[b] > x:
                out[b + 1] = out[b]
                b -= 1
            out[b + 1] = x
        start = end


@njit(cache=True, inline="always")
def preflop_class_kernel(c0: int, c1: int) -> np.int64:
    """Preflop class 0..168 of two distinct cards: equal to ``index_kernel([c0, c1], 0)``.

    Offsuit hands and pairs come first (``lo + hi * (hi + 1) / 2`` for ranks ``lo <= hi``,
    0..90), suited hands after them (``91 + lo + hi * (hi - 1) / 2``, 91..168).
    """
    r0 = np.int64(c0) >> 2
    r1 = np.int64(c1) >> 2
    lo = min(r0, r1)
    hi = max(r0, r1)
    if (np.int64(c0) & 3) == (np.int64(c1) & 3):
        return 91 + lo + (hi * (hi - 1)) // 2
    return lo + (hi * (hi + 1)) // 2


@njit(cache=True)
def _index_batch(cards: np.ndarray, layout: int, out: np.ndarray) -> int:
    """Index every row of ``cards``; return -1 or the first row with a bad or repeated card."""
    k = _LAYOUT_CARDS_ARR[layout]
    for i in range(cards.shape[0]):
        seen = np.uint64(0)
        for j in range(k):
            c = np.int64(cards[i, j])
            if c < 0 or c >= 52 or (seen >> np.uint64(c)) & np.uint64(1):
                return i
            seen |= np.uint64(1) << np.uint64(c)
        out[i] = index_kernel(cards[i], layout)
    return -1


@njit(cache=True)
def _unindex_batch(indices: np.ndarray, layout: int, out: np.ndarray) -> int:
    """Unindex every entry of ``indices``; return -1 or the first index out of range."""
    size = _CONF_OFFSET[layout, _NCONF[layout]]
    for i in range(indices.shape[0]):
        if indices[i] < 0 or indices[i] >= size:
            return i
        unindex_kernel(indices[i], layout, out[i])
    return -1


# --------------------------------------------------------------------------------------------
# Python API
# --------------------------------------------------------------------------------------------


def _check_layout(layout: object) -> int:
    if isinstance(layout, bool) or not isinstance(layout, int | np.integer):
        raise GameError(f"invalid layout {layout!r}: expected an integer in 0..{_NUM_LAYOUTS - 1}")
    if not 0 <= layout < _NUM_LAYOUTS:
        raise GameError(f"invalid layout {layout!r}: expected an integer in 0..{_NUM_LAYOUTS - 1}")
    return int(layout)


def _layout_of(ncards: int, layout: int | None) -> int:
    if layout is None:
        if ncards not in (2, 5, 6, 7):
            raise GameError(f"cannot infer the round of a hand of {ncards} cards (2, 5, 6 or 7)")
        return {2: PREFLOP, 5: FLOP, 6: TURN, 7: RIVER}[ncards]
    layout = _check_layout(layout)
    if ncards != LAYOUT_CARDS[layout]:
        raise GameError(
            f"layout {layout} {LAYOUT_GROUPS[layout]} takes {LAYOUT_CARDS[layout]} cards, "
            f"got {ncards}"
        )
    return layout


def round_size(layout: int) -> int:
    """Number of isomorphism classes of a round (layout 0..3) or perfect-recall layout (4, 5)."""
    return LAYOUT_SIZES[_check_layout(layout)]


def _hand_array(cards: object) -> npt.NDArray[np.int64]:
    """One hand as validated int64 card ints (accepts ints, card strings and text)."""
    if isinstance(cards, str):
        return parse_cards(cards).astype(np.int64)
    items = [parse_card(c) if isinstance(c, str) else c for c in np.asarray(cards).tolist()]
    for c in items:
        if isinstance(c, bool) or not isinstance(c, int) or not 0 <= c < NUM_CARDS:
            raise GameError(f"invalid card {c!r}: expected an integer in 0..51")
    if len(set(items)) != len(items):
        raise GameError(f"repeated card in hand {items}")
    return np.array(items, dtype=np.int64)


def index_hand(cards: object, layout: int | None = None) -> int:
    """Index of one hand in ``0..round_size(layout)-1``.

    ``cards`` is a sequence of card ints or strings, or text such as ``"AsKd 7h7c2d"``, in layout
    order (hole cards first, then the board). ``layout`` defaults to the round implied by the
    number of cards (2, 5, 6, 7 cards: preflop, flop, turn, river with an unordered board).
    """
    hand = _hand_array(cards)
    layout = _layout_of(hand.size, layout)
    return int(index_kernel(hand, layout))


def index_hands(cards: npt.ArrayLike, layout: int | None = None) -> npt.NDArray[np.int64]:
    """Indices of the rows of an ``(n, k)`` integer array of hands (see `index_hand`)."""
    arr = np.asarray(cards)
    if arr.ndim != 2:
        raise GameError(f"expected an (n, k) array of hands, got shape {arr.shape}")
    if arr.dtype.kind not in "iu":
        if arr.size:
            raise GameError(f"invalid cards of dtype {arr.dtype}: expected integers 0..51")
        arr = arr.astype(np.int8)
    layout = _layout_of(arr.shape[1], layout)
    out = np.empty(arr.shape[0], dtype=np.int64)
    bad = _index_batch(arr, layout, out)
    if bad >= 0:
        _hand_array(arr[bad])  # raises the precise error
    return out


def unindex_hand(index: int, layout: int) -> npt.NDArray[np.int8]:
    """Canonical representative (cards in layout order, ``int8``) of class ``index``."""
    layout = _check_layout(layout)
    if isinstance(index, bool) or not isinstance(index, int | np.integer):
        raise GameError(f"invalid index {index!r}: expected an integer")
    if not 0 <= index < LAYOUT_SIZES[layout]:
        raise GameError(f"index {index} out of range 0..{LAYOUT_SIZES[layout] - 1}")
    out = np.empty(LAYOUT_CARDS[layout], dtype=np.int8)
    unindex_kernel(int(index), layout, out)
    return out


def unindex_hands(indices: npt.ArrayLike, layout: int) -> npt.NDArray[np.int8]:
    """Canonical representatives of an array of indices, as an ``(n, k)`` ``int8`` array."""
    layout = _check_layout(layout)
    idx = np.asarray(indices)
    if idx.ndim != 1 or (idx.size and idx.dtype.kind not in "iu"):
        raise GameError(f"expected a 1-D integer array of indices, got {idx.dtype} {idx.shape}")
    idx = idx.astype(np.int64, copy=False)
    out = np.empty((idx.size, LAYOUT_CARDS[layout]), dtype=np.int8)
    bad = _unindex_batch(idx, layout, out)
    if bad >= 0:
        raise GameError(f"index {int(idx[bad])} out of range 0..{LAYOUT_SIZES[layout] - 1}")
    return out


def canonical_form(cards: object, layout: int | None = None) -> tuple[tuple[int, ...], ...]:
    """Slow, obviously correct canonical form of a hand: equal exactly for isomorphic hands.

    The lexicographically smallest, over the 24 suit renamings, tuple of sorted groups. Meant for
    tests and debugging, not for speed.
    """
    hand = _hand_array(cards)
    layout = _layout_of(hand.size, layout)
    bounds = np.cumsum((0, *LAYOUT_GROUPS[layout])).tolist()
    best: tuple[tuple[int, ...], ...] | None = None
    for perm in permutations(range(4)):
        renamed = [4 * (c >> 2) + perm[c & 3] for c in hand.tolist()]
        form = tuple(tuple(sorted(renamed[a:b])) for a, b in pairwise(bounds))
        if best is None or form < best:
            best = form
    assert best is not None
    return best


# --------------------------------------------------------------------------------------------
# Preflop classes
# --------------------------------------------------------------------------------------------


def preflop_class(c0: Any, c1: Any = None) -> int:
    """Preflop class 0..168 of two hole cards (ints or strings), or of text such as ``"AsKd"``.

    Equal to ``index_hand([c0, c1], PREFLOP)``.
    """
    hand = _hand_array(c0 if c1 is None else [c0, c1])
    if hand.size != 2:
        raise GameError(f"a preflop hand has 2 cards, got {hand.size}")
    return int(preflop_class_kernel(int(hand[0]), int(hand[1])))


def _class_parts(cls: int) -> tuple[int, int, bool]:
    """(high rank, low rank, suited) of a preflop class."""
    if isinstance(cls, bool) or not isinstance(cls, int | np.integer) or not 0 <= cls < 169:
        raise GameError(f"invalid preflop class {cls!r}: expected an integer in 0..168")
    suited = cls >= 91
    rest = int(cls) - 91 if suited else int(cls)
    hi = 0
    while True:
        top = (hi * (hi - 1)) // 2 if suited else (hi * (hi + 1)) // 2
        nxt = ((hi + 1) * hi) // 2 if suited else ((hi + 1) * (hi + 2)) // 2
        if top <= rest < nxt:
            return hi, rest - top, suited
        hi += 1


def preflop_class_name(cls: int) -> str:
    """Name of a preflop class: ``"AKs"``, ``"T9o"``, ``"77"``."""
    hi, lo, suited = _class_parts(cls)
    if hi == lo:
        return RANKS[hi] * 2
    return RANKS[hi] + RANKS[lo] + ("s" if suited else "o")


def preflop_class_of_name(name: str) -> int:
    """Inverse of `preflop_class_name` (``"AKs"``, ``"t9o"``, ``"77"``)."""
    text = name.upper() if isinstance(name, str) else ""
    if len(text) == 2 and text[0] == text[1] and text[0] in RANKS:
        r = RANKS.index(text[0])
        return r + (r * (r + 1)) // 2
    if len(text) == 3 and text[0] in RANKS and text[1] in RANKS and text[2] in "SO":
        hi, lo = RANKS.index(text[0]), RANKS.index(text[1])
        if hi > lo:
            if text[2] == "S":
                return 91 + lo + (hi * (hi - 1)) // 2
            return lo + (hi * (hi + 1)) // 2
    raise GameError(f"invalid preflop class name {name!r}: expected e.g. 'AKs', 'T9o', '77'")


def preflop_grid_position(cls: int) -> tuple[int, int]:
    """(row, col) of a preflop class in the usual 13x13 chart.

    Rows and columns run A, K, ..., 2 from the top left; pairs sit on the diagonal, suited hands
    above it (row = high rank, col = low rank) and offsuit hands below it (row = low rank, col =
    high rank).
    """
    hi, lo, suited = _class_parts(cls)
    if suited:
        return 12 - hi, 12 - lo
    return 12 - lo, 12 - hi


def preflop_grid() -> npt.NDArray[np.int16]:
    """The 13x13 chart of preflop classes: ``grid[row, col]`` is the class at that cell."""
    grid = np.empty((13, 13), dtype=np.int16)
    for cls in range(169):
        grid[preflop_grid_position(cls)] = cls
    return grid
