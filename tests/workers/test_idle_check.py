"""A pooled connection is checked before it is lent by a look at its socket: a healthy one costs no round
trip, one the server ended is refused and replaced, in the queue's pool and the shared limiter's."""

from __future__ import annotations

import asyncio
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import psycopg
import pytest

from billing_milestones.sync.config import load_settings
from billing_milestones.workers import PostgresLimiter, WorkerApp
from billing_milestones.workers._idle_check import check_idle, check_idle_async, ended_by_server


def _terminate(url: str, pid: int) -> None:
    """End a backend as a restart or ``idle_session_timeout`` would, and wait until it is gone."""
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
        deadline = time.monotonic() + 10
        while admin.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", (pid,)).fetchone():
            assert time.monotonic() < deadline, "the backend did not end"
            time.sleep(0.01)


def test_a_healthy_idle_connection_passes_without_a_word_to_the_server(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn, tempfile.TemporaryFile() as trace:
        conn.execute("SELECT 1")
        conn.pgconn.trace(trace.fileno())  # libpq writes every protocol message it sends or reads here
        try:
            check_idle(conn)
            assert not ended_by_server(conn)
        finally:
            conn.pgconn.untrace()
        assert os.fstat(trace.fileno()).st_size == 0
        conn.pgconn.trace(trace.fileno())
        try:
            conn.execute("")  # what procrastinate's check sent: a message each way
        finally:
            conn.pgconn.untrace()
        assert os.fstat(trace.fileno()).st_size > 0  # the trace does see a round trip


def test_a_connection_the_server_ended_is_refused(url: str) -> None:
    conn = psycopg.connect(url, autocommit=True)
    _terminate(url, conn.info.backend_pid)
    assert ended_by_server(conn)
    with pytest.raises(psycopg.OperationalError, match="ended"):
        check_idle(conn)
    assert conn.closed  # so the pool discards it rather than lend it again


def test_the_async_check_refuses_the_same(url: str) -> None:
    async def run() -> None:
        conn = await psycopg.AsyncConnection.connect(url, autocommit=True)
        await check_idle_async(conn)
        _terminate(url, conn.info.backend_pid)
        with pytest.raises(psycopg.OperationalError):
            await check_idle_async(conn)
        assert conn.closed

    asyncio.run(run())


def test_the_queues_pool_replaces_a_connection_the_server_ended(url: str, tmp_path: Path) -> None:
    config = tmp_path / "milestones.toml"
    config.write_text(f'links = "{url}"\n\n[pairs.p]\nsource = "autotask:1"\ntarget = "kantata:2"\n')
    worker = WorkerApp(load_settings(config, env={}))

    async def run() -> list[int]:
        async with worker.app.open_async():
            await worker.ensure_schema_async()
            pool: Any = worker.app.connector.pool  # type: ignore[attr-defined]
            async with pool.connection() as conn:
                first = conn.info.backend_pid
            _terminate(url, first)
            async with pool.connection() as conn:
                second = conn.info.backend_pid
                await conn.execute("SELECT 1")
            assert await worker.recover_async() == 0  # a procrastinate query on the pool, as a worker makes
            return [first, second]

    first, second = asyncio.run(run())
    assert first != second
    worker.budgets.close()


def test_the_limiters_pool_replaces_a_connection_the_server_ended(url: str) -> None:
    limiter = PostgresLimiter(url, 2, namespace="t")
    try:
        with limiter("k"):
            pass
        with limiter._pool.get().connection() as conn:
            pid = conn.info.backend_pid
        _terminate(url, pid)
        with limiter("k"), limiter._pool.get().connection() as conn:  # the take did not fail on the dead one
            assert conn.info.backend_pid != pid
    finally:
        limiter.close()


def test_the_queues_pool_lends_a_connection_without_procrastinates_empty_query(url: str) -> None:
    """procrastinate makes its pool with ``check=check_connection`` (an empty query before every query); the
    worker's pool factory replaces it, so lending a connection sends nothing."""
    from psycopg_pool import AsyncConnectionPool

    from billing_milestones.workers._app import _queue_pool

    async def run() -> int:
        pool = _queue_pool(conninfo=url, min_size=1, max_size=1, open=False, check=AsyncConnectionPool.check_connection)
        await pool.open(wait=True)
        with tempfile.TemporaryFile() as trace:
            async with pool.connection() as conn:
                conn.pgconn.trace(trace.fileno())
            try:
                async with pool.connection() as again:  # the pool's one connection, checked again
                    assert again is conn
            finally:
                conn.pgconn.untrace()
            await pool.close()
            return os.fstat(trace.fileno()).st_size

    assert asyncio.run(run()) == 0
