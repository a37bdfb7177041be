"""Messages about one assignment: its worker and the batch's requester, under pseudonyms, rate-limited."""

import sqlalchemy as sa

from coop.extensions import limiter
from coop.marketplace.models import AssignmentMessage

API = "/api/v1"


def work(market, client=None):
    batch = market.post(items=2, reward_cents=30, est_seconds=60)
    return market.claim(client or market.mc[0], batch["id"])


def send(client, assignment_id, body="Does a yield sign count as a traffic sign?"):
    return client.post(f"{API}/assignments/{assignment_id}/messages", json={"body": body})


def test_the_worker_and_the_requester_talk_under_pseudonyms(market, session):
    assignment = work(market)
    asked = send(market.mc[0], assignment["id"])
    assert asked.status_code == 201
    assert asked.get_json()["author"] == market.members[0].display_name
    assert asked.get_json()["author_role"] == "worker"
    answered = send(market.rc, assignment["id"], "  Yes, box it too.  ")
    assert answered.status_code == 201 and answered.get_json()["body"] == "Yes, box it too."
    for client in (market.mc[0], market.rc):
        read = client.get(f"{API}/assignments/{assignment['id']}/messages")
        assert read.status_code == 200
        items = read.get_json()["items"]
        assert [(m["author_role"], m["body"]) for m in items] == [
            ("worker", "Does a yield sign count as a traffic sign?"),
            ("requester", "Yes, box it too."),
        ]
        text = read.get_data(as_text=True)
        assert market.members[0].email not in text and market.requester.email not in text


def test_no_one_else_reads_or_writes_and_coordinators_only_during_an_appeal(market, make, session):
    assignment = work(market)
    send(market.mc[0], assignment["id"])
    other_requester = make.client(make.requester())
    for client in (market.mc[1], other_requester, market.cc):
        assert send(client, assignment["id"]).status_code == 403
        assert client.get(f"{API}/assignments/{assignment['id']}/messages").status_code == 403
    assert make.client().get(f"{API}/assignments/{assignment['id']}/messages").status_code == 401
    assert send(market.rc, 999_999).status_code == 404
    assert market.rc.get(f"{API}/assignments/999999/messages").status_code == 404

    market.submit(market.mc[0], assignment["id"])
    market.review(assignment["id"], "reject", "The yield sign has no box.")
    appealed = market.mc[0].post(f"{API}/assignments/{assignment['id']}/appeal", json={"reason": "See our messages."})
    assert appealed.status_code == 201
    read = market.cc.get(f"{API}/assignments/{assignment['id']}/messages")
    assert read.status_code == 200 and len(read.get_json()["items"]) == 1
    # Reading for the appeal, not joining the conversation.
    assert send(market.cc, assignment["id"]).status_code == 403
    assert session.scalar(sa.select(sa.func.count()).select_from(AssignmentMessage)) == 1


def test_a_message_has_between_one_and_two_thousand_characters(market, session):
    assignment = work(market)
    for body in ("", "   ", "x" * 2_001, None, 5):
        assert send(market.mc[0], assignment["id"], body).status_code == 422
    assert send(market.mc[0], assignment["id"], "x" * 2_000).status_code == 201
    assert session.scalar(sa.select(sa.func.count()).select_from(AssignmentMessage)) == 1


def test_messages_are_rate_limited_per_account_with_retry_after(app, market, session, monkeypatch):
    assignment = work(market)
    limiter.reset()
    monkeypatch.setitem(app.config, "COOP_MESSAGE_RATE", "3 per minute")
    statuses = [send(market.mc[0], assignment["id"]).status_code for _ in range(4)]
    assert statuses == [201, 201, 201, 429]
    limited = send(market.mc[0], assignment["id"])
    assert int(limited.headers["Retry-After"]) > 0
    # The other party is counted on their own.
    assert send(market.rc, assignment["id"]).status_code == 201
    assert session.scalar(sa.select(sa.func.count()).select_from(AssignmentMessage)) == 4
    limiter.reset()
