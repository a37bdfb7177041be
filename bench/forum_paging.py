"""Benchmark: the first and the last page of a 200,000-post thread cost about the same (keyset pages).

Run from the repository root: `python -m bench.forum_paging`. PostgreSQL when
COOP_BENCH_DATABASE_URL is set (a throwaway database is created beside the one it names),
otherwise a SQLite file in a temporary folder; either is removed afterwards. Prints the p50
of each measurement and writes them to bench/results/forum_paging.json.
"""

import contextlib
import json
import os
import shutil
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa

from bench.common import p50_ms
from coop.dbtools import throwaway_postgres_database

POSTS = int(os.environ.get("COOP_BENCH_FORUM_POSTS", "200000"))
CHUNK = 10_000
REPEATS = 20
LIMIT = 50
RESULTS = Path(__file__).resolve().parent / "results" / "forum_paging.json"


@contextlib.contextmanager
def throwaway_database():
    """Yields (url, backend) of an empty database that is dropped or deleted on exit."""
    base = os.environ.get("COOP_BENCH_DATABASE_URL")
    if not base:
        folder = tempfile.mkdtemp(prefix="coop-bench-")
        try:
            yield f"sqlite:///{folder}/forum-paging.sqlite3", "sqlite"
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        return
    with throwaway_postgres_database(base, "coop_bench_forum") as url:
        yield url, "postgresql"


def build_thread(db, clock):
    """A member, a thread on the members board, and POSTS posts inserted in bulk; returns (user, thread id)."""
    from coop.accounts import services as accounts
    from coop.forum import services as forum
    from coop.forum.models import Board, Post, Thread
    from coop.governance import services as governance

    governance.found()
    forum.ensure_default_boards()
    member = accounts.register("bench@example.org", "bench-password-123", "Bench", "worker")
    governance.admit_founder(member, "bench")
    board = db.session.scalar(sa.select(Board).where(Board.slug == "members"))
    thread, _ = forum.start_thread(member, board, "A very long thread", "The first post.")
    db.session.commit()

    start = clock.now()
    table = Post.__table__
    for offset in range(1, POSTS, CHUNK):
        # Core executemany in chunks: the ORM unit of work would cost minutes for 200,000 rows.
        rows = [
            {
                "thread_id": thread.id,
                "author_id": member.id,
                "body": f"Post number {n}",
                "body_html": f"<p>Post number {n}</p>\n",
                "created_at": start + timedelta(milliseconds=n),
                "edit_count": 0,
            }
            for n in range(offset, min(offset + CHUNK, POSTS))
        ]
        db.session.execute(sa.insert(table), rows)
    db.session.execute(
        sa.update(Thread)
        .where(Thread.id == thread.id)
        .values(post_count=POSTS, last_activity_at=start + timedelta(milliseconds=POSTS))
    )
    db.session.commit()
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(sa.text("ANALYZE posts"))
    else:
        db.session.execute(sa.text("ANALYZE"))
        db.session.commit()
    return member, thread.id


def measure(app, db) -> dict:
    from coop import clock
    from coop.accounts import services as accounts
    from coop.forum import services as forum
    from coop.forum.models import Post, Thread
    from coop.pagination import _encode

    with app.app_context():
        member, thread_id = build_thread(db, clock)
        ids = db.session.execute(
            sa.select(sa.func.min(Post.id), sa.func.max(Post.id), sa.func.count()).where(Post.thread_id == thread_id)
        ).one()
        first_id, last_id, count = ids
        # The bulk insert gives consecutive ids, so the last page starts right after last_id - LIMIT;
        # the cursor is built with the API's own encoding instead of walking 4,000 pages.
        assert last_id - first_id + 1 == count == POSTS, "expected consecutive post ids"
        last_cursor = _encode([last_id - LIMIT])
        thread = db.session.get(Thread, thread_id)

        def page(cursor):
            posts, _ = forum.post_page(thread, limit=LIMIT, cursor=cursor)
            assert len(posts) == LIMIT
            return posts

        assert page(last_cursor)[-1].id == last_id
        forget = db.session.expunge_all
        service_first = p50_ms(lambda: page(None), between=forget)
        service_last = p50_ms(lambda: page(last_cursor), between=forget)

        # For contrast: the same last page by OFFSET, which reads and discards every earlier row.
        offset_stmt = (
            sa.select(Post).where(Post.thread_id == thread_id).order_by(Post.id).offset(POSTS - LIMIT).limit(LIMIT)
        )
        offset_last = p50_ms(lambda: list(db.session.scalars(offset_stmt)), between=forget)

        _, token = accounts.issue_token(member, "bench")
        db.session.commit()
        thread = db.session.get(Thread, thread_id)

    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}

    def request(cursor):
        url = f"/api/v1/forum/threads/{thread_id}?limit={LIMIT}" + (f"&cursor={cursor}" if cursor else "")
        response = client.get(url, headers=headers)
        assert response.status_code == 200, response.get_data(as_text=True)
        assert len(response.json["posts"]["items"]) == LIMIT

    http_first = p50_ms(lambda: request(None))
    http_last = p50_ms(lambda: request(last_cursor))
    return {
        "posts": POSTS,
        "page_size": LIMIT,
        "repeats": REPEATS,
        "service_first_page_p50_ms": service_first,
        "service_last_page_p50_ms": service_last,
        "service_last_over_first": round(service_last / service_first, 3),
        "http_first_page_p50_ms": http_first,
        "http_last_page_p50_ms": http_last,
        "http_last_over_first": round(http_last / http_first, 3),
        "offset_last_page_p50_ms": offset_last,
        "offset_last_over_keyset_last": round(offset_last / service_last, 3),
    }


def main() -> dict:
    from flask_migrate import upgrade

    from coop import create_app
    from coop.extensions import db

    with throwaway_database() as (url, backend):
        app = create_app({"ENV_NAME": "testing", "SQLALCHEMY_DATABASE_URI": url})
        try:
            with app.app_context():
                upgrade(directory=app.extensions["migrate"].directory, revision="heads")
            started = time.perf_counter()
            result = {"benchmark": "forum_paging", "backend": backend, **measure(app, db)}
            result["total_seconds"] = round(time.perf_counter() - started, 1)
        finally:
            with app.app_context():
                db.session.remove()
                db.engine.dispose()
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(f"forum paging on {backend}: {POSTS} posts, pages of {LIMIT}, p50 of {REPEATS} runs")
    print(
        f"  service  first {result['service_first_page_p50_ms']} ms  last {result['service_last_page_p50_ms']} ms"
        f"  last/first {result['service_last_over_first']}"
    )
    print(
        f"  HTTP     first {result['http_first_page_p50_ms']} ms  last {result['http_last_page_p50_ms']} ms"
        f"  last/first {result['http_last_over_first']}"
    )
    print(f"  OFFSET last page for contrast: {result['offset_last_page_p50_ms']} ms")
    print(f"Results written to {RESULTS}")
    return result


if __name__ == "__main__":
    main()
