"""A pair enqueued (by hand or by its schedule) while its run is still running: the running job's retry meets the
queued job's queueing lock. Neither may be left ``doing`` for good, holding the pair's lock."""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

import psycopg
import pytest

from billing_milestones.sync import LinkStore
from billing_milestones.workers import SYNC_TASK, WorkerApp, enqueue_pairs, run_worker
from billing_milestones.workers._app import REQUEUES_BEYOND_RETRIES

from .conftest import Deployment
from .test_worker import jobs


def _until(check: Any, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_a_failed_run_of_a_pair_queued_again_meanwhile_is_not_left_doing(deployment: Deployment) -> None:
    # Each run waits half a second for the pair's lease, which this test holds: PairBusyError, retried.
    deployment.config.write_text(
        deployment.config.read_text().replace("write_settle = 2", "write_settle = 2\nlease_wait = 0.5")
    )
    settings = deployment.settings()
    world = deployment.world
    worker = WorkerApp(settings)
    enqueue_pairs(settings, ["erp"])
    run = threading.Thread(target=run_worker, args=(worker,), kwargs={"burst": True, "install_signal_handlers": False})
    with (
        LinkStore(deployment.links) as store,
        store.lease(f"autotask:{world.contract_id}->kantata:{world.erp_workspace}", wait=0),
    ):
        run.start()
        try:
            _until(lambda: [j["status"] for j in jobs(deployment.links)] == ["doing"])
            again = enqueue_pairs(settings, ["erp"])["erp"]
            assert again is not None  # the first is running, not waiting: a second run is queued behind it
        finally:
            run.join(60)
    assert not run.is_alive()
    first, second = jobs(deployment.links)
    # Its retry is the queued job's run (which the next test sees run): procrastinate had left it doing,
    # holding the pair's lock for good.
    assert (first["status"], second["status"]) == ("failed", "todo")


def test_a_dead_workers_job_of_a_pair_queued_again_meanwhile_gives_way_to_the_queued_one(
    deployment: Deployment, caplog: pytest.LogCaptureFixture
) -> None:
    settings = deployment.settings()
    enqueue_pairs(settings, ["erp"])
    with psycopg.connect(deployment.links, autocommit=True) as conn:
        # Left doing by a worker whose row is gone (pruned, or never listed): a stalled job.
        conn.execute("UPDATE procrastinate_jobs SET status = 'doing' WHERE task_name = %s", (SYNC_TASK,))
    assert enqueue_pairs(settings, ["erp"])["erp"] is not None  # a tick or a person, before it was found
    # The starting worker looks for stalled jobs: the requeue met the queued job's queueing lock and was
    # skipped, every look, while the stalled job held the pair's lock, so the queued one never ran.
    with caplog.at_level(logging.WARNING, logger="billing_milestones.workers"):
        run_worker(WorkerApp(settings), burst=True, install_signal_handlers=False)
    assert [j["status"] for j in jobs(deployment.links)] == ["failed", "succeeded"]
    # Said once, as what happened: not also announced as queued again.
    events = [getattr(r, "bm_event", None) for r in caplog.records]
    assert "job_superseded" in events and "job_recovered" not in events


@pytest.mark.parametrize(("beyond", "ends"), [(-1, "succeeded"), (0, "failed")])
def test_a_dead_workers_job_is_sent_back_until_its_attempts_run_out(
    deployment: Deployment, caplog: pytest.LogCaptureFixture, beyond: int, ends: str
) -> None:
    """A run that kills its worker every time would be sent back for ever: once the job has had the pair's
    retries and REQUEUES_BEYOND_RETRIES more attempts, the requeue ends it failed (not run); one attempt
    fewer, it is sent back and runs."""
    settings = deployment.settings()
    limit = WorkerApp(settings).workers.retries + REQUEUES_BEYOND_RETRIES
    enqueue_pairs(settings, ["erp"])
    with psycopg.connect(deployment.links, autocommit=True) as conn:
        # Left doing by a worker whose row is gone, after as many attempts as the case says.
        conn.execute(
            "UPDATE procrastinate_jobs SET status = 'doing', attempts = %s WHERE task_name = %s",
            (limit + beyond, SYNC_TASK),
        )
    with caplog.at_level(logging.WARNING, logger="billing_milestones.workers"):
        run_worker(WorkerApp(settings), burst=True, install_signal_handlers=False)
    assert [j["status"] for j in jobs(deployment.links)] == [ends]
    events = [getattr(r, "bm_event", None) for r in caplog.records]
    assert ("job_abandoned" in events) is (ends == "failed")
    created = deployment.world.kantata.milestones
    assert bool(created) is (ends == "succeeded")  # an abandoned job wrote nothing
