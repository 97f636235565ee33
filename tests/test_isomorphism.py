"""Suit-isomorphic hand indexing: class counts, exhaustive and sampled round trips, invariance
under suit renaming and reordering within a group, and preflop class names."""

from __future__ import annotations

import itertools
import os
from math import comb

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from numba import njit

from holdem_lab.cards.deck import parse_cards, sample_hands
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
from holdem_lab.errors import GameError

FULL = os.environ.get("HOLDEM_LAB_FULL") == "1"
SUIT_PERMUTATIONS = list(itertools.permutations(range(4)))
ALL_LAYOUTS = range(len(LAYOUT_GROUPS))


def _rename_suits(cards: np.ndarray, perm: tuple[int, ...]) -> np.ndarray:
    return (4 * (cards >> 2) + np.asarray(perm)[cards & 3]).astype(cards.dtype)


def test_class_counts() -> None:
    assert [round_size(r) for r in (PREFLOP, FLOP, TURN, RIVER)] == [
        169,
        1_286_792,
        13_960_050,
        123_156_254,
    ]
    assert round_size(TURN_PERFECT_RECALL) == 55_190_538
    assert round_size(RIVER_PERFECT_RECALL) == 2_428_287_420
    assert LAYOUT_CARDS == (2, 5, 6, 7, 6, 7)
    for bad in (-1, 6, 1.0, True):
        with pytest.raises(GameError, match="invalid layout"):
            round_size(bad)  # type: ignore[arg-type]


@pytest.mark.parametrize("layout", [PREFLOP, FLOP])
def test_round_trip_every_index(layout: int) -> None:
    n = LAYOUT_SIZES[layout]
    hands = unindex_hands(np.arange(n), layout)
    assert hands.shape == (n, LAYOUT_CARDS[layout])
    assert np.array_equal(index_hands(hands, layout), np.arange(n))


@pytest.mark.parametrize("layout", [TURN, RIVER, TURN_PERFECT_RECALL, RIVER_PERFECT_RECALL])
def test_round_trip_random_indices(layout: int) -> None:
    n = LAYOUT_SIZES[layout]
    rng = np.random.default_rng(layout)
    idx = rng.integers(0, n, 1_000_000 if FULL else 100_000)
    idx[:3] = (0, n - 1, n // 2)
    hands = unindex_hands(idx, layout)
    assert np.array_equal(index_hands(hands, layout), idx)


@njit(cache=True)
def _index_histogram(layout: int, size: int, board_size: int, deck: np.ndarray) -> np.ndarray:
    """How many hands (2 hole cards, ``board_size`` board cards, all from ``deck``) map to each
    index of a layout whose board is one group."""
    n = deck.shape[0]
    k = board_size
    counts = np.zeros(size, np.int64)
    hand = np.empty(2 + k, np.int64)
    rest = np.empty(n - 2, np.int64)
    sub = np.empty(k, np.int64)
    for a in range(n):
        for b in range(a + 1, n):
            hand[0] = deck[a]
            hand[1] = deck[b]
            m = 0
            for c in range(n):
                if c != a and c != b:
                    rest[m] = deck[c]
                    m += 1
            if k == 0:
                counts[index_kernel(hand, layout)] += 1
                continue
            for j in range(k):  # every k-subset of the rest, in lexicographic order
                sub[j] = j
            while True:
                for j in range(k):
                    hand[2 + j] = rest[sub[j]]
                counts[index_kernel(hand, layout)] += 1
                j = k - 1
                while j >= 0 and sub[j] == m - k + j:
                    j -= 1
                if j < 0:
                    break
                sub[j] += 1
                for t in range(j + 1, k):
                    sub[t] = sub[t - 1] + 1
    return counts


@pytest.mark.parametrize(
    ("layout", "num_ranks"),
    [
        (PREFLOP, 13),
        (FLOP, 13),
        (TURN, 6),
        pytest.param(TURN, 13, marks=pytest.mark.slow),
    ],
)
def test_every_hand_indexed(layout: int, num_ranks: int) -> None:
    """Enumerate every hand dealt from the cards of the ``num_ranks`` lowest ranks (all four
    suits, so the deck is closed under suit renaming): exactly the classes whose representative
    uses those ranks are hit, and each as often as its suit orbit is large."""
    if num_ranks == 13 and layout == TURN and not FULL:
        pytest.skip("all 305 million turn hands run with HOLDEM_LAB_FULL=1; 6 ranks run always")
    deck = np.arange(4 * num_ranks)
    board = LAYOUT_CARDS[layout] - 2
    counts = _index_histogram(layout, LAYOUT_SIZES[layout], board, deck)
    assert counts.sum() == comb(len(deck), 2) * comb(len(deck) - 2, board)
    rng = np.random.default_rng(0)
    # every index (or, for the turn, 300,000 random ones plus every index hit)
    if counts.size <= 2_000_000:
        checked = np.arange(counts.size)
    else:
        checked = np.union1d(rng.integers(0, counts.size, 300_000), np.flatnonzero(counts))
    reps = unindex_hands(checked, layout)
    in_deck = np.all(reps < 4 * num_ranks, axis=1)
    assert np.array_equal(counts[checked] > 0, in_deck)
    # A class holds one hand per distinct suit renaming of its representative (cards within a
    # group are unordered).
    hit = np.flatnonzero(in_deck)
    for j in rng.choice(hit, min(300, hit.size), replace=False):
        renamed = {canonical_tuple(_rename_suits(reps[j], p), layout) for p in SUIT_PERMUTATIONS}
        assert counts[checked[j]] == len(renamed)


def canonical_tuple(cards: np.ndarray, layout: int) -> tuple[tuple[int, ...], ...]:
    """The hand as a tuple of sorted groups (no suit canonicalization)."""
    bounds = np.cumsum((0, *LAYOUT_GROUPS[layout])).tolist()
    return tuple(tuple(sorted(cards[a:b].tolist())) for a, b in itertools.pairwise(bounds))


@pytest.mark.parametrize("layout", ALL_LAYOUTS)
def test_unindex_is_isomorphic_to_the_hand(layout: int) -> None:
    hands = sample_hands(np.random.default_rng(100 + layout), 1500, LAYOUT_CARDS[layout])
    reps = unindex_hands(index_hands(hands, layout), layout)
    bounds = np.cumsum((0, *LAYOUT_GROUPS[layout])).tolist()
    for hand, rep in zip(hands, reps, strict=True):
        assert canonical_form(rep, layout) == canonical_form(hand, layout)
        for a, b in itertools.pairwise(bounds):  # each group of the representative is sorted
            assert np.all(np.diff(rep[a:b]) > 0)


@pytest.mark.parametrize("layout", ALL_LAYOUTS)
def test_index_matches_slow_canonical_form(layout: int) -> None:
    """Equal indices exactly for equal canonical forms (hands drawn from few ranks so that
    isomorphic pairs are common)."""
    rng = np.random.default_rng(7 + layout)
    k = LAYOUT_CARDS[layout]
    pool = np.array([c for c in range(52) if (c >> 2) in (0, 1, 5, 12)])
    hands = np.stack([rng.choice(pool, k, replace=False) for _ in range(3000)]).astype(np.int8)
    idx = index_hands(hands, layout)
    forms = [canonical_form(h, layout) for h in hands]
    form_of_index: dict[int, object] = {}
    index_of_form: dict[object, int] = {}
    for i, f in zip(idx.tolist(), forms, strict=True):
        assert form_of_index.setdefault(i, f) == f
        assert index_of_form.setdefault(f, i) == i
    assert len(form_of_index) < len(hands)  # collisions of isomorphic hands did occur


@st.composite
def hands_and_layouts(draw: st.DrawFn) -> tuple[np.ndarray, int]:
    layout = draw(st.sampled_from(list(ALL_LAYOUTS)))
    cards = draw(st.permutations(range(52)))[: LAYOUT_CARDS[layout]]
    return np.array(cards, dtype=np.int8), layout


@given(hands_and_layouts())
def test_invariant_under_suit_renaming(case: tuple[np.ndarray, int]) -> None:
    hand, layout = case
    expected = index_hand(hand, layout)
    for perm in SUIT_PERMUTATIONS:
        assert index_hand(_rename_suits(hand, perm), layout) == expected


@given(hands_and_layouts(), st.randoms(use_true_random=False))
def test_invariant_under_reordering_within_groups(
    case: tuple[np.ndarray, int], rnd: object
) -> None:
    hand, layout = case
    expected = index_hand(hand, layout)
    shuffled = hand.copy()
    start = 0
    for size in LAYOUT_GROUPS[layout]:
        group = shuffled[start : start + size].tolist()
        rnd.shuffle(group)  # type: ignore[attr-defined]
        shuffled[start : start + size] = group
        start += size
    assert index_hand(shuffled, layout) == expected


@given(hands_and_layouts(), st.permutations(range(52)), st.sampled_from(SUIT_PERMUTATIONS))
def test_distinct_classes_get_distinct_indices(
    case: tuple[np.ndarray, int], other: list[int], perm: tuple[int, ...]
) -> None:
    """Two hands share an index exactly when they are isomorphic. The second hand is either a
    fresh random hand or a suit renaming of the first with a few cards replaced, so both
    outcomes occur."""
    hand, layout = case
    k = LAYOUT_CARDS[layout]
    twin = _rename_suits(hand, perm)
    for card in other[: k % 3]:  # replace up to two cards with cards not in the hand
        if card not in twin.tolist():
            twin[card % k] = card
    candidates = [np.array(other[:k], dtype=np.int8)]
    if len(set(twin.tolist())) == k:
        candidates.append(twin)
    for second in candidates:
        same_class = canonical_form(hand, layout) == canonical_form(second, layout)
        assert (index_hand(hand, layout) == index_hand(second, layout)) == same_class


def test_group_split_matters() -> None:
    # Same seven cards, different split into hole cards and board: different classes.
    a = index_hand(parse_cards("AsKs 2s3s4d5h9c"))
    b = index_hand(parse_cards("2s3s AsKs4d5h9c"))
    assert a != b
    # The perfect-recall layouts tell the turn card from the flop cards.
    flop_heavy = index_hand(parse_cards("AsKd 2s3s4s 5h"), TURN_PERFECT_RECALL)
    turn_heavy = index_hand(parse_cards("AsKd 2s3s5h 4s"), TURN_PERFECT_RECALL)
    assert flop_heavy != turn_heavy
    assert index_hand(parse_cards("AsKd 2s3s4s5h")) == index_hand(parse_cards("AsKd 2s3s5h4s"))


def test_index_inputs_and_errors() -> None:
    assert index_hand("AsKs") == index_hand(["Ks", "As"]) == index_hand([51, 47])
    assert index_hand("AsKs7h2c9d", FLOP) == index_hand([51, 47, 22, 0, 29])
    rep = unindex_hand(index_hand("AhKh"), PREFLOP)
    assert rep.dtype == np.int8
    assert rep.tolist() == [44, 48]  # suited AK, canonically in clubs
    with pytest.raises(GameError, match="repeated card"):
        index_hand([51, 51])
    with pytest.raises(GameError, match="invalid card 52"):
        index_hand([51, 52])
    with pytest.raises(GameError, match="cannot infer"):
        index_hand([1, 2, 3])
    with pytest.raises(GameError, match="takes 5 cards"):
        index_hand([1, 2, 3, 4], FLOP)
    with pytest.raises(GameError, match="invalid layout"):
        index_hand([1, 2], 7)
    with pytest.raises(GameError, match="out of range"):
        unindex_hand(169, PREFLOP)
    with pytest.raises(GameError, match="out of range"):
        unindex_hand(-1, PREFLOP)
    with pytest.raises(GameError, match="out of range"):
        unindex_hands(np.array([0, 5, 169]), PREFLOP)
    bad = np.array([[0, 1, 2, 3, 3]], np.int8)
    with pytest.raises(GameError, match="repeated card"):
        index_hands(bad)
    with pytest.raises(GameError, match="invalid card -4"):
        index_hands(np.array([[0, -4]]))
    assert index_hands(np.zeros((0, 7), np.int8)).shape == (0,)
    assert unindex_hands(np.zeros(0, np.int64), RIVER).shape == (0, 7)


def test_preflop_classes() -> None:
    classes: dict[int, list[tuple[int, int]]] = {}
    for c0, c1 in itertools.combinations(range(52), 2):
        cls = preflop_class(c0, c1)
        assert cls == index_hand([c0, c1]) == preflop_class(c1, c0)
        assert cls == preflop_class_kernel(c0, c1)
        classes.setdefault(cls, []).append((c0, c1))
    assert sorted(classes) == list(range(169))
    names = [preflop_class_name(i) for i in range(169)]
    assert len(set(names)) == 169
    assert sum(len(n) == 2 for n in names) == 13
    assert sum(n.endswith("s") for n in names) == 78
    assert sum(n.endswith("o") for n in names) == 78
    # combos per class: 6 per pair, 4 per suited hand, 12 per offsuit hand
    for i, name in enumerate(names):
        assert len(classes[i]) == {2: 6}.get(len(name), 4 if name.endswith("s") else 12)
        assert preflop_class_of_name(name) == i
        assert preflop_class_of_name(name.lower()) == i
    assert preflop_class_name(preflop_class("AsKs")) == "AKs"
    assert preflop_class_name(preflop_class("Td", "9c")) == "T9o"
    assert preflop_class_name(preflop_class("7h7d")) == "77"
    assert preflop_class_name(preflop_class(0, 4)) == "32s"
    for bad in ("AKx", "AAs", "KAs", "A", "", "1Ks"):
        with pytest.raises(GameError, match="invalid preflop class name"):
            preflop_class_of_name(bad)
    for bad_cls in (-1, 169, 2.0):
        with pytest.raises(GameError, match="invalid preflop class"):
            preflop_class_name(bad_cls)  # type: ignore[arg-type]


def test_preflop_grid() -> None:
    grid = preflop_grid()
    assert grid.shape == (13, 13)
    assert sorted(grid.reshape(-1).tolist()) == list(range(169))
    assert preflop_class_name(int(grid[0, 0])) == "AA"
    assert preflop_class_name(int(grid[12, 12])) == "22"
    assert preflop_class_name(int(grid[0, 1])) == "AKs"
    assert preflop_class_name(int(grid[1, 0])) == "AKo"
    assert preflop_class_name(int(grid[0, 12])) == "A2s"
    assert preflop_class_name(int(grid[12, 0])) == "A2o"
    assert preflop_class_name(int(grid[4, 5])) == "T9s"
    for row in range(13):
        for col in range(13):
            name = preflop_class_name(int(grid[row, col]))
            assert preflop_grid_position(int(grid[row, col])) == (row, col)
            if row == col:
                assert len(name) == 2
            elif row < col:
                assert name.endswith("s")
            else:
                assert name.endswith("o")


@njit(cache=True)
def _engine_like(hands: np.ndarray, out: np.ndarray) -> None:
    """Index each hand for every round from one buffer, as a solver would."""
    for i in range(hands.shape[0]):
        h = hands[i]
        out[i, 0] = preflop_class_kernel(h[0], h[1])
        for rnd in range(4):
            out[i, 1 + rnd] = index_kernel(h, rnd)


@njit(cache=True)
def _unindex_into(indices: np.ndarray, layout: int) -> np.ndarray:
    out = np.empty((indices.shape[0], 7), np.int8)
    for i in range(indices.shape[0]):
        unindex_kernel(indices[i], layout, out[i])
    return out


def test_kernels_are_callable_from_numba() -> None:
    hands = sample_hands(np.random.default_rng(5), 2000, 7)
    out = np.empty((hands.shape[0], 5), np.int64)
    _engine_like(hands, out)
    assert np.array_equal(out[:, 0], out[:, 1])
    for rnd, k in enumerate((2, 5, 6, 7)):
        assert np.array_equal(out[:, 1 + rnd], index_hands(hands[:, :k], rnd))
    reps = _unindex_into(out[:, 4], RIVER)
    assert np.array_equal(reps, unindex_hands(out[:, 4], RIVER))
