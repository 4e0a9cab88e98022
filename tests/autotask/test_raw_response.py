"""``contract_milestones.with_raw_response``: every native method's raw twin, blocking and asyncio, on the
in-process sandbox (each response stamped with its own request id, see ``tests/_request_ids.py``)."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator, Iterator
from decimal import Decimal

import httpx
import pytest

from billing_milestones import AsyncRawResponse, RawResponse, errors
from billing_milestones.autotask import AsyncAutotaskClient, AutotaskClient, F
from billing_milestones.autotask.wire import ContractMilestone
from billing_milestones.sandbox import FaultPlan
from billing_milestones.sandbox.autotask import AutotaskSandbox

from .._request_ids import RequestIds
from .conftest import FAST

QUERY = r"(?i)/ContractMilestones/query"


@pytest.fixture
def ids(sandbox: AutotaskSandbox) -> RequestIds:
    return RequestIds(sandbox.transport())


@pytest.fixture
def raw_client(sandbox: AutotaskSandbox, ids: RequestIds) -> Iterator[AutotaskClient]:
    http = httpx.Client(transport=ids)
    with AutotaskClient(
        sandbox.USERNAME, sandbox.SECRET, sandbox.INTEGRATION_CODE, http_client=http, retry_policy=FAST, currency="USD"
    ) as client:
        yield client


@pytest.fixture
async def raw_aclient(sandbox: AutotaskSandbox, ids: RequestIds) -> AsyncIterator[AsyncAutotaskClient]:
    http = httpx.AsyncClient(transport=ids)
    async with AsyncAutotaskClient(
        sandbox.USERNAME, sandbox.SECRET, sandbox.INTEGRATION_CODE, http_client=http, retry_policy=FAST, currency="USD"
    ) as client:
        yield client


def seed(sandbox: AutotaskSandbox, n: int) -> int:
    cid = sandbox.add_contract()
    for i in range(n):
        sandbox.add_milestone(cid, title=f"M{i}", amount=f"{i}.25")
    return cid


# -- blocking -----------------------------------------------------------------------------------------
def test_get_raw_has_the_response_and_parses_to_the_plain_result(
    raw_client: AutotaskClient, sandbox: AutotaskSandbox, ids: RequestIds
) -> None:
    mid = sandbox.add_milestone(sandbox.add_contract(), title="Kick-off", amount="12.50")
    raw: RawResponse[ContractMilestone] = raw_client.contract_milestones.with_raw_response.get(mid)
    assert raw.status_code == 200 and raw.retries_taken == 0 and raw.platform == "autotask"
    assert raw.request_id == ids.issued[-1] == raw.headers["x-request-id"]
    assert raw.method == "GET" and raw.http_request.url.path.endswith(f"/ContractMilestones/{mid}")
    assert raw.http_response.json()["item"]["id"] == mid == raw.json()["item"]["id"]
    got = raw.parse()
    assert isinstance(got, ContractMilestone) and got.id == mid and got.amount == Decimal("12.50")
    assert got.model_dump() == raw_client.contract_milestones.get(mid).model_dump()
    assert got.response_info is not None and got.response_info.request_id == raw.request_id


def test_the_first_call_includes_zone_discovery_and_describes_the_last_response(
    raw_client: AutotaskClient, sandbox: AutotaskSandbox
) -> None:
    mid = sandbox.add_milestone(sandbox.add_contract())
    raw = raw_client.contract_milestones.with_raw_response.get(mid)
    paths = [r.http.request.url.path for r in raw.responses]
    assert paths[0].endswith("/zoneInformation") and paths[-1].endswith(f"/ContractMilestones/{mid}")
    assert raw.api_response is raw.responses[-1]
    # Later calls record only their own responses.
    assert len(raw_client.contract_milestones.with_raw_response.get(mid).responses) == 1


def test_query_raw_is_the_first_page_and_later_pages_stay_lazy(
    raw_client: AutotaskClient, sandbox: AutotaskSandbox
) -> None:
    cid = seed(sandbox, 1200)
    raw = raw_client.contract_milestones.with_raw_response.query(F.eq("contractID", cid))
    assert sandbox.count_requests(path_regex=QUERY) == 1  # fetched before anything is read
    assert raw.method == "POST" and raw.url.path.endswith("/ContractMilestones/query")
    assert len(raw.json()["items"]) == 500
    items = raw.parse()
    assert raw.parse() is items
    assert [m.title for m in items] == [f"M{i}" for i in range(1200)]
    assert sandbox.count_requests(path_regex=QUERY) == 3


def test_query_pages_raw_and_an_empty_listing(raw_client: AutotaskClient, sandbox: AutotaskSandbox) -> None:
    cid = seed(sandbox, 3)
    pages = raw_client.contract_milestones.with_raw_response.query_pages(F.eq("contractID", cid))
    assert [len(p.items) for p in pages.parse()] == [3]
    empty = raw_client.contract_milestones.with_raw_response.query(F.eq("contractID", sandbox.add_contract()))
    assert empty.status_code == 200 and list(empty.parse()) == []


def test_count_create_update_fields(raw_client: AutotaskClient, sandbox: AutotaskSandbox) -> None:
    cid = sandbox.add_contract()
    raw_ms = raw_client.contract_milestones.with_raw_response
    created = raw_ms.create(cid, title="Go-live", amount="9.99", date_due=dt.date(2026, 5, 1))
    new_id = created.parse()
    assert created.method == "POST" and created.url.path.endswith(f"/Contracts/{cid}/Milestones")
    assert raw_client.contract_milestones.get(new_id).title == "Go-live"
    updated = raw_ms.update(cid, new_id, title="Go live")
    assert updated.method == "PATCH" and updated.parse() == new_id
    assert raw_ms.count(F.eq("contractID", cid)).parse() == 1
    assert raw_ms.fields().parse().fields


def test_a_cached_answer_has_no_raw_response_unless_refreshed(raw_client: AutotaskClient) -> None:
    raw_ms = raw_client.contract_milestones.with_raw_response
    assert raw_ms.status_picklist().url.path.endswith("/entityInformation/fields")
    with pytest.raises(errors.RequestNotSentError, match="refresh=True"):
        raw_ms.status_picklist()
    assert raw_ms.status_picklist(refresh=True).parse().labels


def test_errors_and_refusals_are_raised_as_by_the_plain_call(
    raw_client: AutotaskClient, sandbox: AutotaskSandbox
) -> None:
    raw_ms = raw_client.contract_milestones.with_raw_response
    with pytest.raises(errors.NotFoundError):
        raw_ms.get(424242)
    raw_client.contract_milestones.status_picklist()  # read once per client, before a create's checks
    before = len(sandbox.request_log)
    with pytest.raises(errors.UnsupportedOperationError):
        raw_ms.delete(1)
    with pytest.raises(errors.ValidationError, match="title"):
        raw_ms.create(sandbox.add_contract(), title="x" * 51, amount=1, date_due=dt.date(2026, 1, 1))
    assert len(sandbox.request_log) == before


def test_retries_taken_and_a_repr_without_secrets(raw_client: AutotaskClient, sandbox: AutotaskSandbox) -> None:
    mid = sandbox.add_milestone(sandbox.add_contract())
    raw_client.contract_milestones.get(mid)  # zone discovery out of the way
    sandbox.faults = FaultPlan().status(503, times=1, method="GET")
    raw = raw_client.contract_milestones.with_raw_response.get(mid)
    assert raw.retries_taken == 1 and raw.status_code == 200
    text = repr(raw)
    assert text.startswith("<RawResponse [200] GET ") and f"/ContractMilestones/{mid}" in text
    assert sandbox.SECRET not in text and sandbox.INTEGRATION_CODE not in text


def test_the_cached_wrapper_is_one_per_resource(raw_client: AutotaskClient) -> None:
    resource = raw_client.contract_milestones
    assert resource.with_raw_response is resource.with_raw_response


# -- asyncio ------------------------------------------------------------------------------------------
async def test_async_get_and_query(raw_aclient: AsyncAutotaskClient, sandbox: AutotaskSandbox, ids: RequestIds) -> None:
    cid = seed(sandbox, 700)
    raw_ms = raw_aclient.contract_milestones.with_raw_response
    listing: AsyncRawResponse[AsyncIterator[ContractMilestone]] = await raw_ms.query(F.eq("contractID", cid))
    assert sandbox.count_requests(path_regex=QUERY) == 1 and listing.request_id == ids.issued[-1]
    titles = [m.title async for m in await listing.parse()]
    assert titles == [f"M{i}" for i in range(700)] and sandbox.count_requests(path_regex=QUERY) == 2
    first_id = int(listing.json()["items"][0]["id"])
    got = await raw_ms.get(first_id)
    assert got.status_code == 200 and got.request_id == ids.issued[-1]
    assert (await got.parse()).title == "M0"


async def test_async_writes_count_and_refusals(raw_aclient: AsyncAutotaskClient, sandbox: AutotaskSandbox) -> None:
    cid = sandbox.add_contract()
    raw_ms = raw_aclient.contract_milestones.with_raw_response
    created = await raw_ms.create(cid, title="Kick-off", amount=5, date_due=dt.date(2026, 1, 1))
    new_id = await created.parse()
    assert created.method == "POST" and (await (await raw_ms.update(cid, new_id, amount=6)).parse()) == new_id
    assert await (await raw_ms.count(F.eq("contractID", cid))).parse() == 1
    pages = await raw_ms.query_pages(F.eq("contractID", cid))
    assert [len(p.items) async for p in await pages.parse()] == [1]
    assert (await (await raw_ms.fields()).parse()).fields
    with pytest.raises(errors.RequestNotSentError):
        await raw_ms.status_picklist()
    with pytest.raises(errors.UnsupportedOperationError):
        await raw_ms.delete(new_id)


async def test_concurrent_raw_calls_each_see_only_their_own_response(
    raw_aclient: AsyncAutotaskClient, sandbox: AutotaskSandbox
) -> None:
    cid = sandbox.add_contract()
    mids = [sandbox.add_milestone(cid, title=f"M{i}") for i in range(8)]
    await raw_aclient.contract_milestones.get(mids[0])  # zone discovery out of the way
    sandbox.faults = FaultPlan().latency(0.01, method="GET")
    raws = await asyncio.gather(*(raw_aclient.contract_milestones.with_raw_response.get(m) for m in mids))
    for mid, raw in zip(mids, raws, strict=True):
        assert len(raw.responses) == 1 and raw.url.path.endswith(f"/ContractMilestones/{mid}")
        assert (await raw.parse()).id == mid
