"""Hand-written rule cases for holdem_lab.rules (no-limit hold'em, 2-6 players) and replay."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest

from holdem_lab.cards.deck import parse_cards
from holdem_lab.errors import GameError, IllegalActionError
from holdem_lab.rules import (
    Action,
    ActionKind,
    ActionLike,
    HandState,
    Pot,
    Street,
    Table,
    build_pots,
    parse_action,
    replay,
    split_pot,
)


def cards(text: str) -> list[int]:
    return [int(c) for c in parse_cards(text)]


# A dry board (no straight or flush possible with the pocket pairs below): pairs rank by size.
BOARD = cards("2c7d9hTs4c")
AA, KK, QQ, JJ, EIGHTS, SIXES = (cards(h) for h in ("AhAd", "KhKd", "QhQd", "JhJd", "8h8d", "6h6d"))
# Everyone plays this broadway straight: every showdown is a tie.
BROADWAY = cards("AsKdQhJcTs")
LOW = [cards(h) for h in ("2c3d", "4c5d", "6h7h", "8c9d", "2h3h", "4h5h")]


def table(*stacks: int, sb: int = 50, bb: int = 100, ante: int = 0) -> Table:
    return Table(num_players=len(stacks), stacks=stacks, small_blind=sb, big_blind=bb, ante=ante)


def new_hand(
    t: Table, holes: Sequence[Sequence[int]] | None = None, board: Sequence[int] = BOARD
) -> HandState:
    if holes is None:
        holes = [AA, KK, QQ, JJ, EIGHTS, SIXES][: t.num_players]
    return HandState(t, holes, board)


def play(state: HandState, *actions: ActionLike) -> HandState:
    for action in actions:
        state.apply(action)
    return state


# --------------------------------------------------------------------------- table


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"num_players": 1, "stacks": (100,)}, "num_players must be >= 2, got 1"),
        ({"num_players": 7, "stacks": (100,) * 7}, "num_players must be <= 6, got 7"),
        ({"num_players": True, "stacks": (100, 100)}, "num_players must be an integer, got True"),
        ({"num_players": 3, "stacks": (100, 100)}, "stacks must have num_players=3 entries"),
        ({"num_players": 2, "stacks": (100, 0)}, "stacks[1] must be >= 1, got 0"),
        ({"num_players": 2, "stacks": (100, 2.5)}, "stacks[1] must be an integer, got 2.5"),
        ({"num_players": 2, "stacks": "ab"}, "stacks must be a sequence"),
        ({"num_players": 2, "stacks": (100, 100), "small_blind": 0}, "small_blind must be >= 1"),
        ({"num_players": 2, "stacks": (100, 100), "big_blind": 0}, "big_blind must be >= 1, got 0"),
        (
            {"num_players": 2, "stacks": (100, 100), "small_blind": 20, "big_blind": 10},
            "small_blind must be <= big_blind=10, got 20",
        ),
        ({"num_players": 2, "stacks": (100, 100), "ante": -1}, "ante must be >= 0, got -1"),
    ],
)
def test_table_rejects_bad_values_naming_them(kwargs: dict[str, object], fragment: str) -> None:
    args: dict[str, object] = {"small_blind": 5, "big_blind": 10} | kwargs
    with pytest.raises(GameError) as info:
        Table(**args)  # type: ignore[arg-type]
    assert fragment in str(info.value)


def test_table_is_frozen_and_normalises_stacks() -> None:
    t = Table(num_players=3, stacks=[np.int64(100), 200, 300], small_blind=5, big_blind=10)
    assert t.stacks == (100, 200, 300) and isinstance(t.stacks[0], int)
    with pytest.raises(AttributeError):
        t.ante = 5  # type: ignore[misc]


# --------------------------------------------------------------------------- seats and order


def test_three_plus_players_blinds_and_action_order() -> None:
    s = new_hand(table(1000, 1000, 1000, 1000, 1000, 1000))
    assert s.bets == (50, 100, 0, 0, 0, 0)
    assert s.to_act == 2 and s.street is Street.PREFLOP
    s3 = new_hand(table(1000, 1000, 1000))
    assert s3.to_act == 2 == s3.table.button  # three-handed the button opens preflop
    play(s3, "c", "c", "x")
    assert s3.street is Street.FLOP and s3.board == tuple(BOARD[:3])
    assert s3.to_act == 0  # the small blind acts first after the flop


def test_heads_up_blinds_and_action_order() -> None:
    s = new_hand(table(1000, 1000))
    assert s.table.button == 1 and s.table.small_blind_seat == 1 and s.table.big_blind_seat == 0
    assert s.bets == (100, 50)
    assert s.to_act == 1  # the button (small blind) acts first preflop
    play(s, "c")
    assert s.to_act == 0  # the big blind's option
    play(s, "x")
    assert s.street is Street.FLOP and s.to_act == 0  # the big blind acts first after the flop
    play(s, "x")
    assert s.to_act == 1  # the button acts last
    play(s, "x")
    assert s.street is Street.TURN and s.to_act == 0


def test_big_blind_option_to_raise_when_limped_to() -> None:
    s = play(new_hand(table(1000, 1000, 1000)), "c", "c")
    legal = s.legal_actions()
    assert legal.seat == 1 and legal.can_check and not legal.can_fold
    assert (legal.min_raise_to, legal.max_raise_to) == (200, 1000)
    play(s, "r300")
    assert s.to_act == 2
    assert s.legal_actions().min_raise_to == 500  # the option raise was full: all may re-raise


# --------------------------------------------------------------------------- raising rules


def test_incomplete_all_in_raise_does_not_reopen_the_betting() -> None:
    s = new_hand(table(1000, 1000, 1000, 400))
    play(s, "r300")  # seat 2: a full raise of 200
    play(s, "r400")  # seat 3: all-in for 100 more, less than a full raise
    # Seats that have not acted yet may still re-raise, by at least the last full raise (200).
    assert s.to_act == 0 and s.legal_actions().min_raise_to == 600
    play(s, "f")
    assert s.to_act == 1 and s.legal_actions().min_raise_to == 600
    play(s, "c")
    # The original raiser was not re-raised by a full raise: call or fold only.
    legal = s.legal_actions()
    assert legal.seat == 2 and legal.call_amount == 100 and legal.can_fold
    assert not legal.can_raise and s.min_raise_to() is None and s.max_raise_to() is None
    with pytest.raises(IllegalActionError, match="betting was not reopened"):
        s.apply("r1000")
    play(s, "c")
    assert s.street is Street.FLOP


def test_a_player_who_has_not_acted_may_reraise_a_short_all_in_and_that_reopens() -> None:
    s = play(new_hand(table(1000, 1000, 1000, 400)), "r300", "r400", "f", "r700")
    legal = s.legal_actions()  # the big blind's re-raise was full: seat 2 may raise again
    assert legal.seat == 2 and legal.call_amount == 400 and legal.min_raise_to == 1000


def test_short_all_ins_adding_up_to_a_full_raise_reopen_the_betting() -> None:
    s = new_hand(table(1000, 250, 300, 330, 1000))
    play(s, "c", "c", "c", "c", "x")  # everyone limps
    play(s, "b100", "r150", "r200", "r230", "c")  # three short all-ins, seat 4 calls
    legal = s.legal_actions()
    assert legal.seat == 0 and legal.call_amount == 130  # faces 130 >= a full raise of 100
    assert legal.min_raise_to == 330
    play(s, "c")  # seat 4 already matched 230: the round is over
    assert s.street is Street.TURN


def test_short_all_in_opening_bet_does_not_reopen_for_players_who_checked() -> None:
    s = new_hand(table(1000, 130, 1000, 1000))
    play(s, "c", "c", "c", "x", "x")  # flop: seat 0 checks
    play(s, "b30")  # seat 1: all-in for 30, less than the big blind
    legal = s.legal_actions()  # seat 2 has not acted: it may raise, to 30 plus a big blind
    assert legal.seat == 2 and legal.call_amount == 30 and legal.min_raise_to == 130
    play(s, "c", "c")
    legal = s.legal_actions()  # seat 0 checked and faces less than a full bet: call or fold
    assert legal.seat == 0 and legal.call_amount == 30 and not legal.can_raise
    with pytest.raises(IllegalActionError, match="the betting was not reopened"):
        s.apply("r130")
    play(s, "c")
    assert s.street is Street.TURN


def test_a_full_raise_over_a_short_opening_bet_reopens_for_everyone() -> None:
    s = play(new_hand(table(1000, 130, 1000, 1000)), "c", "c", "c", "x", "x", "b30", "r130")
    play(s, "c")  # seat 3
    legal = s.legal_actions()
    assert legal.seat == 0 and legal.call_amount == 130 and legal.min_raise_to == 230


def test_all_in_below_the_minimum_raise_is_allowed() -> None:
    s = new_hand(table(1000, 1000, 250))
    legal = s.legal_actions()
    assert (legal.min_raise_to, legal.max_raise_to) == (200, 250)
    play(s, "r250")
    s2 = new_hand(table(1000, 1000, 150))
    legal = s2.legal_actions()
    assert (legal.min_raise_to, legal.max_raise_to) == (150, 150)  # only all-in
    play(s2, "r150")


def test_raising_needs_an_opponent_who_can_respond() -> None:
    s = play(new_hand(table(1000, 1000, 300)), "r300", "f")
    assert s.to_act == 1
    legal = s.legal_actions()
    assert legal.call_amount == 200 and not legal.can_raise
    with pytest.raises(IllegalActionError, match="every opponent has folded or is all-in"):
        s.apply("r1000")


# --------------------------------------------------------------------------- blinds all-in


def test_big_blind_all_in_for_less_keeps_the_full_bet_to_call() -> None:
    s = new_hand(table(1000, 30, 1000))
    assert s.bets == (50, 30, 0) and s.stacks[1] == 0
    legal = s.legal_actions()
    assert legal.seat == 2 and legal.call_amount == 100 and legal.min_raise_to == 200
    play(s, "c", "c")  # the small blind completes to 100
    assert s.street is Street.FLOP and s.contributions == (100, 30, 100)


def test_big_blind_all_in_for_less_and_everyone_folds_to_the_small_blind() -> None:
    s = play(new_hand(table(1000, 30, 1000)), "f")
    # The small blind has matched everything the all-in big blind could put in: no decision.
    assert s.is_terminal
    assert s.contributions == (30, 30, 0)  # 20 uncalled chips went back
    assert s.payoffs() == [30, -30, 0]  # AA beats KK for the 30-chip main pot


def test_heads_up_call_is_capped_by_a_short_big_blind() -> None:
    s = new_hand(table(70, 1000))
    assert s.bets == (70, 50)
    legal = s.legal_actions()
    assert legal.seat == 1 and legal.call_amount == 20 and not legal.can_raise
    play(s, "c")
    assert s.is_terminal and s.payoffs() == [70, -70]


def test_small_blind_all_in_for_less() -> None:
    s = new_hand(table(20, 1000, 1000))
    assert s.bets == (20, 100, 0) and s.stacks[0] == 0
    play(s, "c", "x")
    assert s.street is Street.FLOP and s.to_act == 1


def test_all_in_on_the_ante_wins_only_the_antes_and_blinds_it_covered() -> None:
    s = new_hand(table(8, 1000, 1000, ante=10), holes=[AA, KK, QQ])
    assert s.contributions == (8, 110, 10) and s.stacks[0] == 0 and s.bets[0] == 0
    play(s, "c", "x", "x", "x", "x", "x", "x", "x")
    pots = [a.pot for a in s.awards]
    assert pots == [Pot(24, (0, 1, 2)), Pot(4 + 200, (1, 2))]
    assert s.payoffs() == [16, 94, -110]


# --------------------------------------------------------------------------- pots and showdown


def test_three_way_side_pots_with_three_stack_sizes() -> None:
    s = new_hand(table(100, 300, 1000, sb=5, bb=10), holes=[AA, KK, QQ])
    play(s, "r1000", "c", "c")
    assert s.is_terminal and s.board == tuple(BOARD)
    assert s.contributions == (100, 300, 300)  # 700 uncalled chips went back to seat 2
    assert [(a.pot, a.winners) for a in s.awards] == [
        (Pot(300, (0, 1, 2)), (0,)),
        (Pot(400, (1, 2)), (1,)),
    ]
    assert s.payoffs() == [200, 100, -300]


def test_three_way_side_pots_won_by_the_deepest_stack() -> None:
    s = new_hand(table(100, 300, 1000, sb=5, bb=10), holes=[QQ, KK, AA])
    play(s, "r1000", "c", "c")
    assert [a.winners for a in s.awards] == [(2,), (2,)]
    assert s.payoffs() == [-100, -300, 400]


def test_pots_before_showdown() -> None:
    s = play(new_hand(table(100, 300, 1000, 1000, sb=5, bb=10)), "r1000", "c", "c", "c")
    assert s.is_terminal
    assert [a.pot for a in s.awards] == [
        Pot(400, (0, 1, 2, 3)),
        Pot(600, (1, 2, 3)),
        Pot(1400, (2, 3)),
    ]
    # Mid-hand, with seat 3 folded, seat 0 all-in and the big blind still to act:
    s2 = play(new_hand(table(100, 300, 1000, 1000, sb=5, bb=10)), "r300", "f", "c")
    assert s2.pots() == (Pot(30, (0, 1, 2)), Pot(180, (0, 2)), Pot(200, (2,)))


def test_folded_players_chips_stay_in_the_pot() -> None:
    s = new_hand(table(1000, 1000, 1000), holes=[KK, AA, QQ])
    play(s, "r300", "c", "c")  # seat 1 (AA) calls too
    play(s, "b200", "f", "c")  # flop: seat 1 folds its 300
    play(s, "x", "x", "x", "x")
    assert s.is_terminal and s.folded == (False, True, False)
    assert s.awards[0].pot == Pot(1300, (0, 2)) and s.awards[0].winners == (0,)
    assert s.payoffs() == [800, -300, -500]


def test_uncalled_bet_is_returned_and_a_fold_wins_uncontested() -> None:
    s = play(new_hand(table(1000, 1000, 1000)), "c", "c", "x", "b500", "f", "f")
    assert s.is_terminal and s.awards[0].winners == (0,)
    assert s.contributions == (100, 100, 100)
    assert s.payoffs() == [200, -100, -100]
    hu = play(new_hand(table(1000, 1000)), "r1000", "f")
    assert hu.payoffs() == [-100, 100]


def test_odd_chip_goes_to_the_first_winner_left_of_the_button() -> None:
    s = new_hand(table(100, 100, 100, sb=1, bb=2), holes=LOW[:3], board=BROADWAY)
    play(s, "c", "f", "x", "x", "x", "x", "x", "x", "x")
    (award,) = s.awards
    assert award.pot == Pot(5, (1, 2)) and award.winners == (1, 2)
    assert award.shares == (0, 3, 2)  # seat 1 comes before the button (seat 2)
    assert s.payoffs() == [-1, 1, 0]


def test_odd_chips_are_one_per_winner_clockwise_from_the_button() -> None:
    s = new_hand(table(100, 100, 100, 100, sb=1, bb=2, ante=1), holes=LOW[:4], board=BROADWAY)
    play(s, "c", "c", "f", "x", "x", "x", "x", "x", "x", "x", "x", "x", "x")
    (award,) = s.awards
    assert award.pot == Pot(11, (1, 2, 3)) and award.shares == (0, 4, 4, 3)
    assert s.payoffs() == [-2, 1, 1, 0]


def test_split_pot_helper() -> None:
    assert split_pot(11, [3, 1, 2], num_players=4, first_seat=0) == (0, 4, 4, 3)
    assert split_pot(11, [3, 1, 2], num_players=4, first_seat=2) == (0, 3, 4, 4)
    assert split_pot(10, [0], num_players=2, first_seat=0) == (10, 0)
    with pytest.raises(GameError, match="needs at least one winner"):
        split_pot(10, [], num_players=2, first_seat=0)
    with pytest.raises(GameError, match="winner seat 5"):
        split_pot(10, [5], num_players=2, first_seat=0)


def test_build_pots_helper() -> None:
    assert build_pots([100, 300, 300, 50], [False, False, False, True]) == (
        Pot(350, (0, 1, 2)),
        Pot(400, (1, 2)),
    )
    with pytest.raises(GameError, match="cannot be won by any seat"):
        build_pots([100, 300], [False, True])
    with pytest.raises(GameError, match="negative"):
        build_pots([-1, 3], [False, False])


# --------------------------------------------------------------------------- illegal actions


def test_fold_when_checking_is_free_is_illegal() -> None:
    s = play(new_hand(table(1000, 1000, 1000)), "c", "c")
    with pytest.raises(IllegalActionError) as info:
        s.apply("f")
    assert str(info.value) == (
        "seat 1 to act on the preflop: cannot fold when checking is free (nothing to call)"
    )


def test_check_facing_a_bet_is_illegal() -> None:
    s = new_hand(table(1000, 1000, 1000))
    with pytest.raises(IllegalActionError) as info:
        s.apply("x")
    assert str(info.value) == (
        "seat 2 to act on the preflop: cannot check facing a bet of 100: 100 to call"
    )


def test_raise_below_the_minimum_is_illegal() -> None:
    s = play(new_hand(table(1000, 1000, 1000)), "c", "c", "x", "b150")
    with pytest.raises(IllegalActionError) as info:
        s.apply("r250")
    assert str(info.value) == (
        "seat 1 to act on the flop: raise to 250 is below the minimum raise to 300"
    )


def test_bet_below_the_big_blind_is_illegal() -> None:
    s = play(new_hand(table(1000, 1000, 1000)), "c", "c", "x")
    with pytest.raises(IllegalActionError) as info:
        s.apply("b50")
    assert str(info.value) == "seat 0 to act on the flop: bet 50 is below the minimum bet 100"


def test_raise_above_the_stack_is_illegal() -> None:
    s = new_hand(table(1000, 1000, 1000))
    with pytest.raises(IllegalActionError) as info:
        s.apply("r1001")
    assert str(info.value) == (
        "seat 2 to act on the preflop: raise to 1001 exceeds the maximum raise to 1000 "
        "(all-in: 1000 behind plus a bet of 0)"
    )


def test_raise_not_above_the_current_bet_is_illegal() -> None:
    s = new_hand(table(1000, 1000, 1000))
    with pytest.raises(IllegalActionError) as info:
        s.apply("r100")
    assert "raise to 100 does not exceed the current bet of 100" in str(info.value)


def test_raise_with_a_stack_that_cannot_cover_the_call_is_illegal() -> None:
    s = play(new_hand(table(1000, 1000, 1000, 150)), "r400")
    with pytest.raises(IllegalActionError) as info:
        s.apply("r150")
    assert "cannot raise: the stack of 150 does not exceed the 400 owed" in str(info.value)


def test_actions_after_the_hand_or_before_the_board_are_illegal() -> None:
    s = play(new_hand(table(1000, 1000)), "f")
    with pytest.raises(IllegalActionError, match="the hand is over; no action is legal"):
        s.apply("c")
    with pytest.raises(IllegalActionError, match="the hand is over"):
        s.legal_actions()
    waiting = play(HandState(table(1000, 1000), [AA, KK]), "c", "x")
    assert waiting.to_act is None and waiting.needs_board == 3
    with pytest.raises(IllegalActionError, match="the flop needs 3 board card"):
        waiting.apply("x")


@pytest.mark.parametrize(
    ("spec", "fragment"),
    [
        ("z", "unrecognised action 'z'"),
        ("r", "lacks the raise-to amount"),
        ("c100", "takes no amount"),
        (("r",), "must be (letter, raise-to amount)"),
        (("f", 3), "takes no amount"),
        (("r", -5), "positive integer raise-to amount, got -5"),
        (("r", 2.5), "positive integer raise-to amount, got 2.5"),
        (42, "unrecognised action 42"),
    ],
)
def test_malformed_actions_are_rejected(spec: object, fragment: str) -> None:
    with pytest.raises(IllegalActionError) as info:
        parse_action(spec)
    assert fragment in str(info.value)


# --------------------------------------------------------------------------- grammar


def test_action_grammar() -> None:
    assert parse_action("f") == Action(ActionKind.FOLD) == parse_action(("f",))
    assert parse_action("x") == parse_action("K ") == Action.check()
    assert parse_action("c") == parse_action(("c",)) == Action.call()
    assert parse_action("r300") == parse_action(("r", 300)) == parse_action("b 300")
    assert parse_action("R300") == Action.raise_to(300)
    assert [str(a) for a in (Action.fold(), Action.check(), Action.call(), Action.raise_to(9))] == [
        "f",
        "x",
        "c",
        "r9",
    ]


def test_call_with_nothing_owed_is_recorded_as_a_check() -> None:
    s = play(new_hand(table(1000, 1000, 1000)), "c", "c", "c")
    assert s.history[-1] == (Street.PREFLOP, 1, Action.check())
    assert s.street is Street.FLOP


def test_legal_actions_lists_representatives() -> None:
    s = new_hand(table(1000, 1000, 1000))
    assert s.legal_actions().actions() == (
        Action.fold(),
        Action.call(),
        Action.raise_to(200),
        Action.raise_to(1000),
    )


# --------------------------------------------------------------------------- replay


def test_replay_returns_net_results() -> None:
    actions: list[ActionLike] = ["r300", "c", ("f",), "x", ("b", 500), Action.call()]
    actions += ["x", "k", "x", "x"]
    result = replay(table(1000, 1000, 1000), [AA, KK, QQ], BOARD, actions)
    assert result == [900, -100, -800]  # AA (seat 0) beats QQ (seat 2) for a pot of 1700


def test_replay_illegal_action_message_names_index_text_seat_and_reason() -> None:
    with pytest.raises(IllegalActionError) as info:
        replay(table(1000, 1000, 1000), [AA, KK, QQ], BOARD, ["c", "c", "x", "b150", "r250"])
    assert str(info.value) == (
        "action 4 ('r250'): seat 1 to act on the flop: raise to 250 is below the minimum "
        "raise to 300"
    )
    with pytest.raises(IllegalActionError) as info:
        replay(table(1000, 1000, 1000), [AA, KK, QQ], BOARD, ["c", "bogus"])
    assert str(info.value).startswith("action 1 ('bogus'): unrecognised action 'bogus'")


def test_replay_too_many_actions() -> None:
    with pytest.raises(IllegalActionError) as info:
        replay(table(1000, 1000), [AA, KK], BOARD, ["f", "c"])
    assert str(info.value) == (
        "action 1 ('c'): the hand is already over after 1 action(s); 1 action(s) too many"
    )


def test_replay_too_few_actions() -> None:
    with pytest.raises(GameError) as info:
        replay(table(1000, 1000, 1000), [AA, KK, QQ], BOARD, ["c", "c"])
    assert str(info.value) == (
        "too few actions: after 2 action(s) the hand is not over (seat 1 to act on the preflop)"
    )


def test_replay_board_too_short_for_the_streets_reached() -> None:
    with pytest.raises(GameError) as info:
        replay(table(1000, 1000), [AA, KK], BOARD[:3], ["c", "x", "x", "x", "x"])
    assert str(info.value) == "board has 3 card(s) but the hand reached the turn, which needs 4"
    # A hand that ends before the board is needed does not need it.
    assert replay(table(1000, 1000), [AA, KK], [], ["r300", "f"]) == [-100, 100]


@pytest.mark.parametrize(
    ("holes", "board", "fragment"),
    [
        ([AA], BOARD, "hole_cards must hold 2 hands (one per seat), got 1"),
        ([AA, [1, 2, 3]], BOARD, "seat 1 must have exactly 2 hole cards, got 3"),
        ([AA, AA], BOARD, "card Ah (50) is dealt twice"),
        ([AA, [BOARD[0], 5]], BOARD, "card 2c (0) is dealt twice"),
        ([AA, KK], BOARD[:2], "board must have 0, 3, 4 or 5 cards, got 2"),
        ([AA, KK], [*BOARD, 20], "board must have 0, 3, 4 or 5 cards, got 6"),
        ([AA, [52, 1]], BOARD, "hole card of seat 1 must be a card id in 0..51, got 52"),
    ],
)
def test_replay_rejects_bad_cards(holes: list[list[int]], board: list[int], fragment: str) -> None:
    with pytest.raises(GameError) as info:
        replay(table(1000, 1000), holes, board, ["f"])
    assert fragment in str(info.value)


def test_deal_board_supplies_missing_streets() -> None:
    s = play(HandState(table(1000, 1000), [AA, KK]), "r1000", "c")
    assert s.needs_board == 3 and not s.is_terminal
    with pytest.raises(GameError, match="needs exactly 3 board card"):
        s.deal_board(BOARD[:2])
    with pytest.raises(GameError, match="dealt twice"):
        s.deal_board([AA[0], *BOARD[1:3]])
    s.deal_board(BOARD[:3])
    assert s.needs_board == 1 and s.street is Street.FLOP  # all-in: straight on to the turn
    s.deal_board(BOARD[3:4])
    s.deal_board(BOARD[4:])
    assert s.is_terminal and s.payoffs() == [1000, -1000]
    with pytest.raises(GameError, match="no board cards are needed now"):
        s.deal_board([20])


# --------------------------------------------------------------------------- invariants


def test_random_play_keeps_every_chip_and_every_listed_action_legal() -> None:
    rng = np.random.default_rng(7)
    for _ in range(1500):
        n = int(rng.integers(2, 7))
        stacks = tuple(int(x) for x in rng.integers(1, 3000, size=n))
        t = table(*stacks, sb=int(rng.integers(1, 11)), bb=10, ante=int(rng.choice([0, 0, 3])))
        deal = rng.permutation(52).tolist()
        s = HandState(t, [deal[2 * i : 2 * i + 2] for i in range(n)], deal[-5:])
        while not s.is_terminal:
            assert all(s.stacks[i] + s.contributions[i] == stacks[i] for i in range(n)), (
                "chips appeared or vanished"
            )
            options = s.legal_actions().actions()
            for option in options:
                s.clone().apply(option)  # every listed action is accepted
            s.apply(options[int(rng.integers(len(options)))])
        payoffs = s.payoffs()
        assert sum(payoffs) == 0
        assert all(-stacks[i] <= payoffs[i] for i in range(n))


def test_clone_is_independent() -> None:
    s = new_hand(table(1000, 1000, 1000))
    c = s.clone()
    play(c, "r300", "f", "f")
    assert c.is_terminal and not s.is_terminal and s.to_act == 2 and s.history == ()
