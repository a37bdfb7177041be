"""`flask coop ...`: founding, demo data, time-driven work and audit verification."""

import sys

import click
from flask.cli import AppGroup

from coop import audit
from coop.extensions import db

coop_cli = AppGroup("coop", help="Run the coop: init, create-coordinator, seed-demo, tick, verify-audit.")


def _tick_functions():
    """Every domain's time-driven work, in the order it must run."""
    from coop import idempotency
    from coop.governance import services as governance
    from coop.marketplace import services as marketplace
    from coop.webhooks import services as webhooks

    # Votes close before marketplace work, so terms a vote enacts apply to this tick.
    return [
        ("governance", governance.tick),
        ("outcome reviews", governance.mark_reviews_due),
        ("marketplace", marketplace.tick),
        ("idempotency", idempotency.purge_expired),
        ("webhook retries", webhooks.retry_due),
    ]


@coop_cli.command("init")
def init():
    """Found the coop: terms v1, the rule documents and the boards (safe to run again)."""
    from coop.forum.services import ensure_default_boards
    from coop.governance.services import found

    created = found() + [f"board {slug}" for slug in ensure_default_boards()]
    db.session.commit()
    click.echo("Created: " + ", ".join(created) if created else "Already initialised; nothing to do.")


# Founders' shares arrive before there is a coordinator to confirm them in the API, so the
# founding commands name the transfer that paid them.
def _checked_reference(ctx, param, reference: str) -> str:
    from coop.ledger import PAYMENT_REFERENCE_MAX

    reference = reference.strip()
    if not reference or len(reference) > PAYMENT_REFERENCE_MAX:
        raise click.BadParameter(f"give between 1 and {PAYMENT_REFERENCE_MAX} characters")
    return reference


payment_reference_option = click.option(
    "--payment-reference",
    default="founding",
    show_default=True,
    callback=_checked_reference,
    help="Reference of the transfer that paid the founders' shares, recorded in the share register.",
)


@coop_cli.command("create-coordinator")
@click.argument("email")
@payment_reference_option
def create_coordinator(email, payment_reference):
    """Founding step: make an existing worker a member holding one share, and a coordinator."""
    from coop.governance.services import found_coordinator

    try:
        user = found_coordinator(email, payment_reference)
    except Exception as exc:  # CoopError and friends carry a message meant for people
        db.session.rollback()
        click.echo(f"Error: {getattr(exc, 'message', exc)}", err=True)
        sys.exit(1)
    db.session.commit()
    click.echo(f"{user.display_name} is now a member and a coordinator.")


@coop_cli.command("seed-demo")
@payment_reference_option
def seed_demo(payment_reference):
    """Fill the database with a believable demo coop (once)."""
    from coop.demo import seed

    message = seed(payment_reference)
    db.session.commit()
    click.echo(message)


@coop_cli.command("tick")
def tick():
    """Do all time-driven work that is due: close votes, expire leases, auto-approve."""
    from coop import clock

    now = clock.now()
    for name, work in _tick_functions():
        done = work(now)
        db.session.commit()
        click.echo(f"{name}: {done}")
    click.echo("tick done")


@coop_cli.command("verify-audit")
def verify_audit():
    """Recompute the audit log's hash chain; exits non-zero naming the first bad entry."""
    verdict = audit.verify()
    if verdict.ok:
        click.echo(f"Audit chain intact: {verdict.checked} entries verified.")
        return
    click.echo(
        f"Audit chain broken at entry {verdict.first_bad_seq}: {verdict.reason} "
        f"({verdict.checked} entries before it are intact).",
        err=True,
    )
    sys.exit(1)
