"""The query page's one-step reading (autotask/_page.py) gives what ``ItemsResponse.model_validate`` gives: over
generated pages read from JSON text as the client reads them (Decimal numbers), every record is equal field for
field (value types, fields set, unknown fields, raw payload) or both refuse the page with the same errors."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pydantic
import pytest
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from billing_milestones._http._json import MAX_EXACT_INT, double_exact, dumps, loads
from billing_milestones._wire import WireModel
from billing_milestones.autotask import _page
from billing_milestones.autotask._page import read_items_page
from billing_milestones.autotask.wire import ContractMilestone, ItemsResponse, PageDetails

texts = st.text(st.characters(codec="utf-8"), max_size=10)
ids = st.integers(0, 2**53)
odd_ids = st.one_of(
    st.booleans(),
    st.integers(-5, -1),
    st.integers(2**53 + 1, 2**60),
    ids.map(str),
    st.just("07"),
    st.just(Decimal("1.0")),
)
amounts = st.one_of(
    st.decimals(places=2, min_value=-(10**12), max_value=10**12, allow_nan=False, allow_infinity=False),
    st.integers(-(2**53), 2**53),
    st.sampled_from(["0.10", "1000.25", "-0.00", "12345678901234.5", "1e400", "1E-30", "0.1234567890123456789"]).map(
        Decimal
    ),
)
odd_amounts = st.one_of(st.booleans(), texts, st.integers(2**53 + 1, 2**60), st.just("1.5"))
dates = st.sampled_from(
    ["2027-01-01T00:00:00", "2026-12-01T21:11:18.707Z", "2027-02-03", "2027-02-03T04:05:06+02:00", "2027-1-1"]
)
odd_dates = st.one_of(st.integers(0, 10**9), st.just("2027-02-30T00:00:00"), st.just("soon"), st.booleans())
USUAL: dict[str, st.SearchStrategy[Any]] = {
    "id": ids,
    "contractID": ids,
    "title": texts,
    "description": texts,
    "amount": amounts,
    "internalCurrencyAmount": amounts,
    "dateDue": dates,
    "status": st.integers(0, 5),
    "isInitialPayment": st.booleans(),
    "billingCodeID": ids,
    "createDate": dates,
    "creatorResourceID": ids,
    "organizationalLevelAssociationID": ids,
    "userDefinedFields": st.just([]),
}
ODD: dict[str, st.SearchStrategy[Any]] = {
    **dict.fromkeys(["id", "contractID", "status", "billingCodeID", "creatorResourceID"], odd_ids),
    "title": st.one_of(st.integers(), st.booleans()),
    "description": st.integers(),
    "amount": odd_amounts,
    "internalCurrencyAmount": odd_amounts,
    "dateDue": odd_dates,
    "createDate": odd_dates,
    "isInitialPayment": st.one_of(st.integers(0, 1), st.just("true")),
    "organizationalLevelAssociationID": odd_ids,
    "userDefinedFields": st.just([{"name": "Region", "value": "EU"}]) | st.just([{"value": 1}]) | st.just({}),
}


@st.composite
def records(draw: st.DrawFn) -> Any:
    if draw(st.integers(0, 30)) == 0:
        return draw(st.sampled_from([None, [], "x", 5]))
    odd = set() if draw(st.integers(0, 5)) else draw(st.sets(st.sampled_from(sorted(USUAL)), max_size=3))
    record: dict[str, Any] = {}
    for key in USUAL:
        if draw(st.integers(0, 5)) == 0:
            continue  # absent (IncludeFields trims records): the fields set differs
        strategy = ODD[key] if key in odd else USUAL[key]
        value = draw(st.none() | strategy) if draw(st.integers(0, 6)) == 0 else draw(strategy)
        record[key] = value
    if draw(st.integers(0, 4)) == 0:
        record[draw(st.sampled_from(["newField", "x_unknown", "Notes"]))] = draw(st.none() | texts | st.integers())
    if record and draw(st.integers(0, 8)) == 0:
        key = draw(st.sampled_from(sorted(record)))
        other = draw(st.sampled_from([key.upper(), key.lower(), key[:1].upper() + key[1:]]))
        record[other] = record.pop(key) if draw(st.booleans()) else record[key]  # another casing, or a repeat
    return record


@st.composite
def bodies(draw: st.DrawFn) -> str:
    items = draw(st.lists(records(), max_size=5))
    details: Any = {"count": len(items), "requestCount": 500, "prevPageUrl": None, "nextPageUrl": None}
    if draw(st.integers(0, 8)) == 0:
        details = draw(st.sampled_from([{"count": 1}, None, {**details, "count": -1}, {**details, "Count": 0}]))
    body: dict[str, Any] = {"items": items, "pageDetails": details}
    if draw(st.integers(0, 10)) == 0:
        body[draw(st.sampled_from(["Items", "errors", "extra"]))] = []
    if draw(st.integers(0, 20)) == 0:
        del body["items"]
    return dumps(body)  # a Decimal as a JSON number with its digits, as a server writes it


def assert_same_wire(got: Any, expected: Any) -> None:
    assert type(got) is type(expected)
    if isinstance(expected, list):
        assert len(got) == len(expected)
        for a, b in zip(got, expected, strict=True):
            assert_same_wire(a, b)
        return
    if not isinstance(expected, WireModel):
        assert got == expected
        if isinstance(expected, Decimal):
            assert got.as_tuple() == expected.as_tuple()
        elif expected is not None and not isinstance(expected, str | int | bool):
            assert repr(got) == repr(expected)  # a datetime's timezone object too
        return
    assert got == expected and repr(got) == repr(expected)
    assert got.model_fields_set == expected.model_fields_set and type(got.model_fields_set) is set
    assert got.model_extra == expected.model_extra and type(got.model_extra) is dict
    assert got.__pydantic_private__ == expected.__pydantic_private__
    assert list(got.__dict__) == list(expected.__dict__)
    for name, value in expected.__dict__.items():
        assert_same_wire(got.__dict__[name], value)
    assert got.raw() == expected.raw()


def outcome(body: Any, read: Any) -> Any:
    try:
        return read(body)
    except pydantic.ValidationError as exc:
        return [(e["type"], e["loc"], e["msg"]) for e in exc.errors()]


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(bodies())
@example(json.dumps({"items": [{"id": 1, "ID": 2}], "pageDetails": {}}))
@example(json.dumps({"items": [{"userDefinedFields": None}], "pageDetails": {"count": 1, "requestCount": 1,
    "prevPageUrl": None, "nextPageUrl": None}}))  # fmt: skip
def test_the_one_step_reading_reads_every_generated_page_as_the_model(text: str) -> None:
    body = loads(text)
    got = outcome(body, read_items_page)
    expected = outcome(loads(text), ItemsResponse.model_validate)
    if isinstance(expected, list):
        event("refused")
        assert got == expected
        return
    one_step = set(body) == {"items", "pageDetails"} and all(_page._record(r) is not None for r in body["items"])
    event("read in one step" if one_step else "read by the model")
    assert_same_wire(got, expected)
    records = [r for page in (got,) for r in page.items]
    assert len({id(r.user_defined_fields) for r in records}) == len(records)  # no list shared between records


def test_a_usual_page_is_read_in_one_step_without_the_model(monkeypatch: pytest.MonkeyPatch) -> None:
    text = dumps(
        {
            "items": [
                {
                    "id": 5,
                    "contractID": 7,
                    "title": "Kick-off",
                    "amount": Decimal("4000.00"),
                    "status": 1,
                    "dateDue": "2027-01-15T00:00:00",
                    "userDefinedFields": [],
                    "isInitialPayment": False,
                    "newField": {"kept": True},
                },
                {"id": 6, "contractID": 7, "amount": 12, "description": None},
            ],
            "pageDetails": {"count": 2, "requestCount": 500, "prevPageUrl": None, "nextPageUrl": None},
        },
    )
    expected = ItemsResponse.model_validate(loads(text))

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the model read a usual page")

    monkeypatch.setattr(ContractMilestone, "model_validate", refuse)
    monkeypatch.setattr(ItemsResponse, "model_validate", refuse)
    got = read_items_page(loads(text))
    assert_same_wire(got, expected)
    assert got.items[0].model_extra == {"newField": {"kept": True}}
    assert got.items[1].amount == Decimal(12) and got.items[1].model_fields_set == {
        "id",
        "contract_id",
        "amount",
        "description",
    }
    assert isinstance(got.page_details, PageDetails)


@pytest.mark.parametrize(
    ("record", "field"),
    [
        ({"id": True}, "id"),
        ({"id": 1, "amount": 1.5}, "amount"),
        ({"id": 1, "amount": Decimal("0.1234567890123456789")}, "amount"),
        ({"id": 1, "dateDue": 20270101}, "dateDue"),
        ({"id": 1, "isInitialPayment": 1}, "isInitialPayment"),
        ({"id": -1}, "id"),
    ],
)
def test_a_bad_value_is_still_refused_by_name(record: dict[str, Any], field: str) -> None:
    body = {
        "items": [record],
        "pageDetails": {"count": 1, "requestCount": 500, "prevPageUrl": None, "nextPageUrl": None},
    }
    with pytest.raises(pydantic.ValidationError) as caught:
        read_items_page(body)
    assert caught.value.errors()[0]["loc"][:3] == ("items", 0, field)


@given(
    st.decimals(allow_nan=False, allow_infinity=False) | st.decimals(places=2, max_value=10**13, min_value=-(10**13))
)
def test_a_short_amount_is_one_a_double_holds_exactly(value: Decimal) -> None:
    if _page._short(value):
        assert double_exact(value)
    assert abs(value) <= MAX_EXACT_INT or not _page._short(value)
