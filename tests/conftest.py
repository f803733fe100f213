"""Shared test configuration: Hypothesis profiles.

``ci`` (default) keeps property tests bounded; ``nightly`` runs long.
Pick one with HYPOTHESIS_PROFILE=nightly.
"""

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci", max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "nightly", max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
