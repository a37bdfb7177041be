"""Fixtures: the app on SQLite or a fresh PostgreSQL database, per-test rollback, role clients."""

import contextlib
import os
import tempfile
import uuid

import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher
from flask_migrate import upgrade
from sqlalchemy.orm import scoped_session, sessionmaker

from coop import clock, create_app
from coop.accounts import services as accounts
from coop.dbtools import throwaway_postgres_database
from coop.extensions import db
from coop.forum.services import ensure_default_boards
from coop.governance import services as governance
from coop.ledger import LedgerAccount

PASSWORD = "correct-horse-battery"


@contextlib.contextmanager
def fresh_database(name: str):
    """The URL of an empty database: a throwaway PostgreSQL one when the suite runs there, else a SQLite file."""
    base = os.environ.get("COOP_TEST_DATABASE_URL")
    if base:
        with throwaway_postgres_database(base, name) as url:
            yield url
    else:
        with tempfile.TemporaryDirectory() as tmp:
            yield f"sqlite:///{tmp}/{name}.sqlite3"


@pytest.fixture(scope="session")
def database_url():
    with fresh_database("coop_test") as url:
        yield url


def founded_app(database_url: str, **config):
    """An app on `database_url`, its schema built by the migrations and the coop founded, as in production."""
    app = create_app({"ENV_NAME": "testing", "SQLALCHEMY_DATABASE_URI": database_url, **config})
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            # A throwaway file: no need to wait for the disk on each commit.
            sa.event.listen(db.engine, "connect", lambda conn, _record: conn.execute("PRAGMA synchronous=OFF"))
        upgrade(directory=app.extensions["migrate"].directory, revision="heads")
        governance.found()
        ensure_default_boards()
        db.session.commit()
        db.session.remove()
    return app


@pytest.fixture(scope="session")
def app(database_url, tmp_path_factory):
    os.environ["COOP_INSTANCE_PATH"] = str(tmp_path_factory.mktemp("instance"))
    app = founded_app(database_url)
    app.before_request_funcs.setdefault(None, []).insert(0, _fresh_request_state)
    yield app
    with app.app_context():
        db.engine.dispose()


def _fresh_request_state():
    # Tests hold one app context for the whole run, which Flask reuses for every request;
    # a real request gets its own, so start each with an empty `g` and nothing cached.
    from flask import g

    g.__dict__.clear()
    # What the test set up is committed (to the outer, rolled-back transaction), so a
    # refused request rolls back only its own work, as it would in production.
    db.session.commit()


@pytest.fixture(scope="session")
def on_postgres(app):
    with app.app_context():
        return db.engine.dialect.name == "postgresql"


@pytest.fixture
def postgres_only(on_postgres):
    if not on_postgres:
        pytest.skip("needs PostgreSQL (set COOP_TEST_DATABASE_URL)")


@pytest.fixture(autouse=True)
def _cheap_password_hashing(monkeypatch):
    # Tests make hundreds of accounts; argon2id at production cost would dominate the run.
    # Hashes made this way are still argon2id and verify the same way.
    monkeypatch.setattr(accounts, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


@pytest.fixture
def frozen_clock(monkeypatch):
    """Time stands still unless a test moves it with clock.advance, so times and runs are exact."""
    start = clock.now()
    monkeypatch.setattr(clock, "now", lambda: start + clock._offset)


@pytest.fixture(autouse=True)
def _no_jobs_left_over():
    # Jobs another test committed and never ran (on SQLite, in this process) are not this test's to run.
    from coop import jobs

    jobs.forget_committed()
    yield
    jobs.forget_committed()


@pytest.fixture(autouse=True)
def _reset_clock():
    clock.reset()
    yield
    clock.reset()


@pytest.fixture
def app_context(app):
    with app.app_context() as ctx:
        yield ctx


@contextlib.contextmanager
def session_on(connection):
    """`db.session` bound to `connection`, whose open transaction its commits only save points in."""
    original = db.session
    db.session = scoped_session(sessionmaker(bind=connection, join_transaction_mode="create_savepoint"))
    try:
        yield db.session
    finally:
        db.session.remove()
        db.session = original


@pytest.fixture
def session(app, app_context):
    """Each test runs inside an outer transaction that is rolled back at the end."""
    connection = db.engine.connect()
    outer = connection.begin()
    try:
        with session_on(connection) as bound:
            yield bound
    finally:
        outer.rollback()
        connection.close()


@pytest.fixture
def committed(app, app_context):
    """For concurrency tests that need real commits: every row they add is removed afterwards."""
    tables = list(reversed(db.metadata.sorted_tables))

    def watermark(table):
        pk = list(table.primary_key.columns)
        if len(pk) == 1 and isinstance(pk[0].type, sa.Integer):
            return pk[0], db.session.scalar(sa.select(sa.func.max(pk[0])))
        return None, db.session.scalar(sa.select(sa.func.count()).select_from(table))

    before = {t.name: watermark(t) for t in tables}
    # Balances are updated in place, so they are put back rather than deleted.
    balances = dict(db.session.execute(sa.select(LedgerAccount.name, LedgerAccount.balance_cents)).all())
    # Jobs the test enqueued live in procrastinate's tables (PostgreSQL), not in the models.
    queued = _queue_watermark()
    db.session.commit()
    yield db
    db.session.rollback()
    db.session.remove()
    with db.engine.begin() as conn:
        if queued is not None:
            conn.execute(sa.text("DELETE FROM procrastinate_periodic_defers WHERE job_id > :m"), {"m": queued})
            conn.execute(sa.text("DELETE FROM procrastinate_jobs WHERE id > :m"), {"m": queued})
        for table in tables:
            column, mark = before[table.name]
            if column is not None:
                conn.execute(table.delete().where(column > (mark or 0)))
            elif not mark:
                conn.execute(table.delete())
        for name, cents in balances.items():
            conn.execute(sa.update(LedgerAccount).where(LedgerAccount.name == name).values(balance_cents=cents))
        conn.execute(sa.delete(LedgerAccount).where(LedgerAccount.name.not_in(list(balances))))


def _queue_watermark() -> int | None:
    if db.engine.dialect.name != "postgresql":
        return None
    return db.session.scalar(sa.text("SELECT coalesce(max(id), 0) FROM procrastinate_jobs"))


@pytest.fixture
def client(app, session):
    return app.test_client()


class ApiClient:
    """A test client acting as one user through a Bearer token (no CSRF needed)."""

    def __init__(self, app, user=None):
        self.user = user
        self._client = app.test_client()
        self._headers = {}
        if user is not None:
            _, plain = accounts.issue_token(user, "test")
            self._headers["Authorization"] = f"Bearer {plain}"

    def open(self, method, url, **kwargs):
        headers = {**self._headers, **kwargs.pop("headers", {})}
        return self._client.open(url, method=method, headers=headers, **kwargs)

    def get(self, url, **kw):
        return self.open("GET", url, **kw)

    def post(self, url, json=None, **kw):
        return self.open("POST", url, json={} if json is None else json, **kw)

    def patch(self, url, json=None, **kw):
        return self.open("PATCH", url, json=json, **kw)

    def put(self, url, json=None, **kw):
        return self.open("PUT", url, json=json, **kw)

    def delete(self, url, **kw):
        return self.open("DELETE", url, **kw)


class Factory:
    """Makes users in each role through the real services."""

    def __init__(self, app):
        self.app = app
        self._n = 0

    def _next(self, prefix):
        self._n += 1
        return f"{prefix}{self._n}-{uuid.uuid4().hex[:6]}"

    def worker(self, name=None):
        name = name or self._next("worker")
        return self._verified(accounts.register(f"{name}@example.org", PASSWORD, name, "worker"))

    @staticmethod
    def _verified(user):
        # People in tests followed their verification link, so email on (smtp_server) requires nothing more.
        accounts.mark_email_verified(user)
        return user

    def unverified_worker(self, name=None):
        """A worker who has not followed the verification link."""
        name = name or self._next("worker")
        return accounts.register(f"{name}@example.org", PASSWORD, name, "worker")

    def member(self, name=None):
        """A member whose share arrived by a transfer, recorded the way founders' shares are."""
        user = self.worker(name or self._next("member"))
        governance.admit_founder(user, f"test transfer {user.id}")
        return user

    def coordinator(self, name=None):
        user = self.member(name or self._next("coord"))
        accounts.set_roles(user, coordinator=True)
        return user

    def requester(self, name=None):
        name = name or self._next("requester")
        return self._verified(accounts.register(f"{name}@example.org", PASSWORD, name, "requester", f"{name} Ltd"))

    def client(self, user=None) -> ApiClient:
        return ApiClient(self.app, user)


@pytest.fixture
def make(app, session):
    return Factory(app)


@pytest.fixture
def anon(make):
    return make.client()


@pytest.fixture
def as_worker(make):
    return make.client(make.worker())


@pytest.fixture
def as_member(make):
    return make.client(make.member())


@pytest.fixture
def as_coordinator(make):
    return make.client(make.coordinator())


@pytest.fixture
def as_requester(make):
    return make.client(make.requester())


class PageClient:
    """A browser as the pages see it: a session cookie, and every form posted with its CSRF token."""

    def __init__(self, app, user=None, lang=None):
        self.user = user
        self._client = app.test_client()
        self._headers = {"Accept-Language": lang} if lang else {}
        if user is not None:
            response = self.post("/sign-in", {"email": user.email, "password": PASSWORD})
            assert response.status_code == 303, response.get_data(as_text=True)

    def csrf_token(self) -> str:
        return self._client.get("/api/v1/auth/csrf").get_json()["csrf_token"]

    def get(self, url, **kw):
        return self._client.get(url, headers={**self._headers, **kw.pop("headers", {})}, **kw)

    def post(self, url, data=None, csrf=True, **kw):
        form = dict(data or {})
        if csrf:
            form.setdefault("csrf_token", self.csrf_token())
        return self._client.post(url, data=form, headers={**self._headers, **kw.pop("headers", {})}, **kw)


@pytest.fixture
def pages(app, session):
    """`pages(user=None, lang=None)`: a PageClient, signed in as `user` when given."""
    return lambda user=None, lang=None: PageClient(app, user, lang)


class QueryCounter:
    def __init__(self):
        self.statements: list[str] = []

    def __call__(self, conn, cursor, statement, parameters, context, executemany):
        self.statements.append(statement)

    @property
    def count(self) -> int:
        # The unit of work's own BEGIN/SAVEPOINT bookkeeping is not a query of the page.
        return sum(1 for s in self.statements if not s.lstrip().upper().startswith(("SAVEPOINT", "RELEASE", "BEGIN")))


@pytest.fixture
def count_queries(app, session):
    """`with count_queries() as counted:` ... `counted.count`: the SQL statements sent inside the block."""
    import contextlib

    @contextlib.contextmanager
    def counting():
        counter = QueryCounter()
        sa.event.listen(db.engine, "before_cursor_execute", counter)
        try:
            yield counter
        finally:
            sa.event.remove(db.engine, "before_cursor_execute", counter)

    return counting


class Mailbox:
    """What a real SMTP server (aiosmtpd, on a free port) received: `messages` as email.message objects."""

    def __init__(self):
        self.messages: list = []

    async def handle_DATA(self, server, session, envelope):
        import email
        from email import policy

        self.messages.append(email.message_from_bytes(envelope.content, policy=policy.default))
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list:
        return [m for m in self.messages if m["To"] == address]


@pytest.fixture
def smtp_server(app):
    """A real SMTP server for the test; the app sends to it (COOP_SMTP_URL) until the test ends."""
    import socket

    from aiosmtpd.controller import Controller

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    before = app.config.get("COOP_SMTP_URL")
    app.config["COOP_SMTP_URL"] = f"smtp://127.0.0.1:{port}"
    try:
        yield mailbox
    finally:
        app.config["COOP_SMTP_URL"] = before
        controller.stop()
