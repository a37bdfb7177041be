"""The queue on PostgreSQL: procrastinate's tables, its worker, and jobs enqueued in the coop's own transaction."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import procrastinate
import sqlalchemy as sa
from flask import Flask
from procrastinate import utils

from coop import jobs
from coop.extensions import db

log = logging.getLogger(__name__)

# One statement for any number of jobs, through procrastinate's own function, on the caller's
# connection: the jobs exist exactly when the change that caused them commits.
_DEFER = sa.text(
    """
    SELECT procrastinate_defer_jobs_v1(ARRAY(
        SELECT ROW(:queue, j.value->>'task', (j.value->>'priority')::int, j.value->>'lock', NULL,
                   j.value->'args', NULL)::procrastinate_job_to_defer_v1
        FROM jsonb_array_elements(CAST(:jobs AS jsonb)) WITH ORDINALITY AS j(value, n)
        ORDER BY j.n
    ))
    """
)
_FETCH = sa.text(
    "SELECT id, task_name, args FROM procrastinate_fetch_job_v2(ARRAY[:queue]::varchar[], NULL) WHERE id IS NOT NULL"
)
# Done jobs are deleted, as the worker does (delete_jobs="successful"); failed ones stay for a person to see.
_FINISH = sa.text(
    "SELECT procrastinate_finish_job_v1(:id, CAST(:status AS procrastinate_job_status), :status = 'succeeded')"
)

# The time-driven work runs one task at a time, in order of priority (votes close before marketplace work).
TICK_LOCK = "coop.tick"


def insert_jobs(connection: sa.Connection, pending: Sequence[jobs.Job]) -> None:
    """Enqueue `pending` in the transaction `connection` is in (called just before it commits)."""
    rows = [
        {
            "task": job.name,
            "args": job.args,
            "priority": jobs.TASKS[job.name].priority,
            "lock": TICK_LOCK if jobs.TASKS[job.name].cron else None,
        }
        for job in pending
    ]
    connection.execute(_DEFER, {"queue": jobs.QUEUE, "jobs": json.dumps(rows)})


def run_here_until_idle() -> int:
    """Run the queue's due jobs in this process through the app's session (tests, development, cron).

    Called between units of work: a job found runs (and commits) in the session's transaction.
    """
    ran = 0
    while True:
        row = db.session.execute(_FETCH, {"queue": jobs.QUEUE}).first()
        if row is None:
            return ran  # the caller's unit of work, if one is open, is left as it was
        # Taken, run and marked done in one transaction: the job's changes and its "succeeded" commit
        # together, and nobody else sees it "doing" (the row stays locked until then).
        try:
            jobs.call(row.task_name, row.args)
            db.session.execute(_FINISH, {"id": row.id, "status": "succeeded"})
            db.session.commit()
        except Exception:
            db.session.rollback()
            log.exception("Job %s failed", row.task_name)
            db.session.execute(_FINISH, {"id": row.id, "status": "failed"})
            db.session.commit()
            raise
        ran += 1


def conninfo(url: sa.URL) -> str:
    """The libpq connection string of the app's database URL."""
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def procrastinate_app(app: Flask) -> procrastinate.App:
    """A procrastinate App on the coop's database, with every registered job as one of its tasks."""
    with app.app_context():
        url = db.engine.url
    connector = procrastinate.PsycopgConnector(
        conninfo=conninfo(url), min_size=1, max_size=app.config["COOP_JOBS_CONCURRENCY"] + 2
    )
    queue = procrastinate.App(connector=connector)
    for t in jobs.TASKS.values():
        registered = queue.task(
            name=t.name,
            queue=jobs.QUEUE,
            retry=t.retry or False,
            priority=t.priority,
            lock=TICK_LOCK if t.cron else None,
        )(_in_unit_of_work(app, t))
        if t.cron:
            queue.periodic(cron=t.cron, periodic_id=t.name)(registered)
    return queue


def _in_unit_of_work(app: Flask, t: jobs.Task):
    def run(**args):
        # Each job in its own app context, so its own session, in the worker's thread.
        with app.app_context():
            try:
                jobs.run(t.name, args)
            finally:
                db.session.remove()

    run.__name__ = t.name.replace(".", "_")
    return run


async def recover_stalled(queue: procrastinate.App, seconds_since_heartbeat: float) -> int:
    """Put back in the queue the jobs of workers that stopped beating (killed mid-job); how many."""
    stalled = list(await queue.job_manager.get_stalled_jobs(seconds_since_heartbeat=seconds_since_heartbeat))
    for job in stalled:
        log.warning("Job %s (%s) was running on a worker that stopped; it runs again", job.id, job.task_name)
        await queue.job_manager.retry_job(job, retry_at=utils.utcnow())
    return len(stalled)


def run_worker(app: Flask, until_idle: bool = False) -> None:
    """Run procrastinate's worker on the coop's queue: for ever, or until no job is due (cron)."""
    queue = procrastinate_app(app)
    config = app.config
    stalled_seconds = float(config["COOP_JOBS_STALLED_SECONDS"])

    async def main() -> None:
        async with queue.open_async():
            await recover_stalled(queue, stalled_seconds)
            recovery = None if until_idle else asyncio.create_task(_recover_periodically(queue, stalled_seconds))
            try:
                await queue.run_worker_async(
                    queues=[jobs.QUEUE],
                    wait=not until_idle,
                    concurrency=int(config["COOP_JOBS_CONCURRENCY"]),
                    update_heartbeat_interval=float(config["COOP_JOBS_HEARTBEAT_SECONDS"]),
                    stalled_worker_timeout=stalled_seconds,
                    delete_jobs="successful",
                    install_signal_handlers=not until_idle,
                )
            finally:
                if recovery:
                    recovery.cancel()

    if until_idle:
        # Cron runs this every minute: the time-driven work is due on each run.
        with app.app_context():
            try:
                jobs.run_periodic()
            finally:
                db.session.remove()
    _run_to_end(main())


def _run_to_end(coroutine) -> None:
    """`asyncio.run`, in a thread of its own when the calling thread already runs an event loop of its own."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        asyncio.run(coroutine)
        return
    # A caller inside an event loop (a notebook, a program driving a browser) cannot nest another.
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, coroutine).result()


async def _recover_periodically(queue: procrastinate.App, stalled_seconds: float) -> None:
    while True:
        await asyncio.sleep(stalled_seconds)
        try:
            await recover_stalled(queue, stalled_seconds)
        except Exception:
            log.exception("Could not look for stalled jobs")


def count(status: str | None = None) -> int:
    """How many jobs the queue holds (in `status`), for the CLI and tests."""
    stmt = "SELECT count(*) FROM procrastinate_jobs WHERE queue_name = :queue"
    if status:
        stmt += " AND status = CAST(:status AS procrastinate_job_status)"
    return int(db.session.scalar(sa.text(stmt), {"queue": jobs.QUEUE, "status": status}) or 0)
