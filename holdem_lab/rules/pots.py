"""Main and side pots, and how a pot is split between tied winners.

Pots are built from each seat's total contribution to the hand (antes, blinds and bets, after any
uncalled bet was returned). Every distinct contribution level cuts a layer; a layer holds, from
every seat, the chips that seat put in between the previous level and this one, and it can be won
by the seats still in the hand whose contribution reaches the level. Adjacent layers that the same
seats can win are one pot. A folded seat's chips stay in the layers they reach. Dead money (a
big-blind ante) is in no seat's contribution: it goes into the main pot, which every seat still in
the hand can win.

Odd chips: a pot that does not divide evenly between its k winners gives each winner
``amount // k`` and the ``amount % k`` leftover chips one at a time to the winners in clockwise
order starting from the first seat left of the button, so no winner gets more than one odd chip
(the TDA and common card-room convention).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from holdem_lab.errors import GameError


@dataclass(frozen=True, slots=True)
class Pot:
    """A main or side pot: its size and the seats (ascending) that can win it."""

    amount: int
    eligible: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class PotAward:
    """How one pot was won: the winning seats (ascending) and every seat's share of the pot."""

    pot: Pot
    winners: tuple[int, ...]
    shares: tuple[int, ...]


def build_pots(
    contributions: Sequence[int], folded: Sequence[bool], dead: int = 0
) -> tuple[Pot, ...]:
    """Cut the chips put in by every seat into the main pot (first) and side pots.

    `contributions[i]` is everything seat i put into the hand; `folded[i]` says whether seat i has
    given up its claim; `dead` chips (a big-blind ante) join the main pot. Raises GameError if
    some chips could be won by nobody (a folded seat put in more than every seat still in the
    hand), which no legal hand produces.
    """
    if len(contributions) != len(folded):
        raise GameError(
            f"contributions has {len(contributions)} seats but folded has {len(folded)}"
        )
    for seat, chips in enumerate(contributions):
        if chips < 0:
            raise GameError(f"contribution of seat {seat} is negative: {chips}")
    if dead < 0:
        raise GameError(f"dead money must be >= 0, got {dead}")
    pots: list[Pot] = []
    previous = 0
    for level in sorted({c for c in contributions if c > 0}):
        amount = sum(min(c, level) - min(c, previous) for c in contributions)
        eligible = tuple(
            seat for seat, chips in enumerate(contributions) if chips >= level and not folded[seat]
        )
        if not eligible:
            raise GameError(
                f"{amount} chips between contribution levels {previous} and {level} cannot be "
                f"won by any seat still in the hand (contributions {list(contributions)}, folded "
                f"{list(folded)})"
            )
        if pots and pots[-1].eligible == eligible:
            pots[-1] = Pot(pots[-1].amount + amount, eligible)
        else:
            pots.append(Pot(amount, eligible))
        previous = level
    if dead:
        live = tuple(seat for seat in range(len(folded)) if not folded[seat])
        if not live:
            raise GameError(f"{dead} chips of dead money cannot be won: every seat has folded")
        if pots and pots[0].eligible == live:
            pots[0] = Pot(pots[0].amount + dead, live)
        else:
            pots.insert(0, Pot(dead, live))
    return tuple(pots)


def split_pot(
    amount: int, winners: Sequence[int], *, num_players: int, first_seat: int
) -> tuple[int, ...]:
    """Each seat's share of a pot of `amount` chips won jointly by `winners`.

    Odd chips go one each to the winners in clockwise order from `first_seat` (the first seat left
    of the button), so the shares of any two winners differ by at most one chip.
    """
    if amount < 0:
        raise GameError(f"pot amount must be >= 0, got {amount}")
    if not winners:
        raise GameError(f"a pot of {amount} chips needs at least one winner")
    if not 0 <= first_seat < num_players:
        raise GameError(f"first_seat must be in 0..{num_players - 1}, got {first_seat}")
    for seat in winners:
        if not 0 <= seat < num_players:
            raise GameError(f"winner seat {seat} is not in 0..{num_players - 1}")
    ordered = sorted(set(winners), key=lambda seat: (seat - first_seat) % num_players)
    base, odd = divmod(amount, len(ordered))
    shares = [0] * num_players
    for position, seat in enumerate(ordered):
        shares[seat] = base + (1 if position < odd else 0)
    return tuple(shares)
