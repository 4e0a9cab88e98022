"""A worker keeps its heartbeat from its own watch, beside procrastinate's: procrastinate stops its heartbeat at
the first SIGTERM, before it waits for the running jobs, so a pair still running ``stalled_after`` later was sent
back to the queue by another worker while it ran (its rerun waited on the lease, its outcome was dropped from the
queue). The watch beats until the worker's run has ended."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt

import psycopg
import pytest

from billing_milestones.workers import WorkerApp, run_worker

from .conftest import Deployment
from .test_liveness import queue


def _beat(links: str, worker_id: int) -> dt.datetime:
    with psycopg.connect(links) as conn:
        row = conn.execute("SELECT last_heartbeat FROM procrastinate_workers WHERE id = %s", (worker_id,)).fetchone()
    assert row is not None
    return row[0]  # type: ignore[no-any-return]


async def _watch(worker: WorkerApp, seconds: float, heartbeat: float | None) -> None:
    watch = asyncio.create_task(worker.watch_stalled_async(heartbeat=heartbeat))
    await asyncio.sleep(seconds)
    watch.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await watch


def test_the_watch_beats_for_its_worker_when_given_a_heartbeat_and_not_otherwise(deployment: Deployment) -> None:
    async def scenario() -> None:
        async with queue(deployment) as workers:
            worker = workers.worker
            liveness = worker.new_liveness()
            worker_id = await worker.jobs.register_worker()  # listed, its liveness lock taken
            try:
                first = _beat(deployment.links, worker_id)
                await _watch(worker, 1.0, None)  # procrastinate's heartbeat alone (stopped here)
                assert _beat(deployment.links, worker_id) == first
                await _watch(worker, 1.0, 0.3)
                beaten = _beat(deployment.links, worker_id)
                assert beaten > first
                liveness.fenced.set()  # judged dead: it must look dead
                await _watch(worker, 1.0, 0.3)
                assert _beat(deployment.links, worker_id) == beaten
            finally:
                await worker.jobs.unregister_worker(worker_id)
            assert worker.jobs.worker_id is None

    asyncio.run(scenario())


def test_a_worker_running_without_its_liveness_lock_keeps_its_heartbeat_too(
    deployment: Deployment, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A worker whose lock could not be taken (the server at max_connections, say) runs on its heartbeat
    alone: that heartbeat is the one that must go on while it stops."""

    async def scenario() -> None:
        async with queue(deployment) as workers:
            worker = workers.worker
            liveness = worker.new_liveness()

            async def unlisted(worker_id: int) -> None:
                return None

            monkeypatch.setattr(liveness, "take", unlisted)
            worker_id = await worker.jobs.register_worker()
            assert liveness.worker_id is None and worker.jobs.worker_id == worker_id
            first = _beat(deployment.links, worker_id)
            await _watch(worker, 1.0, 0.3)
            assert _beat(deployment.links, worker_id) > first

    asyncio.run(scenario())


def test_run_worker_gives_its_watch_the_heartbeat(deployment: Deployment, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[float | None] = []
    worker = WorkerApp(deployment.settings())
    real = worker.watch_stalled_async

    async def watch(*, heartbeat: float | None = None) -> None:
        seen.append(heartbeat)
        await real(heartbeat=heartbeat)

    monkeypatch.setattr(worker, "watch_stalled_async", watch)
    run_worker(worker, burst=True, install_signal_handlers=False, heartbeat=1.5)
    assert seen == [1.5]
