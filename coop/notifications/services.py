"""Telling members what concerns them: writing notifications, reading and marking them, choices per kind, email."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime
from typing import cast

import sqlalchemy as sa
from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel import gettext as _
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy.orm import Session

from coop import clock, jobs, mail
from coop.accounts.models import User
from coop.errors import Invalid, NotFound
from coop.extensions import db
from coop.i18n import DEFAULT_LANGUAGE, LANGUAGES
from coop.notifications import texts
from coop.notifications.models import (
    DEFAULT_MODES,
    KINDS,
    MODES,
    Notification,
    NotificationDigest,
    NotificationPreference,
)
from coop.pagination import keyset_page
from coop.types import JSONType, UTCDateTime

# Emails one run of the immediate mailer renders before it hands the rest to another run.
SEND_BATCH = 200
_SEND_DEFERRED = "coop.notifications.send_deferred"
_UNSUBSCRIBE_SALT = "coop.notifications.unsubscribe"


# --- writing ---------------------------------------------------------------------------------


def notify(
    recipients: Iterable[int] | sa.Select, kind: str, subject: str, params: dict | None = None, *, once: bool = False
) -> None:
    """Tell `recipients` (user ids, or a SELECT of user ids) that `kind` happened to `subject`.

    Written in this transaction with one INSERT ... SELECT, however many members it reaches, so
    a rolled-back change tells no one; the emails it calls for go out by job after the commit.
    `params` name people by pseudonym only. With `once`, a member is told of this kind and
    subject at most once, whoever asks again (a reminder found by every periodic run).
    """
    if kind not in DEFAULT_MODES:
        raise KeyError(f"No notification kind is named {kind!r}.")
    if isinstance(recipients, sa.Select):
        source = recipients.subquery()
    else:
        ids = sorted(set(recipients))
        if not ids:
            return
        source = sa.select(User.id).where(User.id.in_(ids)).subquery()
    user_id = list(source.c)[0]
    emailing = mail.enabled()
    if emailing:
        chosen = (
            sa.select(NotificationPreference.mode)
            .where(NotificationPreference.user_id == user_id, NotificationPreference.kind == kind)
            .scalar_subquery()
        )
        email: sa.ColumnElement = sa.func.coalesce(chosen, DEFAULT_MODES[kind])
    else:
        # No SMTP server: nothing will ever be mailed, so nothing is left waiting to be.
        email = sa.literal("off")
    columns = {
        "user_id": user_id,
        "kind": sa.literal(kind),
        "subject": sa.literal(subject),
        "params": sa.literal(params or {}, JSONType),
        "created_at": sa.literal(clock.now(), UTCDateTime()),
        "email": email,
    }
    select = sa.select(*(c.label(name) for name, c in columns.items()))
    if once:
        key = sa.literal(f"{kind}:{subject}:") + sa.cast(user_id, sa.String)
        columns["once_key"] = key
        select = sa.select(*(c.label(name) for name, c in columns.items())).where(
            ~sa.exists().where(Notification.once_key == key)
        )
    db.session.execute(sa.insert(Notification).from_select(list(columns), select))
    if emailing:
        _send_after_commit()


def _send_after_commit() -> None:
    session = db.session()
    if not session.info.get(_SEND_DEFERRED):
        session.info[_SEND_DEFERRED] = True
        jobs.defer("notifications.send")


@sa.event.listens_for(Session, "after_transaction_end")
def _forget(session: Session, transaction) -> None:
    if transaction.parent is None:
        session.info.pop(_SEND_DEFERRED, None)


# --- reading and marking -----------------------------------------------------------------------


def notification_page(user: User, *, unread: bool, limit: int, cursor: str | None):
    """One page of the user's own notifications, newest first; only unread ones with `unread`."""
    stmt = sa.select(Notification).where(Notification.user_id == user.id)
    if unread:
        stmt = stmt.where(Notification.read_at.is_(None))
    return keyset_page(stmt, [Notification.id], limit=limit, cursor=cursor, descending=True)


def unread_count(user: User) -> int:
    """How many of the user's notifications are unread."""
    return db.session.scalar(
        sa.select(sa.func.count())
        .select_from(Notification)
        .where(Notification.user_id == user.id, Notification.read_at.is_(None))
    )


def mark_read(user: User, ids: list[int] | None = None, everything: bool = False) -> dict:
    """Mark some of the user's own notifications (or all of them) as read.

    Ids that are not the user's are refused, all of them together, and nothing is marked: a
    member can never touch, nor learn the state of, another's notifications.
    """
    if not everything and not ids:
        raise Invalid(
            'Name the notifications to mark ({"ids": [...]}) or mark them all ({"all": true}).',
            {"ids": ["Give at least one id, or send all: true."]},
        )
    now = clock.now()
    stmt = sa.update(Notification).where(Notification.user_id == user.id, Notification.read_at.is_(None))
    if not everything:
        wanted = sorted(set(ids or []))
        own = set(
            db.session.scalars(
                sa.select(Notification.id).where(Notification.user_id == user.id, Notification.id.in_(wanted))
            )
        )
        missing = [i for i in wanted if i not in own]
        if missing:
            listed = ", ".join(map(str, missing))
            raise Invalid(
                f"You have no notification with id {listed}; nothing was marked.",
                {"ids": [f"Not one of your notifications: {listed}."]},
            )
        stmt = stmt.where(Notification.id.in_(wanted))
    result = db.session.execute(stmt.values(read_at=now).execution_options(synchronize_session=False))
    marked = cast(sa.CursorResult, result).rowcount
    return {"marked": marked, "unread": unread_count(user)}


# --- choices per kind --------------------------------------------------------------------------


def get_preferences(user: User) -> dict[str, str]:
    """How the user hears of each kind: immediate, digest or off (the defaults where they chose nothing)."""
    chosen = dict(
        db.session.execute(
            sa.select(NotificationPreference.kind, NotificationPreference.mode).where(
                NotificationPreference.user_id == user.id
            )
        ).all()
    )
    return {kind: chosen.get(kind, DEFAULT_MODES[kind]) for kind in KINDS}


# Kinds only one role is ever sent; anyone else is not asked to choose for them.
_ONLY_FOR = {
    "appeal_to_decide": lambda user: user.is_coordinator and user.is_member,
    "work_appealed": lambda user: user.is_requester,
    "work_reviewed": lambda user: not user.is_requester,
}


def kinds_for(user: User) -> list[str]:
    """The kinds of notification `user` can be sent, in the order the preferences list them."""
    return [kind for kind in KINDS if kind not in _ONLY_FOR or _ONLY_FOR[kind](user)]


def set_preferences(user: User, changes: dict[str, str]) -> dict[str, str]:
    """Set the email mode of the kinds named in `changes`; the others keep theirs."""
    errors = {}
    for kind, mode in changes.items():
        if kind not in DEFAULT_MODES:
            errors[kind] = [f"Not a kind of notification; the kinds are: {', '.join(KINDS)}."]
        elif mode not in MODES:
            errors[kind] = [f"Must be one of: {', '.join(MODES)}."]
    if errors:
        raise Invalid(_("Some notification choices are not valid; see 'errors'."), {"notify": errors})
    now = clock.now()
    for kind, mode in changes.items():
        row = db.session.get(NotificationPreference, (user.id, kind))
        if row is None:
            db.session.add(NotificationPreference(user_id=user.id, kind=kind, mode=mode, updated_at=now))
        else:
            row.mode, row.updated_at = mode, now
    db.session.flush()
    return get_preferences(user)


# --- unsubscribing -----------------------------------------------------------------------------


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=_UNSUBSCRIBE_SALT)


def unsubscribe_token(user: User, kinds: Iterable[str]) -> str:
    """A signed token that turns off email for these kinds of this user, with no sign-in (one click)."""
    return _serializer().dumps({"u": user.id, "k": sorted(set(kinds))})


def read_unsubscribe_token(token: str) -> tuple[User, list[str]]:
    """The user and kinds a token names; NotFound for a token this coop did not sign."""
    try:
        data = _serializer().loads(token)
        user = db.session.get(User, int(data["u"]))
        kinds = [k for k in data["k"] if k in DEFAULT_MODES]
    except (BadSignature, KeyError, TypeError, ValueError):
        user, kinds = None, []
    if user is None or not kinds:
        raise NotFound(_("This unsubscribe link is not valid; change your choices on your notifications page."))
    return user, kinds


def unsubscribe(token: str) -> tuple[User, list[str]]:
    """Turn off email for the kinds a signed token names (in-app notifications go on)."""
    user, kinds = read_unsubscribe_token(token)
    set_preferences(user, dict.fromkeys(kinds, "off"))
    return user, kinds


def unsubscribe_url(user: User, kinds: Iterable[str]) -> str:
    return f"{current_app.config['COOP_BASE_URL'].rstrip('/')}/unsubscribe/{unsubscribe_token(user, kinds)}"


# --- email -------------------------------------------------------------------------------------


def _language(user: User) -> str:
    return user.locale if user.locale in LANGUAGES else DEFAULT_LANGUAGE


def _email(user: User, notifications: list[Notification], digest: bool) -> None:
    """Render, in the member's language, and queue one email carrying `notifications`."""
    kinds = sorted({n.kind for n in notifications})
    link = unsubscribe_url(user, kinds)
    base = current_app.config["COOP_BASE_URL"].rstrip("/")
    with force_locale(_language(user)):
        items = [texts.describe(n) for n in notifications]
        per_kind = [(texts.kind_label(kind), unsubscribe_url(user, [kind])) for kind in kinds]
        context = {
            "user": user,
            "items": items,
            "digest": digest,
            "unsubscribe_url": link,
            "per_kind": per_kind,
            "page_url": f"{base}/notifications",
            "preferences_url": f"{base}/notifications/preferences",
        }
        subject = texts.digest_subject(len(items)) if digest else texts.email_subject(items[0])
        text = render_template("notifications/email/message.txt", **context)
        html = render_template("notifications/email/message.html", **context)
    mail.send(
        user.email,
        subject,
        text,
        html,
        {
            # RFC 8058: mail clients offer one-click unsubscribing and POST to this address.
            "List-Unsubscribe": f"<{link}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "X-Coop-Kind": ",".join(kinds),
        },
    )


def _pending(mode: str, *, limit: int | None = None, user_ids: list[int] | None = None) -> list[Notification]:
    stmt = (
        sa.select(Notification)
        .where(Notification.email == mode, Notification.mailed_at.is_(None))
        .order_by(Notification.id)
    )
    if user_ids is not None:
        stmt = stmt.where(Notification.user_id.in_(user_ids))
    if limit is not None:
        stmt = stmt.limit(limit)
    # Two mailers on two hosts each take rows the other has not, so no email goes twice.
    return list(db.session.scalars(stmt.with_for_update(skip_locked=True)))


@jobs.task("notifications.send")
def send_immediate_job(batch: int | None = None) -> None:
    """The immediate mailer as a job: one run after each commit that told someone."""
    send_immediate(batch)


def send_immediate(batch: int | None = None) -> int:
    """Email every notification whose member wants it at once; one email each, in their language."""
    if not mail.enabled():
        return 0
    batch = batch or SEND_BATCH
    due = _pending("immediate", limit=batch)
    users = _users({n.user_id for n in due})
    now = clock.now()
    for n in due:
        _email(users[n.user_id], [n], digest=False)
        n.mailed_at = now
    db.session.flush()
    if len(due) == batch:
        jobs.defer("notifications.send", batch=batch)  # the rest in another run, so no run grows without bound
    return len(due)


def _users(ids: set[int]) -> dict[int, User]:
    if not ids:
        return {}
    return {u.id: u for u in db.session.scalars(sa.select(User).where(User.id.in_(ids)))}


def send_digests(now: datetime | None = None) -> str:
    """Send each member their digest of the day: one email gathering what waited since the last one.

    Safe to run at any time and as often as wished: a member gets at most one digest a day
    (the day is recorded with the notifications it carried, in one transaction), and what
    arrives after today's digest waits for tomorrow's.
    """
    now = now or clock.now()
    if not mail.enabled():
        return "email is off"
    today = now.date()
    waiting = db.session.scalars(
        sa.select(Notification.user_id)
        .where(Notification.email == "digest", Notification.mailed_at.is_(None))
        .distinct()
        .order_by(Notification.user_id)
    ).all()
    if not waiting:
        return "no digest due"
    sent_today = set(
        db.session.scalars(
            sa.select(NotificationDigest.user_id).where(
                NotificationDigest.user_id.in_(waiting), NotificationDigest.sent_on >= today
            )
        )
    )
    users = _users(set(waiting) - sent_today)
    sent = 0
    for user_id in waiting:
        if user_id not in users or not _claim_digest_day(user_id, today):
            continue
        gathered = _pending("digest", user_ids=[user_id])
        if not gathered:
            continue
        _email(users[user_id], gathered, digest=True)
        for n in gathered:
            n.mailed_at = now
        sent += 1
    db.session.flush()
    return f"{sent} digest(s) sent"


def _claim_digest_day(user_id: int, today) -> bool:
    """Record today as the member's digest day; False if a digest already went today."""
    result = db.session.execute(
        sa.update(NotificationDigest)
        .where(NotificationDigest.user_id == user_id, NotificationDigest.sent_on < today)
        .values(sent_on=today)
        .execution_options(synchronize_session=False)
    )
    if cast(sa.CursorResult, result).rowcount:
        return True
    if db.session.get(NotificationDigest, user_id) is not None:
        return False
    try:
        with db.session.begin_nested():
            db.session.add(NotificationDigest(user_id=user_id, sent_on=today))
    except sa.exc.IntegrityError:
        return False  # another run claimed the day a moment ago
    return True


# --- reminders ---------------------------------------------------------------------------------


def remind_closing_votes(now: datetime | None = None) -> str:
    """Remind, once, each eligible member who has not voted on a vote closing within 24 hours."""
    # Governance builds on notifications, so its tables are read here, when the reminder runs.
    from datetime import timedelta

    from coop.governance.models import Ballot, Proposal, ProposalEligibility

    now = now or clock.now()
    closing = db.session.execute(
        sa.select(Proposal.id, Proposal.title, Proposal.closes_at).where(
            Proposal.status == "open", Proposal.closes_at > now, Proposal.closes_at <= now + timedelta(hours=24)
        )
    ).all()
    for proposal_id, title, closes_at in closing:
        voted = sa.select(Ballot.id).where(Ballot.proposal_id == proposal_id, Ballot.member_id == User.id)
        not_voted = (
            sa.select(User.id)
            .join(ProposalEligibility, ProposalEligibility.member_id == User.id)
            .where(ProposalEligibility.proposal_id == proposal_id, ~sa.exists(voted))
        )
        notify(
            not_voted,
            "vote_closing",
            f"proposal:{proposal_id}",
            {"proposal_id": proposal_id, "title": title, "closes_at": closes_at.isoformat()},
            once=True,
        )
    return f"{len(closing)} closing vote(s) checked"


# --- mentions ----------------------------------------------------------------------------------

_MENTION = re.compile(r"(?<![\w@])@([\w][\w .\-']{0,63})")
_MAX_MENTION_WORDS = 4


def mentioned_names(text: str) -> set[str]:
    """Every name an `@` in `text` could mean, lower-cased: each run of 1 to 4 words after it."""
    names = set()
    for match in _MENTION.finditer(text or ""):
        words = match.group(1).split(" ")
        for n in range(1, min(len(words), _MAX_MENTION_WORDS) + 1):
            candidate = " ".join(words[:n]).rstrip(".-' ")
            if len(candidate) >= 2:
                names.add(candidate.lower())
    return names


def mentioned_users(text: str) -> list[User]:
    """The existing users whose pseudonym is @mentioned in `text`, matched case-insensitively."""
    names = mentioned_names(text)
    if not names:
        return []
    return list(db.session.scalars(sa.select(User).where(sa.func.lower(User.display_name).in_(sorted(names)))))
