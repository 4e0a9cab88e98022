"""A tenant's zone and status picklist shared by the clients given one MetadataCache: read once between them,
for its TTL only, never across users, secrets or caches, and dropped after a 401."""

from __future__ import annotations

import asyncio
import datetime as dt
import threading
from pathlib import Path

import pytest

from billing_milestones import errors
from billing_milestones._metadata_cache import SHARED_METADATA, MetadataCache
from billing_milestones.autotask import AutotaskClient
from billing_milestones.model import Milestone, Platform
from billing_milestones.money import Money
from billing_milestones.sandbox.autotask import AutotaskSandbox
from billing_milestones.sync.config import load_settings
from billing_milestones.sync.connect import connect

from .conftest import make_async_client, make_client

ZONE = r"(?i)^/zoneInformation$"
FIELDS = r"(?i)entityInformation/fields$"


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def reads(sandbox: AutotaskSandbox) -> tuple[int, int]:
    return sandbox.count_requests("GET", ZONE), sandbox.count_requests("GET", FIELDS)


def listed(client: AutotaskClient, contract: int) -> list[str]:
    return [m.title for m in client.milestones.list(str(contract))]


@pytest.fixture
def contract(sandbox: AutotaskSandbox) -> int:
    cid = sandbox.add_contract(currency="USD")
    sandbox.add_milestone(cid, title="One")
    return cid


def test_clients_sharing_a_cache_read_zone_and_picklist_once(sandbox: AutotaskSandbox, contract: int) -> None:
    shared = MetadataCache()
    for _ in range(3):
        with make_client(sandbox, metadata_cache=shared) as client:
            assert listed(client, contract) == ["One"]
    assert reads(sandbox) == (1, 1)


def test_without_a_cache_each_client_reads_its_own(sandbox: AutotaskSandbox, contract: int) -> None:
    for _ in range(2):
        with make_client(sandbox) as client:
            assert listed(client, contract) == ["One"]
    assert reads(sandbox) == (2, 2)


async def test_async_and_sync_clients_share_one_cache(sandbox: AutotaskSandbox, contract: int) -> None:
    shared = MetadataCache()
    with make_client(sandbox, metadata_cache=shared) as client:
        assert listed(client, contract) == ["One"]
    async with make_async_client(sandbox, metadata_cache=shared) as aclient:
        assert [m.title async for m in aclient.milestones.list(str(contract))] == ["One"]
    assert reads(sandbox) == (1, 1)


def test_entries_expire_after_the_ttl(sandbox: AutotaskSandbox, contract: int) -> None:
    clock = Clock()
    shared = MetadataCache(ttl=60, clock=clock)
    with make_client(sandbox, metadata_cache=shared) as client:
        assert listed(client, contract) == ["One"]
    clock.now = 59.0
    with make_client(sandbox, metadata_cache=shared) as client:
        assert listed(client, contract) == ["One"]
    assert reads(sandbox) == (1, 1)
    clock.now = 60.0
    with make_client(sandbox, metadata_cache=shared) as client:
        assert listed(client, contract) == ["One"]
    assert reads(sandbox) == (2, 2)


def test_another_secret_or_impersonation_shares_no_picklist(sandbox: AutotaskSandbox, contract: int) -> None:
    shared = MetadataCache()
    with make_client(sandbox, metadata_cache=shared) as client:
        assert listed(client, contract) == ["One"]
    with make_client(sandbox, metadata_cache=shared, impersonation_resource_id=sandbox.RESOURCE_ID) as client:
        assert listed(client, contract) == ["One"]
    # the zone depends on the user alone; the picklist on the credentials and impersonation too
    assert reads(sandbox) == (1, 2)
    wrong = AutotaskClient(
        sandbox.USERNAME, "wrong-secret", sandbox.INTEGRATION_CODE, http_client=sandbox.http_client(),
        currency="USD", metadata_cache=shared,
    )  # fmt: skip
    with wrong, pytest.raises(errors.AuthenticationError):
        list(wrong.milestones.list(str(contract)))
    assert sandbox.count_requests("GET", FIELDS) == 2  # a wrong secret got no picklist from the cache


def test_tenants_are_isolated() -> None:
    """Two users (two tenants, two sandboxes) through one cache each read their own zone and picklist."""
    first, second = AutotaskSandbox(), AutotaskSandbox()
    second.users = {"other@tenant.test": "other-secret"}
    second.move_zone("webservices29.autotask.net")
    shared = MetadataCache()
    for sandbox, (user, secret) in (
        (first, (first.USERNAME, first.SECRET)),
        (second, next(iter(second.users.items()))),
    ):
        cid = sandbox.add_contract(currency="USD")
        sandbox.add_milestone(cid, title="Own")
        client = AutotaskClient(
            user, secret, sandbox.INTEGRATION_CODE, http_client=sandbox.http_client(), currency="USD",
            metadata_cache=shared,
        )  # fmt: skip
        with client:
            assert listed(client, cid) == ["Own"]
        assert reads(sandbox) == (1, 1)
    assert len(shared) == 4


def test_a_401_drops_the_tenant_entries_and_the_moved_zone_replaces_them(
    sandbox: AutotaskSandbox, contract: int
) -> None:
    shared = MetadataCache()
    with make_client(sandbox, metadata_cache=shared) as client:
        assert listed(client, contract) == ["One"]
        sandbox.move_zone("webservices29.autotask.net")
        assert listed(client, contract) == ["One"]  # 401, re-discovered, sent again
        assert client.base_url.host == "webservices29.autotask.net"
    assert reads(sandbox) == (2, 1)
    # The next client finds the new zone (no discovery, no 401) and reads the picklist again: it was dropped.
    with make_client(sandbox, metadata_cache=shared) as client:
        assert listed(client, contract) == ["One"]
        assert client.base_url.host == "webservices29.autotask.net"
    assert reads(sandbox) == (2, 2)
    assert len([e for e in sandbox.request_log if e.status == 401]) == 1


def test_a_401_with_an_explicit_base_url_drops_the_picklist(sandbox: AutotaskSandbox, contract: int) -> None:
    shared = MetadataCache()
    base = "https://webservices.autotask.net"
    with make_client(sandbox, metadata_cache=shared, base_url=base) as client:
        assert listed(client, contract) == ["One"]
    assert len(shared) == 1
    wrong = AutotaskClient(
        sandbox.USERNAME, "wrong", sandbox.INTEGRATION_CODE, http_client=sandbox.http_client(), base_url=base,
        currency="USD", metadata_cache=shared,
    )  # fmt: skip
    shared.put(wrong._state.picklist_key, make_client(sandbox)._state.picklist)  # as if it had read one
    with wrong, pytest.raises(errors.AuthenticationError):
        wrong.contract_milestones.get(1)
    assert shared.get(wrong._state.picklist_key) is None
    assert len(shared) == 1  # the right secret's entry is another key, untouched


def test_refresh_reads_the_picklist_again_for_every_sharer(sandbox: AutotaskSandbox, contract: int) -> None:
    shared = MetadataCache()
    with make_client(sandbox, metadata_cache=shared) as client:
        client.contract_milestones.status_picklist()
        client.contract_milestones.status_picklist(refresh=True)
    with make_client(sandbox, metadata_cache=shared) as client:
        client.contract_milestones.status_picklist()
    assert sandbox.count_requests("GET", FIELDS) == 2


def test_writes_use_the_shared_picklist_too(sandbox: AutotaskSandbox, contract: int) -> None:
    shared = MetadataCache()
    new = Milestone(title="Two", amount=Money("5.00", "USD"), due=dt.date(2027, 1, 1))
    with make_client(sandbox, metadata_cache=shared) as client:
        assert listed(client, contract) == ["One"]
    with make_client(sandbox, metadata_cache=shared) as client:
        [created] = client.milestones.create(str(contract), [new])
    assert created.title == "Two"
    assert reads(sandbox) == (1, 1)


def test_threads_sharing_a_cache_get_one_answer(sandbox: AutotaskSandbox, contract: int) -> None:
    shared = MetadataCache()
    with make_client(sandbox, metadata_cache=shared) as warm:
        assert listed(warm, contract) == ["One"]
    results: list[list[str]] = []

    def run() -> None:
        with make_client(sandbox, metadata_cache=shared) as client:
            results.append(listed(client, contract))

    threads = [threading.Thread(target=run) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [["One"]] * 8
    assert reads(sandbox) == (1, 1)


def test_a_cache_that_is_not_one_is_refused_by_name(sandbox: AutotaskSandbox) -> None:
    with pytest.raises(errors.ValidationError, match="metadata_cache") as info:
        make_client(sandbox, metadata_cache={})
    assert info.value.field == "metadata_cache"
    assert sandbox.request_log == []


def test_clients_the_sync_engine_connects_share_the_process_cache(
    sandbox: AutotaskSandbox, contract: int, tmp_path: Path
) -> None:
    config = tmp_path / "milestones.toml"
    config.write_text("")
    env = {
        "AUTOTASK_USERNAME": sandbox.USERNAME,
        "AUTOTASK_SECRET": sandbox.SECRET,
        "AUTOTASK_INTEGRATION_CODE": sandbox.INTEGRATION_CODE,
    }
    settings = load_settings(config, env=env)
    for _ in range(3):  # as a worker or a CLI run connects one client per pair
        with connect(Platform.AUTOTASK, settings, http_client=sandbox.http_client()) as client:
            assert client._state.metadata is SHARED_METADATA
            assert [m.title for m in client.milestones.list(str(contract), currency="USD")] == ["One"]
    assert reads(sandbox) == (1, 1)


async def test_asyncio_tasks_sharing_a_cache_get_one_answer(sandbox: AutotaskSandbox, contract: int) -> None:
    shared = MetadataCache()
    async with make_async_client(sandbox, metadata_cache=shared) as warm:
        assert [m.title async for m in warm.milestones.list(str(contract))] == ["One"]

    async def run() -> list[str]:
        async with make_async_client(sandbox, metadata_cache=shared) as client:
            return [m.title async for m in client.milestones.list(str(contract))]

    assert await asyncio.gather(*(run() for _ in range(8))) == [["One"]] * 8
    assert reads(sandbox) == (1, 1)


def test_a_status_missing_from_a_shared_picklist_reads_it_again(sandbox: AutotaskSandbox, contract: int) -> None:
    """A picklist another client cached may predate a status the tenant added since: a listed status it does
    not hold reads the picklist afresh (once) before anything fails, rather than failing for the cache's TTL."""
    from billing_milestones.autotask._operations import StatusPicklist
    from billing_milestones.sandbox.autotask._store import STATUS_READY

    shared = MetadataCache()
    with make_client(sandbox, metadata_cache=shared) as client:
        assert listed(client, contract) == ["One"]
    [key] = [k for k in shared._entries if k.startswith("autotask.picklist:")]
    fresh = shared.get(key)
    assert isinstance(fresh, StatusPicklist)
    stale = StatusPicklist({v: t for v, t in fresh.labels.items() if v != STATUS_READY}, fresh.default)
    shared.put(key, stale)
    sandbox.add_milestone(contract, title="Two", status=STATUS_READY)
    with make_client(sandbox, metadata_cache=shared) as client:
        assert listed(client, contract) == ["One", "Two"]
    assert reads(sandbox) == (1, 2)
    assert shared.get(key) == fresh  # the fresh one now serves the tenant's other clients


def test_a_status_missing_from_a_fresh_picklist_is_refused_naming_it(sandbox: AutotaskSandbox, contract: int) -> None:
    """A status the picklist just read does not hold is a translation error naming it (one read, no loop)."""
    sandbox.add_milestone(contract, title="Odd", status=77)
    with (
        make_client(sandbox, metadata_cache=MetadataCache()) as client,
        pytest.raises(errors.TranslationError, match="77"),
    ):
        listed(client, contract)
    assert sandbox.count_requests("GET", FIELDS) == 1
