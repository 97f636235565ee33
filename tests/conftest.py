"""Shared test settings."""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

import pytest
from bucket_cache import cache_root, code_digest
from hostile.runs import CONFIG, first_chunk, reference
from hypothesis import HealthCheck, settings

from holdem_lab import Solver
from holdem_lab.abstraction.buckets import BucketConfig, buckets_up_to_date, build_buckets

# Numba compiles on first use; the first example of a property test can take seconds.
settings.register_profile("holdem_lab", deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("holdem_lab")

FULL = os.environ.get("HOLDEM_LAB_FULL") == "1"


@pytest.fixture(scope="module")
def base_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A run directory after its first chunk of the shared hostile run (hostile/runs.py): one
    complete checkpoint, at iteration 20."""
    return first_chunk(tmp_path_factory.mktemp("base") / "run")


@pytest.fixture(scope="module")
def expected() -> Solver:
    """The uninterrupted 40-iteration run every recovered run must equal."""
    return reference(CONFIG, 40)


# Small bucket tables: a Hold'em game with them has eight rows per postflop node, and they build
# in about a minute.
SMALL_BUCKETS = BucketConfig(flop=8, turn=8, river=8, histogram_bins=8, kmeans_sample=20_000,
                             kmeans_iterations=20, seed=3)


@pytest.fixture(scope="session")
def small_buckets() -> Path:
    """`SMALL_BUCKETS` built once per code version and cached like the default build."""
    cache = cache_root()
    key = hashlib.sha256((SMALL_BUCKETS.digest() + code_digest()).encode()).hexdigest()[:20]
    out = cache / f"small-buckets-{key}"
    if buckets_up_to_date(out, SMALL_BUCKETS) is None:
        for old in cache.glob("small-buckets-*"):
            shutil.rmtree(old, ignore_errors=True)
        build_buckets(SMALL_BUCKETS, out, progress=False)
    return out
