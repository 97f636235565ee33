"""Agents for head-to-head Hold'em matches, and the numba kernel that plays them.

Every agent acts on the game's betting tree. The blueprint samples its average strategy at
(node, bucket); the baselines are the usual yardsticks of the poker literature:

* `always_call`: checks or calls, never folds or raises (a calling station);
* `always_raise_pot`: raises the size closest to the pot when it may, otherwise calls;
* `uniform`: every legal abstract action equally likely;
* `always_fold`: folds whenever facing a bet, checks otherwise (a known loser);
* `equity_threshold`: raises when its hand strength (probability of beating one random hand,
  ties half, on the current board; preflop, the all-in equity of its class) is above 0.75,
  calls above 0.45, otherwise checks or folds.
"""

from __future__ import annotations

from enum import IntEnum
from typing import NamedTuple

import numpy as np
from numba import njit

from holdem_lab.cards.evaluator import eval5_kernel, eval6_kernel, eval7_kernel
from holdem_lab.cards.isomorphism import preflop_class_kernel, unindex_kernel
from holdem_lab.errors import GameError
from holdem_lab.games.dealing import deal_cards, deal_holdem
from holdem_lab.games.game import NODE_WORD, Game
from holdem_lab.games.payoffs import terminal_payoff
from holdem_lab.games.tree import BET_RAISE, CHECK_CALL, DECISION, FOLD, FOLD_TERMINAL


class Agent(IntEnum):
    BLUEPRINT = 0
    ALWAYS_CALL = 1
    ALWAYS_RAISE_POT = 2
    UNIFORM = 3
    ALWAYS_FOLD = 4
    EQUITY_THRESHOLD = 5


AGENT_NAMES = {
    "blueprint": Agent.BLUEPRINT,
    "always_call": Agent.ALWAYS_CALL,
    "always_raise_pot": Agent.ALWAYS_RAISE_POT,
    "uniform": Agent.UNIFORM,
    "always_fold": Agent.ALWAYS_FOLD,
    "equity_threshold": Agent.EQUITY_THRESHOLD,
}

RAISE_ABOVE = 0.75
CALL_ABOVE = 0.45


@njit(cache=True)
def _evaluate(cards, count):
    if count == 5:
        return eval5_kernel(cards[0], cards[1], cards[2], cards[3], cards[4])
    if count == 6:
        return eval6_kernel(cards[0], cards[1], cards[2], cards[3], cards[4], cards[5])
    return eval7_kernel(cards[0], cards[1], cards[2], cards[3], cards[4], cards[5], cards[6])


@njit(cache=True)
def hand_strength(hole0, hole1, board, board_count):
    """Probability that (hole0, hole1) beats one uniformly random opponent holding on the
    visible board (ties count half), enumerating every opponent holding."""
    used = np.zeros(52, dtype=np.bool_)
    used[hole0] = True
    used[hole1] = True
    mine = np.empty(7, dtype=np.int64)
    theirs = np.empty(7, dtype=np.int64)
    mine[0] = hole0
    mine[1] = hole1
    for i in range(board_count):
        used[board[i]] = True
        mine[2 + i] = board[i]
        theirs[2 + i] = board[i]
    count = 2 + board_count
    my_value = _evaluate(mine, count)
    wins = 0.0
    total = 0.0
    for a in range(52):
        if used[a]:
            continue
        for b in range(a + 1, 52):
            if used[b]:
                continue
            theirs[0] = a
            theirs[1] = b
            value = _evaluate(theirs, count)
            if my_value > value:
                wins += 1.0
            elif my_value == value:
                wins += 0.5
            total += 1.0
    return wins / total


@njit(cache=True)
def preflop_equities(samples, rng):
    """All-in equity of each of the 169 preflop classes against one random hand, estimated with
    `samples` random boards and opponents per class."""
    out = np.zeros(169)
    hole = np.empty(2, dtype=np.int64)
    cards = np.empty(52, dtype=np.int64)
    mine = np.empty(7, dtype=np.int64)
    theirs = np.empty(7, dtype=np.int64)
    for cls in range(169):
        unindex_kernel(cls, 0, hole)
        score = 0.0
        for _ in range(samples):
            n = 0
            for c in range(52):
                if c != hole[0] and c != hole[1]:
                    cards[n] = c
                    n += 1
            for j in range(7):
                r = j + int(rng.random() * (n - j))
                tmp = cards[j]
                cards[j] = cards[r]
                cards[r] = tmp
            mine[0] = hole[0]
            mine[1] = hole[1]
            theirs[0] = cards[5]
            theirs[1] = cards[6]
            for j in range(5):
                mine[2 + j] = cards[j]
                theirs[2 + j] = cards[j]
            a = _evaluate(mine, 7)
            b = _evaluate(theirs, 7)
            score += 1.0 if a > b else (0.5 if a == b else 0.0)
        out[cls] = score / samples
    return out


class PolicyTables(NamedTuple):
    """A blueprint as the evaluation kernels read it, without a normalised copy.

    `weights` holds non-negative weights per row (an average policy, or strategy sums), which
    are normalised as they are read. When the groups are empty, `weights` has a row per infoset.
    Otherwise infoset rows group_first[g] .. group_end[g]-1 read weights row `row -
    group_shift[g]`, or, where that shift is negative (a round that keeps no strategy sums), the
    regret-matching strategy of `current` (the regrets, one row per infoset): what the average
    policy of a solver with `average_rounds` plays, read in place."""

    weights: np.ndarray
    current: np.ndarray
    group_first: np.ndarray
    group_end: np.ndarray
    group_shift: np.ndarray


def policy_tables(weights: np.ndarray) -> PolicyTables:
    """`weights` (a row per infoset) as PolicyTables. The unused regrets are float32, the
    compact dtype, so that these tables, a baseline's and a float32 solver's packed tables are
    one type to numba: one compilation of each evaluation kernel serves them all."""
    none = np.zeros(0, dtype=np.int64)
    width = weights.shape[1] if weights.ndim == 2 else 0
    return PolicyTables(weights, np.zeros((0, width), dtype=np.float32), none, none, none)


def policy_for(game: Game, policy: np.ndarray | PolicyTables, *, check_values: bool = False
               ) -> PolicyTables:
    """`policy` (an array with a row per infoset of `game`, or PolicyTables) as PolicyTables
    that fit the game: C-contiguous arrays, float64 weights, and groups that are the game's
    (player, round) row groups with the shifts of sums packed in their order (what
    holdem_lab.solver.solver.strategy_layout makes), so that no read leaves the tables. With
    `check_values`, negative or non-finite weights and non-finite regrets are refused; the check
    goes block by block, so that it allocates nothing of a table's size."""
    if not isinstance(policy, PolicyTables):
        policy = policy_tables(np.asarray(policy))
    weights = np.ascontiguousarray(policy.weights, dtype=np.float64)
    current = np.ascontiguousarray(policy.current)
    first, end, shift = (np.ascontiguousarray(a, dtype=np.int64) for a in
                         (policy.group_first, policy.group_end, policy.group_shift))
    shape = (game.num_rows, game.max_actions)
    if shift.shape[0] == 0:
        if weights.shape != shape:
            raise GameError(f"policy shape {weights.shape} does not fit the game {shape}")
    else:
        groups = None if game.row_groups is None else game.row_groups.reshape(-1, 2)
        if groups is None or first.shape != shift.shape or end.shape != shift.shape \
                or not np.array_equal(np.stack([first, end], axis=1), groups):
            raise GameError("policy tables' row groups are not the game's (player, round) "
                            "groups")
        kept = np.cumsum(np.where(shift >= 0, end - first, 0))
        packed = np.where(shift >= 0, first - (kept - (end - first)), -1)
        if not np.array_equal(shift, packed):
            raise GameError("policy tables' shifts do not pack the kept groups' sums in order")
        if current.ndim != 2 or current.shape != shape \
                or weights.shape != (int(kept[-1]), game.max_actions):
            raise GameError(f"policy tables of shapes {weights.shape} (sums on "
                            f"{int(kept[-1]):,} rows) and {current.shape} do not fit the game "
                            f"{shape}")
    if check_values:
        for table, label, signed in ((weights, "weights", False), (current, "regrets", True)):
            step = max(1, (1 << 20) // max(table.shape[1], 1))
            for start in range(0, table.shape[0], step):
                block = table[start:start + step]
                if not np.all(np.isfinite(block)) or (not signed and np.any(block < 0.0)):
                    raise GameError(f"policy {label} have "
                                    f"{'non-finite' if signed else 'negative or non-finite'} "
                                    "entries")
    return PolicyTables(weights, current, first, end, shift)


@njit(cache=True, inline="always")
def policy_probability(policy, row, a, count):
    """The blueprint's probability of action `a` at infoset `row` (`policy`: PolicyTables): the
    row's weights normalised over the node's `count` actions, uniform where none is positive
    (on rounds without sums, the positive regrets normalised alike). Normalising as the row is
    read lets a chunk evaluate its tables in place instead of holding a normalised copy."""
    shifts = policy.group_shift
    source = row
    for g in range(shifts.shape[0]):
        if policy.group_first[g] <= row < policy.group_end[g]:
            if shifts[g] < 0:
                current = policy.current
                total = 0.0
                for b in range(count):
                    total += max(float(current[row, b]), 0.0)
                if total > 0.0:
                    return max(float(current[row, a]), 0.0) / total
                return 1.0 / count
            source = row - shifts[g]
            break
    weights = policy.weights
    total = 0.0
    for b in range(count):
        total += weights[source, b]
    if total > 0.0:
        return weights[source, a] / total
    return 1.0 / count


@njit(cache=True)
def _choose(agent, policy, row, node, num_actions, action_kind, action_amount, contrib, player,
            strength, rng, probs):
    """Fill `probs` with the agent's action distribution at `node` and sample from it."""
    return _choose_with(agent, policy, row, node, num_actions, action_kind, action_amount,
                        contrib, player, strength, probs, rng.random())


@njit(cache=True)
def _choose_with(agent, policy, row, node, num_actions, action_kind, action_amount, contrib,
                 player, strength, probs, x):
    """`_choose` with the uniform draw `x` given, so that several plays of a deal can share
    their random numbers."""
    for a in range(num_actions):
        probs[a] = 0.0
    top = 0.0
    pot = 0.0
    for p in range(contrib.shape[1]):
        pot += contrib[node, p]
        if contrib[node, p] > top:
            top = contrib[node, p]
    call = -1
    fold = -1
    for a in range(num_actions):
        if action_kind[node, a] == CHECK_CALL:
            call = a
        elif action_kind[node, a] == FOLD:
            fold = a
    # The tree offers a fold exactly when there is a bet to face; comparing chips in would
    # count a big blind's dead ante as a bet.
    facing = fold >= 0
    if agent == 0:
        for a in range(num_actions):
            probs[a] = policy_probability(policy, row, a, num_actions)
    elif agent == 1:
        probs[call] = 1.0
    elif agent == 2:
        target = top + (pot + top - contrib[node, player])  # call, then raise the pot
        best = -1
        gap = np.inf
        for a in range(num_actions):
            if action_kind[node, a] >= BET_RAISE and abs(action_amount[node, a] - target) < gap:
                gap = abs(action_amount[node, a] - target)
                best = a
        probs[best if best >= 0 else call] = 1.0
    elif agent == 3:
        for a in range(num_actions):
            probs[a] = 1.0 / num_actions
    elif agent == 4:
        probs[fold if facing and fold >= 0 else call] = 1.0
    else:
        if strength > RAISE_ABOVE:
            best = -1
            for a in range(num_actions):
                if action_kind[node, a] >= BET_RAISE:
                    best = a
                    break
            probs[best if best >= 0 else call] = 1.0
        elif strength > CALL_ABOVE or not facing or fold < 0:
            probs[call] = 1.0
        else:
            probs[fold] = 1.0
    cumulative = 0.0
    last = call
    for a in range(num_actions):
        if probs[a] > 0.0:
            cumulative += probs[a]
            last = a
            if x < cumulative:
                return a
    return last


@njit(cache=True)
def play_duplicate(player, round_, num_actions_, children, terminal, row_offset, row_stride,
                   contrib, node_table, node_amounts, node_contrib, node_folded, node_row,
                   action_kind, action_amount, holdem_tables, holdem_offsets, policy_a, policy_b,
                   agent_a, agent_b, preflop_equity, rng, num_deals):
    """Heads-up duplicate match: each deal is played twice with the same cards per seat, agent A
    in seat 0 then in seat 1. Returns A's average winnings per hand of each deal pair (chips)."""
    out = np.zeros(num_deals)
    deck = np.empty(52, dtype=np.int64)
    hand = np.empty(7, dtype=np.int64)
    buckets = np.zeros((2, 4), dtype=np.int64)
    strengths = np.zeros((2, 4))
    showdown = np.zeros(2, dtype=np.int64)
    probs = np.zeros(children.shape[1])
    for d in range(num_deals):
        deal_cards(rng, deck, 9)
        deal_holdem(2, 4, holdem_tables, holdem_offsets, deck, hand, buckets, showdown)
        for p in range(2):
            strengths[p, 0] = preflop_equity[preflop_class_kernel(deck[2 * p], deck[2 * p + 1])]
            for rnd in range(1, 4):
                strengths[p, rnd] = -1.0  # computed on demand
        total = 0.0
        for swap in range(2):
            node = 0
            while terminal[node] == DECISION:
                p = player[node]
                rnd = round_[node]
                a_is_acting = (p == 0) == (swap == 0)
                agent = agent_a if a_is_acting else agent_b
                if agent == 5 and strengths[p, rnd] < 0.0:
                    strengths[p, rnd] = hand_strength(deck[2 * p], deck[2 * p + 1], deck[4:9],
                                                      2 + rnd)
                row = row_offset[node] + buckets[p, rnd] * row_stride[node]
                # Two calls, not one on a chosen policy: the agents' tables may differ in type.
                if a_is_acting:
                    a = _choose(agent, policy_a, row, node, num_actions_[node], action_kind,
                                action_amount, contrib, p, strengths[p, rnd], rng, probs)
                else:
                    a = _choose(agent, policy_b, row, node, num_actions_[node], action_kind,
                                action_amount, contrib, p, strengths[p, rnd], rng, probs)
                node = children[node, a]
            seat_of_a = 0 if swap == 0 else 1
            row = node_row[node]
            total += terminal_payoff(node_table[row, NODE_WORD], node_amounts, node_contrib,
                                     node_folded, row, seat_of_a, showdown, 2)
        out[d] = total / 2.0
    return out


@njit(cache=True)
def play_rotations(player, round_, num_actions_, children, terminal, row_offset, row_stride,
                   contrib, node_table, node_amounts, node_contrib, node_folded, node_row,
                   action_kind, action_amount, holdem_tables, holdem_offsets, policy_a, policy_b,
                   agent_a, agent_b, preflop_equity, rng, num_deals, num_players, max_depth):
    """Multiway duplicate match: each deal is played `num_players` times with the same cards per
    seat, agent A in seat r of play r and agent B in every other seat. The k-th decision of
    every play of a deal uses the same uniform draw, so identical agents play the same hand in
    every rotation and A's rotations sum to the table's total, zero. Returns A's winnings
    (chips) in each rotation, shape (num_deals, num_players)."""
    out = np.zeros((num_deals, num_players))
    deck = np.empty(52, dtype=np.int64)
    hand = np.empty(7, dtype=np.int64)
    buckets = np.zeros((num_players, 4), dtype=np.int64)
    strengths = np.zeros((num_players, 4))
    showdown = np.zeros(num_players, dtype=np.int64)
    probs = np.zeros(children.shape[1])
    draws = np.zeros(max_depth + 1)
    board = 2 * num_players
    for d in range(num_deals):
        deal_cards(rng, deck, board + 5)
        deal_holdem(num_players, 4, holdem_tables, holdem_offsets, deck, hand, buckets, showdown)
        for k in range(max_depth + 1):
            draws[k] = rng.random()
        for p in range(num_players):
            strengths[p, 0] = preflop_equity[preflop_class_kernel(deck[2 * p], deck[2 * p + 1])]
            for rnd in range(1, 4):
                strengths[p, rnd] = -1.0  # computed on demand
        for seat_of_a in range(num_players):
            node = 0
            k = 0
            while terminal[node] == DECISION:
                p = player[node]
                rnd = round_[node]
                agent = agent_a if p == seat_of_a else agent_b
                if agent == 5 and strengths[p, rnd] < 0.0:
                    strengths[p, rnd] = hand_strength(deck[2 * p], deck[2 * p + 1],
                                                      deck[board:board + 5], 2 + rnd)
                row = row_offset[node] + buckets[p, rnd] * row_stride[node]
                if p == seat_of_a:
                    a = _choose_with(agent, policy_a, row, node, num_actions_[node], action_kind,
                                     action_amount, contrib, p, strengths[p, rnd], probs,
                                     draws[k])
                else:
                    a = _choose_with(agent, policy_b, row, node, num_actions_[node], action_kind,
                                     action_amount, contrib, p, strengths[p, rnd], probs,
                                     draws[k])
                k += 1
                node = children[node, a]
            row = node_row[node]
            out[d, seat_of_a] = terminal_payoff(node_table[row, NODE_WORD], node_amounts,
                                                node_contrib, node_folded, row, seat_of_a,
                                                showdown, num_players)
    return out


__all__ = ["AGENT_NAMES", "Agent", "FOLD_TERMINAL", "PolicyTables", "hand_strength",
           "play_duplicate", "play_rotations", "policy_for", "policy_probability", "policy_tables",
           "preflop_equities"]
