"""The worker's watch (its looks at the workers' locks, its own heartbeat) ends when it is cancelled, even when
the cancel lands in a database call that turns it into that call's failure, which the watch logs and lets pass
(a connect cut short while the server is away): it looked on for ever, and ``asyncio.run``, which cancels the
tasks left once and waits for them, never returned, so a worker stopped while its database was away hung until
its supervisor's SIGKILL. And it beats at once when the database is back."""

from __future__ import annotations

import asyncio
import contextlib

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


def test_the_watch_beats_at_once_when_the_database_is_back(deployment: Deployment) -> None:
    """After an outage longer than ``stalled_after`` its last beat is that old: until its next one (up to a
    ``heartbeat`` later) other workers took its running jobs, and one it fetched on its return, for a stalled
    worker's and requeued them while they ran."""
    worker = WorkerApp(deployment.settings())
    looks: list[str] = []
    beats: list[int] = []

    async def look(manager: LivenessJobManager) -> int:
        looks.append("look")
        if len(looks) <= 3:
            raise psycopg.OperationalError("connection failed: Connection refused")
        return 0

    async def beat(heartbeat: float) -> None:
        beats.append(len(looks))

    worker.liveness.look = look  # type: ignore[method-assign]
    worker._beat = beat  # type: ignore[method-assign]

    async def scenario() -> None:
        watch = asyncio.create_task(worker.watch_stalled_async(heartbeat=600.0))
        while len(looks) < 6:
            await asyncio.sleep(LOOK_EVERY / 2)
        watch.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watch

    try:
        asyncio.run(scenario())
    finally:
        worker.budgets.close()
        worker.stores.close()
    assert beats == [4]  # right after the first look that found the database back, and not again
