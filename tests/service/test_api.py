"""The REST API through the real HTTP app: every role against every endpoint, bad input, rules."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from cohortbench.client import ApiError, zip_bundle
from cohortbench.service.board_record import board_of
from cohortbench.store.models import Submission
from tests.service.conftest import Deployment, make_bundle

API = "/api/v1"


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _submit(dep: Deployment, who: str, bundle: Path) -> dict:
    files = {"bundle": ("b.zip", zip_bundle(bundle), "application/zip")}
    response = dep.http.post(
        f"{API}/workspaces/tiny/submissions", files=files, headers=_auth(dep.tokens[who])
    )
    return {**response.json(), "http": response.status_code}


def test_unauthenticated_and_bad_token_get_401_problem_json(deployment: Deployment) -> None:
    for headers in ({}, _auth("not-a-token")):
        response = deployment.http.get(f"{API}/workspaces", headers=headers)
        assert response.status_code == 401
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.json()["code"] == "unauthenticated"


def test_non_member_sees_no_workspace(deployment: Deployment) -> None:
    with deployment.platform.session() as session:
        from cohortbench.service import users

        _u, token = users.create_user(session, name="mallory")
    assert deployment.http.get(f"{API}/workspaces", headers=_auth(token)).json()["count"] == 0
    assert deployment.http.get(f"{API}/workspaces/tiny", headers=_auth(token)).status_code == 404
    assert deployment.http.get(f"{API}/workspaces/tiny/eda", headers=_auth(token)).status_code == 404


@pytest.mark.parametrize(
    ("who", "method", "path", "expected"),
    [
        ("alice", "post", "/workspaces/tiny/publish", 403),
        ("alice", "get", "/workspaces/tiny/members", 403),
        ("alice", "get", "/workspaces/tiny/audit", 403),
        ("alice", "get", "/audit/verify", 403),
        ("victor", "post", "/workspaces/tiny/publish", 403),
        ("owner", "get", "/workspaces/tiny/members", 200),
        ("owner", "get", "/audit/verify", 200),
        ("victor", "get", "/workspaces/tiny/leaderboard", 200),
        ("alice", "patch", "/workspaces/tiny/rules", 403),
    ],
)
def test_role_checks(deployment: Deployment, who: str, method: str, path: str, expected: int) -> None:
    kwargs = {"json": {"quota": 9}} if method == "patch" else {}
    response = getattr(deployment.http, method)(
        f"{API}{path}", headers=_auth(deployment.tokens[who]), **kwargs
    )
    assert response.status_code == expected, response.text


def test_viewer_cannot_submit(deployment: Deployment, tmp_path: Path) -> None:
    answer = _submit(deployment, "victor", make_bundle(tmp_path / "b"))
    assert answer["http"] == 403


def test_bad_uploads_cost_no_quota(deployment: Deployment, tmp_path: Path) -> None:
    files = {"bundle": ("b.zip", b"this is not a zip", "application/zip")}
    response = deployment.http.post(
        f"{API}/workspaces/tiny/submissions", files=files, headers=_auth(deployment.tokens["alice"])
    )
    assert response.status_code == 422 and response.json()["code"] == "invalid_bundle"
    slip = io.BytesIO()
    with zipfile.ZipFile(slip, "w") as archive:
        archive.writestr("../evil.py", "print('x')")
    files = {"bundle": ("b.zip", slip.getvalue(), "application/zip")}
    response = deployment.http.post(
        f"{API}/workspaces/tiny/submissions", files=files, headers=_auth(deployment.tokens["alice"])
    )
    assert response.status_code == 422
    card = deployment.http.get(f"{API}/workspaces/tiny", headers=_auth(deployment.tokens["alice"])).json()
    assert card["submissions_used"] == 0


def test_upload_over_the_cap_is_refused_with_413(deployment: Deployment) -> None:
    object.__setattr__(deployment.platform.settings, "max_upload_bytes", 1000)
    files = {"bundle": ("b.zip", b"x" * 5000, "application/zip")}
    response = deployment.http.post(
        f"{API}/workspaces/tiny/submissions", files=files, headers=_auth(deployment.tokens["alice"])
    )
    assert response.status_code == 413


def test_expired_workspace_refuses_submissions(deployment: Deployment, tmp_path: Path) -> None:
    yesterday = (date.today() - timedelta(days=1)).isoformat()
    response = deployment.http.patch(
        f"{API}/workspaces/tiny/rules",
        json={"end_date": yesterday},
        headers=_auth(deployment.tokens["owner"]),
    )
    assert response.status_code == 200
    answer = _submit(deployment, "alice", make_bundle(tmp_path / "b"))
    assert answer["http"] == 409 and answer["code"] == "workspace_closed"


@pytest.mark.sandbox
def test_quota_then_budget(deployment: Deployment, tmp_path: Path) -> None:
    owner = _auth(deployment.tokens["owner"])
    deployment.http.patch(f"{API}/workspaces/tiny/rules", json={"quota": 1}, headers=owner)
    assert _submit(deployment, "alice", make_bundle(tmp_path / "a"))["http"] == 201
    answer = _submit(deployment, "alice", make_bundle(tmp_path / "b"))
    assert answer["http"] == 409 and answer["code"] == "quota_exhausted"
    deployment.run_jobs()
    used = deployment.http.get(f"{API}/workspaces/tiny", headers=_auth(deployment.tokens["alice"])).json()
    assert used["compute_used_pflop"] > 1e-6
    deployment.http.patch(
        f"{API}/workspaces/tiny/rules", json={"quota": 5, "budget_pflop": 1e-6}, headers=owner
    )
    answer = _submit(deployment, "alice", make_bundle(tmp_path / "c"))
    assert answer["http"] == 409 and answer["code"] == "budget_exhausted"
    assert _submit(deployment, "bob", make_bundle(tmp_path / "d"))["http"] == 201, "bob has his own budget"


@pytest.mark.sandbox
def test_run_past_the_remaining_budget_is_stopped(deployment: Deployment, tmp_path: Path) -> None:
    owner = _auth(deployment.tokens["owner"])
    deployment.http.patch(f"{API}/workspaces/tiny/rules", json={"budget_pflop": 1e-12}, headers=owner)
    alice = deployment.client("alice")
    sub = alice.submit("tiny", make_bundle(tmp_path / "a"))
    deployment.run_jobs()
    done = alice.wait(sub, progress=False)
    assert done.status == "failed" and done.error is not None and done.error["code"] == "budget_exceeded"


@pytest.mark.sandbox
def test_full_evaluation_and_visibility(deployment: Deployment, tmp_path: Path) -> None:
    """Submit, run both phases in the sandbox, score; contributors see only their own until release."""
    alice, bob = deployment.client("alice"), deployment.client("bob")
    deployment.http.patch(
        f"{API}/workspaces/tiny/rules",
        json={"visibility": "published"},
        headers=_auth(deployment.tokens["owner"]),
    )
    sub_a = alice.submit("tiny", make_bundle(tmp_path / "a", name="alice-lr"))
    sub_b = bob.submit("tiny", make_bundle(tmp_path / "b", name="bob-lr", seed=3))
    deployment.run_jobs()
    assert alice.wait(sub_a, progress=False).status == "succeeded"
    res = alice.results(sub_a)
    phases = {r["phase"]: r for r in res.runs}
    assert phases["baseline"]["status"] == "succeeded" and phases["finetune"]["status"] == "succeeded"
    metrics = res.metrics()
    f1 = metrics[(metrics.phase == "finetune") & (metrics.metric == "macro_f1")].iloc[0]
    assert 0.0 <= f1.low <= f1.value <= f1.high <= 1.0
    with pytest.raises(ApiError) as err:
        alice.results(sub_b)
    assert err.value.status == 404
    assert list(alice.leaderboard("tiny").submission_id) == [sub_a.id]
    owner = deployment.client("owner")
    assert set(owner.leaderboard("tiny").submission_id) == {sub_a.id, sub_b.id}
    _assert_board_kept_by_the_worker(deployment)
    owner._post(f"{API}/workspaces/tiny/publish")
    assert set(alice.leaderboard("tiny").submission_id) == {sub_a.id, sub_b.id}
    with pytest.raises(ApiError) as err:
        alice._get(f"{API}/submissions/{sub_a.id}/runs/baseline/log")
    assert err.value.status == 403
    verify = owner._get(f"{API}/audit/verify")
    assert verify["ok"] and verify["n_entries"] > 10


def _assert_board_kept_by_the_worker(deployment: Deployment) -> None:
    """The worker stored each finished submission's board; without it the leaderboard is the same."""
    tokens = {who: deployment.tokens[who] for who in ("owner", "alice")}
    url = f"{API}/workspaces/tiny/leaderboard"
    before = {who: deployment.http.get(url, headers=_auth(t)).content for who, t in tokens.items()}
    with deployment.platform.session() as session:
        submissions = session.scalars(select(Submission)).all()
        # the board is board_of's, plus the paired transfer verdict the worker adds at finish
        kept = [{k: v for k, v in (s.board or {}).items() if k != "transfer"} for s in submissions]
        assert submissions and kept == [board_of(session, s.id) for s in submissions]
        for submission in submissions:
            submission.board = None
    after = {who: deployment.http.get(url, headers=_auth(t)).content for who, t in tokens.items()}
    assert after == before


@pytest.mark.sandbox
def test_no_record_level_value_reaches_a_contributor(deployment: Deployment, tmp_path: Path) -> None:
    """Invariant 1: nothing a contributor can read contains a cohort value."""
    alice = deployment.client("alice")
    sub = alice.submit("tiny", make_bundle(tmp_path / "a"))
    deployment.run_jobs()
    texts = [
        json.dumps(alice._get(path))
        for path in (
            f"{API}/workspaces",
            f"{API}/workspaces/tiny",
            f"{API}/workspaces/tiny/eda",
            f"{API}/workspaces/tiny/leaderboard",
            f"{API}/workspaces/tiny/submissions",
            f"{API}/submissions/{sub.id}",
        )
    ]
    blob = "\n".join(texts)
    values = deployment.cohort.drop(columns=["pid", "label"]).to_numpy().ravel()
    leaked = [v for v in values if f"{v:.6f}"[:-1] in blob]
    assert not leaked, f"{len(leaked)} cohort values found in contributor responses"
    assert not any(pid in blob for pid in deployment.cohort["pid"])
