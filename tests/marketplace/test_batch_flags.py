"""Members flag a harmful batch; enough distinct flags pause it until a coordinator resumes or cancels it."""

import sqlalchemy as sa

from coop import ledger
from coop.audit import AuditEntry
from coop.marketplace.models import Batch, BatchFlag
from tests.marketplace.conftest import new_terms

REASON = "Asks us to write fake product reviews."


def flaggers(market, count):
    return [market.make.client(market.make.member()) for _ in range(count)]


def flag(client, batch_id, reason=REASON):
    return client.post(f"/api/v1/batches/{batch_id}/flags", json={"reason": reason})


def events(session, event, batch_id):
    return list(
        session.scalars(
            sa.select(AuditEntry).where(AuditEntry.event == event, AuditEntry.subject == f"batch:{batch_id}")
        )
    )


def test_five_distinct_members_pause_a_batch_and_claims_in_flight_continue(market, session):
    # 4 slots of 30 cents for 60 s (18 €/h): each slot costs 30 + 3 fee, 132 in escrow.
    batch = market.post(items=4, reward_cents=30, est_seconds=60)
    held = market.claim(market.mc[0], batch["id"])
    members = flaggers(market, 5)
    for n, client in enumerate(members[:4], start=1):
        response = flag(client, batch["id"])
        assert response.status_code == 201, response.get_json()
        assert response.get_json()["open_flags"] == n and not response.get_json()["batch_paused"]
    assert market.mc[1].post(f"/api/v1/batches/{batch['id']}/claim").status_code == 201

    fifth = flag(members[4], batch["id"]).get_json()
    assert fifth["batch_paused"] and fifth["flags_to_pause"] == 5
    refused = market.mc[2].post(f"/api/v1/batches/{batch['id']}/claim")
    assert refused.status_code == 409 and "flagged" in refused.get_json()["message"]
    listed = market.mc[2].get("/api/v1/batches").get_json()["items"]
    assert batch["id"] not in [b["id"] for b in listed]
    assert market.mc[2].get(f"/api/v1/batches/{batch['id']}").get_json()["paused_reason"] == "flags"

    # Work claimed before the pause is submitted, approved and paid; nothing was refunded.
    market.submit(market.mc[0], held["id"])
    market.review(held["id"])
    assert ledger.balance(ledger.worker_earnings(market.members[0].id)) == 30
    assert ledger.balance(ledger.requester_escrow(market.requester.id)) == 132 - 33
    assert ledger.balance(ledger.requester_available(market.requester.id)) == 10_000 - 132
    # The public log has every flag with its reason (never the flagger) and the pause.
    flagged = events(session, "batch.flagged", batch["id"])
    assert [e.payload["reason"] for e in flagged] == [REASON] * 5
    assert {e.actor for e in flagged} == {"a member"}
    assert len(events(session, "batch.paused", batch["id"])) == 1


def test_the_threshold_is_read_from_the_terms_in_force(market, session):
    new_terms(batch_flags_to_pause=2)
    batch = market.post(items=2, reward_cents=30, est_seconds=60)
    assert not flag(market.mc[0], batch["id"]).get_json()["batch_paused"]
    assert flag(market.mc[1], batch["id"]).get_json()["batch_paused"]
    assert session.get(Batch, batch["id"]).paused_reason == "flags"


def test_flags_are_refused_from_non_members_repeats_and_bad_reasons(market, make, session):
    batch = market.post(items=2, reward_cents=30, est_seconds=60)
    url = f"/api/v1/batches/{batch['id']}/flags"
    assert market.rc.post(url, json={"reason": REASON}).status_code == 403
    assert make.client(make.worker()).post(url, json={"reason": REASON}).status_code == 403
    assert make.client().post(url, json={"reason": REASON}).status_code == 401
    short = flag(market.mc[0], batch["id"], reason="bad      ")
    assert short.status_code == 422 and "reason" in short.get_json()["errors"]
    assert flag(market.mc[0], batch["id"], reason="x" * 1001).status_code == 422
    assert market.mc[0].post(url, json={}).status_code == 422
    assert flag(market.mc[0], 999_999).status_code == 404
    assert flag(market.mc[0], batch["id"]).status_code == 201
    again = flag(market.mc[0], batch["id"])
    assert again.status_code == 409 and "already flagged" in again.get_json()["message"]
    assert session.scalar(sa.select(sa.func.count()).select_from(BatchFlag)) == 1


def test_a_closed_batch_cannot_be_flagged(market, session):
    batch = market.post(items=1, reward_cents=30, est_seconds=60)
    assert market.rc.post(f"/api/v1/batches/{batch['id']}/cancel").status_code == 200
    assert flag(market.mc[0], batch["id"]).status_code == 409


def paused_batch(market, **overrides):
    new_terms(batch_flags_to_pause=2)
    batch = market.post(**{"items": 4, "reward_cents": 30, "est_seconds": 60, **overrides})
    flag(market.mc[0], batch["id"])
    flag(market.mc[1], batch["id"])
    return batch


def test_a_coordinator_resumes_a_flagged_batch_and_its_flags_are_closed(market, session):
    batch = paused_batch(market)
    response = market.cc.post(f"/api/v1/batches/{batch['id']}/resume", json={"reason": "The work is fine."})
    assert response.status_code == 200 and response.get_json()["paused_reason"] is None
    assert market.mc[2].post(f"/api/v1/batches/{batch['id']}/claim").status_code == 201
    # Heard flags no longer count; a member who flagged once does not flag again.
    assert flag(market.mc[0], batch["id"]).status_code == 409
    assert flag(market.mc[2], batch["id"]).get_json()["open_flags"] == 1
    [resumed] = events(session, "batch.resumed", batch["id"])
    assert resumed.payload["reason"] == "The work is fine." and resumed.payload["flags_resolved"] == 2
    assert ledger.balance(ledger.requester_escrow(market.requester.id)) == 132


def test_a_coordinator_upholds_the_flags_cancelling_with_refund_and_work_in_flight_is_paid(market, session):
    new_terms(batch_flags_to_pause=2)
    batch = market.post(items=4, reward_cents=30, est_seconds=60)
    held = market.claim(market.mc[2], batch["id"])
    flag(market.mc[0], batch["id"])
    flag(market.mc[1], batch["id"])
    response = market.cc.post(
        f"/api/v1/batches/{batch['id']}/flags/uphold", json={"reason": "Fake reviews are banned."}
    )
    assert response.status_code == 200 and response.get_json()["status"] == "cancelled"
    # Three open slots refunded at 33 each; the held one stays in escrow until reviewed.
    assert ledger.balance(ledger.requester_available(market.requester.id)) == 10_000 - 132 + 99
    assert ledger.balance(ledger.requester_escrow(market.requester.id)) == 33
    market.submit(market.mc[2], held["id"])
    market.review(held["id"])
    assert ledger.balance(ledger.worker_earnings(market.members[2].id)) == 30
    assert ledger.balance(ledger.requester_escrow(market.requester.id)) == 0
    assert ledger.balance(ledger.COOP_FEES) == 3
    [cancelled] = events(session, "batch.cancelled", batch["id"])
    assert cancelled.payload["refunded_cents"] == 99 and cancelled.payload["reason"] == "Fake reviews are banned."


def test_resume_and_uphold_are_for_coordinators_on_flag_paused_batches_only(market, make, session):
    batch = paused_batch(market)
    for action in ("resume", "flags/uphold"):
        url = f"/api/v1/batches/{batch['id']}/{action}"
        body = {"reason": "Decided after reading."}
        assert market.mc[0].post(url, json=body).status_code == 403
        assert market.rc.post(url, json=body).status_code == 403
        assert market.cc.post(url, json={"reason": "short"}).status_code == 422
        assert market.cc.post(f"/api/v1/batches/999999/{action}", json=body).status_code == 404
    other = market.post(items=1, reward_cents=30, est_seconds=60)
    for action in ("resume", "flags/uphold"):
        response = market.cc.post(f"/api/v1/batches/{other['id']}/{action}", json={"reason": "Decided after reading."})
        assert response.status_code == 409
    assert session.get(Batch, batch["id"]).paused_reason == "flags"
    assert ledger.balance(ledger.requester_escrow(market.requester.id)) == 132 + 33
