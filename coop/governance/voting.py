"""Pure tally functions for member votes: quorum, yes/no, approval, ranked (IRV), median, consent, score and STV."""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Iterable, Mapping, Sequence
from fractions import Fraction
from typing import Any, TypeVar

from flask_babel import gettext as _

# A tally result: plain data (counts, rounds, winner) the proposal publishes as JSON.
Result = dict[str, Any]

YES_NO_CHOICES: tuple[str, ...] = ("yes", "no", "abstain")

# Order is irrelevant for approvals, so sets are accepted; rankings need a defined order.
_APPROVAL_TYPES = (list, tuple, set, frozenset)
_RANKING_TYPES = (list, tuple)


class TallyError(ValueError):
    """Raised when ballots or tally parameters are malformed."""


# --- validation -------------------------------------------------------------


def _require_non_negative(**values: int) -> None:
    for name, value in values.items():
        # bool is an int subclass; True as a ballot count is almost certainly a bug upstream.
        if isinstance(value, bool) or not isinstance(value, int):
            raise TallyError(_("%(name)s must be a whole number, got %(value)s.", name=name, value=repr(value)))
        if value < 0:
            raise TallyError(_("%(name)s must not be negative, got %(value)s.", name=name, value=value))


def _require_percentage(name: str, value: int) -> None:
    _require_non_negative(**{name: value})
    if value > 100:
        raise TallyError(_("%(name)s must be between 0 and 100, got %(value)s.", name=name, value=value))


def _option_index(options: Sequence[str]) -> dict[str, int]:
    index = {option: position for position, option in enumerate(options)}
    if len(index) != len(options):
        raise TallyError(_("The list of options contains duplicates."))
    return index


def _is_known(item: object, known: dict[str, int]) -> bool:
    # Unhashable junk (e.g. a nested list) must surface as TallyError, not TypeError.
    return isinstance(item, Hashable) and item in known


def _check_items(items: Sequence[object], known: dict[str, int], what: str) -> None:
    unknown = [item for item in items if not _is_known(item, known)]
    if unknown:
        raise TallyError(_("%(what)s names unknown option(s): %(unknown)s.", what=what, unknown=_listing(unknown)))
    if len(set(items)) != len(items):
        repeated = sorted({item for item in items if items.count(item) > 1}, key=lambda item: known[str(item)])
        raise TallyError(
            _("%(what)s lists an option more than once: %(repeated)s.", what=what, repeated=_listing(repeated))
        )


def _listing(items: Iterable[object]) -> str:
    return ", ".join(repr(item) for item in items)


def validate_choice(choice: object, options: Sequence[str] = YES_NO_CHOICES) -> str:
    """Return ``choice`` if it is one of ``options`` (default yes/no/abstain); else TallyError."""
    if not isinstance(choice, str) or choice not in options:
        raise TallyError(
            _(
                "Choice %(choice)s is not valid; pick one of %(options)s.",
                choice=repr(choice),
                options=_listing(options),
            )
        )
    return choice


def validate_approvals(approvals: object, options: Sequence[str]) -> list[str]:
    """Return the approved options as a list in ``options`` order, or raise TallyError."""
    return _normalized_approvals(approvals, _option_index(options))


def _normalized_approvals(approvals: object, known: dict[str, int]) -> list[str]:
    if not isinstance(approvals, _APPROVAL_TYPES):
        raise TallyError(_("Approvals must be a list of options."))
    items = list(approvals)
    _check_items(items, known, _("The approval ballot"))
    return sorted(items, key=known.__getitem__)


def validate_ranking(ranking: object, options: Sequence[str]) -> list[str]:
    """Return the ranking as a list (most preferred first), or raise TallyError."""
    if not isinstance(ranking, _RANKING_TYPES):
        raise TallyError(_("A ranking must be an ordered list of options."))
    items = list(ranking)
    _check_items(items, _option_index(options), _("The ranking"))
    return items


# --- quorum and yes/no ------------------------------------------------------


def quorum_met(ballots_cast: int, eligible: int, quorum_pct: int) -> bool:
    """Return True when ballots cast (abstentions included) reach quorum_pct % of eligible."""
    _require_non_negative(ballots_cast=ballots_cast, eligible=eligible)
    _require_percentage("quorum_pct", quorum_pct)
    if eligible == 0:
        return False
    # Integer comparison so a quorum sitting exactly on the boundary is never lost to float error.
    return ballots_cast * 100 >= quorum_pct * eligible


def tally_yes_no(choices: Iterable[str], eligible: int) -> Result:
    """Count yes/no/abstain ballots and report turnout as a percentage of ``eligible``."""
    try:
        counts = Counter(choices)
    except TypeError as exc:
        raise TallyError(_("Each yes/no ballot must be 'yes', 'no' or 'abstain'.")) from exc
    return tally_yes_no_grouped(counts.items(), eligible)


def tally_yes_no_grouped(groups: Iterable[tuple[str, int]], eligible: int) -> Result:
    """``tally_yes_no`` over (choice, number of ballots) pairs, as a database GROUP BY yields them."""
    _require_non_negative(eligible=eligible)
    counts: Counter[str] = Counter()
    for choice, weight in groups:
        validate_choice(choice)
        _require_non_negative(weight=weight)
        counts[choice] += weight
    ballots = sum(counts.values())
    turnout = round(ballots * 100 / eligible, 2) if eligible else 0.0
    return {
        "yes": counts["yes"],
        "no": counts["no"],
        "abstain": counts["abstain"],
        "turnout_pct": turnout,
    }


def yes_share_exceeds(yes: int, no: int, threshold_pct: int) -> bool:
    """Return True when yes / (yes + no) is strictly greater than ``threshold_pct`` %."""
    _require_non_negative(yes=yes, no=no)
    _require_percentage("threshold_pct", threshold_pct)
    if yes + no == 0:
        return False
    # Strictly greater, so an exact tie with the threshold (e.g. 50/50 at 50 %) fails.
    return yes * 100 > threshold_pct * (yes + no)


# --- approval ---------------------------------------------------------------


def tally_approval(approvals: Iterable[Iterable[str]], options: Sequence[str]) -> Result:
    """Count approvals per option; ties go to the option listed first in ``options``.

    The winner is the option with the most approvals. When several options share
    the highest count, the one that appears earliest in ``options`` wins. With no
    approvals at all the winner is None.
    """
    return tally_approval_grouped(((ballot, 1) for ballot in approvals), options)


def tally_approval_grouped(groups: Iterable[tuple[Iterable[str], int]], options: Sequence[str]) -> Result:
    """``tally_approval`` over (approvals, number of identical ballots) pairs."""
    known = _option_index(options)
    counts = dict.fromkeys(known, 0)
    for ballot, weight in groups:
        _require_non_negative(weight=weight)
        for option in _normalized_approvals(ballot, known):
            counts[option] += weight
    return {"counts": counts, "winner": _approval_winner(counts)}


def _approval_winner(counts: dict[str, int]) -> str | None:
    if not any(counts.values()):
        return None
    # max() keeps the first maximal item, and counts preserves the order of options.
    return max(counts, key=counts.__getitem__)


# --- ranked (instant-runoff) ------------------------------------------------

# A pile entry: (ranking, position of the option it currently counts for, ballot weight).
# IRV weights are whole ballots; STV weights are exact fractions after surplus transfers.
_Weight = TypeVar("_Weight", int, Fraction)
_PileEntry = tuple[tuple[str, ...], int, _Weight]


def tally_ranked(rankings: Iterable[Sequence[str]], options: Sequence[str]) -> Result:
    """Run an instant-runoff count; elimination ties go to round-1 votes, then last-listed option.

    Each round counts every non-exhausted ballot for its highest-ranked
    continuing option. An option with more than half of that round's
    non-exhausted ballots wins; with one continuing option left, it wins.
    Otherwise the option with the fewest votes is eliminated. Ties for
    elimination eliminate the option with fewer first-preference votes in
    round 1, and if still tied, the option listed LAST in ``options``.

    No ballots at all gives winner None and no rounds. If every ballot is
    empty, the single all-zero round is reported and the winner is None.
    """
    return tally_ranked_grouped(((ranking, 1) for ranking in rankings), options)


def tally_ranked_grouped(groups: Iterable[tuple[Sequence[str], int]], options: Sequence[str]) -> Result:
    """``tally_ranked`` over (ranking, number of identical ballots) pairs."""
    known = _option_index(options)
    grouped = _group_rankings(groups, known)
    if not grouped:
        return {"winner": None, "rounds": []}
    piles: dict[str, list[_PileEntry[int]]] = {option: [] for option in options}
    _deal(piles, ((ranking, -1, weight) for ranking, weight in grouped.items()))
    return _run_rounds(piles, known)


def _group_rankings(groups: Iterable[tuple[Sequence[str], int]], known: dict[str, int]) -> Counter[tuple[str, ...]]:
    # Real elections repeat the same few orderings, so validating and counting
    # distinct rankings once keeps large ballot sets cheap.
    grouped: Counter[tuple[str, ...]] = Counter()
    for ranking, weight in groups:
        if not isinstance(ranking, _RANKING_TYPES):
            raise TallyError(_("A ranking must be an ordered list of options."))
        _require_non_negative(weight=weight)
        try:
            grouped[tuple(ranking)] += weight
        except TypeError as exc:
            raise TallyError(
                _("The ranking %(ranking)s contains something that is not an option.", ranking=repr(ranking))
            ) from exc
    for ranking in grouped:
        _check_items(ranking, known, _("The ranking"))
    return grouped


def _deal(piles: dict[str, list[_PileEntry[_Weight]]], entries: Iterable[_PileEntry[_Weight]]) -> None:
    # Only ballots whose current option was eliminated move, so total work is
    # bounded by the summed ranking lengths rather than ballots × rounds.
    for ranking, position, weight in entries:
        for next_position in range(position + 1, len(ranking)):
            option = ranking[next_position]
            if option in piles:
                piles[option].append((ranking, next_position, weight))
                break


def _run_rounds(piles: dict[str, list[_PileEntry[int]]], known: dict[str, int]) -> Result:
    rounds: list[dict[str, int]] = []
    while True:
        votes = {option: sum(entry[2] for entry in pile) for option, pile in piles.items()}
        rounds.append(votes)
        active = sum(votes.values())
        if active == 0:
            return {"winner": None, "rounds": rounds}
        leader = max(votes, key=votes.__getitem__)
        if votes[leader] * 2 > active or len(votes) == 1:
            return {"winner": leader, "rounds": rounds}
        loser = _elimination_choice(votes, rounds[0], known)
        _deal(piles, piles.pop(loser))


def _elimination_choice(
    votes: Mapping[str, int | Fraction], first_round: Mapping[str, int | Fraction], known: dict[str, int]
) -> str:
    # Fewest votes now, then fewest first preferences, then listed last in options.
    return min(votes, key=lambda option: (votes[option], first_round[option], -known[option]))


# --- median -----------------------------------------------------------------


def tally_median(values: Iterable[int | float]) -> Result:
    """Return the lower median of ``values`` (element (n-1)//2 once sorted) and their count."""
    ordered = sorted(_checked_numbers(values))
    if not ordered:
        return {"value": None, "count": 0}
    return {"value": ordered[(len(ordered) - 1) // 2], "count": len(ordered)}


def tally_median_grouped(groups: Iterable[tuple[int | float, int]]) -> Result:
    """``tally_median`` over (value, number of ballots giving it) pairs: the same lower median."""
    pairs = [(value, weight) for value, weight in groups]
    _checked_numbers(value for value, _ in pairs)
    for _value, weight in pairs:
        _require_non_negative(weight=weight)
    count = sum(weight for _, weight in pairs)
    if count == 0:
        return {"value": None, "count": 0}
    # Walk the distinct values in order until the (n-1)//2-th ballot (0-based) is passed.
    target, seen = (count - 1) // 2, 0
    for value, weight in sorted(pairs, key=lambda pair: pair[0]):
        seen += weight
        if seen > target:
            return {"value": value, "count": count}
    raise AssertionError("unreachable: the walk passes every ballot")


def _checked_numbers(values: Iterable[int | float]) -> list[int | float]:
    numbers = list(values)
    for value in numbers:
        # NaN compares false with everything, which would make sorting and the median arbitrary.
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:
            raise TallyError(_("Median values must be numbers, got %(value)s.", value=repr(value)))
    return numbers


# --- consent ----------------------------------------------------------------

# An objection blocks a proposal, so it must say why; a bare "no" belongs in a yes/no vote.
OBJECTION_REASON_MIN_CHARS = 20
# Reasons are published with every receipt after close; a page of text is room enough.
OBJECTION_REASON_MAX_CHARS = 2000


def validate_consent(ballot: object) -> Result:
    """Return ``{"consent": True}`` or ``{"objection": reason}`` (reason stripped), or raise TallyError.

    A consent ballot holds exactly one of the two fields. ``consent`` must be
    ``true``; to withhold consent a member objects, and an objection needs a
    reason of at least OBJECTION_REASON_MIN_CHARS characters once surrounding
    whitespace is stripped (and at most OBJECTION_REASON_MAX_CHARS).
    """
    if not isinstance(ballot, Mapping) or len(ballot) != 1 or not set(ballot) <= {"consent", "objection"}:
        raise TallyError(_('A consent ballot is either {"consent": true} or {"objection": "<reason>"}.'))
    if "consent" in ballot:
        if ballot["consent"] is not True:
            raise TallyError(_('To withhold consent, object with a reason: {"objection": "<reason>"}.'))
        return {"consent": True}
    reason = ballot["objection"]
    if not isinstance(reason, str):
        raise TallyError(_("An objection's reason must be text."))
    reason = reason.strip()
    if len(reason) < OBJECTION_REASON_MIN_CHARS:
        raise TallyError(
            _(
                "An objection must give a reason of at least %(objection_reason_min_chars)s characters (this one "
                "has %(count)s), so the author can address it.",
                objection_reason_min_chars=OBJECTION_REASON_MIN_CHARS,
                count=len(reason),
            )
        )
    if len(reason) > OBJECTION_REASON_MAX_CHARS:
        raise TallyError(
            _(
                "An objection's reason may be at most %(objection_reason_max_chars)s characters (this one has "
                "%(count)s).",
                objection_reason_max_chars=OBJECTION_REASON_MAX_CHARS,
                count=len(reason),
            )
        )
    return {"objection": reason}


def tally_consent(
    ballots: Iterable[Mapping[str, object]], eligible: int, quorum_pct: int, objection_pct: int
) -> Result:
    """Count consents and objections; the proposal passes with quorum unless objections block it.

    Objections block when they reach ``objection_pct`` % of the ballots cast
    (``objections * 100 >= objection_pct * ballots``, in integers): reaching the
    share is enough, so at 10 % one objection in ten ballots blocks. Because of
    that, no ballots at all never passes. ``objection_pct`` runs from 1 to 100;
    0 would block every proposal. Quorum is ``quorum_met`` over every ballot.
    """
    return tally_consent_grouped(((ballot, 1) for ballot in ballots), eligible, quorum_pct, objection_pct)


def tally_consent_grouped(
    groups: Iterable[tuple[Mapping[str, object], int]], eligible: int, quorum_pct: int, objection_pct: int
) -> Result:
    """``tally_consent`` over (ballot, number of identical ballots) pairs."""
    _require_percentage("objection_pct", objection_pct)
    if objection_pct == 0:
        raise TallyError(_("objection_pct must be between 1 and 100; at 0 every proposal would be blocked."))
    consents = objections = 0
    for ballot, weight in groups:
        _require_non_negative(weight=weight)
        if "consent" in validate_consent(ballot):
            consents += weight
        else:
            objections += weight
    ballots = consents + objections
    quorum = quorum_met(ballots, eligible, quorum_pct)
    blocked = objections * 100 >= objection_pct * ballots
    return {
        "consents": consents,
        "objections": objections,
        "quorum_met": quorum,
        "blocked": blocked,
        "passes": quorum and not blocked,
    }


# --- score ------------------------------------------------------------------

SCORE_MIN = 0
SCORE_MAX = 5


def validate_scores(scores: object, options: Sequence[str]) -> dict[str, int]:
    """Return the scores as a dict in ``options`` order, or raise TallyError.

    Every option must be scored, with a whole number from SCORE_MIN to
    SCORE_MAX; true/false are not scores.
    """
    return _normalized_scores(scores, _option_index(options))


def _normalized_scores(scores: object, known: dict[str, int]) -> dict[str, int]:
    if not isinstance(scores, Mapping):
        raise TallyError(_('Scores must map each option to a score, e.g. {"A": 5, "B": 0}.'))
    unknown = [option for option in scores if not _is_known(option, known)]
    if unknown:
        raise TallyError(_("The scores name unknown option(s): %(unknown)s.", unknown=_listing(unknown)))
    missing = [option for option in known if option not in scores]
    if missing:
        raise TallyError(_("Every option needs a score; missing: %(missing)s.", missing=_listing(missing)))
    for option, score in scores.items():
        # bool is an int subclass, but true/false on a score ballot is a client bug, not 1 or 0.
        if isinstance(score, bool) or not isinstance(score, int) or not SCORE_MIN <= score <= SCORE_MAX:
            raise TallyError(
                _(
                    "The score for %(option)s must be a whole number from %(score_min)s to %(score_max)s, got "
                    "%(score)s.",
                    option=repr(option),
                    score_min=SCORE_MIN,
                    score_max=SCORE_MAX,
                    score=repr(score),
                )
            )
    return {option: scores[option] for option in known}


def tally_score(ballots: Iterable[Mapping[str, int]], options: Sequence[str]) -> Result:
    """Add up the scores per option; the highest mean wins, ties to the option listed first.

    Every ballot scores every option, so the means share one denominator and
    the winner is decided on the exact sums; ``means`` (rounded to two places)
    are for people to read. Without ballots the means are None. When no option
    received a single point, nobody supported anything and the winner is None,
    as with approval.
    """
    return tally_score_grouped(((ballot, 1) for ballot in ballots), options)


def tally_score_grouped(groups: Iterable[tuple[Mapping[str, int], int]], options: Sequence[str]) -> Result:
    """``tally_score`` over (scores, number of identical ballots) pairs."""
    known = _option_index(options)
    sums = dict.fromkeys(known, 0)
    count = 0
    for ballot, weight in groups:
        _require_non_negative(weight=weight)
        for option, score in _normalized_scores(ballot, known).items():
            sums[option] += score * weight
        count += weight
    means = {option: round(total / count, 2) if count else None for option, total in sums.items()}
    # Same as approval: max() keeps the first maximal option, and sums keep the order of options.
    return {"sums": sums, "means": means, "count": count, "winner": _approval_winner(sums)}


# --- single transferable vote -----------------------------------------------


def droop_quota(valid_ballots: int, seats: int) -> int:
    """Return floor(valid_ballots / (seats + 1)) + 1: no more than ``seats`` options can reach it."""
    _require_non_negative(valid_ballots=valid_ballots, seats=seats)
    return valid_ballots // (seats + 1) + 1


def tally_stv(rankings: Iterable[Sequence[str]], options: Sequence[str], seats: int) -> Result:
    """Elect ``seats`` options by single transferable vote (Droop quota, Gregory fractional transfers).

    The quota is ``droop_quota`` of the valid (non-empty) rankings. Each round
    counts every ballot, at its current weight, for its highest-ranked
    continuing option, then does one of:

    * when no more options continue than seats are left, elects every
      continuing option that has votes (a seat nobody voted for stays empty);
    * otherwise elects every option at or above the quota; each elected
      option's ballots ALL move on to their next continuing choice, their
      weight multiplied by surplus / total (surplus = total - quota);
    * otherwise excludes the option with the fewest votes, its ballots moving
      on at their current weight; ties as in ``tally_ranked``: fewer round-1
      votes, then the option listed last in ``options``.

    Options elected in one round are listed by votes, ties to the option
    listed first. The count stops when every seat is filled or no ballot
    counts for a continuing option. Weights are exact fractions; each round
    reports ``counts`` (continuing options only) and ``exhausted`` as
    fraction strings ("7/2"), plus ``elected`` and ``excluded``.

    With one seat this elects exactly the ``tally_ranked`` winner (None
    becomes an empty list): an option above half of the live ballots stays
    above half, so it can never be excluded and ends up elected.
    """
    return tally_stv_grouped(((ranking, 1) for ranking in rankings), options, seats)


def tally_stv_grouped(
    groups: Iterable[tuple[Sequence[str], int]],
    options: Sequence[str],
    seats: int,
    withdrawn: Iterable[str] = (),
) -> Result:
    """``tally_stv`` over (ranking, number of identical ballots) pairs.

    ``withdrawn`` options (say, candidates who left before the count) are
    counted as if they had never stood: every ballot skips them, a ranking
    naming nothing else is not valid for the quota, and the result lists them
    under ``withdrawn`` (in options order). ``seats`` is still checked against
    every option; when no more options remain than seats, each remaining
    option with a vote is elected, as in the last rounds of any count.
    """
    known = _option_index(options)
    if isinstance(seats, bool) or not isinstance(seats, int) or not 1 <= seats < len(options):
        raise TallyError(
            _(
                "seats must be a whole number, at least 1 and fewer than the %(count)s options, got %(seats)s.",
                count=len(options),
                seats=repr(seats),
            )
        )
    gone = list(withdrawn)
    _check_items(gone, known, _("The list of withdrawn options"))
    grouped = _group_rankings(groups, known)
    valid = sum(weight for ranking, weight in grouped.items() if set(ranking) - set(gone))
    quota = droop_quota(valid, seats)
    result: Result = {"seats": seats, "quota": quota, "elected": [], "rounds": []}
    if gone:
        result["withdrawn"] = sorted(gone, key=known.__getitem__)
    if not grouped:
        return result
    piles: dict[str, list[_PileEntry[Fraction]]] = {option: [] for option in options if option not in gone}
    _deal(piles, ((ranking, -1, Fraction(weight)) for ranking, weight in grouped.items() if weight))
    _run_stv_rounds(piles, known, seats, quota, valid, result)
    return result


def _run_stv_rounds(
    piles: dict[str, list[_PileEntry[Fraction]]],
    known: dict[str, int],
    seats: int,
    quota: int,
    valid: int,
    result: Result,
) -> None:
    elected: list[str] = result["elected"]
    first_round: dict[str, Fraction] = {}
    while True:
        votes = {option: sum((entry[2] for entry in pile), Fraction(0)) for option, pile in piles.items()}
        if not result["rounds"]:
            first_round = votes
        seats_left = seats - len(elected)
        # Each option elected so far keeps exactly one quota; everything else not counted is exhausted.
        exhausted = valid - sum(votes.values()) - quota * len(elected)
        by_votes = sorted(votes, key=lambda option: (-votes[option], known[option]))
        filling = len(votes) <= seats_left
        if filling:
            chosen = [option for option in by_votes if votes[option] > 0]
        else:
            chosen = [option for option in by_votes if votes[option] >= quota]
        excluded = None
        if not chosen and not filling and any(votes.values()):
            excluded = _elimination_choice(votes, first_round, known)
        elected.extend(chosen)
        result["rounds"].append(
            {
                "counts": {option: str(count) for option, count in votes.items()},
                "exhausted": str(exhausted),
                "elected": chosen,
                "excluded": excluded,
            }
        )
        if excluded is None and (filling or not chosen or len(elected) == seats):
            return
        if excluded is not None:
            _deal(piles, piles.pop(excluded))
        # Every option elected this round leaves the count before any surplus moves, so no
        # surplus lands on another option elected alongside it.
        elected_piles = {option: piles.pop(option) for option in chosen}
        for option, pile in elected_piles.items():
            total = votes[option]
            factor = (total - quota) / total
            # A surplus of zero moves nothing; dropping those ballots keeps later rounds small.
            _deal(piles, ((ranking, position, weight * factor) for ranking, position, weight in pile if factor))
