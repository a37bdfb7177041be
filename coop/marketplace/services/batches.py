"""Batches: the terms check, posting into escrow, the feed, detail and progress, cancelling, preferences."""

import json
from collections.abc import Callable

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy.orm import joinedload

from coop import audit, clock, ledger
from coop.accounts.models import User
from coop.errors import Conflict, Forbidden, Invalid, TermsViolation
from coop.extensions import db
from coop.governance.services import current_terms
from coop.ledger import InsufficientFunds
from coop.marketplace import pay
from coop.marketplace.models import (
    CONTENT_WARNINGS,
    MAX_BATCH_ITEMS,
    PURPOSES,
    Assignment,
    Batch,
    Item,
    MemberPreferences,
    RequesterReview,
    Slot,
    warnings_mask,
)
from coop.marketplace.services.common import (
    CLAIMABLE,
    CLOSED,
    NOT_YOUR_BATCH,
    PROTECTIONS,
    SLOT_IS_OPEN,
    announce_paused,
    announce_resumed,
    check_owns_batch,
    lock_row,
    paged,
)
from coop.marketplace.services.escrow import close_batch
from coop.marketplace.services.pay_audit import real_time_of
from coop.marketplace.services.pilots import pilot_size
from coop.marketplace.services.suspension import check_not_suspended
from coop.marketplace.services.tick import refresh_batch
from coop.marketplace.spreadsheets import item_fields_of, read_items_csv
from coop.pagination import keyset_page


def check_terms(batch: dict, terms, launch: bool = False) -> None:
    """Every terms breach of `batch` in one TermsViolation naming the parameters, each beside its field."""
    breaches = terms_breaches(batch, terms.version, terms.params)
    if not breaches:
        return
    errors: dict[str, list[str]] = {}
    for field, _parameter, message in breaches:
        errors.setdefault(field, []).append(message)
    named = ", ".join(dict.fromkeys(parameter for _, parameter, _ in breaches))
    if launch:
        message = _(
            "Launched like this the batch would break terms version %(version)s: %(named)s. "
            "See 'errors' for each; nothing was changed.",
            version=terms.version,
            named=named,
        )
    else:
        message = _(
            "This batch breaks terms version %(version)s: %(named)s. See 'errors' for each.",
            version=terms.version,
            named=named,
        )
    raise TermsViolation(message, errors)


def terms_breaches(batch: dict, version: int, params: dict) -> list[tuple[str, str, str]]:
    """Every way a batch breaks the terms: (field, terms parameter, message a requester can act on)."""
    breaches = []
    reward, seconds = batch["reward_cents"], batch["est_seconds"]
    minimum = params["min_hourly_rate_cents"]
    if not pay.meets_minimum(reward, seconds, minimum):
        breaches.append(
            (
                "reward_cents",
                "min_hourly_rate_cents",
                _(
                    "Pays %(rate)s cents an hour (reward_cents × 3600 / est_seconds); terms version %(version)s "
                    "set min_hourly_rate_cents to %(minimum)s. For %(seconds)s seconds of work pay at least "
                    "%(at_least)s cents.",
                    rate=pay.hourly_rate_cents(reward, seconds),
                    version=version,
                    minimum=minimum,
                    seconds=seconds,
                    at_least=pay.required_reward_cents(seconds, minimum),
                ),
            )
        )
    purpose = batch["purpose"]
    if purpose in params["banned_purposes"]:
        breaches.append(
            (
                "purpose",
                "banned_purposes",
                _(
                    "'%(purpose)s' is in banned_purposes of terms version %(version)s; the coop refuses this work.",
                    purpose=purpose,
                    version=version,
                ),
            )
        )
    elif purpose not in PURPOSES:
        breaches.append(
            (
                "purpose",
                "purpose",
                _(
                    "'%(purpose)s' is not a purpose the coop accepts; use one of %(purposes)s.",
                    purpose=purpose,
                    purposes=", ".join(PURPOSES),
                ),
            )
        )
    if purpose == "impersonation" and not (batch.get("impersonation_notice") or "").strip():
        breaches.append(
            (
                "impersonation_notice",
                "impersonation_notice",
                _("An impersonation batch must say how end users are told that a human answers."),
            )
        )
    if params["require_end_client"] and not (batch.get("end_client") or "").strip():
        breaches.append(
            (
                "end_client",
                "require_end_client",
                _(
                    "Terms version %(version)s has require_end_client: name the client the data is for.",
                    version=version,
                ),
            )
        )
    if batch.get("personal_data") and not (batch.get("dpa_reference") or "").strip():
        breaches.append(
            (
                "dpa_reference",
                "dpa_reference",
                _("Items with personal data need the reference of a data-processing agreement."),
            )
        )
    unknown = [w for w in batch.get("content_warnings") or [] if w not in CONTENT_WARNINGS]
    if unknown:
        breaches.append(
            (
                "content_warnings",
                "content_warnings",
                _(
                    "Unknown content warnings %(unknown)s; use %(content_warnings)s.",
                    unknown=", ".join(unknown),
                    content_warnings=", ".join(CONTENT_WARNINGS),
                ),
            )
        )
    return breaches


def _check_items(items: list[dict]) -> None:
    limit = current_app.config["COOP_MAX_ITEM_BYTES"]
    too_big = {}
    for index, item in enumerate(items):
        size = len(json.dumps(item["data"], separators=(",", ":"), ensure_ascii=False).encode())
        if size > limit:
            too_big[str(index)] = {
                "data": [_("%(size)s bytes of JSON; the limit is %(limit)s.", size=size, limit=limit)]
            }
    if too_big:
        raise Invalid(
            _("Some items are larger than %(limit)s bytes of JSON; split them or store less per item.", limit=limit),
            {"items": too_big},
        )


def _items_of(data: dict) -> tuple[list[dict], list[str] | None]:
    """The batch's items and their fields, from JSON items or from CSV text (every bad line named)."""
    if data.get("items_csv") is None:
        _check_items(data["items"])
        return data["items"], item_fields_of(data["items"])
    table = read_items_csv(
        data["items_csv"], max_rows=MAX_BATCH_ITEMS, max_item_bytes=current_app.config["COOP_MAX_ITEM_BYTES"]
    )
    if table.errors:
        first = table.errors[0]
        raise Invalid(
            _(
                "The CSV has %(count)s problem(s), the first on line %(line)s: %(message)s Nothing was stored; "
                "see 'errors' for every line.",
                count=len(table.errors),
                line=first["line"],
                message=first["message"],
            ),
            {"items_csv": table.errors},
        )
    return table.items, table.fields


def create_batch(requester: User, data: dict) -> Batch:
    """Post a batch: checked against the terms in force, its rewards and fee moved into escrow."""
    check_not_suspended(requester)
    now = clock.now()
    if data.get("expires_at") and data["expires_at"] <= now:
        raise Invalid(_("expires_at is in the past."), {"expires_at": [_("Give a time in the future (or none).")]})
    items, item_fields = _items_of(data)
    terms = current_terms()
    params = terms.params
    check_terms(data, terms)

    slots = len(items) * data["assignments_per_item"]
    pilot_slots = pilot_size(data, len(items), slots, params)
    rewards_total, fee = pay.batch_cost_cents(data["reward_cents"], slots, params["platform_fee_pct"])
    cost = rewards_total + fee
    available = ledger.balance(ledger.requester_available(requester.id))
    if cost > available:
        raise InsufficientFunds(
            _(
                "This batch costs %(cost)s cents (%(slots)s assignments × %(reward_cents)s + "
                "%(platform_fee_pct)s%% fee %(fee)s); your available funds are %(available)s cents. Deposit more "
                "with POST /api/v1/deposits.",
                cost=cost,
                slots=slots,
                reward_cents=data["reward_cents"],
                platform_fee_pct=params["platform_fee_pct"],
                fee=fee,
                available=available,
            )
        )
    warnings = list(dict.fromkeys(data.get("content_warnings") or []))
    batch = Batch(
        requester_id=requester.id,
        status="pilot" if pilot_slots else "open",
        pilot_slots=pilot_slots,
        title=data["title"],
        description=data.get("description") or "",
        instructions=data.get("instructions") or "",
        end_client=(data.get("end_client") or "").strip(),
        purpose=data["purpose"],
        impersonation_notice=data.get("impersonation_notice"),
        content_warnings=warnings,
        warnings_mask=warnings_mask(warnings),
        personal_data=bool(data.get("personal_data")),
        dpa_reference=data.get("dpa_reference"),
        reward_cents=data["reward_cents"],
        est_seconds=data["est_seconds"],
        assignments_per_item=data["assignments_per_item"],
        expires_at=data.get("expires_at"),
        terms_version=terms.version,
        protections={k: params[k] for k in PROTECTIONS},
        fee_pct=params["platform_fee_pct"],
        item_count=len(items),
        slot_count=slots,
        rewards_total_cents=rewards_total,
        fee_cents=fee,
        escrow_cents=cost,
        created_at=now,
        answer_fields=data.get("answer_fields"),
        item_fields=item_fields,
    )
    db.session.add(batch)
    db.session.flush()
    ledger.move(
        ledger.requester_available(requester.id),
        ledger.requester_escrow(requester.id),
        cost,
        f"escrow for batch {batch.id}: {slots} × {batch.reward_cents} + fee {fee}",
    )
    db.session.execute(
        sa.insert(Item), [{"batch_id": batch.id, "position": i, "data": item["data"]} for i, item in enumerate(items)]
    )
    # Slot number major, so claims fill every item once before any item a second time.
    for number in range(1, batch.assignments_per_item + 1):
        db.session.execute(
            sa.insert(Slot).from_select(
                ["batch_id", "item_id", "number", "state"],
                sa.select(Item.batch_id, Item.id, sa.literal(number), sa.literal("open"))
                .where(Item.batch_id == batch.id)
                .order_by(Item.id),
            )
        )
    audit.append(
        "batch.posted",
        f"batch:{batch.id}",
        requester,
        {
            "requester_id": requester.id,
            "terms_version": terms.version,
            "items": len(items),
            "slots": slots,
            "reward_cents": batch.reward_cents,
            "rewards_total_cents": rewards_total,
            "fee_cents": fee,
            **({"pilot_slots": pilot_slots} if pilot_slots else {}),
        },
    )
    return batch


def _feed_order(member: User, sort: str) -> tuple[list, Callable[[Batch], list]]:
    """The columns a member's feed is ordered by (all descending, id last) and how to read them off a batch.

    Integers computed the same way by SQL and by `key`, so a cursor names exactly where a page ended.
    """
    promised_pay = sa.type_coerce(Batch.reward_cents * 3600 // Batch.est_seconds, sa.Integer)
    if sort == "newest":
        return [Batch.id], lambda batch: [batch.id]
    if sort == "pay":
        return [promised_pay, Batch.id], lambda batch: [
            pay.hourly_rate_cents(batch.reward_cents, batch.est_seconds),
            batch.id,
        ]
    own = sa.type_coerce(
        sa.func.coalesce(
            sa.select(RequesterReview.rating)
            .where(RequesterReview.requester_id == Batch.requester_id, RequesterReview.member_id == member.id)
            .scalar_subquery(),
            0,
        ),
        sa.Integer,
    )
    # Hundredths of the members' average rating, truncated alike on every database; 0 when unrated.
    average = sa.type_coerce(
        sa.func.coalesce(
            sa.select(sa.func.sum(RequesterReview.rating) * 100 // sa.func.count())
            .where(RequesterReview.requester_id == Batch.requester_id)
            .scalar_subquery(),
            0,
        ),
        sa.Integer,
    )

    def key(batch: Batch) -> list:
        mine = db.session.scalar(
            sa.select(RequesterReview.rating).where(
                RequesterReview.requester_id == batch.requester_id, RequesterReview.member_id == member.id
            )
        )
        total, count = db.session.execute(
            sa.select(sa.func.coalesce(sa.func.sum(RequesterReview.rating), 0), sa.func.count()).where(
                RequesterReview.requester_id == batch.requester_id
            )
        ).one()
        rate = pay.hourly_rate_cents(batch.reward_cents, batch.est_seconds)
        return [mine or 0, total * 100 // count if count else 0, rate, batch.id]

    return [own, average, promised_pay, Batch.id], key


def list_batches(user: User, args: dict) -> tuple[list[Batch], str | None]:
    """Requesters: their own batches, newest first. Members: open batches with work left they have opted into.

    Members' feed is ordered by `sort`: recommended (their own rating of the requester, then the
    members' average, then the promised hourly pay), pay, or newest.
    """
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
            Batch.status.in_(CLAIMABLE),
            Batch.paused_reason.is_(None),
            sa.or_(Batch.expires_at.is_(None), Batch.expires_at > now),
            Batch.warnings_mask.op("&")(~opted & 0xFFFF) == 0,
            sa.select(Slot.id).where(Slot.batch_id == Batch.id, SLOT_IS_OPEN).exists(),
        )
        columns, key = _feed_order(user, args.get("sort") or "recommended")
        return _with_real_time(
            *keyset_page(stmt, columns, limit=args["limit"], cursor=args["cursor"], descending=True, key=key)
        )
    return _with_real_time(*paged(stmt, Batch.id, args))


def _with_real_time(batches: list[Batch], next_cursor: str | None) -> tuple[list[Batch], str | None]:
    # Counted for the whole page in one query, never one per batch.
    found = real_time_of(batches)
    for batch in batches:
        batch.real_time = found[batch.id]  # type: ignore[attr-defined]  # a view-only figure the schema reads
    return batches, next_cursor


def progress(batch: Batch) -> dict:
    """How far a batch is: slots by state and assignments by status."""
    slots = dict(
        db.session.execute(
            sa.select(Slot.state, sa.func.count()).where(Slot.batch_id == batch.id).group_by(Slot.state)
        ).all()
    )
    assignments = dict(
        db.session.execute(
            sa.select(Assignment.status, sa.func.count())
            .where(Assignment.batch_id == batch.id)
            .group_by(Assignment.status)
        ).all()
    )
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


def batch_detail(user: User, batch: Batch) -> Batch:
    """A batch with its due time-driven work applied and its progress counted, for members and its requester."""
    if not (user.is_member or batch.requester_id == user.id):
        raise Forbidden(NOT_YOUR_BATCH)
    refresh_batch(batch)
    batch.progress = progress(batch)  # type: ignore[attr-defined]  # a view-only figure the schema reads
    return _with_real_time([batch], None)[0][0]


def batch_items(requester: User, batch: Batch, args: dict) -> tuple[list[Item], str | None]:
    """The items of a batch with their data, for its requester."""
    check_owns_batch(requester, batch)
    return paged(sa.select(Item).where(Item.batch_id == batch.id), Item.id, args, descending=False)


def cancel_batch(requester: User, batch: Batch) -> Batch:
    """Stop a batch: unclaimed slots are refunded; claimed work is still paid when approved."""
    check_owns_batch(requester, batch)
    lock_row(batch)
    if batch.status in CLOSED or batch.status == "completed":
        raise Conflict(_("Batch %(batch_id)s is already %(status)s.", batch_id=batch.id, status=batch.status))
    result = close_batch(batch, "cancelled", clock.now())
    if batch.paused_reason == "requester":  # cancelled says it all now
        batch.paused_reason = batch.paused_at = None
    audit.append("batch.cancelled", f"batch:{batch.id}", requester, result)
    return batch


def _members_hold(batch: Batch) -> str:
    return _(
        "Batch %(batch_id)s is paused by members' flags while a coordinator reviews it; it takes no new claims "
        "and only a coordinator's decision lifts the pause.",
        batch_id=batch.id,
    )


def pause_batch(requester: User, batch: Batch) -> Batch:
    """The requester stops new claims on their open batch; claims already made may still be submitted and reviewed."""
    check_owns_batch(requester, batch)
    batch = lock_row(batch)
    if batch.paused_reason == "requester":
        raise Conflict(_("Batch %(batch_id)s is already paused; resume it to take claims again.", batch_id=batch.id))
    if batch.paused_reason == "flags":
        raise Conflict(_members_hold(batch))
    if batch.status != "open":
        raise Conflict(
            _(
                "Only an open batch can be paused; batch %(batch_id)s is %(status)s.",
                batch_id=batch.id,
                status=batch.status,
            )
        )
    batch.paused_reason, batch.paused_at = "requester", clock.now()
    db.session.flush()
    audit.append("batch.paused", f"batch:{batch.id}", requester, {"batch_id": batch.id, "reason": "requester"})
    # Announced like the coop's pauses, so a requester's own systems hear of one made on the page.
    announce_paused(batch, "requester")
    return batch


def unpause_batch(requester: User, batch: Batch) -> Batch:
    """The requester lifts their own pause: the batch takes claims again (a pause by the coop stays)."""
    check_owns_batch(requester, batch)
    batch = lock_row(batch)
    if batch.paused_reason != "requester":
        if batch.paused_reason == "flags":
            raise Conflict(_members_hold(batch))
        raise Conflict(_("Batch %(batch_id)s is not paused; there is nothing to resume.", batch_id=batch.id))
    if batch.status != "open":
        raise Conflict(
            _("Batch %(batch_id)s is %(status)s; it takes no more claims.", batch_id=batch.id, status=batch.status)
        )
    paused_at = batch.paused_at
    batch.paused_reason = batch.paused_at = None
    db.session.flush()
    audit.append(
        "batch.resumed",
        f"batch:{batch.id}",
        requester,
        {"batch_id": batch.id, "reason": "requester", "paused_at": paused_at.isoformat() if paused_at else None},
    )
    announce_resumed(batch, "requester")
    return batch


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
