"""What each kind of notification says, in the reader's language, from the params stored with it."""

from __future__ import annotations

from datetime import datetime

from flask_babel import format_datetime, format_decimal
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from coop.i18n import format_money

KIND_LABELS = {
    "vote_opened": _l("A vote opens"),
    "vote_closing": _l("A vote closes within 24 hours and you have not voted"),
    "vote_result": _l("The result of a vote you could vote in"),
    "proposal_reviewed": _l("Your proposal is reviewed"),
    "proposal_amended": _l("An amendment to your proposal, or to one you co-signed"),
    "proposal_to_ballot": _l("Your proposal goes to ballot by petition"),
    "outcome_review_due": _l("An outcome you recorded is due for review"),
    "work_reviewed": _l("Your work is approved or rejected"),
    "appeal_decided": _l("Your appeal is decided"),
    "work_appealed": _l("A worker appeals your rejection of their work"),
    "appeal_to_decide": _l("An appeal waits for a coordinator's decision (coordinators)"),
    "message": _l("A message about one of your assignments"),
    "forum_reply": _l("A reply to your post"),
    "forum_mention": _l("Someone mentions you (@pseudonym)"),
    "post_moderated": _l("Your post is moderated"),
    "payment_confirmed": _l("A payment of yours is confirmed"),
}
MODE_LABELS = {"immediate": _l("Email at once"), "digest": _l("Daily digest"), "off": _l("No email")}


def kind_label(kind: str) -> str:
    return str(KIND_LABELS.get(kind, kind))


def _when(value: str | None) -> str:
    if not value:
        return ""
    return format_datetime(datetime.fromisoformat(value), "medium")


def _status(status: str) -> str:
    return {
        "passed": _("passed"),
        "enacted": _("passed and enacted"),
        "rejected": _("rejected"),
        "no_quorum": _("without quorum"),
    }.get(status, status)


def _moderation(action: str) -> str:
    return {
        "hide": _("hidden"),
        "redact": _("redacted"),
        "restore": _("restored"),
        "flag_hide": _("hidden pending a coordinator's review, after members flagged it"),
    }.get(action, action)


def text(kind: str, p: dict) -> str:
    """The sentence a notification says, in the current language."""
    title = p.get("title", "")
    if kind == "vote_opened":
        return _('A vote is open on "%(title)s" until %(closes)s.', title=title, closes=_when(p.get("closes_at")))
    if kind == "vote_closing":
        return _(
            'The vote on "%(title)s" closes on %(closes)s and you have not voted yet.',
            title=title,
            closes=_when(p.get("closes_at")),
        )
    if kind == "vote_result":
        return _('The vote on "%(title)s" is closed: %(status)s.', title=title, status=_status(p.get("status", "")))
    if kind == "proposal_reviewed":
        if p.get("action") == "accept":
            return _(
                'Your proposal "%(title)s" was accepted by %(by)s and goes to ballot.', title=title, by=p.get("by")
            )
        return _(
            'Your proposal "%(title)s" was sent back by %(by)s: %(reason)s',
            title=title,
            by=p.get("by"),
            reason=p.get("reason") or "",
        )
    if kind == "proposal_amended":
        if p.get("event") == "accepted":
            return _(
                'The proposal "%(title)s" that you co-signed was amended (version %(version)s); '
                "your co-signature still stands.",
                title=title,
                version=p.get("version"),
            )
        return _(
            '%(by)s proposes an amendment to your proposal "%(title)s": %(reason)s',
            title=title,
            by=p.get("by"),
            reason=p.get("reason") or "",
        )
    if kind == "proposal_to_ballot":
        return _(
            'Your proposal "%(title)s" reached %(count)s co-signatures and goes to ballot.',
            title=title,
            count=format_decimal(p.get("cosigners", 0)),
        )
    if kind == "outcome_review_due":
        return _('The outcome recorded for "%(title)s" is due for review today.', title=title)
    if kind == "work_reviewed":
        if p.get("decision") == "approve" and p.get("auto"):
            return _(
                'Your work on "%(batch)s" was approved automatically: the requester did not review it in time.',
                batch=p.get("batch"),
            )
        if p.get("decision") == "approve":
            return _('Your work on "%(batch)s" was approved.', batch=p.get("batch"))
        return _(
            'Your work on "%(batch)s" was rejected: %(reason)s', batch=p.get("batch"), reason=p.get("reason") or ""
        )
    if kind == "appeal_decided":
        upheld, reason = p.get("decision") == "uphold", p.get("reason") or ""
        if p.get("about") == "post":
            if upheld:
                return _("Your appeal about your post was decided: the moderation stands. %(reason)s", reason=reason)
            return _("Your appeal about your post was decided: the moderation is overturned. %(reason)s", reason=reason)
        if upheld:
            return _(
                'Your appeal on your work for "%(batch)s" was decided: the rejection stands. %(reason)s',
                batch=p.get("batch"),
                reason=reason,
            )
        return _(
            'Your appeal on your work for "%(batch)s" was decided: the rejection is overturned and you are paid. '
            "%(reason)s",
            batch=p.get("batch"),
            reason=reason,
        )
    if kind == "work_appealed":
        return _(
            '%(by)s appealed your rejection of their work on "%(batch)s" (assignment %(assignment)s); '
            "a coordinator decides: %(reason)s",
            by=p.get("by"),
            batch=p.get("batch"),
            assignment=p.get("assignment_id"),
            reason=p.get("reason") or "",
        )
    if kind == "appeal_to_decide":
        return _(
            '%(by)s appealed the moderation of their post in "%(thread)s" (appeal %(appeal)s); '
            "a coordinator who did not act on the post decides.",
            by=p.get("by"),
            thread=p.get("thread"),
            appeal=p.get("appeal_id"),
        )
    if kind == "message":
        return _(
            '%(by)s wrote about assignment %(assignment)s ("%(batch)s"): %(excerpt)s',
            by=p.get("by"),
            assignment=p.get("assignment_id"),
            batch=p.get("batch"),
            excerpt=p.get("excerpt", ""),
        )
    if kind == "forum_reply":
        return _('%(by)s replied to you in "%(thread)s".', by=p.get("by"), thread=p.get("thread"))
    if kind == "forum_mention":
        return _('%(by)s mentioned you in "%(thread)s".', by=p.get("by"), thread=p.get("thread"))
    if kind == "post_moderated":
        if p.get("action") == "restore":
            return _(
                'Your post in "%(thread)s" was restored: %(reason)s',
                thread=p.get("thread"),
                reason=p.get("reason") or "",
            )
        return _(
            'Your post in "%(thread)s" was %(action)s under the rule "%(rule)s": %(reason)s',
            thread=p.get("thread"),
            action=_moderation(p.get("action", "")),
            rule=p.get("rule"),
            reason=p.get("reason") or "",
        )
    if kind == "payment_confirmed":
        amount = format_money(int(p.get("amount_cents", 0)))
        if p.get("what") == "share":
            return _("Your membership share of %(amount)s arrived: you are a member.", amount=amount)
        if p.get("what") == "deposit":
            return _("Your deposit of %(amount)s arrived and is in your available funds.", amount=amount)
        return _("Your payout of %(amount)s was sent.", amount=amount)
    return kind


def describe(notification) -> dict:
    """A notification as readers see it: its kind's label, its sentence and when it happened."""
    return {
        "id": notification.id,
        "kind": notification.kind,
        "label": kind_label(notification.kind),
        "text": text(notification.kind, notification.params or {}),
        "at": format_datetime(notification.created_at, "medium"),
        "read": notification.read_at is not None,
    }


def email_subject(item: dict) -> str:
    sentence = item["text"]
    return sentence if len(sentence) <= 110 else sentence[:107].rstrip() + "..."


def digest_subject(count: int) -> str:
    return _("Coop: your daily digest (%(count)s notifications)", count=count)
