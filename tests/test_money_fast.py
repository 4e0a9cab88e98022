"""The fast paths of Money decide exactly as the general ones: one quantize equals from_minor(to_minor()),
a currency checked once is still checked per spelling, and the written-out operators keep every refusal."""

from __future__ import annotations

import decimal
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from billing_milestones import Money
from billing_milestones.errors import ValidationError
from billing_milestones.money import minor_reader, minor_writer, to_decimal

ROUNDINGS = st.sampled_from(
    [None, decimal.ROUND_HALF_EVEN, decimal.ROUND_HALF_UP, decimal.ROUND_DOWN, decimal.ROUND_CEILING]
)
AMOUNTS = st.decimals(allow_nan=False, allow_infinity=False, places=None, min_value=-(10**20), max_value=10**20)


def _long_way(money: Money, exponent: int, rounding: str | None) -> Money | str:
    try:
        minor = money.to_minor(exponent=exponent, rounding=rounding)
        return Money.from_minor(minor, money.currency, exponent=exponent)
    except ValidationError as exc:
        return exc.message


@given(AMOUNTS, st.integers(0, 8), ROUNDINGS)
def test_quantize_is_from_minor_of_to_minor(amount: Decimal, exponent: int, rounding: str | None) -> None:
    money = Money(amount, "USD")
    try:
        got: Money | str = money.quantize(exponent=exponent, rounding=rounding)
    except ValidationError as exc:
        got = exc.message
    want = _long_way(money, exponent, rounding)
    assert got == want
    if isinstance(got, Money) and isinstance(want, Money):
        assert str(got) == str(want)  # the same digits, and no signed zero


# "9" * 20 + "." + "9" * 41: 61 digits, more than to_minor scales exactly (hypothesis found it in a full run).
@pytest.mark.parametrize("amount", ["-0.001", "-0", "-0.00", "1E+59", "9" * 58, "0.004", "9" * 20 + "." + "9" * 41])
@pytest.mark.parametrize("rounding", [None, decimal.ROUND_HALF_UP, decimal.ROUND_DOWN])
def test_quantize_edges_match_the_long_way(amount: str, rounding: str | None) -> None:
    money = Money(amount, "USD")
    try:
        got: Money | str = money.quantize(rounding=rounding)
    except ValidationError as exc:
        got = exc.message
    want = _long_way(money, 2, rounding)
    assert got == want and str(got) == str(want)


def test_quantize_still_refuses_a_fraction_by_name_and_checks_rounding() -> None:
    with pytest.raises(ValidationError, match="fraction of a minor unit"):
        Money("1.005", "USD").quantize()
    with pytest.raises(ValidationError, match="rounding"):
        Money("1.00", "USD").quantize(rounding="sometimes")


@pytest.mark.parametrize("spelling", ["USD", "usd", " USD ", "Usd"])
def test_every_spelling_of_a_code_gives_the_code_each_time(spelling: str) -> None:
    assert Money("1", spelling).currency == "USD"
    assert Money("1", spelling).currency == "USD"
    assert Money.from_minor(100, spelling).currency == "USD"


def test_a_refused_code_stays_refused_after_a_good_one() -> None:
    Money("1", "EUR")
    for _ in range(2):
        with pytest.raises(ValidationError, match="not an ISO 4217"):
            Money("1", "EURO")


def test_operators_keep_their_refusals_and_exactness() -> None:
    big = Money("9" * 60, "USD")
    with pytest.raises(ValidationError, match="60 significant digits"):
        big + Money("0.1", "USD")
    with pytest.raises(ValidationError, match="60 significant digits"):
        big - Money("0.1", "USD")
    with pytest.raises(ValidationError, match="60 significant digits"):
        big * 3
    with pytest.raises(ValidationError, match="currency"):
        Money("1", "USD") + Money("1", "EUR")
    with pytest.raises(TypeError):
        Money("1", "USD") - 1
    with pytest.raises(ValidationError, match="bool"):
        Money("1", "USD") * True
    assert Money("1.10", "USD") * 3 == Money("3.30", "USD") and str(Money("1.10", "USD") * 3) == "3.30 USD"
    assert str(Money("0.1", "USD") + Money("0.2", "USD")) == "0.3 USD"


@pytest.mark.parametrize(
    ("value", "message"),
    [(" 1.5 ", None), ("abc", "not a decimal"), ("NaN", "not a finite"), ("Infinity", "not a finite")],
)
def test_text_amounts_are_stripped_or_refused_by_name(value: str, message: str | None) -> None:
    if message is None:
        assert to_decimal(value) == Decimal("1.5")
        return
    with pytest.raises(ValidationError, match=message) as caught:
        to_decimal(value, field="price")
    assert caught.value.field == "price"


def test_a_non_finite_decimal_is_still_refused() -> None:
    with pytest.raises(ValidationError, match="not a finite"):
        to_decimal(Decimal("NaN"))


@pytest.mark.parametrize("exponent", [2, 3])
def test_an_amount_too_long_for_one_quantize_takes_the_long_way(exponent: int) -> None:
    money = Money("1E+59", "USD")
    got = money.quantize(exponent=exponent)
    want = _long_way(money, exponent, None)
    assert got == want and str(got) == str(want) == "1" + "0" * 59 + " USD"


def test_a_rare_spelling_is_checked_the_long_way_and_remembered() -> None:
    from billing_milestones import _currency as module

    assert Money("1", " chf ").currency == "CHF"
    assert module.CHECKED[" chf "] == "CHF"
    module.CHECKED["zz-test"] = "EUR"  # what is remembered is what a later call gets
    try:
        assert Money("1", "zz-test").currency == "EUR"
    finally:
        del module.CHECKED["zz-test"]


def test_a_code_without_a_minor_unit_is_named() -> None:
    with pytest.raises(ValidationError, match="XAU has no minor unit") as caught:
        Money("1", "XAU").exponent  # noqa: B018 (the property raises)
    assert caught.value.field == "currency" and caught.value.value == "XAU"
    assert Money.from_minor(5, "XAU", exponent=1).amount == Decimal("0.5")


@pytest.mark.parametrize("value", ["abc", "NaN"])
def test_refused_text_is_kept_as_the_value(value: str) -> None:
    with pytest.raises(ValidationError) as caught:
        to_decimal(value)
    assert caught.value.value == value


def test_the_remembered_spellings_stay_bounded() -> None:
    from billing_milestones import _currency as module

    saved = dict(module.CHECKED)
    try:
        module.CHECKED.update({f"filler-{i}": "USD" for i in range(1024 - len(module.CHECKED))})
        assert Money("1", " gbp ").currency == "GBP"  # still checked and right, just not remembered
        assert " gbp " not in module.CHECKED and len(module.CHECKED) == 1024
    finally:
        module.CHECKED.clear()
        module.CHECKED.update(saved)


@given(st.integers(-(2**60), 2**60), st.sampled_from(["USD", "usd", " jpy", "KWD", "CLF"]), st.integers(0, 8))
def test_minor_reader_reads_as_from_minor(minor: int, currency: str, exponent: int) -> None:
    got, expected = minor_reader(currency, exponent)(minor), Money.from_minor(minor, currency, exponent=exponent)
    assert got == expected and got.currency == expected.currency and str(got) == str(expected)
    assert got.amount.as_tuple() == expected.amount.as_tuple()  # the same digits and exponent


def test_minor_reader_checks_its_currency_and_exponent_once_by_name_and_refuses_what_from_minor_refuses() -> None:
    for currency, exponent, field in (("XYZ", 2, "currency"), (7, 2, "currency"), ("USD", 9, "exponent")):
        with pytest.raises(ValidationError) as caught:
            minor_reader(currency, exponent)  # type: ignore[arg-type]
        assert caught.value.field == field
    with pytest.raises(ValidationError) as too_long:
        minor_reader("USD", 2)(10**70 + 1)
    with pytest.raises(ValidationError) as by_from_minor:
        Money.from_minor(10**70 + 1, "USD", exponent=2)
    assert too_long.value.message == by_from_minor.value.message and too_long.value.field == "amount"


@given(
    st.one_of(st.integers(-(10**70), 10**70), st.decimals(allow_nan=False, allow_infinity=False, places=4)),
    st.integers(-10, 12).map(lambda e: Decimal(1).scaleb(e)),
    st.integers(0, 8),
)
def test_minor_writer_writes_as_to_minor_or_none_where_to_minor_raises(
    digits: int | Decimal, scale: Decimal, exponent: int
) -> None:
    try:
        money = Money(Decimal(digits) * scale, "USD")
    except ValidationError:
        return  # more digits than an amount holds
    try:
        expected: int | None = money.to_minor(exponent=exponent)
    except ValidationError:
        expected = None
    got = minor_writer(exponent)(money)
    assert got == expected and type(got) is type(expected)


def test_minor_writer_checks_its_exponent_once_by_name() -> None:
    with pytest.raises(ValidationError) as caught:
        minor_writer(9)
    assert caught.value.field == "exponent"
    assert minor_writer(2)(Money("1.005", "USD")) is None and minor_writer(3)(Money("1.005", "USD")) == 1005
