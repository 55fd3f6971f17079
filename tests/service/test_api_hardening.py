"""What a hostile tester found (issue 13): rules that took the listing down, huge ids, internals in
errors, a full disk answered as text/plain, server temp paths in bundle errors, cacheable answers."""

from __future__ import annotations

import errno
import io
import sqlite3
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from cohortbench.service import release, users, workspaces
from cohortbench.service.auth import TOKEN_COOKIE
from cohortbench.store.models import Workspace
from tests.service.conftest import CLASSES, Deployment, tiny_cohort

API = "/api/v1"
PROBLEM = "application/problem+json"


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _is_problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM), response.headers
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    return body


def _rules(dep: Deployment) -> dict[str, Any]:
    response = dep.http.get(f"{API}/workspaces/tiny", headers=_auth(dep.tokens["owner"]))
    assert response.status_code == 200, response.text
    rules: dict[str, Any] = response.json()["rules"]
    return rules


BAD_RULES = [
    ({"resources": 7}, "resources"),
    ({"resources": "x"}, "resources"),
    ({"round_scores": "no"}, "round_scores"),
    ({"quota": "abc"}, "quota"),
    ({"quota": 0}, "quota"),
    ({"quota": 2**70}, "quota"),
    ({"budget_pflop": "NaN"}, "budget_pflop"),
    ({"budget_pflop": 1e30}, "budget_pflop"),
    ({"budget_pflop": -1}, "budget_pflop"),
    ({"resources": {"memory_gb": -1}}, "resources.memory_gb"),
    ({"resources": {"cpu": 1e30}}, "resources.cpu"),
    ({"resources": {"gpus": 1}}, "resources.gpus"),
    ({"reason": {"a": 1}}, "reason"),
    ({"visibility": "everyone"}, "visibility"),
    ({"end_date": "soon"}, "end_date"),
    ({"dp_epsilon": 0}, "dp_epsilon"),
    ({"unknown_rule": 1}, "unknown_rule"),
]


def test_bad_rules_are_refused_with_422_naming_the_field(deployment: Deployment) -> None:
    """What the hostile tester stored (and more): each refused, nothing changed, the listing up."""
    before = _rules(deployment)
    for body, field in BAD_RULES:
        response = deployment.http.patch(
            f"{API}/workspaces/tiny/rules", json=body, headers=_auth(deployment.tokens["owner"])
        )
        problem = _is_problem(response, 422)
        assert field in problem["detail"], (body, problem)
    assert _rules(deployment) == before
    listing = deployment.http.get(f"{API}/workspaces", headers=_auth(deployment.tokens["alice"]))
    assert listing.status_code == 200 and listing.json()["count"] == 1


def test_json_nan_and_infinity_literals_are_refused(deployment: Deployment) -> None:
    for literal in ("NaN", "Infinity", "-Infinity"):
        response = deployment.http.patch(
            f"{API}/workspaces/tiny/rules",
            content=f'{{"budget_pflop": {literal}}}',
            headers={**_auth(deployment.tokens["owner"]), "content-type": "application/json"},
        )
        assert "budget_pflop" in _is_problem(response, 422)["detail"]


def test_a_good_patch_still_works_and_an_explicit_null_clears_the_end_date(deployment: Deployment) -> None:
    owner = _auth(deployment.tokens["owner"])
    url = f"{API}/workspaces/tiny/rules"
    response = deployment.http.patch(
        url, json={"end_date": "2030-01-31", "resources": {"gpu": 1, "gpu_memory_gb": 22.49}}, headers=owner
    )
    assert response.status_code == 200, response.text
    assert response.json()["resources"] == {"cpu": 2, "memory_gb": 8.59, "gpu": 1, "gpu_memory_gb": 22.49}
    response = deployment.http.patch(url, json={"end_date": None, "reason": "open-ended"}, headers=owner)
    assert response.status_code == 200 and response.json()["end_date"] is None


def test_a_bad_value_already_stored_costs_only_its_own_workspace(deployment: Deployment) -> None:
    """Rules stored before validation existed: the listing and `/` stay up; the owner can repair them."""
    platform = deployment.platform
    with platform.session() as session:
        owner = users.get_user(session, "owner")
        workspaces.create_workspace(
            platform,
            session,
            actor=owner,
            name="other",
            title="Other cohort",
            frame=tiny_cohort(seed=5),
            label_column="label",
            id_column="pid",
            critical_class="high",
            classes=CLASSES,
        )
        broken = session.scalar(select(Workspace).where(Workspace.name == "tiny"))
        assert broken is not None
        broken.resources = 7  # type: ignore[assignment]
        broken.rules = {**broken.rules, "round_scores": "no"}
    owner_auth = _auth(deployment.tokens["owner"])
    listing = deployment.http.get(f"{API}/workspaces", headers=owner_auth)
    assert listing.status_code == 200
    assert [c["name"] for c in listing.json()["data"]] == ["other"]
    assert deployment.http.get(f"{API}/workspaces", headers=_auth(deployment.tokens["alice"])).json() == {
        "data": [],
        "count": 0,
    }
    home = TestClient(deployment.http.app, cookies={TOKEN_COOKIE: deployment.tokens["owner"]})
    assert home.get("/").status_code == 200
    card = _is_problem(deployment.http.get(f"{API}/workspaces/tiny", headers=owner_auth), 409)
    assert card["code"] == "invalid_rules" and "resources" in card["detail"]
    url = f"{API}/workspaces/tiny/rules"
    still = _is_problem(deployment.http.patch(url, json={"resources": {"cpu": 2}}, headers=owner_auth), 422)
    assert "round_scores" in still["detail"]
    fixed = deployment.http.patch(
        url, json={"resources": {"cpu": 2}, "round_scores": True}, headers=owner_auth
    )
    assert fixed.status_code == 200, fixed.text
    names = [c["name"] for c in deployment.http.get(f"{API}/workspaces", headers=owner_auth).json()["data"]]
    assert names == ["tiny", "other"]


HUGE_IDS = [2**31, 2**63, 2**64, 0, -1]
ID_ROUTES = [
    ("get", "/api/v1/submissions/{id}"),
    ("post", "/api/v1/submissions/{id}/cancel"),
    ("get", "/api/v1/submissions/{id}/runs/baseline/log"),
    ("get", "/s/{id}"),
    ("get", "/s/{id}/report"),
]


def test_out_of_range_ids_answer_422_problem_json(deployment: Deployment) -> None:
    """2**63 was an OverflowError (500) on SQLite; 2**31 would be one on PostgreSQL's INTEGER ids."""
    for method, route in ID_ROUTES:
        for value in HUGE_IDS:
            response = getattr(deployment.http, method)(
                route.format(id=value), headers=_auth(deployment.tokens["owner"])
            )
            assert "submission_id" in _is_problem(response, 422)["detail"], (route, value)


def _quiet_client(dep: Deployment) -> TestClient:
    """A client that gets the server's answer to an unexpected exception (as a real client would)."""
    return TestClient(dep.http.app, raise_server_exceptions=False)


def test_an_unexpected_exception_is_a_bare_500_problem(
    deployment: Deployment, monkeypatch: pytest.MonkeyPatch
) -> None:
    def boom(*_: Any, **__: Any) -> None:
        raise RuntimeError("SELECT secret FROM /srv/cohortbench/internal.db")

    monkeypatch.setattr(release, "cards", boom)
    response = _quiet_client(deployment).get(f"{API}/workspaces", headers=_auth(deployment.tokens["alice"]))
    body = _is_problem(response, 500)
    assert body["code"] == "internal_error"
    assert "secret" not in response.text and "RuntimeError" not in response.text
    assert response.headers["cache-control"] == "no-store"


@pytest.mark.parametrize(
    "error",
    [
        OSError(errno.ENOSPC, "No space left on device", "/srv/data/artifacts/tmp123"),
        OperationalError("INSERT INTO audit ...", {}, sqlite3.OperationalError("database or disk is full")),
    ],
    ids=["enospc", "sqlite-full"],
)
def test_a_full_disk_answers_507_and_loses_nothing(
    deployment: Deployment, monkeypatch: pytest.MonkeyPatch, error: Exception
) -> None:
    """The rules change fails on its audit write: 507 problem+json, and the rules are as they were."""
    from cohortbench.store import audit

    before = _rules(deployment)

    def full(*_: Any, **__: Any) -> None:
        raise error

    monkeypatch.setattr(audit, "append", full)
    response = _quiet_client(deployment).patch(
        f"{API}/workspaces/tiny/rules", json={"quota": 4}, headers=_auth(deployment.tokens["owner"])
    )
    body = _is_problem(response, 507)
    assert body["code"] == "insufficient_storage"
    assert "/srv" not in response.text and "INSERT" not in response.text
    monkeypatch.undo()
    assert _rules(deployment) == before


def test_api_answers_are_never_cached(deployment: Deployment) -> None:
    owner = _auth(deployment.tokens["owner"])
    for path in ("/workspaces", "/workspaces/tiny", "/workspaces/tiny/leaderboard", "/me"):
        response = deployment.http.get(f"{API}{path}", headers=owner)
        assert response.status_code == 200 and response.headers["cache-control"] == "no-store", path
    assert deployment.http.get(f"{API}/workspaces").headers["cache-control"] == "no-store"  # the 401 too


def _zip(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _corrupt_zip() -> bytes:
    data = bytearray(_zip({"cohortbench.toml": b'name = "x"\nframework = "sklearn"\n' * 50}))
    data[60:70] = b"\xff" * 10  # inside the member's data: a CRC / inflate error on extraction
    return bytes(data)


def test_bundle_errors_never_show_server_temp_paths(deployment: Deployment) -> None:
    payloads = {
        "not-zip": b"not a zip at all",
        "corrupt": _corrupt_zip(),
        "long-name": _zip({"x" * 300: b"long name"}),
        "no-manifest": _zip({"model.py": b"print('no manifest')"}),
        "bad-toml": _zip({"cohortbench.toml": b"name = [broken"}),
    }
    for kind, payload in payloads.items():
        response = deployment.http.post(
            f"{API}/workspaces/tiny/submissions",
            files={"bundle": ("mine.zip", payload, "application/zip")},
            headers=_auth(deployment.tokens["alice"]),
        )
        detail = _is_problem(response, 422)["detail"]
        for leak in (tempfile.gettempdir(), "cohortbench-upload", "cohortbench-bundle", str(Path.home())):
            assert leak not in detail, (kind, detail)


def _cohort_upload(dep: Deployment, frame: pd.DataFrame) -> Any:
    data = {
        "name": "fresh",
        "title": "Fresh",
        "label_column": "label",
        "id_column": "pid",
        "critical_class": "high",
    }
    files = {"cohort": ("cohort.csv", frame.to_csv(index=False).encode(), "text/csv")}
    return dep.http.post(f"{API}/workspaces", data=data, files=files, headers=_auth(dep.tokens["owner"]))


def test_a_cohort_with_missing_labels_is_a_clear_422(deployment: Deployment) -> None:
    frame = tiny_cohort(seed=3)
    frame.loc[[2, 7, 11], "label"] = None
    detail = _is_problem(_cohort_upload(deployment, frame), 422)["detail"]
    assert "3 record(s) without a label in column 'label'" in detail


def test_a_cohort_with_infinite_features_is_refused_like_nan(deployment: Deployment) -> None:
    frame = tiny_cohort(seed=3)
    frame.loc[[4, 9], "f2"] = float("inf")
    detail = _is_problem(_cohort_upload(deployment, frame), 422)["detail"]
    assert "infinite values" in detail and "f2 (2)" in detail
    response = _cohort_upload(deployment, tiny_cohort(seed=3))
    assert response.status_code == 201, response.text


def test_the_api_takes_categorical_columns_and_drops_unlabelled_records_when_asked(
    deployment: Deployment,
) -> None:
    frame = tiny_cohort(seed=3)
    frame["site"] = np.where(np.arange(len(frame)) % 2 == 0, "north", "south")
    frame["stage"] = np.arange(len(frame)) % 3
    frame.loc[[2, 7, 11], "label"] = None
    data = {
        "name": "cats",
        "title": "Categories",
        "label_column": "label",
        "id_column": "pid",
        "critical_class": "high",
        "categorical": "stage",
        "missing_labels": "drop",
    }
    files = {"cohort": ("cohort.csv", frame.to_csv(index=False).encode(), "text/csv")}
    made = deployment.http.post(
        f"{API}/workspaces", data=data, files=files, headers=_auth(deployment.tokens["owner"])
    )
    assert made.status_code == 201, made.text
    with deployment.platform.session() as session:
        workspace = session.scalar(select(Workspace).where(Workspace.name == "cats"))
        assert workspace is not None
        assert set(workspace.settings["categories"]) == {"site", "stage"}
        assert workspace.settings["dropped_unlabelled"] == 3
    bad = _cohort_upload(deployment, frame.assign(label=frame["label"]))  # default: refuse
    assert "3 record(s) without a label" in _is_problem(bad, 422)["detail"]
