"""An amount as a count of minor units in a shared unit: how a streamed planner row holds its amount.

A :class:`~billing_milestones.Money` with its Decimal is 152 bytes; an int of minor units is 28, and the
currency, the decimal places and the reader that makes the Money back are one :class:`Unit` for every row
in that unit. Only an amount read back as the very same Money (digits, exponent, sign, currency) is held so.
"""

from __future__ import annotations

import decimal
from collections.abc import Callable
from typing import Final

from ..money import Money, minor_reader

__all__ = ["Unit", "in_minor_units"]


class Unit:
    """An amount's currency and decimal places, with the reader that makes its Money from minor units:
    one for every row in that unit (a pickled one comes back as this process's)."""

    __slots__ = ("currency", "places", "read")

    def __init__(self, currency: str, places: int) -> None:
        self.currency = currency
        self.places = places
        self.read: Callable[[int], Money] = minor_reader(currency, places)

    def __reduce__(self) -> tuple[Callable[[str, int], Unit], tuple[str, int]]:
        return unit_of, (self.currency, self.places)


#: (currency, places) -> its unit.
_UNITS: dict[tuple[str, int], Unit] = {}
_MOST_PLACES: Final = 8  # what minor_reader allows
_MOST_DIGITS: Final = 18  # exact in any context the reader uses
#: Scales the digits of at most _MOST_DIGITS exactly (and says so if it ever could not).
_EXACT: Final = decimal.Context(prec=40, traps=[decimal.Inexact, decimal.Rounded, decimal.InvalidOperation])


def unit_of(currency: str, places: int) -> Unit:
    unit = _UNITS.get((currency, places))
    if unit is None:
        unit = Unit(currency, places)
        if len(_UNITS) < 256:
            _UNITS[(currency, places)] = unit
    return unit


def in_minor_units(money: Money) -> tuple[Unit | None, int]:
    """``money`` as (unit, minor units) where reading it back gives the very same amount (digits, exponent,
    sign and currency); (None, 0) where it would not (a negative zero, many digits, an odd exponent)."""
    amount = money.amount
    sign, digits, exponent = amount.as_tuple()
    if not isinstance(exponent, int) or not -_MOST_PLACES <= exponent <= 0 or len(digits) > _MOST_DIGITS:
        return None, 0
    if sign and not any(digits):
        return None, 0  # -0.00: an int has no negative zero
    unit = unit_of(money.currency, -exponent)
    minor = int(amount.scaleb(-exponent, _EXACT))
    back = unit.read(minor)
    if back.currency != money.currency or back.amount.as_tuple() != amount.as_tuple():
        return None, 0
    return unit, minor
