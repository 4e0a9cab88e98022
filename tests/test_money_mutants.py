"""Money rules the mutation run found unchecked (money.py): arithmetic with something that is not Money is a
TypeError naming both operands, for every operator, never an AttributeError from inside Money."""

from __future__ import annotations

import operator
from collections.abc import Callable
from decimal import Decimal

import pytest

from billing_milestones import Money
from billing_milestones.errors import ValidationError


@pytest.mark.parametrize(
    ("op", "verb"),
    [(operator.add, "add"), (operator.sub, "subtract"), (operator.lt, "compare"), (operator.ge, "compare")],
)
@pytest.mark.parametrize("other", [5, Decimal("5"), "5.00 USD", None])
def test_money_with_a_non_money_operand_is_a_type_error_naming_both(
    op: Callable[[object, object], object], verb: str, other: object
) -> None:
    with pytest.raises(TypeError, match=f"^cannot {verb} Money and {type(other).__name__}$"):
        op(Money("5.00", "USD"), other)


@pytest.mark.parametrize(("op", "verb"), [(operator.add, "add"), (operator.sub, "subtract")])
def test_money_in_another_currency_is_refused_by_name_for_add_and_subtract(
    op: Callable[[object, object], object], verb: str
) -> None:
    with pytest.raises(ValidationError, match=f"^currency: cannot {verb} USD and EUR; convert explicitly first$"):
        op(Money("5.00", "USD"), Money("5.00", "EUR"))


def test_sums_and_differences_keep_the_currency_and_are_exact() -> None:
    a, b = Money("0.10", "USD"), Money("0.20", "USD")
    assert (a + b, b - a, a - b) == (Money("0.30", "USD"), Money("0.10", "USD"), Money("-0.10", "USD"))
    assert (b - a).currency == "USD" and str(a + b) == "0.30 USD"


@pytest.mark.parametrize("factor", [3, Decimal("3"), "3"])
def test_a_factor_given_as_int_decimal_or_text_multiplies_alike(factor: object) -> None:
    product = Money("1.25", "USD") * factor
    assert product == Money("3.75", "USD") and str(product) == "3.75 USD"
    assert factor * Money("1.25", "USD") == product


@pytest.mark.parametrize("factor", [True, 1.5])
def test_a_bool_or_float_factor_is_refused_by_name(factor: object) -> None:
    with pytest.raises(ValidationError, match=r"^factor: "):
        Money("1.25", "USD") * factor


# -- currency spellings ----------------------------------------------------------------------------------
def test_a_spelling_never_seen_before_is_stripped_and_upper_cased() -> None:
    assert Money("1", " sEk\t").currency == "SEK"
    assert Money("1", "\nnOk ").currency == "NOK"


def test_remembered_spellings_stay_bounded_and_each_still_names_its_code() -> None:
    from billing_milestones import _currency

    saved = dict(_currency.CHECKED)  # the memo is process-wide: leave it as found for the other tests
    try:
        _currency.CHECKED.clear()
        spellings = [" " * i + "usd" for i in range(1, 1200)]
        for spelling in spellings:
            assert Money("1", spelling).currency == "USD"
        assert len(_currency.CHECKED) == 1024  # a few spellings in practice; never more than this many
        assert Money("1", spellings[-1]).currency == "USD"  # one not remembered is checked again, as well
    finally:
        _currency.CHECKED.clear()
        _currency.CHECKED.update(saved)


# -- amounts that take the long way: str subclasses, non-finite Decimals, int subclasses ------------------
class _Text(str):
    """A str subclass (as some readers hand out), which skips the exact-str shortcut."""


class _Cents(int):
    """An int subclass that is not bool."""


def test_a_str_subclass_amount_is_read_and_refused_like_a_str() -> None:
    assert Money(_Text(" 12.50 "), "USD") == Money("12.50", "USD")
    with pytest.raises(ValidationError) as info:
        Money(_Text("12,50"), "USD")
    assert (info.value.field, info.value.value, info.value.message) == (
        "amount",
        "12,50",
        "amount: '12,50' is not a decimal number",
    )


@pytest.mark.parametrize("amount", [Decimal("NaN"), Decimal("Infinity"), _Text("-inf")])
def test_a_non_finite_amount_is_refused_naming_the_field_and_value(amount: object) -> None:
    with pytest.raises(ValidationError) as info:
        Money(amount, "USD")  # type: ignore[arg-type]
    assert info.value.field == "amount" and info.value.value is amount
    assert info.value.message == f"amount: {amount!r} is not a finite number"


def test_an_int_subclass_counts_minor_units_but_a_bool_does_not() -> None:
    assert Money.from_minor(_Cents(150), "USD") == Money("1.50", "USD")
    with pytest.raises(ValidationError, match=r"^minor: expected an int count"):
        Money.from_minor(True, "USD")
