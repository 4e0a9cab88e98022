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
            worker_id, liveness = await workers.register()
            assert liveness is not None
            workers.worker.liveness = liveness  # the watch's worker: this registered one
            first = _beat(deployment.links, worker_id)
            await _watch(workers.worker, 1.0, None)  # procrastinate's heartbeat alone (stopped here)
            assert _beat(deployment.links, worker_id) == first
            await _watch(workers.worker, 1.0, 0.3)
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
