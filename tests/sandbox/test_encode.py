"""The emulators' response encoder writes the bytes the clients' ``dumps`` writes, faster."""

from __future__ import annotations

import datetime as dt
import re
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
    {"marker": "@0123456789abcdef:0@", "amount": Decimal("4.5")},  # another call's token: stays a string
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


@pytest.mark.parametrize(
    ("data", "place"),
    [
        ({"amount": 0.1}, "amount"),
        ({"items": [{"id": 1}, {"amount": 1e16}]}, "items[1].amount"),
        ([Decimal("1.5"), 1e-7], "[1]"),
        ({"note": 'said "hi"', "rate": -2.5}, "rate"),  # an escaped quote: strings read the careful way
        (100.0, "the top"),
    ],
)
def test_a_float_is_refused_naming_its_place(data: Any, place: str) -> None:
    with pytest.raises(TypeError, match=rf"float at {re.escape(place)};"):
        encode(data)
    with pytest.raises(TypeError, match="float"):
        dumps(data)  # as the clients' encoder refuses it


@pytest.mark.parametrize(
    "data",
    [
        {"text": "1.5 e+3 e-2 3.0", "n": -12, "flags": [True, False, None]},
        {"quoted": 'a "1.5" b', "escaped": "back\\slash 2.5", "amount": Decimal("2.50")},
        {"tiny": Decimal("1E-7"), "big": Decimal("1E+16"), "keys": {"1.5": 1}},
    ],
)
def test_points_and_exponents_in_text_or_decimals_are_not_floats(data: Any) -> None:
    assert encode(data) == dumps(data)


def test_no_request_or_seed_puts_a_float_where_a_response_reads_it() -> None:
    """Fractional numbers in bodies and queries are read as Decimal, seeds convert: responses never hold floats."""
    sandbox = AutotaskSandbox()
    contract = sandbox.add_contract(name="C", currency="USD", exchange_rate=1.25)  # type: ignore[arg-type]
    sandbox.add_milestone(contract, title="seeded", amount=0.1)  # type: ignore[arg-type]
    headers = {"ApiIntegrationCode": sandbox.INTEGRATION_CODE, "UserName": sandbox.USERNAME, "Secret": sandbox.SECRET}
    with sandbox.http_client(base_url="https://webservices.autotask.net/ATServicesRest/V1.0", headers=headers) as http:
        body = '{"title": "posted", "amount": 100.25, "dateDue": "2027-01-01", "status": 1, "isInitialPayment": false}'
        assert http.post(f"/Contracts/{contract}/Milestones", content=body).status_code == 200
        search = '{"filter": [{"op": "gt", "field": "amount", "value": 0.05}], "MaxRecords": 1}'
        page = http.get("/ContractMilestones/query", params={"search": search})  # a next link carries the 0.05
        assert page.status_code == 200, page.text
        assert page.json()["pageDetails"]["nextPageUrl"]
    stored = [(m["amount"], m["internalCurrencyAmount"]) for m in sandbox.milestones.values()]
    assert all(isinstance(v, Decimal) for pair in stored for v in pair)
    assert [a for a, _ in stored] == [Decimal("0.1"), Decimal("100.25")]


def test_a_string_spelling_the_calls_marker_stays_a_string(monkeypatch: pytest.MonkeyPatch) -> None:
    """The n-th marker is the n-th Decimal; a string of the data spelling the marker is another call's."""
    tokens = iter(["0123456789abcdef", "fedcba9876543210"])
    monkeypatch.setattr("billing_milestones.sandbox._encode.secrets.token_hex", lambda _: next(tokens))
    data = {"looks": "@0123456789abcdef@", "amount": Decimal("1.50"), "more": [Decimal("2"), "@0123456789abcdef@"]}
    assert encode(data) == dumps(data) == '{"looks":"@0123456789abcdef@","amount":1.50,"more":[2,"@0123456789abcdef@"]}'


@pytest.mark.parametrize("text", ["1E+2", "1E-7", "-0.00", "12345678901234567890.000", "0E-12", "1.0E+5", "7"])
def test_every_decimal_is_written_with_its_digits(text: str) -> None:
    data = {"n": Decimal(text), "m": [Decimal(text), {"k": Decimal(text)}]}
    assert encode(data) == dumps(data)
    assert loads(encode(data)) == data
