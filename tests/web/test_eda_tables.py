"""The EDA page of a table with gaps and categories: missing values and levels per class are shown
under the small-cell rule, and a rare level's name never reaches a member's page."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient

from cohortbench.api import create_app
from cohortbench.service import Platform, Settings, users, workspaces
from cohortbench.service.auth import TOKEN_COOKIE

RARE = "Zanzibar-General"  # 4 records


def _table() -> pd.DataFrame:
    rng = np.random.default_rng(11)
    n = 400
    labels = np.where(rng.random(n) < 0.4, "high", "low")
    site = rng.choice(["north", "south", "east"], size=n, p=[0.5, 0.3, 0.2]).astype(object)
    site[:4] = RARE
    frame = pd.DataFrame(
        {
            "pid": [f"R{i:03d}" for i in range(n)],
            "outcome": labels,
            "lab_alt": rng.lognormal(3 + (labels == "high"), 0.3),
            "lab_ast": rng.lognormal(2.5 + (labels == "high"), 0.3),
            "site": site,
            "diabetes": rng.choice(["yes", "no"], size=n, p=[0.3, 0.7]),
        }
    )
    frame.loc[rng.random(n) < 0.2, "lab_alt"] = np.nan
    return frame


@pytest.fixture
def http(tmp_path: Path) -> Iterator[TestClient]:
    platform = Platform.open(Settings(data_dir=tmp_path / "data", embedded_worker=False))
    with platform.session() as session:
        owner, _ = users.create_user(session, name="owner", is_admin=True)
        _alice, token = users.create_user(session, name="alice")
        workspaces.create_workspace(
            platform, session, actor=owner, name="gaps", title="Gaps", frame=_table(),
            label_column="outcome", id_column="pid", critical_class="high",
        )  # fmt: skip
        workspaces.invite(session, actor=owner, name="gaps", user_name="alice")
    with TestClient(create_app(platform)) as client:
        client.cookies.set(TOKEN_COOKIE, token)
        yield client
    platform.close()


def test_the_eda_page_shows_missing_values_and_levels_and_never_the_rare_level(http: TestClient) -> None:
    page = http.get("/w/gaps/eda")
    assert page.status_code == 200
    text = page.text
    assert 'id="missing-values"' in text and "lab_alt" in text
    assert 'id="categories"' in text
    for level in ("north", "south", "east", "other", "yes", "no"):
        assert f'<th scope="row">{level}</th>' in text
    assert "Zanzibar" not in text
