"""Faults of a real PostgreSQL under the API: a held row lock, the database down, connections dropped by a restart."""

import logging
import socket

import psycopg
import pytest
import sqlalchemy as sa
from sqlalchemy import event

from coop import ledger
from coop.accounts import services as accounts
from coop.extensions import db
from coop.marketplace import services as marketplace
from coop.marketplace.models import Assignment
from tests.reliability.conftest import batch_body, person
from tests.test_unit_of_work import assert_unavailable

pytestmark = pytest.mark.usefixtures("postgres_only")


def libpq_url() -> str:
    """The suite's database as a plain libpq URL, for connections of our own outside the app's pool."""
    return db.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def signed_in(user) -> dict:
    _, token = accounts.issue_token(user, "faults")
    return {"Authorization": f"Bearer {token}"}


def test_a_held_batch_lock_answers_503_while_the_rest_of_the_api_serves(app, committed, books, monkeypatch):
    # Short, so the test does not wait out the production limit; what matters is that it gives up.
    monkeypatch.setitem(app.config, "COOP_DB_LOCK_TIMEOUT_MS", 300)
    requester = person("requester", "locked")
    worker = person("worker", "blocked", member=True)
    ledger.move(ledger.EXTERNAL, ledger.requester_available(requester.id), 1_000, "fault deposit")
    batch_id = marketplace.create_batch(requester, batch_body(items=2)).id
    headers = signed_in(worker)
    db.session.commit()
    worker_id = worker.id
    client = app.test_client()

    with psycopg.connect(libpq_url()) as holder:
        # Another transaction holds the batch row, as a stuck request or a long tick would.
        holder.execute("SELECT id FROM batches WHERE id = %s FOR UPDATE", (batch_id,))
        blocked = client.post(f"/api/v1/batches/{batch_id}/claim", json={}, headers=headers)
        assert_unavailable(blocked)
        assert client.get("/api/v1/me", headers=headers).status_code == 200
        assert client.get("/api/v1/terms/current", headers=headers).status_code == 200
        holder.rollback()

    db.session.remove()
    assert (
        db.session.scalar(sa.select(sa.func.count()).select_from(Assignment).where(Assignment.worker_id == worker_id))
        == 0
    ), "the refused claim left an assignment behind"
    claimed = client.post(f"/api/v1/batches/{batch_id}/claim", json={}, headers=headers)
    assert claimed.status_code == 201, claimed.get_json()


def test_database_down_answers_503_and_the_first_request_after_it_is_back_succeeds(app, committed):
    worker = person("worker", "outage", member=True)
    headers = signed_in(worker)
    db.session.commit()
    client = app.test_client()
    port = closed_port()

    def unreachable(dialect, connection_record, cargs, cparams):
        cparams.update(host="127.0.0.1", port=port)

    db.session.remove()
    db.engine.dispose()  # what a restart does to the pool: no connection survives it
    event.listen(db.engine, "do_connect", unreachable)
    try:
        assert_unavailable(client.get("/api/v1/me", headers=headers))
        assert_unavailable(
            client.post("/api/v1/forum/boards/1/threads", json={"title": "t", "body": "b"}, headers=headers)
        )
    finally:
        event.remove(db.engine, "do_connect", unreachable)
    assert client.get("/api/v1/me", headers=headers).status_code == 200


def test_connections_a_restart_dropped_are_replaced_before_use(app, committed, caplog, monkeypatch):
    # Every pooled connection counts as idle here, as after a quiet spell: the one a restart dropped
    # is checked and replaced before the request draws it.
    monkeypatch.setitem(app.config, "COOP_DB_PING_IDLE_SECONDS", 0)
    worker = person("worker", "restart", member=True)
    headers = signed_in(worker)
    db.session.commit()
    client = app.test_client()
    assert client.get("/api/v1/me", headers=headers).status_code == 200  # the pool now holds a connection
    db.session.remove()

    with psycopg.connect(libpq_url(), autocommit=True) as admin:
        # Chosen first, terminated after: only this test database's connections, never another's.
        killed = [
            pid
            for (pid,) in admin.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        ]
        assert killed, "no pooled connection to drop"
        for pid in killed:
            admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
        # Termination is asynchronous; wait until every one is really gone.
        while admin.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = ANY(%s)", (killed,)).fetchone()[0]:
            pass

    with caplog.at_level(logging.WARNING, logger="coop.unit_of_work"):
        assert client.get("/api/v1/me", headers=headers).status_code == 200
    # Replaced by the check before use, not rescued by running the request again.
    assert not [r for r in caplog.records if r.name == "coop.unit_of_work"]
    # The other pooled connections the kill dropped would greet the next test at once, before
    # they count as idle: they are this test's to clear away.
    db.engine.dispose()


def test_a_connection_back_in_use_at_once_is_not_pinged_but_an_idle_one_is(app, committed, monkeypatch):
    worker = person("worker", "pinged", member=True)
    headers = signed_in(worker)
    db.session.commit()
    db.session.remove()
    client = app.test_client()
    pings = []
    real_ping = db.engine.dialect.do_ping
    monkeypatch.setattr(db.engine.dialect, "do_ping", lambda conn: pings.append(1) or real_ping(conn))
    monkeypatch.setitem(app.config, "COOP_DB_PING_IDLE_SECONDS", 60)  # however slow this machine is today
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    assert pings == []  # busy connections save the round trip
    monkeypatch.setitem(app.config, "COOP_DB_PING_IDLE_SECONDS", 0)
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    assert pings == [1]
