"""AutotaskClient and AsyncAutotaskClient against documented payloads (respx) and the sandbox."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import threading
from decimal import Decimal
from typing import Any

import httpx
import pytest
import respx

from billing_milestones import errors
from billing_milestones._http import RetryPolicy
from billing_milestones.autotask import AsyncAutotaskClient, AutotaskClient, F, HourlyBudget, Query
from billing_milestones.sandbox import FaultPlan, LoopbackServer
from billing_milestones.sandbox.autotask import STATUS_BILLED, STATUS_READY, AutotaskSandbox

from .conftest import FAST, make_async_client, make_client

ZONE = "https://webservices5.autotask.net/ATServicesRest/V1.0"
FIELDS = {
    "fields": [
        {
            "name": "status",
            "dataType": "integer",
            "isPickList": True,
            "picklistValues": [
                {"value": "1", "label": "Not Ready to Bill", "isDefaultValue": True},
                {"value": "2", "label": "Ready to Bill", "isDefaultValue": False},
                {"value": "3", "label": "Billed", "isDefaultValue": False},
            ],
        }
    ]
}


def rec(mid: int, **over: Any) -> dict[str, Any]:
    base = {
        "id": mid,
        "contractID": 7,
        "title": f"M{mid}",
        "amount": 100.25,
        "dateDue": "2026-01-31T00:00:00",
        "status": 1,
        "isInitialPayment": False,
    }
    base.update(over)
    return base


def page(items: list[dict[str, Any]], next_url: str | None = None) -> dict[str, Any]:
    return {
        "items": items,
        "pageDetails": {"count": len(items), "requestCount": 500, "prevPageUrl": None, "nextPageUrl": next_url},
    }


def respx_client(**kwargs: Any) -> AutotaskClient:
    kwargs.setdefault("retry_policy", FAST)
    return AutotaskClient("api@x.test", "s3cret-value", "INTEGRATIONCODE", base_url=ZONE, currency="USD", **kwargs)


def seed_many(sandbox: AutotaskSandbox, n: int) -> int:
    cid = sandbox.add_contract()
    for i in range(n):
        sandbox.add_milestone(cid, title=f"M{i}", amount=f"{i}.25")
    return cid


# -- documented payload shapes (respx) --------------------------------------------------------------
@respx.mock
def test_query_posts_filter_and_replays_next_page_with_post_and_same_body() -> None:
    next_url = f"{ZONE}/ContractMilestones/query/next?paging=%7B%22lastId%22%3A2%7D"
    first = respx.post(f"{ZONE}/ContractMilestones/query").mock(
        return_value=httpx.Response(200, content=json.dumps(page([rec(1), rec(2)], next_url)).encode())
    )
    second = respx.post(next_url).mock(return_value=httpx.Response(200, json=page([rec(3)])))
    with respx_client() as client:
        items = list(client.contract_milestones.query(F.eq("contractID", 7) & F.gte("dateDue", dt.date(2026, 1, 1))))
    assert [i.id for i in items] == [1, 2, 3]
    assert items[0].amount == Decimal("100.25")
    body = json.loads(first.calls[0].request.content)
    assert body == {
        "filter": [
            {
                "op": "and",
                "items": [
                    {"op": "eq", "field": "contractID", "value": 7},
                    {"op": "gte", "field": "dateDue", "value": "2026-01-01"},
                ],
            }
        ],
        "MaxRecords": 500,
    }
    assert second.calls[0].request.method == "POST"
    assert json.loads(second.calls[0].request.content) == body
    headers = first.calls[0].request.headers
    assert headers["ApiIntegrationCode"] == "INTEGRATIONCODE" and headers["UserName"] == "api@x.test"
    assert headers["Secret"] == "s3cret-value" and headers["Content-Type"] == "application/json"
    assert "ImpersonationResourceId" not in headers


@respx.mock
def test_credentials_never_sent_to_a_foreign_next_page_host() -> None:
    evil = respx.post(url__startswith="https://evil.example").mock(return_value=httpx.Response(200, json=page([])))
    respx.post(f"{ZONE}/ContractMilestones/query").mock(
        return_value=httpx.Response(200, json=page([rec(1)], "https://evil.example/ATServicesRest/V1.0/next"))
    )
    with respx_client() as client:
        it = client.contract_milestones.query()
        assert next(it).id == 1
        with pytest.raises(errors.PaginationError, match=r"evil\.example"):
            next(it)
    assert not evil.called


@respx.mock
def test_impersonation_header_and_count() -> None:
    route = respx.post(f"{ZONE}/ContractMilestones/query/count").mock(
        return_value=httpx.Response(200, json={"queryCount": 1200})
    )
    with respx_client(impersonation_resource_id=29682885) as client:
        assert client.contract_milestones.count(Query(F.eq("contractID", 7), max_records=10)) == 1200
    request = route.calls[0].request
    assert request.headers["ImpersonationResourceId"] == "29682885"
    assert json.loads(request.content) == {"filter": [{"op": "eq", "field": "contractID", "value": 7}]}


@respx.mock
def test_get_null_item_is_not_found() -> None:
    respx.get(f"{ZONE}/ContractMilestones/5").mock(return_value=httpx.Response(200, json={"item": None}))
    with respx_client() as client, pytest.raises(errors.NotFoundError, match="item: null"):
        client.contract_milestones.get(5)


@respx.mock
def test_500_validation_error_raised_once_with_messages() -> None:
    respx.get(f"{ZONE}/ContractMilestones/entityInformation/fields").mock(return_value=httpx.Response(200, json=FIELDS))
    route = respx.post(f"{ZONE}/Contracts/7/Milestones").mock(
        return_value=httpx.Response(
            500, json={"errors": ["Value does not reference an existing entity for billingCodeID"]}
        )
    )
    with respx_client() as client, pytest.raises(errors.InternalServerError) as info:
        client.contract_milestones.create(7, title="A", amount="1.00", date_due=dt.date(2026, 1, 1), billing_code_id=9)
    assert route.call_count == 1
    assert info.value.messages == ("Value does not reference an existing entity for billingCodeID",)
    assert info.value.retries_taken == 0
    sent = json.loads(route.calls[0].request.content)
    assert sent == {
        "contractID": 7,
        "title": "A",
        "amount": 1.00,
        "dateDue": "2026-01-01T00:00:00",
        "isInitialPayment": False,
        "description": None,
        "billingCodeID": 9,
        "status": 1,
    }
    assert b'"amount":1.00' in route.calls[0].request.content  # exact digits, no float


@respx.mock
def test_thread_threshold_as_500_is_retried_even_for_post() -> None:
    respx.get(f"{ZONE}/ContractMilestones/entityInformation/fields").mock(return_value=httpx.Response(200, json=FIELDS))
    threshold = {
        "errors": ["Thread Threshold Exceeded - The Autotask API thread threshold of 3 threads has been exceeded."]
    }
    route = respx.post(f"{ZONE}/Contracts/7/Milestones").mock(
        side_effect=[httpx.Response(500, json=threshold), httpx.Response(200, json={"itemId": 44})]
    )
    with respx_client() as client:
        assert client.contract_milestones.create(7, title="A", amount=1, date_due=dt.date(2026, 1, 1)) == 44
    assert route.call_count == 2


@respx.mock
def test_429_retried_then_rate_limit_error_when_retries_run_out() -> None:
    route = respx.get(f"{ZONE}/ContractMilestones/5").mock(
        return_value=httpx.Response(429, json={"errors": ["Request threshold exceeded"]})
    )
    with respx_client() as client, pytest.raises(errors.RateLimitError):
        client.contract_milestones.get(5)
    assert route.call_count == 3


@respx.mock
def test_permission_failure_sent_as_500() -> None:
    respx.get(f"{ZONE}/ContractMilestones/5").mock(
        return_value=httpx.Response(
            500, json={"errors": ["The logged in Resource does not have the adequate permissions to query."]}
        )
    )
    with respx_client() as client, pytest.raises(errors.PermissionDeniedError, match="adequate permissions"):
        client.contract_milestones.get(5)


@respx.mock
def test_hourly_budget_refuses_before_sending() -> None:
    now = [1000.0]
    route = respx.get(f"{ZONE}/ThresholdInformation").mock(
        return_value=httpx.Response(
            200,
            json={
                "externalRequestThreshold": 10000,
                "requestThresholdTimeframe": 60,
                "currentTimeframeRequestCount": 3,
            },
        )
    )
    with respx_client(hourly_budget=HourlyBudget(2, clock=lambda: now[0])) as client:
        client.threshold_information()
        now[0] += 600
        assert client.threshold_information().current_timeframe_request_count == 3
        with pytest.raises(errors.RateLimitError, match="hourly budget") as info:
            client.threshold_information()
        assert info.value.retry_after == pytest.approx(3000.0)
        now[0] += 3001
        client.threshold_information()
    assert route.call_count == 3


def test_delete_is_refused_without_a_request(client: AutotaskClient, sandbox: AutotaskSandbox) -> None:
    before = len(sandbox.request_log)
    with pytest.raises(errors.UnsupportedOperationError, match="does not allow deleting contract milestones"):
        client.contract_milestones.delete(1)
    assert len(sandbox.request_log) == before


# -- sandbox: sync ----------------------------------------------------------------------------------
def test_1200_milestones_in_exactly_three_pages(sandbox: AutotaskSandbox) -> None:
    cid = seed_many(sandbox, 1200)
    with make_client(sandbox) as client:
        pages = list(client.contract_milestones.query_pages(F.eq("contractID", cid)))
        assert [len(p.items) for p in pages] == [500, 500, 200]
        ids = [m.id for p in pages for m in p.items]
        assert ids == sorted(ids) and len(set(ids)) == 1200  # type: ignore[type-var]
        before = sandbox.count_requests(path_regex=r"(?i)/ContractMilestones/query")
        assert sum(1 for _ in client.contract_milestones.query(F.eq("contractID", cid))) == 1200
        assert sandbox.count_requests(path_regex=r"(?i)/ContractMilestones/query") - before == 3
        assert sandbox.count_requests("POST", r"/query/next$") == 4


def test_create_get_update_round_trip(client: AutotaskClient, sandbox: AutotaskSandbox) -> None:
    cid = sandbox.add_contract()
    new_id = client.contract_milestones.create(
        cid, title="Kick-off", amount=Decimal("2500.10"), date_due=dt.date(2026, 2, 1), status="Ready to Bill"
    )
    got = client.contract_milestones.get(new_id)
    assert got.title == "Kick-off" and got.amount == Decimal("2500.10") and got.status == STATUS_READY
    assert client.contract_milestones.update(cid, new_id, amount="2600.00", description="moved") == new_id
    got = client.contract_milestones.get(new_id)
    assert got.amount == Decimal("2600.00") and got.description == "moved" and got.title == "Kick-off"
    patch = [e for e in sandbox.request_log if e.method == "PATCH"]
    assert len(patch) == 1


def test_picklist_fetched_once_per_client(client: AutotaskClient, sandbox: AutotaskSandbox) -> None:
    cid = sandbox.add_contract()
    for i in range(3):
        client.contract_milestones.create(cid, title=f"M{i}", amount=1, date_due=dt.date(2026, 1, 1))
    assert client.contract_milestones.status_picklist().labels[3] == "Billed"
    assert sandbox.count_requests("GET", r"(?i)entityInformation/fields") == 1


def test_checks_before_sending(client: AutotaskClient, sandbox: AutotaskSandbox) -> None:
    ids = sandbox.seed_demo()
    client.contract_milestones.status_picklist()
    sent = len(sandbox.request_log)
    cm = client.contract_milestones
    with pytest.raises(errors.ValidationError, match="title") as info:
        cm.create(ids["usd_contract"], title="x" * 51, amount=1, date_due=dt.date(2026, 1, 1))
    assert info.value.field == "title"
    with pytest.raises(errors.ValidationError) as info:
        cm.create(ids["usd_contract"], title="x", description="d" * 251, amount=1, date_due=dt.date(2026, 1, 1))
    assert info.value.field == "description"
    with pytest.raises(errors.ValidationError, match="initial-payment") as info:
        cm.create(ids["usd_contract"], title="x", amount=1, date_due=dt.date(2026, 1, 1), status="Billed")
    assert info.value.field == "status"
    with pytest.raises(errors.ValidationError, match="float"):
        cm.create(ids["usd_contract"], title="x", amount=1.5, date_due=dt.date(2026, 1, 1))
    with pytest.raises(errors.ValidationError, match="read-only"):
        cm.update(ids["usd_contract"], ids["design"], current=cm.get(ids["design"]), contract_id=5)  # type: ignore[call-arg]
    assert len(sandbox.request_log) == sent + 1  # only the get() above


def test_billed_milestone_is_locked(client: AutotaskClient, sandbox: AutotaskSandbox) -> None:
    ids = sandbox.seed_demo()
    sandbox.bill(ids["design"])
    with pytest.raises(errors.ValidationError, match="locked") as info:
        client.contract_milestones.update(ids["usd_contract"], ids["design"], title="new")
    assert info.value.field == "status"
    assert sandbox.count_requests("PATCH") == 0


def test_server_side_500_not_retried(client: AutotaskClient, sandbox: AutotaskSandbox) -> None:
    ids = sandbox.seed_demo()
    with pytest.raises(errors.InternalServerError) as info:
        client.contract_milestones.create(ids["tm_contract"], title="x", amount=1, date_due=dt.date(2026, 1, 1))
    assert "Fixed Price" in info.value.messages[0]
    assert sandbox.count_requests("POST", r"/Milestones$") == 1


@pytest.mark.sync_only  # threads share one client
def test_fourth_concurrent_request_waits(sandbox: AutotaskSandbox) -> None:
    sandbox.faults = FaultPlan().latency(0.05, path=r"(?i)^/ContractMilestones/\d+$")
    ids = sandbox.seed_demo()
    failures: list[BaseException] = []
    with make_client(sandbox, max_retries=0) as client:
        client.contract_milestones.get(ids["design"])  # discover the zone first

        def work() -> None:
            try:
                client.contract_milestones.get(ids["design"])
            except BaseException as exc:  # pragma: no cover - reported below
                failures.append(exc)

        threads = [threading.Thread(target=work) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert failures == []
    assert sandbox.max_in_flight["contractmilestones"] == 3
    assert sandbox.thread_threshold_errors == 0


@pytest.mark.sync_only  # threads share one client
def test_without_the_limit_the_sandbox_refuses_and_the_client_retries(sandbox: AutotaskSandbox) -> None:
    """Shows the previous test can fail: more client threads than Autotask allows hit the threshold."""
    sandbox.thread_limit_status = 500
    sandbox.faults = FaultPlan().latency(0.05, path=r"(?i)^/ContractMilestones/\d+$")
    ids = sandbox.seed_demo()
    patient = RetryPolicy(max_retries=20, initial_delay=0.01, max_delay=0.05)
    with make_client(sandbox, max_threads=8, max_retries=20, retry_policy=patient) as client:
        client.contract_milestones.get(ids["design"])
        threads = [threading.Thread(target=client.contract_milestones.get, args=(ids["design"],)) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert sandbox.max_in_flight["contractmilestones"] > 3
    assert sandbox.thread_threshold_errors > 0


def test_loopback_round_trip() -> None:
    sandbox = AutotaskSandbox()
    ids = sandbox.seed_demo()
    with LoopbackServer(sandbox.asgi_app()) as server:
        client = AutotaskClient(
            sandbox.USERNAME, sandbox.SECRET, sandbox.INTEGRATION_CODE, discovery_url=server.url, currency="USD"
        )
        with client:
            assert str(client.zone_information().url) == f"{server.url}/ATServicesRest/"
            titles = [m.title for m in client.contract_milestones.query(F.eq("contractID", ids["usd_contract"]))]
            assert titles == ["Deposit", "Design sign-off", "Launch"]
            assert str(client.base_url) == f"{server.url}/ATServicesRest/V1.0"


# -- sandbox: async ---------------------------------------------------------------------------------
async def test_async_1200_in_three_pages(sandbox: AutotaskSandbox) -> None:
    cid = seed_many(sandbox, 1200)
    async with make_async_client(sandbox) as client:
        sizes = [len(p.items) async for p in client.contract_milestones.query_pages(F.eq("contractID", cid))]
        assert sizes == [500, 500, 200]
        n = 0
        async for item in client.contract_milestones.query(F.eq("contractID", cid) & F.gt("amount", Decimal(599))):
            assert item.amount is not None and item.amount > 599
            n += 1
        assert n == 601  # 599.25 .. 1199.25
        assert await client.contract_milestones.count(F.eq("contractID", cid)) == 1200


async def test_async_crud_and_errors(aclient: AsyncAutotaskClient, sandbox: AutotaskSandbox) -> None:
    ids = sandbox.seed_demo()
    cm = aclient.contract_milestones
    new_id = await cm.create(ids["usd_contract"], title="A", amount="10.00", date_due=dt.date(2026, 5, 1))
    assert (await cm.get(new_id)).title == "A"
    assert await cm.update(ids["usd_contract"], new_id, title="B") == new_id
    assert (await cm.get(new_id)).title == "B"
    with pytest.raises(errors.NotFoundError):
        await cm.get(999)
    with pytest.raises(errors.InternalServerError):
        await cm.create(ids["tm_contract"], title="x", amount=1, date_due=dt.date(2026, 1, 1))
    assert sandbox.count_requests("POST", rf"/Contracts/{ids['tm_contract']}/Milestones$") == 1
    sandbox.bill(new_id)
    with pytest.raises(errors.ValidationError, match="locked"):
        await cm.update(ids["usd_contract"], new_id, title="C")
    with pytest.raises(errors.UnsupportedOperationError):
        await cm.delete(new_id)
    threshold = await aclient.threshold_information()
    assert threshold.external_request_threshold == 10_000


async def test_async_fourth_concurrent_request_waits(sandbox: AutotaskSandbox) -> None:
    sandbox.faults = FaultPlan().latency(0.05, path=r"(?i)^/ContractMilestones/\d+$")
    ids = sandbox.seed_demo()
    async with make_async_client(sandbox, max_retries=0) as client:
        results = await asyncio.gather(*(client.contract_milestones.get(ids["design"]) for _ in range(9)))
    assert all(r.id == ids["design"] for r in results)
    assert sandbox.max_in_flight["contractmilestones"] == 3
    assert sandbox.thread_threshold_errors == 0


async def test_async_loopback_round_trip() -> None:
    sandbox = AutotaskSandbox()
    ids = sandbox.seed_demo()
    with LoopbackServer(sandbox.asgi_app()) as server:
        async with AsyncAutotaskClient(
            sandbox.USERNAME, sandbox.SECRET, sandbox.INTEGRATION_CODE, base_url=f"{server.url}/ATServicesRest/V1.0"
        ) as client:
            assert (await client.contract_milestones.get(ids["launch"])).status == STATUS_READY
            deposit = await client.contract_milestones.get(ids["deposit"])
            assert deposit.status == STATUS_BILLED and deposit.is_initial_payment
