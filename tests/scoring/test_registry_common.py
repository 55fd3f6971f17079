"""Common tests of every registered metric (like scikit-learn's metrics/tests/test_common.py): the
registry is the one place a metric's direction and release live, so each entry is checked the
same way, and the tables derived from it (rules, results, importance, pages) follow it."""

from __future__ import annotations

from typing import get_args

import numpy as np
import pytest

from cohortbench.errors import ValidationError
from cohortbench.scoring import compare, score, transfer, value_of
from cohortbench.scoring.registry import (
    COMPARED,
    GUARD_METRICS,
    HEADLINE_METRICS,
    IMPORTANCE_METRICS,
    METRICS,
    PRIMARY_METRICS,
    RANK_COMPARED,
    SUM_METRICS,
    MetricSpec,
)
from cohortbench.scoring.sums import Layout, features, metrics_from_sums
from cohortbench.service import board_record
from cohortbench.web.sorting import METRIC_COLUMNS, descending_first
from cohortbench.workspaces.rules import PrimaryMetric, Rules
from scoring.holdouts import CLASSES_4, Holdout

ALL = pytest.mark.parametrize("spec", list(METRICS.values()), ids=list(METRICS))


def _perfect(y: np.ndarray, k: int) -> np.ndarray:
    proba = np.full((y.size, k), 0.02 / (k - 1))
    proba[np.arange(y.size), y] = 0.98
    return proba


@ALL
def test_a_near_perfect_model_beats_the_holdout(spec: MetricSpec, dili: Holdout) -> None:
    """Direction: the model that is nearly always right and confident sorts first."""
    perfect = spec.function(dili.y, _perfect(dili.y, dili.k), 3)
    actual = spec.function(dili.y, dili.proba, 3)
    assert perfect is not None and actual is not None
    assert spec.sort_key(perfect) < spec.sort_key(actual), (perfect, actual)


@ALL
def test_invariant_to_the_order_of_records(spec: MetricSpec, dili: Holdout) -> None:
    order = np.random.default_rng(0).permutation(dili.y.size)
    assert spec.function(dili.y[order], dili.proba[order], 3) == pytest.approx(
        spec.function(dili.y, dili.proba, 3), abs=1e-12
    )


@ALL
def test_the_stored_result_holds_the_registry_s_value(spec: MetricSpec, dili: Holdout) -> None:
    result = score(dili.y, dili.proba, classes=CLASSES_4, critical_class="severe", n_resamples=10)
    assert value_of(result, spec.name) == pytest.approx(spec.function(dili.y, dili.proba, 3), abs=1e-12)


@ALL
def test_sort_key_puts_the_best_first_and_undefined_last(spec: MetricSpec) -> None:
    ordered = sorted([0.4, None, 0.1, 0.7], key=spec.sort_key)
    assert ordered == ([0.7, 0.4, 0.1, None] if spec.greater_is_better else [0.1, 0.4, 0.7, None])


@ALL
def test_label_and_release_are_consistent(spec: MetricSpec) -> None:
    assert spec.label and spec.title.startswith(spec.label)
    assert ("lower is better" in spec.title) is (not spec.greater_is_better)
    if spec.primary:  # a leaderboard ranks by it, shows it with its interval, and claims are in it
        assert spec.headline and spec.greater_is_better


def test_the_bootstrap_sums_give_exactly_the_sum_metrics(dili: Holdout) -> None:
    layout = Layout(k=dili.k, n_bins=10, critical=3)
    found = metrics_from_sums(features(dili.y, dili.proba, layout).sum(axis=0), layout)
    assert [name for name in found if "/" not in name] == sorted(SUM_METRICS, key=list(found).index)
    assert set(SUM_METRICS) <= set(found)  # per-class ones ("recall/0") aside, exactly the registry's


def test_the_derived_tables_follow_the_registry() -> None:
    assert get_args(PrimaryMetric) == PRIMARY_METRICS
    assert board_record.HEADLINE_METRICS == HEADLINE_METRICS
    assert {name for name, _ in IMPORTANCE_METRICS} <= set(SUM_METRICS)
    assert Rules().primary_metric in PRIMARY_METRICS
    with pytest.raises(ValidationError, match="primary_metric: Input should be 'macro_f1'"):
        Rules(primary_metric="log_loss")


@ALL
def test_each_flag_puts_the_metric_in_its_derived_table(spec: MetricSpec) -> None:
    """A metric added to the registry with a flag shows up where the flag says, and nowhere else."""
    assert (spec.name in SUM_METRICS) is spec.from_sums
    assert (spec.name in PRIMARY_METRICS) is spec.primary
    assert (spec.name in HEADLINE_METRICS) is spec.headline
    assert (spec.name in dict(IMPORTANCE_METRICS)) is spec.importance
    assert (spec.name in COMPARED) is (spec.compared and spec.from_sums)
    assert (spec.name in RANK_COMPARED) is (spec.compared and not spec.from_sums)
    assert (spec.name in GUARD_METRICS) is spec.guard
    if spec.guard:  # the paired verdict reads the metric's paired difference
        assert spec.compared


@ALL
def test_a_compared_metric_is_in_the_paired_comparison(spec: MetricSpec, dili: Holdout) -> None:
    perfect = _perfect(dili.y, dili.k)
    found = compare(dili.y, dili.proba, perfect, classes=CLASSES_4, critical_class="severe", n_resamples=20)
    if not spec.compared:
        with pytest.raises(KeyError):
            found.get(spec.name)
        return
    diff = found.get(spec.name)
    assert diff.a == pytest.approx(spec.function(dili.y, dili.proba, 3), abs=1e-12)
    assert diff.b == pytest.approx(spec.function(dili.y, perfect, 3), abs=1e-12)


@ALL
def test_a_guard_metric_that_got_worse_is_negative_transfer(spec: MetricSpec, dili: Holdout) -> None:
    """Fine-tuning from a near-perfect model to an ordinary one: every guard metric gets worse."""
    perfect = _perfect(dili.y, dili.k)
    scored = {
        name: score(dili.y, p, classes=CLASSES_4, critical_class="severe", n_resamples=50)
        for name, p in (("before", perfect), ("after", dili.proba))
    }
    verdict = transfer(
        baseline=scored["before"],
        finetune=scored["after"],
        metric="macro_f1",
        y_true=dili.y,
        baseline_proba=perfect,
        finetune_proba=dili.proba,
    )
    assert set(verdict.worse_on) <= {"macro_f1", *GUARD_METRICS}
    if spec.guard:
        assert spec.name in verdict.worse_on


@pytest.mark.parametrize("column", sorted(METRIC_COLUMNS))
@pytest.mark.parametrize("primary", PRIMARY_METRICS)
def test_a_metric_column_sorts_best_first_by_the_registry(column: str, primary: str) -> None:
    metric = METRICS[METRIC_COLUMNS[column] or primary]
    assert descending_first(column, primary) is metric.greater_is_better
    assert not descending_first("contributor", primary)
