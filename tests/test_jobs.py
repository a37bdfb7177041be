"""Jobs: enqueued with the change that causes them, run once, retried with backoff, never lost by a killed worker."""

import os
import signal
import subprocess
import sys
import threading
import time
from datetime import date, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from coop import clock, jobs
from coop.extensions import db
from tests.jobs_app import NOTES, RUNS_TABLE

ROOT = Path(__file__).resolve().parents[1]
# Bounds on waiting for worker processes, not measurements: a slow machine only makes the test slower.
PATIENCE = 90


@pytest.fixture(autouse=True)
def _no_notes():
    NOTES.clear()
    yield
    NOTES.clear()


def queued(status: str | None = None) -> int:
    """Jobs in procrastinate's table as this session sees it (PostgreSQL)."""
    from coop.jobs import worker

    return worker.count(status)


def test_a_job_runs_once_after_the_commit_of_the_change_that_deferred_it(session):
    jobs.defer("test.note", key="a")
    assert jobs.run_until_idle() == 0 and NOTES == []  # not committed yet
    db.session.commit()
    assert jobs.run_until_idle() == 1
    assert NOTES == [{"key": "a"}]
    assert jobs.run_until_idle() == 0 and NOTES == [{"key": "a"}]


def test_a_rolled_back_change_enqueues_nothing(session, on_postgres):
    jobs.defer("test.note", key="a")
    db.session.rollback()
    db.session.commit()
    if on_postgres:
        assert queued() == 0
    assert jobs.run_until_idle() == 0 and NOTES == []


def test_a_rolled_back_savepoint_drops_its_own_jobs_only(session):
    jobs.defer("test.note", key="kept")
    savepoint = db.session.begin_nested()
    jobs.defer("test.note", key="dropped")
    savepoint.rollback()
    with db.session.begin_nested():
        jobs.defer("test.note", key="released")
    db.session.commit()
    jobs.run_until_idle()
    assert NOTES == [{"key": "kept"}, {"key": "released"}]


def test_jobs_a_job_defers_run_in_the_same_call(session):
    jobs.defer("test.note_then_defer", key="a")
    db.session.commit()
    assert jobs.run_until_idle() == 2
    assert NOTES == [{"key": "a"}, {"key": "a-follow-up"}]


def test_a_failing_job_raises_is_left_failed_and_others_still_run(session, on_postgres):
    jobs.defer("test.fail", key="a")
    jobs.defer("test.note", key="b")
    db.session.commit()
    with pytest.raises(RuntimeError, match="job a fails"):
        jobs.run_until_idle()
    if on_postgres:
        assert queued("failed") == 1
    assert jobs.run_until_idle() == 1 and NOTES == [{"key": "b"}]


def test_an_unknown_job_or_arguments_that_are_not_json_are_refused_at_once(session):
    with pytest.raises(KeyError):
        jobs.defer("no.such.job")
    with pytest.raises(TypeError):
        jobs.defer("test.note", when=object())


def test_outbound_jobs_carry_the_exponential_retry_policy(app):
    from coop.jobs.worker import procrastinate_app

    tasks = procrastinate_app(app).tasks
    assert tasks["mail.send"].retry_strategy is jobs.OUTBOUND_RETRY
    assert jobs.OUTBOUND_RETRY.exponential_wait == 2 and jobs.OUTBOUND_RETRY.max_attempts == 10
    assert {name for name, t in jobs.TASKS.items() if t.cron} == {
        "tick.governance",
        "tick.outcome_reviews",
        "tick.marketplace",
        "tick.vote_reminders",
        "tick.notification_digests",
        "tick.webhook_retries",
        "tick.idempotency",
    }
    # Reminders hourly and the digest daily; the rest every minute.
    assert jobs.TASKS["tick.vote_reminders"].cron == "5 * * * *"
    assert jobs.TASKS["tick.notification_digests"].cron == "0 6 * * *"
    assert jobs.TASKS["tick.governance"].cron == jobs.EVERY_MINUTE


# --- The time-driven work, as periodic jobs -------------------------------------------------


def _snapshot() -> dict:
    """Every row of every table of ours, so a second run can be shown to change nothing."""
    found = {}
    for table in db.metadata.sorted_tables:
        order = list(table.primary_key.columns) or list(table.columns)
        found[table.name] = [tuple(row) for row in db.session.execute(sa.select(table).order_by(*order))]
    return found


@pytest.fixture
def everything_due(session, frozen_clock):
    """The demo coop, a year later: votes to close, work to auto-approve, a review date and an old key passed."""
    from coop.demo import seed
    from coop.governance.models import Proposal, ProposalOutcome
    from coop.idempotency import IdempotencyKey

    seed()
    proposal = db.session.scalars(sa.select(Proposal).order_by(Proposal.id)).first()
    db.session.add(
        ProposalOutcome(
            proposal_id=proposal.id,
            statement="Done.",
            review_on=date.today(),
            recorded_by_id=proposal.proposer_id,
        )
    )
    db.session.add(
        IdempotencyKey(
            user_id=proposal.proposer_id,
            key="old",
            method="POST",
            path="/api/v1/anything",
            fingerprint="0" * 64,
            status_code=200,
            body="{}",
            created_at=clock.now(),
        )
    )
    db.session.commit()
    jobs.run_until_idle()  # what the seeding itself announced (notifications, webhook events)
    clock.advance(timedelta(days=400))


@pytest.mark.parametrize("name", ["tick.governance", "tick.outcome_reviews", "tick.marketplace", "tick.idempotency"])
def test_each_periodic_job_run_twice_changes_nothing_the_second_time(everything_due, name):
    jobs.defer(name)
    db.session.commit()
    before = _snapshot()
    assert jobs.run_until_idle() >= 1  # with what it announced (a closed vote's webhook event)
    after_first = _snapshot()
    assert after_first != before, f"{name} found nothing due, so the test proves nothing"

    jobs.defer(name)
    db.session.commit()
    assert jobs.run_until_idle() == 1
    assert _snapshot() == after_first


def test_the_worker_until_idle_runs_the_time_driven_work_and_committed_jobs_on_sqlite(app, session, on_postgres):
    if on_postgres:
        pytest.skip("on PostgreSQL the worker is procrastinate's (tested below)")
    jobs.defer("test.note", key="a")
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["coop", "worker", "--until-idle"])
    assert result.exit_code == 0, result.output
    assert "tick.governance:" in result.output and "1 other job(s) run" in result.output
    assert NOTES == [{"key": "a"}]


def test_flask_coop_tick_still_runs_every_sweep(app, session):
    result = app.test_cli_runner().invoke(args=["coop", "tick"])
    assert result.exit_code == 0
    for label in ("governance", "outcome reviews", "marketplace", "idempotency"):
        assert f"{label}:" in result.output


def test_in_development_a_request_s_jobs_run_after_its_response(app, session, monkeypatch):
    # The dev server runs the jobs a request committed once the response is closed (after it went out).
    endpoint = "public_pages.landing" if "public_pages.landing" in app.view_functions else None
    endpoint = endpoint or next(e for e, f in app.view_functions.items() if e.endswith("landing"))
    view = app.view_functions[endpoint]

    def deferring(*args, **kwargs):
        jobs.defer("test.note", key="from-a-request")
        return view(*args, **kwargs)

    monkeypatch.setitem(app.view_functions, endpoint, deferring)
    monkeypatch.setitem(app.config, "COOP_JOBS_RUN_AFTER_REQUEST", True)
    response = app.test_client().get("/")
    assert response.status_code == 200
    response.close()
    assert NOTES == [{"key": "from-a-request"}]


def test_in_tests_nothing_runs_until_a_test_asks(app, session, monkeypatch):
    endpoint = next(e for e in app.view_functions if e.endswith("landing"))
    view = app.view_functions[endpoint]
    monkeypatch.setitem(
        app.view_functions, endpoint, lambda *a, **k: (jobs.defer("test.note", key="later"), view(*a, **k))[1]
    )
    response = app.test_client().get("/")
    response.close()
    assert NOTES == []
    jobs.run_until_idle()
    assert NOTES == [{"key": "later"}]


# --- PostgreSQL: procrastinate's queue, with real commits -----------------------------------


def other_connection_count(where: str = "TRUE") -> int:
    with db.engine.connect() as conn:
        return conn.scalar(sa.text(f"SELECT count(*) FROM procrastinate_jobs WHERE {where}"))


def test_the_job_row_is_written_by_the_change_s_own_commit(postgres_only, committed):
    before = other_connection_count()
    statements: list[tuple[int, str]] = []

    def seen(conn, cursor, statement, *_):
        statements.append((id(conn.connection.dbapi_connection), statement))

    jobs.defer("test.note", key="same-transaction")
    db.session.flush()
    assert other_connection_count() == before  # nothing is visible before the commit
    connection = id(db.session.connection().connection.dbapi_connection)
    sa.event.listen(db.engine, "before_cursor_execute", seen)
    try:
        db.session.commit()
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", seen)
    # Procrastinate's own defer function, on the session's connection, inside its transaction.
    assert [c for c, statement in statements if "procrastinate_defer_jobs_v1" in statement] == [connection]
    assert other_connection_count() == before + 1
    row = db.session.execute(
        sa.text("SELECT task_name, args, status FROM procrastinate_jobs ORDER BY id DESC LIMIT 1")
    ).one()
    assert (row.task_name, row.args, row.status) == ("test.note", {"key": "same-transaction"}, "todo")


def test_a_rolled_back_change_leaves_no_row_in_the_queue(postgres_only, committed):
    before = other_connection_count()
    jobs.defer("test.note", key="never")
    db.session.execute(sa.text("SELECT 1"))
    db.session.rollback()
    db.session.commit()
    assert other_connection_count() == before


def test_a_commit_that_fails_enqueues_nothing(postgres_only, committed):
    # The job row and the change are one transaction: when the change cannot commit, neither exists.
    before = other_connection_count()
    db.session.execute(sa.text("CREATE TEMPORARY TABLE fragile (id int PRIMARY KEY DEFERRABLE INITIALLY DEFERRED)"))
    db.session.execute(sa.text("INSERT INTO fragile VALUES (1), (1)"))
    jobs.defer("test.note", key="with-a-bad-change")
    with pytest.raises(sa.exc.IntegrityError):
        db.session.commit()
    db.session.rollback()
    assert other_connection_count() == before


def test_a_failing_outbound_job_is_retried_later_with_backoff(postgres_only, app, committed):
    from coop.jobs.worker import run_worker

    jobs.defer("test.fail_outbound", key="smtp")
    db.session.commit()
    run_worker(app, until_idle=True)
    db.session.rollback()
    row = db.session.execute(
        sa.text(
            "SELECT status, attempts, extract(epoch FROM scheduled_at - now()) AS wait FROM procrastinate_jobs "
            "WHERE task_name = 'test.fail_outbound' ORDER BY id DESC LIMIT 1"
        )
    ).one()
    # First retry after 2 seconds (2**1), then 4, 8 ...: still queued, not failed.
    assert row.status == "todo" and row.attempts == 1
    assert 0 < row.wait <= 2


@pytest.fixture
def runs_table(postgres_only, committed):
    with db.engine.begin() as conn:
        conn.execute(sa.text(f"CREATE TABLE IF NOT EXISTS {RUNS_TABLE} (key text NOT NULL, pid int NOT NULL)"))
        conn.execute(sa.text(f"DELETE FROM {RUNS_TABLE}"))
    yield
    with db.engine.begin() as conn:
        conn.execute(sa.text(f"DROP TABLE {RUNS_TABLE}"))


def start_worker(app, tmp_path, *extra: str, **settings: str) -> subprocess.Popen:
    with app.app_context():
        url = db.engine.url.render_as_string(hide_password=False)
    env = {
        **os.environ,
        "COOP_DATABASE_URL": url,
        "COOP_INSTANCE_PATH": str(tmp_path),
        "COOP_ENV": "testing",
        **settings,
    }
    log = tmp_path / f"worker-{time.monotonic_ns()}.log"
    with log.open("wb") as output:  # the child keeps its own descriptor
        process = subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "tests.jobs_app", "coop", "worker", *extra],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    process.log = log  # type: ignore[attr-defined]
    return process


def wait_for(condition, what: str) -> None:
    deadline = time.monotonic() + PATIENCE
    while not condition():
        assert time.monotonic() < deadline, f"gave up waiting: {what}"
        time.sleep(0.1)


def runs() -> list[tuple[str, int]]:
    with db.engine.connect() as conn:
        return [tuple(row) for row in conn.execute(sa.text(f"SELECT key, pid FROM {RUNS_TABLE} ORDER BY key"))]


def workers_alive() -> int:
    with db.engine.connect() as conn:
        return conn.scalar(
            sa.text("SELECT count(*) FROM procrastinate_workers WHERE last_heartbeat > now() - interval '5 seconds'")
        )


def stop(process: subprocess.Popen, sig=signal.SIGTERM) -> None:
    if process.poll() is None:
        process.send_signal(sig)
    try:
        process.wait(timeout=PATIENCE)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def test_two_workers_on_one_queue_never_run_a_job_twice(app, runs_table, tmp_path):
    before = workers_alive()
    first = start_worker(app, tmp_path, COOP_JOBS_CONCURRENCY="4")
    second = start_worker(app, tmp_path, COOP_JOBS_CONCURRENCY="4")
    try:
        wait_for(lambda: workers_alive() >= before + 2, "both workers to register")
        for n in range(200):
            jobs.defer("test.record", key=f"job-{n:03}", sleep=0.01)
        db.session.commit()
        wait_for(lambda: len(runs()) >= 200, "every job to run")
        time.sleep(1)  # a job run twice would land now
    finally:
        stop(first)
        stop(second)
    done = runs()
    assert sorted(key for key, _ in done) == [f"job-{n:03}" for n in range(200)]
    assert {pid for _, pid in done} == {first.pid, second.pid}, "both workers took jobs"
    assert other_connection_count("task_name = 'test.record'") == 0  # done jobs leave the queue


def test_a_worker_killed_mid_job_loses_no_job(app, runs_table, tmp_path):
    fast = {"COOP_JOBS_HEARTBEAT_SECONDS": "1", "COOP_JOBS_STALLED_SECONDS": "3"}
    marker = tmp_path / "started"
    first = start_worker(app, tmp_path, **fast)
    second = None
    try:
        jobs.defer("test.record", key="survivor", sleep=3, marker=str(marker))
        db.session.commit()
        wait_for(marker.exists, "the first worker to start the job")
        assert marker.read_text() == str(first.pid)
        stop(first, signal.SIGKILL)  # mid-job: no chance to finish or hand the job back
        assert runs() == []
        assert other_connection_count("task_name = 'test.record' AND status = 'doing'") == 1

        second = start_worker(app, tmp_path, **fast)
        wait_for(lambda: runs() != [], "the second worker to take the stalled job back and finish it")
    finally:
        stop(first, signal.SIGKILL)
        if second:
            stop(second)
    assert runs() == [("survivor", second.pid)]
    assert other_connection_count("task_name = 'test.record'") == 0


def test_flask_coop_worker_until_idle_runs_the_queue_and_exits(app, runs_table, tmp_path):
    for n in range(5):
        jobs.defer("test.record", key=f"cron-{n}")
    db.session.commit()
    worker = start_worker(app, tmp_path, "--until-idle")
    assert worker.wait(timeout=PATIENCE) == 0, worker.log.read_text()
    assert [key for key, _ in runs()] == [f"cron-{n}" for n in range(5)]


def test_the_in_process_runner_and_a_worker_share_the_queue_without_overlap(app, runs_table):
    from coop.jobs.worker import run_worker

    for n in range(40):
        jobs.defer("test.record", key=f"mixed-{n:02}", sleep=0.005)
    db.session.commit()
    thread = threading.Thread(target=run_worker, args=(app,), kwargs={"until_idle": True})
    thread.start()
    jobs.run_until_idle()
    thread.join(PATIENCE)
    assert sorted(key for key, _ in runs()) == [f"mixed-{n:02}" for n in range(40)]


def test_a_released_savepoint_hands_nothing_over_until_the_outer_commit(session):
    with db.session.begin_nested():
        jobs.defer("test.note", key="inner")
    assert jobs.run_until_idle() == 0
    db.session.rollback()
    db.session.commit()
    assert jobs.run_until_idle() == 0 and NOTES == []


def test_migration_0018_builds_procrastinate_s_queue_and_takes_it_away(postgres_only, app):
    from flask_migrate import downgrade, upgrade

    from coop import create_app
    from coop.dbtools import throwaway_postgres_database

    with throwaway_postgres_database(os.environ["COOP_TEST_DATABASE_URL"], "coop_jobs_migration") as url:
        fresh = create_app({"ENV_NAME": "testing", "SQLALCHEMY_DATABASE_URI": url})
        with fresh.app_context():
            directory = fresh.extensions["migrate"].directory
            check = sa.text("SELECT to_regclass('procrastinate_jobs') IS NOT NULL")
            functions = sa.text("SELECT count(*) FROM pg_proc WHERE proname LIKE 'procrastinate%'")
            upgrade(directory=directory, revision="0018")
            with db.engine.connect() as conn:
                assert conn.scalar(check) and conn.scalar(functions) > 10
            downgrade(directory=directory, revision="0017")
            with db.engine.connect() as conn:
                assert not conn.scalar(check) and conn.scalar(functions) == 0
            upgrade(directory=directory, revision="heads")
            # Procrastinate's own check that its schema is in place.
            from coop.jobs.worker import procrastinate_app

            queue = procrastinate_app(fresh)
            with queue.open():
                assert queue.check_connection()
            db.engine.dispose()


def test_the_worker_runs_even_when_its_caller_already_runs_an_event_loop():
    """A caller inside an event loop (here asyncio; in the browser tests Playwright) gets the worker in a thread."""
    import asyncio
    import threading

    from coop.jobs.worker import _run_to_end

    ran_in: dict[str, int] = {}

    def in_a_thread_of_its_own(name, body):
        # Each side runs in a fresh thread, whatever loop this test process may already run.
        def run():
            ran_in[f"{name} caller"] = threading.get_ident()
            body(name)

        thread = threading.Thread(target=run)
        thread.start()
        thread.join()

    async def work(name):
        ran_in[name] = threading.get_ident()

    def plain(name):
        _run_to_end(work(name))

    def inside_a_loop(name):
        async def caller():
            _run_to_end(work(name))

        asyncio.run(caller())

    in_a_thread_of_its_own("plain", plain)
    in_a_thread_of_its_own("looping", inside_a_loop)
    assert ran_in["plain"] == ran_in["plain caller"]
    assert "looping" in ran_in and ran_in["looping"] != ran_in["looping caller"]
