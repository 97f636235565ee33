"""Shared test settings."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hostile.runs import CONFIG, first_chunk, reference
from hypothesis import HealthCheck, settings

from holdem_lab import Solver

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
