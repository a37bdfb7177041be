"""Proposals: submitting and checking motions, listing, triage by coordinators, petitions, opening the vote."""

from collections.abc import Sequence
from datetime import timedelta

import marshmallow as ma
import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import selectinload

from coop import audit, clock
from coop.accounts.models import User
from coop.accounts.permissions import ROLE_MESSAGES
from coop.errors import Conflict, Forbidden, Invalid
from coop.extensions import db
from coop.governance.models import (
    Amendment,
    Cosignature,
    Proposal,
    ProposalEligibility,
    ProposalVersion,
)
from coop.governance.motions import (
    MAX_OPTIONS,
    CoordinatorChangeSchema,
    CoordinatorElectionSchema,
    MedianChangeSchema,
    ProposalCreateSchema,
    RequesterSuspensionChangeSchema,
    RuleChangeSchema,
    SurplusChangeSchema,
)
from coop.governance.services.ballots import close_due, lock_proposal, record_events
from coop.governance.services.membership import members_count
from coop.governance.services.terms import check_floor_above_local_minimums, current_rule, current_terms
from coop.governance.terms import apply_change
from coop.notifications.services import notify
from coop.pagination import keyset_page
from coop.webhooks import services as webhooks


def create_proposal(author: User, data: dict) -> Proposal:
    """Submit a proposal `{title, body, kind, method, options?, seats?, change?}` for triage; author must be a member."""
    if not author.is_member:
        raise Forbidden(ROLE_MESSAGES["member"])
    data, options, change = checked_proposal(data)
    seats = data.get("seats")
    proposal = Proposal(
        title=data["title"].strip(),
        body=data["body"],
        kind=data["kind"],
        method=data["method"],
        options=options,
        change=change,
        seats=seats,
        status="submitted",
        proposer_id=author.id,
        created_at=clock.now(),
    )
    if not proposal.title:
        raise Invalid(errors={"title": [_("Give the proposal a title.")]})
    db.session.add(proposal)
    db.session.flush()
    db.session.add(
        ProposalVersion(
            proposal_id=proposal.id,
            number=1,
            body=proposal.body,
            options=proposal.options,
            change=proposal.change,
            at=proposal.created_at,
        )
    )
    proposal.thread_id = _open_discussion(author, proposal)
    db.session.flush()
    audit.append(
        "proposal.submitted",
        f"proposal:{proposal.id}",
        author,
        {"title": proposal.title, "kind": proposal.kind, "method": proposal.method, "thread_id": proposal.thread_id},
    )
    return proposal


def checked_proposal(data: dict) -> tuple[dict, list | None, dict | None]:
    """A proposal's fields checked as submission checks them: the loaded data (with its seats) and its normalised options and change.

    Amendments are checked by the same function against the proposal they would make.
    """
    try:
        # Loaded again here, so callers other than the route (the forum's appeals) obey the same schema.
        data = ProposalCreateSchema().load(data)
    except ma.ValidationError as exc:
        raise Invalid(errors=exc.normalized_messages()) from None
    options, change = _checked_motion(data["kind"], data["method"], data.get("options"), data.get("change"))
    data["seats"] = _checked_seats(data["kind"], data["method"], data.get("seats"), options, change)
    return data, options, change


def _open_discussion(author: User, proposal: Proposal) -> int:
    # The forum builds on governance (rules, escalated appeals), so it is imported when used.
    from coop.forum.services import founding_board, start_thread

    thread, _post = start_thread(
        author,
        founding_board("proposals"),
        proposal.title,
        f'Discussion of proposal {proposal.id}, "{proposal.title}". Its text, amendments and versions: '
        f"/api/v1/proposals/{proposal.id}.\n\n{proposal.body}",
    )
    return thread.id


def _checked_motion(kind: str, method: str, options, change) -> tuple[list | None, dict | None]:
    """The options and change of a new proposal, normalised; Invalid with field errors otherwise."""
    if method == "stv" and kind == "coordinator":
        return _checked_coordinator_election(options, change)
    if method in ("approval", "ranked", "score", "stv"):
        if kind != "general":
            raise Invalid(
                _(
                    "Approval, ranked, score and stv votes choose among options and have no automatic effect (except "
                    "an stv election of coordinators); use them with kind 'general'."
                ),
                {"kind": [_("Must be 'general' for this %(method)s vote.", method=method)]},
            )
        if change:
            raise Invalid(errors={"change": [_("This %(method)s vote takes options, not a change.", method=method)]})
        return _checked_options(options), None
    if options:
        raise Invalid(errors={"options": [_("Only approval, ranked, score and stv votes take options.")]})
    if method == "median":
        if kind != "terms":
            raise Invalid(
                _("A median vote sets one numeric terms parameter; use it with kind 'terms'."),
                {"method": [_("'median' is only for kind 'terms'.")]},
            )
        return None, _loaded(MedianChangeSchema, change)
    return None, {
        "terms": _checked_terms_change,
        "rule": _checked_rule_change,
        "coordinator": _checked_coordinator_change,
        "surplus": _checked_surplus_change,
        "general": _checked_no_change,
        "requester_suspension": _checked_requester_suspension_change,
    }[kind](change)


def _checked_seats(kind: str, method: str, seats: int | None, options: list | None, change: dict | None) -> int | None:
    """The seats an stv vote fills: given for a general vote, from the change for a coordinator election."""
    if method != "stv":
        if seats is not None:
            raise Invalid(errors={"seats": [_("Only an stv vote has seats.")]})
        return None
    if kind == "coordinator":
        assert change is not None
        if seats is not None and seats != change["seats"]:
            raise Invalid(
                errors={"seats": [_("Give the seats of an election in its change (or the same number here).")]}
            )
        return change["seats"]
    assert options is not None
    if seats is None:
        raise Invalid(errors={"seats": [_("An stv vote needs the number of seats it fills.")]})
    if seats >= len(options):
        raise Invalid(errors={"seats": [_("Must be fewer than the %(count)s options.", count=len(options))]})
    return seats


def _checked_coordinator_election(options, change) -> tuple[list[str], dict]:
    # The options are the candidates' user ids as text: ids never change or collide, while a
    # pseudonym may; voters rank {"ranking": ["12", "7"]} and see names in the member register.
    if options:
        raise Invalid(errors={"options": [_("An election's options are its candidates; name them in the change.")]})
    data = _loaded(CoordinatorElectionSchema, change)
    found = {user.id: user for user in db.session.scalars(sa.select(User).where(User.id.in_(data["candidates"])))}
    absent = [uid for uid in data["candidates"] if uid not in found or not found[uid].is_member]
    if absent:
        raise Invalid(
            _("Only current members can stand for coordinator."),
            {"change": {"candidates": [_("Not a current member: %(ids)s.", ids=", ".join(map(str, absent)))]}},
        )
    return [str(uid) for uid in data["candidates"]], {"seats": data["seats"], "candidates": data["candidates"]}


def _loaded(schema: type[ma.Schema], change) -> dict:
    if not isinstance(change, dict):
        raise Invalid(
            _("This kind of proposal needs a 'change'; see the API docs for its shape."),
            {"change": [_("Missing or not an object.")]},
        )
    try:
        return schema().load(change)
    except ma.ValidationError as exc:
        raise Invalid(_("The change is not valid; see 'errors'."), {"change": exc.messages}) from None


def _checked_options(options) -> list[str]:
    cleaned = [option.strip() for option in options or []]
    if not 2 <= len(cleaned) <= MAX_OPTIONS:
        raise Invalid(errors={"options": [_("Give between 2 and %(most)s options.", most=MAX_OPTIONS)]})
    if not all(cleaned):
        raise Invalid(errors={"options": [_("Options must not be blank.")]})
    if len(set(cleaned)) != len(cleaned):
        raise Invalid(errors={"options": [_("Options must be distinct.")]})
    return cleaned


def _checked_terms_change(change) -> dict:
    if not isinstance(change, dict) or not change:
        raise Invalid(
            _('A terms proposal names the parameters it changes, e.g. {"min_hourly_rate_cents": 1500}.'),
            {"change": [_("Give at least one terms parameter to change.")]},
        )
    current = current_terms()
    merged, errors = apply_change(current.params, change)
    if errors:
        raise Invalid(
            _(
                "The change would make the terms invalid (checked against terms v%(version)s); see 'errors'.",
                version=current.version,
            ),
            {"change": errors},
        )
    try:
        check_floor_above_local_minimums(merged, change)
    except Invalid as exc:
        raise Invalid(exc.message, {"change": exc.errors}) from None
    if merged == current.params:
        raise Invalid(
            _("This change sets every parameter to the value it already has."),
            {"change": [_("Changes nothing in the terms in force.")]},
        )
    return dict(change)


def _checked_rule_change(change) -> dict:
    data = _loaded(RuleChangeSchema, change)
    existing = current_rule(data["rule"])
    if existing is not None and existing.text == data["text"] and data.get("title", existing.title) == existing.title:
        message = _("This is already the text of '%(rule)s' v%(version)s.", rule=data["rule"], version=existing.version)
        raise Invalid(message, {"change": {"text": [message]}})
    return data


def _checked_coordinator_change(change) -> dict:
    data = _loaded(CoordinatorChangeSchema, change)
    target = db.session.get(User, data["member_id"])
    if target is None or not target.is_member:
        raise Invalid(
            _("Only a current member can be granted or lose the coordinator role."),
            {"change": {"member_id": [_("Not a current member.")]}},
        )
    if data["action"] == "grant" and target.is_coordinator:
        raise Invalid(
            errors={
                "change": {
                    "action": [_("%(display_name)s is already a coordinator.", display_name=target.display_name)]
                }
            }
        )
    if data["action"] == "revoke" and not target.is_coordinator:
        raise Invalid(
            errors={
                "change": {"action": [_("%(display_name)s is not a coordinator.", display_name=target.display_name)]}
            }
        )
    return data


def _checked_surplus_change(change) -> dict:
    data = _loaded(SurplusChangeSchema, change)
    return {**data, "period_start": data["period_start"].isoformat(), "period_end": data["period_end"].isoformat()}


def _checked_requester_suspension_change(change) -> dict:
    data = _loaded(RequesterSuspensionChangeSchema, change)
    target = db.session.get(User, data["requester_id"])
    if target is None or target.kind != "requester":
        raise Invalid(
            _("A suspension names a requester account by its user id."),
            {"change": {"requester_id": [_("Not a requester.")]}},
        )
    return data


def _checked_no_change(change) -> None:
    if change:
        raise Invalid(errors={"change": [_("A general proposal has no automatic effect and takes no change.")]})
    return None


def has_cosigned(member: User, proposal: Proposal) -> bool:
    """Whether the member co-signed the proposal (shown to that member only)."""
    if member.id is None:
        return False
    return db.session.get(Cosignature, (proposal.id, member.id)) is not None


def candidate_names(proposal: Proposal) -> dict[str, str]:
    """An election's options (candidates' user ids as text) with each candidate's pseudonym; empty for other votes."""
    if not (proposal.kind == "coordinator" and proposal.method == "stv" and proposal.options):
        return {}
    ids = [int(option) for option in proposal.options]
    return {str(user.id): user.display_name for user in db.session.scalars(sa.select(User).where(User.id.in_(ids)))}


def petition_threshold() -> int:
    """Co-signers needed now to bring a proposal to ballot: ceil(petition_pct × members / 100), at least one."""
    pct = current_terms().params["petition_pct"]
    return max(1, -(-pct * members_count() // 100))


def list_proposals(
    *, status: str | None, kind: str | None, limit: int, cursor: str | None, statuses: Sequence[str] | None = None
):
    """One page of proposals, newest first, after closing every vote that is due; `statuses` filters by several."""
    close_due(clock.now())
    stmt = sa.select(Proposal).options(selectinload(Proposal.proposer), selectinload(Proposal.reviewer))
    if status:
        stmt = stmt.where(Proposal.status == status)
    if statuses:
        stmt = stmt.where(Proposal.status.in_(list(statuses)))
    if kind:
        stmt = stmt.where(Proposal.kind == kind)
    return keyset_page(stmt, [Proposal.id], limit=limit, cursor=cursor, descending=True)


def review_proposal(
    coordinator: User, proposal: Proposal, action: str, reason: str | None = None, voting_days: int | None = None
) -> Proposal:
    """A coordinator opens a proposal for voting or returns it with a public reason."""
    proposal = lock_proposal(proposal)
    reason = (reason or "").strip() or None
    subject = f"proposal:{proposal.id}"
    if action == "accept":
        if proposal.status not in ("submitted", "returned"):
            raise Conflict(
                _(
                    "This proposal is %(status)s; only submitted or returned proposals can be accepted.",
                    status=proposal.status,
                )
            )
        terms = current_terms()
        low, high = terms.params["voting_days_min"], terms.params["voting_days_max"]
        days = low if voting_days is None else voting_days
        if not low <= days <= high:
            raise Invalid(
                _(
                    "The voting period must last between %(low)s and %(high)s days (terms v%(version)s).",
                    low=low,
                    high=high,
                    version=terms.version,
                ),
                {"voting_days": [_("Must be between %(low)s and %(high)s.", low=low, high=high)]},
            )
        events = [("proposal.reviewed", subject, coordinator, {"action": "accept", "reason": reason})]
        events += _open(proposal, days, via="review", actor=coordinator)
    else:
        if proposal.status != "submitted":
            raise Conflict(
                _("This proposal is %(status)s; only a submitted proposal can be returned.", status=proposal.status)
            )
        if reason is None:
            raise Invalid(errors={"reason": [_("Give the public reason for returning the proposal.")]})
        proposal.status = "returned"
        events = [("proposal.reviewed", subject, coordinator, {"action": "return", "reason": reason})]
    proposal.reviewer_id, proposal.reviewed_at, proposal.review_reason = coordinator.id, clock.now(), reason
    db.session.flush()
    notify(
        [proposal.proposer_id] if proposal.proposer_id != coordinator.id else [],
        "proposal_reviewed",
        subject,
        {
            "proposal_id": proposal.id,
            "title": proposal.title,
            "action": action,
            "reason": reason,
            "by": coordinator.display_name,
        },
    )
    record_events(events)
    return proposal


def cosign(member: User, proposal: Proposal) -> Proposal:
    """A member co-signs the petition to bring a proposal to ballot; enough signatures open the vote."""
    proposal = lock_proposal(proposal)
    if proposal.proposer_id == member.id:
        raise Forbidden(_("You proposed this; a petition needs the signatures of other members."))
    if proposal.status not in ("submitted", "returned"):
        raise Conflict(
            _(
                "This proposal is %(status)s; only submitted or returned proposals take co-signatures.",
                status=proposal.status,
            )
        )
    if db.session.get(Cosignature, (proposal.id, member.id)) is not None:
        raise Conflict(_("You have already co-signed this proposal."))
    db.session.add(Cosignature(proposal_id=proposal.id, member_id=member.id, at=clock.now()))
    proposal.cosigner_count += 1
    db.session.flush()
    threshold = petition_threshold()
    events = []
    if proposal.cosigner_count >= threshold:
        events.append(
            (
                "proposal.petition_reached",
                f"proposal:{proposal.id}",
                "petition",
                {"cosigners": proposal.cosigner_count, "threshold": threshold},
            )
        )
        events += _open(proposal, current_terms().params["voting_days_min"], via="petition", actor="petition")
        notify(
            [proposal.proposer_id],
            "proposal_to_ballot",
            f"proposal:{proposal.id}",
            {"proposal_id": proposal.id, "title": proposal.title, "cosigners": proposal.cosigner_count},
        )
    record_events(events)
    return proposal


def _open(proposal: Proposal, days: int, *, via: str, actor) -> list[tuple]:
    now = clock.now()
    terms = current_terms()
    proposal.status, proposal.opened_by, proposal.terms_version = "open", via, terms.version
    proposal.opens_at, proposal.closes_at = now, now + timedelta(days=days)
    # Eligible voters are the members at this moment; later members vote on later proposals.
    db.session.execute(
        sa.insert(ProposalEligibility).from_select(
            ["proposal_id", "member_id"],
            sa.select(sa.literal(proposal.id), User.id).where(User.is_member.is_(True)),
        )
    )
    # Members vote on the proposal as it stands now: amendments still pending lapse.
    db.session.execute(
        sa.update(Amendment)
        .where(Amendment.proposal_id == proposal.id, Amendment.status == "pending")
        .values(status="lapsed", decided_at=now)
        .execution_options(synchronize_session=False)
    )
    proposal.eligible_count = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(ProposalEligibility)
        .where(ProposalEligibility.proposal_id == proposal.id)
    )
    db.session.flush()
    # Every eligible member in one INSERT ... SELECT: a coop of ten thousand is told in one statement.
    notify(
        sa.select(ProposalEligibility.member_id).where(ProposalEligibility.proposal_id == proposal.id),
        "vote_opened",
        f"proposal:{proposal.id}",
        {"proposal_id": proposal.id, "title": proposal.title, "closes_at": proposal.closes_at.isoformat()},
    )
    webhooks.emit(
        "proposal.opened",
        {
            "proposal_id": proposal.id,
            "title": proposal.title,
            "kind": proposal.kind,
            "method": proposal.method,
            "opened_by": via,
            "closes_at": proposal.closes_at,
        },
    )
    return [
        (
            "proposal.opened",
            f"proposal:{proposal.id}",
            actor,
            {
                "via": via,
                "eligible": proposal.eligible_count,
                "voting_days": days,
                "terms_version": terms.version,
                "opens_at": proposal.opens_at.isoformat(),
                "closes_at": proposal.closes_at.isoformat(),
            },
        )
    ]
