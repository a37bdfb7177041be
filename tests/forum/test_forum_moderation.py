"""Flags and moderation in the open: hide and restore citing a rule, the public log, the audit log."""

import pytest
import sqlalchemy as sa

from coop.audit import AuditEntry

API = "/api/v1/forum"


@pytest.fixture
def public_post(as_author, forum, public_board):
    view = forum.thread(as_author, public_board, body="Requester X is **awful**")
    return view["thread"]["id"], view["posts"]["items"][0]["id"]


def moderate(client, post_id, action="hide", rule="forum-rules", reason="Rule 2: harassment"):
    return client.post(f"{API}/posts/{post_id}/moderation", json={"action": action, "rule": rule, "reason": reason})


# --- flags ---------------------------------------------------------------------------------------


def test_reader_flags_a_post_and_coordinators_see_counts(make, as_coord, public_post):
    _, post_id = public_post
    for note in ("names a person", ""):
        response = make.client(make.requester()).post(
            f"{API}/posts/{post_id}/flags", json={"rule": "forum-rules", "note": note}
        )
        assert response.status_code == 201 and response.json["rule"] == "forum-rules"
    make.client(make.worker()).post(f"{API}/posts/{post_id}/flags", json={"rule": "bylaws"})
    queue = as_coord.get(f"{API}/flags").json["items"]
    [entry] = [e for e in queue if e["post_id"] == post_id]
    assert entry["open_flags"] == 3 and entry["by_rule"] == {"forum-rules": 2, "bylaws": 1}
    assert entry["notes"] == ["names a person"]
    post = as_coord.get(f"{API}/posts/{post_id}").json
    assert post["open_flags"] == 3


def test_flag_counts_are_for_coordinators_only(make, as_author, public_post):
    thread_id, post_id = public_post
    make.client(make.member()).post(f"{API}/posts/{post_id}/flags", json={"rule": "forum-rules"})
    for client in (as_author, make.client(make.member()), make.client(make.requester())):
        assert "open_flags" not in client.get(f"{API}/posts/{post_id}").json
        assert "open_flags" not in client.get(f"{API}/threads/{thread_id}").json["posts"]["items"][0]
        assert client.get(f"{API}/flags").status_code == 403
    assert make.client().get(f"{API}/flags").status_code == 401


def test_one_open_flag_per_reader_and_post(as_author, public_post, make):
    _, post_id = public_post
    flagger = make.client(make.member())
    assert flagger.post(f"{API}/posts/{post_id}/flags", json={"rule": "forum-rules"}).status_code == 201
    assert flagger.post(f"{API}/posts/{post_id}/flags", json={"rule": "bylaws"}).status_code == 409


def test_flag_must_cite_an_existing_rule(as_member, public_post):
    _, post_id = public_post
    response = as_member.post(f"{API}/posts/{post_id}/flags", json={"rule": "made-up-rule"})
    assert response.status_code == 422 and "rule" in response.json["errors"]
    assert as_member.post(f"{API}/posts/{post_id}/flags", json={}).status_code == 422


def test_flag_needs_a_reader(make, forum, members_board):
    post_id = forum.thread(make.client(make.member()), members_board)["posts"]["items"][0]["id"]
    body = {"rule": "forum-rules"}
    assert make.client(make.requester()).post(f"{API}/posts/{post_id}/flags", json=body).status_code == 403
    assert make.client(make.worker()).post(f"{API}/posts/{post_id}/flags", json=body).status_code == 403
    assert make.client().post(f"{API}/posts/{post_id}/flags", json=body).status_code == 401
    assert make.client(make.member()).post(f"{API}/posts/999999/flags", json=body).status_code == 404


def test_hiding_resolves_the_open_flags(make, as_coord, public_post):
    _, post_id = public_post
    make.client(make.member()).post(f"{API}/posts/{post_id}/flags", json={"rule": "forum-rules"})
    moderate(as_coord, post_id)
    assert post_id not in [e["post_id"] for e in as_coord.get(f"{API}/flags").json["items"]]
    assert as_coord.get(f"{API}/posts/{post_id}").json["open_flags"] == 0


def test_coordinator_dismisses_flags_with_a_reason(make, as_coord, public_post, session):
    _, post_id = public_post
    make.client(make.member()).post(f"{API}/posts/{post_id}/flags", json={"rule": "forum-rules"})
    assert (
        make.client(make.member()).post(f"{API}/posts/{post_id}/flags/dismiss", json={"reason": "fine"}).status_code
        == 403
    )
    assert make.client().post(f"{API}/posts/{post_id}/flags/dismiss", json={"reason": "fine"}).status_code == 401
    assert as_coord.post(f"{API}/posts/999999/flags/dismiss", json={"reason": "fine"}).status_code == 404
    assert as_coord.post(f"{API}/posts/{post_id}/flags/dismiss", json={}).status_code == 422
    response = as_coord.post(f"{API}/posts/{post_id}/flags/dismiss", json={"reason": "Criticism is allowed"})
    assert response.status_code == 200 and response.json["open_flags"] == 0
    assert as_coord.post(f"{API}/posts/{post_id}/flags/dismiss", json={"reason": "again"}).status_code == 409
    assert (
        session.scalar(
            sa.select(AuditEntry).where(
                AuditEntry.event == "forum.flags.dismissed", AuditEntry.subject == f"post:{post_id}"
            )
        )
        is not None
    )


# --- hide and restore -------------------------------------------------------------------------------


def test_hide_citing_an_unknown_rule_is_422_naming_the_rule(as_coord, public_post):
    _, post_id = public_post
    response = moderate(as_coord, post_id, rule="no-such-rule")
    assert response.status_code == 422 and "rule" in response.json["errors"]
    assert as_coord.get(f"{API}/posts/{post_id}").json["hidden"] is False


@pytest.mark.parametrize(
    "body, field",
    [
        ({"action": "hide", "rule": "forum-rules"}, "reason"),
        ({"action": "hide", "rule": "forum-rules", "reason": "   "}, "reason"),
        ({"action": "hide", "reason": "x"}, "rule"),
        ({"action": "delete", "rule": "forum-rules", "reason": "x"}, "action"),
    ],
)
def test_moderation_needs_action_rule_and_reason(as_coord, public_post, body, field):
    _, post_id = public_post
    response = as_coord.post(f"{API}/posts/{post_id}/moderation", json=body)
    assert response.status_code == 422 and field in response.json["errors"]


def test_only_coordinators_moderate(make, as_author, public_post):
    _, post_id = public_post
    assert moderate(make.client(make.member()), post_id).status_code == 403
    assert moderate(make.client(make.requester()), post_id).status_code == 403
    assert moderate(make.client(), post_id).status_code == 401
    assert moderate(make.client(make.coordinator()), 999999).status_code == 404


def test_hidden_post_is_readable_by_members_behind_its_notice(make, coordinator, as_coord, public_post):
    thread_id, post_id = public_post
    response = moderate(as_coord, post_id, reason="Rule 2: demeans a person")
    assert response.status_code == 200 and response.json["hidden"] is True
    post = make.client(make.member()).get(f"{API}/threads/{thread_id}").json["posts"]["items"][0]
    assert post["hidden"] is True
    assert post["moderation"]["rule"] == "forum-rules" and post["moderation"]["reason"] == "Rule 2: demeans a person"
    assert post["moderation"]["by"] == coordinator.display_name and post["moderation"]["at"]
    assert post["body"] == "Requester X is **awful**" and "<strong>awful</strong>" in post["body_html"]


@pytest.mark.parametrize("who", ["requester", "worker"])
def test_hidden_post_shows_non_members_the_notice_without_the_text(make, as_coord, public_post, who):
    thread_id, post_id = public_post
    moderate(as_coord, post_id)
    client = make.client(getattr(make, who)())
    for post in (
        client.get(f"{API}/threads/{thread_id}").json["posts"]["items"][0],
        client.get(f"{API}/posts/{post_id}").json,
    ):
        assert post["hidden"] is True and post["moderation"]["rule"] == "forum-rules"
        assert "body" not in post and "body_html" not in post
    history = client.get(f"{API}/posts/{post_id}/history").json["items"]
    assert all("body" not in v for v in history)
    assert "awful" not in client.get(f"{API}/threads/{thread_id}").get_data(as_text=True)


def test_author_who_is_not_a_member_still_reads_their_hidden_post(make, as_coord, forum, public_board):
    requester = make.client(make.requester())
    post_id = forum.thread(requester, public_board, body="Our batch pays well")["posts"]["items"][0]["id"]
    moderate(as_coord, post_id, reason="Rule 3: advertising")
    assert requester.get(f"{API}/posts/{post_id}").json["body"] == "Our batch pays well"


def test_restore_brings_the_post_back(make, as_coord, public_post):
    _, post_id = public_post
    moderate(as_coord, post_id)
    response = moderate(as_coord, post_id, action="restore", reason="Criticism of a requester is allowed")
    assert response.status_code == 200 and response.json["hidden"] is False and response.json["moderation"] is None
    assert make.client(make.requester()).get(f"{API}/posts/{post_id}").json["body"] == "Requester X is **awful**"


def test_hide_twice_or_restore_a_visible_post_is_409(as_coord, public_post):
    _, post_id = public_post
    assert moderate(as_coord, post_id, action="restore").status_code == 409
    assert moderate(as_coord, post_id).status_code == 200
    assert moderate(as_coord, post_id).status_code == 409


def test_retracted_post_can_still_be_hidden_and_restored(as_author, as_coord, public_post):
    _, post_id = public_post
    as_author.post(f"{API}/posts/{post_id}/retract")
    assert moderate(as_coord, post_id).status_code == 200
    assert moderate(as_coord, post_id, action="restore").status_code == 200


def test_coordinators_post_is_hidden_only_by_another_coordinator(make, coordinator, as_coord, forum, public_board):
    post_id = forum.thread(as_coord, public_board)["posts"]["items"][0]["id"]
    refused = moderate(as_coord, post_id)
    assert refused.status_code == 403 and "another coordinator" in refused.json["message"]
    other = make.client(make.coordinator())
    assert moderate(other, post_id).status_code == 200
    # Nor may the author undo it.
    assert moderate(as_coord, post_id, action="restore").status_code == 403
    assert moderate(other, post_id, action="restore").status_code == 200


def test_members_board_post_is_moderated_the_same_way(make, as_coord, forum, members_board):
    post_id = forum.thread(make.client(make.member()), members_board)["posts"]["items"][0]["id"]
    assert moderate(as_coord, post_id).status_code == 200


# --- the public moderation log and the audit log ------------------------------------------------------


def test_every_action_is_in_the_public_moderation_log(make, coordinator, as_coord, public_post):
    _, post_id = public_post
    moderate(as_coord, post_id, reason="Rule 2")
    moderate(as_coord, post_id, action="restore", rule="bylaws", reason="On reflection, allowed")
    for client in (make.client(make.requester()), make.client(make.worker()), make.client(make.member())):
        response = client.get(f"{API}/moderation-log?post_id={post_id}")
        assert response.status_code == 200
        entries = response.json["items"]
        assert [(e["action"], e["rule"], e["reason"]) for e in entries] == [
            ("restore", "bylaws", "On reflection, allowed"),
            ("hide", "forum-rules", "Rule 2"),
        ]
        assert all(e["post_id"] == post_id and e["by"] == coordinator.display_name and e["at"] for e in entries)
        assert all(e["rule_version"] == 1 for e in entries)
    assert make.client().get(f"{API}/moderation-log").status_code == 401


def test_moderation_log_pages_newest_first(as_coord, make, forum, public_board):
    writer = make.client(make.member())
    posts = [forum.thread(writer, public_board)["posts"]["items"][0]["id"] for _ in range(3)]
    for post_id in posts:
        moderate(as_coord, post_id)
    first = as_coord.get(f"{API}/moderation-log?limit=2").json
    rest = as_coord.get(f"{API}/moderation-log?limit=2&cursor={first['next_cursor']}").json
    ids = [e["id"] for e in first["items"] + rest["items"]]
    assert ids == sorted(ids, reverse=True) and len(set(ids)) == len(ids)
    assert [e["post_id"] for e in first["items"]] == posts[::-1][:2]


def test_each_action_is_appended_to_the_audit_log(session, coordinator, as_coord, public_post):
    _, post_id = public_post
    moderate(as_coord, post_id, reason="Rule 2")
    moderate(as_coord, post_id, action="restore", reason="Allowed")
    entries = session.scalars(
        sa.select(AuditEntry).where(AuditEntry.subject == f"post:{post_id}").order_by(AuditEntry.seq)
    ).all()
    assert [e.event for e in entries] == ["forum.post.hidden", "forum.post.restored"]
    assert entries[0].payload["rule"] == "forum-rules" and entries[0].payload["reason"] == "Rule 2"
    assert coordinator.display_name in entries[0].actor and coordinator.email not in entries[0].actor


def test_refused_moderation_leaves_no_trace(session, as_coord, public_post):
    _, post_id = public_post
    moderate(as_coord, post_id, rule="no-such-rule")
    assert as_coord.get(f"{API}/moderation-log?post_id={post_id}").json["items"] == []
    assert session.scalar(sa.select(AuditEntry).where(AuditEntry.subject == f"post:{post_id}")) is None


def test_a_coordinator_cannot_record_a_hide_by_members_flags(as_coord, public_post, session):
    _, post_id = public_post
    response = moderate(as_coord, post_id, action="flag_hide")
    assert response.status_code == 422 and "action" in response.get_json()["errors"]
    assert (
        session.scalar(sa.select(sa.func.count()).select_from(AuditEntry).where(AuditEntry.event.like("forum.%hid%")))
        == 0
    )
