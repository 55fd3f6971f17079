"""Schema, exact counts, completeness and the brief's facts of both reference cohorts."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cohortbench import cohorts
from cohortbench.cohorts import DILI, NEUROMUSCULAR, SITES
from cohortbench.errors import ValidationError


@pytest.fixture(scope="module")
def dili() -> pd.DataFrame:
    return cohorts.generate("dili")


@pytest.fixture(scope="module")
def neuro() -> pd.DataFrame:
    return cohorts.generate("neuromuscular")


def test_dili_columns_and_counts(dili: pd.DataFrame) -> None:
    assert list(dili.columns) == ["patient_id", "dili_class", *DILI.features]
    assert len(DILI.features) == 201
    assert dili["dili_class"].value_counts().sort_index().tolist() == [1445, 19, 61, 75]
    assert all(pd.api.types.is_numeric_dtype(dili[c]) for c in DILI.features)
    assert {"ALT", "AST", "ALP", "GGT", "total_bilirubin", "cumulative_dose_mg", "age", "diabetes"} <= set(
        dili
    )


def test_neuromuscular_columns_and_counts(neuro: pd.DataFrame) -> None:
    assert list(neuro.columns) == ["patient_id", "progression", *NEUROMUSCULAR.features]
    assert len(NEUROMUSCULAR.features) == 250
    assert neuro["progression"].value_counts().to_dict() == {"Slow": 223, "Fast": 215, "Medium": 202}
    assert [c for c in neuro if c.startswith("gene_")] == [f"gene_{i}" for i in range(200)]


@pytest.mark.parametrize("name", ["dili", "neuromuscular"])
@pytest.mark.parametrize("site", SITES)
def test_complete_unique_and_same_schema_at_every_site(name: str, site: str) -> None:
    frame = cohorts.generate(name, site=site)
    spec = cohorts.get_spec(name)
    assert list(frame.columns) == [spec.id_column, spec.label_column, *spec.features]
    assert not frame.isna().any().any()
    assert not frame.drop(columns=spec.id_column).duplicated().any()
    assert frame[spec.id_column].is_unique
    assert set(frame[spec.label_column].astype(str)) == set(spec.classes)


def test_ids_carry_no_information(dili: pd.DataFrame) -> None:
    assert dili["patient_id"].tolist() == [f"P{i:04d}" for i in range(1, 1601)]
    first_half = dili["dili_class"].iloc[:800].value_counts()
    assert 0.8 < first_half[0] / 1445 * 2 < 1.2  # rows shuffled: no class block at the top


def test_dili_dose_means_match_brief(dili: pd.DataFrame) -> None:
    means = dili.groupby("dili_class")["cumulative_dose_mg"].mean()
    assert means[0] == pytest.approx(704, rel=0.05)
    assert means[3] == pytest.approx(1973, rel=0.05)
    assert means.is_monotonic_increasing


@pytest.mark.parametrize("column", ["ALT", "AST", "total_bilirubin", "Bile_Acids_1", "Bile_Acids_2"])
def test_dili_markers_rise_with_severity(dili: pd.DataFrame, column: str) -> None:
    assert dili.groupby("dili_class")[column].median().is_monotonic_increasing


def test_lipids_mostly_uninformative(dili: pd.DataFrame) -> None:
    lipids = dili[list(DILI.feature_groups["lipids"])]
    corr = lipids.apply(lambda s: abs(np.corrcoef(np.log(s), dili["dili_class"] == 0)[0, 1]))
    assert (corr < 0.1).mean() > 0.9
    assert corr.max() > 0.1


def test_neuromuscular_variance_ordering(neuro: pd.DataFrame) -> None:
    var = neuro[list(NEUROMUSCULAR.features)].var()
    genes = var[[c for c in var.index if c.startswith("gene_")]]
    clinical = var[[c for c in var.index if c.startswith("clinical_")]]
    assert genes.max() < 0.25
    assert clinical.median() > genes.max()


def test_gene_modules_carry_signal_collectively(neuro: pd.DataFrame) -> None:
    fast = (neuro["progression"] == "Fast").to_numpy()
    module = list(cohorts.gene_modules()["module_0"])
    single = max(abs(np.corrcoef(neuro[g], fast)[0, 1]) for g in module)
    collective = abs(
        np.corrcoef(neuro[module].sub(neuro[module].mean()).div(neuro[module].std()).mean(axis=1), fast)[0, 1]
    )
    assert collective > 1.5 * single


def test_unknown_cohort_and_site_name_the_known_ones() -> None:
    with pytest.raises(ValidationError, match="dili, neuromuscular"):
        cohorts.generate("hepatic")
    with pytest.raises(ValidationError, match="pharma-internal"):
        cohorts.generate("dili", site="mars")
    with pytest.raises(ValidationError, match="non-negative"):
        cohorts.generate("dili", seed=-3)


def test_with_gaps_knocks_out_lab_values_and_adds_two_categories() -> None:
    from cohortbench.cohorts import generate
    from cohortbench.cohorts.spec import LIVER_PANEL
    from cohortbench.cohorts.tables import CENTRES, with_gaps

    frame = generate("dili")
    gappy = with_gaps(frame, fraction=0.1, seed=2)
    assert gappy.equals(with_gaps(frame, fraction=0.1, seed=2))
    rates = gappy[list(LIVER_PANEL)].isna().mean()
    assert ((rates > 0.07) & (rates < 0.13)).all()
    assert not gappy.drop(columns=list(LIVER_PANEL)).isna().any().any()
    assert set(gappy["diabetes"]) == {"yes", "no"} and set(gappy["centre"]) == set(CENTRES)
    assert (gappy["diabetes"] == "yes").sum() == (frame["diabetes"] == 1).sum()
