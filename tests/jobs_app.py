"""Jobs the queue tests use, and the app with them for worker processes: `flask --app tests.jobs_app coop worker`."""

import os
import time
from pathlib import Path

import sqlalchemy as sa

from coop import jobs
from coop.extensions import db

# Where the worker-process jobs leave their mark; created and dropped by the tests that use it.
RUNS_TABLE = "test_job_runs"
NOTES: list[dict] = []


@jobs.task("test.note")
def note(**args) -> None:
    """Remember the call in this process (for tests that run jobs in-process)."""
    NOTES.append(args)


@jobs.task("test.note_then_defer")
def note_then_defer(key: str) -> None:
    NOTES.append({"key": key})
    jobs.defer("test.note", key=f"{key}-follow-up")


@jobs.task("test.fail")
def fail(key: str) -> None:
    raise RuntimeError(f"job {key} fails")


@jobs.task("test.fail_outbound", retry=jobs.OUTBOUND_RETRY)
def fail_outbound(key: str) -> None:
    raise ConnectionRefusedError(f"the server for {key} is down")


@jobs.task("test.record")
def record(key: str, sleep: float = 0.0, marker: str | None = None) -> None:
    """Insert one row naming the key and this process; `marker` tells the test the job has started."""
    if marker:
        Path(marker).write_text(str(os.getpid()))
    time.sleep(sleep)
    db.session.execute(
        sa.text(f"INSERT INTO {RUNS_TABLE} (key, pid) VALUES (:key, :pid)"), {"key": key, "pid": os.getpid()}
    )


def create_app():
    from coop import create_app as make

    return make()
