"""What callers send: bounded bodies read as JSON, bounded nesting and numbers, cursors that were given out."""

import base64
import io
import json

import pytest

from coop.fields import MAX_CENTS, MAX_INT
from coop.parsing import MAX_JSON_DEPTH, NUMBER_MESSAGE
from tests.security.conftest import World
from tests.test_errors import assert_error_shape

V1 = "/api/v1"
REGISTER = f"{V1}/auth/register"


def _registration(name="newcomer"):
    return {"email": f"{name}@example.org", "password": "correct-horse-battery", "display_name": name, "kind": "worker"}


def _nested(depth: int, leaf="x") -> str:
    """A JSON text of `depth` nested arrays around `leaf`."""
    return "[" * depth + json.dumps(leaf) + "]" * depth


@pytest.fixture
def world(make):
    return World(make)


@pytest.fixture
def small_bodies(app):
    limit = app.config["COOP_MAX_BODY_BYTES"]
    app.config["COOP_MAX_BODY_BYTES"] = 2_000
    yield 2_000
    app.config["COOP_MAX_BODY_BYTES"] = limit


# --- size -------------------------------------------------------------------------------


def test_bodies_are_bounded_at_one_mebibyte_by_default(app):
    assert app.config["COOP_MAX_BODY_BYTES"] == 1_048_576


def test_a_body_over_the_limit_is_a_json_413_naming_the_limit(client, small_bodies):
    response = client.post(REGISTER, json={**_registration(), "organization": "x" * 3_000})
    assert_error_shape(response, 413)
    assert "2000" in response.json["message"]


def test_a_declared_length_over_the_limit_is_refused_before_the_body_is_read(as_member, small_bodies):
    # The body sent is tiny: only its Content-Length can have refused it.
    response = as_member.open(
        "POST",
        f"{V1}/proposals",
        data=b"{}",
        content_type="application/json",
        environ_overrides={"CONTENT_LENGTH": "2001"},
    )
    assert_error_shape(response, 413)


def test_a_chunked_body_without_a_length_is_cut_off_at_the_limit(as_member, small_bodies):
    body = json.dumps({"title": "t" * 3_000, "body": "b", "kind": "general", "method": "yes_no"}).encode()
    response = as_member.open(
        "POST",
        f"{V1}/proposals",
        input_stream=io.BytesIO(body),
        content_type="application/json",
        headers={"Transfer-Encoding": "chunked"},
        environ_overrides={"wsgi.input_terminated": True},
    )
    assert_error_shape(response, 413)
    small = json.dumps({"title": "Meet", "body": "b", "kind": "general", "method": "yes_no"}).encode()
    response = as_member.open(
        "POST",
        f"{V1}/proposals",
        input_stream=io.BytesIO(small),
        content_type="application/json",
        headers={"Transfer-Encoding": "chunked"},
        environ_overrides={"wsgi.input_terminated": True},
    )
    assert response.status_code == 201, response.get_json()


# --- reading the body as JSON -------------------------------------------------------------


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/x-www-form-urlencoded"])
def test_a_json_body_is_read_as_json_whatever_its_content_type(client, content_type, session):
    headers = {"Content-Type": content_type} if content_type else {}
    response = client.post(REGISTER, data=json.dumps(_registration(f"plain{bool(content_type)}")), headers=headers)
    assert response.status_code == 201, response.get_json()


@pytest.mark.parametrize(
    "body", [b'{"email": ', b"email=a@example.org&password=x", b'{"a": NaN}', b'{"a": Infinity}', b'"\xff"']
)
def test_a_body_that_is_not_json_is_400_saying_so(client, body):
    response = client.post(REGISTER, data=body, content_type="application/json")
    assert_error_shape(response, 400)
    assert "not valid JSON" in response.json["message"]


@pytest.mark.parametrize("url", [REGISTER, f"{V1}/auth/token", f"{V1}/auth/login"])
def test_json_nested_thousands_deep_is_refused_without_signing_in(client, url):
    response = client.post(url, data='{"email": ' + _nested(5_000) + "}", content_type="application/json")
    assert_error_shape(response, 400)
    assert str(MAX_JSON_DEPTH) in response.json["message"]


def test_json_nested_deeper_than_the_bound_is_refused_for_members_too(as_member):
    data = {"title": "Deep", "body": "x", "kind": "general", "method": "yes_no", "change": {}}
    text = json.dumps(data).replace('"change": {}', '"change": ' + _nested(2_000))
    response = as_member.open("POST", f"{V1}/proposals", data=text, content_type="application/json")
    assert_error_shape(response, 400)


def test_nesting_up_to_the_bound_is_read(client):
    # The body object is one level; an organization of 31 arrays makes 32: read, then refused as not text.
    body = json.dumps(_registration()).replace('"kind"', '"organization": ' + _nested(MAX_JSON_DEPTH - 1) + ', "kind"')
    response = client.post(REGISTER, data=body, content_type="application/json")
    assert_error_shape(response, 422)
    assert "organization" in response.json["errors"]
    deeper = body.replace(_nested(MAX_JSON_DEPTH - 1), _nested(MAX_JSON_DEPTH))
    assert_error_shape(client.post(REGISTER, data=deeper, content_type="application/json"), 400)


def test_brackets_inside_strings_do_not_count_as_nesting(client):
    response = client.post(REGISTER, json={**_registration("brackets"), "organization": "[{" * 60})
    assert response.status_code == 201, response.get_json()


def test_a_number_too_large_for_any_column_is_422_naming_its_place(world, session):
    assignment = world.assignment("claimed")
    response = world.client("member").open(
        "POST",
        f"{V1}/assignments/{assignment.id}/submit",
        data='{"answer": {"boxes": [1, 1e400]}}',
        content_type="application/json",
    )
    assert_error_shape(response, 422)
    assert response.json["errors"] == {"answer": {"boxes": {"1": [NUMBER_MESSAGE]}}}


# --- cursors ------------------------------------------------------------------------------


def _cursor(values) -> str:
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "values",
    [
        [2**70],
        [-(2**70)],
        [2**63],
        [1.5],
        [True],
        ["12"],
        [None],
        [[1]],
        [{"dt": "2024-01-01T00:00:00+00:00"}],
        [],
    ],
    ids=repr,
)
def test_a_forged_cursor_over_an_id_is_422_never_500(as_member, values):
    response = as_member.get(f"{V1}/proposals", query_string={"cursor": _cursor(values)})
    assert_error_shape(response, 422)
    assert "cursor" in response.json["errors"]


@pytest.mark.parametrize(
    "values",
    [
        [{"dt": "2024-01-01T00:00:00"}, 1],  # no time zone
        [{"dt": "0001-01-01T00:00:00+01:00"}, 1],  # before the calendar begins in UTC
        [{"dt": "yesterday"}, 1],
        ["2024-01-01T00:00:00+00:00", 1],
        [{"dt": "2024-01-01T00:00:00+00:00"}, 2**40],
    ],
    ids=repr,
)
def test_a_forged_cursor_over_a_time_is_422_never_500(world, values):
    board = world.board("public")
    response = world.client("member").get(
        f"{V1}/forum/boards/{board.id}/threads", query_string={"cursor": _cursor(values)}
    )
    assert_error_shape(response, 422)
    assert "cursor" in response.json["errors"]


def test_a_cursor_longer_than_any_given_out_is_422(as_member):
    response = as_member.get(f"{V1}/audit", query_string={"cursor": _cursor(["x" * 1_000])})
    assert_error_shape(response, 422)
    assert "cursor" in response.json["errors"]


def test_cursors_given_out_still_page(world):
    board = world.board("public")
    for _ in range(3):
        world.thread(board="public")
    client = world.client("member")
    first = client.get(f"{V1}/forum/boards/{board.id}/threads", query_string={"limit": 2}).get_json()
    second = client.get(
        f"{V1}/forum/boards/{board.id}/threads", query_string={"limit": 2, "cursor": first["next_cursor"]}
    )
    assert second.status_code == 200
    assert not {t["id"] for t in first["items"]} & {t["id"] for t in second.get_json()["items"]}


# --- bounds on numbers ----------------------------------------------------------------------


def _integers_sent(spec: dict):
    """Every integer a caller can send, by where: request body properties (nested too) and query parameters."""

    def resolve(schema):
        while "$ref" in schema:
            schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
        return schema

    def walk(schema, where):
        schema = resolve(schema)
        if schema.get("type") == "integer":
            yield where, schema
        for name, sub in schema.get("properties", {}).items():
            if not sub.get("readOnly"):
                yield from walk(sub, f"{where}.{name}")
        if "items" in schema:
            yield from walk(schema["items"], f"{where}[]")

    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            body = operation.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
            if body:
                yield from walk(body, f"{method.upper()} {path} body")
            for parameter in operation.get("parameters", []):
                if "$ref" in parameter:  # shared parameters, e.g. the Idempotency-Key header
                    parameter = spec["components"]["parameters"][parameter["$ref"].rsplit("/", 1)[1]]
                if parameter["in"] == "query":
                    yield from walk(parameter["schema"], f"{method.upper()} {path} ?{parameter['name']}")


def test_every_integer_a_caller_sends_has_an_upper_bound_a_column_holds(client):
    spec = client.get("/api/openapi.json").get_json()
    integers = list(_integers_sent(spec))
    assert len(integers) > 10
    unbounded = [where for where, schema in integers if schema.get("maximum") is None]
    assert not unbounded, f"Bound these with coop.fields.Cents or Count: {unbounded}"
    too_large = [where for where, schema in integers if schema["maximum"] > max(MAX_CENTS, MAX_INT)]
    assert not too_large


@pytest.mark.parametrize("amount, status", [(2**70, 422), (MAX_CENTS + 1, 422), (MAX_CENTS, 201)])
def test_a_surplus_proposal_amount_is_bounded(as_member, amount, status):
    response = as_member.post(
        f"{V1}/proposals",
        json={
            "title": "Share the surplus",
            "body": "Pay it out.",
            "kind": "surplus",
            "method": "yes_no",
            "change": {"amount_cents": amount, "period_start": "2024-01-01", "period_end": "2024-12-31"},
        },
    )
    assert response.status_code == status, response.get_json()
    if status == 422:
        assert "amount_cents" in response.json["errors"]["change"]


@pytest.mark.parametrize("amount", [2**70, MAX_CENTS + 1])
def test_a_deposit_beyond_the_money_bound_is_422_naming_the_amount(as_requester, amount):
    response = as_requester.post(f"{V1}/deposits", json={"amount_cents": amount})
    assert_error_shape(response, 422)
    assert "amount_cents" in response.json["errors"]


def test_voting_days_and_a_median_value_beyond_an_integer_column_are_422(world):
    proposal = world.proposal()
    response = world.client("coordinator").post(
        f"{V1}/proposals/{proposal.id}/review", json={"action": "accept", "voting_days": 2**40}
    )
    assert_error_shape(response, 422)
    assert "voting_days" in response.json["errors"]
    response = world.client("member").post(f"{V1}/proposals/{proposal.id}/ballot", json={"value": 2**40})
    assert_error_shape(response, 422)
    assert "value" in response.json["errors"]
