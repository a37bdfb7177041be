"""Background jobs: work that follows a change (email, webhooks) or comes with time (closing votes).

Services call `defer(name, **args)`; the job is queued on the session and handed to the queue
with the transaction that caused it, so a rolled-back change runs nothing. Jobs are plain functions
registered with `@task(name)`; each runs in its own unit of work (the runner commits once) and
must be idempotent: running it twice changes nothing the second time.

The queue is procrastinate's, in the coop's own PostgreSQL database: `defer` inserts the job rows
through the session's connection just before its commit (procrastinate's `procrastinate_defer_jobs_v1`),
and `flask coop worker` runs them (see `coop.jobs.worker`). On SQLite there is no queue table: committed
jobs wait in this process's memory and run in it (`run_until_idle()`, after each request in development).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from flask import Flask
from procrastinate import RetryStrategy
from sqlalchemy.orm import Session

from coop.commit_queue import CommitQueue
from coop.extensions import db

log = logging.getLogger(__name__)

QUEUE = "coop"
# Outbound work (email, webhooks) meets servers that are down for a while: retried after
# 2, 4, 8 ... 1024 seconds, ten attempts over about half an hour, then left failed for a person to see.
OUTBOUND_RETRY = RetryStrategy(max_attempts=10, exponential_wait=2)
# Periodic tasks run at most this often (cron syntax for procrastinate; seconds in-process).
EVERY_MINUTE = "* * * * *"


@dataclass(frozen=True)
class Task:
    name: str
    fn: Callable[..., object]
    retry: RetryStrategy | None = None
    cron: str | None = None  # periodic: deferred by the worker on this schedule, with no arguments
    priority: int = 0


@dataclass
class Job:
    name: str
    args: dict = field(default_factory=dict)


TASKS: dict[str, Task] = {}

# SQLite only: jobs committed and not yet run, in this process (the in-process queue).
_committed: list[Job] = []
_run_lock = threading.Lock()


def task(
    name: str, *, retry: RetryStrategy | None = None, cron: str | None = None, priority: int = 0
) -> Callable[[Callable[..., object]], Callable[..., object]]:
    """Register `fn` as the job `name` (arguments: JSON-serialisable keywords).

    `retry` is how a failure is retried (OUTBOUND_RETRY for work that talks to other servers);
    `cron` makes it periodic (EVERY_MINUTE), run with no arguments by the worker.
    """

    def register(fn: Callable[..., object]) -> Callable[..., object]:
        if name in TASKS and TASKS[name].fn is not fn:
            raise ValueError(f"Two jobs are named {name!r}.")
        TASKS[name] = Task(name, fn, retry, cron, priority)
        return fn

    return register


def defer(name: str, **args) -> None:
    """Run job `name` with `args` after this unit of work commits (never if it rolls back)."""
    if name not in TASKS:
        raise KeyError(f"No job is named {name!r}.")
    # Round-tripped now, so a job sees exactly what the queue stores, on either database.
    _queue.add(Job(name, json.loads(json.dumps(args))))


def forget_committed() -> None:
    """Drop the in-process queue's committed jobs unrun (a test starting afresh; on PostgreSQL nothing is held here)."""
    _committed.clear()


def run_until_idle() -> int:
    """Run every committed job, and those they defer, until none is left; the number run.

    In this process and through the app's session: on PostgreSQL each job is taken from procrastinate's
    table (SKIP LOCKED, so a worker running beside it never takes the same one) and marked done in the
    job's own transaction; on SQLite from the in-process queue. A failing job is marked failed and raises.
    """
    if db.session.get_bind().dialect.name == "postgresql":
        from coop.jobs import worker

        return worker.run_here_until_idle()
    ran = 0
    while _committed:
        job = _committed.pop(0)
        run(job.name, job.args)
        ran += 1
    return ran


def run(name: str, args: dict) -> object:
    """Run one job in its own unit of work: commit once if it succeeds, roll back if it fails; what it returned."""
    try:
        done = call(name, args)
        db.session.commit()
        return done
    except Exception:
        db.session.rollback()
        log.exception("Job %s failed", name)
        raise


def call(name: str, args: dict) -> object:
    """Call job `name`'s function with `args` (a periodic job takes none: the queue's timestamp is dropped)."""
    t = TASKS[name]
    return t.fn() if t.cron else t.fn(**args)


def periodic() -> list[Task]:
    """The periodic tasks, highest priority (the one to run first) first."""
    return sorted((t for t in TASKS.values() if t.cron), key=lambda t: -t.priority)


def run_periodic() -> dict[str, object]:
    """Run every periodic task once, here, each in its own unit of work; what each reported.

    One that fails is logged and reported as failed; the others still run.
    """
    done: dict[str, object] = {}
    for t in periodic():
        try:
            done[t.name] = run(t.name, {})
        except Exception as exc:
            done[t.name] = f"failed: {exc.__class__.__name__}"
    return done


# In development the web process is its own worker, so `make run` needs nothing else.
_last_periodic = 0.0


def run_in_process(app: Flask) -> None:
    """Run the jobs committed so far and, once a minute, the periodic ones; errors are logged, not raised."""
    global _last_periodic
    if not _run_lock.acquire(blocking=False):
        return  # another request's thread is already draining the queue; it will take these too
    try:
        with app.app_context():
            try:
                if time.monotonic() - _last_periodic >= app.config["COOP_JOBS_PERIODIC_SECONDS"]:
                    _last_periodic = time.monotonic()
                    run_periodic()
                while True:
                    try:
                        if not run_until_idle():
                            break
                    except Exception:
                        continue  # logged by run(); the others still run
            finally:
                db.session.remove()
    finally:
        _run_lock.release()


def init_app(app: Flask) -> None:
    """In development (COOP_JOBS_RUN_AFTER_REQUEST), run jobs after each response has gone out."""

    @app.after_request
    def _run_after_response(response):
        if app.config["COOP_JOBS_RUN_AFTER_REQUEST"]:
            # After the response is closed, so the request's commit is done and nobody waits on the jobs.
            response.call_on_close(lambda: run_in_process(app))
        return response


def _write_pending(session: Session, pending: list[Job]) -> None:
    if session.get_bind().dialect.name != "postgresql":
        return  # handed to the in-process queue once the commit has happened, below
    from coop.jobs import worker

    worker.insert_jobs(session.connection(), pending)


def _hand_over(session: Session, pending: list[Job]) -> None:
    if session.get_bind().dialect.name != "postgresql":
        _committed.extend(pending)


# Written at commit after the webhook events (which become a job) and before the audit log
# (coop.commit_queue.ORDER); a rolled-back savepoint drops its own jobs.
_queue: CommitQueue[Job] = CommitQueue("jobs", _write_pending, after_commit=_hand_over)
