"""Action translation (holdem_lab.games.translation): the pseudo-harmonic mapping and real hands
walked onto an abstract hold'em tree."""

from __future__ import annotations

import random
from typing import Any

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from holdem_lab.errors import GameError, IllegalActionError
from holdem_lab.games.betting import (
    BetSizing,
    build_holdem_tree,
    holdem_tree_params,
    tree_path_actions,
)
from holdem_lab.games.translation import (
    map_history,
    pseudo_harmonic,
    translate_bet,
    translation_probabilities,
)
from holdem_lab.games.tree import DECISION, BettingTree, build_limit_tree

fractions = st.floats(min_value=0.01, max_value=100.0, allow_nan=False, allow_infinity=False)


# ----------------------------------------------------------------- the mapping


@given(a=fractions, b=fractions, t=st.floats(min_value=0.0, max_value=1.0),
       u=st.floats(min_value=0.0, max_value=1.0))
def test_pseudo_harmonic_axioms(a: float, b: float, t: float, u: float) -> None:
    assume(b - a > 1e-6)
    assert pseudo_harmonic(a, a, b) == 1.0
    assert pseudo_harmonic(b, a, b) == 0.0
    x, y = sorted((min(b, a + t * (b - a)), min(b, a + u * (b - a))))
    fx, fy = pseudo_harmonic(x, a, b), pseudo_harmonic(y, a, b)
    assert 0.0 <= fy <= fx <= 1.0  # monotonically decreasing in x


@given(x=fractions, sizes=st.lists(fractions, min_size=1, max_size=6, unique=True))
def test_translation_probabilities_are_a_distribution(x: float, sizes: list[float]) -> None:
    probs = translation_probabilities(x, sizes)
    assert len(probs) == len(sizes)
    assert all(0.0 <= p <= 1.0 for p in probs)
    assert sum(probs) == pytest.approx(1.0, abs=1e-12)
    used = [s for s, p in zip(sizes, probs, strict=True) if p > 0.0]
    assert 1 <= len(used) <= 2
    if x <= min(sizes):
        assert probs[sizes.index(min(sizes))] == 1.0
    elif x >= max(sizes):
        assert probs[sizes.index(max(sizes))] == 1.0
    else:  # only the two sizes that bracket x, with nothing in between
        low = max(s for s in sizes if s <= x)
        high = min(s for s in sizes if s >= x)
        assert set(used) <= {low, high}


@given(x=fractions, y=fractions, sizes=st.lists(fractions, min_size=1, max_size=6, unique=True))
def test_larger_bets_map_to_stochastically_larger_sizes(x: float, y: float,
                                                        sizes: list[float]) -> None:
    x, y = sorted((x, y))
    px, py = translation_probabilities(x, sizes), translation_probabilities(y, sizes)
    for cut in sizes:  # P(mapped size <= cut) cannot grow with the bet
        below_x = sum(p for s, p in zip(sizes, px, strict=True) if s <= cut)
        below_y = sum(p for s, p in zip(sizes, py, strict=True) if s <= cut)
        assert below_y <= below_x + 1e-12


@pytest.mark.parametrize(("x", "a", "b", "expected"), [
    # f(x) = ((B - x)(1 + A)) / ((B - A)(1 + x)), evaluated by hand.
    (0.75, 0.5, 1.0, 3 / 7),  # (0.25 * 1.5) / (0.5 * 1.75)
    (1.5, 1.0, 2.0, 0.4),  # (0.5 * 2) / (1 * 2.5)
    (2.0, 1.0, 4.0, 4 / 9),  # (2 * 2) / (3 * 3)
    (5 / 7, 0.5, 1.0, 0.5),  # the indifference point (A + B + 2AB) / (A + B + 2)
    (0.6, 0.5, 1.0, 0.75),  # (0.4 * 1.5) / (0.5 * 1.6)
])
def test_values_by_hand(x: float, a: float, b: float, expected: float) -> None:
    assert pseudo_harmonic(x, a, b) == pytest.approx(expected, rel=1e-12)
    probs = translation_probabilities(x, (b, 100.0, a))  # any order; unrelated sizes get 0
    assert probs == pytest.approx((1 - expected, 0.0, expected), rel=1e-12)


def test_outside_the_range_maps_to_the_nearest() -> None:
    assert translation_probabilities(0.1, (0.5, 1.0)) == (1.0, 0.0)
    assert translation_probabilities(7.0, (0.5, 1.0, 2.0)) == (0.0, 0.0, 1.0)
    assert translation_probabilities(1.0, (0.5, 1.0, 2.0)) == (0.0, 1.0, 0.0)
    assert translation_probabilities(3.0, (3.0,)) == (1.0,)


def test_translate_bet_samples_the_probabilities() -> None:
    rng = np.random.default_rng(7)
    draws = [translate_bet(0.75, (0.5, 1.0), rng) for _ in range(5_000)]
    assert set(draws) == {0, 1}
    assert draws.count(0) / len(draws) == pytest.approx(3 / 7, abs=0.03)
    assert translate_bet(0.2, (0.5, 1.0), rng) == 0
    assert translate_bet(9.0, (0.5, 1.0), rng) == 1


@pytest.mark.parametrize(("call", "message"), [
    (lambda: translation_probabilities(float("nan"), (1.0,)), r"x=nan"),
    (lambda: translation_probabilities(0.0, (1.0,)), r"x=0.0: must be a finite pot fraction"),
    (lambda: translation_probabilities(-1, (1.0,)), r"x=-1"),
    (lambda: translation_probabilities(True, (1.0,)), r"x=True"),
    (lambda: translation_probabilities("1", (1.0,)), r"x='1'"),  # type: ignore[arg-type]
    (lambda: translation_probabilities(float("inf"), (1.0,)), r"x=inf"),
    (lambda: translation_probabilities(1.0, ()), r"sizes=\(\): must be a non-empty"),
    (lambda: translation_probabilities(1.0, "12"), r"sizes='12'"),  # type: ignore[arg-type]
    (lambda: translation_probabilities(1.0, 1.0), r"sizes=1.0"),  # type: ignore[arg-type]
    (lambda: translation_probabilities(1.0, (0.5, 0.5)), r"sizes=\[0.5, 0.5\]: .*distinct"),
    (lambda: translation_probabilities(1.0, (0.5, -1.0)), r"sizes\[1\]=-1.0"),
    (lambda: pseudo_harmonic(0.7, 1.0, 0.5), r"a=1.0, b=0.5: need a < b"),
    (lambda: pseudo_harmonic(2.0, 0.5, 1.0), r"x=2.0: must lie between a=0.5 and b=1.0"),
    (lambda: pseudo_harmonic(0.7, 0.0, 1.0), r"a=0.0"),
    (lambda: translate_bet(0.7, (0.5, 1.0), random.Random(1)), r"rng=.*numpy.random.Generator"),  # type: ignore[arg-type]
    (lambda: translate_bet(0.7, (0.5, 1.0), None), r"rng=None"),  # type: ignore[arg-type]
])
def test_invalid_arguments_raise(call: Any, message: str) -> None:
    with pytest.raises(GameError, match=message):
        call()


# ----------------------------------------------------------------- real hands on a tree

SIZING = BetSizing(preflop_open_bb=(2.5,), bet_sizes=((1.0,), (0.5, 1.0), (0.5, 1.0), (0.5, 1.0)),
                   max_raises=(3, 2, 2, 2))


@pytest.fixture(scope="module")
def heads_up() -> BettingTree:
    """Heads-up, blinds 50/100, 100 big blinds."""
    return build_holdem_tree(num_players=2, stacks=10_000, small_blind=50, big_blind=100,
                             sizing=SIZING)


def test_on_tree_history_maps_exactly(heads_up: BettingTree) -> None:
    result = map_history(heads_up, ["r250", "c", "x", "b250", "c", "k", "k"])
    assert result.label == "r250c/kb250c/kk/"
    assert heads_up.terminal[result.node] == DECISION and heads_up.round[result.node] == 3
    assert [s.abstract for s in result.steps] == ["r250", "c", "k", "b250", "c", "k", "k"]
    assert all(s.probability == 1.0 for s in result.steps)
    assert [s.seat for s in result.steps] == [1, 0, 0, 1, 0, 0, 1]
    assert result.steps[3].fraction == pytest.approx(0.5)
    assert not result.hand_over


def test_off_tree_bet_uses_the_pseudo_harmonic_mapping(heads_up: BettingTree) -> None:
    # Flop pot 500; a bet of 375 is 0.75 pot, between the abstract 0.5 (b250) and 1.0 (b500).
    result = map_history(heads_up, ["r250", "c", "x", "b375"])
    step = result.steps[-1]
    assert step.fraction == pytest.approx(0.75)
    assert dict(step.candidates) == pytest.approx({1: 3 / 7, 2: 4 / 7})  # edges k, b250, b500
    assert step.abstract == "b500" and step.probability == pytest.approx(4 / 7)
    assert result.label == "r250c/kb500"
    # A small bet maps to the smallest size.
    assert map_history(heads_up, ["r250", "c", "x", "b120"]).label == "r250c/kb250"
    # An open to 3 big blinds is a pot raise (1.0) between the 2.5 big blind open (0.75) and
    # the all-in (49.5 pots).
    result = map_history(heads_up, ["r300"])
    assert result.label == "r250"
    assert result.steps[0].fraction == pytest.approx(1.0)
    assert result.steps[0].probability == pytest.approx(pseudo_harmonic(1.0, 0.75, 49.5))


def test_sampling_follows_the_probabilities(heads_up: BettingTree) -> None:
    labels = [map_history(heads_up, ["r250", "c", "x", "b375"],
                          rng=np.random.default_rng(seed)).label for seed in range(300)]
    share = labels.count("r250c/kb250") / len(labels)
    assert set(labels) == {"r250c/kb250", "r250c/kb500"}
    assert share == pytest.approx(3 / 7, abs=0.1)


def test_all_in_maps_to_all_in(heads_up: BettingTree) -> None:
    result = map_history(heads_up, ["r10000", "c"])
    assert result.label == "ac///" and result.hand_over
    assert result.steps[0].abstract == "a" and result.steps[0].probability == 1.0
    # A big overbet short of all-in may still translate to the all-in.
    result = map_history(heads_up, ["r250", "c", "x", "b4000"])
    assert result.steps[-1].abstract == "a"
    assert result.steps[-1].candidates[0][1] == pytest.approx(
        pseudo_harmonic(8.0, 1.0, 9750 / 500))


def test_histories_that_leave_the_abstraction_raise(heads_up: BettingTree) -> None:
    # The overbet maps to the all-in; called, the abstract hand is over but the real one is not.
    with pytest.raises(GameError, match=r"action 5 \(x\): the abstract hand ended at "
                                        r"'r250c/kac//' while the real hand goes on"):
        map_history(heads_up, ["r250", "c", "x", "b4000", "c", "x", "x"])
    # With a preflop cap of one raise, a re-raise is translated to a call and the hands part.
    capped = build_holdem_tree(num_players=2, stacks=10_000, small_blind=50, big_blind=100,
                               sizing=BetSizing(preflop_open_bb=(2.5,), max_raises=(1, 2, 2, 2)))
    result = map_history(capped, ["r250", "r1000"])
    assert result.steps[-1].abstract == "c" and result.steps[-1].candidates == ((1, 1.0),)
    with pytest.raises(GameError, match=r"action 2 \(c\): the real hand has seat 1 to act in "
                                        r"round 0 but the abstract node 'r250c/' has seat 0"):
        map_history(capped, ["r250", "r1000", "c"])


def test_illegal_or_malformed_actions(heads_up: BettingTree) -> None:
    with pytest.raises(IllegalActionError, match=r"action 1 \(r300\): .*below the minimum "
                                                 r"raise to 400"):
        map_history(heads_up, ["r250", "r300"])
    with pytest.raises(IllegalActionError, match=r"action 0: unrecognised action 'z'"):
        map_history(heads_up, ["z"])
    with pytest.raises(IllegalActionError, match=r"action 1 \(c\): the hand is already over"):
        map_history(heads_up, ["f", "c"])
    with pytest.raises(IllegalActionError, match=r"action 2 \(f\): .*cannot fold"):
        map_history(heads_up, ["c", "x", "f"])
    with pytest.raises(GameError, match="actions must be a sequence of actions, not 'r250c'"):
        map_history(heads_up, "r250c")
    with pytest.raises(GameError, match=r"rng=1: must be a numpy.random.Generator"):
        map_history(heads_up, ["c"], rng=1)  # type: ignore[arg-type]
    with pytest.raises(GameError, match=r"params='p': must be HoldemTreeParams"):
        map_history(heads_up, ["c"], params="p")  # type: ignore[arg-type]
    limit = build_limit_tree(num_players=2, ante=1.0, raise_sizes=(1.0,), max_raises=1)
    with pytest.raises(GameError, match="not built by build_holdem_tree"):
        map_history(limit, ["c"])
    three = build_holdem_tree(num_players=3, stacks=100, small_blind=1, big_blind=2,
                              sizing=BetSizing(max_raises=(1, 0, 0, 0)))
    with pytest.raises(GameError, match="params are for 3 players but the tree has 2"):
        map_history(heads_up, ["c"], params=holdem_tree_params(three))


def test_every_tree_line_maps_onto_itself(heads_up: BettingTree) -> None:
    rng = np.random.default_rng(3)
    for node in rng.choice(heads_up.num_nodes, size=150, replace=False):
        actions = tree_path_actions(heads_up, int(node))
        result = map_history(heads_up, actions)
        assert result.node == node, heads_up.labels[int(node)]
        assert all(step.probability == 1.0 for step in result.steps)
        assert result.hand_over == (heads_up.terminal[int(node)] != DECISION)


def test_three_handed_history() -> None:
    sizing = BetSizing(preflop_open_bb=(2.5,), bet_sizes=((1.0,), (0.5, 1.0), (), ()),
                       max_raises=(2, 1, 0, 0))
    tree = build_holdem_tree(num_players=3, stacks=(5_000, 10_000, 2_000), small_blind=50,
                             big_blind=100, ante=10, sizing=sizing)
    # Button opens to 300 (3 bb; abstract 2.5 bb), small blind folds, big blind calls; the big
    # blind checks the flop and the button bets 400 into 3 * 10 + 50 + 2 * 300 = 680.
    result = map_history(tree, ["r300", "f", "c", "x", "b400"])
    assert [s.seat for s in result.steps] == [2, 0, 1, 1, 2]
    assert result.steps[0].abstract == "r250"
    step = result.steps[-1]
    assert step.fraction == pytest.approx(400 / 680)
    # The abstract pot after "r250fc" is 3 * 10 + 50 + 2 * 250 = 580: half pot 290, pot 580.
    assert dict(step.candidates) == pytest.approx({
        1: pseudo_harmonic(400 / 680, 0.5, 1.0), 2: 1 - pseudo_harmonic(400 / 680, 0.5, 1.0)})
    assert result.label == "r250fc/kb290"
