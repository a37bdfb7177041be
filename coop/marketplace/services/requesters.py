"""Requesters in the open: figures from their record and members' reviews of them."""

import math
import statistics
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import joinedload

from coop import clock
from coop.accounts.models import User
from coop.errors import Forbidden
from coop.extensions import db
from coop.marketplace import pay
from coop.marketplace.models import Appeal, Assignment, Batch, RequesterReview
from coop.marketplace.services.common import paged
from coop.marketplace.services.suspension import suspension_of


def _median(values: list) -> float | None:
    return statistics.median(values) if values else None


RECENT_DAYS = 90


def _hours(pairs) -> list[float]:
    return [(later - earlier).total_seconds() / 3600 for earlier, later in pairs]


def _rounded(value, places: int = 2):
    return round(float(value), places) if value is not None else None


def _figures(requester: User, since: datetime | None) -> dict:
    """A requester's record over work submitted (batches posted, reviews written) since `since`, or all of it."""
    batch_ids = sa.select(Batch.id).where(Batch.requester_id == requester.id).scalar_subquery()
    recent_batches = [Batch.created_at >= since] if since else []
    recent_work = [Assignment.submitted_at >= since] if since else []
    recent_reviews = [RequesterReview.updated_at >= since] if since else []
    posted = db.session.scalar(
        sa.select(sa.func.count()).select_from(Batch).where(Batch.requester_id == requester.id, *recent_batches)
    )
    decisions = dict(
        db.session.execute(
            sa.select(Assignment.review_decision, sa.func.count())
            .where(Assignment.batch_id.in_(batch_ids), Assignment.review_decision.is_not(None), *recent_work)
            .group_by(Assignment.review_decision)
        ).all()
    )
    decided = sum(decisions.values())
    overturned = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(Appeal)
        .join(Assignment, Assignment.id == Appeal.assignment_id)
        .where(Assignment.batch_id.in_(batch_ids), Appeal.status == "overturned", *recent_work)
    )
    review_hours = _hours(
        db.session.execute(
            sa.select(Assignment.submitted_at, Assignment.reviewed_at).where(
                Assignment.batch_id.in_(batch_ids), Assignment.reviewed_at.is_not(None), *recent_work
            )
        ).all()
    )
    # Paid means approved (by the requester or automatically): the reward reached the worker's earnings then.
    payment_hours = _hours(
        db.session.execute(
            sa.select(Assignment.submitted_at, Assignment.approved_at).where(
                Assignment.batch_id.in_(batch_ids), Assignment.approved_at.is_not(None), *recent_work
            )
        ).all()
    )
    hourly = [
        pay.hourly_rate_cents(reward, seconds)
        for reward, seconds in db.session.execute(
            sa.select(Batch.reward_cents, Assignment.real_seconds)
            .join(Batch, Batch.id == Assignment.batch_id)
            .where(Batch.requester_id == requester.id, Assignment.real_seconds > 0, *recent_work)
        ).all()
    ]
    reviews = db.session.execute(
        sa.select(
            sa.func.count(),
            sa.func.avg(RequesterReview.rating),
            sa.func.avg(RequesterReview.pay_rating),
            sa.func.avg(RequesterReview.speed_rating),
            sa.func.avg(RequesterReview.communication_rating),
            sa.func.count(RequesterReview.would_work_again),
            sa.func.sum(sa.case((RequesterReview.would_work_again.is_(True), 1), else_=0)),
            sa.func.count(RequesterReview.broke_terms),
            sa.func.sum(sa.case((RequesterReview.broke_terms.is_(True), 1), else_=0)),
        ).where(RequesterReview.requester_id == requester.id, *recent_reviews)
    ).one()
    count, rating, pay_avg, speed_avg, communication_avg, again_said, again, broke_said, broke = reviews
    median_review = _median(review_hours)
    median_hourly = _median(hourly)
    return {
        "batches_posted": posted,
        "approval_rate": (
            round((decisions.get("approve", 0) + decisions.get("auto", 0)) / decided, 4) if decided else None
        ),
        "rejection_rate": round(decisions.get("reject", 0) / decided, 4) if decided else None,
        "appeals_overturned": overturned,
        "median_review_hours": _rounded(median_review),
        # Floored, like every rate here, so a requester is never shown as paying more than it does.
        "median_real_hourly_cents": math.floor(median_hourly) if median_hourly is not None else None,
        "median_hours_to_payment": _rounded(_median(payment_hours)),
        "mean_hours_to_payment": _rounded(statistics.fmean(payment_hours) if payment_hours else None),
        "review_count": count,
        "average_rating": _rounded(rating),
        "average_pay": _rounded(pay_avg),
        "average_approval_speed": _rounded(speed_avg),
        "average_communication": _rounded(communication_avg),
        "would_work_again_share": round(again / again_said, 4) if again_said else None,
        "broke_terms_share": round(broke / broke_said, 4) if broke_said else None,
    }


def requester_stats(requester: User) -> dict:
    """Figures computed from a requester's record and members' reviews, all-time and over the last 90 days."""
    since = clock.now() - timedelta(days=RECENT_DAYS)
    return {
        "requester_id": requester.id,
        "display_name": requester.display_name,
        "organization": requester.organization,
        "suspended": suspension_of(requester.id) is not None,
        **_figures(requester, None),
        "last_90_days": _figures(requester, since),
    }


def review_requester(member: User, requester: User, data: dict) -> tuple[RequesterReview, bool]:
    """A member who submitted work for a requester reviews them; a second review replaces the first.

    Submitting is enough: a requester who never reviews work must not escape being reviewed for it.
    """
    worked = db.session.scalar(
        sa.select(Assignment.id)
        .join(Batch, Batch.id == Assignment.batch_id)
        .where(
            Batch.requester_id == requester.id, Assignment.worker_id == member.id, Assignment.submitted_at.is_not(None)
        )
        .limit(1)
    )
    if worked is None:
        raise Forbidden(_("Only members who submitted work for this requester can review them."))
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
    dimensions = (data.get("pay"), data.get("approval_speed"), data.get("communication"))
    rating = data.get("rating")
    if rating is None:
        # Half up, so a 2-3-3 review reads as 3, not as the banker's 2.
        rating = math.floor(sum(d for d in dimensions if d is not None) / 3 + 0.5)
    review_row.rating = rating
    review_row.pay_rating, review_row.speed_rating, review_row.communication_rating = dimensions
    review_row.would_work_again, review_row.broke_terms = data.get("would_work_again"), data.get("broke_terms")
    review_row.text, review_row.updated_at = data.get("text", "").strip(), now
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
