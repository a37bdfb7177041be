"""Pay arithmetic for batches: rates, minimums, platform fees and the effective-pay audit, in integer cents."""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable
from decimal import Decimal
from fractions import Fraction
from numbers import Rational
from typing import TypedDict

SECONDS_PER_HOUR = 3600

Number = int | float | Fraction | Decimal


def _exact(value: Number, name: str) -> Fraction:
    """Convert a number to an exact Fraction, reading floats as the decimal a person wrote."""
    if isinstance(value, bool):
        # bool is an int subclass; accepting it would hide caller bugs such as passing a flag.
        raise TypeError(f"{name} must be a number, not bool")
    if isinstance(value, float):
        # Fraction(0.1) is the binary approximation 0.1000000000000000055..., which would make
        # ceil() round an exact 10% fee up by a whole cent; repr() is the shortest decimal that
        # round-trips, i.e. the value the caller meant. Fraction() rejects nan and inf here.
        try:
            return Fraction(repr(value))
        except ValueError:
            raise ValueError(f"{name} must be finite, got {value!r}") from None
    if isinstance(value, (int, Rational, Decimal)):
        if isinstance(value, Decimal) and not value.is_finite():
            raise ValueError(f"{name} must be finite, got {value!r}")
        return Fraction(value)
    raise TypeError(f"{name} must be a number, got {type(value).__name__}")


def _non_negative_seconds(seconds: Number) -> Fraction:
    """Exact seconds, rejecting negative durations."""
    exact = _exact(seconds, "seconds")
    if exact < 0:
        raise ValueError(f"seconds must not be negative, got {seconds!r}")
    return exact


def hourly_rate_cents(reward_cents: int, seconds: float) -> int:
    """Hourly rate in cents for earning reward_cents in seconds, floored to the cent."""
    exact_seconds = _exact(seconds, "seconds")
    if exact_seconds <= 0:
        raise ValueError(f"seconds must be positive, got {seconds!r}")
    # Floor so a batch is never credited with a better rate than it actually pays.
    return math.floor(Fraction(reward_cents) * SECONDS_PER_HOUR / exact_seconds)


def meets_minimum(reward_cents: int, seconds: float, min_hourly_rate_cents: int) -> bool:
    """Whether reward_cents for seconds of work pays at least min_hourly_rate_cents per hour."""
    # Cross-multiplied so the comparison is exact and needs no division by seconds.
    return Fraction(reward_cents) * SECONDS_PER_HOUR >= _exact(
        min_hourly_rate_cents, "min_hourly_rate_cents"
    ) * _non_negative_seconds(seconds)


def required_reward_cents(seconds: float, min_hourly_rate_cents: int) -> int:
    """Smallest whole-cent reward that meets min_hourly_rate_cents for seconds of work."""
    exact_min = _exact(min_hourly_rate_cents, "min_hourly_rate_cents")
    return math.ceil(exact_min * _non_negative_seconds(seconds) / SECONDS_PER_HOUR)


def platform_fee_cents(total_rewards_cents: int, fee_pct: int | float) -> int:
    """Platform fee on a rewards total: total * fee_pct / 100, rounded up to the cent."""
    exact_pct = _exact(fee_pct, "fee_pct")
    if exact_pct < 0:
        raise ValueError(f"fee_pct must not be negative, got {fee_pct!r}")
    # Charged once on the total rather than per reward, so rounding up costs at most one cent.
    return math.ceil(Fraction(total_rewards_cents) * exact_pct / 100)


def batch_cost_cents(reward_cents: int, slots: int, fee_pct: int | float) -> tuple[int, int]:
    """(rewards_total, fee) for a batch of slots assignments paying reward_cents each."""
    if reward_cents < 0:
        raise ValueError(f"reward_cents must not be negative, got {reward_cents!r}")
    if slots < 0:
        raise ValueError(f"slots must not be negative, got {slots!r}")
    rewards_total = reward_cents * slots
    return rewards_total, platform_fee_cents(rewards_total, fee_pct)


def median_seconds(seconds: Iterable[float]) -> float | None:
    """Median of real working times (mean of the middle two for even counts), None if empty."""
    values = list(seconds)
    if not values:
        return None
    return float(statistics.median(values))


def median_from_histogram(
    buckets: Iterable[tuple[int, int]], total: int | None = None, before: int = 0
) -> float | None:
    """Median of the values a histogram counts, as median_seconds would give for the expanded list.

    buckets are (value, count) pairs, one per distinct value. They may be a slice of a larger
    histogram: before is how many values lie below the first bucket, total how many there are in all
    (by default before plus the buckets' counts). Costs one pass over the buckets, not the values.
    """
    ordered = sorted((value, count) for value, count in buckets if count)
    if total is None:
        total = before + sum(count for _, count in ordered)
    if total <= 0:
        return None
    # 1-based positions of the middle value (odd total) or the middle two (even total).
    low, high = (total + 1) // 2, total // 2 + 1
    seen, found = before, {}
    for value, count in ordered:
        if count < 0:
            raise ValueError(f"counts must not be negative, got {count!r}")
        for position in (low, high):
            if seen < position <= seen + count:
                found[position] = value
        seen += count
        if high in found:
            break
    if low not in found or high not in found:
        raise ValueError("the buckets do not reach the middle of the histogram")
    return median_seconds([found[low]] if low == high else [found[low], found[high]])


class UnderpayFinding(TypedDict):
    """What the real-pay audit found: the median real time, the pay it gives, and the reward the minimum needs."""

    median_seconds: float
    effective_hourly_cents: int
    required_reward_cents: int


def underpaid_at_median(reward_cents: int, median: float | None, min_hourly_rate_cents: int) -> UnderpayFinding | None:
    """The audit's finding for a known median real time (the database computes it for big batches)."""
    # An instant (or nonsensical negative) median means unbounded pay per hour, never underpay.
    if median is None or median <= 0:
        return None
    if meets_minimum(reward_cents, median, min_hourly_rate_cents):
        return None
    return {
        "median_seconds": median,
        "effective_hourly_cents": hourly_rate_cents(reward_cents, median),
        "required_reward_cents": required_reward_cents(median, min_hourly_rate_cents),
    }


def payout_fee_cents(amount_cents: int, fee_pct: int | float) -> int:
    """The fee that goes to the coop when amount_cents of a batch's rewards is paid or refunded."""
    exact_pct = _exact(fee_pct, "fee_pct")
    if exact_pct < 0:
        raise ValueError(f"fee_pct must not be negative, got {fee_pct!r}")
    # Floored at the rate charged, not pro rata to a total: raises add rewards (and fee) to a
    # batch in tranches, and a sum of floors over any split of a charged amount never exceeds
    # the fee charged on it rounded up, so a batch's escrow can never run dry before its end.
    return math.floor(Fraction(amount_cents) * exact_pct / 100)


def slot_cost_cents(reward_cents: int, fee_pct: int | float) -> int:
    """What one slot's work costs its batch's escrow when paid or refunded: the reward and its fee."""
    return reward_cents + payout_fee_cents(reward_cents, fee_pct)
