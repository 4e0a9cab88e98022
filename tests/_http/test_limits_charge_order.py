"""An Autotask attempt is charged to the hourly budget once its endpoint's slot is held, not before the wait
for it: the server counts a request as it arrives, so a unit charged before a long wait for a slot (up to the
shared limiter's ``max_wait``) left the client's window ahead of Autotask's, which then still counted the
request after the client had forgotten it, and admitted one over the threshold at the window's edge."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterator

import httpx

from billing_milestones import AsyncAutotaskClient, AutotaskClient

BASE = "https://webservices2.autotask.net"
ITEM = {"item": {"id": 7, "contractID": 1, "title": "t"}}


class Held:
    """A limiter (sync and async) that says which key is held right now, and a budget that notes it."""

    def __init__(self) -> None:
        self.holding: str | None = None
        self.charged_while: list[str | None] = []
        self.limit = 100

    def acquire(self) -> float | None:
        self.charged_while.append(self.holding)
        return None

    @contextlib.contextmanager
    def sync(self, key: str) -> Iterator[None]:
        self.holding = key
        try:
            yield
        finally:
            self.holding = None

    @contextlib.asynccontextmanager
    async def asyncio(self, key: str) -> AsyncIterator[None]:
        self.holding = key
        try:
            yield
        finally:
            self.holding = None


def test_a_sync_attempt_is_charged_while_its_slot_is_held() -> None:
    held = Held()
    http = httpx.Client(transport=httpx.MockTransport(lambda request: httpx.Response(200, json=ITEM)))
    client = AutotaskClient(
        "u@example.com", "s", "c", base_url=BASE, http_client=http, limiter=held.sync, hourly_budget=held
    )
    client.contract_milestones.get(7)
    assert held.charged_while == ["ContractMilestones"]


async def test_an_async_attempt_is_charged_while_its_slot_is_held() -> None:
    held = Held()
    http = httpx.AsyncClient(transport=httpx.MockTransport(lambda request: httpx.Response(200, json=ITEM)))
    client = AsyncAutotaskClient(
        "u@example.com", "s", "c", base_url=BASE, http_client=http, limiter=held.asyncio, hourly_budget=held
    )
    await client.contract_milestones.get(7)
    assert held.charged_while == ["ContractMilestones"]
