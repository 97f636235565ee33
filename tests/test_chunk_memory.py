"""A chunk's memory, measured, stays within what the sizing asks for, and the average policy a
checkpoint stores is computed block by block without changing a bit of it.

Margin rule: a chunk's peak resident memory (its own high-water mark, from start-up to the
checkpoint on disk) must fit in the sizing's bytes plus the process base (`memory_needed` +
`PROCESS_BASE_BYTES`), leaving the 25% `MARGIN` that ``--mem`` adds on top entirely as
headroom. The game is a four-player Hold'em game whose tables (135 MiB each) outweigh the
process's own memory, so the policy's temporaries show: normalised in one go, as the chunk
once did, they put the peak well above that rule.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from holdem_lab import MCCFRConfig, Solver, load_game
from holdem_lab.checkpoint import write_checkpoint
from holdem_lab.checkpoint.arrays import StreamedArray
from holdem_lab.chunks.policy import average_policy_blocks, streamed_average_policy
from holdem_lab.cli.sbatch import MARGIN, PROCESS_BASE_BYTES, resource_lines
from holdem_lab.errors import CheckpointError
from holdem_lab.solver.solver import memory_needed

GAME_PARAMS: dict[str, Any] = dict(
    num_players=4, stack=200, small_blind=1, big_blind=2,
    bet_sizing=dict(bet_sizes=[[0.5, 1.0, 2.0], [1.0], [1.0], [1.0]], max_raises=[3, 0, 0, 0]))

_CHUNK = textwrap.dedent("""
    import sys
    from holdem_lab import MCCFRConfig
    from holdem_lab.chunks import run_chunk
    from holdem_lab.config import GameSpec
    from holdem_lab.process import peak_rss_bytes

    spec = GameSpec(game="holdem", game_params={params!r})
    config = MCCFRConfig(num_players=4, num_iterations=300, tensorboard_log_interval=100,
                         evaluation_deal_pairs=20, seed=3)
    run_chunk(sys.argv[1], spec, config, progress=False, out=open("/dev/null", "w"))
    print(peak_rss_bytes())
""")


def test_a_chunk_peaks_within_its_sizing(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-c", _CHUNK.format(params=GAME_PARAMS),
                           str(tmp_path / "run")], capture_output=True, text=True, timeout=600,
                          check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    peak = int(done.stdout.split()[-1])
    game = load_game("holdem", **GAME_PARAMS)
    sized = memory_needed(game)
    table = game.num_rows * game.max_actions * 8
    assert table > PROCESS_BASE_BYTES / 4  # the tables, not the interpreter, make the peak
    assert peak <= sized + PROCESS_BASE_BYTES, (peak / 2**20, sized / 2**20)
    asked = int(resource_lines(sized)[0].removeprefix("#SBATCH --mem=").removesuffix("M"))
    assert peak * MARGIN <= asked * 2**20  # what --print-sbatch and holdem-lab size ask for


def _solver() -> Solver:
    game = load_game("holdem", num_players=3, stack=30, bet_sizing=dict(
        bet_sizes=[[1.0]] * 4, max_raises=[2, 1, 1, 1]))
    solver = Solver(game, MCCFRConfig(num_players=3, seed=5))
    solver.run(200)
    return solver


def test_the_policy_in_blocks_is_the_solvers_bit_for_bit(monkeypatch: Any) -> None:
    solver = _solver()
    whole = solver.average_policy()
    monkeypatch.setattr("holdem_lab.chunks.policy.POLICY_BLOCK_BYTES", 1000)
    blocks = list(average_policy_blocks(solver))
    assert len(blocks) > 10
    assert np.concatenate(blocks).tobytes() == whole.tobytes()


def test_a_streamed_policy_writes_the_same_checkpoint_bytes(tmp_path: Path,
                                                            monkeypatch: Any) -> None:
    solver = _solver()
    monkeypatch.setattr("holdem_lab.chunks.policy.POLICY_BLOCK_BYTES", 4096)
    state = {"regrets": solver.regrets, "strategy_sum": solver.strategy_sum}
    whole = write_checkpoint(tmp_path / "whole", 7, {"average_policy": solver.average_policy()},
                             state, {"note": 1})
    streamed = write_checkpoint(tmp_path / "streamed", 7,
                                {"average_policy": streamed_average_policy(solver)}, state,
                                {"note": 1})
    for one, other in ((whole.policy, streamed.policy), (whole.metadata, streamed.metadata)):
        assert hashlib.sha256(one.read_bytes()).digest() == \
            hashlib.sha256(other.read_bytes()).digest()


@pytest.mark.parametrize(("blocks", "message"), [
    ([np.ones((5, 3))], "blocks hold 5 rows, not 6"),
    ([np.ones((4, 3)), np.ones((4, 3))], "blocks hold more than 6 rows"),
    ([np.ones((6, 3), dtype=np.float32)], "a block must be a C-contiguous float64 array"),
    ([np.ones((3, 6)).T], "a block must be a C-contiguous float64 array"),
])
def test_a_streamed_array_that_does_not_add_up_fails_the_write(
        tmp_path: Path, blocks: list[np.ndarray], message: str) -> None:
    array = StreamedArray(np.dtype(np.float64), (6, 3), lambda: iter(blocks))
    with pytest.raises(ValueError, match=message):
        write_checkpoint(tmp_path, 1, {"policy": array}, {"state": np.ones(2)}, {})
    assert list(tmp_path.iterdir()) == []  # nothing left of the write


def test_a_streamed_array_with_nan_is_refused(tmp_path: Path) -> None:
    bad = np.ones((6, 3))
    bad[4, 1] = np.nan
    array = StreamedArray(np.dtype(np.float64), (6, 3), lambda: iter([bad[:2], bad[2:]]))
    with pytest.raises(CheckpointError, match="'policy': contains NaN or infinity"):
        write_checkpoint(tmp_path, 1, {"policy": array}, {"state": np.ones(2)}, {})
    assert list(tmp_path.iterdir()) == []


def _heads_up_solver(buckets: Path, **config: Any) -> Solver:
    game = load_game("holdem", num_players=2, stack=200, small_blind=1, big_blind=2,
                     buckets=str(buckets / "buckets.npz"),
                     bet_sizing=dict(bet_sizes=[[0.5, 1.0, 2.0], [0.5, 1.0], [0.5, 1.0],
                                                [0.5, 1.0]], max_raises=[3, 2, 2, 2]))
    solver = Solver(game, MCCFRConfig(seed=2, engine="sequential", **config))
    solver.run(3000)
    return solver


# float32 regrets: packed tables are then the same numba type as full sums (one compilation).
@pytest.mark.parametrize("config", [
    {}, {"average_rounds": (0,), "table_dtype": "float32"},
    {"average_rounds": (0, 2), "table_dtype": "float32"}],
    ids=["every round", "preflop sums", "sums on 0 and 2"])
def test_evaluation_reads_the_tables_in_place_and_allocates_nothing_of_their_size(
        small_buckets: Path, config: dict[str, Any]) -> None:
    """A heads-up chunk's matches and local best response play the solver's tables themselves
    (the strategy sums normalised row by row as they are read; with `average_rounds`, the
    regrets' regret-matching strategy on the other rounds), with the same results as the
    average policy, and allocate nothing of a table's size: no normalised copy, no
    temporaries."""
    import tracemalloc

    from holdem_lab.chunks.policy import evaluation_policy
    from holdem_lab.eval.lbr import local_best_response, make_deals
    from holdem_lab.eval.match import play_match

    solver = _heads_up_solver(small_buckets, **config)
    game = solver.game
    tables = evaluation_policy(solver)
    assert tables.weights is solver.strategy_sum
    if config:
        assert solver.strategy_sum.shape[0] < game.num_rows
        assert tables.current is solver.regrets
    policy = solver.average_policy()
    deals = make_deals(40, 1)
    local_best_response(game, tables, deals=make_deals(2, 1))  # compiled outside the trace
    play_match(game, tables, "always_call", deal_pairs=2)
    tracemalloc.start()
    try:
        lbr = local_best_response(game, tables, deals=deals)
        match = play_match(game, tables, "equity_threshold", deal_pairs=200,
                           arrays=solver.arrays)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # Normalising a copy took about five tables; what is left is per betting-tree node (the
    # kernels' int64 copies of the tree), which a bucketed game has far fewer of than rows.
    copy = game.num_rows * game.max_actions * 8  # what a normalised policy takes
    assert peak < copy, (peak, copy)
    # The normalised policy is normalised once more as it is read, which may move a last bit.
    assert lbr.mbb_per_hand == pytest.approx(
        local_best_response(game, policy, deals=deals).mbb_per_hand, rel=1e-12)
    assert match.mbb_per_hand == play_match(game, policy, "equity_threshold",
                                            deal_pairs=200).mbb_per_hand


def test_multiway_matches_read_packed_tables_as_the_average_policy() -> None:
    """A multiway chunk's matches on tables with sums on preflop only play what the average
    policy plays; the sizing counts no policy beside the tables."""
    from holdem_lab.chunks.policy import evaluation_policy
    from holdem_lab.eval.match import play_multiway_match

    game = load_game("holdem", num_players=3, stack=40,
                     bet_sizing=dict(bet_sizes=[[1.0]] * 4, max_raises=[2, 1, 1, 1]))
    solver = Solver(game, MCCFRConfig(num_players=3, seed=2, engine="sequential",
                                      average_rounds=(0,), table_dtype="float32"))
    solver.run(2000)
    rows = solver.strategy_sum.shape[0]
    assert rows < game.num_rows
    tables = evaluation_policy(solver)
    for baseline in ("always_call", "equity_threshold"):
        assert play_multiway_match(game, tables, baseline, deals=300).as_dict() == \
            play_multiway_match(game, solver.average_policy(), baseline, deals=300).as_dict()
    assert memory_needed(game, strategy_rows=rows) - memory_needed(game) == \
        -(game.num_rows - rows) * game.max_actions * 8  # float64 regrets: the tables lead


def test_policy_tables_that_do_not_fit_the_game_are_refused(small_buckets: Path) -> None:
    from holdem_lab.chunks.policy import evaluation_policy
    from holdem_lab.errors import GameError
    from holdem_lab.eval.lbr import local_best_response, make_deals
    from holdem_lab.eval.match import play_match

    solver = _heads_up_solver(small_buckets, average_rounds=(0,), table_dtype="float32")
    tables = evaluation_policy(solver)
    with pytest.raises(GameError, match="policy tables of shapes"):
        play_match(solver.game, tables._replace(weights=tables.weights[1:]), "uniform",
                   deal_pairs=2)
    with pytest.raises(GameError, match="policy tables of shapes"):
        play_match(solver.game, tables._replace(current=tables.current[:, 1:]), "uniform",
                   deal_pairs=2)
    with pytest.raises(GameError, match="row groups are not the game's"):
        play_match(solver.game, tables._replace(group_end=tables.group_end + 1), "uniform",
                   deal_pairs=2)
    with pytest.raises(GameError, match="do not pack the kept groups"):
        play_match(solver.game, tables._replace(group_shift=tables.group_shift + 1), "uniform",
                   deal_pairs=2)
    with pytest.raises(GameError, match="policy shape"):
        play_match(solver.game, np.ones(5), "uniform", deal_pairs=2)
    bad = tables.current.copy()
    bad[5, 0] = np.inf
    with pytest.raises(GameError, match="policy regrets have non-finite entries"):
        local_best_response(solver.game, tables._replace(current=bad), deals=make_deals(2, 1))
    negative = tables.weights.copy()
    negative[0, 0] = -1.0
    with pytest.raises(GameError, match="policy weights have negative or non-finite entries"):
        local_best_response(solver.game, tables._replace(weights=negative),
                            deals=make_deals(2, 1))
