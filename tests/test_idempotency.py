"""Idempotency-Key: a repeated POST gets its first answer and changes nothing; a reused key is refused."""

import json
from datetime import timedelta

import psycopg
import pytest
import sqlalchemy as sa
from sqlalchemy import exc as sa_exc

from coop import clock, idempotency
from coop.extensions import db
from coop.idempotency import IdempotencyKey
from coop.marketplace import services as marketplace
from coop.marketplace.models import Batch
from tests.conftest import PASSWORD
from tests.marketplace.conftest import batch_body, fund, snapshot
from tests.test_unit_of_work import FailingFirst, db_error

KEY = "4f2a9c1e-7d3b-4e8a-9b1c-0d5e6f7a8b9c"


@pytest.fixture
def requester(make):
    user = make.requester()
    fund(user, 10_000)
    return user


@pytest.fixture
def as_funded(make, requester):
    return make.client(requester)


def post_batch(client, key=KEY, **overrides):
    return client.post("/api/v1/batches", json=batch_body(**overrides), headers={"Idempotency-Key": key})


def batches_of(session, user):
    return session.scalar(sa.select(sa.func.count()).select_from(Batch).where(Batch.requester_id == user.id))


def keys(session):
    return session.scalar(sa.select(sa.func.count()).select_from(IdempotencyKey))


def test_a_repeat_gets_the_first_answer_and_moves_no_money(as_funded, requester, session):
    first = post_batch(as_funded)
    assert first.status_code == 201, first.get_json()
    assert "Idempotent-Replayed" not in first.headers
    books = snapshot(requester)

    again = post_batch(as_funded)
    assert again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.get_data() == first.get_data()
    assert batches_of(session, requester) == 1
    assert snapshot(requester) == books


def test_the_same_json_spelled_differently_is_the_same_request(as_funded, requester, session):
    body = batch_body()
    first = as_funded.post("/api/v1/batches", json=body, headers={"Idempotency-Key": KEY})
    assert first.status_code == 201
    respelled = json.dumps(dict(reversed(list(body.items()))), indent=2)
    again = as_funded.open(
        "POST", "/api/v1/batches", data=respelled, headers={"Idempotency-Key": KEY, "Content-Type": "application/json"}
    )
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert batches_of(session, requester) == 1


def test_a_key_quoted_as_a_structured_field_string_is_the_same_key(as_funded, requester, session):
    assert post_batch(as_funded).status_code == 201
    again = post_batch(as_funded, key=f'"{KEY}"')
    assert again.headers["Idempotent-Replayed"] == "true"
    assert batches_of(session, requester) == 1


def test_the_same_key_for_another_request_is_refused_with_422(as_funded, requester, session):
    assert post_batch(as_funded).status_code == 201
    books = snapshot(requester)

    other_body = post_batch(as_funded, title="Another batch")
    assert other_body.status_code == 422
    assert "Idempotency-Key" in other_body.get_json()["errors"]
    other_path = as_funded.post("/api/v1/deposits", json={"amount_cents": 100}, headers={"Idempotency-Key": KEY})
    assert other_path.status_code == 422
    assert batches_of(session, requester) == 1
    assert snapshot(requester) == books


def test_another_users_same_key_is_their_own(make, as_funded, session):
    other = make.requester()
    fund(other, 10_000)
    first = post_batch(as_funded)
    theirs = post_batch(make.client(other))
    assert theirs.status_code == 201
    assert "Idempotent-Replayed" not in theirs.headers
    assert theirs.get_json()["id"] != first.get_json()["id"]
    assert batches_of(session, other) == 1


def test_a_refusal_records_no_key_so_the_repeat_runs_afresh(make, session):
    poor = make.requester()
    client = make.client(poor)
    refused = post_batch(client)
    assert refused.status_code == 409, refused.get_json()
    assert keys(session) == 0

    fund(poor, 10_000)
    accepted = post_batch(client)
    assert accepted.status_code == 201
    assert "Idempotent-Replayed" not in accepted.headers


def test_a_change_rolled_back_by_a_503_records_no_key(as_funded, requester, session, monkeypatch):
    lost = FailingFirst(marketplace.create_batch, *[db_error(psycopg.errors.SerializationFailure("lost"))] * 2)
    monkeypatch.setattr(marketplace, "create_batch", lost)
    assert post_batch(as_funded).status_code == 503
    assert keys(session) == 0
    assert batches_of(session, requester) == 0

    accepted = post_batch(as_funded)
    assert accepted.status_code == 201 and "Idempotent-Replayed" not in accepted.headers
    assert batches_of(session, requester) == 1


def test_the_key_is_stored_with_the_change_it_answered(as_funded, requester, session):
    response = post_batch(as_funded)
    record = session.scalar(sa.select(IdempotencyKey))
    assert (record.user_id, record.key, record.method, record.path, record.status_code) == (
        requester.id,
        KEY,
        "POST",
        "/api/v1/batches",
        201,
    )
    assert record.body == response.get_data(as_text=True)
    assert len(record.fingerprint) == 64


@pytest.mark.parametrize("key", ["", "   ", "k" * 256, "caf\u00e9-key"])
def test_an_unusable_key_is_refused_with_400_and_nothing_done(as_funded, requester, session, key):
    response = as_funded.post(
        "/api/v1/batches", json=batch_body(), headers={"Idempotency-Key": key.encode("utf-8").decode("latin-1")}
    )
    assert response.status_code == 400, response.get_json()
    assert "Idempotency-Key" in response.get_json()["errors"]
    assert batches_of(session, requester) == 0


def test_a_key_of_the_longest_length_is_accepted(as_funded):
    assert post_batch(as_funded, key="k" * idempotency.MAX_KEY_LENGTH).status_code == 201


def test_after_24_hours_the_key_is_forgotten_and_purged_by_the_tick(app, as_funded, requester, session, frozen_clock):
    assert post_batch(as_funded).status_code == 201
    clock.advance(timedelta(hours=24, seconds=1))
    fresh = post_batch(as_funded)
    assert fresh.status_code == 201 and "Idempotent-Replayed" not in fresh.headers
    assert batches_of(session, requester) == 2
    assert keys(session) == 1  # the expired record gave way to the new one

    clock.advance(timedelta(hours=25))
    result = app.test_cli_runner().invoke(args=["coop", "tick"])
    assert result.exit_code == 0, result.output
    assert "purged 1 expired idempotency key(s)" in result.output
    assert keys(session) == 0


def test_without_the_header_every_post_runs(as_funded, requester, session):
    for _ in range(2):
        assert as_funded.post("/api/v1/batches", json=batch_body()).status_code == 201
    assert batches_of(session, requester) == 2
    assert keys(session) == 0


def test_a_request_with_the_same_key_still_in_flight_is_refused_with_409(as_funded, requester, session, postgres_only):
    # The first request holds its key's lock until it commits; here another connection holds it.
    with db.engine.connect() as other:
        other.execute(
            sa.select(
                sa.func.pg_advisory_lock(
                    idempotency._IN_FLIGHT_LOCK_SPACE, idempotency.in_flight_lock(requester.id, KEY)
                )
            )
        )
        try:
            response = post_batch(as_funded)
        finally:
            other.execute(sa.select(sa.func.pg_advisory_unlock_all()))
    assert response.status_code == 409, response.get_json()
    assert batches_of(session, requester) == 0
    assert post_batch(as_funded).status_code == 201


def test_a_key_another_request_committed_first_is_refused_with_409(as_funded, requester, session, monkeypatch):
    # Where no lock marks a key in flight (SQLite), the unique key is what catches the second request.
    real_flush = session.flush

    def flush(*args, **kwargs):
        if any(isinstance(o, IdempotencyKey) for o in session.new):
            raise sa_exc.IntegrityError("INSERT INTO idempotency_keys", {}, Exception("UNIQUE constraint failed"))
        return real_flush(*args, **kwargs)

    monkeypatch.setattr(session, "flush", flush)
    response = post_batch(as_funded)
    assert response.status_code == 409, response.get_json()
    monkeypatch.undo()
    assert batches_of(session, requester) == 0


def test_the_spec_documents_the_header_on_signed_in_posts_only(client):
    spec = client.get("/api/openapi.json").get_json()
    assert spec["components"]["parameters"]["IdempotencyKey"]["in"] == "header"
    ref = {"$ref": "#/components/parameters/IdempotencyKey"}
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            if method == "parameters":
                continue
            documented = ref in operation.get("parameters", [])
            expected = method == "post" and operation.get("security") != []
            assert documented == expected, f"{method.upper()} {path}"


def test_signing_in_is_never_replayed(client, make, session):
    user = make.worker()
    for _ in range(2):  # the second time with the session cookie the first one set
        response = client.post(
            "/api/v1/auth/login", json={"email": user.email, "password": PASSWORD}, headers={"Idempotency-Key": KEY}
        )
        assert response.status_code == 200, response.get_json()
        assert "Idempotent-Replayed" not in response.headers
    assert keys(session) == 0
