"""CrmComClient and AsyncCrmComClient against documented payload shapes (respx), sync and async."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Generator
from decimal import Decimal
from typing import Any

import httpx
import pytest
import respx
from pydantic import SecretStr

from billing_milestones._http import RetryPolicy, dumps
from billing_milestones.crmcom import (
    AsyncCrmComClient,
    CrmComClient,
    MilestoneRequest,
    OrderDraft,
    OrderEstimate,
    OrderEstimateRequest,
    WireOrder,
)
from billing_milestones.errors import (
    BadRequestError,
    ConfigError,
    InternalServerError,
    NotFoundError,
    ValidationError,
)

FAST = RetryPolicy(initial_delay=0.0, max_delay=0.0, jitter=0.0)
SS = "https://sandboxapi.crm.com/self-service/v2"
BO = "https://sandboxapi.crm.com/backoffice/v2"
ESTIMATE_BODY: dict[str, Any] = {
    "account_id": "acc-1",
    "supply_method": "PICK_UP",
    "delivery_method": "COURIER_SERVICE",
    "payment_method_type": "CASH",
    "items": [{"id": "prod-1", "quantity": 2}],
    "queue_id": "queue-1",
}
ESTIMATE_RESPONSE = (
    '{"id": "est-1", "order_estimate": {"queue": {"id": "queue-1", "name": "Q"}},'
    ' "milestone_plan_estimate": [{"stage": {"id": "st-1", "name": "Deposit", "colour": "#f00", "priority": 1},'
    ' "queue_percentage": 30, "percentage": 33.33, "amount": 3.33}],'
    ' "invoice_estimate": {"currency_code": "EUR", "total": 9.99}}'
)


def sent_json(route: respx.Route, n: int = -1) -> Any:
    return json.loads(route.calls[n].request.content)


# ======================================================================================================
# documented payload shapes (respx)
# ======================================================================================================
@respx.mock
def test_estimate_request_and_response_shapes() -> None:
    route = respx.post(f"{SS}/estimates/orders").mock(return_value=httpx.Response(200, text=ESTIMATE_RESPONSE))
    with CrmComClient("sk-secret-key") as client:
        estimate = client.estimates.order(
            **ESTIMATE_BODY, milestones=[MilestoneRequest(stage_id="st-1", percentage=Decimal("33.33"))]
        )
    request = route.calls[0].request
    assert request.headers["api_key"] == "sk-secret-key"
    assert "authorization" not in request.headers
    assert b'"percentage":33.33' in request.content
    assert sent_json(route) == {**ESTIMATE_BODY, "milestones": [{"stage_id": "st-1", "percentage": 33.33}]}
    assert isinstance(estimate, OrderEstimate) and estimate.id == "est-1"
    assert estimate.plan()[0].percentage == Decimal("33.33") and estimate.total == Decimal("9.99")


@respx.mock
async def test_async_estimate_request_and_response_shapes() -> None:
    route = respx.post(f"{SS}/estimates/orders").mock(return_value=httpx.Response(200, text=ESTIMATE_RESPONSE))
    async with AsyncCrmComClient(SecretStr("sk-secret-key")) as client:
        estimate = await client.estimates.order(**ESTIMATE_BODY)
    assert route.calls[0].request.headers["api_key"] == "sk-secret-key"
    assert sent_json(route) == ESTIMATE_BODY
    assert estimate.plan()[0].amount == Decimal("3.33")


@respx.mock
def test_backoffice_path_and_raw_authorization() -> None:
    route = respx.get(f"{BO}/orders/o-1").mock(return_value=httpx.Response(200, json={"id": "o-1", "state": "NEW"}))
    with CrmComClient("sk", bearer_token="tok-123456", api="backoffice") as client:
        assert str(client.base_url) == BO
        assert client.orders.get("o-1").state == "NEW"
    headers = route.calls[0].request.headers
    assert headers["authorization"] == "tok-123456" and headers["api_key"] == "sk"


@respx.mock
def test_bearer_on_self_service_and_base_url_with_path() -> None:
    route = respx.get(f"{SS}/orders/o-1").mock(return_value=httpx.Response(200, json={"id": "o-1"}))
    with CrmComClient(bearer_token="tok-abcdef", base_url=SS + "/") as client:
        assert str(client.base_url) == SS
        assert client.orders.get("o-1").id == "o-1"
        for bad in ("o/1", "../o-1", "o 1", ".."):  # never reaches the server, however well quoted
            with pytest.raises(ValidationError, match="is not an id"):
                client.orders.get(bad)
    assert len(route.calls) == 1
    assert route.calls[0].request.headers["authorization"] == "Bearer tok-abcdef"
    assert "api_key" not in route.calls[0].request.headers


def test_unknown_api_is_refused() -> None:
    with pytest.raises(ValidationError, match="backoffice"):
        CrmComClient("sk", api="admin")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("milestones", "field"),
    [
        ([{"percentage": Decimal(10)}], "milestones[0].stage_id"),
        ([{"stage_id": "a", "percentage": Decimal(10), "amount": Decimal(1)}], "milestones[0]"),
        ([{"stage_id": "a"}], "milestones[0]"),
        ([{"stage_id": "a", "amount": Decimal(-1)}], "milestones[0].amount"),
        (
            [{"stage_id": "a", "percentage": Decimal(60)}, {"stage_id": "b", "percentage": Decimal(41)}],
            "milestones[1].percentage",
        ),
        (
            [{"stage_id": "a", "percentage": Decimal(1)}, {"stage_id": "a", "amount": Decimal(1)}],
            "milestones[1].stage_id",
        ),
    ],
)
@respx.mock
def test_rule_violations_are_caught_before_sending(milestones: list[dict[str, Any]], field: str) -> None:
    route = respx.post(f"{SS}/estimates/orders").mock(return_value=httpx.Response(200, text=ESTIMATE_RESPONSE))
    with CrmComClient("sk") as client, pytest.raises(ValidationError) as info:
        client.estimates.order(**ESTIMATE_BODY, milestones=milestones)
    assert info.value.field == field
    assert not route.called


@respx.mock
async def test_async_rule_violation_is_caught_before_sending() -> None:
    route = respx.post(f"{SS}/estimates/orders").mock(return_value=httpx.Response(200, text=ESTIMATE_RESPONSE))
    async with AsyncCrmComClient("sk") as client:
        with pytest.raises(ValidationError, match="stage 'a'"):
            await client.estimates.order(**ESTIMATE_BODY, milestones=[{"stage_id": "a", "amount": Decimal("-1")}])
    assert not route.called


@respx.mock
def test_bad_input_is_our_validation_error() -> None:
    with CrmComClient("sk") as client:
        with pytest.raises(ValidationError, match="items") as info:
            client.estimates.order(
                account_id="a", supply_method="PICK_UP", delivery_method="X", payment_method_type="CASH"
            )
        assert info.value.field == "items"
        with pytest.raises(ValidationError, match="not both"):
            client.estimates.order(OrderEstimateRequest(**ESTIMATE_BODY), account_id="b")
        with pytest.raises(ValidationError, match="size"):
            list(client.orders.list_for_contact("c", size=101))
        with pytest.raises(ValidationError, match="contact_id"):
            list(client.orders.list_for_contact(""))
        with pytest.raises(ValidationError, match="payments"):
            client.orders.submit("est", payments=[])


@respx.mock
def test_error_body_becomes_a_typed_error() -> None:
    body = {
        "status": 400,
        "message": "Milestone amounts exceed total",
        "error": "INVALID",
        "parameters": {"field": "milestones"},
    }
    respx.post(f"{SS}/estimates/orders").mock(
        return_value=httpx.Response(400, json=body, headers={"x-request-id": "r-1"})
    )
    with CrmComClient("sk") as client, pytest.raises(BadRequestError) as info:
        client.estimates.order(**ESTIMATE_BODY)
    err = info.value
    assert err.messages == ("Milestone amounts exceed total", "INVALID")
    assert err.status_code == 400 and err.request_id == "r-1" and err.platform == "crmcom"
    assert err.path == "/self-service/v2/estimates/orders" and err.body == body


@respx.mock
def test_raw_text_error_body_falls_back() -> None:
    respx.get(f"{SS}/orders/x").mock(return_value=httpx.Response(404, text="no such order"))
    with CrmComClient("sk") as client, pytest.raises(NotFoundError) as info:
        client.orders.get("x")
    assert info.value.messages == ("no such order",)


@respx.mock
def test_estimates_are_retried_but_submit_is_not() -> None:
    estimate = respx.post(f"{SS}/estimates/orders").mock(
        side_effect=[httpx.Response(502, text="bad gateway"), httpx.Response(200, text=ESTIMATE_RESPONSE)]
    )
    submit = respx.post(f"{SS}/orders").mock(return_value=httpx.Response(502, text="bad gateway"))
    with CrmComClient("sk", bearer_token="tok-1234", retry_policy=FAST) as client:
        assert client.estimates.order(**ESTIMATE_BODY).id == "est-1"
        with pytest.raises(InternalServerError):
            client.orders.submit("est-1", payments=[{"payment_method_type": "CASH"}])
    assert estimate.call_count == 2
    assert submit.call_count == 1
    assert sent_json(submit) == {"estimation_id": "est-1", "payments": [{"payment_method_type": "CASH"}]}


@respx.mock
def test_authenticate_contact_then_bearer_and_no_leak(caplog: pytest.LogCaptureFixture) -> None:
    auth = respx.post(f"{SS}/contacts/authenticate").mock(
        return_value=httpx.Response(
            200,
            json={
                "access_token": "at-0001-secret",
                "refresh_token": "rt-0001-secret",
                "expiration_date": int(time.time()) + 3600,
            },
        )
    )
    get = respx.get(f"{SS}/orders/o1").mock(return_value=httpx.Response(200, json={"id": "o1"}))
    caplog.set_level(logging.DEBUG, logger="billing_milestones")
    with CrmComClient("sk-secret") as client:
        token = client.authenticate_contact("pk-public", "EMAIL", username="ada@example.com", password="pw-very-secret")
        client.orders.get("o1")
    login = auth.calls[0].request
    assert login.headers["api_key"] == "pk-public" and "authorization" not in login.headers
    assert json.loads(login.content) == {
        "provider": "EMAIL",
        "username": "ada@example.com",
        "password": "pw-very-secret",
    }
    assert get.calls[0].request.headers["authorization"] == "Bearer at-0001-secret"
    assert get.calls[0].request.headers["api_key"] == "sk-secret"
    assert "at-0001-secret" not in repr(token)
    assert "at-0001-secret" not in caplog.text and "pw-very-secret" not in caplog.text


@respx.mock
def test_expired_token_is_refreshed_before_the_request() -> None:
    refresh = respx.post(f"{SS}/contacts/refresh").mock(
        return_value=httpx.Response(
            200,
            json={
                "access_token": "at-new-0002",
                "refresh_token": "rt-new-0002",
                "expiration_date": int(time.time()) + 3600,
            },
        )
    )
    get = respx.get(f"{SS}/orders/o1").mock(return_value=httpx.Response(200, json={"id": "o1"}))
    with CrmComClient(
        bearer_token="at-old-0001", refresh_token="rt-old-0001", token_expires_at=int(time.time()) - 1
    ) as client:
        client.orders.get("o1")
        client.orders.get("o1")
        assert client.token_expires_at is not None and client.token_expires_at > time.time()
    assert refresh.call_count == 1
    assert refresh.calls[0].request.headers["authorization"] == "Bearer rt-old-0001"
    assert [c.request.headers["authorization"] for c in get.calls] == ["Bearer at-new-0002"] * 2


@respx.mock
async def test_async_expired_token_is_refreshed() -> None:
    respx.post(f"{SS}/contacts/refresh").mock(
        return_value=httpx.Response(
            200, json={"access_token": "at-new-0003", "expiration_date": int(time.time()) + 3600}
        )
    )
    get = respx.get(f"{SS}/orders/o1").mock(return_value=httpx.Response(200, json={"id": "o1"}))
    async with AsyncCrmComClient(bearer_token="at-old", refresh_token="rt-old-0003", token_expires_at=0) as client:
        await client.orders.get("o1")
    assert get.calls[0].request.headers["authorization"] == "Bearer at-new-0003"


def test_refresh_without_a_refresh_token_and_contacts_on_backoffice() -> None:
    with CrmComClient("sk") as client, pytest.raises(ValidationError, match="refresh token"):
        client.refresh_contact_token()
    with CrmComClient("sk", api="backoffice") as client, pytest.raises(ConfigError):
        client.authenticate_contact("pk", username="a", password="b")


def _orders_page(page: int, ids: list[str], has_more: bool) -> httpx.Response:
    content = [{"id": i, "number": i.upper(), "total": Decimal("1.50"), "currency_code": "USD"} for i in ids]
    paging = {"page": page, "size": 2, "total": None, "has_more": has_more}
    return httpx.Response(200, text=dumps({"content": content, "paging": paging}))


@respx.mock
def test_contact_orders_paginate_until_has_more_is_false() -> None:
    route = respx.get(f"{SS}/contacts/c-1/orders").mock(
        side_effect=[
            _orders_page(1, ["a", "b"], True),
            _orders_page(2, ["c", "d"], True),
            _orders_page(3, ["e"], False),
        ]
    )
    with CrmComClient("sk") as client:
        orders = list(client.orders.list_for_contact("c-1", size=2, order="ASC"))
    assert [o.id for o in orders] == ["a", "b", "c", "d", "e"]
    assert all(isinstance(o, WireOrder) and o.total == Decimal("1.50") for o in orders)
    assert [dict(c.request.url.params) for c in route.calls] == [
        {"page": str(p), "size": "2", "order": "ASC"} for p in (1, 2, 3)
    ]


@respx.mock
async def test_async_contact_orders_pages() -> None:
    respx.get(f"{SS}/contacts/c-1/orders").mock(
        side_effect=[_orders_page(2, ["c", "d"], True), _orders_page(3, ["e"], False)]
    )
    async with AsyncCrmComClient("sk") as client:
        pages = [p async for p in client.orders.list_for_contact_pages("c-1", size=2, page=2)]
    assert [[o.id for o in p.items] for p in pages] == [["c", "d"], ["e"]]
    assert pages[0].next is not None and pages[1].next is None


@respx.mock
def test_with_options_shares_credentials_and_drafts() -> None:
    route = respx.post(f"{SS}/estimates/orders").mock(return_value=httpx.Response(200, text=ESTIMATE_RESPONSE))
    with CrmComClient("sk") as client:
        draft_id = client.milestones.open_draft(OrderDraft(**ESTIMATE_BODY))
        other = client.with_options(max_retries=0)
        assert other.retry_policy.max_retries == 0
        assert [m.key.id for m in other.milestones.list(draft_id) if m.key] == ["est-1:st-1"]
    assert [c.request.headers["api_key"] for c in route.calls] == ["sk", "sk"]


@respx.mock
def test_contact_orders_are_fetched_lazily() -> None:
    route = respx.get(f"{SS}/contacts/c-1/orders").mock(
        side_effect=[_orders_page(1, ["a", "b"], True), _orders_page(2, ["c"], False)]
    )
    with CrmComClient("sk") as client:
        orders = client.orders.list_for_contact("c-1", size=2)
        assert isinstance(orders, Generator)  # a generator, so it can be closed early
        assert next(orders).id == "a" and next(orders).id == "b"
        assert route.call_count == 1  # the second page is not fetched until needed
        orders.close()
    assert route.call_count == 1
