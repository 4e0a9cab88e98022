"""``with_raw_response`` on the Kantata resources (billing_milestones, workspaces, stories), blocking and
asyncio, on the in-process sandbox (each response stamped with its own request id)."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from billing_milestones import AsyncRawResponse, RawResponse, errors
from billing_milestones.kantata import AsyncKantataClient, BillingMilestone, KantataClient
from billing_milestones.kantata.wire import BillingMilestoneUpdate
from billing_milestones.sandbox.kantata import KantataSandbox

from .._request_ids import RequestIds

LISTING = r"^/billing_milestones(\.json)?$"


@pytest.fixture
def sandbox() -> KantataSandbox:
    return KantataSandbox()


@pytest.fixture
def ids(sandbox: KantataSandbox) -> RequestIds:
    return RequestIds(sandbox.transport())


@pytest.fixture
def client(ids: RequestIds) -> Iterator[KantataClient]:
    with KantataClient("tok", http_client=httpx.Client(transport=ids)) as c:
        yield c


@pytest.fixture
async def aclient(ids: RequestIds) -> AsyncIterator[AsyncKantataClient]:
    async with AsyncKantataClient("tok", http_client=httpx.AsyncClient(transport=ids)) as c:
        yield c


def workspace_with(sandbox: KantataSandbox, n: int) -> str:
    ws = sandbox.add_workspace(currency="USD")
    for i in range(n):
        sandbox.add_milestone(ws, f"M{i}", 100 + i, date_to_invoice="2026-05-01")
    return ws


# -- blocking -----------------------------------------------------------------------------------------
def test_get_raw(client: KantataClient, sandbox: KantataSandbox, ids: RequestIds) -> None:
    ws = workspace_with(sandbox, 1)
    mid = next(client.billing_milestones.list(workspace_ids=[ws])).id
    raw: RawResponse[BillingMilestone] = client.billing_milestones.with_raw_response.get(mid)
    assert raw.status_code == 200 and raw.method == "GET" and raw.platform == "kantata"
    assert raw.request_id == ids.issued[-1] == raw.headers["x-request-id"]
    assert raw.url.path.endswith(f"/billing_milestones/{mid}")
    assert mid in raw.json()["billing_milestones"]
    got = raw.parse()
    assert got.id == mid and got.title == "M0"
    assert got.response_info is not None and got.response_info.request_id == raw.request_id


def test_list_raw_is_the_first_page_and_the_rest_stays_lazy(client: KantataClient, sandbox: KantataSandbox) -> None:
    ws = workspace_with(sandbox, 450)
    raw = client.billing_milestones.with_raw_response.list(workspace_ids=[ws])
    assert sandbox.count_requests("GET", LISTING) == 1  # the first page, before anything is read
    assert raw.json()["meta"]["page_number"] == 1 and raw.url.params["page"] == "1"
    assert sorted(m.title for m in raw.parse()) == sorted(f"M{i}" for i in range(450))
    assert sandbox.count_requests("GET", LISTING) == 3
    pages = client.billing_milestones.with_raw_response.list_pages(workspace_ids=[ws])
    assert [len(p.items) for p in pages.parse()] == [200, 200, 50]


def test_writes_raw(client: KantataClient, sandbox: KantataSandbox) -> None:
    ws = sandbox.add_workspace(currency="USD")
    raw_ms = client.billing_milestones.with_raw_response
    created = raw_ms.create(workspace_id=ws, title="Kick-off", amount_in_cents=500, date_to_invoice=dt.date(2026, 3, 1))
    assert created.method == "POST" and created.status_code in (200, 201)
    mid = created.parse().id
    many = raw_ms.create_many([{"workspace_id": ws, "title": f"B{i}", "amount_in_cents": i} for i in range(150)])
    assert len(many.parse()) == 150 and len(many.responses) == 2  # 100 per POST, tied to the last one
    assert len(many.json()["results"]) == 50
    updated = raw_ms.update(mid, title="Kick off")
    assert updated.method == "PUT" and updated.parse().title == "Kick off"
    body = BillingMilestoneUpdate(amount_in_cents=600)
    assert raw_ms.update_with(mid, body).parse().amount_in_cents == 600
    deleted = raw_ms.delete(mid)
    assert deleted.method == "DELETE" and deleted.status_code in (200, 204) and deleted.parse() is None
    with pytest.raises(errors.NotFoundError):
        raw_ms.get(mid)


def test_workspaces_and_stories_raw(client: KantataClient, sandbox: KantataSandbox) -> None:
    ws = sandbox.add_workspace(currency="JPY")
    story = sandbox.add_story(ws, "Build")
    workspace = client.workspaces.with_raw_response.get(ws)
    assert workspace.url.path.endswith(f"/workspaces/{ws}") and workspace.parse().currency == "JPY"
    stories = client.stories.with_raw_response.list(workspace_id=ws)
    assert [s.id for s in stories.parse()] == [story] and stories.url.path.endswith("/stories")
    assert client.stories.with_raw_response.get(story).parse().title == "Build"


def test_an_invoiced_milestone_is_refused_unsent(client: KantataClient, sandbox: KantataSandbox) -> None:
    ws = workspace_with(sandbox, 1)
    milestone = next(client.billing_milestones.list(workspace_ids=[ws]))
    sandbox.invoice(milestone.id)
    milestone = client.billing_milestones.get(milestone.id)
    before = len(sandbox.request_log)
    with pytest.raises(errors.MilestoneInvoicedError):
        client.billing_milestones.with_raw_response.update(milestone, title="x")
    assert len(sandbox.request_log) == before


# -- asyncio ------------------------------------------------------------------------------------------
async def test_async_raw(aclient: AsyncKantataClient, sandbox: KantataSandbox, ids: RequestIds) -> None:
    ws = workspace_with(sandbox, 250)
    raw_ms = aclient.billing_milestones.with_raw_response
    listing: AsyncRawResponse[AsyncIterator[BillingMilestone]] = await raw_ms.list(workspace_ids=[ws])
    assert sandbox.count_requests("GET", LISTING) == 1 and listing.request_id == ids.issued[-1]
    items = [m async for m in await listing.parse()]
    assert len(items) == 250 and sandbox.count_requests("GET", LISTING) == 2
    got = await raw_ms.get(items[0].id)
    assert got.request_id == ids.issued[-1] and (await got.parse()).id == items[0].id
    created = await raw_ms.create(workspace_id=ws, title="New", amount_in_cents=1)
    new = await created.parse()
    assert created.method == "POST" and new.title == "New"
    many = await raw_ms.create_many([{"workspace_id": ws, "title": "x", "amount_in_cents": 1}])
    assert len(await many.parse()) == 1
    assert (await (await raw_ms.update(new.id, title="Newer")).parse()).title == "Newer"
    body = BillingMilestoneUpdate(title="Newest")
    assert (await (await raw_ms.update_with(new.id, body)).parse()).title == "Newest"
    assert (await raw_ms.delete(new.id)).method == "DELETE"
    pages = await raw_ms.list_pages(workspace_ids=[ws])
    assert [len(p.items) async for p in await pages.parse()] == [200, 51]
    story = sandbox.add_story(ws, "Task")
    assert (await (await aclient.workspaces.with_raw_response.get(ws)).parse()).id == ws
    stories = await aclient.stories.with_raw_response.list(workspace_id=ws)
    assert [s.id async for s in await stories.parse()] == [story]
    assert (await (await aclient.stories.with_raw_response.get(story)).parse()).id == story
