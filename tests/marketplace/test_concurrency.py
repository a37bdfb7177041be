"""Claims under real concurrency on PostgreSQL: 64 members racing for 2,000 slots."""

import threading
import uuid

import sqlalchemy as sa

from coop import ledger
from coop.accounts import services as accounts
from coop.accounts.models import User
from coop.errors import Conflict
from coop.extensions import db
from coop.marketplace import services
from coop.marketplace.models import Assignment, Batch, Slot
from tests.marketplace.conftest import batch_body, racers

WORKERS = 64
ITEMS = 1_000
PER_ITEM = 2


def test_concurrent_claims_take_every_slot_once_and_no_item_twice(postgres_only, committed, racing_app):
    tag = uuid.uuid4().hex[:6]
    requester = accounts.register(f"race-{tag}@example.org", "x" * 12, f"Race lab {tag}", "requester", "Race Lab")
    ledger.move(ledger.EXTERNAL, ledger.requester_available(requester.id), 10**7, "test deposit")
    batch = services.create_batch(requester, batch_body(items=ITEMS, assignments_per_item=PER_ITEM))
    # A batch this size starts with a paid pilot; launched at once, every slot is open to the race.
    services.launch(requester, batch, {})
    member_ids = racers(WORKERS, "Racer", tag)
    db.session.commit()
    batch_id = batch.id

    outcomes: list[str] = []
    errors: list[str] = []
    start = threading.Barrier(WORKERS)

    def work(member_id):
        # Each claim is its own unit of work with a real commit, as a request is (the HTTP path
        # adds only parsing and serialising, and would make this test several times slower).
        start.wait()
        while True:
            with racing_app.app_context():
                try:
                    services.claim(db.session.get(User, member_id), db.session.get(Batch, batch_id))
                    db.session.commit()
                    outcomes.append("claimed")
                except Conflict:
                    db.session.rollback()
                    outcomes.append("nothing left")
                    return
                except Exception as exc:  # anything else is a bug this test exists to catch
                    db.session.rollback()
                    errors.append(repr(exc))
                    return

    threads = [threading.Thread(target=work, args=(m,)) for m in member_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert outcomes.count("claimed") == ITEMS * PER_ITEM and outcomes.count("nothing left") == WORKERS
    db.session.expire_all()
    rows = db.session.execute(
        sa.select(Assignment.slot_id, Assignment.item_id, Assignment.worker_id).where(Assignment.batch_id == batch_id)
    ).all()
    assert len(rows) == ITEMS * PER_ITEM
    assert len({r.slot_id for r in rows}) == ITEMS * PER_ITEM
    assert len({(r.item_id, r.worker_id) for r in rows}) == ITEMS * PER_ITEM
    states = dict(
        db.session.execute(
            sa.select(Slot.state, sa.func.count()).where(Slot.batch_id == batch_id).group_by(Slot.state)
        ).all()
    )
    assert states == {"held": ITEMS * PER_ITEM}


PILOT_RACERS = 8


def test_racing_claims_never_open_more_than_the_pilots_slots(postgres_only, committed, racing_app):
    tag = uuid.uuid4().hex[:6]
    requester = accounts.register(f"pilot-{tag}@example.org", "x" * 12, f"Pilot lab {tag}", "requester", "Pilot Lab")
    ledger.move(ledger.EXTERNAL, ledger.requester_available(requester.id), 10**5, "test deposit")
    batch = services.create_batch(requester, batch_body(items=20, reward_cents=30, est_seconds=60, pilot_slots=3))
    member_ids = racers(PILOT_RACERS, "Pilot", tag)
    db.session.commit()
    batch_id = batch.id
    outcomes: list[str] = []
    start = threading.Barrier(PILOT_RACERS)

    def claim(member_id):
        start.wait()
        with racing_app.app_context():
            try:
                services.claim(db.session.get(User, member_id), db.session.get(Batch, batch_id))
                db.session.commit()
                outcomes.append("claimed")
            except Conflict:
                db.session.rollback()
                outcomes.append("pilot full")
            except Exception as exc:  # anything else is a bug this test exists to catch
                db.session.rollback()
                outcomes.append(repr(exc))

    threads = [threading.Thread(target=claim, args=(m,)) for m in member_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["claimed"] * 3 + ["pilot full"] * (PILOT_RACERS - 3)
    db.session.expire_all()
    held = db.session.scalar(
        sa.select(sa.func.count()).select_from(Slot).where(Slot.batch_id == batch_id, Slot.state == "held")
    )
    assert held == 3
