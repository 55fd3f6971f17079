"""Re-evaluation on a grown cohort: the owner re-runs stored bundles, charged to the owner and shown to the owner only."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import select

from cohortbench.errors import ConflictError, NotFoundError, PermissionDeniedError, ValidationError
from cohortbench.service import holdup, rerun, workspaces
from cohortbench.service.users import get_user
from cohortbench.store.models import Run, Submission, Workspace
from tests.service.conftest import Deployment, make_bundle
from tests.service.test_growth import _grow, batch


def _scored_then_grown(deployment: Deployment, tmp_path: Path) -> int:
    alice = deployment.client("alice")
    original = alice.submit("tiny", make_bundle(tmp_path / "bundle"))
    deployment.run_jobs()
    _grow(deployment, batch())
    return int(original.id)


def test_a_rerun_is_the_owners_and_shows_per_version(deployment: Deployment, tmp_path: Path) -> None:
    original = _scored_then_grown(deployment, tmp_path)
    with deployment.platform.session() as session:
        owner, alice = get_user(session, "owner"), get_user(session, "alice")
        made = rerun.rerun(session, actor=owner, name="tiny", version=2)
        assert [m.rerun_of for m in made] == [original]
        assert made[0].user_id == owner.id and made[0].team is None
        rerun_id = made[0].id
        workspace = session.scalar(select(Workspace).where(Workspace.name == "tiny"))
        assert workspace is not None
        used_before = workspaces.usage(session, workspace, alice)
        assert used_before[0] == 1
    deployment.run_jobs()
    with deployment.platform.session() as session:
        done = session.get(Submission, rerun_id)
        assert done is not None and done.status == "succeeded"
        alice = get_user(session, "alice")
        workspace = session.scalar(select(Workspace).where(Workspace.name == "tiny"))
        assert workspace is not None
        assert workspaces.usage(session, workspace, alice) == used_before  # the owner paid for it
    owner_http = {"Authorization": f"Bearer {deployment.tokens['owner']}"}
    alice_http = {"Authorization": f"Bearer {deployment.tokens['alice']}"}
    deployment.http.post("/api/v1/workspaces/tiny/publish", headers=owner_http)
    on_two = deployment.http.get("/api/v1/workspaces/tiny/leaderboard?version=2", headers=owner_http).json()
    assert [(r["submission_id"], r["rerun_of"]) for r in on_two["rows"]] == [(rerun_id, original)]
    assert on_two["version"] == 2 and on_two["rows"][0]["contributor"] == "alice"
    on_one = deployment.http.get("/api/v1/workspaces/tiny/leaderboard?version=1", headers=owner_http).json()
    assert [r["submission_id"] for r in on_one["rows"]] == [original]
    everyone = deployment.http.get("/api/v1/workspaces/tiny/leaderboard", headers=owner_http).json()
    assert [r["submission_id"] for r in everyone["rows"]] == [original]  # re-runs only on a version's board
    seen = deployment.http.get("/api/v1/workspaces/tiny/leaderboard?version=2", headers=alice_http).json()
    assert seen["rows"] == []
    assert deployment.http.get(f"/api/v1/submissions/{rerun_id}", headers=alice_http).status_code == 404
    with deployment.platform.session() as session:
        owner = get_user(session, "owner")
        series = holdup.holds_up(deployment.platform, session, actor=owner, name="tiny")
    assert len(series) == 1 and [p.version for p in series[0].points] == [1, 2]
    later = series[0].points[1]
    assert later.paired is True and later.difference_low is not None and later.difference_high is not None
    assert later.difference_low <= later.difference <= later.difference_high  # type: ignore[operator]
    from cohortbench.api.deps import TOKEN_COOKIE

    deployment.http.cookies.set(TOKEN_COOKIE, deployment.tokens["owner"])
    page = deployment.http.get("/w/tiny/leaderboard?version=2").text
    assert f"↻ #{original}" in page and "Holds up over time" in page and "Version 2" in page
    deployment.http.cookies.set(TOKEN_COOKIE, deployment.tokens["alice"])
    page = deployment.http.get("/w/tiny/leaderboard?version=2").text
    assert "Holds up" not in page and "↻" not in page
    _the_model_got_worse(deployment, rerun_id)


def _the_model_got_worse(deployment: Deployment, rerun_id: int) -> None:
    """A re-run whose model now calls every patient "low" is flagged as a significant paired drop."""
    with deployment.platform.session() as session:
        run = session.scalar(select(Run).where(Run.submission_id == rerun_id, Run.phase == "finetune"))
        assert run is not None and run.predictions_artifact is not None
        n = np.load(
            io.BytesIO(deployment.platform.artifacts.path(run.predictions_artifact).read_bytes())
        ).shape[0]
        buffer = io.BytesIO()
        np.save(buffer, np.tile([0.98, 0.01, 0.01], (n, 1)))
        run.predictions_artifact = deployment.platform.artifacts.put_bytes(buffer.getvalue())
        owner = get_user(session, "owner")
        series = holdup.holds_up(deployment.platform, session, actor=owner, name="tiny")
    later = series[0].points[1]
    assert later.paired and later.dropped and series[0].dropped
    assert later.difference_high is not None and later.difference_high < 0


def test_a_rerun_is_refused_by_name(deployment: Deployment, tmp_path: Path) -> None:
    original = _scored_then_grown(deployment, tmp_path)
    with deployment.platform.session() as session:
        owner, alice = get_user(session, "owner"), get_user(session, "alice")
        with pytest.raises(PermissionDeniedError):
            rerun.rerun(session, actor=alice, name="tiny", version=2)
        with pytest.raises(NotFoundError, match="versions 1-2, not 9"):
            rerun.rerun(session, actor=owner, name="tiny", version=9)
        with pytest.raises(ValidationError, match=r"not a contributor's submission.*: 77"):
            rerun.rerun(session, actor=owner, name="tiny", version=2, submission_ids=[77])
        with pytest.raises(ConflictError, match="already evaluated on cohort version 1"):
            rerun.rerun(session, actor=owner, name="tiny", version=1, submission_ids=[original])
        rerun.rerun(session, actor=owner, name="tiny", version=2)
        with pytest.raises(ConflictError, match=f"already evaluated on cohort version 2.*{original}"):
            rerun.rerun(session, actor=owner, name="tiny", version=2)


def test_the_demos_growth_act_grows_reports_and_reruns(deployment: Deployment, tmp_path: Path) -> None:
    from cohortbench.demo.growth import grow_and_rerun
    from cohortbench.service.worker import start_embedded_worker

    deployment.client("alice").submit("tiny", make_bundle(tmp_path / "bundle"))
    deployment.run_jobs()
    shifted = batch()
    shifted["f2"] = shifted["f2"] + 2.0  # the second site's lab platform reads f2 higher
    thread, stop = start_embedded_worker(deployment.platform)
    try:
        summary = grow_and_rerun(deployment.platform, "tiny", shifted)
    finally:
        stop.set()
        thread.join(timeout=60)
    assert summary["version"] == 2 and summary["flagged"] == ["f2"] and len(summary["reruns"]) == 1
    (series,) = summary["holdup"]
    assert series["contributor"] == "alice" and [p["version"] for p in series["points"]] == [1, 2]
