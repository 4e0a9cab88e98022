"""What a worker keeps across its jobs: link stores (their connections), one HTTP pool per platform holding
no cookies, the Autotask metadata the sync engine shares; and how it finds a dead worker's jobs: by looking
beside the queue, not through a job waiting in it."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from concurrent.futures import ThreadPoolExecutor

import httpx
import psycopg

from billing_milestones._metadata_cache import SHARED_METADATA
from billing_milestones.model import Platform
from billing_milestones.workers import SYNC_TASK, WorkerApp, enqueue_pairs
from billing_milestones.workers._stores import StorePool

from .conftest import Deployment


def test_a_store_given_back_healthy_serves_the_next_job(deployment: Deployment) -> None:
    pool = StorePool(deployment.links, keep=1)
    with pool.store() as first:
        pass
    with pool.store() as second:
        assert second is first and pool.idle() == 0
        with pool.store() as third:  # a second job at once gets a store of its own
            assert third is not first
    assert pool.idle() == 1  # one kept, the other closed
    pool.close()
    assert pool.idle() == 0 and not first.reusable()


def test_a_worker_opens_a_store_per_job_slot_before_its_first_job(deployment: Deployment) -> None:
    worker = WorkerApp(deployment.settings())
    try:
        worker.warm_up(stores=3)
        assert worker.stores.idle() == 3
        opened = list(worker.stores._idle)
        worker.warm_up(stores=3)  # already there: none more
        assert worker.stores._idle == opened
        with worker.stores.store() as store:  # a job takes one of them, opening none
            assert store in opened and worker.stores.idle() == 2
        worker.stores.fill(20)
        assert worker.stores.idle() == worker.stores.keep  # never more than it keeps
    finally:
        worker.stores.close()
        worker.budgets.close()


def test_a_store_left_in_a_transaction_or_broken_is_not_reused(deployment: Deployment) -> None:
    pool = StorePool(deployment.links)
    with pool.store() as store:
        held = store.backend.transaction()
        held.__enter__()  # not left yet: still open when the store is given back
    assert pool.idle() == 0 and not store.reusable()
    with contextlib.suppress(psycopg.Error):
        held.__exit__(None, None, None)  # on the connection the pool has closed
    with pool.store() as store:
        pid = store._raw("SELECT pg_backend_pid() AS pid")[0]["pid"]
    with contextlib.suppress(psycopg.Error), pool.store() as broken:
        assert broken is store
        with psycopg.connect(deployment.links, autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (pid,))  # mid-job (one ended idle is not lent)
        broken._raw("SELECT 1")  # the server has dropped it: this fails
    assert pool.idle() == 0
    with pool.store() as fresh:
        assert fresh is not store and fresh._raw("SELECT 1 AS one") == [{"one": 1}]
    pool.close()


def test_jobs_share_one_pool_per_platform_and_the_autotask_metadata(deployment: Deployment) -> None:
    worker = WorkerApp(deployment.settings())
    settings = deployment.settings()
    budgets = worker.budgets
    try:
        with budgets.connect(Platform.KANTATA, settings) as a, budgets.connect(Platform.KANTATA, settings) as b:
            assert a._runner.http is b._runner.http is budgets.http(Platform.KANTATA)
        with budgets.connect(Platform.AUTOTASK, settings) as client:
            assert client._runner.http is budgets.http(Platform.AUTOTASK)
            assert client._state.metadata is SHARED_METADATA
        assert not budgets.http(Platform.KANTATA).is_closed  # a job's client leaves the pool open
        pool = budgets.http(Platform.KANTATA)
        request = httpx.Request("GET", "https://api.mavenlink.com/api/v1/workspaces")
        pool.cookies.extract_cookies(httpx.Response(200, headers={"Set-Cookie": "s=1; Path=/"}, request=request))
        assert len(pool.cookies.jar) == 0  # nothing a response sets reaches the next job's requests
    finally:
        budgets.close()
    assert pool.is_closed


def test_jobs_starting_at_once_build_one_pool_and_the_worker_builds_it_before_them(deployment: Deployment) -> None:
    worker = WorkerApp(deployment.settings())
    start = threading.Barrier(8)

    def pool() -> httpx.Client:
        start.wait()
        return worker.budgets.http(Platform.KANTATA)

    try:
        with ThreadPoolExecutor(8) as threads:
            pools = list(threads.map(lambda _: pool(), range(8)))
        assert all(p is pools[0] for p in pools)
        worker.budgets.close()
        worker.warm_up()  # the demo's pairs read Autotask and crm.com and write Kantata
        assert set(worker.budgets._http) == {Platform.AUTOTASK, Platform.CRMCOM, Platform.KANTATA}
    finally:
        worker.budgets.close()


def _stalled_job(deployment: Deployment, worker: WorkerApp) -> int:
    """A job taken by a worker whose heartbeat then stopped, as a SIGKILL leaves it."""
    enqueue_pairs(deployment.settings(), ["erp"])

    async def take() -> int:
        async with worker.app.open_async():
            manager = worker.app.job_manager
            dead = await manager.register_worker()
            job = await manager.fetch_job([worker.workers.queue], dead)
            assert job is not None and job.id is not None
            return job.id

    job_id = asyncio.run(take())
    with psycopg.connect(deployment.links, autocommit=True) as conn:
        conn.execute("UPDATE procrastinate_workers SET last_heartbeat = now() - interval '1 hour'")
    return job_id


def _status(deployment: Deployment, job_id: int) -> str:
    with psycopg.connect(deployment.links) as conn:
        row = conn.execute("SELECT status::text FROM procrastinate_jobs WHERE id=%s", (job_id,)).fetchone()
    assert row is not None
    return str(row[0])


def test_a_dead_workers_job_is_sent_back_by_the_watch_beside_the_queue(deployment: Deployment) -> None:
    worker = WorkerApp(deployment.settings(), stalled_after=1.0, recover_every=0.1)
    job_id = _stalled_job(deployment, worker)
    assert _status(deployment, job_id) == "doing" and worker.recover_every == 0.1

    async def watch_briefly() -> None:
        async with worker.app.open_async():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(worker.watch_stalled_async(), timeout=1.0)

    asyncio.run(watch_briefly())
    assert _status(deployment, job_id) == "todo"
    assert not any(task == "recover" for _, task in worker.app.periodic_registry.periodic_tasks)
    with psycopg.connect(deployment.links) as conn:  # and no job of any other task was queued for it
        tasks = {row[0] for row in conn.execute("SELECT DISTINCT task_name FROM procrastinate_jobs")}
    assert tasks == {SYNC_TASK}


def test_two_workers_looking_at_once_send_a_job_back_once(deployment: Deployment) -> None:
    first, second = (WorkerApp(deployment.settings(), stalled_after=1.0) for _ in range(2))
    job_id = _stalled_job(deployment, first)

    async def both() -> list[int]:
        async with first.app.open_async(), second.app.open_async():
            return list(await asyncio.gather(first.recover_async(), second.recover_async()))

    counts = asyncio.run(both())
    assert sorted(counts) == [0, 1] and _status(deployment, job_id) == "todo"
    with psycopg.connect(deployment.links) as conn:
        row = conn.execute("SELECT attempts FROM procrastinate_jobs WHERE id=%s", (job_id,)).fetchone()
    assert row is not None and row[0] == 1  # sent back once, not twice


def test_the_watch_never_looks_less_often_than_a_third_of_stalled_after(deployment: Deployment) -> None:
    assert WorkerApp(deployment.settings(), stalled_after=3.0).recover_every == 1.0
    assert WorkerApp(deployment.settings(), stalled_after=60.0).recover_every == 5.0


def test_the_queue_connections_run_each_query_in_autocommit(deployment: Deployment) -> None:
    """No BEGIN before and COMMIT after each of procrastinate's one-statement queries; a transaction asked
    for still is one (the schema's, under its lock)."""
    worker = WorkerApp(deployment.settings())

    async def check() -> tuple[bool, bool]:
        async with worker.app.open_async():
            await worker.ensure_schema_async()
            pool = worker.app.connector.pool  # type: ignore[attr-defined]
            async with pool.connection() as conn:
                plain = conn.autocommit
                async with conn.transaction():
                    cur = await conn.execute("SELECT now() = statement_timestamp() AS fresh")
                    row = await cur.fetchone()
                    await asyncio.sleep(0.01)
                    cur = await conn.execute("SELECT now() = statement_timestamp() AS fresh")
                    later = await cur.fetchone()
            assert row is not None and later is not None
            return plain, bool(later[0]) is False  # one transaction: now() stayed at its start

    autocommit, in_transaction = asyncio.run(check())
    assert autocommit and in_transaction


def test_a_job_deferred_through_the_sync_pool_is_committed_at_once(deployment: Deployment) -> None:
    """``milestones enqueue`` defers through procrastinate's sync pool: autocommit there too, so the job is
    in the queue for every worker to see the moment ``defer`` returns."""
    worker = WorkerApp(deployment.settings())
    asyncio.run(worker.prepare_async())
    with worker.app.open():
        pool = worker.app.connector.get_sync_connector().pool  # type: ignore[attr-defined]
        with pool.connection() as conn:
            assert conn.autocommit
        job = worker.enqueue(sorted(deployment.settings().pairs)[0])
        with psycopg.connect(deployment.links, autocommit=True) as other:
            found = other.execute("SELECT count(*) FROM procrastinate_jobs WHERE id=%s", (job,)).fetchone()
        assert found == (1,)
