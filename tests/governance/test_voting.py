"""Tests for the pure vote-tally functions in coop.governance.voting."""

import itertools
import statistics
from collections import Counter

import pytest
from hypothesis import given
from hypothesis import strategies as st

from coop.governance.voting import (
    TallyError,
    quorum_met,
    tally_approval,
    tally_median,
    tally_ranked,
    tally_yes_no,
    validate_approvals,
    validate_choice,
    validate_ranking,
    yes_share_exceeds,
)

OPTIONS = ["A", "B", "C", "D", "E"]

option_lists = st.integers(min_value=1, max_value=len(OPTIONS)).map(lambda n: OPTIONS[:n])


def rankings_over(options):
    """Strategy for one ranking: an ordered, repeat-free, possibly partial choice of options."""
    return st.permutations(options).flatmap(
        lambda order: st.integers(min_value=0, max_value=len(order)).map(lambda k: order[:k])
    )


def approval_ballots_over(options):
    """Strategy for one approval ballot: distinct options in any order."""
    return st.lists(st.sampled_from(options), unique=True)


# --- quorum -----------------------------------------------------------------


def test_quorum_exactly_at_percentage_passes():
    assert quorum_met(50, 100, 50) is True


def test_quorum_one_ballot_short_fails():
    assert quorum_met(49, 100, 50) is False


def test_quorum_uses_integer_arithmetic_at_float_unfriendly_boundary():
    # 0.29 * 100 == 28.999999999999996 in floating point.
    assert quorum_met(29, 100, 29) is True
    assert quorum_met(1, 3, 33) is True
    assert quorum_met(1, 3, 34) is False


def test_quorum_with_no_eligible_members_is_never_met():
    assert quorum_met(0, 0, 0) is False
    assert quorum_met(5, 0, 10) is False


def test_quorum_of_zero_percent_is_met_by_no_ballots():
    assert quorum_met(0, 10, 0) is True


@pytest.mark.parametrize("args", [(-1, 10, 50), (1, -10, 50), (1, 10, 101), (1, 10, -1)])
def test_quorum_rejects_negative_counts_and_out_of_range_percentages(args):
    with pytest.raises(TallyError):
        quorum_met(*args)


# --- yes / no ---------------------------------------------------------------


def test_yes_no_counts_each_choice_and_turnout():
    result = tally_yes_no(["yes", "no", "abstain", "yes"], eligible=6)
    assert result == {"yes": 2, "no": 1, "abstain": 1, "turnout_pct": 66.67}


def test_yes_no_turnout_is_zero_when_nobody_is_eligible():
    assert tally_yes_no([], eligible=0) == {"yes": 0, "no": 0, "abstain": 0, "turnout_pct": 0.0}


def test_yes_no_turnout_counts_abstentions():
    assert tally_yes_no(["abstain"] * 3, eligible=4)["turnout_pct"] == 75.0


def test_yes_no_rejects_unknown_choice():
    with pytest.raises(TallyError, match="maybe"):
        tally_yes_no(["yes", "maybe"], eligible=5)


def test_yes_no_rejects_unhashable_choice():
    with pytest.raises(TallyError):
        tally_yes_no([["yes"]], eligible=5)


@given(
    st.lists(st.sampled_from(["yes", "no", "abstain"])),
    st.integers(min_value=0, max_value=1000),
)
def test_yes_no_totals_equal_number_of_ballots(choices, eligible):
    result = tally_yes_no(choices, eligible)
    assert result["yes"] + result["no"] + result["abstain"] == len(choices)


def test_simple_majority_at_exactly_fifty_percent_fails():
    assert yes_share_exceeds(50, 50, 50) is False


def test_simple_majority_just_above_fifty_percent_passes():
    assert yes_share_exceeds(51, 49, 50) is True


def test_sixty_percent_fails_a_two_thirds_supermajority():
    assert yes_share_exceeds(60, 40, 66) is False


def test_supermajority_is_computed_exactly():
    assert yes_share_exceeds(2, 1, 66) is True  # 66.67 % > 66 %
    assert yes_share_exceeds(2, 1, 67) is False  # 66.67 % < 67 %


def test_yes_share_with_no_yes_or_no_votes_fails():
    assert yes_share_exceeds(0, 0, 0) is False


def test_unanimous_yes_passes_any_threshold_below_100():
    assert yes_share_exceeds(3, 0, 99) is True
    assert yes_share_exceeds(3, 0, 100) is False


# --- approval ---------------------------------------------------------------


def test_approval_counts_every_option_in_options_order():
    result = tally_approval([["B"], ["B", "C"], []], ["A", "B", "C"])
    assert result == {"counts": {"A": 0, "B": 2, "C": 1}, "winner": "B"}
    assert list(result["counts"]) == ["A", "B", "C"]


def test_approval_tie_goes_to_option_listed_first():
    ballots = [["C", "B"], ["B", "C"]]
    assert tally_approval(ballots, ["A", "B", "C"])["winner"] == "B"
    assert tally_approval(ballots, ["C", "B", "A"])["winner"] == "C"


def test_approval_without_any_approvals_has_no_winner():
    assert tally_approval([[], []], ["A", "B"]) == {"counts": {"A": 0, "B": 0}, "winner": None}
    assert tally_approval([], ["A"])["winner"] is None


def test_approval_accepts_sets_as_ballots():
    assert tally_approval([{"A", "B"}], ["A", "B"])["counts"] == {"A": 1, "B": 1}


def test_approval_rejects_unknown_option():
    with pytest.raises(TallyError, match="Z"):
        tally_approval([["A", "Z"]], ["A", "B"])


def test_approval_rejects_repeated_option_on_one_ballot():
    with pytest.raises(TallyError):
        tally_approval([["A", "A"]], ["A", "B"])


approval_cases = option_lists.flatmap(lambda opts: st.tuples(st.just(opts), st.lists(approval_ballots_over(opts))))


@given(approval_cases)
def test_approval_counts_sum_to_total_number_of_approvals(case):
    options, ballots = case
    result = tally_approval(ballots, options)
    assert sum(result["counts"].values()) == sum(len(ballot) for ballot in ballots)


# --- ranked (instant-runoff) ------------------------------------------------


def test_irv_plurality_leader_loses_after_transfers():
    ballots = [["A"]] * 8 + [["B"]] * 7 + [["C", "B"]] * 5
    result = tally_ranked(ballots, ["A", "B", "C"])
    assert result["rounds"] == [{"A": 8, "B": 7, "C": 5}, {"A": 8, "B": 12}]
    assert result["winner"] == "B"


def test_irv_winner_is_majority_winner_when_one_exists():
    ballots = [["A", "B"]] * 3 + [["B"]] * 2
    assert tally_ranked(ballots, ["A", "B"]) == {"winner": "A", "rounds": [{"A": 3, "B": 2}]}


def test_irv_majority_is_of_non_exhausted_ballots_in_the_round():
    # After C goes, its ballot exhausts, so A's 3 of the remaining 5 is a majority.
    ballots = [["A"]] * 3 + [["B"]] * 2 + [["C"]]
    result = tally_ranked(ballots, ["A", "B", "C"])
    assert result["rounds"] == [{"A": 3, "B": 2, "C": 1}, {"A": 3, "B": 2}]
    assert result["winner"] == "A"


def test_irv_exact_half_is_not_a_majority():
    ballots = [["A"]] * 2 + [["B"]] + [["C"]]
    result = tally_ranked(ballots, ["A", "B", "C"])
    assert len(result["rounds"]) == 2
    assert result["winner"] == "A"


def test_irv_elimination_tie_goes_to_fewer_first_preferences():
    # Round 2 ties B and C on 5; C had fewer first preferences, so C goes
    # even though B is the one listed last.
    ballots = [["A"]] * 10 + [["B"]] * 5 + [["C"]] * 3 + [["D", "C"]] * 2
    result = tally_ranked(ballots, ["A", "C", "B", "D"])
    assert result["rounds"][1] == {"A": 10, "C": 5, "B": 5}
    assert result["rounds"][2] == {"A": 10, "B": 5}
    assert result["winner"] == "A"


def test_irv_elimination_full_tie_eliminates_option_listed_last():
    ballots = [["A"], ["A"], ["B"], ["C"]]
    assert set(tally_ranked(ballots, ["A", "B", "C"])["rounds"][1]) == {"A", "B"}
    assert set(tally_ranked(ballots, ["A", "C", "B"])["rounds"][1]) == {"A", "C"}


def test_irv_options_without_votes_are_eliminated_first():
    result = tally_ranked([["B"], ["B"], ["A"]], ["A", "B", "C"])
    assert result["rounds"][0] == {"A": 1, "B": 2, "C": 0}
    assert result["winner"] == "B"


def test_irv_last_continuing_option_wins():
    ballots = [["A"], ["B"]]
    result = tally_ranked(ballots, ["A", "B"])
    assert result["rounds"] == [{"A": 1, "B": 1}, {"A": 1}]
    assert result["winner"] == "A"


def test_irv_without_ballots_has_no_winner_and_no_rounds():
    assert tally_ranked([], ["A", "B"]) == {"winner": None, "rounds": []}


def test_irv_with_only_empty_rankings_has_no_winner():
    result = tally_ranked([[], []], ["A", "B"])
    assert result == {"winner": None, "rounds": [{"A": 0, "B": 0}]}


def test_irv_rejects_ranking_with_unknown_option():
    with pytest.raises(TallyError, match="Z"):
        tally_ranked([["A", "Z"]], ["A", "B"])


def test_irv_rejects_ranking_with_repeats():
    with pytest.raises(TallyError):
        tally_ranked([["A", "B", "A"]], ["A", "B"])


def test_irv_rejects_duplicate_options():
    with pytest.raises(TallyError):
        tally_ranked([["A"]], ["A", "A"])


def test_irv_counts_every_ballot_of_a_large_grouped_tally():
    options = list("ABCDEFGH")
    orders = itertools.cycle(itertools.permutations(options))
    ballots = [next(orders)[: i % 9] for i in range(100_000)]
    result = tally_ranked(ballots, options)
    assert result["winner"] in options
    assert sum(result["rounds"][0].values()) == sum(1 for b in ballots if b)


irv_cases = option_lists.flatmap(lambda opts: st.tuples(st.just(opts), st.lists(rankings_over(opts))))


@given(irv_cases)
def test_irv_winner_equals_strict_first_preference_majority(case):
    options, ballots = case
    firsts = Counter(ballot[0] for ballot in ballots if ballot)
    active = sum(firsts.values())
    majority = [option for option, votes in firsts.items() if votes * 2 > active]
    result = tally_ranked(ballots, options)
    if majority:
        assert result["winner"] == majority[0]
        assert len(result["rounds"]) == 1


@given(irv_cases)
def test_irv_round_totals_bounded_and_continuing_set_shrinks_by_one(case):
    options, ballots = case
    rounds = tally_ranked(ballots, options)["rounds"]
    if ballots:
        assert list(rounds[0]) == options
    for count in rounds:
        assert sum(count.values()) <= len(ballots)
    for earlier, later in zip(rounds, rounds[1:], strict=False):
        assert set(later) < set(earlier)
        assert len(later) == len(earlier) - 1


# --- median -----------------------------------------------------------------


def test_median_of_even_count_is_the_lower_middle_value():
    assert tally_median([4, 1, 3, 2]) == {"value": 2, "count": 4}


def test_median_of_odd_count_is_the_middle_value():
    assert tally_median([9, 1, 5]) == {"value": 5, "count": 3}


def test_median_of_single_value_is_that_value():
    assert tally_median([2.5]) == {"value": 2.5, "count": 1}


def test_median_of_no_values_is_none():
    assert tally_median([]) == {"value": None, "count": 0}


def test_median_rejects_nan_and_non_numbers():
    with pytest.raises(TallyError):
        tally_median([1, float("nan")])
    with pytest.raises(TallyError):
        tally_median([1, "2"])


def test_median_of_a_million_values_matches_the_reference():
    values = [(i * 7919) % 1_000_003 for i in range(1_000_000)]
    result = tally_median(values)
    assert result == {"value": statistics.median_low(values), "count": 1_000_000}


numbers = st.one_of(st.integers(), st.floats(allow_nan=False))


values_and_shuffle = st.lists(numbers).flatmap(lambda values: st.tuples(st.just(values), st.permutations(values)))


@given(values_and_shuffle)
def test_median_is_independent_of_value_order(case):
    values, shuffled = case
    assert tally_median(values) == tally_median(shuffled)


@given(st.lists(numbers, min_size=1))
def test_median_matches_statistics_median_low(values):
    assert tally_median(values)["value"] == statistics.median_low(values)


# --- validation -------------------------------------------------------------


def test_validate_choice_returns_valid_choice():
    assert validate_choice("abstain", ["yes", "no", "abstain"]) == "abstain"


@pytest.mark.parametrize("choice", ["maybe", "YES", "", None, 1])
def test_validate_choice_rejects_anything_but_yes_no_abstain(choice):
    with pytest.raises(TallyError, match="not valid"):
        validate_choice(choice, ["yes", "no", "abstain"])


def test_validate_approvals_returns_list_in_options_order():
    assert validate_approvals({"C", "A"}, ["A", "B", "C"]) == ["A", "C"]
    assert validate_approvals([], ["A"]) == []


@pytest.mark.parametrize("approvals", [["A", "A"], ["Z"], "A", None, [["A"]]])
def test_validate_approvals_rejects_repeats_unknowns_and_non_lists(approvals):
    with pytest.raises(TallyError):
        validate_approvals(approvals, ["A", "B"])


def test_validate_ranking_returns_list_preserving_order():
    assert validate_ranking(("B", "A"), ["A", "B", "C"]) == ["B", "A"]


@pytest.mark.parametrize("ranking", [["A", "A"], ["A", "Z"], "AB", {"A"}, None, [["A"]]])
def test_validate_ranking_rejects_repeats_unknowns_and_unordered_input(ranking):
    with pytest.raises(TallyError):
        validate_ranking(ranking, ["A", "B"])


def test_tally_error_is_a_value_error():
    assert issubclass(TallyError, ValueError)
