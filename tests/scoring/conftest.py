"""Fixtures of the scoring tests."""

from __future__ import annotations

import pytest

from scoring.holdouts import Holdout, dili_like


@pytest.fixture
def dili() -> Holdout:
    """The DILI-shaped holdout: 320 rows, 4 classes, imbalanced."""
    return dili_like()
