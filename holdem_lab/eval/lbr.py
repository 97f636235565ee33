"""Local best response (LBR) against a heads-up Hold'em blueprint.

LBR (Lisý & Bowling, "Equilibrium Approximation Quality of Current No-Limit Poker Bots", 2017,
arXiv:1612.07547) plays one seat with its real cards against a fixed policy. It tracks the
policy's range: a weight for each of the 1,326 hole pairs (zero for pairs that hold a visible
card), multiplied after every action of the policy by the probability the policy gives that
action with that pair (read at the pair's bucket; after a bet of LBR that is not on the
blueprint's tree, at the node action translation maps it to). At each of its decisions LBR
assumes both players check or call to the showdown afterwards and takes the best of

* fold: 0;
* call: ``wp * pot - (1 - wp) * to_call``;
* bet or raise by ``size`` chips more than a call:
  ``fp * pot + (1 - fp) * (wp' * (pot + size) - (1 - wp') * (to_call + size))``,

where wp is LBR's equity against the range, fp the range's probability of folding to the bet
and wp' the equity against the part of the range that continues. A tie goes to the earlier
action in that order. LBR is a real strategy, so its value is a lower bound on the best
response's: the policy is at least that exploitable.

Action sets: ``fc`` folds or calls on every street; ``fcpa`` (the paper's headline column)
checks/calls preflop and on the flop and chooses among fold, call, pot and all-in on the turn
and river; a bet list (pot fractions, one list for every street or one per street, ``"a"`` for
all-in) chooses among fold, call and those bets everywhere. A fraction f raises to
``bet + f * (pot + to_call)`` chips, the convention of holdem_lab.games.betting; LBR bets only
where the blueprint's tree allows a bet or raise.

Equities: exact on the river (every pair of the range) and the turn (every river card);
on the flop and preflop by `runouts` sampled run-outs per decision (seeded), whose error on an
equity is at most 0.5/sqrt(runouts) standard deviations. The error changes only which action
LBR picks, not how that action is scored, so the estimate stays a lower bound.

The blueprint's real bets are its abstract pot fractions applied to the real pot (all-in stays
all-in), clamped to the minimum raise and the effective stack. When the abstract hand ends at a
showdown while the real one goes on (a translated all-in), or the two hands part otherwise,
both players check to the showdown.

Estimation. Deals come in duplicate pairs: LBR in seat 0 with the first pair of hole cards,
then in seat 1 with the second, the blueprint holding the other pair; a pair's score is LBR's
mean winnings of its two hands. Three estimators of the same value (the paper's "imaginary
observations" replace a random outcome by its expectation given LBR's cards and the public
history, which keeps the mean and lowers the variance):

* ``"plain"``: the blueprint plays its dealt cards; the result is the real one.
* ``"showdown"``: as plain, but a showdown is scored against the whole remaining range.
* ``"imaginary"`` (default): the blueprint's cards are integrated out all the way. A fold of
  the blueprint is scored by its probability under the range and play goes on with the other
  actions (drawn from the range's marginal); board cards are drawn from their posterior given
  the range; the showdown is scored against the range.

The result is mbb/hand with a 95% interval (mean +- 1.96 standard errors over deal pairs) and
the standard deviation per deal pair. Deals are drawn from one seed (`make_deals`); the same
deal list reused across checkpoints pairs their differences.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numba
import numpy as np
from numba import njit, prange

from holdem_lab.cards.evaluator import eval7_kernel
from holdem_lab.errors import GameError
from holdem_lab.eval.agents import PolicyTables, policy_for, policy_probability
from holdem_lab.eval.interval import Interval
from holdem_lab.games.dealing import holdem_bucket
from holdem_lab.games.game import Game
from holdem_lab.games.tree import (
    ALL_IN,
    BET_RAISE,
    CHECK_CALL,
    DECISION,
    FOLD,
)

__all__ = [
    "BASELINE_POLICIES",
    "LBRActions",
    "LBRDeals",
    "LBRResult",
    "baseline_policy",
    "leduc_lbr_value",
    "local_best_response",
    "make_deals",
    "paired_difference",
    "parse_actions",
]

NUM_HANDS = 1326
# Estimators (`local_best_response(estimator=...)`).
PLAIN = 0
SHOWDOWN = 1
FULL = 2
ESTIMATORS = {"plain": PLAIN, "showdown": SHOWDOWN, "imaginary": FULL}
NUM_STREETS = 4
DEFAULT_RUNOUTS = 64
_MAX_BETS = 8


def _hand_cards() -> np.ndarray:
    pairs = [(a, b) for a in range(52) for b in range(a + 1, 52)]
    return np.asarray(pairs, dtype=np.int64)


HAND_CARDS = _hand_cards()
"""(1326, 2): the two cards of each hole pair, lower card first."""


def _card_hands() -> np.ndarray:
    out = np.zeros((52, 51), dtype=np.int64)
    filled = np.zeros(52, dtype=np.int64)
    for h, (a, b) in enumerate(HAND_CARDS):
        out[a, filled[a]] = h
        filled[a] += 1
        out[b, filled[b]] = h
        filled[b] += 1
    return out


CARD_HANDS = _card_hands()
"""(52, 51): the hole pairs holding each card."""


# --------------------------------------------------------------------------- action sets


@dataclass(frozen=True)
class LBRActions:
    """What LBR may do on each street: `decide[r]` False means check/call without thinking;
    `fractions[r]` the pot fractions it may bet, `all_in[r]` whether all-in is one of them."""

    name: str
    decide: tuple[bool, ...]
    fractions: tuple[tuple[float, ...], ...]
    all_in: tuple[bool, ...]

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        decide = np.asarray(self.decide, dtype=np.bool_)
        fractions = np.full((NUM_STREETS, _MAX_BETS), np.nan)
        for r, menu in enumerate(self.fractions):
            fractions[r, : len(menu)] = menu
        return decide, fractions, np.asarray(self.all_in, dtype=np.bool_)


def _menu(text: str, where: str) -> tuple[tuple[float, ...], bool]:
    sizes: list[float] = []
    all_in = False
    for token in (t.strip() for t in text.split(",")):
        if token.lower() in ("a", "allin", "all-in"):
            all_in = True
            continue
        try:
            value = float(token)
        except ValueError:
            raise GameError(f"{where}: {token!r} is neither a pot fraction nor 'a' (all-in)") \
                from None
        if not math.isfinite(value) or value <= 0.0:
            raise GameError(f"{where}: {token!r} must be a finite pot fraction > 0")
        if value not in sizes:
            sizes.append(value)
    if len(sizes) > _MAX_BETS:
        raise GameError(f"{where}: at most {_MAX_BETS} bet sizes, got {len(sizes)}")
    return tuple(sorted(sizes)), all_in


def parse_actions(spec: str | Sequence[float] | Sequence[Sequence[float]] | LBRActions
                  ) -> LBRActions:
    """`fc`, `fcpa`, a comma-separated bet list such as ``"0.5,1,2,a"`` (every street), four
    such lists separated by ``/`` (preflop/flop/turn/river), or a sequence of fractions (every
    street) or of four sequences."""
    if isinstance(spec, LBRActions):
        return spec
    if isinstance(spec, str):
        text = spec.strip().lower()
        if text == "fc":
            return LBRActions("fc", (True,) * 4, ((),) * 4, (False,) * 4)
        if text == "fcpa":
            return LBRActions("fcpa", (False, False, True, True), ((), (), (1.0,), (1.0,)),
                              (False, False, True, True))
        parts = text.split("/")
        if len(parts) not in (1, NUM_STREETS):
            raise GameError(f"actions={spec!r}: give one bet list or four separated by '/'")
        menus = [_menu(p, f"actions={spec!r}") for p in parts]
        if len(menus) == 1:
            menus = menus * NUM_STREETS
        return LBRActions(text, (True,) * 4, tuple(m[0] for m in menus),
                          tuple(m[1] for m in menus))
    if isinstance(spec, Sequence) and spec:
        if all(isinstance(s, Sequence) and not isinstance(s, str) for s in spec):
            if len(spec) != NUM_STREETS:
                raise GameError(f"actions={spec!r}: need one bet list per street (4)")
            text = "/".join(",".join(f"{float(x):g}" for x in s) for s in spec)  # type: ignore[union-attr]
        else:
            text = ",".join(f"{float(x):g}" for x in spec)  # type: ignore[arg-type]
        return parse_actions(text)
    raise GameError(f"actions={spec!r}: use 'fc', 'fcpa' or a list of pot fractions")


# --------------------------------------------------------------------------- deals


@dataclass(frozen=True, eq=False)
class LBRDeals:
    """A fixed list of duplicate deals: `cards[d]` holds the first pair of hole cards, the
    second, then the five board cards; `seeds[d]` seeds the deal's own random stream (bet
    translation, the blueprint's actions, sampled run-outs), so a deal plays the same way
    whichever thread takes it."""

    cards: np.ndarray
    seeds: np.ndarray
    seed: int

    def __len__(self) -> int:
        return int(self.cards.shape[0])


def make_deals(deal_pairs: int, seed: int = 0) -> LBRDeals:
    """`deal_pairs` duplicate deals drawn from `seed` (the same seed, the same list)."""
    if isinstance(deal_pairs, bool) or not isinstance(deal_pairs, int) or deal_pairs < 2:
        raise GameError(f"deal_pairs={deal_pairs!r}: need an integer >= 2 for an interval")
    rng = np.random.default_rng(seed)
    cards = np.argsort(rng.random((deal_pairs, 52)), axis=1)[:, :9].astype(np.int64)
    seeds = rng.integers(0, 2**32 - 1, size=deal_pairs, dtype=np.int64)
    return LBRDeals(cards=np.ascontiguousarray(cards), seeds=seeds, seed=seed)


# --------------------------------------------------------------------------- policies


BASELINE_POLICIES = ("always_fold", "always_call", "uniform")


def baseline_policy(game: Game, name: str) -> np.ndarray:
    """A card-blind baseline agent of holdem_lab.eval.agents as a policy array over the game's
    rows: `always_fold` (folds facing a bet, checks otherwise), `always_call`, `uniform`."""
    tree = game.tree
    policy = np.zeros((game.num_rows, game.max_actions))
    for node in tree.decision_nodes:
        count = int(tree.num_actions[node])
        kinds = [int(k) for k in tree.action_kind[node, :count]]
        probs = np.zeros(game.max_actions)
        if name == "uniform":
            probs[:count] = 1.0 / count
        elif name == "always_call":
            probs[kinds.index(CHECK_CALL)] = 1.0
        elif name == "always_fold":
            probs[kinds.index(FOLD) if FOLD in kinds else kinds.index(CHECK_CALL)] = 1.0
        else:
            raise GameError(f"unknown baseline {name!r}; known: {', '.join(BASELINE_POLICIES)}")
        rows = game.rows_of_node(int(node))
        policy[rows.start:rows.stop:rows.step] = probs
    return policy


def checked_policy(game: Game, policy: np.ndarray | PolicyTables) -> PolicyTables:
    """`policy` as PolicyTables that fit the game, refused if a weight is negative or not
    finite. Its rows need not be normalised: the kernels normalise each row as they read it
    (`policy_probability`), so a chunk can pass its tables themselves."""
    return policy_for(game, policy, check_values=True)


# --------------------------------------------------------------------------- the decision rule


@njit(cache=True)
def lbr_choice(pot: float, to_call: float, wp: float, sizes: np.ndarray,
               fold_probs: np.ndarray, cont_equities: np.ndarray, num_bets: int) -> int:
    """Index of LBR's action: 0 fold, 1 call, 2 + i the i-th bet (`sizes[i]` chips more than
    a call, folded to with probability `fold_probs[i]`, equity `cont_equities[i]` against the
    range that continues). Fold is offered only when `to_call` > 0; ties go to the lower index.
    """
    best = 1
    best_value = wp * pot - (1.0 - wp) * to_call
    if to_call > 0.0 and best_value < 0.0:
        best = 0
        best_value = 0.0
    for i in range(num_bets):
        fp = fold_probs[i]
        w = cont_equities[i]
        size = sizes[i]
        value = fp * pot + (1.0 - fp) * (w * (pot + size) - (1.0 - w) * (to_call + size))
        if value > best_value + 1e-9:
            best = 2 + i
            best_value = value
    return best


# --------------------------------------------------------------------------- the kernel


@njit(cache=True)
def _uniform() -> float:
    # numba's per-thread generator, seeded per deal (`_lbr_deals`): a deal draws the same
    # numbers whichever thread plays it
    return np.random.random()  # noqa: NPY002


@njit(cache=True)
def _deal_street(street: int, board: np.ndarray, visible: int, weights: np.ndarray,
                 imaginary: bool, lbr0: int, lbr1: int) -> int:
    """Deal the cards of `street` into `board[visible:]`: the deal's own in the plain estimate,
    drawn from their posterior given the range (and LBR's cards) with imaginary observations.
    Zeroes the range's pairs that hold a new card; returns the new number of visible cards."""
    target = 3 if street == 1 else visible + 1
    while visible < target:
        if imaginary:
            total = 0.0
            for h in range(NUM_HANDS):
                total += weights[h]
            card_weight = np.zeros(52)
            for c in range(52):
                blocked = c in (lbr0, lbr1)
                for i in range(visible):
                    if board[i] == c:
                        blocked = True
                if blocked:
                    continue
                held = 0.0
                for j in range(51):
                    held += weights[CARD_HANDS[c, j]]
                card_weight[c] = max(total - held, 0.0)
            cumulative = 0.0
            for c in range(52):
                cumulative += card_weight[c]
            x = _uniform() * cumulative
            pick = -1
            acc = 0.0
            for c in range(52):
                if card_weight[c] > 0.0:
                    acc += card_weight[c]
                    pick = c
                    if x < acc:
                        break
            board[visible] = pick
        card = board[visible]
        for j in range(51):
            weights[CARD_HANDS[card, j]] = 0.0
        visible += 1
    return visible


@njit(cache=True)
def _fill_buckets(street: int, board: np.ndarray, weights: np.ndarray, buckets: np.ndarray,
                  preflop_buckets: np.ndarray, tables: np.ndarray, offsets: np.ndarray) -> None:
    hand = np.empty(7, dtype=np.int64)
    visible = (0, 3, 4, 5)[street]
    for i in range(visible):
        hand[2 + i] = board[i]
    for h in range(NUM_HANDS):
        if weights[h] <= 0.0:
            continue
        if street == 0:
            buckets[h] = preflop_buckets[h]
        else:
            hand[0] = HAND_CARDS[h, 0]
            hand[1] = HAND_CARDS[h, 1]
            buckets[h] = holdem_bucket(hand, street, tables, offsets)


@njit(cache=True)
def _equities(lbr0: int, lbr1: int, board: np.ndarray, visible: int, weights: np.ndarray,
              runouts: int, equity: np.ndarray) -> None:
    """`equity[h]`: LBR's chance of beating pair h at the showdown (ties half), over the board
    cards still to come (every river card from the turn, `runouts` sampled run-outs earlier)."""
    wins = np.zeros(NUM_HANDS)
    counts = np.zeros(NUM_HANDS)
    full = np.empty(5, dtype=np.int64)
    for i in range(visible):
        full[i] = board[i]
    used = np.zeros(52, dtype=np.bool_)
    used[lbr0] = True
    used[lbr1] = True
    for i in range(visible):
        used[board[i]] = True
    deck = np.empty(52, dtype=np.int64)
    n = 0
    for c in range(52):
        if not used[c]:
            deck[n] = c
            n += 1
    missing = 5 - visible
    exact = visible >= 4
    total = n if visible == 4 else (1 if visible == 5 else runouts)
    for k in range(total):
        if exact:
            if missing == 1:
                full[4] = deck[k]
        else:
            for j in range(missing):
                r = j + int(_uniform() * (n - j))
                tmp = deck[j]
                deck[j] = deck[r]
                deck[r] = tmp
                full[visible + j] = deck[j]
        mine = eval7_kernel(lbr0, lbr1, full[0], full[1], full[2], full[3], full[4])
        for h in range(NUM_HANDS):
            if weights[h] <= 0.0:
                continue
            a = HAND_CARDS[h, 0]
            b = HAND_CARDS[h, 1]
            clash = False
            for j in range(visible, 5):
                if full[j] == a or full[j] == b:
                    clash = True
            if clash:
                continue
            theirs = eval7_kernel(a, b, full[0], full[1], full[2], full[3], full[4])
            if mine > theirs:
                wins[h] += 1.0
            elif mine == theirs:
                wins[h] += 0.5
            counts[h] += 1.0
    for h in range(NUM_HANDS):
        equity[h] = wins[h] / counts[h] if counts[h] > 0.0 else 0.5


@njit(cache=True)
def _sample(probs: np.ndarray, count: int) -> int:
    total = 0.0
    for a in range(count):
        total += probs[a]
    x = _uniform() * total
    acc = 0.0
    last = -1
    for a in range(count):
        if probs[a] > 0.0:
            acc += probs[a]
            last = a
            if x < acc:
                return a
    return last


@njit(cache=True)
def _abstract_fraction(contrib: np.ndarray, node: int, a: int, action_amount: np.ndarray
                       ) -> float:
    level = max(contrib[node, 0], contrib[node, 1])
    pot = contrib[node, 0] + contrib[node, 1]
    seat = 0 if contrib[node, 0] < contrib[node, 1] else 1
    owed = level - contrib[node, seat]
    return (action_amount[node, a] - level) / (pot + owed)


@njit(cache=True)
def _translate(x: float, node: int, contrib: np.ndarray, num_actions: np.ndarray,
               action_kind: np.ndarray, action_amount: np.ndarray, lbr_all_in: bool,
               probs: np.ndarray) -> bool:
    """Pseudo-harmonic translation (holdem_lab.games.translation) of LBR's bet of `x` pots onto
    the bet/raise edges of `node`: fills `probs` per edge; False when there is no such edge."""
    count = num_actions[node]
    for a in range(count):
        probs[a] = 0.0
    low = -1
    high = -1
    low_size = -1.0
    high_size = np.inf
    smallest = -1
    largest = -1
    for a in range(count):
        kind = action_kind[node, a]
        if kind != BET_RAISE and kind != ALL_IN:
            continue
        if lbr_all_in and kind == ALL_IN:
            probs[a] = 1.0
            return True
        s = _abstract_fraction(contrib, node, a, action_amount)
        if smallest < 0 or s < _abstract_fraction(contrib, node, smallest, action_amount):
            smallest = a
        if largest < 0 or s > _abstract_fraction(contrib, node, largest, action_amount):
            largest = a
        if s <= x and s > low_size:
            low = a
            low_size = s
        if s >= x and s < high_size:
            high = a
            high_size = s
    if smallest < 0:
        return False
    if low < 0:
        probs[smallest] = 1.0
    elif high < 0:
        probs[largest] = 1.0
    elif low == high or high_size <= low_size:
        probs[low] = 1.0
    else:
        p = ((high_size - x) * (1.0 + low_size)) / ((high_size - low_size) * (1.0 + x))
        p = min(1.0, max(0.0, p))
        probs[low] += p
        probs[high] += 1.0 - p
    return True


@njit(cache=True)
def _raise_target(fraction: float, all_in: bool, seat: int, c: np.ndarray, stacks: np.ndarray,
                  level: float, last_raise: float, big_blind: float) -> float:
    """Real chips `seat` raises to for a pot fraction (or all-in), clamped to the minimum raise
    and the effective stack; -1 when it cannot raise."""
    other = 1 - seat
    cap = min(stacks[seat], stacks[other])
    if cap <= level:
        return -1.0
    if all_in:
        return cap
    owed = level - c[seat]
    target = level + math.floor(fraction * (c[0] + c[1] + owed) + 0.5)
    target = max(target, level + max(last_raise, big_blind))
    return min(target, cap)


@njit(cache=True)
def _fold_column(node: int, num_actions: np.ndarray, action_kind: np.ndarray) -> int:
    for a in range(num_actions[node]):
        if action_kind[node, a] == FOLD:
            return a
    return -1


@njit(cache=True)
def _play_hand(lbr_seat: int, lbr0: int, lbr1: int, opp_hand: int, deal_board: np.ndarray,
               mode: int, player: np.ndarray, round_: np.ndarray,
               num_actions: np.ndarray, children: np.ndarray, terminal: np.ndarray,
               contrib: np.ndarray, action_kind: np.ndarray, action_amount: np.ndarray,
               row_offset: np.ndarray, row_stride: np.ndarray, policy: PolicyTables,
               preflop_buckets: np.ndarray, tables: np.ndarray, offsets: np.ndarray,
               stacks: np.ndarray, big_blind: float, decide: np.ndarray, fractions: np.ndarray,
               bet_all_in: np.ndarray, runouts: int) -> float:
    """LBR's winnings (chips) in one hand from seat `lbr_seat`; see the module docstring."""
    opp = 1 - lbr_seat
    imaginary = mode == FULL
    weights = np.ones(NUM_HANDS)
    for card in (lbr0, lbr1):
        for j in range(51):
            weights[CARD_HANDS[card, j]] = 0.0
    board = np.empty(5, dtype=np.int64)
    if not imaginary:
        for i in range(5):
            board[i] = deal_board[i]
    buckets = np.zeros(NUM_HANDS, dtype=np.int64)
    _fill_buckets(0, board, weights, buckets, preflop_buckets, tables, offsets)
    equity = np.zeros(NUM_HANDS)
    equity_street = -1
    probs = np.zeros(children.shape[1])
    edge_probs = np.zeros((_MAX_BETS + 1, children.shape[1]))
    cont = np.zeros((_MAX_BETS + 1, NUM_HANDS))
    targets = np.zeros(_MAX_BETS + 1)
    sizes = np.zeros(_MAX_BETS + 1)
    fold_probs = np.zeros(_MAX_BETS + 1)
    cont_equities = np.zeros(_MAX_BETS + 1)
    c = np.zeros(2)
    c[0] = contrib[0, 0]
    c[1] = contrib[0, 1]
    acted = np.zeros(2, dtype=np.bool_)
    street = 0
    visible = 0
    to_act = player[0]
    last_raise = big_blind
    node = 0
    weight = 1.0
    value = 0.0
    showdown = False
    while not showdown:
        if (terminal[node] != DECISION or player[node] != to_act
                or round_[node] != street):
            showdown = True  # the abstract hand is over or out of step: check it down
            break
        level = max(c[0], c[1])
        to_call = level - c[to_act]
        kind = CHECK_CALL
        target = 0.0
        if to_act == opp:
            count = num_actions[node]
            for a in range(count):
                probs[a] = 0.0
            if imaginary:
                total = 0.0
                for h in range(NUM_HANDS):
                    w = weights[h]
                    if w > 0.0:
                        row = row_offset[node] + buckets[h] * row_stride[node]
                        for a in range(count):
                            probs[a] += w * policy_probability(policy, row, a, count)
                        total += w
                fold = _fold_column(node, num_actions, action_kind)
                if fold >= 0:
                    p_fold = probs[fold] / total
                    value += weight * p_fold * c[opp]
                    weight *= 1.0 - p_fold
                    probs[fold] = 0.0
                    if weight <= 0.0:
                        return value
                chosen = _sample(probs, count)
            else:
                row = row_offset[node] + buckets[opp_hand] * row_stride[node]
                for a in range(count):
                    probs[a] = policy_probability(policy, row, a, count)
                chosen = _sample(probs, count)
            total = 0.0
            for h in range(NUM_HANDS):
                if weights[h] > 0.0:
                    weights[h] *= policy_probability(
                        policy, row_offset[node] + buckets[h] * row_stride[node], chosen, count)
                    total += weights[h]
            if total > 0.0:
                for h in range(NUM_HANDS):
                    weights[h] /= total
            kind = action_kind[node, chosen]
            if kind == FOLD:
                return value + weight * c[opp]
            if kind in (BET_RAISE, ALL_IN):
                target = _raise_target(_abstract_fraction(contrib, node, chosen, action_amount),
                                       kind == ALL_IN, opp, c, stacks, level, last_raise,
                                       big_blind)
                if target < 0.0:
                    kind = CHECK_CALL
            node = children[node, chosen]
        else:
            choice = 1
            num_bets = 0
            can_bet = False
            for a in range(num_actions[node]):
                if action_kind[node, a] == BET_RAISE or action_kind[node, a] == ALL_IN:
                    can_bet = True
            if decide[street]:
                if equity_street != street:
                    _equities(lbr0, lbr1, board, visible, weights, runouts, equity)
                    equity_street = street
                total = 0.0
                win = 0.0
                for h in range(NUM_HANDS):
                    total += weights[h]
                    win += weights[h] * equity[h]
                wp = win / total
                pot = c[0] + c[1]
                menu = 0
                while menu < _MAX_BETS and not np.isnan(fractions[street, menu]):
                    menu += 1
                for i in range(menu + (1 if bet_all_in[street] else 0)):
                    if not can_bet:
                        break
                    shove = i == menu
                    t = _raise_target(0.0 if shove else fractions[street, i], shove, lbr_seat,
                                      c, stacks, level, last_raise, big_blind)
                    if t < 0.0:
                        break
                    repeat = False
                    for j in range(num_bets):
                        if targets[j] == t:
                            repeat = True
                    if repeat:
                        continue
                    lbr_all_in = t >= stacks[lbr_seat]
                    x = (t - level) / (pot + to_call)
                    if not _translate(x, node, contrib, num_actions, action_kind,
                                      action_amount, lbr_all_in, edge_probs[num_bets]):
                        break
                    kept = 0.0
                    kept_win = 0.0
                    for h in range(NUM_HANDS):
                        cont[num_bets, h] = weights[h]
                    for a in range(num_actions[node]):
                        pe = edge_probs[num_bets, a]
                        if pe <= 0.0:
                            continue
                        child = children[node, a]
                        if terminal[child] != DECISION or player[child] != opp:
                            continue
                        fold = _fold_column(child, num_actions, action_kind)
                        if fold < 0:
                            continue
                        for h in range(NUM_HANDS):
                            if weights[h] > 0.0:
                                row = row_offset[child] + buckets[h] * row_stride[child]
                                cont[num_bets, h] -= weights[h] * pe * policy_probability(
                                    policy, row, fold, num_actions[child])
                    for h in range(NUM_HANDS):
                        w = max(cont[num_bets, h], 0.0)
                        kept += w
                        kept_win += w * equity[h]
                    targets[num_bets] = t
                    sizes[num_bets] = t - level
                    fold_probs[num_bets] = 1.0 - kept / total
                    cont_equities[num_bets] = kept_win / kept if kept > 0.0 else 0.0
                    num_bets += 1
                choice = lbr_choice(pot, to_call, wp, sizes, fold_probs, cont_equities,
                                    num_bets)
            if choice == 0:
                return value - weight * c[lbr_seat]
            if choice == 1:
                kind = CHECK_CALL
                for a in range(num_actions[node]):
                    if action_kind[node, a] == CHECK_CALL:
                        node = children[node, a]
                        break
            else:
                kind = BET_RAISE
                target = targets[choice - 2]
                chosen = _sample(edge_probs[choice - 2], num_actions[node])
                node = children[node, chosen]
        # the real hand takes the action
        me = to_act
        other = 1 - me
        if kind == CHECK_CALL:
            c[me] = min(level, stacks[me])
            acted[me] = True
            if acted[other] or c[other] >= stacks[other]:
                if street == 3 or c[0] >= stacks[0] or c[1] >= stacks[1]:
                    showdown = True
                else:
                    street += 1
                    visible = _deal_street(street, board, visible, weights, imaginary, lbr0,
                                           lbr1)
                    _fill_buckets(street, board, weights, buckets, preflop_buckets, tables,
                                  offsets)
                    acted[0] = False
                    acted[1] = False
                    last_raise = big_blind
                    to_act = 0
            else:
                to_act = other
        else:
            if target - level >= last_raise:
                last_raise = target - level
            c[me] = target
            acted[me] = True
            acted[other] = False
            to_act = other
    while visible < 5:
        visible = _deal_street(3 if visible == 4 else (1 if visible == 0 else 2), board,
                               visible, weights, imaginary, lbr0, lbr1)
    stake = min(c[0], c[1])
    mine = eval7_kernel(lbr0, lbr1, board[0], board[1], board[2], board[3], board[4])
    if mode == PLAIN:
        a = HAND_CARDS[opp_hand, 0]
        b = HAND_CARDS[opp_hand, 1]
        theirs = eval7_kernel(a, b, board[0], board[1], board[2], board[3], board[4])
        return value + (stake if mine > theirs else (-stake if mine < theirs else 0.0))
    total = 0.0
    net = 0.0
    for h in range(NUM_HANDS):
        w = weights[h]
        if w > 0.0:
            theirs = eval7_kernel(HAND_CARDS[h, 0], HAND_CARDS[h, 1], board[0], board[1],
                                  board[2], board[3], board[4])
            total += w
            net += w * (1.0 if mine > theirs else (-1.0 if mine < theirs else 0.0))
    return value + weight * stake * net / total


@njit(cache=True)
def _hand_index(a: int, b: int) -> int:
    lo = min(a, b)
    hi = max(a, b)
    return lo * 51 - lo * (lo - 1) // 2 + (hi - lo - 1)


@njit(cache=True, parallel=True)
def _lbr_deals(cards: np.ndarray, seeds: np.ndarray, mode: int, player: np.ndarray,
               round_: np.ndarray, num_actions: np.ndarray, children: np.ndarray,
               terminal: np.ndarray, contrib: np.ndarray, action_kind: np.ndarray,
               action_amount: np.ndarray, row_offset: np.ndarray, row_stride: np.ndarray,
               policy: PolicyTables, preflop_buckets: np.ndarray, tables: np.ndarray,
               offsets: np.ndarray, stacks: np.ndarray, big_blind: float, decide: np.ndarray,
               fractions: np.ndarray, bet_all_in: np.ndarray, runouts: int) -> np.ndarray:
    """LBR's mean winnings (chips) over the two hands of each duplicate deal."""
    out = np.zeros(cards.shape[0])
    for d in prange(cards.shape[0]):
        total = 0.0
        for lbr_seat in range(2):
            mine = 0 if lbr_seat == 0 else 2
            theirs = 2 - mine
            np.random.seed(seeds[d])  # noqa: NPY002
            total += _play_hand(
                lbr_seat, cards[d, mine], cards[d, mine + 1],
                _hand_index(cards[d, theirs], cards[d, theirs + 1]), cards[d, 4:9],
                mode, player, round_, num_actions, children, terminal, contrib,
                action_kind, action_amount, row_offset, row_stride, policy, preflop_buckets,
                tables, offsets, stacks, big_blind, decide, fractions, bet_all_in, runouts)
        out[d] = total / 2.0
    return out


# --------------------------------------------------------------------------- the API


@dataclass(frozen=True)
class LBRResult(Interval):
    """LBR's winnings against a policy over `deal_pairs` duplicate deal pairs, in mbb/hand:
    the mean, the 95% half-width and the standard deviation of a deal pair's score."""

    actions: str
    deal_pairs: int
    mbb_per_hand: float
    ci95_mbb: float
    sd_per_pair_mbb: float
    seed: int
    estimator: str
    seconds: float
    pair_scores: np.ndarray = field(repr=False, compare=False)

    def as_dict(self) -> dict[str, Any]:
        out = self._with_interval(asdict(self))
        del out["pair_scores"]
        out["hands_per_second"] = 2 * self.deal_pairs / self.seconds if self.seconds else None
        return out

    def summary(self) -> str:
        return (f"LBR ({self.actions}): {self.mbb_per_hand:+.1f} ± {self.ci95_mbb:.1f} mbb/hand "
                f"(sd {self.sd_per_pair_mbb:,.0f} per deal pair, {self.deal_pairs:,} pairs)")


def paired_difference(a: LBRResult, b: LBRResult) -> tuple[float, float]:
    """Mean and 95% half-width of `a - b` over the same deal pairs (mbb/hand)."""
    if a.deal_pairs != b.deal_pairs or a.seed != b.seed:
        raise GameError("a paired difference needs both results on the same deal list")
    diff = a.pair_scores - b.pair_scores
    return float(diff.mean()), 1.96 * float(diff.std(ddof=1)) / math.sqrt(len(diff))


def _preflop_buckets(game: Game) -> np.ndarray:
    hand = np.zeros(7, dtype=np.int64)
    out = np.zeros(NUM_HANDS, dtype=np.int64)
    for h, (a, b) in enumerate(HAND_CARDS):
        hand[0], hand[1] = a, b
        out[h] = holdem_bucket(hand, 0, game.holdem_bucket_tables, game.holdem_table_offsets)
    return out


def local_best_response(game: Game, policy: np.ndarray | PolicyTables, *, deal_pairs: int = 10_000,
                        seed: int = 0, actions: str | Sequence[Any] | LBRActions = "fcpa",
                        estimator: str = "imaginary", runouts: int = DEFAULT_RUNOUTS,
                        threads: int | None = None, deals: LBRDeals | None = None,
                        batch: int = 512,
                        progress: Callable[[int], None] | None = None,
                        should_stop: Callable[[], bool] | None = None) -> LBRResult:
    """LBR's winnings against `policy` (an average-policy array over `game`'s rows, or any
    non-negative weights per row, such as strategy sums, which are normalised as read; or
    PolicyTables, a solver's tables read in place) on
    `deal_pairs` duplicate deals from `seed`, or on a fixed `deals` list, with the action set
    `actions` (`parse_actions`), the `estimator` of the module docstring and `runouts` sampled
    run-outs per flop or preflop equity. `threads` spreads the deals over that many threads
    (default: numba's current count). After every `batch` of deal pairs `progress` gets the
    number done and `should_stop` is asked whether to end early (a time budget): the result
    then covers the deals played so far."""
    if game.name != "holdem" or game.num_players != 2:
        raise GameError("LBR is for heads-up Hold'em: load_game('holdem', num_players=2, ...)")
    if game.tree.dead_money:
        # LBR's own betting state counts every chip in as live; a dead ante would read as a bet.
        raise GameError("LBR does not support big-blind antes yet (ante_type='big_blind')")
    menu = parse_actions(actions)
    if estimator not in ESTIMATORS:
        raise GameError(f"estimator={estimator!r}: one of {', '.join(ESTIMATORS)}")
    if isinstance(runouts, bool) or not isinstance(runouts, int) or runouts < 1:
        raise GameError(f"runouts={runouts!r}: must be an integer >= 1")
    if deals is None:
        deals = make_deals(deal_pairs, seed)
    elif not isinstance(deals, LBRDeals):
        raise GameError(f"deals={deals!r}: must come from make_deals")
    most = int(numba.config.NUMBA_NUM_THREADS)  # type: ignore[attr-defined]
    if threads is not None and (isinstance(threads, bool) or not isinstance(threads, int)
                                or not 1 <= threads <= most):
        raise GameError(f"threads={threads!r}: must be an integer from 1 to {most}")
    if isinstance(batch, bool) or not isinstance(batch, int) or batch < 1:
        raise GameError(f"batch={batch!r}: must be an integer >= 1")
    clean = checked_policy(game, policy)
    tree = game.tree
    stacks = np.asarray(tree.starting_stacks, dtype=np.float64)
    big_blind = float(game.params.get("big_blind", 2))
    decide, fractions, bet_all_in = menu.arrays()
    preflop = _preflop_buckets(game)
    arguments = (tree.player.astype(np.int64), tree.round.astype(np.int64),
                 tree.num_actions.astype(np.int64), tree.children.astype(np.int64),
                 tree.terminal.astype(np.int64), tree.contrib, tree.action_kind.astype(np.int64),
                 tree.action_amount, game.row_offset, game.row_stride, clean, preflop,
                 game.holdem_bucket_tables, game.holdem_table_offsets, stacks, big_blind,
                 decide, fractions, bet_all_in, runouts)
    previous = numba.get_num_threads()
    scores = np.zeros(len(deals))
    started = time.perf_counter()
    try:
        if threads is not None:
            numba.set_num_threads(threads)
        played = 0
        for start in range(0, len(deals), batch):
            stop = min(start + batch, len(deals))
            scores[start:stop] = _lbr_deals(deals.cards[start:stop], deals.seeds[start:stop],
                                            ESTIMATORS[estimator], *arguments)
            played = stop
            if progress is not None:
                progress(stop)
            if should_stop is not None and stop >= 2 and should_stop():
                break
    finally:
        numba.set_num_threads(previous)
    seconds = time.perf_counter() - started
    scores = scores[:played]
    mbb = scores * 1000.0 / big_blind
    sd = float(np.std(mbb, ddof=1))
    return LBRResult(actions=menu.name, deal_pairs=played, mbb_per_hand=float(mbb.mean()),
                     ci95_mbb=1.96 * sd / math.sqrt(played), sd_per_pair_mbb=sd,
                     seed=deals.seed, estimator=estimator, seconds=seconds, pair_scores=mbb)


# --------------------------------------------------------------------------- Leduc


def leduc_lbr_value(game: Game, policy: np.ndarray, player: int) -> float:
    """Exact expected winnings of LBR in seat `player` against `policy` on a small limit game
    (Kuhn or Leduc), enumerating every deal: the same decision rule (`lbr_choice`) on the
    policy's exact range, with fold, call and the tree's one raise. A check on the rule: the
    value can never exceed holdem_lab.eval.exact.best_response_value."""
    from holdem_lab.games.payoffs import terminal_payoffs
    from holdem_lab.games.small import enumerate_deals

    deals = enumerate_deals(game)
    utilities = terminal_payoffs(game.tree, deals.strength)
    policy = np.asarray(policy, dtype=np.float64)
    tree = game.tree
    other = 1 - player
    keys = deals.exact_keys[:, player]
    mine = deals.strength[:, player]
    theirs = deals.strength[:, other]
    wins = np.where(mine > theirs, 1.0, np.where(mine == theirs, 0.5, 0.0))

    def probs(node: int) -> np.ndarray:
        rows = game.row_offset[node] + game.row_stride[node] \
            * deals.buckets[:, int(tree.player[node]), int(tree.round[node])]
        return policy[rows, : int(tree.num_actions[node])]

    def walk(node: int, reach: np.ndarray) -> float:
        if tree.terminal[node] != DECISION:
            return float(reach @ utilities[node, :, player])
        count = int(tree.num_actions[node])
        kinds = [int(k) for k in tree.action_kind[node, :count]]
        if int(tree.player[node]) != player:
            p = probs(node)
            return sum(walk(int(tree.children[node, a]), reach * p[:, a]) for a in range(count))
        key = keys[:, int(tree.round[node])]
        level = float(tree.contrib[node].max())
        to_call = level - float(tree.contrib[node, player])
        pot = float(tree.contrib[node].sum())
        total = 0.0
        for k in np.unique(key):
            inside = key == k
            r = np.where(inside, reach, 0.0)
            if r.sum() <= 0.0:
                continue
            wp = float(r @ wins) / float(r.sum())
            sizes = np.zeros(1)
            fold_probs = np.zeros(1)
            cont_eq = np.zeros(1)
            num_bets = 0
            if BET_RAISE in kinds:
                a = kinds.index(BET_RAISE)
                child = int(tree.children[node, a])
                kept = r.copy()
                if tree.terminal[child] == DECISION and FOLD in [
                        int(x) for x in tree.action_kind[child, : int(tree.num_actions[child])]]:
                    fold = [int(x) for x in tree.action_kind[child]].index(FOLD)
                    kept = r * (1.0 - probs(child)[:, fold])
                sizes[0] = float(tree.action_amount[node, a]) - level
                fold_probs[0] = 1.0 - kept.sum() / r.sum()
                cont_eq[0] = float(kept @ wins) / kept.sum() if kept.sum() > 0 else 0.0
                num_bets = 1
            choice = int(lbr_choice(pot, to_call, wp, sizes, fold_probs, cont_eq, num_bets))
            kind = (FOLD, CHECK_CALL, BET_RAISE)[choice]
            total += walk(int(tree.children[node, kinds.index(kind)]), r)
        return total

    return walk(0, deals.probability.copy())

