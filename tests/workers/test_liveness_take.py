"""A worker's lock session ending while it lists itself, on the real PostgreSQL server: the interleaving is
forced by a row lock the test holds, on which the take's statement waits until the test ends its session.

A row committed by a take that then failed was left without its lock by a worker that took itself for
unlisted: a watcher that had seen it held could judge it while it ran, and it never learnt of it (CI once
caught ``test_a_running_worker_that_learns_it_was_judged_dead_stops_with_an_error`` ending its session there)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import psycopg
import pytest
from procrastinate import manager as pq_manager

from billing_milestones.workers._liveness import KEY, LOOK_EVERY, Liveness

from .conftest import Deployment
from .test_liveness import Workers, lock_gone, run

#: A listed worker procrastinate does not know (pruned): a row the take's forgetting of orphans deletes.
ORPHAN = 2**31 - 2


async def waiting(probe: psycopg.AsyncConnection[Any], statement: str) -> int:
    """The backend whose ``statement`` (its first words) waits for a lock: the take's lock session."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        cur = await probe.execute(
            "SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND pid <> pg_backend_pid() "
            "AND datname = current_database() AND query LIKE %s",
            (statement + "%",),
        )
        row = await cur.fetchone()
        if row is not None:
            return int(row[0])
        await asyncio.sleep(0.01)
    raise AssertionError(f"no take waited on {statement!r}")


async def ended(probe: psycopg.AsyncConnection[Any], pid: int) -> None:
    """End that session from the server's side and wait until its backend (and so its lock) is gone."""
    await probe.execute("SELECT pg_terminate_backend(%s)", (pid,))
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        cur = await probe.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", (pid,))
        if await cur.fetchone() == (0,):
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the backend outlived its termination")


async def count(probe: psycopg.AsyncConnection[Any], query: str, worker_id: int) -> Any:
    cur = await probe.execute(query, (worker_id,))
    return await cur.fetchone()


def test_a_take_whose_lock_session_ends_before_its_listing_leaves_no_row_without_a_lock(
    deployment: Deployment,
) -> None:
    async def scenario(workers: Workers) -> None:
        worker_id = await pq_manager.JobManager.register_worker(workers.manager)
        async with (
            await psycopg.AsyncConnection.connect(deployment.links, autocommit=True) as probe,
            await psycopg.AsyncConnection.connect(deployment.links) as holder,
        ):
            await probe.execute("INSERT INTO bm_worker_liveness (worker_id, backend_pid) VALUES (%s, 0)", (ORPHAN,))
            await holder.execute("SELECT 1 FROM bm_worker_liveness WHERE worker_id = %s FOR UPDATE", (ORPHAN,))
            liveness = Liveness(deployment.links)
            take = asyncio.create_task(liveness.take(worker_id))
            await ended(probe, await waiting(probe, "DELETE FROM bm_worker_liveness"))  # forgetting the orphans
            await holder.rollback()
            await asyncio.wait_for(take, 10)
            assert liveness.worker_id is None and liveness.conn is None  # unlisted: its heartbeat judges it
            listed = "SELECT count(*) FROM bm_worker_liveness WHERE worker_id = %s"
            assert await count(probe, listed, worker_id) == (0,)  # so no watcher judges it by its (free) lock

    run(deployment, scenario)


@pytest.mark.parametrize("committed", [True, False], ids=["its-row-committed", "its-row-never-written"])
def test_a_take_whose_lock_session_ends_on_its_listing_fetches_nothing_until_its_next_look_settles_it(
    deployment: Deployment, committed: bool
) -> None:
    """The client cannot tell whether an insert whose answer was lost committed: the test's own row of that
    worker, uncommitted, holds the listing's insert; committed after the session ended, it is the row the
    listing may have left; rolled back, there is none (the worker then stops: it cannot tell that row from
    one a watcher deleted, and it has no job yet)."""

    async def scenario(workers: Workers) -> None:
        worker_id = await pq_manager.JobManager.register_worker(workers.manager)
        async with (
            await psycopg.AsyncConnection.connect(deployment.links, autocommit=True) as probe,
            await psycopg.AsyncConnection.connect(deployment.links) as holder,
        ):
            await holder.execute(
                "INSERT INTO bm_worker_liveness (worker_id, backend_pid) VALUES (%s, pg_backend_pid())", (worker_id,)
            )
            liveness = Liveness(deployment.links)
            workers.locks.append(liveness)
            take = asyncio.create_task(liveness.take(worker_id))
            await ended(probe, await waiting(probe, "INSERT INTO bm_worker_liveness"))
            await (holder.commit() if committed else holder.rollback())
            await asyncio.wait_for(take, 10)
            assert liveness.worker_id == worker_id and not liveness.may_fetch.is_set()  # listed, lock lost
            for _ in range(50):  # the ended session's lock goes a moment after its backend
                await liveness.look(workers.manager)
                if liveness.may_fetch.is_set() or liveness.fenced.is_set():
                    break
                await asyncio.sleep(LOOK_EVERY)
            held = (
                f"SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 2 "
                f"AND classid = {KEY}::oid AND objid = %s::oid"
            )
            epoch = "SELECT epoch FROM bm_worker_liveness WHERE worker_id = %s"
            if committed:
                assert liveness.may_fetch.is_set() and not liveness.fenced.is_set()
                assert await count(probe, epoch, worker_id) == (1,)  # its lock taken again, on its row
                assert await count(probe, held, worker_id) == (1,)
            else:
                assert liveness.fenced.is_set() and not liveness.may_fetch.is_set()
                await lock_gone(deployment.links, worker_id)  # and it let its lock go again

    run(deployment, scenario)
