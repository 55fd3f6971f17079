"""The append-only, hash-chained audit trail (DESIGN invariant 6).

Entry n stores hash_n = sha256(hash_{n-1} + canonical JSON of {seq, ts, actor, action, target,
payload, reason}). Changing, removing, adding or swapping an entry breaks the chain at that
point; `verify` says where and which of the four it looks like. The chain has no secret, so an
entry appended at the tail with a correct hash, or the tail removed, is only visible against a
head (`n_entries`, `head_hash`) saved earlier: keep `verify`'s head outside the database.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import Connection, select, text
from sqlalchemy.orm import Session

from cohortbench.errors import ValidationError
from cohortbench.store.models import AuditEntry, utcnow

__all__ = ["GENESIS_HASH", "AuditReport", "append", "canonical_json", "entry_hash", "export", "verify"]

GENESIS_HASH = "0" * 64
Problem = Literal["modified", "deleted", "inserted", "reordered"]
# An arbitrary constant: the PostgreSQL advisory lock that serialises appends.
_APPEND_LOCK_KEY = 0x61756469


@dataclass(frozen=True)
class AuditReport:
    ok: bool
    n_entries: int
    head_hash: str
    first_bad_seq: int | None = None
    problem: Problem | None = None


def canonical_json(value: Any) -> str:
    """Sorted keys, no spaces, no NaN: the one byte string a given value hashes to."""
    try:
        return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise ValidationError(f"audit payload is not plain JSON: {exc}") from exc


def _ts_text(ts: dt.datetime) -> str:
    return ts.astimezone(dt.UTC).isoformat(timespec="microseconds")


def entry_hash(
    prev_hash: str,
    *,
    seq: int,
    ts: dt.datetime,
    actor: str,
    action: str,
    target: str,
    payload: dict[str, Any],
    reason: str | None,
) -> str:
    """The chain hash of one entry."""
    body = {
        "seq": seq,
        "ts": _ts_text(ts),
        "actor": actor,
        "action": action,
        "target": target,
        "payload": payload,
        "reason": reason,
    }
    return hashlib.sha256((prev_hash + canonical_json(body)).encode("utf-8")).hexdigest()


def _stored_hash(entry: AuditEntry) -> str:
    return entry_hash(
        entry.prev_hash,
        seq=entry.id,
        ts=entry.ts,
        actor=entry.actor,
        action=entry.action,
        target=entry.target,
        payload=entry.payload,
        reason=entry.reason,
    )


def _lock_chain(connection: Connection) -> None:
    """Take the write lock before reading the head, so two appends never share a predecessor."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _APPEND_LOCK_KEY})
    else:  # SQLite: a (no-op) write takes the database's single write lock until commit.
        connection.execute(text("DELETE FROM audit_entries WHERE 0"))


def append(
    session: Session,
    *,
    actor: str,
    action: str,
    target: str,
    payload: dict[str, Any],
    reason: str | None = None,
) -> AuditEntry:
    """Add the next entry in the caller's transaction (it is part of the change it records).

    The chain stays locked until the caller commits, so keep the transaction short.
    """
    payload = json.loads(canonical_json(payload))  # store exactly what is hashed
    _lock_chain(session.connection())
    head = session.execute(
        select(AuditEntry.id, AuditEntry.hash).order_by(AuditEntry.id.desc()).limit(1)
    ).first()
    seq, prev_hash = (head[0] + 1, head[1]) if head else (1, GENESIS_HASH)
    ts = utcnow()
    entry = AuditEntry(
        id=seq,
        ts=ts,
        actor=actor,
        action=action,
        target=target,
        payload=payload,
        reason=reason,
        prev_hash=prev_hash,
    )
    entry.hash = _stored_hash(entry)
    session.add(entry)
    session.flush()
    return entry


def verify(session: Session) -> AuditReport:
    """Walk the chain in sequence order and report the first break, classified."""
    rows = list(session.scalars(select(AuditEntry).order_by(AuditEntry.id)))
    expected_prev, expected_seq = GENESIS_HASH, 1
    for index, entry in enumerate(rows):
        if entry.prev_hash != expected_prev:
            seq, problem = _classify_link_break(rows, index, expected_seq)
            return AuditReport(False, len(rows), rows[-1].hash, seq, problem)
        if entry.id != expected_seq or _stored_hash(entry) != entry.hash:
            return AuditReport(False, len(rows), rows[-1].hash, entry.id, "modified")
        expected_prev, expected_seq = entry.hash, entry.id + 1
    return AuditReport(True, len(rows), rows[-1].hash if rows else GENESIS_HASH)


def _classify_link_break(rows: list[AuditEntry], index: int, expected_seq: int) -> tuple[int, Problem]:
    """Entry `index` does not point at its predecessor: find out what happened between them."""
    entry = rows[index]
    position = {row.hash: i for i, row in enumerate(rows)}
    expected_prev = rows[index - 1].hash if index else GENESIS_HASH
    nxt = rows[index + 1] if index + 1 < len(rows) else None
    pointed = position.get(entry.prev_hash)
    if pointed is not None and pointed > index:
        return entry.id, "reordered"  # it points at an entry that now comes after it
    if nxt is not None and nxt.prev_hash == expected_prev:
        return entry.id, "inserted"  # the chain skips this entry: it was added
    if pointed is not None or (index and entry.prev_hash == rows[index - 1].prev_hash):
        return rows[index - 1].id, "inserted"  # it points further back: something came in between
    if entry.id != expected_seq or _stored_hash(entry) != entry.hash:
        return expected_seq, "deleted"  # its predecessor is gone (numbers closed up or not)
    return rows[index - 1].id if index else entry.id, "modified"  # predecessor rewritten, re-hashed


def export(session: Session) -> list[dict[str, Any]]:
    """Every entry as plain JSON-ready dicts, in sequence order (for `audit export`)."""
    return [
        {
            "seq": e.id,
            "ts": _ts_text(e.ts),
            "actor": e.actor,
            "action": e.action,
            "target": e.target,
            "payload": e.payload,
            "reason": e.reason,
            "prev_hash": e.prev_hash,
            "hash": e.hash,
        }
        for e in session.scalars(select(AuditEntry).order_by(AuditEntry.id))
    ]
