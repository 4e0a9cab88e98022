"""``with_raw_response`` on the crm.com resources (estimates, orders), blocking and asyncio, on the
in-process sandbox (each response stamped with its own request id)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from decimal import Decimal

import httpx
import pytest

from billing_milestones import AsyncRawResponse, RawResponse, errors
from billing_milestones.crmcom import AsyncCrmComClient, CrmComClient
from billing_milestones.crmcom.wire import OrderEstimate, WireOrder
from billing_milestones.sandbox.crmcom import CrmComSandbox, DemoSeed

from .._request_ids import RequestIds
from .conftest import FAST, DraftFactory

CASH = [{"payment_method_type": "CASH"}]
ORDERS = r"/contacts/[^/]+/orders$"


@pytest.fixture
def ids(sandbox: CrmComSandbox) -> RequestIds:
    return RequestIds(sandbox.transport())


@pytest.fixture
def contact(seed: DemoSeed, ids: RequestIds) -> Iterator[CrmComClient]:
    with CrmComClient(seed.secret_key, http_client=httpx.Client(transport=ids), retry_policy=FAST) as c:
        c.authenticate_contact(seed.public_key, username=seed.email, password=seed.password)
        yield c


@pytest.fixture
async def acontact(seed: DemoSeed, ids: RequestIds) -> AsyncIterator[AsyncCrmComClient]:
    http = httpx.AsyncClient(transport=ids)
    async with AsyncCrmComClient(seed.secret_key, http_client=http, retry_policy=FAST) as c:
        await c.authenticate_contact(seed.public_key, username=seed.email, password=seed.password)
        yield c


def test_estimate_raw(contact: CrmComClient, make_draft: DraftFactory, ids: RequestIds) -> None:
    raw: RawResponse[OrderEstimate] = contact.estimates.with_raw_response.order(make_draft("USD", quantity=3))
    assert raw.status_code == 200 and raw.method == "POST" and raw.url.path.endswith("/estimates/orders")
    assert raw.request_id == ids.issued[-1] == raw.headers["x-request-id"] and raw.platform == "crmcom"
    estimate = raw.parse()
    assert estimate.total == Decimal("59.97") and raw.json()["id"] == estimate.id
    assert estimate.response_info is not None and estimate.response_info.request_id == raw.request_id


def test_submit_get_and_list_raw(
    contact: CrmComClient, make_draft: DraftFactory, seed: DemoSeed, sandbox: CrmComSandbox
) -> None:
    orders = contact.orders.with_raw_response
    created_ids = []
    for _ in range(3):
        estimate = contact.estimates.order(make_draft("JPY"))
        submitted = orders.submit(estimate.id or "", payments=CASH)
        assert submitted.method == "POST" and submitted.url.path.endswith("/orders")
        created_ids.append(submitted.parse().id)
    got: RawResponse[WireOrder] = orders.get(created_ids[0])
    assert got.method == "GET" and got.parse().id == created_ids[0]
    before = sandbox.count_requests("GET", ORDERS)
    listing = orders.list_for_contact(seed.contact_id, size=2)
    assert sandbox.count_requests("GET", ORDERS) - before == 1  # the first page, before anything is read
    assert listing.url.params["size"] == "2" and len(listing.json()["content"]) == 2
    assert sorted(o.id for o in listing.parse()) == sorted(created_ids)
    assert sandbox.count_requests("GET", ORDERS) - before == 2
    pages = orders.list_for_contact_pages(seed.contact_id, size=2)
    assert [len(p.items) for p in pages.parse()] == [2, 1]


def test_submit_without_a_contact_token_raises_as_the_plain_call(
    sandbox: CrmComSandbox, seed: DemoSeed, make_draft: DraftFactory
) -> None:
    with CrmComClient(seed.secret_key, http_client=sandbox.http_client(), retry_policy=FAST) as client:
        estimate = client.estimates.order(make_draft("USD"))
        with pytest.raises(errors.AuthenticationError, match="Bearer"):
            client.orders.with_raw_response.submit(estimate.id or "", payments=CASH)


async def test_async_raw(
    acontact: AsyncCrmComClient, make_draft: DraftFactory, seed: DemoSeed, ids: RequestIds
) -> None:
    estimated: AsyncRawResponse[OrderEstimate] = await acontact.estimates.with_raw_response.order(
        make_draft("KWD", quantity=1, queue="thirds")
    )
    assert estimated.request_id == ids.issued[-1]
    estimate = await estimated.parse()
    assert estimate.total == Decimal("10.005")
    orders = acontact.orders.with_raw_response
    submitted = await orders.submit(estimate.id or "", payments=CASH)
    created = await submitted.parse()
    assert submitted.method == "POST"
    got = await orders.get(created.id)
    assert got.request_id == ids.issued[-1] and (await got.parse()).total == Decimal("10.005")
    listing = await orders.list_for_contact(seed.contact_id)
    assert [o.id async for o in await listing.parse()] == [created.id]
    pages = await orders.list_for_contact_pages(seed.contact_id)
    assert [len(p.items) async for p in await pages.parse()] == [1]
