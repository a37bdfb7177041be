"""The commit queue: side effects wait on the session, follow its savepoints, and are written in order at commit."""

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from coop import audit, commit_queue, jobs
from coop.commit_queue import CommitQueue
from coop.extensions import db
from coop.webhooks import services as webhooks


@pytest.fixture
def plain():
    """A bare session on an in-memory SQLite database, with working savepoints (no app)."""
    engine = sa.create_engine("sqlite://")

    @sa.event.listens_for(engine, "connect")
    def _no_driver_transactions(dbapi_connection, _record):
        dbapi_connection.isolation_level = None

    @sa.event.listens_for(engine, "begin")
    def _begin(conn):
        conn.exec_driver_sql("BEGIN")

    with Session(engine) as session:
        yield session
    engine.dispose()


@pytest.fixture
def queues(monkeypatch):
    """Three queues of their own, in this order, instead of the coop's; what each wrote, in turn."""
    monkeypatch.setattr(commit_queue, "ORDER", ("first", "second", "third"))
    monkeypatch.setattr(commit_queue, "_QUEUES", {})
    written: list[tuple[str, list]] = []

    def writer(name):
        return lambda session, items: written.append((name, list(items)))

    made = {name: CommitQueue(name, writer(name)) for name in commit_queue.ORDER}
    return made, written


def test_items_are_written_at_commit_in_the_stated_order_once(plain, queues):
    made, written = queues
    made["third"].add("t1", plain)
    made["first"].add("f1", plain)
    made["third"].add("t2", plain)
    plain.flush()
    assert written == []
    assert made["third"].pending(plain) == ["t1", "t2"]
    plain.commit()
    assert written == [("first", ["f1"]), ("third", ["t1", "t2"])]
    plain.commit()
    assert len(written) == 2
    assert commit_queue._STATE not in plain.info


def test_a_commit_with_nothing_queued_writes_nothing_and_keeps_nothing(plain, queues):
    made, written = queues
    plain.execute(sa.text("SELECT 1"))
    plain.commit()
    assert written == [] and commit_queue._STATE not in plain.info


def test_a_rolled_back_transaction_forgets_everything(plain, queues):
    made, written = queues
    made["first"].add("dropped", plain)
    plain.begin_nested()
    made["second"].add("dropped too", plain)
    plain.rollback()
    assert made["first"].pending(plain) == [] and made["second"].pending(plain) == []
    made["first"].add("kept", plain)
    plain.commit()
    assert written == [("first", ["kept"])]


def test_queued_between_units_of_work_a_rollback_before_any_statement_still_drops_it(plain, queues):
    made, written = queues
    plain.commit()
    assert not plain.in_transaction()
    made["first"].add("dropped", plain)
    plain.rollback()
    plain.commit()
    assert written == []


def test_a_rolled_back_savepoint_drops_only_what_was_queued_inside_it(plain, queues):
    made, written = queues
    made["first"].add("outer", plain)
    outer = plain.begin_nested()
    made["first"].add("released", plain)
    inner = plain.begin_nested()
    made["first"].add("inner", plain)
    made["second"].add("inner", plain)
    inner.rollback()
    made["second"].add("after", plain)
    outer.commit()
    # Releasing a savepoint is not the end of the unit of work.
    assert written == []
    plain.commit()
    assert written == [("first", ["outer", "released"]), ("second", ["after"])]


def test_a_savepoint_begun_before_anything_was_queued_drops_all_it_queued(plain, queues):
    made, written = queues
    first = plain.begin_nested()
    made["first"].add("a", plain)
    second = plain.begin_nested()
    made["first"].add("b", plain)
    second.rollback()
    assert made["first"].pending(plain) == ["a"]
    first.rollback()
    assert made["first"].pending(plain) == []
    plain.commit()
    assert written == []


def test_a_writer_may_queue_into_a_later_queue_never_an_earlier_one(plain, queues, monkeypatch):
    made, written = queues
    # As webhook events become a job: written in the same commit, in the later queue's turn.
    monkeypatch.setattr(made["first"], "write", lambda session, items: made["second"].add(items[0] + "!", session))
    made["first"].add("event", plain)
    plain.commit()
    assert written == [("second", ["event!"])]

    monkeypatch.setattr(made["third"], "write", lambda session, items: made["first"].add("late", session))
    made["third"].add("x", plain)
    with pytest.raises(RuntimeError, match="after its turn"):
        plain.commit()
    plain.rollback()


def test_after_commit_has_the_items_once_the_outermost_commit_happened(plain, queues, monkeypatch):
    made, written = queues
    handed: list = []
    monkeypatch.setattr(made["second"], "after_commit", lambda session, items: handed.append(list(items)))
    with plain.begin_nested():
        made["second"].add("job", plain)
    assert handed == []
    plain.commit()
    assert handed == [["job"]] and written == [("second", ["job"])]
    made["second"].add("rolled back", plain)
    plain.rollback()
    plain.commit()
    assert handed == [["job"]]


def test_a_queue_needs_a_place_in_the_order_and_a_name_of_its_own(queues):
    with pytest.raises(ValueError, match="no place"):
        CommitQueue("elsewhere", lambda session, items: None)
    with pytest.raises(ValueError, match="Two commit queues"):
        CommitQueue("first", lambda session, items: None)


def test_the_coop_writes_webhook_events_then_jobs_then_the_audit_log(session, postgres_only):
    assert commit_queue.ORDER == ("webhooks", "jobs", "audit")
    statements: list[str] = []

    def record(conn, cursor, statement, *args):
        statements.append(statement.lower())

    audit.append("test.order", "x", None, {})
    webhooks.emit("proposal.opened", {"id": 1})
    jobs.defer("webhooks.deliver", delivery_id=0)
    sa.event.listen(db.engine, "before_cursor_execute", record)
    try:
        session.commit()
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", record)
    enqueue = [i for i, s in enumerate(statements) if "procrastinate_defer_jobs" in s]
    audit_lock = [i for i, s in enumerate(statements) if "advisory" in s]
    # One statement enqueues both jobs, the fan-out the events became among them.
    assert len(enqueue) == 1 and audit_lock
    assert enqueue[0] < audit_lock[0]
