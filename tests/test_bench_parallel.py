"""bench_parallel's merge timing calls the engine's merge kernel directly: it must keep up with
the kernel's signature (a benchmark that no longer runs measures nothing)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numba

from holdem_lab import MCCFRConfig, load_game

REPO = Path(__file__).resolve().parents[1]


def test_the_merge_share_is_measured_on_a_small_game() -> None:
    # bench/ is not an installed package: load the script by its path.
    spec = importlib.util.spec_from_file_location("bench_parallel",
                                                  REPO / "bench" / "bench_parallel.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    config = MCCFRConfig(engine="sharded", batch_iterations=64, shards=8,
                         discount_mode="linear", discount_interval=1)
    threads = numba.get_num_threads()
    try:
        figures = module._merge_share(load_game("leduc"), config, batches_to_time=2)
    finally:
        numba.set_num_threads(threads)  # the benchmark times the merge on one thread
    assert figures["merge_share_of_batch"] > 0.0
    assert figures["log_entries_per_batch"] > 0
    assert figures["table_bytes"] > 0
