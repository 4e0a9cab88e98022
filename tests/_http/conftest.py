"""Helpers for the HTTP core tests: a core, and a harness that drives the sync or the async runner alike."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any, TypeVar

import httpx
import pytest

from billing_milestones._http import (
    AsyncRunner,
    ClientCore,
    Operation,
    PagedOperation,
    RequestSpec,
    RetryPolicy,
    SyncRunner,
    secret_value,
)
from billing_milestones._http._core import RetryHook

T = TypeVar("T")

BASE_URL = "https://api.example.com/v1"
TOKEN = "tok-S3CRET-9f8e7d6c5b4a"
Handler = Callable[[httpx.Request], httpx.Response]


def make_core(**overrides: Any) -> ClientCore:
    secret = secret_value(TOKEN, field="token")
    fields: dict[str, Any] = {
        "platform": "testplat",
        "base_url": httpx.URL(BASE_URL),
        "credentials": lambda: {"Authorization": f"Bearer {secret.get_secret_value()}"},
        # No jitter unless a test asks for it, so waits are exact.
        "retry": RetryPolicy(jitter=0.0),
    }
    fields.update(overrides)
    return ClientCore(**fields)


class CountingStream(httpx.SyncByteStream, httpx.AsyncByteStream):
    """A response body that counts how many bodies were opened and closed (a stand-in for connections)."""

    opened = 0
    closed = 0

    def __init__(self, content: bytes) -> None:
        type(self).opened += 1
        self._content = content
        self._closed = False

    def __iter__(self) -> Iterator[bytes]:
        yield self._content

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield self._content

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            type(self).closed += 1

    async def aclose(self) -> None:
        self.close()


class Harness:
    """One runner (sync or async) over a mock transport, with a fake sleep that records the waits."""

    def __init__(
        self, mode: str, handler: Handler, core: ClientCore | None = None, *, follow_redirects: bool = False
    ) -> None:
        self.mode = mode
        self.core = core or make_core()
        self.requests: list[httpx.Request] = []
        self.sleeps: list[float] = []

        def record(request: httpx.Request) -> httpx.Response:
            self.requests.append(request)
            return handler(request)

        transport = httpx.MockTransport(record)
        self.runner: SyncRunner | AsyncRunner
        if mode == "sync":
            http = httpx.Client(transport=transport, follow_redirects=follow_redirects)
            self.runner = SyncRunner(self.core, http, sleep=self.sleeps.append)
        else:

            async def asleep(seconds: float) -> None:
                self.sleeps.append(seconds)

            ahttp = httpx.AsyncClient(transport=transport, follow_redirects=follow_redirects)
            self.runner = AsyncRunner(self.core, ahttp, sleep=asleep)

    @property
    def attempts(self) -> int:
        return len(self.requests)

    async def request(self, spec: RequestSpec) -> Any:
        if isinstance(self.runner, SyncRunner):
            return self.runner.request(spec)
        return await self.runner.request(spec)

    async def execute(self, op: Operation[T]) -> T:
        if isinstance(self.runner, SyncRunner):
            return self.runner.execute(op)
        return await self.runner.execute(op)

    async def items(self, op: PagedOperation[T], into: list[T] | None = None) -> list[T]:
        out: list[T] = [] if into is None else into
        if isinstance(self.runner, SyncRunner):
            out.extend(self.runner.iterate(op))
        else:
            async for item in self.runner.iterate(op):
                out.append(item)
        return out

    async def close(self) -> None:
        if isinstance(self.runner, SyncRunner):
            self.runner.http.close()
        else:
            await self.runner.http.aclose()


@pytest.fixture(params=["sync", "async"])
def mode(request: pytest.FixtureRequest) -> str:
    return str(request.param)


HarnessFactory = Callable[..., Harness]


@pytest.fixture
def harness(mode: str) -> Iterator[HarnessFactory]:
    def factory(
        handler: Handler,
        *,
        core: ClientCore | None = None,
        follow_redirects: bool = False,
        retry_hook: RetryHook | None = None,
        **core_overrides: Any,
    ) -> Harness:
        if core is None:
            if retry_hook is not None:
                core_overrides["retry_hook"] = retry_hook
            core = make_core(**core_overrides)
        return Harness(mode, handler, core, follow_redirects=follow_redirects)

    yield factory


def status_then_ok(*statuses: int, headers: dict[str, str] | None = None, body: Any = None) -> Handler:
    """Answer each status in turn, then 200 with ``{"ok": true}`` forever."""
    queue = list(statuses)

    def handler(request: httpx.Request) -> httpx.Response:
        if queue:
            return httpx.Response(queue.pop(0), headers=headers or {}, json=body if body is not None else {"e": 1})
        return httpx.Response(200, json={"ok": True})

    return handler


def always(status: int, headers: dict[str, str] | None = None, body: Any = None) -> Handler:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, headers=headers or {}, json=body if body is not None else {"message": "no"})

    return handler


def raising(exc_type: type[httpx.TransportError], times: int | None = None) -> Handler:
    """Raise ``exc_type`` (``times`` times, or forever), then answer 200."""
    state = {"n": 0}

    def handler(request: httpx.Request) -> httpx.Response:
        state["n"] += 1
        if times is None or state["n"] <= times:
            raise exc_type(f"injected {exc_type.__name__}", request=request)
        return httpx.Response(200, json={"ok": True})

    return handler


class Kit:
    """The helpers above, handed to tests as a fixture (test modules cannot import a conftest)."""

    BASE_URL = BASE_URL
    TOKEN = TOKEN
    CountingStream = CountingStream
    make_core = staticmethod(make_core)
    status_then_ok = staticmethod(status_then_ok)
    always = staticmethod(always)
    raising = staticmethod(raising)


@pytest.fixture
def kit() -> type[Kit]:
    return Kit
