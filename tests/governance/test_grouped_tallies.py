"""Grouped tallies (ballot, count) give exactly the result of counting every ballot one by one."""

from collections import Counter

import pytest
from hypothesis import given
from hypothesis import strategies as st

from coop.governance.voting import (
    TallyError,
    tally_approval,
    tally_approval_grouped,
    tally_median,
    tally_median_grouped,
    tally_ranked,
    tally_ranked_grouped,
    tally_yes_no,
    tally_yes_no_grouped,
)

OPTIONS = ["A", "B", "C", "D"]
rankings = st.permutations(OPTIONS).flatmap(lambda order: st.integers(0, len(order)).map(lambda k: list(order[:k])))


def grouped(ballots, key=tuple):
    counts = Counter(key(b) for b in ballots)
    return [(list(k) if isinstance(k, tuple) else k, n) for k, n in counts.items()]


@given(st.lists(st.sampled_from(["yes", "no", "abstain"])), st.integers(0, 500))
def test_grouped_yes_no_equals_ungrouped(choices, extra_eligible):
    eligible = len(choices) + extra_eligible
    assert tally_yes_no_grouped(Counter(choices).items(), eligible) == tally_yes_no(choices, eligible)


@given(st.lists(rankings, max_size=60))
def test_grouped_ranked_equals_ungrouped(ballots):
    assert tally_ranked_grouped(grouped(ballots), OPTIONS) == tally_ranked(ballots, OPTIONS)


@given(st.lists(st.lists(st.sampled_from(OPTIONS), unique=True), max_size=60))
def test_grouped_approval_equals_ungrouped(ballots):
    sorted_ballots = [sorted(b) for b in ballots]
    assert tally_approval_grouped(grouped(sorted_ballots), OPTIONS) == tally_approval(ballots, OPTIONS)


@given(st.lists(st.integers(-1000, 1000), max_size=80))
def test_grouped_median_equals_ungrouped(values):
    assert tally_median_grouped(Counter(values).items()) == tally_median(values)


def test_grouped_median_walks_weights_to_the_lower_middle():
    # Four ballots: 10, 10, 30, 30 -> sorted index (4-1)//2 = 1 -> 10.
    assert tally_median_grouped([(30, 2), (10, 2)]) == {"value": 10, "count": 4}
    assert tally_median_grouped([(30, 3), (10, 2)]) == {"value": 30, "count": 5}


def test_negative_weights_are_refused():
    with pytest.raises(TallyError):
        tally_yes_no_grouped([("yes", -1)], 10)
    with pytest.raises(TallyError):
        tally_median_grouped([(5, -2)])
