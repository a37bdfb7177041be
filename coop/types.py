"""Column types shared by every domain."""

import json
from datetime import UTC, datetime

from sqlalchemy import JSON, DateTime
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator):
    """Stored as naive UTC, returned aware, so SQLite and PostgreSQL give back the same value."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use coop.clock.now()")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect):
        return None if value is None else value.replace(tzinfo=UTC)


# JSONB on PostgreSQL (indexable, compact), plain JSON text elsewhere.
JSONType = JSON().with_variant(JSONB(), "postgresql")

_DECODER = json.JSONDecoder()


def read_json(text: str | bytes):
    """A JSON value read from the database: what `json.loads` gives.

    The drivers hand JSON over as UTF-8 (PostgreSQL's client encoding here) or as text; decoding
    it as such saves `json.loads` guessing the encoding of every value of every row.
    """
    return _DECODER.decode(text.decode() if isinstance(text, bytes) else text)
