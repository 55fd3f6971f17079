"""Unit tests of the release rules: cells, ledger, leaderboard, covert channels, weights, DP noise."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime

import numpy as np
import pytest

from cohortbench.errors import PermissionDeniedError, ValidationError
from cohortbench.privacy import (
    BudgetExhaustedError,
    Ladder,
    PrivacyLedger,
    coarsen_losses,
    coarsen_resources,
    decide_weights_export,
    ladder_decision,
    noisy_counts,
    protect_counts,
    release_step,
    require_weights_export,
)


def test_complementary_suppression_hides_the_next_smallest_cell() -> None:
    table = protect_counts({"none": 1445, "mild": 7, "moderate": 61, "severe": 75})
    assert table.shown_counts() == {"none": 1445, "severe": 75}
    assert table.total.value == 1588
    assert table.cells["moderate"].protection == "suppressed_complement"


def test_total_is_suppressed_when_no_complement_exists() -> None:
    table = protect_counts({"a": 5})
    assert table.cells["a"].value is None and table.total.value is None


def test_zero_cells_may_be_shown() -> None:
    assert protect_counts({"a": 0, "b": 40}).shown_counts() == {"a": 0, "b": 40}


def test_ledger_refuses_an_overspend_and_records_nothing() -> None:
    ledger = PrivacyLedger(epsilon=1.0, delta=1e-6)
    ledger.charge("class counts", 0.6, now=datetime(2025, 1, 1, tzinfo=UTC))
    with pytest.raises(BudgetExhaustedError, match=r"only epsilon=0\.4"):
        ledger.charge("histogram of ALT", 0.5)
    assert len(ledger.entries) == 1
    ledger.charge("histogram of ALT", 0.4)
    assert ledger.remaining == (0.0, 1e-6)


def test_ledger_round_trips_through_json() -> None:
    ledger = PrivacyLedger(epsilon=2.0)
    ledger.charge("q1", 0.25)
    restored = PrivacyLedger.from_dict(json.loads(json.dumps(ledger.to_dict())))
    assert restored == ledger and restored.spent == (0.25, 0.0)


def test_ledger_rejects_a_stored_overspend() -> None:
    data = {
        "budget": {"epsilon": 0.1},
        "entries": [{"query": "q", "epsilon": 0.2, "delta": 0, "timestamp": "t"}],
    }
    with pytest.raises(ValidationError):
        PrivacyLedger.from_dict(data)


def test_noisy_counts_state_their_noise_scale_and_charge_the_map() -> None:
    ledger = PrivacyLedger(epsilon=1.0)
    out = noisy_counts(["a"] * 50 + ["b"] * 30, ["a", "b"], epsilon=0.5, ledger=ledger, query="counts")
    assert {r.noise_scale for r in out.values()} == {2.0}
    assert 0 < ledger.spent[0] <= 0.5


@pytest.mark.parametrize(("n", "step"), [(128, 0.05), (320, 0.05), (1000, 0.02), (10_000, 0.005)])
def test_release_step_is_at_least_the_standard_error(n: int, step: float) -> None:
    assert release_step(n) == step
    assert release_step(n) >= 0.5 / math.sqrt(n)


def test_ladder_ignores_improvements_within_one_standard_error() -> None:
    rng = np.random.default_rng(0)
    best = (rng.random(300) < 0.3).astype(float)
    probe = best.copy()
    wrong, right = np.flatnonzero(best == 1)[:11], np.flatnonzero(best == 0)[:9]
    probe[wrong], probe[right] = 0.0, 1.0  # 20 labels flipped, net 2 better: a probe, not a better model
    assert not ladder_decision(probe, best).accept
    much_better = best * (rng.random(300) < 0.5)
    assert ladder_decision(much_better, best).accept


def test_ladder_shows_a_changed_score_only_on_acceptance() -> None:
    ladder = Ladder(n_holdout=300)
    losses = np.full(300, 0.5)
    losses[::2] = 0.0
    assert ladder.submit(losses, 0.71) == 0.7
    assert ladder.submit(losses, 0.99) == 0.7
    assert Ladder.from_dict(json.loads(json.dumps(ladder.to_dict()))) == ladder


def test_coarsened_losses_have_few_points_and_digits() -> None:
    out = coarsen_losses([1 / (i + 1) + 1e-9 * i for i in range(500)], max_points=20, digits=2)
    assert len(out) <= 20
    assert all(len(f"{v:.10g}".replace("0.", "").lstrip("0").replace(".", "")) <= 2 for v in out)
    assert coarsen_losses([math.nan, 123456.789, 1e-7]) == [1000.0, 1000.0, 0.0]


def test_resources_leave_only_as_buckets() -> None:
    buckets = coarsen_resources(wall_time_s=421.37, peak_memory_bytes=3_123_456_789, exit_status=137)
    assert buckets.to_dict() == {"wall_time": "300-900 s", "memory": "2-4 GiB", "outcome": "error"}


@pytest.mark.parametrize("role", ["contributor", "viewer"])
def test_only_the_owner_exports_weights(role: str) -> None:
    assert not decide_weights_export(role=role).allowed
    with pytest.raises(PermissionDeniedError):
        require_weights_export(role=role)
    assert require_weights_export(role="owner").audit_action == "weights.export"
