"""Marketplace fixtures: funded requesters, valid batch bodies, balance snapshots, the books checked after each test."""

from datetime import UTC, datetime, time, timedelta

import pytest
import sqlalchemy as sa

from coop import clock, create_app, ledger
from coop.accounts.models import User
from coop.extensions import db
from coop.governance import services as governance
from coop.governance.models import TermsVersion
from coop.governance.services import current_terms
from coop.marketplace import services
from coop.marketplace.models import Batch


@pytest.fixture(autouse=True)
def _frozen_clock(frozen_clock):
    """Real working times in these tests are exact: time moves only by clock.advance."""


@pytest.fixture(autouse=True)
def _books_balance(request):
    """After every database test here: the ledger sums to zero and escrow matches open work."""
    if "session" not in request.fixturenames:
        yield
        return
    request.getfixturevalue("session")
    yield
    assert ledger.total_of_all_entries() == 0
    for requester_id in db.session.scalars(sa.select(Batch.requester_id).distinct()):
        assert ledger.balance(ledger.requester_escrow(requester_id)) == services.escrow_owed(requester_id)


def batch_body(items=3, **overrides) -> dict:
    """A batch that meets the founding terms: 20 cents for 55 seconds is 1309 an hour, above the floor of 1300."""
    body = {
        "title": "Label street photos",
        "description": "Mark every traffic sign.",
        "instructions": "Draw one box per sign.",
        "end_client": "Northwind Mobility",
        "purpose": "preparation",
        "content_warnings": [],
        "personal_data": False,
        "reward_cents": 20,
        "est_seconds": 55,
        "assignments_per_item": 1,
        "items": [{"data": {"n": i}} for i in range(items)],
    }
    body.update(overrides)
    return body


def fund(user, cents: int) -> None:
    """Put money in a requester's available funds, as a confirmed deposit would."""
    ledger.move(ledger.EXTERNAL, ledger.requester_available(user.id), cents, "test deposit")


def snapshot(*users) -> dict:
    """Every balance the marketplace touches for these users, plus the coop's fees."""
    out = {ledger.COOP_FEES: ledger.balance(ledger.COOP_FEES)}
    for user in users:
        for name in (
            ledger.requester_available(user.id),
            ledger.requester_escrow(user.id),
            ledger.worker_earnings(user.id),
            ledger.requester_payout_pending(user.id),
            ledger.worker_payout_pending(user.id),
        ):
            out[name] = ledger.balance(name)
    return out


def new_terms(**changes) -> TermsVersion:
    """Adopt a new terms version directly (what a passed terms proposal does)."""
    current = current_terms()
    terms = TermsVersion(version=current.version + 1, params={**current.params, **changes}, effective_at=clock.now())
    db.session.add(terms)
    db.session.flush()
    return terms


def to_utc_hour(hour: int = 1) -> None:
    """Move the clock to the next `hour`:00 UTC, so a test's day never straddles midnight."""
    now = clock.now()
    target = datetime.combine(now.date() + timedelta(days=1), time(hour), tzinfo=UTC)
    clock.advance(target - now)


class Market:
    """A requester with funds and a few members, each with an API client."""

    def __init__(self, make, funds=10_000):
        self.make = make
        self.requester = make.requester()
        fund(self.requester, funds)
        self.rc = make.client(self.requester)
        self.members = [make.member() for _ in range(3)]
        self.mc = [make.client(m) for m in self.members]
        self.coordinator = make.coordinator()
        self.cc = make.client(self.coordinator)

    def post(self, **overrides):
        response = self.rc.post("/api/v1/batches", json=batch_body(**overrides))
        assert response.status_code == 201, response.get_json()
        return response.get_json()

    def claim(self, client, batch_id, **body):
        response = client.post(f"/api/v1/batches/{batch_id}/claim", json=body)
        assert response.status_code == 201, response.get_json()
        return response.get_json()

    def submit(self, client, assignment_id, answer=None):
        response = client.post(f"/api/v1/assignments/{assignment_id}/submit", json={"answer": answer or {"ok": True}})
        assert response.status_code == 200, response.get_json()
        return response.get_json()

    def review(self, assignment_id, decision="approve", reason=None):
        response = self.rc.post(
            f"/api/v1/assignments/{assignment_id}/review", json={"decision": decision, "reason": reason}
        )
        assert response.status_code == 200, response.get_json()
        return response.get_json()


@pytest.fixture
def market(make):
    return Market(make)


# Enough pooled connections for the largest race (64 claimers) plus the test's own.
RACING_POOL = 70


@pytest.fixture
def racing_app(app, committed):
    """An app of its own with a pool big enough for every racer at once."""
    url = db.engine.url.render_as_string(hide_password=False)
    racing = create_app(
        {
            "ENV_NAME": "testing",
            "SQLALCHEMY_DATABASE_URI": url,
            "SQLALCHEMY_ENGINE_OPTIONS": {"pool_size": RACING_POOL, "max_overflow": 10},
        }
    )
    yield racing
    with racing.app_context():
        db.engine.dispose()


def racers(count: int, label: str, tag: str) -> list[int]:
    """The ids of `count` members made for a race (the caller commits)."""
    ids = []
    for n in range(count):
        # Inserted directly: hashing dozens of passwords would only slow the test down.
        member = User(
            email=f"{label.lower()}{n}-{tag}@example.org",
            display_name=f"{label} {n} {tag}",
            kind="worker",
            password_hash="!",
        )
        db.session.add(member)
        db.session.flush()
        governance.admit_founder(member, "test transfer")
        ids.append(member.id)
    return ids
