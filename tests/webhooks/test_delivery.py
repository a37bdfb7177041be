"""Delivery: signed by the Standard Webhooks rules, after commit only, retried with backoff, then given up or disabled."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from coop import clock
from coop.audit import AuditEntry
from coop.extensions import db
from coop.marketplace import services as market
from coop.marketplace.models import Assignment
from coop.webhooks import services as webhooks
from coop.webhooks.models import Webhook, WebhookDelivery
from tests.webhooks.helpers import API, event_types, run_jobs, subscribe


def _deliveries(client, hook_id):
    response = client.get(f"{API}/webhooks/{hook_id}/deliveries")
    assert response.status_code == 200
    return response.json["items"]


def test_a_submission_reaches_the_requester_signed(shop, receiver):
    hook = subscribe(shop.rc, receiver.url, ["assignment.submitted"])
    assignment = shop.claim()
    shop.submit(assignment["id"])
    run_jobs()
    [body] = receiver.verified(hook["secret"])
    assert body["type"] == "assignment.submitted"
    assert body["data"]["assignment_id"] == assignment["id"] and body["data"]["batch_id"] == shop.batch["id"]
    assert body["timestamp"]
    headers = receiver.requests[0]["headers"]
    assert headers["webhook-id"].startswith("msg_") and headers["webhook-signature"].startswith("v1,")
    assert headers["Content-Type"] == "application/json"
    [logged] = _deliveries(shop.rc, hook["id"])
    assert logged["status"] == "delivered" and logged["attempts"] == 1 and logged["last_status_code"] == 200
    assert logged["msg_id"] == headers["webhook-id"] and logged["payload"] == body


def test_a_rolled_back_change_delivers_nothing(shop, receiver):
    hook = subscribe(shop.rc, receiver.url, ["assignment.submitted", "batch.completed"])
    assignment = shop.claim()
    market.submit(shop.member, db.session.get(Assignment, assignment["id"]), {"ok": True})
    db.session.rollback()
    run_jobs()
    assert receiver.requests == []
    assert db.session.scalar(sa.select(sa.func.count()).select_from(WebhookDelivery)) == 0
    assert _deliveries(shop.rc, hook["id"]) == []


def test_a_rolled_back_savepoint_drops_only_its_own_events(shop, receiver):
    hook = subscribe(shop.rc, receiver.url, ["batch.completed"])
    webhooks.emit("batch.completed", {"batch_id": 1}, requester_id=shop.requester.id)
    savepoint = db.session.begin_nested()
    webhooks.emit("batch.completed", {"batch_id": 2}, requester_id=shop.requester.id)
    savepoint.rollback()
    run_jobs()
    assert [body["data"]["batch_id"] for body in receiver.verified(hook["secret"])] == [1]


def test_a_failed_delivery_is_retried_after_its_backoff(shop, receiver, frozen_clock):
    hook = subscribe(shop.rc, receiver.url, ["batch.completed"])
    receiver.answers = [500]
    webhooks.emit("batch.completed", {"batch_id": shop.batch["id"]}, requester_id=shop.requester.id)
    run_jobs()
    [failed] = _deliveries(shop.rc, hook["id"])
    assert failed["status"] == "pending" and failed["last_status_code"] == 500 and failed["next_attempt_at"]

    assert webhooks.retry_due(clock.now()) == 0  # not due yet
    clock.advance(timedelta(seconds=59))
    assert webhooks.retry_due(clock.now()) == 0
    clock.advance(timedelta(seconds=2))
    assert webhooks.retry_due(clock.now()) == 1
    run_jobs()
    first, second = receiver.verified(hook["secret"])
    assert first == second
    assert receiver.requests[0]["headers"]["webhook-id"] == receiver.requests[1]["headers"]["webhook-id"]
    [done] = _deliveries(shop.rc, hook["id"])
    assert done["status"] == "delivered" and done["attempts"] == 2
    # Running the sweep again sends nothing more: a delivered delivery is never due.
    assert webhooks.retry_due(clock.now()) == 0
    run_jobs()
    assert len(receiver.requests) == 2


def test_a_delivery_job_run_again_sends_nothing_more(shop, receiver):
    hook = subscribe(shop.rc, receiver.url, ["batch.completed"])
    webhooks.emit("batch.completed", {"batch_id": shop.batch["id"]}, requester_id=shop.requester.id)
    run_jobs()
    [delivery_id] = db.session.scalars(sa.select(WebhookDelivery.id).where(WebhookDelivery.webhook_id == hook["id"]))
    webhooks.deliver(delivery_id)
    webhooks.deliver(delivery_id)
    run_jobs()
    assert len(receiver.requests) == 1


def test_retries_stop_a_day_after_the_event(shop, receiver, frozen_clock):
    hook = subscribe(shop.rc, receiver.url, ["batch.completed"])
    receiver.answers = [500] * 20
    webhooks.emit("batch.completed", {"batch_id": shop.batch["id"]}, requester_id=shop.requester.id)
    run_jobs()
    start = clock.now()
    while True:
        [delivery] = _deliveries(shop.rc, hook["id"])
        if delivery["status"] != "pending":
            break
        due = db.session.scalar(sa.select(WebhookDelivery.next_attempt_at))
        clock.advance(due - clock.now())
        assert webhooks.retry_due(clock.now()) == 1
        run_jobs()
    assert delivery["status"] == "failed" and delivery["next_attempt_at"] is None
    assert delivery["attempts"] == len(receiver.requests) == 8
    assert clock.now() - start <= timedelta(hours=24)
    receiver.verified(hook["secret"])  # every attempt was signed


@pytest.mark.parametrize(
    ("locale", "subject"),
    [(None, "Your coop webhook was disabled"), ("fr", "Votre webhook de la coop a été désactivé")],
)
def test_a_webhook_failing_for_three_days_is_disabled_and_its_owner_told(
    shop, receiver, frozen_clock, smtp_server, locale, subject
):
    shop.requester.locale = locale
    hook = subscribe(shop.rc, receiver.url, ["batch.completed"])
    receiver.answers = [500] * 10
    for day in range(4):
        webhooks.emit("batch.completed", {"batch_id": shop.batch["id"], "day": day}, requester_id=shop.requester.id)
        run_jobs()
        if day < 3:
            assert db.session.get(Webhook, hook["id"]).disabled_at is None
            clock.advance(timedelta(days=1))
    webhook = db.session.get(Webhook, hook["id"])
    assert webhook.disabled_at is not None
    assert shop.rc.get(f"{API}/webhooks").json["items"][0]["disabled_at"]
    [entry] = db.session.scalars(sa.select(AuditEntry).where(AuditEntry.event == "webhook.disabled"))
    assert entry.subject == f"webhook:{hook['id']}"
    [message] = smtp_server.to(shop.requester.email)
    assert message["Subject"] == subject
    assert receiver.url in message.get_body(("plain",)).get_content()

    # Nothing more is sent, even when due; redelivering is refused until the owner subscribes again.
    sent = len(receiver.requests)
    webhooks.emit("batch.completed", {"batch_id": shop.batch["id"]}, requester_id=shop.requester.id)
    clock.advance(timedelta(hours=1))
    webhooks.retry_due(clock.now())
    run_jobs()
    assert len(receiver.requests) == sent
    delivery_id = _deliveries(shop.rc, hook["id"])[0]["id"]
    refused = shop.rc.post(f"{API}/webhooks/{hook['id']}/deliveries/{delivery_id}/redeliver")
    assert refused.status_code == 409


def test_a_success_in_between_resets_the_three_days(shop, receiver, frozen_clock):
    hook = subscribe(shop.rc, receiver.url, ["batch.completed"])
    receiver.answers = [500, 500, 200, 500, 500]
    for _day in range(5):
        webhooks.emit("batch.completed", {"batch_id": shop.batch["id"]}, requester_id=shop.requester.id)
        run_jobs()
        clock.advance(timedelta(days=1))
    assert db.session.get(Webhook, hook["id"]).disabled_at is None


def test_redelivery_sends_the_same_message_again(shop, receiver):
    hook = subscribe(shop.rc, receiver.url, ["batch.completed"])
    webhooks.emit("batch.completed", {"batch_id": shop.batch["id"]}, requester_id=shop.requester.id)
    run_jobs()
    [delivery] = _deliveries(shop.rc, hook["id"])
    again = shop.rc.post(f"{API}/webhooks/{hook['id']}/deliveries/{delivery['id']}/redeliver")
    assert again.status_code == 202 and again.json["status"] == "pending"
    run_jobs()
    first, second = receiver.verified(hook["secret"])
    assert first == second
    assert receiver.requests[0]["headers"]["webhook-id"] == receiver.requests[1]["headers"]["webhook-id"]
    assert _deliveries(shop.rc, hook["id"])[0]["attempts"] == 2
    unknown = shop.rc.post(f"{API}/webhooks/{hook['id']}/deliveries/999999/redeliver")
    assert unknown.status_code == 404


def test_only_subscribers_to_the_event_and_the_batch_hear_of_it(shop, make, receiver):
    mine = subscribe(shop.rc, receiver.url, ["assignment.submitted"])
    other_requester = make.client(make.requester())
    theirs = subscribe(other_requester, receiver.url, ["assignment.submitted"])
    not_this_event = subscribe(shop.rc, receiver.url, ["batch.completed"])
    shop.submit(shop.claim()["id"])
    run_jobs()
    assert len(receiver.requests) == 1
    assert event_types(receiver, mine["secret"]) == ["assignment.submitted"]
    assert _deliveries(other_requester, theirs["id"]) == []
    assert _deliveries(shop.rc, not_this_event["id"]) == []
