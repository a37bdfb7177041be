"""The hash-chained audit log: entries written at commit, last, chained; verification finds tampering."""

import pytest
import sqlalchemy as sa

from coop import audit, ledger
from coop.audit import GENESIS_HASH, AuditEntry
from coop.extensions import db


def last_entries(session, n: int) -> list[AuditEntry]:
    """The newest `n` entries, oldest first."""
    return list(reversed(session.scalars(sa.select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(n)).all()))


def count(session) -> int:
    return session.scalar(sa.select(sa.func.count()).select_from(AuditEntry))


def test_entries_chain_each_hash_to_the_previous(session):
    audit.append("test.one", "thing:1", None, {"n": 1})
    audit.append("test.two", "thing:1", "system", {"n": 2})
    session.commit()
    first, second = last_entries(session, 2)
    assert (first.event, second.event) == ("test.one", "test.two")
    assert second.seq == first.seq + 1
    assert second.prev_hash == first.hash
    assert first.hash != second.hash and len(second.hash) == 64
    assert audit.verify().ok


def test_an_entry_is_written_only_when_the_transaction_commits(session):
    before = count(session)
    audit.append("test.queued", "thing:1", None, {})
    session.flush()
    assert count(session) == before
    session.commit()
    assert count(session) == before + 1


def test_a_rolled_back_transaction_leaves_no_entry(session):
    before = count(session)
    audit.append("test.rolled_back", "thing:1", None, {})
    session.rollback()
    audit.append("test.kept", "thing:2", None, {})
    session.commit()
    assert count(session) == before + 1
    assert last_entries(session, 1)[0].event == "test.kept"
    assert audit.verify().ok


def test_a_rolled_back_savepoint_drops_only_its_own_entries(session):
    before = count(session)
    audit.append("test.outer", "x", None, {})
    kept = session.begin_nested()
    audit.append("test.kept_savepoint", "x", None, {})
    kept.commit()
    dropped = session.begin_nested()
    audit.append("test.dropped_savepoint", "x", None, {})
    dropped.rollback()
    # Releasing a savepoint is not the commit: nothing is written yet.
    assert count(session) == before
    session.commit()
    assert [e.event for e in last_entries(session, 2)] == ["test.outer", "test.kept_savepoint"]
    assert count(session) == before + 2


def test_the_audit_log_is_written_after_every_other_change(session):
    # An entry appended before money moves still reaches the database after the money, so
    # the audit lock is always the last lock a transaction takes.
    statements = []

    def record(conn, cursor, statement, *args):
        statements.append(statement.lower())

    audit.append("test.order", "x", None, {})
    sa.event.listen(db.engine, "before_cursor_execute", record)
    try:
        ledger.move(ledger.EXTERNAL, "test:order", 5, "order test")
        session.commit()
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", record)
    touches_audit = [i for i, s in enumerate(statements) if "audit_entries" in s or "advisory" in s]
    touches_ledger = [i for i, s in enumerate(statements) if "ledger_" in s]
    assert touches_audit and touches_ledger
    assert min(touches_audit) > max(touches_ledger)


def test_the_actor_is_labelled_as_they_were_at_the_event(make, session):
    member = make.member("Zora")
    audit.append("test.actor", "x", member, {})
    member.display_name = "Zora Later"
    session.commit()
    entry = last_entries(session, 1)[0]
    assert entry.actor == "Zora (member)"
    assert "@" not in entry.actor


def test_genesis_entry_chains_to_zeros(session):
    session.execute(sa.delete(AuditEntry))
    audit.append("test.first", "x", None, {})
    session.commit()
    entry = last_entries(session, 1)[0]
    assert entry.seq == 1 and entry.prev_hash == GENESIS_HASH
    assert audit.verify().ok


def test_verification_names_the_first_altered_entry(session):
    for i in range(5):
        audit.append("test.event", f"thing:{i}", None, {"amount": i})
    session.commit()
    target = last_entries(session, 5)[2]
    session.execute(sa.update(AuditEntry).where(AuditEntry.seq == target.seq).values(payload={"amount": 999}))
    verdict = audit.verify()
    assert not verdict.ok
    assert verdict.first_bad_seq == target.seq
    assert "hash" in verdict.reason


def test_verification_detects_a_removed_entry(session):
    for i in range(3):
        audit.append("test.event", "thing", None, {"i": i})
    session.commit()
    middle = last_entries(session, 3)[1]
    session.execute(sa.delete(AuditEntry).where(AuditEntry.seq == middle.seq))
    verdict = audit.verify()
    assert not verdict.ok and verdict.first_bad_seq == middle.seq


@pytest.mark.usefixtures("session")
def test_audit_api_pages_by_cursor_and_needs_sign_in(make, anon):
    for i in range(5):
        audit.append("test.page", f"p:{i}", None, {"i": i})
    assert anon.get("/api/v1/audit").status_code == 401
    client = make.client(make.worker())
    first = client.get("/api/v1/audit?event=test.page&limit=2").json
    assert [e["subject"] for e in first["items"]] == ["p:0", "p:1"]
    second = client.get(f"/api/v1/audit?event=test.page&limit=2&cursor={first['next_cursor']}").json
    assert [e["subject"] for e in second["items"]] == ["p:2", "p:3"]
    last = client.get(f"/api/v1/audit?event=test.page&limit=2&cursor={second['next_cursor']}").json
    assert [e["subject"] for e in last["items"]] == ["p:4"] and last["next_cursor"] is None
    assert set(first["items"][0]) == {"seq", "at", "event", "subject", "actor", "payload", "prev_hash", "hash"}
