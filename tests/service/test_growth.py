"""Cohort growth: a new content-hashed version, holdout fixed or re-split, bad batches refused with nothing changed."""

from __future__ import annotations

import io
import json

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import func, select

from cohortbench.errors import PermissionDeniedError, ValidationError
from cohortbench.service import growth, release, workspaces
from cohortbench.service.users import get_user
from cohortbench.store.models import AuditEntry, CohortVersion, Workspace
from tests.service.conftest import Deployment, tiny_cohort


def batch(n_per_class: int = 20, seed: int = 7, prefix: str = "N") -> pd.DataFrame:
    """New records in the tiny cohort's schema, with ids the cohort does not have."""
    frame = tiny_cohort(seed, n_per_class=n_per_class)
    frame["pid"] = [f"{prefix}{i:04d}" for i in range(len(frame))]
    return frame


def _state(d: Deployment) -> tuple[int, int, str]:
    with d.platform.session() as session:
        versions = session.scalar(select(func.count(CohortVersion.id))) or 0
        entries = session.scalar(select(func.count(AuditEntry.id))) or 0
        workspace = session.scalar(select(Workspace).where(Workspace.name == "tiny"))
        assert workspace is not None
        return versions, entries, workspace.dataset_id


def _holdout_ids(d: Deployment, version: CohortVersion) -> list[str]:
    return list(json.loads(d.platform.artifacts.path(version.holdout_ids_artifact).read_text()))


def _grow(d: Deployment, frame: pd.DataFrame, **kwargs: object) -> CohortVersion:
    with d.platform.session() as session:
        owner = get_user(session, "owner")
        return growth.grow(d.platform, session, actor=owner, name="tiny", batch=frame, **kwargs)  # type: ignore[arg-type]


def test_growth_keeps_the_holdout_and_adds_the_batch_to_train(deployment: Deployment) -> None:
    before = _state(deployment)
    with deployment.platform.session() as session:
        first = session.scalar(select(CohortVersion).where(CohortVersion.version == 1))
        assert first is not None
        session.expunge(first)
    version = _grow(deployment, batch())
    assert version.version == 2
    assert version.n_records == first.n_records + 60
    assert version.n_holdout == first.n_holdout and version.n_train == first.n_train + 60
    assert _holdout_ids(deployment, version) == _holdout_ids(deployment, first)
    assert version.sha256 != first.sha256
    after = _state(deployment)
    assert after[2] == version.sha256[:8] != before[2]
    with deployment.platform.session() as session:
        workspace = session.scalar(select(Workspace).where(Workspace.name == "tiny"))
        assert workspace is not None
        train, holdout = workspaces.load_cohort(deployment.platform, session.merge(version), workspace)
        entry = session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
    assert set(batch()["pid"]) <= set(train["pid"]) and not set(batch()["pid"]) & set(holdout["pid"])
    assert entry is not None and entry.action == "cohort.grow"
    assert entry.payload["n_added"] == 60 and entry.payload["resplit"] is False


def test_a_resplit_needs_a_reason_and_records_it(deployment: Deployment) -> None:
    with pytest.raises(ValidationError, match="reason"):
        _grow(deployment, batch(), resplit=True)
    version = _grow(deployment, batch(), resplit=True, reason="site B joined; holdout drawn again")
    with deployment.platform.session() as session:
        first = session.scalar(select(CohortVersion).where(CohortVersion.version == 1))
        entry = session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
        assert first is not None and entry is not None
        assert _holdout_ids(deployment, version) != _holdout_ids(deployment, first)
    assert version.n_holdout == 75  # a quarter of 300, stratified
    assert entry.action == "cohort.resplit" and entry.reason == "site B joined; holdout drawn again"


def _drop(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.drop(columns=["f3"])


def _extra(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.assign(site=1.0)


def _empty(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.iloc[:0]


def _known_ids(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.assign(pid=[f"X{i:04d}" for i in range(len(frame))])


def _twice(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.assign(pid=["N0000"] * len(frame))


def _unseen(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.assign(label=np.where(np.arange(len(frame)) < 3, "extreme", frame["label"]))


def _inf(frame: pd.DataFrame) -> pd.DataFrame:
    """Missing values are part of a cohort (kept as NaN); an infinite value is not."""
    out = frame.copy()
    out.loc[0, "f1"] = np.inf
    return out


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (_drop, "missing column.*f3"),
        (_extra, "extra column.*site"),
        (_empty, "no records"),
        (_known_ids, "already in cohort version 1: X0000"),
        (_twice, "appear twice in the batch: N0000"),
        (_unseen, "outside the workspace's classes.*extreme"),
        (_inf, "infinite"),
    ],
)
def test_a_bad_batch_is_refused_by_name_and_changes_nothing(
    deployment: Deployment, change: object, message: str
) -> None:
    before = _state(deployment)
    with pytest.raises(ValidationError, match=message):
        _grow(deployment, change(batch()))  # type: ignore[operator]
    assert _state(deployment) == before


def test_only_the_owner_grows_and_contributors_see_protected_counts(deployment: Deployment) -> None:
    with deployment.platform.session() as session:
        alice = get_user(session, "alice")
        with pytest.raises(PermissionDeniedError):
            growth.grow(deployment.platform, session, actor=alice, name="tiny", batch=batch())
    buffer = io.BytesIO()
    small = batch(n_per_class=4)
    small.to_parquet(buffer, index=False)
    files = {"batch": ("batch.parquet", buffer.getvalue())}
    denied = deployment.http.post(
        "/api/v1/workspaces/tiny/versions",
        files=files,
        headers={"Authorization": f"Bearer {deployment.tokens['alice']}"},
    )
    assert denied.status_code == 403
    owner = {"Authorization": f"Bearer {deployment.tokens['owner']}"}
    made = deployment.http.post("/api/v1/workspaces/tiny/versions", files=files, headers=owner)
    assert made.status_code == 201, made.text
    exact = made.json()["data"]
    assert [v["version"] for v in exact] == [1, 2]
    assert exact[1]["class_counts"] == {"low": 84, "mid": 84, "high": 84} and exact[1]["holdout_fixed"]
    with deployment.platform.session() as session:
        alice = get_user(session, "alice")
        seen = release.versions(deployment.platform, session, actor=alice, workspace_name="tiny").data
    assert seen[0].class_counts is None  # two versions' counts would give the batch's by difference
    assert seen[1].class_counts == {"low": 84, "mid": 84, "high": 84}
    assert seen[1].n_records == exact[1]["n_records"] == 252


def test_the_workspace_page_lists_the_versions(deployment: Deployment) -> None:
    from cohortbench.api.deps import TOKEN_COOKIE

    _grow(deployment, batch())
    deployment.http.cookies.set(TOKEN_COOKIE, deployment.tokens["owner"])
    page = deployment.http.get("/w/tiny").text
    assert "Cohort versions" in page and "100 / 60" not in page and "240 / 60" in page
    deployment.http.cookies.set(TOKEN_COOKIE, deployment.tokens["alice"])
    page = deployment.http.get("/w/tiny").text
    assert "240 / 60" in page and "earlier versions" in page


def test_the_drift_report_is_the_owners_on_api_and_eda_page(deployment: Deployment) -> None:
    from cohortbench.api.deps import TOKEN_COOKIE

    shifted = batch(n_per_class=40)
    shifted["f2"] = shifted["f2"] + 2.0  # a lab-platform offset on one feature
    _grow(deployment, shifted)
    owner = {"Authorization": f"Bearer {deployment.tokens['owner']}"}
    report = deployment.http.get("/api/v1/workspaces/tiny/drift?reference=1&current=2", headers=owner).json()
    assert report["flagged"] == ["f2"] and report["n_current"] == 120 and "quantile bins" in report["binning"]
    split = deployment.http.get("/api/v1/workspaces/tiny/drift", headers=owner).json()
    assert split["reference"] == "train of version 2" and split["n_current"] == 60
    alice = {"Authorization": f"Bearer {deployment.tokens['alice']}"}
    assert deployment.http.get("/api/v1/workspaces/tiny/drift", headers=alice).status_code == 403
    bad = deployment.http.get("/api/v1/workspaces/tiny/drift?reference=2&current=1", headers=owner)
    assert bad.status_code == 422 and "later version" in bad.text
    deployment.http.cookies.set(TOKEN_COOKIE, deployment.tokens["owner"])
    page = deployment.http.get("/w/tiny/eda").text
    assert "Drift (owner only)" in page and "added in version 2" in page
    deployment.http.cookies.set(TOKEN_COOKIE, deployment.tokens["alice"])
    assert "Drift" not in deployment.http.get("/w/tiny/eda").text
