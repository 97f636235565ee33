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

import numpy as np
from numba import njit

from holdem_lab.cards.evaluator import eval5_kernel, eval6_kernel, eval7_kernel
from holdem_lab.cards.isomorphism import index_kernel, preflop_class_kernel, unindex_kernel
from holdem_lab.games.tree import BET_RAISE, CHECK_CALL, DECISION, FOLD, FOLD_TERMINAL
from holdem_lab.solver.kernels import terminal_utility


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
def holdem_bucket(hand, round_index, holdem_tables, holdem_offsets):
    """Bucket of `hand` (hole cards, then the board) on a round: the round's table at the
    suit-isomorphic index; a round without a table is lossless preflop (the 169 classes) or one
    bucket. (The training kernel writes the same lookup out in place, for speed.)"""
    start = holdem_offsets[round_index]
    size = holdem_offsets[round_index + 1] - start
    if round_index == 0:
        index = preflop_class_kernel(hand[0], hand[1])
    elif size > 0:
        index = index_kernel(hand, round_index)
    else:
        index = 0
    return holdem_tables[start + index] if size > 0 else index


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


@njit(cache=True)
def _choose(agent, policy, row, node, num_actions, action_kind, action_amount, contrib, player,
            strength, rng, probs):
    """Fill `probs` with the agent's action distribution at `node` and sample from it."""
    for a in range(num_actions):
        probs[a] = 0.0
    facing = False
    top = 0.0
    pot = 0.0
    for p in range(contrib.shape[1]):
        pot += contrib[node, p]
        if contrib[node, p] > top:
            top = contrib[node, p]
    facing = contrib[node, player] < top
    call = -1
    fold = -1
    for a in range(num_actions):
        if action_kind[node, a] == CHECK_CALL:
            call = a
        elif action_kind[node, a] == FOLD:
            fold = a
    if agent == 0:
        for a in range(num_actions):
            probs[a] = policy[row, a]
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
    x = rng.random()
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
                   contrib,
                   folded, pot, equal_live, action_kind, action_amount, holdem_tables,
                   holdem_offsets, policy_a, policy_b, agent_a, agent_b, preflop_equity, rng,
                   num_deals):
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
        for i in range(52):
            deck[i] = i
        for j in range(9):
            r = j + int(rng.random() * (52 - j))
            tmp = deck[j]
            deck[j] = deck[r]
            deck[r] = tmp
        for j in range(5):
            hand[2 + j] = deck[4 + j]
        for p in range(2):
            hand[0] = deck[2 * p]
            hand[1] = deck[2 * p + 1]
            strengths[p, 0] = preflop_equity[preflop_class_kernel(hand[0], hand[1])]
            for rnd in range(4):
                if rnd > 0:
                    strengths[p, rnd] = -1.0  # computed on demand
                buckets[p, rnd] = holdem_bucket(hand, rnd, holdem_tables, holdem_offsets)
            showdown[p] = eval7_kernel(hand[0], hand[1], hand[2], hand[3], hand[4], hand[5],
                                       hand[6])
        total = 0.0
        for swap in range(2):
            node = 0
            while terminal[node] == DECISION:
                p = player[node]
                rnd = round_[node]
                a_is_acting = (p == 0) == (swap == 0)
                agent = agent_a if a_is_acting else agent_b
                policy = policy_a if a_is_acting else policy_b
                if agent == 5 and strengths[p, rnd] < 0.0:
                    strengths[p, rnd] = hand_strength(deck[2 * p], deck[2 * p + 1], deck[4:9],
                                                      2 + rnd)
                row = row_offset[node] + buckets[p, rnd] * row_stride[node]
                a = _choose(agent, policy, row, node, num_actions_[node], action_kind,
                            action_amount, contrib, p, strengths[p, rnd], rng, probs)
                node = children[node, a]
            seat_of_a = 0 if swap == 0 else 1
            total += terminal_utility(contrib, folded, terminal, pot, equal_live, node,
                                      seat_of_a, showdown, 2)
        out[d] = total / 2.0
    return out


__all__ = ["AGENT_NAMES", "Agent", "FOLD_TERMINAL", "hand_strength", "play_duplicate",
           "preflop_equities"]
