"""The request as one unit of work: a lost race run again once, and a 503 with Retry-After, never a 500, when the database cannot serve."""

import logging
import sqlite3

import psycopg
import pytest
import sqlalchemy as sa
from flask import Flask
from sqlalchemy import exc as sa_exc

from coop import unit_of_work
from coop.accounts import services as accounts
from coop.marketplace import services as marketplace
from coop.marketplace.models import Deposit


def db_error(orig, invalidated=False, statement="SELECT 1", cls=sa_exc.OperationalError):
    """A database error as SQLAlchemy raises it, wrapping the driver's."""
    return cls(statement, {}, orig, connection_invalidated=invalidated)


SERIALIZATION = psycopg.errors.SerializationFailure("could not serialize access due to concurrent update")
DEADLOCK = psycopg.errors.DeadlockDetected("deadlock detected")
LOCK_TIMEOUT = psycopg.errors.LockNotAvailable("canceling statement due to lock timeout")
STATEMENT_TIMEOUT = psycopg.errors.QueryCanceled("canceling statement due to statement timeout")
REFUSED = psycopg.OperationalError("connection failed: Connection refused")
SHUTDOWN = psycopg.errors.AdminShutdown("terminating connection due to administrator command")
SQLITE_LOCKED = sqlite3.OperationalError("database is locked")


@pytest.mark.parametrize(
    "error, kind",
    [
        (db_error(SERIALIZATION), unit_of_work.RACE),
        (db_error(DEADLOCK), unit_of_work.RACE),
        (db_error(SQLITE_LOCKED), unit_of_work.RACE),
        (db_error(LOCK_TIMEOUT), unit_of_work.BUSY),
        (db_error(STATEMENT_TIMEOUT), unit_of_work.BUSY),
        (sa_exc.TimeoutError("QueuePool limit reached"), unit_of_work.BUSY),
        (db_error(REFUSED), unit_of_work.DOWN),
        (db_error(SHUTDOWN, invalidated=True), unit_of_work.DOWN),
        (db_error(psycopg.InterfaceError("the connection is closed"), cls=sa_exc.InterfaceError), unit_of_work.DOWN),
        (db_error(sqlite3.OperationalError("no such table: batches")), None),
        (db_error(psycopg.errors.UniqueViolation("duplicate key"), cls=sa_exc.IntegrityError), None),
    ],
)
def test_database_errors_are_told_apart_by_whether_they_pass(error, kind):
    assert unit_of_work.classify(error) == kind


class FailingFirst:
    """Wraps a service: does the real work, then raises `errors` one per call until they run out."""

    def __init__(self, real, *errors):
        self.real, self.errors, self.calls = real, list(errors), 0

    def __call__(self, *args, **kwargs):
        self.calls += 1
        result = self.real(*args, **kwargs)
        if self.errors:
            raise self.errors.pop(0)
        return result


def deposits(session, requester):
    return session.scalar(sa.select(sa.func.count()).select_from(Deposit).where(Deposit.requester_id == requester.id))


def assert_unavailable(response):
    assert response.status_code == 503, response.get_json()
    assert int(response.headers["Retry-After"]) >= 1
    body = response.get_json()
    assert body["code"] == 503 and body["status"] == "Service Unavailable" and body["message"]


@pytest.fixture
def requester(make):
    return make.requester()


@pytest.mark.parametrize("lost", [SERIALIZATION, DEADLOCK, SQLITE_LOCKED])
def test_a_race_lost_once_is_run_again_and_succeeds(make, requester, session, monkeypatch, lost):
    deposit = FailingFirst(marketplace.request_deposit, db_error(lost))
    monkeypatch.setattr(marketplace, "request_deposit", deposit)
    response = make.client(requester).post("/api/v1/deposits", json={"amount_cents": 500})
    assert response.status_code == 201, response.get_json()
    assert deposit.calls == 2
    # The first run's deposit was rolled back with its transaction; only the second one stands.
    assert deposits(session, requester) == 1


def test_a_race_lost_twice_answers_503_with_retry_after_and_changes_nothing(make, requester, session, monkeypatch):
    deposit = FailingFirst(marketplace.request_deposit, db_error(SERIALIZATION), db_error(DEADLOCK))
    monkeypatch.setattr(marketplace, "request_deposit", deposit)
    response = make.client(requester).post("/api/v1/deposits", json={"amount_cents": 500})
    assert_unavailable(response)
    assert deposit.calls == 2
    assert deposits(session, requester) == 0


def test_a_race_lost_at_commit_runs_the_view_again_then_commits(make, requester, session, monkeypatch):
    real_commit = unit_of_work.commit
    failures = [db_error(SERIALIZATION, statement=None)]

    def commit():
        if failures:
            raise failures.pop()
        real_commit()

    deposit = FailingFirst(marketplace.request_deposit)
    monkeypatch.setattr(unit_of_work, "commit", commit)
    monkeypatch.setattr(marketplace, "request_deposit", deposit)
    response = make.client(requester).post("/api/v1/deposits", json={"amount_cents": 500})
    assert response.status_code == 201, response.get_json()
    assert deposit.calls == 2
    assert deposits(session, requester) == 1


def test_a_connection_lost_during_the_commit_is_not_run_again(make, requester, session, monkeypatch):
    # The commit may have reached the database; running the view again could do the change twice.
    def commit():
        raise db_error(SHUTDOWN, invalidated=True, statement=None)

    deposit = FailingFirst(marketplace.request_deposit)
    monkeypatch.setattr(unit_of_work, "commit", commit)
    monkeypatch.setattr(marketplace, "request_deposit", deposit)
    response = make.client(requester).post("/api/v1/deposits", json={"amount_cents": 500})
    assert_unavailable(response)
    assert deposit.calls == 1
    assert "Idempotency-Key" in response.get_json()["message"]


def test_a_connection_lost_before_the_commit_is_run_again(make, requester, session, monkeypatch):
    deposit = FailingFirst(marketplace.request_deposit, db_error(SHUTDOWN, invalidated=True))
    monkeypatch.setattr(marketplace, "request_deposit", deposit)
    response = make.client(requester).post("/api/v1/deposits", json={"amount_cents": 500})
    assert response.status_code == 201, response.get_json()
    assert deposit.calls == 2
    assert deposits(session, requester) == 1


@pytest.mark.parametrize("busy", [LOCK_TIMEOUT, STATEMENT_TIMEOUT])
def test_a_lock_or_statement_past_its_limit_answers_503_at_once(make, requester, session, monkeypatch, busy):
    # Not run again: that would only hold the worker twice as long behind the same lock.
    deposit = FailingFirst(marketplace.request_deposit, db_error(busy), db_error(busy))
    monkeypatch.setattr(marketplace, "request_deposit", deposit)
    response = make.client(requester).post("/api/v1/deposits", json={"amount_cents": 500})
    assert_unavailable(response)
    assert deposit.calls == 1
    assert deposits(session, requester) == 0


def test_database_unreachable_while_signing_in_by_token_answers_503(make, requester, monkeypatch):
    client = make.client(requester)

    def unreachable(token, *also, values=None):
        raise db_error(REFUSED, statement="SELECT api_tokens...")

    monkeypatch.setattr(accounts, "token_in_use", unreachable)
    assert_unavailable(client.get("/api/v1/me"))


def test_a_database_error_that_is_a_bug_is_not_retried_nor_hidden(make, requester, session, monkeypatch, caplog):
    bug = db_error(psycopg.errors.UndefinedColumn("column does not exist"), cls=sa_exc.ProgrammingError)
    deposit = FailingFirst(marketplace.request_deposit, bug)
    monkeypatch.setattr(marketplace, "request_deposit", deposit)
    with caplog.at_level(logging.ERROR):
        response = make.client(requester).post("/api/v1/deposits", json={"amount_cents": 500})
    assert response.status_code == 500
    assert deposit.calls == 1
    assert deposits(session, requester) == 0


def test_every_operation_documents_the_503(client):
    spec = client.get("/api/openapi.json").get_json()
    assert "Retry-After" in spec["components"]["responses"]["ServiceUnavailable"]["headers"]
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            if method != "parameters":
                assert operation["responses"].get("503") == {"$ref": "#/components/responses/ServiceUnavailable"}, (
                    f"{method.upper()} {path}"
                )


def test_the_requests_commit_leaves_its_objects_loaded_and_later_commits_expire_again(requester, session):
    # The session ends with the request: expiring what it loaded would only be work thrown away.
    requester.display_name = "Renamed Lab"
    unit_of_work.commit()
    assert not sa.inspect(requester).expired_attributes
    assert requester.__dict__["display_name"] == "Renamed Lab"
    # Anything that commits on the same session afterwards (a CLI command, a test) expires as usual.
    requester.display_name = "Renamed Again"
    session.commit()
    assert "display_name" in sa.inspect(requester).expired_attributes


def test_a_failed_request_commit_still_leaves_later_commits_expiring(requester, session, monkeypatch):
    def lost(*_args, **_kwargs):
        raise db_error(SHUTDOWN, invalidated=True, statement=None)

    monkeypatch.setattr(session(), "commit", lost)
    with pytest.raises(sa_exc.OperationalError):
        unit_of_work.commit()
    assert session().expire_on_commit is True


def test_the_app_answers_once_per_function_whether_to_wrap_it_and_keeps_a_bounded_number(app, monkeypatch):
    fresh = unit_of_work.CoopFlask("coop_sync_answers")

    def view():
        return "plain"

    async def coroutine_view():
        return "awaited"

    asked = []
    real = Flask.ensure_sync
    monkeypatch.setattr(Flask, "ensure_sync", lambda self, func: asked.append(func) or real(self, func))
    assert fresh.ensure_sync(view) is view
    assert fresh.ensure_sync(view) is view
    wrapped = fresh.ensure_sync(coroutine_view)
    # Flask's wrapper, which runs it to completion (not called here: a test before may leave an event loop in this thread).
    assert wrapped is not coroutine_view and callable(wrapped)
    assert fresh.ensure_sync(coroutine_view) is wrapped
    assert asked == [view, coroutine_view]

    monkeypatch.setattr(unit_of_work.CoopFlask, "_SYNC_ANSWERS_KEPT", 3)
    made_per_request = [lambda: None for _ in range(5)]
    assert [fresh.ensure_sync(func) for func in made_per_request] == made_per_request
    assert len(fresh._sync_answers) == 3


def test_an_unhashable_callable_is_still_run(app):
    class Unhashable:
        __hash__ = None

        def __call__(self):
            return "ran"

    func = Unhashable()
    assert unit_of_work.CoopFlask("coop_unhashable").ensure_sync(func)() == "ran"
