"""The compiled betting-state walk behind `holdem_lab.games.betting.holdem_tree_size`.

A hold'em tree is counted, not built: the subtree below a decision depends only on the round,
the seat to act and the street state, never on the path there, so one depth-first walk over
the distinct betting states (a DAG far smaller than the tree) gives every node count. This
module is that walk, compiled, over flat int64 arrays: a six-player tree of a hundred million
nodes has about half a million distinct states, too many for a Python recursion to visit in
well under a second.

The betting rules here are the builder's (`holdem_lab.games.betting._Street` and
`_Builder.raise_options`, themselves those of holdem_lab.rules.nlhe) written over arrays; the
test suite walks random hands through both and checks every rule agrees, and checks the counts
against built trees. A street state is one int64 row (`street_columns` wide); the menu is the
flat tables `betting.holdem_tree_size` makes from a BetSizing.
"""

from __future__ import annotations

import numpy as np
from numba import njit

# Street row layout, for n players: contributions, street bets, stacks, folded flags and acted
# flags (n columns each, in that order), then at 5n + LEVEL, FULL_RAISE, DEPTH the bet level,
# the last full raise and the raise depth.
LEVEL, FULL_RAISE, DEPTH = range(3)

FOLD_LEAF = -1
SHOWDOWN_LEAF = -2
VECTOR_SIZE = 7
"""Count vector of a state: nodes, decisions in rounds 0..3, fold and showdown terminals."""

_EMPTY = np.int64(-1)


def street_columns(num_players: int) -> int:
    """Length of a street row for `num_players` players."""
    return 5 * num_players + 3


# --------------------------------------------------------------------------- the rules


@njit(cache=True)
def street_cover(st: np.ndarray, n: int, seat: int) -> int:
    """The most street chips any opponent still in the hand has bet or could bet."""
    best = 0
    for o in range(n):
        if o != seat and st[3 * n + o] == 0:
            reach = st[n + o] + st[2 * n + o]
            if reach > best:
                best = reach
    return best


@njit(cache=True)
def street_to_call(st: np.ndarray, n: int, seat: int) -> int:
    level = st[5 * n + LEVEL]
    owed = min(level, street_cover(st, n, seat)) - st[n + seat]
    return max(0, min(st[2 * n + seat], owed))


@njit(cache=True)
def street_can_raise(st: np.ndarray, n: int, seat: int) -> bool:
    level = st[5 * n + LEVEL]
    if st[n + seat] + st[2 * n + seat] <= level:
        return False
    other = False
    for o in range(n):
        if o != seat and st[3 * n + o] == 0 and st[2 * n + o] > 0 \
                and st[n + o] + st[2 * n + o] > level:
            other = True
            break
    if not other:
        return False
    return not (st[4 * n + seat] != 0 and level - st[n + seat] < st[5 * n + FULL_RAISE])


@njit(cache=True)
def street_next_to_act(st: np.ndarray, n: int, start: int) -> int:
    """The first seat from `start` on that must act, or -1."""
    live = 0
    best = -1
    second = -1
    best_seat = -1
    for o in range(n):
        if st[3 * n + o] != 0:
            continue
        reach = st[n + o] + st[2 * n + o]
        if reach > best:
            second = best
            best = reach
            best_seat = o
        elif reach > second:
            second = reach
        if st[2 * n + o] > 0:
            live += 1
    level = st[5 * n + LEVEL]
    seat = start - 1 if start < n else start - n - 1
    for _ in range(n):
        seat += 1
        if seat == n:
            seat = 0
        if st[3 * n + seat] != 0 or st[2 * n + seat] == 0:
            continue
        cover = second if seat == best_seat else best
        if min(level, cover) - st[n + seat] > 0 or (live >= 2 and st[4 * n + seat] == 0):
            return seat
    return -1


@njit(cache=True)
def street_put(st: np.ndarray, n: int, seat: int, chips: int) -> None:
    st[2 * n + seat] -= chips
    st[n + seat] += chips
    st[seat] += chips


@njit(cache=True)
def street_raise_to(st: np.ndarray, n: int, seat: int, target: int) -> None:
    increment = target - st[5 * n + LEVEL]
    if increment >= st[5 * n + FULL_RAISE]:
        st[5 * n + FULL_RAISE] = increment
        for o in range(n):
            st[4 * n + o] = 0
    st[4 * n + seat] = 1
    street_put(st, n, seat, target - st[n + seat])
    st[5 * n + LEVEL] = target
    st[5 * n + DEPTH] += 1


@njit(cache=True)
def street_return_uncalled(st: np.ndarray, n: int) -> None:
    top = st[n]
    for o in range(1, n):
        top = max(top, st[n + o])
    seat = -1
    count = 0
    for o in range(n):
        if st[n + o] == top:
            count += 1
            if seat < 0:
                seat = o
    if count != 1:
        return
    second = -(2**62)
    for o in range(n):
        if o != seat and st[n + o] > second:
            second = st[n + o]
    st[2 * n + seat] += top - second
    st[seat] -= top - second
    st[n + seat] = second


@njit(cache=True)
def _players_in(st: np.ndarray, n: int) -> int:
    count = 0
    for o in range(n):
        if st[3 * n + o] == 0:
            count += 1
    return count


@njit(cache=True)
def street_raise_options(st: np.ndarray, n: int, seat: int, round_index: int, big_blind: int,
                         menu_sizes: np.ndarray, menu_length: np.ndarray,
                         menu_entry: np.ndarray, menu_open: np.ndarray, raise_caps: np.ndarray,
                         all_in_entry: np.ndarray, targets: np.ndarray,
                         entry_start: np.ndarray, entries: np.ndarray,
                         raw_targets: np.ndarray, raw_entries: np.ndarray) -> int:
    """`_Builder.raise_options`: writes the raise-to targets ascending into `targets`, the
    menu entries of target i into entries[entry_start[i]:entry_start[i + 1]] (in the menu's
    order, the all-in entry last); returns the number of targets.

    The menu of round r is row m = 4 * r + 2 * (depth >= 1) + (players in > 2) of the tables:
    `menu_sizes[m, :menu_length[m]]` pot fractions (or big blinds when `menu_open[m]`), each
    giving entry `menu_entry[m, i]`; `raise_caps[m]` the raise cap; `all_in_entry[r]` the
    all-in's entry (-1: no all-in). `raw_targets` and `raw_entries` are scratch space, one
    more than the menu's width."""
    depth = st[5 * n + DEPTH]
    row = 4 * round_index + 2 * (depth >= 1) + (_players_in(st, n) > 2)
    if depth >= raise_caps[row] or not street_can_raise(st, n, seat):
        return 0
    level = st[5 * n + LEVEL]
    all_in_to = st[n + seat] + st[2 * n + seat]
    cap = min(all_in_to, street_cover(st, n, seat))
    min_to = level + st[5 * n + FULL_RAISE]
    total = 0
    for o in range(n):
        total += st[o]
    after_call = total + level - st[n + seat]
    count = 0
    length = menu_length[row]
    for i in range(length):
        size = menu_sizes[row, i]
        if menu_open[row]:
            raw = np.int64(np.floor(size * big_blind + 0.5))
        else:
            raw = level + np.int64(np.floor(size * after_call + 0.5))
        target = max(raw, min_to)
        raw_targets[i] = all_in_to if target >= cap else target
        raw_entries[i] = menu_entry[row, i]
    if all_in_entry[round_index] >= 0:
        raw_targets[length] = all_in_to
        raw_entries[length] = all_in_entry[round_index]
        length += 1
    # Distinct targets ascending; each keeps its entries in raw order.
    last = -1
    while True:
        best = -1
        for i in range(length):
            t = raw_targets[i]
            if t > last and (best < 0 or t < best):
                best = t
        if best < 0:
            break
        targets[count] = best
        count += 1
        last = best
    used = 0
    for k in range(count):
        entry_start[k] = used
        for i in range(length):
            if raw_targets[i] == targets[k]:
                entries[used] = raw_entries[i]
                used += 1
    entry_start[count] = used
    return count


@njit(cache=True)
def street_round_start(st: np.ndarray, n: int, closed: int, start_stacks: np.ndarray,
                       big_blind: int, opener: int, out: np.ndarray) -> tuple[int, int]:
    """`_Builder.round_start` from the closed round's street `st`: the next round with
    betting, written to `out`, and its first seat; (last round, -1) when nobody bets again."""
    round_index = closed
    while round_index < 3:
        round_index += 1
        for o in range(n):
            out[o] = st[o]
            out[n + o] = 0
            out[2 * n + o] = start_stacks[o] - st[o]
            out[3 * n + o] = st[3 * n + o]
            out[4 * n + o] = 0
        out[5 * n + LEVEL] = 0
        out[5 * n + FULL_RAISE] = big_blind
        out[5 * n + DEPTH] = 0
        seat = street_next_to_act(out, n, opener)
        if seat >= 0:
            return round_index, seat
    return round_index, -1


# --------------------------------------------------------------------------- the walk


_FIXED_KEY_BITS = 2 + 6 + 3  # round, raise depth (at most 32), seat or place


@njit(cache=True)
def key_words(num_players: int, chip_bits: int) -> int:
    """int64 words of a packed key (`_key`) for chip amounts of `chip_bits` bits."""
    return (_FIXED_KEY_BITS + 4 * chip_bits + num_players * (2 * chip_bits + 2) + 63) // 64


@njit(cache=True, inline="always")
def _pack(out: np.ndarray, position: int, value: int, bits: int) -> int:
    """Put the `bits`-bit `value` (>= 0) at bit `position` of `out`; returns the next
    position."""
    word = position >> 6
    offset = position & 63
    out[word] |= value << offset
    if offset + bits > 64:
        out[word + 1] |= value >> (64 - offset)
    return position + bits


@njit(cache=True)
def _key(st: np.ndarray, n: int, seat: int, round_index: int, even: bool, opener: int,
         chip_bits: int, out: np.ndarray) -> None:
    """What the subtree below a decision depends on (see `count_states`), packed into the
    words of `out` (chip amounts in `chip_bits` bits each)."""
    out[:] = 0
    folded_bet = 0
    total = 0
    for o in range(n):
        total += st[o]
        if st[3 * n + o] != 0 and st[n + o] > folded_bet:
            folded_bet = st[n + o]
    at = _pack(out, 0, round_index, 2)
    at = _pack(out, at, st[5 * n + DEPTH], 6)
    at = _pack(out, at, total, chip_bits)
    at = _pack(out, at, folded_bet, chip_bits)
    at = _pack(out, at, st[5 * n + LEVEL], chip_bits)
    at = _pack(out, at, st[5 * n + FULL_RAISE], chip_bits)
    if not even:
        at = _pack(out, at, seat, 3)
        for o in range(n):
            at = _pack(out, at, st[2 * n + o], chip_bits)
            at = _pack(out, at, st[n + o], chip_bits)
            at = _pack(out, at, st[3 * n + o], 1)
            at = _pack(out, at, 1 if st[4 * n + o] != 0 and st[2 * n + o] > 0 else 0, 1)
        return
    # The opener's place among the live seats, counted from the seat to act.
    o = opener - 1
    for _ in range(n):
        o += 1
        if o == n:
            o = 0
        if st[3 * n + o] == 0:
            break
    place = 0
    o_seat = seat
    while o_seat != o:
        if st[3 * n + o_seat] == 0:
            place += 1
        o_seat += 1
        if o_seat == n:
            o_seat = 0
    at = _pack(out, at, place, 3)
    # The live seats from the seat to act; a 1 bit marks each (seats folded leave no trace).
    o = seat - 1
    for _ in range(n):
        o += 1
        if o == n:
            o = 0
        if st[3 * n + o] != 0:
            continue
        at = _pack(out, at, st[2 * n + o], chip_bits)
        at = _pack(out, at, st[n + o], chip_bits)
        at = _pack(out, at, 1 if st[4 * n + o] != 0 and st[2 * n + o] > 0 else 0, 1)
        at = _pack(out, at, 1, 1)


@njit(cache=True, inline="always")
def _hash(key: np.ndarray) -> np.uint64:
    h = np.uint64(14695981039346656037)
    for v in key:
        h = (h ^ np.uint64(v)) * np.uint64(1099511628211)
    return h ^ (h >> np.uint64(31))


@njit(cache=True)
def _grow_rows(array: np.ndarray, rows: int) -> np.ndarray:
    out = np.empty((rows,) + array.shape[1:], dtype=array.dtype)
    out[:array.shape[0]] = array
    return out


@njit(cache=True)
def count_states(root: np.ndarray, root_seat: int, num_players: int, start_stacks: np.ndarray,
                 big_blind: int, opener: int, even: bool, chip_bits: int, menu_sizes: np.ndarray,
                 menu_length: np.ndarray, menu_entry: np.ndarray, menu_open: np.ndarray,
                 raise_caps: np.ndarray, all_in_entry: np.ndarray, num_entries: int,
                 max_depth: int) -> tuple[np.ndarray, int, np.ndarray, np.ndarray, int]:
    """Count the tree below the decision `root` (street row) with `root_seat` to act.

    Returns the root's count vector (`VECTOR_SIZE`), its widest node, each menu entry's
    discovery rank (-1: never offered; ranks follow the builder's preorder), each entry's
    nodes and decisions by round below its edges (num_entries x 5), and the number of distinct
    states.

    Equal keys share one count. The key (`_key`) keeps what the subtree below a decision can
    depend on: the round, the pot, the largest folded street bet (only it can matter to the
    chips returned uncalled), the bet level, the last full raise, the raise depth and, per seat,
    its stack and street bet, whether it is in and whether it acted since the last full raise
    (only for a seat not all-in: an all-in seat never acts again). With even starting stacks a
    live seat's number does not matter, only the order of the live seats: they are listed from
    the seat to act, with the place of the one that opens the next round; with uneven stacks
    the seats are listed by number, with the seat to act. Keys are packed into int64 words,
    every chip amount in `chip_bits` bits (enough for all the chips in play), so that a
    lookup reads one cache line or two."""
    n = num_players
    width_street = 5 * n + 3
    key_size = key_words(n, chip_bits)
    max_targets = menu_sizes.shape[1] + 1
    max_edges = max_targets + 2
    # The stack of decisions being expanded.
    f_street = np.empty((max_depth, width_street), dtype=np.int64)
    f_seat = np.empty(max_depth, dtype=np.int64)
    f_round = np.empty(max_depth, dtype=np.int64)
    f_fold = np.empty(max_depth, dtype=np.int64)
    f_edges = np.empty(max_depth, dtype=np.int64)
    f_next = np.empty(max_depth, dtype=np.int64)
    f_targets = np.empty((max_depth, max_targets), dtype=np.int64)
    f_entry_start = np.empty((max_depth, max_targets + 1), dtype=np.int64)
    f_entries = np.empty((max_depth, max_targets), dtype=np.int64)
    f_child = np.empty((max_depth, max_edges), dtype=np.int64)
    f_key = np.empty((max_depth, key_size), dtype=np.int64)
    # Finished states, numbered as they finish (children before parents).
    capacity = 1024
    keys = np.empty((capacity, key_size), dtype=np.int64)
    vectors = np.zeros((capacity, VECTOR_SIZE), dtype=np.int64)
    widths = np.zeros(capacity, dtype=np.int64)
    rounds = np.zeros(capacity, dtype=np.int64)
    edge_start = np.zeros(capacity + 1, dtype=np.int64)
    edge_child = np.empty(4 * capacity, dtype=np.int64)
    edge_entry_start = np.zeros(4 * capacity + 1, dtype=np.int64)
    edge_entries = np.empty(4 * capacity, dtype=np.int64)
    num_states = 0
    num_edges = 0
    num_edge_entries = 0
    slots = np.full(2 * capacity, _EMPTY, dtype=np.int64)
    entry_rank = np.full(num_entries, _EMPTY, dtype=np.int64)
    ranked = 0
    child = np.empty(width_street, dtype=np.int64)
    scratch = np.empty(width_street, dtype=np.int64)
    key = np.empty(key_size, dtype=np.int64)
    raw_targets = np.empty(max_targets, dtype=np.int64)
    raw_entries = np.empty(max_targets, dtype=np.int64)

    top = 0
    f_street[0, :] = root
    f_seat[0] = root_seat
    f_round[0] = 0
    _key(root, n, root_seat, 0, even, opener, chip_bits, f_key[0])
    count = street_raise_options(root, n, root_seat, 0, big_blind, menu_sizes, menu_length,
                                 menu_entry, menu_open, raise_caps, all_in_entry,
                                 f_targets[0], f_entry_start[0], f_entries[0],
                                 raw_targets, raw_entries)
    f_fold[0] = 1 if street_to_call(root, n, root_seat) > 0 else 0
    f_edges[0] = f_fold[0] + 1 + count
    f_next[0] = 0
    while top >= 0:
        st = f_street[top]
        seat = f_seat[top]
        round_index = f_round[top]
        edge = f_next[top]
        if edge < f_edges[top]:
            f_next[top] = edge + 1
            child[:] = st
            action = edge - f_fold[top]
            if action < 0:
                child[3 * n + seat] = 1
            elif action == 0:
                street_put(child, n, seat, street_to_call(st, n, seat))
                child[4 * n + seat] = 1
            else:
                target = action - 1
                for i in range(f_entry_start[top, target], f_entry_start[top, target + 1]):
                    entry = f_entries[top, i]
                    if entry_rank[entry] < 0:
                        entry_rank[entry] = ranked
                        ranked += 1
                street_raise_to(child, n, seat, f_targets[top, target])
            # Where the action leads (`_RoundWriter.after`).
            if _players_in(child, n) == 1:
                f_child[top, edge] = FOLD_LEAF
                continue
            next_seat = street_next_to_act(child, n, seat + 1)
            next_round = round_index
            following = child
            if next_seat < 0:
                street_return_uncalled(child, n)
                next_round, next_seat = street_round_start(child, n, round_index,
                                                           start_stacks, big_blind, opener,
                                                           scratch)
                if next_seat < 0:
                    f_child[top, edge] = SHOWDOWN_LEAF
                    continue
                following = scratch
            _key(following, n, next_seat, next_round, even, opener, chip_bits, key)
            mask = slots.shape[0] - 1
            slot = np.int64(_hash(key) & np.uint64(mask))
            found = -1
            while slots[slot] >= 0:
                state = slots[slot]
                same = True
                for i in range(key_size):
                    if keys[state, i] != key[i]:
                        same = False
                        break
                if same:
                    found = state
                    break
                slot = (slot + 1) & mask
            if found >= 0:
                f_child[top, edge] = found
                continue
            top += 1
            if top >= max_depth:
                raise RuntimeError("betting path longer than the counter's stack")
            f_street[top, :] = following
            f_seat[top] = next_seat
            f_round[top] = next_round
            f_key[top, :] = key
            count = street_raise_options(following, n, next_seat, next_round, big_blind,
                                         menu_sizes, menu_length, menu_entry, menu_open,
                                         raise_caps, all_in_entry, f_targets[top],
                                         f_entry_start[top], f_entries[top], raw_targets,
                                         raw_entries)
            f_fold[top] = 1 if street_to_call(following, n, next_seat) > 0 else 0
            f_edges[top] = f_fold[top] + 1 + count
            f_next[top] = 0
            continue
        # Every edge is counted: number the state and add it to the memo.
        if num_states == capacity:
            capacity *= 2
            keys = _grow_rows(keys, capacity)
            vectors = _grow_rows(vectors, capacity)
            widths = _grow_rows(widths, capacity)
            rounds = _grow_rows(rounds, capacity)
            edge_start = _grow_rows(edge_start, capacity + 1)
            slots = np.full(2 * capacity, _EMPTY, dtype=np.int64)
            mask = slots.shape[0] - 1
            for state in range(num_states):
                slot = np.int64(_hash(keys[state]) & np.uint64(mask))
                while slots[slot] >= 0:
                    slot = (slot + 1) & mask
                slots[slot] = state
        index = num_states
        num_states += 1
        keys[index, :] = f_key[top]
        edges = f_edges[top]
        vector = vectors[index]
        vector[:] = 0
        vector[0] = 1
        vector[1 + round_index] = 1
        width = edges
        if num_edges + edges > edge_child.shape[0]:
            edge_child = _grow_rows(edge_child, 2 * edge_child.shape[0])
            edge_entry_start = _grow_rows(edge_entry_start, edge_child.shape[0] + 1)
        if num_edge_entries + max_targets + 1 > edge_entries.shape[0]:
            edge_entries = _grow_rows(edge_entries, 2 * edge_entries.shape[0])
        edge_start[index] = num_edges
        for e in range(edges):
            target_child = f_child[top, e]
            if target_child == FOLD_LEAF:
                vector[0] += 1
                vector[5] += 1
            elif target_child == SHOWDOWN_LEAF:
                vector[0] += 1
                vector[6] += 1
            else:
                for i in range(VECTOR_SIZE):
                    vector[i] += vectors[target_child, i]
                width = max(width, widths[target_child])
            edge_child[num_edges] = target_child
            edge_entry_start[num_edges] = num_edge_entries
            action = e - f_fold[top] - 1
            if action >= 0:
                for i in range(f_entry_start[top, action], f_entry_start[top, action + 1]):
                    edge_entries[num_edge_entries] = f_entries[top, i]
                    num_edge_entries += 1
            num_edges += 1
        edge_entry_start[num_edges] = num_edge_entries
        edge_start[index + 1] = num_edges
        widths[index] = width
        rounds[index] = round_index
        mask = slots.shape[0] - 1
        slot = np.int64(_hash(keys[index]) & np.uint64(mask))
        while slots[slot] >= 0:
            slot = (slot + 1) & mask
        slots[slot] = index
        top -= 1
        if top >= 0:
            f_child[top, f_next[top] - 1] = index
    root_index = num_states - 1
    totals = _entry_totals(root_index, vectors, rounds, edge_start, edge_child,
                           edge_entry_start, edge_entries, entry_rank)
    return vectors[root_index].copy(), widths[root_index], entry_rank, totals, num_states


@njit(cache=True)
def _entry_totals(root: int, vectors: np.ndarray, rounds: np.ndarray, edge_start: np.ndarray,
                  edge_child: np.ndarray, edge_entry_start: np.ndarray,
                  edge_entries: np.ndarray, entry_rank: np.ndarray) -> np.ndarray:
    """Per entry, the nodes (column 0) and decisions by round (columns 1..4) whose path from
    the root takes one of the entry's edges, each counted once however many it takes: the
    whole tree less the tree with the entry's edges cut, counted children first (states are
    numbered children before parents), and only where the subtree offers the entry at all."""
    num_entries = entry_rank.shape[0]
    totals = np.zeros((num_entries, 5), dtype=np.int64)
    # Which entries each subtree offers, as bits (all set when there are too many for a word).
    offers = np.zeros(root + 1, dtype=np.uint64)
    everything = np.uint64(0xFFFFFFFFFFFFFFFF)
    for state in range(root + 1):
        bits = np.uint64(0)
        for e in range(edge_start[state], edge_start[state + 1]):
            for i in range(edge_entry_start[e], edge_entry_start[e + 1]):
                entry = edge_entries[i]
                bits |= everything if num_entries > 64 else np.uint64(1) << np.uint64(entry)
            target = edge_child[e]
            if target >= 0:
                bits |= offers[target]
        offers[state] = bits
    kept = np.zeros((root + 1, 5), dtype=np.int64)
    for entry in range(num_entries):
        if entry_rank[entry] < 0:
            continue
        bit = everything if num_entries > 64 else np.uint64(1) << np.uint64(entry)
        for state in range(root + 1):
            if offers[state] & bit == 0:
                continue
            row = kept[state]
            row[:] = 0
            row[0] = 1
            row[1 + rounds[state]] = 1
            for e in range(edge_start[state], edge_start[state + 1]):
                cut = False
                for i in range(edge_entry_start[e], edge_entry_start[e + 1]):
                    if edge_entries[i] == entry:
                        cut = True
                        break
                if cut:
                    continue
                target = edge_child[e]
                if target < 0:
                    row[0] += 1
                elif offers[target] & bit == 0:
                    for c in range(5):
                        row[c] += vectors[target, c]
                else:
                    for c in range(5):
                        row[c] += kept[target, c]
        for c in range(5):
            totals[entry, c] = vectors[root, c] - kept[root, c]
    return totals
