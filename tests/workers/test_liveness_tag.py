"""The liveness tag on the real PostgreSQL server: every session of a worker process carries it, so a worker
whose lock connection alone ended is not judged while its process lives, and is once its sessions are gone."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time

import psycopg
from procrastinate import manager as pq_manager

from billing_milestones.workers import WorkerApp, run_worker
from billing_milestones.workers._liveness import GRACE, Liveness, WorkerFencedError, tagged

from .conftest import Deployment
from .test_liveness import Workers, looks, queue, run, statuses, terminate


def test_a_worker_whose_lock_connection_alone_ended_is_not_judged_while_its_process_has_other_sessions(
    deployment: Deployment,
) -> None:
    """However long it takes to connect again (here: not at all): its process's other sessions carry its tag.
    Once they end too, it is judged at the next looks, without being seen holding its lock again."""

    async def scenario(workers: Workers) -> None:
        _, watcher = await workers.register()
        conninfo, tag = tagged(deployment.links)
        cut_id = await pq_manager.JobManager.register_worker(workers.manager)
        cut = Liveness(conninfo, tag=tag)
        await cut.take(cut_id)
        workers.locks.append(cut)
        assert watcher is not None and cut.conn is not None
        await workers.give_job(cut_id, "cut")
        other = await psycopg.AsyncConnection.connect(conninfo, autocommit=True)  # as its queue pool's
        other_pid = other.info.backend_pid
        await watcher.look(workers.manager)
        terminate(deployment.links, cut)  # and the worker never looks: it would take its lock again
        assert await looks(watcher, workers.manager, GRACE * 4) == 0
        assert statuses(deployment.links) == {"cut": ("doing", 0)}
        await other.close()  # the process died: its last session ends
        with psycopg.connect(deployment.links, autocommit=True) as probe:
            while probe.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", (other_pid,)).fetchone() != (
                0,
            ):
                time.sleep(0.01)
        assert await looks(watcher, workers.manager, GRACE * 3) == 1
        assert statuses(deployment.links) == {"cut": ("todo", 1)}

    run(deployment, scenario)


def test_the_tag_goes_first_in_the_application_name_and_a_worker_is_listed_with_it(deployment: Deployment) -> None:
    conninfo, tag = tagged(deployment.links + "&application_name=billing")
    assert tag.startswith("bm-worker-") and len(tag) == 26 and tagged(deployment.links)[1] != tag
    assert tagged("not a conninfo =") == ("not a conninfo =", "")  # unreadable: judged by its lock alone

    async def main() -> None:
        async with await psycopg.AsyncConnection.connect(conninfo, autocommit=True) as conn:
            cur = await conn.execute("SELECT current_setting('application_name')")
            assert await cur.fetchone() == (f"{tag} billing",)
        async with queue(deployment) as workers:
            ids = [await pq_manager.JobManager.register_worker(workers.manager) for _ in range(3)]
            # tagged; a tag the connection does not carry (not listed with it); no tag
            for worker_id, url, given in [
                (ids[0], conninfo, tag),
                (ids[1], deployment.links, tag),
                (ids[2], conninfo, ""),
            ]:
                liveness = Liveness(url, tag=given)
                await liveness.take(worker_id)
                workers.locks.append(liveness)
            with psycopg.connect(deployment.links) as conn:
                rows = conn.execute("SELECT worker_id, app_name FROM bm_worker_liveness ORDER BY worker_id").fetchall()
            assert rows == [(ids[0], tag), (ids[1], None), (ids[2], None)]

    asyncio.run(main())


def test_a_running_workers_queue_sessions_carry_its_tag(deployment: Deployment) -> None:
    """What the judgement reads: a worker's queue pool and LISTEN session show its tag besides its lock."""
    worker = WorkerApp(deployment.settings())
    asyncio.run(worker.prepare_async())

    def work() -> None:
        with contextlib.suppress(WorkerFencedError):  # how the test stops it
            run_worker(worker, install_signal_handlers=False, heartbeat=1.0)

    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    try:
        with psycopg.connect(deployment.links, autocommit=True) as conn:
            row = None
            while row is None and time.monotonic() < deadline:
                time.sleep(0.05)
                row = conn.execute("SELECT app_name, backend_pid FROM bm_worker_liveness").fetchone()
            assert row is not None and row[0] == worker._tag, row
            tagged_pids: set[int] = set()
            while len(tagged_pids) < 3 and time.monotonic() < deadline:  # the lock, the LISTEN, the pool's
                time.sleep(0.05)
                found = conn.execute(
                    "SELECT pid FROM pg_stat_activity WHERE left(application_name, 26) = %s", (row[0],)
                ).fetchall()
                tagged_pids = {pid for (pid,) in found}
            assert len(tagged_pids) >= 3 and row[1] in tagged_pids, tagged_pids
    finally:
        # Stop it as a judgement would (its row gone, its lock connection ended): it stops at its next look.
        with psycopg.connect(deployment.links, autocommit=True) as conn:
            listed = conn.execute("SELECT worker_id, backend_pid FROM bm_worker_liveness").fetchone()
            if listed is not None:
                conn.execute("DELETE FROM bm_worker_liveness WHERE worker_id = %s", (listed[0],))
                conn.execute("SELECT pg_terminate_backend(%s)", (listed[1],))
        thread.join(30)
