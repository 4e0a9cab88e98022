"""Budgets, slots, leases and the workers' own connections under a database or role whose
``default_transaction_isolation`` is REPEATABLE READ or SERIALIZABLE: every one of them runs at READ
COMMITTED, so a take that waited on a lock reads what the holder committed (refused, or a PairBusyError)
instead of failing with a serialization failure, and N takers together still never exceed the limit."""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

import psycopg
import pytest

from billing_milestones.errors import PairBusyError
from billing_milestones.sync.store import LinkStore
from billing_milestones.workers import PostgresHourlyBudget, PostgresLimiter, _app, _liveness

from .._postgres import PostgresServer, fresh_database

LEVELS = ["repeatable read", "serializable"]


def _strict_url(server: PostgresServer, level: str, scope: str) -> str:
    """A fresh schema reached as a new role whose default isolation is ``level``, set on the role or on a new
    database (``ALTER ROLE/DATABASE ... SET``, what an administrator would do)."""
    role = f"r_{uuid.uuid4().hex[:10]}"
    url = fresh_database(server)
    with psycopg.connect(server.url(), autocommit=True) as conn:
        conn.execute(f"CREATE ROLE {role} LOGIN SUPERUSER")
        if scope == "role":
            conn.execute(f"ALTER ROLE {role} SET default_transaction_isolation = '{level}'")
        else:
            database = f"d_{uuid.uuid4().hex[:10]}"
            conn.execute(f"CREATE DATABASE {database}")
            conn.execute(f"ALTER DATABASE {database} SET default_transaction_isolation = '{level}'")
            url = server.url(database)
    url = url.replace("postgres@", f"{role}@")
    with psycopg.connect(url, autocommit=True) as conn:  # the default is in force for this role's sessions
        row = conn.execute("SHOW default_transaction_isolation").fetchone()
        assert row is not None and row[0] == level
    return url


@pytest.fixture(params=[(level, "role") for level in LEVELS] + [("repeatable read", "database")], ids=str)
def strict_url(request: pytest.FixtureRequest, postgres_server: PostgresServer) -> str:
    level, scope = request.param
    return _strict_url(postgres_server, level, scope)


def _wait_for_a_lock_waiter(url: str, timeout: float = 10.0) -> None:
    """Until some session of the server waits for a lock (the taker under test is blocked behind ours)."""
    deadline = time.monotonic() + timeout
    with psycopg.connect(url, autocommit=True) as conn:
        while time.monotonic() < deadline:
            row = conn.execute("SELECT count(*) FROM pg_locks WHERE NOT granted").fetchone()
            if row is not None and row[0]:
                return
            time.sleep(0.01)
    raise AssertionError("the taker never waited for the held lock")


def _in_thread(call: Callable[[], object]) -> tuple[threading.Thread, list[object]]:
    """``call`` on a thread of its own; its result or the exception it raised, in the list once it ends."""
    out: list[object] = []

    def run() -> None:
        try:
            out.append(call())
        except Exception as exc:
            out.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    return thread, out


def test_a_budget_take_that_waited_on_the_last_slot_is_refused_not_failed(strict_url: str) -> None:
    """Another take holds the key's lock while it takes the last slot; ours waits for it, then must see that
    slot gone (refused, with a wait) rather than fail on a snapshot taken before the wait."""
    budget = PostgresHourlyBudget(strict_url, 1, key="strict")
    budget.warm(1)
    try:
        with psycopg.connect(strict_url) as other:
            other.execute("SET TRANSACTION ISOLATION LEVEL READ COMMITTED")
            row = other.execute("SELECT taken FROM bm_budget_take_v1(%s, 3600, 1)", (budget.key,)).fetchone()
            assert row == (True,)
            thread, out = _in_thread(budget.acquire)
            _wait_for_a_lock_waiter(strict_url)
            other.commit()
        thread.join(30)
        assert len(out) == 1 and isinstance(out[0], float) and out[0] > 0, out
        assert budget.used() == 1
    finally:
        budget.close()


def test_concurrent_budget_takers_admit_exactly_the_limit_and_none_fails(strict_url: str) -> None:
    budgets = [PostgresHourlyBudget(strict_url, 60, key="many") for _ in range(4)]
    for budget in budgets:
        budget.warm(2)
    admitted: list[object] = []
    lock = threading.Lock()

    def takes(budget: PostgresHourlyBudget) -> None:
        for _ in range(30):
            try:
                result: object = budget.acquire()
            except Exception as exc:
                result = exc
            with lock:
                admitted.append(result)

    threads = [threading.Thread(target=takes, args=(budgets[i % 4],)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    try:
        assert [r for r in admitted if isinstance(r, Exception)] == []
        assert sum(r is None for r in admitted) == 60 == budgets[0].used()
    finally:
        for budget in budgets:
            budget.close()


def test_concurrent_slot_takers_never_fail_nor_exceed_the_slots(strict_url: str) -> None:
    limiters = [PostgresLimiter(strict_url, 3, namespace="strict") for _ in range(4)]
    now = peak = 0
    errors: list[Exception] = []
    lock = threading.Lock()

    def holds(i: int) -> None:
        nonlocal now, peak
        for _ in range(25):
            try:
                with limiters[i % 4]("a"):
                    with lock:
                        now += 1
                        peak = max(peak, now)
                    time.sleep(0.003)
                    with lock:
                        now -= 1
            except Exception as exc:
                with lock:
                    errors.append(exc)

    threads = [threading.Thread(target=holds, args=(i,)) for i in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    try:
        assert errors == [] and peak == 3
    finally:
        for limiter in limiters:
            limiter.close()


def test_a_run_that_waited_for_a_lease_being_taken_is_told_the_pair_is_busy(strict_url: str) -> None:
    """One store takes the pair's lease in a transaction still open; a second run's take waits on its row,
    then must read the new holder (PairBusyError, nothing written) rather than fail on its snapshot."""
    first, second = LinkStore(strict_url), LinkStore(strict_url)
    try:
        with first.backend.transaction():
            assert first.try_lease("p", "first-run", 60).owner == "first-run"
            thread, out = _in_thread(lambda: second.lease("p", wait=0.0).acquire())
            _wait_for_a_lock_waiter(strict_url)
        thread.join(30)
        assert len(out) == 1 and isinstance(out[0], PairBusyError), out
        holder = second.lease_holder("p")
        assert holder is not None and holder.owner == "first-run"
    finally:
        first.close()
        second.close()


def _isolation(conn: Any) -> str:
    row = conn.execute("SHOW default_transaction_isolation").fetchone()
    return str(next(iter(row.values())) if isinstance(row, dict) else row[0])  # the store's rows are dicts


def test_the_store_budget_queue_and_liveness_connections_run_at_read_committed(strict_url: str) -> None:
    store = LinkStore(strict_url)
    budget = PostgresHourlyBudget(strict_url, 5, key="show")
    try:
        assert _isolation(store.backend.conn) == "read committed"  # type: ignore[attr-defined]
        with budget._pool.get().connection() as conn:
            assert _isolation(conn) == "read committed"
        with psycopg.connect(strict_url) as queue:  # procrastinate's sync pool (``milestones enqueue``)
            _app._autocommit(queue)
            assert _isolation(queue) == "read committed"
    finally:
        store.close()
        budget.close()

    async def async_sessions() -> list[str]:
        queue = await psycopg.AsyncConnection.connect(strict_url)
        await _app._autocommit(queue)  # the worker's async pool awaits what it returns
        lock = await _liveness.Liveness(strict_url)._connect()
        try:
            shown = []
            for conn in (queue, lock):
                row = await (await conn.execute("SHOW default_transaction_isolation")).fetchone()
                shown.append(str(row[0]) if row else "")
            return shown
        finally:
            await queue.close()
            await lock.close()

    assert asyncio.run(async_sessions()) == ["read committed", "read committed"]
