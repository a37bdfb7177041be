"""A believable demo coop for `flask coop seed-demo` and `make run`: something to try on every page."""

from __future__ import annotations

import sqlalchemy as sa

from coop.accounts import services as accounts
from coop.accounts.models import User
from coop.extensions import db
from coop.forum import services as forum
from coop.forum.models import Board
from coop.governance import services as governance
from coop.governance.models import Proposal
from coop.marketplace import services as market
from coop.marketplace.schemas import BatchCreateSchema

DEMO_PASSWORD = "demo-password-123"

# (email, pseudonym, role, what to try): the README lists the same table.
DEMO_ACCOUNTS = [
    (
        "amara@demo.coop",
        "Amara",
        "coordinator, member",
        "review proposals, confirm deposits; she hid Dmitri's post, so Farid decides its appeal",
    ),
    (
        "farid@demo.coop",
        "Farid",
        "coordinator, member",
        "decide Dmitri's forum appeal and Esi's rejected-work appeal",
    ),
    ("bao@demo.coop", "Bao", "member", "vote in the open votes, read receipts of the closed ones"),
    ("carmen@demo.coop", "Carmen", "member", "vote, post in the forum, work the pilot batch"),
    ("dmitri@demo.coop", "Dmitri", "member", "follow the appeal of his hidden post; his work awaits review"),
    ("esi@demo.coop", "Esi", "worker, not a member", "claim work, follow the appeal of her rejected answer, join"),
    ("lab@demo.coop", "Northwind Data Lab", "requester", "review submitted work, launch the pilot batch, deposit"),
]
DEMO_WORKERS = [(email, name) for email, name, role, _try in DEMO_ACCOUNTS if role != "requester"]

SENTENCES = [
    "The committee have approved the budget.",
    "Neither of the drivers were insured.",
    "She suggested him to apply early.",
    "The data shows a clear trend.",
    "Between you and I, the plan is weak.",
    "Each of the workers has a vote.",
]
COMMENTS = [
    "Great write-up, thanks for sharing.",
    "People like you should not be allowed to post here.",
    "I will find where you live.",
    "Does anyone have the link to the minutes?",
]
RECEIPTS = [
    ("2026-03-02", "Boulangerie Martin", "4,80"),
    ("2026-03-02", "Pharmacie du Centre", "12,35"),
    ("2026-03-03", "Garage Dupuis", "86,00"),
    ("2026-03-04", "Librairie des Quais", "23,90"),
    ("2026-03-05", "Café de la Gare", "3,20"),
    ("2026-03-05", "Quincaillerie Roche", "17,45"),
    ("2026-03-06", "Fromagerie Blanc", "9,60"),
    ("2026-03-07", "Taxi Lumière", "31,00"),
]


def seed(payment_reference: str = "founding") -> str:
    """Create the demo coop unless it exists; returns what happened, with the accounts to sign in as.

    The founding members' shares are recorded as paid by the transfer `payment_reference`.
    """
    if db.session.scalar(sa.select(User.id).where(User.email == DEMO_ACCOUNTS[0][0])) is not None:
        return "Demo data already present; nothing to do."
    users = {name: accounts.register(email, DEMO_PASSWORD, name, "worker") for email, name in DEMO_WORKERS}
    amara = governance.found_coordinator(users["Amara"].email, payment_reference)
    farid = governance.found_coordinator(users["Farid"].email, payment_reference)
    for name in ("Bao", "Carmen", "Dmitri"):
        governance.admit_founder(users[name], payment_reference)
    bao, carmen, dmitri, esi = users["Bao"], users["Carmen"], users["Dmitri"], users["Esi"]
    members = [amara, farid, bao, carmen, dmitri]
    # Members say where they live, so the terms page shows the floor's margin over local minimum wages.
    for member, country in zip(members, ("FR", "FR", "FR", "ES", "DE"), strict=True):
        accounts.update_profile(member, {"country": country})
    lab = accounts.register("lab@demo.coop", DEMO_PASSWORD, "Northwind Data Lab", "requester", "Northwind Data Lab")
    # Demo addresses receive no mail; they count as verified so the demo joins and deposits with email on.
    for user in [*users.values(), lab]:
        accounts.mark_email_verified(user)

    _votes(amara, farid, bao, carmen, dmitri, members)
    _marketplace(amara, lab, carmen, dmitri, esi)
    _forum(amara, lab, bao, carmen, dmitri)
    return _summary()


def _proposal(author: User, reviewer: User, data: dict) -> Proposal:
    proposal = governance.create_proposal(author, data)
    governance.review_proposal(reviewer, proposal, "accept", "Clear, and within the terms.")
    return proposal


def _vote(proposal: Proposal, ballots: list[tuple[User, dict]]) -> None:
    for member, ballot in ballots:
        governance.cast_ballot(member, proposal, ballot)


def _votes(amara: User, farid: User, bao: User, carmen: User, dmitri: User, members: list[User]) -> None:
    """Every voting method twice: closed (everyone voted, so it was tallied and its receipts published) and open."""
    # Closed votes come first: the median one enacts a new terms version that the open ones then cite.
    closed: list[tuple[dict, list[dict]]] = [
        (
            {
                "title": "Publish a yearly transparency report",
                "body": "Every January the coordinators publish pay, fees and surplus for the past year.",
                "kind": "general",
                "method": "yes_no",
            },
            [{"choice": "yes"}, {"choice": "yes"}, {"choice": "yes"}, {"choice": "no"}, {"choice": "abstain"}],
        ),
        (
            {
                "title": "Causes for the solidarity fund",
                "body": "Approve every cause you want the fund to support this year.",
                "kind": "general",
                "method": "approval",
                "options": ["Legal aid for platform workers", "Digital skills classes", "Hardship grants"],
            },
            [
                {"approvals": ["Legal aid for platform workers", "Hardship grants"]},
                {"approvals": ["Hardship grants"]},
                {"approvals": ["Digital skills classes", "Hardship grants"]},
                {"approvals": ["Legal aid for platform workers"]},
                {"approvals": ["Hardship grants", "Legal aid for platform workers"]},
            ],
        ),
        (
            {
                "title": "Where should the spring assembly meet?",
                "body": "Rank the cities; the count drops the weakest until one has a majority.",
                "kind": "general",
                "method": "ranked",
                "options": ["Lyon", "Barcelona", "Leipzig"],
            },
            [
                {"ranking": ["Lyon", "Barcelona", "Leipzig"]},
                {"ranking": ["Barcelona", "Lyon"]},
                {"ranking": ["Leipzig", "Barcelona", "Lyon"]},
                {"ranking": ["Lyon", "Leipzig"]},
                {"ranking": ["Barcelona", "Leipzig", "Lyon"]},
            ],
        ),
        (
            {
                "title": "How useful were last quarter's trainings?",
                "body": "Score each training from 0 (useless) to 5 (very useful).",
                "kind": "general",
                "method": "score",
                "options": ["Spotting fake reviews", "Transcription shortcuts", "Know your rights"],
            },
            [
                {"scores": {"Spotting fake reviews": 3, "Transcription shortcuts": 5, "Know your rights": 4}},
                {"scores": {"Spotting fake reviews": 2, "Transcription shortcuts": 4, "Know your rights": 5}},
                {"scores": {"Spotting fake reviews": 4, "Transcription shortcuts": 3, "Know your rights": 5}},
                {"scores": {"Spotting fake reviews": 1, "Transcription shortcuts": 5, "Know your rights": 3}},
                {"scores": {"Spotting fake reviews": 3, "Transcription shortcuts": 4, "Know your rights": 4}},
            ],
        ),
        (
            {
                "title": "How long should a claim be held?",
                "body": "Long receipts take more than half an hour. Give the lease you want; the median is adopted.",
                "kind": "terms",
                "method": "median",
                "change": {"param": "claim_lease_minutes"},
            },
            [{"value": 30}, {"value": 45}, {"value": 45}, {"value": 60}, {"value": 40}],
        ),
        (
            {
                "title": "Adopt the plain-language guideline for instructions",
                "body": "Requesters' instructions must be readable by a 12-year-old; coordinators return batches that "
                "are not.",
                "kind": "general",
                "method": "consent",
            },
            [
                {"consent": True},
                {"consent": True},
                {"objection": "Coordinators would become editors of every batch; we lack the time for that."},
                {"consent": True},
                {"consent": True},
            ],
        ),
        (
            {
                "title": "Elect two members to the pay-audit working group",
                "body": "The group checks real working times against rewards each month.",
                "kind": "general",
                "method": "stv",
                "options": ["Bao", "Carmen", "Dmitri", "Farid"],
                "seats": 2,
            },
            [
                {"ranking": ["Carmen", "Bao", "Dmitri"]},
                {"ranking": ["Bao", "Carmen"]},
                {"ranking": ["Dmitri", "Carmen", "Farid"]},
                {"ranking": ["Carmen", "Farid"]},
                {"ranking": ["Farid", "Bao", "Carmen"]},
            ],
        ),
    ]
    authors = [bao, carmen, dmitri, bao, carmen, dmitri, bao]
    for (data, choices), author in zip(closed, authors, strict=True):
        proposal = _proposal(author, amara, data)
        # The last ballot closes it: every eligible member has voted.
        _vote(proposal, list(zip(members, choices, strict=True)))

    opened: list[tuple[dict, list[tuple[User, dict]]]] = [
        (
            {
                "title": "Raise the minimum hourly rate to 14 EUR",
                "body": "Transcription batches keep running long. A floor of 14 EUR/h matches what we earn elsewhere.",
                "kind": "terms",
                "method": "yes_no",
                "change": {"min_hourly_rate_cents": 1400},
            },
            [(carmen, {"choice": "yes"}), (dmitri, {"choice": "no", "reason": "Requesters will leave."})],
        ),
        (
            {
                "title": "Which tools should the coop build next?",
                "body": "Approve every tool you would use.",
                "kind": "general",
                "method": "approval",
                "options": ["Offline mode", "Shared glossaries", "Earnings export"],
            },
            [(bao, {"approvals": ["Offline mode", "Earnings export"]}), (carmen, {"approvals": ["Shared glossaries"]})],
        ),
        (
            {
                "title": "A name for the members' newsletter",
                "body": "Rank the names you like, best first.",
                "kind": "general",
                "method": "ranked",
                "options": ["The Commons", "Many Hands", "Fair Share"],
            },
            [(bao, {"ranking": ["Many Hands", "Fair Share"]}), (dmitri, {"ranking": ["The Commons"]})],
        ),
        (
            {
                "title": "Rate the proposed onboarding course",
                "body": "Score each module of the draft course from 0 to 5.",
                "kind": "general",
                "method": "score",
                "options": ["Your first batch", "Reading the terms", "How votes work"],
            },
            [
                (carmen, {"scores": {"Your first batch": 5, "Reading the terms": 3, "How votes work": 4}}),
                (farid, {"scores": {"Your first batch": 4, "Reading the terms": 4, "How votes work": 5}}),
            ],
        ),
        (
            {
                "title": "How many days to appeal a rejection?",
                "body": "Give the appeal window you want; the median is adopted.",
                "kind": "terms",
                "method": "median",
                "change": {"param": "appeal_window_days"},
            },
            [(bao, {"value": 21}), (dmitri, {"value": 14}), (farid, {"value": 30})],
        ),
        (
            {
                "title": "Quiet hours for forum notifications",
                "body": "No notification emails between 22:00 and 07:00 in each member's time zone.",
                "kind": "general",
                "method": "consent",
            },
            [(carmen, {"consent": True}), (dmitri, {"consent": True})],
        ),
        (
            {
                "title": "Two delegates to the federation assembly",
                "body": "The federation of platform co-ops meets in June; we send two members.",
                "kind": "general",
                "method": "stv",
                "options": ["Amara", "Bao", "Carmen", "Dmitri"],
                "seats": 2,
            },
            [(bao, {"ranking": ["Carmen", "Amara"]}), (carmen, {"ranking": ["Bao", "Dmitri", "Amara"]})],
        ),
    ]
    for index, (data, ballots) in enumerate(opened):
        _vote(_proposal((bao, carmen, dmitri)[index % 3], farid, data), ballots)


def _batch(requester: User, **data):
    return market.create_batch(requester, BatchCreateSchema().load(data))


def _marketplace(amara: User, lab: User, carmen: User, dmitri: User, esi: User) -> None:
    """An open batch with answers waiting and one under appeal, one with content warnings, one in its pilot."""
    deposit = market.request_deposit(lab, 50_000)
    market.confirm_deposit(amara, deposit)
    grammar = _batch(
        lab,
        title="Is this sentence grammatical?",
        description="Short English grammar judgements.",
        instructions="Answer yes or no; if no, say which word is wrong.",
        end_client="Northwind University",
        purpose="verification",
        reward_cents=10,
        est_seconds=25,
        assignments_per_item=2,
        items=[{"data": {"sentence": s}} for s in SENTENCES],
        answer_fields=[
            {"name": "grammatical", "label": "Is the sentence grammatical?", "type": "boolean"},
            {"name": "wrong_word", "label": "Which word is wrong?", "type": "text", "required": False},
        ],
    )
    # Submitted, waiting for the requester's review.
    waiting = market.claim(dmitri, grammar)
    market.submit(dmitri, waiting, {"grammatical": False, "wrong_word": "were"})
    # Rejected, and the worker appealed: a coordinator decides.
    rejected = market.claim(esi, grammar)
    market.submit(esi, rejected, {"grammatical": True})
    market.review(lab, rejected, "reject", "The sentence uses 'have' with a singular committee in US English.")
    market.file_appeal(esi, rejected, "British English takes 'the committee have'; the instructions did not say US.")

    _batch(
        lab,
        title="Flag abusive comments",
        description="Comments from a community forum, some of them hostile.",
        instructions="Read each comment and say whether it attacks or threatens a person.",
        end_client="Riverside Community Forum",
        purpose="verification",
        content_warnings=["hate", "violence"],
        reward_cents=8,
        est_seconds=20,
        items=[{"data": {"comment": c}} for c in COMMENTS],
        answer_fields=[
            {"name": "verdict", "label": "This comment is", "type": "choice", "options": ["fine", "abusive", "threat"]},
            {"name": "note", "label": "Anything the moderators should know", "type": "text", "required": False},
        ],
    )

    receipts = _batch(
        lab,
        title="Transcribe handwritten receipts",
        description="Scanned shop receipts: date, shop and total.",
        instructions="Copy the date as YYYY-MM-DD, the shop's name and the total in euros.",
        end_client="Northwind Expense Tools",
        purpose="preparation",
        reward_cents=30,
        est_seconds=60,
        items=[{"data": {"scan": f"receipt-{n}.png"}} for n in range(1, len(RECEIPTS) + 1)],
        answer_fields=[
            {"name": "date", "label": "Date", "type": "text"},
            {"name": "shop", "label": "Shop", "type": "text"},
            {"name": "total", "label": "Total (EUR)", "type": "number"},
        ],
        pilot_slots=2,
    )
    pilot = market.claim(carmen, receipts)
    day, shop, total = RECEIPTS[0]
    market.submit(carmen, pilot, {"date": day, "shop": shop, "total": float(total.replace(",", "."))})


def _forum(amara: User, lab: User, bao: User, carmen: User, dmitri: User) -> None:
    """Threads on both boards, and a post a coordinator hid whose author appealed."""
    boards = {b.slug: b for b in db.session.scalars(sa.select(Board))}
    thread, _post = forum.start_thread(
        bao,
        boards["members"],
        "Pay floor vote: why 14 EUR",
        "The audit paused two batches last month. **Vote yes** on the new floor if you agree.",
    )
    forum.add_post(carmen, thread, "Agreed. Receipts take me twice the estimate.")
    heated = forum.add_post(dmitri, thread, "Anyone voting no is a requester's puppet and should get out.")
    forum.moderate(amara, heated, "hide", "forum-rules", "Attacks members for how they vote; argue the proposal.")
    forum.open_appeal(dmitri, heated, "Harsh, but about votes, not people; members should read it and judge.")

    public, _first = forum.start_thread(
        lab, boards["public"], "Questions about the grammar batch", "Ask us anything about the instructions here."
    )
    forum.add_post(carmen, public, "Should British spellings count as grammatical?")


def _summary() -> str:
    lines = [f"Demo coop seeded. Every account's password is {DEMO_PASSWORD}:"]
    lines += [f"  {email:<18} {role:<22} {what}" for email, _name, role, what in DEMO_ACCOUNTS]
    return "\n".join(lines)
