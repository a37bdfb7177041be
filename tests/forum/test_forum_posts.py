"""Threads and posts: creation, sanitising, pages, edit history, retraction, and no deletion."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from coop import clock
from coop.forum.models import PostVersion

API = "/api/v1/forum"


def test_new_thread_returns_the_thread_with_its_first_post(as_author, author, forum, public_board):
    view = forum.thread(as_author, public_board, title="Pay on batch 12", body="It pays **badly**.")
    thread, posts = view["thread"], view["posts"]
    assert thread["title"] == "Pay on batch 12" and thread["board_id"] == public_board.id
    assert thread["author"] == author.display_name and thread["mine"] is True and thread["post_count"] == 1
    assert posts["next_cursor"] is None
    [post] = posts["items"]
    assert post["body"] == "It pays **badly**." and "<strong>badly</strong>" in post["body_html"]
    assert post["author"] == author.display_name and post["mine"] is True
    assert post["hidden"] is False and post["retracted"] is False and post["edited"] is False


def test_authors_appear_by_pseudonym_only(make, as_author, author, forum, public_board):
    thread_id = forum.thread(as_author, public_board)["thread"]["id"]
    reader = make.client(make.requester())
    text = reader.get(f"{API}/threads/{thread_id}").get_data(as_text=True)
    assert author.display_name in text
    assert author.email not in text
    post = reader.get(f"{API}/threads/{thread_id}").json["posts"]["items"][0]
    assert post["mine"] is False and "author_id" not in post and "email" not in post


@pytest.mark.parametrize(
    "source, forbidden",
    [
        ("hi <script>alert(1)</script>", "<script"),
        ('<img src="x" onerror="alert(1)">', "onerror"),
        ("[click](javascript:alert(1))", "javascript:"),
        ('<a href="javascript:alert(1)">click</a>', "javascript:"),
    ],
)
def test_post_html_is_sanitised_through_the_api(as_author, forum, public_board, source, forbidden):
    view = forum.thread(as_author, public_board, body=source)
    thread_id = view["thread"]["id"]
    reply = forum.post(as_author, thread_id, body=source)
    edited = as_author.patch(f"{API}/posts/{reply['id']}", json={"body": source + " again"}).json
    read = as_author.get(f"{API}/threads/{thread_id}").json["posts"]["items"]
    for html in [view["posts"]["items"][0]["body_html"], reply["body_html"], edited["body_html"]] + [
        p["body_html"] for p in read
    ]:
        assert forbidden not in html.lower()
    # The markdown source is kept as written; only the rendering is sanitised.
    assert read[0]["body"] == source


def test_links_get_nofollow(as_author, forum, public_board):
    post = forum.thread(as_author, public_board, body="[coop](https://example.org)")["posts"]["items"][0]
    assert 'rel="nofollow' in post["body_html"]


def test_new_post_moves_the_thread_to_the_top(make, as_author, forum, public_board):
    first = forum.thread(as_author, public_board, title="older")["thread"]["id"]
    clock.advance(timedelta(minutes=1))
    second = forum.thread(as_author, public_board, title="newer")["thread"]["id"]
    ids = [t["id"] for t in as_author.get(f"{API}/boards/{public_board.id}/threads").json["items"]]
    assert ids.index(second) < ids.index(first)
    clock.advance(timedelta(minutes=1))
    forum.post(as_author, first)
    listed = as_author.get(f"{API}/boards/{public_board.id}/threads").json["items"]
    assert [t["id"] for t in listed][:2] == [first, second]
    assert listed[0]["post_count"] == 2


def test_thread_list_pages_cover_every_thread_once_newest_activity_first(as_author, forum, members_board):
    made = []
    for i in range(7):
        clock.advance(timedelta(seconds=1))
        made.append(forum.thread(as_author, members_board, title=f"t{i}")["thread"]["id"])
    seen, cursor = [], None
    while True:
        url = f"{API}/boards/{members_board.id}/threads?limit=3" + (f"&cursor={cursor}" if cursor else "")
        page = as_author.get(url).json
        seen += [t["id"] for t in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    mine = [i for i in seen if i in made]
    assert mine == list(reversed(made))
    assert len(seen) == len(set(seen))


def test_thread_pages_return_every_post_exactly_once_oldest_first(as_author, forum, public_board):
    thread_id = forum.thread(as_author, public_board)["thread"]["id"]
    made = [forum.post(as_author, thread_id, body=f"post {i}")["id"] for i in range(11)]
    seen, cursor, pages = [], None, 0
    while True:
        url = f"{API}/threads/{thread_id}?limit=4" + (f"&cursor={cursor}" if cursor else "")
        response = as_author.get(url)
        assert response.status_code == 200
        assert response.json["thread"]["id"] == thread_id
        seen += [p["id"] for p in response.json["posts"]["items"]]
        cursor, pages = response.json["posts"]["next_cursor"], pages + 1
        if cursor is None:
            break
    assert seen == sorted(seen) and len(seen) == len(set(seen)) == 12
    assert seen[1:] == made and pages == 3


def test_post_added_while_paging_appears_on_a_later_page(as_author, forum, public_board):
    thread_id = forum.thread(as_author, public_board)["thread"]["id"]
    for _ in range(3):
        forum.post(as_author, thread_id)
    first = as_author.get(f"{API}/threads/{thread_id}?limit=2").json["posts"]
    late = forum.post(as_author, thread_id, body="late")["id"]
    rest = as_author.get(f"{API}/threads/{thread_id}?limit=10&cursor={first['next_cursor']}").json["posts"]
    ids = [p["id"] for p in first["items"] + rest["items"]]
    assert ids.count(late) == 1 and len(ids) == 5


def test_a_forged_cursor_is_422(as_author, forum, public_board):
    thread_id = forum.thread(as_author, public_board)["thread"]["id"]
    response = as_author.get(f"{API}/threads/{thread_id}?cursor=not-a-cursor")
    assert response.status_code == 422 and "cursor" in response.json["errors"]


def test_reply_must_be_to_a_post_of_the_same_thread(as_author, forum, public_board):
    one = forum.thread(as_author, public_board)
    other = forum.thread(as_author, public_board)
    first_id = one["posts"]["items"][0]["id"]
    reply = forum.post(as_author, one["thread"]["id"], reply_to=first_id)
    assert reply["reply_to"] == first_id
    response = as_author.post(f"{API}/threads/{other['thread']['id']}/posts", json={"body": "x", "reply_to": first_id})
    assert response.status_code == 422 and "reply_to" in response.json["errors"]


@pytest.mark.parametrize("body", [{}, {"body": ""}, {"body": "   "}, {"body": "x" * 20_001}])
def test_empty_or_oversized_post_is_422(as_author, forum, public_board, body):
    thread_id = forum.thread(as_author, public_board)["thread"]["id"]
    response = as_author.post(f"{API}/threads/{thread_id}/posts", json=body)
    assert response.status_code == 422 and "body" in response.json["errors"]


def test_thread_needs_a_title(as_author, public_board):
    response = as_author.post(f"{API}/boards/{public_board.id}/threads", json={"body": "x"})
    assert response.status_code == 422 and "title" in response.json["errors"]


# --- edits ---------------------------------------------------------------------------------


def test_edit_keeps_every_earlier_version_with_its_time(as_author, forum, public_board):
    post = forum.thread(as_author, public_board, body="v1")["posts"]["items"][0]
    created = post["created_at"]
    clock.advance(timedelta(minutes=5))
    first_edit = as_author.patch(f"{API}/posts/{post['id']}", json={"body": "v2"})
    assert first_edit.status_code == 200
    assert first_edit.json["body"] == "v2" and first_edit.json["edited"] is True and first_edit.json["edit_count"] == 1
    clock.advance(timedelta(minutes=5))
    as_author.patch(f"{API}/posts/{post['id']}", json={"body": "*v3*"})
    history = as_author.get(f"{API}/posts/{post['id']}/history").json
    assert history["next_cursor"] is None
    assert [v["body"] for v in history["items"]] == ["v1", "v2", "*v3*"]
    assert [v["number"] for v in history["items"]] == [1, 2, 3]
    assert [v["current"] for v in history["items"]] == [False, False, True]
    assert history["items"][0]["written_at"] == created
    assert history["items"][0]["replaced_at"] == history["items"][1]["written_at"] == first_edit.json["edited_at"]
    assert history["items"][2]["replaced_at"] is None and "<em>v3</em>" in history["items"][2]["body_html"]


def test_history_pages_end_with_the_current_text(as_author, forum, public_board):
    post = forum.thread(as_author, public_board, body="v1")["posts"]["items"][0]
    for n in range(2, 6):
        as_author.patch(f"{API}/posts/{post['id']}", json={"body": f"v{n}"})
    bodies, cursor = [], None
    while True:
        page = as_author.get(f"{API}/posts/{post['id']}/history?limit=2" + (f"&cursor={cursor}" if cursor else "")).json
        bodies += [v["body"] for v in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert bodies == ["v1", "v2", "v3", "v4", "v5"]


def test_only_the_author_edits(make, as_author, forum, public_board):
    post_id = forum.thread(as_author, public_board)["posts"]["items"][0]["id"]
    assert make.client(make.member()).patch(f"{API}/posts/{post_id}", json={"body": "mine now"}).status_code == 403
    assert make.client(make.coordinator()).patch(f"{API}/posts/{post_id}", json={"body": "x"}).status_code == 403
    assert make.client().patch(f"{API}/posts/{post_id}", json={"body": "x"}).status_code == 401
    assert as_author.patch(f"{API}/posts/999999", json={"body": "x"}).status_code == 404


def test_edit_on_a_members_board_is_refused_to_an_author_who_left(make, forum, members_board):
    from coop.accounts import services as accounts

    user = make.member()
    client = make.client(user)
    post_id = forum.thread(client, members_board)["posts"]["items"][0]["id"]
    accounts.set_roles(user, member=False)
    assert client.patch(f"{API}/posts/{post_id}", json={"body": "x"}).status_code == 403


def test_unchanged_edit_adds_no_version(as_author, forum, public_board):
    post_id = forum.thread(as_author, public_board, body="same")["posts"]["items"][0]["id"]
    response = as_author.patch(f"{API}/posts/{post_id}", json={"body": "same"})
    assert response.status_code == 200 and response.json["edit_count"] == 0


# --- retraction -----------------------------------------------------------------------------


def test_retraction_erases_the_text_and_every_earlier_text(session, as_author, forum, public_board):
    thread = forum.thread(as_author, public_board, body="my words v1")
    post_id = thread["posts"]["items"][0]["id"]
    as_author.patch(f"{API}/posts/{post_id}", json={"body": "my words v2"})
    as_author.patch(f"{API}/posts/{post_id}", json={"body": "my words v3"})
    response = as_author.post(f"{API}/posts/{post_id}/retract")
    assert response.status_code == 200
    post = response.json
    assert post["retracted"] is True and post["body"] is None and post["body_html"] is None
    # The fact of each edit remains.
    assert post["edit_count"] == 2 and post["edited"] is True
    history = as_author.get(f"{API}/posts/{post_id}/history").json["items"]
    assert len(history) == 3 and all(v["body"] is None and v["erased"] for v in history)
    assert all(v["written_at"] for v in history)
    text = as_author.get(f"{API}/threads/{thread['thread']['id']}").get_data(as_text=True)
    assert "my words" not in text
    # Erased in the database too, not merely hidden by the API.
    stored = session.scalars(sa.select(PostVersion.body).where(PostVersion.post_id == post_id)).all()
    assert stored == [None, None]


def test_retracted_post_stays_as_a_placeholder_for_replies(make, as_author, forum, public_board):
    view = forum.thread(as_author, public_board)
    first_id = view["posts"]["items"][0]["id"]
    reply = forum.post(make.client(make.member()), view["thread"]["id"], reply_to=first_id)
    as_author.post(f"{API}/posts/{first_id}/retract")
    items = as_author.get(f"{API}/threads/{view['thread']['id']}").json["posts"]["items"]
    assert [p["id"] for p in items] == [first_id, reply["id"]]
    assert items[0]["retracted"] is True and items[1]["reply_to"] == first_id


def test_retracted_post_cannot_be_edited_or_retracted_again(as_author, forum, public_board):
    post_id = forum.thread(as_author, public_board)["posts"]["items"][0]["id"]
    as_author.post(f"{API}/posts/{post_id}/retract")
    assert as_author.patch(f"{API}/posts/{post_id}", json={"body": "back"}).status_code == 409
    assert as_author.post(f"{API}/posts/{post_id}/retract").status_code == 409


def test_only_the_author_retracts(make, as_author, forum, public_board, members_board):
    post_id = forum.thread(as_author, public_board)["posts"]["items"][0]["id"]
    assert make.client(make.coordinator()).post(f"{API}/posts/{post_id}/retract").status_code == 403
    assert make.client(make.requester()).post(f"{API}/posts/{post_id}/retract").status_code == 403
    assert make.client().post(f"{API}/posts/{post_id}/retract").status_code == 401
    assert as_author.post(f"{API}/posts/999999/retract").status_code == 404
    hidden_id = forum.thread(as_author, members_board)["posts"]["items"][0]["id"]
    assert make.client(make.requester()).post(f"{API}/posts/{hidden_id}/retract").status_code == 403


# --- nobody deletes a post ------------------------------------------------------------------


@pytest.mark.parametrize("who", ["author", "coordinator", "anon"])
def test_delete_on_a_post_is_405_for_everyone(make, as_author, forum, public_board, who):
    post_id = forum.thread(as_author, public_board)["posts"]["items"][0]["id"]
    client = {"author": as_author, "coordinator": make.client(make.coordinator()), "anon": make.client()}[who]
    response = client.delete(f"{API}/posts/{post_id}")
    assert response.status_code == 405
    assert response.json["code"] == 405 and response.json["message"]
    assert "DELETE" not in response.headers["Allow"]
    assert as_author.get(f"{API}/posts/{post_id}").json["body"] == "First post"


def test_no_forum_route_deletes_anything(app):
    forum_rules = [r for r in app.url_map.iter_rules() if r.rule.startswith("/api/v1/forum")]
    assert any("/posts/" in r.rule for r in forum_rules)
    for rule in forum_rules:
        assert "DELETE" not in rule.methods, rule.rule
