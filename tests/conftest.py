"""Shared test settings."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

# Numba compiles on first use; the first example of a property test can take seconds.
settings.register_profile("holdem_lab", deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("holdem_lab")

FULL = os.environ.get("HOLDEM_LAB_FULL") == "1"
