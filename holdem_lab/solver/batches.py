"""The sharded engine's numba kernels: batch-synchronous MCCFR whose result does not depend on
the number of threads.

A batch of `shards * shard_iterations` iterations is cut into `shards` shards. Shard s of the
batch that starts at iteration t0 runs iterations t0 + s*shard_iterations onwards with its own
counter stream (holdem_lab.games.streams, keyed by seed, batch and shard), reads the regrets as
they were at the batch start, and logs its updates (kernels._train's logged mode). The logs are
then merged into the tables in shard order, each thread owning a disjoint set of rows (a shard
logs each update into the part of its row, LOG_PARTS of them, and the merge hands out whole
parts), so every table entry receives the same additions in the same order whatever the thread
count. The two phases are separate kernels (`run_shards`, `merge_batch`) so that the shards of
a batch may also run in other processes, whose logs travel packed (`pack_logs`, `unpack_logs`:
holdem_lab.solver.cluster) and merge into each replica in the same order. Discount
steps due within the batch are taken after the merge (lazily: kernels.advance_discount), so
their factors act on the merged tables as one step with the combined factors would, the sign of
a regret at the batch end choosing its factor.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from holdem_lab.games.numba_tools import prefetch
from holdem_lab.games.streams import stream_key
from holdem_lab.solver.kernels import (
    DISCOUNT_DCFR,
    DISCOUNT_NONE,
    F_ALPHA,
    F_BETA,
    F_GAMMA,
    F_REGRET_FLOOR,
    F_SCALE_FLOOR,
    I_DISCOUNT_INTERVAL,
    I_DISCOUNT_MODE,
    I_DISCOUNT_STOP,
    I_USE_FLOOR,
    LOG_GROUP_SHIFT,
    NUM_STATS,
    SCALE_NEGATIVE,
    SCALE_POSITIVE,
    SCALE_STRATEGY,
    STAT_NODES,
    _atomic_load,
    _atomic_store,
    advance_discount,
    end_window,
    rescale_rows,
    run_iterations,
    updated_regret,
)

LOG_PARTS = 16
"""Row partitions of a shard's log and of the merge (a power of two, independent of the worker
count): a shard logs each update into its row's part, and the merge hands whole parts to the
workers, so each reads only its own entries."""
PREFETCH_AHEAD = 12


@njit(cache=True, nogil=True)
def _run_shard(g, regrets, strategy_sum, sum_shift, seed, batch_index, shard, first_iteration,
               num_iterations, iparams, fparams, schedule_iterations, schedule_values,
               discount, scale, shard_stats, control, log_rows, log_values, log_count):
    """One shard: its stream, its iterations, its log."""
    rng = np.empty(1, dtype=np.uint64)
    rng[0] = stream_key(seed, batch_index, shard)
    for k in range(shard_stats.shape[0]):
        shard_stats[k] = 0
    for k in range(log_count.shape[0]):
        log_count[k] = 0
    run_iterations(g, regrets, strategy_sum, sum_shift, rng, first_iteration, num_iterations,
                   iparams, fparams, schedule_iterations, schedule_values, discount, scale,
                   shard_stats, control, log_rows, log_values, log_count)


@njit(cache=True, nogil=True)
def _merge_part(regrets, strategy_sum, log_rows, log_values, log_counts, part, use_floor,
                regret_floor, scale):
    """Apply every shard's log entries of part `part`, in shard order and, within a shard, in
    the order they were logged (the logs are in true units, the tables in the scaled units of
    lazy discounting)."""
    width = regrets.shape[1]
    scale_positive = scale[SCALE_POSITIVE]
    scale_negative = scale[SCALE_NEGATIVE]
    inverse_positive = scale[3 + SCALE_POSITIVE]
    inverse_negative = scale[3 + SCALE_NEGATIVE]
    inverse_strategy = scale[3 + SCALE_STRATEGY]
    for s in range(log_rows.shape[0]):
        count = log_counts[s, part]
        for e in range(count):
            # The rows are scattered over tables larger than the cache: start loading the row
            # of an entry a few ahead while this one is applied.
            if e + PREFETCH_AHEAD < count:
                code = log_rows[s, part, e + PREFETCH_AHEAD]
                if code & 1:
                    prefetch(strategy_sum, (code >> 1) * width)
                else:
                    prefetch(regrets, (code >> 1) * width)
            code = log_rows[s, part, e]
            row = code >> 1
            if code & 1:
                for b in range(width):
                    strategy_sum[row, b] += log_values[s, part, e, b] * inverse_strategy
            else:
                for b in range(width):
                    regrets[row, b] = updated_regret(
                        regrets[row, b], log_values[s, part, e, b], 0.0, True, scale_positive,
                        scale_negative, inverse_positive, inverse_negative, use_floor,
                        regret_floor)


@njit(cache=True, nogil=True)
def discount_steps_in(iparams, first_iteration, last_iteration):
    """How many discount steps fall due after iterations first .. last."""
    mode = iparams[I_DISCOUNT_MODE]
    if mode == DISCOUNT_NONE:
        return 0
    interval = iparams[I_DISCOUNT_INTERVAL]
    stop = iparams[I_DISCOUNT_STOP]
    last = last_iteration if stop <= 0 else min(last_iteration, stop)
    if last < first_iteration:
        return 0
    return last // interval - (first_iteration - 1) // interval


@njit(cache=True, parallel=True, nogil=True)
def run_shards(g, regrets, strategy_sum, sum_shift, seed, t0, batch_iterations, first_shard,
               num_shards, iparams, fparams, schedule_iterations, schedule_values, discount,
               scale, shard_stats, control, log_rows, log_values, log_counts):
    """The shard phase of the batch that starts at iteration t0: shards first_shard ..
    first_shard + num_shards - 1 of its `log_rows.shape[0]`, each into its own log (index = shard
    number). Returns the log entries the fullest of their parts needed (more than the logs
    hold: they overflowed and must grow, and the shards run again)."""
    shard_iterations = batch_iterations // log_rows.shape[0]
    batch_index = (t0 - 1) // batch_iterations
    for i in prange(num_shards):
        s = first_shard + i
        _run_shard(g, regrets, strategy_sum, sum_shift, seed, batch_index, s,
                   t0 + s * shard_iterations, shard_iterations, iparams, fparams,
                   schedule_iterations, schedule_values, discount, scale, shard_stats[s],
                   control, log_rows[s], log_values[s], log_counts[s])
    needed = 0
    for i in range(num_shards):
        for part in range(LOG_PARTS):
            needed = max(needed, log_counts[first_shard + i, part])
    return needed


@njit(cache=True, parallel=True, nogil=True)
def merge_batch(regrets, strategy_sum, t0, batch_iterations, iparams, fparams, discount, scale,
                stats, shard_stats, log_rows, log_values, log_counts):
    """The merge phase of the batch that starts at iteration t0: every shard's log in shard
    order, the discount steps due within the batch, the shards' statistics. Returns the
    batch's last iteration."""
    use_floor = iparams[I_USE_FLOOR] != 0
    regret_floor = fparams[F_REGRET_FLOOR]
    mode = iparams[I_DISCOUNT_MODE]
    for part in prange(LOG_PARTS):
        _merge_part(regrets, strategy_sum, log_rows, log_values, log_counts, part,
                    use_floor, regret_floor, scale)
    t1 = t0 + batch_iterations - 1
    count = discount_steps_in(iparams, t0, t1)
    if count > 0 and advance_discount(mode, discount, scale, count, fparams[F_ALPHA],
                                      fparams[F_BETA], fparams[F_GAMMA],
                                      fparams[F_SCALE_FLOOR]):
        group = 1 << LOG_GROUP_SHIFT
        for part in prange(LOG_PARTS):
            rescale_rows(regrets, strategy_sum, part * group, LOG_PARTS * group, group, scale)
        end_window(discount, scale)
    for s in range(log_rows.shape[0]):
        for k in range(NUM_STATS):
            stats[k] += shard_stats[s, k]
    return t1


@njit(cache=True, nogil=True)
def run_batches(g, regrets, strategy_sum, sum_shift, seed, first_iteration, num_batches,
                shard_iterations, iparams, fparams, schedule_iterations, schedule_values,
                discount, scale, stats, shard_stats, control, log_rows, log_values, log_counts):
    """Run `num_batches` batches from iteration `first_iteration` (a batch boundary) on
    numba's threads (the caller sets their number): each batch's shard phase, then its merge
    phase. Returns (batches completed, log entries a log part needed): a batch whose logs
    overflowed is not merged and the second value says how large the log parts must grow (the
    caller grows them and reruns it, to the same result)."""
    shards = log_rows.shape[0]
    batch_iterations = shards * shard_iterations
    done = 0
    for batch in range(num_batches):
        t0 = first_iteration + batch * batch_iterations
        needed = run_shards(g, regrets, strategy_sum, sum_shift, seed, t0, batch_iterations, 0,
                            shards, iparams, fparams, schedule_iterations, schedule_values,
                            discount, scale, shard_stats, control, log_rows, log_values,
                            log_counts)
        if _atomic_load(control, 0) != 0:
            break  # a stop request: the batch is dropped unmerged and reruns on resume
        if needed > log_rows.shape[2]:
            return done, needed
        t1 = merge_batch(regrets, strategy_sum, t0, batch_iterations, iparams, fparams,
                         discount, scale, stats, shard_stats, log_rows, log_values, log_counts)
        done += 1
        _atomic_store(control, 1, t1)
        if _atomic_load(control, 0) != 0:
            break
    return done, 0


@njit(cache=True, nogil=True, inline="always")
def _kept_values(log_values, s, part, entry):
    """An entry's values up to its last one that is not +0.0 (the rest are the padding of rows
    with fewer actions than the widest, or true +0.0 deltas, restored exactly on unpacking)."""
    kept = log_values.shape[3]
    while kept > 0:
        v = log_values[s, part, entry, kept - 1]
        if v != 0.0 or math.copysign(1.0, v) < 0.0:
            break
        kept -= 1
    return kept


@njit(cache=True, nogil=True)
def pack_logs(first_shard, num_shards, shard_stats, log_rows, log_values, log_counts,
              code_type):
    """The logs of shards first_shard .. first_shard + num_shards - 1, compacted to send:
    (entry counts per shard and part, each entry's row code in shard then part order, as
    `code_type`'s dtype, each entry's number of values kept, the kept values one after another,
    the shards' statistics). Unused log capacity and trailing +0.0 values are dropped."""
    counts = np.zeros((num_shards, LOG_PARTS), dtype=np.int64)
    total = 0
    for i in range(num_shards):
        for part in range(LOG_PARTS):
            counts[i, part] = log_counts[first_shard + i, part]
            total += counts[i, part]
    codes = np.empty(total, dtype=code_type.dtype)
    lengths = np.empty(total, dtype=np.uint8)
    values = np.empty(total * log_values.shape[3])  # the most; a view of the used part goes
    stats = np.empty((num_shards, NUM_STATS), dtype=np.int64)
    e = 0
    v = 0
    for i in range(num_shards):
        s = first_shard + i
        for k in range(NUM_STATS):
            stats[i, k] = shard_stats[s, k]
        for part in range(LOG_PARTS):
            for entry in range(counts[i, part]):
                codes[e] = log_rows[s, part, entry]
                kept = _kept_values(log_values, s, part, entry)
                lengths[e] = kept
                for b in range(kept):
                    values[v + b] = log_values[s, part, entry, b]
                v += kept
                e += 1
    values = values[:v]
    return counts, codes, lengths, values, stats


@njit(cache=True, nogil=True)
def unpack_logs(first_shard, counts, codes, lengths, values, stats, shard_stats, log_rows,
                log_values, log_counts):
    """Put packed logs (`pack_logs`) back in place as shards first_shard onwards, exactly as
    they were logged; the logs must hold the largest count."""
    width = log_values.shape[3]
    e = 0
    v = 0
    for i in range(counts.shape[0]):
        s = first_shard + i
        for k in range(NUM_STATS):
            shard_stats[s, k] = stats[i, k]
        for part in range(LOG_PARTS):
            log_counts[s, part] = counts[i, part]
            for entry in range(counts[i, part]):
                log_rows[s, part, entry] = codes[e]
                kept = lengths[e]
                for b in range(kept):
                    log_values[s, part, entry, b] = values[v + b]
                for b in range(kept, width):
                    log_values[s, part, entry, b] = 0.0
                v += kept
                e += 1


__all__ = ["LOG_PARTS", "STAT_NODES", "DISCOUNT_DCFR", "discount_steps_in", "merge_batch",
           "pack_logs", "run_batches", "run_shards", "unpack_logs"]
