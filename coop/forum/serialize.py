"""What each reader is shown of the forum: posts behind their moderation notice, threads, a post's history, flags."""

from coop.accounts.models import User
from coop.forum import services
from coop.forum.models import Post, PostVersion, Thread


def post_view(post: Post, viewer: User | None, open_flags: int | None = None) -> dict:
    """A post as `viewer` may see it: the moderation notice always, the text only if `services.sees_text`."""
    view = {
        "id": post.id,
        "thread_id": post.thread_id,
        "reply_to": post.reply_to_id,
        "author": post.author.display_name,
        "mine": services.is_author(viewer, post),
        "created_at": post.created_at,
        "body": post.body,
        "body_html": post.body_html,
        "edited": post.edit_count > 0,
        "edit_count": post.edit_count,
        "edited_at": post.edited_at,
        "retracted": post.retracted,
        "retracted_at": post.retracted_at,
        "hidden": post.hidden,
        "redacted": post.redacted,
        "moderation": None,
    }
    if post.hidden:
        view["moderation"] = {
            "action": "redact" if post.redacted else ("hide" if post.hidden_by else "flag_hide"),
            "rule": post.hidden_rule,
            "rule_version": post.hidden_rule_version,
            "reason": post.hidden_reason,
            "by": post.hidden_by.display_name if post.hidden_by else None,
            "at": post.hidden_at,
        }
        if not services.sees_text(viewer, post):
            del view["body"], view["body_html"]
    if open_flags is not None:
        view["open_flags"] = open_flags
    return view


def posts_view(posts: list[Post], viewer: User | None) -> list[dict]:
    """A page of posts as `viewer` sees them, with open flag counts for coordinators."""
    counts = services.open_flag_counts([p.id for p in posts]) if services.is_coordinator(viewer) else None
    return [post_view(p, viewer, counts.get(p.id, 0) if counts is not None else None) for p in posts]


def thread_view(thread: Thread, viewer: User) -> dict:
    """A thread as `viewer` sees it (with `mine`)."""
    return {
        "id": thread.id,
        "board_id": thread.board_id,
        "title": thread.title,
        "author": thread.author.display_name,
        "mine": thread.author_id == viewer.id,
        "created_at": thread.created_at,
        "last_activity_at": thread.last_activity_at,
        "post_count": thread.post_count,
    }


def history_view(versions: list[PostVersion], last_page: bool, post: Post, viewer: User | None) -> list[dict]:
    """A page of a post's versions, the current text after the last one.

    Every version is withheld from whoever may not read the post's current text.
    """
    items = [
        {
            "number": v.number,
            "body": v.body,
            "body_html": v.body_html,
            "written_at": v.written_at,
            "replaced_at": v.replaced_at,
            "current": False,
            "erased": v.body is None,
        }
        for v in versions
    ]
    if last_page:
        items.append(
            {
                "number": post.edit_count + 1,
                "body": post.body,
                "body_html": post.body_html,
                "written_at": post.edited_at or post.created_at,
                "replaced_at": None,
                "current": True,
                "erased": post.retracted,
            }
        )
    if not services.sees_text(viewer, post):
        return [
            {k: val for k, val in item.items() if k not in ("body", "body_html")} | {"withheld": True} for item in items
        ]
    return [item | {"withheld": False} for item in items]


def flag_summaries(posts: list[Post]) -> list[dict]:
    """The open flags on each post: count, count per rule, notes, first and last time."""
    flags = services.open_flags(posts)
    summaries = []
    for post in posts:
        open_flags = flags[post.id]
        by_rule: dict[str, int] = {}
        for f in open_flags:
            by_rule[f.rule] = by_rule.get(f.rule, 0) + 1
        summaries.append(
            {
                "post_id": post.id,
                "thread_id": post.thread_id,
                "board_id": post.thread.board_id,
                "hidden": post.hidden,
                "redacted": post.redacted,
                "open_flags": len(open_flags),
                "by_rule": by_rule,
                "notes": [f.note for f in open_flags if f.note],
                "first_flagged_at": open_flags[0].created_at if open_flags else None,
                "last_flagged_at": open_flags[-1].created_at if open_flags else None,
            }
        )
    return summaries
