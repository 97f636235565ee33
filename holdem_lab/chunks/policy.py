"""A chunk's average policy, computed in row blocks so that a chunk holds it at most once.

`Solver.average_policy` normalises the whole strategy-sum table in one go, and its temporaries
(the masked sums, the uniform rows, the quotient, then the result) hold four tables beside the
solver's two: the peak of a multiway chunk, far above what its tables take. The normalisation
is row by row, so the same function applied to blocks of rows gives the same bits: evaluation
fills one table block by block, and a checkpoint streams the blocks straight to its file
(`StreamedArray`) without holding the policy at all.

Evaluation needs no normalised copy at all: matches and local best response normalise each row
as they read it, so they are handed the solver's tables themselves (`evaluation_policy`).
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from holdem_lab.checkpoint.arrays import StreamedArray
from holdem_lab.eval.agents import PolicyTables, policy_tables
from holdem_lab.solver.solver import Solver

POLICY_BLOCK_BYTES = 4 << 20
"""Rows of strategy sums normalised at a time (their temporaries are a few times this)."""


def average_policy_blocks(solver: Solver) -> Iterator[np.ndarray]:
    """`solver.average_policy()` as consecutive blocks of rows, equal bit for bit."""
    actions = solver.regrets.shape[1]
    step = max(1, POLICY_BLOCK_BYTES // (8 * max(actions, 1)))
    yield from solver.policy_blocks(solver.game.row_action_mask(), step)


def evaluation_policy(solver: Solver) -> PolicyTables:
    """What a chunk's matches and local best response play, read in place: the strategy sums
    (normalised row by row as they are read; lazy discounting scales every row alike), and with
    `average_rounds` the regrets on the other rounds (their regret-matching strategy, which
    their positive regrets' one scale does not change): the average policy without a copy."""
    if solver.strategy_sum.shape == solver.regrets.shape:
        return policy_tables(solver.strategy_sum)
    groups = solver.game.row_groups
    assert groups is not None  # packed sums need Hold'em's row groups
    bounds = groups.reshape(-1, 2).astype(np.int64)
    return PolicyTables(solver.strategy_sum, solver.regrets, np.ascontiguousarray(bounds[:, 0]),
                        np.ascontiguousarray(bounds[:, 1]),
                        solver.sum_shift.ravel().astype(np.int64))


def streamed_average_policy(solver: Solver) -> StreamedArray:
    """The average policy as a checkpoint stores it, computed block by block as it is written
    (the solver's tables must not change until the write returns)."""
    return StreamedArray(np.dtype(np.float64), solver.regrets.shape,
                         lambda: average_policy_blocks(solver))
