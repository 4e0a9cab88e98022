"""A worker records a job's outcome only while that job is still its own ``doing`` job.

procrastinate's finish step (``procrastinate_finish_job_v1``) accepts a job in ``todo`` or ``doing``, and its
retry step (``procrastinate_retry_job_v2``) one in ``doing``, whoever runs it now. A worker judged dead while
it lived (every session of it ended at once: see :mod:`._liveness`) keeps running the job it had, while that
job was sent back to the queue and maybe fetched by another worker. Its outcome, recorded then, would undo
the requeue: a finish marks the job done (the rerun never happens, or the other worker's run is cut off the
queue), a retry puts the job back to ``todo`` while the other worker runs it (a third run may fetch it). Only
the pair's lease kept those runs from writing twice; the queue's record of the job was lost.

So the worker's own finish and retry run procrastinate's functions only on the job's row as this worker's
``doing`` job, locked in the same statement (``FOR UPDATE`` in a ``WITH``, materialised before the call):
a requeue committed first leaves nothing to lock, one that comes later waits for our statement. Otherwise
nothing is recorded on the queue and the worker says so; the run's own history is in the link store.

*A job of no worker.* procrastinate clears a ``doing`` job's ``worker_id`` when it deletes that worker's row
(``prune_stalled_workers``, which every starting worker runs, or an unregistration), so the column alone
cannot say whose run a ``doing`` job of no worker is. It was accepted as ours, and so, once the job had been
requeued and fetched by a second worker whose row was pruned in turn, the first worker's late outcome ended
(or retried) the second worker's run. The job's ``attempts`` tells them apart: every way back to the queue
(procrastinate's retry, which our requeues use too) counts one more, and a fetch keeps it. A ``doing`` job of
no worker whose attempts are still those this worker fetched it with was never requeued since, so no other
worker can have fetched it: it is still this worker's run (its row pruned while it lived); any other is not.
"""

from __future__ import annotations

import datetime
import logging
from typing import Any, Final

logger = logging.getLogger("billing_milestones.workers")

__all__ = ["finish_if_mine", "retry_if_mine"]

#: The job, as this worker's ``doing`` job (or a ``doing`` job of no worker, procrastinate having pruned this
#: worker's row, if it was not requeued since this worker fetched it: the same attempts), locked.
_MINE: Final = """WITH mine AS (
    SELECT id FROM procrastinate_jobs
    WHERE id = %(job_id)s AND status = 'doing'
        AND (worker_id = %(worker_id)s OR (worker_id IS NULL AND attempts = %(attempts)s))
    FOR UPDATE)
"""
#: procrastinate's own queries (``finish_job``, ``retry_job``), called on the locked row only.
FINISH: Final = _MINE + "SELECT procrastinate_finish_job_v1(id, %(status)s, %(delete_job)s) FROM mine"
RETRY: Final = (
    _MINE + "SELECT procrastinate_retry_job_v2(id, %(retry_at)s, %(new_priority)s, %(new_queue_name)s, %(new_lock)s)"
    " FROM mine"
)


def _not_mine(job_id: int, outcome: str) -> None:
    logger.warning(
        "job %s was sent back to the queue while this worker ran it (judged dead: its sessions ended, or its "
        "heartbeat stopped, as it does once the worker is asked to stop); its "
        "outcome here (%s) is not recorded on the queue, where another run of it is due or running",
        job_id,
        outcome,
        extra={"bm_event": "job_outcome_dropped", "bm_job": job_id},
    )


async def finish_if_mine(
    connector: Any, job_id: int, worker_id: int | None, attempts: int, status: str, delete_job: bool
) -> bool:
    """Finish the job if it is still this worker's ``doing`` job (fetched with ``attempts``); whether it was."""
    rows = await connector.execute_query_all_async(
        FINISH, job_id=job_id, worker_id=worker_id, attempts=attempts, status=status, delete_job=delete_job
    )
    if not rows:
        _not_mine(job_id, status)
    return bool(rows)


async def retry_if_mine(
    connector: Any,
    job_id: int,
    worker_id: int | None,
    attempts: int,
    retry_at: datetime.datetime,
    priority: int | None,
    queue: str | None,
    lock: str | None,
) -> bool:
    """Send the job back for a retry if it is still this worker's ``doing`` job (fetched with ``attempts``);
    whether it was."""
    rows = await connector.execute_query_all_async(
        RETRY,
        job_id=job_id,
        worker_id=worker_id,
        attempts=attempts,
        retry_at=retry_at,
        new_priority=priority,
        new_queue_name=queue,
        new_lock=lock,
    )
    if not rows:
        _not_mine(job_id, "retry")
    return bool(rows)
