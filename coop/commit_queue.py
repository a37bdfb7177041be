"""Side effects queued on the session and written when its unit of work commits, in one stated order.

Audit entries, jobs and webhook events are not written where a service asks for them: each kind is
a `CommitQueue` whose items wait on the session and are written by one hook at the outermost commit.
A savepoint that rolls back drops what was queued inside it; a transaction that ends without
committing drops everything. A session with nothing queued pays nothing at commit.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

import sqlalchemy as sa
from sqlalchemy.orm import Session, SessionTransaction

from coop.extensions import db

T = TypeVar("T")

# The order the queues are written at commit; the one place that decides it.
# - webhook events first: they are handed to the job queue as one fan-out job, so they must
#   become a job before the jobs are written;
# - then jobs: procrastinate's rows on PostgreSQL (the in-process queue takes them on SQLite,
#   once the commit has happened);
# - the audit log last: it flushes every other change, then takes the chain's lock, so that lock
#   is the last one a transaction takes (no cycle with row locks taken in another order) and is
#   held for as short a time as possible.
ORDER: tuple[str, ...] = ("webhooks", "jobs", "audit")

_STATE = "coop.commit_queue"
_QUEUES: dict[str, CommitQueue] = {}


@dataclass
class _State:
    """What one session has queued in its current unit of work."""

    items: dict[str, list] = field(default_factory=dict)
    # Each open savepoint's queue lengths when it began; a savepoint with none began before
    # anything was queued.
    marks: dict[SessionTransaction, dict[str, int]] = field(default_factory=dict)
    # Written at commit, handed to `after_commit` once the commit has happened.
    written: dict[str, list] = field(default_factory=dict)


class CommitQueue(Generic[T]):
    """One kind of side effect, queued on the session until its unit of work commits.

    `write(session, items)` runs at the outermost commit, in the place ORDER gives `name`, with
    what this unit of work queued (never with nothing). `after_commit(session, items)`, if given,
    runs with the same items once the commit has happened.
    """

    def __init__(
        self,
        name: str,
        write: Callable[[Session, list[T]], None],
        *,
        after_commit: Callable[[Session, list[T]], None] | None = None,
    ) -> None:
        if name not in ORDER:
            raise ValueError(f"{name!r} has no place in the commit order {ORDER}.")
        if name in _QUEUES:
            raise ValueError(f"Two commit queues are named {name!r}.")
        self.name, self.write, self.after_commit = name, write, after_commit
        _QUEUES[name] = self

    def add(self, item: T, session: Session | None = None) -> None:
        """Queue `item` on `session` (the app's by default) until its unit of work commits."""
        session = session or db.session()
        if not session.in_transaction():
            # A unit of work has begun, so a rollback before any statement still drops the item.
            session.begin()
        info = session.info
        state = info.get(_STATE)
        if state is None:
            state = info[_STATE] = _State()
        state.items.setdefault(self.name, []).append(item)

    def pending(self, session: Session | None = None) -> list[T]:
        """What is queued on `session` and not yet written (a copy)."""
        state = (session or db.session()).info.get(_STATE)
        return list(state.items.get(self.name, ())) if state else []


# Registered once, on the Session class, so every session writes its queues: the app's, the
# tests' sessions bound to a connection, the CLI's, the job worker's.
@sa.event.listens_for(Session, "before_commit")
def _write(session: Session) -> None:
    state = session.info.get(_STATE)
    if state is None:
        return  # nothing queued: the common commit does nothing more
    # Releasing a savepoint is not the end of the unit of work; the outermost commit writes.
    if session.in_nested_transaction():
        return
    for name in ORDER:
        queue = _QUEUES.get(name)
        if queue is None:
            continue
        # A queue's writer may queue into a later one (webhook events become a job) on this same state.
        items = state.items.pop(name, None)
        if not items:
            continue
        queue.write(session, items)
        if queue.after_commit is not None:
            state.written[name] = items
    late = [name for name, items in state.items.items() if items]
    if late:
        # Its place in the order has passed: written now it would break the order, dropped it would be lost.
        raise RuntimeError(f"Queued at commit after its turn in {ORDER}: {', '.join(late)}.")


@sa.event.listens_for(Session, "after_commit")
def _hand_over(session: Session) -> None:
    # Also called when a savepoint is released; only the outermost commit set anything aside.
    state = session.info.get(_STATE)
    if state is None or not state.written:
        return
    written, state.written = state.written, {}
    for name, items in written.items():
        after = _QUEUES[name].after_commit
        if after is not None:
            after(session, items)


@sa.event.listens_for(Session, "after_transaction_create")
def _mark_savepoint(session: Session, transaction: SessionTransaction) -> None:
    if transaction.nested:
        state = session.info.get(_STATE)
        if state is not None:
            state.marks[transaction] = {name: len(items) for name, items in state.items.items()}


@sa.event.listens_for(Session, "after_soft_rollback")
def _cut_back(session: Session, previous_transaction: SessionTransaction) -> None:
    state = session.info.get(_STATE)
    if state is None:
        return
    if not previous_transaction.nested:
        session.info.pop(_STATE, None)
        return
    marks = state.marks.pop(previous_transaction, {})
    for name, items in state.items.items():
        del items[marks.get(name, 0) :]


@sa.event.listens_for(Session, "after_transaction_end")
def _forget(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None and not transaction.nested:
        # Committed (and written) or not, the unit of work is over: nothing is carried into the next.
        session.info.pop(_STATE, None)
