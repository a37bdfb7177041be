"""Forum services: boards, threads, posts, edits and retraction, flags, moderation in the open, appeals."""

import re
from typing import cast

import sqlalchemy as sa

from coop import audit, clock
from coop.accounts.models import User
from coop.errors import Conflict, Forbidden, Invalid, Unauthorized
from coop.extensions import db
from coop.forum.markdown import render
from coop.forum.models import Board, Flag, ForumAppeal, Moderation, Post, PostVersion, Thread
from coop.governance.services import create_proposal, current_rule
from coop.pagination import keyset_page

DEFAULT_BOARDS = (
    ("members", "Members' hall", "members"),
    ("public", "Public square", "public"),
)

MEMBERS_ONLY = "This board is for members only; its threads and posts are readable by members alone."
JOIN_TO_POST = (
    "Workers who are not yet members may read public boards but not post; "
    "become a member with POST /api/v1/membership to join the conversation."
)


def ensure_default_boards() -> list[str]:
    """Create the founding boards where missing; returns the slugs created."""
    created = []
    for slug, title, visibility in DEFAULT_BOARDS:
        if db.session.scalar(sa.select(Board.id).where(Board.slug == slug)) is None:
            db.session.add(Board(slug=slug, title=title, visibility=visibility))
            created.append(slug)
    db.session.flush()
    return created


# --- who may read and write ------------------------------------------------------------


def can_read(user: User, board: Board) -> bool:
    """Public boards are read by everyone, signed in or not; members boards by members only."""
    return board.visibility == "public" or user.is_member


def can_post(user: User, board: Board) -> bool:
    """Members post everywhere; requesters may also speak to workers on public boards."""
    if board.visibility == "members":
        return user.is_member
    return user.is_member or user.is_requester


def _signed_in(user) -> bool:
    # Readers of a public board may one day be anonymous: None, or Flask-Login's anonymous user.
    return user is not None and user.is_authenticated


def is_coordinator(user: User | None) -> bool:
    """Coordinators act for the members, so they must be members too."""
    return _signed_in(user) and user.is_coordinator and user.is_member


def is_author(user: User | None, post: Post) -> bool:
    """Whether `user` wrote the post."""
    return _signed_in(user) and user.id == post.author_id


def sees_text(user: User | None, post: Post) -> bool:
    """Whether `user` may read the post's text, current and earlier, under the moderation in force.

    A hidden post is read by members behind its notice; a redacted one exposed someone's
    personal data, so only the coordinators who judge it read it. Its author always reads
    their own words.
    """
    if not post.hidden:
        return True
    if not _signed_in(user):
        return False
    if is_author(user, post):
        return True
    if post.redacted:
        return is_coordinator(user)
    return user.is_member


def check_read(user: User, board: Board) -> None:
    """Refuse (403) a user who may not read the board."""
    # The message names no title: a members board tells outsiders nothing about its content.
    if not can_read(user, board):
        if not user.is_authenticated:
            raise Unauthorized()
        if user.kind == "worker":
            raise Forbidden(f"{MEMBERS_ONLY} Become a member with POST /api/v1/membership.")
        raise Forbidden(MEMBERS_ONLY)


def check_post(user: User, board: Board) -> None:
    """Refuse (403) a user who may not post on the board, telling a non-member worker how to join."""
    check_read(user, board)
    if not can_post(user, board):
        raise Forbidden(JOIN_TO_POST)


def readable_board(user: User, board: Board) -> Board:
    """The board, once the user's right to read it is checked."""
    check_read(user, board)
    return board


def readable_thread(user: User, thread: Thread) -> Thread:
    """The thread, once the user's right to read its board is checked."""
    check_read(user, thread.board)
    return thread


def readable_post(user: User, post: Post) -> Post:
    """The post, once the user's right to read its board is checked."""
    check_read(user, post.thread.board)
    return post


def readable_appeal(user: User, appeal: ForumAppeal) -> ForumAppeal:
    """The appeal, read only by its author and by the coordinators."""
    if not (user.id == appeal.author_id or (user.is_coordinator and user.is_member)):
        raise Forbidden("Only the author of the appealed post and the coordinators can see this appeal.")
    return appeal


def _locked(row: Post | ForumAppeal):
    """`row` read again with its row lock held to the end of the transaction (PostgreSQL).

    Every change to a post or an appeal takes its lock first, so two changes to one post
    (two flags by one reader, a hide and an appeal) happen one after the other.
    """
    return db.session.get(type(row), row.id, with_for_update=True, populate_existing=True)


def _require_rule(slug: str):
    rule = current_rule(slug)
    if rule is None:
        raise Invalid(
            f"There is no rule '{slug}'; cite one of the rule documents the members adopted (see /api/v1/rules).",
            {"rule": [f"Unknown rule '{slug}'."]},
        )
    return rule


def _text(value: str, field: str, what: str) -> str:
    value = (value or "").strip()
    if not value:
        raise Invalid(f"{what} cannot be empty.", {field: ["Write something."]})
    return value


# --- boards, threads, posts ------------------------------------------------------------


def list_boards(user: User) -> list[Board]:
    """The boards the user may read, oldest first."""
    boards = db.session.scalars(sa.select(Board).order_by(Board.id))
    return [b for b in boards if can_read(user, b)]


def create_board(coordinator: User, slug: str, title: str, visibility: str) -> Board:
    """Open a new board."""
    slug, title = slug.strip().lower(), _text(title, "title", "A board's title")
    if db.session.scalar(sa.select(Board.id).where(Board.slug == slug)) is not None:
        raise Conflict(f"A board with the slug '{slug}' already exists; choose another.", {"slug": ["Already taken."]})
    board = Board(slug=slug, title=title, visibility=visibility)
    db.session.add(board)
    db.session.flush()
    audit.append("forum.board.created", f"board:{board.id}", coordinator, {"slug": slug, "visibility": visibility})
    return board


def thread_page(board: Board, *, limit: int, cursor: str | None) -> tuple[list[Thread], str | None]:
    """A board's threads, newest activity first."""
    stmt = sa.select(Thread).where(Thread.board_id == board.id)
    return keyset_page(stmt, [Thread.last_activity_at, Thread.id], limit=limit, cursor=cursor, descending=True)


def _new_post(author: User, thread: Thread, body: str, reply_to: Post | None, now) -> Post:
    body = _text(body, "body", "A post")
    post = Post(
        thread=thread,
        author=author,
        reply_to_id=reply_to.id if reply_to else None,
        body=body,
        body_html=render(body),
        created_at=now,
    )
    db.session.add(post)
    return post


def start_thread(author: User, board: Board, title: str, body: str) -> tuple[Thread, Post]:
    """Open a thread on a board with its first post (members; requesters too on public boards)."""
    check_post(author, board)
    title = _text(title, "title", "A thread's title")
    now = clock.now()
    thread = Thread(board=board, author=author, title=title, created_at=now, last_activity_at=now, post_count=1)
    db.session.add(thread)
    post = _new_post(author, thread, body, None, now)
    db.session.flush()
    return thread, post


def add_post(author: User, thread: Thread, body: str, reply_to_id: int | None = None) -> Post:
    """Post in a thread, optionally replying to an earlier post of the same thread."""
    check_post(author, thread.board)
    reply_to = None
    if reply_to_id is not None:
        reply_to = db.session.get(Post, reply_to_id)
        if reply_to is None or reply_to.thread_id != thread.id:
            raise Invalid(
                "A reply must answer a post of the same thread.",
                {"reply_to": [f"Post {reply_to_id} is not in thread {thread.id}."]},
            )
    now = clock.now()
    post = _new_post(author, thread, body, reply_to, now)
    # One UPDATE in SQL, so concurrent posts neither lose a count nor move activity backwards.
    db.session.execute(
        sa.update(Thread)
        .where(Thread.id == thread.id)
        .values(post_count=Thread.post_count + 1, last_activity_at=now)
        .execution_options(synchronize_session=False)
    )
    db.session.flush()
    db.session.refresh(thread)
    return post


def post_page(thread: Thread, *, limit: int, cursor: str | None) -> tuple[list[Post], str | None]:
    """A thread's posts, oldest first."""
    return keyset_page(sa.select(Post).where(Post.thread_id == thread.id), [Post.id], limit=limit, cursor=cursor)


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


# --- edits and retraction ---------------------------------------------------------------


def _check_author(user: User, post: Post, doing: str) -> None:
    if post.author_id != user.id:
        raise Forbidden(f"Only the author of a post can {doing} it.")


def edit_post(user: User, post: Post, body: str) -> Post:
    """Change a post's text, keeping the previous text as an earlier version."""
    post = readable_post(user, _locked(post))
    _check_author(user, post, "edit")
    if post.retracted:
        raise Conflict("This post was retracted; a retracted post cannot be edited. Write a new post instead.")
    body = _text(body, "body", "A post")
    if body == post.body:
        return post
    now = clock.now()
    db.session.add(
        PostVersion(
            post_id=post.id,
            number=post.edit_count + 1,
            body=post.body,
            body_html=post.body_html,
            written_at=post.edited_at or post.created_at,
            replaced_at=now,
        )
    )
    post.body, post.body_html = body, render(body)
    post.edit_count += 1
    post.edited_at = now
    db.session.flush()
    return post


def history_page(post: Post, *, limit: int, cursor: str | None) -> tuple[list[PostVersion], str | None]:
    """A post's earlier versions, oldest first; the current text follows the last page."""
    return keyset_page(
        sa.select(PostVersion).where(PostVersion.post_id == post.id), [PostVersion.number], limit=limit, cursor=cursor
    )


def retract_post(user: User, post: Post) -> Post:
    """Withdraw one's own post: its text and every earlier text are erased; the placeholder stays."""
    post = readable_post(user, _locked(post))
    _check_author(user, post, "retract")
    if post.retracted:
        raise Conflict("This post is already retracted.")
    post.body = post.body_html = None
    post.retracted_at = clock.now()
    # The versions keep their times, so the fact of each edit remains, but none of the words.
    db.session.execute(
        sa.update(PostVersion)
        .where(PostVersion.post_id == post.id)
        .values(body=None, body_html=None)
        .execution_options(synchronize_session=False)
    )
    db.session.flush()
    return post


# --- flags -----------------------------------------------------------------------------


def flag_post(user: User, post: Post, rule: str, note: str | None) -> Flag:
    """Report a post as breaking a rule; one open flag per reader and post."""
    # The post row is locked, so two flags by one reader cannot both pass the check below.
    post = readable_post(user, _locked(post))
    rule_version = _require_rule(rule)
    open_flag = db.session.scalar(
        sa.select(Flag.id).where(Flag.post_id == post.id, Flag.flagger_id == user.id, Flag.resolved_at.is_(None))
    )
    if open_flag is not None:
        raise Conflict("You have already flagged this post; coordinators will see your flag until they act on it.")
    flag = Flag(
        post_id=post.id, flagger_id=user.id, rule=rule_version.slug, note=(note or "").strip(), created_at=clock.now()
    )
    db.session.add(flag)
    db.session.flush()
    return flag


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
    result = cast(
        sa.CursorResult,
        db.session.execute(
            sa.update(Flag)
            .where(Flag.post_id == post.id, Flag.resolved_at.is_(None))
            .values(resolved_at=now, resolution=resolution)
            .execution_options(synchronize_session=False)
        ),
    )
    return result.rowcount


def dismiss_flags(coordinator: User, post: Post, reason: str) -> Post:
    """Close a post's open flags without hiding it."""
    post = readable_post(coordinator, _locked(post))
    reason = _text(reason, "reason", "The reason for dismissing flags")
    count = _resolve_flags(post, "dismissed", clock.now())
    if count == 0:
        raise Conflict("This post has no open flags to dismiss.")
    db.session.flush()
    audit.append(
        "forum.flags.dismissed", f"post:{post.id}", coordinator, {"post_id": post.id, "count": count, "reason": reason}
    )
    return post


# --- moderation -------------------------------------------------------------------------


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
            "The reason is published in the moderation log; name the kind of personal data "
            "(an address, a telephone number) without repeating it.",
            {"reason": ["Repeats an email address or number from the post."]},
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
    return entry


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
    post = readable_post(coordinator, _locked(post))
    rule = _require_rule(rule_slug)
    reason = _text(reason, "reason", "The reason for a moderation action")
    if post.author_id == coordinator.id:
        raise Forbidden("A coordinator's own post can be hidden, redacted or restored only by another coordinator.")
    if action == "hide" and post.redacted:
        raise Conflict(
            "This post is redacted: its text is already kept from everyone but its author and the "
            "coordinators, and hiding it would let every member read it again. Restore it first if "
            "hiding is enough."
        )
    if action == "hide" and post.hidden:
        raise Conflict("This post is already hidden; restore it first to hide it for another reason.")
    if action == "redact" and post.redacted:
        raise Conflict(
            "This post is already redacted; its text is kept from everyone but its author and the coordinators."
        )
    if action == "restore" and not post.hidden:
        raise Conflict("This post is neither hidden nor redacted; there is nothing to restore.")
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


# --- appeals ----------------------------------------------------------------------------


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
    post = _locked(post)
    _check_author(user, post, "appeal the moderation of")
    if not post.hidden:
        raise Conflict("This post is neither hidden nor redacted; only a moderated post can be appealed.")
    reason = _text(reason, "reason", "The reason for an appeal")
    hide = _moderation_in_force(post)
    existing = db.session.scalar(
        sa.select(ForumAppeal.id).where(
            ForumAppeal.moderation_id == hide.id, ForumAppeal.status.in_(("open", "upheld", "escalated"))
        )
    )
    if existing is not None:
        raise Conflict(
            f"This {'redaction' if hide.action == 'redact' else 'hiding'} is already appealed "
            f"(appeal {existing}); follow that appeal, "
            "or escalate it to the members with POST /api/v1/forum/appeals/{id}/escalate."
        )
    appeal = ForumAppeal(post=post, moderation=hide, author=user, reason=reason, status="open", created_at=clock.now())
    db.session.add(appeal)
    db.session.flush()
    audit.append(
        "forum.appeal.opened",
        f"post:{post.id}",
        user,
        {"appeal_id": appeal.id, "post_id": post.id, "moderation_id": hide.id},
    )
    return appeal


def appeal_page(*, status: str | None, limit: int, cursor: str | None):
    """Forum appeals, oldest first, optionally of one status."""
    stmt = sa.select(ForumAppeal)
    if status:
        stmt = stmt.where(ForumAppeal.status == status)
    return keyset_page(stmt, [ForumAppeal.id], limit=limit, cursor=cursor)


def decide_appeal(coordinator: User, appeal: ForumAppeal, decision: str, reason: str) -> ForumAppeal:
    """Uphold or overturn an appeal; an overturn restores the post, for everyone, in the public log."""
    # Post first, then appeal: the order every writer of both takes, so none waits on another in a circle.
    post = _locked(appeal.post)
    appeal = _locked(appeal)
    if coordinator.id == appeal.moderation.coordinator_id:
        raise Forbidden(
            f"The coordinator who {'redacted' if appeal.moderation.action == 'redact' else 'hid'} "
            "this post cannot decide the appeal against it; another coordinator must."
        )
    if coordinator.id == appeal.author_id:
        raise Forbidden("You cannot decide an appeal about your own post; another coordinator must.")
    if appeal.status != "open":
        raise Conflict(f"This appeal is already {appeal.status}; only an open appeal can be decided.")
    reason = _text(reason, "reason", "The reason for an appeal decision")
    now = clock.now()
    appeal.decided_by, appeal.decided_at, appeal.decision_reason = coordinator, now, reason
    if decision == "overturn":
        appeal.status = "overturned"
        hide = appeal.moderation
        rule = _require_rule(hide.rule)
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
    return appeal


def escalate_appeal(user: User, appeal: ForumAppeal) -> ForumAppeal:
    """Put an appeal to the members as a `general` proposal linking back to the post."""
    appeal = _locked(appeal)
    if appeal.author_id != user.id:
        raise Forbidden("Only the author of the appeal can put it to the members.")
    if not user.is_member:
        raise Forbidden("Only members make proposals; a coordinator decides this appeal instead.")
    if appeal.status not in ("open", "upheld"):
        raise Conflict(f"This appeal is already {appeal.status}; only an open or upheld appeal can go to a vote.")
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
