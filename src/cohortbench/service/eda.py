"""EDA of a workspace: released once per cohort version through the privacy rules, then cached.

Releasing the same aggregates again costs no privacy budget (it is post-processing of a release).
When the owner sets `dp_epsilon`, the release is differentially private (OpenDP noise) and every
charge is written to the workspace's privacy ledger (table privacy_ledger) in the same
transaction as the cached release: one cohort version's EDA spends 1/RELEASES_PER_BUDGET of the
budget, so a growing cohort gets that many private releases before the ledger refuses.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cohortbench.cohorts.io import read_parquet
from cohortbench.privacy import DpSession, LedgerEntry, PrivacyLedger, release_eda
from cohortbench.privacy.eda_dp import dp_query_count
from cohortbench.service.access import get_workspace
from cohortbench.service.platform import Platform
from cohortbench.service.workspaces import latest_version
from cohortbench.service.workspaces.notes import eda_cache_of, write_eda_cache
from cohortbench.service.workspaces.rules import rules_of
from cohortbench.store import audit
from cohortbench.store.models import PrivacyLedgerEntry, User, Workspace

RELEASES_PER_BUDGET = 4


def workspace_eda(platform: Platform, session: Session, *, actor: User, name: str) -> dict[str, Any]:
    """The workspace's released EDA aggregates (any member may read them)."""
    workspace, _role = get_workspace(session, actor, name)
    version = latest_version(session, workspace)
    cache = eda_cache_of(workspace)
    dp_on = rules_of(workspace).dp_epsilon is not None
    key = f"{version.sha256}:dp" if dp_on else version.sha256  # a release made without DP is not reused
    sha = cache.get(key)
    if sha and platform.artifacts.exists(sha):
        data: dict[str, Any] = json.loads(platform.artifacts.path(sha).read_text())
        return data
    frame = read_parquet(platform.artifacts.path(version.data_artifact))
    release = release_eda(
        frame,
        label_column=workspace.label_column,
        id_column=workspace.id_column,
        classes=tuple(workspace.classes),
        feature_groups={k: tuple(v) for k, v in (workspace.feature_groups or {}).items()},
        dp=(dp := _dp_session(session, workspace) if dp_on else None),
    )
    if dp is not None:
        _record_charges(session, workspace, dp.ledger)
    data = release.to_dict()
    sha = platform.artifacts.put_bytes(json.dumps(data, sort_keys=True).encode())
    write_eda_cache(workspace, {**cache, key: sha})
    audit.append(
        session,
        actor=actor.name,
        action="release.eda",
        target=f"workspace:{name}/cohort:{version.version}",
        payload={"artifact": sha, "dp_epsilon_spent": dp.ledger.spent[0] if dp else None},
    )
    return data


def ledger_of(session: Session, workspace: Workspace) -> PrivacyLedger | None:
    """The workspace's privacy ledger from its stored charges, or None when DP is off."""
    rules = rules_of(workspace)
    if rules.dp_epsilon is None:
        return None
    rows = session.scalars(
        select(PrivacyLedgerEntry)
        .where(PrivacyLedgerEntry.workspace_id == workspace.id)
        .order_by(PrivacyLedgerEntry.id)
    )
    entries = [LedgerEntry(r.query, r.epsilon, r.delta, r.created_at.isoformat()) for r in rows]
    return PrivacyLedger(rules.dp_epsilon, rules.dp_delta, entries)


def _dp_session(session: Session, workspace: Workspace) -> DpSession | None:
    """A DP session spending 1/RELEASES_PER_BUDGET of the budget; public bounds: none set yet."""
    ledger = ledger_of(session, workspace)
    if ledger is None:
        return None
    per_query = ledger.epsilon / RELEASES_PER_BUDGET / dp_query_count([])
    return DpSession(ledger=ledger, epsilon_per_query=per_query)


def _record_charges(session: Session, workspace: Workspace, ledger: PrivacyLedger) -> None:
    """Write the charges this release added (the ledger refused before any noise if it could not pay)."""
    stored = session.scalar(
        select(func.count(PrivacyLedgerEntry.id)).where(PrivacyLedgerEntry.workspace_id == workspace.id)
    )
    for entry in ledger.entries[int(stored or 0) :]:
        session.add(
            PrivacyLedgerEntry(
                workspace_id=workspace.id, query=entry.query[:200], epsilon=entry.epsilon, delta=entry.delta
            )
        )
