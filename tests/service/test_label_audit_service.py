"""The label audit is the owner's: refused to others, and recorded in the audit trail without ids."""

from __future__ import annotations

from sqlalchemy import select

from cohortbench.store.models import AuditEntry
from tests.service.conftest import Deployment


def test_the_owner_audits_labels_and_the_trail_keeps_counts_only(deployment: Deployment) -> None:
    alice = {"Authorization": f"Bearer {deployment.tokens['alice']}"}
    assert deployment.http.post("/api/v1/workspaces/tiny/label-audit", headers=alice).status_code == 403
    owner = {"Authorization": f"Bearer {deployment.tokens['owner']}"}
    body = deployment.http.post("/api/v1/workspaces/tiny/label-audit", headers=owner).json()
    assert body["n_records"] == 240 and body["n_flagged"] == len(body["suspects"]) > 0
    first = body["suspects"][0]
    assert set(first) == {"record_id", "given", "suggested", "self_confidence"} and first[
        "record_id"
    ].startswith("X")
    with deployment.platform.session() as session:
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "labels.audit")).one()
    assert entry.target == "workspace:tiny/cohort:1" and entry.actor == "owner"
    assert entry.payload["n_flagged"] == body["n_flagged"] and first["record_id"] not in str(entry.payload)
