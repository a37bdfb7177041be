"""The pure patronage allocation: exact sums, proportional within a cent, documented tie rule."""

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from coop.governance.patronage import allocate


def test_an_even_split_needs_no_rounding():
    assert allocate(900, {1: 100, 2: 200}) == {1: 300, 2: 600}


def test_leftover_cents_go_to_the_largest_remainders():
    # Exact shares 333.33.., 666.66..: floors 333 + 666 leave one cent, for the larger remainder.
    assert allocate(1000, {1: 1000, 2: 2000}) == {1: 333, 2: 667}


def test_equal_remainders_favour_the_lowest_member_id():
    assert allocate(100, {7: 1, 3: 1, 5: 1}) == {3: 34, 5: 33, 7: 33}


def test_members_without_earnings_get_nothing():
    assert allocate(500, {1: 0, 2: 10, 3: -4}) == {2: 500}


def test_nothing_to_share_by_gives_no_allocation():
    assert allocate(500, {}) == {}
    assert allocate(500, {1: 0}) == {}


@pytest.mark.parametrize("amount", [-1, 1.5, True, "100"])
def test_the_amount_must_be_whole_non_negative_cents(amount):
    with pytest.raises(ValueError):
        allocate(amount, {1: 1})


weights = st.dictionaries(
    st.integers(min_value=1, max_value=10_000), st.integers(min_value=0, max_value=10**9), max_size=50
)


@given(st.integers(min_value=0, max_value=10**10), weights)
def test_allocations_sum_exactly_to_the_amount_and_are_proportional_within_a_cent(amount, weights):
    shares = allocate(amount, weights)
    total = sum(w for w in weights.values() if w > 0)
    if total == 0:
        assert shares == {}
        return
    assert sum(shares.values()) == amount
    for member, cents in shares.items():
        exact = Fraction(amount * weights[member], total)
        assert abs(cents - exact) < 1
        assert cents >= 0


@given(st.integers(min_value=0, max_value=10**6), weights)
def test_more_earnings_never_means_less_patronage(amount, weights):
    shares = allocate(amount, weights)
    ordered = sorted(shares, key=lambda m: (weights[m], -m))
    assert [shares[m] for m in ordered] == sorted(shares[m] for m in ordered)
