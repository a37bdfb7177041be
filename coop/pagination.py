"""Keyset (cursor) pagination: every page costs the same, however deep."""

import base64
import json
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

import marshmallow as ma
import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import QueryableAttribute

from coop.errors import Invalid
from coop.extensions import db
from coop.fields import MAX_INT

# What a page is ordered by: a mapped attribute (Post.id) or any column expression.
Column = sa.ColumnElement[Any] | QueryableAttribute[Any]

DEFAULT_LIMIT = 50
MAX_LIMIT = 200
MAX_CURSOR_LENGTH = 512
# Ids are 32-bit integer columns on PostgreSQL: a larger id in a query or a body names nothing,
# and must be refused before it reaches the database, where it would overflow the column type.
MAX_ID = MAX_INT
id_range = ma.validate.Range(min=0, max=MAX_ID)


class PageArgs(ma.Schema):
    limit = ma.fields.Integer(load_default=DEFAULT_LIMIT, validate=ma.validate.Range(min=1, max=MAX_LIMIT))
    # Cursors we give out are short; a longer one is refused before it is decoded.
    cursor = ma.fields.String(load_default=None, validate=ma.validate.Length(max=MAX_CURSOR_LENGTH))


def page_schema(item_schema: type[ma.Schema], name: str) -> type[ma.Schema]:
    """A `{"items": [...], "next_cursor": ...}` schema for the OpenAPI spec."""
    return ma.Schema.from_dict(
        {
            "items": ma.fields.List(ma.fields.Nested(item_schema)),
            "next_cursor": ma.fields.String(allow_none=True),
        },
        name=name,
    )


def _encode(values: Sequence) -> str:
    raw = json.dumps([{"dt": v.isoformat()} if isinstance(v, datetime) else v for v in values])
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


_BAD_CURSOR = _l("Not a cursor this list gave out.")
# What each integer column type holds; a larger value in a cursor could only have been forged.
_INT_LIMITS = ((sa.SmallInteger, 2**15 - 1), (sa.BigInteger, 2**63 - 1), (sa.Integer, MAX_INT))


def _cursor_value(value, column: sa.ColumnElement):
    """A cursor value checked against its column's type, so a forged cursor never reaches the database."""
    kind = column.type
    kind = getattr(kind, "impl_instance", kind)  # a TypeDecorator is checked as what it stores
    if isinstance(kind, sa.Integer):
        limit = next(top for type_, top in _INT_LIMITS if isinstance(kind, type_))
        if type(value) is not int or not -limit - 1 <= value <= limit:
            raise ValueError
        return value
    if isinstance(kind, sa.DateTime):
        if not isinstance(value, dict) or not isinstance(value.get("dt"), str):
            raise ValueError
        moment = datetime.fromisoformat(value["dt"])
        if moment.tzinfo is None:
            raise ValueError
        return moment.astimezone(UTC)  # OverflowError at the edges of the calendar
    if isinstance(kind, sa.String) and isinstance(value, str) and "\x00" not in value:
        value.encode()  # UnicodeEncodeError for a lone surrogate
        return value
    raise ValueError


def _decode(cursor: str, columns: Sequence) -> list:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()))
        if not isinstance(values, list) or len(values) != len(columns):
            raise ValueError
        return [_cursor_value(v, c) for v, c in zip(values, columns, strict=False)]
    except (ValueError, TypeError, KeyError, OverflowError):  # JSON and Unicode errors are ValueErrors too
        raise Invalid(
            _("This cursor is not valid; use the next_cursor of a previous page."), {"cursor": [_BAD_CURSOR]}
        ) from None


def keyset_page(
    stmt: sa.Select,
    columns: Sequence[Column],
    *,
    limit: int,
    cursor: str | None,
    descending: bool = False,
    key: Callable | None = None,
) -> tuple[list, str | None]:
    """One page of `stmt` ordered by `columns` (the last one unique); returns (rows, next_cursor)."""
    if cursor:
        values = _decode(cursor, columns)
        row_key = sa.tuple_(*columns) if len(columns) > 1 else columns[0]
        # Typed literals, so a datetime binds as the column's own type on every database.
        typed = [sa.literal(v, c.type) for v, c in zip(values, columns, strict=False)]
        bound = sa.tuple_(*typed) if len(columns) > 1 else typed[0]
        stmt = stmt.where(row_key < bound if descending else row_key > bound)
    order = [c.desc() if descending else c.asc() for c in columns]
    rows = list(db.session.scalars(stmt.order_by(*order).limit(limit + 1)))
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1]
        next_cursor = _encode(key(last) if key else [getattr(last, c.key) for c in columns])
    return rows, next_cursor


def page_body(items: Sequence, next_cursor: str | None, view: Callable | None = None) -> dict:
    """The one body every list route answers: `{"items": [...], "next_cursor": ...}`.

    `view` shapes each item (a serialize.py builder); without it the route's response schema does.
    """
    return {"items": [view(item) for item in items] if view else list(items), "next_cursor": next_cursor}
