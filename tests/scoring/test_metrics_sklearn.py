"""Every point metric agrees with scikit-learn to 1e-9 on random holdouts with ties (k = 2 and 4)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from sklearn import metrics as skm
from sklearn.calibration import calibration_curve

from cohortbench.scoring import score
from cohortbench.scoring.calibration import top_label
from cohortbench.scoring.ranking import sensitivity_at_specificity
from scoring.holdouts import Holdout, holdouts

TOL = 1e-9


def _score(h: Holdout):  # type: ignore[no-untyped-def]
    return score(h.y, h.proba, classes=h.classes, critical_class=h.classes[-1], n_resamples=20)


def _close(ours: float | None, ref: float) -> bool:
    if np.isnan(ref):
        return ours is None
    return ours is not None and abs(ours - ref) <= TOL


@settings(max_examples=60, deadline=None)
@given(holdouts())
def test_headline_metrics_match_sklearn(h: Holdout) -> None:
    r, pred, labels = _score(h), h.proba.argmax(axis=1), list(range(h.k))
    crit = h.k - 1
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert _close(r.headline.accuracy.value, skm.accuracy_score(h.y, pred))
        assert _close(r.headline.balanced_accuracy.value, skm.balanced_accuracy_score(h.y, pred))
        assert _close(r.headline.macro_f1.value, skm.f1_score(h.y, pred, average="macro"))
        assert _close(r.headline.weighted_f1.value, skm.f1_score(h.y, pred, average="weighted"))
        assert _close(r.headline.log_loss.value, skm.log_loss(h.y, h.proba, labels=labels))
        brier = skm.brier_score_loss(h.y, h.proba, labels=labels, scale_by_half=False)
        assert _close(r.headline.brier.value, brier)
        p, rec, f1, support = skm.precision_recall_fscore_support(
            h.y, pred, labels=labels, zero_division=np.nan
        )
    assert _close(r.headline.critical_recall.value, rec[crit])
    assert r.confusion == tuple(map(tuple, skm.confusion_matrix(h.y, pred, labels=labels)))
    for i, cls in enumerate(r.per_class):
        assert cls.support == support[i]
        assert (
            _close(cls.precision.value, p[i])
            and _close(cls.recall.value, rec[i])
            and _close(cls.f1.value, f1[i])
        )


@settings(max_examples=60, deadline=None)
@given(holdouts())
def test_ranking_metrics_match_sklearn(h: Holdout) -> None:
    r = _score(h)
    for i, cls in enumerate(r.per_class):
        positive = h.y == i
        if 0 < positive.sum() < h.y.size:
            assert _close(cls.roc_auc, skm.roc_auc_score(positive, h.proba[:, i]))
        else:
            assert cls.roc_auc is None
        if positive.any():
            assert _close(cls.pr_auc, skm.average_precision_score(positive, h.proba[:, i]))
        else:
            assert cls.pr_auc is None
    assert r.headline.critical_roc_auc.value == r.per_class[-1].roc_auc


@settings(max_examples=60, deadline=None)
@given(holdouts())
def test_sensitivity_at_specificity_matches_roc_curve(h: Holdout) -> None:
    positive = h.y == h.k - 1
    if not 0 < positive.sum() < h.y.size:
        return
    fpr, tpr, _ = skm.roc_curve(positive, h.proba[:, -1], drop_intermediate=False)
    for target in (1.0, 0.95, 0.9):
        ok = fpr <= 1.0 - target + 1e-12
        sens, spec, threshold = sensitivity_at_specificity(h.proba[:, -1], positive, target)
        assert abs(sens - tpr[ok].max()) <= TOL
        assert spec >= target - 1e-12
        predicted = h.proba[:, -1] >= threshold
        assert abs(sens - (predicted & positive).sum() / positive.sum()) <= TOL


@settings(max_examples=60, deadline=None)
@given(holdouts())
def test_reliability_curves_match_calibration_curve(h: Holdout) -> None:
    r = _score(h)
    curves = {(c.label, c.strategy): c for c in r.calibration.curves}
    conf, correct = top_label(h.y, h.proba)
    for strategy, sk in (("equal_width", "uniform"), ("equal_mass", "quantile")):
        frac, mean = calibration_curve(correct, conf, n_bins=10, strategy=sk, pos_label=1)
        c = curves[("top-label", strategy)]
        np.testing.assert_allclose(c.fraction_positive, frac, atol=TOL, rtol=0)
        np.testing.assert_allclose(c.mean_predicted, mean, atol=TOL, rtol=0)
        ece = sum(n / h.y.size * abs(f - m) for n, f, m in zip(c.count, frac, mean, strict=True))
        found = r.calibration.ece_equal_width if strategy == "equal_width" else r.calibration.ece_equal_mass
        assert abs(found - ece) <= TOL
        assert sum(c.count) == h.y.size
    for i, name in enumerate(h.classes):
        frac, mean = calibration_curve(h.y == i, h.proba[:, i], n_bins=10, strategy="uniform", pos_label=True)
        np.testing.assert_allclose(curves[(name, "equal_width")].fraction_positive, frac, atol=TOL, rtol=0)
        np.testing.assert_allclose(curves[(name, "equal_width")].mean_predicted, mean, atol=TOL, rtol=0)
    assert r.headline.ece.value == pytest.approx(r.calibration.ece_equal_width, abs=TOL)


def test_brier_is_the_multiclass_sum_form_twice_the_binary_one() -> None:
    """The pages say "multi-class sum form": for two classes it is 2x sklearn's default binary Brier."""
    rng = np.random.default_rng(5)
    y = rng.integers(0, 2, 300)
    p1 = np.clip(y * 0.6 + rng.uniform(0, 0.4, 300), 0, 1)
    proba = np.column_stack([1 - p1, p1])
    r = score(y, proba, classes=("no", "yes"), critical_class="yes", n_resamples=20)
    assert r.headline.brier.value == pytest.approx(2 * skm.brier_score_loss(y, p1), abs=1e-12)
