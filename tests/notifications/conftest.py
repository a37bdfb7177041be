"""Notification fixtures: a small coop as API clients, and reading what each member was told."""

import pytest
import sqlalchemy as sa

from coop import ledger
from coop.extensions import db
from coop.notifications.models import Notification
from tests.marketplace.conftest import batch_body

API = "/api/v1"


class Coop:
    """A coordinator, members and a funded requester, each with an API client, acting over HTTP."""

    def __init__(self, make):
        self.make = make
        self.coordinator = make.coordinator()
        self.members = [make.member() for _ in range(3)]
        self.requester = make.requester()
        ledger.move(ledger.EXTERNAL, ledger.requester_available(self.requester.id), 10_000, "test deposit")
        self.cc = make.client(self.coordinator)
        self.mc = [make.client(m) for m in self.members]
        self.rc = make.client(self.requester)

    def ok(self, response, status=200):
        assert response.status_code == status, response.get_json()
        return response.get_json()

    def propose(self, client, **overrides) -> dict:
        body = {"title": "Hold a members' assembly", "body": "Let us meet.", "kind": "general", "method": "yes_no"}
        return self.ok(client.post(f"{API}/proposals", json={**body, **overrides}), 201)

    def accept(self, proposal_id, **extra) -> dict:
        return self.ok(self.cc.post(f"{API}/proposals/{proposal_id}/review", json={"action": "accept", **extra}))

    def open_vote(self, client=None, **overrides) -> dict:
        return self.accept(self.propose(client or self.mc[0], **overrides)["id"])

    def batch(self, **overrides) -> dict:
        return self.ok(self.rc.post(f"{API}/batches", json=batch_body(**{"items": 2, **overrides})), 201)

    def submitted(self, client) -> dict:
        batch = self.batch(items=1)
        assignment = self.ok(client.post(f"{API}/batches/{batch['id']}/claim", json={}), 201)
        self.ok(client.post(f"{API}/assignments/{assignment['id']}/submit", json={"answer": {"ok": True}}))
        return assignment


@pytest.fixture
def coop(make):
    return Coop(make)


def _told(user, kind=None) -> list[Notification]:
    stmt = sa.select(Notification).where(Notification.user_id == user.id).order_by(Notification.id)
    if kind:
        stmt = stmt.where(Notification.kind == kind)
    return list(db.session.scalars(stmt))


@pytest.fixture
def told(session):
    """`told(user, kind=None)`: what `user` was told, oldest first (optionally of one kind)."""
    return _told
