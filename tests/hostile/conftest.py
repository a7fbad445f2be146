"""Hypothesis profiles for the hostile-input tests: modest example counts keep the suite fast.

HYPOTHESIS_PROFILE=thorough runs ten times the examples (on demand, not in CI).
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci",
    max_examples=50,
    deadline=None,
    # The database fixtures are function-scoped; each example undoes its own writes.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    derandomize=True,
    # No .hypothesis/ folder in the clone: examples are derandomized, failures print their input.
    database=None,
)
settings.register_profile(
    "thorough",
    parent=settings.get_profile("ci"),
    max_examples=500,
    derandomize=False,
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
