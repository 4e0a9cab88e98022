"""The procrastinate app: one task per configured pair run, a queueing lock and a lock per pair, schedules.

The queue lives in the link store's PostgreSQL database (procrastinate's own tables beside ours), so a
deployment has one database to run. Each pair is deferred with a *queueing lock* (it is waiting in the queue
at most once, however often cron or a person enqueues it) and a *lock* (one worker runs it at a time; a
second job of the pair waits for the first). A pair scheduled in ``[workers] schedule`` becomes a periodic
task (procrastinate defers it once per tick across all workers). A worker that dies mid-job leaves it
``doing``; a periodic recovery task sends the jobs of workers whose heartbeat stopped back to the queue, and
the pair's lease and intents make the second attempt safe.
"""

from __future__ import annotations

import logging
from typing import Any, Final, cast

import procrastinate
from procrastinate import exceptions as pq_errors

from ..errors import ConfigError
from ..sync._store_config import WorkerSettings, worker_settings
from ..sync.config import Settings
from ..sync.store import parse_target
from ._clients import SharedBudgets
from ._run import TRANSIENT, run_pair

__all__ = ["SYNC_TASK", "WorkerApp", "cron_for", "pair_lock"]

SYNC_TASK: Final = "billing_milestones.sync_pair"
RECOVER_TASK: Final = "billing_milestones.recover_stalled"
logger = logging.getLogger("billing_milestones.workers")


def pair_lock(name: str) -> str:
    """The one name a pair's jobs share for both locks."""
    return f"billing-milestones:pair:{name}"


def cron_for(minutes: int) -> str:
    """Every ``minutes`` minutes as cron: ``*/N`` past the hour below 60, every N/60 hours at :00 above."""
    if minutes < 60:
        return f"*/{minutes} * * * *"
    if minutes % 60:
        raise ConfigError(
            f"workers.schedule: {minutes} minutes is not a whole number of hours; use 1-59 or a multiple of 60",
            key="workers.schedule",
        )
    return f"0 */{minutes // 60} * * *" if minutes < 24 * 60 else "0 0 * * *"


def queue_url(settings: Settings) -> str:
    """The queue's database: the link store's, which must be PostgreSQL for workers on several machines."""
    target = parse_target(settings.links)
    if target.kind != "postgresql":
        raise ConfigError(
            f"links: workers share their queue and link store through PostgreSQL; set links (or "
            f"BILLING_MILESTONES_LINKS) to a postgresql:// URL, not {target.display}",
            key="links",
        )
    return target.location


class WorkerApp:
    """A procrastinate app bound to one config: its sync task, schedules and recovery task."""

    def __init__(
        self,
        settings: Settings,
        workers: WorkerSettings | None = None,
        *,
        stalled_after: float = 30.0,
        recover_cron: str = "* * * * * */5",  # croniter: the 6th field is seconds
    ) -> None:
        self.settings = settings
        self.workers = workers or worker_settings(settings.path, settings.pairs)
        self.stalled_after = stalled_after
        url = queue_url(settings)
        #: Autotask's thread threshold and hourly budget, shared with every worker on this database.
        self.budgets = SharedBudgets(url, self.workers)
        connector = procrastinate.PsycopgConnector(conninfo=url)
        self.app = procrastinate.App(connector=connector)
        retry = procrastinate.RetryStrategy(
            max_attempts=self.workers.retries + 1,
            wait=self.workers.retry_wait,
            linear_wait=self.workers.retry_wait,
            retry_exceptions=TRANSIENT,
        )
        settings_ = settings

        def sync_pair(pair: str, timestamp: int | None = None) -> dict[str, Any]:
            """One run of a configured pair (``timestamp`` is given when a schedule deferred it)."""
            return run_pair(settings_, pair, connector=self.budgets.connect)

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
            """Send the jobs of workers whose heartbeat stopped back to the queue; how many."""
            return await self.recover_async()

        recover = self.app.task(name=RECOVER_TASK, queue=self.workers.queue, queueing_lock=RECOVER_TASK)(
            recover_stalled
        )
        self.app.periodic_registry.register_task(
            task=recover, cron=recover_cron, periodic_id="recover", configure_kwargs={}
        )

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
            cur = await conn.execute("SELECT to_regclass('procrastinate_jobs') IS NOT NULL AS present")
            row = await cur.fetchone()
            present = row["present"] if isinstance(row, dict) else row[0]
            if not present:
                await conn.execute(self.app.schema_manager.get_schema())

    def enqueue(self, name: str) -> int | None:
        """Queue one run of a configured pair; its job id, or None when the pair is already waiting."""
        self.settings.pair(name)
        try:
            return self.sync_task.configure(lock=pair_lock(name), queueing_lock=pair_lock(name)).defer(pair=name)
        except pq_errors.AlreadyEnqueued:
            return None

    async def recover_async(self) -> int:
        """Jobs left ``doing`` by a worker that stopped sending heartbeats go back to the queue."""
        manager = self.app.job_manager
        stalled = list(await manager.get_stalled_jobs(seconds_since_heartbeat=self.stalled_after))
        for job in stalled:
            logger.warning(
                "job %s (%s) was left running by a worker that stopped; queued again",
                job.id,
                job.task_kwargs.get("pair", job.task_name),
                extra={"bm_event": "job_recovered", "bm_job": job.id},
            )
            await manager.retry_job(job)
        return len(stalled)
