"""Reading what callers send: the body's size, its JSON, and text a database cannot store.

Every route reads its input through one parser (the `Blueprint` below), so these rules hold
for every field of every schema and for every string inside free-form JSON values (item
data, answers, terms changes) without each schema repeating them.
"""

import json
import math
import re
from collections.abc import Mapping

import flask_smorest
import marshmallow as ma
from flask import Flask, Request, current_app
from flask_babel import gettext as _
from webargs import core
from webargs.flaskparser import FlaskParser

from coop.context import this_app, this_request
from coop.errors import PayloadTooLarge, Unreadable

# Deep enough for any body the API takes (a batch's item data included); bounded so that
# parsing, validating and storing a body never recurses without limit.
MAX_JSON_DEPTH = 32

NUL_MESSAGE = "Text cannot contain the NUL character (\\u0000); remove it."
SURROGATE_MESSAGE = "Text cannot contain a lone surrogate (\\ud800-\\udfff); send valid Unicode."
KEY_MESSAGE = "A key here holds a NUL character or a lone surrogate; remove it."
NUMBER_MESSAGE = "This number is too large to store."

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
_JSON_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_BRACKETS_ONLY = bytes(range(256)).translate(None, b"[]{}")


def json_depth(raw: bytes) -> int:
    """How deeply arrays and objects nest in a JSON text, counted without parsing it."""
    if raw.count(b"[") + raw.count(b"{") <= MAX_JSON_DEPTH:
        return 0  # too few brackets to nest too deep: skip the scan
    brackets = _JSON_STRING.sub(b"", raw).translate(None, _BRACKETS_ONLY)
    depth = deepest = 0
    for byte in brackets:
        depth += 1 if byte in b"[{" else -1
        deepest = max(deepest, depth)
    return deepest


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not a JSON value")


def read_json(raw: bytes):
    """The JSON value of a body (None when empty); Unreadable (400) for anything else."""
    if not raw.strip():
        return None
    if json_depth(raw) > MAX_JSON_DEPTH:
        raise Unreadable(
            _(
                "The body nests arrays and objects more than %(depth)s levels deep; flatten it.",
                depth=MAX_JSON_DEPTH,
            )
        )
    try:
        # NaN and Infinity are not JSON, and no database column stores them.
        return json.loads(raw, parse_constant=_refuse_constant)
    except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError and the refusals above
        raise Unreadable(
            _(
                "The body is not valid JSON (%(problem)s); send it as JSON, e.g. with 'Content-Type: application/json'.",
                problem=exc,
            )
        ) from None


def unstorable(value) -> dict:
    """Field errors, nested like marshmallow's, for each string or number in `value` no database stores."""
    errors: dict = {}

    def report(path: tuple, message: str) -> None:
        # A mapping may hold a bad key (reported at the mapping) and a bad value (reported inside
        # it): the mapping's own messages then go under "_schema" beside its children's.
        node = errors
        for key in path[:-1]:
            child = node.setdefault(str(key), {})
            if isinstance(child, list):
                child = node[str(key)] = {"_schema": child}
            node = child
        found = node.setdefault(str(path[-1]) if path else "_schema", [])
        (found.setdefault("_schema", []) if isinstance(found, dict) else found).append(message)

    def walk(node, path: tuple) -> None:
        if isinstance(node, str):
            found = _UNSTORABLE.search(node)
            if found:
                report(path, NUL_MESSAGE if found.group() == "\x00" else SURROGATE_MESSAGE)
        elif isinstance(node, float) and not math.isfinite(node):
            report(path, NUMBER_MESSAGE)
        elif isinstance(node, Mapping):
            for key, item in node.items():
                if isinstance(key, str) and _UNSTORABLE.search(key):
                    report(path, KEY_MESSAGE)
                else:
                    walk(item, (*path, key))
        elif isinstance(node, list | tuple):
            for index, item in enumerate(node):
                walk(item, (*path, index))

    walk(value, ())
    return errors


class CoopRequest(Request):
    """A request whose body is JSON whatever its Content-Type says, and whose size is bounded."""

    _coop_json: tuple | None = None

    # Werkzeug declares a settable attribute; a property reading the app config is its documented override.
    @property  # type: ignore[misc]
    def max_content_length(self) -> int | None:  # type: ignore[override]
        # Also bounds a chunked body, which has no Content-Length to check up front.
        return this_app().config["COOP_MAX_BODY_BYTES"] if current_app else None

    def body(self) -> bytes:
        """The raw body, read once; PayloadTooLarge (413) past COOP_MAX_BODY_BYTES."""
        raw = self.get_data(cache=True)
        limit = self.max_content_length
        # A body without a Content-Length (chunked) is cut off at the limit without an error,
        # so one that fills it is refused rather than read truncated.
        if self.content_length is None and limit is not None and len(raw) >= limit:
            raise PayloadTooLarge(
                _(
                    "The body is larger than the %(limit)s bytes this server accepts (COOP_MAX_BODY_BYTES). Send "
                    "less, e.g. a batch in several parts.",
                    limit=limit,
                )
            )
        return raw

    def get_json(self, force: bool = False, silent: bool = False, cache: bool = True):
        # Clients often omit the header or send text/plain; reading the body as JSON anyway
        # beats reporting every field of a perfectly good body as missing.
        if self._coop_json is None:
            try:
                self._coop_json = (read_json(self.body()), None)
            except Unreadable as exc:
                self._coop_json = (None, exc)
        value, error = self._coop_json
        if error is not None and not silent:
            raise error
        return value


class CoopParser(FlaskParser):
    """The one parser of every route: bodies through `CoopRequest`, and unstorable text refused (422)."""

    def _raw_load_json(self, req):
        value = req.get_json()
        # An empty body is no fields at all, as for actions like join, cosign or retract.
        return core.missing if value is None and not req.body().strip() else value

    def pre_load(self, location_data, *, schema, req, location):
        values = location_data
        if location in ("query", "querystring"):
            # A parameter sent once reports its error at its name, not at index 0.
            values = {key: items[0] if len(items) == 1 else items for key, items in req.args.lists()}
        errors = unstorable(values)
        if errors:
            raise ma.ValidationError(errors)
        return location_data


class Blueprint(flask_smorest.Blueprint):
    """The API's blueprints: flask-smorest's, reading every argument through `CoopParser`."""

    ARGUMENTS_PARSER = CoopParser()

    def arguments(self, schema, *args, **kwargs):
        # webargs makes a schema given as a class anew for every request it reads; made once here.
        return super().arguments(schema() if isinstance(schema, type) else schema, *args, **kwargs)


def init_app(app: Flask) -> None:
    """Bound bodies and read them as JSON for every request of `app`."""
    app.request_class = CoopRequest
    app.config["MAX_CONTENT_LENGTH"] = app.config["COOP_MAX_BODY_BYTES"]

    def refuse_large_bodies():
        # First of all, so an oversized body costs no token lookup and is never read.
        limit = app.config["COOP_MAX_BODY_BYTES"]
        length = this_request().content_length
        if length is not None and length > limit:
            raise PayloadTooLarge(
                _(
                    "The body is %(content_length)s bytes; this server accepts at most %(limit)s "
                    "(COOP_MAX_BODY_BYTES). Send less, e.g. a batch in several parts.",
                    content_length=length,
                    limit=limit,
                )
            )

    app.before_request_funcs.setdefault(None, []).insert(0, refuse_large_bodies)
