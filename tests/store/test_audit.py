"""The audit chain: verified when intact; a modified, deleted, inserted or reordered entry is
found and named, on SQLite and PostgreSQL. The database itself refuses UPDATE and DELETE, so each
tampering test drops those triggers first, as an attacker with raw database access would."""

from __future__ import annotations

import itertools
import json
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import Engine, delete, insert, select, text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from cohortbench.errors import ValidationError
from cohortbench.store import audit
from cohortbench.store.models import AuditEntry, utcnow

N = 6
TABLE = AuditEntry.__table__


def _fill(sessions: sessionmaker[Session], n: int = N) -> None:
    for i in range(n):
        with sessions() as session, session.begin():
            audit.append(
                session,
                actor=f"user{i % 2}",
                action="submission.create",
                target=f"submission:{i}",
                payload={"quota": {"old": i, "new": i + 1}, "score": 0.1 * i},
                reason="test",
            )


def _drop_triggers(engine: Engine) -> None:
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("DROP TRIGGER audit_entries_no_update ON audit_entries"))
        else:
            connection.execute(text("DROP TRIGGER audit_entries_no_update"))
            connection.execute(text("DROP TRIGGER audit_entries_no_delete"))


def _move(engine: Engine, old: int, new: int) -> None:
    with engine.begin() as connection:
        connection.execute(update(TABLE).where(TABLE.c.id == old).values(id=new))


def test_an_intact_chain_verifies(sessions: sessionmaker[Session]) -> None:
    with sessions() as session:
        assert audit.verify(session) == audit.AuditReport(True, 0, audit.GENESIS_HASH)
    _fill(sessions)
    with sessions() as session:
        report = audit.verify(session)
        exported = audit.export(session)
    assert report.ok and report.n_entries == N and report.problem is None
    assert [e["seq"] for e in exported] == list(range(1, N + 1))
    assert exported[0]["prev_hash"] == audit.GENESIS_HASH
    assert all(b["prev_hash"] == a["hash"] for a, b in itertools.pairwise(exported))
    assert report.head_hash == exported[-1]["hash"]
    assert exported[2]["payload"] == {"quota": {"old": 2, "new": 3}, "score": 0.1 * 2}


def test_the_database_refuses_update_and_delete(engine: Engine, sessions: sessionmaker[Session]) -> None:
    _fill(sessions, 2)
    for statement in (update(TABLE).values(actor="mallory"), delete(TABLE)):
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as connection:
            connection.execute(statement)
    with sessions() as session:
        assert audit.verify(session).ok


def test_a_payload_that_is_not_json_is_refused(sessions: sessionmaker[Session]) -> None:
    with sessions() as session, pytest.raises(ValidationError, match="JSON"):
        audit.append(session, actor="a", action="x", target="t", payload={"bad": float("nan")})


def _modify(engine: Engine) -> None:
    with engine.begin() as connection:
        connection.execute(
            update(TABLE).where(TABLE.c.id == 3).values(payload={"quota": {"old": 0, "new": 99}})
        )


def _modify_and_rehash(engine: Engine) -> None:
    with engine.begin() as connection:
        row = connection.execute(select(TABLE).where(TABLE.c.id == 3)).mappings().one()
        forged = audit.entry_hash(
            row["prev_hash"],
            seq=3,
            ts=row["ts"],
            actor="mallory",
            action=row["action"],
            target=row["target"],
            payload=row["payload"],
            reason=row["reason"],
        )
        connection.execute(update(TABLE).where(TABLE.c.id == 3).values(actor="mallory", hash=forged))


def _delete(engine: Engine) -> None:
    with engine.begin() as connection:
        connection.execute(delete(TABLE).where(TABLE.c.id == 3))


def _delete_and_renumber(engine: Engine) -> None:
    _delete(engine)
    for seq in range(4, N + 1):
        _move(engine, seq, seq - 1)


def _insert(engine: Engine) -> None:
    """Make room at 3 and slip in an entry whose own hash is correct."""
    for seq in range(N, 2, -1):
        _move(engine, seq, seq + 1)
    with engine.begin() as connection:
        prev = connection.execute(select(TABLE.c.hash).where(TABLE.c.id == 2)).scalar_one()
        values = {
            "ts": utcnow(),
            "actor": "mallory",
            "action": "role.change",
            "target": "user:9",
            "payload": {"role": "owner"},
            "reason": None,
        }
        forged = audit.entry_hash(prev, seq=3, **values)
        connection.execute(insert(TABLE).values(id=3, prev_hash=prev, hash=forged, **values))


def _reorder(engine: Engine) -> None:
    _move(engine, 3, -3)
    _move(engine, 4, 3)
    _move(engine, -3, 4)


@pytest.mark.parametrize(
    ("tamper", "problem", "seq"),
    [
        (_modify, "modified", 3),
        (_modify_and_rehash, "modified", 3),
        (_delete, "deleted", 3),
        (_delete_and_renumber, "deleted", 3),
        (_insert, "inserted", 3),
        (_reorder, "reordered", 3),
    ],
    ids=["modified", "modified-rehashed", "deleted", "deleted-renumbered", "inserted", "reordered"],
)
def test_tampering_is_detected_and_named(
    engine: Engine, sessions: sessionmaker[Session], tamper: Callable[[Engine], None], problem: str, seq: int
) -> None:
    _fill(sessions)
    _drop_triggers(engine)
    tamper(engine)
    with sessions() as session:
        report = audit.verify(session)
    assert not report.ok
    assert (report.problem, report.first_bad_seq) == (problem, seq)


def test_concurrent_appends_keep_one_chain(sessions: sessionmaker[Session]) -> None:
    errors: list[BaseException] = []

    def appender(worker: int) -> None:
        try:
            for i in range(8):
                with sessions() as session, session.begin():
                    session.execute(select(AuditEntry.id).limit(1)).all()  # a read before the append
                    audit.append(session, actor=f"w{worker}", action="tick", target=str(i), payload={"i": i})
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=appender, args=(w,)) for w in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with sessions() as session:
        report = audit.verify(session)
    assert report.ok and report.n_entries == 32


# --- A saved head: what the chain alone cannot show -------------------------------------------


def _rehash_from(engine: Engine, seq: int) -> None:
    """Rewrite entry `seq` and re-hash it and every entry after it: a self-consistent forgery."""
    with engine.begin() as connection:
        rows = (
            connection.execute(select(TABLE).where(TABLE.c.id >= seq).order_by(TABLE.c.id)).mappings().all()
        )
        prev = connection.execute(select(TABLE.c.hash).where(TABLE.c.id == seq - 1)).scalar()
        prev = prev or audit.GENESIS_HASH
        for row in rows:
            actor = "mallory" if row["id"] == seq else row["actor"]
            fields = {k: row[k] for k in ("ts", "action", "target", "payload", "reason")}
            forged = audit.entry_hash(prev, seq=row["id"], actor=actor, **fields)
            connection.execute(
                update(TABLE).where(TABLE.c.id == row["id"]).values(actor=actor, prev_hash=prev, hash=forged)
            )
            prev = forged


def _truncate(engine: Engine) -> None:
    with engine.begin() as connection:
        connection.execute(delete(TABLE))


def _delete_tail(engine: Engine) -> None:
    with engine.begin() as connection:
        connection.execute(delete(TABLE).where(TABLE.c.id > N - 2))


@pytest.mark.parametrize(
    ("tamper", "problem", "seq"),
    [
        (_truncate, "truncated", 1),
        (_delete_tail, "truncated", N - 1),
        (lambda engine: _rehash_from(engine, N), "rewritten", N),
        (lambda engine: _rehash_from(engine, 3), "rewritten", N),
        (lambda engine: _rehash_from(engine, 1), "rewritten", N),
    ],
    ids=["truncated", "tail-deleted", "tail-rewritten", "rehashed-from-3", "rehashed-from-1"],
)
def test_a_saved_head_catches_what_the_chain_alone_cannot(
    engine: Engine,
    sessions: sessionmaker[Session],
    tmp_path: Path,
    tamper: Callable[[Engine], None],
    problem: str,
    seq: int,
) -> None:
    _fill(sessions)
    with sessions() as session:
        saved = audit.verify(session)
    _drop_triggers(engine)
    tamper(engine)
    with sessions() as session:
        assert audit.verify(session).ok  # the chain alone still looks intact
        report = audit.verify(session, head=saved.head_hash, n_entries=saved.n_entries)
        _write_export(session, tmp_path / "audit.jsonl")
    assert not report.ok and (report.problem, report.first_bad_seq) == (problem, seq)
    offline = audit.verify_file(tmp_path / "audit.jsonl", head=saved.head_hash, n_entries=saved.n_entries)
    assert offline == report


def _write_export(session: Session, path: Path) -> None:
    path.write_text("".join(json.dumps(e) + "\n" for e in audit.export(session)))


def test_entries_after_the_saved_head_are_fine(sessions: sessionmaker[Session], tmp_path: Path) -> None:
    _fill(sessions, 3)
    with sessions() as session:
        saved = audit.verify(session)
    _fill(sessions, 2)
    with sessions() as session:
        report = audit.verify(session, head=saved.head_hash, n_entries=3)
        _write_export(session, tmp_path / "audit.jsonl")
    assert report.ok and (report.n_entries, report.after_head) == (5, 2)
    assert audit.verify_file(tmp_path / "audit.jsonl", head=saved.head_hash, n_entries=3) == report
    with sessions() as session:  # the head of an empty chain
        assert audit.verify(session, head=audit.GENESIS_HASH, n_entries=0).after_head == 5
        with pytest.raises(ValidationError, match="both"):
            audit.verify(session, head=saved.head_hash)


def test_an_exported_file_is_checked_offline(sessions: sessionmaker[Session], tmp_path: Path) -> None:
    _fill(sessions)
    path = tmp_path / "audit.jsonl"
    with sessions() as session:
        _write_export(session, path)
        assert audit.verify_file(path) == audit.verify(session)
    lines = path.read_text().splitlines()
    entry = json.loads(lines[2])
    entry["payload"]["quota"]["new"] = 99
    path.write_text("\n".join([*lines[:2], json.dumps(entry), *lines[3:]]) + "\n")
    report = audit.verify_file(path)
    assert not report.ok and (report.problem, report.first_bad_seq) == ("modified", 3)
    path.write_text(lines[0] + "\n{not json\n")
    with pytest.raises(ValidationError, match="line 2"):
        audit.verify_file(path)
