"""Tests for the consent, score and single-transferable-vote tallies in coop.governance.voting."""

from collections import Counter
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from coop.governance.voting import (
    OBJECTION_REASON_MAX_CHARS,
    OBJECTION_REASON_MIN_CHARS,
    TallyError,
    droop_quota,
    tally_consent,
    tally_consent_grouped,
    tally_ranked,
    tally_score,
    tally_score_grouped,
    tally_stv,
    tally_stv_grouped,
    validate_consent,
    validate_scores,
)

OPTIONS = ["A", "B", "C", "D", "E"]
REASON = "The fee rise lands on the newest members first."
CONSENT = {"consent": True}
OBJECTION = {"objection": REASON}


def rankings_over(options):
    """Strategy for one ranking: an ordered, repeat-free, possibly partial choice of options."""
    return st.permutations(options).flatmap(
        lambda order: st.integers(min_value=0, max_value=len(order)).map(lambda k: list(order[:k]))
    )


def grouped(ballots, key):
    """Identical ballots as (ballot, count) pairs, the way the database's GROUP BY hands them over."""
    counts = Counter(key(ballot) for ballot in ballots)
    return list(counts.items())


# --- consent: validation ----------------------------------------------------


def test_validate_consent_returns_the_ballot_with_the_reason_stripped():
    assert validate_consent({"consent": True}) == {"consent": True}
    assert validate_consent({"objection": f"  {REASON}\n"}) == {"objection": REASON}


def test_objection_reason_length_is_counted_after_stripping():
    assert validate_consent({"objection": "x" * OBJECTION_REASON_MIN_CHARS})
    assert validate_consent({"objection": "x" * OBJECTION_REASON_MAX_CHARS})
    with pytest.raises(TallyError, match="at least 20 characters"):
        validate_consent({"objection": "   " + "x" * (OBJECTION_REASON_MIN_CHARS - 1) + "   "})
    with pytest.raises(TallyError, match="at most 2000"):
        validate_consent({"objection": "x" * (OBJECTION_REASON_MAX_CHARS + 1)})


@pytest.mark.parametrize(
    "ballot",
    [
        None,
        [],
        "consent",
        {},
        {"consent": True, "objection": REASON},
        {"vote": True},
        {"consent": False},
        {"consent": 1},
        {"consent": "true"},
        {"objection": None},
        {"objection": ["too", "expensive"]},
        {"objection": "Too expensive."},
        {"objection": " " * 40},
    ],
)
def test_validate_consent_refuses_anything_but_consent_or_a_reasoned_objection(ballot):
    with pytest.raises(TallyError):
        validate_consent(ballot)


def test_withholding_consent_is_told_to_object_with_a_reason():
    with pytest.raises(TallyError, match="object with a reason"):
        validate_consent({"consent": False})


# --- consent: tally ---------------------------------------------------------


def test_consent_passes_with_quorum_and_objections_under_the_share():
    # 7 of 10 eligible voted: 7*100 = 700 >= 50*10 = 500, quorum met.
    # 1 objection of 7 ballots: 1*100 = 100 < 25*7 = 175, not blocked.
    result = tally_consent([CONSENT] * 6 + [OBJECTION], eligible=10, quorum_pct=50, objection_pct=25)
    assert result == {"consents": 6, "objections": 1, "quorum_met": True, "blocked": False, "passes": True}


def test_objections_reaching_the_share_exactly_block():
    # 1 objection of 4 ballots at 25 %: 1*100 = 100 >= 25*4 = 100, blocked.
    blocked = tally_consent([CONSENT] * 3 + [OBJECTION], eligible=4, quorum_pct=50, objection_pct=25)
    assert blocked["blocked"] is True and blocked["passes"] is False
    # 1 objection of 5 ballots: 100 < 25*5 = 125, passes.
    passing = tally_consent([CONSENT] * 4 + [OBJECTION], eligible=5, quorum_pct=50, objection_pct=25)
    assert passing["blocked"] is False and passing["passes"] is True


def test_consent_without_quorum_does_not_pass_even_unopposed():
    # 2 of 10: 200 < 50*10 = 500.
    result = tally_consent([CONSENT] * 2, eligible=10, quorum_pct=50, objection_pct=10)
    assert result == {"consents": 2, "objections": 0, "quorum_met": False, "blocked": False, "passes": False}


def test_consent_with_no_ballots_never_passes():
    # Even a zero quorum is met by no ballots, but 0*100 >= pct*0: nothing was consented to.
    result = tally_consent([], eligible=10, quorum_pct=0, objection_pct=10)
    assert result["quorum_met"] is True
    assert result["passes"] is False


def test_consent_at_one_hundred_percent_is_blocked_only_by_unanimous_objection():
    ballots = [OBJECTION] * 9 + [CONSENT]
    assert tally_consent(ballots, eligible=10, quorum_pct=50, objection_pct=100)["passes"] is True
    assert tally_consent([OBJECTION] * 10, eligible=10, quorum_pct=50, objection_pct=100)["passes"] is False


def test_consent_tally_counts_grouped_identical_ballots():
    result = tally_consent_grouped([(CONSENT, 30), (OBJECTION, 2)], eligible=40, quorum_pct=50, objection_pct=10)
    # 2*100 = 200 < 10*32 = 320.
    assert result == {"consents": 30, "objections": 2, "quorum_met": True, "blocked": False, "passes": True}


@pytest.mark.parametrize("objection_pct", [0, -1, 101, True, 12.5, None])
def test_consent_refuses_an_objection_share_outside_1_to_100(objection_pct):
    with pytest.raises(TallyError, match="objection_pct"):
        tally_consent([CONSENT], eligible=1, quorum_pct=50, objection_pct=objection_pct)


def test_consent_refuses_a_malformed_ballot_or_weight():
    with pytest.raises(TallyError):
        tally_consent([CONSENT, {"objection": "no"}], eligible=5, quorum_pct=50, objection_pct=10)
    with pytest.raises(TallyError):
        tally_consent_grouped([(CONSENT, -1)], eligible=5, quorum_pct=50, objection_pct=10)
    with pytest.raises(TallyError):
        tally_consent([CONSENT], eligible=-1, quorum_pct=50, objection_pct=10)


consent_ballots = st.lists(st.sampled_from([CONSENT, OBJECTION, {"objection": "Another reason, long enough."}]))
consent_params = st.tuples(st.integers(0, 200), st.integers(0, 100), st.integers(1, 100))


@given(consent_ballots, consent_params)
def test_grouped_consent_equals_ungrouped(ballots, params):
    extra, quorum_pct, objection_pct = params
    eligible = len(ballots) + extra
    pairs = grouped(ballots, key=lambda b: tuple(b.items()))
    as_groups = [(dict(items), count) for items, count in pairs]
    assert tally_consent_grouped(as_groups, eligible, quorum_pct, objection_pct) == tally_consent(
        ballots, eligible, quorum_pct, objection_pct
    )


@given(consent_ballots, st.integers(1, 100))
def test_one_more_objection_never_unblocks_and_one_more_consent_never_blocks(ballots, objection_pct):
    eligible = len(ballots) + 1
    before = tally_consent(ballots, eligible, 0, objection_pct)
    if before["blocked"]:
        assert tally_consent(ballots + [OBJECTION], eligible, 0, objection_pct)["blocked"]
    else:
        assert not tally_consent(ballots + [CONSENT], eligible, 0, objection_pct)["blocked"]


# --- score: validation ------------------------------------------------------


def test_validate_scores_returns_scores_in_options_order():
    scores = validate_scores({"C": 0, "A": 5, "B": 3}, ["A", "B", "C"])
    assert scores == {"A": 5, "B": 3, "C": 0}
    assert list(scores) == ["A", "B", "C"]


@pytest.mark.parametrize(
    "scores",
    [
        None,
        [5, 3],
        {"A": 5},  # B is not scored
        {"A": 5, "B": 3, "Z": 1},
        {"A": 6, "B": 0},
        {"A": -1, "B": 0},
        {"A": 2.5, "B": 0},
        {"A": 5.0, "B": 0},
        {"A": "5", "B": 0},
        {"A": True, "B": 0},
        {"A": None, "B": 0},
    ],
)
def test_validate_scores_refuses_missing_unknown_or_out_of_range_scores(scores):
    with pytest.raises(TallyError):
        validate_scores(scores, ["A", "B"])


def test_validate_scores_names_the_missing_option():
    with pytest.raises(TallyError, match="missing: 'B'"):
        validate_scores({"A": 1}, ["A", "B"])


# --- score: tally -----------------------------------------------------------


def test_score_highest_mean_wins():
    ballots = [{"A": 5, "B": 3, "C": 0}, {"A": 1, "B": 4, "C": 2}, {"A": 3, "B": 4, "C": 5}]
    # Sums: A 5+1+3 = 9, B 3+4+4 = 11, C 0+2+5 = 7; means over 3 ballots 3.0, 3.67, 2.33.
    assert tally_score(ballots, ["A", "B", "C"]) == {
        "sums": {"A": 9, "B": 11, "C": 7},
        "means": {"A": 3.0, "B": 3.67, "C": 2.33},
        "count": 3,
        "winner": "B",
    }


def test_score_tie_goes_to_the_option_listed_first():
    ballots = [{"A": 5, "B": 0}, {"A": 0, "B": 5}]
    assert tally_score(ballots, ["A", "B"])["winner"] == "A"
    assert tally_score(ballots, ["B", "A"])["winner"] == "B"


def test_score_winner_is_decided_on_exact_sums_not_rounded_means():
    # 1000 ballots: A sums 3001, B 3002; both means round to 3.0, yet B is ahead by one point.
    groups = [({"A": 3, "B": 3}, 998), ({"A": 5, "B": 4}, 1), ({"A": 2, "B": 4}, 1)]
    result = tally_score_grouped(groups, ["A", "B"])
    assert result["sums"] == {"A": 3001, "B": 3002}
    assert result["means"] == {"A": 3.0, "B": 3.0}
    assert result["winner"] == "B"


def test_score_without_ballots_has_no_means_and_no_winner():
    assert tally_score([], ["A", "B"]) == {
        "sums": {"A": 0, "B": 0},
        "means": {"A": None, "B": None},
        "count": 0,
        "winner": None,
    }


def test_score_where_every_option_got_zero_has_no_winner():
    result = tally_score([{"A": 0, "B": 0}] * 3, ["A", "B"])
    assert result["means"] == {"A": 0.0, "B": 0.0}
    assert result["winner"] is None


def test_score_tally_refuses_bad_ballots_weights_and_options():
    with pytest.raises(TallyError):
        tally_score([{"A": 5, "B": 1}, {"A": 5}], ["A", "B"])
    with pytest.raises(TallyError):
        tally_score_grouped([({"A": 5, "B": 1}, -2)], ["A", "B"])
    with pytest.raises(TallyError):
        tally_score_grouped([({"A": 5, "B": 1}, True)], ["A", "B"])
    with pytest.raises(TallyError):
        tally_score([], ["A", "A"])


score_cases = (
    st.integers(1, len(OPTIONS))
    .map(lambda n: OPTIONS[:n])
    .flatmap(
        lambda opts: st.tuples(
            st.just(opts),
            st.lists(st.fixed_dictionaries({option: st.integers(0, 5) for option in opts}), max_size=40),
        )
    )
)


@given(score_cases)
def test_grouped_score_equals_ungrouped(case):
    options, ballots = case
    pairs = grouped(ballots, key=lambda b: tuple(b.items()))
    assert tally_score_grouped([(dict(items), n) for items, n in pairs], options) == tally_score(ballots, options)


@given(score_cases.flatmap(lambda case: st.tuples(st.just(case), st.permutations(case[1]))))
def test_score_result_does_not_depend_on_ballot_order(data):
    (options, ballots), shuffled = data
    assert tally_score(shuffled, options) == tally_score(ballots, options)


@given(score_cases)
def test_score_winner_has_the_highest_sum_and_no_earlier_option_ties_it(case):
    options, ballots = case
    result = tally_score(ballots, options)
    sums = result["sums"]
    assert sum(sums.values()) == sum(sum(ballot.values()) for ballot in ballots)
    if result["winner"] is not None:
        best = max(sums.values())
        assert sums[result["winner"]] == best
        assert next(option for option in options if sums[option] == best) == result["winner"]


# --- STV: published examples ------------------------------------------------


def test_droop_quota():
    assert droop_quota(20, 3) == 6  # 20/4 = 5, +1
    assert droop_quota(57, 2) == 20  # 57/3 = 19, +1
    assert droop_quota(101, 1) == 51  # floor(50.5) + 1: a strict majority
    assert droop_quota(0, 1) == 1


FOOD = ["Oranges", "Pears", "Chocolate", "Strawberries", "Hamburgers"]


def test_stv_reproduces_the_wikipedia_food_election():
    # Wikipedia, "Single transferable vote", section "Example" (the 20-guest food election
    # of the article's revisions before its 2024 rewrite; older revisions call Hamburgers
    # "Sweets"; mirrored at https://www.liquisearch.com/single_transferable_vote/example).
    # Its rule is ours: Droop quota, and Chocolate's surplus moves "in proportion to the
    # Chocolate voters' second choice preferences", i.e. every Chocolate ballot moves at
    # surplus/total.
    ballots = (
        [["Oranges", "Pears"]] * 4
        + [["Pears", "Oranges"]] * 2
        + [["Chocolate", "Strawberries"]] * 8
        + [["Chocolate", "Hamburgers"]] * 4
        + [["Strawberries"]]
        + [["Hamburgers"]]
    )
    result = tally_stv(ballots, FOOD, seats=3)
    # Quota: floor(20 / (3 + 1)) + 1 = 6.
    assert result["quota"] == 6
    rounds = result["rounds"]
    # Round 1: Chocolate 8 + 4 = 12 >= 6, elected; surplus 12 - 6 = 6, weight 6/12 = 1/2.
    assert rounds[0] == {
        "counts": {"Oranges": "4", "Pears": "2", "Chocolate": "12", "Strawberries": "1", "Hamburgers": "1"},
        "exhausted": "0",
        "elected": ["Chocolate"],
        "excluded": None,
    }
    # Round 2: Strawberries 1 + 8/2 = 5, Hamburgers 1 + 4/2 = 3; nobody at 6, Pears (2) excluded.
    assert rounds[1] == {
        "counts": {"Oranges": "4", "Pears": "2", "Strawberries": "5", "Hamburgers": "3"},
        "exhausted": "0",
        "elected": [],
        "excluded": "Pears",
    }
    # Round 3: Pears' 2 go to Oranges: 4 + 2 = 6, exactly the quota, so no surplus moves.
    assert rounds[2] == {
        "counts": {"Oranges": "6", "Strawberries": "5", "Hamburgers": "3"},
        "exhausted": "0",
        "elected": ["Oranges"],
        "excluded": None,
    }
    # Round 4: Strawberries 5, Hamburgers 3, one seat left for two: Hamburgers excluded.
    assert rounds[3] == {
        "counts": {"Strawberries": "5", "Hamburgers": "3"},
        "exhausted": "0",
        "elected": [],
        "excluded": "Hamburgers",
    }
    # Round 5: Hamburgers' ballots have no further choice (3 exhausted); one option for one
    # seat, so Strawberries take it below the quota ("Strawberry wins the final seat").
    assert rounds[4] == {
        "counts": {"Strawberries": "5"},
        "exhausted": "3",
        "elected": ["Strawberries"],
        "excluded": None,
    }
    assert result["elected"] == ["Chocolate", "Oranges", "Strawberries"]


def test_stv_reproduces_the_wikipedia_two_seat_example():
    # Wikipedia, "Counting single transferable votes", example: 57 voters, two seats among
    # Andrea, Brad, Carter and Delilah; quota 20; Andrea 40, Delilah 17; Andrea's 20 surplus
    # goes 12 to Carter and 8 to Brad; Brad is excluded and his votes give Carter 20.
    # The ballot table is the one those figures imply (Andrea's 40 split 24 : 16 between
    # Carter and Brad as second choice).
    options = ["Andrea", "Brad", "Carter", "Delilah"]
    ballots = (
        [["Andrea", "Brad", "Carter", "Delilah"]] * 16
        + [["Andrea", "Carter", "Brad", "Delilah"]] * 24
        + [["Delilah", "Andrea", "Brad", "Carter"]] * 17
    )
    result = tally_stv(ballots, options, seats=2)
    assert result["quota"] == 20  # floor(57 / 3) + 1
    counts = [r["counts"] for r in result["rounds"]]
    # Surplus 40 - 20 = 20 at weight 20/40 = 1/2: Carter 24/2 = 12, Brad 16/2 = 8.
    assert counts[0] == {"Andrea": "40", "Brad": "0", "Carter": "0", "Delilah": "17"}
    assert counts[1] == {"Brad": "8", "Carter": "12", "Delilah": "17"}
    assert result["rounds"][1]["excluded"] == "Brad"
    # Brad's eight half-weight ballots skip elected Andrea and reach Carter: 12 + 8 = 20.
    assert counts[2] == {"Carter": "20", "Delilah": "17"}
    assert result["elected"] == ["Andrea", "Carter"]


# --- STV: hand-worked rules --------------------------------------------------


def test_stv_surplus_moves_at_an_exact_fraction():
    ballots = [["A", "B"]] * 7 + [["A", "C"]] * 2 + [["C"]] * 3 + [["D"]] * 4
    result = tally_stv(ballots, ["A", "B", "C", "D"], seats=2)
    # Quota: floor(16 / 3) + 1 = 6. A 9 elected, surplus 3, weight 3/9 = 1/3:
    # B 7/3, C 3 + 2/3 = 11/3, D 4.
    assert result["rounds"][1]["counts"] == {"B": "7/3", "C": "11/3", "D": "4"}
    # B (7/3) is lowest; its ballots rank nothing after A and B, so 7/3 exhausts.
    assert result["rounds"][1]["excluded"] == "B"
    assert result["rounds"][2] == {
        "counts": {"C": "11/3", "D": "4"},
        "exhausted": "7/3",
        "elected": [],
        "excluded": "C",
    }
    # C's 11/3 exhausts too: 7/3 + 11/3 = 6. D takes the last seat on 4.
    assert result["rounds"][3] == {"counts": {"D": "4"}, "exhausted": "6", "elected": ["D"], "excluded": None}
    assert result["elected"] == ["A", "D"]


def test_stv_elects_everyone_at_quota_in_one_round_and_skips_them_in_transfers():
    ballots = [["A", "B", "C"]] * 5 + [["B", "A", "D"]] * 4 + [["C"]] + [["D"]]
    result = tally_stv(ballots, ["A", "B", "C", "D"], seats=3)
    # Quota: floor(11 / 4) + 1 = 3; A 5 and B 4 both reach it in round 1.
    assert result["rounds"][0]["elected"] == ["A", "B"]
    # A's surplus 2 at 2/5 skips elected B: C 1 + 5*2/5 = 3. B's surplus 1 at 1/4 skips A:
    # D 1 + 4/4 = 2. C reaches the quota for the third seat.
    assert result["rounds"][1] == {"counts": {"C": "3", "D": "2"}, "exhausted": "0", "elected": ["C"], "excluded": None}
    assert result["elected"] == ["A", "B", "C"]


def test_stv_options_elected_together_are_listed_by_votes_then_options_order():
    ballots = [["A"]] * 4 + [["B"]] * 5 + [["C"]] * 4 + [["D"]]
    # Quota floor(14 / 4) + 1 = 4: B (5) first, then A and C (4 each) in options order.
    assert tally_stv(ballots, ["C", "A", "B", "D"], seats=3)["rounds"][0]["elected"] == ["B", "C", "A"]
    assert tally_stv(ballots, ["A", "B", "C", "D"], seats=3)["elected"] == ["B", "A", "C"]


def test_stv_exclusion_tie_goes_to_fewer_first_preferences_then_option_listed_last():
    # As the IRV test: round 2 ties C and B on 5; C had 3 first preferences to B's 5, so C goes.
    ballots = [["A"]] * 10 + [["B"]] * 5 + [["C"]] * 3 + [["D", "C"]] * 2
    result = tally_stv(ballots, ["A", "C", "B", "D"], seats=1)
    assert [r["excluded"] for r in result["rounds"]] == ["D", "C", "B", None]
    # A's 10 of 20 is not the quota of 11 (IRV stops at round 3 on 10 of 15 live ballots);
    # A is elected as the last option standing.
    assert result["rounds"][3] == {"counts": {"A": "10"}, "exhausted": "10", "elected": ["A"], "excluded": None}
    full_tie = [["A"], ["A"], ["B"], ["C"]]
    assert tally_stv(full_tie, ["A", "B", "C"], seats=1)["rounds"][0]["excluded"] == "C"
    assert tally_stv(full_tie, ["A", "C", "B"], seats=1)["rounds"][0]["excluded"] == "B"


def test_stv_leaves_a_seat_empty_rather_than_elect_an_option_nobody_voted_for():
    result = tally_stv([["A"]] * 3, ["A", "B", "C"], seats=2)
    # Quota floor(3 / 3) + 1 = 2: A elected; its surplus of 1 has nowhere to go.
    # B and C have no votes and no ballot can reach them, so the count stops.
    assert result["rounds"][1] == {"counts": {"B": "0", "C": "0"}, "exhausted": "1", "elected": [], "excluded": None}
    assert result["elected"] == ["A"]
    result = tally_stv([["A"]] * 5 + [["B"]], ["A", "B", "C", "D"], seats=3)
    # Quota floor(6 / 4) + 1 = 2: A elected on 5 (surplus 3 exhausts); D (0, listed last)
    # excluded; then B and C are the two options for two seats, but only B has a vote.
    assert result["rounds"][2] == {"counts": {"B": "1", "C": "0"}, "exhausted": "3", "elected": ["B"], "excluded": None}
    assert result["elected"] == ["A", "B"]


def test_stv_without_valid_ballots_elects_nobody():
    assert tally_stv([], ["A", "B"], seats=1) == {"seats": 1, "quota": 1, "elected": [], "rounds": []}
    result = tally_stv([[], []], ["A", "B", "C"], seats=2)
    assert result["elected"] == []
    assert result["rounds"] == [
        {"counts": {"A": "0", "B": "0", "C": "0"}, "exhausted": "0", "elected": [], "excluded": None}
    ]


def test_stv_quota_counts_only_non_empty_rankings():
    # Two blank ballots do not raise the quota: floor(3 / 2) + 1 = 2.
    assert tally_stv([["A"], ["A"], ["B"], [], []], ["A", "B"], seats=1)["quota"] == 2


@pytest.mark.parametrize("seats", [0, -1, 3, 4, True, "2", 1.0, None])
def test_stv_refuses_seats_outside_1_to_fewer_than_the_options(seats):
    with pytest.raises(TallyError, match="seats"):
        tally_stv([["A"]], ["A", "B", "C"], seats=seats)


@pytest.mark.parametrize("ranking", [["A", "Z"], ["A", "B", "A"], "AB", {"A"}, None, [["A"]]])
def test_stv_refuses_malformed_rankings(ranking):
    with pytest.raises(TallyError):
        tally_stv([["A"], ranking], ["A", "B", "C"], seats=2)


def test_stv_refuses_negative_weights_and_duplicate_options():
    with pytest.raises(TallyError):
        tally_stv_grouped([(["A"], -1)], ["A", "B"], seats=1)
    with pytest.raises(TallyError):
        tally_stv([["A"]], ["A", "A", "B"], seats=1)


# --- STV: properties --------------------------------------------------------

stv_cases = (
    st.integers(2, len(OPTIONS))
    .map(lambda n: OPTIONS[:n])
    .flatmap(
        lambda opts: st.tuples(
            st.just(opts),
            st.lists(rankings_over(opts), max_size=40),
            st.integers(1, len(opts) - 1),
        )
    )
)


@given(stv_cases)
def test_stv_with_one_seat_elects_the_irv_winner_through_the_same_rounds(case):
    # IRV wins on more than half of the ballots still live in a round; one-seat STV needs
    # the Droop quota floor(n/2) + 1 of all n valid ballots, which exhausted ballots can
    # put out of reach. The winner is still the same for any ballots, partial rankings
    # included: once an option holds more than half of the live ballots it only gains
    # while the others only lose ballots, so it is never the one excluded and is elected
    # by quota or as the last option standing. STV may just need more rounds: IRV's
    # rounds are the first rounds of STV's.
    options, ballots, _ = case
    irv = tally_ranked(ballots, options)
    stv = tally_stv(ballots, options, seats=1)
    assert stv["elected"] == ([] if irv["winner"] is None else [irv["winner"]])
    stv_counts = [r["counts"] for r in stv["rounds"]]
    irv_counts = [{option: str(votes) for option, votes in r.items()} for r in irv["rounds"]]
    assert stv_counts[: len(irv_counts)] == irv_counts


@given(stv_cases)
def test_grouped_stv_equals_ungrouped(case):
    options, ballots, seats = case
    pairs = [(list(ranking), n) for ranking, n in grouped(ballots, key=tuple)]
    assert tally_stv_grouped(pairs, options, seats) == tally_stv(ballots, options, seats)


@given(stv_cases)
def test_stv_fills_every_seat_when_enough_options_are_someones_first_choice(case):
    # An option with first preferences keeps its votes while it continues, and exclusion
    # always takes the weakest, so at least `seats` options with votes survive to the end.
    options, ballots, seats = case
    elected = tally_stv(ballots, options, seats)["elected"]
    assert len(elected) == len(set(elected)) <= seats
    if len({ballot[0] for ballot in ballots if ballot}) >= seats:
        assert len(elected) == seats


@given(stv_cases)
def test_stv_elects_on_quota_until_the_last_seats_and_exhausted_weight_only_grows(case):
    # Before the count is down to as many options as seats, election is by quota only; and
    # weight never flows back out of the exhausted pile, nor is more transferred than held.
    options, ballots, seats = case
    result = tally_stv(ballots, options, seats)
    elected_before, exhausted_before = 0, Fraction(0)
    for count in result["rounds"]:
        votes = {option: Fraction(value) for option, value in count["counts"].items()}
        if len(votes) > seats - elected_before:
            assert all(votes[option] >= result["quota"] for option in count["elected"])
        assert Fraction(count["exhausted"]) >= exhausted_before
        elected_before += len(count["elected"])
        exhausted_before = Fraction(count["exhausted"])


def reference_stv(ballots, options, seats):
    """The STV rules recounted from scratch every round, one ballot at a time, as a person
    would check them by hand: each ballot counts, at its weight, for the first option on it
    still continuing; an elected option's ballots have their weight scaled by surplus/total."""
    all_ballots, ballots = ballots, [ballot for ballot in ballots if ballot]
    quota = len(ballots) // (seats + 1) + 1
    # Scaling an elected option's ballots to surplus/total takes its quota out of the
    # weights, so what no continuing option holds is exactly the exhausted weight.
    weights = [Fraction(1)] * len(ballots)
    continuing, elected, rounds, first_round = list(options), [], [], None

    def current(ballot):
        return next((option for option in ballot if option in continuing), None)

    while all_ballots:
        votes = {option: Fraction(0) for option in continuing}
        exhausted = Fraction(0)
        for ballot, weight in zip(ballots, weights, strict=False):
            at = current(ballot)
            if at is None:
                exhausted += weight
            else:
                votes[at] += weight
        first_round = first_round or votes
        by_votes = sorted(continuing, key=lambda o: (-votes[o], options.index(o)))
        filling = len(continuing) <= seats - len(elected)
        chosen = [o for o in by_votes if (votes[o] > 0 if filling else votes[o] >= quota)]
        excluded = None
        if not chosen and not filling and any(votes.values()):
            excluded = min(continuing, key=lambda o: (votes[o], first_round[o], -options.index(o)))
        rounds.append(
            {
                "counts": {o: str(v) for o, v in votes.items()},
                "exhausted": str(exhausted),
                "elected": chosen,
                "excluded": excluded,
            }
        )
        elected += chosen
        if excluded is None and (filling or not chosen or len(elected) == seats):
            break
        for option in chosen:
            factor = (votes[option] - quota) / votes[option]
            weights = [w * factor if current(b) == option else w for b, w in zip(ballots, weights, strict=False)]
        continuing = [o for o in continuing if o not in chosen and o != excluded]
    return {"seats": seats, "quota": quota, "elected": elected, "rounds": rounds}


@given(stv_cases)
def test_stv_matches_a_recount_from_scratch_ballot_by_ballot(case):
    options, ballots, seats = case
    assert tally_stv(ballots, options, seats) == reference_stv(ballots, options, seats)


# --- STV: withdrawn options -----------------------------------------------------


def test_stv_passes_over_a_withdrawn_option_and_its_lone_ballots_leave_the_quota():
    # Hand-worked: B withdrew. ["B"] names nobody else, so 5 rankings are valid and the quota
    # for 1 seat is floor(5 / 2) + 1 = 3. ["B", "A"] counts for A: A 3 of 5, elected.
    ballots = [["B", "A"], ["A"], ["A", "C"], ["C"], ["C", "B"], ["B"]]
    # Counted with B standing, B would win (C excluded first, its ["C", "B"] reaching B).
    assert tally_stv(ballots, ["A", "B", "C"], seats=1)["elected"] == ["B"]
    withdrawn = tally_stv_grouped(grouped(ballots, tuple), ["A", "B", "C"], 1, withdrawn=["B"])
    assert withdrawn["quota"] == 3 and withdrawn["withdrawn"] == ["B"]
    assert withdrawn["rounds"] == [
        {"counts": {"A": "3", "C": "2"}, "exhausted": "0", "elected": ["A"], "excluded": None}
    ]
    assert withdrawn["elected"] == ["A"]


def test_stv_with_fewer_options_left_than_seats_elects_each_one_with_a_vote():
    ballots = [["A"], ["B"], ["C"]]
    result = tally_stv_grouped(grouped(ballots, tuple), ["A", "B", "C"], 2, withdrawn=["B", "C"])
    assert result["elected"] == ["A"] and result["withdrawn"] == ["B", "C"]
    assert tally_stv_grouped([], ["A", "B", "C"], 2, withdrawn=["A", "B", "C"])["elected"] == []


def test_stv_refuses_unknown_withdrawn_options():
    with pytest.raises(TallyError):
        tally_stv_grouped([(["A"], 1)], ["A", "B"], 1, withdrawn=["Z"])


@given(stv_cases, st.data())
def test_stv_with_withdrawn_options_equals_a_count_without_them(case, data):
    options, ballots, seats = case
    gone = data.draw(st.lists(st.sampled_from(options), unique=True, max_size=len(options) - seats - 1))
    remaining = [o for o in options if o not in gone]
    stripped = [[o for o in ranking if o not in gone] for ranking in ballots]
    result = tally_stv_grouped(((b, 1) for b in ballots), options, seats, withdrawn=gone)
    assert result.pop("withdrawn", []) == [o for o in options if o in gone]
    assert result == tally_stv(stripped, remaining, seats)
