"""The request as one unit of work: the view, then one commit; a lost race retried once; 503 when the database cannot serve."""

import logging
import sqlite3
import time

from apispec import BasePlugin
from flask import Flask, has_request_context
from flask_babel import lazy_gettext as _l
from sqlalchemy import event
from sqlalchemy import exc as sa_exc

from coop.errors import ServiceUnavailable
from coop.extensions import db

log = logging.getLogger(__name__)

# Why a database error happened, which decides whether the work may be run again.
RACE = "race"  # deadlock or serialization failure: the database rolled the whole transaction back
BUSY = "busy"  # a lock or statement waited past its limit, or no connection was free
DOWN = "down"  # the database is unreachable, restarting, or dropped the connection

_RACE_STATES = {"40001", "40P01"}
_BUSY_STATES = {"55P03", "57014"}
# Administrator or crash shutdown, and "cannot connect now" while the server starts.
_DOWN_STATES = {"57P01", "57P02", "57P03"}

DATABASE_ERRORS = (sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.TimeoutError)

MESSAGES = {
    RACE: _l(
        "Another change to the same records won twice in a row; nothing was changed. "
        "Try again after Retry-After seconds."
    ),
    BUSY: _l(
        "The records this needs are held by another change just now; nothing was changed. "
        "Try again after Retry-After seconds."
    ),
    DOWN: _l(
        "The coop's database cannot be reached just now; nothing was changed. Try again after Retry-After seconds."
    ),
}
UNKNOWN_OUTCOME = _l(
    "The connection to the database was lost while this change was being saved, so it may or may not have been "
    "saved. Repeat it with the same Idempotency-Key header to get the first answer, or check before repeating it."
)


def classify(exc: BaseException) -> str | None:
    """RACE, BUSY or DOWN for a database error that passes with time; None for one that is a bug."""
    if isinstance(exc, sa_exc.TimeoutError):  # the connection pool had nothing free
        return BUSY
    if not isinstance(exc, (sa_exc.OperationalError, sa_exc.InterfaceError)):
        return None
    orig = exc.orig
    if isinstance(orig, sqlite3.OperationalError):
        # "database is locked" is SQLite's only answer to a writer racing another, whether it
        # waited out busy_timeout or lost a read-to-write upgrade; the second kind passes at once.
        return RACE if "locked" in str(orig) or "busy" in str(orig) else None
    if isinstance(exc, sa_exc.InterfaceError) or exc.connection_invalidated:
        return DOWN
    state = getattr(orig, "sqlstate", None)
    if state in _RACE_STATES:
        return RACE
    if state in _BUSY_STATES:
        return BUSY
    if state is None or state.startswith("08") or state in _DOWN_STATES:
        return DOWN  # no SQLSTATE: the client library could not reach the server at all
    # Other operational states (too many connections, disk full) pass with time too.
    return BUSY


def unavailable(exc: BaseException, kind: str | None = None, at_commit: bool = False) -> ServiceUnavailable | None:
    """The 503 a passing database error becomes, or None when the error is not one."""
    kind = kind or classify(exc)
    if kind is None:
        return None
    from flask import current_app

    retry_after = current_app.config.get("COOP_RETRY_AFTER_SECONDS", 2)
    message = UNKNOWN_OUTCOME if kind == DOWN and at_commit else MESSAGES[kind]
    log.warning("Answering 503 (%s%s): %s", kind, " at commit" if at_commit else "", exc.__class__.__name__)
    return ServiceUnavailable(message, retry_after=retry_after)


def may_retry(kind: str, at_commit: bool) -> bool:
    # A lost race was rolled back whole, so running it again is safe. A connection lost before
    # the commit was sent changed nothing; one lost during the commit may have committed, and
    # running the view again would do the change twice. A lock or statement past its limit is
    # not retried: that would only hold a worker twice as long behind the same lock.
    return kind == RACE or (kind == DOWN and not at_commit)


def rollback_quietly() -> None:
    """Roll back the request's work; a dead connection is simply discarded."""
    try:
        db.session.rollback()
    except DATABASE_ERRORS:
        log.warning("Rollback failed; the connection is discarded", exc_info=True)
        db.session.close()


def commit_keeping_loaded() -> None:
    """Commit, leaving the objects the session loaded as they are instead of expiring them.

    For a commit after which the request may go on with what it read: reading those objects
    again would cost a query each and show nothing the request could not have seen without it.
    Every other commit on the session expires as usual.
    """
    session = db.session()
    session.expire_on_commit = False
    try:
        session.commit()
    finally:
        session.expire_on_commit = True


def commit() -> None:
    """Commit the request's one transaction (a seam the tests use to lose a race at commit)."""
    # The answer is already made and the session ends with the request: expiring every object it
    # loaded (so a later read would load it again) was a twentieth of a claim's CPU, for nothing.
    commit_keeping_loaded()


class CoopFlask(Flask):
    """Flask whose view and commit form one unit of work, run again once if the database says it lost a race."""

    # Flask asks, for every hook and view of every request, whether it is a coroutine function (about
    # a hundredth of a claim's CPU); the answer for a registered function never changes. Kept for a
    # bounded number, as functions made per request would otherwise pile up.
    _SYNC_ANSWERS_KEPT = 1000

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._sync_answers: dict = {}

    def warm_up(self) -> bool:
        """Build what a worker's first requests would otherwise build (coop.warming); servers call it once per worker."""
        from coop.warming import warm_up

        return warm_up(self)

    def ensure_sync(self, func):
        try:
            return self._sync_answers[func]
        except KeyError:
            found = super().ensure_sync(func)
            if len(self._sync_answers) < self._SYNC_ANSWERS_KEPT:
                self._sync_answers[func] = found
            return found
        except TypeError:  # an unhashable callable
            return super().ensure_sync(func)

    def dispatch_request(self):
        from coop import idempotency

        for attempt in (1, 2):
            at_commit = False
            try:
                response = idempotency.answer(lambda: self.make_response(super(CoopFlask, self).dispatch_request()))
                if response.status_code < 400:
                    at_commit = True
                    commit()
                return response
            except DATABASE_ERRORS as exc:
                kind = classify(exc)
                if kind is None:
                    raise
                # Only the COMMIT itself (no statement of ours) leaves the outcome unknown; a
                # statement the final flush sent failed before anything was committed.
                at_commit = at_commit and getattr(exc, "statement", None) in (None, "COMMIT")
                rollback_quietly()
                if attempt == 1 and may_retry(kind, at_commit):
                    log.warning(
                        "Running the request again after the database answered %s (%s)", exc.__class__.__name__, kind
                    )
                    continue
                raise unavailable(exc, kind, at_commit) from exc
        raise AssertionError("unreachable")  # pragma: no cover


def configure(app: Flask) -> None:
    """Wire the unit of work's ends and the database limits into `app` (a CoopFlask)."""

    @app.after_request
    def end_unit_of_work(response):
        # The view's work was committed in dispatch; this ends what happened around it (if anything did).
        if not db.session().in_transaction():
            return response
        if response.status_code < 400:
            db.session.commit()
        else:
            rollback_quietly()
        return response

    _configure_database_limits(app)


def _configure_database_limits(app: Flask) -> None:
    with app.app_context():
        engine = db.engine
    if engine.dialect.name != "postgresql":
        return

    @event.listens_for(engine, "checkin")
    def _back_in_the_pool(dbapi_connection, record):
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checked_if_idle(dbapi_connection, record, proxy):
        # A connection used a moment ago is alive; one that sat idle may have been dropped by a
        # restart or a failover, and is checked first so no request draws a dead one.
        since = record.info.get("idle_since")
        if since is None or time.monotonic() - since < float(app.config["COOP_DB_PING_IDLE_SECONDS"]):
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as exc:
            raise sa_exc.DisconnectionError("The pooled connection is gone; a new one replaces it.") from exc

    def wanted() -> tuple[int, int]:
        prefix = "COOP_DB_" if has_request_context() else "COOP_DB_CLI_"
        return int(app.config[f"{prefix}LOCK_TIMEOUT_MS"]), int(app.config[f"{prefix}STATEMENT_TIMEOUT_MS"])

    @event.listens_for(engine, "connect")
    def _request_limits_by_default(dbapi_connection, record):
        # Set once per connection, outside any transaction, so a request pays no round trip for them.
        lock_ms, statement_ms = (
            int(app.config["COOP_DB_LOCK_TIMEOUT_MS"]),
            int(app.config["COOP_DB_STATEMENT_TIMEOUT_MS"]),
        )
        with dbapi_connection.cursor() as cursor:
            cursor.execute(f"SET lock_timeout = '{lock_ms}ms'")
            cursor.execute(f"SET statement_timeout = '{statement_ms}ms'")
        dbapi_connection.commit()
        record.info["coop_limits"] = (lock_ms, statement_ms)

    @event.listens_for(engine, "begin")
    def _other_limits_per_transaction(conn):
        # The CLI (or a changed setting) shares the pool with requests: its own limits hold for
        # its transaction only (SET LOCAL semantics), and the connection's defaults come back after.
        lock_ms, statement_ms = wanted()
        if conn.info.get("coop_limits") == (lock_ms, statement_ms):
            return
        conn.exec_driver_sql(
            f"SELECT set_config('lock_timeout', '{lock_ms}ms', true), "
            f"set_config('statement_timeout', '{statement_ms}ms', true)"
        )


class UnitOfWorkDocs(BasePlugin):
    """Documents what every operation owes to the unit of work: the 503 and, on signed-in POSTs, Idempotency-Key.

    Runs after the error-responses plugin, which marks public operations with `security: []`.
    """

    def init_spec(self, spec) -> None:
        super().init_spec(spec)
        spec.components.response(
            "ServiceUnavailable",
            {
                "description": "The database is busy, locked or restarting; nothing was changed. Repeat the request "
                "after Retry-After seconds (with the same Idempotency-Key for a POST).",
                "content": {"application/json": {"schema": "Error"}},
                "headers": {
                    "Retry-After": {
                        "description": "Seconds to wait before trying again.",
                        "schema": {"type": "integer"},
                    }
                },
            },
        )
        spec.components.parameter(
            "IdempotencyKey",
            "header",
            {
                "name": "Idempotency-Key",
                "required": False,
                "description": (
                    "A key you choose for this request (e.g. a random UUID; a structured-field string as in "
                    "draft-ietf-httpapi-idempotency-key-header-07, quotes optional). Repeating the request with the same "
                    "key within 24 hours returns the first successful answer, with `Idempotent-Replayed: true`, and "
                    "changes nothing. The same key for another request: 422; while the first is still running: 409; "
                    "empty, longer than 255 characters or not printable ASCII: 400. Refusals are not kept."
                ),
                "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[\\x20-\\x7e]+$"},
            },
        )

    def operation_helper(self, path=None, operations=None, **kwargs) -> None:
        for method, operation in operations.items():
            operation.setdefault("responses", {})["503"] = "ServiceUnavailable"
            if method == "post" and path.startswith("/api/v1/") and operation.get("security") != []:
                operation.setdefault("parameters", []).append("IdempotencyKey")
