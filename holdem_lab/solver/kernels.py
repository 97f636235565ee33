"""Numba kernels of the MCCFR engine: dealing, terminal utilities, regret matching, the external-
and outcome-sampling traversals, discounting, and the iteration loop.

Everything here works on `GameArrays` and dense float64 tables indexed by infoset row; there is no
recursion (a numba call marshals every array argument, so the traversals keep an explicit stack).
All randomness comes from the one `numpy.random.Generator` passed in, so its state plus the
tables determine the run exactly.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from holdem_lab.games.tree import DECISION, FOLD_TERMINAL

SAMPLING_EXTERNAL = 0
SAMPLING_OUTCOME = 1
DISCOUNT_NONE = 0
DISCOUNT_LINEAR = 1
DISCOUNT_DCFR = 2

# Indices into the int64 statistics vector the kernels accumulate.
STAT_NODES = 0  # nodes visited
STAT_PRUNED_ITERATIONS = 1  # iterations in which pruning was active
STAT_PRUNED_ACTIONS = 2  # traverser actions skipped by pruning
STAT_TRAVERSALS = 3
NUM_STATS = 4


# ---------------------------------------------------------------- dealing and showdown
# Kernels take the arrays they use rather than the GameArrays tuple: reading fields of a tuple
# inside a loop, or passing it to a non-inlined call, costs reference counting on every array.


@njit(cache=True, inline="always")
def hand_strength_small(card_rank, showdown_kind, hole, board):
    """Showdown strength for Kuhn (higher card) and Leduc (pair with the board, then rank)."""
    rank = card_rank[hole]
    if showdown_kind == 1 and board >= 0 and card_rank[board] == rank:
        return 1000 + rank
    return rank


@njit(cache=True, inline="always")
def deal_from_cards_arrays(num_players, num_rounds, hole_cards, board_total, board_visible,
                           deck_size, card_rank, showdown_kind, bucket_table, cards, buckets,
                           strength):
    """Fill `buckets[player, round]` and `strength[player]` from the dealt `cards`: players' hole
    cards first (hole_cards each, player by player), then the board."""
    board_start = num_players * hole_cards
    last_board = cards[board_start] if board_total > 0 else -1
    for p in range(num_players):
        hole = cards[p * hole_cards]
        for r in range(num_rounds):
            board = cards[board_start] if board_visible[r] > 0 else deck_size
            buckets[p, r] = bucket_table[r, hole, board]
        strength[p] = hand_strength_small(card_rank, showdown_kind, hole, last_board)


@njit(cache=True)
def deal_from_cards(g, cards, buckets, strength):
    """deal_from_cards_arrays for a GameArrays (used outside the hot loop)."""
    deal_from_cards_arrays(g.num_players, g.num_rounds, g.hole_cards, g.board_total,
                           g.board_visible, g.deck_size, g.card_rank, g.showdown_kind,
                           g.small_bucket_table, cards, buckets, strength)


@njit(cache=True, inline="always")
def shuffle_prefix(rng, deck, cards, count):
    """Uniform draw of `count` cards without replacement (partial Fisher-Yates on `deck`)."""
    n = deck.shape[0]
    for i in range(n):
        deck[i] = i
    for j in range(count):
        r = j + int(rng.random() * (n - j))
        if r >= n:
            r = n - 1
        tmp = deck[j]
        deck[j] = deck[r]
        deck[r] = tmp
        cards[j] = deck[j]


@njit(cache=True, inline="always")
def terminal_utility(contrib, folded, terminal, pot, equal_live, node, player, strength,
                     num_players):
    """Chips won (or lost) by `player` at terminal `node`. A fold terminal pays the pot to the one
    live player. A showdown splits the pot evenly (fractional chips) between the best live hands,
    in side-pot layers when live players put in different amounts."""
    mine = contrib[node, player]
    if folded[node, player] != 0:
        return -mine
    if terminal[node] == FOLD_TERMINAL:
        return pot[node] - mine
    if equal_live[node] != 0:
        best = -1
        winners = 0
        for p in range(num_players):
            if folded[node, p] == 0:
                s = strength[p]
                if s > best:
                    best = s
                    winners = 1
                elif s == best:
                    winners += 1
        if strength[player] == best:
            return pot[node] / winners - mine
        return -mine
    won = 0.0
    previous = 0.0
    while True:
        level = np.inf
        for p in range(num_players):
            c = contrib[node, p]
            if folded[node, p] == 0 and c > previous and c < level:
                level = c
        if level == np.inf:
            break
        layer = 0.0
        for p in range(num_players):
            c = contrib[node, p]
            layer += min(c, level) - min(c, previous)
        best = -1
        winners = 0
        for p in range(num_players):
            if folded[node, p] == 0 and contrib[node, p] >= level:
                s = strength[p]
                if s > best:
                    best = s
                    winners = 1
                elif s == best:
                    winners += 1
        if mine >= level and strength[player] == best:
            won += layer / winners
        previous = level
    return won - mine


@njit(cache=True)
def terminal_utilities(g, pot, equal_live, strengths):
    """Utilities (num_nodes, num_deals, num_players) for every terminal node and deal."""
    num_nodes = g.player.shape[0]
    num_deals = strengths.shape[0]
    out = np.zeros((num_nodes, num_deals, g.num_players))
    for node in range(num_nodes):
        if g.terminal[node] == DECISION:
            continue
        for d in range(num_deals):
            for p in range(g.num_players):
                out[node, d, p] = terminal_utility(g.contrib, g.folded, g.terminal, pot,
                                                   equal_live, node, p, strengths[d],
                                                   g.num_players)
    return out


# ---------------------------------------------------------------- strategies


@njit(cache=True, inline="always")
def regret_matching(regrets, row: int, num_actions: int, out, depth: int) -> None:
    """sigma(a) proportional to positive regret; uniform when no regret is positive."""
    total = 0.0
    for a in range(num_actions):
        r = regrets[row, a]
        if r > 0.0:
            total += r
    if total > 0.0:
        for a in range(num_actions):
            r = regrets[row, a]
            out[depth, a] = r / total if r > 0.0 else 0.0
    else:
        uniform = 1.0 / num_actions
        for a in range(num_actions):
            out[depth, a] = uniform


@njit(cache=True, inline="always")
def sample_action(probs, depth: int, num_actions: int, rng) -> int:
    """Draw an action from `probs`; never returns an action of probability zero."""
    x = rng.random()
    cumulative = 0.0
    last = 0
    for a in range(num_actions):
        p = probs[depth, a]
        if p > 0.0:
            cumulative += p
            last = a
            if x < cumulative:
                return a
    return last


# ---------------------------------------------------------------- external sampling


@njit(cache=True, inline="always")
def _prunable(round_, terminal, last_round, node, child, regret, threshold):
    return round_[node] != last_round and terminal[child] == DECISION and regret < threshold


@njit(cache=True)
def apply_discount(regrets, strategy_sum, mode, step, alpha, beta, gamma) -> None:
    """Discount step `step` (k >= 1): Linear CFR multiplies everything by k/(k+1); DCFR (Brown &
    Sandholm 2019) multiplies positive regrets by k^a/(k^a+1), negative ones by k^b/(k^b+1) and
    the strategy sum by (k/(k+1))^g."""
    k = float(step)
    if mode == DISCOUNT_LINEAR:
        factor = k / (k + 1.0)
        regrets *= factor
        strategy_sum *= factor
        return
    ka = k ** alpha
    kb = k ** beta
    positive = ka / (ka + 1.0)
    negative = kb / (kb + 1.0)
    flat = regrets.reshape(-1)
    for i in range(flat.shape[0]):
        r = flat[i]
        if r > 0.0:
            flat[i] = r * positive
        elif r < 0.0:
            flat[i] = r * negative
    strategy_sum *= (k / (k + 1.0)) ** gamma


@njit(cache=True, inline="always")
def epsilon_at(iteration, base_epsilon, schedule_iterations, schedule_values) -> float:
    value = base_epsilon
    for i in range(schedule_iterations.shape[0]):
        if iteration >= schedule_iterations[i]:
            value = schedule_values[i]
        else:
            break
    return value


# Parameter vectors passed to run_iterations (see Solver._parameters).
I_SAMPLING, I_DISCOUNT_MODE, I_DISCOUNT_INTERVAL, I_DISCOUNT_STOP, I_PRUNING, I_PRUNE_WARMUP, \
    I_USE_FLOOR = range(7)
F_EPSILON, F_ALPHA, F_BETA, F_GAMMA, F_PRUNE_THRESHOLD, F_PRUNE_PROBABILITY, F_REGRET_FLOOR = \
    range(7)
NUM_IPARAMS = 7
NUM_FPARAMS = 7


@njit(cache=True, inline="always")
def _pruned_iteration(rng, t, iparams, fparams, stats):
    """Pluribus: after the warm-up, an iteration prunes with probability prune_probability."""
    if iparams[I_PRUNING] != 0 and t > iparams[I_PRUNE_WARMUP] \
            and rng.random() < fparams[F_PRUNE_PROBABILITY]:
        stats[STAT_PRUNED_ITERATIONS] += 1
        return True
    return False


@njit(cache=True, inline="always")
def _discount_after(t, regrets, strategy_sum, iparams, fparams, discount_steps):
    """Apply the next discount step after iteration t when t is a multiple of the interval."""
    mode = iparams[I_DISCOUNT_MODE]
    stop = iparams[I_DISCOUNT_STOP]
    if mode != DISCOUNT_NONE and t % iparams[I_DISCOUNT_INTERVAL] == 0 and (stop <= 0 or t <= stop):
        discount_steps += 1
        apply_discount(regrets, strategy_sum, mode, discount_steps, fparams[F_ALPHA],
                       fparams[F_BETA], fparams[F_GAMMA])
    return discount_steps


@njit(cache=True)
def run_iterations(g, regrets, strategy_sum, rng, first_iteration, num_iterations, iparams,
                   fparams, schedule_iterations, schedule_values, discount_steps, stats):
    """Run iterations first_iteration .. first_iteration + num_iterations - 1 (1-based t). One
    iteration is one traversal per player, each on a fresh deal. After iteration t, if t is a
    multiple of the discount interval (and t <= the stop iteration when that is > 0), the next
    discount step is applied. Returns the number of discount steps applied so far."""
    if iparams[I_SAMPLING] == SAMPLING_EXTERNAL:
        return _run_external(
            g.num_players, g.num_rounds, g.max_depth, g.player, g.round, g.num_actions,
            g.children, g.terminal, g.row_offset, g.contrib, g.folded, g.pot, g.equal_live,
            g.hole_cards, g.board_total, g.board_visible, g.deck_size, g.card_rank,
            g.showdown_kind, g.small_bucket_table, regrets, strategy_sum, rng, first_iteration,
            num_iterations, iparams, fparams, discount_steps, stats)
    return _run_outcome(
        g.num_players, g.num_rounds, g.max_depth, g.player, g.round, g.num_actions, g.children,
        g.terminal, g.row_offset, g.contrib, g.folded, g.pot, g.equal_live, g.hole_cards,
        g.board_total, g.board_visible, g.deck_size, g.card_rank, g.showdown_kind,
        g.small_bucket_table, regrets, strategy_sum, rng, first_iteration, num_iterations,
        iparams, fparams, schedule_iterations, schedule_values, discount_steps, stats)


# ---------------------------------------------------------------- external sampling


@njit(cache=True)
def _run_external(num_players, num_rounds, max_depth, player, round_, num_actions_, children,
                  terminal, row_offset, contrib, folded, pot, equal_live, hole_cards,
                  board_total, board_visible, deck_size, card_rank, showdown_kind, bucket_table,
                  regrets, strategy_sum, rng, first_iteration, num_iterations, iparams, fparams,
                  discount_steps, stats):
    """External-sampling MCCFR (Lanctot et al. 2009). Each traversal explores every action of
    the traverser, samples one action of every other player from the current strategy and adds
    that player's strategy to its strategy sum. In a pruned iteration (Pluribus) traverser actions
    whose regret is below the threshold are skipped, except on the last round and where the action
    ends the hand; the node's value then sums over the explored actions only.

    The traversal keeps an explicit stack of traverser nodes (opponent nodes are passed through,
    terminal children are handled like any node) inside this one function: no call per node or
    per traversal, which is what makes numba fast here."""
    last_round = num_rounds - 1
    prune_threshold = fparams[F_PRUNE_THRESHOLD]
    use_floor = iparams[I_USE_FLOOR] != 0
    regret_floor = fparams[F_REGRET_FLOOR]
    dealt = num_players * hole_cards + board_total
    depth_cap = max_depth + 1
    max_actions = children.shape[1]
    deck = np.empty(deck_size, dtype=np.int64)
    cards = np.empty(deck_size, dtype=np.int64)
    buckets = np.empty((num_players, num_rounds), dtype=np.int64)
    strength = np.empty(num_players, dtype=np.int64)
    stack_node = np.empty(depth_cap, dtype=np.int64)
    stack_next = np.empty(depth_cap, dtype=np.int64)
    stack_row = np.empty(depth_cap, dtype=np.int64)
    sigma = np.zeros((depth_cap, max_actions))
    values = np.zeros((depth_cap, max_actions))
    explored = np.zeros((depth_cap, max_actions), dtype=np.bool_)
    visited = 0
    for it in range(num_iterations):
        t = first_iteration + it
        prune = _pruned_iteration(rng, t, iparams, fparams, stats)
        for traverser in range(num_players):
            shuffle_prefix(rng, deck, cards, dealt)
            deal_from_cards_arrays(num_players, num_rounds, hole_cards, board_total,
                                   board_visible, deck_size, card_rank, showdown_kind,
                                   bucket_table, cards, buckets, strength)
            # Frames of traverser nodes live at stack[depth]; `descend` is True while walking
            # down from `node`, False while handing `ret` up to the frame below.
            depth = 0
            node = 0
            ret = 0.0
            descend = True
            while True:
                if descend:
                    visited += 1
                    if terminal[node] != DECISION:
                        ret = terminal_utility(contrib, folded, terminal, pot, equal_live, node,
                                               traverser, strength, num_players)
                        descend = False
                        continue
                    p = player[node]
                    num_actions = num_actions_[node]
                    row = row_offset[node] + buckets[p, round_[node]]
                    regret_matching(regrets, row, num_actions, sigma, depth)
                    if p != traverser:
                        a = sample_action(sigma, depth, num_actions, rng)
                        for b in range(num_actions):
                            strategy_sum[row, b] += sigma[depth, b]
                        node = children[node, a]
                        continue
                    any_explored = False
                    for b in range(num_actions):
                        keep = not (prune and _prunable(round_, terminal, last_round, node,
                                                        children[node, b], regrets[row, b],
                                                        prune_threshold))
                        explored[depth, b] = keep
                        any_explored = any_explored or keep
                    if not any_explored:
                        for b in range(num_actions):
                            explored[depth, b] = True
                    stack_node[depth] = node
                    stack_row[depth] = row
                    a = 0
                else:
                    if depth == 0:
                        break
                    depth -= 1
                    node = stack_node[depth]
                    num_actions = num_actions_[node]
                    a = stack_next[depth]
                    values[depth, a] = ret
                    a += 1
                while a < num_actions and not explored[depth, a]:
                    a += 1
                if a < num_actions:
                    stack_next[depth] = a
                    node = children[node, a]
                    depth += 1
                    descend = True
                    continue
                row = stack_row[depth]
                value = 0.0
                for b in range(num_actions):
                    if explored[depth, b]:
                        value += sigma[depth, b] * values[depth, b]
                for b in range(num_actions):
                    if explored[depth, b]:
                        r = regrets[row, b] + values[depth, b] - value
                        if use_floor and r < regret_floor:
                            r = regret_floor
                        regrets[row, b] = r
                    else:
                        stats[STAT_PRUNED_ACTIONS] += 1
                ret = value
                descend = False
            stats[STAT_TRAVERSALS] += 1
        discount_steps = _discount_after(t, regrets, strategy_sum, iparams, fparams,
                                         discount_steps)
    stats[STAT_NODES] += visited
    return discount_steps


# ---------------------------------------------------------------- outcome sampling


@njit(cache=True)
def _run_outcome(num_players, num_rounds, max_depth, player, round_, num_actions_, children,
                 terminal, row_offset, contrib, folded, pot, equal_live, hole_cards,
                 board_total, board_visible, deck_size, card_rank, showdown_kind, bucket_table,
                 regrets, strategy_sum, rng, first_iteration, num_iterations, iparams, fparams,
                 schedule_iterations, schedule_values, discount_steps, stats):
    """Outcome-sampling MCCFR (Lanctot et al. 2009): one trajectory per traversal, the
    traverser's actions drawn from epsilon*uniform + (1-epsilon)*sigma, the others' from sigma.
    Regrets get importance-weighted sampled counterfactual values; strategy sums at the other
    players' infosets get sigma weighted by their reach over the sampling probability
    (stochastically weighted averaging). In a pruned iteration the traverser does not sample
    actions the pruning rule skips, and their regrets are left as they are."""
    last_round = num_rounds - 1
    prune_threshold = fparams[F_PRUNE_THRESHOLD]
    use_floor = iparams[I_USE_FLOOR] != 0
    regret_floor = fparams[F_REGRET_FLOOR]
    dealt = num_players * hole_cards + board_total
    depth_cap = max_depth + 1
    max_actions = children.shape[1]
    deck = np.empty(deck_size, dtype=np.int64)
    cards = np.empty(deck_size, dtype=np.int64)
    buckets = np.empty((num_players, num_rounds), dtype=np.int64)
    strength = np.empty(num_players, dtype=np.int64)
    path_node = np.empty(depth_cap, dtype=np.int64)
    path_row = np.empty(depth_cap, dtype=np.int64)
    path_action = np.empty(depth_cap, dtype=np.int64)
    path_q = np.empty(depth_cap)
    path_opp_reach = np.empty(depth_cap)
    path_sample_reach = np.empty(depth_cap)
    sigma = np.zeros((depth_cap, max_actions))
    sample_probs = np.zeros((depth_cap, max_actions))
    allowed = np.zeros((depth_cap, max_actions), dtype=np.bool_)
    visited = 0
    for it in range(num_iterations):
        t = first_iteration + it
        prune = _pruned_iteration(rng, t, iparams, fparams, stats)
        epsilon = epsilon_at(t, fparams[F_EPSILON], schedule_iterations, schedule_values)
        for traverser in range(num_players):
            shuffle_prefix(rng, deck, cards, dealt)
            deal_from_cards_arrays(num_players, num_rounds, hole_cards, board_total,
                                   board_visible, deck_size, card_rank, showdown_kind,
                                   bucket_table, cards, buckets, strength)
            node = 0
            depth = 0
            opp_reach = 1.0
            sample_reach = 1.0
            while terminal[node] == DECISION:
                visited += 1
                p = player[node]
                num_actions = num_actions_[node]
                row = row_offset[node] + buckets[p, round_[node]]
                regret_matching(regrets, row, num_actions, sigma, depth)
                if p == traverser:
                    count = 0
                    mass = 0.0
                    for b in range(num_actions):
                        keep = not (prune and _prunable(round_, terminal, last_round, node,
                                                        children[node, b], regrets[row, b],
                                                        prune_threshold))
                        allowed[depth, b] = keep
                        if keep:
                            count += 1
                            mass += sigma[depth, b]
                    if count == 0:
                        for b in range(num_actions):
                            allowed[depth, b] = True
                        count = num_actions
                        mass = 1.0
                    for b in range(num_actions):
                        if not allowed[depth, b]:
                            sample_probs[depth, b] = 0.0
                        elif mass > 0.0:
                            sample_probs[depth, b] = (epsilon / count
                                                      + (1.0 - epsilon) * sigma[depth, b] / mass)
                        else:
                            sample_probs[depth, b] = 1.0 / count
                else:
                    for b in range(num_actions):
                        sample_probs[depth, b] = sigma[depth, b]
                        allowed[depth, b] = True
                a = sample_action(sample_probs, depth, num_actions, rng)
                path_node[depth] = node
                path_row[depth] = row
                path_action[depth] = a
                path_q[depth] = sample_probs[depth, a]
                path_opp_reach[depth] = opp_reach
                path_sample_reach[depth] = sample_reach
                if p != traverser:
                    opp_reach *= sigma[depth, a]
                sample_reach *= sample_probs[depth, a]
                node = children[node, a]
                depth += 1
            visited += 1
            tail = terminal_utility(contrib, folded, terminal, pot, equal_live, node, traverser,
                                    strength, num_players)
            for d in range(depth - 1, -1, -1):
                node = path_node[d]
                row = path_row[d]
                a = path_action[d]
                num_actions = num_actions_[node]
                child_value = tail / path_q[d]
                value = sigma[d, a] * child_value
                weight = path_opp_reach[d] / path_sample_reach[d]
                if player[node] == traverser:
                    for b in range(num_actions):
                        if not allowed[d, b]:
                            stats[STAT_PRUNED_ACTIONS] += 1
                            continue
                        sampled = child_value if b == a else 0.0
                        r = regrets[row, b] + weight * (sampled - value)
                        if use_floor and r < regret_floor:
                            r = regret_floor
                        regrets[row, b] = r
                else:
                    for b in range(num_actions):
                        strategy_sum[row, b] += weight * sigma[d, b]
                tail = value
            stats[STAT_TRAVERSALS] += 1
        discount_steps = _discount_after(t, regrets, strategy_sum, iparams, fparams,
                                         discount_steps)
    stats[STAT_NODES] += visited
    return discount_steps
