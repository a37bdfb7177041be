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

    # Votes close before marketplace work, so terms a vote enacts apply to this tick.
    return [
        ("governance", "tick.governance", governance.tick),
        ("outcome reviews", "tick.outcome_reviews", governance.mark_reviews_due),
        ("marketplace", "tick.marketplace", marketplace.tick),
        ("idempotency", "tick.idempotency", idempotency.purge_expired),
    ]


def _register() -> None:
    sweeps = _sweeps()
    for position, (_label, name, sweep) in enumerate(sweeps):

        def run(sweep: Callable[[datetime], str] = sweep) -> str:
            return sweep(clock.now())

        # Priority keeps the order above when the worker finds several due at once.
        jobs.task(name, cron=jobs.EVERY_MINUTE, priority=len(sweeps) - position)(run)


_register()
