"""The runners' before-send hook (_http/_before_send.py): asked before every attempt of a write, after every
wait (budget, limiter, retry), right before the send; a refusal sends nothing and is not retried; the sync and
async runners drive it alike (the async one makes its blocking call off the event loop)."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from billing_milestones import errors
from billing_milestones._http import AsyncRunner, Blocking, RequestSpec, SyncRunner
from billing_milestones._http._before_send import before_send

from .conftest import Harness, HarnessFactory, make_core

POST = RequestSpec("POST", "/things", json={"a": 1})


class Refused(errors.SyncError):
    def __init__(self) -> None:
        super().__init__("lease lost", pair_id="p")


class Hook:
    """Notes each ask in ``events``; asks a blocking call from the ``call_from``-th ask on, which raises
    ``refuse`` from the ``refuse_from``-th on."""

    def __init__(self, events: list[str], *, call_from: int = 1, refuse_from: int | None = None) -> None:
        self.events, self.call_from, self.refuse_from = events, call_from, refuse_from
        self.asked: list[RequestSpec] = []
        self.threads: set[int] = set()

    def __call__(self, spec: RequestSpec) -> Blocking[None] | None:
        self.asked.append(spec)
        self.events.append(f"ask {spec.method}")
        return Blocking(self._call) if len(self.asked) >= self.call_from else None

    def _call(self) -> None:
        self.threads.add(threading.get_ident())
        self.events.append("check")
        if self.refuse_from is not None and len(self.asked) >= self.refuse_from:
            raise Refused


def _harness(factory: HarnessFactory, events: list[str], *statuses: int) -> Harness:
    queue = list(statuses)

    def handler(request: httpx.Request) -> httpx.Response:
        events.append(f"send {request.method}")
        return httpx.Response(queue.pop(0) if queue else 200, headers={"Retry-After": "7"}, json={"ok": True})

    h = factory(handler)
    h.sleeps = _Noted(events)
    h.runner._sleep = h.sleeps.append if isinstance(h.runner, SyncRunner) else _async_append(h.sleeps)
    return h


class _Noted(list[float]):
    def __init__(self, events: list[str]) -> None:
        super().__init__()
        self.events = events

    def append(self, seconds: float) -> None:
        self.events.append(f"sleep {seconds:g}")
        super().append(seconds)


def _async_append(sleeps: list[float]) -> Any:
    async def asleep(seconds: float) -> None:
        sleeps.append(seconds)

    return asleep


def _run(h: Harness, hook: Hook, spec: RequestSpec = POST) -> Any:
    async def go() -> Any:
        with before_send(hook):
            return await h.request(spec)

    return asyncio.run(go())


def test_every_attempt_of_a_write_is_asked_after_its_retry_wait_right_before_it_is_sent(
    harness: HarnessFactory,
) -> None:
    events: list[str] = []
    h = _harness(harness, events, 503, 429)
    hook = Hook(events, call_from=2)
    assert _run(h, hook).status_code == 200
    assert events == [
        "ask POST",  # the first attempt: nothing to do (the hook said so)
        "send POST",
        "sleep 7",
        "ask POST",
        "check",
        "send POST",
        "sleep 7",
        "ask POST",
        "check",
        "send POST",
    ]
    if isinstance(h.runner, AsyncRunner):
        assert threading.get_ident() not in hook.threads  # made in a worker thread, not on the loop's


def test_a_refused_attempt_is_not_sent_nor_retried_and_its_error_leaves_the_call(harness: HarnessFactory) -> None:
    events: list[str] = []
    h = _harness(harness, events, 503, 503)
    hook = Hook(events, refuse_from=2)
    with pytest.raises(Refused):
        _run(h, hook)
    assert events == ["ask POST", "check", "send POST", "sleep 7", "ask POST", "check"]
    assert h.attempts == 1


@pytest.mark.parametrize("method", ["GET", "HEAD", "OPTIONS"])
def test_reads_and_requests_without_credentials_are_never_asked(harness: HarnessFactory, method: str) -> None:
    events: list[str] = []
    h = _harness(harness, events)
    hook = Hook(events, refuse_from=1)
    _run(h, hook, RequestSpec(method, "/things"))
    _run(h, hook, RequestSpec("POST", "/token", authenticated=False))
    assert hook.asked == [] and h.attempts == 2
    for write in ("PUT", "PATCH", "DELETE"):
        with pytest.raises(Refused):
            _run(h, hook, RequestSpec(write, "/things/1"))
    assert [s.method for s in hook.asked] == ["PUT", "PATCH", "DELETE"] and h.attempts == 2


def test_outside_the_block_nothing_is_asked(harness: HarnessFactory) -> None:
    events: list[str] = []
    h = _harness(harness, events)
    hook = Hook(events, refuse_from=1)
    with pytest.raises(Refused):
        _run(h, hook)
    asyncio.run(h.request(POST))
    assert [e for e in events if e.startswith("ask")] == ["ask POST"] and h.attempts == 1


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_the_hook_is_asked_after_the_budget_and_inside_the_limiter(mode: str) -> None:
    events: list[str] = []

    class Budget:
        def acquire(self) -> float | None:
            events.append("budget")
            return None

    @contextlib.contextmanager
    def slot() -> Iterator[None]:
        events.append("slot in")
        yield
        events.append("slot out")

    @contextlib.asynccontextmanager
    async def aslot() -> Any:
        with slot():
            yield

    def handler(request: httpx.Request) -> httpx.Response:
        events.append("send")
        return httpx.Response(200, json={})

    hook = Hook(events)
    spec = RequestSpec("POST", "/things", limit_key="things")

    async def go() -> None:
        with before_send(hook):
            if mode == "sync":
                with httpx.Client(transport=httpx.MockTransport(handler)) as http:
                    SyncRunner(make_core(), http, limiter=lambda key: slot(), request_budget=Budget()).request(spec)
            else:
                async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as ahttp:
                    runner = AsyncRunner(make_core(), ahttp, limiter=lambda key: aslot(), request_budget=Budget())
                    await runner.request(spec)

    asyncio.run(go())
    assert events == ["budget", "slot in", "ask POST", "check", "send", "slot out"]
