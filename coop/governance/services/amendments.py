"""Amendments: members propose changes to a proposal before its vote; its author accepts or declines them."""

import sqlalchemy as sa
from flask_babel import gettext as _

from coop import audit, clock
from coop.accounts.models import User
from coop.accounts.permissions import ROLE_MESSAGES
from coop.errors import Conflict, Forbidden, Invalid
from coop.extensions import db
from coop.governance.models import Amendment, Cosignature, Proposal, ProposalVersion
from coop.governance.services.ballots import lock_proposal
from coop.governance.services.proposals import checked_proposal
from coop.notifications.services import notify
from coop.pagination import keyset_page

# What an amendment may replace; the title, kind and method stay as the author chose them.
AMENDABLE = ("body", "options", "change")
# A proposal may change only while it waits for review or a petition, never once members vote on it.
AMENDABLE_STATUSES = ("submitted", "returned")


def _check_amendable(proposal: Proposal) -> None:
    if proposal.status not in AMENDABLE_STATUSES:
        raise Conflict(
            _(
                "This proposal is %(status)s; a proposal can be amended only before its vote opens (while "
                "submitted or returned).",
                status=proposal.status,
            )
        )


def _amended(proposal: Proposal, changes: dict) -> tuple[str, list | None, dict | None]:
    """The body, options and change the proposal would have with `changes`, checked as a new proposal is.

    Invalid (422) with the submission's own field errors when the result would not be accepted
    as a proposal, or when it would change nothing.
    """
    merged = {
        "title": proposal.title,
        "body": proposal.body,
        "kind": proposal.kind,
        "method": proposal.method,
        "options": proposal.options,
        "change": proposal.change,
        # An election's seats live in its change; a general stv vote's must stay fewer than its options.
        **({"seats": proposal.seats} if proposal.seats is not None and proposal.kind != "coordinator" else {}),
        **changes,
    }
    data, options, change = checked_proposal(merged)
    if (data["body"], options, change) == (proposal.body, proposal.options, proposal.change):
        raise Invalid(
            _("This amendment changes nothing in version %(version)s of the proposal.", version=proposal.version),
            {field: [_("Same as the proposal's current text.")] for field in changes},
        )
    return data["body"], options, change


def propose_amendment(member: User, proposal: Proposal, data: dict) -> Amendment:
    """A member proposes `{body?, options?, change?, reason}` to a proposal whose vote has not opened.

    The fields given replace the proposal's own; the proposal they would make is checked as a
    new proposal is (422 with field errors), so an amendment the author accepts is always valid
    when proposed. 409 once voting has opened.
    """
    if not member.is_member:
        raise Forbidden(ROLE_MESSAGES["member"])
    proposal = lock_proposal(proposal)
    _check_amendable(proposal)
    changes = {field: data[field] for field in AMENDABLE if data.get(field) is not None}
    if not changes:
        raise Invalid(errors={"_schema": [_("Amend at least one of body, options or change.")]})
    reason = (data.get("reason") or "").strip()
    if not reason:
        raise Invalid(errors={"reason": [_("Say why you propose this amendment.")]})
    body, options, change = _amended(proposal, changes)
    amendment = Amendment(
        proposal_id=proposal.id,
        author_id=member.id,
        body=body if "body" in changes else None,
        options=options if "options" in changes else None,
        change=change if "change" in changes else None,
        reason=reason,
        status="pending",
        based_on_version=proposal.version,
        created_at=clock.now(),
    )
    db.session.add(amendment)
    db.session.flush()
    audit.append(
        "proposal.amendment_proposed",
        f"proposal:{proposal.id}",
        member,
        {"amendment_id": amendment.id, "fields": sorted(changes), "version": proposal.version, "reason": reason},
    )
    notify(
        [proposal.proposer_id] if proposal.proposer_id != member.id else [],
        "proposal_amended",
        f"proposal:{proposal.id}",
        {
            "proposal_id": proposal.id,
            "title": proposal.title,
            "event": "proposed",
            "by": member.display_name,
            "reason": reason,
            "amendment_id": amendment.id,
        },
    )
    return amendment


def _decidable(author: User, amendment: Amendment, doing: str) -> Proposal:
    """The amendment's proposal, locked, once the caller is its author and both are still open to a decision."""
    proposal = db.session.get(Proposal, amendment.proposal_id)
    if proposal is None or proposal.proposer_id != author.id:
        raise Forbidden(_("Only the author of the proposal can %(doing)s an amendment to it.", doing=doing))
    proposal = lock_proposal(proposal)
    # Read again under the proposal's lock: another decision on it may have just committed.
    db.session.refresh(amendment)
    if amendment.status != "pending":
        raise Conflict(
            _("This amendment is already %(status)s; only a pending amendment can be decided.", status=amendment.status)
        )
    _check_amendable(proposal)
    return proposal


def accept_amendment(author: User, amendment: Amendment) -> Amendment:
    """The proposal's author accepts an amendment: the proposal takes its fields as a new version.

    The proposal it makes is checked again as a new proposal is, against the current proposal
    and the terms and members of now (422 if it no longer holds; the amendment stays pending).
    Co-signatures stay valid, and the co-signers are to be told that what they signed changed.
    """
    proposal = _decidable(author, amendment, _("accept"))
    changes = {field: getattr(amendment, field) for field in AMENDABLE if getattr(amendment, field) is not None}
    body, options, change = _amended(proposal, changes)
    now = clock.now()
    proposal.body, proposal.options, proposal.change = body, options, change
    if proposal.method == "stv" and proposal.kind == "coordinator" and change:
        proposal.seats = change["seats"]
    proposal.version += 1
    db.session.add(
        ProposalVersion(
            proposal_id=proposal.id,
            number=proposal.version,
            body=body,
            options=options,
            change=change,
            at=now,
            amendment_id=amendment.id,
        )
    )
    amendment.status, amendment.decided_at, amendment.version = "accepted", now, proposal.version
    db.session.flush()
    subject = f"proposal:{proposal.id}"
    audit.append(
        "proposal.amendment_accepted",
        subject,
        author,
        {"amendment_id": amendment.id, "fields": sorted(changes), "version": proposal.version},
    )
    if proposal.cosigner_count:
        # Who signed stays private; whoever tells them reads the co-signatures of the proposal.
        audit.append(
            "proposal.cosigners_told",
            subject,
            "system",
            {"amendment_id": amendment.id, "version": proposal.version, "cosigners": proposal.cosigner_count},
        )
        notify(
            sa.select(Cosignature.member_id).where(Cosignature.proposal_id == proposal.id),
            "proposal_amended",
            subject,
            {
                "proposal_id": proposal.id,
                "title": proposal.title,
                "event": "accepted",
                "version": proposal.version,
                "amendment_id": amendment.id,
            },
        )
    return amendment


def decline_amendment(author: User, amendment: Amendment, reason: str) -> Amendment:
    """The proposal's author declines an amendment with a public reason; the proposal stays as it is."""
    reason = (reason or "").strip()
    proposal = _decidable(author, amendment, _("decline"))
    if not reason:
        raise Invalid(errors={"reason": [_("Say why you decline the amendment.")]})
    amendment.status, amendment.decided_at, amendment.decline_reason = "declined", clock.now(), reason
    db.session.flush()
    audit.append(
        "proposal.amendment_declined",
        f"proposal:{proposal.id}",
        author,
        {"amendment_id": amendment.id, "reason": reason},
    )
    return amendment


def amendment_page(proposal: Proposal, *, limit: int, cursor: str | None) -> tuple[list[Amendment], str | None]:
    """A proposal's amendments, oldest first, whatever their status."""
    stmt = sa.select(Amendment).where(Amendment.proposal_id == proposal.id)
    return keyset_page(stmt, [Amendment.id], limit=limit, cursor=cursor)


def version_page(proposal: Proposal, *, limit: int, cursor: str | None) -> tuple[list[ProposalVersion], str | None]:
    """Every version of a proposal, oldest first: as submitted, then one per accepted amendment."""
    stmt = sa.select(ProposalVersion).where(ProposalVersion.proposal_id == proposal.id)
    return keyset_page(stmt, [ProposalVersion.number], limit=limit, cursor=cursor)
