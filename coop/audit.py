"""The hash-chained audit log of governance, moderation, terms and money events."""

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, Session, mapped_column

from coop import clock
from coop.commit_queue import CommitQueue
from coop.extensions import Model, db
from coop.types import JSONType, UTCDateTime

GENESIS_HASH = "0" * 64
# Serialises writers on PostgreSQL so two transactions never chain onto the same entry.
_APPEND_LOCK_KEY = 7_267_001


class AuditEntry(Model):
    __tablename__ = "audit_entries"

    seq: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    event: Mapped[str] = mapped_column(sa.String(64), index=True)
    subject: Mapped[str] = mapped_column(sa.String(128))
    actor: Mapped[str] = mapped_column(sa.String(128))
    payload: Mapped[dict] = mapped_column(JSONType)
    prev_hash: Mapped[str] = mapped_column(sa.String(64))
    hash: Mapped[str] = mapped_column(sa.String(64), unique=True)


def canonical(seq: int, at: datetime, event: str, subject: str, actor: str, payload: dict) -> str:
    """The exact text an entry's hash covers."""
    return json.dumps(
        {
            "seq": seq,
            "at": at.astimezone(UTC).isoformat(timespec="microseconds"),
            "event": event,
            "subject": subject,
            "actor": actor,
            "payload": payload,
        },
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )


def chain_hash(prev_hash: str, text: str) -> str:
    return hashlib.sha256((prev_hash + text).encode()).hexdigest()


def actor_label(actor) -> str:
    """How an actor appears in the log: pseudonym and role, never an email."""
    if actor is None:
        return "system"
    if isinstance(actor, str):
        return actor
    return f"{actor.display_name} ({actor.role})"


@dataclass(frozen=True)
class _Pending:
    at: datetime  # when the event happened, not when its transaction committed
    event: str
    subject: str
    actor: str
    payload: dict


def append(event: str, subject: str, actor=None, payload: dict | None = None) -> None:
    """Record an event of this unit of work; it enters the log when the transaction commits.

    Entries are queued on the session and written at commit, after every other change and
    after the jobs (coop.commit_queue.ORDER), so the audit lock is always the last lock a
    transaction takes (it cannot close a cycle with row locks taken in another order), and a
    rolled-back change leaves no entry.
    """
    # Labelled and serialised now: the actor's role and the payload as they are at the event.
    # Round-trip the payload through JSON so what is hashed is what is stored.
    _queue.add(
        _Pending(clock.now(), event, subject, actor_label(actor), json.loads(json.dumps(payload or {}, default=str)))
    )


def _write_queue(session: Session, queue: list[_Pending]) -> None:
    # Every other change reaches the database first; only then the audit lock, held to commit.
    session.flush()
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        connection.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _APPEND_LOCK_KEY})
    last = connection.execute(
        sa.select(AuditEntry.seq, AuditEntry.hash).order_by(AuditEntry.seq.desc()).limit(1)
    ).first()
    seq, prev_hash = (last.seq, last.hash) if last else (0, GENESIS_HASH)
    for p in queue:
        seq += 1
        entry_hash = chain_hash(prev_hash, canonical(seq, p.at, p.event, p.subject, p.actor, p.payload))
        session.add(
            AuditEntry(
                seq=seq,
                at=p.at,
                event=p.event,
                subject=p.subject,
                actor=p.actor,
                payload=p.payload,
                prev_hash=prev_hash,
                hash=entry_hash,
            )
        )
        prev_hash = entry_hash
    session.flush()


# Written last at commit (coop.commit_queue.ORDER); a rolled-back savepoint drops its own entries.
_queue: CommitQueue[_Pending] = CommitQueue("audit", _write_queue)


@dataclass
class Verdict:
    ok: bool
    checked: int
    first_bad_seq: int | None = None
    reason: str = ""


def verify(batch_size: int = 5000) -> Verdict:
    """Recompute the chain from the start; name the first entry that does not match."""
    prev_hash, expected_seq, checked = GENESIS_HASH, 1, 0
    last_seq = 0
    while True:
        # Plain rows, not entities, so a long chain does not fill the session.
        rows = db.session.execute(
            sa.select(*AuditEntry.__table__.c)
            .where(AuditEntry.seq > last_seq)
            .order_by(AuditEntry.seq)
            .limit(batch_size)
        ).all()
        if not rows:
            return Verdict(True, checked)
        for e in rows:
            if e.seq != expected_seq:
                return Verdict(False, checked, expected_seq, f"entry {expected_seq} is missing")
            if e.prev_hash != prev_hash:
                return Verdict(False, checked, e.seq, "prev_hash does not match the previous entry")
            if chain_hash(prev_hash, canonical(e.seq, e.at, e.event, e.subject, e.actor, e.payload)) != e.hash:
                return Verdict(False, checked, e.seq, "content does not match its hash")
            prev_hash, expected_seq, checked = e.hash, e.seq + 1, checked + 1
        last_seq = rows[-1].seq
