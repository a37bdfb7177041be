"""Marketplace services: funds, batches bound by the terms, claims, reviews, appeals, the real-pay audit."""
import json
import math
import statistics
from datetime import UTC, date, datetime, time, timedelta

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.attributes import set_committed_value

from coop import audit, clock, ledger
from coop.accounts.models import User
from coop.errors import Conflict, Forbidden, Invalid, NotFound, TermsViolation
from coop.extensions import db
from coop.governance.services import current_terms
from coop.ledger import InsufficientFunds, LedgerEntry
from coop.marketplace import pay
from coop.marketplace.models import (
    CONTENT_WARNINGS,
    PURPOSES,
    Appeal,
    Assignment,
    Batch,
    ConfidentialityAcceptance,
    Deposit,
    Item,
    MemberPreferences,
    RequesterReview,
    Slot,
    Withdrawal,
    warnings_mask,
)
from coop.pagination import keyset_page

# The terms values a batch promises its workers when it is posted.
PROTECTIONS = ("min_hourly_rate_cents", "platform_fee_pct", "auto_approve_hours", "claim_lease_minutes",
               "appeal_window_days")
AUDIT_MIN_SUBMISSIONS = 10
CLAIMABLE = ("open",)
CLOSED = ("cancelled", "expired")

# Literal predicates (not bound parameters) so PostgreSQL can always use the partial indexes,
# even once psycopg prepares the statement and the planner switches to a generic plan.
SLOT_IS_OPEN = sa.text("slots.state = 'open'")
SLOT_IS_LIVE = sa.text("slots.state IN ('open', 'held')")
IS_CLAIMED = sa.text("assignments.status = 'claimed'")
IS_SUBMITTED = sa.text("assignments.status = 'submitted'")
NOT_EXPIRED = sa.text("assignments.status <> 'expired'")
HAS_REAL_TIME = sa.text("assignments.real_seconds IS NOT NULL")


def requester_payout_pending(user_id: int) -> str:
    return f"requester:{user_id}:payout_pending"


def worker_payout_pending(user_id: int) -> str:
    return f"worker:{user_id}:payout_pending"


def _lock(obj):
    """Re-read a row under a row lock, so a decision is taken on its latest committed state."""
    # NO KEY UPDATE: claims insert rows referencing batches and slots (taking KEY SHARE locks),
    # and must not queue behind, or deadlock with, a review or a cancel that holds the row.
    db.session.flush()  # a refresh would otherwise drop changes made earlier in this unit of work
    db.session.refresh(obj, with_for_update={"key_share": True})
    return obj


def _page(stmt, column, args, descending=True):
    items, next_cursor = keyset_page(stmt, [column], limit=args["limit"], cursor=args["cursor"],
                                     descending=descending)
    return {"items": items, "next_cursor": next_cursor}


# --- loading ------------------------------------------------------------------------------


def _get(model, object_id: int, label: str):
    obj = db.session.get(model, object_id)
    if obj is None:
        raise NotFound(f"There is no {label} {object_id}.")
    return obj


def get_batch(batch_id: int) -> Batch:
    """One batch, or 404."""
    return _get(Batch, batch_id, "batch")


def get_assignment(assignment_id: int) -> Assignment:
    """One assignment, or 404."""
    return _get(Assignment, assignment_id, "assignment")


def get_appeal(appeal_id: int) -> Appeal:
    """One appeal, or 404."""
    return _get(Appeal, appeal_id, "appeal")


def get_deposit(deposit_id: int) -> Deposit:
    """One deposit, or 404."""
    return _get(Deposit, deposit_id, "deposit")


def get_withdrawal(withdrawal_id: int) -> Withdrawal:
    """One withdrawal, or 404."""
    return _get(Withdrawal, withdrawal_id, "withdrawal")


def get_requester(user_id: int) -> User:
    """A requester account by user id, or 404 (also for ids of other kinds of account)."""
    user = db.session.get(User, user_id)
    if user is None or user.kind != "requester":
        raise NotFound(f"There is no requester {user_id}.")
    return user


# --- terms and protections ----------------------------------------------------------------


def protections_in_force(batch: Batch, params: dict | None = None) -> dict:
    """Per protection, the more protective of what the batch promised and the terms in force."""
    promised = batch.protections
    now = params or current_terms().params
    return {
        "min_hourly_rate_cents": max(promised["min_hourly_rate_cents"], now["min_hourly_rate_cents"]),
        "auto_approve_hours": min(promised["auto_approve_hours"], now["auto_approve_hours"]),
        "claim_lease_minutes": max(promised["claim_lease_minutes"], now["claim_lease_minutes"]),
        "appeal_window_days": max(promised["appeal_window_days"], now["appeal_window_days"]),
        # The fee is a price agreed at posting, not a protection: it stays what was charged.
        "platform_fee_pct": batch.fee_pct,
    }


def terms_breaches(batch: dict, version: int, params: dict) -> list[tuple[str, str, str]]:
    """Every way a batch breaks the terms: (field, terms parameter, message a requester can act on)."""
    breaches = []
    reward, seconds = batch["reward_cents"], batch["est_seconds"]
    minimum = params["min_hourly_rate_cents"]
    if not pay.meets_minimum(reward, seconds, minimum):
        breaches.append(("reward_cents", "min_hourly_rate_cents",
                         f"Pays {pay.hourly_rate_cents(reward, seconds)} cents an hour (reward_cents × 3600 / "
                         f"est_seconds); terms version {version} set min_hourly_rate_cents to {minimum}. "
                         f"For {seconds} seconds of work pay at least "
                         f"{pay.required_reward_cents(seconds, minimum)} cents."))
    purpose = batch["purpose"]
    if purpose in params["banned_purposes"]:
        breaches.append(("purpose", "banned_purposes",
                         f"'{purpose}' is in banned_purposes of terms version {version}; the coop refuses this work."))
    elif purpose not in PURPOSES:
        breaches.append(("purpose", "purpose",
                         f"'{purpose}' is not a purpose the coop accepts; use one of {', '.join(PURPOSES)}."))
    if purpose == "impersonation" and not (batch.get("impersonation_notice") or "").strip():
        breaches.append(("impersonation_notice", "impersonation_notice",
                         "An impersonation batch must say how end users are told that a human answers."))
    if params["require_end_client"] and not (batch.get("end_client") or "").strip():
        breaches.append(("end_client", "require_end_client",
                         f"Terms version {version} has require_end_client: name the client the data is for."))
    if batch.get("personal_data") and not (batch.get("dpa_reference") or "").strip():
        breaches.append(("dpa_reference", "dpa_reference",
                         "Items with personal data need the reference of a data-processing agreement."))
    unknown = [w for w in batch.get("content_warnings") or [] if w not in CONTENT_WARNINGS]
    if unknown:
        breaches.append(("content_warnings", "content_warnings",
                         f"Unknown content warnings {', '.join(unknown)}; use {', '.join(CONTENT_WARNINGS)}."))
    return breaches


# --- funds --------------------------------------------------------------------------------


def request_deposit(requester: User, amount_cents: int, payment_reference: str | None = None) -> Deposit:
    """Announce a bank transfer (with its reference); it counts once a coordinator confirms it arrived."""
    deposit = Deposit(requester_id=requester.id, amount_cents=amount_cents, payment_reference=payment_reference,
                      status="pending", created_at=clock.now())
    db.session.add(deposit)
    db.session.flush()
    return deposit


def confirm_deposit(deposit: Deposit, coordinator: User) -> Deposit:
    """Record that the transfer arrived: external -> the requester's available funds."""
    _lock(deposit)
    if deposit.status != "pending":
        raise Conflict(f"Deposit {deposit.id} was already confirmed.")
    ledger.move(ledger.EXTERNAL, ledger.requester_available(deposit.requester_id), deposit.amount_cents,
                f"deposit {deposit.id} confirmed")
    deposit.status, deposit.confirmed_at, deposit.confirmed_by_id = "confirmed", clock.now(), coordinator.id
    audit.append("deposit.confirmed", f"deposit:{deposit.id}", coordinator,
                 {"requester_id": deposit.requester_id, "amount_cents": deposit.amount_cents,
                  "payment_reference": deposit.payment_reference})
    return deposit


def list_deposits(user: User, args: dict) -> dict:
    """A requester's own deposits; for coordinators every deposit (pending ones by default)."""
    stmt = sa.select(Deposit)
    if user.kind == "requester":
        stmt = stmt.where(Deposit.requester_id == user.id)
    if args.get("status"):
        stmt = stmt.where(Deposit.status == args["status"])
    return _page(stmt, Deposit.id, args)


def _source_accounts(user: User) -> tuple[str, str, str]:
    if user.kind == "requester":
        return "requester", ledger.requester_available(user.id), requester_payout_pending(user.id)
    return "worker", ledger.worker_earnings(user.id), worker_payout_pending(user.id)


def balance_of(user: User) -> dict:
    """The caller's balances: requesters' available and escrow funds, workers' earnings."""
    _, source, pending = _source_accounts(user)
    if user.kind == "requester":
        return {"available_cents": ledger.balance(source), "escrow_cents": ledger.balance(ledger.requester_escrow(user.id)),
                "payout_pending_cents": ledger.balance(pending)}
    return {"earnings_cents": ledger.balance(source), "payout_pending_cents": ledger.balance(pending)}


def earnings_lines(user: User, args: dict) -> dict:
    """The ledger lines of a worker's earnings account, newest first."""
    stmt = (sa.select(LedgerEntry).where(LedgerEntry.account == ledger.worker_earnings(user.id))
            .options(joinedload(LedgerEntry.transaction)))
    page = _page(stmt, LedgerEntry.id, args)
    page["items"] = [{"id": e.id, "at": e.transaction.at, "amount_cents": e.amount_cents, "memo": e.transaction.memo}
                     for e in page["items"]]
    return page


def request_withdrawal(user: User, amount_cents: int) -> Withdrawal:
    """Ask to be paid out; the amount is set aside at once so it cannot be spent twice."""
    source_kind, source, pending = _source_accounts(user)
    available = ledger.balance(source)
    if amount_cents > available:
        what = "available funds" if source_kind == "requester" else "earnings"
        raise InsufficientFunds(f"You asked for {amount_cents} cents but your {what} are {available} cents.")
    withdrawal = Withdrawal(user_id=user.id, source=source_kind, amount_cents=amount_cents, status="pending",
                            created_at=clock.now())
    db.session.add(withdrawal)
    db.session.flush()
    ledger.move(source, pending, amount_cents, f"withdrawal {withdrawal.id} requested")
    return withdrawal


def list_withdrawals(user: User, args: dict, everyone: bool = False) -> dict:
    """The caller's own withdrawals, or (coordinators) everyone's, pending ones by default."""
    stmt = sa.select(Withdrawal)
    if not everyone:
        stmt = stmt.where(Withdrawal.user_id == user.id)
    if args.get("status"):
        stmt = stmt.where(Withdrawal.status == args["status"])
    return _page(stmt, Withdrawal.id, args)


def confirm_withdrawal(withdrawal: Withdrawal, coordinator: User) -> Withdrawal:
    """Record that the payout was sent: the set-aside amount leaves the coop."""
    _lock(withdrawal)
    if withdrawal.status != "pending":
        raise Conflict(f"Withdrawal {withdrawal.id} was already paid out.")
    if withdrawal.user_id == coordinator.id:
        raise Forbidden("Another coordinator must confirm your own payout.")
    pending = (requester_payout_pending if withdrawal.source == "requester" else worker_payout_pending)(withdrawal.user_id)
    ledger.move(pending, ledger.EXTERNAL, withdrawal.amount_cents, f"withdrawal {withdrawal.id} paid out")
    withdrawal.status, withdrawal.confirmed_at, withdrawal.confirmed_by_id = "confirmed", clock.now(), coordinator.id
    audit.append("payout.confirmed", f"withdrawal:{withdrawal.id}", coordinator,
                 {"user_id": withdrawal.user_id, "source": withdrawal.source, "amount_cents": withdrawal.amount_cents})
    return withdrawal


# --- batches ------------------------------------------------------------------------------


def _check_items(items: list[dict]) -> None:
    limit = current_app.config["COOP_MAX_ITEM_BYTES"]
    too_big = {}
    for index, item in enumerate(items):
        size = len(json.dumps(item["data"], separators=(",", ":"), ensure_ascii=False).encode())
        if size > limit:
            too_big[str(index)] = {"data": [f"{size} bytes of JSON; the limit is {limit}."]}
    if too_big:
        raise Invalid(f"Some items are larger than {limit} bytes of JSON; split them or store less per item.",
                      {"items": too_big})


def create_batch(requester: User, data: dict) -> Batch:
    """Post a batch: checked against the terms in force, its rewards and fee moved into escrow."""
    now = clock.now()
    if data.get("expires_at") and data["expires_at"] <= now:
        raise Invalid("expires_at is in the past.", {"expires_at": ["Give a time in the future (or none)."]})
    _check_items(data["items"])
    terms = current_terms()
    params = terms.params
    breaches = terms_breaches(data, terms.version, params)
    if breaches:
        errors: dict[str, list[str]] = {}
        for field, _, message in breaches:
            errors.setdefault(field, []).append(message)
        named = ", ".join(dict.fromkeys(parameter for _, parameter, _ in breaches))
        raise TermsViolation(f"This batch breaks terms version {terms.version}: {named}. See 'errors' for each.",
                             errors)

    items = data["items"]
    slots = len(items) * data["assignments_per_item"]
    rewards_total, fee = pay.batch_cost_cents(data["reward_cents"], slots, params["platform_fee_pct"])
    cost = rewards_total + fee
    available = ledger.balance(ledger.requester_available(requester.id))
    if cost > available:
        raise InsufficientFunds(
            f"This batch costs {cost} cents ({slots} assignments × {data['reward_cents']} + "
            f"{params['platform_fee_pct']}% fee {fee}); your available funds are {available} cents. "
            "Deposit more with POST /api/v1/deposits."
        )
    warnings = list(dict.fromkeys(data.get("content_warnings") or []))
    batch = Batch(
        requester_id=requester.id, status="open", title=data["title"], description=data.get("description") or "",
        instructions=data.get("instructions") or "", end_client=(data.get("end_client") or "").strip(),
        purpose=data["purpose"], impersonation_notice=data.get("impersonation_notice"),
        content_warnings=warnings, warnings_mask=warnings_mask(warnings),
        personal_data=bool(data.get("personal_data")), dpa_reference=data.get("dpa_reference"),
        reward_cents=data["reward_cents"], est_seconds=data["est_seconds"],
        assignments_per_item=data["assignments_per_item"], expires_at=data.get("expires_at"),
        terms_version=terms.version, protections={k: params[k] for k in PROTECTIONS},
        fee_pct=params["platform_fee_pct"], item_count=len(items), slot_count=slots,
        rewards_total_cents=rewards_total, fee_cents=fee, escrow_cents=cost, created_at=now,
    )
    db.session.add(batch)
    db.session.flush()
    ledger.move(ledger.requester_available(requester.id), ledger.requester_escrow(requester.id), cost,
                f"escrow for batch {batch.id}: {slots} × {batch.reward_cents} + fee {fee}")
    db.session.execute(sa.insert(Item), [{"batch_id": batch.id, "position": i, "data": item["data"]}
                                         for i, item in enumerate(items)])
    # Slot number major, so claims fill every item once before any item a second time.
    for number in range(1, batch.assignments_per_item + 1):
        db.session.execute(sa.insert(Slot).from_select(
            ["batch_id", "item_id", "number", "state"],
            sa.select(Item.batch_id, Item.id, sa.literal(number), sa.literal("open"))
            .where(Item.batch_id == batch.id).order_by(Item.id),
        ))
    audit.append("batch.posted", f"batch:{batch.id}", requester, {
        "requester_id": requester.id, "terms_version": terms.version, "items": len(items), "slots": slots,
        "reward_cents": batch.reward_cents, "rewards_total_cents": rewards_total, "fee_cents": fee,
    })
    return batch


def list_batches(user: User, args: dict) -> dict:
    """Requesters: their own batches. Members: open batches with work left they have opted into."""
    stmt = sa.select(Batch).options(joinedload(Batch.requester))
    if user.kind == "requester":
        stmt = stmt.where(Batch.requester_id == user.id)
        if args.get("status"):
            stmt = stmt.where(Batch.status == args["status"])
    else:
        prefs = db.session.get(MemberPreferences, user.id)
        opted = prefs.opt_in_mask if prefs else 0
        now = clock.now()
        stmt = stmt.where(
            Batch.status == "open",
            sa.or_(Batch.expires_at.is_(None), Batch.expires_at > now),
            Batch.warnings_mask.op("&")(~opted & 0xFFFF) == 0,
            sa.select(Slot.id).where(Slot.batch_id == Batch.id, SLOT_IS_OPEN).exists(),
        )
    return _page(stmt, Batch.id, args)


def progress(batch: Batch) -> dict:
    """How far a batch is: slots by state and assignments by status."""
    slots = dict(db.session.execute(
        sa.select(Slot.state, sa.func.count()).where(Slot.batch_id == batch.id).group_by(Slot.state)).all())
    assignments = dict(db.session.execute(
        sa.select(Assignment.status, sa.func.count()).where(Assignment.batch_id == batch.id)
        .group_by(Assignment.status)).all())
    return {
        "items": batch.item_count,
        "slots": batch.slot_count,
        "open": slots.get("open", 0),
        "in_progress": slots.get("held", 0),
        "done": slots.get("done", 0),
        "cancelled": slots.get("cancelled", 0),
        "claimed": assignments.get("claimed", 0),
        "submitted": assignments.get("submitted", 0),
        "approved": assignments.get("approved", 0),
        "rejected": assignments.get("rejected", 0),
        "expired": assignments.get("expired", 0),
    }


def batch_detail(batch: Batch) -> Batch:
    """A batch with its due time-driven work applied and its progress counted."""
    refresh_batch(batch)
    batch.progress = progress(batch)
    return batch


def batch_items(batch: Batch, args: dict) -> dict:
    """The items of a batch with their data (for its requester)."""
    return _page(sa.select(Item).where(Item.batch_id == batch.id), Item.id, args, descending=False)


def _refund_open_slots(batch: Batch) -> tuple[int, int]:
    """Cancel every open slot and return its money to the requester; (slots, cents)."""
    # On PostgreSQL the UPDATE waits for a claim holding a slot and then re-checks it is still
    # open, so a slot is either claimed or refunded, never both.
    cancelled = db.session.execute(
        sa.update(Slot).where(Slot.batch_id == batch.id, SLOT_IS_OPEN).values(state="cancelled")
        .execution_options(synchronize_session=False)).rowcount
    if not cancelled:
        return 0, 0
    per_slot = batch.reward_cents + pay.payout_fee_cents(batch.reward_cents, batch.fee_pct)
    _refund(batch, per_slot * cancelled, f"batch {batch.id}: {cancelled} unclaimed slots refunded")
    return cancelled, per_slot * cancelled


def _refund(batch: Batch, cents: int, memo: str) -> None:
    ledger.move(ledger.requester_escrow(batch.requester_id), ledger.requester_available(batch.requester_id), cents, memo)
    batch.escrow_cents -= cents


def _close(batch: Batch, status: str, now: datetime) -> dict:
    slots, cents = _refund_open_slots(batch)
    batch.status, batch.closed_at = status, now
    _settle_if_done(batch, now)
    return {"slots_refunded": slots, "refunded_cents": cents}


def cancel_batch(batch: Batch, requester: User) -> Batch:
    """Stop a batch: unclaimed slots are refunded; claimed work is still paid when approved."""
    _lock(batch)
    if batch.status in CLOSED or batch.status == "completed":
        raise Conflict(f"Batch {batch.id} is already {batch.status}.")
    result = _close(batch, "cancelled", clock.now())
    audit.append("batch.cancelled", f"batch:{batch.id}", requester, result)
    return batch


def _close_if_past_expiry(batch: Batch, now: datetime) -> bool:
    if batch.expires_at is None or batch.expires_at > now or batch.status not in ("open", "paused_underpaid"):
        return False
    _lock(batch)
    if batch.status not in ("open", "paused_underpaid"):
        return False
    result = _close(batch, "expired", now)
    audit.append("batch.expired", f"batch:{batch.id}", None, result)
    return True


def _settle_if_done(batch: Batch, now: datetime) -> None:
    """Once no slot is open or in progress, the fee's rounding remainder goes to the coop."""
    # Asked after every approval: stop at the first live slot rather than counting them all.
    if db.session.scalar(sa.select(Slot.id).where(Slot.batch_id == batch.id, SLOT_IS_LIVE).limit(1)) is not None:
        return
    if batch.status == "open":
        batch.status, batch.closed_at = "completed", now
    if batch.escrow_cents:
        remainder = batch.escrow_cents
        ledger.move(ledger.requester_escrow(batch.requester_id), ledger.COOP_FEES, remainder,
                    f"batch {batch.id}: fee remainder settled")
        batch.escrow_cents = 0
    batch.settled_at = now


def escrow_owed(requester_id: int) -> int:
    """What a requester's batches still hold in escrow; equals the escrow account's balance."""
    return db.session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(Batch.escrow_cents), 0)).where(Batch.requester_id == requester_id))


# --- claims -------------------------------------------------------------------------------


def get_preferences(user: User) -> dict:
    """The worker's marketplace preferences."""
    prefs = db.session.get(MemberPreferences, user.id)
    return {"content_opt_in": list(prefs.content_opt_in) if prefs else []}


def set_preferences(user: User, content_opt_in: list[str]) -> dict:
    """Choose which content warnings the worker accepts work under."""
    chosen = [w for w in CONTENT_WARNINGS if w in set(content_opt_in)]
    prefs = db.session.get(MemberPreferences, user.id)
    if prefs is None:
        prefs = MemberPreferences(user_id=user.id)
        db.session.add(prefs)
    prefs.content_opt_in, prefs.opt_in_mask, prefs.updated_at = chosen, warnings_mask(chosen), clock.now()
    db.session.flush()
    return get_preferences(user)


def _utc_day_start(moment: datetime) -> datetime:
    return datetime.combine(moment.astimezone(UTC).date(), time.min, tzinfo=UTC)


def flagged_seconds_today(worker: User, now: datetime) -> int:
    """Estimated seconds of today's (UTC) claims on content-warning batches, lapsed claims excluded."""
    return db.session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(Batch.est_seconds), 0))
        .select_from(Assignment).join(Batch, Batch.id == Assignment.batch_id)
        .where(Assignment.worker_id == worker.id, Assignment.claimed_at >= _utc_day_start(now), NOT_EXPIRED,
               Batch.warnings_mask != 0)
    )


def _check_content_opt_in(batch: Batch, worker: User, now: datetime) -> None:
    # Locked so two claims of one worker at once cannot both slip under the daily cap.
    prefs = db.session.scalar(sa.select(MemberPreferences).where(MemberPreferences.user_id == worker.id)
                              .with_for_update(key_share=True))
    missing = [w for w in batch.content_warnings if not (prefs and w in prefs.content_opt_in)]
    if missing:
        raise Forbidden(
            f"This batch carries content warnings you have not opted into ({', '.join(missing)}). "
            "Opt in with PATCH /api/v1/me/preferences {\"content_opt_in\": [...]} if you choose to do this work."
        )
    cap_minutes = current_terms().params["daily_flagged_minutes_cap"]
    used = flagged_seconds_today(worker, now)
    if used + batch.est_seconds > cap_minutes * 60:
        raise Conflict(
            f"This claim would bring today's work on content-warning tasks to {(used + batch.est_seconds) / 60:g} "
            f"minutes; the terms cap it at {cap_minutes} (daily_flagged_minutes_cap). Try again tomorrow (UTC)."
        )


def _check_confidentiality(batch: Batch, worker: User, accept: bool, now: datetime) -> None:
    accepted = db.session.scalar(sa.select(ConfidentialityAcceptance.id).where(
        ConfidentialityAcceptance.batch_id == batch.id, ConfidentialityAcceptance.worker_id == worker.id))
    if accepted:
        return
    if not accept:
        raise Forbidden(
            "The items of this batch hold personal data: claim with {\"accept_confidentiality\": true} to accept "
            f"confidentiality under data-processing agreement {batch.dpa_reference}."
        )
    db.session.add(ConfidentialityAcceptance(batch_id=batch.id, worker_id=worker.id, accepted_at=now,
                                             terms_version=current_terms().version))


def _find_open_slot(batch: Batch, worker: User, skip_items: set[int]):
    done_before = (sa.select(Assignment.id)
                   .where(Assignment.item_id == Slot.item_id, Assignment.worker_id == worker.id, NOT_EXPIRED)
                   .exists())
    # The item comes along (into the identity map) because the claimant is shown its data next.
    stmt = (sa.select(Slot.id, Slot.item_id, Item).join(Item, Item.id == Slot.item_id)
            .where(Slot.batch_id == batch.id, SLOT_IS_OPEN, ~done_before)
            # Ordered exactly as the partial index ix_slots_open, so the planner walks it.
            .order_by(Slot.batch_id, Slot.id).limit(1)
            # Concurrent claimers step over each other's slots instead of queueing on them.
            .with_for_update(of=Slot, skip_locked=True, key_share=True))
    if skip_items:
        stmt = stmt.where(Slot.item_id.not_in(skip_items))
    return db.session.execute(stmt).first()


def claim(batch: Batch, worker: User, accept_confidentiality: bool = False) -> Assignment:
    """Lease one open slot of the batch to a member, on an item they have not done."""
    now = clock.now()
    _close_if_past_expiry(batch, now)
    if batch.status == "paused_underpaid":
        raise Conflict(f"Batch {batch.id} is paused: at its workers' real times it pays below the minimum hourly "
                       "rate. It reopens when the requester raises the reward.")
    if batch.status not in CLAIMABLE:
        raise Conflict(f"Batch {batch.id} is {batch.status} and takes no new claims.")
    params = current_terms().params
    _expire_overdue_leases(now, batch_id=batch.id, params=params)
    if batch.warnings_mask:
        _check_content_opt_in(batch, worker, now)
    if batch.personal_data:
        _check_confidentiality(batch, worker, accept_confidentiality, now)
    lease = timedelta(minutes=protections_in_force(batch, params)["claim_lease_minutes"])
    tried: set[int] = set()
    for _ in range(3):
        found = _find_open_slot(batch, worker, tried)
        if found is None:
            raise Conflict(f"Nothing left for you to claim in batch {batch.id}.")
        # If this worker's other request took a slot of the same item a moment ago, the unique
        # index turns this insert into nothing (no error, no savepoint) and we try another item.
        assignment = db.session.scalar(
            _insert_ignoring_duplicates(Assignment).values(
                batch_id=batch.id, item_id=found.item_id, slot_id=found.id, worker_id=worker.id, status="claimed",
                holds_slot=True, claimed_at=now, lease_expires_at=now + lease, paid_cents=0,
            ).on_conflict_do_nothing().returning(Assignment))
        if assignment is None:
            tried.add(found.item_id)
            continue
        db.session.execute(sa.update(Slot).where(Slot.id == found.id).values(state="held"))
        # Known already; saves two queries when the claim is shown.
        set_committed_value(assignment, "item", found.Item)
        set_committed_value(assignment, "batch", batch)
        return assignment
    raise Conflict("Could not find a free slot just now; try again.")


def _insert_ignoring_duplicates(model):
    dialect = db.session.get_bind().dialect.name
    return (pg_insert if dialect == "postgresql" else sqlite_insert)(model)


def _release_slot(assignment: Assignment, now: datetime) -> None:
    """An expired or rejected assignment gives its slot back: to the pool, or refunded if the batch closed."""
    batch = _lock(assignment.batch)
    if batch.status in CLOSED:
        db.session.execute(sa.update(Slot).where(Slot.id == assignment.slot_id).values(state="cancelled"))
        cents = batch.reward_cents + pay.payout_fee_cents(batch.reward_cents, batch.fee_pct)
        _refund(batch, cents, f"batch {batch.id}: slot {assignment.slot_id} refunded after the batch closed")
        _settle_if_done(batch, now)
    else:
        db.session.execute(sa.update(Slot).where(Slot.id == assignment.slot_id).values(state="open"))


def _lease_is_over(assignment: Assignment, now: datetime, params: dict) -> bool:
    # The stored lease already took the longer of promise and terms at claim time; a lease
    # the members lengthened since then also holds.
    return now >= assignment.lease_expires_at and now >= assignment.claimed_at + timedelta(
        minutes=params["claim_lease_minutes"])


def _expire_overdue_leases(now: datetime, batch_id: int | None = None, worker_id: int | None = None,
                           assignment_id: int | None = None, params: dict | None = None) -> int:
    params = params or current_terms().params
    stmt = sa.select(Assignment).where(
        IS_CLAIMED, Assignment.lease_expires_at <= now,
        Assignment.claimed_at <= now - timedelta(minutes=params["claim_lease_minutes"]))
    for column, value in ((Assignment.batch_id, batch_id), (Assignment.worker_id, worker_id),
                          (Assignment.id, assignment_id)):
        if value is not None:
            stmt = stmt.where(column == value)
    # Rows another transaction is handling (a submit, another expiry) are left to it.
    stmt = stmt.order_by(Assignment.id).with_for_update(skip_locked=True, key_share=True)
    overdue = list(db.session.scalars(stmt.execution_options(populate_existing=True)))
    for assignment in overdue:
        assignment.status, assignment.holds_slot = "expired", False
        db.session.flush()
        _release_slot(assignment, now)
    return len(overdue)


# --- work ---------------------------------------------------------------------------------


def submit(assignment: Assignment, answer: dict) -> Assignment:
    """Hand in the answer; the real working time (claim to submit) is kept for the pay audit."""
    now = clock.now()
    _lock(assignment)
    params = current_terms().params
    if assignment.status == "expired" or (assignment.status == "claimed" and _lease_is_over(assignment, now, params)):
        raise Conflict(f"Your lease on this item ended at {assignment.lease_expires_at.isoformat()}; it went back "
                       "to the pool. Claim again to work on the batch.")
    if assignment.status != "claimed":
        raise Conflict(f"This assignment is already {assignment.status}.")
    limit = current_app.config["COOP_MAX_ITEM_BYTES"]
    if len(json.dumps(answer, separators=(",", ":"), ensure_ascii=False).encode()) > limit:
        raise Invalid(f"The answer is larger than {limit} bytes of JSON.", {"answer": [f"At most {limit} bytes."]})
    batch = assignment.batch
    hours = protections_in_force(batch, params)["auto_approve_hours"]
    assignment.status, assignment.answer, assignment.submitted_at = "submitted", answer, now
    assignment.real_seconds = math.ceil((now - assignment.claimed_at).total_seconds())
    assignment.auto_approve_at = now + timedelta(hours=hours)
    db.session.flush()
    audit_real_pay(batch, params)
    return assignment


def _median_real_seconds(batch_id: int, count: int) -> float:
    # Read off the (batch_id, real_seconds) index: the middle one or two rows, not all of them.
    ordered = (sa.select(Assignment.real_seconds).where(Assignment.batch_id == batch_id, HAS_REAL_TIME)
               .order_by(Assignment.real_seconds))
    middle = ordered.offset(count // 2).limit(1) if count % 2 else ordered.offset(count // 2 - 1).limit(2)
    return pay.median_seconds(db.session.scalars(middle))


def audit_real_pay(batch: Batch, params: dict | None = None) -> dict | None:
    """The real-pay audit: pause a batch whose pay at the median real time is below the minimum."""
    count = db.session.scalar(sa.select(sa.func.count()).select_from(Assignment)
                              .where(Assignment.batch_id == batch.id, HAS_REAL_TIME))
    if count < AUDIT_MIN_SUBMISSIONS:
        return None
    minimum = protections_in_force(batch, params)["min_hourly_rate_cents"]
    finding = pay.underpaid_at_median(batch.reward_cents, _median_real_seconds(batch.id, count), minimum)
    if finding is None or batch.status != "open":
        return finding
    _lock(batch)
    if batch.status != "open":
        return finding
    batch.status = "paused_underpaid"
    batch.required_reward_cents = finding["required_reward_cents"]
    batch.underpay_finding = {**finding, "submissions": count, "min_hourly_rate_cents": minimum}
    audit.append("batch.paused_underpaid", f"batch:{batch.id}", None, {
        "reward_cents": batch.reward_cents, "submissions": count, **batch.underpay_finding})
    return finding


def _pay_from(account: str, batch: Batch, worker_id: int, reward: int, memo: str) -> None:
    fee = pay.payout_fee_cents(reward, batch.fee_pct)
    lines = [(account, -(reward + fee)), (ledger.worker_earnings(worker_id), reward)]
    if fee:
        lines.append((ledger.COOP_FEES, fee))
    ledger.transfer(lines, memo)


def _approve(assignment: Assignment, now: datetime, decision: str) -> None:
    batch = _lock(assignment.batch)
    reward = batch.reward_cents
    _pay_from(ledger.requester_escrow(batch.requester_id), batch, assignment.worker_id, reward,
              f"assignment {assignment.id} of batch {batch.id} approved")
    batch.escrow_cents -= reward + pay.payout_fee_cents(reward, batch.fee_pct)
    assignment.status, assignment.approved_at = "approved", now
    assignment.reviewed_at, assignment.review_decision = now, decision
    assignment.paid_cents += reward
    db.session.execute(sa.update(Slot).where(Slot.id == assignment.slot_id).values(state="done"))
    _settle_if_done(batch, now)


def review(assignment: Assignment, decision: str, reason: str | None) -> Assignment:
    """The requester's decision: approve (worker and coop paid from escrow) or reject with a reason."""
    reason = (reason or "").strip() or None
    if decision == "reject" and not reason:
        raise Invalid("A rejection needs a reason the worker can read and appeal.",
                      {"reason": ["Required when rejecting."]})
    now = clock.now()
    _lock(assignment)
    if assignment.status == "submitted":
        # Past the wait the work is approved whether or not the tick has run: a late review cannot reject it.
        _auto_approve_due(now, assignment_id=assignment.id)
    if assignment.status != "submitted":
        raise Conflict(f"Only submitted work can be reviewed; this assignment is {assignment.status}.")
    if decision == "approve":
        _approve(assignment, now, "approve")
        assignment.review_reason = reason
    else:
        assignment.status, assignment.holds_slot = "rejected", False
        assignment.reviewed_at, assignment.review_decision, assignment.review_reason = now, "reject", reason
        db.session.flush()
        _release_slot(assignment, now)
    return assignment


def _auto_approve_due(now: datetime, batch_id: int | None = None, worker_id: int | None = None,
                      assignment_id: int | None = None, params: dict | None = None) -> int:
    params = params or current_terms().params
    stmt = sa.select(Assignment).where(IS_SUBMITTED, sa.or_(
        Assignment.auto_approve_at <= now,
        # A shorter wait the members voted since submission applies too.
        Assignment.submitted_at <= now - timedelta(hours=params["auto_approve_hours"]),
    ))
    for column, value in ((Assignment.batch_id, batch_id), (Assignment.worker_id, worker_id),
                          (Assignment.id, assignment_id)):
        if value is not None:
            stmt = stmt.where(column == value)
    stmt = stmt.order_by(Assignment.id).with_for_update(skip_locked=True, key_share=True)
    due = list(db.session.scalars(stmt.execution_options(populate_existing=True)))
    for assignment in due:
        _approve(assignment, now, "auto")
    return len(due)


def refresh_batch(batch: Batch) -> None:
    """Apply the batch's due time-driven work: closing at expiry, lapsed leases, auto-approvals."""
    now = clock.now()
    params = current_terms().params
    _close_if_past_expiry(batch, now)
    _expire_overdue_leases(now, batch_id=batch.id, params=params)
    _auto_approve_due(now, batch_id=batch.id, params=params)


def refresh_assignment(assignment: Assignment) -> Assignment:
    """Apply an assignment's due lease expiry or auto-approval before it is shown."""
    now = clock.now()
    if assignment.status == "claimed":
        _expire_overdue_leases(now, assignment_id=assignment.id)
    elif assignment.status == "submitted":
        _auto_approve_due(now, assignment_id=assignment.id)
    return assignment


def my_assignments(worker: User, args: dict) -> dict:
    """A worker's assignments, newest first, with due time-driven work applied."""
    now = clock.now()
    params = current_terms().params
    _expire_overdue_leases(now, worker_id=worker.id, params=params)
    _auto_approve_due(now, worker_id=worker.id, params=params)
    stmt = sa.select(Assignment).where(Assignment.worker_id == worker.id).options(joinedload(Assignment.batch))
    if args.get("status"):
        stmt = stmt.where(Assignment.status == args["status"])
    return _page(stmt, Assignment.id, args)


def batch_assignments(batch: Batch, args: dict) -> dict:
    """A batch's assignments for its requester, workers shown by pseudonym only."""
    refresh_batch(batch)
    stmt = sa.select(Assignment).where(Assignment.batch_id == batch.id).options(joinedload(Assignment.worker))
    if args.get("status"):
        stmt = stmt.where(Assignment.status == args["status"])
    return _page(stmt, Assignment.id, args, descending=False)


def appeal_deadline(assignment: Assignment) -> datetime | None:
    """Until when a rejected worker may appeal."""
    if assignment.review_decision != "reject" or assignment.reviewed_at is None:
        return None
    days = protections_in_force(assignment.batch)["appeal_window_days"]
    return assignment.reviewed_at + timedelta(days=days)


# --- appeals ------------------------------------------------------------------------------


def file_appeal(assignment: Assignment, worker: User, reason: str) -> Appeal:
    """A rejected worker asks the coordinators to overturn the rejection."""
    now = clock.now()
    _lock(assignment)
    if assignment.status != "rejected":
        raise Conflict(f"Only rejected work can be appealed; this assignment is {assignment.status}.")
    if assignment.appeal is not None:
        raise Conflict(f"This rejection was already appealed (appeal {assignment.appeal.id}).")
    deadline = appeal_deadline(assignment)
    if now > deadline:
        raise Conflict(f"The appeal window closed at {deadline.isoformat()} "
                       f"({protections_in_force(assignment.batch)['appeal_window_days']} days after the rejection).")
    appeal = Appeal(assignment_id=assignment.id, reason=reason.strip(), status="pending", created_at=now)
    db.session.add(appeal)
    db.session.flush()
    audit.append("appeal.filed", f"appeal:{appeal.id}", worker,
                 {"assignment_id": assignment.id, "batch_id": assignment.batch_id})
    return appeal


def list_appeals(args: dict) -> dict:
    """Appeals for coordinators, pending ones by default, oldest first."""
    stmt = sa.select(Appeal).options(joinedload(Appeal.assignment))
    if args.get("status"):
        stmt = stmt.where(Appeal.status == args["status"])
    return _page(stmt, Appeal.id, args, descending=False)


def _overturn(assignment: Assignment, now: datetime) -> tuple[int, str]:
    batch = _lock(assignment.batch)
    slot = db.session.scalar(sa.select(Slot).where(Slot.id == assignment.slot_id).with_for_update(key_share=True)
                             .execution_options(populate_existing=True))
    reward = batch.reward_cents
    memo = f"assignment {assignment.id} of batch {batch.id}: rejection overturned on appeal"
    if slot.state == "open":
        # Nobody re-took the slot, so its money is still in the batch's escrow.
        _pay_from(ledger.requester_escrow(batch.requester_id), batch, assignment.worker_id, reward, memo)
        batch.escrow_cents -= reward + pay.payout_fee_cents(reward, batch.fee_pct)
        slot.state, assignment.holds_slot, source = "done", True, "escrow"
    else:
        needed = reward + pay.payout_fee_cents(reward, batch.fee_pct)
        available = ledger.balance(ledger.requester_available(batch.requester_id))
        if available < needed:
            raise InsufficientFunds(
                f"The slot's money went to other work and the requester's available funds ({available} cents) "
                f"cannot cover the {needed} cents owed; nothing was changed. Decide again once they deposit.")
        _pay_from(ledger.requester_available(batch.requester_id), batch, assignment.worker_id, reward, memo)
        source = "available"
    assignment.status, assignment.approved_at = "approved", now
    assignment.paid_cents += reward
    db.session.flush()
    _settle_if_done(batch, now)
    return reward, source


def decide_appeal(appeal: Appeal, coordinator: User, decision: str, reason: str) -> Appeal:
    """A coordinator upholds the rejection or overturns it, paying the worker."""
    now = clock.now()
    _lock(appeal)
    if appeal.status != "pending":
        raise Conflict(f"Appeal {appeal.id} was already decided ({appeal.status}).")
    assignment = _lock(appeal.assignment)
    if assignment.worker_id == coordinator.id:
        raise Forbidden("You cannot decide your own appeal; another coordinator must.")
    if decision == "overturn":
        appeal.paid_cents, appeal.paid_from = _overturn(assignment, now)
        appeal.status = "overturned"
    else:
        appeal.status = "upheld"
    appeal.decided_at, appeal.decided_by_id, appeal.decision_reason = now, coordinator.id, reason.strip()
    audit.append("appeal.decided", f"appeal:{appeal.id}", coordinator, {
        "assignment_id": assignment.id, "batch_id": assignment.batch_id, "decision": decision,
        "paid_cents": appeal.paid_cents, "paid_from": appeal.paid_from,
    })
    return appeal


# --- the raise ----------------------------------------------------------------------------


def raise_reward(batch: Batch, requester: User, reward_cents: int) -> Batch:
    """Raise a batch's reward: escrow topped up, approved work paid the difference, a paused batch reopened."""
    now = clock.now()
    _lock(batch)
    old = batch.reward_cents
    if reward_cents <= old:
        raise Invalid(f"A raise must be higher than the current reward of {old} cents.",
                      {"reward_cents": [f"Must be more than {old}."]})
    if batch.required_reward_cents and reward_cents < batch.required_reward_cents:
        raise Invalid(
            f"The real-pay audit found this batch needs at least {batch.required_reward_cents} cents per item to "
            "pay the minimum hourly rate.", {"reward_cents": [f"Must be at least {batch.required_reward_cents}."]})
    difference = reward_cents - old
    live_slots = db.session.scalar(sa.select(sa.func.count()).select_from(Slot)
                                   .where(Slot.batch_id == batch.id, SLOT_IS_LIVE))
    is_approved = (Assignment.batch_id == batch.id, Assignment.status == "approved")
    approved_by_worker = dict(db.session.execute(
        sa.select(Assignment.worker_id, sa.func.count()).where(*is_approved).group_by(Assignment.worker_id)).all())
    approved = sum(approved_by_worker.values())
    top_up = difference * (live_slots + approved)
    fee = pay.platform_fee_cents(top_up, batch.fee_pct)
    if top_up:
        available = ledger.balance(ledger.requester_available(requester.id))
        if available < top_up + fee:
            raise InsufficientFunds(
                f"This raise costs {top_up + fee} cents ({live_slots + approved} assignments × {difference} + "
                f"fee {fee}); your available funds are {available} cents. Nothing was changed.")
        ledger.move(ledger.requester_available(requester.id), ledger.requester_escrow(requester.id), top_up + fee,
                    f"batch {batch.id}: reward raised from {old} to {reward_cents}")
        batch.escrow_cents += top_up + fee
        batch.rewards_total_cents += top_up
        batch.fee_cents += fee
    paid_back = 0
    if approved:
        # One transaction for all of them: the raise reaches paid work at once, in full or not at all.
        fee_each = pay.payout_fee_cents(difference, batch.fee_pct)
        paid_back = difference * approved
        lines = [(ledger.requester_escrow(requester.id), -(paid_back + fee_each * approved))]
        lines += [(ledger.worker_earnings(w), difference * n) for w, n in approved_by_worker.items()]
        if fee_each:
            lines.append((ledger.COOP_FEES, fee_each * approved))
        ledger.transfer(lines, f"batch {batch.id}: raise paid to {approved} approved assignments")
        batch.escrow_cents -= paid_back + fee_each * approved
        db.session.execute(sa.update(Assignment).where(*is_approved)
                           .values(paid_cents=Assignment.paid_cents + difference)
                           .execution_options(synchronize_session="fetch"))
    batch.reward_cents = reward_cents
    if batch.status == "paused_underpaid":
        batch.status = "open"
    batch.required_reward_cents, batch.underpay_finding = None, None
    audit.append("batch.raised", f"batch:{batch.id}", requester, {
        "old_reward_cents": old, "new_reward_cents": reward_cents, "topped_up_cents": top_up, "fee_cents": fee,
        "paid_back_cents": paid_back, "assignments_paid": approved,
    })
    _settle_if_done(batch, now)
    return batch


# --- requesters in the open ---------------------------------------------------------------


def _median(values: list) -> float | None:
    return statistics.median(values) if values else None


def requester_stats(requester: User) -> dict:
    """Figures computed from a requester's record: approvals, rejections, appeals, review time, real pay."""
    batch_ids = sa.select(Batch.id).where(Batch.requester_id == requester.id).scalar_subquery()
    posted = db.session.scalar(sa.select(sa.func.count()).select_from(Batch).where(Batch.requester_id == requester.id))
    decisions = dict(db.session.execute(
        sa.select(Assignment.review_decision, sa.func.count())
        .where(Assignment.batch_id.in_(batch_ids), Assignment.review_decision.is_not(None))
        .group_by(Assignment.review_decision)).all())
    decided = sum(decisions.values())
    overturned = db.session.scalar(
        sa.select(sa.func.count()).select_from(Appeal).join(Assignment, Assignment.id == Appeal.assignment_id)
        .where(Assignment.batch_id.in_(batch_ids), Appeal.status == "overturned"))
    review_hours = [(reviewed - submitted).total_seconds() / 3600 for submitted, reviewed in db.session.execute(
        sa.select(Assignment.submitted_at, Assignment.reviewed_at)
        .where(Assignment.batch_id.in_(batch_ids), Assignment.reviewed_at.is_not(None))).all()]
    hourly = [pay.hourly_rate_cents(reward, seconds) for reward, seconds in db.session.execute(
        sa.select(Batch.reward_cents, Assignment.real_seconds).join(Batch, Batch.id == Assignment.batch_id)
        .where(Batch.requester_id == requester.id, Assignment.real_seconds > 0)).all()]
    ratings = db.session.execute(
        sa.select(sa.func.count(), sa.func.avg(RequesterReview.rating))
        .where(RequesterReview.requester_id == requester.id)).one()
    median_review = _median(review_hours)
    median_hourly = _median(hourly)
    return {
        "requester_id": requester.id,
        "display_name": requester.display_name,
        "organization": requester.organization,
        "batches_posted": posted,
        "approval_rate": round((decisions.get("approve", 0) + decisions.get("auto", 0)) / decided, 4) if decided else None,
        "rejection_rate": round(decisions.get("reject", 0) / decided, 4) if decided else None,
        "appeals_overturned": overturned,
        "median_review_hours": round(median_review, 2) if median_review is not None else None,
        # Floored, like every rate here, so a requester is never shown as paying more than it does.
        "median_real_hourly_cents": math.floor(median_hourly) if median_hourly is not None else None,
        "review_count": ratings[0],
        "average_rating": round(float(ratings[1]), 2) if ratings[1] is not None else None,
    }


def review_requester(requester: User, member: User, rating: int, text: str) -> tuple[RequesterReview, bool]:
    """A member who worked for a requester reviews them; a second review replaces the first."""
    worked = db.session.scalar(
        sa.select(Assignment.id).join(Batch, Batch.id == Assignment.batch_id)
        .where(Batch.requester_id == requester.id, Assignment.worker_id == member.id,
               Assignment.submitted_at.is_not(None)).limit(1))
    if worked is None:
        raise Forbidden("Only members who submitted work for this requester can review them.")
    now = clock.now()
    review_row = db.session.scalar(sa.select(RequesterReview).where(
        RequesterReview.requester_id == requester.id, RequesterReview.member_id == member.id))
    created = review_row is None
    if created:
        review_row = RequesterReview(requester_id=requester.id, member_id=member.id, created_at=now)
        db.session.add(review_row)
    review_row.rating, review_row.text, review_row.updated_at = rating, text.strip(), now
    db.session.flush()
    return review_row, created


def requester_reviews(requester: User, args: dict) -> dict:
    """Members' reviews of a requester, newest first, authors by pseudonym."""
    stmt = (sa.select(RequesterReview).where(RequesterReview.requester_id == requester.id)
            .options(joinedload(RequesterReview.member)))
    return _page(stmt, RequesterReview.id, args)


# --- for other domains --------------------------------------------------------------------


def approved_earnings_by_worker(period_start: date, period_end: date) -> dict[int, int]:
    """User id -> cents of rewards approved in [start, end] (UTC days, inclusive), for patronage."""
    low = datetime.combine(period_start, time.min, tzinfo=UTC)
    high = datetime.combine(period_end + timedelta(days=1), time.min, tzinfo=UTC)
    rows = db.session.execute(
        sa.select(Assignment.worker_id, sa.func.sum(Assignment.paid_cents))
        .where(Assignment.status == "approved", Assignment.approved_at >= low, Assignment.approved_at < high)
        .group_by(Assignment.worker_id)).all()
    return {worker_id: int(cents) for worker_id, cents in rows if cents}


def tick(now) -> str:
    """Time-driven marketplace work that is due: batches past expiry, lapsed leases, auto-approvals."""
    params = current_terms().params
    closed = 0
    due = list(db.session.scalars(sa.select(Batch).where(
        Batch.status.in_(("open", "paused_underpaid")), Batch.expires_at <= now).order_by(Batch.id)))
    for batch in due:
        closed += _close_if_past_expiry(batch, now)
    expired = _expire_overdue_leases(now, params=params)
    approved = _auto_approve_due(now, params=params)
    return f"{closed} batches closed at expiry, {expired} leases expired, {approved} assignments auto-approved"
