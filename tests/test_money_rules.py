"""Money rules that mutation testing showed no test stated (``make mutate``); one test per rule."""

from __future__ import annotations

import decimal
import operator
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pydantic
import pytest

from billing_milestones.errors import ValidationError
from billing_milestones.money import (
    Money,
    allocate_percentages,
    currency_exponent,
    exponent_from_base_unit,
    to_decimal,
)

USD = Money("1.00", "USD")
TOO_LONG = Money("9" * 60, "USD")

# (what is refused, exact message, field, value)
REFUSALS: list[tuple[Callable[[], object], str, str, object]] = [
    (lambda: Money("1", 840), "currency: expected an ISO 4217 code as str, got int 840", "currency", 840),  # type: ignore[arg-type]
    (lambda: Money("1", "zzz"), "currency: 'zzz' is not an ISO 4217 currency code", "currency", "zzz"),
    (
        lambda: currency_exponent("xau"),
        "currency: XAU has no minor unit in ISO 4217 (e.g. a metal or fund); pass exponent= explicitly",
        "currency",
        "XAU",
    ),
    (
        lambda: exponent_from_base_unit(-10),
        "currency_base_unit: expected a positive power of ten, got -10",
        "currency_base_unit",
        -10,
    ),
    (
        lambda: exponent_from_base_unit(50),
        "currency_base_unit: 50 is not a power of ten",
        "currency_base_unit",
        50,
    ),
    (lambda: to_decimal(True, field="fee"), "fee: expected a number, got bool True", "fee", True),
    (
        lambda: to_decimal(0.5, field="fee"),
        "fee: float 0.5 refused; pass a str or Decimal (e.g. Decimal('0.5')) so no binary rounding enters the "
        "money path",
        "fee",
        0.5,
    ),
    (lambda: to_decimal("1,5", field="fee"), "fee: '1,5' is not a decimal number", "fee", "1,5"),
    (lambda: to_decimal([1], field="fee"), "fee: expected str, int or Decimal, got list [1]", "fee", [1]),
    (lambda: to_decimal("inf", field="fee"), "fee: 'inf' is not a finite number", "fee", "inf"),
    (
        lambda: USD.to_minor(rounding="UP"),
        "rounding: 'UP' is not a decimal rounding mode (e.g. decimal.ROUND_HALF_EVEN)",
        "rounding",
        "UP",
    ),
    (
        lambda: TOO_LONG + Money("0.1", "USD"),
        "amount: the result needs more than 60 significant digits and cannot be held exactly",
        "amount",
        None,
    ),
    (
        lambda: Money.from_minor(Decimal("1"), "USD"),  # type: ignore[arg-type]
        "minor: expected an int count of minor units, got Decimal Decimal('1')",
        "minor",
        Decimal("1"),
    ),
    (lambda: USD.to_minor(exponent=9), "exponent: expected an int 0..8, got 9", "exponent", 9),
    (lambda: Money.parse("12.50"), "money: expected '<amount> <CUR>', got '12.50'", "money", "12.50"),
    (
        lambda: Money.from_json({"amount": "1"}),
        "money: expected {'amount': str, 'currency': str}, got {'amount': '1'}",
        "money",
        {"amount": "1"},
    ),
    (
        lambda: USD + Money("1", "EUR"),
        "currency: cannot add USD and EUR; convert explicitly first",
        "currency",
        "EUR",
    ),
    (
        lambda: allocate_percentages(USD, [Decimal("100.5")]),
        "percentage: 100.5 is outside 0..100",
        "percentage",
        Decimal("100.5"),
    ),
    (
        lambda: allocate_percentages(USD, [0.5]),  # type: ignore[list-item]
        "percentage: float 0.5 refused; pass a str or Decimal (e.g. Decimal('0.5')) so no binary rounding "
        "enters the money path",
        "percentage",
        0.5,
    ),
    (
        lambda: allocate_percentages(USD, [], rounding="UP"),
        "rounding: 'UP' is not a decimal rounding mode (e.g. decimal.ROUND_HALF_EVEN)",
        "rounding",
        "UP",
    ),
]


@pytest.mark.parametrize(("refused", "message", "field", "value"), REFUSALS)
def test_every_refusal_says_exactly_which_field_and_value_was_wrong(
    refused: Callable[[], object], message: str, field: str, value: object
) -> None:
    with pytest.raises(ValidationError) as info:
        refused()
    assert (info.value.message, info.value.field, info.value.value) == (message, field, value)


@pytest.mark.parametrize(
    ("refused", "message", "error"),
    [
        (lambda: USD + 1, "cannot add Money and int", TypeError),
        (lambda: operator.lt(USD, Decimal(1)), "cannot compare Money and Decimal", TypeError),
        (lambda: USD * USD, "cannot multiply Money by Money", TypeError),
        (lambda: setattr(USD, "_amount", 2), "Money is immutable", AttributeError),
        (lambda: delattr(USD, "_amount"), "Money is immutable", AttributeError),
    ],
)
def test_a_type_mistake_names_both_types(refused: Callable[[], object], message: str, error: type[Exception]) -> None:
    with pytest.raises(error) as info:
        refused()
    assert str(info.value) == message


def test_equal_amounts_are_neither_less_nor_greater() -> None:
    five, five_again = Money("5", "USD"), Money("5.00", "USD")
    assert not five < five_again
    assert not five > five_again
    assert five <= five_again
    assert five >= five_again


def test_different_amounts_hash_apart() -> None:
    assert len({hash(Money(i, "USD")) for i in range(50)}) == 50
    assert hash(Money(1, "USD")) != hash(Money(1, "EUR"))


def test_the_exponent_may_be_anything_from_0_to_8() -> None:
    assert Money.from_minor(123456789, "USD", exponent=8).amount == Decimal("1.23456789")
    assert Money("1.23456789", "USD").to_minor(exponent=8) == 123456789
    assert Money("7", "USD").to_minor(exponent=0) == 7


def test_an_explicit_exponent_overrides_iso_everywhere() -> None:
    kwd_like = Money("1.234", "USD")  # a platform that keeps USD in mills
    assert kwd_like.is_whole_minor(exponent=3)
    assert not kwd_like.is_whole_minor()
    assert str(kwd_like.quantize(exponent=3).amount) == "1.234"
    assert str(Money("1.5", "USD").quantize(exponent=3).amount) == "1.500"
    assert str(Money("1.2345", "USD").quantize(exponent=3, rounding=decimal.ROUND_DOWN).amount) == "1.234"
    assert allocate_percentages(kwd_like, [Decimal(50), Decimal(50)], exponent=3) == [
        Money("0.617", "USD"),
        Money("0.617", "USD"),
    ]
    with pytest.raises(ValidationError, match="exponent"):
        kwd_like.is_whole_minor(exponent=9)
    with pytest.raises(ValidationError, match="exponent"):
        kwd_like.quantize(exponent=-1)


def test_whole_minor_check_ignores_the_callers_decimal_context() -> None:
    long_amount = Money("123456.789", "USD")
    with decimal.localcontext(decimal.Context(prec=5)):
        assert not long_amount.is_whole_minor()
        assert Money("123456.78", "USD").is_whole_minor()


def test_shares_that_do_not_make_100_percent_round_with_the_callers_mode() -> None:
    total = Money("1.00", "USD")
    assert allocate_percentages(total, [Decimal("33.5")], rounding=decimal.ROUND_DOWN) == [Money("0.33", "USD")]
    assert allocate_percentages(total, [Decimal("33.5")], rounding=decimal.ROUND_UP) == [Money("0.34", "USD")]
    assert allocate_percentages(total, [Decimal("32.5")]) == [Money("0.32", "USD")]  # half-even by default


def test_from_json_accepts_money_a_string_or_the_json_object_and_refuses_floats() -> None:
    assert Money.from_json(USD) is USD
    assert Money.from_json("3.5 EUR") == Money("3.5", "EUR")
    assert Money.from_json({"amount": "2", "currency": "JPY"}) == Money(2, "JPY")
    with pytest.raises(ValidationError, match="float"):
        Money.from_json(1.5)
    with pytest.raises(ValidationError, match="bool"):
        Money.from_json(True)


def test_pydantic_validates_serialises_and_documents_money_as_a_json_object() -> None:
    adapter: pydantic.TypeAdapter[Money] = pydantic.TypeAdapter(Money)  # schema built here, not at import
    money = adapter.validate_python({"amount": "0.10", "currency": "USD"})
    assert money == Money("0.10", "USD")
    assert adapter.validate_json('"3.000 KWD"') == Money("3", "KWD")
    assert adapter.dump_json(money) == b'{"amount":"0.10","currency":"USD"}'
    assert adapter.dump_python(money, mode="json") == {"amount": "0.10", "currency": "USD"}
    assert adapter.dump_python(money) is money
    optional: pydantic.TypeAdapter[Money | None] = pydantic.TypeAdapter(Money | None)
    assert optional.dump_json(None) == b"null"
    with pytest.raises(pydantic.ValidationError) as info:
        adapter.validate_python(0.5)
    assert info.value.errors()[0]["msg"] == (
        "Value error, amount: float 0.5 refused; pass a str or Decimal (e.g. Decimal('0.5')) "
        "so no binary rounding enters the money path"
    )
    schema: dict[str, Any] = adapter.json_schema()
    assert schema == {
        "type": "object",
        "properties": {
            "amount": {"type": "string", "pattern": r"^-?\d+(\.\d+)?$"},
            "currency": {"type": "string", "minLength": 3, "maxLength": 3},
        },
        "required": ["amount", "currency"],
    }
