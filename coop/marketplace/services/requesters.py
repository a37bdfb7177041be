"""Requesters in the open: figures from their record and members' reviews of them."""

import math
import statistics

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from coop import clock
from coop.accounts.models import User
from coop.errors import Forbidden
from coop.extensions import db
from coop.marketplace import pay
from coop.marketplace.models import Appeal, Assignment, Batch, RequesterReview
from coop.marketplace.services.common import paged


def _median(values: list) -> float | None:
    return statistics.median(values) if values else None


def requester_stats(requester: User) -> dict:
    """Figures computed from a requester's record: approvals, rejections, appeals, review time, real pay."""
    batch_ids = sa.select(Batch.id).where(Batch.requester_id == requester.id).scalar_subquery()
    posted = db.session.scalar(sa.select(sa.func.count()).select_from(Batch).where(Batch.requester_id == requester.id))
    decisions = dict(
        db.session.execute(
            sa.select(Assignment.review_decision, sa.func.count())
            .where(Assignment.batch_id.in_(batch_ids), Assignment.review_decision.is_not(None))
            .group_by(Assignment.review_decision)
        ).all()
    )
    decided = sum(decisions.values())
    overturned = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(Appeal)
        .join(Assignment, Assignment.id == Appeal.assignment_id)
        .where(Assignment.batch_id.in_(batch_ids), Appeal.status == "overturned")
    )
    review_hours = [
        (reviewed - submitted).total_seconds() / 3600
        for submitted, reviewed in db.session.execute(
            sa.select(Assignment.submitted_at, Assignment.reviewed_at).where(
                Assignment.batch_id.in_(batch_ids), Assignment.reviewed_at.is_not(None)
            )
        ).all()
    ]
    hourly = [
        pay.hourly_rate_cents(reward, seconds)
        for reward, seconds in db.session.execute(
            sa.select(Batch.reward_cents, Assignment.real_seconds)
            .join(Batch, Batch.id == Assignment.batch_id)
            .where(Batch.requester_id == requester.id, Assignment.real_seconds > 0)
        ).all()
    ]
    ratings = db.session.execute(
        sa.select(sa.func.count(), sa.func.avg(RequesterReview.rating)).where(
            RequesterReview.requester_id == requester.id
        )
    ).one()
    median_review = _median(review_hours)
    median_hourly = _median(hourly)
    return {
        "requester_id": requester.id,
        "display_name": requester.display_name,
        "organization": requester.organization,
        "batches_posted": posted,
        "approval_rate": (
            round((decisions.get("approve", 0) + decisions.get("auto", 0)) / decided, 4) if decided else None
        ),
        "rejection_rate": round(decisions.get("reject", 0) / decided, 4) if decided else None,
        "appeals_overturned": overturned,
        "median_review_hours": round(median_review, 2) if median_review is not None else None,
        # Floored, like every rate here, so a requester is never shown as paying more than it does.
        "median_real_hourly_cents": math.floor(median_hourly) if median_hourly is not None else None,
        "review_count": ratings[0],
        "average_rating": round(float(ratings[1]), 2) if ratings[1] is not None else None,
    }


def review_requester(member: User, requester: User, rating: int, text: str) -> tuple[RequesterReview, bool]:
    """A member who worked for a requester reviews them; a second review replaces the first."""
    worked = db.session.scalar(
        sa.select(Assignment.id)
        .join(Batch, Batch.id == Assignment.batch_id)
        .where(
            Batch.requester_id == requester.id, Assignment.worker_id == member.id, Assignment.submitted_at.is_not(None)
        )
        .limit(1)
    )
    if worked is None:
        raise Forbidden("Only members who submitted work for this requester can review them.")
    now = clock.now()
    review_row = db.session.scalar(
        sa.select(RequesterReview).where(
            RequesterReview.requester_id == requester.id, RequesterReview.member_id == member.id
        )
    )
    created = review_row is None
    if created:
        review_row = RequesterReview(requester_id=requester.id, member_id=member.id, created_at=now)
        db.session.add(review_row)
    review_row.rating, review_row.text, review_row.updated_at = rating, text.strip(), now
    db.session.flush()
    return review_row, created


def requester_reviews(requester: User, args: dict) -> tuple[list[RequesterReview], str | None]:
    """Members' reviews of a requester, newest first, authors by pseudonym."""
    stmt = (
        sa.select(RequesterReview)
        .where(RequesterReview.requester_id == requester.id)
        .options(joinedload(RequesterReview.member))
    )
    return paged(stmt, RequesterReview.id, args)
