"""Enabling a webhook again after it was disabled for failing (or turning it off), by its owner only."""

from datetime import timedelta

import sqlalchemy as sa

from coop import clock
from coop.audit import AuditEntry
from coop.extensions import db
from coop.webhooks import services as webhooks
from coop.webhooks.models import Webhook, WebhookDelivery
from tests.webhooks.helpers import API, run_jobs, subscribe

URL = "http://127.0.0.1:9/hooks"


def _audit(event):
    return list(db.session.scalars(sa.select(AuditEntry).where(AuditEntry.event == event)))


def _fail_for_three_days(shop, receiver, hook):
    receiver.answers = [500] * 10
    for day in range(4):
        webhooks.emit("batch.completed", {"batch_id": shop.batch["id"], "day": day}, requester_id=shop.requester.id)
        run_jobs()
        if day < 3:
            clock.advance(timedelta(days=1))
    assert db.session.get(Webhook, hook["id"]).disabled_at is not None


def test_the_owner_enables_a_disabled_webhook_and_deliveries_start_again(shop, receiver, frozen_clock):
    hook = subscribe(shop.rc, receiver.url, ["batch.completed"])
    _fail_for_three_days(shop, receiver, hook)
    clock.advance(timedelta(days=2))  # the owner fixes the receiver some days later
    receiver.answers = []
    sent = len(receiver.requests)

    response = shop.rc.patch(f"{API}/webhooks/{hook['id']}", json={"enabled": True})
    assert response.status_code == 200, response.json
    assert (response.json["enabled"], response.json["disabled_at"], response.json["failing_since"]) == (
        True,
        None,
        None,
    )
    [entry] = _audit("webhook.enabled")
    assert entry.subject == f"webhook:{hook['id']}" and shop.requester.display_name in entry.actor
    run_jobs()
    # What was still pending when it was disabled is past its day of retries: given up, not sent late.
    pending = db.session.scalars(
        sa.select(WebhookDelivery).where(WebhookDelivery.webhook_id == hook["id"], WebhookDelivery.status == "pending")
    ).all()
    assert pending == [] and len(receiver.requests) == sent

    webhooks.emit("batch.completed", {"batch_id": shop.batch["id"], "again": True}, requester_id=shop.requester.id)
    run_jobs()
    [body] = receiver.verified(hook["secret"])[sent:]
    assert body["data"]["again"] is True
    # The three days of grace start afresh: one more failure does not disable it again.
    receiver.answers = [500]
    webhooks.emit("batch.completed", {"batch_id": shop.batch["id"]}, requester_id=shop.requester.id)
    run_jobs()
    assert db.session.get(Webhook, hook["id"]).disabled_at is None
    # And an old delivery may be sent again by hand.
    old = db.session.scalars(
        sa.select(WebhookDelivery).where(WebhookDelivery.webhook_id == hook["id"]).order_by(WebhookDelivery.id)
    ).first()
    assert shop.rc.post(f"{API}/webhooks/{hook['id']}/deliveries/{old.id}/redeliver").status_code == 202


def test_a_disabled_webhook_refuses_redelivery_and_says_how_to_enable_it(make):
    owner = make.client(make.requester())
    hook = subscribe(owner, URL, ["batch.completed"])
    assert owner.patch(f"{API}/webhooks/{hook['id']}", json={"enabled": False}).status_code == 200
    db.session.add(
        WebhookDelivery(
            webhook_id=hook["id"], msg_id="msg_test", event="batch.completed", body="{}", retry_until=clock.now()
        )
    )
    db.session.commit()
    delivery_id = db.session.scalar(sa.select(WebhookDelivery.id).where(WebhookDelivery.msg_id == "msg_test"))
    refused = owner.post(f"{API}/webhooks/{hook['id']}/deliveries/{delivery_id}/redeliver")
    assert refused.status_code == 409 and f"PATCH /api/v1/webhooks/{hook['id']}" in refused.json["message"]


def test_the_owner_turns_a_webhook_off_and_nothing_is_sent(shop, receiver):
    hook = subscribe(shop.rc, receiver.url, ["batch.completed"])
    off = shop.rc.patch(f"{API}/webhooks/{hook['id']}", json={"enabled": False})
    assert off.status_code == 200 and off.json["enabled"] is False and off.json["disabled_at"]
    [entry] = _audit("webhook.disabled")
    assert shop.requester.display_name in entry.actor
    webhooks.emit("batch.completed", {"batch_id": shop.batch["id"]}, requester_id=shop.requester.id)
    run_jobs()
    assert receiver.requests == []
    assert shop.rc.get(f"{API}/webhooks").json["items"][0]["enabled"] is False


def test_enabling_an_enabled_webhook_changes_nothing(make):
    owner = make.client(make.requester())
    hook = subscribe(owner, URL, ["batch.completed"])
    response = owner.patch(f"{API}/webhooks/{hook['id']}", json={"enabled": True})
    assert response.status_code == 200 and response.json["enabled"] is True
    assert _audit("webhook.enabled") == []


def test_nobody_enables_anothers_webhook(make):
    owner, other = make.client(make.requester()), make.client(make.requester())
    hook = subscribe(owner, URL, ["batch.completed"])
    webhook = db.session.get(Webhook, hook["id"])
    webhook.disabled_at = webhook.failing_since = clock.now()
    db.session.commit()
    for webhook_id in (hook["id"], 999_999):
        response = other.patch(f"{API}/webhooks/{webhook_id}", json={"enabled": True})
        # The same answer as for an id that names nothing.
        assert response.status_code == 404
        assert response.json["message"] == "You have no webhook with this id."
    assert make.client().patch(f"{API}/webhooks/{hook['id']}", json={"enabled": True}).status_code == 401
    db.session.expire_all()
    assert db.session.get(Webhook, hook["id"]).disabled_at is not None
    assert _audit("webhook.enabled") == []


def test_a_bad_body_is_refused_field_by_field(make):
    owner = make.client(make.requester())
    hook = subscribe(owner, URL, ["batch.completed"])
    for body in ({}, {"enabled": "perhaps"}, {"enabled": True, "url": "http://127.0.0.1:9/elsewhere"}):
        response = owner.patch(f"{API}/webhooks/{hook['id']}", json=body)
        assert response.status_code == 422, body
        assert response.json["errors"]
    assert db.session.get(Webhook, hook["id"]).url == URL


def test_a_webhook_for_events_its_owner_no_longer_hears_is_not_enabled(make):
    member = make.member()
    client = make.client(member)
    hook = subscribe(client, URL, ["proposal.opened"])
    webhook = db.session.get(Webhook, hook["id"])
    webhook.disabled_at = clock.now()
    member.is_member = False  # left the coop while the webhook was off
    db.session.commit()
    refused = client.patch(f"{API}/webhooks/{hook['id']}", json={"enabled": True})
    assert refused.status_code == 422 and "events" in refused.json["errors"]
    db.session.expire_all()
    assert db.session.get(Webhook, hook["id"]).disabled_at is not None
