"""Forum pages: boards, threads, posts with a preview, edit history, flags, the moderation log, and coordinators' pages."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from flask import abort, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import HiddenField, RadioField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from coop.accounts.permissions import current_viewer
from coop.errors import Forbidden, NotFound, Unauthorized
from coop.extensions import db
from coop.forum import markdown, serialize, services
from coop.forum import schemas as s
from coop.forum.models import APPEAL_STATUSES, Board, ForumAppeal, Post, Thread
from coop.governance.services import current_rules
from coop.loading import get_or_404
from coop.pages import attempt, done, go, pages_blueprint, render, signed_in, validated
from coop.pagination import MAX_ID
from coop.unit_of_work import rollback_quietly

bp = pages_blueprint("forum", __name__)

THREADS_PER_PAGE = 30
POSTS_PER_PAGE = 50
VERSIONS_PER_PAGE = 50
LOG_PER_PAGE = 30
FLAGS_PER_PAGE = 20
APPEALS_PER_PAGE = 20


def nav(user) -> list[tuple[str, str]]:
    items = [("forum_pages.boards", _l("Forum"))]
    if user.is_authenticated:
        items.append(("forum_pages.moderation_log", _l("Moderation log")))
    if services.is_coordinator(user):
        items += [("forum_pages.flags", _l("Flags")), ("forum_pages.appeals", _l("Forum appeals"))]
    return items


# --- forms ------------------------------------------------------------------------------


class ThreadForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    body = TextAreaField(
        _l("Your post"), validators=[DataRequired(), Length(max=s.BODY_MAX)], description=_l("Markdown is welcome.")
    )


class PostForm(FlaskForm):
    body = TextAreaField(
        _l("Your reply"), validators=[DataRequired(), Length(max=s.BODY_MAX)], description=_l("Markdown is welcome.")
    )
    reply_to = HiddenField()


class EditForm(FlaskForm):
    body = TextAreaField(
        _l("Text of the post"),
        validators=[DataRequired(), Length(max=s.BODY_MAX)],
        description=_l("The previous text stays readable in the post's history."),
    )


class FlagForm(FlaskForm):
    rule = SelectField(_l("Rule the post breaks"), validators=[DataRequired()])
    note = TextAreaField(
        _l("Why (optional)"),
        validators=[Optional(), Length(max=2000)],
        description=_l("Coordinators read this; the author does not see who flagged."),
    )


ACTIONS = {"hide": _l("Hide"), "redact": _l("Redact (personal data)"), "restore": _l("Restore")}


class ModerateForm(FlaskForm):
    action = SelectField(_l("Action"), validators=[DataRequired()])
    rule = SelectField(_l("Rule cited"), validators=[DataRequired()])
    reason = TextAreaField(
        _l("Reason"),
        validators=[DataRequired(), Length(max=5000)],
        description=_l("Published in the moderation log. Never repeat personal data here."),
    )


class ReasonForm(FlaskForm):
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(), Length(max=5000)])


class ConfirmForm(FlaskForm):
    """A button and its CSRF token: the action needs no words, only the reader's intent."""


class DecisionForm(FlaskForm):
    decision = RadioField(
        _l("Decision"),
        choices=[
            SelectChoice("overturn", _l("Overturn: restore the post")),
            SelectChoice("uphold", _l("Uphold: the post stays moderated")),
        ],
        validators=[DataRequired()],
    )
    reason = TextAreaField(
        _l("Reason"),
        validators=[DataRequired(), Length(max=5000)],
        description=_l("The author reads it; an overturn's reason is published in the moderation log."),
    )


# --- shared steps -----------------------------------------------------------------------


def coordinators_only(view: Callable) -> Callable:
    """A page for coordinators: others signed in get a 403 page, visitors the sign-in page."""

    @signed_in
    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        if not services.is_coordinator(current_user):
            raise Forbidden(_("Only coordinators can open this page."))
        return view(*args, **kwargs)

    return wrapper


def _read(check: Callable[[], Any]):
    """The service's read check, answered as a page: a visitor goes to sign in, an outsider reads why not."""
    try:
        return check()
    except Unauthorized:
        abort(redirect(url_for("accounts_pages.sign_in", next=request.full_path.rstrip("?"))))
    except Forbidden as exc:
        if str(exc.message).startswith(str(services.MEMBERS_ONLY)):
            raise Forbidden(
                _("This board is for members only; its threads and posts are read by members alone.")
            ) from None
        raise


def _user():
    return current_user._get_current_object()


def _board(slug: str) -> Board:
    board = db.session.scalar(sa.select(Board).where(Board.slug == slug))
    if board is None:
        raise NotFound(_("There is no board at this address."))
    return board


def _cursor() -> str | None:
    return request.args.get("cursor") or None


def _back() -> str | None:
    # Where a coordinator acted from (the flags page or the post); never a free-form address.
    return "flags" if (request.values.get("back") == "flags") else None


def _htmx() -> bool:
    return request.headers.get("HX-Request") == "true"


def _rule_choices() -> list[tuple[str, str]]:
    return [(r.slug, f"{r.title} ({r.slug}, v{r.version})") for r in current_rules()]


def _preview_wanted() -> bool:
    # The "Preview" button submits the form with its name; without JavaScript it is a full round trip.
    return "preview" in request.form


def _post_url(post: Post) -> str:
    # A thread's first page holds its oldest posts; a post beyond it is shown on its own page.
    if post.thread.post_count <= POSTS_PER_PAGE:
        return url_for(".thread", thread_id=post.thread_id, _anchor=f"post-{post.id}")
    return url_for(".post", post_id=post.id)


def _may_post(user, board: Board) -> bool:
    return user.is_authenticated and services.can_post(user, board)


# --- reading ----------------------------------------------------------------------------


@bp.route("/forum")
def boards():
    """The boards the reader may read."""
    return render("forum/boards.html", boards=services.list_boards(current_viewer()))


@bp.route("/forum/boards/<slug>")
def board(slug):
    """A board's threads, newest activity first, a page at a time."""
    viewer = current_viewer()
    board = _read(lambda: services.readable_board(viewer, _board(slug)))
    threads, next_cursor = services.thread_page(board, limit=THREADS_PER_PAGE, cursor=_cursor())
    return render(
        "forum/board.html",
        board=board,
        threads=threads,
        next_cursor=next_cursor,
        paged=_cursor() is not None,
        may_post=_may_post(viewer, board),
    )


@bp.route("/forum/threads/<int:thread_id>")
def thread(thread_id):
    """A thread's posts, oldest first, each behind its moderation notice when moderated, and a reply form."""
    viewer = current_viewer()
    thread = _read(lambda: services.readable_thread(viewer, get_or_404(Thread, thread_id, "thread")))
    posts, next_cursor = services.post_page(thread, limit=POSTS_PER_PAGE, cursor=_cursor())
    return render(
        "forum/thread.html",
        thread=thread,
        posts=serialize.posts_view(posts, viewer),
        next_cursor=next_cursor,
        paged=_cursor() is not None,
        may_post=_may_post(viewer, thread.board),
        form=PostForm(formdata=None),
    )


@bp.route("/forum/posts/<int:post_id>")
def post(post_id):
    """One post on its own, with the thread it belongs to."""
    viewer = current_viewer()
    post = _read(lambda: services.readable_post(viewer, get_or_404(Post, post_id, "post")))
    view = serialize.posts_view([post], viewer)[0]
    return render(
        "forum/post.html",
        post=view,
        thread=post.thread,
        may_post=_may_post(viewer, post.thread.board),
        appeals=_my_appeals(viewer, post),
    )


@bp.route("/forum/posts/<int:post_id>/history")
def history(post_id):
    """Every version of a post, oldest first, ending with the current one; withheld as the post's text is."""
    viewer = current_viewer()
    post = _read(lambda: services.readable_post(viewer, get_or_404(Post, post_id, "post")))
    versions, next_cursor = services.history_page(post, limit=VERSIONS_PER_PAGE, cursor=_cursor())
    items = serialize.history_view(versions, next_cursor is None, post, viewer)
    return render("forum/history.html", post=post, versions=items, next_cursor=next_cursor)


# --- writing ----------------------------------------------------------------------------


@bp.route("/forum/preview", methods=["POST"])
@signed_in
def preview():
    """The rendered, sanitised Markdown of a draft, for htmx to put beside the form; nothing is saved."""
    body = (request.form.get("body") or "")[: s.BODY_MAX]
    return render("forum/_preview.html", preview=markdown.render(body) if body.strip() else None)


def _refuse_unless_may_post(user, board: Board) -> None:
    if not services.can_post(user, board):
        if user.kind == "worker":
            raise Forbidden(_("Workers who are not yet members read public boards but do not post; join first."))
        raise Forbidden(_("You cannot post on this board."))


@bp.route("/forum/boards/<slug>/new", methods=["GET", "POST"])
@signed_in
def new_thread(slug):
    """Open a thread with its first post, with a preview before posting."""
    user = _user()
    board = _read(lambda: services.readable_board(user, _board(slug)))
    _refuse_unless_may_post(user, board)
    form = ThreadForm()
    preview_html = None
    if form.is_submitted():
        data = validated(form, s.NewThreadSchema())
        if data is not None and _preview_wanted():
            preview_html = markdown.render(data["body"])
            return render("forum/new_thread.html", board=board, form=form, preview=preview_html)
        if data is not None:
            ok, made = attempt(form, lambda: services.start_thread(user, board, data["title"], data["body"]))
            if ok:
                return done(".thread", _("Your thread is open."), thread_id=made[0].id)
    return render("forum/new_thread.html", 422 if form.is_submitted() else 200, board=board, form=form, preview=None)


@bp.route("/forum/threads/<int:thread_id>/reply", methods=["GET", "POST"])
@signed_in
def reply(thread_id):
    """Reply in a thread, with a preview before posting."""
    user = _user()
    thread = _read(lambda: services.readable_thread(user, get_or_404(Thread, thread_id, "thread")))
    _refuse_unless_may_post(user, thread.board)
    form = PostForm()
    answering = None
    if not form.is_submitted():
        form.reply_to.data = request.args.get("reply_to", "")
    if (form.reply_to.data or "").isdigit():
        answering = db.session.get(Post, int(form.reply_to.data))
        if answering is not None and answering.thread_id != thread.id:
            answering = None
    context = {"thread": thread, "form": form, "answering": answering and serialize.post_view(answering, user)}
    if form.is_submitted():
        data = validated(form, s.NewPostSchema())
        if data is not None and _preview_wanted():
            return render("forum/reply.html", **context, preview=markdown.render(data["body"]))
        if data is not None:
            ok, post = attempt(form, lambda: services.add_post(user, thread, data["body"], data["reply_to"]))
            if ok:
                return go(_post_url(post))
    return render("forum/reply.html", 422 if form.is_submitted() else 200, **context, preview=None)


@bp.route("/forum/posts/<int:post_id>/edit", methods=["GET", "POST"])
@signed_in
def edit(post_id):
    """Edit your own post; the earlier text goes to its history."""
    user = _user()
    post = _read(lambda: services.readable_post(user, get_or_404(Post, post_id, "post")))
    if not services.is_author(user, post):
        raise Forbidden(_("Only the author of a post can edit it."))
    if post.retracted:
        raise Forbidden(_("This post was retracted; write a new post instead."))
    form = EditForm(body=post.body)
    if form.is_submitted():
        data = validated(form, s.EditPostSchema())
        if data is not None and _preview_wanted():
            return render("forum/edit.html", post=post, form=form, preview=markdown.render(data["body"]))
        if data is not None:
            ok, _edited = attempt(form, lambda: services.edit_post(user, post, data["body"]))
            if ok:
                return go(_post_url(post))
    return render("forum/edit.html", 422 if form.is_submitted() else 200, post=post, form=form, preview=None)


@bp.route("/forum/posts/<int:post_id>/flag", methods=["GET", "POST"])
@signed_in
def flag(post_id):
    """Flag a post as breaking a rule; with htmx the form opens and answers in place under the post."""
    user = _user()
    post = _read(lambda: services.readable_post(user, get_or_404(Post, post_id, "post")))
    # In place under a post, the form's fields carry the post's id: a thread page may hold several.
    form = FlagForm(prefix=f"post{post.id}" if _htmx() else "")
    form.rule.choices = _rule_choices()
    if not form.is_submitted():
        form.rule.data = "forum-rules"
    if form.is_submitted():
        data = validated(form, s.FlagArgsSchema())
        ok = False
        if data is not None:
            ok, _flag = attempt(form, lambda: services.flag_post(user, post, data["rule"], data["note"]))
        if ok and _htmx():
            return render("forum/_flag_sent.html", post=post)
        if ok:
            return done(".post", _("Thank you: the coordinators will see your flag."), post_id=post.id)
        if _htmx():
            # htmx swaps in only a success; the refusal is shown in place after undoing anything it began.
            rollback_quietly()
            return render("forum/_flag_form.html", post_id=post_id, form=form, inline=True)
    if _htmx():
        return render("forum/_flag_form.html", post_id=post.id, form=form, inline=True)
    view = serialize.posts_view([post], user)[0]
    return render("forum/flag.html", 422 if form.is_submitted() else 200, post=view, thread=post.thread, form=form)


@bp.route("/forum/posts/<int:post_id>/appeal", methods=["GET", "POST"])
@signed_in
def appeal(post_id):
    """Appeal the hiding or redaction of your own post; another coordinator decides."""
    user = _user()
    post = _read(lambda: services.readable_post(user, get_or_404(Post, post_id, "post")))
    if not services.is_author(user, post):
        raise Forbidden(_("Only the author of a post can appeal its moderation."))
    form = ReasonForm()
    if form.is_submitted():
        data = validated(form, s.ForumReasonSchema())
        if data is not None:
            ok, opened = attempt(form, lambda: services.open_appeal(user, post, data["reason"]))
            if ok:
                return done(
                    ".my_appeal",
                    _("Your appeal is sent; a coordinator who did not act on your post decides."),
                    appeal_id=opened.id,
                )
    view = serialize.posts_view([post], user)[0]
    return render("forum/appeal.html", 422 if form.is_submitted() else 200, post=view, thread=post.thread, form=form)


@bp.route("/forum/posts/<int:post_id>/retract", methods=["GET", "POST"])
@signed_in
def retract(post_id):
    """Retract your own post after confirming: its words are erased for good, a placeholder stays."""
    user = _user()
    post = _read(lambda: services.readable_post(user, get_or_404(Post, post_id, "post")))
    if not services.is_author(user, post):
        raise Forbidden(_("Only the author of a post can retract it."))
    form = ConfirmForm()
    if form.is_submitted():
        ok = form.validate() and attempt(form, lambda: services.retract_post(user, post))[0]
        if ok:
            message = _("Your post is retracted; its place in the thread shows that it was.")
            return done(".post", message, post_id=post.id)
    view = serialize.posts_view([post], user)[0]
    return render("forum/retract.html", 422 if form.is_submitted() else 200, post=view, thread=post.thread, form=form)


def _my_appeals(user, post: Post) -> list[ForumAppeal]:
    """The author's appeals on a post, newest first (the page shows them beside the post)."""
    if not services.is_author(user, post):
        return []
    return list(
        db.session.scalars(sa.select(ForumAppeal).where(ForumAppeal.post_id == post.id).order_by(ForumAppeal.id.desc()))
    )


def _escalatable(user, appeal: ForumAppeal) -> bool:
    # The service's own rule: the appeal's author, a member, while no vote or decision has closed it.
    return appeal.author_id == user.id and user.is_member and appeal.status in ("open", "upheld")


@bp.route("/forum/appeals/<int:appeal_id>")
@signed_in
def my_appeal(appeal_id):
    """One appeal as its author follows it: status, decision, and the members' vote it may go to."""
    user = _user()
    appeal = services.readable_appeal(user, get_or_404(ForumAppeal, appeal_id, "forum appeal"))
    return _appeal_page(appeal, user, ConfirmForm(formdata=None), 200)


def _appeal_page(appeal: ForumAppeal, user, form: ConfirmForm, status: int):
    view = serialize.posts_view([appeal.post], user)[0]
    return render(
        "forum/my_appeal.html",
        status,
        appeal=appeal,
        post=view,
        thread=appeal.post.thread,
        form=form,
        escalatable=_escalatable(user, appeal),
    )


@bp.route("/forum/appeals/<int:appeal_id>/escalate", methods=["POST"])
@signed_in
def escalate(appeal_id):
    """Put your appeal to the members as a proposal they vote on."""
    user = _user()
    appeal = services.readable_appeal(user, get_or_404(ForumAppeal, appeal_id, "forum appeal"))
    if appeal.author_id != user.id:
        raise Forbidden(_("Only the author of the appeal can put it to the members."))
    form = ConfirmForm()
    if form.validate():
        ok, escalated = attempt(form, lambda: services.escalate_appeal(user, appeal))
        if ok:
            return done(
                "governance_pages.proposal",
                _("Your appeal is now a proposal; the members will vote on it."),
                proposal_id=escalated.proposal_id,
            )
    return _appeal_page(appeal, user, form, 422)


# --- moderation in the open ---------------------------------------------------------------


@bp.route("/forum/moderation")
@signed_in
def moderation_log():
    """Every hide, redaction and restore, newest first: the post, rule, reason, coordinator and time."""
    post_id = request.args.get("post", type=int)
    if post_id is not None and not 0 < post_id <= MAX_ID:
        post_id = None
    entries, next_cursor = services.moderation_log(limit=LOG_PER_PAGE, cursor=_cursor(), post_id=post_id)
    return render(
        "forum/moderation_log.html", entries=entries, next_cursor=next_cursor, post_id=post_id, paged=bool(_cursor())
    )


def _action_choices(post: Post) -> list[tuple[str, str]]:
    """The actions the post's state allows, so the form offers nothing the service would refuse outright."""
    if not post.hidden:
        names = ["hide", "redact"]
    elif post.redacted:
        names = ["restore"]
    elif post.hidden_by_id is None:  # hidden by members' flags: confirm, redact instead, or restore
        names = ["hide", "redact", "restore"]
    else:
        names = ["redact", "restore"]
    return [(n, str(ACTIONS[n])) for n in names]


def _moderate_form(post: Post, rules: list[tuple[str, str]]) -> ModerateForm:
    form = ModerateForm()
    form.action.choices = _action_choices(post)
    form.rule.choices = rules
    if not form.is_submitted():
        form.rule.data = post.hidden_rule or "forum-rules"
    return form


@bp.route("/forum/posts/<int:post_id>/moderate", methods=["GET", "POST"])
@coordinators_only
def moderate(post_id):
    """Hide, redact or restore a post citing an adopted rule and a reason; the log shows it to everyone."""
    user = _user()
    post = _read(lambda: services.readable_post(user, get_or_404(Post, post_id, "post")))
    form = _moderate_form(post, _rule_choices())
    if form.is_submitted():
        data = validated(form, s.ModerationArgsSchema())
        if data is not None:
            ok, _post = attempt(
                form, lambda: services.moderate(user, post, data["action"], data["rule"], data["reason"])
            )
            if ok:
                message = _("Done; the action is in the public moderation log.")
                if _back() == "flags":
                    return done(".flags", message)
                return done(".post", message, post_id=post.id)
    return _moderate_page(
        post, user, form, ReasonForm(formdata=None, prefix="dismiss"), 422 if form.is_submitted() else 200
    )


def _moderate_page(post: Post, user, form: ModerateForm, dismiss: ReasonForm, status: int):
    view = serialize.posts_view([post], user)[0]
    flags = services.open_flags([post])[post.id]
    return render(
        "forum/moderate.html",
        status,
        post=view,
        thread=post.thread,
        form=form,
        dismiss=dismiss,
        flags=flags,
        back=_back(),
    )


@bp.route("/forum/posts/<int:post_id>/flags/dismiss", methods=["POST"])
@coordinators_only
def dismiss(post_id):
    """Close a post's open flags without acting on it."""
    user = _user()
    post = _read(lambda: services.readable_post(user, get_or_404(Post, post_id, "post")))
    form = ReasonForm(prefix="dismiss")  # beside the action form's own reason on one page
    data = validated(form, s.ForumReasonSchema())
    if data is not None:
        ok, _post = attempt(form, lambda: services.dismiss_flags(user, post, data["reason"]))
        if ok:
            return done(".flags", _("The flags on post %(id)s are dismissed.", id=post.id))
    return _moderate_page(post, user, _moderate_form(post, _rule_choices()), form, 422)


def _with_threads(posts: list[Post]) -> list[Thread]:
    """Their threads in one query (and their boards in one more), so the page does not load them post by post.

    The caller keeps the list: the session holds loaded rows only while something refers to them.
    """
    ids = {p.thread_id for p in posts}
    return list(db.session.scalars(sa.select(Thread).where(Thread.id.in_(ids)))) if ids else []


@bp.route("/coordination/flags")
@coordinators_only
def flags():
    """Posts with open flags, newest first, each with what members said and a form to act on it."""
    posts, next_cursor = services.flag_queue(limit=FLAGS_PER_PAGE, cursor=_cursor())
    threads = {t.id: t for t in _with_threads(posts)}
    summaries = serialize.flag_summaries(posts)
    views = serialize.posts_view(posts, _user())
    rules = _rule_choices()
    items = [
        {"post": view, "summary": summary, "thread": threads[p.thread_id], "actions": _action_choices(p)}
        for p, view, summary in zip(posts, views, summaries, strict=True)
    ]
    return render("forum/flags.html", items=items, rules=rules, next_cursor=next_cursor, paged=bool(_cursor()))


def _decidable(user, appeal: ForumAppeal) -> bool:
    # The service's own rule: neither the coordinator who acted nor the author decides.
    return appeal.status == "open" and user.id not in (appeal.moderation.coordinator_id, appeal.author_id)


@bp.route("/coordination/appeals")
@coordinators_only
def appeals():
    """Forum appeals, oldest first (open ones unless asked otherwise), each with its decision form."""
    status = request.args.get("status", "open")
    if status not in (*APPEAL_STATUSES, "all"):
        status = "open"
    user = _user()
    items, next_cursor = services.appeal_page(
        status=None if status == "all" else status, limit=APPEALS_PER_PAGE, cursor=_cursor()
    )
    return render(
        "forum/appeals.html",
        appeals=[(a, _decidable(user, a)) for a in items],
        shown=status,
        statuses=("open", "upheld", "overturned", "escalated", "closed", "all"),
        next_cursor=next_cursor,
        paged=bool(_cursor()),
    )


@bp.route("/coordination/appeals/<int:appeal_id>", methods=["GET", "POST"])
@coordinators_only
def decide(appeal_id):
    """One appeal and its decision: overturning restores the post, in the public log."""
    user = _user()
    appeal = get_or_404(ForumAppeal, appeal_id, "forum appeal")
    form = DecisionForm()
    if form.is_submitted():
        data = validated(form, s.ForumAppealDecisionSchema())
        if data is not None:
            ok, decided = attempt(form, lambda: services.decide_appeal(user, appeal, data["decision"], data["reason"]))
            if ok:
                return done(
                    ".appeals", _("Appeal %(id)s is %(status)s.", id=decided.id, status=_status(decided.status))
                )
    view = serialize.posts_view([appeal.post], user)[0]
    return render(
        "forum/decide.html",
        422 if form.is_submitted() else 200,
        appeal=appeal,
        post=view,
        form=form,
        decidable=_decidable(user, appeal),
    )


def _status(status: str) -> str:
    return str(APPEAL_STATUS_NAMES.get(status, status))


APPEAL_STATUS_NAMES = {
    "open": _l("open"),
    "upheld": _l("upheld"),
    "overturned": _l("overturned"),
    "escalated": _l("escalated"),
    "closed": _l("closed"),
    "all": _l("all"),
}
MODERATION_NAMES = {
    "hide": _l("hidden"),
    "redact": _l("redacted"),
    "restore": _l("restored"),
    "flag_hide": _l("hidden by members' flags, pending review"),
}


@bp.app_template_global()
def forum_page_url(cursor: str | None = None) -> str:
    """This list again with its filters, from `cursor` on (its first page without one)."""
    values: dict[str, Any] = {**(request.view_args or {})}
    values.update((k, v) for k, v in request.args.items() if k != "cursor")
    if cursor:
        values["cursor"] = cursor
    return url_for(str(request.endpoint), **values)


@bp.app_template_global()
def forum_words() -> dict[str, dict]:
    """Names of appeal states and moderation actions in the reader's language."""
    return {"status": APPEAL_STATUS_NAMES, "action": MODERATION_NAMES}
