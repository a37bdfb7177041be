"""Webhook services: subscribing, the events services emit, delivery with retries, redelivery, disabling."""

from __future__ import annotations

import base64
import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from coop import audit, clock, jobs, mail
from coop.accounts.emails import language_of
from coop.accounts.models import User
from coop.commit_queue import CommitQueue
from coop.errors import Conflict, Invalid, NotFound
from coop.extensions import db
from coop.pagination import keyset_page
from coop.webhooks import sending
from coop.webhooks.models import Webhook, WebhookDelivery

# Who may hear what: requesters about their own batches, members about the coop's governance.
REQUESTER_EVENTS = (
    "assignment.submitted",
    "assignment.returned",
    "batch.completed",
    "batch.paused",
    "batch.resumed",
    "appeal.decided",
    "message.received",
)
MEMBER_EVENTS = ("proposal.opened", "proposal.closed", "terms.changed")
EVENTS = REQUESTER_EVENTS + MEMBER_EVENTS
SECRET_PREFIX = "whsec_"
RETRY_FOR = timedelta(hours=24)
# Exponential backoff: 1 min, 4, 16, ~1 h, ~4 h, then every 8 h until the day is over.
FIRST_RETRY = timedelta(minutes=1)
LONGEST_WAIT = timedelta(hours=8)
DISABLE_AFTER = timedelta(days=3)
# Each event is sent once per subscribed webhook: a cap keeps one account from multiplying the work.
MAX_WEBHOOKS_PER_ACCOUNT = 20
NO_SUCH_WEBHOOK = "You have no webhook with this id."
NO_SUCH_DELIVERY = "This webhook has no delivery with this id."


def backoff(attempts: int) -> timedelta:
    """How long to wait after the `attempts`-th failed attempt."""
    return min(FIRST_RETRY * 4 ** (attempts - 1), LONGEST_WAIT)


# --- subscribing --------------------------------------------------------------------------


def _allowed(user: User, event: str) -> str | None:
    """Why `user` may not subscribe to `event`, or None when they may."""
    if event not in EVENTS:
        return f"{event}: not an event; choose from {', '.join(EVENTS)}."
    if event in REQUESTER_EVENTS and not user.is_requester:
        return f"{event}: only requesters subscribe to it, for their own batches."
    if event in MEMBER_EVENTS and not user.is_member:
        return f"{event}: only members subscribe to governance events."
    return None


def create_webhook(user: User, data: dict) -> tuple[Webhook, str]:
    """Subscribe `user`'s URL to events they may hear of; returns the webhook and its signing secret (shown once)."""
    events = list(dict.fromkeys(data["events"]))
    refused = [reason for reason in (_allowed(user, e) for e in events) if reason]
    if refused:
        raise Invalid(_("You may not subscribe to: %(events)s", events=" ".join(refused)), {"events": refused})
    count = db.session.scalar(sa.select(sa.func.count()).select_from(Webhook).where(Webhook.owner_id == user.id))
    if count >= MAX_WEBHOOKS_PER_ACCOUNT:
        raise Conflict(
            f"You have {count} webhooks, the most an account may hold; delete one "
            "(DELETE /api/v1/webhooks/{id}) or subscribe an existing one to more events."
        )
    url = data["url"].strip()
    try:
        sending.resolve(sending.parse(url), current_app.config["COOP_WEBHOOKS_ALLOW_PRIVATE"])
    except sending.TargetRefused as exc:
        raise Invalid(str(exc), {"url": [str(exc)]}) from None
    secret = SECRET_PREFIX + base64.b64encode(secrets.token_bytes(24)).decode()
    webhook = Webhook(owner_id=user.id, url=url, events=events, secret=secret, created_at=clock.now())
    db.session.add(webhook)
    db.session.flush()
    return webhook, secret


def own_webhook(user: User, webhook_id: int) -> Webhook:
    """One of `user`'s webhooks; NotFound for any other id, so ids reveal nothing about others' webhooks."""
    webhook = db.session.get(Webhook, webhook_id)
    if webhook is None or webhook.owner_id != user.id:
        raise NotFound(NO_SUCH_WEBHOOK)
    return webhook


def list_webhooks(user: User, args: dict) -> tuple[list[Webhook], str | None]:
    """The caller's own webhooks, oldest first (never their secrets)."""
    stmt = sa.select(Webhook).where(Webhook.owner_id == user.id)
    return keyset_page(stmt, [Webhook.id], limit=args["limit"], cursor=args["cursor"])


def delete_webhook(user: User, webhook: Webhook) -> None:
    """Unsubscribe: the webhook and its delivery log go; nothing more is sent to it."""
    own_webhook(user, webhook.id)
    db.session.delete(webhook)
    db.session.flush()


def list_deliveries(user: User, webhook: Webhook, args: dict) -> tuple[list[WebhookDelivery], str | None]:
    """The delivery log of one of the caller's webhooks, newest first."""
    own_webhook(user, webhook.id)
    stmt = sa.select(WebhookDelivery).where(WebhookDelivery.webhook_id == webhook.id)
    return keyset_page(stmt, [WebhookDelivery.id], limit=args["limit"], cursor=args["cursor"], descending=True)


def redeliver(user: User, webhook: Webhook, delivery_id: int) -> WebhookDelivery:
    """Send a delivery again (same message id and body), with a new day of retries."""
    own_webhook(user, webhook.id)
    delivery = db.session.get(WebhookDelivery, delivery_id, with_for_update=True)
    if delivery is None or delivery.webhook_id != webhook.id:
        raise NotFound(NO_SUCH_DELIVERY)
    if webhook.disabled_at is not None:
        raise Conflict(
            _(
                "This webhook is disabled; once your receiver works, enable it again with "
                'PATCH /api/v1/webhooks/%(id)s {"enabled": true}, then redeliver.',
                id=webhook.id,
            )
        )
    now = clock.now()
    delivery.status, delivery.next_attempt_at, delivery.retry_until = "pending", now, now + RETRY_FOR
    db.session.flush()
    jobs.defer("webhooks.deliver", delivery_id=delivery.id)
    return delivery


def set_enabled(user: User, webhook: Webhook, enabled: bool) -> Webhook:
    """Turn one of the owner's webhooks back on (after it was disabled for failing) or off.

    Enabling starts its three days of grace afresh and checks again that its address may be
    reached and that the owner may still hear of each event. Deliveries whose day of retries
    ended while it was off are given up (the owner may redeliver any of them); events that
    happened while it was off were never queued for it.
    """
    own_webhook(user, webhook.id)
    webhook = db.session.get(Webhook, webhook.id, with_for_update=True, populate_existing=True)
    if enabled == (webhook.disabled_at is None):
        return webhook
    now = clock.now()
    if enabled:
        refused = [reason for reason in (_allowed(user, e) for e in webhook.events) if reason]
        if refused:
            raise Invalid(
                _(
                    "This webhook's events are no longer yours to hear: %(events)s Delete it and subscribe again.",
                    events=" ".join(refused),
                ),
                {"events": refused},
            )
        try:
            sending.resolve(sending.parse(webhook.url), current_app.config["COOP_WEBHOOKS_ALLOW_PRIVATE"])
        except sending.TargetRefused as exc:
            raise Invalid(str(exc), {"url": [str(exc)]}) from None
        db.session.execute(
            sa.update(WebhookDelivery)
            .where(
                WebhookDelivery.webhook_id == webhook.id,
                WebhookDelivery.status == "pending",
                WebhookDelivery.retry_until < now,
            )
            .values(status="failed", next_attempt_at=None)
            .execution_options(synchronize_session=False)
        )
        was_disabled_at = webhook.disabled_at
        webhook.disabled_at = webhook.failing_since = None
        details = {"url": webhook.url, "disabled_at": was_disabled_at.isoformat()}
    else:
        webhook.disabled_at = now
        details = {"url": webhook.url}
    db.session.flush()
    audit.append("webhook.enabled" if enabled else "webhook.disabled", f"webhook:{webhook.id}", user, details)
    return webhook


# --- events -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Event:
    type: str
    at: datetime
    data: dict
    requester_id: int | None


def emit(event: str, data: dict, *, requester_id: int | None = None) -> None:
    """Announce `event` to its subscribers once this unit of work commits (never if it rolls back).

    Requester events name the requester whose batch it concerns; governance events go to members.
    """
    if event not in EVENTS:
        raise ValueError(f"No webhook event is named {event!r}.")
    if (event in REQUESTER_EVENTS) != (requester_id is not None):
        raise ValueError(f"{event} is announced {'to its requester' if event in REQUESTER_EVENTS else 'to members'}.")
    payload = json.loads(json.dumps(data, default=str))
    _queue.add(_Event(event, clock.now(), payload, requester_id))


def _subscribers(event: dict, cache: dict) -> list[Webhook]:
    key = event["requester_id"]
    if key not in cache:
        stmt = sa.select(Webhook).where(Webhook.disabled_at.is_(None))
        if key is not None:
            stmt = stmt.where(Webhook.owner_id == key)
        else:
            stmt = stmt.join(User, User.id == Webhook.owner_id).where(User.is_member.is_(True))
        cache[key] = list(db.session.scalars(stmt.order_by(Webhook.id)))
    return [hook for hook in cache[key] if event["type"] in hook.events]


@jobs.task("webhooks.fan_out")
def fan_out(events: list[dict]) -> None:
    """A delivery (and its job) for each webhook subscribed to each event of one committed unit of work."""
    cache: dict = {}
    deliveries = []
    for event in events:
        at = datetime.fromisoformat(event["at"])
        body = json.dumps(
            {"type": event["type"], "timestamp": event["at"], "data": event["data"]},
            separators=(",", ":"),
            ensure_ascii=False,
        )
        for hook in _subscribers(event, cache):
            delivery = WebhookDelivery(
                webhook_id=hook.id,
                msg_id="msg_" + secrets.token_urlsafe(24),
                event=event["type"],
                body=body,
                created_at=at,
                status="pending",
                attempts=0,
                next_attempt_at=at,
                retry_until=at + RETRY_FOR,
            )
            db.session.add(delivery)
            deliveries.append(delivery)
    if deliveries:
        db.session.flush()
        for delivery in deliveries:
            jobs.defer("webhooks.deliver", delivery_id=delivery.id)


def _hand_to_jobs(session: Session, queue: list[_Event]) -> None:
    # The events go to the job queue as they are: finding subscribers happens in the job, so
    # the change that caused them (a claim, a submit) pays no query for it.
    jobs.defer(
        "webhooks.fan_out",
        events=[
            {"type": e.type, "at": e.at.isoformat(), "data": e.data, "requester_id": e.requester_id} for e in queue
        ],
    )


# Written at commit before the jobs, as one fan-out job (coop.commit_queue.ORDER); a rolled-back
# savepoint drops its own events.
_queue: CommitQueue[_Event] = CommitQueue("webhooks", _hand_to_jobs)


# --- delivery -----------------------------------------------------------------------------


@jobs.task("webhooks.deliver")
def deliver(delivery_id: int) -> None:
    """One attempt at a due delivery; a failure schedules the next one (idempotent: a delivery not due is left)."""
    now = clock.now()
    delivery = db.session.get(WebhookDelivery, delivery_id, with_for_update=True, populate_existing=True)
    if delivery is None or delivery.status != "pending" or delivery.next_attempt_at is None:
        return
    if delivery.next_attempt_at > now:
        return
    webhook = delivery.webhook
    if webhook.disabled_at is not None:
        return
    outcome = sending.post(
        webhook.url,
        webhook.secret,
        delivery.msg_id,
        delivery.body,
        allow_private=current_app.config["COOP_WEBHOOKS_ALLOW_PRIVATE"],
        timeout=float(current_app.config["COOP_WEBHOOKS_TIMEOUT_SECONDS"]),
    )
    delivery.attempts += 1
    delivery.last_attempt_at, delivery.last_status_code, delivery.last_error = now, outcome.status_code, outcome.error
    if outcome.ok:
        delivery.status, delivery.delivered_at, delivery.next_attempt_at = "delivered", now, None
        webhook.failing_since = None
        db.session.flush()
        return
    following = now + backoff(delivery.attempts)
    if following > delivery.retry_until:
        delivery.status, delivery.next_attempt_at = "failed", None
    else:
        delivery.next_attempt_at = following
    webhook.failing_since = webhook.failing_since or now
    if now - webhook.failing_since >= DISABLE_AFTER:
        _disable(webhook, now)
    db.session.flush()


def _disable(webhook: Webhook, now: datetime) -> None:
    """Stop sending to a webhook that failed for three days, and tell its owner."""
    webhook.disabled_at = now
    owner = db.session.get(User, webhook.owner_id)
    audit.append(
        "webhook.disabled",
        f"webhook:{webhook.id}",
        None,
        {"owner_id": webhook.owner_id, "url": webhook.url, "failing_since": webhook.failing_since.isoformat()},
    )
    if owner is None:
        return
    with force_locale(language_of(owner)):
        text = render_template("webhooks/email/disabled.txt", user=owner, webhook=webhook)
        mail.send(owner.email, _("Your coop webhook was disabled"), text)


def retry_due(now: datetime) -> int:
    """Hand the deliveries whose next attempt is due to the job queue again; the number handed over.

    Safe to run as often as one likes: a delivery job that finds its delivery not due does nothing.
    """
    ids = list(
        db.session.scalars(
            sa.select(WebhookDelivery.id)
            .join(Webhook, Webhook.id == WebhookDelivery.webhook_id)
            .where(
                WebhookDelivery.status == "pending",
                WebhookDelivery.next_attempt_at <= now,
                Webhook.disabled_at.is_(None),
            )
            .order_by(WebhookDelivery.next_attempt_at)
            .limit(1000)
        )
    )
    for delivery_id in ids:
        jobs.defer("webhooks.deliver", delivery_id=delivery_id)
    return len(ids)
