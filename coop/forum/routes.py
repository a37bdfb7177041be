"""Forum routes: boards, threads, posts, flags, moderation in the open, appeals."""

from flask.views import MethodView

from coop.accounts.permissions import authenticated_user, current_viewer, require
from coop.forum import schemas as s
from coop.forum import serialize, services
from coop.forum.models import Board, ForumAppeal, Post, Thread
from coop.loading import get_or_404
from coop.pagination import PageArgs, page_body, page_schema
from coop.parsing import Blueprint

blp = Blueprint("forum", __name__, url_prefix="/api/v1", description="Forum: boards, threads, posts, moderation")


def _post(post_id: int) -> Post:
    return get_or_404(Post, post_id, "post")


def _appeal(appeal_id: int) -> ForumAppeal:
    return get_or_404(ForumAppeal, appeal_id, "forum appeal")


@blp.route("/forum/boards")
class Boards(MethodView):
    @blp.response(200, s.BoardSchema(many=True))
    def get(self):
        """The boards you may read (the public ones without signing in)."""
        return services.list_boards(current_viewer())

    @blp.arguments(s.BoardSchema)
    @blp.response(201, s.BoardSchema)
    @require("coordinator")
    def post(self, data):
        """Open a new board (coordinators)."""
        return services.create_board(authenticated_user(), data["slug"], data["title"], data["visibility"])


@blp.route("/forum/boards/<int:board_id>", methods=["GET"])
@blp.response(200, s.BoardSchema)
def read_board(board_id):
    """One board (members only for a members board)."""
    return services.readable_board(current_viewer(), get_or_404(Board, board_id, "board"))


@blp.route("/forum/boards/<int:board_id>/threads")
class BoardThreads(MethodView):
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, s.ThreadPageSchema)
    def get(self, args, board_id):
        """A board's threads, newest activity first."""
        user = current_viewer()
        board = services.readable_board(user, get_or_404(Board, board_id, "board"))
        threads, next_cursor = services.thread_page(board, limit=args["limit"], cursor=args["cursor"])
        return page_body(threads, next_cursor, view=lambda thread: serialize.thread_view(thread, user))

    @blp.arguments(s.NewThreadSchema)
    @blp.response(201, s.ThreadViewSchema)
    @require()
    def post(self, data, board_id):
        """Open a thread with its first post (members; requesters too on public boards)."""
        user = authenticated_user()
        board = get_or_404(Board, board_id, "board")
        thread, post = services.start_thread(user, board, data["title"], data["body"])
        return {
            "thread": serialize.thread_view(thread, user),
            "posts": page_body(serialize.posts_view([post], user), None),
        }


@blp.route("/forum/threads/<int:thread_id>", methods=["GET"])
@blp.arguments(PageArgs, location="query")
@blp.response(200, s.ThreadViewSchema)
def read_thread(args, thread_id):
    """A thread with a page of its posts, oldest first."""
    user = current_viewer()
    thread = services.readable_thread(user, get_or_404(Thread, thread_id, "thread"))
    posts, next_cursor = services.post_page(thread, limit=args["limit"], cursor=args["cursor"])
    return {
        "thread": serialize.thread_view(thread, user),
        "posts": page_body(serialize.posts_view(posts, user), next_cursor),
    }


@blp.route("/forum/threads/<int:thread_id>/posts", methods=["POST"])
@blp.arguments(s.NewPostSchema)
@blp.response(201, s.PostSchema)
@require()
def add_post(data, thread_id):
    """Post in a thread, optionally replying to one of its posts."""
    user = authenticated_user()
    thread = get_or_404(Thread, thread_id, "thread")
    post = services.add_post(user, thread, data["body"], data["reply_to"])
    return serialize.posts_view([post], user)[0]


# No DELETE here or anywhere in the forum: nobody deletes a post; authors retract, coordinators hide.
@blp.route("/forum/posts/<int:post_id>")
class PostById(MethodView):
    @blp.response(200, s.PostSchema)
    def get(self, post_id):
        """One post."""
        user = current_viewer()
        return serialize.posts_view([services.readable_post(user, _post(post_id))], user)[0]

    @blp.arguments(s.EditPostSchema)
    @blp.response(200, s.PostSchema)
    @require()
    def patch(self, data, post_id):
        """Edit your post; the previous text is kept in its history."""
        user = authenticated_user()
        return serialize.posts_view([services.edit_post(user, _post(post_id), data["body"])], user)[0]


@blp.route("/forum/posts/<int:post_id>/history", methods=["GET"])
@blp.arguments(PageArgs, location="query")
@blp.response(200, page_schema(s.PostVersionSchema, "PostHistoryPage"))
def post_history(args, post_id):
    """Every version of a post, oldest first, ending with the current one."""
    user = current_viewer()
    post = services.readable_post(user, _post(post_id))
    versions, next_cursor = services.history_page(post, limit=args["limit"], cursor=args["cursor"])
    return page_body(serialize.history_view(versions, next_cursor is None, post, user), next_cursor)


@blp.route("/forum/posts/<int:post_id>/retract", methods=["POST"])
@blp.response(200, s.PostSchema)
@require()
def retract(post_id):
    """Retract your post: its text and all earlier texts are erased; a placeholder stays."""
    user = authenticated_user()
    return serialize.posts_view([services.retract_post(user, _post(post_id))], user)[0]


@blp.route("/forum/posts/<int:post_id>/flags", methods=["POST"])
@blp.arguments(s.FlagArgsSchema)
@blp.response(201, s.FlagSchema)
@require()
def flag(data, post_id):
    """Flag a post as breaking a rule; coordinators see the flags."""
    return services.flag_post(authenticated_user(), _post(post_id), data["rule"], data["note"])


@blp.route("/forum/posts/<int:post_id>/flags/dismiss", methods=["POST"])
@blp.arguments(s.ForumReasonSchema)
@blp.response(200, s.FlagSummarySchema)
@require("coordinator")
def dismiss_flags(data, post_id):
    """Close a post's open flags without hiding it (coordinators)."""
    post = services.dismiss_flags(authenticated_user(), _post(post_id), data["reason"])
    return serialize.flag_summaries([post])[0]


@blp.route("/forum/flags", methods=["GET"])
@blp.arguments(PageArgs, location="query")
@blp.response(200, page_schema(s.FlagSummarySchema, "FlagQueuePage"))
@require("coordinator")
def flag_queue(args):
    """Posts with open flags and their counts (coordinators)."""
    posts, next_cursor = services.flag_queue(limit=args["limit"], cursor=args["cursor"])
    return page_body(serialize.flag_summaries(posts), next_cursor)


@blp.route("/forum/posts/<int:post_id>/moderation", methods=["POST"])
@blp.arguments(s.ModerationArgsSchema)
@blp.response(200, s.PostSchema)
@require("coordinator")
def moderate(data, post_id):
    """Hide, redact or restore a post citing a rule and a reason (coordinators); the action is logged in public.

    A hidden post's text stays readable by members behind the notice. A redacted post exposed
    someone's personal data: its text and every earlier version are readable only by its author
    and the coordinators; everyone else sees the notice alone.
    """
    user = authenticated_user()
    post = services.moderate(user, _post(post_id), data["action"], data["rule"], data["reason"])
    return serialize.posts_view([post], user)[0]


@blp.route("/forum/moderation-log", methods=["GET"])
@blp.arguments(s.ModerationLogArgs, location="query")
@blp.response(200, page_schema(s.ModerationEntrySchema, "ModerationLogPage"))
@require()
def moderation_log(args):
    """Every hide, redaction and restore, newest first: post, rule, reason, coordinator, time; never the text."""
    return page_body(*services.moderation_log(limit=args["limit"], cursor=args["cursor"], post_id=args.get("post_id")))


@blp.route("/forum/posts/<int:post_id>/appeal", methods=["POST"])
@blp.arguments(s.ForumReasonSchema)
@blp.response(201, s.ForumAppealSchema)
@require()
def appeal(data, post_id):
    """Appeal the hiding or redaction of your post."""
    return services.open_appeal(authenticated_user(), _post(post_id), data["reason"])


@blp.route("/forum/appeals", methods=["GET"])
@blp.arguments(s.ForumAppealListArgs, location="query")
@blp.response(200, page_schema(s.ForumAppealSchema, "ForumAppealPage"))
@require("coordinator")
def appeals(args):
    """Forum appeals, oldest first (coordinators)."""
    return page_body(*services.appeal_page(status=args.get("status"), limit=args["limit"], cursor=args["cursor"]))


@blp.route("/forum/appeals/<int:appeal_id>", methods=["GET"])
@blp.response(200, s.ForumAppealSchema)
@require()
def appeal_by_id(appeal_id):
    """One appeal (its author and the coordinators)."""
    return services.readable_appeal(authenticated_user(), _appeal(appeal_id))


@blp.route("/forum/appeals/<int:appeal_id>/decide", methods=["POST"])
@blp.arguments(s.ForumAppealDecisionSchema)
@blp.response(200, s.ForumAppealSchema)
@require("coordinator")
def decide(data, appeal_id):
    """Uphold or overturn an appeal (any coordinator but the one who hid or redacted the post)."""
    return services.decide_appeal(authenticated_user(), _appeal(appeal_id), data["decision"], data["reason"])


@blp.route("/forum/appeals/<int:appeal_id>/escalate", methods=["POST"])
@blp.response(200, s.ForumAppealSchema)
@require()
def escalate(appeal_id):
    """Put your appeal to the members as a general proposal linking back to the post."""
    return services.escalate_appeal(authenticated_user(), _appeal(appeal_id))
