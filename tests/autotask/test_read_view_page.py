"""The common view's page reading (autotask/_envelopes.view_page with _read.listing_reader) gives what the native
page and the adapter give (``items_page``, then ``to_milestone`` after the contract check): over generated
pages read from JSON text as the client reads them, the same milestones field for field (raw payloads included),
the same item ids and next page, or the same error, of the same type and text."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from billing_milestones import errors
from billing_milestones._http import APIResponse, RequestSpec
from billing_milestones._http._json import dumps, loads
from billing_milestones.autotask import _flows, _page, _read, adapter
from billing_milestones.autotask._envelopes import items_page, view_page
from billing_milestones.autotask._read import listing_reader
from billing_milestones.autotask.wire import ContractMilestone, ItemsResponse
from billing_milestones.model import Milestone

from .._same_model import assert_same_model
from .test_read_page import records as wire_records

CID = 29683001
SPEC = RequestSpec("POST", "ContractMilestones/query")
PICKLIST = {1: "Not Ready to Bill", 2: "Ready to Bill", 3: "Billed", 4: "Disputed"}
texts = st.text(st.characters(codec="utf-8"), max_size=12)
descriptions = st.one_of(
    st.none(), texts, st.builds(lambda t, k: f"{t} [bm:{k}]", texts, st.text(st.sampled_from("ab19_-:"), max_size=5))
)


@st.composite
def usual_records(draw: st.DrawFn) -> dict[str, Any]:
    """A usual record of the contract, as the view mostly reads (now and then a key off, or one more)."""
    record: dict[str, Any] = {
        "id": draw(st.integers(0, 2**53)),
        "amount": draw(st.decimals(places=2, min_value=-(10**9), max_value=10**9) | st.integers(-99, 99)),
        "billingCodeID": None,
        "contractID": CID,
        "createDate": draw(st.sampled_from(["2026-12-02T03:17:51.786Z", "2026-12-02T03:17:51Z"])),
        "dateDue": draw(st.none() | st.sampled_from(["2027-01-15T00:00:00", "2027-03-01"] * 10 + ["2027-02-30T00:00"])),
        "description": draw(descriptions),
        "internalCurrencyAmount": draw(st.none() | st.decimals(places=3, min_value=-9, max_value=9)),
        "isInitialPayment": draw(st.none() | st.booleans()),
        "status": draw(st.none() | st.integers(0, 5)),
        "title": draw(st.sampled_from(["Kick-off", "", " ", None]) | texts),
    }
    for name in list(record):
        if name not in ("id", "contractID") and draw(st.integers(0, 12)) == 0:
            del record[name]
    if draw(st.integers(0, 8)) == 0:
        record[draw(st.sampled_from(["newField", "userDefinedFields", "ContractID"]))] = draw(
            st.none() | st.just([]) | texts | st.integers()
        )
    return record


@st.composite
def records(draw: st.DrawFn) -> Any:
    if draw(st.integers(0, 3)):
        return draw(usual_records())
    record = draw(wire_records())
    if isinstance(record, dict) and draw(st.booleans()):
        record["contractID"] = CID
    return record


@st.composite
def bodies(draw: st.DrawFn) -> str:
    items = draw(st.lists(usual_records() if draw(st.booleans()) else records(), max_size=4))
    details: Any = {"count": len(items), "requestCount": 500, "prevPageUrl": None, "nextPageUrl": None}
    if draw(st.integers(0, 6)) == 0:
        details = draw(
            st.sampled_from(
                [
                    {**details, "nextPageUrl": "https://webservices.example/ContractMilestones/query?next"},
                    {**details, "nextPageUrl": "ftp://elsewhere"},
                    {**details, "count": len(items) + 1},
                    {"count": len(items)},
                    None,
                ]
            )
        )
    body: dict[str, Any] = {"items": items, "pageDetails": details}
    if draw(st.integers(0, 12)) == 0:
        body["errors"] = []
    return dumps(body)


def response(text: str) -> APIResponse:
    request = httpx.Request("POST", "https://webservices.example/ATServicesRest/V1.0/ContractMilestones/query")
    return APIResponse(httpx.Response(200, content=text.encode(), request=request), 0, "autotask")


def checked(record: ContractMilestone) -> ContractMilestone:
    return _flows._of_contract(record, CID)


def outcome(read: Callable[[], Any]) -> Any:
    try:
        return read()
    except Exception as exc:  # whatever the native reading raises, the view's must raise too
        return type(exc), str(exc), getattr(exc, "field", None)


def native(text: str, currency: str) -> Any:
    page = items_page(SPEC, response(text))
    read = functools.partial(adapter.to_milestone, picklist=PICKLIST, currency=currency)
    return [outcome(functools.partial(lambda r: read(checked(r)), r)) for r in page.items], page.item_ids, page.next


def viewed(text: str, currency: str) -> Any:
    page = view_page(CID)(SPEC, response(text))
    read = listing_reader(PICKLIST, currency, checked)
    return [outcome(functools.partial(read, r)) for r in page.items], page.item_ids, page.next


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(bodies(), st.sampled_from(["USD", "USD", "JPY", "KWD", "usd"]))
@example(dumps({"items": [{"id": 1, "contractID": CID, "title": "A", "amount": Decimal("1.5"), "status": 1}],
    "pageDetails": {"count": 1, "requestCount": 500, "prevPageUrl": None, "nextPageUrl": None}}), "USD")  # fmt: skip
def test_the_view_reads_every_generated_page_as_the_native_page_and_reader(text: str, currency: str) -> None:
    got, expected = outcome(lambda: viewed(text, currency)), outcome(lambda: native(text, currency))
    if not isinstance(expected, list | tuple) or not isinstance(expected[0], list):
        event(f"page refused: {str(expected[1])[:40]}")
        assert got == expected
        return
    (got_items, got_ids, got_next), (items, ids, nxt) = got, expected
    assert (got_ids, got_next) == (ids, nxt)
    event(f"{len(items)} items, {'as JSON records' if _page.contract_records(loads(text)['items'], CID) else 'wire'}")
    assert len(got_items) == len(items)
    for mine, theirs in zip(got_items, items, strict=True):
        if not isinstance(theirs, Milestone):
            assert mine == theirs
            continue
        assert isinstance(mine, Milestone)
        assert_same_model(mine, theirs)
        assert dict(mine.raw) == dict(theirs.raw)


USUAL = {
    "id": 5,
    "amount": Decimal("4000.50"),
    "contractID": CID,
    "createDate": "2026-12-02T03:17:51.786Z",
    "dateDue": "2027-01-15T00:00:00",
    "description": "Phase one [bm:k1]",
    "isInitialPayment": False,
    "status": 3,
    "title": "Kick-off",
    "newField": {"kept": True},
}


def page_of(*items: dict[str, Any]) -> str:
    return dumps({"items": list(items), "pageDetails": {"count": len(items), "requestCount": 500,
        "prevPageUrl": None, "nextPageUrl": None}})  # fmt: skip


def test_a_usual_page_keeps_its_json_records_and_builds_a_wire_model_only_for_a_raw_payload(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    text = page_of(USUAL, {**USUAL, "id": 6, "description": None})
    expected = native(text, "USD")

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the model read a usual page")

    built: list[object] = []
    record = _page._record
    monkeypatch.setattr(ItemsResponse, "model_validate", refuse)
    monkeypatch.setattr(ContractMilestone, "model_validate", refuse)

    def counted(data: Any) -> ContractMilestone | None:
        built.append(data)
        return record(data)

    monkeypatch.setattr(_read, "_record", counted)
    monkeypatch.setattr(_read, "to_milestone", refuse)
    page = view_page(CID)(SPEC, response(text))
    assert [type(item) for item in page.items] == [dict, dict] and page.item_ids == ("5", "6")
    read = listing_reader(PICKLIST, "USD", checked)
    milestones = [read(item) for item in page.items]
    assert not built  # no wire model yet
    assert milestones[0].raw["newField"] == {"kept": True} and len(built) == 1
    for mine, theirs in zip(milestones, expected[0], strict=True):
        assert_same_model(mine, theirs)
    assert milestones[0].sync_key == "k1" and milestones[0].locked and milestones[1].sync_key is None


@pytest.mark.parametrize(
    "odd",
    [
        {**USUAL, "contractID": CID + 1},  # another contract's: the contract check names it
        {**USUAL, "id": None},
        {**USUAL, "ContractID": CID},  # another casing
        {**USUAL, "amount": Decimal("0.1234567890123456789")},  # more digits than a double holds
        {**USUAL, "dateDue": "soon"},
        {**USUAL, "userDefinedFields": [{"name": "Region", "value": "EU"}]},
    ],
    ids=["other contract", "no id", "casing", "inexact amount", "bad date", "user fields"],
)
def test_a_page_with_one_odd_record_is_read_whole_as_the_native_page(odd: dict[str, Any]) -> None:
    text = page_of(USUAL, odd)
    got = outcome(lambda: view_page(CID)(SPEC, response(text)))
    if isinstance(got, tuple):  # refused: as the native page refuses it
        assert got == outcome(lambda: items_page(SPEC, response(text)))
        return
    assert [type(item) for item in got.items] == [ContractMilestone, ContractMilestone]
    assert outcome(lambda: viewed(text, "USD")) == outcome(lambda: native(text, "USD"))


def test_a_page_of_json_records_is_refused_at_the_same_place_as_the_native_page() -> None:
    text = page_of(USUAL)
    broken = json.loads(text)
    broken["pageDetails"]["count"] = 2
    got = outcome(lambda: view_page(CID)(SPEC, response(json.dumps(broken))))
    assert got == outcome(lambda: items_page(SPEC, response(json.dumps(broken))))
    assert got[0] is ValueError and "pageDetails.count is 2" in got[1]


def test_the_statuses_of_json_and_wire_records() -> None:
    wire = [ContractMilestone.model_validate({"id": 1, "status": 2}), ContractMilestone.model_validate({"id": 2})]
    assert _flows._statuses_of([{"status": 2}, {"id": 3}]) == {2, None}
    assert _flows._statuses_of(wire) == {2, None}
    assert _flows._statuses_of([{"status": 4}, *wire]) == {4, 2, None}


def test_a_refused_record_names_its_field_through_the_view() -> None:
    read = listing_reader(PICKLIST, "USD", checked)
    with pytest.raises(errors.TranslationError) as caught:
        read({**USUAL, "status": 9})
    assert caught.value.field == "status"


@pytest.mark.parametrize("currency", ["XYZ", "US"])
def test_a_json_record_of_a_currency_money_refuses_is_refused_as_to_milestone_refuses_it(currency: str) -> None:
    wire = ContractMilestone.model_validate(loads(page_of(USUAL))["items"][0])
    expected = outcome(lambda: adapter.to_milestone(wire, picklist=PICKLIST, currency=currency))
    assert isinstance(expected, tuple) and expected[0] is not AttributeError
    assert outcome(lambda: listing_reader(PICKLIST, currency, checked)(loads(page_of(USUAL))["items"][0])) == expected
