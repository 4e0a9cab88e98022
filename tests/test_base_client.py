"""The shared client base: options per client and per copy, pool sharing, lifecycle; sync and async twins."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from billing_milestones import errors
from billing_milestones._base_client import AsyncAPIClient, SyncAPIClient, build_retry_policy
from billing_milestones._http import AsyncRunner, ClientCore, RequestSpec, RetryPolicy, SyncRunner

GET = RequestSpec("GET", "/things")


def make_core(**overrides: Any) -> ClientCore:
    fields: dict[str, Any] = {
        "platform": "testplat",
        "base_url": httpx.URL("https://api.example.com/v1"),
        "credentials": lambda: {"Authorization": "Bearer test-token-123"},
        "retry": RetryPolicy(jitter=0.0),
    }
    fields.update(overrides)
    return ClientCore(**fields)


class Recorder:
    def __init__(self, status: int = 503) -> None:
        self.status = status
        self.requests: list[httpx.Request] = []
        self.sleeps: list[float] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return httpx.Response(self.status, json={"message": "x"})

    async def asleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)


class Things:
    def __init__(self, client: SyncAPIClient | AsyncAPIClient) -> None:
        self.client = client


class DemoClient(SyncAPIClient):
    """A platform client in miniature: a resource bound in _init_resources."""

    def __init__(self, rec: Recorder, *, max_retries: int = 2, http_client: httpx.Client | None = None) -> None:
        core = make_core(retry=build_retry_policy(max_retries, RetryPolicy(jitter=0.0)))
        super().__init__(core, http_client or httpx.Client(transport=httpx.MockTransport(rec)))
        self._runner = SyncRunner(core, self._runner.http, sleep=rec.sleeps.append)

    def _init_resources(self) -> None:
        self.things = Things(self)

    def get(self) -> Any:
        return self._runner.request(GET)


class AsyncDemoClient(AsyncAPIClient):
    def __init__(self, rec: Recorder, *, max_retries: int = 2, http_client: httpx.AsyncClient | None = None) -> None:
        core = make_core(retry=build_retry_policy(max_retries, RetryPolicy(jitter=0.0)))
        super().__init__(core, http_client or httpx.AsyncClient(transport=httpx.MockTransport(rec)))
        self._runner = AsyncRunner(core, self._runner.http, sleep=rec.asleep)

    def _init_resources(self) -> None:
        self.things = Things(self)

    async def get(self) -> Any:
        return await self._runner.request(GET)


def test_build_retry_policy() -> None:
    assert build_retry_policy(2, None) == RetryPolicy()
    assert build_retry_policy(0, None).max_retries == 0
    custom = RetryPolicy(max_retries=4, initial_delay=1.0)
    assert build_retry_policy(0, custom) == RetryPolicy(max_retries=0, initial_delay=1.0)
    assert build_retry_policy(4, custom) is custom


# -- sync ---------------------------------------------------------------------------------------------------


def test_with_options_max_retries_on_a_copy() -> None:
    rec = Recorder()
    client = DemoClient(rec)
    more = client.with_options(max_retries=5)
    with pytest.raises(errors.InternalServerError) as info:
        more.get()
    assert len(rec.requests) == 6
    assert info.value.retries_taken == 5
    assert rec.sleeps == [0.5, 1.0, 2.0, 4.0, 8.0]  # the copy kept the fake sleep
    assert more.retry_policy.max_retries == 5
    assert more.things.client is more  # resources re-bound to the copy
    assert client.things.client is client
    # The original is unchanged and shares the pool.
    assert client.retry_policy.max_retries == 2
    assert more._runner.http is client._runner.http
    rec.requests.clear()
    with pytest.raises(errors.InternalServerError):
        client.get()
    assert len(rec.requests) == 3


def test_max_retries_zero_per_client_and_per_copy() -> None:
    rec = Recorder()
    with pytest.raises(errors.InternalServerError):
        DemoClient(rec, max_retries=0).get()
    assert len(rec.requests) == 1
    rec.requests.clear()
    with pytest.raises(errors.InternalServerError):
        DemoClient(rec).with_options(max_retries=0).get()
    assert len(rec.requests) == 1


def test_with_options_retry_policy_and_timeout() -> None:
    rec = Recorder(200)
    client = DemoClient(rec)
    copy = client.with_options(retry_policy=RetryPolicy(max_retries=1, initial_delay=2.0), timeout=None)
    assert copy.retry_policy == RetryPolicy(max_retries=1, initial_delay=2.0)
    copy.get()
    assert set(rec.requests[-1].extensions["timeout"].values()) == {None}
    client.get()
    assert rec.requests[-1].extensions["timeout"] == {"connect": 5.0, "read": 30.0, "write": 30.0, "pool": 30.0}
    client.with_options(timeout=3).get()
    assert set(rec.requests[-1].extensions["timeout"].values()) == {3.0}
    both = client.with_options(max_retries=0, retry_policy=RetryPolicy(max_retries=9, initial_delay=1.0))
    assert (both.retry_policy.max_retries, both.retry_policy.initial_delay) == (0, 1.0)
    assert client.base_url == httpx.URL("https://api.example.com/v1")


def test_context_manager_closes_only_its_own_pool() -> None:
    rec = Recorder(200)
    with DemoClient(rec) as client:
        pass
    own = SyncAPIClient(make_core())
    with own:
        pass
    assert own._runner.http.is_closed
    external = httpx.Client(transport=httpx.MockTransport(rec))
    with DemoClient(rec, http_client=external) as client:
        client.with_options(max_retries=1).close()  # a copy never closes the shared pool
        assert not external.is_closed
    assert not external.is_closed
    external.close()


# -- async ----------------------------------------------------------------------------------------------------


async def test_async_with_options_max_retries_on_a_copy() -> None:
    rec = Recorder()
    client = AsyncDemoClient(rec)
    more = client.with_options(max_retries=5)
    with pytest.raises(errors.InternalServerError) as info:
        await more.get()
    assert len(rec.requests) == 6
    assert info.value.retries_taken == 5
    assert rec.sleeps == [0.5, 1.0, 2.0, 4.0, 8.0]
    assert more.things.client is more
    assert client.retry_policy.max_retries == 2
    assert more._runner.http is client._runner.http
    rec.requests.clear()
    with pytest.raises(errors.InternalServerError):
        await client.with_options(max_retries=0).get()
    assert len(rec.requests) == 1


async def test_async_timeout_and_lifecycle() -> None:
    rec = Recorder(200)
    external = httpx.AsyncClient(transport=httpx.MockTransport(rec))
    async with AsyncDemoClient(rec, http_client=external) as client:
        await client.with_options(timeout=None).get()
        assert set(rec.requests[-1].extensions["timeout"].values()) == {None}
        await client.get()
        assert rec.requests[-1].extensions["timeout"]["connect"] == 5.0
    assert not external.is_closed
    await external.aclose()
    own = AsyncAPIClient(make_core())
    async with own:
        pass
    assert own._runner.http.is_closed


def _clients() -> list[tuple[str, object]]:
    from billing_milestones import (
        AsyncAutotaskClient,
        AsyncCrmComClient,
        AsyncKantataClient,
        AutotaskClient,
        CrmComClient,
        KantataClient,
    )

    autotask = ("user@x", "secret-1234", "CODE-1234")
    base = "https://webservices2.autotask.net/ATServicesRest/V1.0"
    return [
        ("kantata", lambda **kw: KantataClient("tok-1234", **kw)),
        ("async kantata", lambda **kw: AsyncKantataClient("tok-1234", **kw)),
        ("autotask", lambda **kw: AutotaskClient(*autotask, base_url=base, **kw)),
        ("async autotask", lambda **kw: AsyncAutotaskClient(*autotask, base_url=base, **kw)),
        ("crmcom", lambda **kw: CrmComClient("key-1234", **kw)),
        ("async crmcom", lambda **kw: AsyncCrmComClient("key-1234", **kw)),
    ]


@pytest.mark.parametrize(("name", "make"), _clients(), ids=[n for n, _ in _clients()])
def test_every_client_keeps_a_given_policys_retry_count(name: str, make: Any) -> None:
    assert make().retry_policy.max_retries == 2
    assert make(retry_policy=RetryPolicy(max_retries=5)).retry_policy.max_retries == 5
    assert make(retry_policy=RetryPolicy(max_retries=5), max_retries=0).retry_policy.max_retries == 0
    assert make(max_retries=7).retry_policy.max_retries == 7
