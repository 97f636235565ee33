"""A chunk's average policy, computed in row blocks so that a chunk holds it at most once.

`Solver.average_policy` normalises the whole strategy-sum table in one go, and its temporaries
(the masked sums, the uniform rows, the quotient, then the result) hold four tables beside the
solver's two: the peak of a multiway chunk, far above what its tables take. The normalisation
is row by row, so the same function applied to blocks of rows gives the same bits: evaluation
fills one table block by block, and a checkpoint streams the blocks straight to its file
(`StreamedArray`) without holding the policy at all.

Evaluation needs no normalised copy either when every round keeps its strategy sums: matches and
local best response normalise each row as they read it, so they are handed the strategy-sum
table itself (`evaluation_policy`).
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from holdem_lab.checkpoint.arrays import StreamedArray
from holdem_lab.solver.solver import Solver

POLICY_BLOCK_BYTES = 4 << 20
"""Rows of strategy sums normalised at a time (their temporaries are a few times this)."""


def average_policy_blocks(solver: Solver) -> Iterator[np.ndarray]:
    """`solver.average_policy()` as consecutive blocks of rows, equal bit for bit."""
    actions = solver.regrets.shape[1]
    step = max(1, POLICY_BLOCK_BYTES // (8 * max(actions, 1)))
    yield from solver.policy_blocks(solver.game.row_action_mask(), step)


def average_policy(solver: Solver) -> np.ndarray:
    """`solver.average_policy()`, holding one table and a block's temporaries, not five
    tables."""
    policy = np.empty(solver.regrets.shape, dtype=np.float64)
    start = 0
    for block in average_policy_blocks(solver):
        policy[start:start + block.shape[0]] = block
        start += block.shape[0]
    return policy


def evaluation_policy(solver: Solver) -> np.ndarray:
    """What a chunk's matches and local best response play: the strategy-sum table itself when
    it has a row for every infoset (its rows are normalised as they are read, and lazy
    discounting scales every row alike), otherwise the average policy, which plays the current
    strategy on the rounds without sums."""
    if solver.strategy_sum.shape == solver.regrets.shape:
        return solver.strategy_sum
    return average_policy(solver)


def streamed_average_policy(solver: Solver) -> StreamedArray:
    """The average policy as a checkpoint stores it, computed block by block as it is written
    (the solver's tables must not change until the write returns)."""
    return StreamedArray(np.dtype(np.float64), solver.regrets.shape,
                         lambda: average_policy_blocks(solver))
