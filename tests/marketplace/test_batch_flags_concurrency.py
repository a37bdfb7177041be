"""Flags under real concurrency on PostgreSQL: the threshold is crossed once, and no member flags twice."""

import threading
import uuid

import sqlalchemy as sa

from coop import ledger
from coop.accounts import services as accounts
from coop.accounts.models import User
from coop.audit import AuditEntry
from coop.errors import Conflict
from coop.extensions import db
from coop.marketplace import services
from coop.marketplace.models import Batch, BatchFlag
from tests.marketplace.conftest import batch_body, racers

MEMBERS = 8
TWICE = 2


def test_concurrent_flags_pause_a_batch_once_and_each_member_flags_once(postgres_only, committed, racing_app):
    tag = uuid.uuid4().hex[:6]
    requester = accounts.register(f"flagged-{tag}@example.org", "x" * 12, f"Flagged {tag}", "requester", "Lab")
    ledger.move(ledger.EXTERNAL, ledger.requester_available(requester.id), 10_000, "test deposit")
    batch = services.create_batch(requester, batch_body(items=3, reward_cents=30))
    member_ids = racers(MEMBERS, "Flagger", tag)
    db.session.commit()
    batch_id = batch.id

    outcomes: list[str] = []
    errors: list[str] = []
    start = threading.Barrier(MEMBERS * TWICE)

    def flag(member_id):
        start.wait()
        with racing_app.app_context():
            try:
                services.flag_batch(
                    db.session.get(User, member_id), db.session.get(Batch, batch_id), "Asks for fake reviews."
                )
                db.session.commit()
                outcomes.append("flagged")
            except Conflict:
                db.session.rollback()
                outcomes.append("already")
            except Exception as exc:  # anything else is a bug this test exists to catch
                db.session.rollback()
                errors.append(repr(exc))

    threads = [threading.Thread(target=flag, args=(m,)) for m in member_ids for _ in range(TWICE)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert outcomes.count("flagged") == MEMBERS and outcomes.count("already") == MEMBERS * (TWICE - 1)
    db.session.expire_all()
    assert db.session.get(Batch, batch_id).paused_reason == "flags"
    assert db.session.scalar(sa.select(sa.func.count()).where(BatchFlag.batch_id == batch_id)) == MEMBERS
    paused = db.session.scalar(
        sa.select(sa.func.count()).where(AuditEntry.event == "batch.paused", AuditEntry.subject == f"batch:{batch_id}")
    )
    assert paused == 1
