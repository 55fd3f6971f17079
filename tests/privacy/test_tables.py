"""Twin and EDA of a table with missing values, categories and a rare category: nothing names it."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from cohortbench.privacy import SchemaTwin, release_eda
from cohortbench.privacy.categories import OTHER, protect_table, public_levels
from cohortbench.privacy.released import is_small_count
from cohortbench.workspaces import validate_cohort

RARE = "Zanzibar-General"  # 4 records: a site name that would single its patients out
CLASSES = ("low", "high")


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    rng = np.random.default_rng(7)
    n = 300
    labels = np.where(rng.random(n) < 0.4, "high", "low")
    site = rng.choice(["north", "south", "east"], size=n, p=[0.5, 0.3, 0.2]).astype(object)
    site[:4] = RARE
    frame = pd.DataFrame(
        {
            "pid": [f"R{i:03d}" for i in range(n)],
            "outcome": labels,
            "alt": rng.lognormal(3 + (labels == "high"), 0.3),
            "site": site,
            "diabetes": rng.choice(["yes", "no"], size=n, p=[0.2, 0.8]),
            "stage": rng.integers(1, 4, size=n),
        }
    )
    frame.loc[rng.random(n) < 0.15, "alt"] = np.nan
    frame.loc[rng.random(n) < 0.05, "diabetes"] = None
    return validate_cohort(frame, id_column="pid", label_column="outcome", categorical=["stage"]).frame


GROUPS = {"labs": ["alt"], "context": ["site", "diabetes", "stage"]}


def _twin(frame: pd.DataFrame) -> SchemaTwin:
    return SchemaTwin.from_frame(
        frame, id_column="pid", label_column="outcome", classes=CLASSES, feature_groups=GROUPS
    )


def test_the_twin_lists_public_levels_and_merges_the_rare_one(table: pd.DataFrame) -> None:
    twin = _twin(table)
    text = json.dumps(twin.to_dict())
    assert RARE not in text and "Zanzibar" not in text
    site = next(c for c in twin.columns if c.name == "site")
    assert site.kind == "category" and site.levels == ("east", "north", "south", OTHER)
    assert SchemaTwin.from_dict(json.loads(text)) == twin
    for shares in site.shares.values():
        assert all(v is None or round(v, 2) == v for v in shares)


def test_the_twin_reproduces_missingness_per_class_at_the_released_rate(table: pd.DataFrame) -> None:
    twin = _twin(table)
    alt = next(c for c in twin.columns if c.name == "alt")
    labels = table["outcome"].astype(str)
    for c in CLASSES:
        real = float(table.loc[labels == c, "alt"].isna().mean())
        assert alt.missing[c] == round(real, 2)
    fake = twin.synthesize(4000, seed=1)
    fake_labels = fake["outcome"].astype(str)
    for c in CLASSES:
        drawn = float(fake.loc[fake_labels == c, "alt"].isna().mean())
        assert abs(drawn - alt.missing[c]) < 0.03
    site = fake["site"]
    assert isinstance(site.dtype, pd.CategoricalDtype)
    assert list(site.cat.categories) == ["east", "north", "south", OTHER]
    assert 0.4 < float((site == "north").mean()) < 0.6
    assert not next(c for c in twin.columns if c.name == "site").missing
    assert fake["diabetes"].isna().any() and not fake["site"].isna().any()


def test_the_eda_counts_missing_values_and_levels_without_naming_the_rare_one(table: pd.DataFrame) -> None:
    release = release_eda(
        table, label_column="outcome", id_column="pid", classes=CLASSES, feature_groups=GROUPS
    ).to_dict()
    text = json.dumps(release)
    assert RARE not in text and "Zanzibar" not in text
    assert set(release["missing"]) == {"alt", "diabetes"}
    labels = table["outcome"].astype(str)
    for c in CLASSES:
        cell = release["missing"]["alt"]["cells"][c]
        assert cell["value"] == int(table.loc[labels == c, "alt"].isna().sum())
    site = release["categories"]["site"]["levels"]
    assert list(site) == ["east", "north", "south", OTHER]
    north = int(((table["site"] == "north") & (labels == "low")).sum())
    assert site["north"]["cells"]["low"]["value"] == north
    for levels in release["categories"].values():
        for row in levels["levels"].values():
            assert not any(is_small_count(cell["value"]) for cell in row["cells"].values())
    assert set(release["summaries"]) == {"alt"} and set(release["histograms"]) == {"alt"}


def test_a_single_small_cell_in_a_column_is_hidden_with_a_complement() -> None:
    counts = {"a": {"x": 40, "y": 30}, "b": {"x": 25, "y": 4}, "c": {"x": 20, "y": 22}}
    table = protect_table(counts, column_sums={"x": None, "y": None})
    y = {lvl: t.cells["y"].value for lvl, t in table.levels.items()}
    assert y["b"] is None and sum(v is None for v in y.values()) >= 2  # 4 is not y's total minus the rest
    b = {c: cell.value for c, cell in table.levels["b"].cells.items()}
    assert b["y"] is None and b["x"] is None  # nor b's row total minus x


def test_levels_below_the_minimum_cell_are_merged_into_other() -> None:
    column = pd.Series(["a"] * 30 + ["b"] * 11 + ["rare"] * 3 + ["odd"] * 10 + [None] * 20)
    assert public_levels(column) == (("a", "b"), True)
    assert public_levels(pd.Series(["a"] * 30 + ["b"] * 11)) == (("a", "b"), False)
