"""Request and response schemas for webhooks."""

import marshmallow as ma
from marshmallow import validate as v

from coop.webhooks.models import DELIVERY_STATUSES

EVENT_NAMES = (
    "assignment.submitted, assignment.returned, batch.completed, batch.paused, batch.resumed, appeal.decided, "
    "message.received "
    "(requesters, for their own batches); proposal.opened, proposal.closed, terms.changed (members)"
)


class WebhookCreateSchema(ma.Schema):
    url = ma.fields.String(
        required=True,
        validate=v.Length(min=1, max=2000),
        metadata={"description": "Where to POST events: an http(s) URL on a public address."},
    )
    events = ma.fields.List(
        ma.fields.String(validate=v.Length(min=1, max=64)),
        required=True,
        validate=v.Length(min=1, max=20, error="Subscribe to between 1 and 20 events."),
        metadata={"description": f"The events to receive: {EVENT_NAMES}."},
    )


class WebhookSchema(ma.Schema):
    id = ma.fields.Integer(dump_only=True)
    url = ma.fields.String(dump_only=True)
    events = ma.fields.List(ma.fields.String(), dump_only=True)
    created_at = ma.fields.DateTime(dump_only=True)
    failing_since = ma.fields.DateTime(
        dump_only=True, allow_none=True, metadata={"description": "Deliveries have failed since then; null: working."}
    )
    disabled_at = ma.fields.DateTime(
        dump_only=True,
        allow_none=True,
        metadata={
            "description": "Set after three days of failures, or when you turn it off: nothing more is sent "
            'until you enable it again (PATCH {"enabled": true}).'
        },
    )
    enabled = ma.fields.Boolean(dump_only=True, metadata={"description": "Whether events are sent to it."})


class WebhookUpdateSchema(ma.Schema):
    enabled = ma.fields.Boolean(
        required=True,
        metadata={
            "description": "true: send to it again (after fixing the receiver), its three days of grace starting "
            "afresh; false: stop sending to it, keeping it and its log."
        },
    )


class NewWebhookSchema(WebhookSchema):
    secret = ma.fields.String(
        dump_only=True,
        metadata={
            "description": "Shown only now: verify each delivery's webhook-signature with it (Standard Webhooks)."
        },
    )


class DeliverySchema(ma.Schema):
    id = ma.fields.Integer(dump_only=True)
    msg_id = ma.fields.String(dump_only=True, metadata={"description": "The webhook-id header, the same on every try."})
    event = ma.fields.String(dump_only=True)
    created_at = ma.fields.DateTime(dump_only=True)
    status = ma.fields.String(dump_only=True, metadata={"description": " | ".join(DELIVERY_STATUSES)})
    attempts = ma.fields.Integer(dump_only=True)
    next_attempt_at = ma.fields.DateTime(dump_only=True, allow_none=True)
    last_attempt_at = ma.fields.DateTime(dump_only=True, allow_none=True)
    last_status_code = ma.fields.Integer(dump_only=True, allow_none=True)
    last_error = ma.fields.String(dump_only=True, allow_none=True)
    delivered_at = ma.fields.DateTime(dump_only=True, allow_none=True)
    payload = ma.fields.Method("_payload", dump_only=True, metadata={"description": "The body that is sent."})

    def _payload(self, delivery) -> dict:
        import json

        return json.loads(delivery.body)
