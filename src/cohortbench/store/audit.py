"""The append-only, hash-chained audit trail (DESIGN invariant 6).

Entry n stores hash_n = sha256(hash_{n-1} + canonical JSON of {seq, ts, actor, action, target,
payload, reason}). Changing, removing, adding or swapping an entry breaks the chain at that
point; `verify` says where and which of the four it looks like. The chain has no secret, so
whoever can write the table can also drop its tail, empty it, or rewrite it from any entry on and
re-hash everything after: the chain alone still looks intact. Only a head (`n_entries`,
`head_hash`) saved outside the database catches that: `verify(..., head=, n_entries=)` checks that
entry n still has that hash (entries appended since are fine). `export` writes the chain to a file
and `verify_file` checks such a file offline, without a database.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import Connection, select, text
from sqlalchemy.orm import Session

from cohortbench.errors import ValidationError
from cohortbench.store.models import AuditEntry, utcnow

__all__ = [
    "GENESIS_HASH",
    "AuditReport",
    "Link",
    "append",
    "canonical_json",
    "entry_hash",
    "export",
    "read_export",
    "verify",
    "verify_file",
    "verify_links",
]

GENESIS_HASH = "0" * 64
#: The first four are seen in the chain itself; the last two only against a saved head.
Problem = Literal["modified", "deleted", "inserted", "reordered", "truncated", "rewritten"]
# An arbitrary constant: the PostgreSQL advisory lock that serialises appends.
_APPEND_LOCK_KEY = 0x61756469


@dataclass(frozen=True)
class AuditReport:
    """`n_entries` and `head_hash` describe the chain as found (save them to check it later).
    With a saved head, `after_head` counts the entries appended since (not a problem)."""

    ok: bool
    n_entries: int
    head_hash: str
    first_bad_seq: int | None = None
    problem: Problem | None = None
    after_head: int | None = None


@dataclass(frozen=True)
class Link:
    """One entry as the chain sees it, from a database row or an exported line."""

    seq: int
    ts: str
    actor: str
    action: str
    target: str
    payload: dict[str, Any]
    reason: str | None
    prev_hash: str
    hash: str

    @classmethod
    def from_row(cls, entry: AuditEntry) -> Link:
        return cls(
            entry.id,
            _ts_text(entry.ts),
            entry.actor,
            entry.action,
            entry.target,
            entry.payload,
            entry.reason,
            entry.prev_hash,
            entry.hash,
        )

    @classmethod
    def from_dict(cls, doc: Any) -> Link:
        """An exported entry; ValidationError if it does not have the fields and types of one."""
        try:
            link = cls(**{name: doc[name] for name in _EXPORT_FIELDS})
            valid = (
                isinstance(link.seq, int)
                and all(isinstance(v, str) for v in (link.ts, link.actor, link.action, link.target))
                and isinstance(link.payload, dict)
                and isinstance(link.reason, str | None)
                and isinstance(link.prev_hash, str)
                and isinstance(link.hash, str)
            )
            dt.datetime.fromisoformat(link.ts)
        except (KeyError, TypeError, ValueError) as exc:
            raise ValidationError(f"not an exported audit entry: {exc}") from exc
        if not valid:
            raise ValidationError("not an exported audit entry: a field has the wrong type")
        return link

    def to_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in _EXPORT_FIELDS}

    def computed_hash(self) -> str:
        return _hash_of(
            self.prev_hash, self.seq, self.ts, self.actor, self.action, self.target, self.payload, self.reason
        )


_EXPORT_FIELDS = ("seq", "ts", "actor", "action", "target", "payload", "reason", "prev_hash", "hash")


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
    return _hash_of(prev_hash, seq, _ts_text(ts), actor, action, target, payload, reason)


def _hash_of(
    prev_hash: str,
    seq: int,
    ts: str,
    actor: str,
    action: str,
    target: str,
    payload: dict[str, Any],
    reason: str | None,
) -> str:
    body = {
        "seq": seq,
        "ts": ts,
        "actor": actor,
        "action": action,
        "target": target,
        "payload": payload,
        "reason": reason,
    }
    return hashlib.sha256((prev_hash + canonical_json(body)).encode("utf-8")).hexdigest()


def _stored_hash(entry: AuditEntry) -> str:
    return Link.from_row(entry).computed_hash()


def _lock_chain(connection: Connection) -> None:
    """Take the write lock before reading the head, so two appends never share a predecessor."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _APPEND_LOCK_KEY})
    else:  # SQLite: a (no-op) write takes the database's single write lock until commit.
        connection.execute(text("DELETE FROM audit_entries WHERE 0"))


@dataclass(frozen=True)
class Head:
    """The chain's last entry as a reader sees it: its sequence number (the number of entries) and
    hash. Saved with a document, it lets `verify(head=..., n_entries=...)` check the log later."""

    n_entries: int
    head_hash: str


def head(session: Session) -> Head:
    """The chain's head, read in O(1) (the last entry), without verifying anything."""
    row = session.execute(
        select(AuditEntry.id, AuditEntry.hash).order_by(AuditEntry.id.desc()).limit(1)
    ).first()
    return Head(row[0], row[1]) if row else Head(0, GENESIS_HASH)


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


def verify(session: Session, *, head: str | None = None, n_entries: int | None = None) -> AuditReport:
    """Walk the chain in sequence order and report the first break, classified; with a saved head
    (`head` = hash of entry `n_entries`), also that nothing up to it was cut off or rewritten."""
    rows = session.scalars(select(AuditEntry).order_by(AuditEntry.id))
    return verify_links([Link.from_row(row) for row in rows], head=head, n_entries=n_entries)


def verify_file(path: Path, *, head: str | None = None, n_entries: int | None = None) -> AuditReport:
    """`verify` on a file written by `audit export`, offline (no database)."""
    return verify_links(read_export(path), head=head, n_entries=n_entries)


def verify_links(
    links: Sequence[Link], *, head: str | None = None, n_entries: int | None = None
) -> AuditReport:
    """The check behind `verify` and `verify_file`, on entries in sequence order.

    The chain is checked first (its breaks are the most precise report). Then, with a saved head:
    fewer than `n_entries` entries is `truncated` (the table emptied, the tail deleted), and entry
    `n_entries` with another hash is `rewritten` (the tail replaced, or everything re-hashed from
    some entry on); entries after it are newer than the head, which is fine.
    """
    if (head is None) != (n_entries is None):
        raise ValidationError("give both the saved head hash and its number of entries, or neither")
    if n_entries is not None and n_entries < 0:
        raise ValidationError(f"the number of entries must be at least 0, got {n_entries}")
    found = (len(links), links[-1].hash if links else GENESIS_HASH)
    broken = _first_break(links)
    if broken is not None:
        return AuditReport(False, *found, *broken)
    if head is None or n_entries is None:
        return AuditReport(True, *found)
    if len(links) < n_entries:
        return AuditReport(False, *found, len(links) + 1, "truncated")
    if (links[n_entries - 1].hash if n_entries else GENESIS_HASH) != head:
        return AuditReport(False, *found, n_entries, "rewritten")
    return AuditReport(True, *found, after_head=len(links) - n_entries)


def _first_break(links: Sequence[Link]) -> tuple[int, Problem] | None:
    expected_prev, expected_seq = GENESIS_HASH, 1
    for index, link in enumerate(links):
        if link.prev_hash != expected_prev:
            return _classify_link_break(links, index, expected_seq)
        if link.seq != expected_seq or link.computed_hash() != link.hash:
            return link.seq, "modified"
        expected_prev, expected_seq = link.hash, link.seq + 1
    return None


def _classify_link_break(links: Sequence[Link], index: int, expected_seq: int) -> tuple[int, Problem]:
    """Entry `index` does not point at its predecessor: find out what happened between them."""
    link = links[index]
    position = {row.hash: i for i, row in enumerate(links)}
    expected_prev = links[index - 1].hash if index else GENESIS_HASH
    nxt = links[index + 1] if index + 1 < len(links) else None
    pointed = position.get(link.prev_hash)
    if pointed is not None and pointed > index:
        return link.seq, "reordered"  # it points at an entry that now comes after it
    if nxt is not None and nxt.prev_hash == expected_prev:
        return link.seq, "inserted"  # the chain skips this entry: it was added
    if pointed is not None or (index and link.prev_hash == links[index - 1].prev_hash):
        return links[index - 1].seq, "inserted"  # it points further back: something came in between
    if link.seq != expected_seq or link.computed_hash() != link.hash:
        return expected_seq, "deleted"  # its predecessor is gone (numbers closed up or not)
    return links[index - 1].seq if index else link.seq, "modified"  # predecessor rewritten, re-hashed


def export(session: Session) -> list[dict[str, Any]]:
    """Every entry as plain JSON-ready dicts, in sequence order (for `audit export`)."""
    return [Link.from_row(e).to_dict() for e in session.scalars(select(AuditEntry).order_by(AuditEntry.id))]


def read_export(path: Path) -> list[Link]:
    """The entries of an `audit export` file (JSON Lines), in file order."""
    links = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            links.append(Link.from_dict(json.loads(line)))
        except (ValueError, ValidationError) as exc:
            raise ValidationError(f"{path}, line {number}: not an exported audit entry") from exc
    return links
