"""Betting actions of no-limit hold'em and the small text grammar used to write them down.

Grammar (one action per item, case-insensitive, surrounding whitespace ignored):

====================  ==========================================================================
``"f"`` / ``("f",)``  fold; legal only when facing a bet
``"x"`` / ``"k"``     check; legal only when there is nothing to call
``"c"`` / ``("c",)``  call the amount owed (capped by the stack: a short call is all-in), or
                      check when nothing is owed (the ACPC convention: "c" never fails for
                      being a check)
``"r300"``            bet or raise TO 300: the player's total bet on the current street
``("r", 300)``        becomes 300 (not "300 more"); ``"b300"`` / ``("b", 300)`` is the same
====================  ==========================================================================

An all-in is written as a raise to the player's whole stack (street bet plus chips behind), or as
a call when the stack does not cover the amount owed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum
from numbers import Integral
from typing import TypeAlias

from holdem_lab.errors import IllegalActionError


class ActionKind(Enum):
    """The four kinds of betting action; the value is the action's letter in the grammar."""

    FOLD = "f"
    CHECK = "x"
    CALL = "c"
    RAISE = "r"


@dataclass(frozen=True, slots=True)
class Action:
    """One betting action. `amount` is the raise-to total for RAISE and None for the others."""

    kind: ActionKind
    amount: int | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.kind, ActionKind):
            raise IllegalActionError(f"action kind must be an ActionKind, got {self.kind!r}")
        if self.kind is ActionKind.RAISE:
            if (
                isinstance(self.amount, bool)
                or not isinstance(self.amount, Integral)
                or self.amount <= 0
            ):
                raise IllegalActionError(
                    f"a bet/raise needs a positive integer raise-to amount, got {self.amount!r}"
                )
            object.__setattr__(self, "amount", int(self.amount))
        elif self.amount is not None:
            raise IllegalActionError(
                f"{self.kind.name.lower()} takes no amount, got {self.amount!r}"
            )

    def __str__(self) -> str:
        return f"r{self.amount}" if self.kind is ActionKind.RAISE else self.kind.value

    @classmethod
    def fold(cls) -> Action:
        """A fold."""
        return cls(ActionKind.FOLD)

    @classmethod
    def check(cls) -> Action:
        """A check (only when nothing is owed)."""
        return cls(ActionKind.CHECK)

    @classmethod
    def call(cls) -> Action:
        """A call of whatever is owed, or a check when nothing is."""
        return cls(ActionKind.CALL)

    @classmethod
    def raise_to(cls, amount: int) -> Action:
        """A bet or raise to `amount` chips in total on the current street."""
        return cls(ActionKind.RAISE, amount)


ActionLike: TypeAlias = Action | str | tuple[str] | tuple[str, int]
"""Anything `parse_action` accepts: an Action, a grammar string, or a (letter[, amount]) tuple."""

_LETTERS = {
    "f": ActionKind.FOLD,
    "x": ActionKind.CHECK,
    "k": ActionKind.CHECK,
    "c": ActionKind.CALL,
    "r": ActionKind.RAISE,
    "b": ActionKind.RAISE,
}
_TEXT = re.compile(r"^([a-z])\s*(\d+)?$")
_GRAMMAR = "expected 'f', 'x'/'k', 'c', or 'r<amount>'/'b<amount>' (a raise-to total)"


def parse_action(spec: object) -> Action:
    """Turn an `ActionLike` into an Action; anything else raises IllegalActionError saying why."""
    if isinstance(spec, Action):
        return spec
    if isinstance(spec, str):
        match = _TEXT.match(spec.strip().lower())
        if match is None or match.group(1) not in _LETTERS:
            raise IllegalActionError(f"unrecognised action {spec!r}: {_GRAMMAR}")
        kind = _LETTERS[match.group(1)]
        digits = match.group(2)
        if kind is ActionKind.RAISE and digits is None:
            raise IllegalActionError(f"action {spec!r} lacks the raise-to amount: {_GRAMMAR}")
        if kind is not ActionKind.RAISE and digits is not None:
            raise IllegalActionError(f"action {spec!r} takes no amount: {_GRAMMAR}")
        return Action(kind, None if digits is None else int(digits))
    if isinstance(spec, tuple) and spec and isinstance(spec[0], str):
        kind_or_none = _LETTERS.get(spec[0].strip().lower())
        if kind_or_none is None:
            raise IllegalActionError(f"unrecognised action {spec!r}: {_GRAMMAR}")
        if kind_or_none is ActionKind.RAISE:
            if len(spec) != 2:
                raise IllegalActionError(
                    f"action {spec!r} must be (letter, raise-to amount): {_GRAMMAR}"
                )
            return Action(kind_or_none, spec[1])
        if len(spec) != 1:
            raise IllegalActionError(f"action {spec!r} takes no amount: {_GRAMMAR}")
        return Action(kind_or_none)
    raise IllegalActionError(f"unrecognised action {spec!r}: {_GRAMMAR}")


@dataclass(frozen=True, slots=True)
class LegalActions:
    """What the seat to act may do.

    `call_amount` is the number of chips a call adds; 0 means the option is a check. It is less
    than the difference to the current bet when the stack is short (the call is then all-in) or
    when no opponent could match more. `min_raise_to`/`max_raise_to` bound the raise-to totals,
    both None when raising is not allowed; `max_raise_to` is always all-in.
    """

    seat: int
    can_fold: bool
    call_amount: int
    min_raise_to: int | None
    max_raise_to: int | None

    @property
    def can_check(self) -> bool:
        """True when nothing is owed."""
        return self.call_amount == 0

    @property
    def can_call(self) -> bool:
        """True when facing a bet."""
        return self.call_amount > 0

    @property
    def can_raise(self) -> bool:
        """True when a bet or raise is allowed."""
        return self.min_raise_to is not None

    def actions(self) -> tuple[Action, ...]:
        """Representative legal actions: fold, check or call, minimum and all-in raise."""
        out: list[Action] = []
        if self.can_fold:
            out.append(Action.fold())
        out.append(Action.call() if self.can_call else Action.check())
        if self.min_raise_to is not None and self.max_raise_to is not None:
            out.append(Action.raise_to(self.min_raise_to))
            if self.max_raise_to != self.min_raise_to:
                out.append(Action.raise_to(self.max_raise_to))
        return tuple(out)
