"""Action translation: mapping real no-limit bets onto the sizes of an abstract betting tree.

A blueprint is computed for a few bet sizes (holdem_lab.games.betting); an opponent may bet any
amount. Action translation maps an observed bet onto the abstraction so the blueprint can be
followed. This module implements the pseudo-harmonic mapping of Ganzfried & Sandholm ("Action
Translation in Extensive-Form Games with Large Action Spaces: Axioms, Paradoxes, and the
Pseudo-Harmonic Mapping", IJCAI 2013). Sizes are fractions of the pot; for an observed bet x
between adjacent abstract sizes A < x < B the bet is mapped to A with probability

    f(x) = ((B - x) (1 + A)) / ((B - A) (1 + x))

and to B otherwise. The authors obtain it from the analysis of a small poker game and show it
meets the basic requirements of a translation mapping: f(A) = 1, f(B) = 0, f decreases
monotonically and continuously in x, and it depends on bet sizes relative to the pot only (scale
invariance); they also show that deterministic mappings to the nearest size, and earlier
randomized ones such as the geometric mapping of Schnizlein, Bowling & Szafron ("Probabilistic
state translation in extensive games with large action sets", IJCAI 2009), are far easier to
exploit. A bet below the smallest abstract size maps to the smallest, above the largest to the
largest; an all-in maps to the abstract all-in when the tree has one.

Bet fractions use the convention of holdem_lab.games.betting: a raise to a street total T facing
a bet of `bet`, owing `owed` into a pot of `pot` chips, is the fraction
``(T - bet) / (pot + owed)`` of the pot after calling.

`map_history` replays a real hand's actions (the grammar of holdem_lab.rules.actions) with the
exact rules and walks the abstract tree alongside, translating every bet or raise.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from numbers import Real

import numpy as np

from holdem_lab.errors import GameError, IllegalActionError
from holdem_lab.games.betting import HoldemTreeParams, StreetTracker, holdem_tree_params
from holdem_lab.games.tree import ALL_IN, BET_RAISE, CHECK_CALL, DECISION, FOLD, BettingTree
from holdem_lab.rules.actions import ActionKind, ActionLike, parse_action
from holdem_lab.rules.nlhe import HandState

__all__ = [
    "HistoryMapping",
    "MappedStep",
    "map_history",
    "pseudo_harmonic",
    "translate_bet",
    "translation_probabilities",
]


def _fraction(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, Real) or not math.isfinite(float(value)) \
            or float(value) <= 0.0:
        raise GameError(f"{name}={value!r}: must be a finite pot fraction > 0")
    return float(value)


def pseudo_harmonic(x: float, a: float, b: float) -> float:
    """Probability of mapping a bet of `x` pots to the smaller size `a` (not to `b`), for
    0 < a <= x <= b, a < b: ``((b - x)(1 + a)) / ((b - a)(1 + x))`` (Ganzfried & Sandholm 2013).
    """
    x = _fraction("x", x)
    a = _fraction("a", a)
    b = _fraction("b", b)
    if not a < b:
        raise GameError(f"a={a!r}, b={b!r}: need a < b")
    if not a <= x <= b:
        raise GameError(f"x={x!r}: must lie between a={a!r} and b={b!r}")
    return min(1.0, max(0.0, ((b - x) * (1.0 + a)) / ((b - a) * (1.0 + x))))


def translation_probabilities(x: float, sizes: Sequence[float]) -> tuple[float, ...]:
    """Probability of translating a bet of `x` pots to each of the abstract `sizes` (pot
    fractions, any order, distinct), aligned with `sizes`. At most two entries are non-zero:
    the sizes just below and above x, weighted by the pseudo-harmonic mapping; x at or below the
    smallest size (above the largest) maps to it with probability 1."""
    x = _fraction("x", x)
    if isinstance(sizes, str | bytes) or not isinstance(sizes, Sequence) or not sizes:
        raise GameError(f"sizes={sizes!r}: must be a non-empty sequence of pot fractions")
    clean = [_fraction(f"sizes[{i}]", s) for i, s in enumerate(sizes)]
    if len(set(clean)) != len(clean):
        raise GameError(f"sizes={list(sizes)!r}: sizes must be distinct")
    order = sorted(range(len(clean)), key=clean.__getitem__)
    probs = [0.0] * len(clean)
    if x <= clean[order[0]]:
        probs[order[0]] = 1.0
        return tuple(probs)
    if x >= clean[order[-1]]:
        probs[order[-1]] = 1.0
        return tuple(probs)
    for low, high in zip(order, order[1:], strict=False):
        if clean[low] <= x <= clean[high]:
            p = pseudo_harmonic(x, clean[low], clean[high])
            probs[low] = p
            probs[high] = 1.0 - p
            break
    return tuple(probs)


def _check_rng(rng: object) -> np.random.Generator:
    if not isinstance(rng, np.random.Generator):
        raise GameError(f"rng={rng!r}: must be a numpy.random.Generator")
    return rng


def _sample(probs: Sequence[float], rng: np.random.Generator) -> int:
    u = float(rng.random())
    cumulative = 0.0
    last = 0
    for i, p in enumerate(probs):
        if p > 0.0:
            cumulative += p
            last = i
            if u < cumulative:
                return i
    return last


def translate_bet(x: float, sizes: Sequence[float], rng: np.random.Generator) -> int:
    """Sample the index into `sizes` that a bet of `x` pots translates to
    (`translation_probabilities`, drawn with `rng`)."""
    probs = translation_probabilities(x, sizes)
    return _sample(probs, _check_rng(rng))


# --------------------------------------------------------------------------- real histories


@dataclass(frozen=True)
class MappedStep:
    """How one real action was translated.

    `index` is its position in the action list, `seat` and `round` who acted and when,
    `action` the real action as replay text ("f", "x", "c", "r<street total>"), `fraction` a
    real bet or raise as a pot fraction (None for fold/check/call). `node` is the abstract node
    where it was mapped, `edge` the chosen action there, `abstract` that edge's label token
    (e.g. "r250", "a", "c"), `probability` the chance translation gave the chosen edge, and
    `candidates` every (edge, probability) with probability > 0.
    """

    index: int
    seat: int
    round: int
    action: str
    fraction: float | None
    node: int
    edge: int
    abstract: str
    probability: float
    candidates: tuple[tuple[int, float], ...]


@dataclass(frozen=True)
class HistoryMapping:
    """Result of `map_history`: the abstract `node` reached, its `label`, one step per real
    action, and whether the real hand is over (`hand_over`)."""

    node: int
    label: str
    steps: tuple[MappedStep, ...]
    hand_over: bool


def _token(tree: BettingTree, node: int, child: int) -> str:
    return tree.labels[child][len(tree.labels[node]):].rstrip("/")


def map_history(
    tree: BettingTree,
    actions: Sequence[ActionLike],
    *,
    rng: np.random.Generator | None = None,
    params: HoldemTreeParams | None = None,
) -> HistoryMapping:
    """Walk a real hand's actions onto a hold'em tree from holdem_lab.games.betting.

    `actions` use the grammar of holdem_lab.rules.actions ("f", "x"/"k", "c", "r<N>"/"b<N>"
    with N a street total) and are checked with the exact rules (IllegalActionError naming the
    action otherwise). A fold, check or call maps to the tree's edge of the same kind; a bet or
    raise maps by the pseudo-harmonic mapping over the node's bet/raise edges (their sizes as
    pot fractions in the abstract state, the real bet as a fraction of the real pot); a real
    all-in maps to the abstract all-in when there is one; a raise where the abstraction allows
    none (raise cap) maps to the call. Without `rng` each step takes the more likely edge (the
    smaller size on a tie); with `rng` it samples. `params` defaults to the parameters the tree
    was built with. GameError when the two histories part: the abstract player or round differs
    from the real one, or the abstract hand ended while the real one goes on.
    """
    if params is None:
        params = holdem_tree_params(tree)
    elif not isinstance(params, HoldemTreeParams):
        raise GameError(f"params={params!r}: must be HoldemTreeParams")
    if rng is not None:
        _check_rng(rng)
    if isinstance(actions, str | bytes) or not isinstance(actions, Sequence):
        raise GameError(f"actions must be a sequence of actions, not {actions!r}")
    table = params.table
    if table.num_players != tree.num_players:
        raise GameError(
            f"params are for {table.num_players} players but the tree has {tree.num_players}"
        )
    n = table.num_players
    holes = [(2 * seat, 2 * seat + 1) for seat in range(n)]
    board = list(range(2 * n, 2 * n + 5))
    state = HandState(table, holes, board, hand_value=lambda cards: 0)
    tracker = StreetTracker(params)
    node = 0
    steps: list[MappedStep] = []
    for index, spec in enumerate(actions):
        try:
            act = parse_action(spec)
        except IllegalActionError as exc:
            raise IllegalActionError(f"action {index}: {exc}") from None
        if state.is_terminal:
            raise IllegalActionError(
                f"action {index} ({act}): the hand is already over after {index} action(s)"
            )
        if tree.terminal[node] != DECISION:
            raise GameError(
                f"action {index} ({act}): the abstract hand ended at {tree.labels[node]!r} "
                "while the real hand goes on"
            )
        seat = state.to_act
        assert seat is not None  # the board is known up front, so a live hand has a seat to act
        street = int(state.street)
        if seat != int(tree.player[node]) or street != int(tree.round[node]):
            raise GameError(
                f"action {index} ({act}): the real hand has seat {seat} to act in round {street} "
                f"but the abstract node {tree.labels[node]!r} has seat {int(tree.player[node])} "
                f"in round {int(tree.round[node])}; translation left the two hands out of step"
            )
        tracker.enter(tree, node)
        level, bets, pot = state.current_bet, state.bets, state.pot_total
        all_in_to = bets[seat] + state.stacks[seat]
        try:
            state.apply(act)
        except IllegalActionError as exc:
            raise IllegalActionError(f"action {index} ({act}): {exc}") from None
        recorded = state.history[-1][2]
        count = int(tree.num_actions[node])
        kinds = [int(k) for k in tree.action_kind[node, :count]]
        fraction: float | None = None
        candidates: list[tuple[int, float]]
        if recorded.kind is ActionKind.FOLD:
            if FOLD not in kinds:
                raise GameError(
                    f"action {index} (f): the abstract node {tree.labels[node]!r} faces no bet"
                )
            candidates = [(kinds.index(FOLD), 1.0)]
        elif recorded.kind is not ActionKind.RAISE:
            candidates = [(kinds.index(CHECK_CALL), 1.0)]
        else:
            assert recorded.amount is not None
            fraction = (recorded.amount - level) / (pot + level - bets[seat])
            raises = [a for a, k in enumerate(kinds) if k in (BET_RAISE, ALL_IN)]
            if not raises:
                candidates = [(kinds.index(CHECK_CALL), 1.0)]
            elif recorded.amount == all_in_to and ALL_IN in kinds:
                candidates = [(kinds.index(ALL_IN), 1.0)]
            else:
                abs_level = tracker.level(tree, node)
                abs_bets = tracker.bets(tree, node)
                after_call = float(tree.contrib[node].sum()) + abs_level - abs_bets[seat]
                sizes = [(float(tree.action_amount[node, a]) - tracker.base[seat] - abs_level)
                         / after_call for a in raises]
                probs = translation_probabilities(fraction, sizes)
                candidates = [(a, p) for a, p in zip(raises, probs, strict=True) if p > 0.0]
        if rng is not None:
            pick = _sample([p for _, p in candidates], rng)
        else:
            pick = max(range(len(candidates)), key=lambda i: (candidates[i][1], -i))
        edge, probability = candidates[pick]
        child = int(tree.children[node, edge])
        steps.append(MappedStep(
            index=index, seat=seat, round=street, action=str(recorded), fraction=fraction,
            node=node, edge=edge, abstract=_token(tree, node, child), probability=probability,
            candidates=tuple(candidates)))
        node = child
    return HistoryMapping(node=node, label=tree.labels[node], steps=tuple(steps),
                          hand_over=state.is_terminal)
