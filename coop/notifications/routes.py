"""Notification routes: your notifications, marking them read, and your preferences (notifications and work)."""

import marshmallow as ma

from coop.accounts.permissions import ROLE_MESSAGES, authenticated_user, require
from coop.errors import Forbidden
from coop.marketplace.models import CONTENT_WARNINGS
from coop.notifications import services
from coop.notifications.schemas import (
    MarkedSchema,
    MarkReadSchema,
    NotificationArgs,
    NotificationSchema,
    NotifyModes,
)
from coop.notifications.texts import text
from coop.pagination import page_body, page_schema
from coop.parsing import Blueprint

blp = Blueprint("notifications", __name__, url_prefix="/api/v1", description="Notifications and preferences")


def _view(n) -> dict:
    return {
        "id": n.id,
        "kind": n.kind,
        "subject": n.subject,
        "params": n.params,
        "text": text(n.kind, n.params or {}),
        "created_at": n.created_at,
        "read_at": n.read_at,
    }


@blp.route("/me/notifications", methods=["GET"])
@blp.arguments(NotificationArgs, location="query")
@blp.response(200, page_schema(NotificationSchema, "NotificationPage"))
@require()
def my_notifications(args):
    """Your notifications, newest first (`?unread=1`: only those you have not read)."""
    items, next_cursor = services.notification_page(
        authenticated_user(), unread=args["unread"], limit=args["limit"], cursor=args["cursor"]
    )
    return page_body(items, next_cursor, _view)


@blp.route("/me/notifications/read", methods=["POST"])
@blp.arguments(MarkReadSchema)
@blp.response(200, MarkedSchema)
@require()
def mark_read(data):
    """Mark notifications as read: `{"ids": [...]}` (all yours, or nothing is marked: 422) or `{"all": true}`."""
    return services.mark_read(authenticated_user(), data.get("ids"), everything=data["all"])


# --- preferences: how you hear of things, and (workers) the work you accept ------------------


class PreferencesSchema(ma.Schema):
    notify = NotifyModes
    content_opt_in = ma.fields.List(
        ma.fields.String(validate=ma.validate.OneOf(CONTENT_WARNINGS)),
        metadata={
            "description": f"Workers: the content warnings you accept work under: any of {', '.join(CONTENT_WARNINGS)}."
        },
    )


def _preferences(user) -> dict:
    # The marketplace keeps a worker's content choices; it is asked through its services, as domains talk.
    from coop.marketplace import services as marketplace

    body = {"notify": services.get_preferences(user)}
    if user.kind == "worker":
        body.update(marketplace.get_preferences(user))
    return body


@blp.route("/me/preferences", methods=["GET"])
@blp.response(200, PreferencesSchema)
@require()
def preferences():
    """Your preferences: how you hear of each kind of notification, and (workers) the content warnings you accept."""
    return _preferences(authenticated_user())


@blp.route("/me/preferences", methods=["PATCH"])
@blp.arguments(PreferencesSchema)
@blp.response(200, PreferencesSchema)
@require()
def update_preferences(data):
    """Change your preferences: `{"notify": {"<kind>": "immediate|digest|off"}}` and/or `{"content_opt_in": [...]}`."""
    from coop.marketplace import services as marketplace

    user = authenticated_user()
    if "content_opt_in" in data:
        if user.kind != "worker":
            raise Forbidden(ROLE_MESSAGES["worker"])
        marketplace.set_preferences(user, data["content_opt_in"])
    if "notify" in data:
        services.set_preferences(user, data["notify"])
    return _preferences(user)
