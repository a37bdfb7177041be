"""Requester pages: the desk, deposits, posting a batch with the terms checked as you type, a batch, its review queue."""

from collections.abc import Callable
from typing import Any

import marshmallow as ma
from flask import g, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from coop.accounts.permissions import authenticated_user, require
from coop.csvfiles import csv_download
from coop.errors import CoopError, Invalid, TermsViolation
from coop.governance.services import current_terms
from coop.i18n import format_money
from coop.loading import get_or_404
from coop.marketplace import pay, services
from coop.marketplace.models import Assignment, Batch
from coop.marketplace.requesting.breaches import breaches_by_field, parameters_broken
from coop.marketplace.requesting.forms import (
    TERMS_FIELDS,
    BatchForm,
    BonusForm,
    DepositForm,
    LaunchForm,
    MessageForm,
    RaiseForm,
    ReviewForm,
)
from coop.marketplace.schemas import (
    BatchCreateSchema,
    BonusInSchema,
    DepositCreateSchema,
    LaunchSchema,
    MessageInSchema,
    RaiseRewardSchema,
    WorkReviewSchema,
)
from coop.marketplace.services import desk
from coop.marketplace.services.common import check_owns_batch
from coop.pages import done, pages_blueprint, render, signed_in, validated
from coop.pagination import PageArgs

bp = pages_blueprint("requesting", __name__)

# Closed batches take no more changes; their pages only report.
FINISHED = ("cancelled", "expired", "completed")
# An uploaded CSV up to this size comes back as text in a refused form, so fixing one field needs no new upload.
KEPT_UPLOAD_CHARS = 200_000


def nav(user) -> list[tuple[str, str]]:
    if not (user.is_authenticated and user.kind == "requester"):
        return []
    return [
        ("requesting_pages.overview", _l("Overview")),
        ("requesting_pages.new_batch", _l("New batch")),
        ("requesting_pages.deposits", _l("Deposits")),
    ]


def requester_page(view: Callable) -> Callable:
    """Signed in (or sent to sign in) and a requester account, as the API's requester routes ask."""
    return signed_in(require("requester")(view))


def _page_args(limit: int = 50) -> dict:
    try:
        return PageArgs().load(
            {"limit": limit, **({"cursor": request.args["cursor"]} if "cursor" in request.args else {})}
        )
    except ma.ValidationError as exc:
        messages = exc.messages if isinstance(exc.messages, dict) else {"_schema": exc.messages}
        raise Invalid(_("This page address is not one the coop gave out."), messages) from exc


# --- errors beside fields -----------------------------------------------------------------


def _texts(messages: Any, path: tuple = ()) -> list[str]:
    """Any nesting of error messages (schema, CSV lines) as sentences, each saying where."""
    if isinstance(messages, dict):
        if "line" in messages and "message" in messages:
            return [_("Line %(line)s: %(message)s", line=messages["line"], message=messages["message"])]
        found = []
        for key, value in messages.items():
            found.extend(_texts(value, (*path, key)))
        return found
    if isinstance(messages, list | tuple):
        return [text for message in messages for text in _texts(message, path)]
    where = " ".join(f"#{int(p) + 1}" if str(p).isdigit() else str(p) for p in path)
    return [f"{where}: {messages}" if where else str(messages)]


def _place(form, errors: dict, keep_first: bool = False) -> None:
    """Each field's messages beside it; the rest under the form's message at the top of the page."""
    unplaced = []
    for name, messages in (errors or {}).items():
        field = getattr(form, name, None) if form is not None and name != "_schema" else None
        if field is not None and hasattr(field, "errors"):
            if keep_first and field.errors:
                continue  # the form's own reading already said what is wrong with it
            known = list(field.errors or [])
            field.errors = known + [t for t in _texts(messages) if t not in known]
        else:
            unplaced.extend(_texts(messages, () if name == "_schema" else (name,)))
    g.form_error_details = [*g.get("form_error_details", []), *unplaced]


def _attempt(form, action: Callable[[], Any], terms_body: dict | None = None) -> tuple[bool, Any]:
    """A service call for a form: (True, result), or (False, None) with the refusal beside the fields.

    Refusals of who may act (401, 403, 404) stay errors of the page. A terms breach is told in
    the reader's language, each beside its field.
    """
    try:
        return True, action()
    except TermsViolation as exc:
        g.form_status = exc.status
        if terms_body is None:
            _place(form, exc.errors)
            g.form_error = exc.message
        else:
            terms = current_terms()
            _place(form, breaches_by_field(terms_body, terms) or exc.errors)
            g.form_error = _(
                "This breaks terms version %(version)s: %(parameters)s. Each breach is shown beside its field.",
                version=terms.version,
                parameters=", ".join(parameters_broken(terms_body, terms)),
            )
    except CoopError as exc:
        if exc.status in (401, 403, 404):
            raise
        g.form_status = exc.status
        _place(form, exc.errors)
        g.form_error = exc.message
    return False, None


def _failed() -> int:
    return g.get("form_status", 422)


# --- the desk -------------------------------------------------------------------------------


@bp.route("/requester")
@requester_page
def overview():
    """Balances, and the requester's batches with their progress."""
    found = desk.requester_overview(authenticated_user(), _page_args())
    return render("requesting/overview.html", **found)


@bp.route("/requester/deposits", methods=["GET", "POST"])
@requester_page
def deposits():
    """Declare a bank transfer into your funds; see which ones a coordinator confirmed."""
    user = authenticated_user()
    form = DepositForm()
    if form.is_submitted():
        data = validated(form, DepositCreateSchema())
        if data is not None:
            ok, deposit = _attempt(
                form, lambda: services.request_deposit(user, data["amount_cents"], data["payment_reference"])
            )
            if ok:
                return done(
                    "requesting_pages.deposits",
                    _(
                        "Deposit of %(amount)s declared. It counts once a coordinator confirms that the transfer "
                        "arrived.",
                        amount=format_money(deposit.amount_cents),
                    ),
                )
    listed, next_cursor = services.list_deposits(user, _page_args())
    balance = services.balance_of(user)
    status = _failed() if form.is_submitted() else 200
    return render(
        "requesting/deposits.html", status, form=form, deposits=listed, next_cursor=next_cursor, balance=balance
    )


# --- posting a batch ------------------------------------------------------------------------


def _new_batch_page(form: BatchForm, status: int = 200):
    return render("requesting/new_batch.html", status, form=form, terms=current_terms(), terms_fields=TERMS_FIELDS)


def _keeping_upload(form: BatchForm, body: dict) -> BatchForm:
    """A refused form keeps an uploaded CSV as pasted text: browsers never fill a file input back in."""
    form.move_csv_errors()
    text = body.get("items_csv")
    if text and not (form.items.data or "").strip() and len(text) <= KEPT_UPLOAD_CHARS and not form.items_csv.errors:
        form.items.data = text
        form.items_csv.description = _(
            "Your file is kept as text in Items above; choose a file again only to replace it."
        )
    return form


@bp.route("/requester/batches/new", methods=["GET", "POST"])
@requester_page
def new_batch():
    """Post a batch: every field the API takes; a batch that breaks the terms comes back with each breach beside its field."""
    user = authenticated_user()
    form = BatchForm()
    if not form.is_submitted():
        return _new_batch_page(form)
    form.validate()
    body = form.body()
    data = None
    try:
        data = BatchCreateSchema().load(body)
    except ma.ValidationError as exc:
        _place(form, exc.messages if isinstance(exc.messages, dict) else {"_schema": exc.messages}, keep_first=True)
    if any(field.errors for field in form):
        # The terms are told too, so one round shows everything to fix.
        draft = form.terms_draft()
        if (
            isinstance(draft["reward_cents"], int)
            and isinstance(draft["est_seconds"], int)
            and draft["est_seconds"] > 0
        ):
            _place(form, breaches_by_field(draft))
        g.form_error = g.get("form_error") or _("Some fields need another look; see the message beside each one.")
        return _new_batch_page(_keeping_upload(form, body), 422)
    ok, batch = _attempt(form, lambda: services.create_batch(user, data), terms_body=data)
    if not ok:
        return _new_batch_page(_keeping_upload(form, body), _failed())
    return done(
        "requesting_pages.batch",
        _("Batch posted: %(cost)s moved into escrow.", cost=format_money(batch.escrow_cents)),
        batch_id=batch.id,
    )


@bp.route("/requester/batches/check", methods=["POST"])
@requester_page
def check_batch():
    """The terms check as you type (htmx): each field's breaches, swapped in beside it, and a summary."""
    form = BatchForm()
    draft = form.terms_draft()
    errors: dict[str, list[str]] = {}
    for name in ("reward_cents", "est_seconds"):
        raw = (getattr(form, name).data or "").strip()
        if raw and (draft[name] is None or draft[name] < 1):
            errors[name] = [_("Give a whole number above 0.")]
    rate_known = not errors and draft["reward_cents"] is not None and draft["est_seconds"] is not None
    probe = draft if rate_known else {**draft, "reward_cents": 1, "est_seconds": 1}
    terms = current_terms()
    for field, messages in breaches_by_field(probe, terms).items():
        if field == "reward_cents" and not rate_known:
            continue  # no rate to judge until both numbers are given
        errors.setdefault(field, []).extend(messages)
    broken = [p for p in parameters_broken(probe, terms) if rate_known or p != "min_hourly_rate_cents"]
    return render(
        "requesting/_terms_check.html",
        errors=errors,
        broken=broken,
        terms=terms,
        fields=TERMS_FIELDS,
        rate=pay.hourly_rate_cents(draft["reward_cents"], draft["est_seconds"]) if rate_known else None,
    )


# --- a batch --------------------------------------------------------------------------------


def _batch_page(user, batch: Batch, status: int = 200, **forms):
    found = desk.batch_desk(user, batch)
    launch_form = forms.get("launch_form") or LaunchForm(formdata=None, data={"instructions": batch.instructions})
    raise_form = forms.get("raise_form") or RaiseForm(
        formdata=None, data={"reward_cents": batch.required_reward_cents or batch.reward_cents}
    )
    return render(
        "requesting/batch.html",
        status,
        batch=batch,
        launch_form=launch_form,
        raise_form=raise_form,
        finished=batch.status in FINISHED,
        **found,
    )


@bp.route("/requester/batches/<int:batch_id>")
@requester_page
def batch(batch_id):
    """One batch: progress, status, pilot launch, messages from workers, results."""
    return _batch_page(authenticated_user(), get_or_404(Batch, batch_id, "batch"))


@bp.route("/requester/batches/<int:batch_id>/launch", methods=["POST"])
@requester_page
def launch(batch_id):
    user = authenticated_user()
    batch = get_or_404(Batch, batch_id, "batch")
    check_owns_batch(user, batch)
    form = LaunchForm()
    data = validated(form, LaunchSchema())
    if data is not None:
        revised = {
            "reward_cents": data.get("reward_cents") or batch.reward_cents,
            "est_seconds": data.get("est_seconds") or batch.est_seconds,
            "purpose": batch.purpose,
            "impersonation_notice": batch.impersonation_notice,
            "end_client": batch.end_client,
            "personal_data": batch.personal_data,
            "dpa_reference": batch.dpa_reference,
            "content_warnings": batch.content_warnings,
        }
        ok, _launched = _attempt(form, lambda: services.launch(user, batch, data), terms_body=revised)
        if ok:
            return done("requesting_pages.batch", _("Batch launched: every slot is open now."), batch_id=batch.id)
    return _batch_page(user, batch, _failed(), launch_form=form)


@bp.route("/requester/batches/<int:batch_id>/raise", methods=["POST"])
@requester_page
def raise_reward(batch_id):
    user = authenticated_user()
    batch = get_or_404(Batch, batch_id, "batch")
    check_owns_batch(user, batch)
    form = RaiseForm()
    data = validated(form, RaiseRewardSchema())
    if data is not None:
        ok, _raised = _attempt(form, lambda: services.raise_reward(user, batch, data["reward_cents"]))
        if ok:
            return done(
                "requesting_pages.batch",
                _(
                    "Reward raised to %(reward)s; approved work is paid the difference.",
                    reward=format_money(batch.reward_cents),
                ),
                batch_id=batch.id,
            )
    return _batch_page(user, batch, _failed(), raise_form=form)


@bp.route("/requester/batches/<int:batch_id>/cancel", methods=["POST"])
@requester_page
def cancel(batch_id):
    user = authenticated_user()
    batch = get_or_404(Batch, batch_id, "batch")
    check_owns_batch(user, batch)
    ok, _cancelled = _attempt(None, lambda: services.cancel_batch(user, batch))
    if ok:
        return done(
            "requesting_pages.batch",
            _("Batch cancelled: unclaimed slots are refunded; work in progress is still paid when approved."),
            batch_id=batch.id,
        )
    return _batch_page(user, batch, _failed())


@bp.route("/requester/batches/<int:batch_id>/<any(pause, unpause):action>", methods=["POST"])
@requester_page
def pause(batch_id, action):
    """Pause new claims on the batch, or lift that pause; work already claimed goes on either way."""
    user = authenticated_user()
    batch = get_or_404(Batch, batch_id, "batch")
    check_owns_batch(user, batch)
    if action == "pause":
        ok, _paused = _attempt(None, lambda: services.pause_batch(user, batch))
        message = _("Batch paused: it takes no new claims; work already claimed can still be submitted.")
    else:
        ok, _resumed = _attempt(None, lambda: services.unpause_batch(user, batch))
        message = _("Batch resumed: members can claim its work again.")
    if ok:
        return done("requesting_pages.batch", message, batch_id=batch.id)
    return _batch_page(user, batch, _failed())


@bp.route("/requester/batches/<int:batch_id>/results.csv")
@requester_page
def results(batch_id):
    """The batch's approved work as CSV, the same file the API gives."""
    header, lines = services.export_results(authenticated_user(), get_or_404(Batch, batch_id, "batch"))
    return csv_download(header, lines, f"batch-{batch_id}-results.csv")


# --- review ---------------------------------------------------------------------------------


def _review_page(user, batch: Batch, status: int = 200, failed: tuple[int, str, Any] | None = None):
    assignments, next_cursor = desk.review_queue(user, batch, _page_args())
    return render(
        "requesting/review.html",
        status,
        batch=batch,
        assignments=assignments,
        next_cursor=next_cursor,
        failed=failed,
    )


@bp.route("/requester/batches/<int:batch_id>/review")
@requester_page
def review_queue(batch_id):
    """Submitted work awaiting review, oldest first: approve, or reject saying why; a bonus for good work."""
    return _review_page(authenticated_user(), get_or_404(Batch, batch_id, "batch"))


def _own_assignment(user, assignment_id: int) -> Assignment:
    assignment = get_or_404(Assignment, assignment_id, "assignment")
    check_owns_batch(user, assignment.batch)
    return assignment


@bp.route("/requester/assignments/<int:assignment_id>/review", methods=["POST"])
@requester_page
def review(assignment_id):
    user = authenticated_user()
    assignment = _own_assignment(user, assignment_id)
    form = ReviewForm()
    data = validated(form, WorkReviewSchema())
    if data is not None:
        ok, reviewed = _attempt(form, lambda: services.review(user, assignment, data["decision"], data["reason"]))
        if ok:
            message = (
                _("Approved: %(worker)s is paid.", worker=reviewed.worker.display_name)
                if data["decision"] == "approve"
                else _("Rejected: %(worker)s can read your reason and appeal.", worker=reviewed.worker.display_name)
            )
            return done("requesting_pages.review_queue", message, batch_id=assignment.batch_id)
    return _review_page(user, assignment.batch, _failed(), (assignment.id, "review", form))


@bp.route("/requester/assignments/<int:assignment_id>/bonus", methods=["POST"])
@requester_page
def bonus(assignment_id):
    user = authenticated_user()
    assignment = _own_assignment(user, assignment_id)
    form = BonusForm()
    data = validated(form, BonusInSchema())
    if data is not None:
        ok, paid = _attempt(
            form, lambda: services.pay_bonus(user, assignment, data["amount_cents"], data["reason"].strip())
        )
        if ok:
            return done(
                "requesting_pages.review_queue",
                _("Bonus of %(amount)s paid.", amount=format_money(paid.amount_cents)),
                batch_id=assignment.batch_id,
            )
    return _review_page(user, assignment.batch, _failed(), (assignment.id, "bonus", form))


@bp.route("/requester/assignments/<int:assignment_id>/messages", methods=["GET", "POST"])
@requester_page
def conversation(assignment_id):
    """The messages about one piece of work, under the worker's pseudonym, and a reply."""
    user = authenticated_user()
    assignment = _own_assignment(user, assignment_id)
    form = MessageForm()
    if form.is_submitted():
        data = validated(form, MessageInSchema())
        if data is not None:
            ok, _sent = _attempt(form, lambda: services.send_message(user, assignment, data["body"]))
            if ok:
                return done("requesting_pages.conversation", _("Message sent."), assignment_id=assignment.id)
    messages, next_cursor = services.read_messages(user, assignment, _page_args(100))
    status = _failed() if form.is_submitted() else 200
    return render(
        "requesting/conversation.html",
        status,
        assignment=assignment,
        messages=messages,
        next_cursor=next_cursor,
        form=form,
    )
