"""Paired comparison, McNemar, transfer ratios and the negative-transfer flag."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import binomtest, chi2
from sklearn import metrics as skm

from cohortbench.errors import ValidationError
from cohortbench.scoring import compare, mcnemar, score, transfer
from scoring.holdouts import CLASSES_4, Holdout, dili_like


def _worse(h: Holdout, strength: float, seed: int = 7) -> np.ndarray:
    """A noisier copy of the holdout's model (mixes its probabilities with random ones)."""
    noise = np.random.default_rng(seed).dirichlet(np.ones(h.k), h.y.size)
    return (1 - strength) * h.proba + strength * noise


def test_compare_reports_b_minus_a_with_paired_interval(dili: Holdout) -> None:
    bad = _worse(dili, 0.9)
    c = compare(dili.y, bad, dili.proba, classes=CLASSES_4, critical_class="severe", n_resamples=500)
    f1 = c.get("macro_f1")
    ref_a = skm.f1_score(dili.y, bad.argmax(1), average="macro")
    ref_b = skm.f1_score(dili.y, dili.proba.argmax(1), average="macro")
    assert f1.a == pytest.approx(ref_a, abs=1e-12) and f1.b == pytest.approx(ref_b, abs=1e-12)
    assert f1.difference.value == pytest.approx(ref_b - ref_a, abs=1e-12)
    assert 0 < f1.difference.low < f1.difference.high and f1.p_value < 0.01
    assert c.get("log_loss").difference.high < 0  # B has the lower loss


def test_compare_a_model_with_itself_is_a_null_difference(dili: Holdout) -> None:
    c = compare(dili.y, dili.proba, dili.proba, classes=CLASSES_4, critical_class="severe", n_resamples=200)
    for diff in c.differences:
        assert diff.difference.value == 0.0 and diff.p_value == 1.0
    assert (c.mcnemar.only_a_correct, c.mcnemar.only_b_correct, c.mcnemar.p_value_exact) == (0, 0, 1.0)


def test_mcnemar_matches_scipy() -> None:
    rng = np.random.default_rng(0)
    a, b = rng.random(200) < 0.7, rng.random(200) < 0.8
    m = mcnemar(a, b)
    n01, n10 = int(np.sum(a & ~b)), int(np.sum(~a & b))
    assert (m.only_a_correct, m.only_b_correct) == (n01, n10)
    assert m.p_value_exact == pytest.approx(binomtest(n01, n01 + n10, 0.5).pvalue, abs=1e-12)
    stat = (abs(n01 - n10) - 1) ** 2 / (n01 + n10)
    assert m.statistic_chi2 == pytest.approx(stat) and m.p_value_chi2 == pytest.approx(chi2.sf(stat, 1))


def test_compare_validates_the_second_matrix(dili: Holdout) -> None:
    with pytest.raises(ValidationError, match="proba_b has shape"):
        compare(dili.y, dili.proba, dili.proba[:5], classes=CLASSES_4, critical_class="severe")


def _results(h: Holdout, fine: np.ndarray) -> tuple:  # type: ignore[type-arg]
    kw = {"classes": CLASSES_4, "critical_class": "severe", "n_resamples": 300}
    return score(h.y, h.proba, **kw), score(h.y, fine, **kw)


def test_transfer_ratios_and_paired_gain() -> None:
    h = dili_like()
    better = h.proba.copy()
    better[np.arange(h.y.size), h.y] += 0.5
    better /= better.sum(axis=1, keepdims=True)
    base, fine = _results(h, better)
    t = transfer(
        baseline=base, finetune=fine, claimed=0.8, y_true=h.y, baseline_proba=h.proba, finetune_proba=better
    )
    assert t.baseline_ratio == pytest.approx(base.headline.macro_f1.value / 0.8)
    assert t.finetune_ratio == pytest.approx(fine.headline.macro_f1.value / 0.8)
    assert t.gain_method == "paired_bootstrap" and t.gain.low > 0 and not t.negative_transfer


def test_negative_transfer_is_flagged_paired_and_from_results_alone() -> None:
    h = dili_like()
    worse = _worse(h, 0.95)
    base, fine = _results(h, worse)
    paired = transfer(baseline=base, finetune=fine, y_true=h.y, baseline_proba=h.proba, finetune_proba=worse)
    assert paired.negative_transfer and paired.gain.high < 0 and paired.claimed is None
    alone = transfer(baseline=base, finetune=fine, claimed=0.82)
    assert alone.gain_method == "interval_overlap" and alone.gain.low is None
    assert alone.negative_transfer == (fine.headline.macro_f1.high < base.headline.macro_f1.low)
    loss = transfer(
        baseline=base,
        finetune=fine,
        metric="log_loss",
        y_true=h.y,
        baseline_proba=h.proba,
        finetune_proba=worse,
    )
    assert not loss.greater_is_better and loss.gain.low > 0 and loss.negative_transfer


def test_transfer_without_finetune_and_bad_calls(dili: Holdout) -> None:
    base = score(dili.y, dili.proba, classes=CLASSES_4, critical_class="severe", n_resamples=50)
    t = transfer(baseline=base, claimed=0.5, metric="critical_recall")
    assert t.finetune is None and t.gain is None and t.baseline_ratio == pytest.approx(t.baseline / 0.5)
    with pytest.raises(ValidationError, match="unknown metric"):
        transfer(baseline=base, metric="auc_pr_micro")
    with pytest.raises(ValidationError, match="pass all of"):
        transfer(baseline=base, finetune=base, y_true=dili.y)
    with pytest.raises(ValidationError, match="finite"):
        transfer(baseline=base, claimed=float("nan"))


def _overconfident(h: Holdout, power: float = 8.0) -> np.ndarray:
    """The same argmax (so the same macro-F1) with probabilities pushed to 0/1: a worse log loss."""
    sharp = h.proba**power
    return sharp / sharp.sum(axis=1, keepdims=True)


@pytest.mark.parametrize("paired", [True, False])
def test_a_fine_tune_that_wrecks_the_probabilities_is_negative_transfer(dili: Holdout, paired: bool) -> None:
    """Macro-F1 unchanged, log loss far worse: the guard metrics catch what the headline misses."""
    fine_p = _overconfident(dili)
    assert (fine_p.argmax(1) == dili.proba.argmax(1)).all()
    kw = {"classes": CLASSES_4, "critical_class": "severe", "n_resamples": 300}
    base, fine = score(dili.y, dili.proba, **kw), score(dili.y, fine_p, **kw)
    extra = {"y_true": dili.y, "baseline_proba": dili.proba, "finetune_proba": fine_p} if paired else {}
    t = transfer(baseline=base, finetune=fine, metric="macro_f1", **extra)
    assert t.gain is not None and t.gain.value == pytest.approx(0.0, abs=1e-12)
    assert t.negative_transfer and "log_loss" in t.worse_on and "macro_f1" not in t.worse_on
    assert t.gain_method == ("paired_bootstrap" if paired else "interval_overlap")


def test_an_identical_fine_tune_is_not_negative_transfer(dili: Holdout) -> None:
    kw = {"classes": CLASSES_4, "critical_class": "severe", "n_resamples": 200}
    base = score(dili.y, dili.proba, **kw)
    t = transfer(
        baseline=base, finetune=base, y_true=dili.y, baseline_proba=dili.proba, finetune_proba=dili.proba
    )
    assert not t.negative_transfer and t.worse_on == ()


def test_the_critical_auc_difference_is_paired_and_matches_sklearn(dili: Holdout) -> None:
    bad = _worse(dili, 0.9)
    c = compare(dili.y, bad, dili.proba, classes=CLASSES_4, critical_class="severe", n_resamples=500)
    auc = c.get("critical_roc_auc")
    positive = dili.y == CLASSES_4.index("severe")
    ref_a = skm.roc_auc_score(positive, bad[:, CLASSES_4.index("severe")])
    ref_b = skm.roc_auc_score(positive, dili.proba[:, CLASSES_4.index("severe")])
    assert auc.a == pytest.approx(ref_a, abs=1e-12) and auc.b == pytest.approx(ref_b, abs=1e-12)
    assert auc.difference.value == pytest.approx(ref_b - ref_a, abs=1e-12)
    assert auc.difference.low is not None and auc.difference.low > 0


def test_a_fine_tune_that_loses_the_critical_ranking_is_negative_transfer_on_its_auc(dili: Holdout) -> None:
    """The critical column's scores are shuffled among the rows predicted as another class."""
    k = CLASSES_4.index("severe")
    fine_p = dili.proba.copy()
    others = np.flatnonzero(dili.proba.argmax(1) != k)
    rng = np.random.default_rng(3)
    fine_p[others, k] = rng.permutation(fine_p[others, k])
    fine_p /= fine_p.sum(axis=1, keepdims=True)
    kw = {"classes": CLASSES_4, "critical_class": "severe", "n_resamples": 400}
    base, fine = score(dili.y, dili.proba, **kw), score(dili.y, fine_p, **kw)
    t = transfer(
        baseline=base, finetune=fine, y_true=dili.y, baseline_proba=dili.proba, finetune_proba=fine_p
    )
    assert "critical_roc_auc" in t.worse_on and t.negative_transfer
