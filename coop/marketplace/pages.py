"""Workers' marketplace pages: the dashboard, the task feed, a task with its answer form, my work and appeals."""

from __future__ import annotations

import json
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app, g, request
from flask_babel import format_date, format_datetime, format_timedelta
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy.orm.attributes import set_committed_value
from werkzeug.exceptions import MethodNotAllowed, NotFound
from wtforms import BooleanField, Field, RadioField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length
from wtforms.widgets import CheckboxInput, ListWidget

from coop import clock, ledger
from coop.errors import CoopError, Forbidden, Invalid
from coop.extensions import db, limiter
from coop.governance.models import Membership
from coop.governance.services import current_terms, remember_terms_in_force
from coop.governance.services.open_votes import open_votes
from coop.loading import get_or_404
from coop.marketplace import pay, services
from coop.marketplace.forms import MAX_TEXT
from coop.marketplace.models import CONTENT_WARNINGS, Appeal, Assignment, Batch, Bonus
from coop.marketplace.schemas import WorkAppealInSchema
from coop.marketplace.services.messages import MESSAGE_MAX
from coop.pages import attempt, done, pages_blueprint, render, signed_in, validated

bp = pages_blueprint("marketplace", __name__)

FEED_PAGE = 20
WORK_PAGE = 50
DASHBOARD_TASKS = 5
MESSAGES_SHOWN = 100
SORTS = {"recommended": _l("Recommended"), "pay": _l("Best pay"), "newest": _l("Newest")}
PURPOSE_LABELS = {
    "preparation": _l("Preparing data (labelling, transcribing)"),
    "verification": _l("Checking an AI system's output"),
    "impersonation": _l("Answering in place of an AI system"),
}
WARNING_LABELS = {
    "violence": _l("Violence"),
    "sexual": _l("Sexual content"),
    "hate": _l("Hate speech"),
    "self_harm": _l("Self-harm"),
    "disturbing": _l("Disturbing images or text"),
}
STATUS_LABELS = {
    "claimed": _l("In progress"),
    "submitted": _l("Submitted, awaiting review"),
    "approved": _l("Approved"),
    "rejected": _l("Rejected"),
    "expired": _l("Returned or lapsed"),
}
APPEAL_LABELS = {
    "pending": _l("Appeal pending"),
    "upheld": _l("Appeal upheld the rejection"),
    "overturned": _l("Appeal won: paid"),
}
MEMBERSHIP_LABELS = {
    "pending_payment": _l("Applied: waiting for a coordinator to confirm your share payment"),
    "applicant": _l("Applied: waiting for admission"),
    "member": _l("Member"),
    "withdrawn": _l("Former member"),
    "refused": _l("Application refused"),
}
# The answer-form checks speak English in the API; a page says the common ones in the reader's language.
ANSWER_MESSAGES = {
    "This field is required.": _l("This field is required."),
    "This field is required; it cannot be blank.": _l("This field is required; it cannot be blank."),
    "Give a number.": _l("Give a number."),
    "Give a finite number.": _l("Give a number."),
    "Give true or false.": _l("Choose yes or no."),
}


def nav(user) -> list[tuple[str, str]]:
    if not user.is_authenticated:
        return []
    items = [("marketplace_pages.dashboard", _l("Dashboard"))]
    if user.kind == "worker":
        items += [("marketplace_pages.feed", _l("Tasks")), ("marketplace_pages.my_work", _l("My work"))]
    return items


@bp.before_request
def _terms_once():
    # Leases, appeal windows and sweeps all read the terms in force: one query for the whole page.
    if current_user.is_authenticated:
        remember_terms_in_force(current_terms())


@bp.context_processor
def _labels():
    return {
        "purpose_labels": PURPOSE_LABELS,
        "warning_labels": WARNING_LABELS,
        "status_labels": STATUS_LABELS,
        "appeal_labels": APPEAL_LABELS,
        "membership_labels": MEMBERSHIP_LABELS,
        "per_hour": per_hour,
        "duration": duration,
        "time_left": time_left,
        "page_path": page_path,
        "format_datetime": format_datetime,
        "format_date": format_date,
    }


def per_hour(cents: int) -> str:
    from coop.i18n import format_money

    return _("%(money)s an hour", money=format_money(cents))


def duration(seconds: float | None) -> str:
    """Working time as a person reads it: seconds under a minute, else minutes and seconds."""
    if seconds is None:
        return ""
    whole = round(seconds)
    if whole < 60:
        return _("%(seconds)s s", seconds=whole)
    minutes, rest = divmod(whole, 60)
    if rest == 0:
        return _("%(minutes)s min", minutes=minutes)
    return _("%(minutes)s min %(seconds)s s", minutes=minutes, seconds=rest)


def time_left(until) -> str:
    """How long until `until`, in words ('in 3 days'), or that it has passed."""
    left = until - clock.now()
    if left <= timedelta(0):
        return _("now over")
    return format_timedelta(left, add_direction=True, threshold=0.9)


def page_path(path: str) -> str | None:
    """`path` when some page serves it (another domain's pages may not be installed), else None."""
    adapter = current_app.url_map.bind("localhost")
    try:
        adapter.match(path, method="GET")
    except (NotFound, MethodNotAllowed):
        return None
    except Exception:  # a redirect (e.g. a trailing slash) still means a page is there
        return path
    return path


# --- who may open these pages -----------------------------------------------------------------


def _user():
    return current_user._get_current_object()


def _worker():
    """The signed-in worker (member or not); requesters have their own pages."""
    user = _user()
    if user.kind != "worker":
        raise Forbidden(_("These pages are for workers; requesters manage their batches from their own pages."))
    return user


def _member():
    user = _worker()
    if not user.is_member:
        raise Forbidden(_("Only members claim tasks. Become a member by buying your share."))
    return user


def _own_assignment(assignment_id: int) -> Assignment:
    """An assignment of the signed-in worker, with its due lease expiry or approval applied."""
    user = _worker()
    assignment = get_or_404(Assignment, assignment_id, "assignment")
    # The service's check first (the API's rule), then pages show a worker only their own work.
    services.read_assignment(user, assignment)
    if assignment.worker_id != user.id:
        raise Forbidden(_("This assignment is another worker's."))
    return assignment


# --- forms ---------------------------------------------------------------------------------------


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class ClaimForm(FlaskForm):
    accept_confidentiality = BooleanField(_l("I accept to keep these items confidential"))


class PreferencesForm(FlaskForm):
    content_opt_in = MultiCheckboxField(
        _l("I accept tasks with these content warnings"),
        choices=[SelectChoice(name, WARNING_LABELS[name]) for name in CONTENT_WARNINGS],
    )


class AppealForm(FlaskForm):
    reason = TextAreaField(
        _l("Why the rejection was wrong"),
        validators=[DataRequired(), Length(max=5_000)],
        description=_l("A coordinator reads your answer, the rejection and this reason, then decides."),
    )


class MessageForm(FlaskForm):
    body = TextAreaField(_l("Message to the requester"), validators=[DataRequired(), Length(max=MESSAGE_MAX)])


class JsonAnswerForm(FlaskForm):
    answer = TextAreaField(
        _l("Your answer (JSON)"),
        description=_l('This batch has no answer form: write a JSON object, for example {"label": "cat"}.'),
    )

    def answer_and_errors(self) -> tuple[dict | None, bool]:
        text = (self.answer.data or "").strip()
        try:
            value = json.loads(text) if text else None
        except ValueError:
            value = None
        if not isinstance(value, dict):
            self.answer.errors = [_("Write a JSON object, between { and }.")]
            return None, False
        return value, True

    def place(self, errors) -> list[str]:
        self.answer.errors = [*_flatten(errors)]
        return []


def _flatten(errors) -> list[str]:
    if isinstance(errors, dict):
        return [f"{key}: {text}" for key, texts in errors.items() for text in _flatten(texts)]
    if isinstance(errors, list):
        return [str(_translated(t)) for t in errors]
    return [str(_translated(errors))]


def _translated(text) -> str:
    return str(ANSWER_MESSAGES.get(text, text)) if isinstance(text, str) else str(text)


class BatchAnswerForm(FlaskForm):
    """An answer form built from a batch's `answer_fields`; each field is `answer_<name>`."""

    specs: list[dict] = []

    def answer_and_errors(self) -> tuple[dict | None, bool]:
        answer: dict = {}
        ok = True
        for spec in self.specs:
            field = self[f"answer_{spec['name']}"]
            raw = field.data
            raw = raw.strip() if isinstance(raw, str) and spec["type"] != "text" else raw
            if raw is None or raw == "":
                continue  # absent: the service says whether that is allowed
            if spec["type"] == "number":
                number = _number(raw)
                if number is None:
                    field.errors = [_("Give a number.")]
                    ok = False
                    continue
                answer[spec["name"]] = number
            elif spec["type"] == "boolean":
                answer[spec["name"]] = raw == "true"
            elif spec["type"] == "text":
                if raw.strip() or spec.get("required", True):
                    answer[spec["name"]] = raw
            else:
                answer[spec["name"]] = raw
        return answer, ok

    def place(self, errors) -> list[str]:
        """The service's per-field refusals beside their fields; the rest returned."""
        if not isinstance(errors, dict):
            return _flatten(errors)
        unplaced: list[str] = []
        for name, texts in errors.items():
            key = f"answer_{name}"
            if key in self:
                self[key].errors = [*(self[key].errors or []), *_flatten(texts)]
            else:
                unplaced.extend(f"{name}: {t}" for t in _flatten(texts))
        return unplaced


def _number(text: str) -> int | float | None:
    cleaned = text.replace("\u202f", "").replace("\xa0", "").replace(" ", "").replace(",", ".")
    try:
        return int(cleaned)
    except ValueError:
        pass
    try:
        value = float(cleaned)
    except ValueError:
        return None
    return value if value == value and value not in (float("inf"), float("-inf")) else None


def _answer_field(spec: dict) -> Field:
    label = spec.get("label") or spec["name"]
    if not spec.get("required", True):
        label = _("%(label)s (optional)", label=label)
    kind = spec["type"]
    if kind == "choice":
        options = [SelectChoice(option, option) for option in spec["options"]]
        if len(options) > 8:
            return SelectField(label, choices=[SelectChoice("", _("Choose…")), *options])
        return RadioField(label, choices=options)
    if kind == "boolean":
        return RadioField(label, choices=[SelectChoice("true", _("Yes")), SelectChoice("false", _("No"))])
    if kind == "number":
        return StringField(label, render_kw={"inputmode": "decimal", "autocomplete": "off"})
    return TextAreaField(label, render_kw={"maxlength": MAX_TEXT})


def answer_form(batch: Batch) -> FlaskForm:
    """The form a worker answers this batch's item with: its own fields, or a JSON box without any."""
    if batch.answer_fields is None:
        return JsonAnswerForm()
    attrs = {f"answer_{spec['name']}": _answer_field(spec) for spec in batch.answer_fields}
    attrs["specs"] = batch.answer_fields
    return type("AnswerForm", (BatchAnswerForm,), attrs)()


# --- dashboard ---------------------------------------------------------------------------------------


@bp.route("/dashboard")
@signed_in
def dashboard():
    """Where a signed-in person starts: open votes, tasks to claim, earnings and membership."""
    user = _user()
    context: dict = {"votes": [], "tasks": [], "now": clock.now()}
    if user.kind == "worker":
        context["earnings_cents"] = ledger.balance(ledger.worker_earnings(user.id))
        context["membership"] = db.session.get(Membership, user.id)
    else:
        context["balance"] = services.balance_of(user)
    if user.is_member:
        context["votes"] = open_votes(user, context["now"])
        context["tasks"], _next = services.list_batches(
            user, {"limit": DASHBOARD_TASKS, "cursor": None, "sort": "recommended"}
        )
    return render("marketplace/dashboard.html", **context)


# --- the task feed -------------------------------------------------------------------------------------


@bp.route("/tasks")
@signed_in
def feed():
    """Open batches a member may work on, best first, each with its pay, time, warnings, client and purpose."""
    return _feed_page()


def _feed_page(status: int = 200):
    user = _worker()
    sort = request.args.get("sort") if request.args.get("sort") in SORTS else "recommended"
    batches: list[Batch] = []
    next_cursor: str | None = None
    if user.is_member:
        batches, next_cursor = services.list_batches(
            user, {"limit": FEED_PAGE, "cursor": request.args.get("cursor") or None, "sort": sort}
        )
    return render(
        "marketplace/feed.html",
        status,
        batches=batches,
        next_cursor=next_cursor,
        sort=sort,
        sorts=SORTS,
        opted_in=[str(WARNING_LABELS[w]) for w in services.get_preferences(user)["content_opt_in"]]
        if user.is_member
        else [],
    )


@bp.route("/tasks/claim/<int:batch_id>", methods=["POST"])
@signed_in
def claim(batch_id: int):
    """Claim the batch's next item, then work on it."""
    user = _member()
    batch = get_or_404(Batch, batch_id, "batch")
    form = ClaimForm()
    try:
        assignment = services.claim(user, batch, bool(form.accept_confidentiality.data))
    except CoopError as exc:
        # Shown above the feed; the status rolls back anything the refused claim began.
        g.form_error = exc.message
        return _feed_page(exc.status)
    return done(
        "marketplace_pages.task",
        _l("You claimed a task. Answer it before your lease ends."),
        assignment_id=assignment.id,
    )


@bp.route("/tasks/preferences", methods=["GET", "POST"])
@signed_in
def preferences():
    """Which content warnings a member accepts tasks under; batches with others never reach their feed."""
    user = _worker()
    form = PreferencesForm()
    if not form.is_submitted():
        form.content_opt_in.data = services.get_preferences(user)["content_opt_in"]
    elif form.validate():
        services.set_preferences(user, form.content_opt_in.data or [])
        return done("marketplace_pages.feed", _l("Your content preferences are saved."))
    return render("marketplace/preferences.html", 422 if form.is_submitted() else 200, form=form)


# --- one task ------------------------------------------------------------------------------------------


@bp.route("/tasks/<int:assignment_id>")
@signed_in
def task(assignment_id: int):
    """The item to work on and its answer form while the claim lasts; afterwards what became of it."""
    assignment = _own_assignment(assignment_id)
    form = answer_form(assignment.batch) if assignment.status == "claimed" else None
    return _task_page(assignment, form)


def _task_page(assignment: Assignment, form, status: int = 200, message_form=None):
    user = _user()
    messages, _next = services.read_messages(user, assignment, {"limit": MESSAGES_SHOWN, "cursor": None})
    batch = assignment.batch
    lease_end = None
    if assignment.status == "claimed":
        lease_minutes = services.protections_in_force(batch)["claim_lease_minutes"]
        lease_end = max(assignment.lease_expires_at, assignment.claimed_at + timedelta(minutes=lease_minutes))
    return render(
        "marketplace/task.html",
        status,
        assignment=assignment,
        batch=batch,
        item=_item_rows(assignment.item.data) if assignment.status == "claimed" else None,
        form=form,
        lease_end=lease_end,
        messages=messages,
        message_form=message_form or MessageForm(formdata=None),
        appeal=assignment.appeal if assignment.status == "rejected" or assignment.review_decision == "reject" else None,
        appeal_deadline=services.appeal_deadline(assignment),
        now=clock.now(),
    )


def _item_rows(data) -> list[tuple[str, str, bool]]:
    """The item's fields as (name, text, is_structured); never markup, the template escapes it all."""
    if not isinstance(data, dict):
        return [("", json.dumps(data, ensure_ascii=False, indent=2), True)]
    rows = []
    for key, value in data.items():
        if isinstance(value, str):
            rows.append((str(key), value, False))
        elif isinstance(value, bool | int | float) or value is None:
            rows.append((str(key), json.dumps(value), False))
        else:
            rows.append((str(key), json.dumps(value, ensure_ascii=False, indent=2), True))
    return rows


@bp.route("/tasks/<int:assignment_id>/submit", methods=["POST"])
@signed_in
def submit(assignment_id: int):
    """Hand in the answer; a refused answer comes back with each problem beside its field (422)."""
    user = _worker()
    assignment = get_or_404(Assignment, assignment_id, "assignment")
    if assignment.worker_id != user.id:
        raise Forbidden(_("This assignment is another worker's."))
    form = answer_form(assignment.batch)
    answer, readable = form.answer_and_errors()
    if readable:
        try:
            services.submit(user, assignment.id, answer)
        except Invalid as exc:
            g.form_error = _("Your answer was not handed in; see what to fix beside each field.")
            g.form_error_details = form.place((exc.errors or {}).get("answer", exc.errors or exc.message))
            return _task_page(assignment, form, 422)
        except CoopError as exc:
            g.form_error = exc.message
            return _task_page(assignment, None, exc.status)
        return done("marketplace_pages.my_work", _l("Your answer was handed in. Thank you."))
    g.form_error = _("Your answer was not handed in; see what to fix beside each field.")
    return _task_page(assignment, form, 422)


@bp.route("/tasks/<int:assignment_id>/return", methods=["POST"])
@signed_in
def return_task(assignment_id: int):
    """Give the task back without penalty; its item goes back to the pool."""
    user = _worker()
    assignment = get_or_404(Assignment, assignment_id, "assignment")
    ok, _result = attempt(None, lambda: services.return_claim(user, assignment))
    if not ok:
        return _task_page(assignment, None, 409)
    return done("marketplace_pages.feed", _l("You gave the task back; nothing counts against you."))


def _message_author_key() -> str:
    # The same key and scope as the API's, so pages and API share one allowance.
    return f"messages:user:{current_user.id if current_user.is_authenticated else '-'}"


@bp.route("/tasks/<int:assignment_id>/messages", methods=["POST"])
@limiter.limit(lambda: current_app.config["COOP_MESSAGE_RATE"], key_func=_message_author_key, scope="messages")
@signed_in
def send_message(assignment_id: int):
    """Write to the batch's requester about this task; they see your pseudonym only."""
    assignment = _own_assignment(assignment_id)
    form = MessageForm()
    if form.validate():
        ok, _message = attempt(form, lambda: services.send_message(_user(), assignment, form.body.data))
        if ok:
            return done("marketplace_pages.task", _l("Your message was sent."), assignment_id=assignment.id)
    current = answer_form(assignment.batch) if assignment.status == "claimed" else None
    return _task_page(assignment, current, 422, message_form=form)


# --- my work and appeals ------------------------------------------------------------------------------


@bp.route("/work")
@signed_in
def my_work():
    """Every assignment of mine, newest first: its state, what it paid, rejections and appeals."""
    user = _worker()
    status = request.args.get("status") if request.args.get("status") in STATUS_LABELS else None
    assignments, next_cursor = services.my_assignments(
        user, {"limit": WORK_PAGE, "cursor": request.args.get("cursor") or None, "status": status}
    )
    bonuses = _bonuses_of(assignments)
    _attach_appeals(assignments)
    rows = [
        {
            "assignment": a,
            "earned_cents": a.paid_cents + bonuses.get(a.id, 0),
            "appeal": a.appeal if a.review_decision == "reject" else None,
            "appeal_deadline": services.appeal_deadline(a) if a.status == "rejected" and a.appeal is None else None,
        }
        for a in assignments
    ]
    return render(
        "marketplace/my_work.html",
        rows=rows,
        next_cursor=next_cursor,
        status=status,
        earnings_cents=ledger.balance(ledger.worker_earnings(user.id)),
        now=clock.now(),
    )


def _bonuses_of(assignments: list[Assignment]) -> dict[int, int]:
    ids = [a.id for a in assignments if a.status in ("submitted", "approved")]
    if not ids:
        return {}
    rows = db.session.execute(
        sa.select(Bonus.assignment_id, sa.func.sum(Bonus.amount_cents))
        .where(Bonus.assignment_id.in_(ids))
        .group_by(Bonus.assignment_id)
    ).all()
    return {assignment_id: int(total) for assignment_id, total in rows}


def _attach_appeals(assignments: list[Assignment]) -> None:
    # One query for the page's appeals, instead of one per rejected assignment.
    rejected = [a for a in assignments if a.review_decision == "reject"]
    if not rejected:
        return
    found = {
        appeal.assignment_id: appeal
        for appeal in db.session.scalars(sa.select(Appeal).where(Appeal.assignment_id.in_([a.id for a in rejected])))
    }
    for a in rejected:
        set_committed_value(a, "appeal", found.get(a.id))


@bp.route("/work/<int:assignment_id>/appeal", methods=["GET", "POST"])
@signed_in
def appeal(assignment_id: int):
    """Ask the coordinators to overturn a rejection, within the appeal window."""
    user = _worker()
    assignment = _own_assignment(assignment_id)
    form = AppealForm()
    if form.is_submitted():
        data = validated(form, WorkAppealInSchema())
        if data is not None:
            ok, _appeal = attempt(form, lambda: services.file_appeal(user, assignment, data["reason"]))
            if ok:
                return done("marketplace_pages.my_work", _l("Your appeal was filed; a coordinator will decide it."))
    return render(
        "marketplace/appeal.html",
        422 if form.is_submitted() else 200,
        form=form,
        assignment=assignment,
        batch=assignment.batch,
        deadline=services.appeal_deadline(assignment),
    )


def hourly(batch: Batch) -> int:
    """The promised pay per hour of a batch: its reward over its estimated time."""
    return pay.hourly_rate_cents(batch.reward_cents, batch.est_seconds)


bp.add_app_template_filter(hourly, "hourly_cents")
