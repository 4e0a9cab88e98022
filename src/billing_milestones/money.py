"""Exact money: a Decimal amount tied to an ISO 4217 currency.

Platforms disagree on how money travels (Kantata: integer subunits, Autotask: doubles, crm.com: JSON
numbers), so every conversion here is exact or raises. Rounding happens only when the caller names a
rounding mode. Exponents come from the ``iso4217`` package (ISO's own table), never from a table of ours;
a platform that deviates (Kantata's ``currency_base_unit``) passes ``exponent=`` explicitly.
"""

from __future__ import annotations

import decimal
import math
from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal
from typing import Any, Final

from pydantic import GetCoreSchemaHandler, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import core_schema

from ._currency import (
    check_currency,
    check_exponent,
    currency_exponent,
    exponent_from_base_unit,
    iso_exponent,
    known_currencies,
)
from .errors import ValidationError

__all__ = [
    "ROUNDING_MODES",
    "Money",
    "allocate_percentages",
    "currency_exponent",
    "exponent_from_base_unit",
    "known_currencies",
    "to_decimal",
]

#: The rounding modes a caller may pass (the ``decimal`` module's names).
ROUNDING_MODES: Final = frozenset(
    {
        decimal.ROUND_HALF_EVEN,
        decimal.ROUND_HALF_UP,
        decimal.ROUND_HALF_DOWN,
        decimal.ROUND_UP,
        decimal.ROUND_DOWN,
        decimal.ROUND_CEILING,
        decimal.ROUND_FLOOR,
        decimal.ROUND_05UP,
    }
)

# Enough digits for any realistic amount, so quantize never raises InvalidOperation for lack of precision.
_CONTEXT: Final = decimal.Context(prec=60, traps=[decimal.InvalidOperation, decimal.DivisionByZero])
# Arithmetic on amounts: never the caller's thread context (whose precision may be anything), and an
# amount too long to hold exactly raises instead of being rounded silently.
_EXACT: Final = decimal.Context(
    prec=60, traps=[decimal.InvalidOperation, decimal.DivisionByZero, decimal.Inexact, decimal.Overflow]
)


def _exactly(operation: Callable[..., Decimal], *args: Any) -> Decimal:
    """Run a Decimal operation in the exact context; a result it cannot hold is our error, not decimal's."""
    try:
        return operation(*args)
    except (decimal.Inexact, decimal.Overflow):
        raise _too_long() from None


def _scaled(amount: Decimal, exponent: int) -> Decimal:
    """``amount`` times ten to ``exponent``, exactly (our error when it cannot be held)."""
    try:
        return _EXACT.scaleb(amount, exponent)
    except (decimal.Inexact, decimal.Overflow):
        raise _too_long() from None


def _too_long() -> ValidationError:
    return ValidationError(
        "amount: the result needs more than 60 significant digits and cannot be held exactly", field="amount"
    )


def to_decimal(value: object, *, field: str = "amount") -> Decimal:
    """Decimal from str, int or Decimal. Floats are refused: they cannot hold most decimal fractions."""
    if type(value) is Decimal and value.is_finite():
        return value  # the usual cases first, each decided in one step
    if type(value) is str:
        try:
            text = Decimal(value.strip())
        except decimal.InvalidOperation:
            raise ValidationError(f"{field}: {value!r} is not a decimal number", field=field, value=value) from None
        if text.is_finite():
            return text
        raise ValidationError(f"{field}: {value!r} is not a finite number", field=field, value=value)
    if isinstance(value, bool):
        raise ValidationError(f"{field}: expected a number, got bool {value!r}", field=field, value=value)
    if isinstance(value, float):
        raise ValidationError(
            f"{field}: float {value!r} refused; pass a str or Decimal (e.g. Decimal('{value}')) "
            "so no binary rounding enters the money path",
            field=field,
            value=value,
        )
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int):
        result = Decimal(value)
    elif isinstance(value, str):
        try:
            result = Decimal(value.strip())
        except decimal.InvalidOperation:
            raise ValidationError(f"{field}: {value!r} is not a decimal number", field=field, value=value) from None
    else:
        raise ValidationError(
            f"{field}: expected str, int or Decimal, got {type(value).__name__} {value!r}",
            field=field,
            value=value,
        )
    if not result.is_finite():
        raise ValidationError(f"{field}: {value!r} is not a finite number", field=field, value=value)
    return result


def _check_rounding(rounding: str | None) -> None:
    if rounding is not None and rounding not in ROUNDING_MODES:
        raise ValidationError(
            f"rounding: {rounding!r} is not a decimal rounding mode (e.g. decimal.ROUND_HALF_EVEN)",
            field="rounding",
            value=rounding,
        )


class Money:
    """An immutable amount in one currency. Arithmetic only within one currency; never a float."""

    __slots__ = ("_amount", "_currency")

    _amount: Decimal
    _currency: str

    def __init__(self, amount: Decimal | int | str, currency: str) -> None:
        _set_amount(self, to_decimal(amount))
        _set_currency(self, check_currency(currency))

    # -- construction -------------------------------------------------------------------------------
    @classmethod
    def from_minor(cls, minor: int, currency: str, *, exponent: int | None = None) -> Money:
        """From integer minor units (cents, fils, yen). ``exponent`` overrides ISO for one platform."""
        if type(minor) is not int and (isinstance(minor, bool) or not isinstance(minor, int)):
            raise ValidationError(
                f"minor: expected an int count of minor units, got {type(minor).__name__} {minor!r}",
                field="minor",
                value=minor,
            )
        code = check_currency(currency)
        exp = iso_exponent(code) if exponent is None else check_exponent(exponent)
        return _money(_scaled(Decimal(minor), -exp), code)

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(0, currency)

    @classmethod
    def parse(cls, text: str) -> Money:
        """Inverse of ``str()``: ``"12.50 USD"``."""
        parts = text.split()
        if len(parts) != 2:
            raise ValidationError(f"money: expected '<amount> <CUR>', got {text!r}", field="money", value=text)
        return cls(parts[0], parts[1])

    # -- accessors ----------------------------------------------------------------------------------
    @property
    def amount(self) -> Decimal:
        return self._amount

    @property
    def currency(self) -> str:
        return self._currency

    @property
    def exponent(self) -> int:
        """The ISO 4217 exponent of this currency."""
        return iso_exponent(self._currency)

    # -- minor units --------------------------------------------------------------------------------
    def to_minor(self, *, exponent: int | None = None, rounding: str | None = None) -> int:
        """Integer minor units. Exact unless ``rounding`` is given; raises rather than drop a fraction."""
        _check_rounding(rounding)
        exp = iso_exponent(self._currency) if exponent is None else check_exponent(exponent)
        scaled = _scaled(self._amount, exp)
        whole = scaled.to_integral_value(rounding=rounding or decimal.ROUND_HALF_EVEN)
        if whole != scaled and rounding is None:
            raise ValidationError(
                f"amount: {self._amount} {self._currency} has a fraction of a minor unit "
                f"(exponent {exp}); pass rounding= to round it",
                field="amount",
                value=self._amount,
            )
        return int(whole)

    def is_whole_minor(self, *, exponent: int | None = None) -> bool:
        exp = iso_exponent(self._currency) if exponent is None else check_exponent(exponent)
        scaled = self._amount.scaleb(exp, _CONTEXT)
        return scaled == scaled.to_integral_value()

    def quantize(self, *, rounding: str | None = None, exponent: int | None = None) -> Money:
        """The same amount written with exactly the currency's decimals (exact unless ``rounding``)."""
        _check_rounding(rounding)
        exp = iso_exponent(self._currency) if exponent is None else check_exponent(exponent)
        # One quantize, equal to from_minor(to_minor()): the same rounding (or the same refusal of a
        # fraction), a zero without its sign (a count of minor units has none), and 60 digits at most.
        context = _EXACT if rounding is None else _CONTEXT
        try:
            if rounding is not None and len(self._amount.as_tuple().digits) > _CONTEXT.prec:
                raise decimal.Inexact  # to_minor cannot scale it exactly and refuses: so must this
            amount = self._amount.quantize(_QUANTA[exp], rounding=rounding or decimal.ROUND_HALF_EVEN, context=context)
        except (decimal.Inexact, decimal.InvalidOperation):
            # A fraction with no rounding given, or too many digits: the long way names or holds them.
            minor = self.to_minor(exponent=exp, rounding=rounding)
            return _money(_scaled(Decimal(minor), -exp), self._currency)
        return _money(amount if amount else _ZEROS[exp], self._currency)

    # -- arithmetic ---------------------------------------------------------------------------------
    def _same(self, other: object, op: str) -> Money:
        if not isinstance(other, Money):
            raise TypeError(f"cannot {op} Money and {type(other).__name__}")
        if other._currency != self._currency:
            raise ValidationError(
                f"currency: cannot {op} {self._currency} and {other._currency}; convert explicitly first",
                field="currency",
                value=other._currency,
            )
        return other

    # The operators are written out (no shared helper call) because they run once per amount of a listing.
    def __add__(self, other: object) -> Money:
        o = other if type(other) is Money and other._currency == self._currency else self._same(other, "add")
        try:
            return _money(_EXACT.add(self._amount, o._amount), self._currency)
        except (decimal.Inexact, decimal.Overflow):
            raise _too_long() from None

    def __sub__(self, other: object) -> Money:
        o = other if type(other) is Money and other._currency == self._currency else self._same(other, "subtract")
        try:
            return _money(_EXACT.subtract(self._amount, o._amount), self._currency)
        except (decimal.Inexact, decimal.Overflow):
            raise _too_long() from None

    def __mul__(self, factor: object) -> Money:
        if isinstance(factor, Money):
            raise TypeError("cannot multiply Money by Money")
        by = factor if type(factor) is int else to_decimal(factor, field="factor")
        try:
            return _money(_EXACT.multiply(self._amount, by), self._currency)
        except (decimal.Inexact, decimal.Overflow):
            raise _too_long() from None

    __rmul__ = __mul__

    def __neg__(self) -> Money:
        return _money(_exactly(_EXACT.minus, self._amount), self._currency)

    def __abs__(self) -> Money:
        return _money(_exactly(_EXACT.abs, self._amount), self._currency)

    def __bool__(self) -> bool:
        return bool(self._amount)

    # -- comparison ---------------------------------------------------------------------------------
    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Money):
            return NotImplemented
        return self._currency == other._currency and self._amount == other._amount

    def __hash__(self) -> int:
        return hash((self._amount, self._currency))

    def __lt__(self, other: object) -> bool:
        return self._amount < self._same(other, "compare")._amount

    def __le__(self, other: object) -> bool:
        return self._amount <= self._same(other, "compare")._amount

    def __gt__(self, other: object) -> bool:
        return self._amount > self._same(other, "compare")._amount

    def __ge__(self, other: object) -> bool:
        return self._amount >= self._same(other, "compare")._amount

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("Money is immutable")

    def __delattr__(self, name: str) -> None:
        raise AttributeError("Money is immutable")

    def __reduce__(self) -> tuple[Any, ...]:
        return (Money, (str(self._amount), self._currency))

    # -- text and JSON ------------------------------------------------------------------------------
    def __repr__(self) -> str:
        return f"Money('{self._amount}', '{self._currency}')"

    def __str__(self) -> str:
        return f"{self._amount} {self._currency}"

    def to_json(self) -> dict[str, str]:
        """JSON-safe form: the amount as a string, never a float."""
        return {"amount": str(self._amount), "currency": self._currency}

    @classmethod
    def from_json(cls, data: object) -> Money:
        if isinstance(data, Money):
            return data
        if isinstance(data, float | bool):
            to_decimal(data)  # raises, saying why a float can never be money
        if isinstance(data, str):
            return cls.parse(data)
        if isinstance(data, dict) and set(data) == {"amount", "currency"}:
            return cls(data["amount"], data["currency"])
        raise ValidationError(
            f"money: expected {{'amount': str, 'currency': str}}, got {data!r}", field="money", value=data
        )

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: GetCoreSchemaHandler) -> core_schema.CoreSchema:
        def validate(value: object) -> Money:
            try:
                return cls.from_json(value)
            except ValidationError as exc:  # pydantic wants ValueError; keep our message
                raise ValueError(exc.message) from None

        return core_schema.no_info_plain_validator_function(
            validate,
            serialization=core_schema.plain_serializer_function_ser_schema(
                lambda m: m.to_json(), when_used="json-unless-none"
            ),
        )

    @classmethod
    def __get_pydantic_json_schema__(
        cls, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return {
            "type": "object",
            "properties": {
                "amount": {"type": "string", "pattern": r"^-?\d+(\.\d+)?$"},
                "currency": {"type": "string", "minLength": 3, "maxLength": 3},
            },
            "required": ["amount", "currency"],
        }


# The slots' own setters: Money refuses attribute assignment, and these are cheaper than object.__setattr__.
_set_amount: Final = getattr(Money, "_amount").__set__  # noqa: B009 (a slot descriptor, not an attribute read)
_set_currency: Final = getattr(Money, "_currency").__set__  # noqa: B009
_new: Final = object.__new__


def _money(amount: Decimal, code: str) -> Money:
    """Money from an amount and a code already checked (our own arithmetic's results): neither is looked
    at again."""
    money: Money = _new(Money)
    _set_amount(money, amount)
    _set_currency(money, code)
    return money


def minor_reader(currency: str, exponent: int) -> Callable[[int], Money]:
    """``Money.from_minor(minor, currency, exponent=exponent)`` for many amounts (a listing page's): the
    currency and exponent are checked once, here. Each ``minor`` must be an ``int`` (a validated wire value;
    the caller checks its type); one too long to hold exactly raises our ValidationError, as from_minor."""
    code, exp, scaleb = check_currency(currency), Decimal(-check_exponent(exponent)), _EXACT.scaleb  # Decimal once

    def read(minor: int) -> Money:
        money: Money = _new(Money)
        try:
            _set_amount(money, scaleb(Decimal(minor), exp))
        except (decimal.Inexact, decimal.Overflow):
            raise _too_long() from None
        _set_currency(money, code)
        return money

    return read


def minor_writer(exponent: int) -> Callable[[Money], int | None]:
    """``money.to_minor(exponent=exponent)`` for many amounts (a bulk create's), the exponent checked once;
    None where to_minor raises (a fraction of a minor unit, too many digits): the caller names it."""
    exp, scaleb = Decimal(check_exponent(exponent)), _EXACT.scaleb  # a Decimal once, as in minor_reader

    def write(money: Money) -> int | None:
        try:
            scaled = scaleb(money._amount, exp)
        except (decimal.Inexact, decimal.Overflow):
            return None
        whole = scaled.to_integral_value()  # in any rounding mode equal to scaled exactly when it is whole
        return None if whole != scaled else int(whole)

    return write


#: The quantum of each exponent _check_exponent allows: 1, 0.1, ... 1E-8.
_QUANTA: Final = tuple(Decimal(1).scaleb(-exp) for exp in range(9))
#: Zero written with each exponent's decimals, unsigned (as from_minor(0) writes it).
_ZEROS: Final = tuple(Decimal(0).scaleb(-exp) for exp in range(9))


def allocate_percentages(
    total: Money,
    percentages: Sequence[Decimal],
    *,
    rounding: str = decimal.ROUND_HALF_EVEN,
    exponent: int | None = None,
) -> list[Money]:
    """Split ``total`` by percentages into whole minor units.

    Each share is ``total * pct / 100`` rounded with ``rounding``. When the percentages sum to exactly 100,
    the shares are then corrected one minor unit at a time, taking from or giving to the shares whose
    rounding erred most (ties: the later share, so the last one absorbs the rounding in the usual case),
    so they sum to ``total`` to the minor unit and each stays within one minor unit of its exact share.
    Otherwise each share is rounded on its own."""
    _check_rounding(rounding)
    pcts = [to_decimal(p, field="percentage") for p in percentages]
    for p in pcts:
        if p < 0 or p > 100:
            raise ValidationError(f"percentage: {p} is outside 0..100", field="percentage", value=p)
    exp = total.exponent if exponent is None else check_exponent(exponent)
    total_minor = total.to_minor(exponent=exp)
    exact = [_CONTEXT.divide(_CONTEXT.multiply(Decimal(total_minor), p), Decimal(100)) for p in pcts]
    shares = [int(e.to_integral_value(rounding=rounding)) for e in exact]
    if pcts and sum(pcts) == 100:
        missing = total_minor - sum(shares)
        step = int(math.copysign(1, missing))  # with nothing missing, no share moves
        # Most under-rounded first when units are missing, most over-rounded first when there are too many.
        order = sorted(range(len(shares)), key=lambda i: (step * (shares[i] - exact[i]), -i))
        for i in order[: abs(missing)]:
            shares[i] += step
    return [Money.from_minor(s, total.currency, exponent=exp) for s in shares]


def sum_money(values: Iterable[Money], currency: str) -> Money:
    """Sum in one currency; an empty iterable is zero."""
    result = Money.zero(currency)
    for value in values:
        result = result + value
    return result
