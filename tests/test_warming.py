"""A worker warms up before serving: its first claim and submit build nothing a later one would not."""

import pytest

from coop import create_app, driver
from coop.accounts import services as accounts
from coop.extensions import db
from coop.governance.services import terms as terms_services
from coop.loading import url_object_source
from coop.marketplace.services import work
from tests.marketplace.conftest import Market


@pytest.fixture
def market(make):
    return Market(make)


@pytest.fixture
def compiles(monkeypatch):
    """The driver statements compiled while the test runs."""
    seen = []
    compile_once = driver.DriverStatement._compile

    def recorded(statement, dialect):
        seen.append(statement)
        return compile_once(statement, dialect)

    monkeypatch.setattr(driver.DriverStatement, "_compile", recorded)
    return seen


def _as_a_new_worker():
    # A new worker starts with none of the statements built; what other tests built is dropped.
    for built in (work._claim_statement, work._submit_statement, accounts._token_statement):
        built.cache_clear()


def test_a_warmed_up_worker_compiles_nothing_for_its_first_claim_and_submit(market, app, compiles, postgres_only):
    batch = market.post(items=3)
    _as_a_new_worker()
    assert app.warm_up() is True
    assert compiles, "warming up compiled the statements"
    compiles.clear()
    assignment = market.claim(market.mc[0], batch["id"])
    market.submit(market.mc[0], assignment["id"])
    assert compiles == []


def test_without_warming_up_the_first_claim_compiles_its_statements(market, compiles, postgres_only):
    # What the test above guards against: the work is real, and lands on the first requests.
    batch = market.post(items=3)
    _as_a_new_worker()
    assignment = market.claim(market.mc[0], batch["id"])
    market.submit(market.mc[0], assignment["id"])
    assert {work._claim_statement(), work._submit_statement()} <= set(compiles)


def test_warming_up_prepares_sign_in_for_every_kind_of_view(app, session):
    _as_a_new_worker()
    assert app.warm_up() is True
    terms = terms_services.terms_in_force_source()
    plain = accounts.token_statement(terms)
    assert plain.is_prepared(db.engine.dialect)
    marked = {view.read_with_caller for view in app.view_functions.values() if hasattr(view, "read_with_caller")}
    assert marked, "some view reads its URL object with the caller"
    for model, view_arg in marked:
        statement = accounts.token_statement(terms, url_object_source(model, view_arg))
        assert statement.is_prepared(db.engine.dialect), (model, view_arg)


def test_warming_up_opens_the_connection_the_first_request_will_use(database_url, tmp_path, monkeypatch):
    monkeypatch.setenv("COOP_INSTANCE_PATH", str(tmp_path))
    fresh = create_app({"ENV_NAME": "testing", "SQLALCHEMY_DATABASE_URI": database_url})
    with fresh.app_context():
        try:
            assert db.engine.pool.checkedin() == 0
            assert fresh.warm_up() is True
            assert db.engine.pool.checkedin() == 1
        finally:
            db.engine.dispose()


def test_a_worker_whose_database_cannot_be_reached_still_starts(tmp_path, monkeypatch):
    monkeypatch.setenv("COOP_INSTANCE_PATH", str(tmp_path))
    # Port 1 on the loopback: nothing listens, so the connection is refused at once.
    unreachable = create_app(
        {"ENV_NAME": "testing", "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://coop@127.0.0.1:1/coop"}
    )
    assert unreachable.warm_up() is False
