"""Permutation importance from permuted predictions, and the metric registry's sort direction."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import metrics as skm

from cohortbench.errors import ValidationError
from cohortbench.scoring import METRICS, PermutedPrediction, get_metric, score, value_of
from scoring.holdouts import CLASSES_4, Holdout


def test_importance_is_the_metric_drop_with_spread_over_repeats(dili: Holdout) -> None:
    rng = np.random.default_rng(0)
    shuffled = [dili.proba[rng.permutation(dili.y.size)] for _ in range(3)]
    permuted = [PermutedPrediction("feature", "alt_peak", r, p) for r, p in enumerate(shuffled)]
    permuted.append(PermutedPrediction("group", "demographics", 0, dili.proba))
    r = score(
        dili.y, dili.proba, classes=CLASSES_4, critical_class="severe", n_resamples=20, permuted=permuted
    )
    alt, demo = r.importance
    base = skm.f1_score(dili.y, dili.proba.argmax(1), average="macro")
    drops = [base - skm.f1_score(dili.y, p.argmax(1), average="macro") for p in shuffled]
    assert (alt.kind, alt.name, alt.n_repeats) == ("feature", "alt_peak", 3)
    assert alt.macro_f1.values == pytest.approx(drops, abs=1e-12)
    assert alt.macro_f1.mean == pytest.approx(np.mean(drops)) and alt.macro_f1.std == pytest.approx(
        np.std(drops)
    )
    loss_drop = skm.log_loss(dili.y, shuffled[0], labels=range(4)) - skm.log_loss(
        dili.y, dili.proba, labels=range(4)
    )
    assert alt.log_loss.values[0] == pytest.approx(loss_drop, abs=1e-12) and alt.log_loss.mean > 0
    assert demo.kind == "group" and demo.macro_f1.mean == 0.0 and demo.critical_recall.std == 0.0


def test_bad_permuted_predictions_are_refused(dili: Holdout) -> None:
    kw = {"classes": CLASSES_4, "critical_class": "severe", "n_resamples": 10}
    twice = [PermutedPrediction("feature", "x", 0, dili.proba)] * 2
    with pytest.raises(ValidationError, match="repeat a repeat number"):
        score(dili.y, dili.proba, permuted=twice, **kw)
    short = [PermutedPrediction("feature", "x", 0, dili.proba[:-1])]
    with pytest.raises(ValidationError, match=r"permuted proba \(feature 'x', repeat 0\) has shape"):
        score(dili.y, dili.proba, permuted=short, **kw)


def test_registry_covers_the_leaderboard_metrics_and_sorts_one_way(dili: Holdout) -> None:
    required = {
        "macro_f1",
        "accuracy",
        "balanced_accuracy",
        "weighted_f1",
        "critical_recall",
        "log_loss",
        "brier",
        "ece",
    }
    assert required <= set(METRICS)
    assert get_metric("macro_f1").greater_is_better and not get_metric("log_loss").greater_is_better
    values = [0.2, None, 0.9, 0.5]
    assert sorted(values, key=get_metric("macro_f1").sort_key) == [0.9, 0.5, 0.2, None]
    assert sorted(values, key=get_metric("brier").sort_key) == [0.2, 0.5, 0.9, None]
    r = score(dili.y, dili.proba, classes=CLASSES_4, critical_class="severe", n_resamples=10)
    for name, spec in METRICS.items():
        direct = spec.function(dili.y, dili.proba, 3)
        assert direct == pytest.approx(value_of(r, name), abs=1e-12), name
    with pytest.raises(ValidationError, match="unknown metric 'auc'"):
        get_metric("auc")
