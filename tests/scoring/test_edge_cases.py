"""Edge cases a safety reviewer will ask about: absent classes, never-predicted classes, degenerate models."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import binomtest
from sklearn import metrics as skm

from cohortbench.scoring import score
from cohortbench.scoring.exact import exact_interval
from scoring.holdouts import CLASSES_2, CLASSES_4


def _onehot(pred: np.ndarray, k: int) -> np.ndarray:
    return np.eye(k)[pred]


def test_class_absent_from_holdout_has_undefined_recall_not_zero() -> None:
    y = np.array([0, 0, 1, 1, 3, 3, 0, 1])
    proba = _onehot(np.array([0, 2, 1, 1, 3, 0, 0, 1]), 4)
    r = score(y, proba, classes=CLASSES_4, critical_class="moderate", n_resamples=50)
    moderate = r.per_class[2]
    assert moderate.support == 0 and moderate.recall.value is None and moderate.recall.method == "none"
    assert moderate.roc_auc is None and moderate.pr_auc is None
    assert r.headline.critical_recall.value is None and r.headline.critical_recall.low is None
    assert moderate.f1.value == 0.0  # predicted once, never right: F1 is defined and 0
    assert r.headline.balanced_accuracy.value == pytest.approx(
        skm.balanced_accuracy_score(y, proba.argmax(1))
    )


def test_class_never_predicted_has_undefined_precision_and_zero_recall() -> None:
    y = np.array([0, 0, 1, 1, 2, 2, 3, 3])
    proba = _onehot(np.array([0, 0, 1, 1, 2, 2, 0, 0]), 4) * 0.7 + 0.075
    r = score(y, proba, classes=CLASSES_4, critical_class="severe", n_resamples=50)
    severe = r.per_class[3]
    assert severe.predicted == 0 and severe.precision.value is None
    assert severe.recall.value == 0.0 and r.headline.critical_recall.value == 0.0
    assert r.headline.macro_f1.value == pytest.approx(skm.f1_score(y, proba.argmax(1), average="macro"))


def test_perfect_predictor_gets_exact_intervals_for_proportions_and_no_invented_bca() -> None:
    """macro-F1 (not a proportion) keeps its degenerate bootstrap; accuracy and recall of 100 % get
    the exact binomial interval, which does not collapse (issue 14: 30/30 is not [1.00-1.00])."""
    y = np.array([0, 1, 2, 3] * 10)
    r = score(y, _onehot(y, 4), classes=CLASSES_4, critical_class="severe", n_resamples=100)
    f1 = r.headline.macro_f1
    assert (f1.value, f1.low, f1.high, f1.method, f1.bca) == (1.0, 1.0, 1.0, "percentile", None)
    for est, n in ((r.headline.accuracy, 40), (r.headline.critical_recall, 10)):
        ci = binomtest(n, n).proportion_ci(confidence_level=0.95, method="exact")
        assert (est.value, est.method, est.high) == (1.0, "exact", 1.0)
        assert est.low == pytest.approx(ci.low, abs=1e-12) and est.low < 1.0
        assert est.percentile is not None and est.percentile.low == 1.0  # the bootstrap, kept beside it
    assert r.headline.critical_roc_auc.value == 1.0
    assert r.operating_points[0].sensitivity == 1.0 and r.operating_points[0].specificity == 1.0
    assert r.headline.log_loss.value == pytest.approx(skm.log_loss(y, _onehot(y, 4)), abs=1e-12)
    assert r.calibration.ece_equal_width == 0.0


def test_constant_predictor() -> None:
    y = np.array([0] * 30 + [1] * 10)
    proba = np.tile([0.75, 0.25], (40, 1))
    r = score(y, proba, classes=CLASSES_2, critical_class="severe", n_resamples=100)
    assert r.headline.accuracy.value == 0.75 and r.headline.critical_recall.value == 0.0
    assert r.headline.critical_roc_auc.value == 0.5  # every pair tied
    assert r.per_class[1].precision.value is None
    assert r.operating_points[0].sensitivity == 0.0
    assert r.headline.ece.value == pytest.approx(0.0, abs=1e-12)


def test_ties_in_probabilities_resolve_to_the_lower_class_index() -> None:
    y = np.array([0, 1, 1, 0])
    proba = np.full((4, 2), 0.5)
    r = score(y, proba, classes=CLASSES_2, critical_class="severe", n_resamples=20)
    assert r.confusion == ((2, 0), (2, 0))


def test_labels_as_class_names_equal_labels_as_indices() -> None:
    y = np.array([0, 1, 3, 2, 3, 0])
    proba = np.full((6, 4), 0.25)
    proba[:, 0] += 0.1
    proba[:, 3] -= 0.1
    by_index = score(y, proba, classes=CLASSES_4, critical_class="severe", n_resamples=30)
    by_name = score(
        [CLASSES_4[i] for i in y], proba, classes=CLASSES_4, critical_class="severe", n_resamples=30
    )
    assert by_index == by_name


def test_same_seed_same_result_other_seed_other_interval() -> None:
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 80)
    proba = np.clip(0.5 + 0.3 * (2 * y - 1) + rng.normal(0, 0.3, 80), 0.01, 0.99)
    proba = np.column_stack([1 - proba, proba])
    a, b, c = (
        score(y, proba, classes=CLASSES_2, critical_class="severe", n_resamples=200, seed=s)
        for s in (1, 1, 2)
    )
    assert a == b and a.headline.macro_f1.percentile != c.headline.macro_f1.percentile


def test_thirty_of_thirty_is_shown_with_the_exact_interval() -> None:
    """The breast-cancer case of issue 14: malignant recall 30/30 -> [0.884, 1.000]."""
    y = np.array([0] * 50 + [1] * 30)
    proba = np.where(y[:, None] == np.arange(2), 0.9, 0.1)
    r = score(y, proba, classes=("benign", "malignant"), critical_class="malignant", n_resamples=100)
    recall = r.per_class[1].recall
    assert recall.value == 1.0 and recall.method == "exact"
    assert recall.low == pytest.approx(0.8843, abs=5e-4) and recall.high == 1.0
    assert r.headline.critical_recall.low == pytest.approx(recall.low, abs=1e-12)


def test_exact_intervals_match_scipy_for_every_proportion() -> None:
    rng = np.random.default_rng(3)
    y = rng.integers(0, 4, 200)
    proba = rng.dirichlet(np.ones(4), 200)
    r = score(y, proba, classes=CLASSES_4, critical_class="severe", n_resamples=50)
    pred = proba.argmax(1)
    for i, pc in enumerate(r.per_class):
        for est, k, n in (
            (pc.recall, int(((y == i) & (pred == i)).sum()), int((y == i).sum())),
            (pc.precision, int(((y == i) & (pred == i)).sum()), int((pred == i).sum())),
        ):
            ci = binomtest(k, n).proportion_ci(confidence_level=0.95, method="exact")
            assert est.method == "exact" and (est.low, est.high) == pytest.approx(
                (ci.low, ci.high), abs=1e-12
            )
    ci = binomtest(int((pred == y).sum()), 200).proportion_ci(method="exact")
    assert (r.headline.accuracy.low, r.headline.accuracy.high) == pytest.approx((ci.low, ci.high), abs=1e-12)


@pytest.mark.parametrize("confidence", [0.9, 0.95, 0.99])
def test_the_beta_quantile_interval_is_scipys_exact_binomial_interval(confidence: float) -> None:
    """exact_interval's closed form against scipy's root finding, 0 and n successes included."""
    for n in (*range(1, 41), 75, 320, 1600):
        for k in sorted({0, 1, n // 3, n // 2, n - 1, n}):
            ci = binomtest(k, n).proportion_ci(confidence_level=confidence, method="exact")
            interval = exact_interval(k, n, confidence)
            assert interval is not None
            assert (interval.low, interval.high) == pytest.approx((ci.low, ci.high), abs=1e-12), (k, n)
    assert exact_interval(0, 0, confidence) is None


def test_operating_points_carry_their_cells_and_the_critical_curves_match_sklearn() -> None:
    rng = np.random.default_rng(11)
    y = rng.integers(0, 4, 300)
    proba = rng.dirichlet(np.ones(4), 300)
    proba[y == 3, 3] += 0.5
    proba /= proba.sum(1, keepdims=True)
    r = score(y, proba, classes=CLASSES_4, critical_class="severe", n_resamples=30)
    for op in r.operating_points:
        assert op.tp is not None and op.fn is not None and op.tn is not None and op.fp is not None
        assert op.sensitivity == pytest.approx(op.tp / (op.tp + op.fn))
        assert op.specificity == pytest.approx(op.tn / (op.tn + op.fp))
        assert op.tp + op.fn == int((y == 3).sum()) and op.specificity >= op.target_specificity - 1e-9
    curves = r.critical_curves
    assert curves is not None
    fpr, tpr, _ = skm.roc_curve(y == 3, proba[:, 3])
    assert (curves.roc.x[0], curves.roc.y[0], curves.roc.x[-1], curves.roc.y[-1]) == (
        fpr[0],
        tpr[0],
        1.0,
        1.0,
    )
    assert len(curves.roc.x) <= 60 and len(curves.pr.x) <= 60
    assert np.trapezoid(tpr, fpr) == pytest.approx(r.per_class[3].roc_auc, abs=1e-9)


def test_a_result_stored_before_the_curves_existed_still_loads() -> None:
    from cohortbench.scoring import Result

    y = np.array([0, 1, 2, 3] * 10)
    data = score(
        y, _onehot(y, 4) * 0.9 + 0.025, classes=CLASSES_4, critical_class="severe", n_resamples=20
    ).to_dict()
    del data["critical_curves"]
    for op in data["operating_points"]:
        for key in ("tp", "fp", "tn", "fn"):
            del op[key]
    old = Result.from_dict(data)
    assert old.critical_curves is None and old.operating_points[0].tp is None
