"""Forum fixtures: the founding boards, and helpers that open threads and posts through the API."""

import pytest
import sqlalchemy as sa

from coop.forum.models import Board

API = "/api/v1/forum"


@pytest.fixture
def boards(session):
    """The founding boards by slug: {'members': Board, 'public': Board}."""
    return {b.slug: b for b in session.scalars(sa.select(Board))}


@pytest.fixture
def members_board(boards):
    return boards["members"]


@pytest.fixture
def public_board(boards):
    return boards["public"]


class Forum:
    """Opens threads and posts through the API, asserting each step worked."""

    def __init__(self, make):
        self.make = make

    def thread(self, client, board, title="A thread", body="First post"):
        response = client.post(f"{API}/boards/{board.id}/threads", json={"title": title, "body": body})
        assert response.status_code == 201, response.json
        return response.json

    def post(self, client, thread_id, body="A reply", reply_to=None):
        response = client.post(f"{API}/threads/{thread_id}/posts", json={"body": body, "reply_to": reply_to})
        assert response.status_code == 201, response.json
        return response.json

    def moderate(self, coordinator, post_id, action, rule, reason):
        response = coordinator.post(
            f"{API}/posts/{post_id}/moderation", json={"action": action, "rule": rule, "reason": reason}
        )
        assert response.status_code == 200, response.json
        return response.json

    def hide(self, coordinator, post_id, rule="forum-rules", reason="Rule 2: harassment"):
        return self.moderate(coordinator, post_id, "hide", rule, reason)

    def redact(self, coordinator, post_id, rule="forum-rules", reason="Rule 1: a person's home address"):
        return self.moderate(coordinator, post_id, "redact", rule, reason)


@pytest.fixture
def forum(make):
    return Forum(make)


@pytest.fixture
def author(make):
    """A member who writes the post a test is about."""
    return make.member()


@pytest.fixture
def as_author(make, author):
    return make.client(author)


@pytest.fixture
def coordinator(make):
    """The coordinator who moderates in a test."""
    return make.coordinator()


@pytest.fixture
def as_coord(make, coordinator):
    return make.client(coordinator)
