"""Time-driven work: each domain's sweep of what has fallen due, run every minute as a periodic job.

Each sweep is idempotent (what it did is no longer due), so a job run twice, or the tick command
run beside the worker, changes nothing the second time. The lazy application of due changes on
read stays: the sweeps only make sure nothing waits for a reader.
"""

from collections.abc import Callable
from datetime import datetime

from coop import clock, jobs


def _sweeps() -> list[tuple[str, str, Callable[[datetime], str]]]:
    """(label, job name, sweep) for every domain's time-driven work, in the order it must run."""
    from coop import idempotency
    from coop.governance import services as governance
    from coop.marketplace import services as marketplace
    from coop.notifications import services as notifications
    from coop.webhooks import services as webhooks

    # Votes close before marketplace work, so terms a vote enacts apply to this tick; reminders after
    # the close, so a vote closed this tick is not reminded; the digest last, gathering all.
    return [
        ("governance", "tick.governance", governance.tick),
        ("outcome reviews", "tick.outcome_reviews", governance.mark_reviews_due),
        ("marketplace", "tick.marketplace", marketplace.tick),
        ("vote reminders", "tick.vote_reminders", notifications.remind_closing_votes),
        ("notification digests", "tick.notification_digests", notifications.send_digests),
        ("webhook retries", "tick.webhook_retries", lambda now: f"{webhooks.retry_due(now)} deliveries due again"),
        ("idempotency", "tick.idempotency", idempotency.purge_expired),
    ]


# Sweeps that need not run every minute: reminders hourly, the digest once a day (06:00 UTC); each is
# idempotent whenever it runs (one reminder per member and vote, one digest per member and day).
CRON = {"tick.vote_reminders": "5 * * * *", "tick.notification_digests": "0 6 * * *"}


def _register() -> None:
    sweeps = _sweeps()
    for position, (_label, name, sweep) in enumerate(sweeps):

        def run(sweep: Callable[[datetime], str] = sweep) -> str:
            return sweep(clock.now())

        # Priority keeps the order above when the worker finds several due at once.
        jobs.task(name, cron=CRON.get(name, jobs.EVERY_MINUTE), priority=len(sweeps) - position)(run)


_register()
