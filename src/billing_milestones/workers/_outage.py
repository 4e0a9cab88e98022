"""The queue's database away for a moment (a server restart, a failover, its sessions terminated): the worker's
side tasks wait for it to come back instead of ending, so the worker keeps working once it is back.

procrastinate runs its ``LISTEN`` session, its heartbeat and its periodic deferrer as side tasks, and stops the
worker when one of them fails, but only while it still watches them, which it does until the first of them
ends: a worker without schedules (whose deferrer ends at once) let its listener die at the first failed
reconnect and went on polling, while a scheduled worker stopped at every restart of its database, and then,
failing to unregister from the absent database, ended with a traceback. So here:

* a fetch of a job the pool has no connection for finds none (the worker polls again a second later);
* the listener, whose reconnect is refused while the server is down, tries again every
  :data:`LISTEN_RETRY` seconds (the worker polls the queue every second meanwhile);
* procrastinate's heartbeat lets a failed beat pass (the worker's own watch beats too, and logs);
* a schedule's tick that cannot be deferred is dropped on this worker with a warning (every worker defers
  each tick, so another may have queued it; else the pair's next tick runs it);
* a job's end (done, failed, or its retry) is recorded again every :data:`RECORD_RETRY` seconds until the
  database takes it: procrastinate tried once, and a job whose end was lost stayed ``doing`` for as long as
  its worker lived (beating, holding its lock, so nobody requeued it), and held its pair's lock, so every
  later run of the pair waited behind it. The record only ever ends a run that is still this worker's
  (``_liveness_finish``), so one that did commit before its answer was lost is not recorded twice.

While its liveness lock is lost with the database, the worker fetches nothing (``_liveness``), so it waits
out an outage of any length and takes its lock again when the database is back. Stopped meanwhile, it waits
for its running jobs' ends to be recorded, then the queue pool's 30 s to unregister, and exits 2 saying the
queue's database cannot be reached.
"""

from __future__ import annotations

import asyncio
import datetime
import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, Final

import psycopg
from procrastinate import exceptions as pq_errors
from procrastinate import jobs as pq_jobs
from psycopg_pool import PoolTimeout

from ._liveness import LivenessJobManager, WorkerFencedError

__all__ = ["LISTEN_RETRY", "RECORD_RETRY", "OutageJobManager", "database_away"]

logger = logging.getLogger("billing_milestones.workers")

#: Seconds between two tries to open the ``LISTEN`` session again while the database refuses it.
LISTEN_RETRY: Final = 1.0
#: Seconds between two tries to record a job's end while the database does not take it.
RECORD_RETRY: Final = 1.0
#: A listener that lasted this long (seconds) before failing had connected: its next failure is said again.
_CONNECTED_FOR: Final = 5.0


def database_away(exc: BaseException) -> bool:
    """Whether procrastinate's error is the database's connection failing or refused (an ``OperationalError``,
    a pool that waited in vain among them), not a statement it refused (a unique violation, a bad query)."""
    cause = exc.__cause__ if isinstance(exc, pq_errors.ConnectorException) else exc
    return isinstance(cause, psycopg.OperationalError)


def _said(exc: BaseException) -> str:
    cause = exc.__cause__ or exc
    first = str(cause).strip().splitlines()
    return f"{type(cause).__name__}: {first[0] if first else 'no detail'}"


class OutageJobManager(LivenessJobManager):
    """The liveness job manager whose listener, heartbeat and ticks outlast a database that went away."""

    async def fetch_job(self, queues: Iterable[str] | None, worker_id: int) -> Any:
        """A job, or none while the pool finds no connection to send the fetch on (procrastinate polls again a second
        later; a fetch failing stopped the worker, and one begun just before its lock was seen lost with the server
        waited the pool's 30 s and failed). A fetch whose connection broke once sent is still raised: it may have taken
        a job, which this worker, living on, would have left ``doing`` for good. A worker whose registration another
        worker pruned as stalled (its beat older than that worker's ``--stalled-after``: after an outage, or beside a
        worker started with a shorter one) cannot fetch (the job's ``worker_id`` must name a registered worker): it
        stops as a fenced worker does, its running jobs counted as a dead worker's, rather than with procrastinate's
        foreign key traceback."""
        try:
            return await super().fetch_job(queues, worker_id)
        except pq_errors.ConnectorException as exc:
            if isinstance(exc.__cause__, psycopg.errors.ForeignKeyViolation):
                raise WorkerFencedError(
                    f"this worker (id {worker_id}) is no longer registered: another worker took it for stalled "
                    "(its heartbeat older than that worker's --stalled-after) and its jobs for a dead worker's; "
                    "it stopped"
                ) from None
            if not isinstance(exc.__cause__, PoolTimeout):
                raise
            logger.debug("no job fetched (%s)", _said(exc))
            return None

    async def listen_for_jobs(self, **kwargs: Any) -> None:
        quiet = False  # said once per outage, not every second of it
        while True:
            began = time.monotonic()
            try:
                await super().listen_for_jobs(**kwargs)
                return
            except pq_errors.ConnectorException as exc:
                if not database_away(exc):
                    raise
                if time.monotonic() - began >= _CONNECTED_FOR:
                    quiet = False
                if not quiet:
                    logger.warning(
                        "the queue's LISTEN session ended (%s); trying again every %g s, polling the queue meanwhile",
                        _said(exc),
                        LISTEN_RETRY,
                        extra={"bm_event": "listen_lost"},
                    )
                quiet = True
            await asyncio.sleep(LISTEN_RETRY)

    async def update_heartbeat(self, worker_id: int) -> None:
        try:
            await super().update_heartbeat(worker_id)
        except pq_errors.ConnectorException as exc:
            if not database_away(exc):
                raise
            logger.debug("a heartbeat was not written (%s)", _said(exc))

    async def defer_periodic_job(self, job: pq_jobs.Job, periodic_id: str, defer_timestamp: int) -> int | None:
        try:
            return await super().defer_periodic_job(job, periodic_id, defer_timestamp)
        except pq_errors.ConnectorException as exc:
            if not database_away(exc):
                raise
            logger.warning(
                "tick %s of schedule %r not queued by this worker (%s): another worker may queue it, else the "
                "pair's next tick runs it",
                defer_timestamp,
                periodic_id,
                _said(exc),
                extra={"bm_event": "tick_dropped", "bm_periodic_id": periodic_id},
            )
            return None

    async def finish_job(self, job: pq_jobs.Job, status: pq_jobs.Status, delete_job: bool) -> None:
        await _until_recorded(job, lambda: super(OutageJobManager, self).finish_job(job, status, delete_job))

    async def retry_job(
        self,
        job: pq_jobs.Job,
        retry_at: datetime.datetime | None = None,
        priority: int | None = None,
        queue: str | None = None,
        lock: str | None = None,
    ) -> None:
        await _until_recorded(
            job, lambda: super(OutageJobManager, self).retry_job(job, retry_at, priority, queue, lock)
        )


async def _until_recorded(job: pq_jobs.Job, record: Callable[[], Awaitable[None]]) -> None:
    """Run ``record`` (a job's end) until the database takes it, saying once that it waits."""
    waiting = False
    while True:
        try:
            await record()
        except pq_errors.ConnectorException as exc:
            if not database_away(exc):
                raise
            if not waiting:
                logger.warning(
                    "job %s: its end could not be recorded (%s); trying again every %g s until the database takes it",
                    job.id,
                    _said(exc),
                    RECORD_RETRY,
                    extra={"bm_event": "job_end_waits", "bm_job": job.id},
                )
            waiting = True
            await asyncio.sleep(RECORD_RETRY)
            continue
        if waiting:
            logger.info("job %s: its end is recorded", job.id, extra={"bm_event": "job_end_recorded", "bm_job": job.id})
        return
