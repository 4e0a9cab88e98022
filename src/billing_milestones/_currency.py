"""ISO 4217 currency codes and their minor-unit exponents, from the ``iso4217`` package (ISO's own table).

A code is checked once per spelling given ("usd", " USD "): every amount of a listing names its currency,
and stripping, upper-casing and looking the code up again for each one was most of the cost of making money.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Final

from iso4217 import Currency

from .errors import ValidationError

__all__ = [
    "CHECKED",
    "check_currency",
    "check_exponent",
    "currency_exponent",
    "exponent_from_base_unit",
    "iso_exponent",
    "iso_table",
    "known_currencies",
]


@lru_cache(maxsize=1)
def iso_table() -> dict[str, int | None]:
    return {c.code: c.exponent for c in Currency}


def iso_exponent(code: str) -> int:
    """The exponent of a checked code (a key of the table); a code without one raises, naming it."""
    exponent = iso_table()[code]
    if exponent is None:
        raise ValidationError(
            f"currency: {code} has no minor unit in ISO 4217 (e.g. a metal or fund); pass exponent= explicitly",
            field="currency",
            value=code,
        )
    return exponent


def known_currencies() -> frozenset[str]:
    """Every currency code in the ISO 4217 list shipped with ``iso4217``."""
    return frozenset(iso_table())


#: Currency arguments already checked, as given -> the code they name (a few entries: "USD", "usd", ...).
CHECKED: Final[dict[str, str]] = {}


def check_currency(currency: object) -> str:
    if type(currency) is str:
        known = CHECKED.get(currency)
        if known is not None:
            return known
    if not isinstance(currency, str):
        raise ValidationError(
            f"currency: expected an ISO 4217 code as str, got {type(currency).__name__} {currency!r}",
            field="currency",
            value=currency,
        )
    code = currency.strip().upper()
    if code not in iso_table():
        raise ValidationError(
            f"currency: {currency!r} is not an ISO 4217 currency code", field="currency", value=currency
        )
    if type(currency) is str and len(CHECKED) < 1024:
        CHECKED[currency] = code
    return code


def currency_exponent(currency: str) -> int:
    """ISO 4217 minor-unit exponent: JPY 0, USD 2, KWD 3, CLF 4. Raises for codes without minor units."""
    return iso_exponent(check_currency(currency))


def exponent_from_base_unit(base_unit: int) -> int:
    """Kantata-style ``currency_base_unit`` (subunits per unit: 1, 10, 100, 1000) to an exponent."""
    if isinstance(base_unit, bool) or not isinstance(base_unit, int) or base_unit < 1:
        raise ValidationError(
            f"currency_base_unit: expected a positive power of ten, got {base_unit!r}",
            field="currency_base_unit",
            value=base_unit,
        )
    exponent = len(str(base_unit)) - 1
    if 10**exponent != base_unit:
        raise ValidationError(
            f"currency_base_unit: {base_unit} is not a power of ten",
            field="currency_base_unit",
            value=base_unit,
        )
    return exponent


def check_exponent(exponent: object) -> int:
    if isinstance(exponent, bool) or not isinstance(exponent, int) or not 0 <= exponent <= 8:
        raise ValidationError(f"exponent: expected an int 0..8, got {exponent!r}", field="exponent", value=exponent)
    return exponent
