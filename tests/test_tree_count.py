"""The compiled counter's betting rules (holdem_lab.games.tree_count) are the builder's: random
hands walked through the builder's own street states (holdem_lab.games.betting) give the same
amount to call, raise rights, seat to act, raise targets with their menu entries, uncalled
chips and next round at every step; and the counts it gives equal built trees where the key
packing or the stack layout is unusual. Sizing the largest trees stays fast."""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import pytest

from holdem_lab.games import tree_count as tc
from holdem_lab.games.betting import (
    BetSizing,
    _Builder,
    _menu_tables,
    _Street,
    _table_and_sizing,
    build_holdem_tree,
    holdem_tree_size,
)

ONE_SIZE = BetSizing(bet_sizes=((1.0,),) * 4, max_raises=(2, 1, 1, 1))
WALKED: dict[str, dict[str, Any]] = {
    "2p default": dict(num_players=2, stacks=200, small_blind=1, big_blind=2),
    "2p uneven, ante": dict(num_players=2, stacks=[150, 9], small_blind=1, big_blind=2, ante=1),
    "3p two sizes, open in bb": dict(
        num_players=3, stacks=[300, 120, 41], small_blind=1, big_blind=2,
        sizing=BetSizing(bet_sizes=((0.5, 1.0),) * 4, raise_sizes=((0.7, 3.0),) * 4,
                         preflop_open_bb=(2.5, 4.0), max_raises=(4, 3, 3, 3))),
    "4p multiway menu, short stacks": dict(
        num_players=4, stacks=[30, 7, 60, 19], small_blind=1, big_blind=2, ante=1,
        sizing=BetSizing(multiway_bet_sizes=((1.0,), (0.33,), (1.0,), (2.0,)),
                         multiway_max_raises=(2, 1, 1, 0))),
    "5p no all-in, big-blind ante": dict(
        num_players=5, stacks=[25, 3, 40, 20, 33], small_blind=1, big_blind=2, ante=4,
        ante_type="big_blind",
        sizing=BetSizing(bet_sizes=((0.5, 2.0), (0.5,), (1.0,), (1.0,)), all_in=False,
                         max_raises=(3, 2, 2, 1))),
    "6p default": dict(num_players=6, stacks=200, small_blind=1, big_blind=2),
    "6p huge stacks": dict(num_players=6, stacks=[10**8, 7 * 10**7, 3, 10**8, 5 * 10**7, 40],
                           small_blind=50, big_blind=100, sizing=ONE_SIZE),
}


def _row(st: _Street) -> np.ndarray:
    row = np.array([*st.contrib, *st.bets, *st.stacks, *st.folded, *st.acted, st.level,
                    st.full_raise, st.depth], dtype=np.int64)
    assert row.size == tc.street_columns(len(st.bets))
    return row


class _Checker:
    """Compares every rule of the compiled counter with the builder's on one game."""

    def __init__(self, params: dict[str, Any]) -> None:
        table, sizing = _table_and_sizing(
            params["num_players"], params["stacks"], params["small_blind"],
            params["big_blind"], params.get("ante", 0), params.get("sizing"),
            params.get("ante_type"))
        self.table = table
        self.builder = _Builder(table, sizing, 2**31 - 1)
        self.entries, self.tables = _menu_tables(sizing)
        self.names = {i: entry for entry, i in self.entries.items()}
        self.n = table.num_players
        self.steps = 0

    def decision(self, st: _Street, seat: int, round_index: int) -> list[tuple[int, int]]:
        """Check the rules at a decision; returns its edges as (kind, target) pairs."""
        n, row = self.n, _row(st)
        for s in range(n):
            assert tc.street_cover(row, n, s) == st.cover(s)
            assert tc.street_to_call(row, n, s) == st.to_call(s)
            if not st.folded[s]:
                assert tc.street_can_raise(row, n, s) == st.can_raise(s)
            found = st.next_to_act(s)
            assert tc.street_next_to_act(row, n, s) == (-1 if found is None else found)
        width = self.tables["menu_sizes"].shape[1] + 1
        targets, entries = np.empty(width, np.int64), np.empty(width, np.int64)
        starts = np.empty(width + 1, np.int64)
        count = tc.street_raise_options(
            row, n, seat, round_index, self.table.big_blind, self.tables["menu_sizes"],
            self.tables["menu_length"], self.tables["menu_entry"], self.tables["menu_open"],
            self.tables["raise_caps"], self.tables["all_in_entry"], targets, starts, entries,
            np.empty(width, np.int64), np.empty(width, np.int64))
        compiled = [(int(targets[k]), tuple(self.names[int(e)]
                                            for e in entries[starts[k]:starts[k + 1]]))
                    for k in range(count)]
        options = self.builder.raise_options(st, seat, round_index)
        assert compiled == options
        self.steps += 1
        edges = [(0, 0)] if st.to_call(seat) > 0 else []
        return edges + [(1, 0)] + [(2, target) for target, _ in options]

    def act(self, st: _Street, seat: int, kind: int, target: int) -> _Street:
        """The builder's child state, checked against the compiled action."""
        child, row = st.copy(), _row(st)
        if kind == 0:
            child.folded[seat] = True
            row[3 * self.n + seat] = 1
        elif kind == 1:
            chips = st.to_call(seat)
            child.put(seat, chips)
            child.acted[seat] = True
            tc.street_put(row, self.n, seat, chips)
            row[4 * self.n + seat] = 1
        else:
            child.raise_to(seat, target)
            tc.street_raise_to(row, self.n, seat, target)
        np.testing.assert_array_equal(row, _row(child))
        return child

    def close(self, st: _Street, round_index: int) -> tuple[_Street | None, int, int]:
        """Return uncalled chips and start the next betting round, both ways."""
        row = _row(st)
        st.return_uncalled()
        tc.street_return_uncalled(row, self.n)
        np.testing.assert_array_equal(row, _row(st))
        _, next_round, street, first = self.builder.round_start(round_index, st.contrib,
                                                                st.folded)
        out = np.empty_like(row)
        compiled_round, compiled_seat = tc.street_round_start(
            row, self.n, round_index, np.array(self.table.stacks, dtype=np.int64),
            self.table.big_blind, self.table.first_seat_left_of_button, out)
        assert (compiled_round, compiled_seat) == (next_round, first)
        if street is not None:
            np.testing.assert_array_equal(out, _row(street))
        return street, first, next_round

    def walk(self, rng: np.random.Generator) -> None:
        """One random hand from the root to a terminal."""
        st, seat = self.builder.root_state()
        round_index = 0
        while True:
            edges = self.decision(st, seat, round_index)
            kind, target = edges[int(rng.integers(len(edges)))]
            st = self.act(st, seat, kind, target)
            if st.folded.count(False) == 1:
                return
            following = st.next_to_act(seat + 1)
            if following is not None:
                seat = following
                continue
            street, first, round_index = self.close(st, round_index)
            if street is None:
                return
            st, seat = street, first


@pytest.mark.parametrize("name", sorted(WALKED))
def test_the_compiled_rules_are_the_builders(name: str) -> None:
    checker = _Checker(WALKED[name])
    rng = np.random.default_rng(19)
    walks = 400
    for _ in range(walks):
        checker.walk(rng)
    assert checker.steps > 2 * walks  # hands that go past the first decisions


@pytest.mark.parametrize("params", [
    dict(num_players=3, stacks=[10**8, 7 * 10**7, 9 * 10**8], small_blind=50, big_blind=100,
         sizing=ONE_SIZE),
    dict(num_players=4, stacks=2**29 - 1, small_blind=1, big_blind=2, sizing=ONE_SIZE),
])
def test_counts_with_wide_chip_amounts_equal_the_built_tree(params: dict[str, Any]) -> None:
    """Chip amounts of 27 to 30 bits pack keys across several words."""
    size = holdem_tree_size(**params)
    tree = build_holdem_tree(**params)
    assert size.counts() == tree.counts()
    assert size.max_actions == tree.max_actions


def test_the_largest_trees_are_sized_within_a_second() -> None:
    """The six-player tree under the heads-up menu (120,745,299 nodes), the largest a menu of
    this size gives, counted from its distinct betting states."""
    holdem_tree_size(num_players=2, stacks=200, small_blind=1, big_blind=2)  # compiled
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        size = holdem_tree_size(num_players=6, stacks=200, small_blind=1, big_blind=2,
                                sizing=BetSizing())
        best = min(best, time.perf_counter() - started)
    assert size.nodes == 120_745_299
    assert size.infosets((1, 1, 1, 1)) == size.decision == 56_511_673
    assert best < 1.0, best
