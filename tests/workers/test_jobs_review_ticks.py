"""A schedule tick, or ``milestones enqueue``, that finds the pair queued for a retry a long wait away
(``retry_wait x n``, longer than the pair's period) brings that run forward instead of being dropped: the
pair runs at the tick, as it would have without the failure, not periods later."""

from __future__ import annotations

import asyncio
import dataclasses
import time

import psycopg
from procrastinate.periodic import PeriodicDeferrer

from billing_milestones.workers import SYNC_TASK, WorkerApp, enqueue_pairs, run_worker

from .conftest import Deployment
from .test_worker import jobs


def _retry_waiting_an_hour(deployment: Deployment) -> None:
    """The pair's job, as a failed run leaves it: queued again, for an hour from now (its n-th retry)."""
    assert enqueue_pairs(deployment.settings(), ["erp"])["erp"] is not None
    with psycopg.connect(deployment.links, autocommit=True) as conn:
        conn.execute(
            "UPDATE procrastinate_jobs SET attempts = 3, scheduled_at = now() + interval '1 hour' WHERE task_name = %s",
            (SYNC_TASK,),
        )


def test_a_tick_brings_a_waiting_retry_of_the_pair_forward(deployment: Deployment) -> None:
    deployment.config.write_text(deployment.config.read_text() + "schedule = { erp = 2 }\n")
    worker = WorkerApp(deployment.settings())
    _retry_waiting_an_hour(deployment)

    async def tick() -> None:
        async with worker.app.open_async():
            deferrer = PeriodicDeferrer(registry=worker.app.periodic_registry)
            (erp,) = worker.app.periodic_registry.periodic_tasks.values()
            await deferrer.defer_jobs([(erp, int(time.time()))])

    asyncio.run(tick())
    assert [(j["status"], j["later"]) for j in jobs(deployment.links)] == [("todo", False)]  # still once
    # A worker without the schedule runs it (one with it would defer its own latest tick as it starts).
    runner = WorkerApp(deployment.settings(), dataclasses.replace(worker.workers, schedule={}))
    run_worker(runner, burst=True, install_signal_handlers=False)
    assert [j["status"] for j in jobs(deployment.links)] == ["succeeded"]


def test_enqueue_by_hand_brings_a_waiting_retry_of_the_pair_forward(deployment: Deployment) -> None:
    _retry_waiting_an_hour(deployment)
    assert enqueue_pairs(deployment.settings(), ["erp"]) == {"erp": None}  # already queued: not twice
    assert [(j["status"], j["later"]) for j in jobs(deployment.links)] == [("todo", False)]
