"""The emulators' response encoder writes the bytes the clients' ``dumps`` writes, faster."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from billing_milestones._http._json import dumps, loads
from billing_milestones.sandbox import AutotaskSandbox
from billing_milestones.sandbox._encode import encode

SAMPLES: list[Any] = [
    {
        "items": [
            {"id": 1, "amount": Decimal("100.25"), "tiny": Decimal("1E-7"), "big": Decimal("12345678901234567890")}
        ]
    },
    {"text": 'café ✓ "quoted" \\ \n', "none": None, "flag": True, "list": [1, "2", [Decimal("-0.00")]]},
    {"due": dt.date(2027, 1, 2), "at": dt.datetime(2027, 1, 2, 3, 4, 5, tzinfo=dt.UTC), "nested": {"a": {"b": []}}},
    {"looks": '"@deadbeef:0@"', "amount": Decimal("3")},  # a string shaped like a marker stays a string
    [],
    "plain",
    Decimal("7.50"),
]


@pytest.mark.parametrize("data", SAMPLES)
def test_the_bytes_are_what_dumps_writes(data: Any) -> None:
    assert encode(data) == dumps(data)
    assert loads(encode(data)) == loads(dumps(data))


def test_a_seeded_emulator_page_encodes_as_dumps_does() -> None:
    sandbox = AutotaskSandbox()
    contract = sandbox.add_contract(name="C", currency="USD")
    for m in range(60):
        sandbox.add_milestone(contract, title=f"M{m} é", amount=f"{100 + m}.25", date_due=dt.date(2027, 1, 1 + m % 28))
    page = {"items": list(sandbox.milestones.values()), "pageDetails": {"count": 60, "nextPageUrl": None}}
    assert encode(page) == dumps(page)


@pytest.mark.parametrize("bad", [Decimal("NaN"), Decimal("Infinity"), object()])
def test_what_json_cannot_carry_is_refused(bad: Any) -> None:
    with pytest.raises((ValueError, TypeError)):
        encode({"x": [bad]})
