"""Moderation in the open: flags, hiding and redacting under a rule, the log, appeals."""

import re
from typing import cast

import sqlalchemy as sa
from flask_babel import gettext as _

from coop import audit, clock
from coop.accounts.models import User
from coop.errors import Conflict, Forbidden, Invalid
from coop.extensions import db
from coop.forum.models import Flag, ForumAppeal, Moderation, Post, PostVersion
from coop.forum.services.access import check_author, checked_text, lock_row, readable_post, require_rule
from coop.governance.services import create_proposal, current_terms
from coop.governance.terms import FOUNDING_TERMS
from coop.notifications.services import notify
from coop.pagination import keyset_page


def open_flag_counts(post_ids: list[int]) -> dict[int, int]:
    """Open flags per post, for coordinators' eyes."""
    if not post_ids:
        return {}
    rows = db.session.execute(
        sa.select(Flag.post_id, sa.func.count())
        .where(Flag.post_id.in_(post_ids), Flag.resolved_at.is_(None))
        .group_by(Flag.post_id)
    )
    return dict(rows.all())


def flag_post(user: User, post: Post, rule: str, note: str | None) -> Flag:
    """Report a post as breaking a rule; one open flag per reader and post."""
    # The post row is locked, so two flags by one reader cannot both pass the check below.
    post = readable_post(user, lock_row(post))
    rule_version = require_rule(rule)
    open_flag = db.session.scalar(
        sa.select(Flag.id).where(Flag.post_id == post.id, Flag.flagger_id == user.id, Flag.resolved_at.is_(None))
    )
    if open_flag is not None:
        raise Conflict(_("You have already flagged this post; coordinators will see your flag until they act on it."))
    flag = Flag(
        post_id=post.id, flagger_id=user.id, rule=rule_version.slug, note=(note or "").strip(), created_at=clock.now()
    )
    db.session.add(flag)
    db.session.flush()
    if not post.hidden:
        _hide_if_enough_members_flagged(post)
    return flag


def flags_to_hide() -> int:
    """Distinct members whose open flags hide a post pending review, under the terms in force."""
    # Terms adopted before the parameter existed carry the founding value.
    return current_terms().params.get("post_flags_to_hide", FOUNDING_TERMS["post_flags_to_hide"])


def pending_review(post: Post) -> bool:
    """Whether members' flags hid this post and no coordinator has reviewed it yet."""
    return post.hidden and post.hidden_by_id is None


def _hide_if_enough_members_flagged(post: Post) -> None:
    # Only members' flags count, and never the author's own: requesters read public boards too.
    rows = db.session.execute(
        sa.select(Flag.flagger_id, Flag.rule)
        .join(User, User.id == Flag.flagger_id)
        .where(
            Flag.post_id == post.id,
            Flag.resolved_at.is_(None),
            User.is_member.is_(True),
            Flag.flagger_id != post.author_id,
        )
        .order_by(Flag.id)
    ).all()
    members = {flagger for flagger, _ in rows}
    if len(members) < flags_to_hide():
        return
    cited: dict[str, int] = {}
    for _flagger, slug in rows:
        cited[slug] = cited.get(slug, 0) + 1
    # The rule most flags cite; on a tie, the one cited first.
    rule = require_rule(max(cited, key=lambda slug: cited[slug]))
    now = clock.now()
    reason = f"Hidden pending a coordinator's review: {len(members)} members flagged it."
    entry = Moderation(
        post_id=post.id,
        action="flag_hide",
        rule=rule.slug,
        rule_version=rule.version,
        reason=reason,
        coordinator=None,
        at=now,
    )
    db.session.add(entry)
    post.hidden_at, post.hidden_by, post.hidden_rule = now, None, rule.slug
    post.hidden_rule_version, post.hidden_reason = rule.version, reason
    db.session.flush()
    # The author is told privately; the public entry stays as the record, addressed by pseudonym.
    _tell_author(post, "flag_hide", rule.slug, reason)
    audit.append(
        "forum.post.hidden_by_flags",
        f"post:{post.id}",
        None,
        {
            "post_id": post.id,
            "moderation_id": entry.id,
            "rule": rule.slug,
            "rule_version": rule.version,
            "members_flagging": len(members),
            "author": post.author.display_name,
            "notice_to_author": (
                f"{post.author.display_name}: your post {post.id} is hidden pending a coordinator's review "
                f"after {len(members)} members flagged it under '{rule.slug}'. Members still read it behind "
                "this notice; a coordinator will confirm the hide citing a rule, or restore it."
            ),
        },
    )


def flag_queue(*, limit: int, cursor: str | None) -> tuple[list[Post], str | None]:
    """Posts with open flags, newest post first."""
    flagged = sa.select(Flag.post_id).where(Flag.resolved_at.is_(None))
    return keyset_page(
        sa.select(Post).where(Post.id.in_(flagged)), [Post.id], limit=limit, cursor=cursor, descending=True
    )


def open_flags(posts: list[Post]) -> dict[int, list[Flag]]:
    """The open flags on each post, oldest first."""
    flags: dict[int, list[Flag]] = {p.id: [] for p in posts}
    for f in db.session.scalars(
        sa.select(Flag).where(Flag.post_id.in_(list(flags)), Flag.resolved_at.is_(None)).order_by(Flag.id)
    ):
        flags[f.post_id].append(f)
    return flags


def _resolve_flags(post: Post, resolution: str, now) -> int:
    result = db.session.execute(
        sa.update(Flag)
        .where(Flag.post_id == post.id, Flag.resolved_at.is_(None))
        .values(resolved_at=now, resolution=resolution)
        .execution_options(synchronize_session=False)
    )
    return cast(sa.CursorResult, result).rowcount


def dismiss_flags(coordinator: User, post: Post, reason: str) -> Post:
    """Close a post's open flags without hiding it."""
    post = readable_post(coordinator, lock_row(post))
    reason = checked_text(reason, "reason", _("The reason for dismissing flags"))
    if pending_review(post):
        raise Conflict(
            _(
                "Members' flags hid this post pending your review: restore it, or confirm the hide citing a "
                "rule, with POST /api/v1/forum/posts/{id}/moderation."
            )
        )
    count = _resolve_flags(post, "dismissed", clock.now())
    if count == 0:
        raise Conflict(_("This post has no open flags to dismiss."))
    db.session.flush()
    audit.append(
        "forum.flags.dismissed", f"post:{post.id}", coordinator, {"post_id": post.id, "count": count, "reason": reason}
    )
    return post


MODERATION_EVENTS = {"hide": "forum.post.hidden", "redact": "forum.post.redacted", "restore": "forum.post.restored"}


MODERATED = {"hide": "hidden", "redact": "redacted"}


# What personal data most often looks like in a post: an email address, or a long number
# (telephone, bank account, street or identity number, birth date) however it is spaced.
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")


_NUMBER = re.compile(r"\d(?:[\s./-]?\d){5,}")


def _numbers(text: str) -> list[str]:
    return [re.sub(r"\D", "", m) for m in _NUMBER.findall(text)]


def quotes_personal_data(reason: str, texts: list[str]) -> bool:
    """Whether `reason` repeats an email address or a long number found in any of `texts`."""
    reason_lower, reason_numbers = reason.lower(), _numbers(reason)
    for text in texts:
        if any(email.lower() in reason_lower for email in _EMAIL.findall(text)):
            return True
        # Either way round: a reason may quote part of a long number, or a number with more around it.
        if any(number in quoted or quoted in number for number in _numbers(text) for quoted in reason_numbers):
            return True
    return False


def _check_reason_keeps_the_secret(post: Post, reason: str) -> None:
    # The reason is published in the moderation and audit logs, which nothing can take back:
    # a reason repeating the data would undo the redaction for good.
    texts = [post.body or ""] + list(
        db.session.scalars(
            sa.select(PostVersion.body).where(PostVersion.post_id == post.id, PostVersion.body.is_not(None))
        )
    )
    if quotes_personal_data(reason, texts):
        raise Invalid(
            _(
                "The reason is published in the moderation log; name the kind of personal data (an address, a "
                "telephone number) without repeating it."
            ),
            {"reason": [_("Repeats an email address or number from the post.")]},
        )


def _record(coordinator: User, post: Post, action: str, rule, reason: str, now, appeal_id=None) -> Moderation:
    # The log entry and the audit entry name the post, the rule and the reason, never the post's text.
    entry = Moderation(
        post_id=post.id,
        action=action,
        rule=rule.slug,
        rule_version=rule.version,
        reason=reason,
        coordinator=coordinator,
        at=now,
        appeal_id=appeal_id,
    )
    db.session.add(entry)
    if action == "restore":
        post.hidden_at = post.hidden_by = post.hidden_rule = post.hidden_rule_version = post.hidden_reason = None
        post.redacted = False
    else:
        post.hidden_at, post.hidden_by, post.hidden_rule = now, coordinator, rule.slug
        post.hidden_rule_version, post.hidden_reason = rule.version, reason
        post.redacted = action == "redact"
    _resolve_flags(post, action, now)
    db.session.flush()
    audit.append(
        MODERATION_EVENTS[action],
        f"post:{post.id}",
        coordinator,
        {
            "post_id": post.id,
            "moderation_id": entry.id,
            "rule": rule.slug,
            "rule_version": rule.version,
            "reason": reason,
            "appeal_id": appeal_id,
        },
    )
    if appeal_id is None:  # a restore that decides an appeal is told as the appeal's decision
        _tell_author(post, action, rule.slug, reason)
    return entry


def _tell_author(post: Post, action: str, rule: str, reason: str) -> None:
    notify(
        [post.author_id],
        "post_moderated",
        f"post:{post.id}",
        {
            "post_id": post.id,
            "thread_id": post.thread_id,
            "thread": post.thread.title,
            "action": action,
            "rule": rule,
            "reason": reason,
        },
    )


def _close_open_appeals(coordinator: User, post: Post, why: str, now) -> None:
    for appeal in _open_appeals(post):
        appeal.status, appeal.decided_by, appeal.decided_at = "closed", coordinator, now
        appeal.decision_reason = why


def moderate(coordinator: User, post: Post, action: str, rule_slug: str, reason: str) -> Post:
    """Hide, redact or restore a post, citing a rule in force and a reason, in the public log.

    A hidden post is read by members behind its notice; a redacted one, which exposed
    someone's personal data, only by its author and the coordinators. A hidden post may be
    redacted (the stricter notice replaces the hide); a redacted post is not hidden, since
    that would let every member read it again: restore it first.
    """
    post = readable_post(coordinator, lock_row(post))
    rule = require_rule(rule_slug)
    reason = checked_text(reason, "reason", _("The reason for a moderation action"))
    if post.author_id == coordinator.id:
        raise Forbidden(_("A coordinator's own post can be hidden, redacted or restored only by another coordinator."))
    if action == "hide" and post.redacted:
        raise Conflict(
            _(
                "This post is redacted: its text is already kept from everyone but its author and the "
                "coordinators, and hiding it would let every member read it again. Restore it first if hiding is "
                "enough."
            )
        )
    # A hide by members' flags waits for this: hiding it again confirms it under the coordinator's name.
    if action == "hide" and post.hidden and not pending_review(post):
        raise Conflict(_("This post is already hidden; restore it first to hide it for another reason."))
    if action == "redact" and post.redacted:
        raise Conflict(
            _("This post is already redacted; its text is kept from everyone but its author and the coordinators.")
        )
    if action == "restore" and not post.hidden:
        raise Conflict(_("This post is neither hidden nor redacted; there is nothing to restore."))
    if action == "redact":
        _check_reason_keeps_the_secret(post, reason)
    now = clock.now()
    if action == "restore":
        # A restore answers any open appeal: the author got what they asked for.
        _close_open_appeals(coordinator, post, f"The post was restored: {reason}", now)
    elif action == "redact" and post.hidden:
        # The appeal was against the hide, which the redaction replaces; the author may appeal the redaction.
        _close_open_appeals(coordinator, post, f"The post was redacted instead, which may be appealed: {reason}", now)
    _record(coordinator, post, action, rule, reason, now)
    return post


def moderation_log(*, limit: int, cursor: str | None, post_id: int | None = None):
    """Every hide, redaction and restore, newest first; entries never carry the post's text."""
    stmt = sa.select(Moderation)
    if post_id is not None:
        stmt = stmt.where(Moderation.post_id == post_id)
    return keyset_page(stmt, [Moderation.id], limit=limit, cursor=cursor, descending=True)


def _open_appeals(post: Post) -> list[ForumAppeal]:
    # Locked, so an appeal being escalated at this moment is seen as escalated, not reopened and closed.
    return list(
        db.session.scalars(
            sa.select(ForumAppeal)
            .where(ForumAppeal.post_id == post.id, ForumAppeal.status == "open")
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    )


def _moderation_in_force(post: Post) -> Moderation:
    return db.session.scalar(
        sa.select(Moderation)
        .where(Moderation.post_id == post.id, Moderation.action.in_(tuple(MODERATED)))
        .order_by(Moderation.id.desc())
        .limit(1)
    )


def open_appeal(user: User, post: Post, reason: str) -> ForumAppeal:
    """The author of a hidden or redacted post asks for it to be restored."""
    post = lock_row(post)
    check_author(user, post, _("appeal the moderation of"))
    if not post.hidden:
        raise Conflict(_("This post is neither hidden nor redacted; only a moderated post can be appealed."))
    if pending_review(post):
        raise Conflict(
            _(
                "Members' flags hid this post pending a coordinator's review, which is already coming; if a "
                "coordinator confirms the hide, you may appeal that decision."
            )
        )
    reason = checked_text(reason, "reason", _("The reason for an appeal"))
    hide = _moderation_in_force(post)
    existing = db.session.scalar(
        sa.select(ForumAppeal.id).where(
            ForumAppeal.moderation_id == hide.id, ForumAppeal.status.in_(("open", "upheld", "escalated"))
        )
    )
    if existing is not None:
        if hide.action == "redact":
            message = _(
                "This redaction is already appealed (appeal %(existing)s); follow that appeal, or escalate it to "
                "the members with POST /api/v1/forum/appeals/{id}/escalate.",
                existing=existing,
            )
        else:
            message = _(
                "This hiding is already appealed (appeal %(existing)s); follow that appeal, or escalate it to "
                "the members with POST /api/v1/forum/appeals/{id}/escalate.",
                existing=existing,
            )
        raise Conflict(message)
    appeal = ForumAppeal(post=post, moderation=hide, author=user, reason=reason, status="open", created_at=clock.now())
    db.session.add(appeal)
    db.session.flush()
    audit.append(
        "forum.appeal.opened",
        f"post:{post.id}",
        user,
        {"appeal_id": appeal.id, "post_id": post.id, "moderation_id": hide.id},
    )
    _tell_coordinators(appeal, post, hide)
    return appeal


def _tell_coordinators(appeal: ForumAppeal, post: Post, hide: Moderation) -> None:
    """Tell the coordinators who may decide the appeal: neither the one who acted nor the author."""
    deciders = sa.select(User.id).where(
        User.is_coordinator.is_(True),
        User.is_member.is_(True),
        User.id.not_in([i for i in (hide.coordinator_id, appeal.author_id) if i is not None]),
    )
    notify(
        deciders,
        "appeal_to_decide",
        f"post:{post.id}",
        {
            "appeal_id": appeal.id,
            "post_id": post.id,
            "thread_id": post.thread_id,
            "thread": post.thread.title,
            "by": appeal.author.display_name,
        },
    )


def appeal_page(*, status: str | None, limit: int, cursor: str | None):
    """Forum appeals, oldest first, optionally of one status."""
    stmt = sa.select(ForumAppeal)
    if status:
        stmt = stmt.where(ForumAppeal.status == status)
    return keyset_page(stmt, [ForumAppeal.id], limit=limit, cursor=cursor)


def decide_appeal(coordinator: User, appeal: ForumAppeal, decision: str, reason: str) -> ForumAppeal:
    """Uphold or overturn an appeal; an overturn restores the post, for everyone, in the public log."""
    # Post first, then appeal: the order every writer of both takes, so none waits on another in a circle.
    post = lock_row(appeal.post)
    appeal = lock_row(appeal)
    if coordinator.id == appeal.moderation.coordinator_id:
        if appeal.moderation.action == "redact":
            raise Forbidden(
                _(
                    "The coordinator who redacted this post cannot decide the appeal against it; another coordinator must."
                )
            )
        raise Forbidden(
            _("The coordinator who hid this post cannot decide the appeal against it; another coordinator must.")
        )
    if coordinator.id == appeal.author_id:
        raise Forbidden(_("You cannot decide an appeal about your own post; another coordinator must."))
    if appeal.status != "open":
        raise Conflict(
            _("This appeal is already %(status)s; only an open appeal can be decided.", status=appeal.status)
        )
    reason = checked_text(reason, "reason", _("The reason for an appeal decision"))
    now = clock.now()
    appeal.decided_by, appeal.decided_at, appeal.decision_reason = coordinator, now, reason
    if decision == "overturn":
        appeal.status = "overturned"
        hide = appeal.moderation
        rule = require_rule(hide.rule)
        _record(
            coordinator, post, "restore", rule, f"Appeal {appeal.id} overturned: {reason}", now, appeal_id=appeal.id
        )
    else:
        appeal.status = "upheld"
        db.session.flush()
        audit.append(
            "forum.appeal.upheld",
            f"post:{appeal.post_id}",
            coordinator,
            {"appeal_id": appeal.id, "post_id": appeal.post_id, "reason": reason},
        )
    notify(
        [appeal.author_id],
        "appeal_decided",
        f"post:{appeal.post_id}",
        {
            "about": "post",
            "appeal_id": appeal.id,
            "post_id": appeal.post_id,
            "decision": decision,
            "reason": reason,
        },
    )
    return appeal


def escalate_appeal(user: User, appeal: ForumAppeal) -> ForumAppeal:
    """Put an appeal to the members as a `general` proposal linking back to the post."""
    appeal = lock_row(appeal)
    if appeal.author_id != user.id:
        raise Forbidden(_("Only the author of the appeal can put it to the members."))
    if not user.is_member:
        raise Forbidden(_("Only members make proposals; a coordinator decides this appeal instead."))
    if appeal.status not in ("open", "upheld"):
        raise Conflict(
            _(
                "This appeal is already %(status)s; only an open or upheld appeal can go to a vote.",
                status=appeal.status,
            )
        )
    post_url = f"/api/v1/forum/posts/{appeal.post_id}"
    hide = appeal.moderation
    # Members vote on a redacted post without reading it: they are told why, never the text.
    redacted = (
        "Its text exposed someone's personal data, so only its author and the coordinators can read it.\n\n"
        if hide.action == "redact"
        else ""
    )
    proposal = create_proposal(
        user,
        {
            "title": f"Appeal of moderation on post {appeal.post_id}",
            "body": (
                f"Appeal of moderation on post {appeal.post_id} ({post_url}).\n\n"
                f"The post was {MODERATED[hide.action]} by {hide.coordinator.display_name} citing rule '{hide.rule}' "
                f"(version {hide.rule_version}): {hide.reason}\n\n"
                f"{redacted}"
                f"The author appeals: {appeal.reason}\n\n"
                "A yes vote asks the coordinators to restore the post."
            ),
            "kind": "general",
            "method": "yes_no",
        },
    )
    appeal.status, appeal.proposal_id, appeal.escalated_at = "escalated", proposal.id, clock.now()
    db.session.flush()
    audit.append(
        "forum.appeal.escalated",
        f"post:{appeal.post_id}",
        user,
        {"appeal_id": appeal.id, "post_id": appeal.post_id, "proposal_id": proposal.id},
    )
    return appeal
