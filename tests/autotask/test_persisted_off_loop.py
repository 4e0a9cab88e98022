"""The async client reads and writes the link store's metadata tier off its event loop.

The store below answers only once the event loop has run a callback it scheduled: called on the loop itself,
it would wait for a loop it is blocking and fail (after a short wait), so every read, write and drop of the
zone and picklist entries (a cold process, a warm one, a re-read of the picklist, a 401) must run in a worker
thread for these tests to pass. The sync client makes the same calls in place."""

from __future__ import annotations

import asyncio
import threading

import pytest

from billing_milestones import errors
from billing_milestones._metadata_cache import MetadataCache
from billing_milestones.autotask import AsyncAutotaskClient
from billing_milestones.sandbox.autotask import AutotaskSandbox
from billing_milestones.sync import LinkStore

from .conftest import make_async_client, make_client
from .test_setup_shared_metadata import reads


class LoopAnsweredStore:
    """A NameStore whose every call waits for the event loop to run a callback (a blocked loop never does)."""

    def __init__(self, inner: LinkStore, loop: asyncio.AbstractEventLoop) -> None:
        self.inner, self.loop = inner, loop
        self.calls: list[str] = []

    def _loop_answers(self, what: str) -> None:
        answered = threading.Event()
        self.loop.call_soon_threadsafe(answered.set)
        if not answered.wait(1.0):
            raise AssertionError(f"the store's {what} blocked the event loop")
        self.calls.append(what)

    def recall(self, kind: str, name: str) -> str | None:
        self._loop_answers("recall")
        return self.inner.recall(kind, name)

    def remember(self, kind: str, name: str, value: str) -> None:
        self._loop_answers("remember")
        self.inner.remember(kind, name, value)

    def forget(self, kind: str, *names: str) -> None:
        self._loop_answers("forget")
        self.inner.forget(kind, *names)


@pytest.fixture
def contract(sandbox: AutotaskSandbox) -> int:
    cid = sandbox.add_contract(currency="USD")
    sandbox.add_milestone(cid, title="One")
    return cid


async def listed(client: AsyncAutotaskClient, contract: int) -> list[str]:
    return [m.title async for m in client.milestones.list(str(contract))]


async def test_a_cold_and_a_warm_process_read_and_write_the_store_off_the_loop(
    sandbox: AutotaskSandbox, contract: int, store_url: str
) -> None:
    loop = asyncio.get_running_loop()
    with LinkStore(store_url) as inner:
        store = LoopAnsweredStore(inner, loop)
        async with make_async_client(sandbox, metadata_cache=MetadataCache()) as cold:
            cold.persist_metadata(store)
            assert await listed(cold, contract) == ["One"]
        assert set(store.calls) == {"recall", "remember"}  # zone and picklist: both missed, both written
        store.calls.clear()
        async with make_async_client(sandbox, metadata_cache=MetadataCache()) as warm:
            warm.persist_metadata(store)
            assert await listed(warm, contract) == ["One"]
        assert store.calls == ["recall", "recall"]
    assert reads(sandbox) == (1, 1)  # the warm one read both from the store


async def test_a_picklist_read_again_drops_its_entry_off_the_loop(
    sandbox: AutotaskSandbox, contract: int, store_url: str
) -> None:
    with LinkStore(store_url) as inner:
        store = LoopAnsweredStore(inner, asyncio.get_running_loop())
        async with make_async_client(sandbox, metadata_cache=MetadataCache()) as client:
            client.persist_metadata(store)
            await client.contract_milestones.status_picklist()
            store.calls.clear()
            await client.contract_milestones.status_picklist(refresh=True)
        assert store.calls == ["forget", "remember"]


async def test_a_401_drops_the_entries_off_the_loop(sandbox: AutotaskSandbox, contract: int, store_url: str) -> None:
    with LinkStore(store_url) as inner:
        store = LoopAnsweredStore(inner, asyncio.get_running_loop())
        async with make_async_client(sandbox, metadata_cache=MetadataCache()) as client:
            client.persist_metadata(store)
            assert await listed(client, contract) == ["One"]
        wrong = AsyncAutotaskClient(
            sandbox.USERNAME, "wrong-secret", sandbox.INTEGRATION_CODE, http_client=sandbox.async_http_client(),
            currency="USD", metadata_cache=MetadataCache(),
        )  # fmt: skip
        store.calls.clear()
        async with wrong:
            wrong.persist_metadata(store)
            with pytest.raises(errors.AuthenticationError):
                await wrong.contract_milestones.get(1)
        assert "forget" in store.calls


def test_the_sync_client_makes_the_same_calls_in_place(sandbox: AutotaskSandbox, contract: int, store_url: str) -> None:
    calls: list[tuple[str, bool]] = []

    class Recording:
        def __init__(self, inner: LinkStore) -> None:
            self.inner = inner

        def recall(self, kind: str, name: str) -> str | None:
            calls.append(("recall", threading.current_thread() is threading.main_thread()))
            return self.inner.recall(kind, name)

        def remember(self, kind: str, name: str, value: str) -> None:
            calls.append(("remember", threading.current_thread() is threading.main_thread()))
            self.inner.remember(kind, name, value)

        def forget(self, kind: str, *names: str) -> None:
            self.inner.forget(kind, *names)

    with LinkStore(store_url) as inner, make_client(sandbox, metadata_cache=MetadataCache()) as client:
        client.persist_metadata(Recording(inner))
        assert [m.title for m in client.milestones.list(str(contract))] == ["One"]
    assert {what for what, _ in calls} == {"recall", "remember"}
    assert all(in_place for _, in_place in calls)
