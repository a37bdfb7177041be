"""The demo coop: something to try on every page, seeded once."""

import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher
from sqlalchemy.orm import scoped_session, sessionmaker

from coop import audit, ledger
from coop.accounts import services as accounts
from coop.accounts.models import User
from coop.demo import DEMO_ACCOUNTS, DEMO_PASSWORD
from coop.errors import Forbidden
from coop.extensions import db
from coop.forum import services as forum
from coop.forum.models import ForumAppeal, Post
from coop.governance.models import CLOSED_STATUSES, VOTING_METHODS, Ballot, Proposal, TermsVersion
from coop.marketplace.models import Appeal, Assignment, Batch
from tests.conftest import session_on


@pytest.fixture(scope="module")
def demo(app):
    """The demo seeded once for the module, in a transaction rolled back after it; its connection and output."""
    with app.app_context(), pytest.MonkeyPatch.context() as mp:
        connection = db.engine.connect()
        outer = connection.begin()
        # As the suite's autouse fixture does for each test: hashes stay argon2id, only cheaper.
        mp.setattr(accounts, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
        mp.setattr(
            db, "session", scoped_session(sessionmaker(bind=connection, join_transaction_mode="create_savepoint"))
        )
        result = app.test_cli_runner().invoke(args=["coop", "seed-demo"])
        db.session.remove()
    assert result.exit_code == 0, result.output
    yield connection, result.output
    outer.rollback()
    connection.close()


@pytest.fixture
def session(app, app_context, demo):
    """Each test sees the seeded demo and whatever it changes is rolled back to it at the end."""
    connection, _ = demo
    seeded_state = connection.begin_nested()
    try:
        with session_on(connection) as bound:
            yield bound
    finally:
        seeded_state.rollback()


@pytest.fixture
def seeded(demo, session):
    return demo[1]


def _user(session, email) -> User:
    return session.scalar(sa.select(User).where(User.email == email))


def test_the_command_prints_every_account_with_its_password(seeded):
    assert DEMO_PASSWORD in seeded
    for email, _name, role, _what in DEMO_ACCOUNTS:
        assert email in seeded and role in seeded


def test_every_demo_account_signs_in_with_the_printed_password(seeded, session):
    for email, name, _role, _what in DEMO_ACCOUNTS:
        assert accounts.authenticate(email, DEMO_PASSWORD).display_name == name


def test_two_coordinators_and_a_worker_who_is_not_a_member(seeded, session):
    coordinators = session.scalars(sa.select(User.email).where(User.is_coordinator.is_(True))).all()
    assert sorted(coordinators) == ["amara@demo.coop", "farid@demo.coop"]
    esi = _user(session, "esi@demo.coop")
    assert esi.kind == "worker" and not esi.is_member
    assert _user(session, "lab@demo.coop").kind == "requester"


def test_each_voting_method_has_an_open_vote_with_ballots_and_a_closed_one_with_receipts(seeded, session):
    for method in VOTING_METHODS:
        proposals = session.scalars(sa.select(Proposal).where(Proposal.method == method)).all()
        ballots = {p.id: session.scalars(sa.select(Ballot).where(Ballot.proposal_id == p.id)).all() for p in proposals}
        opened = [p for p in proposals if p.status == "open"]
        closed = [p for p in proposals if p.status in CLOSED_STATUSES]
        assert opened and closed, method
        assert all(len(ballots[p.id]) >= 2 for p in opened), method
        for proposal in closed:
            # Cast by several members, each with a receipt that the closed vote publishes.
            assert len({b.member_id for b in ballots[proposal.id]}) == 5, method
            assert all(b.receipt for b in ballots[proposal.id]), method
            assert proposal.result and proposal.result["quorum_met"], method


def test_the_closed_median_vote_enacted_its_value_and_the_consent_vote_was_blocked(seeded, session):
    terms = session.scalar(sa.select(TermsVersion).order_by(TermsVersion.version.desc()))
    assert terms.version == 2 and terms.params["claim_lease_minutes"] == 45
    consent = session.scalar(sa.select(Proposal).where(Proposal.method == "consent", Proposal.status != "open"))
    assert consent.status == "rejected"


def test_batches_in_pilot_and_open_with_warnings_answer_forms_end_client_and_purpose(seeded, session):
    batches = session.scalars(sa.select(Batch)).all()
    assert sorted(b.status for b in batches) == ["open", "open", "pilot"]
    warned = next(b for b in batches if b.content_warnings)
    assert warned.status == "open" and set(warned.content_warnings) == {"hate", "violence"}
    for batch in batches:
        assert batch.answer_fields and batch.end_client and batch.purpose
        assert batch.escrow_cents > 0
    assert ledger.total_of_all_entries() == 0


def test_submitted_work_waits_and_a_rejection_is_under_appeal(seeded, session):
    statuses = session.scalars(sa.select(Assignment.status)).all()
    assert statuses.count("submitted") == 2  # one on the open batch, one in the pilot
    appeal = session.scalar(sa.select(Appeal))
    assert appeal.status == "pending" and appeal.assignment.status == "rejected"
    assert appeal.assignment.worker_id == _user(session, "esi@demo.coop").id


def test_a_hidden_post_is_under_appeal_for_the_coordinator_who_did_not_hide_it(seeded, session):
    appeal = session.scalar(sa.select(ForumAppeal))
    post = session.get(Post, appeal.post_id)
    assert appeal.status == "open" and post.hidden
    amara, farid = _user(session, "amara@demo.coop"), _user(session, "farid@demo.coop")
    assert appeal.moderation.coordinator_id == amara.id
    with pytest.raises(Forbidden):
        forum.decide_appeal(amara, appeal, "overturn", "I hid it myself, so I may not judge it.")
    decided = forum.decide_appeal(farid, appeal, "uphold", "Attacks members for their votes; the hide stands.")
    assert decided.status == "upheld"


def test_seeding_twice_changes_nothing_and_says_so(seeded, app, session):
    counts = [session.scalar(sa.select(sa.func.count()).select_from(m)) for m in (User, Proposal, Batch, Post)]
    again = app.test_cli_runner().invoke(args=["coop", "seed-demo"])
    assert again.exit_code == 0 and "already present" in again.output
    assert [session.scalar(sa.select(sa.func.count()).select_from(m)) for m in (User, Proposal, Batch, Post)] == counts
    assert audit.verify().ok
