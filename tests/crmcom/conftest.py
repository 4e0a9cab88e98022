"""Fixtures for the crm.com tests: a seeded sandbox and clients bound to it (sync and async).

Every crm.com test is also a contract test: what the client sends to an in-process sandbox, and what the
emulator answers, must fit crm.com's published description (``tests/contract``; skipped without ``../shared``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest

from billing_milestones._http import RetryPolicy, dumps
from billing_milestones.crmcom import AsyncCrmComClient, CrmComClient, OrderDraft, OrderItem
from billing_milestones.sandbox.crmcom import CrmComSandbox, DemoSeed

from .. import _clientmodes as clientmodes
from ..contract._suite import checked

#: No waiting between retries in tests.
FAST = RetryPolicy(initial_delay=0.0, max_delay=0.0, jitter=0.0)


@pytest.fixture(autouse=True)
def _speaks_the_documented_api() -> Iterator[None]:
    with checked("crmcom") as problems:
        yield
    if problems:
        pytest.fail("against crm.com's description:\n" + "\n".join(sorted(set(problems))), pytrace=False)


@pytest.fixture
def sandbox() -> CrmComSandbox:
    return CrmComSandbox()


@pytest.fixture
def seed(sandbox: CrmComSandbox) -> DemoSeed:
    return sandbox.seed_demo()


@pytest.fixture
def client(sandbox: CrmComSandbox, seed: DemoSeed) -> Iterator[CrmComClient]:
    with CrmComClient(seed.secret_key, http_client=sandbox.http_client(), retry_policy=FAST) as c:
        yield c


@pytest.fixture
async def aclient(sandbox: CrmComSandbox, seed: DemoSeed) -> AsyncIterator[AsyncCrmComClient]:
    async with AsyncCrmComClient(seed.secret_key, http_client=sandbox.async_http_client(), retry_policy=FAST) as c:
        yield c


class DraftFactory:
    """Order drafts for the demo contact's account."""

    def __init__(self, seed: DemoSeed) -> None:
        self.seed = seed

    def __call__(
        self, currency: str = "EUR", *, quantity: int = 1, queue: str = "standard", **extra: Any
    ) -> OrderDraft:
        return OrderDraft(
            account_id=self.seed.account_id,
            supply_method="PICK_UP",
            delivery_method="COURIER_SERVICE",
            payment_method_type="CASH",
            items=[OrderItem(id=self.seed.products[currency], quantity=quantity)],
            queue_id=self.seed.queues[queue],
            **extra,
        )


@pytest.fixture
def make_draft(seed: DemoSeed) -> DraftFactory:
    return DraftFactory(seed)


class Overrides(httpx.BaseTransport, httpx.AsyncBaseTransport):
    """The sandbox, except for responses queued per method and path suffix (each answers one request)."""

    def __init__(self, sandbox: CrmComSandbox) -> None:
        self.inner = sandbox.transport()
        self.queued: list[tuple[str, str, int, bytes]] = []

    def queue(self, method: str, suffix: str, body: Any, status: int = 200) -> None:
        content = body if isinstance(body, bytes) else dumps(body).encode()
        self.queued.append((method, suffix, status, content))

    def _pick(self, request: httpx.Request) -> httpx.Response | None:
        for i, (method, suffix, status, content) in enumerate(self.queued):
            if request.method == method and request.url.path.endswith(suffix):
                del self.queued[i]
                headers = {"content-type": "application/json"}
                return httpx.Response(status, content=content, headers=headers, request=request)
        return None

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        return self._pick(request) or self.inner.handle_request(request)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return self._pick(request) or await self.inner.handle_async_request(request)


@pytest.fixture
def overrides(sandbox: CrmComSandbox, seed: DemoSeed) -> Overrides:
    return Overrides(sandbox)


@pytest.fixture
def oclient(overrides: Overrides, seed: DemoSeed) -> Iterator[CrmComClient]:
    """A client on the sandbox whose next responses a test may replace (``overrides.queue``)."""
    with CrmComClient(seed.secret_key, http_client=httpx.Client(transport=overrides), retry_policy=FAST) as c:
        yield c


@pytest.fixture
async def aoclient(overrides: Overrides, seed: DemoSeed) -> AsyncIterator[AsyncCrmComClient]:
    http = httpx.AsyncClient(transport=overrides)
    async with AsyncCrmComClient(seed.secret_key, http_client=http, retry_policy=FAST) as c:
        yield c


# -- every blocking client test runs against the asyncio client too (see tests/_clientmodes.py) ----------
_CLIENT_MODULES = frozenset({"test_client", "test_client_sandbox", "test_view"})


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    clientmodes.parametrise(metafunc, _CLIENT_MODULES, ("CrmComClient",))


@pytest.fixture
def client_mode(request: pytest.FixtureRequest) -> str:
    return str(getattr(request, "param", "sync"))


@pytest.fixture(autouse=True)
def _client_mode(client_mode: str, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    yield from clientmodes.install(client_mode, request, monkeypatch, {"CrmComClient": AsyncCrmComClient})
