"""Idempotency keys: a POST repeated with the same key gets the first answer and changes nothing.

Follows draft-ietf-httpapi-idempotency-key-header-07 ("The Idempotency-Key HTTP Header
Field"): the key is a structured-field string (the quotes may be left out), scoped to the
signed-in user and kept for 24 hours. The same key with another request (method, path,
query or body) is a 422; the same key while its first request is still running is a 409;
a key that is empty, too long or not printable ASCII is a 400. Only successful (2xx)
answers are kept: a refusal changed nothing, so repeating it runs the request afresh. The
record is written in the same transaction as the change, so a change rolled back records
no key and a recorded key always stands for a change that was committed.
"""

import hashlib
import json
import re
from datetime import datetime, timedelta
from typing import cast

import sqlalchemy as sa
from flask import Response, request
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm import Mapped, mapped_column

from coop import clock
from coop.context import this_request
from coop.errors import Conflict, CoopError, Invalid
from coop.extensions import Model, db
from coop.types import UTCDateTime

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
MAX_KEY_LENGTH = 255
TTL = timedelta(hours=24)
# The namespace of the two-key advisory locks marking a key in flight on PostgreSQL.
_IN_FLIGHT_LOCK_SPACE = 7_267_002
_PRINTABLE = re.compile(r"[\x20-\x7e]+")


class IdempotencyKey(Model):
    """The first answer to a user's POST under one key."""

    __tablename__ = "idempotency_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(sa.String(MAX_KEY_LENGTH))
    method: Mapped[str] = mapped_column(sa.String(8))
    path: Mapped[str] = mapped_column(sa.Text)
    # SHA-256 of method, path, query and body: tells a true repeat from a reused key.
    fingerprint: Mapped[str] = mapped_column(sa.String(64))
    status_code: Mapped[int] = mapped_column(sa.Integer)
    body: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now, index=True)

    __table_args__ = (sa.UniqueConstraint("user_id", "key"),)


def applies() -> bool:
    """Whether this request takes part: a signed-in user's POST to the API, other than signing in."""
    from coop.accounts.auth import PUBLIC_ENDPOINTS

    req = this_request()
    return (
        req.method == "POST"
        and req.path.startswith("/api/v1/")
        and HEADER in req.headers
        and req.endpoint not in PUBLIC_ENDPOINTS
        and current_user.is_authenticated
    )


def parse_key(raw: str) -> str:
    """The key inside the header: a structured-field string, or the bare text most clients send."""
    value = raw.strip()
    if len(value) >= 2 and value[0] == value[-1] == '"':
        value = re.sub(r'\\(["\\])', r"\1", value[1:-1])
    problem = None
    if not value:
        problem = _("Send a non-empty key, e.g. a random UUID.")
    elif len(value) > MAX_KEY_LENGTH:
        problem = _("Send at most %(most)s characters, e.g. a random UUID.", most=MAX_KEY_LENGTH)
    elif not _PRINTABLE.fullmatch(value):
        problem = _("Use printable ASCII characters only, e.g. a random UUID.")
    if problem:
        raise CoopError(
            _("The %(header)s header is not a usable key. %(problem)s", header=HEADER, problem=problem),
            errors={HEADER: [problem]},
        )
    return value


def fingerprint() -> str:
    """A hash of what the request asks for; JSON bodies are compared by content, not spacing or key order."""
    raw = request.get_data(cache=True)
    try:
        body = json.dumps(json.loads(raw or b"{}"), sort_keys=True, separators=(",", ":")).encode()
    except (ValueError, RecursionError):  # not JSON (or absurdly nested): compared byte for byte
        body = raw
    digest = hashlib.sha256()
    for part in (request.method.encode(), request.path.encode(), request.query_string, body):
        digest.update(len(part).to_bytes(8, "big") + part)
    return digest.hexdigest()


def in_flight_lock(user_id: int, key: str) -> int:
    """The advisory lock (second key; the first is the namespace) held while a request with this key runs."""
    digest = hashlib.sha256(f"{user_id}:{key}".encode()).digest()
    return int.from_bytes(digest[:4], "big", signed=True)


def answer(run_view) -> Response:
    """Run the view under the request's Idempotency-Key, or replay the first answer given to it."""
    if not applies():
        return run_view()
    key = parse_key(request.headers[HEADER])
    user_id = current_user.id
    session = db.session
    if session.get_bind().dialect.name == "postgresql":
        taken = session.scalar(
            sa.select(sa.func.pg_try_advisory_xact_lock(_IN_FLIGHT_LOCK_SPACE, in_flight_lock(user_id, key)))
        )
        if not taken:
            raise _in_flight()
    fp = fingerprint()
    record = session.scalar(
        sa.select(IdempotencyKey).where(IdempotencyKey.user_id == user_id, IdempotencyKey.key == key)
    )
    if record is not None and record.created_at <= clock.now() - TTL:
        session.delete(record)  # expired: the key is free again
        session.flush()
        record = None
    if record is not None:
        if record.fingerprint != fp:
            raise Invalid(
                _(
                    "This %(header)s was already used for a different request (%(method)s %(path)s with another "
                    "body). Use a new key for a new request.",
                    header=HEADER,
                    method=record.method,
                    path=record.path,
                ),
                errors={HEADER: [_("Already used for a different request.")]},
            )
        replay = Response(record.body, status=record.status_code, mimetype="application/json")
        replay.headers[REPLAYED_HEADER] = "true"
        return replay

    response = run_view()
    if 200 <= response.status_code < 300:
        session.flush()  # the view's own work first, so a conflict below can only be the key's
        session.add(
            IdempotencyKey(
                user_id=user_id,
                key=key,
                method=request.method,
                path=request.path,
                fingerprint=fp,
                status_code=response.status_code,
                body=response.get_data(as_text=True),
            )
        )
        try:
            session.flush()
        except sa.exc.IntegrityError:
            # Another request with this key committed first (databases without advisory locks).
            raise _in_flight() from None
    return response


def _in_flight() -> Conflict:
    return Conflict(
        _(
            "A request with this %(header)s is still being processed. Wait for it, then repeat this one to "
            "get its answer.",
            header=HEADER,
        )
    )


def purge_expired(now: datetime) -> str:
    """Tick work: forget the answers kept longer than the keys live."""
    purged = cast(
        sa.CursorResult, db.session.execute(sa.delete(IdempotencyKey).where(IdempotencyKey.created_at <= now - TTL))
    ).rowcount
    return f"purged {purged} expired idempotency key(s)" if purged else "nothing due"
