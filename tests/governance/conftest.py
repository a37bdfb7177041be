"""Governance fixtures: a small coop of members as API clients, and helpers to propose and vote."""

import pytest
import sqlalchemy as sa

from coop import clock, ledger
from coop.audit import AuditEntry
from coop.governance.models import TermsVersion
from coop.governance.services import current_terms, patronage_account, share_held_account


class Governance:
    """Proposes, reviews and votes over HTTP, the way members do."""

    def __init__(self, make):
        self.make = make

    def coop(self, members: int = 2):
        """A coordinator and `members` further members, as clients."""
        coordinator = self.make.client(self.make.coordinator())
        return coordinator, [self.make.client(self.make.member()) for _ in range(members)]

    def propose(self, client, **overrides) -> dict:
        body = {
            "title": "Hold a members' assembly",
            "body": "Let us meet.",
            "kind": "general",
            "method": "yes_no",
            **overrides,
        }
        response = client.post("/api/v1/proposals", json=body)
        assert response.status_code == 201, response.json
        return response.json

    def accept(self, coordinator, proposal_id: int, **extra) -> dict:
        response = coordinator.post(f"/api/v1/proposals/{proposal_id}/review", json={"action": "accept", **extra})
        assert response.status_code == 200, response.json
        return response.json

    def open_vote(self, proposer, coordinator, **overrides) -> dict:
        """A proposal by `proposer`, accepted by `coordinator`: open for voting."""
        return self.accept(coordinator, self.propose(proposer, **overrides)["id"])

    def vote(self, client, proposal_id: int, **ballot):
        return client.post(f"/api/v1/proposals/{proposal_id}/ballot", json=ballot)

    def get(self, client, proposal_id: int) -> dict:
        response = client.get(f"/api/v1/proposals/{proposal_id}")
        assert response.status_code == 200, response.json
        return response.json


@pytest.fixture
def gov(make):
    return Governance(make)


@pytest.fixture
def adopt_terms(session):
    """Put a new terms version in force directly (as if a vote had passed it)."""

    def adopt(**changes) -> TermsVersion:
        current = current_terms()
        terms = TermsVersion(
            version=current.version + 1, params={**current.params, **changes}, effective_at=clock.now()
        )
        session.add(terms)
        session.flush()
        return terms

    return adopt


@pytest.fixture
def audit_entries(session):
    """The audit entries, oldest first, optionally only those about one subject or of one event."""

    def entries(subject=None, event=None) -> list[AuditEntry]:
        stmt = sa.select(AuditEntry).order_by(AuditEntry.seq)
        if subject:
            stmt = stmt.where(AuditEntry.subject == subject)
        if event:
            stmt = stmt.where(AuditEntry.event == event)
        return list(session.scalars(stmt))

    return entries


@pytest.fixture
def earn(session):
    """Credit a worker's earnings as approved work does: a requester's money that arrived from outside."""

    def credit(user, cents: int) -> None:
        ledger.move(ledger.EXTERNAL, ledger.worker_earnings(user.id), cents, "approved work (test)")

    return credit


@pytest.fixture
def money(session):
    """The balances a membership touches for one worker, and the coop's share capital and outside world."""

    def balances(user) -> dict:
        names = [
            ledger.EXTERNAL,
            ledger.COOP_SHARE_CAPITAL,
            ledger.worker_earnings(user.id),
            share_held_account(user.id),
            patronage_account(user.id),
            f"worker:{user.id}:payout_pending",
        ]
        return {name: ledger.balance(name) for name in names}

    return balances
