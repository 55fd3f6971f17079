"""Shared by the board tests: finished submissions without a sandbox run, and the uncached board."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from cohortbench.service import release, users, workspaces
from cohortbench.service.board_record import HEADLINE_METRICS, board_of
from cohortbench.store.models import Result, Run, Submission, Workspace, utcnow
from tests.service.conftest import CLASSES, Deployment

URL = "/api/v1/workspaces/tiny/leaderboard"
WHO = ("owner", "alice", "bob", "victor")


def auth(dep: Deployment, who: str, etag: str | None = None) -> dict[str, str]:
    headers = {"Authorization": f"Bearer {dep.tokens[who]}"}
    return {**headers, "If-None-Match": etag} if etag else headers


def finish(dep: Deployment, who: str, score: float) -> int:
    """A submission of `who` that succeeded with a baseline macro-F1 of `score` (as the worker leaves it)."""
    with dep.platform.session() as session:
        user = users.get_user(session, who)
        ws = session.scalars(select(Workspace).where(Workspace.name == "tiny")).one()
        sub = Submission(
            workspace_id=ws.id, user_id=user.id, cohort_version_id=workspaces.latest_version(session, ws).id,
            name=f"{who}-{score}", framework="sklearn", bundle_sha256="0" * 64, claimed={"macro_f1": 0.9},
            status="succeeded", compute_pflop=1e-4, finished_at=utcnow(),
        )  # fmt: skip
        session.add(sub)
        session.flush()
        run = Run(submission_id=sub.id, phase="baseline", status="succeeded", resources={"cpu_seconds": 2.0})
        session.add(run)
        session.flush()
        headline: dict[str, Any] = {
            m: {"value": score, "low": score - 0.05, "high": score + 0.05} for m in HEADLINE_METRICS
        }
        headline.update(ece=0.1, support=dict.fromkeys(CLASSES, 20))
        session.add(Result(run_id=run.id, result={}, headline=headline))
        session.flush()
        sub.board = board_of(session, sub.id)
        return sub.id


def expected(dep: Deployment, who: str, version: int | None = None) -> dict[str, Any]:
    """What the release step builds for `who`, uncached."""
    with dep.platform.session() as session:
        board = release.leaderboard(
            session, actor=users.get_user(session, who), workspace_name="tiny",
            grid_g_per_kwh=dep.platform.settings.grid_g_per_kwh, version=version,
        )  # fmt: skip
        return board.model_dump(mode="json")


def publish(dep: Deployment) -> None:
    assert dep.http.post("/api/v1/workspaces/tiny/publish", headers=auth(dep, "owner")).status_code == 200
