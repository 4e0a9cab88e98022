"""A contract that does not exist is an error naming it, on both clients, with or without a configured currency.

Issue 10: with ``currency=`` set, listing a mistyped contract printed 0 milestones and a sync planned from it.
"""

from __future__ import annotations

import datetime as dt

import pytest

from billing_milestones import errors
from billing_milestones.model import Milestone
from billing_milestones.money import Money
from billing_milestones.sandbox.autotask import AutotaskSandbox

from .conftest import make_async_client, make_client

CONTRACT = r"(?i)^/Contracts/\d+$"
MISSING = 999_999
WRITES = r"(?i)^/Contracts/\d+/Milestones$"


def new(title: str = "Kick-off") -> Milestone:
    return Milestone(title=title, amount=Money("10.00", "USD"), due=dt.date(2027, 1, 15))


@pytest.mark.parametrize("currency", ["USD", {MISSING: "USD"}, None])
def test_list_of_a_missing_contract_raises_naming_it(sandbox: AutotaskSandbox, currency: object) -> None:
    with make_client(sandbox, currency=currency) as client, pytest.raises(errors.NotFoundError, match=str(MISSING)):
        list(client.milestones.list(str(MISSING)))


@pytest.mark.parametrize("currency", ["USD", None])
async def test_async_list_of_a_missing_contract_raises_naming_it(sandbox: AutotaskSandbox, currency: object) -> None:
    async with make_async_client(sandbox, currency=currency) as client:
        with pytest.raises(errors.NotFoundError, match=str(MISSING)):
            [m async for m in client.milestones.list(str(MISSING))]


@pytest.mark.parametrize("currency", ["USD", None])
def test_create_into_a_missing_contract_raises_before_any_write(sandbox: AutotaskSandbox, currency: object) -> None:
    with make_client(sandbox, currency=currency) as client, pytest.raises(errors.NotFoundError, match=str(MISSING)):
        client.milestones.create(str(MISSING), [new("A"), new("B")])
    assert sandbox.count_requests("POST", WRITES) == 0


@pytest.mark.parametrize("currency", ["USD", None])
async def test_async_create_into_a_missing_contract_raises_before_any_write(
    sandbox: AutotaskSandbox, currency: object
) -> None:
    async with make_async_client(sandbox, currency=currency) as client:
        with pytest.raises(errors.NotFoundError, match=str(MISSING)):
            await client.milestones.create(str(MISSING), [new("A"), new("B")])
    assert sandbox.count_requests("POST", WRITES) == 0


def test_a_contract_whose_milestones_are_listed_is_never_read(sandbox: AutotaskSandbox) -> None:
    """Its own milestones prove it exists: neither the listings nor the create after them read it."""
    cid = sandbox.add_contract(currency="USD")
    sandbox.add_milestone(cid, title="One")
    with make_client(sandbox) as client:
        assert [m.title for m in client.milestones.list(str(cid))] == ["One"]
        assert [m.title for m in client.with_options(max_retries=0).milestones.list(str(cid))] == ["One"]
        [created] = client.milestones.create(str(cid), [new("Two")])
    assert created.title == "Two"
    assert sandbox.count_requests("GET", CONTRACT) == 0


async def test_async_a_contract_whose_milestones_are_listed_is_never_read(sandbox: AutotaskSandbox) -> None:
    cid = sandbox.add_contract(currency="USD")
    sandbox.add_milestone(cid, title="One")
    async with make_async_client(sandbox) as client:
        assert [m.title async for m in client.milestones.list(str(cid))] == ["One"]
        assert [m.title for m in await client.milestones.create(str(cid), [new("Two")])] == ["Two"]
    assert sandbox.count_requests("GET", CONTRACT) == 0


def test_an_empty_contract_is_read_once_per_client(sandbox: AutotaskSandbox) -> None:
    """An empty listing proves nothing: the contract is read after it (once), and the create trusts that read."""
    cid = sandbox.add_contract(currency="USD")
    with make_client(sandbox) as client:
        assert list(client.milestones.list(str(cid))) == []
        assert list(client.milestones.list(str(cid))) == []
        [created] = client.milestones.create(str(cid), [new("First")])
    assert created.title == "First"
    assert sandbox.count_requests("GET", CONTRACT) == 1


def test_a_missing_contract_is_read_after_its_empty_query_and_nothing_is_listed(sandbox: AutotaskSandbox) -> None:
    with make_client(sandbox) as client:
        listing = client.milestones.stream(str(MISSING))
        with pytest.raises(errors.NotFoundError, match=str(MISSING)):
            next(listing)
    sent = [(e.method, e.path) for e in sandbox.request_log if "zoneInformation" not in e.path]
    assert [m for m, _ in sent] == ["POST", "GET"]  # the query (empty), then the contract: nothing written
    assert sent[0][1].endswith("/ContractMilestones/query") and sent[1][1].endswith(f"/Contracts/{MISSING}")


def test_an_empty_contract_that_exists_lists_nothing(sandbox: AutotaskSandbox) -> None:
    cid = sandbox.add_contract(currency="USD")
    with make_client(sandbox) as client:
        assert list(client.milestones.list(str(cid))) == []
