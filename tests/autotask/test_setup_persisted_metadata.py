"""A tenant's zone and status picklist kept in the link store (over SQLite and a real PostgreSQL): a client of
another process (a fresh MetadataCache, the store reopened) reads neither again within the TTL; nothing
secret is written; what the store holds is checked, never trusted; a 401 or a re-read drops it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from billing_milestones import errors
from billing_milestones._metadata_cache import SHARED_METADATA, MetadataCache
from billing_milestones._metadata_store import KIND, PersistedMetadata
from billing_milestones.autotask import AutotaskClient
from billing_milestones.model import Platform
from billing_milestones.sandbox.autotask import AutotaskSandbox
from billing_milestones.sync import LinkStore
from billing_milestones.sync.config import load_settings
from billing_milestones.sync.connect import connect, resolve_container

from .conftest import make_async_client, make_client
from .test_setup_shared_metadata import listed, reads


class Clock:
    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def contract(sandbox: AutotaskSandbox) -> int:
    cid = sandbox.add_contract(currency="USD")
    sandbox.add_milestone(cid, title="One")
    return cid


def run(sandbox: AutotaskSandbox, store_url: str, contract: int, **options: object) -> AutotaskClient:
    """One process's client: its own MetadataCache, the link store opened anew, a listing."""
    with LinkStore(store_url) as store, make_client(sandbox, metadata_cache=MetadataCache(), **options) as client:
        client.persist_metadata(store)
        assert listed(client, contract) == ["One"]
    return client


def entries(store_url: str) -> dict[str, str]:
    with LinkStore(store_url) as store:
        return {row["name"]: row["value"] for row in store.dump("names") if row["kind"] == KIND}


def test_a_second_process_reads_neither_zone_nor_picklist(
    sandbox: AutotaskSandbox, contract: int, store_url: str
) -> None:
    first = run(sandbox, store_url, contract)
    assert reads(sandbox) == (1, 1)
    second = run(sandbox, store_url, contract)
    assert reads(sandbox) == (1, 1)
    assert second.base_url == first.base_url
    assert len(entries(store_url)) == 2


async def test_an_async_client_of_another_process_reads_them_too(
    sandbox: AutotaskSandbox, contract: int, store_url: str
) -> None:
    run(sandbox, store_url, contract)
    with LinkStore(store_url) as store:
        async with make_async_client(sandbox, metadata_cache=MetadataCache()) as aclient:
            aclient.persist_metadata(store)
            assert [m.title async for m in aclient.milestones.list(str(contract))] == ["One"]
    assert reads(sandbox) == (1, 1)


def test_the_persisted_keys_are_the_same_in_another_process(sandbox: AutotaskSandbox) -> None:
    code = (
        "from billing_milestones.autotask import AutotaskClient as C;"
        f"c = C({sandbox.USERNAME!r}, {sandbox.SECRET!r}, {sandbox.INTEGRATION_CODE!r});"
        "print(c._state.zone_name, c._state.picklist_name, c._state.zone_key)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    zone_name, picklist_name, zone_key = done.stdout.split()
    ours = make_client(sandbox)._state
    assert (zone_name, picklist_name) == (ours.zone_name, ours.picklist_name)
    assert zone_key != ours.zone_key  # the in-process key is drawn per process


def test_nothing_secret_is_written(sandbox: AutotaskSandbox, contract: int, store_url: str) -> None:
    run(sandbox, store_url, contract, impersonation_resource_id=sandbox.RESOURCE_ID)
    with LinkStore(store_url) as store:
        text = json.dumps(store.dump("names"))
    assert text.count(KIND) >= 2
    for secret in (sandbox.SECRET, sandbox.INTEGRATION_CODE, sandbox.USERNAME, sandbox.USERNAME.split("@")[0]):
        assert secret not in text


def test_another_user_or_impersonation_shares_no_persisted_picklist(
    sandbox: AutotaskSandbox, contract: int, store_url: str
) -> None:
    run(sandbox, store_url, contract)
    run(sandbox, store_url, contract, impersonation_resource_id=sandbox.RESOURCE_ID)
    assert reads(sandbox) == (1, 2)  # the zone is the user's; the picklist is per impersonation too
    assert len(entries(store_url)) == 3


def test_persisted_entries_expire_after_the_ttl(sandbox: AutotaskSandbox, contract: int, store_url: str) -> None:
    clock = Clock()

    def timed_run() -> None:
        with LinkStore(store_url) as store, make_client(sandbox, metadata_cache=MetadataCache(ttl=60)) as client:
            client._state.persisted = PersistedMetadata(store, ttl=60, clock=clock)
            assert listed(client, contract) == ["One"]

    timed_run()
    clock.now += 59.0
    timed_run()
    assert reads(sandbox) == (1, 1)
    clock.now += 1.0
    timed_run()
    assert reads(sandbox) == (2, 2)


def test_a_hit_lives_in_the_process_for_what_is_left_of_its_ttl(
    sandbox: AutotaskSandbox, contract: int, store_url: str
) -> None:
    wall, monotonic = Clock(), Clock(0.0)
    with LinkStore(store_url) as store:
        with make_client(sandbox, metadata_cache=MetadataCache()) as first:
            first._state.persisted = PersistedMetadata(store, ttl=60, clock=wall)
            assert listed(first, contract) == ["One"]
        wall.now += 50.0
        cache = MetadataCache(ttl=60, clock=monotonic)
        with make_client(sandbox, metadata_cache=cache) as second:
            second._state.persisted = PersistedMetadata(store, ttl=60, clock=wall)
            assert listed(second, contract) == ["One"]
            assert cache.get(second._state.zone_key) is not None
            monotonic.now = 10.0
            assert cache.get(second._state.zone_key) is None and cache.get(second._state.picklist_key) is None


def test_a_401_drops_the_persisted_entries_and_the_moved_zone_replaces_them(
    sandbox: AutotaskSandbox, contract: int, store_url: str
) -> None:
    run(sandbox, store_url, contract)
    sandbox.move_zone("webservices29.autotask.net")
    moved = run(sandbox, store_url, contract)  # the stored zone answers 401: dropped, discovered again
    assert moved.base_url.host == "webservices29.autotask.net"
    assert reads(sandbox) == (2, 2)  # the picklist was dropped with the zone, so it was read again
    third = run(sandbox, store_url, contract)
    assert third.base_url.host == "webservices29.autotask.net"
    assert reads(sandbox) == (2, 2)
    assert len([e for e in sandbox.request_log if e.status == 401]) == 1


def test_a_401_drops_them_for_every_process(sandbox: AutotaskSandbox, contract: int, store_url: str) -> None:
    run(sandbox, store_url, contract)
    wrong = AutotaskClient(
        sandbox.USERNAME, "wrong-secret", sandbox.INTEGRATION_CODE, http_client=sandbox.http_client(),
        currency="USD", metadata_cache=MetadataCache(),
    )  # fmt: skip
    with LinkStore(store_url) as store, wrong, pytest.raises(errors.AuthenticationError):
        wrong.persist_metadata(store)
        wrong.contract_milestones.get(1)
    # Both were dropped on the 401; the zone discovered again after it is stored anew, the picklist is not.
    assert set(entries(store_url)) == {wrong._state.zone_name}
    run(sandbox, store_url, contract)
    assert reads(sandbox) == (2, 2)


@pytest.mark.parametrize(
    "zone",
    [
        {"zoneName": "x", "url": "https://evil.example/ATServicesRest/", "webUrl": None, "ci": 1},
        {"zoneName": "x", "url": "http://webservices.autotask.net/ATServicesRest/", "webUrl": None, "ci": 1},
        {"url": 12},
        ["not", "a", "zone"],
    ],
)
def test_a_stored_zone_is_checked_as_a_discovered_one(
    sandbox: AutotaskSandbox, contract: int, store_url: str, zone: object
) -> None:
    name = make_client(sandbox)._state.zone_name
    with LinkStore(store_url) as store:
        PersistedMetadata(store, ttl=600).save(name, zone)
    client = run(sandbox, store_url, contract)
    assert client.base_url.host != "evil.example" and client.base_url.scheme == "https"
    assert reads(sandbox)[0] == 1  # ignored, discovered again, and overwritten:
    stored = json.loads(entries(store_url)[name])["data"]
    assert stored["url"] == client.zone_information().url


@pytest.mark.parametrize(
    "data",
    [
        {"labels": [], "default": None},
        {"labels": [[True, "Ready"]], "default": None},
        {"labels": [[1, 2]], "default": None},
        {"labels": [[1, "A"], [1, "B"]], "default": None},
        {"labels": [[1, "A"]], "default": "1"},
        {"labels": [[1, "A"]]},
        "garbage",
    ],
)
def test_a_stored_picklist_is_checked(sandbox: AutotaskSandbox, contract: int, store_url: str, data: object) -> None:
    name = make_client(sandbox)._state.picklist_name
    with LinkStore(store_url) as store:
        PersistedMetadata(store, ttl=600).save(name, data)
    run(sandbox, store_url, contract)
    assert reads(sandbox)[1] == 1
    stored = json.loads(entries(store_url)[name])["data"]
    assert len(stored["labels"]) == 3


def _persist_a_picklist_without_a_listed_status(
    sandbox: AutotaskSandbox, store_url: str, contract: int
) -> tuple[str, object]:
    """After one run, the stored picklist replaced by one lacking STATUS_READY, and a milestone of that status
    added: the picklist's stored name and the fresh picklist."""
    from billing_milestones.sandbox.autotask._store import STATUS_READY

    run(sandbox, store_url, contract)
    name = make_client(sandbox)._state.picklist_name
    fresh = json.loads(entries(store_url)[name])["data"]
    stale = {"labels": [e for e in fresh["labels"] if e[0] != STATUS_READY], "default": fresh["default"]}
    with LinkStore(store_url) as store:
        PersistedMetadata(store, ttl=600).save(name, stale)
    sandbox.add_milestone(contract, title="Two", status=STATUS_READY)
    return name, fresh


def test_a_status_missing_from_a_persisted_picklist_reads_it_again(
    sandbox: AutotaskSandbox, contract: int, store_url: str
) -> None:
    name, fresh = _persist_a_picklist_without_a_listed_status(sandbox, store_url, contract)
    with LinkStore(store_url) as store, make_client(sandbox, metadata_cache=MetadataCache()) as client:
        client.persist_metadata(store)
        assert listed(client, contract) == ["One", "Two"]
    assert reads(sandbox) == (1, 2)
    assert json.loads(entries(store_url)[name])["data"] == fresh  # the fresh one serves the next process


def test_the_sync_engine_lends_its_link_store(sandbox: AutotaskSandbox, contract: int, tmp_path: Path) -> None:
    config = tmp_path / "milestones.toml"
    config.write_text(f'links = "{tmp_path / "links.sqlite3"}"\n')
    env = {
        "AUTOTASK_USERNAME": sandbox.USERNAME,
        "AUTOTASK_SECRET": sandbox.SECRET,
        "AUTOTASK_INTEGRATION_CODE": sandbox.INTEGRATION_CODE,
    }
    settings = load_settings(config, env=env)
    for _ in range(2):  # two CLI runs: two processes, each with its own process-wide cache
        SHARED_METADATA.clear()
        with (
            connect(Platform.AUTOTASK, settings, http_client=sandbox.http_client()) as client,
            LinkStore(settings.links) as store,
        ):
            container = resolve_container(client, Platform.AUTOTASK, str(contract), settings, store)
            assert [m.title for m in client.milestones.list(container, currency="USD")] == ["One"]
    assert reads(sandbox) == (1, 1)


def test_a_stale_persisted_picklist_is_dropped_before_it_is_read_again(
    sandbox: AutotaskSandbox, contract: int, store_url: str
) -> None:
    """If the re-read fails, no other process may go on reading the picklist that lacked a status."""
    name, _ = _persist_a_picklist_without_a_listed_status(sandbox, store_url, contract)
    sandbox.faults.status(503, method="GET", path="entityInformation/fields")
    with (
        LinkStore(store_url) as store,
        make_client(sandbox, metadata_cache=MetadataCache()) as client,
        pytest.raises(errors.APIError),
    ):
        client.persist_metadata(store)
        listed(client, contract)
    assert name not in entries(store_url)
