"""A pair waits in the queue at most once (its queueing lock) and runs on one worker at a time (its lock),
whoever queues it: two ``enqueue`` at once, an enqueue meeting a tick, two workers deferring the same tick,
and a tick or enqueue while the pair runs (one run waits behind it, no more)."""

from __future__ import annotations

import asyncio
import threading
import time

import psycopg
from procrastinate import manager as pq_manager
from procrastinate.periodic import PeriodicDeferrer

from billing_milestones.workers import WorkerApp

from .conftest import Deployment
from .test_worker import jobs


def _scheduled(deployment: Deployment) -> WorkerApp:
    deployment.config.write_text(deployment.config.read_text() + "schedule = { erp = 5 }\n")
    worker = WorkerApp(deployment.settings())
    asyncio.run(worker.prepare_async())
    return worker


def _tick(workers: list[WorkerApp], timestamp: int) -> None:
    """Each worker's periodic deferrer defers the pair's tick at ``timestamp``, all at once."""

    async def one(worker: WorkerApp) -> None:
        async with worker.app.open_async():
            (erp,) = worker.app.periodic_registry.periodic_tasks.values()
            await PeriodicDeferrer(registry=worker.app.periodic_registry).defer_jobs([(erp, timestamp)])

    async def all_at_once() -> None:
        await asyncio.gather(*(one(worker) for worker in workers))

    asyncio.run(all_at_once())


def _enqueue(worker: WorkerApp) -> int | None:
    with worker.app.open():
        return worker.enqueue("erp")


def _fetch(worker: WorkerApp) -> int | None:
    """What a worker of the queue would start now (procrastinate's own fetch, which honours the locks)."""

    async def fetch() -> int | None:
        async with worker.app.open_async():
            manager = pq_manager.JobManager(worker.app.connector)
            job = await manager.fetch_job(queues=["test"], worker_id=await manager.register_worker())
            return None if job is None else job.id

    return asyncio.run(fetch())


def _end(links: str, job_id: int) -> None:
    with psycopg.connect(links, autocommit=True) as conn:
        conn.execute("UPDATE procrastinate_jobs SET status = 'succeeded' WHERE id = %s", (job_id,))


def _waiting(links: str) -> list[int]:
    return [j["id"] for j in jobs(links) if j["status"] == "todo"]


def test_two_enqueues_at_once_queue_the_pair_once(deployment: Deployment) -> None:
    first, second = WorkerApp(deployment.settings()), WorkerApp(deployment.settings())
    asyncio.run(first.prepare_async())
    for _ in range(8):  # each round a fresh race on the queueing lock
        gate = threading.Barrier(2)
        got: list[int | None] = []

        def race(worker: WorkerApp, gate: threading.Barrier, got: list[int | None]) -> None:
            with worker.app.open():
                gate.wait()
                got.append(worker.enqueue("erp"))

        threads = [threading.Thread(target=race, args=(w, gate, got)) for w in (first, second)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        queued = [job for job in got if job is not None]
        assert len(got) == 2 and len(queued) == 1, got  # one queued it, the other was told it waits already
        assert _waiting(deployment.links) == queued
        _end(deployment.links, queued[0])


def test_an_enqueue_and_a_tick_meet_at_the_queueing_lock(deployment: Deployment) -> None:
    worker = _scheduled(deployment)
    queued = _enqueue(worker)
    _tick([worker], int(time.time()))  # the tick finds the pair queued by hand: dropped
    assert queued is not None and _waiting(deployment.links) == [queued]
    _end(deployment.links, queued)
    _tick([worker], int(time.time()) + 1)
    (ticked,) = _waiting(deployment.links)
    assert _enqueue(worker) is None and _waiting(deployment.links) == [ticked]  # by hand, once queued: not twice


def test_several_workers_defer_a_tick_once(deployment: Deployment) -> None:
    first = _scheduled(deployment)
    others = [WorkerApp(deployment.settings()) for _ in range(3)]
    now = int(time.time())
    _tick([first, *others], now)
    (ticked,) = _waiting(deployment.links)
    assert [j["args"] for j in jobs(deployment.links)] == [{"pair": "erp", "timestamp": now}]
    _end(deployment.links, ticked)
    _tick([first, *others], now)  # the same tick again (a worker started later): already deferred
    assert _waiting(deployment.links) == []


def test_a_pair_queued_while_it_runs_waits_behind_it_once(deployment: Deployment) -> None:
    worker = _scheduled(deployment)
    running = _enqueue(worker)
    assert running is not None and _fetch(worker) == running  # doing
    behind = _enqueue(worker)  # queued behind the running job: it may miss what changed since the run listed
    assert behind is not None and behind != running
    _tick([worker, WorkerApp(deployment.settings())], int(time.time()))  # and the schedule's tick: dropped
    assert _enqueue(worker) is None and _waiting(deployment.links) == [behind]  # waiting once, however queued
    assert _fetch(worker) is None  # not started beside the running one (the pair's lock)
    _end(deployment.links, running)
    assert _fetch(worker) == behind
    assert [j["status"] for j in jobs(deployment.links)] == ["succeeded", "doing"]


def test_a_tick_dropped_for_the_pair_waiting_is_not_queued_by_another_worker_later(deployment: Deployment) -> None:
    """The tick met the pair waiting (a backlog), which then started: another worker deferring the same tick
    a moment later, or one started within procrastinate's ten minutes' catch-up, would queue a second run
    behind it, though the run that started after the tick covers it."""
    worker = _scheduled(deployment)
    waiting = _enqueue(worker)
    now = int(time.time())
    _tick([worker], now)  # dropped: the pair waits already
    assert waiting is not None and _fetch(worker) == waiting  # it starts
    _tick([WorkerApp(deployment.settings())], now)  # another worker, the same tick
    assert _waiting(deployment.links) == []
    _end(deployment.links, waiting)
    _tick([WorkerApp(deployment.settings())], now)  # a worker started later catches up on that tick
    assert _waiting(deployment.links) == []
    _tick([worker], now + 300)  # the next tick is queued as ever
    assert len(_waiting(deployment.links)) == 1
    with psycopg.connect(deployment.links) as conn:  # one row kept of the pair's ticks, as procrastinate keeps
        assert conn.execute("SELECT defer_timestamp FROM procrastinate_periodic_defers").fetchall() == [(now + 300,)]
