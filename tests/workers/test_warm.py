"""A worker opens its shared budgets' connections before its first job: its first Autotask requests then
wait on no connect (a server process forked, its caches filled) while other workers hold the slots."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from billing_milestones import Platform
from billing_milestones.errors import ConfigError
from billing_milestones.sync.config import load_settings
from billing_milestones.workers import PostgresHourlyBudget, PostgresLimiter, WorkerApp

from .._postgres import PostgresServer, fresh_database
from .conftest import Deployment


def _settled(pool: Any) -> int:
    """The connects a pool has made, once no more are under way (a pool growing may add one after a wait)."""
    before = -1
    for _ in range(50):
        now = int(pool.get_stats()["connections_num"])
        if now == before:
            return now
        before = now
        time.sleep(0.1)
    return before


def _opened(pool: object) -> int:
    return int(pool.get_stats()["pool_size"])  # type: ignore[attr-defined]


def test_a_warmed_limiter_takes_three_slots_at_once_on_connections_already_open(
    postgres_server: PostgresServer,
) -> None:
    limiter = PostgresLimiter(fresh_database(postgres_server), 3, namespace="t")
    try:
        limiter.warm(3)
        pool = limiter._pool.get()
        assert _opened(pool) >= 3 and limiter._schema  # the pool may open one more while it grows
        connects = _settled(pool)
        assert limiter._wakeups._thread is not None and limiter._wakeups._first.is_set()  # listening already
        together = threading.Barrier(3)

        def hold(_: int) -> None:
            with limiter("k"):
                together.wait(10)  # three holds at once

        with ThreadPoolExecutor(3) as threads:
            list(threads.map(hold, range(3)))
        assert pool.get_stats()["connections_num"] == connects  # not one connect more
    finally:
        limiter.close()


def test_a_warmed_budget_has_its_table_and_connections(postgres_server: PostgresServer) -> None:
    budget = PostgresHourlyBudget(fresh_database(postgres_server), 10, key="t")
    try:
        budget.warm(2)
        assert budget._ready and _opened(budget._pool.get()) >= 2
        assert budget.acquire() is None and budget.used() == 1
        budget.warm(9)  # never more than its pool
        assert _opened(budget._pool.get()) == 4
    finally:
        budget.close()


def test_a_worker_warms_the_autotask_budgets_of_its_pairs_before_its_first_job(deployment: Deployment) -> None:
    worker = WorkerApp(deployment.settings())
    try:
        assert worker.budgets._limiters == {}
        worker.warm_up(stores=3)
        ((limiter, budget),) = zip(worker.budgets._limiters.values(), worker.budgets._budgets.values(), strict=True)
        assert _opened(limiter._pool.get()) >= 3 and _opened(budget._pool.get()) >= 3
        assert limiter._wakeups._first.is_set()
    finally:
        worker.stores.close()
        worker.budgets.close()


class _Watched:
    """A client whose milestone view is noted when it is built."""

    def __init__(self, client: Any, viewed: list[str]) -> None:
        self.client, self.viewed = client, viewed

    def __enter__(self) -> _Watched:
        self.client.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.client.__exit__(*exc)

    @property
    def milestones(self) -> Any:
        self.viewed.append(type(self.client).__name__)
        return self.client.milestones


def _refuse_sends(monkeypatch: pytest.MonkeyPatch) -> None:
    def send(*args: object, **kwargs: object) -> httpx.Response:
        raise AssertionError("a warm-up sent a request")

    monkeypatch.setattr(httpx.Client, "send", send)


def test_a_worker_builds_each_platforms_client_and_view_before_its_first_job_and_sends_nothing(
    deployment: Deployment, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first client a process builds imports its platform's modules: done in the warm-up, the first
    jobs' threads do not wait for it one after another."""
    worker = WorkerApp(deployment.settings())
    viewed: list[str] = []
    connect = worker.budgets.connect
    monkeypatch.setattr(
        worker.budgets, "connect", lambda platform, settings: _Watched(connect(platform, settings), viewed)
    )
    _refuse_sends(monkeypatch)
    try:
        worker.warm_up()
        # The demo's pairs read Autotask and crm.com and write Kantata.
        assert sorted(viewed) == ["AutotaskClient", "CrmComClient", "KantataClient"]
    finally:
        worker.stores.close()
        worker.budgets.close()


def test_a_platform_the_config_cannot_connect_yet_is_left_to_the_job(
    deployment: Deployment, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = {k: v for k, v in deployment.env.items() if k != "KANTATA_TOKEN"}
    worker = WorkerApp(load_settings(deployment.config, env=env))
    _refuse_sends(monkeypatch)
    try:
        worker.warm_up()  # no error here: the job names the missing token
        with pytest.raises(ConfigError, match="token"):
            worker.budgets.connect(Platform.KANTATA, worker.settings)
        assert Platform.KANTATA in worker.budgets._http
    finally:
        worker.stores.close()
        worker.budgets.close()
