"""A believable demo coop for `flask coop seed-demo` and `make run`."""

import sqlalchemy as sa

from coop.accounts import services as accounts
from coop.accounts.models import User
from coop.extensions import db
from coop.forum import services as forum
from coop.forum.models import Board
from coop.governance import services as governance
from coop.marketplace import services as market

DEMO_PASSWORD = "demo-password-123"

DEMO_WORKERS = [
    ("amara@demo.coop", "Amara"),
    ("bao@demo.coop", "Bao"),
    ("carmen@demo.coop", "Carmen"),
    ("dmitri@demo.coop", "Dmitri"),
    ("esi@demo.coop", "Esi"),
]

SENTENCES = [
    "The committee have approved the budget.",
    "Neither of the drivers were insured.",
    "She suggested him to apply early.",
    "The data shows a clear trend.",
    "Between you and I, the plan is weak.",
    "Each of the workers has a vote.",
]


def seed(payment_reference: str = "founding") -> str:
    """Create the demo coop unless it exists; returns what happened.

    The founding members' shares are recorded as paid by the transfer `payment_reference`.
    """
    if db.session.scalar(sa.select(User.id).where(User.email == DEMO_WORKERS[0][0])) is not None:
        return "Demo data already present; nothing to do."
    workers = [accounts.register(email, DEMO_PASSWORD, name, "worker") for email, name in DEMO_WORKERS]
    coordinator = governance.found_coordinator(workers[0].email, payment_reference)
    for worker in workers[1:4]:
        governance.admit_founder(worker, payment_reference)
    members = workers[:4]
    # Members say where they live, so the terms page shows the floor's margin over France's minimum wage.
    for member, country in zip(members, ("FR", "FR", "ES", "DE"), strict=True):
        accounts.update_profile(member, {"country": country})
    lab = accounts.register("lab@demo.coop", DEMO_PASSWORD, "Northwind Data Lab", "requester", "Northwind Data Lab")
    # Demo addresses receive no mail; they count as verified so the demo joins and deposits with email on.
    for user in [*workers, lab]:
        accounts.mark_email_verified(user)

    # A vote on the pay floor, open for the members to cast ballots.
    raise_floor = governance.create_proposal(
        members[1],
        {
            "title": "Raise the minimum hourly rate to 14 EUR",
            "body": "Transcription batches keep running long. A floor of 14 EUR/h matches what we earn elsewhere.",
            "kind": "terms",
            "method": "yes_no",
            "change": {"min_hourly_rate_cents": 1400},
        },
    )
    governance.review_proposal(coordinator, raise_floor, "accept", "Clear and within the terms bounds.")
    governance.cast_ballot(members[2], raise_floor, {"choice": "yes"})

    # A requester with confirmed funds and an open batch that meets the terms.
    deposit = market.request_deposit(lab, 50_000)
    market.confirm_deposit(coordinator, deposit)
    batch = market.create_batch(
        lab,
        {
            "title": "Is this sentence grammatical?",
            "description": "Short English grammar judgements.",
            "instructions": "Answer yes or no; if no, say which word is wrong.",
            "end_client": "Northwind University",
            "purpose": "verification",
            "content_warnings": [],
            "personal_data": False,
            "reward_cents": 10,
            "est_seconds": 25,
            "assignments_per_item": 2,
            "items": [{"data": {"sentence": s}} for s in SENTENCES],
        },
    )
    assignment = market.claim(members[3], batch)
    market.submit(members[3], assignment, {"grammatical": False, "wrong_word": "were"})

    boards = {b.slug: b for b in db.session.scalars(sa.select(Board))}
    forum.start_thread(
        members[1],
        boards["members"],
        "Pay floor vote: why 14 EUR",
        "The audit paused two batches last month. **Vote yes** on the new floor if you agree.",
    )
    thread, _ = forum.start_thread(
        lab, boards["public"], "Questions about the grammar batch", "Ask us anything about the instructions here."
    )
    forum.add_post(members[2], thread, "Should British spellings count as grammatical?")
    return (
        f"Demo coop seeded: sign in as amara@demo.coop (coordinator), bao@demo.coop (member), "
        f"esi@demo.coop (worker) or lab@demo.coop (requester), password {DEMO_PASSWORD}."
    )
