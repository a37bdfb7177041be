"""Text no database can store, in any string of any request: 422 naming the field, never a 500.

Driven by the OpenAPI spec. For every operation with a JSON body, each string its schema can
hold (a property, an array's items, a string inside a free-form object such as item data,
an answer or a terms change) gets a NUL character, then a lone surrogate, on top of the
valid body the authorization matrix sends as a caller who may use the route; the answer
must be 422 with the field's path in `errors`. Query strings likewise (NUL; a URL cannot carry a lone surrogate); in a path, NUL names nothing.
PostgreSQL refuses both characters in text and in JSONB, so run this suite there too.
"""

import copy

import pytest

from coop.parsing import NUL_MESSAGE, SURROGATE_MESSAGE
from tests.security.test_authorization import MATRIX, SETUP, _first_allowed, _only_fields

UNSTORABLE = {"\x00": NUL_MESSAGE, "\ud800": SURROGATE_MESSAGE}
CHANGES = [route for route in MATRIX if route.split(" ", 1)[0] in ("POST", "PUT", "PATCH")]
READS = [route for route in MATRIX if route.startswith("GET ")]


@pytest.fixture(scope="module")
def spec(app):
    return app.test_client().get("/api/openapi.json").get_json()


def _resolve(schema: dict, spec: dict) -> dict:
    while "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def string_paths(schema: dict, spec: dict, path: tuple = ()):
    """Every place in a body of `schema` where the caller may put a string, as a path of keys and indexes."""
    schema = _resolve(schema, spec)
    kind = schema.get("type")
    if kind == "string":
        yield path
    elif kind == "array":
        yield from string_paths(schema.get("items", {}), spec, (*path, 0))
    elif kind == "object" or "properties" in schema:
        properties = {k: v for k, v in schema.get("properties", {}).items() if not v.get("readOnly")}
        if not properties and path:
            yield (*path, "note")  # a free-form JSON value: any string inside it
        for name, sub in properties.items():
            yield from string_paths(sub, spec, (*path, name))


def with_value(body, path: tuple, value):
    """A copy of `body` holding `value` at `path`, making the containers on the way."""
    body = copy.deepcopy(body) if body is not None else {}
    node = body
    for key, following in zip(path, path[1:], strict=False):
        empty = [] if isinstance(following, int) else {}
        if isinstance(node, list):
            if not node:
                node.append(empty)
            elif not isinstance(node[key], type(empty)):
                node[key] = empty
            node = node[key]
        else:
            if not isinstance(node.get(key), type(empty)):
                node[key] = empty
            node = node[key]
    if isinstance(node, list):
        node[:1] = [value]
    else:
        node[path[-1]] = value
    return body


def error_at(errors: dict, path: tuple):
    node = errors
    for key in path:
        node = node[str(key)]
    return node


@pytest.mark.parametrize("route", CHANGES)
def test_unstorable_text_in_any_string_of_a_body_is_422_naming_the_field(world, spec, route):
    method, path = route.split(" ", 1)
    operation = spec["paths"][path][method.lower()]
    if "requestBody" not in operation:
        return  # an action without fields (join, cosign, retract...) never reads a body
    role = _first_allowed(route)
    world.caller = world.user(role)
    params, body = SETUP.get(route, lambda w: ({}, None))(world)
    body = _only_fields(route, body)
    schema = operation["requestBody"]["content"]["application/json"]["schema"]
    paths = list(string_paths(schema, spec))  # none for bodies of numbers only, e.g. a deposit
    client = world.client(role)
    for field in paths:
        for char, message in UNSTORABLE.items():
            response = client.open(method, path.format(**params), json=with_value(body, field, f"a{char}b"))
            assert response.status_code == 422, (field, char, response.status_code, response.get_json())
            assert error_at(response.get_json()["errors"], field) == [message], (field, response.get_json())


@pytest.mark.parametrize("route", READS)
def test_unstorable_text_in_a_query_parameter_is_422_naming_it(world, spec, route):
    method, path = route.split(" ", 1)
    names = [
        p["name"]
        for p in spec["paths"][path]["get"].get("parameters", [])
        if p["in"] == "query" and _resolve(p["schema"], spec).get("type") == "string"
    ]
    role = _first_allowed(route)
    world.caller = world.user(role)
    params, _ = SETUP.get(route, lambda w: ({}, None))(world)
    client = world.client(role)
    # A URL cannot carry a lone surrogate (its bytes decode to U+FFFD); a NUL it can.
    for name in names:
        response = client.get(path.format(**params), query_string={name: "a\x00b"})
        assert response.status_code == 422, (name, response.get_json())
        assert response.get_json()["errors"][name] == [NUL_MESSAGE]


def test_a_nul_character_in_a_path_segment_names_nothing(world):
    response = world.client("member").get("/api/v1/rules/forum%00rules")
    assert response.status_code == 404 and response.get_json()["message"]


def test_the_walk_reaches_every_body_that_takes_text(spec):
    # Guards the test above: if the spec stopped describing bodies, it would pass without checking.
    with_text = [
        route
        for route in CHANGES
        if "requestBody" in spec["paths"][route.split(" ", 1)[1]][route.split(" ", 1)[0].lower()]
    ]
    assert len(with_text) >= 25
    submit = spec["paths"]["/api/v1/assignments/{assignment_id}/submit"]["post"]
    assert ("answer", "note") in set(string_paths(submit["requestBody"]["content"]["application/json"]["schema"], spec))


def test_a_bad_key_and_a_bad_value_in_one_object_are_both_reported(world):
    from coop.parsing import KEY_MESSAGE, NUL_MESSAGE, unstorable

    # The key's error first, then a value's inside the same object...
    first = unstorable({"data": {"a\x00": 1, "b": "c\x00"}})
    assert first == {"data": {"_schema": [KEY_MESSAGE], "b": [NUL_MESSAGE]}}
    # ...or the value's first, then the key's.
    later = unstorable({"data": {"b": "c\x00", "a\x00": 1}})
    assert later == {"data": {"b": [NUL_MESSAGE], "_schema": [KEY_MESSAGE]}}
    nested = unstorable({"data": {"b": {"c": "\x00"}, "b\x00": 1}})
    assert nested == {"data": {"b": {"c": [NUL_MESSAGE]}, "_schema": [KEY_MESSAGE]}}
