"""Ballots and closing: the proposal lock, casting, tallying, closing due votes, receipts, the tick."""

import secrets
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _

from coop import audit, clock
from coop.accounts.models import User
from coop.errors import Conflict, CoopError, Forbidden, Invalid
from coop.extensions import db
from coop.governance import voting
from coop.governance.models import (
    Ballot,
    Proposal,
    ProposalEligibility,
    TermsVersion,
)
from coop.governance.services.delegation import weigh_ballots
from coop.governance.services.enactment import enact
from coop.governance.services.terms import current_terms
from coop.governance.terms import FOUNDING_TERMS, GOVERNANCE_PARAMS, apply_change
from coop.notifications.services import notify
from coop.pagination import keyset_page
from coop.webhooks import services as webhooks

# The ballot field each voting method takes.
BALLOT_FIELDS = {
    "yes_no": "choice",
    "approval": "approvals",
    "ranked": "ranking",
    "median": "value",
    "score": "scores",
    "stv": "ranking",
}
# A consent ballot is one of two shapes, each a whole ballot: {"consent": true} or {"objection": reason}.
CONSENT_FIELDS = ("consent", "objection")
# Methods whose passing carries out the proposal's change; the others choose among options.
DECIDING_METHODS = ("yes_no", "median", "consent", "stv")


# How many receipts GET /proposals/{id} inlines at most; the rest are on the paged receipts list.
RECEIPTS_INLINE_MAX = 1000
# Rows fetched per round trip when a CSV export streams every receipt.
EXPORT_BATCH = 1000


def receipts_inline_max() -> int:
    """The inline cap: COOP_RECEIPTS_INLINE_MAX when set, else 1,000."""
    return int(current_app.config.get("COOP_RECEIPTS_INLINE_MAX", RECEIPTS_INLINE_MAX))


def _receipt_order() -> sa.ColumnElement:
    # Byte order on every database (the column's collation is "C" on PostgreSQL), read off the
    # (proposal_id, receipt) index; never casting order, which could tell who voted when.
    return Ballot.receipt.expression


def _receipts(proposal: Proposal) -> sa.Select:
    return sa.select(Ballot.receipt, Ballot.choice, Ballot.reason, Ballot.weight).where(
        Ballot.proposal_id == proposal.id
    )


def published_receipts(proposal: Proposal) -> tuple[list[dict], int] | None:
    """After close, the first counted ballots as {receipt, choice, reason, weight} in receipt order, and how many there are; None before.

    At most `receipts_inline_max()` are returned; the total says whether more wait on the paged list.
    """
    if not proposal.is_closed:
        return None
    cap = receipts_inline_max()
    rows = db.session.execute(_receipts(proposal).order_by(_receipt_order()).limit(cap)).all()
    items = [{"receipt": row.receipt, "choice": row.choice, "reason": row.reason, "weight": row.weight} for row in rows]
    # ballot_count is kept under the proposal lock with every first ballot and is final after
    # close: no need to count a million rows again.
    return items, len(items) if len(items) < cap else proposal.ballot_count


def _ensure_published(proposal: Proposal) -> None:
    if not proposal.is_closed:
        raise Conflict(
            _("This proposal is %(status)s; receipts are published when its vote closes.", status=proposal.status)
        )


def receipt_page(proposal: Proposal, *, limit: int, cursor: str | None) -> tuple[list[Ballot], str | None]:
    """One page of a closed proposal's counted ballots in receipt order (409 before close)."""
    _ensure_published(proposal)
    order = _receipt_order()
    stmt = sa.select(Ballot).where(Ballot.proposal_id == proposal.id)
    return keyset_page(stmt, [order], limit=limit, cursor=cursor, key=lambda ballot: [ballot.receipt])


def export_receipts(proposal: Proposal) -> Iterator[tuple[str, dict, str | None, int]]:
    """Every counted ballot of a closed proposal as (receipt, choice, reason, weight), in receipt order (409 before close).

    The check runs now; the rows are read only as the iterator is consumed, a batch at a time,
    so a response can stream a million of them after the request's transaction has committed.
    """
    _ensure_published(proposal)
    stmt = _receipts(proposal).order_by(_receipt_order()).execution_options(yield_per=EXPORT_BATCH)

    def rows() -> Iterator[tuple[str, dict, str | None, int]]:
        for row in db.session.execute(stmt):
            yield row.receipt, row.choice, row.reason, row.weight

    return rows()


def close_if_due(proposal: Proposal) -> Proposal:
    """The proposal as of now: closed first, in this transaction, if its vote is due."""
    if _is_due(proposal, clock.now()):
        proposal = lock_proposal(proposal)
    return proposal


def _is_due(proposal: Proposal, now: datetime) -> bool:
    return proposal.status == "open" and proposal.closes_at <= now


def lock_proposal(proposal: Proposal) -> Proposal:
    """The proposal read again with its row locked for the rest of the transaction, closed first if due.

    Every change to a proposal (review, co-sign, ballot, close) takes this lock, so they
    happen one after the other and a vote is tallied exactly once.
    """
    proposal = db.session.scalar(
        sa.select(Proposal)
        .where(Proposal.id == proposal.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    now = clock.now()
    if _is_due(proposal, now):
        record_events(_close(proposal, now))
    return proposal


def record_events(events: list[tuple]) -> None:
    """Append the audit entries a governance change produced, in order."""
    # Audit entries are appended last in a transaction: the append lock is then the last
    # lock taken, so it cannot close a cycle with proposal, version or ledger locks.
    for event, subject, actor, payload in events:
        audit.append(event, subject, actor, payload)


def cast_ballot(member: User, proposal: Proposal, ballot: dict) -> tuple[dict, bool]:
    """Record a member's secret ballot and return a fresh receipt; True when it is their first."""
    proposal = lock_proposal(proposal)
    if proposal.status != "open":
        if proposal.is_closed:
            raise Conflict(
                _(
                    "Voting on this proposal has closed (%(status)s); ballots are no longer taken.",
                    status=proposal.status,
                )
            )
        raise Conflict(_("This proposal is %(status)s; voting has not opened yet.", status=proposal.status))
    refusal = ballot_refusal(member, proposal)
    if refusal is not None:
        raise Forbidden(refusal)
    ballot = dict(ballot)
    reason = (ballot.pop("reason", None) or "").strip() or None
    choice = _checked_ballot(proposal, ballot)
    # Hexadecimal: a receipt never starts with a character a spreadsheet reads as a formula, so
    # the CSV of receipts shows each exactly as its voter holds it.
    receipt = secrets.token_hex(16)
    existing = db.session.scalar(
        sa.select(Ballot).where(Ballot.proposal_id == proposal.id, Ballot.member_id == member.id)
    )
    if existing is None:
        db.session.add(
            Ballot(proposal_id=proposal.id, member_id=member.id, receipt=receipt, choice=choice, reason=reason)
        )
        proposal.ballot_count += 1
    else:
        # The new ballot replaces the old one, receipt included: only the latest is counted.
        existing.choice, existing.receipt, existing.reason = choice, receipt, reason
    db.session.flush()
    if _everyone_has_voted(proposal):
        # Closed by the system, not by this voter: the audit log must not say who voted last.
        record_events(_close(proposal, clock.now()))
    return {"receipt": receipt, "proposal_id": proposal.id, "proposal_status": proposal.status}, existing is None


def ballot_refusal(user: User, proposal: Proposal) -> str | None:
    """Why `user` may not vote on the open `proposal`, or None when they may (the check casting applies)."""
    if not getattr(user, "is_member", False):
        return _("Only those who were members when voting opened, and still are, can vote on this proposal.")
    eligible = db.session.get(ProposalEligibility, (proposal.id, user.id)) is not None
    if not eligible:
        return _("Only those who were members when voting opened, and still are, can vote on this proposal.")
    return None


def voted_on(member: User, proposal_ids: Sequence[int]) -> set[int]:
    """Which of the proposals the member has a ballot on: for their own eyes only, never published."""
    if not proposal_ids or member.id is None:
        return set()
    return set(
        db.session.scalars(
            sa.select(Ballot.proposal_id).where(Ballot.member_id == member.id, Ballot.proposal_id.in_(proposal_ids))
        )
    )


def find_receipt(proposal: Proposal, receipt: str) -> dict | None:
    """A published receipt of a closed vote as {receipt, choice, reason, weight}, or None (409 before close)."""
    _ensure_published(proposal)
    row = db.session.execute(_receipts(proposal).where(Ballot.receipt == receipt.strip().lower())).first()
    if row is None:
        return None
    return {"receipt": row.receipt, "choice": row.choice, "reason": row.reason, "weight": row.weight}


def _checked_ballot(proposal: Proposal, ballot: dict) -> dict:
    if proposal.method == "consent":
        return _checked_consent(ballot)
    field = BALLOT_FIELDS[proposal.method]
    if set(ballot) != {field}:
        raise Invalid(
            _('This is a %(method)s vote: send {"%(field)s": ...}.', method=proposal.method, field=field),
            {field: [_("Missing; this is the field for this vote.")]},
        )
    value = ballot[field]
    try:
        if proposal.method == "yes_no":
            return {"choice": voting.validate_choice(value)}
        if proposal.method == "approval":
            return {"approvals": voting.validate_approvals(value, proposal.options)}
        if proposal.method in ("ranked", "stv"):
            return {"ranking": voting.validate_ranking(value, proposal.options)}
        if proposal.method == "score":
            return {"scores": voting.validate_scores(value, proposal.options)}
    except voting.TallyError as exc:
        raise Invalid(str(exc), {field: [str(exc)]}) from None
    param = proposal.change["param"]
    _merged, errors = apply_change(current_terms().params, {param: value})
    if errors:
        messages = [f"{name}: {message}" for name, found in errors.items() for message in found]
        raise Invalid(
            _(
                "%(value)s is not a valid value for %(param)s: %(problems)s",
                value=value,
                param=param,
                problems=" ".join(messages),
            ),
            {"value": messages},
        )
    return {"value": value}


def _checked_consent(ballot: dict) -> dict:
    if len(ballot) != 1 or not set(ballot) <= set(CONSENT_FIELDS):
        raise Invalid(
            _('This is a consent vote: send {"consent": true}, or {"objection": "<reason>"} to object.'),
            {field: [_("Send exactly one of consent or objection.")] for field in CONSENT_FIELDS},
        )
    try:
        return voting.validate_consent(ballot)
    except voting.TallyError as exc:
        [field] = ballot
        raise Invalid(str(exc), {field: [str(exc)]}) from None


def _everyone_has_voted(proposal: Proposal) -> bool:
    # Members who withdrew cannot vote any more, so the vote does not wait for them.
    waiting = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(ProposalEligibility)
        .join(User, User.id == ProposalEligibility.member_id)
        .where(
            ProposalEligibility.proposal_id == proposal.id,
            User.is_member.is_(True),
            ~sa.exists().where(Ballot.proposal_id == proposal.id, Ballot.member_id == ProposalEligibility.member_id),
        )
    )
    return waiting == 0


def needs_supermajority(proposal: Proposal) -> bool:
    """Rules, and terms that change how the coop decides, need the supermajority."""
    if proposal.kind == "rule":
        return True
    return (
        proposal.kind == "terms"
        and proposal.method in ("yes_no", "consent")
        and bool(set(proposal.change) & GOVERNANCE_PARAMS)
    )


def objection_pct(params: dict) -> int:
    """The objection share that blocks a consent vote, under terms adopted before it existed too."""
    return params.get("objection_pct", FOUNDING_TERMS["objection_pct"])


def withdrawn_candidates(proposal: Proposal) -> list[str]:
    """The candidates of a coordinator election who are no longer members: the count passes over them.

    The candidates stay locked until the close commits, so nobody leaves between the count and the
    grant of the role (leaving locks the member first, and never a proposal).
    """
    candidates = proposal.change["candidates"]
    locked = db.session.scalars(
        sa.select(User)
        .where(User.id.in_(candidates))
        .order_by(User.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    members = {user.id for user in locked if user.is_member}
    return [str(uid) for uid in candidates if uid not in members]


def _tally(proposal: Proposal, groups: Sequence[Any], eligible: int, params: dict) -> dict:
    if proposal.method == "yes_no":
        return voting.tally_yes_no_grouped([(choice["choice"], count) for choice, count in groups], eligible)
    result = _method_tally(proposal, groups, eligible, params)
    cast = sum(count for _, count in groups)
    result["turnout_pct"] = round(cast * 100 / eligible, 2) if eligible else 0.0
    return result


def _method_tally(proposal: Proposal, groups: Sequence[Any], eligible: int, params: dict) -> dict:
    if proposal.method == "consent":
        # The whole ballot is the choice: an objection's reason is part of it.
        consent = voting.tally_consent_grouped(groups, eligible, params["quorum_pct"], objection_pct(params))
        return {
            **{key: consent[key] for key in ("consents", "objections", "blocked")},
            "objection_pct": objection_pct(params),
        }
    field = BALLOT_FIELDS[proposal.method]
    pairs = [(choice[field], count) for choice, count in groups]
    if proposal.method == "approval":
        return voting.tally_approval_grouped(pairs, proposal.options)
    if proposal.method == "ranked":
        return voting.tally_ranked_grouped(pairs, proposal.options)
    if proposal.method == "score":
        result = voting.tally_score_grouped(pairs, proposal.options)
        # Every ballot scores every option, so each option's count is the ballots'.
        return {**result, "counts": dict.fromkeys(proposal.options, result["count"])}
    if proposal.method == "stv":
        withdrawn = withdrawn_candidates(proposal) if proposal.kind == "coordinator" else []
        return voting.tally_stv_grouped(pairs, proposal.options, proposal.seats, withdrawn)
    return {"param": proposal.change["param"], **voting.tally_median_grouped(pairs)}


def _close(proposal: Proposal, now: datetime) -> list[tuple]:
    """Tally a locked, open proposal and enact what passed, in this transaction; returns the audit events."""
    # Each ballot counts for its weight: its voter and the members who delegated to them.
    delegated = weigh_ballots(proposal)
    # Identical ballots are counted by the database, so a million ballots arrive as a few
    # hundred (ballot, weight) groups instead of a million rows.
    groups = db.session.execute(
        sa.select(Ballot.choice, sa.func.sum(Ballot.weight))
        .where(Ballot.proposal_id == proposal.id)
        .group_by(Ballot.choice)
    ).all()
    params = db.session.get(TermsVersion, proposal.terms_version).params
    cast, eligible = sum(count for _, count in groups), proposal.eligible_count
    quorum = voting.quorum_met(cast, eligible, params["quorum_pct"])
    result = {
        **_tally(proposal, groups, eligible, params),
        "ballots": cast,
        "delegated": delegated,
        "eligible": eligible,
        "quorum_pct": params["quorum_pct"],
        "quorum_met": quorum,
    }
    status = "passed" if quorum else "no_quorum"
    if proposal.method == "yes_no":
        threshold = params["supermajority_pct"] if needs_supermajority(proposal) else params["majority_pct"]
        result["threshold_pct"] = threshold
        if quorum and not voting.yes_share_exceeds(result["yes"], result["no"], threshold):
            status = "rejected"
    elif proposal.method == "consent":
        if quorum and result["blocked"]:
            status = "rejected"
        if needs_supermajority(proposal):
            # Consent may not be a weaker bar than a yes/no vote on the same change, should
            # objection_pct ever be set above 100 - supermajority_pct.
            result["threshold_pct"] = params["supermajority_pct"]
            if quorum and not voting.yes_share_exceeds(
                result["consents"], result["objections"], result["threshold_pct"]
            ):
                status = "rejected"
        result["passes"] = status == "passed"
    proposal.status, proposal.closed_at = status, now
    effect_events: list[tuple] = []
    if status == "passed" and proposal.kind != "general" and proposal.method in DECIDING_METHODS:
        try:
            # A savepoint, so an enactment refused halfway (say, fees spent meanwhile) leaves no trace.
            with db.session.begin_nested():
                enacted, effect_events = enact(proposal, result, now)
        except CoopError as exc:
            result["error"] = exc.message
        else:
            proposal.status, proposal.enacted = "enacted", enacted
    proposal.result = result
    db.session.flush()
    subject = f"proposal:{proposal.id}"
    notify(
        sa.select(ProposalEligibility.member_id).where(ProposalEligibility.proposal_id == proposal.id),
        "vote_result",
        subject,
        {"proposal_id": proposal.id, "title": proposal.title, "status": proposal.status},
    )
    webhooks.emit("proposal.closed", {"proposal_id": proposal.id, "status": proposal.status, "result": result})
    events = [("proposal.closed", subject, None, {"status": status, "result": result})]
    if proposal.status == "enacted":
        events += effect_events + [("proposal.enacted", subject, None, proposal.enacted)]
    return events


def close_due(now: datetime) -> int:
    """Close every vote whose time is up; returns how many closed."""
    # Locked together in id order before anything else, so two closers never wait on each other in a cycle.
    due = list(
        db.session.scalars(
            sa.select(Proposal)
            .where(Proposal.status == "open", Proposal.closes_at <= now)
            .order_by(Proposal.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    )
    events = []
    for proposal in due:
        events += _close(proposal, now)
    record_events(events)
    return len(due)


def tick(now) -> str:
    """Time-driven governance work that is due: close the votes whose time is up."""
    closed = close_due(now)
    return f"closed {closed} proposal(s)" if closed else "nothing due"
