"""Bounds on the numbers a caller sends, in one place, so none overflows a column or a sum."""

import marshmallow as ma
from babel import Locale
from marshmallow import validate as v

from coop.ledger import PAYMENT_REFERENCE_MAX

# An Integer column on PostgreSQL holds at most this; ids and counts stay within it.
MAX_INT = 2**31 - 1
# One billion euros: above any amount the coop will see, and far enough below a BigInteger
# column's limit that no sum of amounts (a batch's rewards, a balance) can overflow it.
MAX_CENTS = 10**11


class Cents(ma.fields.Integer):
    """An amount of money in cents a caller sends: a whole number from `min` (1) to `max` (MAX_CENTS)."""

    def __init__(self, *, min: int = 1, max: int = MAX_CENTS, **kwargs):
        if not 0 <= min <= max <= MAX_CENTS:
            raise ValueError("money bounds must lie within 0..MAX_CENTS")
        super().__init__(strict=True, validate=v.Range(min=min, max=max), **kwargs)


class Count(ma.fields.Integer):
    """A whole number a caller sends that is stored in an Integer column: `min` (0) to `max` (MAX_INT)."""

    def __init__(self, *, min: int = 0, max: int = MAX_INT, **kwargs):
        if not -MAX_INT <= min <= max <= MAX_INT:
            raise ValueError("count bounds must lie within an Integer column's range")
        super().__init__(strict=True, validate=v.Range(min=min, max=max), **kwargs)


class PaymentReference(ma.fields.String):
    """A bank or mobile-money reference: printable, trimmed, bounded."""

    def __init__(self, **kwargs):
        super().__init__(
            validate=[
                v.Length(min=1, max=PAYMENT_REFERENCE_MAX),
                v.Regexp(r"^[^\x00-\x1f\x7f]*$", error="Use printable characters only."),
            ],
            **kwargs,
        )

    def _deserialize(self, value, attr, data, **kwargs):
        return super()._deserialize(value, attr, data, **kwargs).strip()


def _iso_countries() -> frozenset[str]:
    # CLDR also names regions and reserved codes that are no ISO 3166-1 country.
    not_countries = {"AC", "CP", "CQ", "DG", "EA", "EU", "EZ", "IC", "QO", "TA", "UN", "XA", "XB", "XK", "ZZ"}
    return frozenset(
        code
        for code in Locale("en").territories
        if isinstance(code, str) and len(code) == 2 and code.isalpha() and code not in not_countries
    )


# ISO 3166-1 alpha-2 codes, as CLDR (through Babel) knows them.
COUNTRIES = _iso_countries()


def country_code(code: str) -> None:
    """Validator: an ISO 3166-1 alpha-2 country code written upper-case, such as FR."""
    if code not in COUNTRIES:
        raise ma.ValidationError(f"'{code}' is not an ISO 3166-1 alpha-2 country code written upper-case (such as FR).")


class CountryCode(ma.fields.String):
    """An ISO 3166-1 alpha-2 country code, such as FR; sent in either case, kept upper-case."""

    def _deserialize(self, value, attr, data, **kwargs):
        code = super()._deserialize(value, attr, data, **kwargs).strip().upper()
        if code not in COUNTRIES:
            raise ma.ValidationError(f"'{value}' is not an ISO 3166-1 alpha-2 country code (such as FR or DE).")
        return code
