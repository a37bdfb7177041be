"""Tests for batch pay arithmetic in coop.marketplace.pay."""

from __future__ import annotations

import math
import statistics
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from coop.marketplace.pay import (
    batch_cost_cents,
    hourly_rate_cents,
    median_from_histogram,
    median_seconds,
    meets_minimum,
    payout_fee_cents,
    platform_fee_cents,
    required_reward_cents,
    slot_cost_cents,
    underpaid_at_median,
)

cents = st.integers(min_value=0, max_value=10**7)
positive_cents = st.integers(min_value=1, max_value=10**7)
positive_int_seconds = st.integers(min_value=1, max_value=10**6)
positive_float_seconds = st.floats(min_value=0.001, max_value=1e6, allow_nan=False, allow_infinity=False)
positive_seconds = positive_int_seconds | positive_float_seconds
int_pct = st.integers(min_value=0, max_value=100)
float_pct = st.floats(min_value=0, max_value=100, allow_nan=False, allow_infinity=False)


def exact(value: int | float) -> Fraction:
    """The value the caller wrote: floats are read as their shortest decimal repr."""
    return Fraction(repr(value)) if isinstance(value, float) else Fraction(value)


# --- hourly_rate_cents -------------------------------------------------------------------


def test_hourly_rate_exact():
    assert hourly_rate_cents(20, 60) == 1200


def test_hourly_rate_floors_to_the_cent():
    # 10 cents in 7 s is 5142.857... cents per hour.
    assert hourly_rate_cents(10, 7) == 5142


def test_hourly_rate_float_seconds():
    assert hourly_rate_cents(1, 0.5) == 7200
    # 0.1 is read as one tenth, not its binary approximation which would floor to 35999.
    assert hourly_rate_cents(1, 0.1) == 36000


def test_hourly_rate_returns_int():
    assert type(hourly_rate_cents(25, 37.5)) is int


@pytest.mark.parametrize("seconds", [0, 0.0, -1, -0.5])
def test_hourly_rate_rejects_non_positive_seconds(seconds):
    with pytest.raises(ValueError):
        hourly_rate_cents(10, seconds)


@pytest.mark.parametrize("seconds", [math.nan, math.inf])
def test_hourly_rate_rejects_non_finite_seconds(seconds):
    with pytest.raises(ValueError):
        hourly_rate_cents(10, seconds)


@given(reward=cents, extra=positive_cents, seconds=positive_seconds)
def test_hourly_rate_is_monotone_in_reward(reward, extra, seconds):
    assert hourly_rate_cents(reward, seconds) <= hourly_rate_cents(reward + extra, seconds)


@given(reward=cents, seconds=positive_seconds)
def test_hourly_rate_is_the_floor_of_the_exact_rate(reward, seconds):
    rate = hourly_rate_cents(reward, seconds)
    exact_rate = Fraction(reward * 3600) / exact(seconds)
    assert rate <= exact_rate < rate + 1


# --- meets_minimum -----------------------------------------------------------------------


def test_meets_minimum_exactly_at_the_minimum():
    assert meets_minimum(20, 60, 1200) is True


def test_meets_minimum_one_cent_short():
    assert meets_minimum(19, 60, 1200) is False


def test_meets_minimum_float_seconds_without_float_error():
    assert meets_minimum(3, 9.0, 1200) is True
    # 1 cent in 7.2 s is exactly 500/h, but the binary float 7.2 is slightly more than 7.2,
    # so reading it as Fraction(7.2) would wrongly report the minimum as missed.
    assert meets_minimum(1, 7.2, 500) is True
    assert meets_minimum(1, 7.2, 501) is False
    assert required_reward_cents(7.2, 500) == 1


def test_meets_minimum_zero_seconds():
    assert meets_minimum(0, 0, 1200) is True


def test_meets_minimum_rejects_negative_seconds():
    with pytest.raises(ValueError):
        meets_minimum(10, -1, 1200)


@given(reward=cents, seconds=positive_seconds, minimum=cents)
def test_meets_minimum_agrees_with_exact_cross_multiplication(reward, seconds, minimum):
    assert meets_minimum(reward, seconds, minimum) == (reward * 3600 >= minimum * exact(seconds))


# --- required_reward_cents ---------------------------------------------------------------


def test_required_reward_exact():
    assert required_reward_cents(60, 1200) == 20


def test_required_reward_rounds_up():
    # 1200/h for 61 s is 20.333... cents.
    assert required_reward_cents(61, 1200) == 21


def test_required_reward_float_seconds_is_not_overcharged_by_binary_error():
    # 36000/h for 0.1 s is exactly 1 cent; Fraction(0.1) would round this up to 2.
    assert required_reward_cents(0.1, 36000) == 1


def test_required_reward_zero():
    assert required_reward_cents(0, 1200) == 0
    assert required_reward_cents(60, 0) == 0


def test_required_reward_returns_int():
    assert type(required_reward_cents(37.5, 1234)) is int


@given(seconds=positive_seconds, minimum=positive_cents)
def test_required_reward_is_the_minimal_reward_that_meets_the_minimum(seconds, minimum):
    reward = required_reward_cents(seconds, minimum)
    assert reward >= 1
    assert meets_minimum(reward, seconds, minimum)
    assert not meets_minimum(reward - 1, seconds, minimum)


# --- platform_fee_cents / batch_cost_cents -----------------------------------------------


def test_fee_rounds_up():
    assert platform_fee_cents(1005, 10) == 101


def test_fee_exact():
    assert platform_fee_cents(1000, 10) == 100
    assert platform_fee_cents(0, 10) == 0
    assert platform_fee_cents(1000, 0) == 0


def test_fee_float_pct_is_read_as_written():
    # Fraction(0.1) is slightly above one tenth and would round 1 cent up to 2.
    assert platform_fee_cents(1000, 0.1) == 1
    assert platform_fee_cents(1000, 7.5) == 75
    assert platform_fee_cents(1001, 7.5) == 76


def test_fee_returns_int_for_float_pct():
    assert type(platform_fee_cents(1234, 12.5)) is int


def test_fee_rejects_negative_pct():
    with pytest.raises(ValueError):
        platform_fee_cents(1000, -1)


@given(total=cents, pct=int_pct | float_pct)
def test_fee_is_the_ceiling_of_the_exact_fraction(total, pct):
    fee = platform_fee_cents(total, pct)
    exact_fee = Fraction(total) * exact(pct) / 100
    assert exact_fee <= fee < exact_fee + 1


def test_batch_cost():
    assert batch_cost_cents(201, 5, 10) == (1005, 101)
    assert batch_cost_cents(20, 0, 10) == (0, 0)


def test_batch_cost_fee_is_charged_once_on_the_total():
    # Per-slot rounding would charge ceil(0.1) * 10 = 10 cents; on the total it is 1.
    assert batch_cost_cents(1, 10, 10) == (10, 1)


@pytest.mark.parametrize("reward, slots", [(-1, 5), (10, -1)])
def test_batch_cost_rejects_negative_inputs(reward, slots):
    with pytest.raises(ValueError):
        batch_cost_cents(reward, slots, 10)


@given(reward=cents, slots=st.integers(min_value=0, max_value=10**4), pct=int_pct)
def test_batch_cost_matches_fee_on_total(reward, slots, pct):
    rewards_total, fee = batch_cost_cents(reward, slots, pct)
    assert rewards_total == reward * slots
    assert fee == platform_fee_cents(rewards_total, pct)


# --- median_seconds ----------------------------------------------------------------------


def test_median_odd():
    assert median_seconds([30, 10, 20]) == 20.0


def test_median_even_is_mean_of_middle_two():
    assert median_seconds([40, 10, 30, 20]) == 25.0


def test_median_accepts_iterables():
    assert median_seconds(x for x in (1.5, 2.5)) == 2.0


def test_median_empty():
    assert median_seconds([]) is None


def test_median_returns_float():
    assert type(median_seconds([1, 2, 3])) is float


@given(
    values=st.lists(
        st.floats(min_value=0, max_value=1e6, allow_nan=False, allow_infinity=False),
        min_size=1,
        max_size=50,
    ),
    data=st.data(),
)
def test_median_is_order_independent(values, data):
    shuffled = data.draw(st.permutations(values))
    assert median_seconds(shuffled) == median_seconds(values)


# --- underpaid_at_median -----------------------------------------------------------------


def test_audit_flags_underpaid_batch():
    # 20 cents at a median of 90 s is 800/h against a 1200/h minimum.
    times = [60, 70, 80, 90, 90, 90, 100, 110, 120, 130]
    assert median_seconds(times) == 90.0
    assert underpaid_at_median(20, median_seconds(times), 1200) == {
        "median_seconds": 90.0,
        "effective_hourly_cents": 800,
        "required_reward_cents": 30,
    }


def test_audit_even_count_uses_mean_of_middle_two():
    times = [60] * 5 + [61] * 5
    result = underpaid_at_median(20, median_seconds(times), 1200)
    assert result == {
        "median_seconds": 60.5,
        "effective_hourly_cents": 1190,  # 72000 / 60.5 = 1190.08...
        "required_reward_cents": 21,  # 1200 * 60.5 / 3600 = 20.166...
    }


def test_audit_batch_meeting_minimum_is_not_flagged():
    assert underpaid_at_median(20, median_seconds([60] * 10), 1200) is None
    assert underpaid_at_median(20, 60, 1200) is None


def test_audit_zero_median_cannot_underpay():
    assert underpaid_at_median(0, median_seconds([0] * 10), 1200) is None
    assert underpaid_at_median(20, -5, 1200) is None


def test_audit_with_no_times_finds_nothing():
    assert underpaid_at_median(20, median_seconds([]), 1200) is None


@given(
    reward=cents,
    times=st.lists(positive_seconds, min_size=1, max_size=30),
    minimum=cents,
)
def test_audit_result_is_consistent(reward, times, minimum):
    median = median_seconds(times)
    result = underpaid_at_median(reward, median, minimum)
    assert (result is None) == meets_minimum(reward, median, minimum)
    if result is not None:
        assert result["median_seconds"] == median
        assert result["effective_hourly_cents"] < minimum
        assert result["required_reward_cents"] > reward
        assert meets_minimum(result["required_reward_cents"], median, minimum)


# --- payout_fee_cents --------------------------------------------------------------------


def test_payout_fee_is_floored_at_the_rate():
    assert payout_fee_cents(33, 10) == 3
    assert payout_fee_cents(40, 10) == 4
    assert payout_fee_cents(0, 10) == 0


def test_payout_fee_rejects_negative_pct():
    with pytest.raises(ValueError):
        payout_fee_cents(10, -1)


@given(
    tranches=st.lists(
        st.lists(st.integers(min_value=1, max_value=10**5), min_size=1, max_size=20), min_size=1, max_size=4
    ),
    pct=int_pct,
    data=st.data(),
)
def test_payout_fees_never_exceed_the_fees_charged_however_the_money_is_split(tranches, pct, data):
    # Each tranche (the posting, then raises) is charged its fee rounded up; payouts take floored
    # fees on any regrouping of the same money, and must never need more than was charged.
    charged = sum(platform_fee_cents(sum(t), pct) for t in tranches)
    amounts = [a for t in tranches for a in t]
    shuffled = data.draw(st.permutations(amounts))
    cut = data.draw(st.integers(min_value=0, max_value=len(shuffled)))
    groups = [shuffled[:cut], shuffled[cut:]]
    paid = sum(payout_fee_cents(sum(g), pct) for g in groups if g)
    assert 0 <= paid <= charged
    assert sum(payout_fee_cents(a, pct) for a in amounts) <= charged


# --- slot_cost_cents ---------------------------------------------------------------------


def test_slot_cost_is_the_reward_and_its_floored_fee():
    assert slot_cost_cents(20, 10) == 22
    assert slot_cost_cents(33, 10) == 36
    assert slot_cost_cents(33, 12.5) == 37  # 4.125 cents of fee, floored
    assert slot_cost_cents(20, 0) == 20


@given(reward=cents, slots=st.integers(min_value=0, max_value=1000), pct=int_pct | float_pct)
def test_slots_paid_one_by_one_never_cost_more_than_the_batch_charged(reward, slots, pct):
    rewards_total, fee = batch_cost_cents(reward, slots, pct)
    assert slot_cost_cents(reward, pct) * slots <= rewards_total + fee


# --- median_from_histogram ----------------------------------------------------------------


def test_histogram_median_of_nothing_is_none():
    assert median_from_histogram([]) is None
    assert median_from_histogram([(30, 0)]) is None


def test_histogram_median_odd_and_even():
    assert median_from_histogram([(10, 1), (20, 1), (30, 1)]) == 20.0
    assert median_from_histogram([(10, 2), (30, 2)]) == 20.0
    assert median_from_histogram([(7, 4)]) == 7.0
    # Unsorted buckets are read in value order.
    assert median_from_histogram([(40, 1), (10, 1), (20, 1), (30, 1)]) == 25.0


def test_histogram_median_of_a_middle_slice():
    # values 1,1,1,2,5,5,9: the slice [(2, 1), (5, 2)] with 3 below and 7 in all holds the middle.
    assert median_from_histogram([(2, 1), (5, 2)], total=7, before=3) == 2.0
    assert median_from_histogram([(2, 1), (5, 2)], total=8, before=3) == 3.5


def test_histogram_median_refuses_a_slice_that_misses_the_middle():
    with pytest.raises(ValueError):
        median_from_histogram([(2, 1)], total=9, before=0)


@given(st.lists(st.integers(min_value=1, max_value=10**6), min_size=1, max_size=200))
def test_histogram_median_equals_median_of_the_expanded_list(values):
    counts: dict[int, int] = {}
    for value in values:
        counts[value] = counts.get(value, 0) + 1
    assert median_from_histogram(counts.items()) == float(statistics.median(values)) == median_seconds(values)


@given(st.lists(st.integers(min_value=1, max_value=50), min_size=1, max_size=200), st.data())
def test_histogram_median_from_any_slice_holding_the_middle(values, data):
    buckets = sorted((v, values.count(v)) for v in set(values))
    cut = data.draw(st.integers(min_value=0, max_value=len(buckets)))
    total = len(values)
    before = sum(count for _, count in buckets[:cut])
    # Only a slice that starts at or below the middle can answer; keep every bucket from the cut on.
    if before >= (total + 1) // 2:
        cut, before = 0, 0
    assert median_from_histogram(buckets[cut:], total=total, before=before) == float(statistics.median(values))
