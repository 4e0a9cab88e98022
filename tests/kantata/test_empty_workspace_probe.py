"""A listing expected to be empty (``expect_empty``: a pair's first sync) reads the workspace with its billing
milestones side-loaded, and is that one request when the workspace has none; anything else is listed as
before. Every exchange here is also checked against Kantata's description (``conftest.py``)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest

from billing_milestones import errors
from billing_milestones.kantata import AsyncKantataClient, KantataClient
from billing_milestones.model import Milestone, Platform
from billing_milestones.money import Money
from billing_milestones.sandbox.kantata import KantataSandbox
from billing_milestones.sync import Link, LinkStore, SyncPair
from billing_milestones.sync.connect import expect_first_sync


def sent(sandbox: KantataSandbox) -> list[tuple[str, str]]:
    return [(e.method, e.path) for e in sandbox.request_log]


def test_an_empty_workspace_is_listed_and_priced_in_one_request() -> None:
    sandbox = KantataSandbox()
    workspace = str(sandbox.add_workspace("New project", currency="JPY"))
    asked: list[httpx.URL] = []
    hooks = {"request": [lambda r: asked.append(r.url)]}
    with KantataClient("tok", http_client=sandbox.http_client(event_hooks=hooks)) as client:
        client.milestones.expect_empty(workspace)
        assert list(client.milestones.stream(workspace)) == []
        assert sent(sandbox) == [("GET", f"/workspaces/{workspace}")]
        assert asked[0].params["include"] == "billing_milestones"
        # The currency that read brought prices the creates: no second workspace GET before the POST.
        [made] = client.milestones.create(workspace, [Milestone(title="Deposit", amount=Money("1500", "JPY"))])
    assert sent(sandbox)[1:] == [("POST", "/billing_milestones")]
    assert made.amount == Money("1500", "JPY")
    assert next(iter(sandbox.milestones.values()))["amount_in_cents"] == 1500  # JPY has no subunit


def test_a_workspace_with_milestones_after_all_is_listed_in_full() -> None:
    sandbox = KantataSandbox()
    workspace = str(sandbox.add_workspace("Busy project"))
    for i in range(3):
        sandbox.add_milestone(workspace, f"M{i}", 100 * i)
    with KantataClient("tok", http_client=sandbox.http_client()) as client:
        client.milestones.expect_empty(workspace)
        titles = sorted(m.title for m in client.milestones.stream(workspace))
    assert titles == ["M0", "M1", "M2"]
    assert sent(sandbox) == [("GET", f"/workspaces/{workspace}"), ("GET", "/billing_milestones")]


def _without_ids(response: httpx.Response) -> None:
    """A server that leaves the include out: no billing_milestone_ids, no side-loaded map."""
    if response.request.url.path.endswith(tuple(f"/workspaces/{n}" for n in range(1001, 1010))):
        response.read()
        body = json.loads(response.content)
        body.pop("billing_milestones", None)
        for workspace in body["workspaces"].values():
            workspace.pop("billing_milestone_ids", None)
        response._content = json.dumps(body).encode()


def test_a_workspace_read_without_its_milestone_ids_proves_nothing_and_the_listing_is_walked() -> None:
    sandbox = KantataSandbox()
    workspace = str(sandbox.add_workspace("Project"))
    sandbox.add_milestone(workspace, "Listed", 500)
    client = KantataClient("tok", http_client=sandbox.http_client(event_hooks={"response": [_without_ids]}))
    with client:
        client.milestones.expect_empty(workspace)
        assert [m.title for m in client.milestones.stream(workspace)] == ["Listed"]
    assert sent(sandbox)[-1] == ("GET", "/billing_milestones")


def test_a_missing_workspace_is_a_not_found_error_naming_it_and_nothing_else_is_sent() -> None:
    sandbox = KantataSandbox()
    with KantataClient("tok", http_client=sandbox.http_client()) as client:
        client.milestones.expect_empty("424242")
        with pytest.raises(errors.NotFoundError, match="workspace 424242 does not exist"):
            list(client.milestones.stream("424242"))
    assert sent(sandbox) == [("GET", "/workspaces/424242")]


def test_the_hint_serves_the_next_listing_only() -> None:
    sandbox = KantataSandbox()
    workspace = str(sandbox.add_workspace("Project"))
    with KantataClient("tok", http_client=sandbox.http_client()) as client:
        client.milestones.expect_empty(workspace)
        list(client.milestones.stream(workspace))
        sandbox.add_milestone(workspace, "Made since", 100)
        assert [m.title for m in client.milestones.stream(workspace)] == ["Made since"]
    assert sent(sandbox) == [("GET", f"/workspaces/{workspace}"), ("GET", "/billing_milestones")]


def test_the_async_view_takes_the_same_hint() -> None:
    sandbox = KantataSandbox()
    workspace = str(sandbox.add_workspace("Project", currency="EUR"))

    async def listed() -> list[Milestone]:
        async with AsyncKantataClient("tok", http_client=sandbox.async_http_client()) as client:
            client.milestones.expect_empty(workspace)
            found = [m async for m in client.milestones.stream(workspace)]
            await client.milestones.create(workspace, [Milestone(title="A", amount=Money("1.50", "EUR"))])
            return found

    assert asyncio.run(listed()) == []
    assert sent(sandbox) == [("GET", f"/workspaces/{workspace}"), ("POST", "/billing_milestones")]


def test_the_sandbox_side_loads_only_the_workspaces_own_milestones() -> None:
    sandbox = KantataSandbox()
    mine, other = str(sandbox.add_workspace("Mine")), str(sandbox.add_workspace("Other"))
    first = sandbox.add_milestone(mine, "First", 1)
    second = sandbox.add_milestone(mine, "Second", 2)
    sandbox.add_milestone(other, "Not mine", 3)
    with KantataClient("tok", http_client=sandbox.http_client()) as client:
        read = client.workspaces.get(mine, include="billing_milestones")
        plain = client.workspaces.get(mine)
    assert read.billing_milestone_ids == [str(first), str(second)]
    assert read.raw()["billing_milestone_ids"] == [str(first), str(second)]
    assert plain.billing_milestone_ids is None


# -- the sync engine's side: the hint is given on a pair's first sync only --------------------------------
def test_the_engine_hints_a_pair_that_never_had_a_link_and_no_other(tmp_path: Any) -> None:
    sandbox = KantataSandbox()
    workspace = str(sandbox.add_workspace("Project"))
    pair = SyncPair(Platform.AUTOTASK, "29683001", Platform.KANTATA, workspace)
    with LinkStore(tmp_path / "links.sqlite3") as store, KantataClient("t", http_client=sandbox.http_client()) as k:
        clients = {Platform.KANTATA: k}
        expect_first_sync(pair, clients, store)
        list(k.milestones.stream(workspace))
        assert sent(sandbox) == [("GET", f"/workspaces/{workspace}")]
        store.put(Link(pair.id, "k1", "autotask:29683001/7", f"kantata:{workspace}/8", "a", "b"))
        expect_first_sync(pair, clients, store)  # linked once: listed as usual, whatever it holds now
        list(k.milestones.stream(workspace))
    assert sent(sandbox)[1:] == [("GET", "/billing_milestones"), ("GET", f"/workspaces/{workspace}")]
