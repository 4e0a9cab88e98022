"""The procrastinate app: one task per configured pair run, a queueing lock and a lock per pair, schedules.

The queue lives in the link store's PostgreSQL database (procrastinate's own tables beside ours), so a
deployment has one database to run. Each pair is deferred with a *queueing lock* (it is waiting in the queue
at most once, however often cron or a person enqueues it) and a *lock* (one worker runs it at a time; a
second job of the pair waits for the first). A pair scheduled in ``[workers] schedule`` becomes a periodic
task (procrastinate defers it once per tick across all workers). A worker that dies mid-job leaves it
``doing``. Its process's end drops its liveness lock, and every worker looks five times a second for such
jobs and sends them back to the queue (see ``_liveness``); every few seconds it also looks for the jobs of
workers whose heartbeat stopped (a machine or network that went away, or a worker of an older release). The
pair's lease and intents make the second attempt safe.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Final, cast

import procrastinate
import psycopg
import psycopg_pool
from procrastinate import exceptions as pq_errors

from ..errors import ConfigError
from ..sync._store_config import WorkerSettings, check_schedule, worker_settings
from ..sync.config import Settings
from ..sync.store import parse_target, with_keepalives
from ._clients import SharedBudgets
from ._config_now import ConfigNow
from ._idle_check import check_idle_async
from ._liveness import LOOK_EVERY, Liveness, liveness_schema, requeue, tagged
from ._pair_jobs import _FAIL_DOING as _FAIL_DOING  # the tests import it from here
from ._pair_jobs import REQUEUES_BEYOND_RETRIES as REQUEUES_BEYOND_RETRIES
from ._pair_jobs import PairJobManager
from ._pool import READ_COMMITTED, unreadable_url
from ._retry import PairRetry
from ._run import TRANSIENT, run_pair
from ._stores import StorePool

__all__ = ["SYNC_TASK", "WorkerApp", "cron_for", "pair_lock"]

SYNC_TASK: Final = "billing_milestones.sync_pair"
RECOVER_TASK: Final = "billing_milestones.recover_stalled"
logger = logging.getLogger("billing_milestones.workers")


def pair_lock(name: str) -> str:
    """The one name a pair's jobs share for both locks."""
    return f"billing-milestones:pair:{name}"


def cron_for(minutes: int) -> str:
    """Every ``minutes`` minutes as cron: ``*/N`` past the hour below 60, every N/60 hours at :00 above; a
    period cron would not keep evenly is refused (``check_schedule``: the config refuses it on loading)."""
    check_schedule(minutes)
    if minutes < 60:
        return f"*/{minutes} * * * *"
    return f"0 */{minutes // 60} * * *" if minutes < 24 * 60 else "0 0 * * *"


def queue_url(settings: Settings) -> str:
    """The queue's database: the link store's, which must be PostgreSQL for workers on several machines.

    A URL libpq cannot read is refused here, its password masked, before procrastinate's pool is made: the
    pool tried to connect with it for 30 s, logging libpq's message at each try, which quotes the token it
    could not read (``psycopg.pool`` warnings ``invalid percent-encoded token: "s3cret%zz"``), the password
    when that token is one."""
    target = parse_target(settings.links)
    if target.kind != "postgresql":
        raise ConfigError(
            f"links: workers share their queue and link store through PostgreSQL; set links (or "
            f"BILLING_MILESTONES_LINKS) to a postgresql:// URL, not {target.display}",
            key="links",
        )
    unreadable = unreadable_url(target.location)
    if unreadable is not None:
        raise ConfigError(
            f"links: the queue's database {target.display} is not a URL libpq can read{unreadable}; "
            "percent-encode its password (% as %25, @ as %40) or give it in PGPASSWORD or ~/.pgpass",
            key="links",
        )
    return target.location


def _autocommit(conn: Any) -> Any:
    """The queue's pooled connections run in autocommit. Each of procrastinate's queries is one statement
    (its own functions: fetch a job, finish it, beat the heart, defer), atomic by itself, on a connection of
    its own; in a transaction psycopg sends a ``BEGIN`` before it and the pool a ``COMMIT`` after it, two
    round trips more for every query of every job. A ``with conn.transaction()`` still opens a transaction
    (the schema creation's). The async pool awaits what this returns; the sync one (``defer`` from
    ``milestones enqueue``) ignores it, so a sync connection is switched at once. Both then run at READ
    COMMITTED whatever the database's default (``_pool.READ_COMMITTED``): procrastinate's fetch locks a job
    row another worker may have just changed, which a REPEATABLE READ snapshot refuses."""
    if isinstance(conn, psycopg.AsyncConnection):
        return _autocommit_async(conn)
    conn.autocommit = True
    conn.execute(READ_COMMITTED)
    return None


async def _autocommit_async(conn: psycopg.AsyncConnection[Any]) -> None:
    await conn.set_autocommit(True)
    await conn.execute(READ_COMMITTED)


def _queue_pool(**options: Any) -> psycopg_pool.AsyncConnectionPool:
    """procrastinate's pool, checking a connection before lending it by a look at its socket instead of
    procrastinate's empty query: one round trip a query fewer (see ``_idle_check``)."""
    return psycopg_pool.AsyncConnectionPool(**{**options, "check": check_idle_async})


class WorkerApp:
    """A procrastinate app bound to one config: its sync task, schedules and recovery task."""

    def __init__(
        self,
        settings: Settings,
        workers: WorkerSettings | None = None,
        *,
        stalled_after: float = 30.0,
        recover_every: float = 5.0,
    ) -> None:
        self.settings = settings
        self.workers = workers or worker_settings(settings.path, settings.pairs)
        self.stalled_after = stalled_after
        #: Seconds between two looks for a dead worker's jobs (never more than a third of ``stalled_after``).
        self.recover_every = min(recover_every, stalled_after / 3)
        url = queue_url(settings)
        #: Autotask's thread threshold and hourly budget, shared with every worker on this database.
        self.budgets = SharedBudgets(url, self.workers)
        #: The link stores this worker's jobs borrow (their connections outlive a job).
        self.stores = StorePool(settings.links)
        # The queue's connections and the liveness lock's carry this process's tag (see ``_liveness.tagged``).
        queue_conninfo, self._tag = tagged(with_keepalives(url))
        connector = procrastinate.PsycopgConnector(
            conninfo=queue_conninfo, configure=_autocommit, pool_factory=_queue_pool
        )
        self.app = procrastinate.App(connector=connector)
        self._liveness_url = queue_conninfo
        #: This worker's liveness lock and its looks at the others' (a fresh one for each run: see run_worker).
        self.liveness = Liveness(self._liveness_url, tag=self._tag)
        # Before any task is made: tasks keep the app's job manager.
        self.app.job_manager = PairJobManager(
            connector, self.liveness, requeue_limit=self.workers.retries + REQUEUES_BEYOND_RETRIES
        )
        # procrastinate's ``max_attempts`` counts retries (a job whose ``attempts``, its previous runs, reach it
        # is not retried), and 0 would mean no limit: ``retries`` as given, and no strategy at all for none.
        retry = (
            PairRetry(
                max_attempts=self.workers.retries,
                wait=self.workers.retry_wait,
                linear_wait=self.workers.retry_wait,
                retry_exceptions=TRANSIENT,
            )
            if self.workers.retries
            else False
        )
        settings_ = settings
        config_now = ConfigNow(settings)

        def sync_pair(pair: str, timestamp: int | None = None) -> dict[str, Any]:
            """One run of a configured pair (``timestamp`` is given when a schedule deferred it), as the config
            file says now (``ConfigNow``: a pair changed since the worker read it is refused)."""
            config_now.pair(pair)
            return run_pair(settings_, pair, connector=self.budgets.connect, stores=self.stores.store)

        self.sync_task = self.app.task(name=SYNC_TASK, queue=self.workers.queue, retry=retry)(sync_pair)
        for name, minutes in self.workers.schedule.items():
            self.app.periodic_registry.register_task(
                task=cast(Any, self.sync_task),  # a periodic task is given ``timestamp``, which sync_pair takes
                cron=cron_for(minutes),
                periodic_id=name,
                configure_kwargs={
                    "task_kwargs": {"pair": name},
                    "lock": pair_lock(name),
                    "queueing_lock": pair_lock(name),
                },
            )

        async def recover_stalled(timestamp: int) -> int:
            """Send the jobs of workers whose heartbeat stopped back to the queue; how many. (Workers look
            for them on their own now, see :meth:`watch_stalled_async`; this runs what an older worker
            deferred.)"""
            return await self.recover_async()

        self.app.task(name=RECOVER_TASK, queue=self.workers.queue, queueing_lock=RECOVER_TASK)(recover_stalled)

    @property
    def jobs(self) -> PairJobManager:
        """The queue's job manager, which this app made a :class:`PairJobManager`."""
        return cast(PairJobManager, self.app.job_manager)

    def new_liveness(self) -> Liveness:
        """A fresh liveness for one run of the worker (its events belong to that run's event loop)."""
        self.liveness = Liveness(self._liveness_url, tag=self._tag)
        self.jobs.liveness = self.liveness
        return self.liveness

    def warm_up(self, *, stores: int = 0) -> None:
        """Build, before the first job, the HTTP pools the configured pairs' platforms need (a TLS context
        each), ``stores`` link stores and as many connections for each shared budget (one per job run at
        once), and one client of each platform with its milestone view (:meth:`SharedBudgets.rehearse`): a
        worker's first jobs then start as fast as its later ones, instead of each opening a store under the
        schema lock all openers queue on, a budget's connection while other workers hold the slots it waits
        for, or importing the clients' modules while the job threads beside it wait for that import."""
        pairs = self.settings.pairs.values()
        for platform in {platform for spec in pairs for platform, _ in (spec.source, spec.target)}:
            self.budgets.http(platform)
            self.budgets.rehearse(platform, self.settings)
        self.stores.fill(stores)
        self.budgets.warm(self.settings, stores)

    # -- the queue ----------------------------------------------------------------------------------
    async def prepare_async(self) -> None:
        """Create procrastinate's tables once (the first worker to start does it, under a lock)."""
        async with self.app.open_async():
            await self.ensure_schema_async()

    async def ensure_schema_async(self) -> None:
        connector = self.app.connector
        pool = connector.pool  # type: ignore[attr-defined]
        async with pool.connection() as conn, conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock(hashtext('billing_milestones.queue_schema'))")
            # In the schema the tables are made in, not anywhere along the search_path: a deployment whose
            # path goes on to another's schema found that one's queue and queued its pairs there.
            cur = await conn.execute(
                "SELECT to_regclass(quote_ident(current_schema()) || '.procrastinate_jobs') IS NOT NULL AS present"
            )
            row = await cur.fetchone()
            present = row["present"] if isinstance(row, dict) else row[0]
            if not present:
                await conn.execute(self.app.schema_manager.get_schema())
            await conn.execute(liveness_schema())

    def enqueue(self, name: str) -> int | None:
        """Queue one run of a configured pair; its job id, or None when the pair is already waiting."""
        self.settings.pair(name)
        try:
            return self.sync_task.configure(lock=pair_lock(name), queueing_lock=pair_lock(name)).defer(pair=name)
        except pq_errors.AlreadyEnqueued:
            return None

    async def recover_async(self) -> int:
        """Jobs left ``doing`` by a worker that stopped sending heartbeats go back to the queue; how many.

        Several workers look at once: a job another worker has just sent back is no longer the run judged,
        and is not sent back twice (``_liveness.REQUEUE``), which is skipped here."""
        manager = self.jobs
        stalled = await manager.get_stalled_jobs(seconds_since_heartbeat=self.stalled_after)
        jobs = [
            (job.id, job.queue, str(job.task_kwargs.get("pair")), job.attempts) for job in stalled if job.id is not None
        ]
        return await requeue(manager, jobs, reason="that stopped sending heartbeats")

    async def _beat(self, heartbeat: float) -> None:
        """This worker's heartbeat, by the id procrastinate registered (a worker running without its liveness
        lock too), not once it is fenced (judged dead: it must look dead) and never holding up the look for
        dead workers longer than a beat (a slow pool)."""
        worker_id = self.jobs.worker_id
        if worker_id is None or self.liveness.fenced.is_set():
            return
        try:
            await asyncio.wait_for(self.jobs.update_heartbeat(worker_id), timeout=heartbeat)
        except Exception as exc:  # procrastinate's own beat, or the next, says more if it lasts
            logger.debug("could not update this worker's heartbeat (%s: %s)", type(exc).__name__, exc)

    async def watch_stalled_async(self, *, heartbeat: float | None = None) -> None:
        """Until cancelled: every ``LOOK_EVERY`` seconds, send the jobs of workers whose process ended back
        to the queue (and keep this worker's own lock); every ``recover_every`` seconds, those of workers
        whose heartbeat stopped; and every ``heartbeat`` seconds (when given), this worker's own heartbeat.

        This runs beside the worker, not as a job in its queue: a periodic job would wait behind every pair
        already queued (at 200 pairs, a minute and more), and a dead worker's pair with it.

        Why a heartbeat of its own beside procrastinate's: procrastinate stops its heartbeat at the first
        SIGTERM, before it waits for the running jobs, so a pair still running ``stalled_after`` later was
        sent back to the queue by another worker while it ran (the rerun waited on the pair's lease, and the
        first run's outcome was dropped from the queue). This one beats until the worker's run has ended, and
        at once when the database is back after an outage: its last beat is then as old as the outage, and
        longer than ``stalled_after`` another worker took its running jobs (and one it fetched on its return)
        for a stalled worker's and requeued them until its next beat, up to ``heartbeat`` later."""
        loop = asyncio.get_running_loop()
        heartbeat_look = loop.time() + self.recover_every
        beat_at = loop.time() + (heartbeat or 0.0)
        failing = False  # said once, not five times a second, while the database is away
        while True:
            _end_if_cancelled()
            await asyncio.sleep(LOOK_EVERY)
            if heartbeat is not None and loop.time() >= beat_at:
                beat_at = loop.time() + heartbeat
                await self._beat(heartbeat)
            try:
                await self.liveness.look(self.jobs)
                back, failing = failing, False
            except Exception as exc:  # the database may be restarting: look again next time
                if not failing:
                    logger.warning("could not look at the workers' locks (%s: %s)", type(exc).__name__, exc)
                back, failing = False, True
            if back and heartbeat is not None:  # its last beat is as old as the outage: beat before it fetches
                beat_at = loop.time() + heartbeat
                await self._beat(heartbeat)
            if loop.time() < heartbeat_look:
                continue
            heartbeat_look = loop.time() + self.recover_every
            try:
                await self.recover_async()
            except Exception as exc:
                logger.warning("could not look for stalled jobs (%s: %s)", type(exc).__name__, exc)


def _end_if_cancelled() -> None:
    """Raise CancelledError once the current task was asked to stop. A cancel that lands in a database call
    can come back as that call's failure (a connect cut short while the server is away), which the watch logs
    and lets pass: it then looked on for ever, and ``asyncio.run``, which cancels the tasks left once and
    waits for them, never returned (a worker stopped while its database was away hung until SIGKILL)."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError
