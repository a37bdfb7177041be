"""Concurrent writes on PostgreSQL: thread counters stay exact, a post is hidden once."""

import threading

import pytest
import sqlalchemy as sa

from coop.accounts import services as accounts
from coop.extensions import db
from coop.forum import services as forum
from coop.forum.models import Board, Moderation, Thread
from coop.governance import services as governance

API = "/api/v1/forum"

pytestmark = pytest.mark.usefixtures("postgres_only")


def _member(name, coordinator=False):
    user = accounts.register(f"{name}@example.org", "correct-horse-battery", name, "worker")
    governance.admit_founder(user, "test transfer")
    if coordinator:
        accounts.set_roles(user, coordinator=True)
    return user


class _Caller:
    """A test client acting as one user through a Bearer token."""

    def __init__(self, app, user):
        _, token = accounts.issue_token(user, "test")
        self._client, self._headers = app.test_client(), {"Authorization": f"Bearer {token}"}

    def post(self, url, json):
        return self._client.post(url, json=json, headers=self._headers)


def _run_together(app, calls):
    """Run each call in its own thread, started at once; returns their results in order."""
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def run(i, call):
        with app.app_context():
            barrier.wait()
            results[i] = call()
            db.session.remove()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def test_concurrent_posts_keep_the_thread_count_exact(app, committed):
    writers = [_member(f"conc-writer-{i}") for i in range(8)]
    board = db.session.scalar(sa.select(Board).where(Board.slug == "members"))
    thread, _ = forum.start_thread(writers[0], board, "Busy thread", "first")
    clients = [_Caller(app, w) for w in writers]
    db.session.commit()
    thread_id = thread.id  # read here: the threads must not load it through this test's session
    statuses = _run_together(
        app,
        [
            (lambda c=c: c.post(f"{API}/threads/{thread_id}/posts", json={"body": "at once"}).status_code)
            for c in clients
        ],
    )
    assert statuses == [201] * len(clients)
    db.session.expire_all()
    assert db.session.get(Thread, thread_id).post_count == 1 + len(clients)


def test_two_coordinators_hiding_at_once_hide_the_post_once(app, committed):
    author = _member("conc-author")
    coordinators = [_member(f"conc-coord-{i}", coordinator=True) for i in range(2)]
    board = db.session.scalar(sa.select(Board).where(Board.slug == "public"))
    _, post = forum.start_thread(author, board, "Contested", "words")
    clients = [_Caller(app, c) for c in coordinators]
    db.session.commit()
    post_id = post.id  # read here: the threads must not load it through this test's session
    body = {"action": "hide", "rule": "forum-rules", "reason": "Rule 2"}
    statuses = _run_together(
        app, [(lambda c=c: c.post(f"{API}/posts/{post_id}/moderation", json=body).status_code) for c in clients]
    )
    assert sorted(statuses) == [200, 409]
    assert (
        db.session.scalar(sa.select(sa.func.count()).select_from(Moderation).where(Moderation.post_id == post_id)) == 1
    )
