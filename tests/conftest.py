"""Shared fixtures: a reproducible seed for every random test."""

from __future__ import annotations

import os

import pytest


@pytest.fixture
def global_random_seed() -> int:
    """Seed for random tests; set COHORTBENCH_TEST_SEED to re-run over other seeds."""
    return int(os.environ.get("COHORTBENCH_TEST_SEED", "42"))
