"""Workers' liveness locks on the real PostgreSQL server: a dead worker's jobs requeued at once, a live one's
never, an unlisted (older) worker judged by its heartbeat only.

Workers are registered with procrastinate's own job manager and given their lock by :class:`Liveness`, as a
worker process does; a worker's *death* is its lock connection closing with its row left behind, which is
what PostgreSQL sees when a process is killed (the last test kills a real worker process)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import psycopg
from procrastinate import manager as pq_manager

from billing_milestones.sandbox import FaultPlan
from billing_milestones.workers import WorkerApp, enqueue_pairs, pair_lock, run_worker
from billing_milestones.workers._liveness import (
    _JUDGE,
    GRACE,
    KEY,
    LOOK_EVERY,
    Liveness,
    LivenessJobManager,
    WorkerFencedError,
    liveness_schema,
)

from .._postgres import PostgresServer, fresh_database
from .conftest import Deployment
from .test_worker import jobs, milestones, source_titles


class Workers:
    """Registers workers (listed with a lock, or not, as an older release) and gives each a ``doing`` job."""

    def __init__(self, worker: WorkerApp, url: str) -> None:
        self.worker, self.url = worker, url
        self.manager = worker.jobs
        self.locks: list[Liveness] = []

    async def register(self, *, listed: bool = True) -> tuple[int, Liveness | None]:
        worker_id = await pq_manager.JobManager.register_worker(self.manager)
        if not listed:
            return worker_id, None
        liveness = Liveness(self.url)
        await liveness.take(worker_id)
        self.locks.append(liveness)
        return worker_id, liveness

    async def give_job(self, worker_id: int, pair: str) -> int:
        task = self.worker.sync_task.configure(lock=pair_lock(pair), queueing_lock=pair_lock(pair))
        await task.defer_async(pair=pair)
        job = await pq_manager.JobManager.fetch_job(self.manager, [self.worker.workers.queue], worker_id)
        assert job is not None and job.id is not None and job.task_kwargs["pair"] == pair
        return job.id

    async def close(self) -> None:
        for liveness in self.locks:
            if liveness.conn is not None:
                await liveness.conn.close()


@asynccontextmanager
async def queue(deployment: Deployment) -> AsyncIterator[Workers]:
    worker = WorkerApp(deployment.settings())
    await worker.prepare_async()
    async with worker.app.open_async():
        workers = Workers(worker, deployment.links)
        try:
            yield workers
        finally:
            await workers.close()


async def lock_gone(links: str, worker_id: int) -> None:
    """Wait for the server to drop a worker's lock (the backend exits a moment after the socket closes)."""
    async with await psycopg.AsyncConnection.connect(links, autocommit=True) as probe:
        for _ in range(200):
            cur = await probe.execute(
                f"SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objsubid = 2 AND classid = {KEY}::oid "
                "AND objid = %s::oid",
                (worker_id,),
            )
            if await cur.fetchone() == (0,):
                return
            await asyncio.sleep(0.01)
    raise AssertionError("the lock outlived its session")


async def died(liveness: Liveness) -> None:
    """End a worker's lock session as its process's death would, and wait until its lock is free."""
    assert liveness.conn is not None and liveness.worker_id is not None
    conn, liveness.conn = liveness.conn, None
    await conn.close()
    await lock_gone(liveness.conninfo, liveness.worker_id)


def terminate(links: str, liveness: Liveness) -> None:
    """End a worker's lock session from the server's side (as an administrator or a timeout would) and wait
    until its backend is gone, so its lock is free."""
    assert liveness.conn is not None
    pid = liveness.conn.info.backend_pid
    with psycopg.connect(links, autocommit=True) as conn:
        conn.execute("SELECT pg_terminate_backend(%s)", (pid,))
        for _ in range(200):
            if conn.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", (pid,)).fetchone() == (0,):
                return
            time.sleep(0.01)
    raise AssertionError("the backend outlived its termination")


async def cut_while_running(workers: Workers, deployment: Deployment) -> tuple[Liveness, int, Liveness]:
    """A watcher, and a worker running the job "cut" whose lock session the server then ends, after the
    watcher saw its lock held: (watcher, the worker's id, the worker's liveness)."""
    _, watcher = await workers.register()
    cut_id, cut = await workers.register()
    assert watcher is not None and cut is not None and cut.conn is not None
    await workers.give_job(cut_id, "cut")
    await watcher.look(workers.manager)
    terminate(deployment.links, cut)
    return watcher, cut_id, cut


def statuses(links: str) -> dict[str, tuple[str, int]]:
    return {j["args"]["pair"]: (j["status"], j["attempts"]) for j in jobs(links)}


async def looks(watcher: Liveness, manager: Any, seconds: float) -> int:
    """The watcher looking every LOOK_EVERY seconds for ``seconds``: jobs it requeued."""
    requeued = 0
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        requeued += await watcher.look(manager)
        await asyncio.sleep(LOOK_EVERY)
    return requeued


def run(deployment: Deployment, scenario: Callable[[Workers], Awaitable[None]]) -> None:
    async def main() -> None:
        async with queue(deployment) as workers:
            await scenario(workers)

    asyncio.run(main())


def test_the_watchers_look_requeues_only_listed_workers_whose_lock_is_free_and_announces_them(
    deployment: Deployment,
) -> None:
    async def scenario(workers: Workers) -> None:
        watcher_id, watcher = await workers.register()
        assert watcher is not None
        alive_id, _ = await workers.register()
        dead_ids = [(await workers.register())[0] for _ in range(2)]
        old_id, _ = await workers.register(listed=False)
        for worker_id, pair in [(alive_id, "alive"), (dead_ids[0], "dead1"), (dead_ids[1], "dead2"), (old_id, "old")]:
            await workers.give_job(worker_id, pair)
        await watcher.look(workers.manager)  # sees every listed lock held
        for liveness in workers.locks[2:]:  # two workers die: their sessions end, their rows stay
            await died(liveness)
        async with await psycopg.AsyncConnection.connect(deployment.links, autocommit=True) as listener:
            await listener.execute('LISTEN "procrastinate_queue_v1#test"')
            assert await looks(watcher, workers.manager, GRACE * 3) == 2
            announced = [n.payload async for n in listener.notifies(timeout=1.0, stop_after=2)]
        assert statuses(deployment.links) == {
            "alive": ("doing", 0),
            "dead1": ("todo", 1),
            "dead2": ("todo", 1),
            "old": ("doing", 0),  # no row: its heartbeat judges it, not its (absent) lock
        }
        assert len(announced) == 2 and all('"job_inserted"' in payload for payload in announced)
        with psycopg.connect(deployment.links) as conn:
            rows = conn.execute("SELECT worker_id FROM bm_worker_liveness ORDER BY worker_id").fetchall()
        assert [r[0] for r in rows] == sorted([watcher_id, alive_id])  # the dead ones' rows are gone

    run(deployment, scenario)


def test_a_live_worker_whose_job_is_slow_is_never_requeued(deployment: Deployment) -> None:
    async def scenario(workers: Workers) -> None:
        _, watcher = await workers.register()
        busy_id, _ = await workers.register()
        assert watcher is not None
        await workers.give_job(busy_id, "slow")
        assert await looks(watcher, workers.manager, GRACE * 6) == 0
        assert statuses(deployment.links) == {"slow": ("doing", 0)}

    run(deployment, scenario)


def test_an_unlisted_worker_is_judged_by_its_heartbeat_only(deployment: Deployment) -> None:
    async def scenario(workers: Workers) -> None:
        _, watcher = await workers.register()
        old_id, _ = await workers.register(listed=False)
        assert watcher is not None
        await workers.give_job(old_id, "old")
        assert await looks(watcher, workers.manager, GRACE * 3) == 0
        assert statuses(deployment.links) == {"old": ("doing", 0)}
        with psycopg.connect(deployment.links, autocommit=True) as conn:
            conn.execute(
                "UPDATE procrastinate_workers SET last_heartbeat = now() - interval '1 hour' WHERE id = %s",
                (old_id,),
            )
        workers.worker.stalled_after = 60.0
        assert await workers.worker.recover_async() == 1
        assert statuses(deployment.links) == {"old": ("todo", 1)}

    run(deployment, scenario)


def test_a_worker_whose_lock_connection_dropped_takes_it_again_before_it_is_judged(deployment: Deployment) -> None:
    async def scenario(workers: Workers) -> None:
        watcher, cut_id, cut = await cut_while_running(workers, deployment)
        await watcher.look(workers.manager)  # sees the lock free: a suspect, not yet judged
        await asyncio.sleep(LOOK_EVERY)
        assert await watcher.look(workers.manager) == 0  # free for less than GRACE: still not judged
        await cut.look(workers.manager)  # the worker's own next look finds its connection gone
        assert cut.may_fetch.is_set() and not cut.fenced.is_set() and cut.conn is not None
        assert await looks(watcher, workers.manager, GRACE * 3) == 0
        assert statuses(deployment.links) == {"cut": ("doing", 0)}
        with psycopg.connect(deployment.links) as conn:
            row = conn.execute("SELECT epoch FROM bm_worker_liveness WHERE worker_id = %s", (cut_id,)).fetchone()
        assert row == (1,)  # taken again once

    run(deployment, scenario)


def test_a_worker_that_lost_its_lock_fetches_no_job_until_it_holds_it_again(deployment: Deployment) -> None:
    async def scenario(workers: Workers) -> None:
        cut_id, cut = await workers.register()
        assert cut is not None
        terminate(deployment.links, cut)
        # The server has not yet seen the old session end: another session still holds the lock.
        async with await psycopg.AsyncConnection.connect(deployment.links, autocommit=True) as old:
            await old.execute(f"SELECT pg_advisory_lock({KEY}, %s)", (cut_id,))
            await cut.look(workers.manager)
            assert not cut.may_fetch.is_set() and not cut.fenced.is_set()
            await workers.worker.sync_task.defer_async(pair="waiting")
            gated = LivenessJobManager(workers.manager.connector, cut)
            fetch = asyncio.create_task(gated.fetch_job([workers.worker.workers.queue], cut_id))
            await asyncio.sleep(LOOK_EVERY * 2)
            assert not fetch.done()
        for _ in range(50):  # the old session's lock goes a moment after its socket closes
            await cut.look(workers.manager)
            if cut.may_fetch.is_set():
                break
            await asyncio.sleep(LOOK_EVERY)
        job = await asyncio.wait_for(fetch, 5)
        assert cut.may_fetch.is_set() and job is not None and job.task_kwargs == {"pair": "waiting"}

    run(deployment, scenario)


def test_a_worker_judged_dead_while_it_lived_learns_it_and_fetches_nothing_more(deployment: Deployment) -> None:
    async def scenario(workers: Workers) -> None:
        watcher, cut_id, cut = await cut_while_running(workers, deployment)
        assert await looks(watcher, workers.manager, GRACE * 3) == 1  # its event loop stalled meanwhile
        await cut.look(workers.manager)
        assert cut.fenced.is_set() and not cut.may_fetch.is_set()
        gated = LivenessJobManager(workers.manager.connector, cut)
        await workers.worker.sync_task.defer_async(pair="next")
        assert await gated.fetch_job([workers.worker.workers.queue], cut_id) is None
        assert statuses(deployment.links) == {"cut": ("todo", 1), "next": ("todo", 0)}

    run(deployment, scenario)


def test_after_the_watchers_own_session_ends_it_judges_nobody_it_has_not_seen_alive_again(
    deployment: Deployment,
) -> None:
    """A server restart ends every session at once: no watcher may take the others for dead."""

    async def scenario(workers: Workers) -> None:
        _, watcher = await workers.register()
        gone_id, gone = await workers.register()
        assert watcher is not None and watcher.conn is not None and gone is not None and gone.conn is not None
        await workers.give_job(gone_id, "gone")
        await watcher.look(workers.manager)  # saw it held
        terminate(deployment.links, watcher)
        await died(gone)
        assert await looks(watcher, workers.manager, GRACE * 4) == 0
        assert statuses(deployment.links) == {"gone": ("doing", 0)}
        assert await looks(Liveness(deployment.links), workers.manager, GRACE * 2) == 0  # a fresh one neither

    run(deployment, scenario)


def test_the_judgement_rechecks_the_epoch_and_the_lock_in_its_own_statement(deployment: Deployment) -> None:
    async def scenario(workers: Workers) -> None:
        _, watcher = await workers.register()
        live_id, _ = await workers.register()
        dead_id, dead = await workers.register()
        assert watcher is not None and watcher.conn is not None and dead is not None and dead.conn is not None
        await workers.give_job(dead_id, "dead")
        await workers.give_job(live_id, "live")
        await died(dead)

        async def judge(ids: list[int], epochs: list[int]) -> list[Any]:
            assert watcher is not None and watcher.conn is not None
            cur = await watcher.conn.execute(_JUDGE, {"ids": ids, "epochs": epochs})
            return await cur.fetchall()

        assert await judge([dead_id], [1]) == []  # the worker took its lock again since (epoch moved)
        assert await judge([live_id], [0]) == []  # held
        ((judged_id, job_id, queue_name, pair, attempts),) = await judge([dead_id, live_id], [0, 0])
        assert (judged_id, queue_name, pair, attempts) == (dead_id, "test", "dead", 0) and isinstance(job_id, int)

    run(deployment, scenario)


def test_a_killed_workers_job_is_run_by_another_long_before_its_heartbeat_is_stale(deployment: Deployment) -> None:
    """Both workers wait 60 s for a heartbeat: only the dead process's dropped lock can restart the job."""
    # A slow listing: the first worker is killed while it reads, before any write is in flight (a write in
    # flight at the vendor when its process dies is the hazard docs/scale.md describes).
    deployment.world.kantata.faults = FaultPlan().latency(10.0, method="GET")
    env = {**os.environ, **deployment.env}
    code = "from billing_milestones.cli import main; main()"
    argv = [sys.executable, "-c", code, "worker", "--config", str(deployment.config), "--stalled-after", "60"]
    first = subprocess.Popen([*argv, "--name", "doomed"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    second: subprocess.Popen[bytes] | None = None
    try:
        enqueue_pairs(deployment.settings(), ["erp"])
        deadline = time.monotonic() + 60
        while jobs(deployment.links)[0]["status"] != "doing" and time.monotonic() < deadline:
            time.sleep(0.05)
        second = subprocess.Popen([*argv, "--name", "heir"], env=env, stdout=subprocess.DEVNULL)
        with psycopg.connect(deployment.links, autocommit=True) as conn:
            while time.monotonic() < deadline:
                (listed,) = conn.execute("SELECT count(*) FROM bm_worker_liveness").fetchone() or (0,)
                if listed == 2:
                    break
                time.sleep(0.05)
            time.sleep(GRACE * 3)  # the second worker has looked at the first's lock
        assert [(j["status"], j["attempts"]) for j in jobs(deployment.links)] == [("doing", 0)]  # alive: kept
        deployment.world.kantata.faults = FaultPlan()
        first.send_signal(signal.SIGKILL)
        first.wait(10)
        killed = time.monotonic()
        while time.monotonic() < killed + 20 and jobs(deployment.links)[0]["status"] != "succeeded":
            time.sleep(0.1)
        (job,) = jobs(deployment.links)
        # attempts: one for the requeue, one for the run that ended it
        assert (job["status"], job["attempts"]) == ("succeeded", 2), "the job waited for the 60 s heartbeat"
        assert milestones(deployment) == source_titles(deployment)  # every milestone once
    finally:
        for proc in (first, second):
            if proc is not None and proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(20)
                except subprocess.TimeoutExpired:
                    proc.kill()


def test_the_liveness_table_is_created_with_the_queue(deployment: Deployment) -> None:
    asyncio.run(WorkerApp(deployment.settings()).prepare_async())
    with psycopg.connect(deployment.links) as conn:
        assert conn.execute("SELECT to_regclass('bm_worker_liveness') IS NOT NULL").fetchone() == (True,)


def test_a_running_worker_that_learns_it_was_judged_dead_stops_with_an_error(deployment: Deployment) -> None:
    worker = WorkerApp(deployment.settings())
    asyncio.run(worker.prepare_async())  # the tables, before this test looks at them
    ended: list[BaseException | None] = []

    def work() -> None:
        try:
            run_worker(worker, install_signal_handlers=False, heartbeat=1.0)
            ended.append(None)
        except BaseException as exc:
            ended.append(exc)

    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    with psycopg.connect(deployment.links, autocommit=True) as conn:
        row = None
        while row is None and time.monotonic() < deadline:
            time.sleep(0.05)
            row = conn.execute("SELECT worker_id, backend_pid FROM bm_worker_liveness").fetchone()
        assert row is not None, "the worker never listed itself"
        worker_id, backend_pid = row
        # Judged dead while its lock connection was down (as a watcher's judgement leaves it): row gone.
        conn.execute("DELETE FROM bm_worker_liveness WHERE worker_id = %s", (worker_id,))
        conn.execute("SELECT pg_terminate_backend(%s)", (backend_pid,))
    thread.join(30)
    assert not thread.is_alive() and len(ended) == 1
    assert isinstance(ended[0], WorkerFencedError)


def test_a_worker_that_stops_cleanly_unlists_itself_and_its_last_looks_take_nothing_again(
    deployment: Deployment,
) -> None:
    async def scenario(workers: Workers) -> None:
        worker_id, liveness = await workers.register()
        assert liveness is not None
        await liveness.release()
        await lock_gone(deployment.links, worker_id)
        await liveness.look(workers.manager)  # the watcher task runs until the worker's run ends
        assert not liveness.fenced.is_set() and liveness.conn is None
        with psycopg.connect(deployment.links) as conn:
            assert conn.execute("SELECT count(*) FROM bm_worker_liveness").fetchone() == (0,)

    run(deployment, scenario)


def test_workers_of_one_id_in_two_schemas_of_one_database_hold_locks_of_their_own(
    postgres_server: PostgresServer,
) -> None:
    """procrastinate numbers workers per schema: deployments sharing a database must not share locks."""
    urls = [fresh_database(postgres_server) for _ in range(2)]
    for url in urls:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("CREATE TABLE procrastinate_workers (id bigint PRIMARY KEY)")
            conn.execute("INSERT INTO procrastinate_workers VALUES (1)")
            conn.execute(liveness_schema())

    async def main() -> None:
        first, second = Liveness(urls[0]), Liveness(urls[1])
        await first.take(1)
        await second.take(1)
        assert first.conn is not None and second.conn is not None  # both listed, each holding its own lock
        await first.release()
        await second.release()

    asyncio.run(main())
