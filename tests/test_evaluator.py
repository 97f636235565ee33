"""Hand evaluator: exhaustive category counts, a differential test against phevaluator, the
5/6/7-card evaluators against best-of-n, hand-written cases and the Python API."""

from __future__ import annotations

import itertools

import numpy as np
import numpy.typing as npt
import pytest
from numba import njit

from holdem_lab.cards.deck import parse_cards, sample_hands
from holdem_lab.cards.evaluator import (
    CATEGORY_FIRST_VALUE,
    CATEGORY_NAMES,
    NUM_HAND_VALUES,
    RANK_KEYS,
    eval5_kernel,
    eval7_kernel,
    evaluate5,
    evaluate6,
    evaluate7,
    hand_category,
    hand_category_kernel,
)
from holdem_lab.errors import GameError

# Standard counts (e.g. the Wikipedia "Poker probability" tables), high card first.
SEVEN_CARD_CATEGORY_COUNTS = [
    23_294_460,
    58_627_800,
    31_433_400,
    6_461_620,
    6_180_020,
    4_047_644,
    3_473_184,
    224_848,
    41_584,
]
FIVE_CARD_CATEGORY_COUNTS = [1_302_540, 1_098_240, 123_552, 54_912, 10_200, 5_108, 3_744, 624, 40]
FIVE_CARD_DISTINCT_VALUES = [1277, 2860, 858, 858, 10, 1277, 156, 156, 10]


@njit(cache=True)
def _all_seven_card_hands() -> tuple[np.ndarray, np.ndarray]:
    """Category counts and value histogram over all C(52, 7) hands (calls the njit kernel)."""
    cats = np.zeros(9, np.int64)
    seen = np.zeros(NUM_HAND_VALUES + 1, np.int64)
    for a in range(46):
        for b in range(a + 1, 47):
            for c in range(b + 1, 48):
                for d in range(c + 1, 49):
                    for e in range(d + 1, 50):
                        for f in range(e + 1, 51):
                            for g in range(f + 1, 52):
                                seen[eval7_kernel(a, b, c, d, e, f, g)] += 1
    for value in range(1, NUM_HAND_VALUES + 1):
        cats[hand_category_kernel(value)] += seen[value]
    return cats, seen


@njit(cache=True)
def _all_five_card_values() -> np.ndarray:
    out = np.empty(2_598_960, np.int32)
    i = 0
    for a in range(48):
        for b in range(a + 1, 49):
            for c in range(b + 1, 50):
                for d in range(c + 1, 51):
                    for e in range(d + 1, 52):
                        out[i] = eval5_kernel(a, b, c, d, e)
                        i += 1
    return out


def test_rank_keys_separate_all_rank_multisets() -> None:
    combos = np.array(list(itertools.combinations_with_replacement(range(13), 7)))
    counts = np.stack([(combos == r).sum(axis=1) for r in range(13)], axis=1)
    multisets = combos[counts.max(axis=1) <= 4]
    assert len(multisets) == 49_205
    sums = RANK_KEYS[multisets].sum(axis=1)
    assert np.unique(sums).size == sums.size
    assert int(sums.max()) < 1 << 23


def test_all_seven_card_hands() -> None:
    cats, seen = _all_seven_card_hands()
    assert cats.sum() == 133_784_560
    assert cats.tolist() == SEVEN_CARD_CATEGORY_COUNTS
    # Only 4,824 of the 7,462 classes can be the best five of seven cards.
    assert int(np.count_nonzero(seen)) == 4824
    assert seen[0] == 0


def test_all_five_card_hands() -> None:
    values = _all_five_card_values()
    assert values.min() == 1
    assert values.max() == NUM_HAND_VALUES
    distinct = np.unique(values)
    assert distinct.size == NUM_HAND_VALUES
    cats = hand_category(values)
    assert isinstance(cats, np.ndarray)
    assert np.bincount(cats, minlength=9).tolist() == FIVE_CARD_CATEGORY_COUNTS
    per_category = np.bincount(np.asarray(hand_category(distinct)), minlength=9)
    assert per_category.tolist() == FIVE_CARD_DISTINCT_VALUES
    assert np.array_equal(CATEGORY_FIRST_VALUE, np.cumsum([1, *FIVE_CARD_DISTINCT_VALUES[:-1]]))


def _best_of_five(hands: npt.NDArray[np.int8]) -> npt.NDArray[np.int32]:
    n = hands.shape[1]
    subsets = [evaluate5(hands[:, list(s)]) for s in itertools.combinations(range(n), 5)]
    return np.max(np.stack(subsets, axis=1), axis=1)


@pytest.mark.parametrize("n", [6, 7])
def test_six_and_seven_cards_equal_best_five(n: int) -> None:
    hands = sample_hands(np.random.default_rng(n), 100_000, n)
    ours = evaluate6(hands) if n == 6 else evaluate7(hands)
    assert np.array_equal(ours, _best_of_five(hands))


def test_flush_heavy_hands_equal_best_five() -> None:
    # Hands drawn from two suits exercise the flush and straight-flush paths far more often.
    rng = np.random.default_rng(3)
    pool = np.array([c for c in range(52) if c % 4 in (0, 2)])
    hands = np.stack([rng.choice(pool, 7, replace=False) for _ in range(20_000)]).astype(np.int8)
    assert np.array_equal(evaluate7(hands), _best_of_five(hands))
    assert np.array_equal(evaluate6(hands[:, :6]), _best_of_five(hands[:, :6]))


def test_differential_against_phevaluator() -> None:
    phevaluator = pytest.importorskip("phevaluator")
    from phevaluator import Card

    # phevaluator numbers cards 4 * rank + suit with the same rank and suit orders; check it
    # through its own parser rather than assume it.
    from holdem_lab.cards.deck import card_str

    assert [Card(card_str(c)).id_ for c in range(52)] == list(range(52))
    hands = sample_hands(np.random.default_rng(2024), 1_000_000, 7)
    ours = np.asarray(evaluate7(hands), dtype=np.int64)
    theirs = np.array([phevaluator.evaluate_7cards(*h) for h in hands.tolist()], dtype=np.int64)
    # Pairs of hands compare the same way (phevaluator: lower is better).
    perm = np.random.default_rng(1).permutation(len(hands))
    assert np.array_equal(np.sign(ours - ours[perm]), np.sign(theirs[perm] - theirs))
    # The map from our values to theirs is a strictly decreasing function: sorting by our value
    # sorts theirs in reverse, and equal values on one side are equal on the other.
    order = np.argsort(ours, kind="stable")
    assert np.all(np.diff(theirs[order]) <= 0)
    assert np.array_equal(np.diff(ours[order]) == 0, np.diff(theirs[order]) == 0)
    # Both number the 7,462 classes in the same standard order.
    assert np.array_equal(ours, 7463 - theirs)


def _v(text: str) -> int:
    cards = parse_cards(text)
    value = {5: evaluate5, 6: evaluate6, 7: evaluate7}[cards.size](cards)
    assert isinstance(value, int)
    return value


def _cat(text: str) -> str:
    return CATEGORY_NAMES[int(hand_category(_v(text)))]


def test_hand_written_cases() -> None:
    # Straights: the wheel is the lowest straight, broadway the highest.
    wheel, six_high, broadway = _v("Ah2c3d4s5h"), _v("2c3d4s5h6c"), _v("TsJhQdKcAh")
    assert _cat("Ah2c3d4s5h") == _cat("TsJhQdKcAh") == "straight"
    assert wheel == CATEGORY_FIRST_VALUE[4]
    assert wheel < six_high < broadway
    assert wheel > _v("AsAhAd2c3c")  # any straight beats three of a kind
    assert _cat("AhKcQdJs9h") == "high card"  # no wrap-around straight
    assert _cat("QhKcAd2s3h") == "high card"
    # Straight flushes: the steel wheel is the lowest, the royal flush the highest value.
    assert _v("5s4s3s2sAs") == CATEGORY_FIRST_VALUE[8]
    assert _v("AsKsQsJsTs") == NUM_HAND_VALUES
    assert _v("AsKsQsJsTs9s8s") == NUM_HAND_VALUES
    assert _v("6d5d4d3d2d") > _v("5d4d3d2dAd")
    assert _v("5s4s3s2sAsKs7c") == CATEGORY_FIRST_VALUE[8]  # ace-low straight flush wins
    # Flush beats straight; a flush uses its five best cards.
    assert _v("2h4h6h8hTh") > _v("TsJhQdKcAh")
    assert _v("AhKh9h7h5h3h2h") == _v("AhKh9h7h5hQcJd")
    assert _v("AhKh9h7h6h") > _v("AhKh9h7h5h")
    assert _v("7c5d4h3s2c") == 1  # the weakest hand
    # Quads, full houses and their kickers.
    assert _v("AsAhAdAcKs") > _v("AsAhAdAcQs") > _v("KsKhKdKcAs")
    assert _v("AsAhAdKcKs") > _v("KsKhKdAcAs")
    assert _v("2s2h2dAcAs") < _v("3s3h3d2c2s")
    assert _cat("AsAhAdKcKsKd2c") == "full house"  # two trips make a full house
    assert _v("AsAhAdKcKsKd2c") == _v("AsAhAdKcKs")
    # Pairs and two pairs with kickers.
    assert _v("AsAh9c5d3h") > _v("AsAh9c5d2h")
    assert _v("AsAhKsKh3c") > _v("AsAhKsKh2c")
    assert _v("AsAhKsKhQcQd2c") == _v("AsAhKsKhQc")  # third pair only kicks
    assert _v("AsAhKcQdJs") > _v("AsAhKcQdTs")
    # Seven cards: the best straight is used, and extra low cards don't matter.
    assert _v("2c3d4s5h6c7h8d") == _v("4s5h6c7h8d")
    assert _v("AsKd9h7c5s3d2h") == _v("AsKd9h7c5s")
    # Ties regardless of suits.
    assert _v("AsKd9h7c5s") == _v("AhKc9d7s5c")


def test_categories() -> None:
    assert CATEGORY_NAMES[0] == "high card"
    assert CATEGORY_NAMES[8] == "straight flush"
    assert hand_category(1) == 0
    assert hand_category(NUM_HAND_VALUES) == 8
    assert list(np.asarray(hand_category(CATEGORY_FIRST_VALUE))) == list(range(9))
    assert list(np.asarray(hand_category(CATEGORY_FIRST_VALUE[1:] - 1))) == list(range(8))
    for bad in (0, NUM_HAND_VALUES + 1, -3, 1.5):
        with pytest.raises(GameError, match="invalid hand value"):
            hand_category(bad)


def test_input_forms() -> None:
    royal = "AsKsQsJsTs2c3d"
    expected = NUM_HAND_VALUES
    assert evaluate7(royal) == expected
    assert evaluate7(["As", "Ks", "Qs", "Js", "Ts", "2c", "3d"]) == expected
    assert evaluate7(parse_cards(royal).tolist()) == expected
    assert evaluate7(tuple(np.int64(c) for c in parse_cards(royal))) == expected
    for dtype in (np.int8, np.uint8, np.int64):  # each integer dtype compiles its own loop
        batch = np.tile(parse_cards(royal).astype(dtype), (3, 1))
        out = evaluate7(batch)
        assert isinstance(out, np.ndarray)
        assert out.dtype == np.int32
        assert out.tolist() == [expected] * 3
    batch = np.tile(parse_cards(royal), (3, 1))
    assert evaluate7(batch, check=False).tolist() == [expected] * 3  # type: ignore[union-attr]
    assert evaluate7([parse_cards(royal).tolist()]).tolist() == [expected]  # type: ignore[union-attr]
    assert evaluate7(np.zeros((0, 7), np.int8)).shape == (0,)  # type: ignore[union-attr]
    strided = np.tile(parse_cards(royal), (4, 2))[::2, ::2]  # non-contiguous view
    assert evaluate7(strided).tolist() == [expected] * 2  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("cards", "match"),
    [
        ([0, 1, 2, 3, 4, 5, 52], "invalid card 52"),
        ([0, 1, 2, 3, 4, 5, -1], "invalid card -1"),
        ([0, 1, 2, 3, 4, 5, 5], "repeated card"),
        ([0, 1, 2, 3, 4, 5], "expected 7 cards"),
        ("AsKsQsJsTs2c", "expected 7 cards"),
        ("AsKsQsJsTs2c2c", "duplicate card"),
        ([0, 1, 2, 3, 4, 5, 6.0], "invalid card 6.0"),
        (np.zeros((2, 6), np.int8), r"\(n, 7\)"),
        (np.zeros((2, 7, 1), np.int8), "shape"),
        (np.zeros((2, 7)), "dtype"),
        (12, "invalid cards"),
    ],
)
def test_invalid_input(cards: object, match: str) -> None:
    with pytest.raises(GameError, match=match):
        evaluate7(cards)


def test_invalid_batch_rows() -> None:
    hands = sample_hands(np.random.default_rng(0), 1000, 7)
    bad = hands.copy()
    bad[500, 3] = bad[500, 1]
    with pytest.raises(GameError, match="repeated card"):
        evaluate7(bad)
    bad = hands.copy()
    bad[10, 6] = 60
    with pytest.raises(GameError, match="invalid card 60"):
        evaluate7(bad)
    with pytest.raises(GameError, match="invalid card 60"):
        evaluate7(bad, check=False)
    bad[10, 6] = -5
    with pytest.raises(GameError, match="invalid card -5"):
        evaluate7(bad)
    wide = hands.astype(np.int64)
    wide[7, 0] = 1 << 40
    with pytest.raises(GameError, match="invalid card"):
        evaluate7(wide)
    with pytest.raises(GameError, match="repeated card"):
        evaluate5(np.array([[1, 2, 3, 4, 4]]))
    with pytest.raises(GameError, match="repeated card"):
        evaluate6(np.array([[1, 2, 3, 4, 5, 1]]))


@njit(cache=True)
def _sum_of_values(hands: np.ndarray) -> int:
    total = 0
    for i in range(hands.shape[0]):
        h = hands[i]
        total += int(eval7_kernel(h[0], h[1], h[2], h[3], h[4], h[5], h[6]))
    return total


def test_kernel_is_callable_from_numba() -> None:
    hands = sample_hands(np.random.default_rng(9), 1000, 7)
    values = evaluate7(hands)
    assert _sum_of_values(hands) == int(np.sum(values))
    assert _sum_of_values(hands.astype(np.int64)) == int(np.sum(values))
