"""An Autotask attempt is charged to the hourly budget once its endpoint's slot is held, not before the wait
for it: the server counts a request as it arrives, so a unit charged before a long wait for a slot (up to the
shared limiter's ``max_wait``) left the client's window ahead of Autotask's, which then still counted the
request after the client had forgotten it, and admitted one over the threshold at the window's edge. And a
refusal says a wait under a second as such, not as "0s"."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterator

import httpx

from billing_milestones import AsyncAutotaskClient, AutotaskClient, errors

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


class _Spent:
    limit = 10

    def __init__(self, wait: float) -> None:
        self.wait = wait

    def acquire(self) -> float | None:
        return self.wait


def _refusal(wait: float) -> str:
    http = httpx.Client(transport=httpx.MockTransport(lambda request: httpx.Response(200, json=ITEM)))
    client = AutotaskClient("u@example.com", "s", "c", base_url=BASE, http_client=http, hourly_budget=_Spent(wait))
    try:
        client.contract_milestones.get(7)
    except errors.BudgetExhaustedError as exc:
        return str(exc)
    raise AssertionError("not refused")


def test_a_refusals_wait_is_never_said_as_zero_seconds() -> None:
    assert "hourly budget of 10 requests exhausted; a slot frees in 0.4s (not sent)" in _refusal(0.4)
    assert "a slot frees in 0.1s" in _refusal(0.01)
    assert "a slot frees in 1234s" in _refusal(1234.4)
