"""A believable demo coop for `flask coop seed-demo` and `make run`."""
import sqlalchemy as sa

from coop.accounts import services as accounts
from coop.accounts.models import User
from coop.extensions import db
from coop.governance import services as governance

DEMO_PASSWORD = "demo-password-123"

DEMO_WORKERS = [
    ("amara@demo.coop", "Amara"),
    ("bao@demo.coop", "Bao"),
    ("carmen@demo.coop", "Carmen"),
    ("dmitri@demo.coop", "Dmitri"),
    ("esi@demo.coop", "Esi"),
]


def seed() -> str:
    """Create the demo coop unless it exists; returns what happened."""
    if db.session.scalar(sa.select(User.id).where(User.email == DEMO_WORKERS[0][0])) is not None:
        return "Demo data already present; nothing to do."
    workers = [accounts.register(email, DEMO_PASSWORD, name, "worker") for email, name in DEMO_WORKERS]
    governance.found_coordinator(workers[0].email)
    for worker in workers[1:4]:
        governance.admit(worker)
    accounts.register("lab@demo.coop", DEMO_PASSWORD, "Northwind Data Lab", "requester", "Northwind Data Lab")
    return f"Demo coop seeded: sign in as amara@demo.coop (coordinator) or lab@demo.coop (requester), password {DEMO_PASSWORD}."
