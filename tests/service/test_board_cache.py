"""The cached leaderboard: each viewer gets what the release step builds for them, and no stale board.

Submissions are inserted as finished (no sandbox run), so these tests take about a second each.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from cohortbench.service import release, users, workspaces
from cohortbench.service.board_record import HEADLINE_METRICS, board_of
from cohortbench.service.boards import state_stamp
from cohortbench.store import audit
from cohortbench.store.models import LeaderboardRelease, Result, Run, Submission, Workspace, utcnow
from tests.service.conftest import CLASSES, Deployment

URL = "/api/v1/workspaces/tiny/leaderboard"
WHO = ("owner", "alice", "bob", "victor")


def _auth(dep: Deployment, who: str, etag: str | None = None) -> dict[str, str]:
    headers = {"Authorization": f"Bearer {dep.tokens[who]}"}
    return {**headers, "If-None-Match": etag} if etag else headers


def _finish(dep: Deployment, who: str, score: float) -> int:
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


def _expected(dep: Deployment, who: str) -> dict[str, Any]:
    """What the release step builds for `who`, uncached."""
    with dep.platform.session() as session:
        board = release.leaderboard(
            session, actor=users.get_user(session, who), workspace_name="tiny",
            grid_g_per_kwh=dep.platform.settings.grid_g_per_kwh,
        )  # fmt: skip
        return board.model_dump(mode="json")


def _get(dep: Deployment, who: str, etag: str | None = None) -> tuple[int, Any, str]:
    response = dep.http.get(URL, headers=_auth(dep, who, etag))
    body = response.json() if response.status_code == 200 else None
    return response.status_code, body, response.headers["etag"]


def test_each_viewer_gets_their_own_payload_from_a_warm_cache(deployment: Deployment) -> None:
    """Before release each contributor sees only their rows; after it, `mine` marks only theirs."""
    a1, a2, b1 = (
        _finish(deployment, "alice", 0.81),
        _finish(deployment, "alice", 0.62),
        _finish(deployment, "bob", 0.77),
    )
    for _round in range(2):  # the second round is served from the cache, in another order
        seen = {}
        for who in WHO if _round == 0 else WHO[::-1]:
            status, body, etag = _get(deployment, who)
            assert status == 200 and body == _expected(deployment, who)
            seen[who] = ({r["submission_id"] for r in body["rows"]}, etag)
        assert seen["owner"][0] == {a1, a2, b1}
        assert seen["alice"][0] == {a1, a2} and seen["bob"][0] == {b1} and seen["victor"][0] == set()
        assert len({etag for _rows, etag in seen.values()}) == len(WHO)
    owner_body = _get(deployment, "owner")[1]
    assert owner_body["score_step"] is None and owner_body["rows"][0]["baseline"]["value"] == 0.81

    deployment.http.post("/api/v1/workspaces/tiny/publish", headers=_auth(deployment, "owner"))
    etags = {}
    for who in ("alice", "bob", "victor", "alice"):
        status, body, etags[who] = _get(deployment, who)
        assert status == 200 and body == _expected(deployment, who)
        assert {r["submission_id"] for r in body["rows"]} == {a1, a2, b1}
        assert {r["submission_id"] for r in body["rows"] if r["mine"]} == {
            "alice": {a1, a2}, "bob": {b1}, "victor": set()
        }[who]  # fmt: skip
        assert body["score_step"] is not None  # rounded for every member, exact only for the owner
    assert len(set(etags.values())) == 3


def test_etag_answers_304_until_the_board_changes(deployment: Deployment) -> None:
    _finish(deployment, "alice", 0.7)
    status, _body, etag = _get(deployment, "alice")
    assert status == 200
    assert _get(deployment, "alice", etag)[0] == 304
    assert _get(deployment, "alice", f'W/{etag}, "other"')[0] == 304
    assert _get(deployment, "bob", etag)[0] == 200  # another viewer's tag is not theirs

    new = _finish(deployment, "alice", 0.9)  # a submission finishes
    status, body, etag2 = _get(deployment, "alice", etag)
    assert status == 200 and etag2 != etag and new in {r["submission_id"] for r in body["rows"]}
    _finish(deployment, "bob", 0.95)  # not visible to alice before release: her board is unchanged
    assert _get(deployment, "alice", etag2)[0] == 304

    deployment.http.post("/api/v1/workspaces/tiny/publish", headers=_auth(deployment, "owner"))
    status, body, etag3 = _get(deployment, "alice", etag2)
    assert status == 200 and etag3 != etag2 and len(body["rows"]) == 3
    assert body == _expected(deployment, "alice")


def test_a_role_change_or_a_rule_change_is_seen_at_once(deployment: Deployment) -> None:
    _finish(deployment, "alice", 0.7)
    deployment.http.post("/api/v1/workspaces/tiny/publish", headers=_auth(deployment, "owner"))
    _status, before, etag = _get(deployment, "alice")
    deployment.http.post(
        "/api/v1/workspaces/tiny/members", json={"user": "alice", "role": "viewer"},
        headers=_auth(deployment, "owner"),
    )  # fmt: skip
    status, body, _etag = _get(deployment, "alice")
    assert status == 200 and body == _expected(deployment, "alice") == before  # same rows, other class
    patch = deployment.http.patch(
        "/api/v1/workspaces/tiny/rules", json={"ladder": True}, headers=_auth(deployment, "owner")
    )
    assert patch.status_code == 200
    status, body, etag2 = _get(deployment, "alice", etag)
    assert status == 200 and body == _expected(deployment, "alice") and body["rows"][0]["ladder"] == "held"
    assert etag2 != etag


def test_the_state_stamp_moves_with_every_input_of_the_board(deployment: Deployment) -> None:
    """A new submission, an audited change (a finish, a Ladder release), publication: each moves the stamp."""

    def stamp() -> object:
        with deployment.platform.session() as session:
            ws = session.scalars(select(Workspace).where(Workspace.name == "tiny")).one()
            return state_stamp(session, ws)

    stamps = [stamp()]
    sid = _finish(deployment, "bob", 0.6)
    stamps.append(stamp())
    with deployment.platform.session() as session:
        ws = session.scalars(select(Workspace).where(Workspace.name == "tiny")).one()
        session.add(LeaderboardRelease(workspace_id=ws.id, user_or_team="user:2", submission_id=sid))
        audit.append(
            session, actor="worker", action="leaderboard.release", target=f"submission:{sid}", payload={}
        )
    stamps.append(stamp())
    with deployment.platform.session() as session:
        session.get(Submission, sid).status = "cancelled"  # type: ignore[union-attr]
        audit.append(
            session, actor="worker", action="submission.cancelled", target=f"submission:{sid}", payload={}
        )
    stamps.append(stamp())
    deployment.http.post("/api/v1/workspaces/tiny/publish", headers=_auth(deployment, "owner"))
    stamps.append(stamp())
    assert len(set(map(repr, stamps))) == len(stamps)
    assert stamp() == stamps[-1]  # and stays put while nothing changes
