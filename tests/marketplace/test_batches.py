"""Posting batches against the terms, escrow, listing, progress and cancelling."""

import json

import pytest
import sqlalchemy as sa

from coop import ledger
from coop.audit import AuditEntry
from coop.marketplace.models import Batch, Item, Slot
from tests.marketplace.conftest import batch_body, fund, new_terms, snapshot


def count(session, model):
    return session.scalar(sa.select(sa.func.count()).select_from(model))


def test_posting_a_batch_moves_rewards_and_fee_into_escrow(market, session):
    # 3 items × 2 assignments × 33 cents = 198; 10% fee is 19.8, rounded up once to 20.
    batch = market.post(items=3, assignments_per_item=2, reward_cents=33, est_seconds=90)
    assert batch["status"] == "open" and batch["terms_version"] == 1
    assert batch["hourly_rate_cents"] == 1320
    assert (batch["rewards_total_cents"], batch["fee_cents"], batch["escrow_cents"]) == (198, 20, 218)
    assert batch["slot_count"] == 6 and batch["item_count"] == 3
    assert batch["protections"] == {
        "min_hourly_rate_cents": 1300,
        "platform_fee_pct": 10,
        "auto_approve_hours": 72,
        "claim_lease_minutes": 30,
        "appeal_window_days": 14,
    }
    assert market.rc.get("/api/v1/me/balance").get_json() == {
        "available_cents": 10_000 - 218,
        "escrow_cents": 218,
        "payout_pending_cents": 0,
    }
    slots = session.scalars(sa.select(Slot).where(Slot.batch_id == batch["id"]).order_by(Slot.id)).all()
    assert [s.number for s in slots] == [1, 1, 1, 2, 2, 2] and {s.state for s in slots} == {"open"}


def test_every_terms_breach_is_listed_in_one_422_naming_parameter_and_version(market, session):
    new_terms(min_hourly_rate_cents=1500, banned_purposes=["fake_engagement", "scraping"])
    before, batches = snapshot(market.requester), count(session, Batch)
    response = market.rc.post(
        "/api/v1/batches",
        json=batch_body(
            reward_cents=20,
            est_seconds=60,
            purpose="impersonation",
            impersonation_notice="  ",
            end_client="",
            personal_data=True,
            dpa_reference=None,
            content_warnings=["violence", "gore"],
        ),
    )
    assert response.status_code == 422
    body = response.get_json()
    assert body["message"].startswith("This batch breaks terms version 2:")
    for parameter in (
        "min_hourly_rate_cents",
        "require_end_client",
        "impersonation_notice",
        "dpa_reference",
        "content_warnings",
    ):
        assert parameter in body["message"]
    assert set(body["errors"]) == {
        "reward_cents",
        "impersonation_notice",
        "end_client",
        "dpa_reference",
        "content_warnings",
    }
    assert "1200 cents an hour" in body["errors"]["reward_cents"][0]
    assert "1500" in body["errors"]["reward_cents"][0] and "at least 25 cents" in body["errors"]["reward_cents"][0]
    assert "gore" in body["errors"]["content_warnings"][0]
    assert snapshot(market.requester) == before and count(session, Batch) == batches


@pytest.mark.parametrize("purpose, parameter", [("fake_engagement", "banned_purposes"), ("marketing", "purpose")])
def test_banned_or_unknown_purposes_are_refused(market, session, purpose, parameter):
    before = snapshot(market.requester)
    response = market.rc.post("/api/v1/batches", json=batch_body(purpose=purpose))
    assert response.status_code == 422
    assert parameter in response.get_json()["message"] and list(response.get_json()["errors"]) == ["purpose"]
    assert snapshot(market.requester) == before


def test_impersonation_with_a_notice_and_personal_data_with_a_dpa_are_accepted(market, session):
    batch = market.post(
        purpose="impersonation",
        impersonation_notice="The chat says a person may answer.",
        personal_data=True,
        dpa_reference="DPA-2026-17",
    )
    assert batch["purpose"] == "impersonation" and batch["dpa_reference"] == "DPA-2026-17"


def test_end_client_may_be_empty_only_when_the_terms_allow_it(market, session):
    new_terms(require_end_client=False)
    assert market.post(end_client="")["end_client"] == ""


def test_batch_the_requester_cannot_pay_for_is_refused_with_nothing_stored(make, session):
    requester = make.requester()
    fund(requester, 65)  # 3 × 20 + fee 6 = 66
    before, counts = snapshot(requester), (count(session, Batch), count(session, Item), count(session, Slot))
    response = make.client(requester).post("/api/v1/batches", json=batch_body(items=3))
    assert response.status_code == 409
    assert "66 cents" in response.get_json()["message"] and "65 cents" in response.get_json()["message"]
    assert snapshot(requester) == before
    assert (count(session, Batch), count(session, Item), count(session, Slot)) == counts


@pytest.mark.parametrize("items", [0, 10_001])
def test_a_batch_has_between_one_and_ten_thousand_items(market, session, items):
    body = batch_body(items=0)
    body["items"] = [{"data": {}}] * items
    response = market.rc.post("/api/v1/batches", json=body)
    assert response.status_code == 422 and "items" in response.get_json()["errors"]


def test_item_data_over_the_size_limit_is_refused(market, session, app):
    limit = app.config["COOP_MAX_ITEM_BYTES"]
    body = batch_body(items=2)
    body["items"][1] = {"data": {"text": "x" * limit}}
    before = snapshot(market.requester)
    response = market.rc.post("/api/v1/batches", json=body)
    assert response.status_code == 422
    assert list(response.get_json()["errors"]["items"]) == ["1"]
    assert snapshot(market.requester) == before


@pytest.mark.parametrize(
    "field, value",
    [
        ("reward_cents", 0),
        ("est_seconds", 0),
        ("assignments_per_item", 0),
        ("title", ""),
        ("expires_at", "2000-01-01T00:00:00Z"),
        ("reward_cents", "20"),
    ],
)
def test_malformed_batches_are_refused(market, session, field, value):
    response = market.rc.post("/api/v1/batches", json=batch_body(**{field: value}))
    assert response.status_code == 422 and field in response.get_json()["errors"]


def test_only_requesters_post_batches(make, session):
    assert make.client(make.member()).post("/api/v1/batches", json=batch_body()).status_code == 403
    assert make.client().post("/api/v1/batches", json=batch_body()).status_code == 401


def test_members_list_open_batches_they_can_take_and_requesters_their_own(market, make, session):
    other = make.requester()
    fund(other, 1000)
    mine = market.post(title="plain")
    flagged = market.post(title="flagged", content_warnings=["violence"], reward_cents=650, est_seconds=1800)
    cancelled = market.post(title="cancelled")
    market.rc.post(f"/api/v1/batches/{cancelled['id']}/cancel")
    theirs = make.client(other).post("/api/v1/batches", json=batch_body(title="theirs")).get_json()

    member = market.mc[0]
    listed = {b["id"] for b in member.get("/api/v1/batches").get_json()["items"]}
    assert mine["id"] in listed and theirs["id"] in listed
    assert flagged["id"] not in listed and cancelled["id"] not in listed
    member.patch("/api/v1/me/preferences", json={"content_opt_in": ["violence"]})
    assert flagged["id"] in {b["id"] for b in member.get("/api/v1/batches").get_json()["items"]}

    own = {b["id"] for b in market.rc.get("/api/v1/batches").get_json()["items"]}
    assert own == {mine["id"], flagged["id"], cancelled["id"]}
    assert [b["id"] for b in market.rc.get("/api/v1/batches?status=cancelled").get_json()["items"]] == [cancelled["id"]]
    assert make.client(make.worker()).get("/api/v1/batches").status_code == 403
    assert make.client().get("/api/v1/batches").status_code == 401


def test_batch_list_paginates_by_cursor(market, session):
    ids = [market.post(items=1)["id"] for _ in range(3)]
    first = market.rc.get("/api/v1/batches?limit=2").get_json()
    second = market.rc.get(f"/api/v1/batches?limit=2&cursor={first['next_cursor']}").get_json()
    assert [b["id"] for b in first["items"] + second["items"]] == sorted(ids, reverse=True)
    assert second["next_cursor"] is None


def test_batch_detail_shows_progress_to_members_and_its_requester_only(market, make, session):
    batch = market.post(items=2, assignments_per_item=2)
    claimed = market.claim(market.mc[0], batch["id"])
    market.submit(market.mc[0], claimed["id"])
    detail = market.mc[1].get(f"/api/v1/batches/{batch['id']}").get_json()
    assert detail["progress"] == {
        "items": 2,
        "slots": 4,
        "open": 3,
        "in_progress": 1,
        "done": 0,
        "cancelled": 0,
        "claimed": 0,
        "submitted": 1,
        "approved": 0,
        "rejected": 0,
        "expired": 0,
    }
    assert detail["requester"]["id"] == market.requester.id
    assert market.rc.get(f"/api/v1/batches/{batch['id']}").status_code == 200
    assert make.client(make.requester()).get(f"/api/v1/batches/{batch['id']}").status_code == 403
    assert make.client(make.worker()).get(f"/api/v1/batches/{batch['id']}").status_code == 403
    assert make.client().get(f"/api/v1/batches/{batch['id']}").status_code == 401
    assert market.mc[0].get("/api/v1/batches/999999").status_code == 404


def test_item_data_is_shown_to_the_requester_but_not_in_batch_views(market, make, session):
    batch = market.post(items=2)
    items = market.rc.get(f"/api/v1/batches/{batch['id']}/items").get_json()["items"]
    assert [i["data"] for i in items] == [{"n": 0}, {"n": 1}]
    assert "items" not in market.mc[0].get(f"/api/v1/batches/{batch['id']}").get_json()
    assert market.mc[0].get(f"/api/v1/batches/{batch['id']}/items").status_code == 403
    assert make.client(make.requester()).get(f"/api/v1/batches/{batch['id']}/items").status_code == 403


def test_cancel_refunds_unclaimed_slots_and_still_pays_claimed_work(market, session):
    # 4 slots of 33 cents: rewards 132, fee ceil(13.2) = 14, escrow 146; each slot carries a 3-cent fee share.
    batch = market.post(items=4, reward_cents=33, est_seconds=90)
    held = market.claim(market.mc[0], batch["id"])
    response = market.rc.post(f"/api/v1/batches/{batch['id']}/cancel")
    assert response.status_code == 200 and response.get_json()["status"] == "cancelled"
    # 3 open slots refunded at 33 + 3 each.
    assert ledger.balance(ledger.requester_available(market.requester.id)) == 10_000 - 146 + 108
    assert ledger.balance(ledger.requester_escrow(market.requester.id)) == 38
    assert market.mc[1].post(f"/api/v1/batches/{batch['id']}/claim").status_code == 409

    market.submit(market.mc[0], held["id"])
    market.review(held["id"])
    assert ledger.balance(ledger.worker_earnings(market.members[0].id)) == 33
    # The batch is done: the 2-cent rounding remainder of the fee goes to the coop, escrow ends at 0.
    assert ledger.balance(ledger.requester_escrow(market.requester.id)) == 0
    assert ledger.balance(ledger.COOP_FEES) == 3 + 2
    assert session.get(Batch, batch["id"]).escrow_cents == 0
    assert market.rc.post(f"/api/v1/batches/{batch['id']}/cancel").status_code == 409


def test_a_lease_lapsing_in_a_cancelled_batch_refunds_its_slot(market, session):
    from datetime import timedelta

    from coop import clock
    from coop.marketplace import services

    batch = market.post(items=2)
    market.claim(market.mc[0], batch["id"])
    market.rc.post(f"/api/v1/batches/{batch['id']}/cancel")
    clock.advance(timedelta(minutes=31))
    services.tick(clock.now())
    assert ledger.balance(ledger.requester_available(market.requester.id)) == 10_000
    assert ledger.balance(ledger.requester_escrow(market.requester.id)) == 0


def test_cancel_is_for_the_batchs_own_requester(market, make, session):
    batch = market.post()
    before = snapshot(market.requester)
    assert make.client(make.requester()).post(f"/api/v1/batches/{batch['id']}/cancel").status_code == 403
    assert market.mc[0].post(f"/api/v1/batches/{batch['id']}/cancel").status_code == 403
    assert make.client().post(f"/api/v1/batches/{batch['id']}/cancel").status_code == 401
    assert market.rc.post("/api/v1/batches/999999/cancel").status_code == 404
    assert snapshot(market.requester) == before


def test_batch_past_its_expiry_takes_no_claims_and_refunds(market, session):
    from datetime import timedelta

    from coop import clock

    expires = (clock.now() + timedelta(hours=1)).isoformat()
    batch = market.post(items=2, expires_at=expires)
    clock.advance(timedelta(hours=2))
    assert market.mc[0].post(f"/api/v1/batches/{batch['id']}/claim").status_code == 409
    assert market.rc.get(f"/api/v1/batches/{batch['id']}").get_json()["status"] == "expired"
    assert ledger.balance(ledger.requester_available(market.requester.id)) == 10_000


def test_audit_log_records_batches_with_amounts_never_item_data(market, session):
    batch = market.post(items=2, **{"title": "t"})
    body = batch_body(items=1)
    body["items"] = [{"data": {"secret": "PATIENT-NAME-XYZ"}}]
    market.rc.post("/api/v1/batches", json=body)
    market.rc.post(f"/api/v1/batches/{batch['id']}/cancel")
    entries = session.scalars(sa.select(AuditEntry).where(AuditEntry.event.like("batch.%"))).all()
    posted = next(e for e in entries if e.event == "batch.posted" and e.subject == f"batch:{batch['id']}")
    assert posted.payload == {
        "requester_id": market.requester.id,
        "terms_version": 1,
        "items": 2,
        "slots": 2,
        "reward_cents": 20,
        "rewards_total_cents": 40,
        "fee_cents": 4,
    }
    assert any(e.event == "batch.cancelled" and e.payload["refunded_cents"] == 44 for e in entries)
    assert "PATIENT-NAME-XYZ" not in json.dumps([e.payload for e in session.scalars(sa.select(AuditEntry))])
