"""The no-limit hold'em betting abstraction: a few bet sizes per round, compiled to a BettingTree.

No-limit hold'em lets a player bet any whole number of chips between the minimum raise and
all-in, far too many actions for equilibrium finding. An *action abstraction* keeps a small menu
of sizes, usually fractions of the pot (Gilpin, Sandholm & Sorensen, "A heads-up no-limit Texas
Hold'em poker player: discretized betting models and automatically generated equilibrium-finding
programs", AAMAS 2008; Schnizlein, Bowling & Szafron, "Probabilistic state translation in
extensive games with large action sets", IJCAI 2009; Brown & Sandholm, "Superhuman AI for
multiplayer poker", Science 2019, whose blueprint uses one to a few sizes per decision). Bets the
opponents make off the menu are mapped back onto it by action translation
(holdem_lab.games.translation).

`BetSizing` is the menu; `build_holdem_tree` turns it into the flat preorder arrays of
holdem_lab.games.tree for 2 to 6 players, following the exact rules of holdem_lab.rules.nlhe:
the same seats and blinds, antes that are dead for betting, the same amount to call (capped at
what an opponent can still match), the same minimum raise and re-opening rules after short
all-ins, uncalled chips returned when a round closes, and the remaining streets run out without
betting once at most one player can still bet. Every edge of the tree is a legal action of
`holdem_lab.rules.HandState` with the same chip amounts.

Raise sizes, in chips. With `bet` the current bet to match on the street, `owed` what the player
must add to match it and `pot` every chip put in so far (antes and blinds included), a size of
``f`` raises TO ``bet + round(f * (pot + owed))`` street chips: the player calls, then raises by
``f`` times the pot after the call (the usual "pot-sized raise" for ``f = 1``). The first raise
of the preflop can instead be given in big blinds (`BetSizing.preflop_open_bb`: 2.5 raises to 2.5
big blinds). Halves round up. A size below the minimum raise (the bet plus the largest full bet
or raise of the street, at least a big blind) becomes the minimum raise; a size at or above the
effective stack (the player's all-in, or the most any opponent still in the hand can match, if
smaller: the excess would only be returned uncalled) becomes all-in; equal amounts are kept once.

Labels. `tree.labels[node]` is the public history from the root, one token per action and '/'
at every round boundary, so ``label.count('/') == tree.round[node]`` (when the remaining streets
are run out without betting, the showdown label ends with one '/' per street skipped)::

    f        fold
    k        check
    c        call (possibly all-in for less)
    b<N>     bet TO N chips on the street (first bet of a post-flop round)
    r<N>     raise TO N chips on the street (every preflop raise: the big blind is the bet)
    a        all-in (bet or raise to the whole stack)

N is a street total as in the replay grammar of holdem_lab.rules.actions, so "r250c/kb300f" is a
preflop raise to 250 and a call, then on the flop a check, a bet of 300 and a fold.
`tree_path_actions` gives the same path as actions `holdem_lab.rules.replay` accepts.
"""

from __future__ import annotations

import math
import weakref
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from numbers import Integral, Real
from typing import Any

import numpy as np

from holdem_lab.errors import GameError
from holdem_lab.games.tree import (
    ACTION_KIND_NAMES,
    ALL_IN,
    BET_RAISE,
    CHECK_CALL,
    DECISION,
    FOLD,
    FOLD_TERMINAL,
    SHOWDOWN_TERMINAL,
    BettingTree,
)
from holdem_lab.rules.table import Table

__all__ = [
    "DEFAULT_MAX_NODES",
    "MAX_RAISES_PER_ROUND",
    "MAX_SIZES_PER_ROUND",
    "NUM_ROUNDS",
    "ROUND_NAMES",
    "BetSizing",
    "HoldemTreeParams",
    "MenuEntry",
    "StreetTracker",
    "TreeSize",
    "build_holdem_tree",
    "default_bet_sizing",
    "holdem_tree_params",
    "holdem_tree_size",
    "holdem_tree_summary",
    "tree_path_actions",
]

NUM_ROUNDS = 4
ROUND_NAMES = ("preflop", "flop", "turn", "river")
MAX_SIZES_PER_ROUND = 16
"""Longest size menu of one round (keeps the per-node action count small)."""
MAX_RAISES_PER_ROUND = 32
"""Largest raise cap of one round (bounds the builder's recursion within a round)."""
DEFAULT_MAX_NODES = 20_000_000
"""`build_holdem_tree` refuses to build more nodes than this unless told otherwise."""
_MAX_CHIPS = 2**31 - 1  # the builder stores chips and node indices as int32


# --------------------------------------------------------------------------- the size menu


def _size_menu(name: str, value: object, *, above: float) -> tuple[float, ...]:
    """A tuple of distinct finite numbers > `above`; GameError naming the entry otherwise."""
    if isinstance(value, str | bytes) or not isinstance(value, Sequence):
        raise GameError(f"{name}={value!r}: must be a sequence of numbers")
    if len(value) > MAX_SIZES_PER_ROUND:
        raise GameError(
            f"{name}={value!r}: at most {MAX_SIZES_PER_ROUND} sizes, got {len(value)}"
        )
    out: list[float] = []
    for i, size in enumerate(value):
        if (isinstance(size, bool) or not isinstance(size, Real)
                or not math.isfinite(float(size)) or float(size) <= above):
            raise GameError(f"{name}[{i}]={size!r}: must be a finite number > {above:g}")
        if float(size) in out:
            raise GameError(f"{name}[{i}]={size!r}: repeats an earlier size in {value!r}")
        out.append(float(size))
    return tuple(out)


def _per_round(name: str, value: object) -> tuple[tuple[float, ...], ...]:
    if isinstance(value, str | bytes) or not isinstance(value, Sequence) \
            or len(value) != NUM_ROUNDS:
        raise GameError(
            f"{name}={value!r}: must hold {NUM_ROUNDS} size menus (preflop, flop, turn, river)"
        )
    return tuple(_size_menu(f"{name}[{r}]", menu, above=0.0) for r, menu in enumerate(value))


def _raise_caps(name: str, caps: object) -> tuple[int, ...]:
    if isinstance(caps, str | bytes) or not isinstance(caps, Sequence) \
            or len(caps) != NUM_ROUNDS:
        raise GameError(
            f"{name}={caps!r}: must hold {NUM_ROUNDS} integers (preflop, flop, turn, river)"
        )
    for r, cap in enumerate(caps):
        if isinstance(cap, bool) or not isinstance(cap, Integral) \
                or not 0 <= int(cap) <= MAX_RAISES_PER_ROUND:
            raise GameError(
                f"{name}[{r}]={cap!r}: must be an integer from 0 to {MAX_RAISES_PER_ROUND}"
            )
    return tuple(int(c) for c in caps)


@dataclass(frozen=True, kw_only=True)
class BetSizing:
    """The action menu of the abstraction, per round (preflop, flop, turn, river).

    * `bet_sizes[r]`: pot fractions offered when no voluntary bet or raise has been made yet in
      round r (the opening bet post-flop, the first raise preflop).
    * `raise_sizes[r]`: pot fractions offered facing a bet or raise (raise depth >= 1); None
      uses `bet_sizes` for raises too.
    * `preflop_open_bb`: the first preflop raise as raise-to totals in big blinds (e.g. (2.5,)),
      replacing `bet_sizes[0]` at depth 0; None keeps the pot fractions.
    * `all_in`: also offer all-in whenever raising is allowed.
    * `max_raises[r]`: the most bets/raises (all-ins included) one round may hold; once reached,
      only fold and check/call remain. The preflop blinds do not count.
    * `multiway_bet_sizes[r]`: when set, the pot fractions offered in round r (bets and raises
      alike) while more than two players remain in the hand; the preflop open in big blinds
      (`preflop_open_bb`) is kept. Multiway pots hold most of a 3-6 player tree, so a shorter
      menu there is the usual way to shrink it (Brown & Sandholm 2019).
    * `multiway_max_raises[r]`: when set, the raise cap of round r while more than two players
      remain (heads-up pots keep `max_raises`).

    Sizes are turned into chips as described in the module doc. Every field is validated; a bad
    value raises GameError naming the field and the value.
    """

    bet_sizes: tuple[tuple[float, ...], ...] = ((1.0,), (0.5, 1.0), (0.5, 1.0), (0.5, 1.0))
    raise_sizes: tuple[tuple[float, ...], ...] | None = None
    preflop_open_bb: tuple[float, ...] | None = None
    all_in: bool = True
    max_raises: tuple[int, ...] = (3, 2, 2, 2)
    multiway_bet_sizes: tuple[tuple[float, ...], ...] | None = None
    multiway_max_raises: tuple[int, ...] | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "bet_sizes", _per_round("bet_sizes", self.bet_sizes))
        if self.raise_sizes is not None:
            object.__setattr__(self, "raise_sizes", _per_round("raise_sizes", self.raise_sizes))
        if self.multiway_bet_sizes is not None:
            object.__setattr__(self, "multiway_bet_sizes",
                               _per_round("multiway_bet_sizes", self.multiway_bet_sizes))
        if self.preflop_open_bb is not None:
            object.__setattr__(self, "preflop_open_bb",
                               _size_menu("preflop_open_bb", self.preflop_open_bb, above=1.0))
        if not isinstance(self.all_in, bool | np.bool_):
            raise GameError(f"all_in={self.all_in!r}: must be true or false")
        object.__setattr__(self, "all_in", bool(self.all_in))
        object.__setattr__(self, "max_raises", _raise_caps("max_raises", self.max_raises))
        if self.multiway_max_raises is not None:
            object.__setattr__(self, "multiway_max_raises",
                               _raise_caps("multiway_max_raises", self.multiway_max_raises))

    def menu(self, round_index: int, depth: int) -> tuple[float, ...]:
        """Pot fractions offered in `round_index` after `depth` bets/raises this round (the
        preflop depth-0 menu in big blinds is `preflop_open_bb`, when set)."""
        if isinstance(round_index, bool) or not isinstance(round_index, Integral) \
                or not 0 <= round_index < NUM_ROUNDS:
            raise GameError(f"round_index={round_index!r}: must be an integer in 0..3")
        if isinstance(depth, bool) or not isinstance(depth, Integral) or depth < 0:
            raise GameError(f"depth={depth!r}: must be an integer >= 0")
        if depth >= 1 and self.raise_sizes is not None:
            return self.raise_sizes[round_index]
        return self.bet_sizes[round_index]

    def players_menu(self, round_index: int, depth: int, players_in: int
                     ) -> tuple[tuple[float, ...], int]:
        """The pot fractions and the raise cap of `round_index` after `depth` bets/raises with
        `players_in` players still in the hand (the multiway menu above two, when set)."""
        multiway = players_in > 2
        sizes = self.menu(round_index, depth)
        if multiway and self.multiway_bet_sizes is not None:
            sizes = self.multiway_bet_sizes[round_index]
        caps = self.multiway_max_raises if multiway and self.multiway_max_raises is not None \
            else self.max_raises
        return sizes, caps[round_index]

    @property
    def max_menu(self) -> int:
        """Length of the longest menu (bounds the number of actions at a node)."""
        menus = list(self.bet_sizes) + list(self.raise_sizes or ())
        menus += list(self.multiway_bet_sizes or ())
        menus.append(self.preflop_open_bb or ())
        return max(len(m) for m in menus)

    def as_dict(self) -> dict[str, Any]:
        """Plain lists and numbers (JSON/YAML ready); `BetSizing.from_dict` inverts it."""
        return {
            "bet_sizes": [list(m) for m in self.bet_sizes],
            "raise_sizes": None if self.raise_sizes is None
            else [list(m) for m in self.raise_sizes],
            "preflop_open_bb": None if self.preflop_open_bb is None
            else list(self.preflop_open_bb),
            "all_in": self.all_in,
            "max_raises": list(self.max_raises),
            # Only when set, so that menus without them keep their game identity.
            **({} if self.multiway_bet_sizes is None
               else {"multiway_bet_sizes": [list(m) for m in self.multiway_bet_sizes]}),
            **({} if self.multiway_max_raises is None
               else {"multiway_max_raises": list(self.multiway_max_raises)}),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> BetSizing:
        """Build from a mapping such as a config section; unknown keys raise GameError."""
        if not isinstance(data, Mapping):
            raise GameError(f"bet sizing must be a mapping, got {data!r}")
        known = {"bet_sizes", "raise_sizes", "preflop_open_bb", "all_in", "max_raises",
                 "multiway_bet_sizes", "multiway_max_raises"}
        unknown = sorted(set(data) - known)
        if unknown:
            raise GameError(
                f"unknown bet sizing key(s) {unknown!r}; known keys: {', '.join(sorted(known))}"
            )

        def menus(value: Any) -> Any:
            if isinstance(value, list) and all(isinstance(m, list | tuple) for m in value):
                return tuple(tuple(m) for m in value)
            return value

        kwargs = dict(data)
        for key in ("bet_sizes", "raise_sizes", "multiway_bet_sizes"):
            if key in kwargs:
                kwargs[key] = menus(kwargs[key])
        for key in ("preflop_open_bb", "max_raises", "multiway_max_raises"):
            if isinstance(kwargs.get(key), list):
                kwargs[key] = tuple(kwargs[key])
        return cls(**kwargs)


_MULTIWAY_SIZES = ((1.0,), (0.5,), (1.0,), (1.0,))


def default_bet_sizing(num_players: int) -> BetSizing:
    """The menu a Hold'em game of `num_players` gets when none is given.

    Heads-up it is `BetSizing()`. With 3 to 6 players, heads-up pots (after folds) keep that
    menu and multiway pots get one size per round and fewer raises (a pot-sized preflop raise
    up to a 3-bet, then one bet a round), which is where those trees grow; six players also get
    one size per round and one raise fewer on the river in heads-up pots and no river bet in
    multiway pots, so every count fits in 16 GiB of float64 tables with 50 buckets per
    post-flop round (the README's table gives the sizes)."""
    if isinstance(num_players, bool) or not isinstance(num_players, Integral) \
            or not 2 <= num_players <= 6:
        raise GameError(f"num_players={num_players!r}: must be an integer from 2 to 6")
    if num_players == 2:
        return BetSizing()
    if num_players < 6:
        return BetSizing(multiway_bet_sizes=_MULTIWAY_SIZES, multiway_max_raises=(2, 1, 1, 1))
    return BetSizing(bet_sizes=_MULTIWAY_SIZES, max_raises=(3, 2, 2, 1),
                     multiway_bet_sizes=_MULTIWAY_SIZES, multiway_max_raises=(2, 1, 1, 0))


@dataclass(frozen=True)
class HoldemTreeParams:
    """What a hold'em tree was built from: the table (players, stacks, blinds, ante) and the
    size menu. Kept for every tree `build_holdem_tree` returns (see `holdem_tree_params`)."""

    table: Table
    sizing: BetSizing

    def as_dict(self) -> dict[str, Any]:
        """Plain values for reports and game identities."""
        t = self.table
        return {
            "num_players": t.num_players,
            "stacks": list(t.stacks),
            "small_blind": t.small_blind,
            "big_blind": t.big_blind,
            "ante": t.ante,
            **({"ante_type": t.ante_type} if t.big_blind_ante else {}),
            "sizing": self.sizing.as_dict(),
        }


_PARAMS: weakref.WeakKeyDictionary[BettingTree, HoldemTreeParams] = weakref.WeakKeyDictionary()


def holdem_tree_params(tree: BettingTree) -> HoldemTreeParams:
    """The table and sizing `tree` was built from; GameError for trees not made here."""
    if not isinstance(tree, BettingTree):
        raise GameError(f"tree must be a BettingTree, got {tree!r}")
    try:
        return _PARAMS[tree]
    except KeyError:
        raise GameError(
            f"this tree ({tree.num_nodes} nodes, {tree.num_players} players) was not built by "
            "build_holdem_tree in this process; pass its HoldemTreeParams explicitly"
        ) from None


# --------------------------------------------------------------------------- betting state


def _half_up(value: float) -> int:
    return int(math.floor(value + 0.5))


class _Street:
    """Betting state within one round; the same bookkeeping as holdem_lab.rules.HandState."""

    __slots__ = ("contrib", "bets", "stacks", "folded", "acted", "level", "full_raise", "depth")

    def __init__(self, contrib: list[int], bets: list[int], stacks: list[int],
                 folded: list[bool], acted: list[bool], level: int, full_raise: int,
                 depth: int) -> None:
        self.contrib = contrib
        self.bets = bets
        self.stacks = stacks
        self.folded = folded
        self.acted = acted
        self.level = level
        self.full_raise = full_raise
        self.depth = depth

    def copy(self) -> _Street:
        return _Street(self.contrib[:], self.bets[:], self.stacks[:], self.folded[:],
                       self.acted[:], self.level, self.full_raise, self.depth)

    def cover(self, seat: int) -> int:
        """The most street chips any opponent still in the hand has bet or could bet."""
        return max((self.bets[o] + self.stacks[o] for o in range(len(self.bets))
                    if o != seat and not self.folded[o]), default=0)

    def to_call(self, seat: int) -> int:
        owed = min(self.level, self.cover(seat)) - self.bets[seat]
        return max(0, min(self.stacks[seat], owed))

    def can_raise(self, seat: int) -> bool:
        if self.bets[seat] + self.stacks[seat] <= self.level:
            return False
        if not any(o != seat and not self.folded[o] and self.stacks[o] > 0
                   and self.bets[o] + self.stacks[o] > self.level
                   for o in range(len(self.bets))):
            return False
        return not (self.acted[seat] and self.level - self.bets[seat] < self.full_raise)

    def next_to_act(self, start: int) -> int | None:
        """The first seat from `start` on that must act (HandState._next_to_act): it can still
        bet and either owes chips or, with another player able to bet, has not acted since the
        last full bet or raise. The cover of every seat comes from the two largest reaches."""
        bets, stacks, folded = self.bets, self.stacks, self.folded
        n = len(bets)
        live = 0
        best = second = -1
        best_seat = -1
        for o in range(n):
            if folded[o]:
                continue
            reach = bets[o] + stacks[o]
            if reach > best:
                second, best, best_seat = best, reach, o
            elif reach > second:
                second = reach
            if stacks[o] > 0:
                live += 1
        for step in range(n):
            seat = (start + step) % n
            if folded[seat] or stacks[seat] == 0:
                continue
            cover = second if seat == best_seat else best
            if min(self.level, cover) - bets[seat] > 0 or (live >= 2 and not self.acted[seat]):
                return seat
        return None

    def put(self, seat: int, chips: int) -> None:
        self.stacks[seat] -= chips
        self.bets[seat] += chips
        self.contrib[seat] += chips

    def raise_to(self, seat: int, target: int) -> None:
        increment = target - self.level
        if increment >= self.full_raise:
            self.full_raise = increment
            self.acted = [False] * len(self.bets)
        self.acted[seat] = True
        self.put(seat, target - self.bets[seat])
        self.level = target
        self.depth += 1

    def return_uncalled(self) -> None:
        top = max(self.bets)
        if self.bets.count(top) == 1:
            seat = self.bets.index(top)
            second = max(b for i, b in enumerate(self.bets) if i != seat)
            self.stacks[seat] += top - second
            self.contrib[seat] -= top - second
            self.bets[seat] = second


# --------------------------------------------------------------------------- tree assembly


class _Template:
    """A finished subtree in preorder, one int32 row per node, indices relative to its root.

    Columns: player, round, terminal kind, number of actions, parent, label token id, then
    `width` children, `width` action kinds, `width` action amounts, `num_players`
    contributions and `num_players` folded flags. One matrix per subtree makes copying a
    subtree a single numpy operation.
    """

    PLAYER, ROUND, TERMINAL, NUM_ACTIONS, PARENT, TOKEN = range(6)

    def __init__(self, rows: np.ndarray) -> None:
        self.rows = rows
        self.size = int(rows.shape[0])
        self.root_token = int(rows[0, _Template.TOKEN])
        self.max_actions = int(rows[:, _Template.NUM_ACTIONS].max())


class _Layout:
    """Column positions of the _Template rows for a given action width and player count."""

    def __init__(self, width: int, num_players: int) -> None:
        self.width = width
        self.children = slice(6, 6 + width)
        self.kind = slice(6 + width, 6 + 2 * width)
        self.amount = slice(6 + 2 * width, 6 + 3 * width)
        self.contrib = slice(6 + 3 * width, 6 + 3 * width + num_players)
        self.folded = slice(6 + 3 * width + num_players, 6 + 3 * width + 2 * num_players)
        self.columns = 6 + 3 * width + 2 * num_players


class _RoundWriter:
    """Lays out one betting round in preorder: its own nodes one by one (as Python rows), and
    the subtree of every following round as a block copied from a memoised template."""

    def __init__(self, builder: _Builder) -> None:
        self.b = builder
        self.size = 0
        self.rows: list[list[int]] = []  # this round's nodes, in layout order
        self.at: list[int] = []  # the layout index of each of those rows
        # The layout in order: runs of own rows (out start, first row, count) and copied blocks
        # (out start, template, parent, token), told apart by the type of the second item.
        self.pieces: list[tuple[int, int, int] | tuple[int, _Template, int, str]] = []
        self.blocks: list[tuple[int, _Template, int, str]] = []

    def _grow(self, count: int) -> int:
        start = self.size
        self.size += count
        if self.size > self.b.max_nodes:
            raise GameError(
                f"the betting tree exceeds max_nodes={self.b.max_nodes} nodes; use fewer sizes "
                "or lower max_raises, or raise max_nodes"
            )
        return start

    def _own(self, row: list[int]) -> int:
        """Place one node of this round; returns its index."""
        node = self._grow(1)
        last = self.pieces[-1] if self.pieces else None
        if last is not None and isinstance(last[1], int) and last[0] + last[2] == node:
            self.pieces[-1] = (last[0], last[1], last[2] + 1)
        else:
            self.pieces.append((node, len(self.rows), 1))
        self.rows.append(row)
        self.at.append(node)
        return node

    def _terminal(self, kind: int, round_index: int, st: _Street, parent: int,
                  token: str) -> int:
        b = self.b
        return self._own([-1, round_index, kind, 0, parent, b.token_id(token), *b.no_edges,
                          *st.contrib, *st.folded])

    def decision(self, st: _Street, seat: int, round_index: int, parent: int, token: str) -> int:
        b = self.b
        row = [seat, round_index, DECISION, 0, parent, b.token_id(token), *b.no_edges,
               *st.contrib, *st.folded]
        node = self._own(row)
        children: list[int] = []
        kinds: list[int] = []
        amounts: list[int] = []
        to_call = st.to_call(seat)
        if to_call > 0:
            child = st.copy()
            child.folded[seat] = True
            children.append(self.after(child, seat, round_index, node, "f"))
            kinds.append(FOLD)
            amounts.append(st.contrib[seat])
        child = st.copy()
        child.put(seat, to_call)
        child.acted[seat] = True
        children.append(self.after(child, seat, round_index, node, "c" if to_call else "k"))
        kinds.append(CHECK_CALL)
        amounts.append(st.contrib[seat] + to_call)
        all_in_to = st.bets[seat] + st.stacks[seat]
        for target in b.raise_targets(st, seat, round_index):
            child = st.copy()
            child.raise_to(seat, target)
            if target == all_in_to:
                kind, token_out = ALL_IN, "a"
            else:
                kind, token_out = BET_RAISE, f"{'r' if st.level else 'b'}{target}"
            children.append(self.after(child, seat, round_index, node, token_out))
            kinds.append(kind)
            amounts.append(st.contrib[seat] + target - st.bets[seat])
        lay = b.layout
        count = len(children)
        row[_Template.NUM_ACTIONS] = count
        row[lay.children.start:lay.children.start + count] = children
        row[lay.kind.start:lay.kind.start + count] = kinds
        row[lay.amount.start:lay.amount.start + count] = amounts
        return node

    def after(self, st: _Street, seat: int, round_index: int, parent: int, token: str) -> int:
        """Lay out what follows an action of `seat` that led to `st`; returns the child index."""
        if st.folded.count(False) == 1:
            st.return_uncalled()
            return self._terminal(FOLD_TERMINAL, round_index, st, parent, token)
        following = st.next_to_act(seat + 1)
        if following is not None:
            return self.decision(st, following, round_index, parent, token)
        st.return_uncalled()
        template = self.b.next_round(round_index, st.contrib, st.folded)
        if isinstance(template, str):  # no more betting: straight to the showdown
            return self._terminal(SHOWDOWN_TERMINAL, NUM_ROUNDS - 1, st, parent,
                                  token + template)
        start = self._grow(template.size)
        block = (start, template, parent, token)
        self.pieces.append(block)
        self.blocks.append(block)
        return start

    def _root_tokens(self) -> list[int]:
        """Token ids of the copied blocks' roots: the action into the block, then its '/'s."""
        b = self.b
        return [b.token_id(token + b.token_text[t.root_token])
                for _, t, _, token in self.blocks]

    def assemble(self) -> _Template:
        """Freeze the round: its own rows plus copies of the following rounds' templates,
        gathered in one indexing operation from a table holding each distinct template once;
        child and parent indices of a copied block are then shifted by the block's start."""
        lay = self.b.layout
        local = np.array(self.rows, dtype=np.int32).reshape(len(self.rows), lay.columns)
        if not self.blocks:
            return _Template(local)
        sources = [local]
        source_start: dict[int, int] = {}
        total = len(self.rows)
        deltas: list[int] = []
        sizes: list[int] = []
        shifts: list[int] = []
        for piece in self.pieces:
            start = piece[0]
            if isinstance(piece[1], _Template):
                t = piece[1]
                if id(t) not in source_start:
                    source_start[id(t)] = total
                    sources.append(t.rows)
                    total += t.size
                deltas.append(source_start[id(t)] - start)
                sizes.append(t.size)
                shifts.append(start)
            else:
                deltas.append(piece[1] - start)
                sizes.append(piece[2])
                shifts.append(0)
        counts = np.array(sizes, dtype=np.int64)
        gather = np.repeat(np.array(deltas, dtype=np.int64), counts)
        gather += np.arange(self.size, dtype=np.int64)
        rows = np.concatenate(sources)[gather]
        row_shift = np.repeat(np.array(shifts, dtype=np.int32), counts)
        children = rows[:, lay.children]
        np.add(children, row_shift[:, None], out=children, where=children >= 0)
        rows[:, _Template.PARENT] += row_shift
        starts = [block[0] for block in self.blocks]
        rows[starts, _Template.PARENT] = [block[2] for block in self.blocks]
        rows[starts, _Template.TOKEN] = self._root_tokens()
        return _Template(rows)

    def finish(self) -> dict[str, np.ndarray]:
        """Lay out the whole tree (this is the root round) straight into the typed per-node
        arrays of BettingTree, skipping one full-size intermediate copy."""
        lay = self.b.layout
        local = np.array(self.rows, dtype=np.int32).reshape(len(self.rows), lay.columns)
        at = np.array(self.at, dtype=np.int64)
        width = max(int(local[:, _Template.NUM_ACTIONS].max()),
                    max((t.max_actions for _, t, _, _ in self.blocks), default=0), 1)
        groups: dict[str, tuple[int | slice, Any]] = {
            "player": (_Template.PLAYER, np.int8),
            "round": (_Template.ROUND, np.int8),
            "terminal": (_Template.TERMINAL, np.int8),
            "num_actions": (_Template.NUM_ACTIONS, np.int8),
            "parent": (_Template.PARENT, np.int32),
            "tokens": (_Template.TOKEN, np.int32),
            "children": (slice(lay.children.start, lay.children.start + width), np.int32),
            "action_kind": (slice(lay.kind.start, lay.kind.start + width), np.int8),
            "action_amount": (slice(lay.amount.start, lay.amount.start + width), np.float64),
            "contrib": (lay.contrib, np.float64),
            "folded": (lay.folded, np.bool_),
        }
        out: dict[str, np.ndarray] = {}
        for name, (cols, dtype) in groups.items():
            shape = (self.size,) if isinstance(cols, int) else (self.size,
                                                                 cols.stop - cols.start)
            array = np.empty(shape, dtype=dtype)
            array[at] = local[:, cols]
            for start, t, _, _ in self.blocks:
                array[start:start + t.size] = t.rows[:, cols]
            out[name] = array
        for start, t, parent, _ in self.blocks:
            children = out["children"][start:start + t.size]
            np.add(children, start, out=children, where=children >= 0)
            out["parent"][start:start + t.size] += start
            out["parent"][start] = parent
        out["tokens"][[block[0] for block in self.blocks]] = self._root_tokens()
        return out


class _Builder:
    """Builds the tree: the root round, and one template per distinct state at which a later
    round starts (round just closed, contributions, folds), each built once and copied."""

    def __init__(self, table: Table, sizing: BetSizing, max_nodes: int) -> None:
        self.table = table
        self.sizing = sizing
        self.max_nodes = max_nodes
        self.num_players = table.num_players
        self.big_blind = table.big_blind
        self.layout = _Layout(3 + sizing.max_menu, table.num_players)
        width = self.layout.width
        self.no_edges = [-1] * (2 * width) + [0] * width  # children, kinds, amounts
        self.memo: dict[tuple[int, tuple[int, ...], tuple[bool, ...]], _Template | str] = {}
        self.token_text: list[str] = []
        self.token_ids: dict[str, int] = {}

    def token_id(self, token: str) -> int:
        """Labels are stored as small ints into `token_text` until the tree is finished."""
        found = self.token_ids.get(token)
        if found is None:
            found = self.token_ids[token] = len(self.token_text)
            self.token_text.append(token)
        return found

    def raise_targets(self, st: _Street, seat: int, round_index: int) -> list[int]:
        """Abstract raise-to street totals for `seat`, ascending (the all-in, if any, last)."""
        return [target for target, _ in self.raise_options(st, seat, round_index)]

    def raise_options(self, st: _Street, seat: int, round_index: int
                      ) -> list[tuple[int, tuple[MenuEntry, ...]]]:
        """`raise_targets` with the menu entries that give each target (several entries can
        land on the same chips: the minimum raise, the all-in)."""
        sizing = self.sizing
        players_in = st.folded.count(False)
        sizes, cap_raises = sizing.players_menu(round_index, st.depth, players_in)
        if st.depth >= cap_raises or not st.can_raise(seat):
            return []
        all_in_to = st.bets[seat] + st.stacks[seat]
        cap = min(all_in_to, st.cover(seat))
        min_to = st.level + st.full_raise
        if round_index == 0 and st.depth == 0 and sizing.preflop_open_bb is not None:
            raw = [(_half_up(x * self.big_blind), MenuEntry(0, "open", x))
                   for x in sizing.preflop_open_bb]
        else:
            after_call = sum(st.contrib) + st.level - st.bets[seat]
            kind = "raise" if st.depth >= 1 else "bet"
            if players_in > 2 and sizing.multiway_bet_sizes is not None:
                kind = f"multiway {kind}"
            raw = [(st.level + _half_up(f * after_call), MenuEntry(round_index, kind, f))
                   for f in sizes]
        targets: dict[int, list[MenuEntry]] = {}
        for t, entry in raw:
            targets.setdefault(all_in_to if max(t, min_to) >= cap else max(t, min_to),
                               []).append(entry)
        if sizing.all_in:
            targets.setdefault(all_in_to, []).append(MenuEntry(round_index, "all-in", None))
        return [(target, tuple(targets[target])) for target in sorted(targets)]

    def round_start(self, closed: int, contrib: list[int], folded: list[bool]
                    ) -> tuple[str, int, _Street | None, int]:
        """Where betting resumes after round `closed` ends with these contributions: the '/'
        tokens of the rounds entered, the round, its street state and first seat to act, or
        (tokens, last round, None, -1) when nobody bets again before the showdown."""
        n = self.num_players
        stacks = [s - c for s, c in zip(self.table.stacks, contrib, strict=True)]
        token = ""
        round_index = closed
        while round_index < NUM_ROUNDS - 1:
            round_index += 1
            token += "/"
            st = _Street(list(contrib), [0] * n, stacks[:], list(folded), [False] * n, 0,
                         self.big_blind, 0)
            seat = st.next_to_act(self.table.first_seat_left_of_button)
            if seat is not None:
                return token, round_index, st, seat
        return token, round_index, None, -1

    def next_round(self, closed: int, contrib: list[int],
                   folded: list[bool]) -> _Template | str:
        """The subtree after round `closed` ends with these contributions (memoised), or, when
        nobody bets again, the '/' tokens of the rounds run out before the showdown."""
        key = (closed, tuple(contrib), tuple(folded))
        template = self.memo.get(key)
        if template is not None:
            return template
        token, round_index, st, seat = self.round_start(closed, contrib, folded)
        if st is None:
            template = token
        else:
            writer = _RoundWriter(self)
            writer.decision(st, seat, round_index, -1, token)
            template = writer.assemble()
        self.memo[key] = template
        return template

    def root_state(self) -> tuple[_Street, int]:
        """The preflop street after the forced bets, and the first seat to act."""
        table = self.table
        n = self.num_players
        stacks = list(table.stacks)
        contrib = [0] * n
        antes = table.antes_posted()
        if not table.big_blind_ante:
            for seat in range(n):
                stacks[seat] -= antes[seat]
                contrib[seat] += antes[seat]
        st = _Street(contrib, [0] * n, stacks, [False] * n, [False] * n, table.big_blind,
                     table.big_blind, 0)
        for blind_seat, blind in ((table.small_blind_seat, table.small_blind),
                                  (table.big_blind_seat, table.big_blind)):
            st.put(blind_seat, min(blind, st.stacks[blind_seat]))
        if table.big_blind_ante:
            # After the blind (TDA), and in the contributions but not the street bet: dead money.
            bb = table.big_blind_seat
            st.stacks[bb] -= antes[bb]
            st.contrib[bb] += antes[bb]
        first = st.next_to_act(table.preflop_first_seat)
        if first is None:
            raise GameError(
                f"no player has a decision with stacks={list(table.stacks)!r}, ante={table.ante}, "
                f"blinds {table.small_blind}/{table.big_blind}: the forced bets put everyone "
                "(or all but one) all-in"
            )
        return st, first

    def root(self) -> dict[str, np.ndarray]:
        st, first = self.root_state()
        writer = _RoundWriter(self)
        writer.decision(st, first, 0, -1, "")
        return writer.finish()


# --------------------------------------------------------------------------- sizing a tree


@dataclass(frozen=True)
class MenuEntry:
    """One entry of a BetSizing menu: its round, whether it opens (`bet`, or `open` for the
    preflop raise in big blinds), raises (`raise`) or goes `all-in`, and its size; a bet or
    raise from `BetSizing.multiway_bet_sizes` is a `multiway bet` or `multiway raise`."""

    round_index: int
    kind: str
    size: float | None

    def __str__(self) -> str:
        where = ROUND_NAMES[self.round_index]
        if self.size is None:
            return f"{where} {self.kind}"
        unit = "bb" if self.kind == "open" else " pot"
        return f"{where} {self.kind} {self.size:g}{unit}"


@dataclass(frozen=True, kw_only=True)
class TreeSize:
    """The exact size of a hold'em betting tree, counted without building it.

    `decision_by_round[r]` decision nodes in round r (an infoset is a decision node and a bucket
    of its round, so `infosets(num_buckets)` is exact for any card abstraction);
    `entry_nodes[e]` and `entry_decisions[e]` the nodes, and decision nodes by round, whose path
    from the root takes an edge menu entry e gives: what dropping the entry would save at most
    (an edge two entries give counts for both, so the entries' figures do not add up)."""

    num_players: int
    nodes: int
    decision_by_round: tuple[int, ...]
    fold_terminal: int
    showdown_terminal: int
    max_actions: int
    entry_nodes: Mapping[MenuEntry, int]
    entry_decisions: Mapping[MenuEntry, tuple[int, ...]]

    @property
    def decision(self) -> int:
        return sum(self.decision_by_round)

    def counts(self) -> dict[str, int]:
        """The same keys as `BettingTree.counts`."""
        return {"nodes": self.nodes, "decision": self.decision,
                "fold_terminal": self.fold_terminal,
                "showdown_terminal": self.showdown_terminal}

    def infosets(self, num_buckets: Sequence[int]) -> int:
        """Infosets (solver table rows) with `num_buckets[r]` buckets in round r."""
        return sum(d * int(b) for d, b in zip(self.decision_by_round, num_buckets, strict=True))

    def largest_entries(self, num_buckets: Sequence[int] | None = None, top: int = 3
                        ) -> list[tuple[MenuEntry, int]]:
        """The `top` menu entries with the most infosets below their edges (nodes when
        `num_buckets` is None), largest first."""
        if num_buckets is None:
            weights = dict(self.entry_nodes)
        else:
            weights = {e: sum(d * int(b) for d, b in zip(dec, num_buckets, strict=True))
                       for e, dec in self.entry_decisions.items()}
        return sorted(weights.items(), key=lambda item: -item[1])[:top]

    def breakdown(self, num_buckets: Sequence[int] | None = None) -> str:
        """Where the size comes from, in one line: infosets (or decision nodes) by round and the
        largest menu entries."""
        what = "decision nodes" if num_buckets is None else "infosets"
        weights = self.decision_by_round if num_buckets is None else tuple(
            d * int(b) for d, b in zip(self.decision_by_round, num_buckets, strict=True))
        rounds = ", ".join(f"{ROUND_NAMES[r]} {w:,}" for r, w in enumerate(weights))
        entries = ", ".join(f"{e} ({w:,})" for e, w in self.largest_entries(num_buckets))
        text = f"{what} by round: {rounds}"
        below = "nodes" if num_buckets is None else what
        return f"{text}; most {below} lie below {entries}" if entries else text

    def refusal(self, limit: str, num_buckets: Sequence[int] | None = None) -> str:
        """The one-line message that refuses a tree over `limit` (e.g. "max_nodes=20,000,000")."""
        return (f"the betting tree has {self.nodes:,} nodes, over {limit} ("
                f"{self.breakdown(num_buckets)}); use fewer sizes or lower max_raises on those "
                "rounds")


def _menu_tables(sizing: BetSizing) -> tuple[dict[MenuEntry, int], dict[str, np.ndarray]]:
    """The menu of `sizing` as the flat tables `tree_count.street_raise_options` reads (one row
    per round, raise depth 0 or more and heads-up or multiway pot, from `players_menu`), and
    the menu entries' numbers."""
    entries: dict[MenuEntry, int] = {}
    rows = 4 * NUM_ROUNDS
    width = max(sizing.max_menu, 1)
    tables = {
        "menu_sizes": np.zeros((rows, width), dtype=np.float64),
        "menu_length": np.zeros(rows, dtype=np.int64),
        "menu_entry": np.full((rows, width), -1, dtype=np.int64),
        "menu_open": np.zeros(rows, dtype=np.bool_),
        "raise_caps": np.zeros(rows, dtype=np.int64),
        "all_in_entry": np.full(NUM_ROUNDS, -1, dtype=np.int64),
    }
    for round_index in range(NUM_ROUNDS):
        for depth in (0, 1):
            for multiway in (False, True):
                row = 4 * round_index + 2 * depth + int(multiway)
                sizes, cap = sizing.players_menu(round_index, depth, 3 if multiway else 2)
                menu: list[tuple[float, MenuEntry]]
                if round_index == 0 and depth == 0 and sizing.preflop_open_bb is not None:
                    tables["menu_open"][row] = True
                    menu = [(x, MenuEntry(0, "open", x)) for x in sizing.preflop_open_bb]
                else:
                    kind = "raise" if depth >= 1 else "bet"
                    if multiway and sizing.multiway_bet_sizes is not None:
                        kind = f"multiway {kind}"
                    menu = [(f, MenuEntry(round_index, kind, f)) for f in sizes]
                tables["raise_caps"][row] = cap
                tables["menu_length"][row] = len(menu)
                for i, (size, entry) in enumerate(menu):
                    tables["menu_sizes"][row, i] = size
                    tables["menu_entry"][row, i] = entries.setdefault(entry, len(entries))
        if sizing.all_in:
            tables["all_in_entry"][round_index] = entries.setdefault(
                MenuEntry(round_index, "all-in", None), len(entries))
    return entries, tables


def _count(table: Table, sizing: BetSizing) -> TreeSize:
    """The exact size of the tree `build_holdem_tree` builds for `table` and `sizing`, by the
    compiled walk over distinct betting states of holdem_lab.games.tree_count."""
    from holdem_lab.games import tree_count

    st, first = _Builder(table, sizing, _MAX_CHIPS).root_state()
    n = table.num_players
    root = np.array([*st.contrib, *st.bets, *st.stacks, *st.folded, *st.acted, st.level,
                     st.full_raise, st.depth], dtype=np.int64)
    entries, tables = _menu_tables(sizing)
    # A round holds at most (raise cap + 1) turns of every seat: a bound on the walk's depth.
    max_depth = NUM_ROUNDS * n * (int(tables["raise_caps"].max()) + 2) + 2
    vector, width, rank, totals, _ = tree_count.count_states(
        root, first, n, np.array(table.stacks, dtype=np.int64), table.big_blind,
        table.first_seat_left_of_button, len(set(table.stacks)) == 1,
        max(sum(table.stacks), table.big_blind).bit_length(), tables["menu_sizes"],
        tables["menu_length"], tables["menu_entry"], tables["menu_open"], tables["raise_caps"],
        tables["all_in_entry"], len(entries), max_depth)
    # In the order the builder's preorder first offers them (ties in rankings keep it).
    offered = sorted((entry for entry, i in entries.items() if rank[i] >= 0),
                     key=lambda entry: int(rank[entries[entry]]))
    counts = [int(c) for c in vector]
    return TreeSize(
        num_players=n, nodes=counts[0], decision_by_round=tuple(counts[1:5]),
        fold_terminal=counts[5], showdown_terminal=counts[6], max_actions=int(width),
        entry_nodes={entry: int(totals[entries[entry], 0]) for entry in offered},
        entry_decisions={entry: tuple(int(c) for c in totals[entries[entry], 1:5])
                         for entry in offered})


def holdem_tree_size(
    *,
    num_players: int,
    stacks: int | Sequence[int],
    small_blind: int,
    big_blind: int,
    ante: int = 0,
    sizing: BetSizing | None = None,
    ante_type: str | None = None,
) -> TreeSize:
    """The exact node counts of `build_holdem_tree` with the same arguments, without building
    the tree (no per-node arrays: one count per distinct betting state). Raises GameError for
    the arguments `build_holdem_tree` refuses, whatever the size."""
    table, sizing = _table_and_sizing(num_players, stacks, small_blind, big_blind, ante, sizing,
                                      ante_type)
    return _count(table, sizing)


def _labels(parent: np.ndarray, tokens: np.ndarray, text: list[str]) -> tuple[str, ...]:
    parents = parent.tolist()
    toks = [text[t] for t in tokens.tolist()]
    labels = [""] * len(parents)
    for i in range(1, len(parents)):
        labels[i] = labels[parents[i]] + toks[i]
    return tuple(labels)


def _table_and_sizing(num_players: int, stacks: int | Sequence[int], small_blind: int,
                      big_blind: int, ante: int, sizing: BetSizing | None,
                      ante_type: str | None) -> tuple[Table, BetSizing]:
    """The validated table and size menu of `build_holdem_tree` and `holdem_tree_size`."""
    if isinstance(num_players, bool) or not isinstance(num_players, Integral):
        raise GameError(f"num_players={num_players!r}: must be an integer from 2 to 6")
    if not isinstance(stacks, bool) and isinstance(stacks, Integral):
        seat_stacks = (int(stacks),) * max(int(num_players), 0)
    elif isinstance(stacks, Sequence) and not isinstance(stacks, str | bytes):
        seat_stacks = tuple(stacks)
    else:
        raise GameError(f"stacks={stacks!r}: must be an integer or one integer per seat")
    table = Table(num_players=num_players, stacks=seat_stacks, small_blind=small_blind,
                  big_blind=big_blind, ante=ante, ante_type=ante_type)
    if sizing is None:
        sizing = default_bet_sizing(table.num_players)
    if not isinstance(sizing, BetSizing):
        raise GameError(f"sizing={sizing!r}: must be a BetSizing")
    if sum(table.stacks) > _MAX_CHIPS:
        raise GameError(
            f"stacks={list(table.stacks)!r}: at most {_MAX_CHIPS} chips in play in total"
        )
    return table, sizing


def build_holdem_tree(
    *,
    num_players: int,
    stacks: int | Sequence[int],
    small_blind: int,
    big_blind: int,
    ante: int = 0,
    sizing: BetSizing | None = None,
    max_nodes: int = DEFAULT_MAX_NODES,
    ante_type: str | None = None,
) -> BettingTree:
    """The no-limit hold'em betting tree for 2 to 6 players under the size menu `sizing`.

    `stacks` is every seat's stack before the forced bets, one int for all seats or one per seat
    (seat convention of holdem_lab.rules: 3-6 players seat 0 small blind, 1 big blind, n-1
    button; heads-up seat 0 big blind, seat 1 small blind and button). All amounts are whole
    chips. `ante_type` is "none", "uniform" (the default when `ante` > 0) or "big_blind"
    (holdem_lab.rules.table). `contrib` includes antes and blinds (a big-blind ante in the big
    blind's, though it is dead money: `BettingTree.dead_money`); `action_amount` is the acting
    player's total contribution after the action; labels follow the grammar of the module doc;
    the tree's `starting_stacks` are the stacks. The subtree that follows a round depends only on
    the contributions and folds when the round closes, so it is built once per distinct state and
    copied (this is what makes deep trees fast to build). Raises GameError for an invalid
    argument, when the forced bets leave nobody a decision, or beyond `max_nodes` nodes.
    """
    table, sizing = _table_and_sizing(num_players, stacks, small_blind, big_blind, ante,
                                      sizing, ante_type)
    if isinstance(max_nodes, bool) or not isinstance(max_nodes, Integral) \
            or not 1 <= max_nodes <= _MAX_CHIPS:
        raise GameError(f"max_nodes={max_nodes!r}: must be an integer from 1 to {_MAX_CHIPS}")
    # Counted first, so that a tree over the limit is refused before anything is allocated.
    size = _count(table, sizing)
    if size.nodes > max_nodes:
        raise GameError(size.refusal(f"max_nodes={max_nodes}"))
    builder = _Builder(table, sizing, int(max_nodes))
    arrays = builder.root()
    builder.memo.clear()
    tokens = arrays.pop("tokens")
    tree = BettingTree(
        num_players=table.num_players,
        num_rounds=NUM_ROUNDS,
        labels=_labels(arrays["parent"], tokens, builder.token_text),
        starting_stacks=tuple(float(s) for s in table.stacks),
        dead_money=float(table.antes_posted()[table.big_blind_seat]) if table.big_blind_ante
        else 0.0,
        dead_money_seat=table.big_blind_seat if table.big_blind_ante else -1,
        **arrays,
    )
    _PARAMS[tree] = HoldemTreeParams(table, sizing)
    return tree


# --------------------------------------------------------------------------- reading a tree


class StreetTracker:
    """Street bets along a root-to-node walk of a hold'em tree.

    The tree stores total contributions only; the replay grammar and pot-fraction sizes need the
    chips bet on the current street. Preflop those exclude the antes posted; in later rounds they
    are what was added since the round's first node (contributions there already have uncalled
    chips returned). Call `enter` on every node of the walk, in order.
    """

    def __init__(self, params: HoldemTreeParams) -> None:
        if not isinstance(params, HoldemTreeParams):
            raise GameError(f"params={params!r}: must be HoldemTreeParams")
        t = params.table
        self.base = [float(a) for a in t.antes_posted()]
        self.round_index = 0
        self.big_blind = t.big_blind

    def enter(self, tree: BettingTree, node: int) -> None:
        """Account for arriving at `node` (a new round resets the street bets)."""
        r = int(tree.round[node])
        if r != self.round_index:
            self.round_index = r
            self.base = [float(c) for c in tree.contrib[node]]

    def bets(self, tree: BettingTree, node: int) -> list[float]:
        """Each seat's chips bet on the current street at `node`."""
        return [float(c) - b for c, b in zip(tree.contrib[node], self.base, strict=True)]

    def level(self, tree: BettingTree, node: int) -> float:
        """The street bet to match at `node` (preflop at least the big blind, as in the rules)."""
        top = max(self.bets(tree, node))
        return max(top, float(self.big_blind)) if self.round_index == 0 else top

    def edge_action(self, tree: BettingTree, node: int, a: int) -> str:
        """Edge `a` of decision `node` in the replay grammar of holdem_lab.rules.actions."""
        kind = int(tree.action_kind[node, a])
        seat = int(tree.player[node])
        amount = float(tree.action_amount[node, a])
        if kind == FOLD:
            return "f"
        if kind == CHECK_CALL:
            return "c" if amount > float(tree.contrib[node, seat]) else "k"
        return f"r{int(round(amount - self.base[seat]))}"


def tree_path_actions(tree: BettingTree, node: int,
                      params: HoldemTreeParams | None = None) -> list[str]:
    """The actions from the root to `node` as holdem_lab.rules replay actions ("f", "k", "c",
    "r<street total>"), e.g. to replay a tree line with exact rules."""
    if params is None:
        params = holdem_tree_params(tree)
    tracker = StreetTracker(params)
    if isinstance(node, bool) or not isinstance(node, Integral) or not 0 <= node < tree.num_nodes:
        raise GameError(f"node={node!r}: must be a node index in 0..{tree.num_nodes - 1}")
    path = [int(node)]
    while path[-1] != 0:
        path.append(int(tree.parent[path[-1]]))
    path.reverse()
    out: list[str] = []
    for here, there in zip(path, path[1:], strict=False):
        tracker.enter(tree, here)
        a = int(np.flatnonzero(tree.children[here] == there)[0])
        out.append(tracker.edge_action(tree, here, a))
    return out


def holdem_tree_summary(tree: BettingTree) -> dict[str, Any]:
    """Counts for reports: nodes by kind (`BettingTree.counts`), by round and kind, edges by
    action kind, the longest root-to-terminal path in nodes, decision nodes per player, and the
    build parameters when the tree came from `build_holdem_tree`."""
    if not isinstance(tree, BettingTree):
        raise GameError(f"tree must be a BettingTree, got {tree!r}")
    kinds = {"decision": DECISION, "fold_terminal": FOLD_TERMINAL,
             "showdown_terminal": SHOWDOWN_TERMINAL}
    by_round: dict[str, dict[str, int]] = {}
    for r in range(tree.num_rounds):
        name = ROUND_NAMES[r] if tree.num_rounds == NUM_ROUNDS else f"round {r}"
        in_round = tree.round == r
        by_round[name] = {k: int(np.count_nonzero(in_round & (tree.terminal == v)))
                          for k, v in kinds.items()}
    depth = [0] * tree.num_nodes
    parents = tree.parent.tolist()
    depth[0] = 1
    for i in range(1, tree.num_nodes):
        depth[i] = depth[parents[i]] + 1
    decisions = tree.terminal == DECISION
    real = tree.action_kind >= 0
    summary: dict[str, Any] = {
        **tree.counts(),
        "by_round": by_round,
        "edges_by_kind": {name: int(np.count_nonzero(real & (tree.action_kind == k)))
                          for k, name in enumerate(ACTION_KIND_NAMES)},
        "max_depth": max(depth),
        "max_actions": tree.max_actions,
        "decision_by_player": [int(np.count_nonzero(decisions & (tree.player == p)))
                               for p in range(tree.num_players)],
    }
    params = _PARAMS.get(tree)
    if params is not None:
        summary["params"] = params.as_dict()
    return summary
