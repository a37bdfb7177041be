"""Who may read and write where on the forum, and the checks every forum story shares."""

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from coop.accounts.models import User
from coop.errors import Forbidden, Invalid, Unauthorized
from coop.extensions import db
from coop.forum.models import Board, ForumAppeal, Post, Thread
from coop.governance.services import current_rule

MEMBERS_ONLY = _l("This board is for members only; its threads and posts are readable by members alone.")


JOIN_TO_POST = _l(
    "Workers who are not yet members may read public boards but not post; "
    "become a member with POST /api/v1/membership to join the conversation."
)


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
            raise Forbidden(_("%(refusal)s Become a member with POST /api/v1/membership.", refusal=MEMBERS_ONLY))
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
        raise Forbidden(_("Only the author of the appealed post and the coordinators can see this appeal."))
    return appeal


def lock_row(row: Post | ForumAppeal):
    """`row` read again with its row lock held to the end of the transaction (PostgreSQL).

    Every change to a post or an appeal takes its lock first, so two changes to one post
    (two flags by one reader, a hide and an appeal) happen one after the other.
    """
    return db.session.get(type(row), row.id, with_for_update=True, populate_existing=True)


def require_rule(slug: str):
    rule = current_rule(slug)
    if rule is None:
        raise Invalid(
            _(
                "There is no rule '%(slug)s'; cite one of the rule documents the members adopted (see /api/v1/rules).",
                slug=slug,
            ),
            {"rule": [_("Unknown rule '%(slug)s'.", slug=slug)]},
        )
    return rule


def checked_text(value: str, field: str, what: str) -> str:
    value = (value or "").strip()
    if not value:
        raise Invalid(_("%(what)s cannot be empty.", what=what), {field: [_("Write something.")]})
    return value


def check_author(user: User, post: Post, doing: str) -> None:
    if post.author_id != user.id:
        raise Forbidden(_("Only the author of a post can %(doing)s it.", doing=doing))
