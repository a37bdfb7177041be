"""Keyset (cursor) pagination: every page costs the same, however deep."""
import base64
import json
from collections.abc import Callable, Sequence
from datetime import datetime

import marshmallow as ma
import sqlalchemy as sa

from coop.errors import Invalid
from coop.extensions import db

DEFAULT_LIMIT = 50
MAX_LIMIT = 200
# Ids are 32-bit integer columns on PostgreSQL: a larger id in a query or a body names nothing,
# and must be refused before it reaches the database, where it would overflow the column type.
MAX_ID = 2**31 - 1
id_range = ma.validate.Range(min=0, max=MAX_ID)


class PageArgs(ma.Schema):
    limit = ma.fields.Integer(load_default=DEFAULT_LIMIT, validate=ma.validate.Range(min=1, max=MAX_LIMIT))
    cursor = ma.fields.String(load_default=None)


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


def _decode(cursor: str, columns: Sequence) -> list:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()))
        if not isinstance(values, list) or len(values) != len(columns):
            raise ValueError
        return [datetime.fromisoformat(v["dt"]) if isinstance(v, dict) else v for v in values]
    except (ValueError, TypeError, KeyError, json.JSONDecodeError, UnicodeDecodeError):
        raise Invalid("This cursor is not valid; use the next_cursor of a previous page.",
                      {"cursor": ["Not a cursor this list gave out."]}) from None


def keyset_page(
    stmt: sa.Select,
    columns: Sequence[sa.ColumnElement],
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
        typed = [sa.literal(v, c.type) for v, c in zip(values, columns)]
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
