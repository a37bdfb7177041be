"""Boards, threads and posts: the founding boards, starting threads, replying, edits and retraction."""

import sqlalchemy as sa
from flask_babel import gettext as _

from coop import audit, clock
from coop.accounts.models import User
from coop.errors import Conflict, Invalid
from coop.extensions import db
from coop.forum.markdown import render
from coop.forum.models import Board, Post, PostVersion, Thread
from coop.forum.services.access import can_read, check_author, check_post, checked_text, lock_row, readable_post
from coop.notifications.services import mentioned_users, notify
from coop.pagination import keyset_page

DEFAULT_BOARDS = (
    ("members", "Members' hall", "members"),
    ("public", "Public square", "public"),
    # Each proposal's discussion: members deliberate on what members decide.
    ("proposals", "Proposals", "members"),
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


def founding_board(slug: str) -> Board:
    """A founding board, created now if the database was founded before it existed."""
    board = db.session.scalar(sa.select(Board).where(Board.slug == slug))
    if board is None:
        ensure_default_boards()
        board = db.session.scalar(sa.select(Board).where(Board.slug == slug))
    if board is None:
        raise KeyError(slug)
    return board


def list_boards(user: User) -> list[Board]:
    """The boards the user may read, oldest first."""
    boards = db.session.scalars(sa.select(Board).order_by(Board.id))
    return [b for b in boards if can_read(user, b)]


def create_board(coordinator: User, slug: str, title: str, visibility: str) -> Board:
    """Open a new board."""
    slug, title = slug.strip().lower(), checked_text(title, "title", _("A board's title"))
    if db.session.scalar(sa.select(Board.id).where(Board.slug == slug)) is not None:
        raise Conflict(
            _("A board with the slug '%(slug)s' already exists; choose another.", slug=slug),
            {"slug": [_("Already taken.")]},
        )
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
    body = checked_text(body, "body", _("A post"))
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
    title = checked_text(title, "title", _("A thread's title"))
    now = clock.now()
    thread = Thread(board=board, author=author, title=title, created_at=now, last_activity_at=now, post_count=1)
    db.session.add(thread)
    post = _new_post(author, thread, body, None, now)
    db.session.flush()
    _tell_readers(author, thread, post, None)
    return thread, post


def add_post(author: User, thread: Thread, body: str, reply_to_id: int | None = None) -> Post:
    """Post in a thread, optionally replying to an earlier post of the same thread."""
    check_post(author, thread.board)
    reply_to = None
    if reply_to_id is not None:
        reply_to = db.session.get(Post, reply_to_id)
        if reply_to is None or reply_to.thread_id != thread.id:
            raise Invalid(
                _("A reply must answer a post of the same thread."),
                {
                    "reply_to": [
                        _(
                            "Post %(reply_to_id)s is not in thread %(thread_id)s.",
                            reply_to_id=reply_to_id,
                            thread_id=thread.id,
                        )
                    ]
                },
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
    _tell_readers(author, thread, post, reply_to)
    return post


def _tell_readers(author: User, thread: Thread, post: Post, reply_to: Post | None) -> None:
    """Tell the author of the post answered (or of the thread) of a reply, and the members @mentioned in it.

    Only people who may read the board are told: a mention on a members board reaches no requester.
    """
    board = thread.board
    answered = None
    if reply_to is not None or thread.author_id != author.id:
        answered = reply_to.author if reply_to is not None else thread.author
    if answered is not None and (answered.id == author.id or not can_read(answered, board)):
        answered = None
    params = {"post_id": post.id, "thread_id": thread.id, "thread": thread.title, "by": author.display_name}
    if answered is not None:
        notify([answered.id], "forum_reply", f"post:{post.id}", params)
    told = {author.id} | ({answered.id} if answered else set())
    mentioned = [u.id for u in mentioned_users(post.body or "") if u.id not in told and can_read(u, board)]
    notify(mentioned, "forum_mention", f"post:{post.id}", params)


def post_page(thread: Thread, *, limit: int, cursor: str | None) -> tuple[list[Post], str | None]:
    """A thread's posts, oldest first."""
    return keyset_page(sa.select(Post).where(Post.thread_id == thread.id), [Post.id], limit=limit, cursor=cursor)


def edit_post(user: User, post: Post, body: str) -> Post:
    """Change a post's text, keeping the previous text as an earlier version."""
    post = readable_post(user, lock_row(post))
    check_author(user, post, _("edit"))
    if post.retracted:
        raise Conflict(_("This post was retracted; a retracted post cannot be edited. Write a new post instead."))
    body = checked_text(body, "body", _("A post"))
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
    post = readable_post(user, lock_row(post))
    check_author(user, post, _("retract"))
    if post.retracted:
        raise Conflict(_("This post is already retracted."))
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
