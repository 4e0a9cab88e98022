"""The emulators' response encoder writes the bytes the clients' ``dumps`` writes, faster."""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import re
import uuid
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from billing_milestones._http._json import dumps, loads
from billing_milestones.sandbox import AutotaskSandbox, _encode
from billing_milestones.sandbox._encode import encode, encode_bytes

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
    assert encode_bytes(data) == dumps(data).encode()  # orjson's way: each Decimal's digits put in as they are
    assert loads(encode(data)) == data


# -- encode_bytes: orjson for plain bodies, the standard path for everything else ---------------------------


class _Colour(enum.Enum):
    RED = "red"


class _Level(enum.IntEnum):
    HIGH = 3


class _Kind(enum.StrEnum):
    FIXED = "fixed_date"


class _Dict(dict[str, Any]):
    pass


@dataclasses.dataclass
class _Point:
    x: int


_cycle: dict[str, Any] = {}
_cycle["self"] = _cycle

_JSON_TEXT = st.text(st.characters(exclude_categories=["Cs"]))
_LEAF = st.one_of(
    _JSON_TEXT,
    st.integers(min_value=-(2**70), max_value=2**70),  # past 64 bits orjson refuses: the standard path writes it
    st.booleans(),
    st.none(),
    st.decimals(allow_nan=False, allow_infinity=False),
    st.dates(),
    st.datetimes(timezones=st.none() | st.just(dt.UTC) | st.just(dt.timezone(dt.timedelta(hours=-7)))),
)
_BODIES = st.recursive(
    _LEAF, lambda inner: st.lists(inner, max_size=5) | st.dictionaries(_JSON_TEXT, inner, max_size=5), max_leaves=40
)


@settings(max_examples=300, deadline=None)
@given(_BODIES)
def test_the_bytes_of_any_body_are_what_dumps_writes(data: Any) -> None:
    assert encode_bytes(data) == dumps(data).encode() == encode(data).encode()


@pytest.mark.parametrize(
    "value",
    [
        0.5,
        float("nan"),
        float("inf"),
        _Colour.RED,
        _Level.HIGH,
        _Kind.FIXED,
        uuid.UUID(int=7),
        (1, 2),
        _Dict(a=1),
        dt.time(3, 4),
        _Point(1),
        2**64,
        {1: "an int key"},
        "\ud800",
        Decimal("NaN"),
        _cycle,
        SAMPLES[0]["items"][0]["tiny"],
    ],
    ids=repr,
)
def test_a_body_orjson_would_write_otherwise_answers_or_refuses_as_the_standard_path(value: Any) -> None:
    body = {"items": [{"value": value}]}
    try:
        expected: Any = encode(body).encode()
    except Exception as exc:  # the very refusal is what must be the same
        with pytest.raises(type(exc)) as raised:
            encode_bytes(body)
        assert str(raised.value) == str(exc)
    else:
        assert encode_bytes(body) == expected


def test_orjson_writes_plain_bodies_and_never_one_holding_a_float(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("orjson")
    calls: list[Any] = []
    dumps_fast = _encode._orjson.dumps

    def spied(data: Any, **kwargs: Any) -> bytes:
        calls.append(data)
        return bytes(dumps_fast(data, **kwargs))

    monkeypatch.setattr(_encode._orjson, "dumps", spied)
    plain = {"amount": Decimal("1.50"), "due": dt.date(2027, 1, 2), "items": [{"n": 1, "t": "x"}, None, True]}
    assert encode_bytes(plain) == b'{"amount":1.50,"due":"2027-01-02","items":[{"n":1,"t":"x"},null,true]}'
    assert calls == [plain]
    with pytest.raises(TypeError, match=r"float at items\[1\]\.rate"):
        encode_bytes({"items": [{}, {"rate": 0.5}]})
    assert calls == [plain]


def test_without_orjson_the_bytes_are_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    body = {"amount": Decimal("2.50"), "text": 'café "q"', "at": dt.datetime(2027, 1, 2, 3, 4, 5)}
    with_orjson = encode_bytes(body)
    monkeypatch.setattr(_encode, "_orjson", None)
    assert encode_bytes(body) == with_orjson == dumps(body).encode()
