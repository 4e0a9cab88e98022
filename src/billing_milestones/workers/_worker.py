"""Run a worker, and enqueue pairs: the two things ``milestones worker`` and ``milestones enqueue`` do."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterable

from ..sync.config import Settings
from ..sync.lease import new_owner
from ._app import WorkerApp

__all__ = ["enqueue_pairs", "run_worker"]

logger = logging.getLogger("billing_milestones.workers")


def run_worker(
    worker: WorkerApp,
    *,
    concurrency: int = 1,
    name: str | None = None,
    burst: bool = False,
    heartbeat: float = 10.0,
    install_signal_handlers: bool = True,
) -> None:
    """Work the queue until stopped (SIGINT/SIGTERM finish the running jobs first), or until it is empty
    with ``burst``. First: create the queue's tables if missing, and requeue jobs a dead worker left."""

    async def main() -> None:
        async with worker.app.open_async():
            await worker.ensure_schema_async()
            await worker.recover_async()
            worker.warm_up(stores=concurrency)
            watcher = asyncio.create_task(worker.watch_stalled_async(), name="bm-watch-stalled")
            try:
                await worker.app.run_worker_async(
                    queues=[worker.workers.queue],
                    concurrency=concurrency,
                    name=name or new_owner(),
                    wait=not burst,
                    update_heartbeat_interval=heartbeat,
                    stalled_worker_timeout=worker.stalled_after,
                    install_signal_handlers=install_signal_handlers,
                    fetch_job_polling_interval=1.0,
                )
            finally:
                watcher.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await watcher

    try:
        asyncio.run(main())
    finally:
        worker.budgets.close()
        worker.stores.close()


def enqueue_pairs(settings: Settings, names: Iterable[str]) -> dict[str, int | None]:
    """Queue one run of each pair: pair -> job id, or None where the pair was already waiting."""
    worker = WorkerApp(settings)
    asyncio.run(worker.prepare_async())
    queued: dict[str, int | None] = {}
    with worker.app.open():
        for name in names:
            queued[name] = worker.enqueue(name)
    return queued
