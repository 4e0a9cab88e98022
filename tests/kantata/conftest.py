"""Every Kantata test is also a contract test: what the client sends to an in-process sandbox, and what the
emulator answers, must fit Kantata's published description (``tests/contract``; skipped without ``../shared``)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from billing_milestones.kantata import AsyncKantataClient

from .. import _clientmodes as clientmodes
from ..contract._suite import checked


@pytest.fixture(autouse=True)
def _speaks_the_documented_api() -> Iterator[None]:
    with checked("kantata") as problems:
        yield
    if problems:
        pytest.fail("against Kantata's description:\n" + "\n".join(sorted(set(problems))), pytrace=False)


# -- every blocking client test runs against the asyncio client too (see tests/_clientmodes.py) ----------
_CLIENT_MODULES = frozenset({"test_client", "test_client_sandbox", "test_view"})


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    clientmodes.parametrise(metafunc, _CLIENT_MODULES, ("KantataClient",))


@pytest.fixture
def client_mode(request: pytest.FixtureRequest) -> str:
    return str(getattr(request, "param", "sync"))


@pytest.fixture(autouse=True)
def _client_mode(client_mode: str, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    yield from clientmodes.install(client_mode, request, monkeypatch, {"KantataClient": AsyncKantataClient})
