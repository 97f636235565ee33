"""Compact tables: float32 regrets train to the same quality, checkpoint and resume bit for bit,
refuse a change of dtype on resume, export, and are sized at what they hold; strategy sums kept
on some rounds only."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from holdem_lab import MCCFRConfig, Solver, exploitability, load_game
from holdem_lab.checkpoint import load_checkpoint
from holdem_lab.chunks import run_chunk
from holdem_lab.chunks.runner import latest_checkpoint
from holdem_lab.config import GameSpec
from holdem_lab.errors import COMPLETE, ConfigError, ResumeMismatchError
from holdem_lab.interop.openspiel import to_openspiel
from holdem_lab.solver.solver import memory_needed, solver_bytes

F32 = dict(table_dtype="float32")


@pytest.mark.parametrize("engine", ["sequential", "sharded"])
@pytest.mark.parametrize("mode", ["none", "dcfr"])
def test_float32_regrets_train_to_the_quality_of_float64(engine: str, mode: str) -> None:
    game = load_game("leduc")
    results = {}
    for dtype in ("float64", "float32"):
        config = MCCFRConfig(seed=3, engine=engine, discount_mode=mode,  # type: ignore[arg-type]
                             discount_interval=10, table_dtype=dtype,  # type: ignore[arg-type]
                             batch_iterations=32 if engine == "sharded" else None, num_workers=1)
        solver = Solver(game, config)
        solver.run(60_000)
        assert solver.regrets.dtype == np.dtype(dtype)
        assert solver.strategy_sum.dtype == np.float64
        results[dtype] = exploitability(game, solver.average_policy())
    # The two runs part ways after the first rounding difference: same quality, not same bits.
    assert results["float32"] < 1.5 * results["float64"] + 0.01
    assert results["float32"] < 0.25


def test_float32_regret_chunks_equal_one_run_and_keep_their_dtype(tmp_path: Path) -> None:
    spec = GameSpec(game="leduc")
    config = MCCFRConfig(num_iterations=1500, enable_chunked_training=True,
                         chunk_size_iterations=600, seed=2, engine="sequential",
                         discount_mode="dcfr", discount_interval=1, **F32)  # type: ignore[arg-type]
    for _ in range(3):
        run_chunk(tmp_path, spec, config, progress=False, tensorboard=False)
    reference = Solver(load_game("leduc"), config)
    reference.run(1500)
    info = latest_checkpoint(tmp_path)
    assert info is not None and info.iteration == 1500
    state = load_checkpoint(info).state
    assert state["regrets"].dtype == np.float32 and state["strategy_sum"].dtype == np.float64
    assert np.array_equal(state["regrets"], reference.regrets)
    assert np.array_equal(state["strategy_sum"], reference.strategy_sum)


def test_a_change_of_table_dtype_on_resume_is_refused(tmp_path: Path) -> None:
    spec = GameSpec(game="leduc")
    config = MCCFRConfig(num_iterations=400, enable_chunked_training=True,
                         chunk_size_iterations=200, seed=2, **F32)  # type: ignore[arg-type]
    run_chunk(tmp_path, spec, config, progress=False, tensorboard=False)
    with pytest.raises(ResumeMismatchError, match="table_dtype"):
        run_chunk(tmp_path, spec, config.replace(table_dtype="float64"), progress=False,
                  tensorboard=False)


def test_a_float64_state_does_not_load_into_float32_tables() -> None:
    game = load_game("kuhn")
    state = Solver(game, MCCFRConfig(seed=0)).state_dict()
    with pytest.raises(ValueError, match="float32"):
        Solver(game, MCCFRConfig(seed=0, **F32)).load_state_dict(state)  # type: ignore[arg-type]


def test_a_float32_blueprint_exports_to_openspiel() -> None:
    game = load_game("kuhn")
    solver = Solver(game, MCCFRConfig(seed=0, **F32))  # type: ignore[arg-type]
    solver.run(20_000)
    exported = to_openspiel(game, solver.average_policy())
    assert len(exported) == game.num_rows
    for probabilities in exported.values():
        assert sum(probabilities.values()) == pytest.approx(1.0)


def test_memory_counts_the_table_dtype() -> None:
    game = load_game("leduc")
    entries = game.num_rows * game.max_actions
    # The regrets shrink by half; strategy sums and the evaluation's policy stay float64.
    assert memory_needed(game) - memory_needed(game, "float32") == entries * 4


def test_an_unknown_table_dtype_is_refused() -> None:
    with pytest.raises(ConfigError, match="table_dtype"):
        MCCFRConfig(table_dtype="float16")  # type: ignore[arg-type]


def test_the_cli_trains_float32_tables(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "holdem_lab.cli.train", "--game", "leduc", "--iters", "2000",
         "--table-dtype", "float32", "--logdir", str(tmp_path), "--no-progress", "--lbr-hands",
         "0"], capture_output=True, text=True, timeout=600)
    assert done.returncode == COMPLETE, done.stderr
    info = latest_checkpoint(tmp_path)
    assert info is not None
    loaded = load_checkpoint(info)
    assert loaded.state["regrets"].dtype == np.float32
    assert loaded.metadata["config"]["table_dtype"] == "float32"


# ---------------------------------------------------------------- strategy sums on some rounds

MENU = {"bet_sizes": [[1.0], [1.0], [1.0], [1.0]], "max_raises": [2, 1, 1, 1]}


@pytest.mark.parametrize("engine", ["sequential", "sharded"])
@pytest.mark.parametrize("sampling", ["external", "outcome"])
def test_sums_on_some_rounds_leave_regrets_and_kept_sums_unchanged(engine: str,
                                                                    sampling: str) -> None:
    """Strategy sums never feed back into training: keeping them on preflop only gives the same
    regrets bit for bit, and the same sums on the rows kept."""
    game = load_game("holdem", bet_sizing=MENU)
    base = MCCFRConfig(seed=5, engine=engine, sampling=sampling,  # type: ignore[arg-type]
                       num_workers=1, discount_mode="linear", discount_interval=50)
    full = Solver(game, base)
    full.run(2048)
    some = Solver(game, base.replace(average_rounds=(0, 2)))
    some.run(2048)
    assert np.array_equal(full.regrets, some.regrets)
    assert game.row_groups is not None
    groups = game.row_groups.reshape(-1, 2)
    kept = [(int(a), int(b)) for (a, b), rnd in zip(groups, list(range(4)) * 2, strict=True)
            if rnd in (0, 2)]
    assert some.strategy_sum.shape[0] == sum(b - a for a, b in kept) < game.num_rows
    assert np.array_equal(some.strategy_sum,
                          np.concatenate([full.strategy_sum[a:b] for a, b in kept]))
    policy, average, current = some.average_policy(), full.average_policy(), \
        full.current_policy()
    for (a, b), rnd in zip(groups, list(range(4)) * 2, strict=True):
        expected = average if rnd in (0, 2) else current
        assert np.array_equal(policy[a:b], expected[a:b])


def test_sums_on_some_rounds_checkpoint_and_resume_bit_for_bit(tmp_path: Path) -> None:
    spec = GameSpec(game="holdem", game_params={"bet_sizing": MENU})
    config = MCCFRConfig(num_iterations=1536, enable_chunked_training=True,
                         chunk_size_iterations=512, seed=2, engine="sharded",
                         batch_iterations=256, average_rounds=(0,), **F32)  # type: ignore[arg-type]
    for _ in range(3):
        run_chunk(tmp_path, spec, config, progress=False, tensorboard=False)
    reference = Solver(load_game("holdem", bet_sizing=MENU), config)
    reference.run(1536)
    info = latest_checkpoint(tmp_path)
    assert info is not None and info.iteration == 1536
    loaded = load_checkpoint(info)
    assert loaded.state["strategy_sum"].shape == reference.strategy_sum.shape
    assert np.array_equal(loaded.state["strategy_sum"], reference.strategy_sum)
    assert np.array_equal(loaded.state["regrets"], reference.regrets)
    assert np.array_equal(loaded.policy["average_policy"], reference.average_policy())


def test_sums_on_some_rounds_need_holdem_and_real_rounds() -> None:
    with pytest.raises(ConfigError, match="needs a Hold'em game"):
        Solver(load_game("leduc"), MCCFRConfig(average_rounds=(0,)))
    for bad in ((), (4,), (1, 0), (0, 0), (True,)):
        with pytest.raises(ConfigError, match="average_rounds"):
            MCCFRConfig(average_rounds=bad)  # type: ignore[arg-type]
    assert MCCFRConfig(average_rounds=[0, 1]).average_rounds == (0, 1)  # type: ignore[arg-type]


def test_memory_counts_only_the_kept_sums() -> None:
    game = load_game("holdem", bet_sizing=MENU)
    solver = Solver(game, MCCFRConfig(average_rounds=(0,)))
    dropped = (game.num_rows - solver.strategy_sum.shape[0]) * game.max_actions * 8
    # Evaluation reads the kept sums and the regrets in place: no policy to count.
    assert memory_needed(game) - memory_needed(game, strategy_rows=solver.strategy_sum.shape[0]) \
        == dropped
    assert dropped > 0
    # float32 regrets and few sums: a resume's read of the float64 policy is the larger part.
    sizes = dict(num_rows=1000, max_actions=4, num_nodes=10, num_players=2,
                 bucket_table_bytes=0, table_itemsize=4)
    assert solver_bytes(**sizes, strategy_rows=100) - solver_bytes(**sizes, strategy_rows=0) \
        == 0  # both below the policy's 32,000 bytes
    assert solver_bytes(**sizes, strategy_rows=1000) - solver_bytes(**sizes, strategy_rows=0) \
        == (4 + 8) * 4000 - 8 * 4000
