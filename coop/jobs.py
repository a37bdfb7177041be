"""Background jobs: work that follows a change (email, webhooks) or comes with time (closing votes).

Services call `defer(name, **args)`; the job is queued on the session and handed to the queue
when the transaction commits, so a rolled-back change runs nothing. Jobs are plain functions
registered with `@task(name)`; each runs in its own unit of work (the runner commits once) and
must be idempotent: running it twice changes nothing the second time.

This first form runs jobs in-process: `run_until_idle()` runs everything committed so far.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.orm import Session

from coop.extensions import db

log = logging.getLogger(__name__)

_TASKS: dict[str, Callable[..., None]] = {}
_QUEUE = "coop.jobs.queue"


@dataclass
class Job:
    name: str
    args: dict = field(default_factory=dict)


# Jobs committed and not yet run, in this process (the in-process queue).
_committed: list[Job] = []


def task(name: str) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """Register `fn` as the job `name` (arguments: JSON-serialisable keywords)."""

    def register(fn: Callable[..., None]) -> Callable[..., None]:
        if name in _TASKS and _TASKS[name] is not fn:
            raise ValueError(f"Two jobs are named {name!r}.")
        _TASKS[name] = fn
        return fn

    return register


def defer(name: str, **args) -> None:
    """Run job `name` with `args` after this unit of work commits (never if it rolls back)."""
    if name not in _TASKS:
        raise KeyError(f"No job is named {name!r}.")
    db.session().info.setdefault(_QUEUE, []).append(Job(name, args))


def run_until_idle() -> int:
    """Run every committed job, and those they defer, until none is left; the number run."""
    ran = 0
    while _committed:
        job = _committed.pop(0)
        _run(job)
        ran += 1
    return ran


def _run(job: Job) -> None:
    try:
        _TASKS[job.name](**job.args)
        db.session.commit()
    except Exception:
        db.session.rollback()
        log.exception("Job %s failed", job.name)
        raise


@sa.event.listens_for(Session, "after_commit")
def _hand_over(session: Session) -> None:
    queue = session.info.pop(_QUEUE, None)
    if queue:
        _committed.extend(queue)


@sa.event.listens_for(Session, "after_soft_rollback")
def _drop(session: Session, previous_transaction) -> None:
    if not previous_transaction.nested:
        session.info.pop(_QUEUE, None)
