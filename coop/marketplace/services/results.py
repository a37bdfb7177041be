"""Results: a batch's approved work as one CSV file for its requester, read a page at a time."""

from collections.abc import Iterator

import sqlalchemy as sa
from flask import current_app

from coop.accounts.models import User
from coop.extensions import db
from coop.marketplace.models import Assignment, Batch, Item
from coop.marketplace.services.common import check_owns_batch
from coop.marketplace.services.tick import refresh_batch
from coop.marketplace.spreadsheets import results_header, results_line

# A literal, so PostgreSQL always walks the partial index ix_assignments_batch_id_approved.
IS_APPROVED = sa.text("assignments.status = 'approved'")


def export_results(requester: User, batch: Batch) -> tuple[list[str], Iterator[list[str]]]:
    """The header and lines of a batch's results file: every approved assignment, oldest first.

    Who may read it, and which work is due for approval, are settled now; the lines are read
    only as the iterator is consumed, COOP_RESULTS_PAGE_ROWS at a time by keyset, so a
    response can stream 100,000 of them holding one page in memory and no cursor open between pages.
    """
    check_owns_batch(requester, batch)
    refresh_batch(batch)
    batch_id, item_fields, answer_fields = batch.id, batch.item_fields, batch.answer_fields
    page_rows = int(current_app.config["COOP_RESULTS_PAGE_ROWS"])
    page = (
        sa.select(
            Assignment.id,
            Item.data,
            Assignment.answer,
            User.display_name,
            Assignment.submitted_at,
            Assignment.approved_at,
        )
        .join(Item, Item.id == Assignment.item_id)
        .join(User, User.id == Assignment.worker_id)
        .where(Assignment.batch_id == batch_id, IS_APPROVED)
        .order_by(Assignment.id)
        .limit(page_rows)
    )

    def lines() -> Iterator[list[str]]:
        after = 0
        while True:
            rows = db.session.execute(page.where(Assignment.id > after)).all()
            for row in rows:
                yield results_line(
                    item_fields,
                    answer_fields,
                    row.data,
                    row.answer,
                    row.display_name,
                    row.submitted_at,
                    row.approved_at,
                )
            if len(rows) < page_rows:
                return
            after = rows[-1].id

    return results_header(item_fields, answer_fields), lines()
