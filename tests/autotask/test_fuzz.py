"""Hypothesis fuzz of every Autotask response parser, through the clients: each call returns exactly what the
server sent, or raises a ``billing_milestones.errors`` type. Never a pydantic ValidationError, KeyError,
TypeError, RecursionError or httpx error, never a coerced value (``true`` as id 1), never a partial listing.

A valid body per endpoint is mutated (values replaced by JSON of any type, keys deleted or added, an
``errors`` list added, a page repeated); an oracle written from the vendor's field types checks what came back.
"""

from __future__ import annotations

import asyncio
import copy
import datetime as dt
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from billing_milestones import errors
from billing_milestones._http import dumps, loads
from billing_milestones.autotask.wire import ContractMilestone

from .scripted import CID, FIELDS, ZONE, Scripted, chain, record

FUZZ = settings(
    max_examples=200, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow], database=None
)

#: The vendor's types for ContractMilestoneModel (``id`` kinds are integers or digit strings, never booleans).
MILESTONE = {
    "id": "id",
    "contractID": "id",
    "title": "text",
    "description": "text",
    "amount": "number",
    "internalCurrencyAmount": "number",
    "dateDue": "date",
    "status": "id",
    "isInitialPayment": "bool",
    "billingCodeID": "id",
    "createDate": "date",
    "creatorResourceID": "id",
    "organizationalLevelAssociationID": "id",
    "userDefinedFields": "list",
}
PAGE_KEYS = ("count", "requestCount", "prevPageUrl", "nextPageUrl")

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**60), max_value=2**60)
    | st.decimals(allow_nan=False, allow_infinity=False, min_value=-(10**20), max_value=10**20)
    | st.text(max_size=8)
    | st.sampled_from(["7", "2026-01-31T00:00:00", "true", "", "1e400", "NaN", f"{ZONE}/x", "http://[::1"])
)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3),
    max_leaves=6,
)


def strict_equal(a: Any, b: Any) -> bool:
    """JSON equality where ``True != 1`` and ``1 != "1"``."""
    if type(a) is not type(b) and not (isinstance(a, int | Decimal) and isinstance(b, int | Decimal)):
        return False
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(strict_equal(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(strict_equal(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def same(kind: str, raw: Any, got: Any) -> bool:
    """``got`` is exactly what the wire's ``raw`` says, for a field of this kind."""
    if raw is None:
        return got is None
    if kind == "id":
        digits = isinstance(raw, str) and raw.isascii() and raw.isdigit()
        return type(got) is int and ((type(raw) is int and raw >= 0 and raw == got) or (digits and int(raw) == got))
    if kind == "count":
        return type(raw) is int and raw >= 0 and type(got) is int and raw == got
    if kind == "number":
        try:
            value = Decimal(raw) if type(raw) in (int, Decimal, str) else None
        except InvalidOperation:
            return False
        return type(got) is Decimal and value is not None and value == got
    if kind == "date":
        return type(raw) is str and isinstance(got, dt.datetime)
    if kind == "bool":
        return type(raw) is bool and got is raw
    if kind == "text":
        return type(raw) is str and got == raw
    return type(raw) is list and len(got) == len(raw)


def exact_record(got: ContractMilestone, raw: dict[str, Any]) -> None:
    for key, kind in MILESTONE.items():
        attribute = next(n for n, f in ContractMilestone.model_fields.items() if (f.alias or n) == key)
        value = getattr(got, attribute)
        assert same(kind, raw[key], value) if key in raw else value in (None, []), (key, raw.get(key), value)
    extras = {k: v for k, v in raw.items() if k not in MILESTONE}
    assert strict_equal(got.extra_fields, extras), (got.extra_fields, extras)


def no_error_body(body: Any) -> None:
    assert isinstance(body, dict), body
    assert not (isinstance(body.get("errors"), list) and body["errors"]), body


# -- mutations ----------------------------------------------------------------------------------------
def paths(value: Any, here: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [here]
    if isinstance(value, dict):
        for key, child in value.items():
            out += paths(child, (*here, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            out += paths(child, (*here, index))
    return out


def mutate(data: st.DataObject, body: Any) -> Any:
    """One to three changes: replace a value, delete a key, add an unknown key or an ``errors`` list."""
    body = copy.deepcopy(body)
    for _ in range(data.draw(st.integers(1, 3), label="changes")):
        path = data.draw(st.sampled_from(paths(body)), label="path")
        op = data.draw(st.sampled_from(["replace", "delete", "extra", "errors"]), label="op")
        if not path:
            if op == "replace":
                body = data.draw(json_values, label="body")
            elif op == "errors" and isinstance(body, dict):
                body["errors"] = data.draw(st.lists(st.text(max_size=5), min_size=1, max_size=2), label="errors")
            continue
        parent = body
        for step in path[:-1]:
            parent = parent[step]
        target = parent[path[-1]]
        if op == "replace":
            parent[path[-1]] = data.draw(json_values, label="value")
        elif op == "delete" and isinstance(parent, dict):
            del parent[path[-1]]
        elif op == "extra" and isinstance(target, dict):
            target[data.draw(st.sampled_from(["futureField", "x", "errors"]), label="key")] = data.draw(json_values)
    return body


def wire(body: Any) -> Any:
    """The body as the client reads it: through JSON and back (numbers become int or Decimal)."""
    return loads(dumps(body))


def outcome(call: Callable[[], Any]) -> tuple[Any, BaseException | None]:
    """The call's result, or the typed error it raised; any other exception fails the test as it is."""
    try:
        result = call()
    except errors.BillingMilestonesError as exc:
        event(type(exc).__name__)
        return None, exc
    event("returned")
    return result, None


# -- single-body endpoints ----------------------------------------------------------------------------
def check_get(result: Any, body: Any) -> None:
    no_error_body(body)
    assert body["item"] is not None and isinstance(result, ContractMilestone)
    exact_record(result, body["item"])
    assert result.id == 5


def check_item_id(expected: int | None) -> Callable[[Any, Any], None]:
    def check(result: Any, body: Any) -> None:
        no_error_body(body)
        assert same("id", body["itemId"], result) and result >= 1
        assert expected is None or result == expected

    return check


def check_count(result: Any, body: Any) -> None:
    no_error_body(body)
    assert same("count", body["queryCount"], result)


def check_threshold(result: Any, body: Any) -> None:
    no_error_body(body)
    for key in ("externalRequestThreshold", "requestThresholdTimeframe", "currentTimeframeRequestCount"):
        assert same("count", body[key], result.raw()[key])


def check_zone(result: Any, body: Any) -> None:
    no_error_body(body)
    assert same("text", body["url"], result.url)
    assert same("text", body["zoneName"], result.zone_name) if "zoneName" in body else result.zone_name is None


def check_picklist(result: Any, body: Any) -> None:
    no_error_body(body)
    [status] = [f for f in body["fields"] if isinstance(f, dict) and str(f.get("name", "")).lower() == "status"]
    values = status["picklistValues"]
    assert result.labels == {int(v["value"]): v["label"] for v in values}
    assert all(same("id", v["value"], int(v["value"])) and type(v["label"]) is str for v in values)


def check_fields(result: Any, body: Any) -> None:
    no_error_body(body)
    assert [f.name for f in result.fields] == [f["name"] for f in body["fields"]]
    assert all(type(f["name"]) is str for f in body["fields"])


UPDATE_CURRENT = ContractMilestone.model_validate(record(5))
SINGLE: dict[str, tuple[str, Any, Callable[[Any], Any], Callable[[Any, Any], None]]] = {
    "get": ("get", {"item": record(5, futureField=[1])}, lambda c: c.contract_milestones.get(5), check_get),
    "create": (
        "create",
        {"itemId": 12},
        lambda c: c.contract_milestones.create(CID, title="A", amount="1", date_due=dt.date(2027, 1, 1)),
        check_item_id(None),
    ),
    "update": (
        "update",
        {"itemId": 5},
        lambda c: c.contract_milestones.update(CID, 5, current=UPDATE_CURRENT, title="B"),
        check_item_id(5),
    ),
    "count": ("count", {"queryCount": 3}, lambda c: c.contract_milestones.count(), check_count),
    "threshold": (
        "threshold",
        {"externalRequestThreshold": 10000, "requestThresholdTimeframe": 60, "currentTimeframeRequestCount": 7},
        lambda c: c.threshold_information(),
        check_threshold,
    ),
    "zone": (
        "zone",
        {"zoneName": "Zone 5", "url": "https://webservices5.autotask.net/ATServicesRest/", "ci": 5},
        lambda c: c.zone_information(),
        check_zone,
    ),
    "fields": ("fields", FIELDS, lambda c: c.contract_milestones.fields(), check_fields),
    "picklist": ("fields", FIELDS, lambda c: c.contract_milestones.status_picklist(), check_picklist),
}


@FUZZ
@given(name=st.sampled_from(sorted(SINGLE)), data=st.data())
def test_every_single_response_parser_returns_exact_data_or_a_typed_error(name: str, data: st.DataObject) -> None:
    route, valid, call, check = SINGLE[name]
    body = mutate(data, valid)
    server = Scripted(**{route: (200, body)})  # type: ignore[arg-type]
    kwargs: dict[str, Any] = {"base_url": None} if route == "zone" else {}
    with server.client(**kwargs) as client:
        result, error = outcome(lambda: call(client))
    if error is None:
        check(result, wire(body))


# -- the currency chain -----------------------------------------------------------------------------
CHAIN: dict[str, dict[str, Any]] = {
    "contract": {"item": {"id": CID, "companyID": 3, "contractType": 3}},
    "company": {"item": {"id": 3, "companyName": "Acme", "currencyID": 9}},
    "currency": {"item": {"id": 9, "name": "EUR", "isActive": True}},
    "currencies": {"items": [{"id": 1, "name": "GBP", "isInternalCurrency": True}], **chain([])[0]},
}
CHAIN["currencies"]["pageDetails"]["count"] = 1


@FUZZ
@given(route=st.sampled_from(sorted(CHAIN)), data=st.data())
def test_currency_resolution_returns_the_served_code_or_a_typed_error(route: str, data: st.DataObject) -> None:
    bodies = {**CHAIN, route: mutate(data, CHAIN[route])}
    server = Scripted(**bodies)
    with server.client(currency=None) as client:
        code, error = outcome(lambda: client.currency_for(CID))
    if error is None:
        served = {k: wire(v) for k, v in bodies.items()}
        for name in ("contract", "company"):
            no_error_body(served[name])
        company = served["company"]["item"]
        source = "currency" if company.get("currencyID") is not None else "currencies"
        no_error_body(served[source])
        name = served["currency"]["item"]["name"] if source == "currency" else served["currencies"]["items"][0]["name"]
        assert type(name) is str and code == name.strip().upper()


# -- listings ---------------------------------------------------------------------------------------
def served_walk(pages: list[Any]) -> list[dict[str, Any]]:
    """The items a correct client must return for these served pages (asserting they are a valid listing)."""
    items: list[dict[str, Any]] = []
    links = {f"{ZONE}/ContractMilestones/query/next?page={n}": n for n in range(len(pages))}
    n: int | None = 0
    seen: set[int] = set()
    while n is not None:
        assert n not in seen
        seen.add(n)
        body = pages[n]
        no_error_body(body)
        details = body["pageDetails"]
        assert set(PAGE_KEYS) <= details.keys() and same("count", details["count"], len(body["items"]))
        items += body["items"]
        link = details["nextPageUrl"]
        assert link is None or (link in links and body["items"])
        n = None if link is None else links[link]
    ids = [int(i["id"]) for i in items]
    assert len(ids) == len(set(ids)), ids
    return items


def listing_pages(data: st.DataObject) -> list[Any]:
    pages = chain([record(1), record(2, amount=Decimal("2.50"))], [record(3, extra={"a": 1})], [record(4)])
    if data.draw(st.booleans(), label="repeat a page"):
        again = data.draw(st.integers(1, 2), label="which")
        pages[again] = {**copy.deepcopy(pages[again - 1]), "pageDetails": pages[again]["pageDetails"]}
    at = data.draw(st.integers(0, 2), label="page")
    pages[at] = mutate(data, pages[at])
    return pages


@FUZZ
@given(data=st.data(), asynchronous=st.booleans())
def test_the_native_query_returns_every_served_record_exactly_or_a_typed_error(
    data: st.DataObject, asynchronous: bool
) -> None:
    pages = listing_pages(data)
    server = Scripted(pages=pages)

    async def run_async() -> list[ContractMilestone]:
        async with server.async_client() as aclient:
            return [m async for m in aclient.contract_milestones.query()]

    def run() -> list[ContractMilestone]:
        if asynchronous:
            return asyncio.run(run_async())
        with server.client() as client:
            return list(client.contract_milestones.query())

    result, error = outcome(run)
    if error is None:
        expected = served_walk([wire(p) for p in pages])
        assert len(result) == len(expected)
        for got, raw in zip(result, expected, strict=True):
            exact_record(got, raw)


@FUZZ
@given(data=st.data())
def test_the_common_view_lists_every_served_milestone_or_raises_a_typed_error(data: st.DataObject) -> None:
    pages = listing_pages(data)
    with Scripted(pages=pages).client() as client:
        # stream: the served order (list sorts, see billing_milestones._order and tests/test_listing_order.py)
        result, error = outcome(lambda: list(client.milestones.stream(str(CID))))
    if error is None:
        expected = served_walk([wire(p) for p in pages])
        assert [m.key.id if m.key else None for m in result] == [str(int(r["id"])) for r in expected]
        assert all(same("id", r["contractID"], CID) for r in expected)
        assert [m.title for m in result] == [r["title"] for r in expected]
        amounts = [Decimal(r["amount"]) if r.get("amount") is not None else None for r in expected]
        assert [m.amount.amount if m.amount is not None else None for m in result] == amounts
