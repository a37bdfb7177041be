"""The permission layer: 401 without a user, 403 without the role."""

import pytest

from coop.accounts.permissions import ensure, has_role, require
from coop.errors import Forbidden, Unauthorized


@pytest.mark.parametrize(
    "role, who, allowed",
    [
        ("member", "worker", False),
        ("member", "member", True),
        ("member", "requester", False),
        ("coordinator", "member", False),
        ("coordinator", "coordinator", True),
        ("requester", "requester", True),
        ("requester", "member", False),
        ("worker", "worker", True),
        ("worker", "requester", False),
    ],
)
def test_has_role(make, role, who, allowed):
    user = getattr(make, who)()
    assert has_role(user, role) is allowed


def test_require_raises_401_then_403(app, make):
    @require("coordinator")
    def view():
        return "ok"

    with app.test_request_context("/"), pytest.raises(Unauthorized):
        view()
    member = make.member()
    with app.test_request_context("/"):
        from flask import g

        g._login_user = member
        with pytest.raises(Forbidden):
            view()


def test_ensure_refuses_with_the_message():
    with pytest.raises(Forbidden, match="not yours"):
        ensure(False, "not yours")
    ensure(True, "fine")


def test_anonymous_request_is_refused_before_its_body_is_read(client):
    # An invalid body would be a 422 for a signed-in caller; anonymous callers learn nothing from it.
    response = client.post("/api/v1/batches", json={"title": 7})
    assert response.status_code == 401


def test_unknown_api_url_is_still_404_for_anonymous_callers(client):
    assert client.get("/api/v1/nowhere").status_code == 404
