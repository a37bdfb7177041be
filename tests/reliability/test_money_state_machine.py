"""A stateful property test over the marketplace and governance services: the books hold after every step."""

from collections import Counter, defaultdict
from datetime import timedelta

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from coop import clock, ledger
from coop.accounts import services as accounts
from coop.accounts.models import User
from coop.errors import CoopError
from coop.extensions import db
from coop.governance import services as governance
from coop.governance.models import Ballot, Proposal, ShareLine
from coop.governance.services import current_terms
from coop.ledger import LedgerAccount, LedgerEntry
from coop.marketplace import services as marketplace
from coop.marketplace.models import Appeal, Assignment, Batch, Deposit, RequesterSuspension, Slot, Withdrawal
from tests.conftest import PASSWORD
from tests.reliability.conftest import batch_body, check_books, ledger_drift

REQUESTERS = 2
WORKERS = 3
COORDINATORS = 2

index = st.integers(min_value=0, max_value=63)


def fingerprint() -> tuple:
    """Everything a refused step must leave as it was."""

    def rows(*columns, order):
        return tuple(db.session.execute(sa.select(*columns).order_by(order)).all())

    return (
        rows(LedgerAccount.name, LedgerAccount.balance_cents, order=LedgerAccount.name),
        db.session.scalar(sa.select(sa.func.count()).select_from(LedgerEntry)),
        rows(Batch.id, Batch.status, Batch.reward_cents, Batch.escrow_cents, Batch.settled_at, order=Batch.id),
        rows(Slot.id, Slot.state, order=Slot.id),
        rows(Assignment.id, Assignment.status, Assignment.holds_slot, Assignment.paid_cents, order=Assignment.id),
        rows(Appeal.id, Appeal.status, order=Appeal.id),
        rows(Deposit.id, Deposit.status, order=Deposit.id),
        rows(Withdrawal.id, Withdrawal.status, order=Withdrawal.id),
        rows(Proposal.id, Proposal.status, Proposal.ballot_count, order=Proposal.id),
        db.session.scalar(sa.select(sa.func.count()).select_from(Ballot)),
        db.session.scalar(sa.select(sa.func.count()).select_from(ShareLine)),
    )


def exists(*where) -> bool:
    """Whether any row matches, so rules with nothing to act on are not drawn."""
    return db.session.scalar(sa.select(sa.exists().where(*where)))


def when_any(*where):
    """A precondition: the rule is drawn only while some row matches."""
    return precondition(lambda machine: exists(*where))


def pick(stmt, i: int):
    """The i-th (cyclically) of the ids a query returns, or None when it returns none."""
    ids = list(db.session.scalars(stmt))
    return ids[i % len(ids)] if ids else None


class Coop:
    """The people every run of the machine acts as, made once per test (their rows outlive each run)."""

    def __init__(self):
        def person(label, kind):
            return accounts.register(
                f"{label}@machine.example.org", PASSWORD, label, kind, "Machine Ltd" if kind == "requester" else None
            )

        self.requesters = [person(f"machine-requester-{n}", "requester").id for n in range(REQUESTERS)]
        self.coordinators = []
        for n in range(COORDINATORS):
            user = person(f"machine-coordinator-{n}", "worker")
            governance.admit_founder(user, "test transfer")
            accounts.set_roles(user, coordinator=True)
            self.coordinators.append(user.id)
        self.workers = []
        for n in range(WORKERS):
            user = person(f"machine-worker-{n}", "worker")
            governance.admit_founder(user, "test transfer")
            self.workers.append(user.id)
        # Coordinators are members too and take work like anyone else.
        self.members = self.workers + self.coordinators


class MoneyMachine(RuleBasedStateMachine):
    """Deposits, batches, claims, reviews, appeals, raises, cancels, payouts, time and a surplus vote."""

    coop: Coop
    tally: dict
    baseline_drift: dict
    enacted_seen: set

    def __init__(self):
        super().__init__()
        clock.reset()
        # Each run in a savepoint of its own, rolled back at teardown, as if it never happened.
        self._run = db.session.begin_nested()
        self.rounding: set[int] = set()
        self.steps = 0

    def teardown(self):
        self._run.rollback()
        db.session.expire_all()
        clock.reset()

    # --- helpers --------------------------------------------------------------------------

    def user(self, user_id: int) -> User:
        return db.session.get(User, user_id)

    def attempt(self, name: str, action):
        """Run one step as a request runs: all of it, or on a refusal nothing at all."""
        self.steps += 1
        db.session.expire_all()  # each step sees the database afresh, as a new request does
        before = fingerprint()
        step = db.session.begin_nested()
        try:
            result = action()
        except CoopError as exc:
            step.rollback()
            db.session.expire_all()
            assert fingerprint() == before, f"{name} was refused ({exc.message}) yet changed the state"
            self.tally[name]["refused"] += 1
            return None
        step.commit()
        self.tally[name]["done"] += 1
        return result

    def rounds(self, batch_id: int, cents: int) -> None:
        """Note a batch whose fee on `cents` is not a whole number of cents: its escrow may keep a remainder."""
        if cents * current_terms().params["platform_fee_pct"] % 100:
            self.rounding.add(batch_id)

    # --- funds ----------------------------------------------------------------------------

    @initialize(amount=st.sampled_from([800, 5_000]), per_item=st.integers(1, 3), reward=st.sampled_from([20, 23]))
    def a_funded_batch_is_up(self, amount, per_item, reward):
        coordinator = self.user(self.coop.coordinators[0])
        for requester_id in self.coop.requesters:
            marketplace.confirm_deposit(coordinator, marketplace.request_deposit(self.user(requester_id), amount))
        batch = marketplace.create_batch(
            self.user(self.coop.requesters[0]), batch_body(items=3, assignments_per_item=per_item, reward_cents=reward)
        )
        self.rounds(batch.id, reward)
        # One piece of work already paid, so there are fees (a surplus) from the first step.
        worker = self.user(self.coop.workers[0])
        done = marketplace.claim(worker, batch)
        marketplace.review(batch.requester, marketplace.submit(worker, done, {"total": "1.00"}), "approve", None)

    @rule(r=index, amount=st.sampled_from([300, 1_234, 5_000]), c=index)
    def deposit(self, r, amount, c):
        requester = self.user(self.coop.requesters[r % REQUESTERS])
        coordinator = self.user(self.coop.coordinators[c % COORDINATORS])
        self.attempt(
            "deposit", lambda: marketplace.confirm_deposit(coordinator, marketplace.request_deposit(requester, amount))
        )

    @rule(who=st.integers(0, REQUESTERS + WORKERS + COORDINATORS - 1), share=st.sampled_from([1, 2, 0]))
    def request_payout(self, who, share):
        user = self.user((self.coop.requesters + self.coop.members)[who])
        source = (ledger.requester_available if user.kind == "requester" else ledger.worker_earnings)(user.id)
        # All of it, half of it, or a cent (which may be more than there is: refused).
        amount = max(1, ledger.balance(source) // share) if share else 1
        self.attempt("request_payout", lambda: marketplace.request_withdrawal(user, amount))

    @when_any(Withdrawal.status == "pending")
    @rule(w=index, c=index)
    def confirm_payout(self, w, c):
        withdrawal_id = pick(sa.select(Withdrawal.id).where(Withdrawal.status == "pending").order_by(Withdrawal.id), w)
        if withdrawal_id is None:
            return
        withdrawal = db.session.get(Withdrawal, withdrawal_id)
        # Another coordinator than the payee, when the payee is one (else it is refused).
        coordinator = self.user(
            next(
                cid
                for cid in self.coop.coordinators[c % COORDINATORS :] + self.coop.coordinators
                if cid != withdrawal.user_id
            )
        )
        self.attempt("confirm_payout", lambda: marketplace.confirm_withdrawal(coordinator, withdrawal))

    # --- batches --------------------------------------------------------------------------

    @rule(
        r=index,
        items=st.integers(1, 4),
        per_item=st.integers(1, 3),
        reward=st.sampled_from([20, 23, 30, 47]),
        expires=st.booleans(),
    )
    def post_batch(self, r, items, per_item, reward, expires):
        requester = self.user(self.coop.requesters[r % REQUESTERS])
        body = batch_body(
            items=items,
            assignments_per_item=per_item,
            reward_cents=reward,
            expires_at=clock.now() + timedelta(hours=5) if expires else None,
        )
        batch = self.attempt("post_batch", lambda: marketplace.create_batch(requester, body))
        if batch is not None:
            self.rounds(batch.id, reward)

    @when_any(Batch.id.is_not(None))
    @rule(r=index, b=index, delta=st.sampled_from([10, 1, 7, 30]))
    def raise_reward(self, r, b, delta):
        requester_id = self.coop.requesters[r % REQUESTERS]
        batch_id = pick(sa.select(Batch.id).where(Batch.requester_id == requester_id).order_by(Batch.id), b)
        if batch_id is None:
            return
        batch = db.session.get(Batch, batch_id)
        if self.attempt(
            "raise_reward", lambda: marketplace.raise_reward(batch.requester, batch, batch.reward_cents + delta)
        ):
            self.rounds(batch.id, delta)

    @when_any(Batch.id.is_not(None))
    @rule(r=index, b=index)
    def cancel(self, r, b):
        # Mostly batches still running, sometimes any of the requester's batches (to be refused).
        query = sa.select(Batch.id).where(Batch.requester_id == self.coop.requesters[r % REQUESTERS]).order_by(Batch.id)
        batch_id = pick(query.where(Batch.status.in_(("open", "paused_underpaid"))) if b % 4 != 3 else query, b)
        if batch_id is None:
            return
        batch = db.session.get(Batch, batch_id)
        self.attempt("cancel", lambda: marketplace.cancel_batch(batch.requester, batch))

    # --- work -----------------------------------------------------------------------------

    @when_any(Batch.id.is_not(None))
    # The only rule of one argument: Hypothesis orders rules by how many arguments they take
    # and its draws favour the first, so work is what runs do most.
    @rule(choices=st.tuples(index, index, index, st.booleans(), st.booleans()))
    def work(self, choices):
        """Claim a slot, or take work in progress one step further: submit, review, appeal, decide the appeal."""
        m, b, a, fresh, yes = choices
        # One rule for the whole path (Hypothesis switches whole rules off in some runs), so
        # every run that works at all can reach the far end of it.
        # Furthest along first (draws favour small numbers), so runs reach appeals and their decisions.
        stage = sa.case(
            (Appeal.status == "pending", 0),
            (Assignment.status == "rejected", 1),
            (Assignment.status == "submitted", 2),
            else_=3,
        )
        assignment_id = pick(
            sa.select(Assignment.id)
            .outerjoin(Appeal)
            .where(
                sa.or_(
                    Assignment.status.in_(("claimed", "submitted")),
                    sa.and_(Assignment.status == "rejected", sa.or_(Appeal.id.is_(None), Appeal.status == "pending")),
                )
            )
            .order_by(stage, Assignment.id),
            a,
        )
        if fresh or assignment_id is None:
            self.claim(m, b)
            return
        assignment = db.session.get(Assignment, assignment_id)
        if assignment.status == "claimed":
            # Real working time, which the pay audit measures.
            clock.advance(timedelta(seconds=(5, 45, 400)[a % 3]))
            self.attempt("submit", lambda: marketplace.submit(assignment.worker, assignment, {"total": "9.99"}))
        elif assignment.status == "submitted":
            self.attempt(
                "review",
                lambda: marketplace.review(
                    assignment.batch.requester,
                    assignment,
                    "approve" if yes else "reject",
                    None if yes else "The total is wrong.",
                ),
            )
        elif assignment.appeal is None:
            self.attempt("appeal", lambda: marketplace.file_appeal(assignment.worker, assignment, "It was right."))
        else:
            coordinator = self.user(self.coop.coordinators[m % COORDINATORS])
            self.attempt(
                "decide_appeal",
                lambda: marketplace.decide_appeal(
                    coordinator, assignment.appeal, "uphold" if yes else "overturn", "Checked."
                ),
            )

    def claim(self, m: int, b: int) -> None:
        # Mostly batches that still take claims, sometimes any batch (to be refused).
        query = sa.select(Batch.id).order_by(Batch.id)
        batch_id = pick(query.where(Batch.status == "open") if b % 4 != 3 else query, b)
        if batch_id is None:
            return
        # Turned by the step count too: draws favour small numbers, and one member alone runs out of items.
        member = self.user(self.coop.members[(m + self.steps) % len(self.coop.members)])
        self.attempt("claim", lambda: marketplace.claim(member, db.session.get(Batch, batch_id)))

    # --- time -----------------------------------------------------------------------------

    @rule(lapse=st.sampled_from(["lease", "review"]), minutes_beyond=st.sampled_from([1, 0, 45]))
    def time_passes(self, lapse, minutes_beyond):
        """Past a claim lease, or past the auto-approval wait (and a voting period, and any batch expiry)."""
        wait = timedelta(minutes=30) if lapse == "lease" else timedelta(hours=72)
        clock.advance(wait + timedelta(minutes=minutes_beyond))

        def tick():
            governance.tick(clock.now())  # the CLI's order: votes close before marketplace work
            marketplace.tick(clock.now())

        self.attempt(f"{lapse}s_lapse", tick)

    # --- the surplus ----------------------------------------------------------------------

    # One vote at a time, once there is a surplus: fees collected on work members were paid for.
    @precondition(
        lambda machine: (
            not exists(Proposal.status.in_(("submitted", "open")))
            and exists(LedgerAccount.name == ledger.COOP_FEES, LedgerAccount.balance_cents > 0)
            and exists(Assignment.status == "approved")
        )
    )
    @rule(m=index, c=index, quarter=st.integers(1, 4))
    def propose_surplus(self, m, c, quarter):
        proposer = self.user(self.coop.members[m % len(self.coop.members)])
        coordinator = self.user(self.coop.coordinators[c % COORDINATORS])
        # A share of the fees collected so far (at least a cent: refused at enactment when there is none).
        amount = max(1, ledger.balance(ledger.COOP_FEES) * quarter // 4)
        today = clock.now().date()
        change = {
            "amount_cents": amount,
            "period_start": (today - timedelta(days=60)).isoformat(),
            "period_end": today.isoformat(),
        }

        def propose():
            proposal = governance.create_proposal(
                proposer,
                {
                    "title": "Share the surplus",
                    "body": "Patronage for the work done.",
                    "kind": "surplus",
                    "method": "yes_no",
                    "change": change,
                },
            )
            governance.review_proposal(coordinator, proposal, "accept")

        self.attempt("propose_surplus", propose)

    @when_any(Proposal.status == "open")
    @rule(first=index, voters=st.integers(1, WORKERS + COORDINATORS), noes=st.integers(0, 2), abstain=st.booleans())
    def members_vote(self, first, voters, noes, abstain):
        """Some members vote, one ballot each (a step each); when all have, the vote closes and is enacted."""
        proposal = db.session.scalar(sa.select(Proposal).where(Proposal.status == "open").order_by(Proposal.id))
        members = (
            self.coop.members[first % len(self.coop.members) :] + self.coop.members[: first % len(self.coop.members)]
        )
        for n, member_id in enumerate(members[:voters]):
            choice = "no" if n < noes else "abstain" if abstain and n == noes else "yes"
            self.attempt(
                "vote",
                lambda member_id=member_id, choice=choice: governance.cast_ballot(
                    self.user(member_id), proposal, {"choice": choice}
                ),
            )
            self.books_hold()

    # --- invariants -----------------------------------------------------------------------

    @invariant()
    def books_hold(self):
        db.session.expire_all()
        check_books(self.baseline_drift, self.rounding)

    @invariant()
    def patronage_is_what_the_votes_enacted(self):
        enacted = db.session.scalars(
            sa.select(Proposal).where(Proposal.kind == "surplus", Proposal.status == "enacted")
        ).all()
        allocated = defaultdict(int)
        for user_id, cents in db.session.execute(
            sa.select(ShareLine.user_id, ShareLine.amount_cents).where(ShareLine.kind == "patronage")
        ):
            allocated[user_id] += cents
        assert sum(allocated.values()) == sum(p.change["amount_cents"] for p in enacted)
        for user_id, cents in allocated.items():
            assert ledger.balance(governance.patronage_account(user_id)) == cents
        self.enacted_seen.update(p.id for p in enacted)

    @invariant()
    def closed_votes_count_every_ballot_once(self):
        for proposal in db.session.scalars(sa.select(Proposal).where(Proposal.result.is_not(None))):
            cast = db.session.scalar(
                sa.select(sa.func.count()).select_from(Ballot).where(Ballot.proposal_id == proposal.id)
            )
            assert proposal.result["ballots"] == cast == proposal.ballot_count

    # --- collective power: members pause a harmful batch, suspend a requester -------------

    @when_any(Batch.status == "open")
    # Every member first: draws favour the first choice, and it takes batch_flags_to_pause (5) to pause.
    @rule(b=index, m=index, flaggers=st.sampled_from([WORKERS + COORDINATORS, 1, 2]))
    def members_flag_a_batch(self, b, m, flaggers):
        """Some members flag one running batch, a step each; enough of them pause it."""
        batch_id = pick(sa.select(Batch.id).where(Batch.status == "open").order_by(Batch.id), b)
        if batch_id is None:
            return
        members = self.coop.members[m % len(self.coop.members) :] + self.coop.members[: m % len(self.coop.members)]
        for member_id in members[:flaggers]:
            self.attempt(
                "flag_batch",
                lambda member_id=member_id: marketplace.flag_batch(
                    self.user(member_id), db.session.get(Batch, batch_id), "Asks for fake reviews."
                ),
            )
            self.books_hold()

    @when_any(Batch.paused_reason == "flags")
    # Two arguments, so Hypothesis draws it about as often as the other coordinators' steps.
    @rule(b=index, c=index)
    def a_coordinator_answers_the_flags(self, b, c):
        """Resume the paused batch, or uphold the flags: cancelled, unclaimed slots refunded."""
        batch_id = pick(sa.select(Batch.id).where(Batch.paused_reason == "flags").order_by(Batch.id), b)
        if batch_id is None:
            return
        batch = db.session.get(Batch, batch_id)
        coordinator = self.user(self.coop.coordinators[c % COORDINATORS])
        # Taken in turns: draws favour small numbers, and both answers must come up.
        uphold = self.tally["resume_batch"]["done"] > self.tally["uphold_flags"]["done"]
        decide = marketplace.cancel_flagged_batch if uphold else marketplace.resume_flagged_batch
        self.attempt("uphold_flags" if uphold else "resume_batch", lambda: decide(coordinator, batch, "Read them all."))

    # One vote at a time; only the last requester is ever suspended, so the others keep posting.
    @precondition(lambda machine: not exists(Proposal.status.in_(("submitted", "open"))))
    @rule(m=index, c=index)
    def propose_suspension(self, m, c):
        proposer = self.user(self.coop.members[m % len(self.coop.members)])
        coordinator = self.user(self.coop.coordinators[c % COORDINATORS])

        def propose():
            proposal = governance.create_proposal(
                proposer,
                {
                    "title": "Suspend a requester",
                    "body": "Their batches harm us.",
                    "kind": "requester_suspension",
                    "method": "yes_no",
                    "change": {"requester_id": self.coop.requesters[-1]},
                },
            )
            governance.review_proposal(coordinator, proposal, "accept")

        self.attempt("propose_suspension", propose)

    @invariant()
    def a_flag_paused_batch_takes_no_claims(self):
        for batch in db.session.scalars(sa.select(Batch).where(Batch.paused_reason == "flags")):
            assert not exists(Assignment.batch_id == batch.id, Assignment.claimed_at > batch.paused_at)
            assert marketplace.open_flag_count(batch) >= current_terms().params["batch_flags_to_pause"]
            self.tally["paused_by_flags"]["seen"] += 1

    @invariant()
    def a_suspended_requester_has_no_work_on_offer(self):
        for suspension in db.session.scalars(sa.select(RequesterSuspension)):
            mine = Batch.requester_id == suspension.requester_id
            assert not exists(mine, Batch.status.in_(("open", "paused_underpaid")))
            assert not exists(mine, Batch.created_at > suspension.suspended_at)
            assert not exists(Slot.batch_id == Batch.id, mine, Slot.state == "open")
            self.tally["suspension_in_force"]["seen"] += 1

    # --- fair work: returns, bonuses, pilots ----------------------------------------------

    @when_any(Assignment.id.is_not(None))
    @rule(a=index, own=st.booleans())
    def return_claim(self, a, own):
        """A worker gives a claim back; sometimes a claim of any state, or someone else's (refused)."""
        query = sa.select(Assignment.id).order_by(Assignment.id)
        assignment_id = pick(query.where(Assignment.status == "claimed") if a % 4 != 3 else query, a)
        if assignment_id is None:
            return
        assignment = db.session.get(Assignment, assignment_id)
        worker = assignment.worker if own else self.user(self.coop.members[a % len(self.coop.members)])
        self.attempt("return_claim", lambda: marketplace.return_claim(worker, assignment))

    @when_any(Assignment.submitted_at.is_not(None))
    @rule(a=index, r=index, amount=st.sampled_from([7, 1, 50, 100_000]))
    def pay_bonus(self, a, r, amount):
        """A requester pays a bonus on handed-in work (refused on other work, others' work, or when short)."""
        query = sa.select(Assignment.id).order_by(Assignment.id)
        handed_in = query.where(Assignment.status.in_(("submitted", "approved")))
        assignment_id = pick(handed_in if a % 4 != 3 else query, a)
        if assignment_id is None:
            return
        assignment = db.session.get(Assignment, assignment_id)
        requester = assignment.batch.requester if r % 4 != 3 else self.user(self.coop.requesters[r % REQUESTERS])
        self.attempt("pay_bonus", lambda: marketplace.pay_bonus(requester, assignment, amount, "Careful work."))

    @rule(r=index, items=st.integers(2, 4), pilot=st.integers(1, 2), reward=st.sampled_from([20, 23]))
    def post_pilot(self, r, items, pilot, reward):
        requester = self.user(self.coop.requesters[r % REQUESTERS])
        body = batch_body(items=items, reward_cents=reward, pilot_slots=pilot)
        batch = self.attempt("post_pilot", lambda: marketplace.create_batch(requester, body))
        if batch is not None:
            self.rounds(batch.id, reward)

    @when_any(Batch.status == "pilot")
    @rule(m=index, b=index)
    def claim_pilot(self, m, b):
        """A member claims pilot work (refused once the pilot's slots are taken)."""
        batch_id = pick(sa.select(Batch.id).where(Batch.status == "pilot").order_by(Batch.id), b)
        member = self.user(self.coop.members[(m + self.steps) % len(self.coop.members)])
        self.attempt("claim", lambda: marketplace.claim(member, db.session.get(Batch, batch_id)))

    @when_any(Batch.id.is_not(None))
    @rule(b=index, delta=st.sampled_from([0, 7, 10, -1]), slower=st.booleans())
    def launch(self, b, delta, slower):
        """A requester launches a pilot, maybe raising the reward or the estimate (refused below the terms)."""
        query = sa.select(Batch.id).order_by(Batch.id)
        batch_id = pick(query.where(Batch.status == "pilot") if b % 4 != 3 else query, b)
        if batch_id is None:
            return
        batch = db.session.get(Batch, batch_id)
        revision = {"reward_cents": batch.reward_cents + delta, "est_seconds": batch.est_seconds * (3 if slower else 1)}
        if self.attempt("launch", lambda: marketplace.launch(batch.requester, batch, revision)) and delta > 0:
            self.rounds(batch.id, delta)


def test_books_balance_after_every_step_of_any_sequence(session, frozen_clock):
    coop = Coop()
    db.session.commit()
    tally: dict = defaultdict(Counter)
    enacted: set = set()
    baseline = ledger_drift()

    def machine():
        run = MoneyMachine()
        run.coop, run.tally, run.baseline_drift, run.enacted_seen = coop, tally, baseline, enacted
        return run

    run_state_machine_as_test(
        machine,
        settings=settings(
            max_examples=25,
            stateful_step_count=30,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )

    # The run must have reached every kind of step, or it proved less than it claims.
    done = {name for name, counts in tally.items() if counts["done"]}
    assert done >= {
        "deposit",
        "post_batch",
        "claim",
        "submit",
        "review",
        "appeal",
        "decide_appeal",
        "raise_reward",
        "cancel",
        "request_payout",
        "confirm_payout",
        "leases_lapse",
        "reviews_lapse",
        "propose_surplus",
        "vote",
        "return_claim",
        "pay_bonus",
        "post_pilot",
        "launch",
    }, dict(tally)
    assert enacted, "no surplus was ever distributed"
    assert done >= {"flag_batch", "resume_batch", "uphold_flags", "propose_suspension"}, str(
        {k: dict(v) for k, v in tally.items()}
    )
    assert tally["paused_by_flags"]["seen"] and tally["suspension_in_force"]["seen"], {
        k: dict(v) for k, v in tally.items()
    }


def test_a_rejection_after_the_auto_approval_time_finds_the_work_already_approved(session, frozen_clock):
    # The tick may not have run yet; the lazy rule still holds: overdue work is approved, not rejectable.
    coop = Coop()
    requester = db.session.get(User, coop.requesters[0])
    ledger.move(ledger.EXTERNAL, ledger.requester_available(requester.id), 1_000, "test deposit")
    batch = marketplace.create_batch(requester, batch_body(items=1))
    worker = db.session.get(User, coop.workers[0])
    assignment = marketplace.submit(worker, marketplace.claim(worker, batch), {"total": "1"})
    clock.advance(timedelta(hours=72, seconds=1))

    with pytest.raises(CoopError, match="this assignment is approved"):
        marketplace.review(requester, assignment, "reject", "Too late to look.")

    assert assignment.status == "approved" and assignment.review_decision == "auto"
    assert ledger.balance(ledger.worker_earnings(coop.workers[0])) == 20
    check_books()
