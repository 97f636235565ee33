"""Lazy discounting: the tables hold values in the units of the current discount window, and
equal eager discounting (every factor applied to every entry when its step falls due) within
rounding; a run split anywhere, through a checkpoint, continues bit for bit."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from holdem_lab import MCCFRConfig, Solver, load_game
from holdem_lab.checkpoint import load_checkpoint
from holdem_lab.checkpoint.store import metadata_digest
from holdem_lab.chunks import run_chunk
from holdem_lab.chunks.runner import latest_checkpoint
from holdem_lab.config import GameSpec
from holdem_lab.solver import kernels
from holdem_lab.solver.solver import DISCOUNT_CODES

# Rounding bound: a window multiplies up to WINDOW_STEPS factors into its scale, each with a
# relative rounding of one unit in the last place; the runs below stay far below that.
RELATIVE_BOUND = 1e-11


def _eager_reference(config: MCCFRConfig, iterations: int, batch: int = 1) -> Solver:
    """The same run with every discount step applied to every entry when it falls due: a
    solver without discounting advanced `batch` iterations at a time, its tables discounted in
    numpy after each (the discount draws nothing, so the random streams stay aligned)."""
    solver = Solver(load_game("leduc"), config.replace(discount_mode="none"))
    mode = DISCOUNT_CODES[config.discount_mode]
    step = 0
    for first in range(1, iterations + 1, batch):
        solver.run(batch)
        last = first + batch - 1
        stop = config.discount_stop_iteration or last
        due = [t for t in range(first, last + 1)
               if t % config.discount_interval == 0 and t <= stop]
        positive = negative = average = 1.0
        for _ in due:
            step += 1
            p, n, a = kernels.step_factors(mode, step, config.dcfr_alpha, config.dcfr_beta,
                                           config.dcfr_gamma)
            positive, negative, average = positive * p, negative * n, average * a
        if due:
            r = solver.regrets
            r[:] = np.where(r > 0.0, r * positive, r * negative)
            solver.strategy_sum *= average
    return solver


def _close(lazy: np.ndarray, eager: np.ndarray) -> None:
    scale = max(float(np.abs(eager).max()), 1e-300)
    assert np.abs(lazy - eager).max() <= RELATIVE_BOUND * scale


CASES = {
    # beta = 0 halves every negative regret per step: windows end on the scale floor.
    "dcfr-every-iteration": dict(discount_mode="dcfr", discount_interval=1),
    "dcfr-other-exponents": dict(discount_mode="dcfr", discount_interval=2, dcfr_alpha=1.0,
                                 dcfr_beta=0.5, dcfr_gamma=3.0),
    "linear-with-stop": dict(discount_mode="linear", discount_interval=3,
                             discount_stop_iteration=1500),
    "dcfr-pruned-floored": dict(discount_mode="dcfr", discount_interval=1, enable_pruning=True,
                                prune_warmup_iterations=100, prune_threshold=-2.0,
                                regret_floor=-5.0),
}


@pytest.mark.parametrize("sampling", ["external", "outcome"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_lazy_equals_eager_within_rounding_sequential(case: str, sampling: str) -> None:
    config = MCCFRConfig(sampling=sampling, seed=4, engine="sequential",  # type: ignore[arg-type]
                         **CASES[case])
    lazy = Solver(load_game("leduc"), config)
    lazy.run(2000)
    eager = _eager_reference(config, 2000)
    if case == "dcfr-every-iteration":
        assert lazy.discount_window_start > 0  # windows ended along the way
    assert lazy.discount_steps > 0
    _close(lazy.true_regrets(), eager.regrets)
    scale = lazy.table_scale()["strategy"]
    _close(lazy.strategy_sum * scale, eager.strategy_sum)
    assert np.allclose(lazy.average_policy(), eager.average_policy(), rtol=0, atol=1e-9)


@pytest.mark.parametrize("case", ["dcfr-every-iteration", "dcfr-pruned-floored"])
def test_lazy_equals_eager_within_rounding_sharded(case: str) -> None:
    """The sharded engine takes a batch's steps after its merge: the eager reference discounts
    after each batch with the steps' combined factors."""
    config = MCCFRConfig(seed=6, engine="sharded", batch_iterations=32, shards=4,
                         num_workers=1, **CASES[case])  # type: ignore[arg-type]
    lazy = Solver(load_game("leduc"), config)
    lazy.run(3200)
    eager = _eager_reference(config, 3200, batch=32)
    assert lazy.discount_window_start > 0
    _close(lazy.true_regrets(), eager.regrets)
    _close(lazy.strategy_sum * lazy.table_scale()["strategy"], eager.strategy_sum)


def test_windows_end_on_the_scale_floor_and_on_their_length() -> None:
    discount = np.zeros(2, dtype=np.int64)
    scale = np.ones(kernels.NUM_SCALES)
    floor = kernels.SCALE_FLOORS["float64"]
    while not kernels.advance_discount(kernels.DISCOUNT_DCFR, discount, scale, 1, 1.5, 0.0,
                                       2.0, floor):
        pass
    # beta = 0: each step halves negative regrets exactly; 2**-512 is the floor, not below it.
    assert discount[kernels.D_STEPS] == 513
    assert scale[kernels.SCALE_NEGATIVE] == 2.0 ** -513
    assert scale[3 + kernels.SCALE_NEGATIVE] == 2.0 ** 513
    kernels.end_window(discount, scale)
    assert discount[kernels.D_WINDOW_START] == 513 and scale.tolist() == [1.0] * 6
    discount[:] = 0
    scale[:] = 1.0
    assert not kernels.advance_discount(kernels.DISCOUNT_LINEAR, discount, scale,
                                        kernels.WINDOW_STEPS - 1, 0.0, 0.0, 0.0, floor)
    assert kernels.advance_discount(kernels.DISCOUNT_LINEAR, discount, scale, 1, 0.0, 0.0, 0.0,
                                    floor)
    # Linear CFR's factors telescope: the scale after n steps is 1/(n+1).
    assert scale[kernels.SCALE_POSITIVE] == pytest.approx(1 / (kernels.WINDOW_STEPS + 1),
                                                          rel=1e-10)


@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(1, 700), min_size=1, max_size=5),
       st.sampled_from(sorted(CASES)))
def test_any_split_through_a_state_dict_continues_bit_for_bit(splits: list[int],
                                                              case: str) -> None:
    config = MCCFRConfig(seed=9, engine="sequential", **CASES[case])  # type: ignore[arg-type]
    game = load_game("leduc")
    whole = Solver(game, config)
    whole.run(sum(splits))
    parts = Solver(game, config)
    for n in splits:
        parts.run(n)
        state = parts.state_dict()
        parts = Solver(game, config)
        parts.load_state_dict(json.loads(json.dumps({
            key: value for key, value in state.items() if not hasattr(value, "shape")
        })) | {key: value for key, value in state.items() if hasattr(value, "shape")})
    assert parts.discount_window_start == whole.discount_window_start
    assert np.array_equal(parts._scale, whole._scale)
    assert np.array_equal(parts.regrets, whole.regrets)
    assert np.array_equal(parts.strategy_sum, whole.strategy_sum)


def test_a_window_start_outside_the_window_is_refused() -> None:
    solver = Solver(load_game("kuhn"), MCCFRConfig(seed=0))
    solver.run(10)
    state = solver.state_dict()
    for window in (-1, 11, 10 - kernels.WINDOW_STEPS - 1):
        with pytest.raises(ValueError, match="discount_window_start"):
            solver.load_state_dict(state | {"discount_window_start": window})


def test_chunks_across_windows_equal_one_run_and_record_the_scale(tmp_path: Path) -> None:
    spec = GameSpec(game="leduc")
    config = MCCFRConfig(num_iterations=1800, enable_chunked_training=True,
                         chunk_size_iterations=700, seed=1, engine="sequential",
                         discount_mode="dcfr", discount_interval=1)
    for _ in range(3):
        run_chunk(tmp_path, spec, config, progress=False, tensorboard=False)
    reference = Solver(load_game("leduc"), config)
    reference.run(1800)
    info = latest_checkpoint(tmp_path)
    assert info is not None and info.iteration == 1800
    loaded = load_checkpoint(info)
    assert np.array_equal(loaded.state["regrets"], reference.regrets)
    assert loaded.metadata["discount_window_start"] == reference.discount_window_start > 0
    assert loaded.metadata["discount"]["table_scale"] == reference.table_scale()


def test_a_format_2_checkpoint_reads_as_a_window_at_its_last_step(tmp_path: Path) -> None:
    """Version-2 tables were discounted eagerly, so they hold true values: a window that starts
    at their last step (scale 1)."""
    spec = GameSpec(game="leduc")
    config = MCCFRConfig(num_iterations=400, enable_chunked_training=True,
                         chunk_size_iterations=200, seed=1, engine="sequential",
                         discount_mode="linear", discount_interval=1)
    run_chunk(tmp_path, spec, config, progress=False, tensorboard=False)
    info = latest_checkpoint(tmp_path)
    assert info is not None
    document = json.loads(info.metadata_path.read_text())
    assert document["discount_window_start"] == 0 and document["discount_steps"] == 200
    document.pop("metadata_sha256")
    document.pop("discount_window_start")
    document["format_version"] = 2
    document["metadata_sha256"] = metadata_digest(document)
    info.metadata_path.write_text(json.dumps(document))
    migrated = load_checkpoint(info)
    assert migrated.metadata["discount_window_start"] == 200
    solver = Solver(load_game("leduc"), config)
    solver.load_state_dict(migrated.state | {"iteration": 200, "discount_steps": 200,
                                             "discount_window_start": 200,
                                             "rng_state": solver.rng_state()})
    assert solver.table_scale() == {"regret_positive": 1.0, "regret_negative": 1.0,
                                    "strategy": 1.0}
