"""A worker judged dead while it lived (every session of it ended) still ends the job it was running: its
outcome must not undo the requeue, on the real server. Without the guard, procrastinate's finish marks a
requeued job done (its rerun never runs) and its retry puts another worker's running job back to ``todo``."""

from __future__ import annotations

import asyncio
import datetime
import logging

import psycopg
import pytest
from procrastinate import jobs as pq_jobs
from procrastinate import manager as pq_manager

from billing_milestones.workers import pair_lock
from billing_milestones.workers._liveness import REQUEUE, requeue
from billing_milestones.workers._liveness_finish import FINISH, RETRY

from .conftest import Deployment
from .test_liveness import Workers, queue


async def _fetch(workers: Workers, worker_id: int) -> pq_jobs.Job:
    job = await pq_manager.JobManager.fetch_job(workers.manager, [workers.worker.workers.queue], worker_id)
    assert job is not None and job.id is not None
    return job


async def _running(workers: Workers, pair: str) -> tuple[int, pq_jobs.Job]:
    worker_id, _ = await workers.register()
    task = workers.worker.sync_task.configure(lock=pair_lock(pair), queueing_lock=pair_lock(pair))
    await task.defer_async(pair=pair)
    return worker_id, await _fetch(workers, worker_id)


def _state(links: str, job_id: int) -> tuple[str, int | None, int]:
    with psycopg.connect(links) as conn:
        row = conn.execute("SELECT status, worker_id, attempts FROM procrastinate_jobs WHERE id = %s", (job_id,))
        found = row.fetchone()
    assert found is not None
    return str(found[0]), found[1], int(found[2])


async def _requeue(workers: Workers, job: pq_jobs.Job) -> None:
    """What a watcher does to the job of a worker it judged dead."""
    assert job.id is not None
    assert await requeue(workers.manager, [(job.id, job.queue, "p", job.attempts)], reason="judged in the test") == 1


def test_a_requeued_jobs_finish_by_its_old_worker_leaves_it_queued(
    deployment: Deployment, caplog: pytest.LogCaptureFixture
) -> None:
    async def scenario() -> None:
        async with queue(deployment) as workers:
            _, job = await _running(workers, "p")
            assert job.id is not None
            await _requeue(workers, job)
            with caplog.at_level(logging.WARNING, logger="billing_milestones.workers"):
                await workers.manager.finish_job(job, pq_jobs.Status.SUCCEEDED, delete_job=False)
                await workers.manager.finish_job(job, pq_jobs.Status.FAILED, delete_job=True)
            assert _state(deployment.links, job.id)[0] == "todo"  # its rerun is still due
            assert [r.bm_event for r in caplog.records if hasattr(r, "bm_event")].count("job_outcome_dropped") == 2

    asyncio.run(scenario())


def test_a_requeued_jobs_retry_or_finish_by_its_old_worker_leaves_the_new_workers_run_alone(
    deployment: Deployment,
) -> None:
    async def scenario() -> None:
        async with queue(deployment) as workers:
            _, job = await _running(workers, "p")
            assert job.id is not None
            await _requeue(workers, job)
            new_id, _ = await workers.register()
            again = await _fetch(workers, new_id)
            assert again.id == job.id
            before = _state(deployment.links, job.id)
            assert before[:2] == ("doing", new_id)
            await workers.manager.retry_job(job, retry_at=datetime.datetime.now(datetime.UTC))
            await workers.manager.finish_job(job, pq_jobs.Status.FAILED, delete_job=False)
            assert _state(deployment.links, job.id) == before  # still the new worker's, untouched
            await workers.manager.finish_job(again, pq_jobs.Status.SUCCEEDED, delete_job=False)  # its own end
            assert _state(deployment.links, job.id)[0] == "succeeded"

    asyncio.run(scenario())


def _prune(links: str, worker_id: int) -> None:
    """What procrastinate's ``prune_stalled_workers`` does to a worker it judged stalled: its ``doing`` jobs
    keep running with no worker (``ON DELETE SET NULL``)."""
    with psycopg.connect(links, autocommit=True) as conn:
        conn.execute("DELETE FROM procrastinate_workers WHERE id = %s", (worker_id,))


def test_a_job_of_no_worker_requeued_since_is_not_its_old_workers_to_end(deployment: Deployment) -> None:
    """Requeued, fetched by a second worker, whose row procrastinate then pruned (its job: no worker): the
    first worker, judged dead while it lived, neither ends nor retries the second worker's run."""

    async def scenario() -> None:
        async with queue(deployment) as workers:
            _, job = await _running(workers, "p")
            assert job.id is not None
            await _requeue(workers, job)
            second, again = await _running_again(workers, job)
            _prune(deployment.links, second)
            before = _state(deployment.links, job.id)
            assert before == ("doing", None, again.attempts)  # running, of no worker
            await workers.manager.finish_job(job, pq_jobs.Status.SUCCEEDED, delete_job=False)
            await workers.manager.retry_job(job, retry_at=datetime.datetime.now(datetime.UTC))
            await workers.manager.finish_job(job, pq_jobs.Status.FAILED, delete_job=True)
            assert _state(deployment.links, job.id) == before  # the second run's, untouched
            await workers.manager.finish_job(again, pq_jobs.Status.SUCCEEDED, delete_job=False)  # its own end
            assert _state(deployment.links, job.id)[0] == "succeeded"

    asyncio.run(scenario())


def test_a_job_of_no_worker_never_requeued_is_still_its_workers_to_end(deployment: Deployment) -> None:
    """Its worker's row pruned while it ran, the job never requeued: no other worker can have fetched it, so
    its outcome is recorded (a finish, a retry) as procrastinate would."""

    async def scenario() -> None:
        async with queue(deployment) as workers:
            first, job = await _running(workers, "p")
            assert job.id is not None
            _prune(deployment.links, first)
            await workers.manager.retry_job(job, retry_at=datetime.datetime.now(datetime.UTC))
            assert _state(deployment.links, job.id) == ("todo", None, job.attempts + 1)
            _, other = await _running(workers, "q")
            assert other.id is not None and other.worker_id is not None
            _prune(deployment.links, other.worker_id)
            await workers.manager.finish_job(other, pq_jobs.Status.SUCCEEDED, delete_job=False)
            assert _state(deployment.links, other.id)[0] == "succeeded"

    asyncio.run(scenario())


async def _running_again(workers: Workers, job: pq_jobs.Job) -> tuple[int, pq_jobs.Job]:
    """A second worker fetches the requeued job."""
    worker_id, _ = await workers.register()
    again = await _fetch(workers, worker_id)
    assert again.id == job.id and again.attempts == job.attempts + 1
    return worker_id, again


def test_a_workers_own_jobs_are_finished_and_retried_as_procrastinate_does(deployment: Deployment) -> None:
    async def scenario() -> None:
        async with queue(deployment) as workers:
            worker_id, job = await _running(workers, "p")
            assert job.id is not None
            attempts = _state(deployment.links, job.id)[2]
            await workers.manager.retry_job(job)
            assert _state(deployment.links, job.id) == ("todo", worker_id, attempts + 1)
            again = await _fetch(workers, worker_id)
            await workers.manager.finish_job(again, pq_jobs.Status.SUCCEEDED, delete_job=False)
            assert _state(deployment.links, job.id)[0] == "succeeded"
            _, other = await _running(workers, "q")
            assert other.id is not None
            await workers.manager.finish_job(other, pq_jobs.Status.SUCCEEDED, delete_job=True)
            with psycopg.connect(deployment.links) as conn:
                assert conn.execute(
                    "SELECT count(*) FROM procrastinate_jobs WHERE id = %s", (other.id,)
                ).fetchone() == (0,)

    asyncio.run(scenario())


def test_the_guarded_steps_call_the_functions_procrastinates_own_queries_call() -> None:
    """An upgrade of procrastinate that renames them fails here, not in production."""
    from procrastinate import sql

    for guarded, name in ((FINISH, "finish_job"), (RETRY, "retry_job"), (REQUEUE, "retry_job")):
        function = sql.queries[name].split("SELECT ", 1)[1].split("(", 1)[0]
        assert f"SELECT {function}(id, " in guarded


def test_a_stale_judgement_of_a_job_leaves_its_next_run_and_its_end_alone(deployment: Deployment) -> None:
    """Two workers judged one stalled job (the heartbeat path lists it to each): the first sent it back and a
    third worker took it. The second's requeue, arriving late, neither sends back that running job nor
    revives it once it has failed (procrastinate's retry takes any ``doing`` job, and a ``failed`` one)."""

    async def scenario() -> None:
        async with queue(deployment) as workers:
            _, job = await _running(workers, "p")
            assert job.id is not None
            judged = [(job.id, job.queue, "p", job.attempts)]  # what both watchers saw
            assert await requeue(workers.manager, judged, reason="judged first") == 1
            third, again = await _running_again(workers, job)
            running = _state(deployment.links, job.id)
            assert running == ("doing", third, job.attempts + 1)
            assert await requeue(workers.manager, judged, reason="judged late") == 0
            assert _state(deployment.links, job.id) == running  # the third worker's run, untouched
            await workers.manager.finish_job(again, pq_jobs.Status.FAILED, delete_job=False)
            assert await requeue(workers.manager, judged, reason="judged late") == 0
            ended = _state(deployment.links, job.id)
            assert ended[0] == "failed"
            fresh = [(job.id, job.queue, "p", ended[2])]  # even with the attempts it has now: it is not doing
            assert await requeue(workers.manager, fresh, reason="judged late") == 0
            assert _state(deployment.links, job.id) == ended

    asyncio.run(scenario())
