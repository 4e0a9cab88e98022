"""The queue's job manager for pair jobs: procrastinate's, with the liveness lock (``_liveness``), for a pair's
jobs meeting one another at its queueing lock (a tick or an enqueue meeting the pair waiting, a retry or a
dead worker's requeue meeting the pair queued again) and for a dead worker's job that has had its attempts."""

from __future__ import annotations

import datetime
import logging
from collections.abc import Callable, Iterable
from typing import Any, Final

from procrastinate import exceptions as pq_errors
from procrastinate import jobs as pq_jobs
from procrastinate import manager as pq_manager

from ._liveness import STILL_JUDGED, Liveness
from ._outage import OutageJobManager

__all__ = ["REQUEUES_BEYOND_RETRIES", "PairJobManager"]

logger = logging.getLogger("billing_milestones.workers")


#: A dead worker's ``doing`` job ended ``failed``, in one statement that finds it still the run judged (``doing``
#: with the attempts it had then: ``_liveness.STILL_JUDGED``), locked first: procrastinate's finish also takes a
#: ``todo`` job, so a check on the statement's snapshot alone let a requeue committed meanwhile be failed.
_FAIL_DOING: Final = STILL_JUDGED + "SELECT procrastinate_finish_job_v1(id, 'failed', false) FROM judged"

#: Requeues of a dead worker's job allowed beyond the pair's ``retries``: a run that kills its worker every
#: time (its memory, a crash in a library) would be sent back for ever, spending the tenant's budget and a
#: worker each time. The pair's next tick or enqueue runs it again.
REQUEUES_BEYOND_RETRIES: Final = 5


#: A pair's queued job made due now, if it was waiting for later (a retry's ``retry_wait x n``), and moved to the
#: queue this config names, if it waits in another: the queueing lock spans queues, so a job left in a queue
#: the config named before (``[workers] queue`` changed) was taken by no worker, and every enqueue and tick
#: of the pair was told it waits already: the pair never ran again. The queue it was moved from, if any.
_DUE_HERE_NOW: Final = (
    "WITH waiting AS (SELECT id, queue_name FROM procrastinate_jobs "
    "WHERE queueing_lock = %(queueing_lock)s AND status = 'todo' FOR UPDATE) "
    "UPDATE procrastinate_jobs AS job SET queue_name = %(queue)s, "
    "scheduled_at = CASE WHEN job.scheduled_at > now() THEN now() ELSE job.scheduled_at END "
    "FROM waiting WHERE job.id = waiting.id AND job.status = 'todo' "
    "AND (job.scheduled_at > now() OR job.queue_name <> %(queue)s) "
    "RETURNING job.id, waiting.queue_name AS moved_from"
)


#: A tick that met the pair waiting, recorded as deferred (with the waiting job, which runs after it): procrastinate
#: records a tick only with the job it queued, so the tick a worker dropped was queued by the next worker to
#: defer it once the waiting job had started (all workers defer each tick, half a second after it) or by one
#: started within procrastinate's catch-up of ten minutes, a second run behind one that covered it. Older
#: ticks of the pair are forgotten, as procrastinate forgets them when it queues one.
_TICK_COVERED: Final = (
    "WITH covered AS (INSERT INTO procrastinate_periodic_defers (task_name, periodic_id, defer_timestamp, job_id) "
    "SELECT %(task_name)s, %(periodic_id)s, %(defer_timestamp)s, (SELECT id FROM procrastinate_jobs "
    "WHERE queueing_lock = %(queueing_lock)s AND status = 'todo' LIMIT 1) ON CONFLICT DO NOTHING) "
    "DELETE FROM procrastinate_periodic_defers WHERE task_name = %(task_name)s AND periodic_id = %(periodic_id)s "
    "AND defer_timestamp < %(defer_timestamp)s"
)


def _moved(rows: list[dict[str, Any]], queue: str) -> None:
    for row in rows:
        if row["moved_from"] != queue:
            logger.warning(
                "job %s was waiting in queue %r, which the config no longer names; moved to queue %r",
                row["id"],
                row["moved_from"],
                queue,
                extra={"bm_event": "job_moved", "bm_job": row["id"]},
            )


def _queued_again(exc: pq_errors.UniqueViolation) -> bool:
    return exc.constraint_name == pq_manager.QUEUEING_LOCK_CONSTRAINT


def _superseded(job_id: int | None, how: str) -> None:
    logger.warning(
        "job %s: its %s met a run of the same pair already queued (its queueing lock); it ends failed, and "
        "the queued run is its rerun",
        job_id,
        how,
        extra={"bm_event": "job_superseded", "bm_job": job_id},
    )


class PairJobManager(OutageJobManager):
    """The liveness job manager (riding out a database away for a moment: ``_outage``), for a pair's jobs
    meeting one another at the queueing lock: a tick or an enqueue that finds the pair's job waiting for a
    retry makes it due now, and a retry (or requeue) that finds the pair queued meanwhile gives way to that job.

    A pair enqueued while its run is ``doing`` (a schedule tick, ``milestones enqueue``) is queued behind it:
    the queueing lock only holds among ``todo`` jobs. Sending the running job back to ``todo`` then (a retry,
    or the requeue of a dead worker's job) breaks that lock's unique index, and procrastinate left the job
    ``doing`` for good: holding the pair's lock, so the queued job never ran either, the pair was never
    synced again, and every look for dead workers' jobs failed on it anew. The queued job is the rerun the
    retry asked for, so the job ends ``failed`` instead. A dead worker's job that has had ``requeue_limit``
    attempts ends ``failed`` too, rather than being sent back once more."""

    def __init__(self, connector: Any, liveness: Liveness, *, requeue_limit: int) -> None:
        super().__init__(connector, liveness)
        #: Attempts after which a dead worker's job ends failed rather than queued again.
        self.requeue_limit = requeue_limit
        #: Jobs this worker ended ``aborted`` (a third Ctrl-C, while their threads still run): what its exit says.
        self.aborted: set[int] = set()
        #: The jobs this worker fetched whose end it has not yet recorded.
        self.running: set[int] = set()
        #: Called when a fetch finds no job and none of this worker's runs (a burst worker's end: ``run_worker``).
        self.on_idle: Callable[[], None] | None = None

    async def fetch_job(self, queues: Iterable[str] | None, worker_id: int) -> Any:
        job = await super().fetch_job(queues, worker_id)
        if job is not None and job.id is not None:
            self.running.add(job.id)
        elif job is None and not self.running and self.on_idle is not None:
            self.on_idle()
        return job

    async def finish_job(self, job: pq_jobs.Job, status: pq_jobs.Status, delete_job: bool) -> None:
        if status is pq_jobs.Status.ABORTED and job.id is not None:
            self.aborted.add(job.id)
        try:
            await super().finish_job(job, status, delete_job)
        finally:
            self.running.discard(job.id or 0)

    def batch_defer_jobs(self, jobs: list[pq_jobs.Job], connection: Any | None = None) -> list[pq_jobs.Job]:
        """``milestones enqueue``: a pair already queued is not queued twice, but runs now, in this config's
        queue (``_DUE_HERE_NOW``)."""
        try:
            return super().batch_defer_jobs(jobs, connection)
        except pq_errors.AlreadyEnqueued:
            for job in jobs:
                if job.queueing_lock:
                    rows = self.connector.get_sync_connector().execute_query_all(
                        _DUE_HERE_NOW, queueing_lock=job.queueing_lock, queue=job.queue
                    )
                    _moved(rows, job.queue)
            raise

    async def defer_periodic_job(self, job: pq_jobs.Job, periodic_id: str, defer_timestamp: int) -> int | None:
        """A schedule's tick. One that finds the pair queued is dropped (the queueing lock), recorded as
        deferred (``_TICK_COVERED``: no worker queues it later). When that job was a retry waiting ``retry_wait
        x n`` (longer than a short period), the pair waited past ticks it could have run at, as it would have
        without the failure: the tick makes it due now instead (and moves it to this config's queue,
        ``_DUE_HERE_NOW``)."""
        try:
            return await super().defer_periodic_job(job, periodic_id, defer_timestamp)
        except pq_errors.AlreadyEnqueued:
            if job.queueing_lock:
                await self.connector.execute_query_async(
                    _TICK_COVERED,
                    task_name=job.task_name,
                    periodic_id=periodic_id,
                    defer_timestamp=defer_timestamp,
                    queueing_lock=job.queueing_lock,
                )
                rows = await self.connector.execute_query_all_async(
                    _DUE_HERE_NOW, queueing_lock=job.queueing_lock, queue=job.queue
                )
                _moved(rows, job.queue)
            raise

    async def retry_job(
        self,
        job: pq_jobs.Job,
        retry_at: datetime.datetime | None = None,
        priority: int | None = None,
        queue: str | None = None,
        lock: str | None = None,
    ) -> None:
        try:
            await super().retry_job(job, retry_at, priority, queue, lock)
        except pq_errors.UniqueViolation as exc:
            if not _queued_again(exc):
                raise
            _superseded(job.id, "retry")
            await self.finish_job(job, pq_jobs.Status.FAILED, delete_job=False)
        finally:
            self.running.discard(job.id or 0)

    async def requeue_judged_async(self, job_id: int, attempts: int) -> None:
        """The requeue of a dead worker's job (``_liveness.requeue``); refused (ConnectorException, which
        the requeue skips, neither counting nor announcing it as queued) when the job is no longer the run
        judged, when it has had ``requeue_limit`` attempts (it ends failed), or when it gave way to its pair's
        queued run."""
        if attempts >= self.requeue_limit:
            await self._fail_doing(job_id, attempts)
            logger.error(
                "job %s has had %s attempts, its worker dead at the last: it ends failed, not queued again (the "
                "pair's next tick or enqueue runs it)",
                job_id,
                attempts,
                extra={"bm_event": "job_abandoned", "bm_job": job_id},
            )
            raise pq_errors.ConnectorException(f"job {job_id} has had its attempts")
        try:
            await super().requeue_judged_async(job_id, attempts)
        except pq_errors.UniqueViolation as exc:
            if not _queued_again(exc):
                raise
            await self._fail_doing(job_id, attempts)
            _superseded(job_id, "requeue")
            raise pq_errors.ConnectorException(f"job {job_id} gave way to its pair's queued run") from exc

    async def _fail_doing(self, job_id: int, attempts: int) -> None:
        """End the job ``failed`` if it is still the run judged; else refuse as a requeue of it is refused
        (another worker sent it back first: the requeue skips it)."""
        if not await self.connector.execute_query_all_async(_FAIL_DOING, job_id=job_id, attempts=attempts):
            raise pq_errors.ConnectorException(f"job {job_id} is no longer doing")
