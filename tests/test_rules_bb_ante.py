"""Big-blind antes in the rules engine: posting order, dead money and the side pots it joins."""

from __future__ import annotations

import numpy as np
import pytest

from holdem_lab.cards.deck import parse_cards
from holdem_lab.errors import GameError
from holdem_lab.rules import HandState, Pot, Street, Table, build_pots


def cards(text: str) -> list[int]:
    return [int(c) for c in parse_cards(text)]


BOARD = cards("2c7d9hTs4c")  # dry: the pocket pairs below rank by size
AA, KK, QQ, JJ = (cards(h) for h in ("AhAd", "KhKd", "QhQd", "JhJd"))


def bba(*stacks: int, sb: int = 50, bb: int = 100, ante: int = 100) -> Table:
    return Table(
        num_players=len(stacks),
        stacks=stacks,
        small_blind=sb,
        big_blind=bb,
        ante=ante,
        ante_type="big_blind",
    )


def hand(t: Table, holes: list[list[int]]) -> HandState:
    return HandState(t, holes, BOARD)


@pytest.mark.parametrize(
    ("ante", "ante_type", "fragment"),
    [
        (10, "button", "ante_type must be one of none, uniform, big_blind, got 'button'"),
        (10, "none", "ante_type 'none' contradicts ante=10"),
    ],
)
def test_table_rejects_bad_ante_types(ante: int, ante_type: str, fragment: str) -> None:
    with pytest.raises(GameError, match=fragment):
        Table(num_players=3, stacks=(9, 9, 9), small_blind=1, big_blind=2, ante=ante,
              ante_type=ante_type)


def test_table_ante_type_defaults_keep_existing_tables_equal() -> None:
    plain = Table(num_players=3, stacks=(9, 9, 9), small_blind=1, big_blind=2, ante=1)
    assert plain.ante_type == "uniform" and not plain.big_blind_ante
    assert plain == Table(num_players=3, stacks=(9, 9, 9), small_blind=1, big_blind=2, ante=1,
                          ante_type="uniform")
    for given in (None, "none", "uniform", "big_blind"):
        t = Table(num_players=3, stacks=(9, 9, 9), small_blind=1, big_blind=2, ante_type=given)
        assert t.ante_type == "none"  # no ante: every type is the same game
    assert bba(900, 900, 900).big_blind_ante


def test_big_blind_posts_the_ante_for_the_table_as_dead_money() -> None:
    s = hand(bba(1000, 1000, 1000), [AA, KK, QQ])
    assert s.bets == (50, 100, 0) and s.stacks == (950, 800, 1000)
    assert s.dead_money == 100 and s.contributions == (50, 200, 0) and s.pot_total == 250
    legal = s.legal_actions()
    # The ante does not count toward the big blind: calling costs a big blind, raising min 200.
    assert legal.seat == 2 and legal.call_amount == 100 and legal.min_raise_to == 200
    s.apply("c")
    s.apply("c")
    legal = s.legal_actions()
    assert legal.seat == 1 and legal.call_amount == 0 and legal.can_raise  # the option
    s.apply("x")
    assert s.street is Street.FLOP and s.contributions == (100, 200, 100)
    assert s.pots() == (Pot(400, (0, 1, 2)),)


def test_dead_ante_goes_to_the_main_pot_a_short_all_in_can_win() -> None:
    s = hand(bba(1000, 1000, 150), [KK, QQ, AA])
    s.apply("r150")  # seat 2 all-in for less than a full raise
    s.apply("f")
    s.apply("c")
    assert s.is_terminal
    # Live chips 50 + 150 + 150 and the 100 dead: one pot seat 2 can win whole. (Counted as the
    # big blind's contribution, the ante would have been a side pot only the big blind reaches.)
    assert [(a.pot, a.winners) for a in s.awards] == [(Pot(450, (1, 2)), (2,))]
    assert s.payoffs() == [-50, -250, 300]


def test_everyone_folds_to_the_big_blind_who_wins_back_its_ante() -> None:
    s = hand(bba(1000, 1000, 1000, 1000), [AA, KK, QQ, JJ])
    for _ in range(3):
        s.apply("f")
    assert s.is_terminal and s.payoffs() == [-50, 50, 0, 0]


def test_a_short_big_blind_posts_the_blind_before_the_ante() -> None:
    s = hand(bba(1000, 150, 1000), [AA, KK, QQ])
    # TDA: the full blind first, the 50 left go to the ante (ante first would leave a 50 blind).
    assert s.bets == (50, 100, 0) and s.stacks[1] == 0 and s.dead_money == 50
    assert s.legal_actions().call_amount == 100
    s.apply("c")
    s.apply("c")
    for _ in range(6):
        s.apply("x")
    assert s.is_terminal and s.payoffs() == [250, -150, -100]

    s = hand(bba(1000, 60, 1000), [AA, KK, QQ])
    assert s.bets == (50, 60, 0) and s.dead_money == 0  # all-in on the blind: no ante at all


def test_heads_up_the_big_blind_is_seat_0_and_posts_the_ante() -> None:
    t = bba(1000, 1000)
    assert t.big_blind_seat == 0
    s = hand(t, [KK, AA])
    assert s.bets == (100, 50) and s.stacks == (800, 950) and s.dead_money == 100
    legal = s.legal_actions()
    assert legal.seat == 1 and legal.call_amount == 50 and legal.min_raise_to == 200
    s.apply("f")
    assert s.is_terminal and s.payoffs() == [50, -50]
    s = hand(t, [KK, AA])
    s.apply("c")
    s.apply("x")
    for _ in range(6):
        s.apply("x")
    assert s.is_terminal and s.awards[0].pot == Pot(300, (0, 1))
    assert s.payoffs() == [-200, 200]


def test_build_pots_puts_dead_money_in_the_main_pot() -> None:
    assert build_pots([50, 150, 150], [True, False, False], dead=100) == (Pot(450, (1, 2)),)
    # A live seat all-in below the others: the dead chips join the pot all live seats can win.
    assert build_pots([30, 100, 100], [False, False, False], dead=40) == (
        Pot(130, (0, 1, 2)),
        Pot(140, (1, 2)),
    )
    with pytest.raises(GameError, match="dead money must be >= 0"):
        build_pots([1, 1], [False, False], dead=-1)


def test_random_play_with_big_blind_antes_keeps_every_chip() -> None:
    rng = np.random.default_rng(19)
    for _ in range(800):
        n = int(rng.integers(2, 7))
        stacks = tuple(int(x) for x in rng.integers(1, 600, size=n))
        t = bba(*stacks, sb=int(rng.integers(1, 11)), bb=10, ante=int(rng.choice([5, 10, 20])))
        deal = rng.permutation(52).tolist()
        s = HandState(t, [deal[2 * i : 2 * i + 2] for i in range(n)], deal[-5:])
        bb = t.big_blind_seat
        assert s.dead_money == min(t.ante, stacks[bb] - min(t.big_blind, stacks[bb]))
        while not s.is_terminal:
            assert all(s.stacks[i] + s.contributions[i] == stacks[i] for i in range(n))
            assert s.pot_total == sum(s.contributions)
            options = s.legal_actions().actions()
            s.apply(options[int(rng.integers(len(options)))])
        payoffs = s.payoffs()
        assert sum(payoffs) == 0
        assert sum(a.pot.amount for a in s.awards) == s.pot_total
