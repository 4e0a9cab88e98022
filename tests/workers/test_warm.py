"""A worker opens its shared budgets' connections before its first job: its first Autotask requests then
wait on no connect (a server process forked, its caches filled) while other workers hold the slots."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

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
