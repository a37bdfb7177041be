"""Bounds on the numbers a caller sends, in one place, so none overflows a column or a sum."""

import marshmallow as ma
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
