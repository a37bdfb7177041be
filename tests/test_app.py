"""The app's request plumbing: what every request pays for, and what it is spared."""

from coop.extensions import _endpoint_without_limits


def test_the_limiter_skips_endpoints_without_limits_only(app, session):
    def skipped(path, method):
        with app.test_request_context(path, method=method):
            return _endpoint_without_limits()

    assert skipped("/api/v1/batches/1/claim", "POST") is True
    assert skipped("/api/v1/assignments/1/submit", "POST") is True
    # Sign-in is limited per address and per account; messages per author.
    assert skipped("/api/v1/auth/login", "POST") is False
    assert skipped("/api/v1/assignments/1/messages", "POST") is False


def test_a_request_with_a_token_and_no_cookie_gets_no_cookie(as_member):
    response = as_member.get("/api/v1/me")
    assert response.status_code == 200
    assert "Set-Cookie" not in response.headers


def test_a_cookie_session_still_opens(client, make):
    member = make.member()
    signed_in = client.post("/api/v1/auth/login", json={"email": member.email, "password": "correct-horse-battery"})
    assert signed_in.status_code == 200 and "Set-Cookie" in signed_in.headers
    assert client.get("/api/v1/me").json["id"] == member.id
