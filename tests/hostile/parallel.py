"""The digests of the sharded engine's tables (and its statistics) for several worker counts,
in a process whose numba thread pool is large enough for all of them (run with
NUMBA_NUM_THREADS set; prints JSON).

    NUMBA_NUM_THREADS=4 python -m hostile.parallel 1 2 3 4
"""

from __future__ import annotations

import hashlib
import json
import sys
from typing import Any

import numpy as np

from holdem_lab import MCCFRConfig, Solver, load_game

HOLDEM_MENU = {"bet_sizes": [[1.0], [1.0], [1.0], [1.0]], "max_raises": [2, 1, 1, 1]}

OPTIONS: dict[str, Any] = dict(engine="sharded", enable_pruning=True,
                               prune_warmup_iterations=256, prune_probability=0.5,
                               epsilon_schedule=((0, 0.6), (700, 0.3)))

CASES: dict[str, tuple[str, dict[str, Any], int]] = {
    # name: (game, settings, iterations); pruning must act in each (the test checks it)
    "leduc-external-linear": ("leduc", dict(sampling="external", discount_mode="linear",
                                            discount_interval=3, batch_iterations=64,
                                            shards=8, prune_threshold=-2.0,
                                            regret_floor=-5.0), 1920),
    "leduc-outcome-dcfr": ("leduc", dict(sampling="outcome", discount_mode="dcfr",
                                         discount_interval=100, batch_iterations=64, shards=8,
                                         prune_threshold=-2.0, regret_floor=-5.0), 1920),
    "holdem-external-dcfr": ("holdem", dict(sampling="external", discount_mode="dcfr",
                                            discount_interval=50, batch_iterations=256,
                                            shards=16, prune_threshold=-1.0,
                                            regret_floor=-40.0), 3072),
    "holdem-outcome-linear": ("holdem", dict(sampling="outcome", discount_mode="linear",
                                             discount_interval=1, batch_iterations=256,
                                             shards=16, prune_threshold=-20.0,
                                             regret_floor=-40.0), 3072),
}


def train(name: str, workers: int, seed: int = 7) -> Solver:
    game_name, settings, iterations = CASES[name]
    game = load_game(game_name, bet_sizing=HOLDEM_MENU) if game_name == "holdem" \
        else load_game(game_name)
    solver = Solver(game, MCCFRConfig(seed=seed, num_workers=workers, **OPTIONS, **settings))
    # Three calls, so the tables also pass through the run boundaries a chunk has.
    for _ in range(3):
        solver.run(iterations // 3)
    return solver


def digest(solver: Solver) -> str:
    sha = hashlib.sha256()
    for array in (solver.regrets, solver.strategy_sum, solver.average_policy(), solver.stats):
        sha.update(np.ascontiguousarray(array).tobytes())
    sha.update(f"{solver.iteration}/{solver.discount_steps}".encode())
    return sha.hexdigest()


def main(argv: list[str]) -> None:
    counts = [int(a) for a in argv] or [1, 2]
    out: dict[str, Any] = {}
    for name in CASES:
        solvers = {w: train(name, w) for w in counts}
        out[name] = {"digests": {str(w): digest(s) for w, s in solvers.items()},
                     "statistics": solvers[counts[0]].statistics()}
    print(json.dumps(out))


if __name__ == "__main__":
    main(sys.argv[1:])
