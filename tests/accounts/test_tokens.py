"""API tokens: optional expiry, last use recorded to the minute."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from coop import clock
from coop.accounts.models import ApiToken
from coop.extensions import db
from tests.conftest import PASSWORD


@pytest.fixture
def issue(client, make):
    """Create a token through the API for a new worker; returns (response, bearer headers)."""

    def issue(**body):
        user = make.worker()
        response = client.post("/api/v1/auth/token", json={"email": user.email, "password": PASSWORD, **body})
        headers = {"Authorization": f"Bearer {response.json['token']}"} if response.status_code == 201 else None
        return response, headers

    return issue


def stored(session, token_id) -> ApiToken:
    return session.scalar(sa.select(ApiToken).where(ApiToken.id == token_id).execution_options(populate_existing=True))


def test_a_token_may_expire_after_a_number_of_days(frozen_clock, client, issue):
    response, headers = issue(name="ci", expires_in_days=30)
    assert response.status_code == 201
    expires_at = clock.now() + timedelta(days=30)
    assert response.json["expires_at"] == expires_at.isoformat()
    listed = client.get("/api/v1/auth/tokens", headers=headers).json
    assert listed[0]["expires_at"] == expires_at.isoformat()

    clock.advance(timedelta(days=30) - timedelta(seconds=1))
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    clock.advance(timedelta(seconds=1))
    refused = client.get("/api/v1/me", headers=headers)
    assert refused.status_code == 401
    assert "expired" in refused.json["message"] and "POST /api/v1/auth/token" in refused.json["message"]


def test_a_token_without_expiry_lives_until_revoked(frozen_clock, client, issue):
    response, headers = issue()
    assert response.status_code == 201 and response.json["expires_at"] is None
    clock.advance(timedelta(days=3651))
    assert client.get("/api/v1/me", headers=headers).status_code == 200


@pytest.mark.parametrize(
    "days, message",
    [(0, "1 to 3650"), (3651, "1 to 3650"), (-1, "1 to 3650"), (1.5, "integer"), ("30", "integer"), (True, "integer")],
)
def test_expiry_must_be_a_whole_number_of_days_up_to_ten_years(session, issue, days, message):
    before = session.scalar(sa.select(sa.func.count()).select_from(ApiToken))
    response, _ = issue(expires_in_days=days)
    assert response.status_code == 422
    assert set(response.json["errors"]) == {"expires_in_days"}
    assert message in " ".join(response.json["errors"]["expires_in_days"])
    assert session.scalar(sa.select(sa.func.count()).select_from(ApiToken)) == before


def test_the_longest_expiry_is_accepted(frozen_clock, issue):
    response, _ = issue(expires_in_days=3650)
    assert response.status_code == 201
    assert response.json["expires_at"] == (clock.now() + timedelta(days=3650)).isoformat()


def test_last_use_is_written_at_most_once_a_minute(frozen_clock, client, issue, session):
    response, headers = issue()
    token_id = response.json["id"]
    assert response.json["last_used_at"] is None
    first_use = clock.now()
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    assert stored(session, token_id).last_used_at == first_use

    clock.advance(timedelta(seconds=59))
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    assert stored(session, token_id).last_used_at == first_use

    clock.advance(timedelta(seconds=1))
    listed = client.get("/api/v1/auth/tokens", headers=headers).json
    assert listed[0]["last_used_at"] == (first_use + timedelta(seconds=60)).isoformat()


def test_a_busy_token_writes_its_last_use_once_not_on_every_request(frozen_clock, client, issue):
    _, headers = issue()
    writes = []

    def record(conn, cursor, statement, *args):
        if statement.lstrip().upper().startswith("UPDATE") and "api_tokens" in statement:
            writes.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", record)
    try:
        for _ in range(5):
            assert client.get("/api/v1/me", headers=headers).status_code == 200
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", record)
    assert len(writes) == 1


def test_a_refused_request_still_counts_as_a_use_of_the_token(frozen_clock, client, issue, session):
    response, headers = issue()
    refused = client.get("/api/v1/batches/999999", headers=headers)
    assert refused.status_code in (403, 404)
    assert stored(session, response.json["id"]).last_used_at == clock.now()
