"""Numba kernels computing the per-hand features that card abstraction clusters.

Every feature is an exact integer, so the same build gives the same bits whatever the thread
count or the order in which boards are processed.

Strength scales
---------------
*River hand strength* (HS) of a hole pair on a five-card board is its probability of beating a
uniformly random opponent holding that collides with none of the seven known cards, ties counting
half. It is kept as the integer ``2 * wins + ties`` out of ``RIVER_SCALE = 2 * 990``. The
expected hand strength one round earlier is the mean over the next public card, so it is kept as
the integer *sum* over the possible next cards: a turn hand's E[HS] is the sum of its 46 river
HS (out of ``TURN_SCALE = 46 * RIVER_SCALE``), a flop hand's the sum of its 47 turn sums (out of
``FLOP_SCALE``), a preflop hand's the sum of its flop sums over the 19,600 flops (out of
``PREFLOP_SCALE``). Each is the exact all-in equity against one uniform random hand.

Boards by suit isomorphism
--------------------------
Renaming the suits of a whole deal (hole cards and board alike) changes no strength, so
strengths are computed once per *canonical* board: the board whose 52-bit card mask is the
smallest among its 24 suit renamings. `canonical_boards` numbers the canonical boards of k cards
(1,755 flops, 16,432 turn boards, 134,459 river boards) and gives, for every one of the C(52, k)
boards (by its colex rank), its canonical board and a renaming that maps it there. A per-board
table ``T[board id, pair id]`` then answers any (hole, board) question with a renaming of the
hole cards and one lookup, no hand indexing needed.

Each canonical hand once
------------------------
A canonical hand of a round (an isomorphic index) is a hole pair on exactly one canonical board,
up to the renamings that fix that board (its *stabilizer*, trivial for most boards). Taking the
hole pair with the smallest pair id in each orbit of the stabilizer visits every canonical hand
exactly once -- the build checks that the counts equal the round sizes -- so the isomorphic
index is computed once per canonical hand, and the features of a round are stored board by
board (sequential writes) with the index of each row kept alongside.

River strength without 1,081 x 990 evaluations
----------------------------------------------
On a board, the 1,081 possible holdings are evaluated once and sorted by value. Sweeping the
sorted list, a holding {a, b} beats every holding already passed except those sharing a card
with it; with ``cnt[c]`` the number of passed holdings containing card ``c`` (none of them is
{a, b} itself), the holdings it beats number ``passed - cnt[a] - cnt[b]``. Ties count the same
way inside the group of equal value (where {a, b} itself is counted by both ``cnt`` terms, so it
is added back once and removed as an opponent). This is the card-removal correction that makes
a board cost 1,081 evaluations and one sort instead of 1,081 x 990 evaluations.
"""

from __future__ import annotations

import itertools
from math import comb

import numpy as np
import numpy.typing as npt
from numba import njit, prange

from holdem_lab.cards.evaluator import eval7_kernel
from holdem_lab.cards.isomorphism import FLOP, RIVER, TURN, index_kernel

__all__ = [
    "BINOM",
    "FLOP_SCALE",
    "NUM_PAIRS",
    "PAIR_CARDS",
    "PAIR_ID",
    "PAIR_MAP",
    "PERM_CARD",
    "PREFLOP_SCALE",
    "RIVER_SCALE",
    "TURN_SCALE",
    "CanonicalBoards",
    "board_colex",
    "board_strengths",
    "canonical_boards",
    "cluster_sums",
    "next_round_features",
    "preflop_features",
    "representative_offsets",
    "river_histogram",
    "river_strength_table",
    "river_strengths",
    "river_table",
    "scatter_labels",
]

NUM_PAIRS = 1326
"""Two-card holdings of a 52-card deck."""
RIVER_SCALE = 2 * 990
"""River strength ``2 * wins + ties`` out of the 990 opponent holdings."""
TURN_SCALE = 46 * RIVER_SCALE
"""Turn E[HS] as the sum of 46 river strengths."""
FLOP_SCALE = 47 * TURN_SCALE
"""Flop E[HS] as the sum of 47 turn sums."""
PREFLOP_SCALE = 19_600 * FLOP_SCALE
"""Preflop E[HS] as the sum of the 19,600 flop sums."""


def _tables() -> tuple[npt.NDArray[np.int64], ...]:
    """Suit renamings as card maps, pair ids, and binomial coefficients."""
    perms = np.array(list(itertools.permutations(range(4))), dtype=np.int64)  # identity first
    cards = np.arange(52, dtype=np.int64)
    perm_card = 4 * (cards[None, :] >> 2) + perms[:, cards & 3]
    pair_id = np.full((52, 52), -1, dtype=np.int64)
    pair_cards = np.empty((NUM_PAIRS, 2), dtype=np.int64)
    for hi in range(52):
        for lo in range(hi):
            pid = hi * (hi - 1) // 2 + lo  # colex rank of {lo, hi}
            pair_id[lo, hi] = pair_id[hi, lo] = pid
            pair_cards[pid] = (lo, hi)
    binom = np.array([[comb(n, k) for k in range(6)] for n in range(53)], dtype=np.int64)
    return perm_card, pair_id, pair_cards, binom


PERM_CARD, PAIR_ID, PAIR_CARDS, BINOM = _tables()
"""``PERM_CARD[p, c]``: card ``c`` under suit renaming ``p`` (0..23, 0 the identity);
``PAIR_ID[a, b]``: colex rank 0..1325 of the holding {a, b} (-1 when a == b); ``PAIR_CARDS``: its
inverse; ``BINOM[n, k]``: C(n, k) for n <= 52, k <= 5."""


# --------------------------------------------------------------------------------------------
# Canonical boards
# --------------------------------------------------------------------------------------------


@njit(cache=True)
def _canonical_boards_kernel(
    k: int, binom: np.ndarray, perm_card: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    total = binom[52, k]
    board_id = np.empty(total, dtype=np.int32)
    board_perm = np.empty(total, dtype=np.int8)
    canon = np.empty((total, k), dtype=np.int8)
    c = np.arange(k)
    n = 0
    for rank in range(total):  # boards in colex order: `c` is the board of colex rank `rank`
        mask = np.int64(0)
        for j in range(k):
            mask |= np.int64(1) << c[j]
        best = mask
        best_perm = 0
        for p in range(1, 24):
            m = np.int64(0)
            for j in range(k):
                m |= np.int64(1) << perm_card[p, c[j]]
            if m < best:
                best = m
                best_perm = p
        if best == mask:
            board_id[rank] = n
            board_perm[rank] = 0
            for j in range(k):
                canon[n, j] = c[j]
            n += 1
        else:
            # the colex order of k-sets is the numeric order of their masks, so the canonical
            # board (the smallest mask) has a smaller rank and already has its id
            r = 0
            j = 0
            for card in range(52):
                if (best >> card) & 1:
                    j += 1
                    r += binom[card, j]
            board_id[rank] = board_id[r]
            board_perm[rank] = best_perm
        j = 0  # next board in colex order
        while j < k - 1 and c[j] + 1 == c[j + 1]:
            j += 1
        c[j] += 1
        for i in range(j):
            c[i] = i
    return board_id, board_perm, canon[:n].copy()


class CanonicalBoards:
    """The canonical k-card boards and the map from every board to one of them.

    ``cards[i]`` are the sorted cards of canonical board ``i`` (in colex order of the boards);
    for a board of colex rank ``r`` (see `board_colex`), ``board_id[r]`` is its canonical board
    and ``board_perm[r]`` a suit renaming (row of `PERM_CARD`) mapping it onto that board.
    """

    def __init__(self, k: int) -> None:
        self.k = k
        self.board_id, self.board_perm, self.cards = _canonical_boards_kernel(k, BINOM, PERM_CARD)

    @property
    def count(self) -> int:
        return int(self.cards.shape[0])


_CANONICAL: dict[int, CanonicalBoards] = {}


def canonical_boards(k: int) -> CanonicalBoards:
    """The (cached) `CanonicalBoards` of ``k`` cards, 3 <= k <= 5."""
    if k not in (3, 4, 5):
        raise ValueError(f"k={k!r}: boards of 3, 4 or 5 cards only")
    if k not in _CANONICAL:
        _CANONICAL[k] = CanonicalBoards(k)
    return _CANONICAL[k]


@njit(cache=True, inline="always")
def board_colex(cards: np.ndarray, k: int, binom: np.ndarray) -> np.int64:
    """Colex rank of the k distinct cards ``cards[:k]`` (any order): sum of C(c_j, j + 1)."""
    mask = np.int64(0)
    for j in range(k):
        mask |= np.int64(1) << np.int64(cards[j])
    r = np.int64(0)
    j = 0
    for card in range(52):
        if (mask >> card) & 1:
            j += 1
            r += binom[card, j]
    return r


# --------------------------------------------------------------------------------------------
# Symmetric boards
# --------------------------------------------------------------------------------------------


@njit(cache=True, inline="always")
def _board_mask(b: np.ndarray) -> np.int64:
    mask = np.int64(0)
    for j in range(b.shape[0]):
        mask |= np.int64(1) << np.int64(b[j])
    return mask


@njit(cache=True)
def _stabilizer(mask: np.int64, perm_card: np.ndarray, out: np.ndarray) -> int:
    """Suit renamings mapping the board ``mask`` onto itself, into ``out``; returns how many
    (at least 1: the identity, which comes first)."""
    n = 0
    for p in range(24):
        m = np.int64(0)
        for c in range(52):
            if (mask >> c) & 1:
                m |= np.int64(1) << perm_card[p, c]
        if m == mask:
            out[n] = p
            n += 1
    return n


@njit(cache=True, inline="always")
def _is_representative(
    a: int, c: int, stab: np.ndarray, nstab: int, perm_card: np.ndarray, pair_id: np.ndarray
) -> bool:
    """Whether {a, c} has the smallest pair id among its images under the board's stabilizer.

    Two hole pairs on one canonical board are the same canonical hand exactly when a renaming
    fixing the board maps one onto the other, so each canonical hand of the round has exactly
    one representative over all canonical boards.
    """
    pid = pair_id[a, c]
    for s in range(1, nstab):
        p = stab[s]
        if pair_id[perm_card[p, a], perm_card[p, c]] < pid:
            return False
    return True


# --------------------------------------------------------------------------------------------
# River
# --------------------------------------------------------------------------------------------


@njit(cache=True)
def board_strengths(b: np.ndarray, pair_id: np.ndarray, out: np.ndarray) -> None:
    """River strength ``2 * wins + ties`` of every holding on the five-card board ``b``.

    Writes ``out[pair_id[a, c]]`` for the 1,081 holdings {a, c} that avoid the board (other
    entries are left as they are). One evaluation per holding, one sort (two-pass radix sort
    on the 13-bit hand value), one sweep with card-removal counts (see the module docstring).
    """
    b0, b1, b2, b3, b4 = b[0], b[1], b[2], b[3], b[4]
    board = _board_mask(b)
    first = np.empty(1081, dtype=np.int64)
    second = np.empty(1081, dtype=np.int64)
    value = np.empty(1081, dtype=np.int64)
    n = 0
    for a in range(52):
        if (board >> a) & 1:
            continue
        for c in range(a + 1, 52):
            if (board >> c) & 1:
                continue
            first[n] = a
            second[n] = c
            value[n] = eval7_kernel(a, c, b0, b1, b2, b3, b4)
            n += 1
    # stable LSD radix sort of the holdings by value: low 7 bits, then the high bits
    tmp = np.empty(1081, dtype=np.int64)
    order = np.empty(1081, dtype=np.int64)
    count = np.zeros(129, dtype=np.int64)
    for i in range(n):
        count[(value[i] & 127) + 1] += 1
    for j in range(128):
        count[j + 1] += count[j]
    for i in range(n):
        d = value[i] & 127
        tmp[count[d]] = i
        count[d] += 1
    count[:] = 0
    for i in range(n):
        count[(value[tmp[i]] >> 7) + 1] += 1
    for j in range(128):
        count[j + 1] += count[j]
    for i in range(n):
        d = value[tmp[i]] >> 7
        order[count[d]] = tmp[i]
        count[d] += 1
    cnt = np.zeros(52, dtype=np.int64)  # passed holdings (strictly weaker) containing each card
    grp = np.zeros(52, dtype=np.int64)  # holdings of the current equal-value group per card
    passed = 0
    start = 0
    while start < n:
        v = value[order[start]]
        stop = start + 1
        while stop < n and value[order[stop]] == v:
            stop += 1
        for i in range(start, stop):
            h = order[i]
            grp[first[h]] += 1
            grp[second[h]] += 1
        size = stop - start
        for i in range(start, stop):
            h = order[i]
            a = first[h]
            c = second[h]
            wins = passed - cnt[a] - cnt[c]
            ties = size - grp[a] - grp[c] + 1
            out[pair_id[a, c]] = 2 * wins + ties
        for i in range(start, stop):
            h = order[i]
            cnt[first[h]] += 1
            cnt[second[h]] += 1
            grp[first[h]] = 0
            grp[second[h]] = 0
        passed += size
        start = stop


@njit(cache=True, parallel=True)
def _river_strength_chunk(
    boards: np.ndarray, start: int, stop: int, pair_id: np.ndarray, strength: np.ndarray
) -> None:
    for bi in prange(start, stop):
        board_strengths(boards[bi], pair_id, strength[bi])


def river_strengths(
    boards: CanonicalBoards, strength: np.ndarray, start: int, stop: int
) -> None:
    """River strengths of the hole pairs on canonical boards ``start..stop-1`` into
    ``strength[board id, pair id]`` (uint16, ``(boards.count, 1326)``), parallel over boards."""
    _river_strength_chunk(boards.cards, start, stop, PAIR_ID, strength)


@njit(cache=True)
def river_strength_table(boards: np.ndarray, pair_id: np.ndarray) -> np.ndarray:
    """Strength table of the given five-card boards, sequentially (for tests and small jobs)."""
    out = np.zeros((boards.shape[0], NUM_PAIRS), dtype=np.uint16)
    for bi in range(boards.shape[0]):
        board_strengths(boards[bi], pair_id, out[bi])
    return out


@njit(cache=True, parallel=True)
def _river_histogram_kernel(
    boards: np.ndarray, strength: np.ndarray, perm_card: np.ndarray, pair_id: np.ndarray,
    parts: int, nvalues: int,
) -> np.ndarray:
    nb = boards.shape[0]
    hist = np.zeros((parts, nvalues), dtype=np.int64)
    for part in prange(parts):
        stab = np.empty(24, dtype=np.int64)
        for bi in range(part * nb // parts, (part + 1) * nb // parts):
            mask = _board_mask(boards[bi])
            nstab = _stabilizer(mask, perm_card, stab)
            for a in range(52):
                if (mask >> a) & 1:
                    continue
                for c in range(a + 1, 52):
                    if (mask >> c) & 1:
                        continue
                    if nstab == 1 or _is_representative(a, c, stab, nstab, perm_card, pair_id):
                        hist[part, strength[bi, pair_id[a, c]]] += 1
    return hist


def river_histogram(boards: CanonicalBoards, strength: np.ndarray, nvalues: int,
                    parts: int = 64) -> npt.NDArray[np.int64]:
    """Number of canonical river hands of each strength value 0..nvalues-1, each canonical
    hand counted once (one representative per orbit of its board's stabilizer). Integer counts
    per part of the boards, added in a fixed order."""
    hist = _river_histogram_kernel(boards.cards, strength, PERM_CARD, PAIR_ID, parts, nvalues)
    return np.asarray(hist.sum(axis=0), dtype=np.int64)


@njit(cache=True, parallel=True)
def _river_table_chunk(
    boards: np.ndarray, start: int, stop: int, strength: np.ndarray, lut: np.ndarray,
    perm_card: np.ndarray, pair_id: np.ndarray, table: np.ndarray, reps: np.ndarray,
) -> None:
    for bi in prange(start, stop):
        b = boards[bi]
        mask = _board_mask(b)
        stab = np.empty(24, dtype=np.int64)
        nstab = _stabilizer(mask, perm_card, stab)
        cards = np.empty(7, dtype=np.int64)
        for j in range(5):
            cards[2 + j] = b[j]
        n = 0
        for a in range(52):
            if (mask >> a) & 1:
                continue
            for c in range(a + 1, 52):
                if (mask >> c) & 1:
                    continue
                if nstab > 1 and not _is_representative(a, c, stab, nstab, perm_card, pair_id):
                    continue
                cards[0] = a
                cards[1] = c
                table[index_kernel(cards, RIVER)] = lut[strength[bi, pair_id[a, c]]]
                n += 1
        reps[bi] = n


def river_table(
    boards: CanonicalBoards, strength: np.ndarray, lut: np.ndarray, table: np.ndarray,
    reps: np.ndarray, start: int, stop: int,
) -> None:
    """``table[river index] = lut[strength]`` for the canonical hands whose representative lies
    on canonical boards ``start..stop-1`` (each entry written once); ``reps[board id]`` gets the
    number of entries written per board (they add up to the number of river indices)."""
    _river_table_chunk(boards.cards, start, stop, strength, lut, PERM_CARD, PAIR_ID, table, reps)


# --------------------------------------------------------------------------------------------
# Turn and flop: histograms of next-round strength
# --------------------------------------------------------------------------------------------


def bin_lookup(scale: int, bins: int) -> npt.NDArray[np.uint8]:
    """Histogram bin of each strength 0..scale: ``bins`` equal-width bins, bin ``j`` holding
    the strengths ``v`` with ``j <= bins * v / (scale + 1) < j + 1``."""
    return ((np.arange(scale + 1, dtype=np.int64) * bins) // (scale + 1)).astype(np.uint8)


@njit(cache=True, parallel=True)
def _representative_counts_kernel(
    boards: np.ndarray, perm_card: np.ndarray, pair_id: np.ndarray, out: np.ndarray
) -> None:
    for bi in prange(boards.shape[0]):
        mask = _board_mask(boards[bi])
        stab = np.empty(24, dtype=np.int64)
        nstab = _stabilizer(mask, perm_card, stab)
        n = 0
        for a in range(52):
            if (mask >> a) & 1:
                continue
            for c in range(a + 1, 52):
                if (mask >> c) & 1:
                    continue
                if nstab == 1 or _is_representative(a, c, stab, nstab, perm_card, pair_id):
                    n += 1
        out[bi] = n


def representative_offsets(boards: CanonicalBoards) -> npt.NDArray[np.int64]:
    """Row offset of each canonical board's canonical hands when they are stored board by board
    (``boards.count + 1`` entries; the last is the number of canonical hands of the round)."""
    counts = np.zeros(boards.count, dtype=np.int64)
    _representative_counts_kernel(boards.cards, PERM_CARD, PAIR_ID, counts)
    return np.concatenate(([0], np.cumsum(counts))).astype(np.int64)


@njit(cache=True, parallel=True)
def _next_round_chunk(
    boards: np.ndarray,
    start: int,
    stop: int,
    layout: int,
    next_id: np.ndarray,
    next_perm: np.ndarray,
    next_table: np.ndarray,
    bin_of: np.ndarray,
    binom: np.ndarray,
    perm_card: np.ndarray,
    pair_id: np.ndarray,
    pair_map: np.ndarray,
    offsets: np.ndarray,
    features: np.ndarray,
    totals: np.ndarray,
    indices: np.ndarray,
    table: np.ndarray,
) -> None:
    k = boards.shape[1]
    bins = features.shape[1] + 1
    for bi in prange(start, stop):
        b = boards[bi]
        mask = _board_mask(b)
        # the hole pairs that avoid the board
        first = np.empty(NUM_PAIRS, dtype=np.int64)
        second = np.empty(NUM_PAIRS, dtype=np.int64)
        pid = np.empty(NUM_PAIRS, dtype=np.int64)
        nh = 0
        for a in range(52):
            if (mask >> a) & 1:
                continue
            for c in range(a + 1, 52):
                if (mask >> c) & 1:
                    continue
                first[nh] = a
                second[nh] = c
                pid[nh] = pair_id[a, c]
                nh += 1
        # for each next card x: the canonical next board and the renaming onto it, then every
        # hole's next-round value read from that board's row (x outer keeps the row in cache)
        hist = np.zeros((nh, bins), dtype=np.int32)
        total = np.zeros(nh, dtype=np.int64)
        nxt = np.empty(k + 1, dtype=np.int64)
        for j in range(k):
            nxt[j] = b[j]
        for x in range(52):
            if (mask >> x) & 1:
                continue
            nxt[k] = x
            r = board_colex(nxt, k + 1, binom)
            row = next_table[next_id[r]]
            pmap = pair_map[next_perm[r]]
            for h in range(nh):  # holes holding x read an empty (zero) entry: fixed below
                v = row[pmap[pid[h]]]
                total[h] += v
                hist[h, bin_of[v]] += 1
        for h in range(nh):
            hist[h, bin_of[0]] -= 2  # the two next cards that were the hole's own cards
        stab = np.empty(24, dtype=np.int64)
        nstab = _stabilizer(mask, perm_card, stab)
        cards = np.empty(7, dtype=np.int64)
        for j in range(k):
            cards[2 + j] = b[j]
        out = offsets[bi]
        for h in range(nh):
            a = first[h]
            c = second[h]
            table[bi, pid[h]] = total[h]
            if nstab > 1 and not _is_representative(a, c, stab, nstab, perm_card, pair_id):
                continue
            cards[0] = a
            cards[1] = c
            indices[out] = index_kernel(cards, layout)
            totals[out] = total[h]
            cum = 0
            for j in range(bins - 1):  # cumulative counts: bins - 1 columns
                cum += hist[h, j]
                features[out, j] = cum
            out += 1


def _pair_map() -> npt.NDArray[np.int16]:
    """``PAIR_MAP[p, pair id]``: the pair id of the holding under suit renaming ``p``."""
    out = np.empty((24, NUM_PAIRS), dtype=np.int16)
    for p in range(24):
        out[p] = PAIR_ID[PERM_CARD[p, PAIR_CARDS[:, 0]], PERM_CARD[p, PAIR_CARDS[:, 1]]]
    return out


PAIR_MAP = _pair_map()


def next_round_features(
    boards: CanonicalBoards,
    next_boards: CanonicalBoards,
    next_table: np.ndarray,
    next_scale: int,
    offsets: np.ndarray,
    features: np.ndarray,
    totals: np.ndarray,
    indices: np.ndarray,
    table: np.ndarray,
    start: int,
    stop: int,
) -> None:
    """Distribution-aware features of the canonical hands on canonical boards
    ``start..stop-1`` of a round (flop: 3-card boards, turn: 4-card boards).

    ``next_table[next board id, pair id]`` is the next round's strength of a hole pair on a
    canonical next board (river strength out of `RIVER_SCALE` for the turn, turn E[HS] sums out
    of `TURN_SCALE` for the flop), and 0 for pairs that collide with the board (the kernel reads
    those entries for the two next cards that are the hole's own cards and corrects for them,
    which keeps its inner loop free of branches).

    For the canonical hands of board ``i``, stored in rows ``offsets[i]..offsets[i+1]-1`` (see
    `representative_offsets`): ``features`` gets the histogram over the next card of that
    strength (``features.shape[1] + 1`` bins, see `bin_lookup`) as cumulative counts (bins - 1
    columns), ``totals`` the sum over the next card (E[HS] times the number of next cards),
    ``indices`` the hand's isomorphic index. For every hole pair: ``table[board id, pair id]``
    gets that sum (the input of the round before).
    """
    bin_of = bin_lookup(next_scale, features.shape[1] + 1)
    layout = FLOP if boards.k == 3 else TURN
    _next_round_chunk(boards.cards, start, stop, layout, next_boards.board_id,
                      next_boards.board_perm, next_table, bin_of, BINOM, PERM_CARD, PAIR_ID,
                      PAIR_MAP, offsets, features, totals, indices, table)


@njit(cache=True, parallel=True)
def scatter_labels(indices: np.ndarray, labels: np.ndarray, lut: np.ndarray,
                   out: np.ndarray) -> None:
    """``out[indices[i]] = lut[labels[i]]`` (parallel; the indices are distinct)."""
    for i in prange(indices.shape[0]):
        out[indices[i]] = lut[labels[i]]


@njit(cache=True)
def _preflop_kernel(
    holes: np.ndarray,
    flop_id: np.ndarray,
    flop_perm: np.ndarray,
    flop_table: np.ndarray,
    binom: np.ndarray,
    perm_card: np.ndarray,
    pair_id: np.ndarray,
    features: np.ndarray,
    totals: np.ndarray,
) -> None:
    bins = features.shape[1] + 1
    hist = np.empty(bins, dtype=np.int64)
    flop = np.empty(3, dtype=np.int64)
    for i in range(holes.shape[0]):
        a = holes[i, 0]
        c = holes[i, 1]
        hist[:] = 0
        total = 0
        hole = (np.int64(1) << a) | (np.int64(1) << c)
        for f2 in range(52):
            if (hole >> f2) & 1:
                continue
            for f1 in range(f2):
                if (hole >> f1) & 1:
                    continue
                for f0 in range(f1):
                    if (hole >> f0) & 1:
                        continue
                    flop[0] = f0
                    flop[1] = f1
                    flop[2] = f2
                    r = board_colex(flop, 3, binom)
                    p = flop_perm[r]
                    v = int(flop_table[flop_id[r], pair_id[perm_card[p, a], perm_card[p, c]]])
                    total += v
                    hist[(v * bins) // (FLOP_SCALE + 1)] += 1
        cum = 0
        for j in range(bins - 1):  # cumulative counts: bins - 1 columns
            cum += hist[j]
            features[i, j] = cum
        totals[i] = total


def preflop_features(
    holes: np.ndarray, flop: CanonicalBoards, flop_table: np.ndarray, bins: int
) -> tuple[np.ndarray, np.ndarray]:
    """Preflop features of the given hole pairs (``(n, 2)``): cumulative histogram (uint16,
    bins - 1 columns) over the 19,600 flops of the flop E[HS], and the E[HS] sums (int64)."""
    features = np.zeros((holes.shape[0], bins - 1), dtype=np.uint16)
    totals = np.zeros(holes.shape[0], dtype=np.int64)
    _preflop_kernel(holes.astype(np.int64), flop.board_id, flop.board_perm, flop_table, BINOM,
                    PERM_CARD, PAIR_ID, features, totals)
    return features, totals


# --------------------------------------------------------------------------------------------
# Small helpers over whole tables
# --------------------------------------------------------------------------------------------


@njit(cache=True)
def cluster_sums(labels: np.ndarray, totals: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Per cluster: the integer sum of ``totals`` and the number of points (sequential)."""
    sums = np.zeros(k, dtype=np.int64)
    sizes = np.zeros(k, dtype=np.int64)
    for i in range(labels.shape[0]):
        sums[labels[i]] += totals[i]
        sizes[labels[i]] += 1
    return sums, sizes
