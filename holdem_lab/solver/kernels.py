"""Numba kernels of the MCCFR engine: regret matching, the external- and outcome-sampling
traversals, discounting, and the iteration loop. Dealing and terminal payoffs are the game's
(holdem_lab.games.dealing and holdem_lab.games.payoffs), inlined here.

Everything here works on `GameArrays` and dense float64 tables indexed by infoset row; there is no
recursion (a numba call marshals every array argument, so the traversals keep an explicit stack).
The training loop reads the tree through `GameArrays.node_table`, one packed row per node (see
holdem_lab.games.game), so that a node visit touches one cache line of tree data.
All randomness comes from the one random stream passed in (holdem_lab.games.streams: a counter
stream, or a `numpy.random.Generator`), so its state plus the tables determine the run exactly.
"""

from __future__ import annotations

import numpy as np
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic

from holdem_lab.games.dealing import deal_cards, deal_holdem, deal_small
from holdem_lab.games.game import NODE_CHILDREN, NODE_ROW_OFFSET, NODE_ROW_STRIDE, NODE_WORD
from holdem_lab.games.numba_tools import borrowed, prefetch
from holdem_lab.games.payoffs import terminal_payoff
from holdem_lab.games.streams import uniform
from holdem_lab.games.tree import DECISION

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

LOG_GROUP_SHIFT = 3
"""A logged row's part is (row >> LOG_GROUP_SHIFT) modulo the number of parts: eight consecutive
rows share a part, so that two threads merging different parts never write one cache line."""

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


# ---------------------------------------------------------------- strategies


# Lazy discounting. The tables hold each value divided by the product of the discount factors of
# its class since the window start (positive regrets, negative regrets, strategy sums): a discount
# step then only multiplies three scalars, and an update converts between the two units. A
# window ends, and every value is brought to true units (a rescale: one pass over the tables),
# once a product falls below the scale floor of the table's dtype (SCALE_FLOORS), whose inverse
# keeps stored values far from overflow, or after WINDOW_STEPS steps, which bounds the rounding
# of the products.
SCALE_POSITIVE, SCALE_NEGATIVE, SCALE_STRATEGY = 0, 1, 2
"""Indices into the float64[6] scale vector: the products, then their inverses at +3."""
NUM_SCALES = 6
D_STEPS, D_WINDOW_START = 0, 1
"""Indices into the int64[2] discount vector: steps so far, and the step its window starts at."""
SCALE_FLOORS = {"float64": 2.0 ** -512, "float32": 2.0 ** -48}
"""The least scale product per table dtype: stored values are at most the true ones times its
inverse, which leaves float64 about 2^511 of headroom and float32 2^79."""
WINDOW_STEPS = 1 << 16


@njit(cache=True, nogil=True, inline="always")
def _power(x, e):
    """x ** e, without the library call for the exponents the published settings use."""
    if e == 0.0:
        return 1.0
    if e == 1.0:
        return x
    if e == 2.0:
        return x * x
    if e == 0.5:
        return np.sqrt(x)
    if e == 1.5:
        return x * np.sqrt(x)
    return x ** e


@njit(cache=True, nogil=True, inline="always")
def _inverse(x):
    """1/x, and 0 for a product that underflowed (its window ends before any update)."""
    return 1.0 / x if x > 0.0 else 0.0


@njit(cache=True, nogil=True)
def step_factors(mode, step, alpha, beta, gamma):
    """The factors of discount step `step` (k >= 1) for positive regrets, negative regrets and
    strategy sums: Linear CFR multiplies everything by k/(k+1); DCFR (Brown & Sandholm 2019)
    multiplies positive regrets by k^a/(k^a+1), negative ones by k^b/(k^b+1) and the strategy
    sum by (k/(k+1))^g."""
    k = float(step)
    if mode == DISCOUNT_LINEAR:
        factor = k / (k + 1.0)
        return factor, factor, factor
    ka = _power(k, alpha)
    kb = _power(k, beta)
    return ka / (ka + 1.0), kb / (kb + 1.0), _power(k / (k + 1.0), gamma)


@njit(cache=True, nogil=True, inline="always")
def updated_regret(stored, add, subtract, discounted, scale_positive, scale_negative,
                   inverse_positive, inverse_negative, use_floor, regret_floor):
    """A stored regret after `add - subtract` (true units) is added to it: converted to true
    units by the scale of its sign, floored, and stored back by the inverse of its new sign.
    The two addends keep the external update's `(r + v) - value` order, so that its bits
    without discounting stay as they are; scalars only, so that inlining costs no reference
    counting."""
    r = stored
    if discounted:
        r *= scale_positive if r > 0.0 else scale_negative
    r = r + add - subtract
    if use_floor and r < regret_floor:
        r = regret_floor
    if discounted:
        r *= inverse_positive if r > 0.0 else inverse_negative
    return r


@njit(cache=True, nogil=True, inline="always")
def discounted_scales(mode, step, alpha, beta, gamma, positive, negative, average):
    """The three scale products after discount step `step`, as `advance_discount` and the
    training loop both take it (they must agree bit for bit: `window_scale` rebuilds a
    resumed run's scales by the former)."""
    factor_positive, factor_negative, factor_average = step_factors(mode, step, alpha, beta,
                                                                    gamma)
    return positive * factor_positive, negative * factor_negative, average * factor_average


@njit(cache=True, nogil=True)
def advance_discount(mode, discount, scale, count, alpha, beta, gamma, floor):
    """Take `count` discount steps: multiply the scale products by their factors, one step at a
    time. Returns True when the window must end (`rescale_rows` over every row, then
    `end_window`)."""
    for _ in range(count):
        discount[D_STEPS] += 1
        scale[SCALE_POSITIVE], scale[SCALE_NEGATIVE], scale[SCALE_STRATEGY] = \
            discounted_scales(mode, discount[D_STEPS], alpha, beta, gamma,
                              scale[SCALE_POSITIVE], scale[SCALE_NEGATIVE],
                              scale[SCALE_STRATEGY])
    for c in range(3):
        scale[3 + c] = _inverse(scale[c])
    return min(scale[SCALE_POSITIVE], scale[SCALE_NEGATIVE], scale[SCALE_STRATEGY]) \
        < floor or discount[D_STEPS] - discount[D_WINDOW_START] >= WINDOW_STEPS


@njit(cache=True, nogil=True)
def end_window(discount, scale):
    """Start a new window at the current step (after every row was rescaled)."""
    discount[D_WINDOW_START] = discount[D_STEPS]
    for c in range(NUM_SCALES):
        scale[c] = 1.0


@njit(cache=True, nogil=True)
def rescale_rows(regrets, strategy_sum, first, stride, group, scale):
    """Bring rows to true units: rows first .. first+group-1 of both tables, then every
    `stride` rows on (strided so that threads can rescale disjoint groups of rows)."""
    positive = scale[SCALE_POSITIVE]
    negative = scale[SCALE_NEGATIVE]
    average = scale[SCALE_STRATEGY]
    width = regrets.shape[1]
    end = regrets.shape[0]
    for start in range(first, end, stride):
        for row in range(start, min(start + group, end)):
            for b in range(width):
                r = regrets[row, b]
                if r > 0.0:
                    regrets[row, b] = r * positive
                elif r < 0.0:
                    regrets[row, b] = r * negative
    end = strategy_sum.shape[0]
    for start in range(first, end, stride):
        for row in range(start, min(start + group, end)):
            for b in range(width):
                strategy_sum[row, b] *= average


@njit(cache=True, nogil=True)
def window_scale(mode, window_start, steps, alpha, beta, gamma):
    """The scale vector of a window that started at `window_start`, after `steps` steps: the
    same products, in the same order, as `advance_discount` made them."""
    if mode == DISCOUNT_NONE:
        return np.ones(NUM_SCALES)
    discount = np.empty(2, dtype=np.int64)
    discount[D_STEPS] = window_start
    discount[D_WINDOW_START] = window_start
    scale = np.ones(NUM_SCALES)
    advance_discount(mode, discount, scale, steps - window_start, alpha, beta, gamma, 0.0)
    return scale


# Parameter vectors passed to run_iterations (see Solver._parameters).
I_SAMPLING, I_DISCOUNT_MODE, I_DISCOUNT_INTERVAL, I_DISCOUNT_STOP, I_PRUNING, I_PRUNE_WARMUP, \
    I_USE_FLOOR = range(7)
F_EPSILON, F_ALPHA, F_BETA, F_GAMMA, F_PRUNE_THRESHOLD, F_PRUNE_PROBABILITY, F_REGRET_FLOOR, \
    F_SCALE_FLOOR = range(8)
NUM_IPARAMS = 7
NUM_FPARAMS = 8


@njit(cache=True, nogil=True)
def run_iterations(g, regrets, strategy_sum, sum_shift, rng, first_iteration, num_iterations,
                   iparams, fparams, schedule_iterations, schedule_values, discount, scale,
                   stats, control, log_rows=None, log_values=None, log_count=None):
    """Run iterations first_iteration .. first_iteration + num_iterations - 1 (1-based t). One
    iteration deals the cards once, then runs one traversal per player on that deal: each walk
    is still an unbiased sample of its player's regrets, and sharing the chance outcome between
    the walks halves the dealing and bucket lookups. After iteration t, if t is a multiple of
    the discount interval (and t <= the stop iteration when that is > 0), the next discount
    step is taken (`discount` and `scale`: lazy discounting, see `advance_discount`). Returns
    the number of discount steps taken so far.

    `control` (int64[2]) is shared with the caller while the kernel runs without the GIL:
    control[1] receives each completed iteration, and a non-zero control[0] stops the run after
    the iteration in progress (a signal handler's graceful stop). With the `log_*` arrays, the
    iterations are a shard's of the sharded engine (`_train`'s logged mode)."""
    cards = np.empty(g.deck_size, dtype=np.int64)
    hand = np.empty(7, dtype=np.int64)
    buckets = np.empty((g.num_players, g.num_rounds), dtype=np.int64)
    strength = np.empty(g.num_players, dtype=np.int64)
    return _train(
        g.num_players, g.num_rounds, g.max_depth, g.node_table, g.node_amounts, g.node_contrib,
        g.node_folded, g.hole_cards, g.board_total, g.board_visible, g.deck_size, g.card_rank,
        g.showdown_kind, g.small_bucket_table, g.bucket_kind, g.holdem_bucket_tables,
        g.holdem_table_offsets, cards, hand, buckets, strength, regrets, strategy_sum, sum_shift,
        rng,
        first_iteration, num_iterations, iparams, fparams, schedule_iterations, schedule_values,
        discount, scale, stats, control, log_rows, log_values, log_count)


@njit(cache=True, nogil=True)
def _train(num_players, num_rounds, max_depth, nodes, amounts, node_contrib, node_folded,
           hole_cards, board_total, board_visible, deck_size, card_rank, showdown_kind,
           bucket_table, bucket_kind, holdem_tables, holdem_offsets, cards, hand, buckets,
           strength, regrets, strategy_sum, sum_shift, rng, first_iteration, num_iterations,
           iparams,
           fparams, schedule_iterations, schedule_values, discount, scale, stats, control,
           log_rows, log_values, log_count):
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

    The tables are in the units of lazy discounting (`advance_discount`): a regret is read as
    its stored value times the scale of its sign, and an update is stored divided by it. Regret
    matching needs no conversion, since all positive regrets of a row share one scale.

    Logged mode (`log_rows` given, the sharded engine's shards): the tables are only read, as
    they were at the batch start; every update is appended to the log instead, one entry per
    updated row, in the log part of its row (`log_part(row, parts)`): `log_rows[part, e]` =
    2*row + (0 for regret deltas, 1 for strategy-sum additions) and `log_values[part, e]` the
    row's deltas in true units (regret floors are applied when the log is merged);
    `log_count[part]` counts them. A full part counts its entries without storing them, so the
    caller can grow the log and rerun the shard. Discounting and the control words are then the
    caller's. With `log_rows` None numba compiles the direct-update form alone.

    Everything per node is written out in this one function or inlined into it on purpose:
    numba turns a call with array arguments, inlined or not, into atomic reference-count
    updates on every array, which cost more than the node's own work; the inlined terminal
    payoff therefore reads borrowed views, which have no count to update."""
    external = iparams[I_SAMPLING] == SAMPLING_EXTERNAL
    last_round = num_rounds - 1
    prune_threshold = fparams[F_PRUNE_THRESHOLD]
    use_floor = iparams[I_USE_FLOOR] != 0
    regret_floor = fparams[F_REGRET_FLOOR]
    dealt = num_players * hole_cards + board_total
    depth_cap = max_depth + 1
    max_actions = nodes.shape[1] - NODE_CHILDREN  # at least the most actions (with padding)
    row_width = regrets.shape[1]
    # The arrays the inlined dealing and payoff functions take, as views without reference
    # counts (see holdem_lab.games.numba_tools.borrowed); the caller keeps them alive.
    cards = borrowed(cards)
    hand = borrowed(hand)
    buckets = borrowed(buckets)
    strength = borrowed(strength)
    amounts = borrowed(amounts)
    node_contrib = borrowed(node_contrib)
    node_folded = borrowed(node_folded)
    board_visible = borrowed(board_visible)
    card_rank = borrowed(card_rank)
    bucket_table = borrowed(bucket_table)
    holdem_tables = borrowed(holdem_tables)
    holdem_offsets = borrowed(holdem_offsets)
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
    prefetch_rows = regrets.size * regrets.itemsize > (1 << 20)
    log_capacity = 0 if log_rows is None else log_rows.shape[1]
    part_mask = 0 if log_rows is None else log_rows.shape[0] - 1
    lp = 0  # the log part and entry of the row being logged
    le = 0
    mode = iparams[I_DISCOUNT_MODE]
    discounted = mode != DISCOUNT_NONE  # without discounting every scale stays 1
    stop = iparams[I_DISCOUNT_STOP]
    interval = iparams[I_DISCOUNT_INTERVAL]
    # The discount state lives in locals while the loop runs (see advance_discount, whose
    # arithmetic the step below repeats exactly) and goes back to its arrays at the end.
    steps = discount[D_STEPS]
    window_start = discount[D_WINDOW_START]
    scale_positive = scale[SCALE_POSITIVE]
    scale_negative = scale[SCALE_NEGATIVE]
    scale_strategy = scale[SCALE_STRATEGY]
    inverse_positive = scale[3 + SCALE_POSITIVE]
    inverse_negative = scale[3 + SCALE_NEGATIVE]
    # Logged mode logs strategy additions in true units.
    inverse_strategy = scale[3 + SCALE_STRATEGY] if log_rows is None else 1.0
    for it in range(num_iterations):
        t = first_iteration + it
        prune_cut = prune_threshold * inverse_negative  # the threshold in stored units
        prune = False
        if iparams[I_PRUNING] != 0 and t > iparams[I_PRUNE_WARMUP] \
                and uniform(rng) < fparams[F_PRUNE_PROBABILITY]:
            prune = True
            stats[STAT_PRUNED_ITERATIONS] += 1
        epsilon = fparams[F_EPSILON]
        for k in range(schedule_iterations.shape[0]):
            if t >= schedule_iterations[k]:
                epsilon = schedule_values[k]
        # Deal once per iteration, shared by every traverser's walk.
        deal_cards(rng, cards, dealt)
        if bucket_kind == BUCKETS_HOLDEM:
            deal_holdem(num_players, num_rounds, holdem_tables, holdem_offsets, cards, hand,
                        buckets, strength)
        else:
            deal_small(num_players, num_rounds, hole_cards, board_total, board_visible,
                       deck_size, card_rank, showdown_kind, bucket_table, cards, buckets,
                       strength)
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
                                ret = terminal_payoff(word, amounts, node_contrib,
                                                      node_folded, node, traverser, strength,
                                                      num_players)
                                descend = False
                                continue
                            p = word & 0xFF
                            rnd = (word >> 8) & 0xFF
                            num_actions = word >> 24
                            row = nodes[node, NODE_ROW_OFFSET] \
                                + buckets[p, rnd] * nodes[node, NODE_ROW_STRIDE]
                            if prefetch_rows:
                                for b in range(num_actions):
                                    child = nodes[node, NODE_CHILDREN + b]
                                    child_word = nodes[child, NODE_WORD]
                                    if (child_word >> 16) & 0xFF == DECISION:
                                        q_player = child_word & 0xFF
                                        child_row = nodes[child, NODE_ROW_OFFSET] \
                                            + nodes[child, NODE_ROW_STRIDE] \
                                            * buckets[q_player, (child_word >> 8) & 0xFF]
                                        prefetch(regrets, child_row * row_width)
                                        # Logged mode writes no table (nested: numba drops
                                        # a branch on `is None` alone).
                                        if log_rows is None:  # noqa: SIM102
                                            if q_player != traverser:
                                                shift = sum_shift[q_player,
                                                                  (child_word >> 8) & 0xFF]
                                                if shift >= 0:
                                                    prefetch(strategy_sum,
                                                             (child_row - shift) * row_width)
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
                                    x = uniform(rng) * total
                                    unit = inverse_strategy / total
                                else:
                                    x = uniform(rng) * num_actions
                                    unit = inverse_strategy / num_actions
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
                                shift = sum_shift[p, rnd]
                                srow = row - shift  # the row's strategy sum, if it has one
                                if shift < 0:
                                    pass
                                elif log_rows is None:
                                    for b in range(num_actions):
                                        strategy_sum[srow, b] += sigma[depth, b] * unit
                                else:
                                    lp = (srow >> LOG_GROUP_SHIFT) & part_mask
                                    le = log_count[lp]
                                    if le < log_capacity:
                                        log_rows[lp, le] = 2 * srow + 1
                                        for b in range(num_actions):
                                            log_values[lp, le, b] = sigma[depth, b] * unit
                                        for b in range(num_actions, row_width):
                                            log_values[lp, le, b] = 0.0
                                    log_count[lp] = le + 1
                                node = nodes[node, NODE_CHILDREN + a]
                                continue
                            if total > 0.0:
                                unit = 1.0 / total
                                for b in range(num_actions):
                                    sigma[depth, b] *= unit
                            else:
                                for b in range(num_actions):
                                    sigma[depth, b] = 1.0 / num_actions
                            mask = full_mask[num_actions]
                            if prune and rnd != last_round:
                                mask = 0
                                for b in range(num_actions):
                                    child = nodes[node, NODE_CHILDREN + b]
                                    if (nodes[child, NODE_WORD] >> 16) & 0xFF != DECISION \
                                            or regrets[row, b] >= prune_cut:
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
                        if log_rows is None:
                            for b in range(num_actions):
                                if (mask >> b) & 1:
                                    regrets[row, b] = updated_regret(
                                        regrets[row, b], values[depth, b], value, discounted,
                                        scale_positive, scale_negative, inverse_positive,
                                        inverse_negative, use_floor, regret_floor)
                                else:
                                    stats[STAT_PRUNED_ACTIONS] += 1
                        else:
                            lp = (row >> LOG_GROUP_SHIFT) & part_mask
                            le = log_count[lp]
                            store = le < log_capacity
                            if store:
                                log_rows[lp, le] = 2 * row
                            for b in range(num_actions):
                                delta = 0.0
                                if (mask >> b) & 1:
                                    delta = values[depth, b] - value
                                else:
                                    stats[STAT_PRUNED_ACTIONS] += 1
                                if store:
                                    log_values[lp, le, b] = delta
                            if store:
                                for b in range(num_actions, row_width):
                                    log_values[lp, le, b] = 0.0
                            log_count[lp] = le + 1
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
                            unit = 1.0 / total
                            for b in range(num_actions):
                                sigma[depth, b] *= unit
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
                                            and regrets[row, b] < prune_cut)
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
                        x = uniform(rng)
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
                    tail = terminal_payoff(word, amounts, node_contrib, node_folded, node,
                                           traverser, strength, num_players)
                    for d in range(depth - 1, -1, -1):
                        node = path_node[d]
                        row = path_row[d]
                        a = path_action[d]
                        word = nodes[node, NODE_WORD]
                        num_actions = word >> 24
                        child_value = tail / path_q[d]
                        value = sigma[d, a] * child_value
                        weight = path_opp_reach[d] / path_sample_reach[d]
                        if word & 0xFF != traverser:
                            shift = sum_shift[word & 0xFF, (word >> 8) & 0xFF]
                            if shift < 0:  # a round whose average is not kept
                                tail = value
                                continue
                            row -= shift  # the row's strategy sum
                        store = False
                        if log_rows is not None:
                            lp = (row >> LOG_GROUP_SHIFT) & part_mask
                            le = log_count[lp]
                            store = le < log_capacity
                            if store:
                                log_rows[lp, le] = 2 * row + (word & 0xFF != traverser)
                                for b in range(num_actions, row_width):
                                    log_values[lp, le, b] = 0.0
                            log_count[lp] = le + 1
                        if word & 0xFF == traverser:
                            for b in range(num_actions):
                                if not allowed[d, b]:
                                    stats[STAT_PRUNED_ACTIONS] += 1
                                    # Nested: numba drops a branch on `is None` alone.
                                    if log_rows is not None:  # noqa: SIM102
                                        if store:
                                            log_values[lp, le, b] = 0.0
                                    continue
                                sampled = child_value if b == a else 0.0
                                if log_rows is None:
                                    regrets[row, b] = updated_regret(
                                        regrets[row, b], weight * (sampled - value), 0.0,
                                        discounted, scale_positive, scale_negative,
                                        inverse_positive, inverse_negative, use_floor,
                                        regret_floor)
                                else:
                                    if store:
                                        log_values[lp, le, b] = weight * (sampled - value)
                        else:
                            unit = weight * inverse_strategy
                            for b in range(num_actions):
                                if log_rows is None:
                                    strategy_sum[row, b] += unit * sigma[d, b]
                                else:
                                    if store:
                                        log_values[lp, le, b] = weight * sigma[d, b]
                        tail = value
            stats[STAT_TRAVERSALS] += 1
        if log_rows is None:
            if mode != DISCOUNT_NONE and t % interval == 0 and (stop <= 0 or t <= stop):
                steps += 1
                scale_positive, scale_negative, scale_strategy = discounted_scales(
                    mode, steps, fparams[F_ALPHA], fparams[F_BETA], fparams[F_GAMMA],
                    scale_positive, scale_negative, scale_strategy)
                inverse_positive = _inverse(scale_positive)
                inverse_negative = _inverse(scale_negative)
                inverse_strategy = _inverse(scale_strategy)
                if min(scale_positive, scale_negative, scale_strategy) < fparams[F_SCALE_FLOOR] \
                        or steps - window_start >= WINDOW_STEPS:
                    scale[SCALE_POSITIVE] = scale_positive
                    scale[SCALE_NEGATIVE] = scale_negative
                    scale[SCALE_STRATEGY] = scale_strategy
                    rows = regrets.shape[0]
                    rescale_rows(regrets, strategy_sum, 0, max(rows, 1), rows, scale)
                    window_start = steps
                    scale_positive = scale_negative = scale_strategy = 1.0
                    inverse_positive = inverse_negative = inverse_strategy = 1.0
            _atomic_store(control, 1, t)
            if _atomic_load(control, 0) != 0:
                break
    if log_rows is None:
        discount[D_STEPS] = steps
        discount[D_WINDOW_START] = window_start
        scale[SCALE_POSITIVE] = scale_positive
        scale[SCALE_NEGATIVE] = scale_negative
        scale[SCALE_STRATEGY] = scale_strategy
        scale[3 + SCALE_POSITIVE] = inverse_positive
        scale[3 + SCALE_NEGATIVE] = inverse_negative
        scale[3 + SCALE_STRATEGY] = inverse_strategy
    stats[STAT_NODES] += visited
    return steps
