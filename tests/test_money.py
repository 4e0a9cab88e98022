"""Money: ISO 4217 exponents, exact minor units, explicit rounding, one currency at a time."""

from __future__ import annotations

import copy
import decimal
import itertools
import pickle
from collections.abc import Callable
from decimal import Decimal

import pydantic
import pytest
from hypothesis import given
from hypothesis import strategies as st
from iso4217 import Currency

from billing_milestones.errors import ValidationError
from billing_milestones.money import (
    ROUNDING_MODES,
    Money,
    allocate_percentages,
    currency_exponent,
    exponent_from_base_unit,
    known_currencies,
    sum_money,
)

# -- exponents ------------------------------------------------------------------------------------------

ISO_WITH_MINOR = sorted(c.code for c in Currency if c.exponent is not None)
ISO_WITHOUT_MINOR = sorted(c.code for c in Currency if c.exponent is None)


def test_every_iso_code_takes_its_exponent_from_iso4217() -> None:
    assert known_currencies() == {c.code for c in Currency}
    assert len(ISO_WITH_MINOR) > 150
    for cur in Currency:
        if cur.exponent is None:
            with pytest.raises(ValidationError, match="no minor unit") as info:
                currency_exponent(cur.code)
            assert info.value.field == "currency"
        else:
            assert currency_exponent(cur.code) == cur.exponent, cur.code
            assert Money("1", cur.code).exponent == cur.exponent


@pytest.mark.parametrize(("code", "exponent"), [("JPY", 0), ("USD", 2), ("EUR", 2), ("KWD", 3), ("CLF", 4)])
def test_well_known_exponents(code: str, exponent: int) -> None:
    assert currency_exponent(code) == exponent


def test_currency_code_is_normalised_and_checked() -> None:
    assert Money("1", " usd ").currency == "USD"
    with pytest.raises(ValidationError, match="'ZZZ' is not an ISO 4217") as info:
        Money("1", "ZZZ")
    assert (info.value.field, info.value.value) == ("currency", "ZZZ")
    with pytest.raises(ValidationError, match="currency"):
        Money("1", 840)  # type: ignore[arg-type]


def test_metal_without_minor_unit_needs_explicit_exponent() -> None:
    assert "XAU" in ISO_WITHOUT_MINOR
    with pytest.raises(ValidationError, match="exponent="):
        Money("1.5", "XAU").to_minor()
    assert Money("1.5", "XAU").to_minor(exponent=1) == 15


@pytest.mark.parametrize(("base_unit", "exponent"), [(1, 0), (10, 1), (100, 2), (1000, 3)])
def test_exponent_from_base_unit(base_unit: int, exponent: int) -> None:
    assert exponent_from_base_unit(base_unit) == exponent


@pytest.mark.parametrize("bad", [0, -100, 50, 101, True, 2.0, "100"])
def test_exponent_from_base_unit_refuses_non_powers_of_ten(bad: object) -> None:
    with pytest.raises(ValidationError, match="currency_base_unit"):
        exponent_from_base_unit(bad)  # type: ignore[arg-type]


# -- minor units --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "code", "minor"),
    [("1234", "JPY", 1234), ("12.34", "USD", 1234), ("12.345", "KWD", 12345), ("1.2345", "CLF", 12345)],
)
def test_to_minor_and_from_minor_are_exact(amount: str, code: str, minor: int) -> None:
    money = Money(amount, code)
    assert money.to_minor() == minor
    assert Money.from_minor(minor, code) == money
    assert str(Money.from_minor(minor, code).amount) == amount


def test_platform_override_of_the_exponent() -> None:
    # Kantata's currency_base_unit can disagree with ISO: the caller passes exponent= explicitly.
    money = Money.from_minor(12345, "USD", exponent=3)
    assert money.amount == Decimal("12.345")
    assert money.to_minor(exponent=3) == 12345
    with pytest.raises(ValidationError, match="fraction of a minor unit"):
        money.to_minor()
    assert Money("12", "JPY").to_minor(exponent=2) == 1200
    with pytest.raises(ValidationError, match="exponent"):
        Money.from_minor(1, "USD", exponent=-1)
    with pytest.raises(ValidationError, match="exponent"):
        Money.from_minor(1, "USD", exponent=True)


def test_to_minor_raises_instead_of_losing_a_fraction() -> None:
    with pytest.raises(ValidationError, match="fraction of a minor unit") as info:
        Money("0.005", "USD").to_minor()
    assert info.value.field == "amount"
    assert info.value.value == Decimal("0.005")
    with pytest.raises(ValidationError):
        Money("1.5", "JPY").to_minor()
    assert not Money("0.005", "USD").is_whole_minor()
    assert Money("0.050", "USD").is_whole_minor()


@pytest.mark.parametrize(
    ("mode", "positive", "negative"),
    [
        (decimal.ROUND_HALF_EVEN, 2, -2),  # 2.5 -> 2
        (decimal.ROUND_HALF_UP, 3, -3),
        (decimal.ROUND_HALF_DOWN, 2, -2),
        (decimal.ROUND_UP, 3, -3),
        (decimal.ROUND_DOWN, 2, -2),
        (decimal.ROUND_CEILING, 3, -2),
        (decimal.ROUND_FLOOR, 2, -3),
        (decimal.ROUND_05UP, 2, -2),
    ],
)
def test_rounding_only_with_an_explicit_mode(mode: str, positive: int, negative: int) -> None:
    assert Money("0.025", "USD").to_minor(rounding=mode) == positive
    assert Money("-0.025", "USD").to_minor(rounding=mode) == negative
    assert Money("0.025", "USD").quantize(rounding=mode) == Money.from_minor(positive, "USD")


def test_every_rounding_mode_is_covered() -> None:
    assert len(ROUNDING_MODES) == 8
    assert Money("0.015", "USD").to_minor(rounding=decimal.ROUND_05UP) == 1
    assert Money("0.055", "USD").to_minor(rounding=decimal.ROUND_05UP) == 6  # 5.5 -> 6: last digit 5 rounds up


def test_unknown_rounding_mode_refused() -> None:
    with pytest.raises(ValidationError, match="rounding") as info:
        Money("1", "USD").to_minor(rounding="ROUND_NEAREST")
    assert info.value.field == "rounding"


def test_quantize_writes_the_currency_decimals() -> None:
    assert str(Money("12.5", "USD").quantize().amount) == "12.50"
    assert str(Money("3", "KWD").quantize().amount) == "3.000"
    with pytest.raises(ValidationError):
        Money("1.001", "USD").quantize()


# -- construction refusals ----------------------------------------------------------------------------


@pytest.mark.parametrize("value", [0.1, 12.0, float("nan")])
def test_floats_are_refused_naming_the_field(value: float) -> None:
    with pytest.raises(ValidationError, match=r"amount: float .* refused") as info:
        Money(value, "USD")  # type: ignore[arg-type]
    assert info.value.field == "amount"
    assert isinstance(info.value, ValueError)


def test_float_factor_is_refused_naming_the_factor() -> None:
    with pytest.raises(ValidationError, match="factor") as info:
        Money("1", "USD") * 1.5
    assert info.value.field == "factor"


@pytest.mark.parametrize("value", [True, False])
def test_bool_is_refused(value: bool) -> None:
    with pytest.raises(ValidationError, match="bool"):
        Money(value, "USD")
    with pytest.raises(ValidationError, match="minor"):
        Money.from_minor(value, "USD")


@pytest.mark.parametrize("value", ["NaN", "sNaN", "Infinity", "-inf", Decimal("NaN"), Decimal("-Infinity")])
def test_non_finite_is_refused(value: object) -> None:
    with pytest.raises(ValidationError, match="finite"):
        Money(value, "USD")  # type: ignore[arg-type]


@pytest.mark.parametrize("value", ["", "12,50", "1.2.3", "abc", None, [1]])
def test_garbage_is_refused(value: object) -> None:
    with pytest.raises(ValidationError, match="amount"):
        Money(value, "USD")  # type: ignore[arg-type]


def test_from_minor_takes_only_int() -> None:
    with pytest.raises(ValidationError, match="minor"):
        Money.from_minor(Decimal("1"), "USD")  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="minor"):
        Money.from_minor("1", "USD")  # type: ignore[arg-type]


# -- arithmetic and comparison ---------------------------------------------------------------------------


def test_arithmetic_within_one_currency() -> None:
    a, b = Money("10.25", "USD"), Money("0.75", "USD")
    assert a + b == Money("11.00", "USD")
    assert a - b == Money("9.50", "USD")
    assert a * 2 == Money("20.50", "USD")
    assert 3 * b == Money("2.25", "USD")
    assert a * "0.5" == Money("5.125", "USD")
    assert -a == Money("-10.25", "USD")
    assert abs(-a) == a
    assert not Money.zero("USD")
    assert bool(a)
    assert sum_money([a, b, b], "USD") == Money("11.75", "USD")
    assert sum_money([], "KWD") == Money.zero("KWD")


def test_arithmetic_across_currencies_is_refused() -> None:
    usd, eur = Money("1", "USD"), Money("1", "EUR")
    with pytest.raises(ValidationError, match="cannot add USD and EUR") as info:
        usd + eur
    assert info.value.field == "currency"
    with pytest.raises(ValidationError, match="cannot subtract"):
        usd - eur
    with pytest.raises(ValidationError, match="EUR"):
        sum_money([usd, eur], "USD")
    with pytest.raises(TypeError):
        usd + 1
    with pytest.raises(TypeError):
        usd * usd


def test_comparison_across_currencies_is_refused() -> None:
    usd, eur = Money("1", "USD"), Money("2", "EUR")
    assert Money("1", "USD") < Money("2", "USD") <= Money("2.00", "USD")
    assert Money("3", "USD") > Money("2", "USD") >= Money("2", "USD")
    compares: tuple[Callable[[], bool], ...] = (
        lambda: usd < eur,
        lambda: usd <= eur,
        lambda: usd > eur,
        lambda: usd >= eur,
    )
    for compare in compares:
        with pytest.raises(ValidationError, match="cannot compare"):
            compare()
    # Equality never raises: different currencies are simply different amounts.
    assert usd != Money("1", "EUR")
    assert usd != Decimal("1")


def test_equal_values_hash_equal() -> None:
    assert Money("1.50", "USD") == Money("1.5", "USD")
    assert hash(Money("1.50", "USD")) == hash(Money("1.5", "USD"))
    assert len({Money("1.50", "USD"), Money("1.5", "USD"), Money("1.5", "EUR")}) == 2


def test_arithmetic_ignores_the_callers_decimal_context() -> None:
    big = Money.from_minor(10**40 + 1, "USD")
    with decimal.localcontext(decimal.Context(prec=5)):
        total = big + Money.from_minor(1, "USD")
        doubled = big * 2
    assert total.to_minor() == 10**40 + 2
    assert doubled.to_minor() == 2 * (10**40 + 1)


def test_immutability() -> None:
    money = Money("1", "USD")
    with pytest.raises(AttributeError):
        money.amount = Decimal(2)  # type: ignore[misc]
    with pytest.raises(AttributeError):
        money._amount = Decimal(2)
    with pytest.raises(AttributeError):
        del money._currency
    with pytest.raises(AttributeError):
        money.extra = 1
    assert money == Money("1", "USD")


def test_pickle_and_copy_round_trip() -> None:
    money = Money("12.345", "KWD")
    for restored in (pickle.loads(pickle.dumps(money)), copy.copy(money), copy.deepcopy(money)):
        assert restored == money
        assert str(restored.amount) == "12.345"
        assert restored.currency == "KWD"


def test_text_forms() -> None:
    money = Money("12.50", "USD")
    assert str(money) == "12.50 USD"
    assert repr(money) == "Money('12.50', 'USD')"
    assert Money.parse(str(money)) == money
    assert money.to_json() == {"amount": "12.50", "currency": "USD"}
    with pytest.raises(ValidationError):
        Money.parse("12.50")
    with pytest.raises(ValidationError):
        Money.from_json({"amount": "1"})


# -- JSON through pydantic ----------------------------------------------------------------------------


class Invoice(pydantic.BaseModel):
    total: Money
    fee: Money | None = None


def test_money_inside_a_pydantic_model_serialises_as_a_string() -> None:
    invoice = Invoice(total=Money("0.10", "USD"))
    text = invoice.model_dump_json()
    assert text == '{"total":{"amount":"0.10","currency":"USD"},"fee":null}'
    assert invoice.model_dump(mode="json")["total"]["amount"] == "0.10"
    back = Invoice.model_validate_json(text)
    assert back == invoice
    assert str(back.total.amount) == "0.10"
    assert Invoice.model_validate({"total": "3.000 KWD"}).total == Money("3", "KWD")
    assert isinstance(invoice.model_dump()["total"], Money)  # python mode keeps the object


def test_pydantic_refuses_a_float_amount_with_our_message() -> None:
    with pytest.raises(pydantic.ValidationError, match=r"float 0\.1 refused"):
        Invoice.model_validate({"total": {"amount": 0.1, "currency": "USD"}})
    schema = Invoice.model_json_schema()
    assert schema["properties"]["total"]["properties"]["amount"]["type"] == "string"


# -- properties -----------------------------------------------------------------------------------------

CODES = st.one_of(st.sampled_from(["JPY", "USD", "KWD", "CLF"]), st.sampled_from(ISO_WITH_MINOR))
MINOR = st.integers(min_value=-(10**30), max_value=10**30)


@given(code=CODES, minor=MINOR)
def test_minor_units_round_trip(code: str, minor: int) -> None:
    money = Money.from_minor(minor, code)
    assert money.to_minor() == minor
    assert Money.from_minor(money.to_minor(), code) == money
    assert Money(str(money.amount), code) == money


@given(code=CODES, a=MINOR, b=MINOR)
def test_addition_and_subtraction_match_minor_unit_arithmetic(code: str, a: int, b: int) -> None:
    x, y = Money.from_minor(a, code), Money.from_minor(b, code)
    assert (x + y).to_minor() == a + b
    assert (x - y).to_minor() == a - b
    assert (x + y - y) == x


@st.composite
def percentages_summing_to_100(draw: st.DrawFn) -> list[Decimal]:
    # Cut points in hundredths of a percent: shares like 33.33 %, 0 % and 100 % all occur.
    n = draw(st.integers(min_value=1, max_value=12))
    cuts = sorted(draw(st.lists(st.integers(0, 10_000), min_size=n - 1, max_size=n - 1)))
    bounds = [0, *cuts, 10_000]
    return [Decimal(hi - lo) / 100 for lo, hi in itertools.pairwise(bounds)]


@given(
    code=CODES,
    total_minor=st.integers(min_value=-(10**15), max_value=10**15),
    pcts=percentages_summing_to_100(),
    mode=st.sampled_from(sorted(ROUNDING_MODES)),
)
def test_allocation_sums_exactly_and_stays_within_a_minor_unit(
    code: str, total_minor: int, pcts: list[Decimal], mode: str
) -> None:
    assert sum(pcts) == 100
    total = Money.from_minor(total_minor, code)
    shares = allocate_percentages(total, pcts, rounding=mode)
    assert len(shares) == len(pcts)
    assert sum(s.to_minor() for s in shares) == total_minor
    for share, pct in zip(shares, pcts, strict=True):
        assert share.currency == total.currency
        exact = Decimal(total_minor) * pct / 100
        assert abs(Decimal(share.to_minor()) - exact) < 1, (share, pct)


def test_allocation_examples() -> None:
    thirds = allocate_percentages(Money("100.00", "USD"), [Decimal("33.33"), Decimal("33.33"), Decimal("33.34")])
    assert thirds == [Money("33.33", "USD"), Money("33.33", "USD"), Money("33.34", "USD")]
    # Ten shares of 0.5 minor units each: naive "last absorbs" would give the last share 5 units.
    tenths = allocate_percentages(Money.from_minor(5, "USD"), [Decimal(10)] * 10)
    assert sum(s.to_minor() for s in tenths) == 5
    assert all(s.to_minor() in (0, 1) for s in tenths)
    halves = allocate_percentages(Money("1", "JPY"), [Decimal(50), Decimal(50)])
    assert [s.to_minor() for s in halves] == [0, 1]  # a tie goes to the last share
    # Percentages that do not sum to 100: each share rounded on its own.
    part = allocate_percentages(Money("10.00", "USD"), [Decimal("12.5")], rounding=decimal.ROUND_UP)
    assert part == [Money("1.25", "USD")]
    override = allocate_percentages(Money("1.000", "USD"), [Decimal(50), Decimal(50)], exponent=3)
    assert override == [Money("0.5", "USD"), Money("0.5", "USD")]


@pytest.mark.parametrize("bad", [Decimal(-1), Decimal("100.01"), 12.5])
def test_allocation_refuses_bad_percentages(bad: object) -> None:
    with pytest.raises(ValidationError, match="percentage"):
        allocate_percentages(Money("1", "USD"), [bad])  # type: ignore[list-item]


def test_a_result_too_long_to_hold_exactly_is_our_validation_error() -> None:
    from billing_milestones.errors import ValidationError as BMValidationError

    huge = Money("1" + "0" * 59 + ".5", "USD")
    with pytest.raises(BMValidationError, match="60 significant digits"):
        huge + Money("0.01", "USD")
