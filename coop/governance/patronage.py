"""Pure patronage maths: split a surplus among members in proportion to their work."""

from collections.abc import Mapping


def allocate(amount_cents: int, weights: Mapping[int, int]) -> dict[int, int]:
    """Split `amount_cents` in proportion to `weights` (member id -> approved earnings in cents).

    Each member first gets the floor of their exact share; the cents left over go one each
    to the largest remainders, ties to the lowest member id, so the allocations sum exactly
    to the amount and each is within one cent of the exact share. Members with no positive
    weight get nothing; with no positive weight at all nothing is allocated.
    """
    if isinstance(amount_cents, bool) or not isinstance(amount_cents, int) or amount_cents < 0:
        raise ValueError(f"amount_cents must be a non-negative whole number of cents, got {amount_cents!r}")
    positive = {member: weight for member, weight in weights.items() if weight > 0}
    total = sum(positive.values())
    if total == 0:
        return {}
    # Integer arithmetic throughout: money must not depend on float rounding.
    shares = {member: amount_cents * weight // total for member, weight in positive.items()}
    remainders = {member: amount_cents * weight % total for member, weight in positive.items()}
    leftover = amount_cents - sum(shares.values())
    for member in sorted(positive, key=lambda m: (-remainders[m], m))[:leftover]:
        shares[member] += 1
    return shares
