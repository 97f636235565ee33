"""Exact no-limit Texas hold'em for 2 to 6 players: a plain-Python rules oracle with a replay API.

Chips are integers throughout; cards are ints ``4 * rank + suit`` (rank 0..12 = 2..A, suit 0..3 =
c, d, h, s). `HandState` is the state machine of one hand; `replay` runs a whole recorded hand and
returns every seat's net chip result (holdem_lab.rules.replay).

Seats (the pokerkit convention). With 3 to 6 players seat 0 is the small blind, seat 1 the big
blind and seat n-1 the button; preflop seat 2 acts first (the button when n = 3), after the flop
the first seat still able to act from seat 0 on. Heads-up, seat 0 is the big blind and seat 1 the
small blind and button: seat 1 acts first preflop and last after the flop. In both cases the first
seat left of the button is seat 0, so clockwise from the button means ascending seat order.

Rules, and the choices made where rule books or engines differ:

* Forced bets. With uniform antes every seat posts the ante (all it has if the stack is smaller),
  then the small and big blinds are posted from what is left; a seat that cannot cover its blind
  posts everything and is all-in. Antes are dead for betting (they do not count toward the amount
  to call) but count as contributions when side pots are formed, so a seat all-in on the ante can
  win every other seat's ante.
* Big-blind ante. The big blind posts the ante for the whole table. A big blind too short for
  both posts the blind first and antes what is left (TDA; pokerkit posts the ante first). The
  ante is dead money: it never counts toward the big blind's bet, and it goes into the main pot,
  which every seat still in the hand can win however little it put in (pokerkit alike).
* Big blind all-in for less. The preflop bet to match stays the full big blind and the minimum
  raise is to two big blinds, whatever the big blind could post (the conventional card-room rule).
  Nobody is asked to put in more than the most any opponent still in the hand has bet or could
  still bet: the amount to call is capped there (the excess could only come back uncalled).
  (pokerkit instead uses the largest blind actually posted as the bet to call.)
* Folding is legal only when facing a bet. Folding when a check is free is rejected: it is a
  dominated action that only enlarges game trees, and pokerkit's tournament mode rejects it too.
* Bets and raises are given as a raise TO total for the street. The minimum bet is the big blind;
  the minimum raise adds the size of the largest full bet or raise of the street, and at least a
  big blind. The maximum is all-in. A bet or raise all-in for less than the minimum is allowed.
* Short all-ins (TDA "re-opening the bet", Robert's Rules section 14). A bet or raise is full
  when it adds at least the current full-raise size: the big blind, or the largest full bet or
  raise of the street if that is larger. An all-in that adds less does not reopen the betting: a
  player who has already acted since the last full bet or raise (a check counts) may then only
  call or fold, unless the amount they now face totals at least a full raise (several short
  all-ins can add up to one). A player who has not yet acted keeps every option. This applies to
  an opening all-in bet smaller than the big blind too: players who checked may only call it or
  fold. After a short all-in the minimum raise is still the full-raise size on top of it.
  (pokerkit measures "full" against the largest bet or raise of the street without the big-blind
  floor, so there an all-in of less than a big blind can reopen the betting.)
* A betting round ends when every seat still able to bet has acted since the last full bet or
  raise and has matched the bet (or is all-in). A seat left with no decision (nothing to call and
  no opponent able to bet) is not asked to act. Uncalled chips (the part of the largest bet no
  one matched) go back to their owner at the end of each round. When at most one seat can still
  bet, the remaining board is dealt without betting.
* Showdown. Each pot (see `holdem_lab.rules.pots`) goes to the best hand among the seats that can
  win it; tied winners split it and odd chips are handed out one at a time clockwise from the
  first seat left of the button, never more than one per winner (TDA); each pot is split as it
  was formed during the betting. (pokerkit gives every odd chip of a pot to the lowest-numbered
  winner, and re-forms the pots after mucking the hands that win nothing, so pots contested by
  the same remaining players are split as one.) A hand that everyone else folded to wins every
  pot without a showdown.

Actions (holdem_lab.rules.actions): "f" fold, "x"/"k" check, "c" call (or check when nothing is
owed), "r<N>"/"b<N>" bet or raise TO a street total of N; tuples ("r", N) and Action objects too.

Hand strength comes from a ``hand_value(seven_cards) -> int`` function (higher is better); by
default `holdem_lab.cards.evaluator.evaluate7`, looked up the first time a showdown needs it.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from numbers import Integral
from typing import Any

from holdem_lab.cards.deck import card_str
from holdem_lab.errors import GameError, IllegalActionError
from holdem_lab.rules.actions import Action, ActionKind, ActionLike, LegalActions, parse_action
from holdem_lab.rules.pots import Pot, PotAward, build_pots, split_pot
from holdem_lab.rules.table import (
    BOARD_CARDS_BY_STREET,
    BOARD_SIZES,
    Street,
    Table,
    next_street_name,
)

__all__ = [
    "BOARD_CARDS_BY_STREET",
    "HandState",
    "HandValue",
    "LegalActions",
    "Street",
    "Table",
    "default_hand_value",
]

HandValue = Callable[[Sequence[int]], int]
"""Strength of a seven-card hand as an int; higher is better, equal means a tie."""

_evaluator: HandValue | None = None


def default_hand_value() -> HandValue:
    """The project's seven-card evaluator (holdem_lab.cards.evaluator.evaluate7), loaded once."""
    global _evaluator
    if _evaluator is None:
        try:
            module = importlib.import_module("holdem_lab.cards.evaluator")
            evaluate7: Any = module.evaluate7
        except (ImportError, AttributeError) as exc:
            raise GameError(
                "no hand evaluator: holdem_lab.cards.evaluator.evaluate7 is not available "
                f"({exc}); pass hand_value= to evaluate showdowns"
            ) from exc

        def value(cards: Sequence[int]) -> int:
            return int(evaluate7(list(cards)))

        _evaluator = value
    return _evaluator


def _clean_card(value: object, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, Integral) or not 0 <= int(value) < 52:
        raise GameError(f"{where} must be a card id in 0..51, got {value!r}")
    return int(value)


def _check_distinct(cards: Sequence[int]) -> None:
    seen: set[int] = set()
    for card in cards:
        if card in seen:
            raise GameError(f"card {card_str(card)} ({card}) is dealt twice")
        seen.add(card)


class HandState:
    """One hand of no-limit hold'em, from the forced bets to the payoffs (rules: module doc).

    Construct with the table, every seat's two hole cards and as much of the board as is known
    (0, 3, 4 or 5 cards). When the hand reaches a street whose cards were not given, `to_act` is
    None and `needs_board` says how many cards `deal_board` must supply. `apply` plays the action
    of the seat to act and raises IllegalActionError (state unchanged) when it is not legal.
    """

    def __init__(
        self,
        table: Table,
        hole_cards: Sequence[Sequence[int]],
        board: Sequence[int] = (),
        *,
        hand_value: HandValue | None = None,
    ) -> None:
        if not isinstance(table, Table):
            raise GameError(f"table must be a Table, got {table!r}")
        n = table.num_players
        if len(hole_cards) != n:
            raise GameError(f"hole_cards must hold {n} hands (one per seat), got {len(hole_cards)}")
        hands: list[tuple[int, int]] = []
        for seat, hand in enumerate(hole_cards):
            if len(hand) != 2:
                raise GameError(
                    f"seat {seat} must have exactly 2 hole cards, got {len(hand)}: {list(hand)!r}"
                )
            first, second = (_clean_card(c, f"hole card of seat {seat}") for c in hand)
            hands.append((first, second))
        if len(board) not in BOARD_SIZES:
            raise GameError(
                f"board must have 0, 3, 4 or 5 cards, got {len(board)}: {list(board)!r}"
            )
        board_cards = [_clean_card(c, "board card") for c in board]
        _check_distinct([c for hand in hands for c in hand] + board_cards)

        self.table = table
        self.hole_cards: tuple[tuple[int, int], ...] = tuple(hands)
        self._hand_value = hand_value
        self._board_known = board_cards
        self._board_shown = 0
        self._stacks = list(table.stacks)
        self._bets = [0] * n
        self._contrib = [0] * n
        self._dead = 0
        self._folded = [False] * n
        self._acted = [False] * n
        self._street = Street.PREFLOP
        self._level = 0
        self._full_raise = table.big_blind
        self._to_act: int | None = None
        self._needs_board = 0
        self._terminal = False
        self._awards: tuple[PotAward, ...] = ()
        self._history: list[tuple[Street, int, Action]] = []
        self._post_forced_bets()

    # ----------------------------------------------------------------- read-only views

    @property
    def num_players(self) -> int:
        """Number of seats."""
        return self.table.num_players

    @property
    def street(self) -> Street:
        """The current (or, once the hand is over, the last reached) street."""
        return self._street

    @property
    def board(self) -> tuple[int, ...]:
        """Board cards dealt so far."""
        return tuple(self._board_known[: self._board_shown])

    @property
    def to_act(self) -> int | None:
        """The seat whose turn it is, or None (hand over, or board cards needed)."""
        return self._to_act

    @property
    def needs_board(self) -> int:
        """How many board cards `deal_board` must supply before play can go on (0: none)."""
        return self._needs_board

    @property
    def is_terminal(self) -> bool:
        """True once the pot has been awarded."""
        return self._terminal

    @property
    def stacks(self) -> tuple[int, ...]:
        """Chips behind each seat (not counting chips bet on the current street)."""
        return tuple(self._stacks)

    @property
    def bets(self) -> tuple[int, ...]:
        """Each seat's bet on the current street."""
        return tuple(self._bets)

    @property
    def contributions(self) -> tuple[int, ...]:
        """Everything each seat has put in this hand, antes (a big-blind ante too) and current
        bets included."""
        contrib = list(self._contrib)
        if self._dead:
            contrib[self.table.big_blind_seat] += self._dead
        return tuple(contrib)

    @property
    def dead_money(self) -> int:
        """The big-blind ante actually posted (0 for other ante types): in the main pot, in no
        seat's share of the side pots."""
        return self._dead

    @property
    def folded(self) -> tuple[bool, ...]:
        """Which seats have folded."""
        return tuple(self._folded)

    @property
    def current_bet(self) -> int:
        """The bet to match on this street (the full big blind preflop, even if not posted)."""
        return self._level

    @property
    def full_raise(self) -> int:
        """The size a raise must add to be a full raise (at least the big blind)."""
        return self._full_raise

    @property
    def pot_total(self) -> int:
        """Every chip put in so far."""
        return sum(self._contrib) + self._dead

    @property
    def history(self) -> tuple[tuple[Street, int, Action], ...]:
        """Applied actions as (street, seat, action); a call of nothing is recorded as a check."""
        return tuple(self._history)

    @property
    def awards(self) -> tuple[PotAward, ...]:
        """How each pot was won (empty until the hand is over)."""
        return self._awards

    def pots(self) -> tuple[Pot, ...]:
        """Main and side pots from the chips put in so far (current bets included)."""
        return build_pots(self._contrib, self._folded, self._dead)

    def payoffs(self) -> list[int]:
        """Net chip result per seat (final stack minus starting stack); sums to zero."""
        if not self._terminal:
            raise GameError("payoffs are defined only once the hand is over")
        return [self._stacks[i] - self.table.stacks[i] for i in range(self.num_players)]

    def clone(self) -> HandState:
        """An independent copy of this state (for tree walks)."""
        other = HandState.__new__(HandState)
        other.__dict__.update(self.__dict__)
        for name in (
            "_board_known",
            "_stacks",
            "_bets",
            "_contrib",
            "_folded",
            "_acted",
            "_history",
        ):
            setattr(other, name, list(getattr(self, name)))
        return other

    # ----------------------------------------------------------------- legality

    def _live(self, seat: int) -> bool:
        return not self._folded[seat] and self._stacks[seat] > 0

    def _live_count(self) -> int:
        return sum(1 for seat in range(self.num_players) if self._live(seat))

    def _to_call(self, seat: int) -> int:
        """Chips `seat` must add to call: up to the bet, no more than any opponent can match."""
        cap = max(
            (
                self._bets[other] + self._stacks[other]
                for other in range(self.num_players)
                if other != seat and not self._folded[other]
            ),
            default=0,
        )
        owed = min(self._level, cap) - self._bets[seat]
        return max(0, min(self._stacks[seat], owed))

    def _raise_refusal(self, seat: int) -> str | None:
        """Why `seat` may not bet or raise now, or None if it may."""
        all_in_to = self._bets[seat] + self._stacks[seat]
        word = "raise" if self._level else "bet"
        if all_in_to <= self._level:
            return (
                f"cannot {word}: the stack of {self._stacks[seat]} does not exceed the "
                f"{self._level - self._bets[seat]} owed to call the bet of {self._level}"
            )
        if not any(
            self._live(other) and self._bets[other] + self._stacks[other] > self._level
            for other in range(self.num_players)
            if other != seat
        ):
            return (
                f"cannot {word}: every opponent has folded or is all-in or cannot cover more "
                f"than the current bet of {self._level}"
            )
        facing = self._level - self._bets[seat]
        if self._acted[seat] and facing < self._full_raise:
            return (
                f"cannot {word}: the betting was not reopened (this player already acted and "
                f"faces {facing} more, less than a full raise of {self._full_raise}, after an "
                f"all-in for less than a full bet or raise); call {self._to_call(seat)} or fold"
            )
        return None

    def _needs_to_act(self, seat: int, live_count: int) -> bool:
        if not self._live(seat):
            return False
        if self._to_call(seat) > 0:
            return True
        return live_count >= 2 and not self._acted[seat]

    def _next_to_act(self, start: int) -> int | None:
        live_count = self._live_count()
        n = self.num_players
        for step in range(n):
            seat = (start + step) % n
            if self._needs_to_act(seat, live_count):
                return seat
        return None

    def _require_turn(self) -> int:
        if self._terminal:
            raise IllegalActionError("the hand is over; no action is legal")
        if self._to_act is None:
            raise IllegalActionError(
                f"the {next_street_name(self._street)} needs {self._needs_board} board "
                "card(s) before any action (call deal_board)"
            )
        return self._to_act

    def legal_actions(self) -> LegalActions:
        """What the seat to act may do; IllegalActionError if no seat is to act."""
        seat = self._require_turn()
        to_call = self._to_call(seat)
        if self._raise_refusal(seat) is None:
            all_in_to = self._bets[seat] + self._stacks[seat]
            min_to: int | None = min(self._level + self._full_raise, all_in_to)
            max_to: int | None = all_in_to
        else:
            min_to = max_to = None
        return LegalActions(seat, to_call > 0, to_call, min_to, max_to)

    def min_raise_to(self) -> int | None:
        """Smallest legal raise-to total for the seat to act (all-in if less); None if no raise."""
        if self._to_act is None:
            return None
        return self.legal_actions().min_raise_to

    def max_raise_to(self) -> int | None:
        """Largest legal raise-to total (all-in) for the seat to act; None if no raise."""
        if self._to_act is None:
            return None
        return self.legal_actions().max_raise_to

    # ----------------------------------------------------------------- transitions

    def apply(self, action: ActionLike) -> None:
        """Play `action` for the seat to act (grammar: holdem_lab.rules.actions)."""
        act = parse_action(action)
        seat = self._require_turn()
        where = f"seat {seat} to act on the {self._street}"
        to_call = self._to_call(seat)
        if act.kind is ActionKind.FOLD:
            if to_call == 0:
                raise IllegalActionError(
                    f"{where}: cannot fold when checking is free (nothing to call)"
                )
            self._folded[seat] = True
        elif act.kind is ActionKind.CHECK:
            if to_call > 0:
                raise IllegalActionError(
                    f"{where}: cannot check facing a bet of {self._level}: {to_call} to call"
                )
            self._acted[seat] = True
        elif act.kind is ActionKind.CALL:
            if to_call == 0:
                act = Action.check()
            self._put(seat, to_call)
            self._acted[seat] = True
        else:
            self._raise(seat, act, where)
        self._history.append((self._street, seat, act))
        self._after_action(seat)

    def _raise(self, seat: int, act: Action, where: str) -> None:
        assert act.amount is not None
        refusal = self._raise_refusal(seat)
        if refusal is not None:
            raise IllegalActionError(f"{where}: {refusal}")
        target = act.amount
        word = "raise to" if self._level else "bet"
        all_in_to = self._bets[seat] + self._stacks[seat]
        min_to = min(self._level + self._full_raise, all_in_to)
        if target > all_in_to:
            raise IllegalActionError(
                f"{where}: {word} {target} exceeds the maximum {word} {all_in_to} (all-in: "
                f"{self._stacks[seat]} behind plus a bet of {self._bets[seat]})"
            )
        if target <= self._level:
            raise IllegalActionError(
                f"{where}: {word} {target} does not exceed the current bet of {self._level}"
            )
        if target < min_to:
            minimum = "minimum bet" if not self._level else "minimum raise to"
            raise IllegalActionError(f"{where}: {word} {target} is below the {minimum} {min_to}")
        increment = target - self._level
        if increment >= self._full_raise:
            # A full bet or raise reopens the betting: everyone else may act again.
            self._full_raise = increment
            self._acted = [False] * self.num_players
        self._acted[seat] = True
        self._put(seat, target - self._bets[seat])
        self._level = target

    def _put(self, seat: int, chips: int) -> None:
        self._stacks[seat] -= chips
        self._bets[seat] += chips
        self._contrib[seat] += chips

    def _after_action(self, seat: int) -> None:
        if sum(1 for f in self._folded if not f) == 1:
            self._to_act = None
            self._close_round()
            return
        self._to_act = self._next_to_act(seat + 1)
        if self._to_act is None:
            self._close_round()

    def _post_forced_bets(self) -> None:
        table = self.table
        antes = table.antes_posted()
        if table.ante_type == "uniform":
            for seat, ante in enumerate(antes):
                self._stacks[seat] -= ante
                self._contrib[seat] += ante
        for seat, blind in (
            (table.small_blind_seat, table.small_blind),
            (table.big_blind_seat, table.big_blind),
        ):
            self._put(seat, min(blind, self._stacks[seat]))
        if table.big_blind_ante:
            # Posted after the blind (TDA) and kept out of `_contrib`: it is dead money.
            self._dead = antes[table.big_blind_seat]
            self._stacks[table.big_blind_seat] -= self._dead
        self._level = table.big_blind
        self._full_raise = table.big_blind
        self._to_act = self._next_to_act(table.preflop_first_seat)
        if self._to_act is None:
            self._close_round()

    def _close_round(self) -> None:
        """End the betting round: return uncalled chips, then fold-win, deal on, or show down."""
        top = max(self._bets)
        if self._bets.count(top) == 1:
            seat = self._bets.index(top)
            second = max(b for i, b in enumerate(self._bets) if i != seat)
            self._stacks[seat] += top - second
            self._contrib[seat] -= top - second
        self._bets = [0] * self.num_players
        remaining = [seat for seat in range(self.num_players) if not self._folded[seat]]
        if len(remaining) == 1:
            total = sum(self._contrib) + self._dead
            winner = remaining[0]
            shares = tuple(total if seat == winner else 0 for seat in range(self.num_players))
            self._awards = (PotAward(Pot(total, (winner,)), (winner,), shares),)
            self._stacks[winner] += total
            self._terminal = True
            return
        self._advance()

    def _advance(self) -> None:
        """Deal the next street(s) until someone must act, cards are missing, or showdown."""
        while True:
            if self._street is Street.RIVER:
                self._showdown()
                return
            following = Street(self._street + 1)
            wanted = BOARD_CARDS_BY_STREET[following]
            if len(self._board_known) < wanted:
                self._needs_board = wanted - len(self._board_known)
                self._to_act = None
                return
            self._street = following
            self._board_shown = wanted
            self._level = 0
            self._full_raise = self.table.big_blind
            self._acted = [False] * self.num_players
            self._to_act = self._next_to_act(self.table.first_seat_left_of_button)
            if self._to_act is not None:
                return

    def deal_board(self, cards: Sequence[int]) -> None:
        """Supply the next street's board cards when `needs_board` asks for them."""
        if self._needs_board == 0:
            raise GameError(
                f"no board cards are needed now (street {self._street}, "
                f"{'hand over' if self._terminal else f'seat {self._to_act} to act'})"
            )
        if len(cards) != self._needs_board:
            raise GameError(
                f"the {next_street_name(self._street)} needs exactly {self._needs_board} board "
                f"card(s), got {len(cards)}: {list(cards)!r}"
            )
        new = [_clean_card(c, "board card") for c in cards]
        _check_distinct([c for hand in self.hole_cards for c in hand] + self._board_known + new)
        self._board_known.extend(new)
        self._needs_board = 0
        self._advance()

    def _showdown(self) -> None:
        evaluate = self._hand_value if self._hand_value is not None else default_hand_value()
        board = self._board_known[:5]
        values = {
            seat: evaluate([*self.hole_cards[seat], *board])
            for seat in range(self.num_players)
            if not self._folded[seat]
        }
        awards = []
        first = self.table.first_seat_left_of_button
        for pot in build_pots(self._contrib, self._folded, self._dead):
            best = max(values[seat] for seat in pot.eligible)
            winners = tuple(seat for seat in pot.eligible if values[seat] == best)
            shares = split_pot(pot.amount, winners, num_players=self.num_players, first_seat=first)
            for seat, share in enumerate(shares):
                self._stacks[seat] += share
            awards.append(PotAward(pot, winners, shares))
        self._awards = tuple(awards)
        self._terminal = True
