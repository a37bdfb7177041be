"""Governance pages: the terms and rules in force, proposals, ballots of every method, results, delegation, triage."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from flask import abort, g, request, url_for
from flask_babel import format_date, format_datetime
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from coop import clock
from coop.accounts.permissions import has_role
from coop.errors import CoopError
from coop.extensions import db
from coop.forum.markdown import render as render_markdown
from coop.governance import labels, services
from coop.governance.models import (
    CLOSED_STATUSES,
    PROPOSAL_KINDS,
    VOTING_METHODS,
    Amendment,
    Proposal,
    TermsVersion,
)
from coop.governance.terms import FOUNDING_TERMS, NUMERIC_PARAMS
from coop.loading import get_or_404
from coop.pages import done, pages_blueprint, render, signed_in
from coop.unit_of_work import rollback_quietly

bp = pages_blueprint("governance", __name__)

PAGE_SIZE = 20
RECEIPTS_PAGE = 50
# Parameters a terms proposal may change through the form; the currency and the local minimum table are left to the API.
FORM_PARAMS = [name for name in FOUNDING_TERMS if name not in ("currency", "local_min_hourly_cents")]
LIST_FILTERS = {
    "open": ("open",),
    "waiting": ("submitted", "returned"),
    "closed": CLOSED_STATUSES,
    "all": None,
}
SCORES = range(0, 6)


def nav(user) -> list[tuple[str, Any]]:
    items: list[tuple[str, Any]] = []
    if user.is_authenticated and has_role(user, "member"):
        items.append(("governance_pages.proposals", _l("Proposals")))
    if user.is_authenticated and has_role(user, "coordinator"):
        items.append(("governance_pages.triage", _l("Triage")))
    items += [("governance_pages.terms", _l("Terms")), ("governance_pages.rules", _l("Rules"))]
    return items


class Form:
    """A hand-built form's submitted values and its errors by field (ballots and proposals vary by method and kind)."""

    def __init__(self, values=None):
        self.values = values if values is not None else {}
        self.errors: dict[str, list[str]] = {}

    def get(self, name: str, default: str = "") -> str:
        value = self.values.get(name, default)
        return "" if value is None else str(value)

    def getlist(self, name: str) -> list[str]:
        return self.values.getlist(name) if hasattr(self.values, "getlist") else list(self.values.get(name, []))

    def error(self, name: str, message: str) -> None:
        self.errors.setdefault(name, []).append(str(message))

    def refusal(self, exc: CoopError, rename: dict[str, str] | None = None) -> None:
        """A service's refusal on the form: its field errors beside the fields, the rest at the top."""
        unplaced: list[str] = []
        for name, messages in _flat_errors(exc.errors or {}):
            target = (rename or {}).get(name, name)
            if target in self.known:
                for message in messages:
                    self.error(target, message)
            else:
                unplaced.extend(f"{name}: {m}" if name and name != "_schema" else m for m in messages)
        g.form_error = exc.message
        g.form_error_details = unplaced

    known: set[str] = set()


def _flat_errors(errors: dict, prefix: str = "") -> list[tuple[str, list[str]]]:
    # Nested change errors ({"change": {"text": [...]}}) become "change.text".
    flat: list[tuple[str, list[str]]] = []
    for name, value in errors.items():
        key = f"{prefix}{name}"
        if isinstance(value, dict):
            flat += _flat_errors(value, key + ".")
        else:
            flat.append((key, [str(v) for v in (value if isinstance(value, list) else [value])]))
    return flat


def _status_of(exc: CoopError) -> int:
    return exc.status if exc.status >= 400 else 422


def _cents(text: str) -> int | None:
    """An amount typed in euros ("12,50" or "12.50") as cents, or None when it is not one."""
    try:
        amount = Decimal(text.strip().replace(",", ".").replace("€", "").replace(" ", ""))
    except InvalidOperation:
        return None
    cents = amount * 100
    if cents != cents.to_integral_value() or not amount.is_finite():
        return None
    return int(cents)


def _whole(text: str) -> int | None:
    try:
        return int(text.strip())
    except ValueError:
        return None


def _markdown(text: str | None) -> str:
    return render_markdown(text or "")


@bp.app_context_processor
def _governance_helpers():
    return {
        "param_label": labels.param_label,
        "param_value": labels.param_value,
        "kind_label": lambda k: labels.KIND_LABELS.get(k, k),
        "method_label": lambda m: labels.METHOD_LABELS.get(m, m),
        "status_label": lambda s: labels.STATUS_LABELS.get(s, s),
        "amendment_status_label": lambda s: labels.AMENDMENT_STATUS_LABELS.get(s, s),
        "markdown": _markdown,
        "format_datetime": format_datetime,
        "format_date": format_date,
    }


# --- terms and rules (public) ---------------------------------------------------------


@bp.route("/terms")
def terms():
    """The terms in force, every parameter with a readable label and value."""
    page = services.current_terms_page()
    return render("governance/terms.html", terms=page)


@bp.route("/terms/history")
def terms_history():
    """Every terms version, newest first, with what each changed."""
    versions, next_cursor = services.terms_history(limit=PAGE_SIZE, cursor=request.args.get("cursor") or None)
    rows = []
    for version in versions:
        # Versions are numbered one after the other; those on the page come from the identity map.
        before = db.session.get(TermsVersion, version.version - 1) if version.version > 1 else None
        changed = None
        if before is not None:
            changed = [
                (name, before.params.get(name), value)
                for name, value in version.params.items()
                if before.params.get(name) != value
            ]
        rows.append((version, changed))
    return render("governance/terms_history.html", versions=rows, next_cursor=next_cursor)


@bp.route("/rules")
def rules():
    """Every rule document in its version in force."""
    return render("governance/rules.html", rules=services.current_rules())


@bp.route("/rules/<slug>")
def rule(slug):
    """One rule document: its text in force and its earlier versions."""
    history = services.rule_history(slug)
    return render("governance/rule.html", rule=history[0], history=history)


# --- proposals ---------------------------------------------------------------------------


@bp.route("/proposals")
@signed_in
def proposals():
    """Proposals, newest first: open ones with time left and whether you voted."""
    shown = request.args.get("show", "open")
    if shown not in LIST_FILTERS:
        shown = "open"
    items, next_cursor = services.list_proposals(
        status=None, kind=None, statuses=LIST_FILTERS[shown], limit=PAGE_SIZE, cursor=request.args.get("cursor") or None
    )
    user = current_user._get_current_object()
    voted = services.voted_on(user, [p.id for p in items if p.status == "open"])
    now = clock.now()
    rows = [
        {
            "proposal": p,
            "time_left": labels.time_left(p.closes_at - now) if p.status == "open" and p.closes_at else None,
            "voted": p.id in voted,
        }
        for p in items
    ]
    return render("governance/proposals.html", rows=rows, shown=shown, filters=LIST_FILTERS, next_cursor=next_cursor)


def _detail(
    proposal: Proposal,
    status: int = 200,
    ballot_form: Form | None = None,
    receipt: str | None = None,
    outcome_form: Form | None = None,
):
    user = current_user._get_current_object()
    services.close_if_due(proposal)
    amendments, _more = services.amendment_page(proposal, limit=50, cursor=None)
    refusal = services.ballot_refusal(user, proposal) if proposal.status == "open" else None
    voted = proposal.id in services.voted_on(user, [proposal.id]) if proposal.status == "open" else False
    context = {
        "proposal": proposal,
        "amendments": amendments,
        "threshold": services.petition_threshold() if proposal.status in ("submitted", "returned") else None,
        "cosigned": services.has_cosigned(user, proposal) if proposal.status in ("submitted", "returned") else False,
        "vote_refusal": _vote_refusal(user) if refusal else None,
        "voted": voted,
        "time_left": labels.time_left(proposal.closes_at - clock.now()) if proposal.status == "open" else None,
        "change_rows": _change_rows(proposal),
        "names": services.candidate_names(proposal),
        "form": ballot_form or Form(),
        "outcome_form": outcome_form or Form(),
        "may_record_outcome": proposal.is_closed
        and proposal.outcome is None
        and (proposal.proposer_id == user.id or has_role(user, "coordinator")),
        "receipt": receipt,
        "is_author": proposal.proposer_id == user.id,
        "is_member": has_role(user, "member"),
        "current_params": services.current_terms().params,
    }
    return render("governance/proposal.html", status, **context)


def _vote_refusal(user) -> str:
    if not has_role(user, "member"):
        return _("Only members can vote. Join the coop to vote on the next proposals.")
    return _("Only those who were members when voting opened can vote on this proposal.")


def _change_rows(proposal: Proposal) -> list[tuple[str, str]]:
    """The proposal's change as (what, value) lines a person reads."""
    change = proposal.change or {}
    if not change:
        return []
    if proposal.kind == "terms" and proposal.method == "median":
        return [(_("Parameter set by the median"), labels.param_label(change.get("param", "")))]
    if proposal.kind == "terms":
        current = services.current_terms().params
        return [
            (
                labels.param_label(name),
                _(
                    "%(new)s (now %(old)s)",
                    new=labels.param_value(name, value),
                    old=labels.param_value(name, current.get(name)),
                ),
            )
            for name, value in change.items()
        ]
    if proposal.kind == "rule":
        rows = [(_("Rule"), change.get("rule", ""))]
        if change.get("title"):
            rows.append((_("Title"), change["title"]))
        return rows
    if proposal.kind == "coordinator" and "member_id" in change:
        action = _("grant the role") if change.get("action") == "grant" else _("revoke the role")
        return [(_("Member"), f"#{change['member_id']}"), (_("Action"), action)]
    if proposal.kind == "coordinator":
        return [(_("Seats"), str(change.get("seats")))]
    if proposal.kind == "surplus":
        return [
            (_("Amount"), labels.format_money(change.get("amount_cents", 0))),
            (_("Period"), f"{change.get('period_start')} – {change.get('period_end')}"),
        ]
    if proposal.kind == "requester_suspension":
        return [(_("Requester account"), f"#{change.get('requester_id')}")]
    return [(str(k), str(v)) for k, v in change.items()]


@bp.route("/proposals/<int:proposal_id>")
@signed_in
def proposal(proposal_id):
    """One proposal: text, change, status, co-signers, amendments, discussion, and the ballot while it is open."""
    return _detail(get_or_404(Proposal, proposal_id, "proposal"))


# --- ballots --------------------------------------------------------------------------------

BALLOT_ERROR_FIELDS = {"consent": "decision"}


def _ballot_from(proposal: Proposal, form: Form) -> dict | None:
    """The ballot the form asks for in the API's shape, or None with errors beside the fields."""
    method, options = proposal.method, proposal.options or []
    ballot: dict[str, Any] = {}
    if method == "yes_no":
        if form.get("choice") not in ("yes", "no", "abstain"):
            form.error("choice", _("Choose yes, no or abstain."))
        ballot["choice"] = form.get("choice")
    elif method == "approval":
        ballot["approvals"] = form.getlist("approvals")
    elif method in ("ranked", "stv"):
        ranks: dict[int, list[int]] = {}
        for index, _option in enumerate(options):
            text = form.get(f"rank-{index}")
            if text:
                rank = _whole(text)
                if rank is None or not 1 <= rank <= len(options):
                    form.error(f"rank-{index}", _("Choose a rank from the list."))
                    continue
                ranks.setdefault(rank, []).append(index)
        for rank, indexes in ranks.items():
            if len(indexes) > 1:
                for index in indexes:
                    form.error(f"rank-{index}", _("Rank %(rank)s is given to more than one option.", rank=rank))
        ballot["ranking"] = [options[index] for rank in sorted(ranks) for index in ranks[rank]]
    elif method == "score":
        scores = {}
        for index, option in enumerate(options):
            score = _whole(form.get(f"score-{index}"))
            if score is None or score not in SCORES:
                form.error(f"score-{index}", _("Give a score from 0 to 5."))
            scores[option] = score
        ballot["scores"] = scores
    elif method == "median":
        param = (proposal.change or {}).get("param", "")
        value = _cents(form.get("value")) if labels.is_money(param) else _whole(form.get("value"))
        if value is None:
            form.error("value", _("Give a number."))
        ballot["value"] = value
    elif method == "consent":
        decision = form.get("decision")
        if decision == "consent":
            ballot["consent"] = True
        elif decision == "object":
            ballot["objection"] = form.get("objection")
            if not form.get("objection").strip():
                form.error("objection", _("Say why you object."))
        else:
            form.error("decision", _("Consent, or object with a reason."))
    if form.get("reason").strip():
        ballot["reason"] = form.get("reason").strip()
    return None if form.errors else ballot


def _ballot_field_names(proposal: Proposal) -> set[str]:
    count = len(proposal.options or [])
    return {
        "choice",
        "approvals",
        "ranking",
        "scores",
        "value",
        "decision",
        "objection",
        "reason",
        *(f"rank-{i}" for i in range(count)),
        *(f"score-{i}" for i in range(count)),
    }


@bp.route("/proposals/<int:proposal_id>/ballot", methods=["POST"])
@signed_in
def ballot(proposal_id):
    """Cast or replace your ballot; the page (or, with htmx, the ballot box alone) shows your receipt."""
    proposal = get_or_404(Proposal, proposal_id, "proposal")
    form = Form(request.form)
    form.known = _ballot_field_names(proposal)
    user = current_user._get_current_object()
    data = _ballot_from(proposal, form)
    status = 422
    if data is not None:
        try:
            receipt, _first = services.cast_ballot(user, proposal, data)
        except CoopError as exc:
            form.refusal(exc, BALLOT_ERROR_FIELDS)
            status = _status_of(exc)
        else:
            if request.headers.get("HX-Request"):
                return render("governance/_receipt.html", proposal=proposal, receipt=receipt["receipt"])
            return done(
                "governance_pages.proposal",
                _("Your ballot is recorded. Your receipt: %(receipt)s", receipt=receipt["receipt"]),
                proposal_id=proposal.id,
            )
    else:
        g.form_error = _("Your ballot is not complete; see each field.")
    if request.headers.get("HX-Request"):
        # htmx swaps only successful answers: nothing of the request is kept, then the form returns with its errors.
        rollback_quietly()
        proposal = get_or_404(Proposal, proposal_id, "proposal")
        return render(
            "governance/_ballot.html",
            proposal=proposal,
            form=form,
            names=services.candidate_names(proposal),
            voted=False,
            error=g.get("form_error"),
        )
    return _detail(proposal, status, ballot_form=form)


# --- co-signing, amendments ------------------------------------------------------------------


def _act(proposal: Proposal, action) -> tuple[bool, Any]:
    try:
        return True, action()
    except CoopError as exc:
        if exc.status == 401:
            abort(401)
        g.form_error = exc.message
        g.form_error_details = [m for _n, ms in _flat_errors(exc.errors or {}) for m in ms]
        return False, _status_of(exc)


@bp.route("/proposals/<int:proposal_id>/cosign", methods=["POST"])
@signed_in
def cosign(proposal_id):
    """Co-sign a proposal waiting for review; at the petition threshold its vote opens."""
    proposal = get_or_404(Proposal, proposal_id, "proposal")
    ok, result = _act(proposal, lambda: services.cosign(current_user._get_current_object(), proposal))
    if ok:
        return done("governance_pages.proposal", _("You co-signed this proposal."), proposal_id=proposal.id)
    return _detail(proposal, result)


@bp.route("/amendments/<int:amendment_id>/<any(accept, decline):decision>", methods=["POST"])
@signed_in
def decide_amendment(amendment_id, decision):
    """The proposal's author accepts an amendment or declines it with a reason."""
    amendment = get_or_404(Amendment, amendment_id, "amendment")
    proposal = get_or_404(Proposal, amendment.proposal_id, "proposal")
    user = current_user._get_current_object()
    if decision == "accept":
        ok, result = _act(proposal, lambda: services.accept_amendment(user, amendment))
    else:
        reason = request.form.get("reason", "")
        ok, result = _act(proposal, lambda: services.decline_amendment(user, amendment, reason))
    if ok:
        message = _("Amendment accepted.") if decision == "accept" else _("Amendment declined.")
        return done("governance_pages.proposal", message, proposal_id=proposal.id)
    return _detail(proposal, result)


@bp.route("/proposals/<int:proposal_id>/outcome", methods=["POST"])
@signed_in
def outcome(proposal_id):
    """The author or a coordinator records what came of a closed proposal, with an optional review date."""
    import marshmallow as ma

    from coop.governance.schemas import OutcomeCreateSchema

    proposal = get_or_404(Proposal, proposal_id, "proposal")
    form = Form(request.form)
    form.known = {"statement", "review_on"}
    user = current_user._get_current_object()
    raw = {"statement": form.get("statement")}
    if form.get("review_on").strip():
        raw["review_on"] = form.get("review_on").strip()
    status = 422
    try:
        data = OutcomeCreateSchema().load(raw)
    except ma.ValidationError as exc:
        for name, messages in exc.normalized_messages().items():
            for message in messages if isinstance(messages, list) else [messages]:
                form.error(name, message)
        g.form_error = _("Some fields are not valid; see each one.")
    else:
        try:
            services.record_outcome(user, proposal, data["statement"], data.get("review_on"))
        except CoopError as exc:
            form.refusal(exc)
            status = _status_of(exc)
        else:
            return done("governance_pages.proposal", _("The outcome is recorded."), proposal_id=proposal.id)
    return _detail(proposal, status, outcome_form=form)


# --- new proposals and amendments: the form -------------------------------------------------------

CHANGE_FIELDS = {
    "change.text": "rule_text",
    "change.rule": "rule_slug",
    "change.title": "rule_title",
    "change.param": "median_param",
    "change.member_id": "member_id",
    "change.action": "coordinator_action",
    "change.seats": "seats",
    "change.candidates": "candidates",
    "change.amount_cents": "surplus_amount",
    "change.period_start": "period_start",
    "change.period_end": "period_end",
    "change.requester_id": "requester_id",
    **{f"change.{name}": f"param-{name}" for name in FOUNDING_TERMS},
    **{name: f"param-{name}" for name in FOUNDING_TERMS},
}


def _terms_change(form: Form) -> dict:
    change: dict[str, Any] = {}
    for name in FORM_PARAMS:
        text = form.get(f"param-{name}").strip()
        if not text:
            continue
        founding = FOUNDING_TERMS[name]
        if isinstance(founding, bool):
            change[name] = text == "yes"
        elif isinstance(founding, list):
            change[name] = [item.strip() for item in text.split(",") if item.strip()]
        elif isinstance(founding, int):
            value = _cents(text) if labels.is_money(name) else _whole(text)
            if value is None:
                form.error(
                    f"param-{name}",
                    _("Give an amount in euros.") if labels.is_money(name) else _("Give a whole number."),
                )
            change[name] = value
        else:
            change[name] = text
    return change


def _param_text(name: str, value) -> str:
    """A terms value as the form takes it back: euros for money, yes/no, commas between list items."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(map(str, value))
    if labels.is_money(name) and isinstance(value, int):
        return str(Decimal(value) / 100)
    return str(value)


def _change_from(form: Form, kind: str, method: str) -> dict | None:
    if kind == "terms" and method == "median":
        return {"param": form.get("median_param")}
    if kind == "terms":
        return _terms_change(form)
    if kind == "rule":
        change = {"rule": form.get("rule_slug").strip(), "text": form.get("rule_text")}
        if form.get("rule_title").strip():
            change["title"] = form.get("rule_title").strip()
        return change
    if kind == "coordinator" and method == "stv":
        candidates = [_whole(c) for c in form.getlist("candidates")]
        return {"seats": _whole(form.get("seats")) or 0, "candidates": [c for c in candidates if c is not None]}
    if kind == "coordinator":
        return {"member_id": _whole(form.get("member_id")) or 0, "action": form.get("coordinator_action")}
    if kind == "surplus":
        amount = _cents(form.get("surplus_amount"))
        if amount is None:
            form.error("surplus_amount", _("Give an amount in euros."))
        return {"amount_cents": amount, "period_start": form.get("period_start"), "period_end": form.get("period_end")}
    if kind == "requester_suspension":
        return {"requester_id": _whole(form.get("requester_id")) or 0}
    return None


def _options_from(form: Form) -> list[str] | None:
    lines = [line.strip() for line in form.get("options").splitlines() if line.strip()]
    return lines or None


PROPOSAL_FIELDS = {
    "title",
    "body",
    "kind",
    "method",
    "options",
    "seats",
    "change",
    "reason",
    "median_param",
    "rule_slug",
    "rule_title",
    "rule_text",
    "member_id",
    "coordinator_action",
    "candidates",
    "surplus_amount",
    "period_start",
    "period_end",
    "requester_id",
    *(f"param-{name}" for name in FORM_PARAMS),
}


def _form_context(form: Form) -> dict:
    members, _next = services.member_register(current_user._get_current_object(), "member", limit=200, cursor=None)
    return {
        "form": form,
        "kinds": PROPOSAL_KINDS,
        "methods": VOTING_METHODS,
        "form_params": FORM_PARAMS,
        "numeric_params": sorted(NUMERIC_PARAMS),
        "founding": FOUNDING_TERMS,
        "current": services.current_terms().params,
        "members": [user for _m, user in members],
        "rule_slugs": [r.slug for r in services.current_rules()],
        "is_money": labels.is_money,
    }


@bp.route("/proposals/new", methods=["GET", "POST"])
@signed_in
def new_proposal():
    """Write a proposal: its kind, how members vote on it, and what it changes."""
    user = current_user._get_current_object()
    if not has_role(user, "member"):
        abort(403, _("Only members can make proposals."))
    if request.method == "GET":
        return render("governance/new_proposal.html", **_form_context(Form({"kind": "general", "method": "yes_no"})))
    form = Form(request.form)
    form.known = PROPOSAL_FIELDS
    kind, method = form.get("kind"), form.get("method")
    data: dict[str, Any] = {"title": form.get("title"), "body": form.get("body"), "kind": kind, "method": method}
    if method in ("approval", "ranked", "score", "stv") and not (kind == "coordinator" and method == "stv"):
        data["options"] = _options_from(form)
    if method == "stv" and kind != "coordinator":
        data["seats"] = _whole(form.get("seats"))
    change = _change_from(form, kind, method)
    if change is not None:
        data["change"] = change
    status = 422
    if not form.errors:
        try:
            created = services.create_proposal(user, data)
        except CoopError as exc:
            form.refusal(exc, CHANGE_FIELDS)
            status = _status_of(exc)
        else:
            return done(
                "governance_pages.proposal", _("Your proposal is submitted for review."), proposal_id=created.id
            )
    g.form_error = g.get("form_error") or _("Some fields are not valid; see each one.")
    return render("governance/new_proposal.html", status, **_form_context(form))


@bp.route("/proposals/<int:proposal_id>/amend", methods=["GET", "POST"])
@signed_in
def amend(proposal_id):
    """Propose an amendment to a proposal before its vote opens."""
    proposal = get_or_404(Proposal, proposal_id, "proposal")
    user = current_user._get_current_object()
    if not has_role(user, "member"):
        abort(403, _("Only members can amend proposals."))
    context = {"proposal": proposal}
    if request.method == "GET":
        values = {"body": proposal.body, "options": "\n".join(proposal.options or [])}
        if proposal.kind == "rule" and proposal.change:
            values.update(rule_text=proposal.change.get("text", ""))
        if proposal.kind == "terms" and proposal.method != "median":
            values.update(
                {f"param-{name}": _param_text(name, value) for name, value in (proposal.change or {}).items()}
            )
        return render("governance/amend.html", **context, **_form_context(Form(values)))
    form = Form(request.form)
    form.known = PROPOSAL_FIELDS
    data: dict[str, Any] = {"reason": form.get("reason")}
    if form.get("body").strip() and form.get("body") != proposal.body:
        data["body"] = form.get("body")
    if proposal.options is not None and proposal.kind != "coordinator":
        options = _options_from(form)
        if options and options != proposal.options:
            data["options"] = options
    if proposal.kind == "terms" and proposal.method != "median":
        change = _terms_change(form)
        if change and change != proposal.change:
            data["change"] = change
    if proposal.kind == "rule" and proposal.change and form.get("rule_text") != proposal.change.get("text"):
        data["change"] = {**proposal.change, "text": form.get("rule_text")}
    status = 422
    if not form.errors:
        if not data["reason"].strip():
            form.error("reason", _("Say why you propose this amendment."))
        elif len(data) == 1:
            g.form_error = _("Change the text, the options or the change: this amendment changes nothing.")
        else:
            try:
                services.propose_amendment(user, proposal, data)
            except CoopError as exc:
                form.refusal(exc, CHANGE_FIELDS)
                status = _status_of(exc)
            else:
                return done(
                    "governance_pages.proposal", _("Your amendment is proposed to the author."), proposal_id=proposal.id
                )
    g.form_error = g.get("form_error") or _("Some fields are not valid; see each one.")
    return render("governance/amend.html", status, **context, **_form_context(form))


# --- results and receipts -----------------------------------------------------------------------


@bp.route("/proposals/<int:proposal_id>/results")
@signed_in
def results(proposal_id):
    """A closed vote's result with the recount data, its receipts, and a receipt lookup."""
    proposal = services.close_if_due(get_or_404(Proposal, proposal_id, "proposal"))
    if not proposal.is_closed:
        return render("governance/results.html", 409, proposal=proposal, closed=False)
    asked = request.args.get("receipt", "").strip()
    found = services.find_receipt(proposal, asked) if asked else None
    receipts, next_cursor = services.receipt_page(
        proposal, limit=RECEIPTS_PAGE, cursor=request.args.get("cursor") or None
    )
    return render(
        "governance/results.html",
        proposal=proposal,
        closed=True,
        result=proposal.result or {},
        names=services.candidate_names(proposal),
        asked=asked,
        found=found,
        receipts=receipts,
        next_cursor=next_cursor,
        receipts_url=url_for("governance.proposal_receipts", proposal_id=proposal.id),
        csv_url=url_for("governance.proposal_receipts", proposal_id=proposal.id, format="csv"),
    )


# --- delegation -----------------------------------------------------------------------------------


@bp.route("/delegation", methods=["GET", "POST"])
@signed_in
def delegation():
    """Your delegate: whose ballot counts for you when you do not vote; choose one or stop delegating."""
    user = current_user._get_current_object()
    if not has_role(user, "member"):
        abort(403, _("Only members vote, so only members can delegate."))
    form = Form(request.form if request.method == "POST" else {})
    form.known = {"delegate_id"}
    status = 200
    if request.method == "POST":
        try:
            if request.form.get("action") == "revoke":
                services.remove_delegate(user)
                return done("governance_pages.delegation", _("You no longer delegate your vote."))
            delegate_id = _whole(form.get("delegate_id"))
            if delegate_id is None:
                form.error("delegate_id", _("Choose a member."))
            else:
                services.set_delegate(user, delegate_id)
                return done("governance_pages.delegation", _("Your delegate is set."))
        except CoopError as exc:
            form.refusal(exc)
            status = _status_of(exc)
        else:
            status = 422
    members, _next = services.member_register(user, "member", limit=200, cursor=None)
    return render(
        "governance/delegation.html",
        status,
        form=form,
        mine=services.delegation_of(user),
        members=[u for _m, u in members if u.id != user.id],
    )


# --- coordinators: triage ------------------------------------------------------------------------------


def _triage_page(status: int = 200, forms: dict[int, Form] | None = None):
    items, next_cursor = services.list_proposals(
        status=None, kind=None, statuses=("submitted", "returned"), limit=50, cursor=request.args.get("cursor") or None
    )
    terms_params = services.current_terms().params
    return render(
        "governance/triage.html",
        status,
        items=items,
        forms=forms or {},
        empty=Form(),
        next_cursor=next_cursor,
        days_min=terms_params["voting_days_min"],
        days_max=terms_params["voting_days_max"],
        threshold=services.petition_threshold(),
    )


def _coordinator():
    user = current_user._get_current_object()
    if not has_role(user, "coordinator"):
        abort(403, _("Only coordinators review proposals."))
    return user


@bp.route("/coordination/proposals")
@signed_in
def triage():
    """Proposals waiting for review, each with accept or send back (coordinators only)."""
    _coordinator()
    return _triage_page()


@bp.route("/coordination/proposals/<int:proposal_id>/review", methods=["POST"])
@signed_in
def review(proposal_id):
    """Accept a proposal for voting, or send it back with a public reason (coordinators only)."""
    user = _coordinator()
    proposal = get_or_404(Proposal, proposal_id, "proposal")
    form = Form(request.form)
    form.known = {"action", "reason", "voting_days"}
    action = form.get("action")
    days = None
    if action not in ("accept", "return"):
        form.error("action", _("Choose accept or send back."))
    if form.get("voting_days").strip():
        days = _whole(form.get("voting_days"))
        if days is None:
            form.error("voting_days", _("Give a whole number of days."))
    if action == "return" and not form.get("reason").strip():
        form.error("reason", _("Give the public reason for sending it back."))
    status = 422
    if not form.errors:
        try:
            services.review_proposal(user, proposal, action, form.get("reason"), days if action == "accept" else None)
        except CoopError as exc:
            form.refusal(exc)
            status = _status_of(exc)
        else:
            message = _("Voting is open.") if action == "accept" else _("The proposal is sent back with your reason.")
            return done("governance_pages.triage", message)
    g.form_error = g.get("form_error") or _("Some fields are not valid; see each one.")
    return _triage_page(status, {proposal.id: form})
