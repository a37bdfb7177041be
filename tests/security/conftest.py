"""Security fixtures: one caller per role and a world of objects, each owned by the party a route protects."""

import uuid

import pytest
import sqlalchemy as sa

from coop import clock, ledger
from coop.accounts import services as accounts
from coop.extensions import db
from coop.forum import services as forum
from coop.forum.models import Board
from coop.governance import services as governance
from coop.marketplace import services as market
from coop.marketplace.schemas import BatchCreateSchema
from tests.marketplace.conftest import batch_body

ANON = "anonymous"
WORKER = "worker"
MEMBER = "member"
COORD = "coordinator"
REQ = "requester"
OTHER = "other_requester"
# Who may call a route: nobody signed in, a worker who is not a member, a member, a coordinator,
# the requester who owns the objects, and a requester who owns none of them.
ROLES = (ANON, WORKER, MEMBER, COORD, REQ, OTHER)

FUNDS = 100_000


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


class World:
    """The callers of each role and, made on demand through the services, the objects they act on.

    Ownership is fixed: batches, deposits and withdrawals are the requester's; assignments,
    appeals, forum posts and forum appeals are the member's; proposals are a third member's
    (so the member may co-sign); posts are hidden by a second coordinator (so the coordinator
    role may decide the appeal). Those extra people are `user("proposer")`, `user("moderator")`
    and `user("second_member")`; `caller` is the user a test acts as, for builders that
    prepare the caller (funds to withdraw).
    """

    def __init__(self, make):
        self.make = make
        self._users: dict = {}
        self._clients: dict = {}
        self.caller = None

    # --- people ------------------------------------------------------------------------

    def user(self, role: str):
        """The user acting in `role` (None for anonymous), made on first use."""
        if role == ANON:
            return None
        if role not in self._users:
            makers = {
                WORKER: self.make.worker,
                MEMBER: self.make.member,
                COORD: self.make.coordinator,
                REQ: self.make.requester,
                OTHER: self.make.requester,
                "proposer": self.make.member,
                "moderator": self.make.coordinator,
                "second_member": self.make.member,
            }
            self._users[role] = makers[role]()
            if role in (REQ, OTHER):
                self.fund(self._users[role])
        return self._users[role]

    def client(self, role: str):
        if role not in self._clients:
            self._clients[role] = self.make.client(self.user(role))
        return self._clients[role]

    @property
    def requester(self):
        return self.user(REQ)

    @property
    def member(self):
        return self.user(MEMBER)

    @property
    def coordinator(self):
        return self.user(COORD)

    def fund(self, user, cents: int = FUNDS) -> None:
        """Money in the user's spendable account: a requester's available funds or a worker's earnings."""
        account = (ledger.requester_available if user.kind == "requester" else ledger.worker_earnings)(user.id)
        ledger.move(ledger.EXTERNAL, account, cents, "test funds")

    def webhook(self, owner=None):
        """A webhook of the requester's (REQ), subscribed to its batches' completion."""
        from coop.webhooks import services as webhooks

        hook, _secret = webhooks.create_webhook(
            owner or self.requester, {"url": "http://127.0.0.1:9/hooks", "events": ["batch.completed"]}
        )
        return hook

    def webhook_delivery(self, webhook):
        """A delivery to `webhook` that was sent once and failed."""
        from coop.webhooks.models import WebhookDelivery

        now = clock.now()
        delivery = WebhookDelivery(
            webhook_id=webhook.id,
            msg_id=f"msg_{unique('d')}",
            event="batch.completed",
            body='{"type":"batch.completed","timestamp":"2026-12-01T00:00:00+00:00","data":{"batch_id":1}}',
            created_at=now,
            status="failed",
            attempts=1,
            retry_until=now,
        )
        db.session.add(delivery)
        db.session.flush()
        return delivery

    def applicant(self):
        """A worker who announced their share transfer and waits for a coordinator to confirm it."""
        user = self.make.worker()
        governance.apply_for_membership(user, {"payment_reference": f"transfer {user.id}"})
        return user

    def token(self, role: str = MEMBER):
        token, _ = accounts.issue_token(self.user(role), "laptop")
        return token

    # --- marketplace -------------------------------------------------------------------

    def batch(self, owner=None, items: int = 3, **overrides):
        return market.create_batch(owner or self.requester, BatchCreateSchema().load(batch_body(items, **overrides)))

    def assignment(self, status: str = "claimed", worker=None, batch=None):
        """An assignment of `worker` (the member) on the requester's batch, brought to `status`."""
        batch = batch or self.batch()
        worker = worker or self.member
        assignment = market.claim(worker, batch)
        if status in ("submitted", "rejected", "approved"):
            market.submit(worker, assignment, {"label": "stop sign"})
        if status == "rejected":
            market.review(batch.requester, assignment, "reject", "Boxes do not cover the signs.")
        elif status == "approved":
            market.review(batch.requester, assignment, "approve", None)
        return assignment

    def appeal(self, worker=None):
        """A pending appeal by `worker` (the member) against a rejection."""
        assignment = self.assignment("rejected", worker=worker)
        return market.file_appeal(assignment.worker, assignment, "The boxes do cover the signs.")

    def deposit(self, owner=None):
        return market.request_deposit(owner or self.requester, 5_000)

    def withdrawal(self, owner=None):
        return market.request_withdrawal(owner or self.requester, 1_000)

    # --- governance --------------------------------------------------------------------

    def proposal(self, status: str = "submitted", proposer=None):
        proposal = governance.create_proposal(
            proposer or self.user("proposer"),
            {"title": "Hold a members' assembly", "body": "Let us meet.", "kind": "general", "method": "yes_no"},
        )
        if status == "open":
            governance.review_proposal(self.user("moderator"), proposal, "accept")
        return proposal

    # --- forum -------------------------------------------------------------------------

    def board(self, slug: str = "members"):
        return db.session.scalar(sa.select(Board).where(Board.slug == slug))

    def thread(self, board: str = "members", author=None):
        thread, _ = forum.start_thread(author or self.member, self.board(board), "Strike fund", "Who is in?")
        return thread

    def post(self, board: str = "members", author=None):
        """A post (the first of its thread) written by `author` (the member)."""
        _, post = forum.start_thread(author or self.member, self.board(board), "Strike fund", "Who is in?")
        return post

    def hidden_post(self, author=None):
        """The member's post, hidden by a coordinator who is not the coordinator role."""
        post = self.post(author=author)
        return forum.moderate(self.user("moderator"), post, "hide", "forum-rules", "Rule 2: harassment")

    def flagged_post(self, author=None):
        post = self.post(author=author or self.user("second_member"))
        forum.flag_post(self.user("second_member"), post, "forum-rules", "spam")
        return post

    def forum_appeal(self, author=None):
        """An open appeal by the member against the hiding of their post."""
        post = self.hidden_post(author=author)
        return forum.open_appeal(post.author, post, "It was a joke among friends.")


@pytest.fixture
def world(make):
    return World(make)
