"""ChunkPlan: a chunk's limits and the run's completeness, decided without running anything."""

from __future__ import annotations

import pytest

from holdem_lab.chunks.plan import ChunkPlan
from holdem_lab.config import MCCFRConfig


def _plan(start: int = 0, elapsed: float = 0.0, **fields: object) -> ChunkPlan:
    return ChunkPlan.for_chunk(MCCFRConfig(**fields), start, elapsed)  # type: ignore[arg-type]


def test_the_nearest_of_chunk_end_and_total_bounds_the_chunk() -> None:
    plan = _plan(2_500, num_iterations=3_000, enable_chunked_training=True,
                 chunk_size_iterations=1_000)
    assert plan.chunk_end == 3_500 and plan.iteration_end == 3_000
    assert _plan(0, num_iterations=3_000, enable_chunked_training=True,
                 chunk_size_iterations=1_000).iteration_end == 1_000
    assert _plan(0, time_budget_seconds=60.0).iteration_end is None


def test_chunk_limits_apply_only_in_chunked_mode() -> None:
    unchunked = _plan(num_iterations=100, chunk_size_iterations=10, chunk_size_minutes=1.0)
    assert unchunked.chunk_end is None and unchunked.chunk_seconds is None
    assert unchunked.chunk_limits() is None
    assert unchunked.why_chunk_ends(10**6, 10**6) is None
    assert unchunked.describe()[1] == "chunk: the whole run (chunking disabled)"


@pytest.mark.parametrize(("iteration", "seconds", "expected"), [
    (1_999, 59.9, None),
    (2_000, 0.0, "Chunk iteration limit reached: 2000 >= 2000"),
    (1_500, 60.0, "Chunk time limit reached: 60.0 s >= 60 s"),
    (2_000, 60.0, "Chunk iteration limit reached: 2000 >= 2000"),  # iterations are checked first
])
def test_why_the_chunk_ends(iteration: int, seconds: float, expected: str | None) -> None:
    plan = _plan(1_000, num_iterations=10_000, enable_chunked_training=True,
                 chunk_size_iterations=1_000, chunk_size_minutes=1.0)
    assert plan.why_chunk_ends(iteration, seconds) == expected


def test_why_the_run_is_complete() -> None:
    plan = _plan(0, 0.0, num_iterations=3_000, time_budget_seconds=600.0)
    assert plan.why_complete(2_999, 599.9) is None
    assert plan.why_complete(3_000, 0.0) == "Total iteration limit reached: 3000 >= 3000"
    assert plan.why_complete(10, 600.04) == "Time budget reached: 600.0 s >= 600 s"


def test_a_resumed_run_may_already_be_complete() -> None:
    assert _plan(3_000, 12.0, num_iterations=3_000).why_complete_at_start() \
        == "Total iteration limit reached: 3000 >= 3000"
    assert _plan(100, 700.0, time_budget_seconds=600.0).why_complete_at_start() \
        == "Time budget reached: 700.0 s >= 600 s"
    assert _plan(100, 10.0, num_iterations=3_000).why_complete_at_start() is None


def test_describe_names_totals_and_chunk_limits_as_the_guide_prints_them() -> None:
    plan = _plan(num_iterations=1_000_000, time_budget_seconds=7200.0,
                 enable_chunked_training=True, chunk_size_iterations=100_000,
                 chunk_size_minutes=30.0)
    assert plan.chunk_limits() == "100,000 iterations or 30 minutes"
    assert plan.describe() == ["total: 1,000,000 iterations or 7200 s",
                               "chunk: 100,000 iterations or 30 minutes"]


def test_the_time_limit_a_chunk_meets_first_is_its_own_or_what_is_left_of_the_budget() -> None:
    assert _plan(0, 100.0, time_budget_seconds=3600.0).seconds_end == 3500.0
    assert _plan(0, 100.0, time_budget_seconds=3600.0, enable_chunked_training=True,
                 chunk_size_minutes=30.0).seconds_end == 1800.0
    assert _plan(0, 5000.0, time_budget_seconds=3600.0).seconds_end == 0.0
    assert _plan(0, num_iterations=10).seconds_end is None


def test_the_progress_bar_aims_at_the_iterations_the_time_limit_allows() -> None:
    """A chunk of 30 minutes in a run of 10G iterations: after 60 s and 1M iterations the bar's
    total is what 30 minutes reach at that speed (its remaining time, 29 minutes), not 10G."""
    from types import SimpleNamespace

    from holdem_lab.chunks.runner import _aim_at_time_limit

    plan = _plan(500, num_iterations=10**10, enable_chunked_training=True,
                 chunk_size_minutes=30.0)
    bar = SimpleNamespace(n=1_000_000, total=10**10 - 500)
    _aim_at_time_limit(bar, plan, 60.0)
    assert bar.total == 30_000_000
    short = _plan(500, num_iterations=2_000_500, enable_chunked_training=True,
                  chunk_size_minutes=30.0)
    _aim_at_time_limit(bar, short, 60.0)
    assert bar.total == 2_000_000  # the iteration limit comes first
    widget = SimpleNamespace(max=10**10)
    shown = SimpleNamespace(n=1_000_000, total=10**10, container=SimpleNamespace(
        children=(SimpleNamespace(), widget, SimpleNamespace())))
    _aim_at_time_limit(shown, plan, 60.0)
    assert shown.total == widget.max == 30_000_000  # a notebook's widget follows
    untimed = _plan(0, num_iterations=100)
    bar = SimpleNamespace(n=10, total=100)
    _aim_at_time_limit(bar, untimed, 1.0)
    assert bar.total == 100
