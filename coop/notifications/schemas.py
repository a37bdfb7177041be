"""Notification shapes for the API: the list, marking as read, and the choices per kind."""

import marshmallow as ma
from marshmallow import validate as v

from coop.notifications.models import KINDS, MODES
from coop.pagination import MAX_LIMIT, PageArgs, id_range


class NotificationArgs(PageArgs):
    unread = ma.fields.Boolean(
        load_default=False, metadata={"description": "1 (or true): only the notifications you have not read."}
    )


class NotificationSchema(ma.Schema):
    id = ma.fields.Integer()
    kind = ma.fields.String(metadata={"description": f"One of: {', '.join(KINDS)}."})
    subject = ma.fields.String(metadata={"description": "What it is about: 'proposal:12', 'assignment:7', 'post:40'."})
    params = ma.fields.Dict(metadata={"description": "The facts the text is made of; people named by pseudonym only."})
    text = ma.fields.String(metadata={"description": "What happened, in your language."})
    created_at = ma.fields.DateTime()
    read_at = ma.fields.DateTime(allow_none=True)


class MarkReadSchema(ma.Schema):
    ids = ma.fields.List(
        ma.fields.Integer(strict=True, validate=id_range),
        validate=v.Length(max=MAX_LIMIT),
        metadata={"description": "Your notifications to mark as read (all must be yours, or nothing is marked)."},
    )
    all = ma.fields.Boolean(load_default=False, metadata={"description": "true: mark every notification of yours."})


class MarkedSchema(ma.Schema):
    marked = ma.fields.Integer(metadata={"description": "How many were unread and are now read."})
    unread = ma.fields.Integer(metadata={"description": "How many of yours are still unread."})


NotifyModes = ma.fields.Dict(
    keys=ma.fields.String(validate=v.OneOf(KINDS)),
    values=ma.fields.String(validate=v.OneOf(MODES)),
    metadata={
        "description": "Per kind, how you hear of it by email: immediate, digest (one email a day) or off. "
        "In-app notifications are kept whatever you choose. Kinds: " + ", ".join(KINDS) + "."
    },
)
