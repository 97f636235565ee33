"""Numba kernels of the MCCFR engine: dealing, terminal utilities, regret matching, the external-
and outcome-sampling traversals, discounting, and the iteration loop.

Everything here works on `GameArrays` and dense float64 tables indexed by infoset row; there is no
recursion (a numba call marshals every array argument, so the traversals keep an explicit stack).
The training loop reads the tree through `GameArrays.node_table`, one packed row per node (see
holdem_lab.games.game), so that a node visit touches one cache line of tree data.
All randomness comes from the one `numpy.random.Generator` passed in, so its state plus the
tables determine the run exactly.
"""

from __future__ import annotations

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic

from holdem_lab.cards.evaluator import eval7_kernel
from holdem_lab.cards.isomorphism import index_kernel, preflop_class_kernel
from holdem_lab.games.game import (
    NODE_CHILDREN,
    NODE_ROW_OFFSET,
    NODE_ROW_STRIDE,
    NODE_WORD,
    TERMINAL_CONTRIB,
    TERMINAL_EQUAL_LIVE,
    TERMINAL_POT,
)
from holdem_lab.games.tree import DECISION, FOLD_TERMINAL

BUCKETS_SMALL_TABLE = 0  # as holdem_lab.games.game
BUCKETS_HOLDEM = 1
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

MAX_ACTIONS = 62
"""Most actions a node may have: a traverser frame keeps its explored actions as bits of an
int64 mask."""


# ---------------------------------------------------------------- shared control words


@intrinsic
def _atomic_load(typingctx, array, index):
    """array[index] read with an atomic (monotonic) load: another thread's write is seen, and
    the read cannot be hoisted out of the training loop (numba tells LLVM that array arguments
    do not alias, which would otherwise let it read the stop flag once per call)."""
    def codegen(context, builder, signature, args):
        array_type = signature.args[0]
        view = context.make_array(array_type)(context, builder, args[0])
        pointer = cgutils.get_item_pointer(context, builder, array_type, view, [args[1]])
        return builder.load_atomic(pointer, "monotonic", 8)
    return types.int64(array, index), codegen


@intrinsic
def _atomic_store(typingctx, array, index, value):
    """array[index] = value with an atomic (monotonic) store, visible to another thread at once."""
    def codegen(context, builder, signature, args):
        array_type = signature.args[0]
        view = context.make_array(array_type)(context, builder, args[0])
        pointer = cgutils.get_item_pointer(context, builder, array_type, view, [args[1]])
        builder.store_atomic(args[2], pointer, "monotonic", 8)
        return context.get_dummy_value()
    return types.void(array, index, value), codegen


@intrinsic
def _prefetch(typingctx, array, flat_index):
    """Hint the CPU to start loading the cache line of element `flat_index` of a C-contiguous
    array (any dimension, counted in row-major order). It changes no value: it only lets cache
    misses that are known in advance overlap with other work."""
    def codegen(context, builder, signature, args):
        view = context.make_array(signature.args[0])(context, builder, args[0])
        pointer = builder.gep(view.data, [args[1]])
        byte_pointer = ir.IntType(8).as_pointer()
        i32 = ir.IntType(32)
        function = cgutils.get_or_insert_function(
            builder.module, ir.FunctionType(ir.VoidType(), [byte_pointer, i32, i32, i32]),
            "llvm.prefetch.p0")
        # read/write = 1 (the rows are updated), locality = 3 (keep in all levels), data cache
        builder.call(function, [builder.bitcast(pointer, byte_pointer), i32(1), i32(3), i32(1)])
        return context.get_dummy_value()
    return types.void(array, flat_index), codegen


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


@njit(cache=True)
def side_pot_utility(contrib, folded, node, player, strength, num_players):
    """Showdown with live players at different contribution levels: the pot is peeled in layers
    at each live level and each layer is split evenly between its best eligible hands."""
    mine = contrib[node, player]
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
def terminal_utility(contrib, folded, terminal, pot, equal_live, node, player, strength,
                     num_players):
    """Chips won (or lost) by `player` at terminal `node`. A fold terminal pays the pot to the one
    live player. A showdown splits the pot evenly (fractional chips) between the best live hands,
    in side-pot layers when live players put in different amounts. (The training kernels carry
    the same logic written out in place: a numba-inlined call with array arguments costs atomic
    reference counting on every array, at every node.)"""
    mine = contrib[node, player]
    if folded[node, player] != 0:
        return -mine
    if terminal[node] == FOLD_TERMINAL:
        return pot[node] - mine
    if equal_live[node] == 0:
        return side_pot_utility(contrib, folded, node, player, strength, num_players)
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


@njit(cache=True, nogil=True)
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


# Parameter vectors passed to run_iterations (see Solver._parameters).
I_SAMPLING, I_DISCOUNT_MODE, I_DISCOUNT_INTERVAL, I_DISCOUNT_STOP, I_PRUNING, I_PRUNE_WARMUP, \
    I_USE_FLOOR = range(7)
F_EPSILON, F_ALPHA, F_BETA, F_GAMMA, F_PRUNE_THRESHOLD, F_PRUNE_PROBABILITY, F_REGRET_FLOOR = \
    range(7)
NUM_IPARAMS = 7
NUM_FPARAMS = 7


@njit(cache=True, nogil=True)
def run_iterations(g, regrets, strategy_sum, rng, first_iteration, num_iterations, iparams,
                   fparams, schedule_iterations, schedule_values, discount_steps, stats,
                   control):
    """Run iterations first_iteration .. first_iteration + num_iterations - 1 (1-based t). One
    iteration deals the cards once, then runs one traversal per player on that deal: each walk
    is still an unbiased sample of its player's regrets, and sharing the chance outcome between
    the walks halves the dealing and bucket lookups. After iteration t, if t is a multiple of
    the discount interval (and t <= the stop iteration when that is > 0), the next discount
    step is applied. Returns the number of discount steps applied so far.

    `control` (int64[2]) is shared with the caller while the kernel runs without the GIL:
    control[1] receives each completed iteration, and a non-zero control[0] stops the run after
    the iteration in progress (a signal handler's graceful stop)."""
    return _train(
        g.num_players, g.num_rounds, g.max_depth, g.node_table, g.node_amounts, g.node_contrib,
        g.node_folded, g.hole_cards, g.board_total, g.board_visible, g.deck_size, g.card_rank,
        g.showdown_kind, g.small_bucket_table, g.bucket_kind, g.holdem_bucket_tables,
        g.holdem_table_offsets, regrets, strategy_sum, rng, first_iteration, num_iterations,
        iparams, fparams, schedule_iterations, schedule_values, discount_steps, stats, control)


@njit(cache=True, nogil=True)
def _train(num_players, num_rounds, max_depth, nodes, amounts, node_contrib, node_folded,
           hole_cards, board_total, board_visible, deck_size, card_rank, showdown_kind,
           bucket_table, bucket_kind, holdem_tables, holdem_offsets, regrets, strategy_sum, rng,
           first_iteration, num_iterations, iparams, fparams, schedule_iterations,
           schedule_values, discount_steps, stats, control):
    """The MCCFR loop, both sampling schemes (Lanctot et al. 2009).

    External sampling: each traversal explores every action of the traverser, samples one
    action of every other player from the current strategy and adds that player's strategy to
    its strategy sum. The walk keeps an explicit stack of traverser nodes; opponent nodes are
    passed through.

    Outcome sampling: one trajectory per traversal, the traverser's actions drawn from
    epsilon*uniform + (1-epsilon)*sigma, the others' from sigma. Regrets get
    importance-weighted sampled counterfactual values; strategy sums at the other players'
    infosets get sigma weighted by their reach over the sampling probability (stochastically
    weighted averaging).

    Pruning (Pluribus): in a pruned iteration traverser actions whose regret is below the
    threshold are skipped (external) or not sampled (outcome), except on the last round and where
    the action ends the hand; their regrets are left as they are.

    Everything per node is written out in this one function on purpose: numba turns a call
    with array arguments, inlined or not, into atomic reference-count updates on every array,
    which cost more than the node's own work."""
    external = iparams[I_SAMPLING] == SAMPLING_EXTERNAL
    last_round = num_rounds - 1
    prune_threshold = fparams[F_PRUNE_THRESHOLD]
    use_floor = iparams[I_USE_FLOOR] != 0
    regret_floor = fparams[F_REGRET_FLOOR]
    dealt = num_players * hole_cards + board_total
    board_start = num_players * hole_cards
    depth_cap = max_depth + 1
    max_actions = nodes.shape[1] - NODE_CHILDREN  # at least the most actions (with padding)
    row_width = regrets.shape[1]
    deck = np.empty(deck_size, dtype=np.int64)
    cards = np.empty(deck_size, dtype=np.int64)
    hand = np.empty(7, dtype=np.int64)
    buckets = np.empty((num_players, num_rounds), dtype=np.int64)
    strength = np.empty(num_players, dtype=np.int64)
    stack_node = np.empty(depth_cap, dtype=np.int64)
    stack_next = np.empty(depth_cap, dtype=np.int64)
    stack_row = np.empty(depth_cap, dtype=np.int64)
    stack_mask = np.empty(depth_cap, dtype=np.int64)
    full_mask = np.empty(max_actions + 1, dtype=np.int64)
    for b in range(max_actions + 1):
        full_mask[b] = (1 << b) - 1
    sigma = np.zeros((depth_cap, max_actions))
    values = np.zeros((depth_cap, max_actions))
    explored = np.zeros((depth_cap, max_actions), dtype=np.bool_)
    path_node = stack_node
    path_row = stack_row
    path_action = stack_next
    allowed = explored
    path_q = np.empty(depth_cap)
    path_opp_reach = np.empty(depth_cap)
    path_sample_reach = np.empty(depth_cap)
    sample_probs = np.zeros((depth_cap, max_actions))
    visited = 0
    # Tables larger than a core's L2 cache: fetch the rows of a node's children while the node
    # itself is being worked on, so that their cache misses overlap.
    prefetch = regrets.size * regrets.itemsize > (1 << 20)
    for it in range(num_iterations):
        t = first_iteration + it
        prune = False
        if iparams[I_PRUNING] != 0 and t > iparams[I_PRUNE_WARMUP] \
                and rng.random() < fparams[F_PRUNE_PROBABILITY]:
            prune = True
            stats[STAT_PRUNED_ITERATIONS] += 1
        epsilon = fparams[F_EPSILON]
        for k in range(schedule_iterations.shape[0]):
            if t >= schedule_iterations[k]:
                epsilon = schedule_values[k]
        # Deal, once per iteration and shared by every traverser's walk: uniform without
        # replacement (partial Fisher-Yates), then buckets and showdown strengths (Kuhn: higher
        # card; Leduc: a pair with the board, then rank).
        for i in range(deck_size):
            deck[i] = i
        for j in range(dealt):
            pick = j + int(rng.random() * (deck_size - j))
            if pick >= deck_size:
                pick = deck_size - 1
            tmp = deck[j]
            deck[j] = deck[pick]
            deck[pick] = tmp
            cards[j] = deck[j]
        if bucket_kind == BUCKETS_HOLDEM:
            # Hold'em: buckets through the suit-isomorphic index of (hole, visible board);
            # a round without a table is lossless preflop (169 classes) or one bucket.
            for j in range(5):
                hand[2 + j] = cards[board_start + j]
            for p in range(num_players):
                hand[0] = cards[2 * p]
                hand[1] = cards[2 * p + 1]
                for rnd in range(num_rounds):
                    start = holdem_offsets[rnd]
                    if rnd == 0:
                        index = preflop_class_kernel(hand[0], hand[1])
                    elif holdem_offsets[rnd + 1] > start:
                        index = index_kernel(hand, rnd)
                    else:
                        index = 0
                    if holdem_offsets[rnd + 1] > start:
                        index += start
                        _prefetch(holdem_tables, index)
                    buckets[p, rnd] = index
                strength[p] = eval7_kernel(hand[0], hand[1], hand[2], hand[3], hand[4],
                                           hand[5], hand[6])
            # The table reads come after every index is known, so that their cache misses
            # (the river table is large) overlap instead of following one another.
            for p in range(num_players):
                for rnd in range(num_rounds):
                    if holdem_offsets[rnd + 1] > holdem_offsets[rnd]:
                        buckets[p, rnd] = holdem_tables[buckets[p, rnd]]
        else:
            for p in range(num_players):
                hole = cards[p * hole_cards]
                for rnd in range(num_rounds):
                    board = cards[board_start] if board_visible[rnd] > 0 else deck_size
                    buckets[p, rnd] = bucket_table[rnd, hole, board]
                rank = card_rank[hole]
                if showdown_kind == 1 and board_total > 0 \
                        and card_rank[cards[board_start]] == rank:
                    rank += 1000
                strength[p] = rank
        for traverser in range(num_players):
            if external:
                    # Frames of traverser nodes live at stack[depth]; `descend` is True while
                    # walking down from `node`, False while handing `ret` to the frame below.
                    depth = 0
                    node = 0
                    ret = 0.0
                    descend = True
                    while True:
                        if descend:
                            visited += 1
                            word = nodes[node, NODE_WORD]
                            kind = (word >> 16) & 0xFF
                            if kind != DECISION:
                                mine = amounts[node, TERMINAL_CONTRIB + traverser]
                                if (word >> traverser) & 1:
                                    ret = -mine
                                elif kind == FOLD_TERMINAL:
                                    ret = amounts[node, TERMINAL_POT] - mine
                                elif word & TERMINAL_EQUAL_LIVE == 0:
                                    ret = side_pot_utility(node_contrib, node_folded, node,
                                                           traverser, strength, num_players)
                                else:
                                    best = -1
                                    winners = 0
                                    for p in range(num_players):
                                        if (word >> p) & 1 == 0:
                                            if strength[p] > best:
                                                best = strength[p]
                                                winners = 1
                                            elif strength[p] == best:
                                                winners += 1
                                    won = strength[traverser] == best
                                    ret = (amounts[node, TERMINAL_POT] / winners - mine if won
                                           else -mine)
                                descend = False
                                continue
                            p = word & 0xFF
                            rnd = (word >> 8) & 0xFF
                            num_actions = word >> 24
                            row = nodes[node, NODE_ROW_OFFSET] \
                                + buckets[p, rnd] * nodes[node, NODE_ROW_STRIDE]
                            if prefetch:
                                for b in range(num_actions):
                                    child = nodes[node, NODE_CHILDREN + b]
                                    child_word = nodes[child, NODE_WORD]
                                    if (child_word >> 16) & 0xFF == DECISION:
                                        q_player = child_word & 0xFF
                                        child_row = nodes[child, NODE_ROW_OFFSET] \
                                            + nodes[child, NODE_ROW_STRIDE] \
                                            * buckets[q_player, (child_word >> 8) & 0xFF]
                                        _prefetch(regrets, child_row * row_width)
                                        if q_player != traverser:
                                            _prefetch(strategy_sum, child_row * row_width)
                            total = 0.0
                            for b in range(num_actions):
                                positive = max(regrets[row, b], 0.0)
                                sigma[depth, b] = positive
                                total += positive
                            if p != traverser:
                                # Sample from the positive regrets scaled by the draw (no
                                # division on the path to the next node), then add the
                                # normalised strategy to the strategy sum.
                                if total > 0.0:
                                    x = rng.random() * total
                                    scale = 1.0 / total
                                else:
                                    x = rng.random() * num_actions
                                    scale = 1.0 / num_actions
                                    for b in range(num_actions):
                                        sigma[depth, b] = 1.0
                                cumulative = 0.0
                                a = 0
                                for b in range(num_actions):
                                    q = sigma[depth, b]
                                    if q > 0.0:
                                        a = b
                                        cumulative += q
                                        if x < cumulative:
                                            break
                                for b in range(num_actions):
                                    strategy_sum[row, b] += sigma[depth, b] * scale
                                node = nodes[node, NODE_CHILDREN + a]
                                continue
                            if total > 0.0:
                                scale = 1.0 / total
                                for b in range(num_actions):
                                    sigma[depth, b] *= scale
                            else:
                                for b in range(num_actions):
                                    sigma[depth, b] = 1.0 / num_actions
                            mask = full_mask[num_actions]
                            if prune and rnd != last_round:
                                mask = 0
                                for b in range(num_actions):
                                    child = nodes[node, NODE_CHILDREN + b]
                                    if (nodes[child, NODE_WORD] >> 16) & 0xFF != DECISION \
                                            or regrets[row, b] >= prune_threshold:
                                        mask |= 1 << b
                                if mask == 0:
                                    mask = full_mask[num_actions]
                            stack_mask[depth] = mask
                            stack_node[depth] = node
                            stack_row[depth] = row
                            a = 0
                        else:
                            if depth == 0:
                                break
                            depth -= 1
                            node = stack_node[depth]
                            num_actions = nodes[node, NODE_WORD] >> 24
                            a = stack_next[depth]
                            values[depth, a] = ret
                            a += 1
                        mask = stack_mask[depth]
                        while a < num_actions and (mask >> a) & 1 == 0:
                            a += 1
                        if a < num_actions:
                            stack_next[depth] = a
                            node = nodes[node, NODE_CHILDREN + a]
                            depth += 1
                            descend = True
                            continue
                        row = stack_row[depth]
                        value = 0.0
                        for b in range(num_actions):
                            if (mask >> b) & 1:
                                value += sigma[depth, b] * values[depth, b]
                        for b in range(num_actions):
                            if (mask >> b) & 1:
                                r = regrets[row, b] + values[depth, b] - value
                                if use_floor and r < regret_floor:
                                    r = regret_floor
                                regrets[row, b] = r
                            else:
                                stats[STAT_PRUNED_ACTIONS] += 1
                        ret = value
                        descend = False
            else:
                    node = 0
                    depth = 0
                    opp_reach = 1.0
                    sample_reach = 1.0
                    while True:
                        word = nodes[node, NODE_WORD]
                        if (word >> 16) & 0xFF != DECISION:
                            break
                        visited += 1
                        p = word & 0xFF
                        rnd = (word >> 8) & 0xFF
                        num_actions = word >> 24
                        row = nodes[node, NODE_ROW_OFFSET] \
                            + buckets[p, rnd] * nodes[node, NODE_ROW_STRIDE]
                        total = 0.0
                        for b in range(num_actions):
                            positive = max(regrets[row, b], 0.0)
                            sigma[depth, b] = positive
                            total += positive
                        if total > 0.0:
                            scale = 1.0 / total
                            for b in range(num_actions):
                                sigma[depth, b] *= scale
                        else:
                            for b in range(num_actions):
                                sigma[depth, b] = 1.0 / num_actions
                        if p == traverser:
                            count = 0
                            mass = 0.0
                            for b in range(num_actions):
                                child = nodes[node, NODE_CHILDREN + b]
                                keep = not (prune and rnd != last_round
                                            and (nodes[child, NODE_WORD] >> 16) & 0xFF == DECISION
                                            and regrets[row, b] < prune_threshold)
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
                                    share = sigma[depth, b] / mass
                                    sample_probs[depth, b] = (epsilon / count
                                                              + (1.0 - epsilon) * share)
                                else:
                                    sample_probs[depth, b] = 1.0 / count
                        else:
                            for b in range(num_actions):
                                sample_probs[depth, b] = sigma[depth, b]
                                allowed[depth, b] = True
                        x = rng.random()
                        cumulative = 0.0
                        a = 0
                        for b in range(num_actions):
                            q = sample_probs[depth, b]
                            if q > 0.0:
                                a = b
                                cumulative += q
                                if x < cumulative:
                                    break
                        path_node[depth] = node
                        path_row[depth] = row
                        path_action[depth] = a
                        path_q[depth] = sample_probs[depth, a]
                        path_opp_reach[depth] = opp_reach
                        path_sample_reach[depth] = sample_reach
                        if p != traverser:
                            opp_reach *= sigma[depth, a]
                        sample_reach *= sample_probs[depth, a]
                        node = nodes[node, NODE_CHILDREN + a]
                        depth += 1
                    visited += 1
                    mine = amounts[node, TERMINAL_CONTRIB + traverser]
                    if (word >> traverser) & 1:
                        tail = -mine
                    elif (word >> 16) & 0xFF == FOLD_TERMINAL:
                        tail = amounts[node, TERMINAL_POT] - mine
                    elif word & TERMINAL_EQUAL_LIVE == 0:
                        tail = side_pot_utility(node_contrib, node_folded, node, traverser,
                                                strength, num_players)
                    else:
                        best = -1
                        winners = 0
                        for p in range(num_players):
                            if (word >> p) & 1 == 0:
                                if strength[p] > best:
                                    best = strength[p]
                                    winners = 1
                                elif strength[p] == best:
                                    winners += 1
                        tail = (amounts[node, TERMINAL_POT] / winners - mine
                                if strength[traverser] == best else -mine)
                    for d in range(depth - 1, -1, -1):
                        node = path_node[d]
                        row = path_row[d]
                        a = path_action[d]
                        word = nodes[node, NODE_WORD]
                        num_actions = word >> 24
                        child_value = tail / path_q[d]
                        value = sigma[d, a] * child_value
                        weight = path_opp_reach[d] / path_sample_reach[d]
                        if word & 0xFF == traverser:
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
        mode = iparams[I_DISCOUNT_MODE]
        stop = iparams[I_DISCOUNT_STOP]
        if mode != DISCOUNT_NONE and t % iparams[I_DISCOUNT_INTERVAL] == 0 \
                and (stop <= 0 or t <= stop):
            discount_steps += 1
            apply_discount(regrets, strategy_sum, mode, discount_steps, fparams[F_ALPHA],
                           fparams[F_BETA], fparams[F_GAMMA])
        _atomic_store(control, 1, t)
        if _atomic_load(control, 0) != 0:
            break
    stats[STAT_NODES] += visited
    return discount_steps
