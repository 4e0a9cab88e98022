"""Exact JSON: Decimals in and out digit for digit, floats refused."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from billing_milestones._http import dumps, loads
from billing_milestones._http._json import CheckedObject
from billing_milestones.errors import ValidationError


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (Decimal("0.10"), "0.10"),
        (Decimal("1250.50"), "1250.50"),
        (Decimal("-0.001"), "-0.001"),
        (Decimal("1E+2"), "100"),
        (Decimal("1E-7"), "0.0000001"),
        (Decimal("12345678901234567890.123456789"), "12345678901234567890.123456789"),
    ],
)
def test_decimals_keep_their_digits(value: Decimal, text: str) -> None:
    assert dumps(value) == text
    assert dumps({"amount": value}) == f'{{"amount":{text}}}'
    back = loads(dumps({"amount": value}))["amount"]
    assert back == value
    assert isinstance(back, Decimal) or back == int(back)  # "100" reads back as the int 100


@pytest.mark.parametrize(
    ("body", "where"),
    [
        ({"amount": Decimal("12345678901234567.89")}, "amount"),
        ({"amount": Decimal("1E+40")}, "amount"),
        ({"billing_milestones": [{"amount_in_cents": 2**53 + 1}]}, "billing_milestones[0].amount_in_cents"),
        ({"amount": Decimal("NaN")}, "amount"),
        (Decimal("0.1000000000000000055511151231257827"), "body"),
    ],
)
def test_a_number_the_server_would_round_is_refused_naming_its_place(body: object, where: str) -> None:
    from billing_milestones import errors

    with pytest.raises(errors.ValidationError, match="refused before sending") as info:
        dumps(body, exact=True)
    assert info.value.field == where


def test_nested_structures() -> None:
    data = {
        "items": [{"amount": Decimal("0.10"), "n": 1}, (Decimal("2.50"), None, True)],
        3: "int key",
        "when": dt.date(2026, 1, 2),
        "at": dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC),
        "text": "0.10 with ünïcode",
    }
    text = dumps(data)
    assert text == (
        '{"items":[{"amount":0.10,"n":1},[2.50,null,true]],"3":"int key","when":"2026-01-02",'
        '"at":"2026-01-02T03:04:05+00:00","text":"0.10 with ünïcode"}'
    )
    assert json.loads(text)["3"] == "int key"


def test_a_string_that_looks_like_a_marker_is_left_alone() -> None:
    assert dumps({"a": Decimal("1.0"), "b": "@x:0@"}) == '{"a":1.0,"b":"@x:0@"}'


@pytest.mark.parametrize("value", [0.1, 1.0, {"a": [0.5]}, (Decimal(1), 2.5)])
def test_floats_are_refused(value: object) -> None:
    with pytest.raises(TypeError, match="float"):
        dumps(value)


@pytest.mark.parametrize("value", [Decimal("NaN"), Decimal("Infinity"), Decimal("-Infinity")])
def test_non_finite_decimals_are_refused(value: Decimal) -> None:
    with pytest.raises(ValueError, match="non-finite"):
        dumps({"x": value})


def test_loads_never_makes_a_float() -> None:
    data = loads(b'{"a": 0.1, "b": 1, "c": [1.10, 2e3]}')
    assert data == {"a": Decimal("0.1"), "b": 1, "c": [Decimal("1.10"), Decimal("2E+3")]}
    assert str(data["c"][0]) == "1.10"
    assert isinstance(data["b"], int)


@given(st.decimals(allow_nan=False, allow_infinity=False))
def test_any_finite_decimal_round_trips_exactly_or_is_refused(value: Decimal) -> None:
    """A number goes out digit for digit when a double holds it exactly, and not at all otherwise."""
    from billing_milestones import errors

    exact = abs(value) <= 2**53 and Decimal(repr(float(value))) == value
    if not exact:
        with pytest.raises(errors.ValidationError):
            dumps([value], exact=True)
        return
    back = loads(dumps([value], exact=True))[0]
    assert back == value


def test_a_checked_object_is_written_as_its_dict_without_being_looked_into() -> None:
    """CheckedObject is its writer's word that every value is plain and exact (kantata/_write.py): the same
    text as the dict, and what the writer vouches for is not looked at again (a plain dict holding the same
    over-large number is refused by name)."""
    inner = CheckedObject(service_name="billing-milestones", ref="bm1")
    body = {"billing_milestones": [CheckedObject(title="Kick-off", amount_in_cents=1500, ref=inner)]}
    plain = {"billing_milestones": [{"title": "Kick-off", "amount_in_cents": 1500, "ref": dict(inner)}]}
    assert dumps(body, exact=True) == dumps(plain, exact=True) == json.dumps(plain, separators=(",", ":"))
    big = 2**60
    assert dumps([CheckedObject(n=big)], exact=True) == f'[{{"n":{big}}}]'
    with pytest.raises(ValidationError) as info:
        dumps([{"n": big}], exact=True)
    assert info.value.field == "[0].n"
