"""Claims, submissions, reviews, appeals, leases and auto-approval, worker protections."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from coop import clock, ledger
from coop.audit import AuditEntry
from coop.marketplace import services
from coop.marketplace.models import Assignment, Batch, ConfidentialityAcceptance, Slot
from tests.marketplace.conftest import batch_body, fund, new_terms, snapshot, to_utc_hour

API = "/api/v1"


def test_whole_flow_pays_everyone_to_the_cent(market, make, session):
    # 3 items × 33 cents = 99; fee ceil(9.9) = 10; each approval carries a 3-cent fee share.
    batch = market.post(items=3, reward_cents=33, est_seconds=90)
    w1, w2, w3 = market.mc
    a1, a2, a3 = (market.claim(c, batch["id"]) for c in (w1, w2, w3))
    assert a1["status"] == "claimed" and a1["item"]["data"] == {"n": 0}
    assert {a1["item"]["id"], a2["item"]["id"], a3["item"]["id"]} == set(
        session.scalars(sa.select(Slot.item_id).where(Slot.batch_id == batch["id"]))
    )
    clock.advance(timedelta(seconds=75))
    for client, a in ((w1, a1), (w2, a2), (w3, a3)):
        submitted = market.submit(client, a["id"], {"label": "stop sign"})
        assert submitted["status"] == "submitted" and submitted["real_seconds"] == 75
        assert "data" not in submitted["item"]
    assert market.review(a1["id"])["status"] == "approved"
    market.review(a2["id"])
    rejected = market.review(a3["id"], "reject", "Boxes drawn around the wrong signs.")
    assert rejected["status"] == "rejected" and rejected["review_reason"] == "Boxes drawn around the wrong signs."

    # The rejected slot reopens for another member.
    late = make.member()
    lc = make.client(late)
    a4 = market.claim(lc, batch["id"])
    assert a4["item"]["id"] == a3["item"]["id"]
    market.submit(lc, a4["id"])
    market.review(a4["id"])

    requester = market.requester
    assert ledger.balance(ledger.requester_available(requester.id)) == 10_000 - 109
    assert ledger.balance(ledger.requester_escrow(requester.id)) == 0
    for member in (market.members[0], market.members[1], late):
        assert ledger.balance(ledger.worker_earnings(member.id)) == 33
    assert ledger.balance(ledger.worker_earnings(market.members[2].id)) == 0
    assert ledger.balance(ledger.COOP_FEES) == 3 * 3 + 1  # three shares and the rounding remainder
    detail = market.rc.get(f"{API}/batches/{batch['id']}").get_json()
    assert detail["status"] == "completed" and detail["escrow_cents"] == 0
    assert detail["progress"]["done"] == 3 and detail["progress"]["rejected"] == 1

    # The rejected worker appeals; a coordinator overturns. The slot's money went to the
    # fourth member, so the requester's available funds pay.
    appeal = w3.post(f"{API}/assignments/{a3['id']}/appeal", json={"reason": "Those were the signs asked for."})
    assert appeal.status_code == 201 and appeal.get_json()["status"] == "pending"
    decided = market.cc.post(
        f"{API}/appeals/{appeal.get_json()['id']}/decide",
        json={"decision": "overturn", "reason": "The instructions support the worker."},
    )
    assert decided.status_code == 200
    assert decided.get_json()["status"] == "overturned" and decided.get_json()["paid_from"] == "available"
    assert ledger.balance(ledger.worker_earnings(market.members[2].id)) == 33
    assert ledger.balance(ledger.requester_available(requester.id)) == 10_000 - 109 - 36
    assert ledger.balance(ledger.COOP_FEES) == 13
    assert w3.get(f"{API}/assignments/{a3['id']}").get_json()["status"] == "approved"
    assert ledger.total_of_all_entries() == 0

    events = [e.event for e in session.scalars(sa.select(AuditEntry).order_by(AuditEntry.seq))]
    assert "appeal.filed" in events and "appeal.decided" in events


def test_overturn_pays_from_escrow_when_the_slot_is_still_open(market, session):
    batch = market.post(items=1, reward_cents=33, est_seconds=90)
    a = market.claim(market.mc[0], batch["id"])
    market.submit(market.mc[0], a["id"])
    market.review(a["id"], "reject", "Empty answer given.")
    appeal_id = (
        market.mc[0].post(f"{API}/assignments/{a['id']}/appeal", json={"reason": "It was not."}).get_json()["id"]
    )
    available = ledger.balance(ledger.requester_available(market.requester.id))
    decided = market.cc.post(f"{API}/appeals/{appeal_id}/decide", json={"decision": "overturn", "reason": "ok"})
    assert decided.get_json()["paid_from"] == "escrow" and decided.get_json()["paid_cents"] == 33
    assert ledger.balance(ledger.requester_available(market.requester.id)) == available
    assert ledger.balance(ledger.worker_earnings(market.members[0].id)) == 33
    # The slot is now this work's: nothing left to claim, the batch is complete with escrow at 0.
    assert market.mc[1].post(f"{API}/batches/{batch['id']}/claim").status_code == 409
    assert session.get(Batch, batch["id"]).status == "completed"
    assert ledger.balance(ledger.requester_escrow(market.requester.id)) == 0
    assert ledger.balance(ledger.COOP_FEES) == 4


def test_overturn_refused_when_neither_escrow_nor_available_funds_suffice(make, session):
    requester = make.requester()
    fund(requester, 22)  # one slot of 20 + fee 2, nothing more
    rc, cc = make.client(requester), make.client(make.coordinator())
    first, second = make.member(), make.member()
    fc, sc = make.client(first), make.client(second)
    batch = rc.post(f"{API}/batches", json=batch_body(items=1)).get_json()
    a = fc.post(f"{API}/batches/{batch['id']}/claim").get_json()
    fc.post(f"{API}/assignments/{a['id']}/submit", json={"answer": {}})
    rc.post(f"{API}/assignments/{a['id']}/review", json={"decision": "reject", "reason": "wrong signs boxed"})
    b = sc.post(f"{API}/batches/{batch['id']}/claim").get_json()
    sc.post(f"{API}/assignments/{b['id']}/submit", json={"answer": {}})
    rc.post(f"{API}/assignments/{b['id']}/review", json={"decision": "approve"})
    appeal_id = fc.post(f"{API}/assignments/{a['id']}/appeal", json={"reason": "right"}).get_json()["id"]
    before = snapshot(requester, first)
    response = cc.post(f"{API}/appeals/{appeal_id}/decide", json={"decision": "overturn", "reason": "ok"})
    assert response.status_code == 409 and "nothing was changed" in response.get_json()["message"]
    assert snapshot(requester, first) == before
    assert cc.get(f"{API}/appeals/{appeal_id}").get_json()["status"] == "pending"
    # Once the requester has funds, the same decision goes through.
    fund(requester, 22)
    assert (
        cc.post(f"{API}/appeals/{appeal_id}/decide", json={"decision": "overturn", "reason": "ok"}).status_code == 200
    )


def test_upheld_appeal_pays_nothing_and_cannot_be_decided_twice(market, session):
    batch = market.post(items=1)
    a = market.claim(market.mc[0], batch["id"])
    market.submit(market.mc[0], a["id"])
    market.review(a["id"], "reject", "Wrong labels on the signs.")
    appeal_id = market.mc[0].post(f"{API}/assignments/{a['id']}/appeal", json={"reason": "No."}).get_json()["id"]
    before = snapshot(market.requester, market.members[0])
    upheld = market.cc.post(f"{API}/appeals/{appeal_id}/decide", json={"decision": "uphold", "reason": "It was."})
    assert upheld.status_code == 200 and upheld.get_json()["status"] == "upheld"
    assert snapshot(market.requester, market.members[0]) == before
    again = market.cc.post(f"{API}/appeals/{appeal_id}/decide", json={"decision": "overturn", "reason": "x"})
    assert again.status_code == 409
    assert market.mc[0].post(f"{API}/assignments/{a['id']}/appeal", json={"reason": "again"}).status_code == 409


def test_appeals_are_refused_outside_the_window_or_for_unrejected_work(market, session):
    batch = market.post(items=2)
    a = market.claim(market.mc[0], batch["id"])
    assert market.mc[0].post(f"{API}/assignments/{a['id']}/appeal", json={"reason": "x"}).status_code == 409
    market.submit(market.mc[0], a["id"])
    market.review(a["id"], "reject", "Wrong labels on the signs.")
    deadline = market.mc[0].get(f"{API}/assignments/{a['id']}").get_json()["appeal_deadline"]
    assert deadline is not None
    clock.advance(timedelta(days=14, minutes=1))
    response = market.mc[0].post(f"{API}/assignments/{a['id']}/appeal", json={"reason": "late"})
    assert response.status_code == 409 and "appeal window" in response.get_json()["message"]


def test_appeal_and_decision_denials(market, make, session):
    batch = market.post(items=1)
    a = market.claim(market.mc[0], batch["id"])
    market.submit(market.mc[0], a["id"])
    market.review(a["id"], "reject", "Wrong labels on the signs.")
    assert market.mc[1].post(f"{API}/assignments/{a['id']}/appeal", json={"reason": "x"}).status_code == 403
    assert market.rc.post(f"{API}/assignments/{a['id']}/appeal", json={"reason": "x"}).status_code == 403
    assert make.client().post(f"{API}/assignments/{a['id']}/appeal", json={"reason": "x"}).status_code == 401
    assert market.mc[0].post(f"{API}/assignments/{a['id']}/appeal", json={"reason": ""}).status_code == 422
    appeal_id = market.mc[0].post(f"{API}/assignments/{a['id']}/appeal", json={"reason": "x"}).get_json()["id"]
    decision = {"decision": "overturn", "reason": "r"}
    assert market.mc[1].post(f"{API}/appeals/{appeal_id}/decide", json=decision).status_code == 403
    assert market.rc.post(f"{API}/appeals/{appeal_id}/decide", json=decision).status_code == 403
    assert make.client().post(f"{API}/appeals/{appeal_id}/decide", json=decision).status_code == 401
    assert market.cc.post(f"{API}/appeals/999999/decide", json=decision).status_code == 404
    assert market.cc.post(f"{API}/appeals/{appeal_id}/decide", json={"decision": "overturn"}).status_code == 422
    # The appellant and coordinators read it; others do not.
    assert market.mc[0].get(f"{API}/appeals/{appeal_id}").status_code == 200
    assert market.mc[1].get(f"{API}/appeals/{appeal_id}").status_code == 403
    assert [x["id"] for x in market.cc.get(f"{API}/appeals").get_json()["items"]] == [appeal_id]
    assert market.mc[1].get(f"{API}/appeals").status_code == 403


def test_a_coordinator_cannot_decide_their_own_appeal(market, session):
    batch = market.post(items=1)
    a = market.claim(market.cc, batch["id"])
    market.submit(market.cc, a["id"])
    market.review(a["id"], "reject", "Wrong labels on the signs.")
    appeal_id = market.cc.post(f"{API}/assignments/{a['id']}/appeal", json={"reason": "x"}).get_json()["id"]
    before = snapshot(market.coordinator)
    response = market.cc.post(f"{API}/appeals/{appeal_id}/decide", json={"decision": "overturn", "reason": "me"})
    assert response.status_code == 403 and snapshot(market.coordinator) == before


def test_rejection_needs_a_reason(market, session):
    batch = market.post(items=1)
    a = market.claim(market.mc[0], batch["id"])
    market.submit(market.mc[0], a["id"])
    before = snapshot(market.requester, market.members[0])
    # Nine characters once stripped is still too short to say what was wrong.
    for reason in (None, "   ", "Wrong.", "  123456789  "):
        response = market.rc.post(f"{API}/assignments/{a['id']}/review", json={"decision": "reject", "reason": reason})
        assert response.status_code == 422 and "reason" in response.get_json()["errors"]
    assert snapshot(market.requester, market.members[0]) == before
    assert session.get(Assignment, a["id"]).status == "submitted"
    response = market.rc.post(
        f"{API}/assignments/{a['id']}/review", json={"decision": "reject", "reason": " 1234567890 "}
    )
    assert response.status_code == 200 and response.get_json()["review_reason"] == "1234567890"


def test_review_is_for_submitted_work_of_ones_own_batch(market, make, session):
    batch = market.post(items=2)
    a = market.claim(market.mc[0], batch["id"])
    assert market.rc.post(f"{API}/assignments/{a['id']}/review", json={"decision": "approve"}).status_code == 409
    market.submit(market.mc[0], a["id"])
    before = snapshot(market.requester, market.members[0])
    assert (
        make.client(make.requester())
        .post(f"{API}/assignments/{a['id']}/review", json={"decision": "approve"})
        .status_code
        == 403
    )
    assert market.mc[1].post(f"{API}/assignments/{a['id']}/review", json={"decision": "approve"}).status_code == 403
    assert make.client().post(f"{API}/assignments/{a['id']}/review", json={"decision": "approve"}).status_code == 401
    assert market.rc.post(f"{API}/assignments/999999/review", json={"decision": "approve"}).status_code == 404
    assert snapshot(market.requester, market.members[0]) == before
    market.review(a["id"])
    assert market.rc.post(f"{API}/assignments/{a['id']}/review", json={"decision": "approve"}).status_code == 409
    assert ledger.balance(ledger.worker_earnings(market.members[0].id)) == 20


def test_submit_is_for_the_claimant_while_the_lease_runs(market, make, session):
    batch = market.post(items=2)
    a = market.claim(market.mc[0], batch["id"])
    assert market.mc[1].post(f"{API}/assignments/{a['id']}/submit", json={"answer": {}}).status_code == 403
    assert market.rc.post(f"{API}/assignments/{a['id']}/submit", json={"answer": {}}).status_code == 403
    assert make.client().post(f"{API}/assignments/{a['id']}/submit", json={"answer": {}}).status_code == 401
    assert market.mc[0].post(f"{API}/assignments/{a['id']}/submit", json={}).status_code == 422
    assert market.mc[0].post(f"{API}/assignments/999999/submit", json={"answer": {}}).status_code == 404
    market.submit(market.mc[0], a["id"])
    assert market.mc[0].post(f"{API}/assignments/{a['id']}/submit", json={"answer": {}}).status_code == 409


def test_a_lapsed_lease_returns_the_slot_and_refuses_the_late_submit(market, session):
    batch = market.post(items=1)
    a = market.claim(market.mc[0], batch["id"])
    assert market.mc[1].post(f"{API}/batches/{batch['id']}/claim").status_code == 409
    clock.advance(timedelta(minutes=30, seconds=1))
    late = market.mc[0].post(f"{API}/assignments/{a['id']}/submit", json={"answer": {}})
    assert late.status_code == 409 and "lease" in late.get_json()["message"]
    # Lazily, before the next claim on the batch, the lapsed lease is expired and the slot reused.
    b = market.claim(market.mc[1], batch["id"])
    assert b["item"]["id"] == a["item"]["id"]
    assert session.get(Assignment, a["id"]).status == "expired"


def test_tick_expires_leases_and_the_worker_may_try_the_item_again(market, app, session):
    batch = market.post(items=1)
    a = market.claim(market.mc[0], batch["id"])
    clock.advance(timedelta(minutes=31))
    result = app.test_cli_runner().invoke(args=["coop", "tick"])
    assert result.exit_code == 0, result.output
    assert "1 leases expired" in result.output
    assert market.mc[0].get(f"{API}/assignments/{a['id']}").get_json()["status"] == "expired"
    again = market.claim(market.mc[0], batch["id"])
    assert again["item"]["id"] == a["item"]["id"] and again["id"] != a["id"]


def test_unreviewed_work_is_approved_after_auto_approve_hours(market, session):
    batch = market.post(items=2)
    a = market.claim(market.mc[0], batch["id"])
    b = market.claim(market.mc[1], batch["id"])
    market.submit(market.mc[0], a["id"])
    market.submit(market.mc[1], b["id"])
    clock.advance(timedelta(hours=71))
    assert services.tick(clock.now()).endswith("0 assignments auto-approved")
    clock.advance(timedelta(hours=1, seconds=1))
    # Lazily, on reading the assignment...
    shown = market.mc[0].get(f"{API}/assignments/{a['id']}").get_json()
    assert shown["status"] == "approved" and shown["review_decision"] == "auto"
    assert ledger.balance(ledger.worker_earnings(market.members[0].id)) == 20
    # ...and by the tick for the rest.
    assert services.tick(clock.now()).endswith("1 assignments auto-approved")
    assert ledger.balance(ledger.worker_earnings(market.members[1].id)) == 20
    assert ledger.balance(ledger.requester_escrow(market.requester.id)) == 0


def test_a_raised_minimum_never_lowers_protections_already_promised(market, session):
    batch = market.post(items=3)
    new_terms(
        auto_approve_hours=100,
        claim_lease_minutes=10,
        appeal_window_days=3,
        min_hourly_rate_cents=1500,
        platform_fee_pct=20,
    )
    protections = services.protections_in_force(session.get(Batch, batch["id"]))
    assert protections == {
        "auto_approve_hours": 72,
        "claim_lease_minutes": 30,
        "appeal_window_days": 14,
        "min_hourly_rate_cents": 1500,
        "platform_fee_pct": 10,
    }
    a = market.claim(market.mc[0], batch["id"])
    clock.advance(timedelta(minutes=15))
    market.submit(market.mc[0], a["id"])  # the promised 30-minute lease still runs
    new_terms(auto_approve_hours=24)
    clock.advance(timedelta(hours=24, seconds=1))
    # A shorter wait voted after submission applies too.
    assert market.mc[0].get(f"{API}/assignments/{a['id']}").get_json()["status"] == "approved"


def test_claims_are_for_members_only(market, make, session):
    batch = market.post(items=1)
    assert make.client(make.worker()).post(f"{API}/batches/{batch['id']}/claim").status_code == 403
    assert market.rc.post(f"{API}/batches/{batch['id']}/claim").status_code == 403
    assert make.client().post(f"{API}/batches/{batch['id']}/claim").status_code == 401
    assert market.mc[0].post(f"{API}/batches/999999/claim").status_code == 404


def test_a_member_holds_several_claims_but_never_two_on_one_item(market, session):
    batch = market.post(items=2, assignments_per_item=3)
    first = market.claim(market.mc[0], batch["id"])
    second = market.claim(market.mc[0], batch["id"])
    assert first["item"]["id"] != second["item"]["id"]
    response = market.mc[0].post(f"{API}/batches/{batch['id']}/claim")
    assert response.status_code == 409 and "Nothing left" in response.get_json()["message"]
    # Rejected work frees the slot for others, never for the same worker.
    market.submit(market.mc[0], first["id"])
    market.review(first["id"], "reject", "Wrong labels on the signs.")
    assert market.mc[0].post(f"{API}/batches/{batch['id']}/claim").status_code == 409
    assert market.claim(market.mc[1], batch["id"])["item"]["id"] == first["item"]["id"]


def test_content_warning_batches_need_the_members_opt_in(market, session):
    batch = market.post(items=2, content_warnings=["violence", "hate"], reward_cents=650, est_seconds=1800)
    before = snapshot(market.requester, market.members[0])
    response = market.mc[0].post(f"{API}/batches/{batch['id']}/claim")
    assert response.status_code == 403 and snapshot(market.requester, market.members[0]) == before
    assert "opted into" in response.get_json()["message"] and "violence, hate" in response.get_json()["message"]
    market.mc[0].patch(f"{API}/me/preferences", json={"content_opt_in": ["violence"]})
    assert market.mc[0].post(f"{API}/batches/{batch['id']}/claim").status_code == 403
    prefs = market.mc[0].patch(f"{API}/me/preferences", json={"content_opt_in": ["hate", "violence"]})
    assert prefs.status_code == 200 and prefs.get_json()["content_opt_in"] == ["violence", "hate"]
    assert market.mc[0].get(f"{API}/me/preferences").get_json()["content_opt_in"] == ["violence", "hate"]
    assert market.claim(market.mc[0], batch["id"])["status"] == "claimed"


def test_preferences_accept_only_known_warnings_and_only_from_workers(market, make, session):
    response = market.mc[0].patch(f"{API}/me/preferences", json={"content_opt_in": ["gore"]})
    assert response.status_code == 422
    # Requesters have preferences (how they hear of things) but no content warnings to choose.
    assert "content_opt_in" not in market.rc.get(f"{API}/me/preferences").get_json()
    assert market.rc.patch(f"{API}/me/preferences", json={"content_opt_in": []}).status_code == 403
    assert make.client().patch(f"{API}/me/preferences", json={"content_opt_in": []}).status_code == 401


def test_daily_cap_on_content_warning_work_counts_todays_live_claims(market, session):
    to_utc_hour(1)
    batch = market.post(items=10, content_warnings=["disturbing"], reward_cents=650, est_seconds=1800)
    member = market.mc[0]
    member.patch(f"{API}/me/preferences", json={"content_opt_in": ["disturbing"]})
    claims = [market.claim(member, batch["id"]) for _ in range(4)]  # 4 × 30 min = the 120-minute cap
    for c in claims[:3]:
        market.submit(member, c["id"])
    before = snapshot(market.requester, market.members[0])
    response = member.post(f"{API}/batches/{batch['id']}/claim")
    assert response.status_code == 409 and "daily_flagged_minutes_cap" in response.get_json()["message"]
    assert snapshot(market.requester, market.members[0]) == before
    # A claim that lapsed unsubmitted does not count.
    clock.advance(timedelta(minutes=31))
    assert market.claim(member, batch["id"])["status"] == "claimed"
    assert member.post(f"{API}/batches/{batch['id']}/claim").status_code == 409
    # A new UTC day, a new allowance.
    clock.advance(timedelta(hours=23))
    assert market.claim(member, batch["id"])["status"] == "claimed"


def test_personal_data_batches_need_confidentiality_accepted(market, session):
    batch = market.post(items=3, personal_data=True, dpa_reference="DPA-9")
    before = snapshot(market.requester, market.members[0])
    refused = market.mc[0].post(f"{API}/batches/{batch['id']}/claim")
    assert refused.status_code == 403 and "accept_confidentiality" in refused.get_json()["message"]
    assert snapshot(market.requester, market.members[0]) == before
    assert session.scalar(sa.select(sa.func.count()).select_from(ConfidentialityAcceptance)) == 0
    market.claim(market.mc[0], batch["id"], accept_confidentiality=True)
    acceptance = session.scalar(sa.select(ConfidentialityAcceptance))
    assert (acceptance.worker_id, acceptance.batch_id, acceptance.terms_version) == (
        market.members[0].id,
        batch["id"],
        1,
    )
    assert acceptance.accepted_at is not None
    # Accepted once for the batch, it holds for the member's next claims on it.
    assert market.claim(market.mc[0], batch["id"])["status"] == "claimed"


def test_paused_or_cancelled_batches_take_no_claims(market, session):
    batch = market.post(items=2)
    session.get(Batch, batch["id"]).status = "paused_underpaid"
    session.flush()
    before = snapshot(market.requester, market.members[0])
    response = market.mc[0].post(f"{API}/batches/{batch['id']}/claim")
    assert response.status_code == 409 and "paused" in response.get_json()["message"]
    assert snapshot(market.requester, market.members[0]) == before
    cancelled = market.post(items=2)
    market.rc.post(f"{API}/batches/{cancelled['id']}/cancel")
    before = snapshot(market.requester, market.members[0])
    response = market.mc[0].post(f"{API}/batches/{cancelled['id']}/claim")
    assert response.status_code == 409 and "cancelled" in response.get_json()["message"]
    assert snapshot(market.requester, market.members[0]) == before


def test_item_data_is_shown_only_to_the_claimant_while_they_hold_the_claim(market, make, session):
    batch = market.post(items=1)
    a = market.claim(market.mc[0], batch["id"])
    assert market.mc[0].get(f"{API}/assignments/{a['id']}").get_json()["item"]["data"] == {"n": 0}
    assert market.mc[1].get(f"{API}/assignments/{a['id']}").status_code == 403
    assert make.client(make.requester()).get(f"{API}/assignments/{a['id']}").status_code == 403
    assert make.client().get(f"{API}/assignments/{a['id']}").status_code == 401
    assert market.mc[0].get(f"{API}/assignments/999999").status_code == 404
    market.submit(market.mc[0], a["id"])
    assert "data" not in market.mc[0].get(f"{API}/assignments/{a['id']}").get_json()["item"]


def test_requesters_see_workers_by_pseudonym_only(market, make, session):
    batch = market.post(items=2)
    member = market.members[0]
    a = market.claim(market.mc[0], batch["id"])
    market.submit(market.mc[0], a["id"], {"label": "yes"})
    response = market.rc.get(f"{API}/batches/{batch['id']}/assignments")
    assert response.status_code == 200
    row = response.get_json()["items"][0]
    assert row["worker"] == member.display_name and row["answer"] == {"label": "yes"}
    text = response.get_data(as_text=True)
    assert member.email not in text and "worker_id" not in text
    single = market.rc.get(f"{API}/assignments/{a['id']}").get_json()
    assert single["worker"] == member.display_name and "worker_id" not in single
    assert make.client(make.requester()).get(f"{API}/batches/{batch['id']}/assignments").status_code == 403
    assert market.mc[0].get(f"{API}/batches/{batch['id']}/assignments").status_code == 403
    assert make.client().get(f"{API}/batches/{batch['id']}/assignments").status_code == 401


def test_my_assignments_lists_the_workers_own(market, make, session):
    batch = market.post(items=3)
    mine = [market.claim(market.mc[0], batch["id"])["id"] for _ in range(2)]
    market.claim(market.mc[1], batch["id"])
    listed = market.mc[0].get(f"{API}/me/assignments").get_json()["items"]
    assert [a["id"] for a in listed] == sorted(mine, reverse=True)
    assert listed[0]["batch_title"] == "Label street photos"
    assert market.rc.get(f"{API}/me/assignments").status_code == 403
    assert make.client().get(f"{API}/me/assignments").status_code == 401


@pytest.mark.parametrize(
    "method, url, body",
    [
        ("get", "/me/balance", None),
        ("get", "/me/earnings", None),
        ("post", "/me/withdrawals", {"amount_cents": 1}),
        ("get", "/me/withdrawals", None),
        ("get", "/withdrawals", None),
        ("get", "/me/preferences", None),
        ("get", "/batches", None),
        ("post", "/batches/1/claim", {}),
        ("get", "/batches/1/items", None),
        ("post", "/batches/1/raise", {"reward_cents": 30}),
        ("get", "/me/assignments", None),
        ("get", "/assignments/1", None),
        ("get", "/appeals", None),
        ("get", "/appeals/1", None),
        ("get", "/requesters/1/stats", None),
        ("get", "/requesters/1/reviews", None),
        ("post", "/requesters/1/reviews", {"rating": 5}),
        ("get", "/deposits", None),
    ],
)
def test_every_route_needs_sign_in(anon, method, url, body):
    response = anon.get(API + url) if method == "get" else anon.post(API + url, json=body)
    assert response.status_code == 401


def test_claim_accepts_an_empty_body(market, session):
    batch = market.post(items=1)
    response = market.mc[0]._client.post(f"{API}/batches/{batch['id']}/claim", headers=market.mc[0]._headers)
    assert response.status_code == 201
