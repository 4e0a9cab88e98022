"""Run a worker, and enqueue pairs: the two things ``milestones worker`` and ``milestones enqueue`` do."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
from collections.abc import Iterable
from typing import Final

from ..errors import ValidationError
from ..sync.config import Settings
from ..sync.lease import new_owner
from ._app import WorkerApp
from ._liveness import WorkerFencedError

__all__ = ["enqueue_pairs", "run_worker"]

logger = logging.getLogger("billing_milestones.workers")

#: The interpreter's thread switch interval while a worker runs (seconds; Python's default is 5 ms). A worker's
#: job threads parse and plan between their requests; a thread whose response has arrived waits for the GIL
#: up to the interval each time it needs it while another computes, and an Autotask request holds one of
#: the tenant's three shared slots all that while. Beside one computing thread a 20 ms loopback request took
#: ~50 ms at 5 ms and ~38 ms at 1 ms; beside three, ~86-112 ms and ~36-52 ms. A shorter interval costs a
#: forced switch at most every millisecond.
SWITCH_INTERVAL: Final = 0.001


def run_worker(
    worker: WorkerApp,
    *,
    concurrency: int = 1,
    name: str | None = None,
    burst: bool = False,
    heartbeat: float = 10.0,
    install_signal_handlers: bool = True,
) -> None:
    """Work the queue until stopped (SIGINT/SIGTERM finish the running jobs first), or until it is empty
    with ``burst``. First: create the queue's tables if missing, and requeue jobs a dead worker left.

    Raises :class:`WorkerFencedError` (after its running jobs end) if this worker's liveness lock was lost
    long enough for another worker to judge it dead: its jobs were requeued, so it must not take more.

    ``heartbeat`` must be at most half of the worker's ``stalled_after`` (:class:`ValidationError` otherwise,
    before anything connects): a worker whose beats are further apart than the age at which a worker counts as
    stalled has its own running jobs judged dead and requeued while they run."""
    check_heartbeat(heartbeat, worker.stalled_after)

    async def main() -> None:
        liveness = worker.new_liveness()
        async with worker.app.open_async():
            await worker.ensure_schema_async()
            await worker.recover_async()
            worker.warm_up(stores=concurrency)
            watcher = asyncio.create_task(worker.watch_stalled_async(heartbeat=heartbeat), name="bm-watch-stalled")
            # A burst worker waits as any other and is stopped here once a fetch finds no job and none of its
            # own runs, not by procrastinate's wait=False: that stopped at the first empty fetch, with the other
            # jobs still running, and its signal handlers went with its fetching, so a SIGTERM then (systemd
            # stopping a cron run) ended those jobs at once.
            jobs = worker.jobs
            jobs.running.clear()
            ended_by_burst = False

            def end_burst() -> None:
                nonlocal ended_by_burst
                if not ended_by_burst and not run.done():
                    ended_by_burst = True
                    run.cancel()  # procrastinate's worker stops gracefully when cancelled

            jobs.on_idle = end_burst if burst else None
            run = asyncio.create_task(
                worker.app.run_worker_async(
                    queues=[worker.workers.queue],
                    concurrency=concurrency,
                    name=name or new_owner(),
                    wait=True,
                    update_heartbeat_interval=heartbeat,
                    stalled_worker_timeout=worker.stalled_after,
                    install_signal_handlers=install_signal_handlers,
                    fetch_job_polling_interval=1.0,
                ),
                name="bm-worker",
            )
            fenced = asyncio.create_task(liveness.fenced.wait(), name="bm-fenced")
            try:
                await asyncio.wait({run, fenced}, return_when=asyncio.FIRST_COMPLETED)
                if not run.done():  # judged dead: cancelling stops procrastinate's worker gracefully
                    run.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await run
                    raise WorkerFencedError(
                        "this worker lost its liveness lock and was judged dead by another; it stopped"
                    )
                try:
                    await run
                except asyncio.CancelledError:
                    if not ended_by_burst:
                        raise
            finally:
                jobs.on_idle = None
                # The run before the watch: a second Ctrl-C cancels main(), and a run cancelled then still waits
                # for its jobs, whose heartbeat the watch keeps until the run has ended. A run that failed (its
                # database gone) raises again here: the watch is stopped all the same, before the app closes.
                failure: Exception | None = None
                for task in (fenced, run, watcher):
                    task.cancel()
                    try:
                        await task
                    except asyncio.CancelledError:
                        pass
                    except Exception as exc:
                        failure = failure or exc
                if failure is not None:
                    raise failure

    previous = sys.getswitchinterval()
    sys.setswitchinterval(min(previous, SWITCH_INTERVAL))  # for this run only: the process may be a caller's
    try:
        asyncio.run(main())
    finally:
        sys.setswitchinterval(previous)
        worker.budgets.close()
        worker.stores.close()


def check_heartbeat(heartbeat: float, stalled_after: float) -> None:
    """Refuse beats too far apart for ``stalled_after``: a beat late by a loaded machine must not make the
    worker look dead (procrastinate's defaults are 10 s and 30 s)."""
    if not heartbeat * 2 <= stalled_after:
        raise ValidationError(
            f"heartbeat: {heartbeat:g} s between beats is more than half of stalled_after ({stalled_after:g} s; "
            "--heartbeat and --stalled-after of milestones worker): this worker's running jobs would be judged "
            "stalled and requeued while they run. Beat more often or wait longer",
            field="heartbeat",
            value=heartbeat,
        )


def enqueue_pairs(settings: Settings, names: Iterable[str]) -> dict[str, int | None]:
    """Queue one run of each pair: pair -> job id, or None where the pair was already waiting.

    Every name is checked before anything is queued (a ConfigError for one the config does not know left
    the pairs before it queued, and a caller fixing the name and running again was told they wait already),
    and a name given twice is queued once (its second, "already waiting", hid the job id of its first)."""
    wanted = list(dict.fromkeys(names))
    for name in wanted:
        settings.pair(name)
    worker = WorkerApp(settings)
    asyncio.run(worker.prepare_async())
    queued: dict[str, int | None] = {}
    with worker.app.open():
        for name in wanted:
            queued[name] = worker.enqueue(name)
    return queued
