"""Shared test settings: hypothesis profiles sized for CI, and a secret registry reset per test."""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

from billing_milestones._http import _redact
from billing_milestones._metadata_cache import SHARED_METADATA

from ._postgres import postgres_server, store_url  # noqa: F401  (fixtures: a real PostgreSQL server)

settings.register_profile("ci", max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("dev", max_examples=100, deadline=None)
settings.load_profile("ci" if os.environ.get("CI") else "dev")


if importlib.util.find_spec("xdist") is not None:  # pytest refuses a hook no installed plugin declares

    @pytest.hookimpl(tryfirst=True)  # before xdist's own, which would pick its plain load scheduler
    def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
        """``make pytest`` runs ``-n auto``: each test is a unit of its own, as xdist's default ``load``, except
        that the docs tests are one unit, run by one worker: they read the built site, a session fixture (a whole
        ``mkdocs build``) that each worker given one of them would build again. (``--dist loadgroup`` would do
        it with a mark, but it does not group under pytest 9.)"""
        if config.getvalue("dist") != "load":
            return None
        from xdist.scheduler import LoadScopeScheduling  # type: ignore[import-untyped]

        class DocsTogether(LoadScopeScheduling):  # type: ignore[misc]
            def _split_scope(self, nodeid: str) -> str:
                return "tests/docs" if nodeid.startswith("tests/docs/") else nodeid

        return DocsTogether(config, log)


#: Tests whose checks hang on other processes' or threads' timing (a second run started while the first still
#: writes, a heartbeat before a lease runs out, a ratio of request times): ``make pytest`` runs them after the
#: rest, alone (``-m serial``), not beside another xdist worker taking the other core. Each failed once beside
#: one on a loaded machine, with a passing suite otherwise.
SERIAL = (
    "tests/sync/test_overlap.py::",
    "tests/workers/test_liveness.py::",
    "tests/sandbox/test_asgi.py::test_a_kept_alive_connection_is_not_slower_than_fresh_ones",
)


@pytest.hookimpl(tryfirst=True)  # before -m reads the marks
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.nodeid.startswith(SERIAL):
            item.add_marker(pytest.mark.serial)


@pytest.fixture(autouse=True)
def _isolated_secret_registry() -> Iterator[None]:
    """Secrets registered for scrubbing live in one process-wide set; a test (a fuzz case registering a
    generated token such as "wrong") must not redact words in the messages the next test checks."""
    with _redact._lock:
        before = set(_redact._secrets)
    yield
    with _redact._lock:
        _redact._secrets.clear()
        _redact._secrets.update(before)


@pytest.fixture(autouse=True)
def _fresh_shared_metadata() -> Iterator[None]:
    """The Autotask clients the sync engine connects share a tenant's zone and picklist process-wide
    (``SHARED_METADATA``); every sandbox has the same user, so each test starts with none, as a fresh process
    would, and counts its own reads."""
    SHARED_METADATA.clear()
    yield
    SHARED_METADATA.clear()
