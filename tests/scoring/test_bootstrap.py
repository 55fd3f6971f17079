"""The vectorised stratified bootstrap: resamples, percentile and BCa intervals vs sklearn / scipy."""

from __future__ import annotations

import warnings
from functools import partial
from types import SimpleNamespace

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats
from sklearn import metrics as skm

from cohortbench.scoring import score
from cohortbench.scoring.bootstrap import AucSpec, draws
from cohortbench.scoring.resampling import chunk_size, stratified_weights
from cohortbench.scoring.sums import Layout, features, metrics_from_sums
from scoring.holdouts import Holdout, dili_like, holdouts

TOL = 1e-9


def _sk_metrics(h: Holdout, idx: np.ndarray) -> dict[str, float]:
    """Reference values of one resample, computed by sklearn on the explicit rows."""
    y, p = h.y[idx], h.proba[idx]
    pred, labels, crit = p.argmax(axis=1), list(range(h.k)), h.k - 1
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return {
            "accuracy": skm.accuracy_score(y, pred),
            "balanced_accuracy": skm.balanced_accuracy_score(y, pred),
            "macro_f1": skm.f1_score(y, pred, average="macro"),
            "weighted_f1": skm.f1_score(y, pred, average="weighted"),
            "critical_recall": skm.recall_score(y, pred, labels=[crit], average="macro"),
            "log_loss": skm.log_loss(y, p, labels=labels),
            "brier": skm.brier_score_loss(y, p, labels=labels, scale_by_half=False),
            "auc/0": skm.roc_auc_score(y == crit, p[:, crit]),
        }


def _draws(h: Holdout, n_resamples: int, seed: int):  # type: ignore[no-untyped-def]
    layout = Layout(k=h.k, n_bins=10, critical=h.k - 1)
    spec = AucSpec(h.proba[:, -1], h.y == h.k - 1)
    feats = features(h.y, h.proba, layout)
    return draws(h.y, feats, partial(metrics_from_sums, layout=layout), [spec], n_resamples, seed)


def _with_both_classes(h: Holdout) -> bool:
    return 2 <= (h.y == h.k - 1).sum() <= h.y.size - 2


@settings(max_examples=25, deadline=None)
@given(holdouts(), st.integers(0, 1000))
def test_each_resample_matches_sklearn_on_the_drawn_rows(h: Holdout, seed: int) -> None:
    if not _with_both_classes(h):
        return
    d = _draws(h, 15, seed)
    order = np.argsort(h.proba[:, -1], kind="stable")  # draws() resamples rows in critical-score order
    (drawn,) = list(stratified_weights(h.y[order], 15, np.random.default_rng(seed)))
    weights = np.empty_like(drawn)
    weights[:, order] = drawn
    for b in range(15):
        idx = np.repeat(np.arange(h.y.size), weights[b].astype(int))
        for name, ref in _sk_metrics(h, idx).items():
            assert abs(d.boot[name][b] - ref) <= TOL, name


@settings(max_examples=25, deadline=None)
@given(holdouts(), st.integers(0, 1000))
def test_jackknife_matches_leave_one_out(h: Holdout, seed: int) -> None:
    if not _with_both_classes(h):
        return
    d = _draws(h, 5, seed)
    for i in range(0, h.y.size, 7):
        ref = _sk_metrics(h, np.delete(np.arange(h.y.size), i))
        for name, value in ref.items():
            assert abs(d.jack[name][i] - value) <= TOL, name


def test_resamples_are_stratified_and_seeded(dili: Holdout) -> None:
    chunks = list(stratified_weights(dili.y, 50, np.random.default_rng(3)))
    weights = np.concatenate(chunks)
    assert weights.shape == (50, dili.y.size)
    for c in range(4):
        assert np.all(weights[:, dili.y == c].sum(axis=1) == (dili.y == c).sum())
    again = np.concatenate(list(stratified_weights(dili.y, 50, np.random.default_rng(3))))
    assert np.array_equal(weights, again)
    assert chunk_size(100_000, 2000) < 2000 and chunk_size(320, 2000) == 2000


def _scipy_interval(
    h: Holdout, name: str, boot: np.ndarray, method: str, seen: dict[bytes, dict[str, float]]
) -> tuple[float, float]:
    """scipy.stats.bootstrap on our distribution (bootstrap_result=...), its own jackknife for BCa.

    `seen` keeps sklearn's values per row set: every metric's jackknife drops the same rows."""

    def statistic(idx: np.ndarray, axis: int = -1) -> np.ndarray:
        rows = np.atleast_2d(idx)
        for r in rows:
            if r.tobytes() not in seen:
                seen[r.tobytes()] = _sk_metrics(h, r)
        values = [seen[r.tobytes()][name] for r in rows]
        return np.asarray(values if idx.ndim > 1 else values[0])

    res = stats.bootstrap(
        (np.arange(h.y.size),),
        statistic,
        vectorized=True,
        n_resamples=0,
        bootstrap_result=SimpleNamespace(bootstrap_distribution=boot),
        method=method,
        confidence_level=0.95,
    )
    return float(res.confidence_interval.low), float(res.confidence_interval.high)


def test_percentile_and_bca_match_scipy_bootstrap() -> None:
    h, checked = dili_like(n=60, seed=1), set()
    seen: dict[bytes, dict[str, float]] = {}
    r = score(h.y, h.proba, classes=h.classes, critical_class="severe", n_resamples=400, seed=9)
    d, again = _draws(h, 400, 9), _draws(h, 400, 9)
    for name in ("macro_f1", "accuracy", "log_loss", "brier", "critical_recall", "auc/0"):
        est = r.headline.critical_roc_auc if name == "auc/0" else getattr(r.headline, name)
        assert np.array_equal(d.boot[name], again.boot[name])
        pct = _scipy_interval(h, name, d.boot[name], "percentile", seen)
        assert abs(est.percentile.low - pct[0]) <= TOL and abs(est.percentile.high - pct[1]) <= TOL, name
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            bca = _scipy_interval(h, name, d.boot[name], "BCa", seen)
        if np.isnan(bca).any():  # scipy: degenerate; ours: no BCa, fall back to percentile
            assert est.bca is None, name
            if name not in ("accuracy", "critical_recall"):
                assert (est.low, est.high, est.method) == (*pct, "percentile"), name
            continue
        assert abs(est.bca.low - bca[0]) <= TOL and abs(est.bca.high - bca[1]) <= TOL, name
        if name in ("accuracy", "critical_recall"):  # proportions: low/high are exact (scoring.exact)
            assert est.method == "exact"
        else:
            assert (est.low, est.high, est.method) == (est.bca.low, est.bca.high, "bca")
        checked.add(name)
    assert checked >= {"macro_f1", "accuracy", "log_loss", "brier", "auc/0"}


def test_intervals_shrink_with_more_rows() -> None:
    small, large = dili_like(n=320, seed=1), dili_like(n=3200, seed=1)
    widths = []
    for h in (small, large):
        r = score(h.y, h.proba, classes=h.classes, critical_class="severe", n_resamples=300)
        widths.append(r.headline.macro_f1.high - r.headline.macro_f1.low)
    assert widths[1] < widths[0] * 0.6
