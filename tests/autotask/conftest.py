"""Fixtures for the Autotask tests: a seeded sandbox and clients wired to it in-process.

Every Autotask test is also a contract test: what the client sends to an in-process sandbox, and what the
emulator answers, must fit Autotask's published swagger (``tests/contract``; skipped without ``../shared``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from billing_milestones._http import RetryPolicy
from billing_milestones.autotask import AsyncAutotaskClient, AutotaskClient, _page
from billing_milestones.sandbox.autotask import AutotaskSandbox

from .. import _clientmodes as clientmodes
from ..contract._suite import checked

#: Retries without real waiting, so retry tests stay fast.
FAST = RetryPolicy(max_retries=2, initial_delay=0.001, max_delay=0.002)


@pytest.fixture(autouse=True)
def _layouts_read_afresh() -> None:
    """Each test reads record layouts and date-time texts itself: a layout or a datetime another test (or a
    mutation run's clean pass) left in the page reader's memos would hide what ``_layout_of`` and
    ``datetime_of`` make of them now."""
    _page._LAYOUTS.clear()
    _page._DATETIMES.clear()


@pytest.fixture(autouse=True)
def _speaks_the_documented_api() -> Iterator[None]:
    with checked("autotask") as problems:
        yield
    if problems:
        pytest.fail("against Autotask's description:\n" + "\n".join(sorted(set(problems))), pytrace=False)


@pytest.fixture
def sandbox() -> AutotaskSandbox:
    sb = AutotaskSandbox()
    sb.seed_demo()
    return sb


def make_client(sandbox: AutotaskSandbox, **kwargs: Any) -> AutotaskClient:
    kwargs.setdefault("retry_policy", FAST)
    kwargs.setdefault("currency", "USD")
    return AutotaskClient(
        sandbox.USERNAME, sandbox.SECRET, sandbox.INTEGRATION_CODE, http_client=sandbox.http_client(), **kwargs
    )


def make_async_client(sandbox: AutotaskSandbox, **kwargs: Any) -> AsyncAutotaskClient:
    kwargs.setdefault("retry_policy", FAST)
    kwargs.setdefault("currency", "USD")
    return AsyncAutotaskClient(
        sandbox.USERNAME, sandbox.SECRET, sandbox.INTEGRATION_CODE, http_client=sandbox.async_http_client(), **kwargs
    )


@pytest.fixture
def client(sandbox: AutotaskSandbox) -> Iterator[AutotaskClient]:
    with make_client(sandbox) as c:
        yield c


@pytest.fixture
async def aclient(sandbox: AutotaskSandbox) -> AsyncIterator[AsyncAutotaskClient]:
    async with make_async_client(sandbox) as c:
        yield c


# -- every blocking client test runs against the asyncio client too (see tests/_clientmodes.py) ----------
_CLIENT_MODULES = frozenset({"test_client", "test_view", "test_zones", "test_currency", "test_casing"})


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    clientmodes.parametrise(metafunc, _CLIENT_MODULES, ("AutotaskClient", "respx_client"))


@pytest.fixture
def client_mode(request: pytest.FixtureRequest) -> str:
    return str(getattr(request, "param", "sync"))


@pytest.fixture(autouse=True)
def _client_mode(client_mode: str, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    yield from clientmodes.install(client_mode, request, monkeypatch, {"AutotaskClient": AsyncAutotaskClient})
