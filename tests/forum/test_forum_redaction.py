"""Redaction: a post that exposes someone's personal data is read only by its author and the coordinators."""

import pytest
import sqlalchemy as sa
from flask_login import AnonymousUserMixin

from coop.audit import AuditEntry
from coop.forum import services
from coop.forum.models import Flag, Post

API = "/api/v1/forum"

# Each version of the post carries its own piece of personal data, so a leak of any version shows.
FIRST = "Her address is 12 Rose Lane, call 06 12 34 56 78"
SECOND = "Write to her at jane.doe@example.net, she lives at 12 Rose Lane"
CURRENT = "The requester's manager is rude; ask Jane Doe, 12 Rose Lane"
SECRETS = ("Rose Lane", "06 12 34 56 78", "jane.doe@example.net")


def moderate(client, post_id, action="redact", rule="forum-rules", reason="Rule 1: a person's home address"):
    return client.post(f"{API}/posts/{post_id}/moderation", json={"action": action, "rule": rule, "reason": reason})


def edit(client, post_id, body):
    response = client.patch(f"{API}/posts/{post_id}", json={"body": body})
    assert response.status_code == 200, response.json


@pytest.fixture
def post_with_history(as_author, forum, public_board):
    """A post on the public board with two earlier versions: (thread_id, post_id)."""
    view = forum.thread(as_author, public_board, title="About the requester", body=FIRST)
    post_id = view["posts"]["items"][0]["id"]
    edit(as_author, post_id, SECOND)
    edit(as_author, post_id, CURRENT)
    return view["thread"]["id"], post_id


@pytest.fixture
def redacted(post_with_history, as_coord, forum):
    forum.redact(as_coord, post_with_history[1])
    return post_with_history


def reads(client, thread_id, post_id):
    """Every response through which a reader may meet a post's text."""
    return {
        "thread": client.get(f"{API}/threads/{thread_id}"),
        "post": client.get(f"{API}/posts/{post_id}"),
        "history": client.get(f"{API}/posts/{post_id}/history"),
    }


def assert_reads_text(client, thread_id, post_id):
    responses = reads(client, thread_id, post_id)
    assert all(r.status_code == 200 for r in responses.values())
    [post] = [p for p in responses["thread"].json["posts"]["items"] if p["id"] == post_id]
    assert post["body"] == CURRENT and responses["post"].json["body"] == CURRENT
    history = responses["history"].json["items"]
    assert [v["body"] for v in history] == [FIRST, SECOND, CURRENT]
    assert not any(v["withheld"] for v in history)


def assert_sees_only_the_notice(client, thread_id, post_id):
    responses = reads(client, thread_id, post_id)
    for response in responses.values():
        assert response.status_code == 200
        text = response.get_data(as_text=True)
        assert not any(secret in text for secret in SECRETS), text
    [post] = [p for p in responses["thread"].json["posts"]["items"] if p["id"] == post_id]
    for view in (post, responses["post"].json):
        assert view["hidden"] is True and view["redacted"] is True
        assert view["moderation"]["action"] == "redact" and view["moderation"]["rule"] == "forum-rules"
        assert view["moderation"]["reason"] == "Rule 1: a person's home address"
        assert "body" not in view and "body_html" not in view
    history = responses["history"].json["items"]
    assert history and all(v["withheld"] and "body" not in v for v in history)


# --- who reads what ----------------------------------------------------------------------------------


def test_author_and_coordinators_read_the_redacted_text_and_its_history(make, as_author, as_coord, redacted):
    for client in (as_author, as_coord, make.client(make.coordinator())):
        assert_reads_text(client, *redacted)


@pytest.mark.parametrize("who", ["member", "worker", "requester"])
def test_everyone_else_sees_the_notice_without_any_version_of_the_text(make, redacted, who):
    assert_sees_only_the_notice(make.client(getattr(make, who)()), *redacted)


def test_redaction_on_a_members_board_keeps_the_text_from_other_members(make, as_coord, forum, members_board):
    writer = make.client(make.member())
    view = forum.thread(writer, members_board, body=FIRST)
    thread_id, post_id = view["thread"]["id"], view["posts"]["items"][0]["id"]
    forum.redact(as_coord, post_id)
    post = make.client(make.member()).get(f"{API}/threads/{thread_id}").json["posts"]["items"][0]
    assert post["redacted"] is True and "body" not in post
    assert writer.get(f"{API}/posts/{post_id}").json["body"] == FIRST


def test_a_requester_author_still_reads_their_redacted_post(make, as_coord, forum, public_board):
    requester = make.client(make.requester())
    post_id = forum.thread(requester, public_board, body=FIRST)["posts"]["items"][0]["id"]
    forum.redact(as_coord, post_id)
    assert requester.get(f"{API}/posts/{post_id}").json["body"] == FIRST


def test_anonymous_readers_never_see_moderated_text(session, redacted, forum, as_coord, make, public_board):
    # Public boards may be opened to readers who are not signed in; the rule is ready for them.
    hidden_id = forum.thread(make.client(make.member()), public_board)["posts"]["items"][0]["id"]
    forum.hide(as_coord, hidden_id)
    for post_id in (redacted[1], hidden_id):
        post = session.get(Post, post_id)
        assert not services.sees_text(None, post) and not services.sees_text(AnonymousUserMixin(), post)


def test_the_author_may_edit_a_redacted_post_and_it_stays_redacted(make, as_author, redacted):
    thread_id, post_id = redacted
    edit(as_author, post_id, "Ask her yourself, 12 Rose Lane")
    assert as_author.get(f"{API}/posts/{post_id}").json["redacted"] is True
    assert_sees_only_the_notice(make.client(make.member()), thread_id, post_id)


def test_retracting_a_redacted_post_erases_it_and_keeps_the_notice(make, as_author, redacted):
    _, post_id = redacted
    assert as_author.post(f"{API}/posts/{post_id}/retract").status_code == 200
    post = make.client(make.member()).get(f"{API}/posts/{post_id}").json
    assert post["retracted"] is True and post["redacted"] is True and "body" not in post


# --- restore -------------------------------------------------------------------------------------------


def test_restore_brings_the_text_and_history_back_to_everyone(make, as_coord, redacted):
    thread_id, post_id = redacted
    response = moderate(
        as_coord, post_id, action="restore", reason="The author removed nothing; the address is a public office"
    )
    assert response.status_code == 200
    assert response.json["hidden"] is False and response.json["redacted"] is False
    assert response.json["moderation"] is None
    for who in ("member", "requester"):
        assert_reads_text(make.client(getattr(make, who)()), thread_id, post_id)


# --- refusals --------------------------------------------------------------------------------------------


def test_redaction_must_cite_an_existing_rule(session, make, as_coord, post_with_history):
    thread_id, post_id = post_with_history
    for body, field in (
        ({"action": "redact", "rule": "no-such-rule", "reason": "x"}, "rule"),
        ({"action": "redact", "reason": "x"}, "rule"),
        ({"action": "redact", "rule": "forum-rules"}, "reason"),
    ):
        response = as_coord.post(f"{API}/posts/{post_id}/moderation", json=body)
        assert response.status_code == 422 and field in response.json["errors"]
    assert_reads_text(make.client(make.member()), thread_id, post_id)
    assert as_coord.get(f"{API}/moderation-log?post_id={post_id}").json["items"] == []
    assert session.scalar(sa.select(AuditEntry).where(AuditEntry.event == "forum.post.redacted")) is None


def test_only_coordinators_redact(make, as_author, post_with_history):
    thread_id, post_id = post_with_history
    for client in (make.client(make.member()), make.client(make.requester()), as_author):
        response = moderate(client, post_id)
        assert response.status_code == 403 and "coordinator" in response.json["message"].lower()
    assert moderate(make.client(), post_id).status_code == 401
    assert moderate(make.client(make.coordinator()), 999999).status_code == 404
    assert_reads_text(make.client(make.member()), thread_id, post_id)


def test_a_coordinators_post_is_redacted_only_by_another_coordinator(make, as_coord, forum, public_board):
    post_id = forum.thread(as_coord, public_board, body=FIRST)["posts"]["items"][0]["id"]
    refused = moderate(as_coord, post_id)
    assert refused.status_code == 403 and "another coordinator" in refused.json["message"]
    assert as_coord.get(f"{API}/posts/{post_id}").json["redacted"] is False
    other = make.client(make.coordinator())
    assert moderate(other, post_id).status_code == 200
    # Nor may the author lift it.
    assert moderate(as_coord, post_id, action="restore", reason="mine").status_code == 403
    assert as_coord.get(f"{API}/posts/{post_id}").json["redacted"] is True


def test_redacting_twice_is_409(as_coord, redacted):
    response = moderate(as_coord, redacted[1])
    assert response.status_code == 409 and "already redacted" in response.json["message"]


@pytest.mark.parametrize(
    "reason",
    [
        "Rule 1: gives her phone, 0612345678",
        "Rule 1: publishes Jane.Doe@example.net",
        "Rule 1: phone 06-12-34-56-78 posted",
    ],
)
def test_a_redaction_reason_may_not_repeat_the_personal_data(session, as_coord, post_with_history, reason):
    # The data is in earlier versions, not only the current text: the reason is checked against all.
    _, post_id = post_with_history
    response = moderate(as_coord, post_id, reason=reason)
    assert response.status_code == 422 and "reason" in response.json["errors"]
    assert session.get(Post, post_id).redacted is False


def test_quotes_personal_data_looks_for_emails_and_long_numbers_only():
    texts = ["Call 06 12 34 56 78 or mail a.b@example.org", "IBAN FR76 3000 6000 0112 3456 7890 189"]
    assert services.quotes_personal_data("mailed A.B@Example.org", texts)
    assert services.quotes_personal_data("number 3000600001", texts)
    assert not services.quotes_personal_data("Rule 1: a telephone number and an email address", texts)
    assert not services.quotes_personal_data("Rule 1, 2 and 3 of 2026", texts)


# --- hide and redact together ------------------------------------------------------------------------------


def test_redacting_a_hidden_post_withholds_it_from_members_and_closes_the_appeal_on_the_hide(
    make, as_author, as_coord, forum, post_with_history
):
    thread_id, post_id = post_with_history
    forum.hide(as_coord, post_id)
    appeal_id = as_author.post(f"{API}/posts/{post_id}/appeal", json={"reason": "Fair criticism"}).json["id"]
    response = moderate(make.client(make.coordinator()), post_id)
    assert response.status_code == 200 and response.json["redacted"] is True
    assert_sees_only_the_notice(make.client(make.member()), thread_id, post_id)
    closed = as_author.get(f"{API}/appeals/{appeal_id}").json
    assert closed["status"] == "closed" and "redacted" in closed["decision_reason"]
    # The redaction is a new decision, which the author may appeal in turn.
    again = as_author.post(f"{API}/posts/{post_id}/appeal", json={"reason": "The address is my office's"})
    assert again.status_code == 201 and again.json["action"] == "redact"
    actions = [e["action"] for e in as_author.get(f"{API}/moderation-log?post_id={post_id}").json["items"]]
    assert actions == ["redact", "hide"]


def test_hiding_a_redacted_post_is_refused_and_it_stays_redacted(make, as_coord, redacted):
    thread_id, post_id = redacted
    response = moderate(make.client(make.coordinator()), post_id, action="hide", reason="Rule 2")
    assert response.status_code == 409 and "every member" in response.json["message"]
    assert_sees_only_the_notice(make.client(make.member()), thread_id, post_id)
    assert [e["action"] for e in as_coord.get(f"{API}/moderation-log?post_id={post_id}").json["items"]] == ["redact"]


# --- logs, flags, appeals ------------------------------------------------------------------------------------


def test_redaction_is_in_the_public_log_and_the_audit_log_without_the_text(make, session, coordinator, redacted):
    _, post_id = redacted
    for client in (make.client(make.requester()), make.client(make.member())):
        response = client.get(f"{API}/moderation-log?post_id={post_id}")
        [entry] = response.json["items"]
        assert (entry["action"], entry["rule"], entry["by"]) == ("redact", "forum-rules", coordinator.display_name)
        assert entry["reason"] == "Rule 1: a person's home address"
        assert not any(secret in response.get_data(as_text=True) for secret in SECRETS)
    [audited] = session.scalars(sa.select(AuditEntry).where(AuditEntry.subject == f"post:{post_id}")).all()
    assert audited.event == "forum.post.redacted" and audited.payload["rule"] == "forum-rules"
    audit_log = make.client(make.member()).get("/api/v1/audit?limit=200").get_data(as_text=True)
    assert "forum.post.redacted" in audit_log and not any(secret in audit_log for secret in SECRETS)


def test_redaction_resolves_the_open_flags(session, make, as_coord, post_with_history):
    _, post_id = post_with_history
    make.client(make.member()).post(f"{API}/posts/{post_id}/flags", json={"rule": "forum-rules", "note": "doxxing"})
    moderate(as_coord, post_id)
    assert post_id not in [e["post_id"] for e in as_coord.get(f"{API}/flags").json["items"]]
    assert session.scalar(sa.select(Flag.resolution).where(Flag.post_id == post_id)) == "redact"


def test_author_appeals_and_an_overturn_restores_the_text_for_everyone(make, as_author, as_coord, redacted):
    thread_id, post_id = redacted
    response = as_author.post(f"{API}/posts/{post_id}/appeal", json={"reason": "That is a public office address"})
    assert response.status_code == 201 and response.json["action"] == "redact"
    appeal_id = response.json["id"]
    listed = as_coord.get(f"{API}/appeals?status=open").get_data(as_text=True)
    assert str(appeal_id) in listed and not any(secret in listed for secret in SECRETS)
    refused = as_coord.post(f"{API}/appeals/{appeal_id}/decide", json={"decision": "overturn", "reason": "x"})
    assert refused.status_code == 403 and "redacted" in refused.json["message"]
    judge = make.client(make.coordinator())
    decided = judge.post(
        f"{API}/appeals/{appeal_id}/decide",
        json={"decision": "overturn", "reason": "It is the office of a public body"},
    )
    assert decided.status_code == 200 and decided.json["status"] == "overturned"
    assert_reads_text(make.client(make.requester()), thread_id, post_id)


def test_an_escalated_redaction_appeal_tells_the_members_why_without_the_text(session, as_author, redacted):
    from coop.governance.models import Proposal

    _, post_id = redacted
    appeal_id = as_author.post(f"{API}/posts/{post_id}/appeal", json={"reason": "Public office"}).json["id"]
    response = as_author.post(f"{API}/appeals/{appeal_id}/escalate")
    assert response.status_code == 200
    proposal = session.get(Proposal, response.json["proposal_id"])
    assert "redacted" in proposal.body and "personal data" in proposal.body
    assert not any(secret in proposal.body + proposal.title for secret in SECRETS)
