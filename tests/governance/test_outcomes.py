"""Outcomes: what came of a closed proposal, who may record it, and the review date the tick marks once."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from coop import clock
from coop.governance.models import ProposalOutcome
from coop.governance.services import mark_reviews_due

V1 = "/api/v1"


@pytest.fixture
def closed(gov):
    """A yes/no vote by alice that has closed: (coordinator, alice, bob, proposal id)."""
    coordinator, (alice, bob) = gov.coop(members=2)
    proposal_id = gov.open_vote(alice, coordinator)["id"]
    clock.advance(timedelta(days=30))
    assert gov.get(alice, proposal_id)["status"] in ("passed", "rejected", "no_quorum")
    return coordinator, alice, bob, proposal_id


def record(client, proposal_id: int, **body):
    return client.post(f"{V1}/proposals/{proposal_id}/outcome", json={"statement": "We met on Tuesday.", **body})


def in_days(days: int) -> str:
    return (clock.now().date() + timedelta(days=days)).isoformat()


def test_the_author_records_the_outcome_and_everyone_signed_in_reads_it(gov, closed, as_requester, audit_entries):
    coordinator, alice, bob, proposal_id = closed

    response = record(alice, proposal_id, statement="  We met; minutes on the board.  ", review_on=in_days(90))

    assert response.status_code == 200, response.json
    outcome = as_requester.get(f"{V1}/proposals/{proposal_id}").json["outcome"]
    assert outcome["statement"] == "We met; minutes on the board."
    assert outcome["review_on"] == in_days(90) and outcome["review_due_at"] is None
    assert outcome["recorded_by"] == alice.user.display_name
    [entry] = audit_entries(subject=f"proposal:{proposal_id}", event="proposal.outcome_recorded")
    assert entry.payload == {"statement": "We met; minutes on the board.", "review_on": in_days(90)}


def test_a_coordinator_records_an_outcome_without_a_review_date(gov, closed):
    coordinator, alice, bob, proposal_id = closed
    response = record(coordinator, proposal_id)
    assert response.status_code == 200, response.json
    assert response.json["outcome"]["review_on"] is None
    assert response.json["outcome"]["recorded_by"] == coordinator.user.display_name


def test_a_proposal_shows_no_outcome_until_one_is_recorded(gov, closed):
    coordinator, alice, bob, proposal_id = closed
    assert gov.get(bob, proposal_id)["outcome"] is None


def test_only_the_author_or_a_coordinator_records_an_outcome(gov, closed, as_worker, as_requester, session):
    coordinator, alice, bob, proposal_id = closed
    for outsider in (bob, as_worker, as_requester):
        assert record(outsider, proposal_id).status_code == 403
    assert record(alice, 999_999).status_code == 404
    assert session.get(ProposalOutcome, proposal_id) is None


def test_an_outcome_before_close_is_a_conflict(gov):
    coordinator, (alice,) = gov.coop(members=1)
    submitted = gov.propose(alice)["id"]
    opened = gov.open_vote(alice, coordinator)["id"]
    for proposal_id in (submitted, opened):
        response = record(alice, proposal_id)
        assert response.status_code == 409 and "after its vote closes" in response.json["message"]


def test_an_outcome_is_recorded_once(gov, closed):
    coordinator, alice, bob, proposal_id = closed
    assert record(alice, proposal_id).status_code == 200
    assert record(coordinator, proposal_id, statement="Something else.").status_code == 409
    assert gov.get(bob, proposal_id)["outcome"]["statement"] == "We met on Tuesday."


@pytest.mark.parametrize(
    "body, field",
    [
        ({"statement": ""}, "statement"),
        ({"statement": "   "}, "statement"),
        ({"statement": "x" * 5001}, "statement"),
        ({"review_on": "next spring"}, "review_on"),
        ({"review_on": "today"}, "review_on"),
        ({"review_on": "yesterday"}, "review_on"),
    ],
)
def test_a_bad_outcome_is_refused_naming_the_field(closed, session, audit_entries, body, field):
    coordinator, alice, bob, proposal_id = closed
    dates = {"today": in_days(0), "yesterday": in_days(-1)}
    if body.get("review_on") in dates:
        body = {"review_on": dates[body["review_on"]]}
    response = record(alice, proposal_id, **body)
    assert response.status_code == 422, response.json
    assert field in response.json["errors"]
    assert session.get(ProposalOutcome, proposal_id) is None
    assert audit_entries(event="proposal.outcome_recorded") == []


def test_the_tick_marks_a_review_due_once_when_its_day_comes(closed, session, audit_entries):
    coordinator, alice, bob, proposal_id = closed
    assert record(alice, proposal_id, review_on=in_days(10)).status_code == 200

    assert mark_reviews_due(clock.now()) == "no outcome review due"
    clock.advance(timedelta(days=10))
    assert mark_reviews_due(clock.now()) == "1 outcome review(s) due"
    assert mark_reviews_due(clock.now()) == "no outcome review due"
    session.commit()

    [entry] = audit_entries(subject=f"proposal:{proposal_id}", event="proposal.outcome_review_due")
    assert entry.payload == {"review_on": session.get(ProposalOutcome, proposal_id).review_on.isoformat()}
    assert alice.get(f"{V1}/proposals/{proposal_id}").json["outcome"]["review_due_at"] is not None


def test_flask_coop_tick_marks_due_reviews(app, closed, session, audit_entries):
    coordinator, alice, bob, proposal_id = closed
    assert record(alice, proposal_id, review_on=in_days(1)).status_code == 200
    clock.advance(timedelta(days=2))
    result = app.test_cli_runner().invoke(args=["coop", "tick"])
    assert result.exit_code == 0, result.output
    assert "outcome reviews: 1 outcome review(s) due" in result.output
    assert len(audit_entries(event="proposal.outcome_review_due")) == 1
    due = session.scalar(sa.select(ProposalOutcome.review_due_at).where(ProposalOutcome.proposal_id == proposal_id))
    assert due is not None
