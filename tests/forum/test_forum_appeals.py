"""Appeals against hidden posts: decided by another coordinator, or put to the members as a proposal."""

import pytest
import sqlalchemy as sa

from coop.audit import AuditEntry

API = "/api/v1/forum"


@pytest.fixture
def hider(make):
    return make.coordinator()


@pytest.fixture
def as_hider(make, hider):
    return make.client(hider)


@pytest.fixture
def hidden_post(as_author, as_hider, forum, public_board):
    view = forum.thread(as_author, public_board, body="Requester X underpays")
    post_id = view["posts"]["items"][0]["id"]
    forum.hide(as_hider, post_id, reason="Rule 2: harassment")
    return post_id


def appeal(client, post_id, reason="Criticising a requester's pay is allowed by the rules."):
    return client.post(f"{API}/posts/{post_id}/appeal", json={"reason": reason})


def decide(client, appeal_id, decision, reason="Read the post again"):
    return client.post(f"{API}/appeals/{appeal_id}/decide", json={"decision": decision, "reason": reason})


def test_author_appeals_a_hidden_post(as_author, author, hider, hidden_post):
    response = appeal(as_author, hidden_post)
    assert response.status_code == 201
    assert response.json["status"] == "open" and response.json["post_id"] == hidden_post
    assert response.json["author"] == author.display_name and response.json["hidden_by"] == hider.display_name


def test_only_the_author_of_a_hidden_post_appeals(make, as_author, as_hider, hidden_post, forum, public_board):
    assert appeal(make.client(make.member()), hidden_post).status_code == 403
    assert appeal(as_hider, hidden_post).status_code == 403
    assert appeal(make.client(), hidden_post).status_code == 401
    assert appeal(as_author, 999999).status_code == 404
    visible = forum.thread(as_author, public_board)["posts"]["items"][0]["id"]
    assert appeal(as_author, visible).status_code == 409
    assert as_author.post(f"{API}/posts/{hidden_post}/appeal", json={}).status_code == 422


def test_one_appeal_per_hiding(as_author, hidden_post):
    assert appeal(as_author, hidden_post).status_code == 201
    assert appeal(as_author, hidden_post).status_code == 409


def test_another_coordinator_overturns_and_the_post_is_restored_in_the_log(
    make, session, as_author, as_hider, hidden_post
):
    appeal_id = appeal(as_author, hidden_post).json["id"]
    judge = make.coordinator()
    response = decide(make.client(judge), appeal_id, "overturn", "Pay criticism is protected speech here")
    assert response.status_code == 200
    assert response.json["status"] == "overturned" and response.json["decided_by"] == judge.display_name
    assert response.json["decision_reason"] == "Pay criticism is protected speech here"
    post = make.client(make.requester()).get(f"{API}/posts/{hidden_post}").json
    assert post["hidden"] is False and post["body"] == "Requester X underpays"
    [restore, hide] = as_author.get(f"{API}/moderation-log?post_id={hidden_post}").json["items"]
    assert restore["action"] == "restore" and restore["by"] == judge.display_name
    assert restore["appeal_id"] == appeal_id and "Pay criticism" in restore["reason"]
    events = session.scalars(
        sa.select(AuditEntry.event).where(AuditEntry.subject == f"post:{hidden_post}").order_by(AuditEntry.seq)
    ).all()
    assert events == ["forum.post.hidden", "forum.appeal.opened", "forum.post.restored"]


def test_another_coordinator_upholds_and_the_post_stays_hidden(make, session, as_author, hidden_post):
    appeal_id = appeal(as_author, hidden_post).json["id"]
    response = decide(make.client(make.coordinator()), appeal_id, "uphold", "It names a person")
    assert response.status_code == 200 and response.json["status"] == "upheld"
    assert as_author.get(f"{API}/posts/{hidden_post}").json["hidden"] is True
    assert session.scalar(sa.select(AuditEntry).where(AuditEntry.event == "forum.appeal.upheld")) is not None


def test_the_coordinator_who_hid_the_post_may_not_decide(as_author, as_hider, hidden_post):
    appeal_id = appeal(as_author, hidden_post).json["id"]
    for decision in ("overturn", "uphold"):
        response = decide(as_hider, appeal_id, decision)
        assert response.status_code == 403 and "another coordinator" in response.json["message"]
    assert as_author.get(f"{API}/posts/{hidden_post}").json["hidden"] is True


def test_only_coordinators_decide_and_only_once(make, as_author, hidden_post):
    appeal_id = appeal(as_author, hidden_post).json["id"]
    assert decide(make.client(make.member()), appeal_id, "overturn").status_code == 403
    assert decide(as_author, appeal_id, "overturn").status_code == 403
    assert decide(make.client(), appeal_id, "overturn").status_code == 401
    judge = make.client(make.coordinator())
    assert decide(judge, 999999, "overturn").status_code == 404
    assert judge.post(f"{API}/appeals/{appeal_id}/decide", json={"decision": "maybe", "reason": "x"}).status_code == 422
    assert judge.post(f"{API}/appeals/{appeal_id}/decide", json={"decision": "uphold"}).status_code == 422
    assert decide(judge, appeal_id, "uphold").status_code == 200
    assert decide(judge, appeal_id, "overturn").status_code == 409


def test_a_coordinator_may_not_decide_the_appeal_about_their_own_post(make, forum, public_board):
    writer = make.coordinator()
    as_writer = make.client(writer)
    post_id = forum.thread(as_writer, public_board)["posts"]["items"][0]["id"]
    forum.hide(make.client(make.coordinator()), post_id)
    appeal_id = appeal(as_writer, post_id).json["id"]
    assert decide(as_writer, appeal_id, "overturn").status_code == 403


def test_manual_restore_closes_the_open_appeal(make, as_author, hidden_post):
    appeal_id = appeal(as_author, hidden_post).json["id"]
    other = make.client(make.coordinator())
    other.post(
        f"{API}/posts/{hidden_post}/moderation", json={"action": "restore", "rule": "forum-rules", "reason": "Allowed"}
    )
    assert as_author.get(f"{API}/appeals/{appeal_id}").json["status"] == "closed"
    assert decide(other, appeal_id, "overturn").status_code == 409


def test_appeal_is_seen_by_its_author_and_coordinators_only(make, as_author, hidden_post):
    appeal_id = appeal(as_author, hidden_post).json["id"]
    assert as_author.get(f"{API}/appeals/{appeal_id}").status_code == 200
    assert make.client(make.coordinator()).get(f"{API}/appeals/{appeal_id}").status_code == 200
    assert make.client(make.member()).get(f"{API}/appeals/{appeal_id}").status_code == 403
    assert make.client().get(f"{API}/appeals/{appeal_id}").status_code == 401
    assert as_author.get(f"{API}/appeals/999999").status_code == 404
    listed = make.client(make.coordinator()).get(f"{API}/appeals?status=open").json["items"]
    assert appeal_id in [a["id"] for a in listed]
    assert make.client(make.member()).get(f"{API}/appeals").status_code == 403
    assert make.client().get(f"{API}/appeals").status_code == 401


def test_author_escalates_the_appeal_to_a_general_proposal(make, session, as_author, author, hidden_post):
    from coop.governance.models import Proposal

    appeal_id = appeal(as_author, hidden_post).json["id"]
    response = as_author.post(f"{API}/appeals/{appeal_id}/escalate")
    assert response.status_code == 200
    assert response.json["status"] == "escalated" and response.json["proposal_id"]
    proposal = session.get(Proposal, response.json["proposal_id"])
    assert proposal.kind == "general" and proposal.method == "yes_no" and proposal.proposer_id == author.id
    assert f"/api/v1/forum/posts/{hidden_post}" in proposal.body
    assert f"post {hidden_post}" in proposal.title
    # The members decide now; a coordinator no longer can, and it cannot be escalated twice.
    assert decide(make.client(make.coordinator()), appeal_id, "overturn").status_code == 409
    assert as_author.post(f"{API}/appeals/{appeal_id}/escalate").status_code == 409
    assert session.scalar(sa.select(AuditEntry).where(AuditEntry.event == "forum.appeal.escalated")) is not None


def test_an_upheld_appeal_can_still_go_to_the_members(make, as_author, hidden_post):
    appeal_id = appeal(as_author, hidden_post).json["id"]
    decide(make.client(make.coordinator()), appeal_id, "uphold")
    assert as_author.post(f"{API}/appeals/{appeal_id}/escalate").status_code == 200


def test_only_the_author_escalates(make, as_author, hidden_post):
    appeal_id = appeal(as_author, hidden_post).json["id"]
    assert make.client(make.member()).post(f"{API}/appeals/{appeal_id}/escalate").status_code == 403
    assert make.client(make.coordinator()).post(f"{API}/appeals/{appeal_id}/escalate").status_code == 403
    assert make.client().post(f"{API}/appeals/{appeal_id}/escalate").status_code == 401
    assert as_author.post(f"{API}/appeals/999999/escalate").status_code == 404


def test_requester_author_cannot_escalate_since_only_members_propose(make, as_hider, forum, public_board):
    requester = make.client(make.requester())
    post_id = forum.thread(requester, public_board)["posts"]["items"][0]["id"]
    forum.hide(as_hider, post_id)
    appeal_id = appeal(requester, post_id).json["id"]
    response = requester.post(f"{API}/appeals/{appeal_id}/escalate")
    assert response.status_code == 403 and "members" in response.json["message"]
