"""The Ladder as a workspace option: a submission that does not beat the contributor's best shows no score."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from cohortbench.store.models import AuditEntry, LeaderboardRelease

from .conftest import Deployment, make_bundle


@pytest.mark.sandbox
def test_a_submission_that_does_not_beat_the_best_is_held(deployment: Deployment, tmp_path: Path) -> None:
    owner = {"Authorization": f"Bearer {deployment.tokens['owner']}"}
    patch = deployment.http.patch("/api/v1/workspaces/tiny/rules", json={"ladder": True}, headers=owner)
    assert patch.status_code == 200, patch.text
    alice = deployment.client("alice")
    bundle = make_bundle(tmp_path / "b")
    first, second = alice.submit("tiny", bundle), alice.submit("tiny", bundle)  # the same predictions
    deployment.run_jobs()

    mine = {s: alice._get(f"/api/v1/submissions/{s.id}") for s in (first, second)}
    assert [mine[s]["ladder"] for s in (first, second)] == ["accepted", "held"]
    assert mine[first]["runs"][0]["headline"] and mine[first]["top_groups"]
    held = mine[second]
    assert all(run["headline"] == {} for run in held["runs"])
    assert all(c["recall"] is None for run in held["runs"] for c in run["per_class"])
    assert held["top_groups"] == [] and held["transfer"] is None

    rows = {r["submission_id"]: r for r in alice._get("/api/v1/workspaces/tiny/leaderboard")["rows"]}
    assert rows[first.id]["baseline"] is not None and rows[first.id]["ladder"] == "accepted"
    assert rows[second.id]["baseline"] is None and rows[second.id]["finetuned"] is None
    assert rows[first.id]["rank"] < rows[second.id]["rank"]

    exact = deployment.http.get(f"/api/v1/submissions/{second.id}", headers=owner).json()
    assert exact["ladder"] == "held" and exact["runs"][0]["headline"]["macro_f1"]["value"] is not None
    with deployment.platform.session() as session:
        released = session.scalars(select(LeaderboardRelease.submission_id)).all()
        actions = session.scalars(
            select(AuditEntry.action).where(AuditEntry.action.like("leaderboard.%")).order_by(AuditEntry.id)
        ).all()
    assert released == [first.id] and actions == ["leaderboard.release", "leaderboard.hold"]


@pytest.mark.sandbox
def test_without_the_ladder_nothing_is_held(deployment: Deployment, tmp_path: Path) -> None:
    alice = deployment.client("alice")
    sub = alice.submit("tiny", make_bundle(tmp_path / "b"))
    deployment.run_jobs()
    body = alice._get(f"/api/v1/submissions/{sub.id}")
    assert body["ladder"] is None and body["runs"][0]["headline"]
