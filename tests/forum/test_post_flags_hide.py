"""Members' flags hide a post pending a coordinator's review, who confirms it citing a rule or restores it."""

import pytest
import sqlalchemy as sa

from coop.audit import AuditEntry
from coop.forum.models import Post

API = "/api/v1/forum"


@pytest.fixture
def public_post(as_author, forum, public_board):
    view = forum.thread(as_author, public_board, body="Requester X is **awful**")
    return view["thread"]["id"], view["posts"]["items"][0]["id"]


def flag(client, post_id, rule="forum-rules"):
    response = client.post(f"{API}/posts/{post_id}/flags", json={"rule": rule})
    assert response.status_code == 201, response.json
    return response.json


def flagged_by_members(make, post_id, count=3, rule="forum-rules"):
    for _ in range(count):
        flag(make.client(make.member()), post_id, rule)


def test_three_members_flags_hide_a_post_pending_review_and_the_author_is_told(
    make, as_author, author, public_post, session
):
    thread_id, post_id = public_post
    flagged_by_members(make, post_id, 2)
    flag(make.client(make.requester()), post_id)
    flag(make.client(make.worker()), post_id)
    assert not session.get(Post, post_id).hidden
    flag(make.client(make.member()), post_id, rule="bylaws")

    post = make.client(make.member()).get(f"{API}/posts/{post_id}").json
    assert post["hidden"] and post["body"]
    assert post["moderation"]["action"] == "flag_hide" and post["moderation"]["by"] is None
    assert post["moderation"]["rule"] == "forum-rules"
    assert "body" not in make.client(make.requester()).get(f"{API}/posts/{post_id}").json
    [entry] = make.client(make.requester()).get(f"{API}/moderation-log?post_id={post_id}").json["items"]
    assert (entry["action"], entry["by"], entry["rule"]) == ("flag_hide", None, "forum-rules")
    [notice] = session.scalars(sa.select(AuditEntry).where(AuditEntry.event == "forum.post.hidden_by_flags"))
    assert notice.payload["author"] == author.display_name
    assert notice.payload["notice_to_author"].startswith(f"{author.display_name}: your post {post_id} is hidden")
    # The author waits for the review rather than appealing it.
    appeal = as_author.post(f"{API}/posts/{post_id}/appeal", json={"reason": "It is true."})
    assert appeal.status_code == 409


def test_the_threshold_follows_the_terms(make, public_post, session):
    from tests.marketplace.conftest import new_terms

    new_terms(post_flags_to_hide=1)
    _, post_id = public_post
    flag(make.client(make.member()), post_id)
    assert session.get(Post, post_id).hidden


def test_the_authors_own_flag_does_not_count(make, as_author, public_post, session):
    _, post_id = public_post
    flag(as_author, post_id)
    flagged_by_members(make, post_id, 2)
    assert not session.get(Post, post_id).hidden


def test_a_coordinator_confirms_the_hide_citing_a_rule_and_then_the_author_may_appeal(
    make, as_coord, as_author, public_post
):
    _, post_id = public_post
    flagged_by_members(make, post_id)
    body = {"action": "hide", "rule": "forum-rules", "reason": "Rule 2: harassment"}
    response = as_coord.post(f"{API}/posts/{post_id}/moderation", json=body)
    assert response.status_code == 200, response.json
    post = as_coord.get(f"{API}/posts/{post_id}").json
    assert post["moderation"]["action"] == "hide" and post["moderation"]["by"] is not None
    assert post["open_flags"] == 0
    log = as_coord.get(f"{API}/moderation-log?post_id={post_id}").json["items"]
    assert [e["action"] for e in log] == ["hide", "flag_hide"]
    # Confirmed once; hiding again is a conflict as for any hidden post.
    assert as_coord.post(f"{API}/posts/{post_id}/moderation", json=body).status_code == 409
    assert as_author.post(f"{API}/posts/{post_id}/appeal", json={"reason": "It is true."}).status_code == 201


def test_a_coordinator_restores_a_post_hidden_by_flags(make, as_coord, public_post):
    _, post_id = public_post
    flagged_by_members(make, post_id)
    body = {"action": "restore", "rule": "forum-rules", "reason": "Criticism of a requester is allowed."}
    assert as_coord.post(f"{API}/posts/{post_id}/moderation", json=body).status_code == 200
    post = make.client(make.requester()).get(f"{API}/posts/{post_id}").json
    assert not post["hidden"] and post["body"]
    # Flags were answered: the same members' earlier flags no longer count, new ones start again.
    flag(make.client(make.member()), post_id)
    assert not as_coord.get(f"{API}/posts/{post_id}").json["hidden"]


def test_review_is_for_coordinators_and_flags_cannot_be_dismissed_under_a_pending_hide(
    make, as_coord, as_member, public_post
):
    _, post_id = public_post
    flagged_by_members(make, post_id)
    body = {"action": "restore", "rule": "forum-rules", "reason": "Fine."}
    assert as_member.post(f"{API}/posts/{post_id}/moderation", json=body).status_code == 403
    dismissed = as_coord.post(f"{API}/posts/{post_id}/flags/dismiss", json={"reason": "Nothing wrong."})
    assert dismissed.status_code == 409
    missing_rule = as_coord.post(f"{API}/posts/{post_id}/moderation", json={"action": "hide", "reason": "x"})
    assert missing_rule.status_code == 422
