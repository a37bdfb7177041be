"""A stateful property test over joining, admission, refusal, leaving, earning and payouts: money never appears."""

from collections import Counter, defaultdict
from datetime import timedelta

import sqlalchemy as sa
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule, run_state_machine_as_test

from coop import clock, ledger
from coop.accounts import services as accounts
from coop.accounts.models import User
from coop.errors import CoopError
from coop.extensions import db
from coop.governance import services as governance
from coop.governance.models import Membership, ShareLine, TermsVersion
from coop.ledger import MAY_GO_NEGATIVE, LedgerAccount, LedgerEntry
from coop.marketplace import services as marketplace
from coop.marketplace.models import Withdrawal
from tests.conftest import PASSWORD

WORKERS = 4
COORDINATORS = 2

index = st.integers(min_value=0, max_value=63)


def fingerprint() -> tuple:
    """Everything a refused step must leave as it was."""

    def rows(*columns, order):
        return tuple(db.session.execute(sa.select(*columns).order_by(order)).all())

    return (
        rows(LedgerAccount.name, LedgerAccount.balance_cents, order=LedgerAccount.name),
        db.session.scalar(sa.select(sa.func.count()).select_from(LedgerEntry)),
        rows(
            Membership.user_id,
            Membership.status,
            Membership.share_paid_cents,
            Membership.payment_reference,
            Membership.ended_at,
            order=Membership.user_id,
        ),
        rows(User.id, User.is_member, User.is_coordinator, order=User.id),
        rows(Withdrawal.id, Withdrawal.status, order=Withdrawal.id),
        db.session.scalar(sa.select(sa.func.count()).select_from(ShareLine)),
    )


class People:
    """The workers and coordinators every run acts as, made once per test (their rows outlive each run)."""

    def __init__(self):
        def worker(label):
            return accounts.register(f"{label}@membership-machine.example.org", PASSWORD, label, "worker")

        self.coordinators = []
        for n in range(COORDINATORS):
            user = worker(f"machine-founder-{n}")
            governance.admit_founder(user, f"founding transfer {n}")
            accounts.set_roles(user, coordinator=True)
            self.coordinators.append(user.id)
        self.workers = [worker(f"machine-applicant-{n}").id for n in range(WORKERS)]


class MembershipMachine(RuleBasedStateMachine):
    """Workers join (by transfer or from earnings), are admitted or refused, leave, earn and are paid out."""

    people: People
    tally: dict

    def __init__(self):
        super().__init__()
        clock.reset()
        self._run = db.session.begin_nested()
        # The model: what really came in for each worker, from outside.
        self.paid_in: dict[int, int] = defaultdict(int)
        self.earned: dict[int, int] = defaultdict(int)

    def teardown(self):
        self._run.rollback()
        db.session.expire_all()
        clock.reset()

    # --- helpers --------------------------------------------------------------------------

    def user(self, user_id: int) -> User:
        return db.session.get(User, user_id)

    def worker(self, w: int) -> User:
        return self.user(self.people.workers[w % WORKERS])

    def coordinator(self, c: int) -> User:
        return self.user(self.people.coordinators[c % COORDINATORS])

    def status(self, user: User) -> str | None:
        membership = db.session.get(Membership, user.id)
        return membership.status if membership else None

    def attempt(self, name: str, action):
        """Run one step as a request runs: all of it, or on a refusal nothing at all."""
        db.session.expire_all()
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

    def adopt(self, **changes) -> None:
        current = governance.current_terms()
        db.session.add(
            TermsVersion(version=current.version + 1, params={**current.params, **changes}, effective_at=clock.now())
        )
        db.session.flush()

    # --- joining ----------------------------------------------------------------------------

    def pick(self, w: int, *statuses: str) -> User:
        """Mostly a worker in one of these states (when there is one), sometimes anyone (to be refused)."""
        ids = list(
            db.session.scalars(
                sa.select(Membership.user_id)
                .where(Membership.status.in_(statuses), Membership.user_id.in_(self.people.workers))
                .order_by(Membership.user_id)
            )
        )
        if ids and w % 4 != 3:
            return self.user(ids[w % len(ids)])
        return self.worker(w)

    # Joining and deciding are one rule each of a single argument: Hypothesis favours rules with
    # fewer arguments, and applications must meet their decisions often enough to matter.
    @rule(choice=st.tuples(index, st.sampled_from(["earnings", "reference", "empty"])))
    def join(self, choice):
        w, how = choice
        # Mostly someone who may join (with the earnings to pay, for that way), sometimes anyone (refused).
        live = set(
            db.session.scalars(
                sa.select(Membership.user_id).where(Membership.status.in_(("member", "pending_payment", "applicant")))
            )
        )
        price = governance.current_terms().params["share_price_cents"]
        candidates = [
            u
            for u in self.people.workers
            if u not in live and (how != "earnings" or ledger.balance(ledger.worker_earnings(u)) >= price)
        ]
        worker = self.user(candidates[w % len(candidates)]) if candidates and w % 4 != 3 else self.worker(w)
        body = {"earnings": {"pay_from": "earnings"}, "reference": {"payment_reference": f"transfer {w}"}, "empty": {}}[
            how
        ]
        self.attempt(
            "join_from_earnings" if how == "earnings" else "join_by_transfer",
            lambda: governance.apply_for_membership(worker, body),
        )

    @rule(choice=st.tuples(index, index, st.sampled_from(["admit", "admit", "refuse"]), st.booleans()))
    def decide(self, choice):
        w, c, decision, reference = choice
        worker = self.pick(w, "pending_payment", "applicant")
        coordinator = self.coordinator(c)
        if decision == "refuse":
            self.attempt("refuse", lambda: governance.refuse_applicant(coordinator, worker, "Not now."))
            return
        was_pending = self.status(worker) == "pending_payment"
        price = governance.current_terms().params["share_price_cents"]
        done = self.attempt(
            "admit", lambda: governance.admit_applicant(coordinator, worker, "BANK REF" if reference else None)
        )
        if done is not None and was_pending:
            # The coordinator confirmed the transfer arrived: this money really came in.
            self.paid_in[worker.id] += price

    @rule(w=index)
    def withdraw(self, w):
        worker = self.pick(w, "member")
        self.attempt("withdraw", lambda: governance.withdraw(worker))

    # --- money ------------------------------------------------------------------------------

    @rule(choice=st.tuples(index, st.sampled_from([700, 1_000, 2_500, 3_999]), st.booleans()))
    def earn(self, choice):
        """Approved work paid (a requester's money that arrived from outside), or patronage allocated to a member."""
        w, cents, patronage = choice
        worker = self.pick(w, "member") if patronage else self.worker(w)

        def paid():
            if patronage and self.status(worker) == "member":
                txn = ledger.move(ledger.EXTERNAL, governance.patronage_account(worker.id), cents, "patronage")
                db.session.add(
                    ShareLine(
                        user_id=worker.id,
                        kind="patronage",
                        amount_cents=cents,
                        at=clock.now(),
                        ledger_transaction_id=txn.id,
                        memo="patronage",
                    )
                )
                db.session.flush()
                self.tally["patronage"]["done"] += 1
            else:
                ledger.move(ledger.EXTERNAL, ledger.worker_earnings(worker.id), cents, "approved work")
            self.earned[worker.id] += cents

        self.attempt("earn", paid)

    @rule(w=index, share=st.sampled_from([1, 2, 0]))
    def request_payout(self, w, share):
        worker = self.worker(w)
        earnings = ledger.balance(ledger.worker_earnings(worker.id))
        # All of it, half of it, or a cent more than there is (refused).
        amount = max(1, earnings // share) if share else earnings + 1
        self.attempt("request_payout", lambda: marketplace.request_withdrawal(worker, amount))

    @precondition(lambda machine: db.session.scalar(sa.select(sa.exists().where(Withdrawal.status == "pending"))))
    @rule(c=index)
    def confirm_payout(self, c):
        withdrawal = db.session.scalar(
            sa.select(Withdrawal).where(Withdrawal.status == "pending").order_by(Withdrawal.id).limit(1)
        )
        self.attempt("confirm_payout", lambda: marketplace.confirm_withdrawal(self.coordinator(c), withdrawal))

    # --- time and terms ---------------------------------------------------------------------

    @rule(days=st.sampled_from([1, 12, 31]))
    def time_passes(self, days):
        clock.advance(timedelta(days=days))

    @rule(
        price=st.sampled_from([1_000, 2_500, 4_000]),
        admission=st.sampled_from(["open", "approval"]),
        cooling=st.sampled_from([30, 0]),
    )
    def terms_change(self, price, admission, cooling):
        self.adopt(share_price_cents=price, admission=admission, rejoin_cooling_days=cooling)

    # --- invariants ---------------------------------------------------------------------------

    @invariant()
    def money_never_appears(self):
        """The ledger balances; no worker is paid out more than came in for them; every cent is accounted for."""
        assert ledger.total_of_all_entries() == 0
        negative = db.session.scalar(
            sa.select(sa.func.count())
            .select_from(LedgerAccount)
            .where(LedgerAccount.balance_cents < 0, LedgerAccount.name.not_in(MAY_GO_NEGATIVE))
        )
        assert negative == 0
        workers = self.people.workers
        balances = dict(
            db.session.execute(
                sa.select(LedgerAccount.name, LedgerAccount.balance_cents).where(
                    sa.or_(*(LedgerAccount.name.like(f"%:{w}:%") for w in workers))
                )
            ).all()
        )
        memberships = {
            user_id: (status, paid)
            for user_id, status, paid in db.session.execute(
                sa.select(Membership.user_id, Membership.status, Membership.share_paid_cents).where(
                    Membership.user_id.in_(workers)
                )
            )
        }
        is_member = dict(db.session.execute(sa.select(User.id, User.is_member).where(User.id.in_(workers))).all())
        payouts: dict = defaultdict(int)
        for user_id, status, cents in db.session.execute(
            sa.select(Withdrawal.user_id, Withdrawal.status, sa.func.sum(Withdrawal.amount_cents))
            .where(Withdrawal.user_id.in_(workers))
            .group_by(Withdrawal.user_id, Withdrawal.status)
        ):
            payouts[user_id, status] += int(cents)

        for w in workers:
            came_in = self.paid_in[w] + self.earned[w]
            asked = payouts[w, "pending"] + payouts[w, "confirmed"]
            assert asked <= came_in, f"worker {w} asked to be paid {asked}; only {came_in} came in for them"
            status, share = memberships.get(w, (None, 0))
            held = balances.get(governance.share_held_account(w), 0)
            assert held == (share if status == "applicant" else 0)
            assert (share > 0) == (status in ("member", "applicant"))
            assert is_member[w] == (status == "member")
            holdings = (
                balances.get(ledger.worker_earnings(w), 0)
                + balances.get(ledger.worker_payout_pending(w), 0)
                + balances.get(governance.patronage_account(w), 0)
                + share
                + payouts[w, "confirmed"]
            )
            assert holdings == came_in, f"worker {w} holds or was paid {holdings}; {came_in} came in for them"


def test_no_sequence_of_joining_and_leaving_pays_out_money_that_never_came_in(session, frozen_clock):
    people = People()
    db.session.commit()
    tally: dict = defaultdict(Counter)

    def machine():
        run = MembershipMachine()
        run.people, run.tally = people, tally
        return run

    run_state_machine_as_test(
        machine,
        settings=settings(
            max_examples=15,
            stateful_step_count=30,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )

    # The runs must have reached every kind of step, or they proved less than they claim.
    done = {name for name, counts in tally.items() if counts["done"]}
    assert done >= {
        "join_by_transfer",
        "join_from_earnings",
        "admit",
        "refuse",
        "withdraw",
        "earn",
        "patronage",
        "request_payout",
        "confirm_payout",
    }, dict(tally)
    refused = {name for name, counts in tally.items() if counts["refused"]}
    assert refused >= {"join_by_transfer", "join_from_earnings", "admit", "withdraw", "request_payout"}, dict(tally)
