"""The concurrency limiter is a hook: a caller's limiter is held around each keyed send, sync and async."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest

from billing_milestones import AsyncioLimiter, AutotaskClient, ThreadLimiter, errors
from billing_milestones._http import AsyncRunner, RequestSpec, SyncRunner
from billing_milestones.autotask import RequestBudget

from .conftest import make_core

KEYED = RequestSpec("GET", "/things", limit_key="Things")
UNKEYED = RequestSpec("GET", "/other")


class Recorder:
    """A limiter that records which keys were held, and whether a send happened while holding one."""

    def __init__(self) -> None:
        self.entered: list[str] = []
        self.holding: str | None = None
        self.sent_while: list[str | None] = []

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.sent_while.append(self.holding)
        return httpx.Response(200, json={"ok": True})

    @contextlib.contextmanager
    def __call__(self, key: str) -> Iterator[None]:
        self.entered.append(key)
        self.holding = key
        try:
            yield
        finally:
            self.holding = None


class AsyncRecorder(Recorder):
    @contextlib.asynccontextmanager
    async def __call__(self, key: str) -> AsyncIterator[None]:  # type: ignore[override]
        self.entered.append(key)
        self.holding = key
        try:
            yield
        finally:
            self.holding = None


def test_a_custom_sync_limiter_is_held_around_each_keyed_send() -> None:
    rec = Recorder()
    http = httpx.Client(transport=httpx.MockTransport(rec.handler))
    runner = SyncRunner(make_core(max_in_flight=3), http, limiter=rec)
    runner.request(KEYED)
    runner.request(UNKEYED)
    assert rec.entered == ["Things"]
    assert rec.sent_while == ["Things", None]


async def test_a_custom_async_limiter_is_held_around_each_keyed_send() -> None:
    rec = AsyncRecorder()
    http = httpx.AsyncClient(transport=httpx.MockTransport(rec.handler))
    runner = AsyncRunner(make_core(), http, limiter=rec)
    await runner.request(KEYED)
    await runner.request(UNKEYED)
    assert rec.entered == ["Things"]
    assert rec.sent_while == ["Things", None]


def test_the_default_limiters_come_from_max_in_flight() -> None:
    sync = SyncRunner(make_core(max_in_flight=2), httpx.Client())
    assert isinstance(sync.limiter, ThreadLimiter) and sync.limiter.slots == 2
    assert SyncRunner(make_core(), httpx.Client()).limiter is None
    asyn = AsyncRunner(make_core(max_in_flight=4), httpx.AsyncClient())
    assert isinstance(asyn.limiter, AsyncioLimiter) and asyn.limiter.slots == 4
    assert AsyncRunner(make_core(), httpx.AsyncClient()).limiter is None


def test_one_semaphore_per_key() -> None:
    limiter = ThreadLimiter(2)
    assert limiter("a") is limiter("a")
    assert limiter("a") is not limiter("b")
    alimiter = AsyncioLimiter(2)
    assert alimiter("a") is alimiter("a") and alimiter("a") is not alimiter("b")


@pytest.mark.parametrize("slots", [0, -1, True, 1.5])
def test_a_limiter_needs_a_positive_whole_number_of_slots(slots: Any) -> None:
    with pytest.raises(ValueError, match="positive number of slots"):
        ThreadLimiter(slots)
    with pytest.raises(ValueError, match="positive number of slots"):
        AsyncioLimiter(slots)


def test_derived_runners_share_the_limiter() -> None:
    rec = Recorder()
    runner = SyncRunner(make_core(), httpx.Client(), limiter=rec)
    assert runner.derive(make_core(max_in_flight=9)).limiter is rec
    arunner = AsyncRunner(make_core(max_in_flight=2), httpx.AsyncClient())
    assert arunner.derive(make_core()).limiter is arunner.limiter


def test_a_client_takes_a_limiter_and_its_copies_keep_it() -> None:
    rec = Recorder()

    def handler(request: httpx.Request) -> httpx.Response:
        rec.sent_while.append(rec.holding)
        return httpx.Response(200, json={"item": None if request.url.path.endswith("/7") else {}})

    http = httpx.Client(transport=httpx.MockTransport(handler))
    client = AutotaskClient(
        "u@example.com", "s", "c", base_url="https://webservices2.autotask.net", http_client=http, limiter=rec
    )
    with pytest.raises(errors.NotFoundError):
        client.with_options(max_retries=0).contract_milestones.get(7)
    assert rec.entered == ["ContractMilestones"]
    assert rec.sent_while == ["ContractMilestones"]


class SharedBudget:
    """A budget of the RequestBudget shape kept elsewhere (here a list): admits ``limit`` requests in all."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.taken: list[float] = []

    def acquire(self) -> float | None:
        if len(self.taken) >= self.limit:
            return 42.0
        self.taken.append(0.0)
        return None


def test_any_request_budget_shape_is_taken_as_hourly_budget() -> None:
    sent: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request.url.path)
        return httpx.Response(200, json={"item": {"id": 7, "contractID": 1, "title": "t"}})

    budget = SharedBudget(1)
    assert isinstance(budget, RequestBudget)
    http = httpx.Client(transport=httpx.MockTransport(handler))
    client = AutotaskClient(
        "u@example.com", "s", "c", base_url="https://webservices2.autotask.net", http_client=http, hourly_budget=budget
    )
    client.contract_milestones.get(7)
    with pytest.raises(errors.RateLimitError, match="hourly budget of 1 requests exhausted") as info:
        client.contract_milestones.get(7)
    assert info.value.retry_after == 42.0
    assert len(sent) == 1
