"""The worker's watch (its looks at the workers' locks, its own heartbeat) ends when it is cancelled, even when
the cancel lands in a database call that turns it into that call's failure, which the watch logs and lets pass
(a connect cut short while the server is away): it looked on for ever, and ``asyncio.run``, which cancels the
tasks left once and waits for them, never returned, so a worker stopped while its database was away hung until
its supervisor's SIGKILL."""

from __future__ import annotations

import asyncio

import psycopg

from billing_milestones.workers import WorkerApp
from billing_milestones.workers._liveness import LOOK_EVERY, LivenessJobManager

from .conftest import Deployment


def test_a_watch_whose_look_turns_the_cancel_into_an_error_still_ends(deployment: Deployment) -> None:
    worker = WorkerApp(deployment.settings())
    looks: list[str] = []

    async def look(manager: LivenessJobManager) -> int:
        looks.append("look")
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            raise psycopg.OperationalError("connection failed: cut short") from None
        return 0

    worker.liveness.look = look  # type: ignore[method-assign]

    async def scenario() -> bool:
        watch = asyncio.create_task(worker.watch_stalled_async())
        while not looks:
            await asyncio.sleep(LOOK_EVERY / 2)
        watch.cancel()
        done, _ = await asyncio.wait({watch}, timeout=5)
        if not done:
            watch.cancel()  # as the bug left it: the test ends, the worker did not
        return watch in done and watch.cancelled()

    try:
        assert asyncio.run(scenario()), "the cancelled watch went on looking"
    finally:
        worker.budgets.close()
        worker.stores.close()
