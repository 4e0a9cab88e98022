"""A dead worker's judged jobs sent back to the queue and announced (see :mod:`._liveness`).

Both ways a worker is found dead use it: its lock found free (:meth:`._liveness.Liveness.look`) and its
heartbeat found stale (``WorkerApp.recover_async``)."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING, Final

from procrastinate import exceptions as pq_errors

if TYPE_CHECKING:
    from ._liveness import LivenessJobManager

__all__ = ["Judged", "requeue"]

logger = logging.getLogger("billing_milestones.workers")

#: A judged job: its id, queue, pair and the attempts it had when it was judged.
Judged = tuple[int, str, str | None, int]

#: procrastinate's own announcement of a job to fetch, on its queue's channel (see its
#: ``procrastinate_notify_queue_job_inserted_v1`` trigger): the workers listening fetch at once.
_NOTIFY: Final = """SELECT pg_notify('procrastinate_queue_v1#' || q, json_build_object('type', 'job_inserted',
    'job_id', id)::text) FROM unnest(%(ids)s::bigint[], %(queues)s::text[]) AS t(id, q)"""


async def requeue(manager: LivenessJobManager, jobs: Iterable[Judged], *, reason: str) -> int:
    """Send these ``doing`` jobs back to the queue and announce them; how many. A job that is no longer the
    run judged (another worker sent it back first, and it may be running again or have ended) is refused
    (``_liveness.REQUEUE``), which is skipped."""
    done: list[tuple[int, str]] = []
    for job_id, queue, pair, attempts in jobs:
        try:
            await manager.requeue_judged_async(job_id, attempts)
        except pq_errors.ConnectorException:
            continue
        done.append((job_id, queue))
        logger.warning(
            "job %s (%s) was left running by a worker %s; queued again",
            job_id,
            pair,
            reason,
            extra={"bm_event": "job_recovered", "bm_job": job_id},
        )
    if done:
        await manager.connector.execute_query_async(
            _NOTIFY, ids=[job_id for job_id, _ in done], queues=[queue for _, queue in done]
        )
    return len(done)
