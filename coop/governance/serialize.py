"""What a response shows of governance: proposals with their threshold and receipts, the member register, rules."""

import json
from collections.abc import Iterable, Sequence

from flask import Response, url_for

from coop.accounts.models import User
from coop.accounts.permissions import has_role
from coop.csvfiles import csv_download, safe_cell
from coop.governance import services
from coop.governance.models import Ballot, Membership, Proposal, RuleVersion

RULE_FIELDS = ("slug", "version", "title", "text", "effective_at", "adopted_by")


def proposal_view(proposal: Proposal, *, receipts: bool = False, threshold: int | None = None) -> Proposal:
    """The proposal with what depends on the membership now: the petition threshold, and after close the receipts.

    After close, `receipts` holds at most `receipts_inline_max()` (1,000) receipts, the first in
    receipt order, so a big vote's page stays small; `receipts_total` says how many there are in
    all and `receipts_url` names the paged list that holds every one (the first page of which
    starts with the same receipts). Before close all three are null.
    Pass `threshold` when showing many proposals, so it is counted once for the page.
    """
    # View-only figures on the instance; the model declares them unmapped with a None default.
    proposal.petition_threshold = services.petition_threshold() if threshold is None else threshold  # type: ignore[assignment]
    if receipts:
        published = services.published_receipts(proposal)
        if published is not None:
            proposal.receipts, proposal.receipts_total = published  # type: ignore[assignment]
            proposal.receipts_url = url_for("governance.proposal_receipts", proposal_id=proposal.id)  # type: ignore[assignment]
    return proposal


def receipt_view(ballot: Ballot) -> dict:
    """A published receipt: the receipt, its choice, the voter's reason if given and its weight; never the member."""
    return {"receipt": ballot.receipt, "choice": ballot.choice, "reason": ballot.reason, "weight": ballot.weight}


def receipts_csv(rows: Iterable[tuple[str, dict, str | None, int]], filename: str) -> Response:
    """Receipts as a streamed text/csv download: a `receipt,choice,reason,weight` header, then one line per receipt.

    `choice` is the ballot as compact JSON. A cell that a spreadsheet would run as a formula is
    written with a leading `'` (receipts are hexadecimal and never need it).
    """
    lines = (
        [
            safe_cell(receipt),
            safe_cell(json.dumps(choice, separators=(",", ":"), sort_keys=True)),
            safe_cell(reason or ""),
            str(weight),
        ]
        for receipt, choice, reason, weight in rows
    )
    return csv_download(["receipt", "choice", "reason", "weight"], lines, filename)


def member_view(membership: Membership, user: User, viewer: User) -> dict:
    """One line of the member register; coordinators also see the email, the payment reference and the share."""
    item = {
        "user_id": user.id,
        "display_name": user.display_name,
        "status": membership.status,
        "applied_at": membership.applied_at,
        "joined_at": membership.joined_at,
        "is_coordinator": user.is_coordinator,
    }
    if has_role(viewer, "coordinator"):
        item.update(
            email=user.email,
            payment_reference=membership.payment_reference,
            share_paid_cents=membership.share_paid_cents,
        )
    return item


def rule_view(history: list[RuleVersion]) -> dict:
    """A rule document: its version in force, with every version newest first."""
    current = history[0]
    return {**{k: getattr(current, k) for k in RULE_FIELDS}, "history": history}


def _register_cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        # Pseudonyms are chosen by their owners: one may start like a formula.
        return safe_cell(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def register_csv(header: Sequence[str], rows: Iterable[tuple], filename: str) -> Response:
    """The share register as a streamed text/csv download: `header`, then one line per membership.

    Text that a spreadsheet would run as a formula is written with a leading `'`, as in the
    receipts; times are ISO 8601 in UTC, amounts integer cents, an empty cell for no value.
    """
    return csv_download(header, ([_register_cell(value) for value in row] for row in rows), filename)
