"""Governance tables: versioned terms and rules, membership and shares, proposals and ballots."""

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from coop import clock
from coop.accounts.models import User
from coop.extensions import Model
from coop.ledger import PAYMENT_REFERENCE_MAX
from coop.types import JSONType, UTCDateTime


class TermsVersion(Model):
    """One complete, validated parameter set; a new row only by a passed proposal or founding."""

    __tablename__ = "terms_versions"

    version: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    params: Mapped[dict] = mapped_column(JSONType)
    effective_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    adopted_by: Mapped[int | None] = mapped_column()  # proposal id; null for the founding version


class RuleVersion(Model):
    """One version of a rule document (bylaws, forum-rules, marketplace-code, ...)."""

    __tablename__ = "rule_versions"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(sa.String(64), index=True)
    version: Mapped[int] = mapped_column()
    title: Mapped[str] = mapped_column(sa.String(200))
    text: Mapped[str] = mapped_column(sa.Text)
    effective_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    adopted_by: Mapped[int | None] = mapped_column()

    __table_args__ = (sa.UniqueConstraint("slug", "version"),)


# pending_payment: announced a transfer of the share, not yet seen by a coordinator;
# applicant: paid the share from their earnings (held) and waits for admission under "approval";
# refused: an application a coordinator turned down (any held share refunded).
MEMBERSHIP_STATUSES = ("pending_payment", "applicant", "member", "withdrawn", "refused")


class Membership(Model):
    """A worker's membership: applying, member holding the one share, withdrawn or refused."""

    __tablename__ = "memberships"

    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), primary_key=True)
    status: Mapped[str] = mapped_column(sa.String(16))
    applied_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    joined_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # What this membership paid in (or, for an applicant, holds): exactly what leaving redeems.
    share_paid_cents: Mapped[int] = mapped_column(sa.BigInteger, default=0, server_default="0")
    # The bank or mobile-money reference the applicant announced, then the one a coordinator confirmed.
    payment_reference: Mapped[str | None] = mapped_column(sa.String(PAYMENT_REFERENCE_MAX))

    __table_args__ = (sa.CheckConstraint(f"status IN {MEMBERSHIP_STATUSES}", name="status"),)


SHARE_LINE_KINDS = ("membership_share", "patronage", "redemption")


class ShareLine(Model):
    """One line of the share register: the membership share, patronage allocations, redemptions."""

    __tablename__ = "share_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    kind: Mapped[str] = mapped_column(sa.String(32))
    amount_cents: Mapped[int] = mapped_column(sa.BigInteger)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    ledger_transaction_id: Mapped[int | None] = mapped_column(sa.ForeignKey("ledger_transactions.id"))
    memo: Mapped[str] = mapped_column(sa.String(255), default="")
    # The transfer a coordinator confirmed as this share's payment; none when paid from earnings.
    payment_reference: Mapped[str | None] = mapped_column(sa.String(PAYMENT_REFERENCE_MAX))

    __table_args__ = (sa.CheckConstraint(f"kind IN {SHARE_LINE_KINDS}", name="kind"),)


PROPOSAL_KINDS = ("terms", "rule", "coordinator", "surplus", "general", "requester_suspension")
VOTING_METHODS = ("yes_no", "approval", "ranked", "median", "consent", "score", "stv")
PROPOSAL_STATUSES = ("submitted", "returned", "open", "passed", "rejected", "no_quorum", "enacted")
CLOSED_STATUSES = ("passed", "rejected", "no_quorum", "enacted")
OPENED_BY = ("review", "petition")


class Proposal(Model):
    """A proposal put to the members: submitted, triaged or petitioned to ballot, tallied once."""

    __tablename__ = "proposals"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(sa.String(200))
    body: Mapped[str] = mapped_column(sa.Text)
    kind: Mapped[str] = mapped_column(sa.String(32))
    method: Mapped[str] = mapped_column(sa.String(16))
    options: Mapped[list | None] = mapped_column(JSONType)
    change: Mapped[dict | None] = mapped_column(JSONType)
    # How many options an stv vote elects; null for every other method.
    seats: Mapped[int | None] = mapped_column()
    status: Mapped[str] = mapped_column(sa.String(16), default="submitted")
    proposer_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    reviewer_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    review_reason: Mapped[str | None] = mapped_column(sa.Text)
    opened_by: Mapped[str | None] = mapped_column(sa.String(16))
    opens_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closes_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The thresholds of a vote are those in force when it opened, not those a concurrent
    # vote may enact while it runs.
    terms_version: Mapped[int | None] = mapped_column(sa.ForeignKey("terms_versions.version"))
    # Counters kept under the proposal's row lock, so lists need no per-row counting.
    eligible_count: Mapped[int] = mapped_column(default=0)
    ballot_count: Mapped[int] = mapped_column(default=0)
    cosigner_count: Mapped[int] = mapped_column(default=0)
    result: Mapped[dict | None] = mapped_column(JSONType)
    enacted: Mapped[dict | None] = mapped_column(JSONType)
    # The proposal's discussion in the forum's `proposals` board; null only for proposals older than it.
    thread_id: Mapped[int | None] = mapped_column(sa.ForeignKey("threads.id"))
    # The number of the version in force: 1 as submitted, one more for each accepted amendment.
    version: Mapped[int] = mapped_column(default=1, server_default="1")

    proposer: Mapped[User] = relationship(foreign_keys=[proposer_id])
    reviewer: Mapped[User | None] = relationship(foreign_keys=[reviewer_id])
    outcome: Mapped["ProposalOutcome | None"] = relationship(lazy="selectin", viewonly=True)

    __table_args__ = (
        sa.CheckConstraint(f"kind IN {PROPOSAL_KINDS}", name="kind"),
        sa.CheckConstraint(f"method IN {VOTING_METHODS}", name="method"),
        sa.CheckConstraint(f"status IN {PROPOSAL_STATUSES}", name="status"),
        sa.CheckConstraint(f"opened_by IN {OPENED_BY}", name="opened_by"),
        # Serves the status filter and the search for votes that are due to close.
        sa.Index("ix_proposals_status_closes_at", "status", "closes_at"),
    )

    # Filled for display by serialize.py (they depend on the membership now), never stored.
    petition_threshold = None
    receipts = None
    receipts_total = None
    receipts_url = None

    @property
    def is_closed(self) -> bool:
        return self.status in CLOSED_STATUSES


class ProposalEligibility(Model):
    """The members entitled to vote on a proposal, fixed when voting opened."""

    __tablename__ = "proposal_eligibility"

    proposal_id: Mapped[int] = mapped_column(sa.ForeignKey("proposals.id"), primary_key=True)
    member_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), primary_key=True, index=True)


class Cosignature(Model):
    """A member's signature on a petition to bring a proposal to ballot."""

    __tablename__ = "proposal_cosignatures"

    proposal_id: Mapped[int] = mapped_column(sa.ForeignKey("proposals.id"), primary_key=True)
    member_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), primary_key=True, index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)


class Ballot(Model):
    """A secret ballot: the member is kept only to allow one ballot each, never shown.

    No timestamp is kept, so a ballot cannot be matched to when someone was seen voting.
    """

    __tablename__ = "ballots"

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(sa.ForeignKey("proposals.id"))
    member_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    # Byte order ("C") on PostgreSQL, as SQLite always sorts, so receipts page in one order on every
    # database and the (proposal_id, receipt) index serves that order.
    receipt: Mapped[str] = mapped_column(
        sa.String(32).with_variant(sa.String(32, collation="C"), "postgresql"), unique=True
    )
    # In the ballot's own shape: {"choice": ...}, {"approvals": [...]}, {"ranking": [...]}, {"value": n},
    # {"consent": true}, {"objection": "<reason>"}, {"scores": {option: n}}.
    choice: Mapped[dict] = mapped_column(JSONType)
    # Why the member voted so, if they chose to say: published with the receipt after close.
    reason: Mapped[str | None] = mapped_column(sa.String(500))
    # How many members this ballot counts for: 1, plus at close the members who did not vote and
    # whose delegation chain ends here. Set once in the close transaction and published with the receipt.
    weight: Mapped[int] = mapped_column(default=1, server_default="1")

    __table_args__ = (
        sa.UniqueConstraint("proposal_id", "member_id"),
        # A page of a closed vote's receipts reads this index, never sorting the whole vote.
        sa.Index("ix_ballots_proposal_id_receipt", "proposal_id", "receipt"),
    )


class ProposalVersion(Model):
    """One version of a proposal's text and motion: as submitted, then after each accepted amendment."""

    __tablename__ = "proposal_versions"

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(sa.ForeignKey("proposals.id"))
    number: Mapped[int] = mapped_column()
    body: Mapped[str] = mapped_column(sa.Text)
    options: Mapped[list | None] = mapped_column(JSONType)
    change: Mapped[dict | None] = mapped_column(JSONType)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    # The amendment that made this version; null for the version as submitted.
    amendment_id: Mapped[int | None] = mapped_column(sa.ForeignKey("proposal_amendments.id"))

    __table_args__ = (sa.UniqueConstraint("proposal_id", "number"),)


AMENDMENT_STATUSES = ("pending", "accepted", "declined", "lapsed")


class Amendment(Model):
    """A member's proposed change to a proposal before its vote; its author accepts or declines it.

    Pending amendments lapse when voting opens: members vote on the proposal as it then stands.
    """

    __tablename__ = "proposal_amendments"

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(sa.ForeignKey("proposals.id"), index=True)
    author_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    # Only the fields the amendment replaces are set.
    body: Mapped[str | None] = mapped_column(sa.Text)
    options: Mapped[list | None] = mapped_column(JSONType)
    change: Mapped[dict | None] = mapped_column(JSONType)
    reason: Mapped[str] = mapped_column(sa.Text)
    status: Mapped[str] = mapped_column(sa.String(16), default="pending")
    # The version of the proposal the amendment was written against.
    based_on_version: Mapped[int] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decline_reason: Mapped[str | None] = mapped_column(sa.Text)
    # The proposal version its acceptance made.
    version: Mapped[int | None] = mapped_column()

    author: Mapped[User] = relationship(lazy="selectin")

    __table_args__ = (sa.CheckConstraint(f"status IN {AMENDMENT_STATUSES}", name="status"),)


class ProposalOutcome(Model):
    """What came of a closed proposal, stated by its author or a coordinator, with an optional review date."""

    __tablename__ = "proposal_outcomes"

    proposal_id: Mapped[int] = mapped_column(sa.ForeignKey("proposals.id"), primary_key=True)
    statement: Mapped[str] = mapped_column(sa.Text)
    review_on: Mapped[date | None] = mapped_column(sa.Date)
    recorded_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    # Set by the tick once the review date has come, so the reminder is recorded exactly once.
    review_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    recorded_by: Mapped[User] = relationship(lazy="selectin")

    # The tick's search for reviews that have come due.
    __table_args__ = (sa.Index("ix_proposal_outcomes_review", "review_due_at", "review_on"),)


class Delegation(Model):
    """A member's one delegate, whose ballot counts for the member in any vote the member does not cast.

    Known to the member alone: the delegate sees only how many delegate to them, and the
    published recount only each ballot's weight.
    """

    __tablename__ = "delegations"

    member_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), primary_key=True)
    # Indexed: closing a vote walks the chains from each voter back to those who delegate to them.
    delegate_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    set_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    __table_args__ = (sa.CheckConstraint("member_id <> delegate_id", name="not_self"),)
