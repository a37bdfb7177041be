"""Notification pages: your notifications with mark-as-read forms, your email choices, and one-click unsubscribing."""

from flask import Blueprint, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from coop.notifications import services
from coop.notifications.models import MODES
from coop.notifications.texts import KIND_LABELS, MODE_LABELS, describe
from coop.pages import attempt, done, pages_blueprint, render, signed_in

bp = pages_blueprint("notifications", __name__)
# Unsubscribing has no CSRF token to check: mail clients POST to the link itself (RFC 8058), and
# the signed token in the address is the proof. It is registered beside the pages' blueprint.
unsubscribe_bp = Blueprint("notifications_unsubscribe", __name__)
bp.record_once(lambda state: state.app.register_blueprint(unsubscribe_bp))

PAGE_SIZE = 30


def nav(user) -> list[tuple[str, str]]:
    if not user.is_authenticated:
        return []
    unread = services.unread_count(user)
    if unread:
        return [("notifications_pages.index", _l("Notifications (%(count)s unread)", count=unread))]
    return [("notifications_pages.index", _l("Notifications"))]


@bp.route("/notifications")
@signed_in
def index():
    unread_only = request.args.get("unread") == "1"
    items, next_cursor = services.notification_page(
        current_user, unread=unread_only, limit=PAGE_SIZE, cursor=request.args.get("cursor") or None
    )
    return render(
        "notifications/index.html",
        items=[describe(n) for n in items],
        next_cursor=next_cursor,
        unread_only=unread_only,
    )


@bp.route("/notifications/read", methods=["POST"])
@signed_in
def mark_read():
    everything = request.form.get("all") == "1"
    try:
        ids = [int(i) for i in request.form.getlist("id")]
    except ValueError:
        ids = []
    ok, result = attempt(None, lambda: services.mark_read(current_user, ids, everything=everything))
    if not ok:
        return index()[0], 422
    return done("notifications_pages.index", _("%(count)s marked as read.", count=result["marked"]))


@bp.route("/notifications/preferences", methods=["GET", "POST"])
@signed_in
def preferences():
    if request.method == "POST":
        chosen = {kind: request.form.get(kind, "") for kind in services.kinds_for(current_user) if kind in request.form}
        ok, _result = attempt(None, lambda: services.set_preferences(current_user, chosen))
        if ok:
            return done("notifications_pages.preferences", _("Your choices are saved."))
        return _preferences_page(422)
    return _preferences_page(200)


def _preferences_page(status: int):
    current = services.get_preferences(current_user)
    rows = [(kind, KIND_LABELS[kind], current[kind]) for kind in services.kinds_for(current_user)]
    return render("notifications/preferences.html", status, rows=rows, modes=[(m, MODE_LABELS[m]) for m in MODES])


@unsubscribe_bp.route("/unsubscribe/<token>", methods=["GET"])
def unsubscribe(token):
    """Says what the link turns off and asks to confirm: a mail scanner following links changes nothing."""
    user, kinds = services.read_unsubscribe_token(token)
    return render("notifications/unsubscribe.html", token=token, labels=[KIND_LABELS[k] for k in kinds], done=False)


@unsubscribe_bp.route("/unsubscribe/<token>", methods=["POST"])
def unsubscribe_confirm(token):
    user, kinds = services.unsubscribe(token)
    return render("notifications/unsubscribe.html", token=token, labels=[KIND_LABELS[k] for k in kinds], done=True)
