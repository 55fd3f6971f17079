"""Property tests of release_eda on random cohorts: the small-cell rules hold whatever the data."""

from __future__ import annotations

import contextlib
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cohortbench.privacy import BudgetExhaustedError, DpSession, PrivacyLedger, release_eda

from .release_walk import counts, feature_values

MIN_CELL = 11
CLASSES = ("a", "b", "c", "d")


@st.composite
def cohorts(draw: st.DrawFn) -> pd.DataFrame:
    """Small cohorts with tiny classes, ties, coarse grids and missing values: the hard cases."""
    sizes = draw(st.lists(st.integers(0, 40), min_size=2, max_size=4))
    seed = draw(st.integers(0, 2**31 - 1))
    missing_rate = draw(st.sampled_from([0.0, 0.02, 0.1]))
    rng = np.random.default_rng(seed)
    labels = np.repeat(CLASSES[: len(sizes)], sizes)
    n = len(labels)
    frame = pd.DataFrame({"pid": [f"P{i}" for i in range(n)], "y": labels})
    frame["x_cont"] = rng.lognormal(3, 1, n)
    frame["x_grid"] = np.round(rng.normal(0, 5, n), 1)
    frame["x_int"] = rng.integers(0, 4, n).astype(np.float64)
    for col in ("x_cont", "x_grid", "x_int"):
        frame.loc[rng.random(n) < missing_rate, col] = np.nan
    return frame


GROUPS = {"g1": ("x_cont", "x_grid"), "g2": ("x_int",)}


def _release(frame: pd.DataFrame, dp: DpSession | None = None) -> dict[str, Any]:
    classes = sorted(set(frame["y"])) or ["a"]
    return release_eda(
        frame, label_column="y", id_column="pid", classes=classes, feature_groups=GROUPS, dp=dp
    ).to_dict()


PROPERTY = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(cohorts())
def test_no_released_count_is_small(frame: pd.DataFrame) -> None:
    release = _release(frame)
    assert not [c for c in counts(release) if 0 < c < MIN_CELL]


@PROPERTY
@given(cohorts())
def test_no_small_count_is_derivable_from_totals(frame: pd.DataFrame) -> None:
    release = _release(frame)
    table = release["class_distribution"]
    cells = [c["value"] for c in table["cells"].values()]
    hidden = [v for v in cells if v is None]
    total = table["total"]["value"]
    if total is not None and hidden:
        assert len(hidden) >= 2
        assert total - sum(v for v in cells if v is not None) >= MIN_CELL
    records = release["cohort"]["records"]["value"]
    for feature, hist in release["histograms"].items():
        if hist["counts"]:
            assert records is not None
            assert not 0 < records - sum(hist["counts"]) < MIN_CELL, feature
    for by_class in release["summaries"].values():
        for cls, summary in by_class.items():
            shown_class = table["cells"][cls]["value"]
            if summary["n"]["value"] is not None and shown_class is not None:
                assert not 0 < shown_class - summary["n"]["value"] < MIN_CELL


@PROPERTY
@given(cohorts())
def test_no_statistic_over_fewer_than_min_cell_records(frame: pd.DataFrame) -> None:
    release = _release(frame)
    for feature, by_class in release["summaries"].items():
        for cls, summary in by_class.items():
            n_true = int(frame.loc[frame["y"] == cls, feature].notna().sum())
            if n_true < MIN_CELL:
                assert all(stat["value"] is None for stat in summary.values()), (feature, cls)
        if frame[feature].notna().sum() < MIN_CELL:
            assert release["histograms"][feature]["counts"] == []
    for profile in release["group_overview"].values():
        for cls, value in profile["class_profile"].items():
            if (frame["y"] == cls).sum() < MIN_CELL:
                assert value["value"] is None


@PROPERTY
@given(cohorts())
def test_no_released_value_is_a_patients_extreme(frame: pd.DataFrame) -> None:
    """A value released about a group never equals that group's min or max unless 11+ records share it."""
    release = _release(frame)
    for feature in ("x_cont", "x_grid", "x_int"):
        for group, released in feature_values(release, feature).items():
            values = frame[feature] if group == "all" else frame.loc[frame["y"] == group, feature]
            values = values.dropna()
            for extreme in (values.min(), values.max()) if len(values) else ():
                if (values == extreme).sum() < MIN_CELL:
                    assert float(extreme) not in released, (feature, group, extreme)


@settings(max_examples=30, deadline=None)
@given(
    cohorts(),
    st.floats(0.05, 3.0),
    st.floats(0.01, 0.5),
    st.lists(st.floats(0.0, 0.5), max_size=5),
)
def test_dp_ledger_never_exceeds_budget(
    frame: pd.DataFrame, budget: float, per_query: float, prior_charges: list[float]
) -> None:
    ledger = PrivacyLedger(epsilon=budget)
    for eps in prior_charges:
        with contextlib.suppress(BudgetExhaustedError):
            ledger.charge("earlier query", eps)
    before = list(ledger.entries)
    session = DpSession(ledger, epsilon_per_query=per_query, public_bounds={"x_grid": (-20.0, 20.0)})
    try:
        release = _release(frame, dp=session)
    except BudgetExhaustedError:
        assert ledger.entries == before, "a refused release must spend nothing"
    else:
        assert not [c for c in counts(release) if 0 < c < MIN_CELL]
        assert len(ledger.entries) == len(before) + 3
    assert ledger.spent[0] <= budget
    assert ledger.remaining[0] >= 0


def test_a_class_of_seven_is_suppressed_with_a_complement() -> None:
    frame = pd.DataFrame(
        {
            "pid": range(107),
            "y": ["a"] * 80 + ["b"] * 7 + ["c"] * 20,
            "x_cont": np.arange(107.0),
            "x_grid": np.arange(107.0),
            "x_int": np.ones(107),
        }
    )
    release = _release(frame)
    cells = release["class_distribution"]["cells"]
    assert cells["b"] == {"value": None, "protection": "suppressed", "noise_scale": None}
    assert cells["c"]["protection"] == "suppressed_complement"
    assert cells["a"]["value"] == 80
    assert release["class_distribution"]["total"]["value"] == 107
    summary_c = release["summaries"]["x_cont"]["c"]
    assert summary_c["n"]["value"] is None, "n of a complement-suppressed class would give it away"
    assert summary_c["mean"]["value"] is not None, "20 records are enough for a mean"


@pytest.mark.parametrize("protection", ["exact", "rounded", "trimmed_quantile", "merged"])
def test_every_number_says_how_it_was_protected(protection: str) -> None:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"pid": range(200), "y": rng.choice(["a", "b"], 200)})
    for col in ("x_cont", "x_grid", "x_int"):
        frame[col] = rng.normal(size=200)
    release = _release(frame)
    text = str(release)
    assert f"'protection': '{protection}'" in text
