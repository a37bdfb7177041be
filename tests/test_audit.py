"""The hash-chained audit log: appends chain, verification finds tampering."""
import sqlalchemy as sa

from coop import audit
from coop.audit import GENESIS_HASH, AuditEntry


def test_entries_chain_each_hash_to_the_previous(session):
    first = audit.append("test.one", "thing:1", None, {"n": 1})
    second = audit.append("test.two", "thing:1", "system", {"n": 2})
    assert second.seq == first.seq + 1
    assert second.prev_hash == first.hash
    assert first.hash != second.hash and len(second.hash) == 64
    assert audit.verify().ok


def test_genesis_entry_chains_to_zeros(session):
    session.execute(sa.delete(AuditEntry))
    entry = audit.append("test.first", "x", None, {})
    assert entry.seq == 1 and entry.prev_hash == GENESIS_HASH
    assert audit.verify().ok


def test_verification_names_the_first_altered_entry(session):
    entries = [audit.append("test.event", f"thing:{i}", None, {"amount": i}) for i in range(5)]
    target = entries[2]
    session.execute(
        sa.update(AuditEntry).where(AuditEntry.seq == target.seq).values(payload={"amount": 999})
    )
    verdict = audit.verify()
    assert not verdict.ok
    assert verdict.first_bad_seq == target.seq
    assert "hash" in verdict.reason


def test_verification_detects_a_removed_entry(session):
    entries = [audit.append("test.event", "thing", None, {"i": i}) for i in range(3)]
    session.execute(sa.delete(AuditEntry).where(AuditEntry.seq == entries[1].seq))
    verdict = audit.verify()
    assert not verdict.ok and verdict.first_bad_seq == entries[1].seq


def test_actor_is_a_pseudonym_and_role_never_an_email(make):
    member = make.member("Zora")
    entry = audit.append("test.actor", "x", member, {})
    assert entry.actor == "Zora (member)"
    assert "@" not in entry.actor


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
