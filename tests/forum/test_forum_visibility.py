"""Who reads and who writes on public and members boards; a members board tells outsiders nothing."""

import pytest

from coop.errors import Forbidden
from coop.forum import services
from coop.forum.models import Thread

API = "/api/v1/forum"


ROLES = ("member", "worker", "requester")


@pytest.fixture
def clients(make):
    return {role: make.client(getattr(make, role)()) for role in ROLES} | {"anon": make.client()}


@pytest.fixture
def threads(make, forum, members_board, public_board):
    """One thread with a post on each founding board, written by a member."""
    author = make.client(make.member())
    made = {}
    for kind, board in (("members", members_board), ("public", public_board)):
        view = forum.thread(author, board, title=f"Secret plans {kind}", body=f"Body on {kind}")
        made[kind] = (board, view["thread"]["id"], view["posts"]["items"][0]["id"])
    return made


def read_urls(board_id, thread_id, post_id):
    return [
        f"{API}/boards/{board_id}",
        f"{API}/boards/{board_id}/threads",
        f"{API}/threads/{thread_id}",
        f"{API}/posts/{post_id}",
        f"{API}/posts/{post_id}/history",
    ]


READS = [
    ("members", "member", 200),
    ("members", "worker", 403),
    ("members", "requester", 403),
    ("members", "anon", 401),
    ("public", "member", 200),
    ("public", "worker", 200),
    ("public", "requester", 200),
    ("public", "anon", 200),
]


@pytest.mark.parametrize("board_kind, role, status", READS)
def test_reading_each_board_kind_by_role(clients, threads, board_kind, role, status):
    board, thread_id, post_id = threads[board_kind]
    for url in read_urls(board.id, thread_id, post_id):
        response = clients[role].get(url)
        assert response.status_code == status, (url, response.json)


@pytest.mark.parametrize("role", ["worker", "requester"])
def test_members_board_refusal_reveals_no_title_or_body(clients, threads, role):
    board, thread_id, post_id = threads["members"]
    for url in read_urls(board.id, thread_id, post_id):
        response = clients[role].get(url)
        assert response.status_code == 403
        assert "Secret plans" not in response.get_data(as_text=True)
        assert "Body on members" not in response.get_data(as_text=True)
        assert "members" in response.json["message"]


WRITES = [
    ("members", "member", 201),
    ("members", "worker", 403),
    ("members", "requester", 403),
    ("members", "anon", 401),
    ("public", "member", 201),
    ("public", "worker", 403),
    ("public", "requester", 201),
    ("public", "anon", 401),
]


@pytest.mark.parametrize("board_kind, role, status", WRITES)
def test_starting_a_thread_by_role(clients, threads, board_kind, role, status):
    board, _, _ = threads[board_kind]
    response = clients[role].post(f"{API}/boards/{board.id}/threads", json={"title": "Hi", "body": "Hello"})
    assert response.status_code == status, response.json


@pytest.mark.parametrize("board_kind, role, status", WRITES)
def test_posting_in_a_thread_by_role(clients, threads, board_kind, role, status):
    _, thread_id, _ = threads[board_kind]
    response = clients[role].post(f"{API}/threads/{thread_id}/posts", json={"body": "Hello"})
    assert response.status_code == status, response.json


def test_non_member_worker_is_told_to_join_to_post(clients, threads):
    _, thread_id, _ = threads["public"]
    response = clients["worker"].post(f"{API}/threads/{thread_id}/posts", json={"body": "Can I?"})
    assert response.status_code == 403
    assert "/api/v1/membership" in response.json["message"]


@pytest.mark.parametrize(
    "role, expected",
    [
        ("member", {"members", "public", "proposals"}),
        ("worker", {"public"}),
        ("requester", {"public"}),
    ],
)
def test_board_list_shows_the_boards_each_role_may_read(clients, role, expected):
    response = clients[role].get(f"{API}/boards")
    assert response.status_code == 200
    assert {b["slug"] for b in response.json} == expected
    assert set(response.json[0]) == {"id", "slug", "title", "visibility"}


def test_board_list_shows_visitors_the_public_boards_only(clients):
    response = clients["anon"].get(f"{API}/boards")
    assert response.status_code == 200
    assert {b["visibility"] for b in response.json} == {"public"}


def test_coordinator_creates_a_board_and_others_may_not(make):
    coordinator, member = make.client(make.coordinator()), make.client(make.member())
    body = {"slug": "organising", "title": "Organising", "visibility": "members"}
    assert member.post(f"{API}/boards", json=body).status_code == 403
    assert make.client().post(f"{API}/boards", json=body).status_code == 401
    response = coordinator.post(f"{API}/boards", json=body)
    assert response.status_code == 201
    assert response.json["slug"] == "organising" and response.json["visibility"] == "members"
    assert coordinator.post(f"{API}/boards", json=body).status_code == 409
    assert coordinator.post(f"{API}/boards", json={**body, "slug": "x2", "visibility": "secret"}).status_code == 422


def test_unknown_ids_are_404(as_member):
    for url in (
        f"{API}/boards/999999",
        f"{API}/boards/999999/threads",
        f"{API}/threads/999999",
        f"{API}/posts/999999",
        f"{API}/posts/999999/history",
    ):
        assert as_member.get(url).status_code == 404, url
    assert as_member.post(f"{API}/threads/999999/posts", json={"body": "x"}).status_code == 404
    assert as_member.post(f"{API}/boards/999999/threads", json={"title": "x", "body": "x"}).status_code == 404


def test_member_who_withdrew_loses_the_members_board(make, forum, members_board):
    from coop.accounts import services as accounts

    user = make.member()
    client = make.client(user)
    thread_id = forum.thread(client, members_board)["thread"]["id"]
    accounts.set_roles(user, member=False)
    assert client.get(f"{API}/threads/{thread_id}").status_code == 403


def test_the_services_refuse_writers_the_board_does_not_take_whoever_calls_them(make, session, threads, public_board):
    # The checks are in the services, so a page or a CLI command refuses the same people as the API.
    worker, requester = make.worker(), make.requester()
    members_thread = session.get(Thread, threads["members"][1])
    with pytest.raises(Forbidden, match="POST /api/v1/membership"):
        services.start_thread(worker, public_board, "Hello", "I am new here.")
    with pytest.raises(Forbidden, match="members only"):
        services.add_post(requester, members_thread, "We post work.")
    assert members_thread.post_count == 1
