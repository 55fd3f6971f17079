"""Drift measures: PSI on the reference's quantile bins, KS with BH-adjusted p-values, class priors, ADWIN."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import false_discovery_control, ks_2samp

from cohortbench import cohorts
from cohortbench.cohorts.drift import PSI_FLOOR, adwin_batches, class_shift, drift_report, psi
from cohortbench.cohorts.sites import LAB_PLATFORM_SHIFT, SECOND_SITE
from cohortbench.errors import ValidationError


def test_psi_matches_the_formula_on_decile_bins_of_the_reference() -> None:
    rng = np.random.default_rng(0)
    ref, cur = rng.normal(size=5000), rng.normal(0.5, 1.0, size=3000)
    edges = np.quantile(ref, np.linspace(0, 1, 11))[1:-1]
    r = np.histogram(ref, bins=[-np.inf, *edges, np.inf])[0] / ref.size
    c = np.histogram(cur, bins=[-np.inf, *edges, np.inf])[0] / cur.size
    assert psi(ref, cur) == pytest.approx(float(np.sum((c - r) * np.log(c / r))), rel=1e-9)
    assert psi(ref, rng.normal(size=3000)) < 0.02 < 0.1 < psi(ref, cur)


def test_psi_merges_tied_edges_and_floors_empty_bins() -> None:
    ref = np.array([0.0] * 90 + [1.0] * 10)  # a binary feature: two bins, not ten
    cur = np.array([0.0] * 50 + [1.0] * 50)
    assert psi(ref, cur) == pytest.approx((0.5 - 0.9) * np.log(0.5 / 0.9) + (0.5 - 0.1) * np.log(0.5 / 0.1))
    assert psi(ref, np.zeros(10)) == pytest.approx(
        (1 - 0.9) * np.log(1 / 0.9) + (PSI_FLOOR - 0.1) * np.log(PSI_FLOOR / 0.1)
    )
    with pytest.raises(ValidationError):
        psi(ref, np.array([]))


def test_class_shift_counts_and_tests_the_priors() -> None:
    same = class_shift(
        pd.Series(["a"] * 50 + ["b"] * 50), pd.Series(["a"] * 40 + ["b"] * 40), ["a", "b", "c"]
    )
    moved = class_shift(
        pd.Series(["a"] * 50 + ["b"] * 50), pd.Series(["a"] * 10 + ["b"] * 70), ["a", "b", "c"]
    )
    assert same.current == {"a": 40, "b": 40, "c": 0} and same.total_variation == 0.0
    assert same.chi2_p_value is not None and same.chi2_p_value > 0.5
    assert moved.chi2_p_value is not None and moved.chi2_p_value < 1e-6
    assert moved.total_variation == pytest.approx(0.5 - 10 / 80)


def test_adwin_sees_a_level_change_in_the_batch_that_brings_it() -> None:
    rng = np.random.default_rng(1)
    first = rng.normal(size=800)
    assert adwin_batches([first, rng.normal(size=300), rng.normal(1.0, 1.0, 300)]) == 2
    assert adwin_batches([first, rng.normal(size=300)]) is None


def test_the_second_site_batch_flags_its_lab_platform_features_only() -> None:
    """The DILI growth site moves ALT and AST (its analyser); at FDR 5 % nothing else is flagged."""
    spec = cohorts.get_spec("dili")
    home, batch = cohorts.generate("dili"), cohorts.generate("dili", site=SECOND_SITE)
    report = drift_report(
        home,
        batch,
        groups=spec.feature_groups,
        label_column=spec.label_column,
        classes=[str(c) for c in spec.classes],
        stream=[home, batch],
    )
    shifted = set(LAB_PLATFORM_SHIFT["dili"][SECOND_SITE])
    assert set(report.flagged) == shifted
    assert all(f.psi > 0.1 and f.adwin_batch == 1 for f in report.features if f.name in shifted)
    assert report.classes.chi2_p_value is not None and report.classes.chi2_p_value > 0.5
    ks = [ks_2samp(home[f], batch[f]).pvalue for f in (f.name for f in report.features)]
    assert [f.q_value for f in report.features] == pytest.approx(list(false_discovery_control(ks)))
    liver = next(g for g in report.groups if g.group == "liver_panel")
    assert liver.n_flagged == 2 and liver.top_feature in shifted
    assert sum(g.n_flagged for g in report.groups) == 2
    assert batch["patient_id"].iloc[0].startswith("B") and not set(batch["patient_id"]) & set(
        home["patient_id"]
    )
