"""The fixed setup of a no-limit hold'em hand (`Table`) and its betting rounds (`Street`).

Seats follow the pokerkit convention: with 3 to 6 players seat 0 is the small blind, seat 1 the big
blind and seat n-1 the button; heads-up, seat 0 is the big blind and seat 1 the small blind and
button. Every invalid setting raises GameError naming the value.

Antes come in three types (`ANTE_TYPES`): "none"; "uniform", every seat posts `ante` before the
blinds, and it counts as that seat's contribution when side pots are formed; "big_blind", the big
blind alone posts `ante` for the whole table after its blind (a short big blind posts the blind
first, TDA), and it is dead money that goes into the main pot, which every seat still in the hand
can win.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import IntEnum
from numbers import Integral

from holdem_lab.errors import GameError

MIN_PLAYERS = 2
MAX_PLAYERS = 6
BOARD_SIZES = (0, 3, 4, 5)
ANTE_TYPES = ("none", "uniform", "big_blind")


class Street(IntEnum):
    """Betting rounds, in order; the value is also the index into BOARD_CARDS_BY_STREET."""

    PREFLOP = 0
    FLOP = 1
    TURN = 2
    RIVER = 3

    def __str__(self) -> str:
        return self.name.lower()


BOARD_CARDS_BY_STREET = (0, 3, 4, 5)
"""Number of board cards visible during each street."""


def next_street_name(street: Street) -> str:
    """Name of the stage after `street`: the next street, or showdown after the river."""
    return "showdown" if street is Street.RIVER else str(Street(street + 1))


def _require_int(name: str, value: object, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, Integral):
        raise GameError(f"{name} must be an integer, got {value!r}")
    if value < minimum:
        raise GameError(f"{name} must be >= {minimum}, got {value!r}")
    return int(value)


@dataclass(frozen=True, kw_only=True)
class Table:
    """The fixed setup of a hand: players, starting stacks and forced bets (all in chips).

    `stacks` lists every seat's stack before the antes and blinds; `ante` is posted as
    `ante_type` says (module doc). `ante_type` None means "uniform" when `ante` > 0; an ante of 0
    is always "none", whatever the type given, so equal tables compare equal.
    """

    num_players: int
    stacks: tuple[int, ...]
    small_blind: int
    big_blind: int
    ante: int = 0
    ante_type: str | None = None

    def __post_init__(self) -> None:
        n = _require_int("num_players", self.num_players, MIN_PLAYERS)
        if n > MAX_PLAYERS:
            raise GameError(f"num_players must be <= {MAX_PLAYERS}, got {n}")
        if isinstance(self.stacks, str | bytes) or not isinstance(self.stacks, Sequence):
            raise GameError(f"stacks must be a sequence of {n} integers, got {self.stacks!r}")
        if len(self.stacks) != n:
            raise GameError(
                f"stacks must have num_players={n} entries, got {len(self.stacks)}: "
                f"{list(self.stacks)!r}"
            )
        stacks = tuple(
            _require_int(f"stacks[{seat}]", stack, 1) for seat, stack in enumerate(self.stacks)
        )
        big_blind = _require_int("big_blind", self.big_blind, 1)
        small_blind = _require_int("small_blind", self.small_blind, 1)
        if small_blind > big_blind:
            raise GameError(f"small_blind must be <= big_blind={big_blind}, got {small_blind}")
        ante = _require_int("ante", self.ante, 0)
        ante_type = self.ante_type
        if ante_type is not None and ante_type not in ANTE_TYPES:
            raise GameError(f"ante_type must be one of {', '.join(ANTE_TYPES)}, got {ante_type!r}")
        if ante_type == "none" and ante > 0:
            raise GameError(f"ante_type 'none' contradicts ante={ante}; give ante=0 or a type")
        if ante == 0:
            ante_type = "none"
        elif ante_type is None:
            ante_type = "uniform"
        object.__setattr__(self, "num_players", n)
        object.__setattr__(self, "stacks", stacks)
        object.__setattr__(self, "small_blind", small_blind)
        object.__setattr__(self, "big_blind", big_blind)
        object.__setattr__(self, "ante", ante)
        object.__setattr__(self, "ante_type", ante_type)

    @property
    def big_blind_ante(self) -> bool:
        """True when the big blind posts the ante for the table, as dead money."""
        return self.ante_type == "big_blind"

    def antes_posted(self) -> tuple[int, ...]:
        """The ante each seat actually posts: the whole ante or the stack if smaller (uniform);
        the big blind's stack left after its blind, up to the ante (big blind ante)."""
        if self.ante_type == "uniform":
            return tuple(min(self.ante, stack) for stack in self.stacks)
        posted = [0] * self.num_players
        if self.ante_type == "big_blind":
            stack = self.stacks[self.big_blind_seat]
            posted[self.big_blind_seat] = min(self.ante, stack - min(self.big_blind, stack))
        return tuple(posted)

    @property
    def button(self) -> int:
        """The button seat: n-1, or seat 1 (also the small blind) heads-up."""
        return 1 if self.num_players == 2 else self.num_players - 1

    @property
    def small_blind_seat(self) -> int:
        """Seat 0, or seat 1 heads-up."""
        return 1 if self.num_players == 2 else 0

    @property
    def big_blind_seat(self) -> int:
        """Seat 1, or seat 0 heads-up."""
        return 0 if self.num_players == 2 else 1

    @property
    def first_seat_left_of_button(self) -> int:
        """Seat 0 in every case; it receives the first odd chip of a split pot."""
        return (self.button + 1) % self.num_players

    @property
    def preflop_first_seat(self) -> int:
        """Where the preflop action starts: the seat left of the big blind."""
        return (self.big_blind_seat + 1) % self.num_players
