"""Fuzz every crm.com response parser: each call returns exactly what the server sent, or a typed SDK error.

Hypothesis starts from documented, valid bodies and mutates them (keys removed, values of another JSON type,
list entries repeated, whole pages repeated, error bodies, bodies that are not JSON objects, other statuses).
Whatever the mutation, a call either raises a ``BillingMilestonesError`` subclass or returns data equal, type
for type, to the body (a boolean read as 1, a string read as an amount or a dropped key fails the oracle); a
pydantic ValidationError, KeyError, TypeError, RecursionError or httpx error escaping fails the test itself.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from billing_milestones._http import RetryPolicy, dumps, loads
from billing_milestones.crmcom import CrmComClient, OrderDraft, OrderItem
from billing_milestones.errors import BillingMilestonesError

NO_RETRY = RetryPolicy(max_retries=0, initial_delay=0.0, max_delay=0.0, jitter=0.0)
FUZZ = settings(max_examples=200, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
STAGES = ["st-deposit", "st-progress", "st-done"]
SIZE = 2

DRAFT = OrderDraft(
    account_id="acc-1",
    supply_method="PICK_UP",
    delivery_method="COURIER_SERVICE",
    payment_method_type="CASH",
    items=[OrderItem(id="prod-1")],
    queue_id="queue-1",
)


def estimate_body() -> dict[str, Any]:
    plan = [
        {
            "stage": {"id": stage, "name": f"Stage {i}", "colour": "#fff", "priority": i},
            "queue_percentage": 30 + 5 * i,
            "percentage": None,
            "amount": Decimal(f"{300 + 50 * i}.25"),
        }
        for i, stage in enumerate(STAGES)
    ]
    invoice = {"currency_code": "EUR", "net": Decimal("800.00"), "tax": Decimal("200.75"), "total": Decimal("1000.75")}
    return {
        "id": "est-1",
        "order_estimate": {"queue": {"id": "queue-1", "name": "Q"}, "ordering_allowed": True},
        "milestone_plan_estimate": plan,
        "invoice_estimate": invoice,
        "orders": [{"invoice_estimate": invoice, "milestone_plan_estimate": copy.deepcopy(plan)}],
        "service_delivery_estimate": [],
    }


def order_body(n: int = 1) -> dict[str, Any]:
    return {
        "id": f"o-{n}",
        "number": f"ORD{n:06d}",
        "state": "NEW",
        "stage": {"id": "st-deposit", "name": "Deposit"},
        "total": Decimal(f"{n}.50"),
        "currency_code": "EUR",
        "discount": {"amount": 0, "amount_incl_tax": 0},
        "key_dates": {"submitted_on": 1_700_000_000},
        "created_date": 1_700_000_000 + n,
    }


def page_bodies() -> list[dict[str, Any]]:
    return [
        {
            "content": [order_body(p * SIZE + 1), order_body(p * SIZE + 2)],
            "paging": {"page": p + 1, "size": SIZE, "total": 6, "has_more": p < 2},
        }
        for p in range(3)
    ]


def token_body() -> dict[str, Any]:
    return {"access_token": "at-fuzz-1", "refresh_token": "rt-fuzz-1", "expiration_date": 1_900_000_000}


# -- strategies -----------------------------------------------------------------------------------------------
LEAVES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**60), max_value=2**60),
    st.decimals(min_value=-(10**18), max_value=10**18, allow_nan=False, allow_infinity=False, places=3),
    st.sampled_from([Decimal("12345678901234567.89"), Decimal("0.1000000000000000055511151231257827")]),
    st.text(max_size=6),
    st.sampled_from(["", "true", "12.5", "EUR", "o-1", "st-deposit"]),
)
VALUES = st.recursive(
    LEAVES,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3),
    max_leaves=8,
)
#: The values that a lax parser would coerce into plausible data (True as 1, "1" as a number, "" as an id).
CONFUSING_VALUES: list[Any] = [True, False, 0, 1, "1", "true", "", Decimal("1.5"), None, [], {}]
CONFUSING = st.sampled_from(CONFUSING_VALUES)
ERROR_BODIES = st.one_of(
    st.fixed_dictionaries(
        {"status": st.sampled_from([200, 400, 401, 404, 422, 429, 500, 503])},
        optional={"message": st.text(max_size=10), "error": st.text(max_size=10), "parameters": VALUES},
    ),
    st.fixed_dictionaries({"errors": st.lists(VALUES | st.text(max_size=8), max_size=3)}),
    st.fixed_dictionaries({"error": st.text(min_size=1, max_size=10)}),
)
RAW = st.sampled_from([b"", b"null", b"[]", b"true", b'"ok"', b"<html>502</html>", b"{", b"NaN", b"[" * 50_000])


def paths(node: Any, here: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every key and index path in a JSON tree (the root excluded)."""
    out: list[tuple[Any, ...]] = []
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, child in items:
        out.append((*here, key))
        out.extend(paths(child, (*here, key)))
    return out


def mutate(data: st.DataObject, body: Any, *, most: int = 3) -> Any:
    """Up to ``most`` edits: remove a key, give it a value of any JSON type, repeat a list entry."""
    body = copy.deepcopy(body)
    for _ in range(data.draw(st.integers(min_value=1, max_value=most) | st.just(0), label="edits")):
        where = paths(body)
        if not where:
            break
        path = data.draw(st.sampled_from(where), label="path")
        parent = body
        for key in path[:-1]:
            parent = parent[key]
        action = data.draw(st.sampled_from(["remove", "replace", "replace", "repeat"]), label="action")
        if action == "remove":
            del parent[path[-1]]
        elif action == "replace":
            parent[path[-1]] = data.draw(CONFUSING | VALUES, label="value")
        elif isinstance(parent, list):
            parent.insert(path[-1], copy.deepcopy(parent[path[-1]]))
    return body


def served(data: st.DataObject, body: Any) -> tuple[int, bytes]:
    """The status and bytes one response carries: mostly the mutated body, sometimes an error or junk."""
    kind = data.draw(st.sampled_from(["body"] * 6 + ["error", "raw", "status"]), label="kind")
    status = 200
    if kind == "error":
        body = data.draw(ERROR_BODIES, label="error body")
    elif kind == "raw":
        return 200, data.draw(RAW, label="raw")
    elif kind == "status":
        status = data.draw(st.sampled_from([201, 204, 400, 401, 404, 409, 422, 500]), label="status")
    return status, dumps(body).encode()


def client_for(answer: Callable[[httpx.Request], tuple[int, bytes]], **kwargs: Any) -> CrmComClient:
    def handler(request: httpx.Request) -> httpx.Response:
        status, content = answer(request)
        return httpx.Response(status, content=content)

    transport = httpx.MockTransport(handler)
    return CrmComClient("sk-fuzz", http_client=httpx.Client(transport=transport), retry_policy=NO_RETRY, **kwargs)


# -- the oracle -------------------------------------------------------------------------------------------
def same(got: Any, want: Any) -> bool:
    """Equal and of the JSON type sent: Decimal(1) is not ``true``, ``"5"`` is not 5."""
    if want is None:
        return got is None
    if isinstance(want, bool):
        return got is want
    if isinstance(want, int | Decimal):
        return isinstance(got, int | Decimal) and not isinstance(got, bool) and got == want
    return type(got) is type(want) and bool(got == want)


def body_of(content: bytes) -> Any:
    return loads(content)


def check_estimate(estimate: Any, body: dict[str, Any]) -> None:
    assert same(estimate.id, body["id"])
    assert same(estimate.currency_code, body["invoice_estimate"]["currency_code"])
    assert same(estimate.total, body["invoice_estimate"].get("total"))
    wanted = body.get("milestone_plan_estimate")
    if wanted is None:
        wanted = body["orders"][0]["milestone_plan_estimate"]
    plan = estimate.plan()
    assert len(plan) == len(wanted) and len({p.stage.id for p in plan}) == len(plan)
    for got, want in zip(plan, wanted, strict=True):
        assert same(got.stage.id, want["stage"]["id"])
        for name in ("amount", "percentage", "queue_percentage"):
            assert same(getattr(got, name), want.get(name))
    assert set(body) <= set(estimate.model_dump(exclude_unset=True))  # unknown fields are kept


def attempt(call: Callable[[], Any]) -> Any:
    """The call's result, or None when it raised one of the SDK's own errors (anything else propagates)."""
    try:
        return call()
    except BillingMilestonesError:
        return None


# -- one test per parser ------------------------------------------------------------------------------------
@FUZZ
@given(data=st.data())
def test_estimate(data: st.DataObject) -> None:
    status, content = served(data, mutate(data, estimate_body()))
    with client_for(lambda request: (status, content)) as client:
        estimate = attempt(lambda: client.estimates.order(DRAFT))
    if estimate is not None:
        assert 200 <= status < 300
        check_estimate(estimate, body_of(content))


@FUZZ
@given(data=st.data())
def test_milestone_view_over_an_estimate(data: st.DataObject) -> None:
    status, content = served(data, mutate(data, estimate_body()))
    with client_for(lambda request: (status, content)) as client:
        # stream: the served (stage) order; list sorts, see tests/test_listing_order.py
        milestones = attempt(lambda: list(client.milestones.stream(client.milestones.open_draft(DRAFT))))
    if milestones is not None:
        body = body_of(content)
        check_estimate(client.milestones.last_estimate(body["id"] or "est-1"), body)
        plan = body.get("milestone_plan_estimate")  # an empty top-level plan is the plan, as in wire.py
        if plan is None:
            plan = body["orders"][0]["milestone_plan_estimate"]
        assert [m.trigger.ref for m in milestones] == [p["stage"]["id"] for p in plan]


@FUZZ
@given(data=st.data())
def test_contact_order_pages(data: st.DataObject) -> None:
    bodies: list[Any] = page_bodies()
    how = data.draw(st.sampled_from(["mutate", "repeat page", "none"]), label="how")
    if how == "repeat page":
        src, dst = data.draw(st.permutations(range(3)), label="pages")[:2]
        bodies[dst] = copy.deepcopy(bodies[src])
    elif how == "mutate":
        where = data.draw(st.integers(min_value=0, max_value=2), label="page")
        bodies[where] = mutate(data, bodies[where], most=2)
    answers = [served(data, b) if i == 1 or how == "mutate" else (200, dumps(b).encode()) for i, b in enumerate(bodies)]
    asked: list[int] = []

    def answer(request: httpx.Request) -> tuple[int, bytes]:
        page = int(request.url.params["page"])
        asked.append(page)
        return answers[min(page, 3) - 1]

    with client_for(answer) as client:
        orders = attempt(lambda: list(client.orders.list_for_contact("c-1", size=SIZE, include_total=True)))
    if orders is not None:
        sent = [o for page in asked for o in body_of(answers[min(page, 3) - 1][1])["content"]]
        assert len(orders) == len(sent) and len({o.id for o in orders}) == len(orders)  # never a repeat
        for got, want in zip(orders, sent, strict=True):
            assert same(got.id, want["id"]) and same(got.total, want.get("total"))
        last = body_of(answers[min(asked[-1], 3) - 1][1])["paging"]
        assert last["has_more"] is False
        if isinstance(last.get("total"), int) and last["total"] < 10_000:
            assert len(orders) == last["total"]  # walked from page 1: every counted order, no more


@FUZZ
@given(data=st.data())
def test_get_order(data: st.DataObject) -> None:
    status, content = served(data, mutate(data, order_body()))
    with client_for(lambda request: (status, content)) as client:
        order = attempt(lambda: client.orders.get("o-1"))
    if order is not None:
        body = body_of(content)
        assert same(order.id, body["id"]) and same(order.total, body.get("total"))
        assert same(order.created_date, body.get("created_date"))
        if isinstance(body.get("stage"), dict):
            assert order.stage is not None and same(order.stage.id, body["stage"].get("id"))


@FUZZ
@given(data=st.data())
def test_submit_order(data: st.DataObject) -> None:
    created = {"id": "o-9", "number": "ORD000009", "fulfilled_by": {"id": "m-1", "name": "M"}}
    status, content = served(data, mutate(data, created))
    with client_for(lambda request: (status, content)) as client:
        got = attempt(lambda: client.orders.submit("est-1", [{"payment_method_type": "CASH"}]))
    if got is not None:
        body = body_of(content)
        assert same(got.id, body["id"]) and same(got.number, body.get("number"))


@pytest.mark.parametrize("operation", ["authenticate", "refresh"])
@FUZZ
@given(data=st.data())
def test_contact_tokens(operation: str, data: st.DataObject) -> None:
    status, content = served(data, mutate(data, token_body()))
    with client_for(lambda request: (status, content), refresh_token="rt-old-1") as client:
        if operation == "authenticate":
            token = attempt(lambda: client.authenticate_contact("pk-fuzz", username="a@b.c", password="pw-fuzz"))
        else:
            token = attempt(client.refresh_contact_token)
    if token is not None:
        body = body_of(content)
        assert same(token.access_token.get_secret_value(), body["access_token"])
        assert same(token.expiration_date, body.get("expiration_date"))
        refresh = body.get("refresh_token") or None
        assert same(token.refresh_token.get_secret_value() if token.refresh_token else None, refresh)


# -- every field with every confusing value, exhaustively (the fuzz samples; this covers each pair once) ------
def _get(client: CrmComClient) -> Any:
    return client.orders.get("o-1")


def _submit(client: CrmComClient) -> Any:
    return client.orders.submit("est-1", [{"payment_method_type": "CASH"}])


def _auth(client: CrmComClient) -> Any:
    return client.authenticate_contact("pk-fuzz", username="a@b.c", password="pw-fuzz")


def _check_order(got: Any, body: Any) -> None:
    assert same(got.id, body["id"]) and same(got.total, body.get("total"))
    assert same(got.created_date, body.get("created_date")) and same(got.number, body.get("number"))
    if isinstance(body.get("stage"), dict):
        assert got.stage is not None and same(got.stage.id, body["stage"].get("id"))


def _one_page() -> dict[str, Any]:
    return {
        "content": [order_body(1), order_body(2)],
        "paging": {"page": 1, "size": SIZE, "total": 2, "has_more": False},
    }


def _check_created(got: Any, body: Any) -> None:
    assert got.id and same(
        got.id, body["id"]
    )  # an empty id would name no order and same(got.number, body.get("number"))


def _check_token(got: Any, body: Any) -> None:
    assert same(got.access_token.get_secret_value(), body["access_token"])
    assert same(got.expiration_date, body.get("expiration_date"))


EXHAUSTIVE: dict[str, tuple[Callable[[], Any], Callable[[CrmComClient], Any], Callable[[Any, Any], None]]] = {
    "estimate": (estimate_body, lambda c: c.estimates.order(DRAFT), check_estimate),
    "get": (order_body, _get, _check_order),
    "page": (_one_page, lambda c: list(c.orders.list_for_contact("c-1", size=SIZE)), lambda g, b: None),
    "submit": (lambda: {"id": "o-9", "number": "ORD9"}, _submit, _check_created),
    "authenticate": (token_body, _auth, _check_token),
}


def _ok(content: bytes, request: httpx.Request) -> tuple[int, bytes]:
    return 200, content


@pytest.mark.parametrize("operation", EXHAUSTIVE)
def test_every_field_with_every_confusing_value(operation: str) -> None:
    make, call, check = EXHAUSTIVE[operation]
    for path in paths(make()):
        for value in CONFUSING_VALUES:
            body = make()
            parent = body
            for key in path[:-1]:
                parent = parent[key]
            parent[path[-1]] = copy.deepcopy(value)
            content = dumps(body).encode()
            with client_for(functools.partial(_ok, content)) as client:
                got = attempt(functools.partial(call, client))
            if got is not None:
                if operation == "page":
                    page = body_of(content)
                    assert [o.id for o in got] == [o["id"] for o in page["content"]], (path, value)
                    assert all(same(o.total, w.get("total")) for o, w in zip(got, page["content"], strict=True))
                else:
                    check(got, body_of(content))
