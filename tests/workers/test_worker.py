"""Pairs run by procrastinate workers on a real PostgreSQL queue against the emulators on loopback."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from typing import Any

import psycopg
import pytest
from psycopg.rows import dict_row

from billing_milestones.errors import ConfigError
from billing_milestones.sandbox import FaultPlan
from billing_milestones.sync import LinkStore
from billing_milestones.workers import SYNC_TASK, WorkerApp, cron_for, pair_lock, run_worker

from .conftest import Deployment


def jobs(links: str) -> list[dict[str, Any]]:
    with psycopg.connect(links, row_factory=dict_row) as conn:
        return list(
            conn.execute(
                "SELECT id, status::text AS status, attempts, lock, queueing_lock, args, scheduled_at > now() AS later "
                "FROM procrastinate_jobs WHERE task_name=%s ORDER BY id",
                (SYNC_TASK,),
            )
        )


def milestones(deployment: Deployment) -> list[str]:
    """The ERP workspace's milestone titles on Kantata (the pair's target)."""
    world = deployment.world
    settings = deployment.settings()
    from billing_milestones.model import Platform
    from billing_milestones.sync.connect import connect

    with connect(Platform.KANTATA, settings) as client:
        return sorted(m.title for m in client.milestones.list(world.erp_workspace))


def source_titles(deployment: Deployment) -> list[str]:
    from billing_milestones.model import Platform
    from billing_milestones.sync.connect import connect

    with connect(Platform.AUTOTASK, deployment.settings()) as client:
        return sorted(m.title for m in client.milestones.list(str(deployment.world.contract_id)))


def burst(worker: WorkerApp) -> None:
    run_worker(worker, burst=True, install_signal_handlers=False, heartbeat=1.0)


def test_a_pair_is_queued_once_with_its_locks_and_a_worker_syncs_it(deployment: Deployment) -> None:
    worker = WorkerApp(deployment.settings())
    from billing_milestones.workers import enqueue_pairs

    first = enqueue_pairs(deployment.settings(), ["erp"])
    again = enqueue_pairs(deployment.settings(), ["erp", "website"])
    assert first["erp"] is not None and again["erp"] is None and again["website"] is not None
    (erp, website) = jobs(deployment.links)
    assert (erp["lock"], erp["queueing_lock"], erp["args"]) == (pair_lock("erp"), pair_lock("erp"), {"pair": "erp"})
    assert website["lock"] == pair_lock("website")
    burst(worker)
    assert [j["status"] for j in jobs(deployment.links)] == ["succeeded", "succeeded"]
    assert milestones(deployment) == source_titles(deployment) != []
    with LinkStore(deployment.links) as store:
        world = deployment.world
        erp_id = f"autotask:{world.contract_id}->kantata:{world.erp_workspace}"
        website_id = f"crmcom:website->kantata:{world.website_workspace}"
        assert {r.pair_id for r in store.runs()} == {erp_id, website_id} and all(r.ok for r in store.runs())
    # Done: the pair can be queued again.
    assert enqueue_pairs(deployment.settings(), ["erp"])["erp"] is not None


def test_a_run_whose_platform_is_down_is_retried_with_backoff(deployment: Deployment) -> None:
    worker = WorkerApp(deployment.settings())
    # Every Kantata write fails (the client's own retries too) for the first attempt only.
    deployment.world.kantata.faults = FaultPlan().status(503, method="POST", times=60)
    assert worker.workers.retry_wait == 1
    from billing_milestones.workers import enqueue_pairs

    enqueue_pairs(deployment.settings(), ["erp"])
    burst(worker)
    (job,) = jobs(deployment.links)
    assert job["status"] == "todo" and job["attempts"] == 1  # failed, scheduled again a second later
    deployment.world.kantata.faults = FaultPlan()
    time.sleep(1.5)
    burst(worker)
    (job,) = jobs(deployment.links)
    assert job["status"] == "succeeded" and job["attempts"] == 2
    assert milestones(deployment) == source_titles(deployment)
    with LinkStore(deployment.links) as store:
        latest, failed = store.runs()
    assert latest.ok and not failed.ok and "write(s) failed" in str(failed.error)


def test_a_killed_workers_pair_is_picked_up_by_another_without_duplicates(deployment: Deployment) -> None:
    from billing_milestones.workers import enqueue_pairs

    # Slow writes, so the first worker is killed in the middle of the run.
    deployment.world.kantata.faults = FaultPlan().latency(0.6, method="POST")
    enqueue_pairs(deployment.settings(), ["erp"])
    env = {**os.environ, **deployment.env}
    code = "from billing_milestones.cli import main; main()"
    first = subprocess.Popen(
        [sys.executable, "-c", code, "worker", "--config", str(deployment.config), "--name", "doomed"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        with LinkStore(deployment.links) as store:
            while not store.dump("intents") and time.monotonic() < deadline:
                time.sleep(0.05)
            assert store.dump("intents"), "the first worker never started writing"
        time.sleep(0.3)
        first.send_signal(signal.SIGKILL)
        first.wait(10)
    finally:
        if first.poll() is None:
            first.kill()
    (job,) = jobs(deployment.links)
    assert job["status"] == "doing"  # left behind by the dead worker
    with LinkStore(deployment.links) as store:
        # Killed with its POST in flight (0.6 s of latency, killed 0.3 s after its intents): the write is
        # never recorded, whether or not the emulator, which outlives the worker, stores it meanwhile.
        assert store.pending() and len(milestones(deployment)) <= len(source_titles(deployment))
    deployment.world.kantata.faults = FaultPlan()
    time.sleep(2.2)  # the dead worker's heartbeat is now older than the second worker's stalled_after
    burst(WorkerApp(deployment.settings(), stalled_after=2.0))
    (job,) = jobs(deployment.links)
    assert job["status"] == "succeeded"
    assert milestones(deployment) == source_titles(deployment)  # every milestone once: 0 lost, 0 duplicated
    with LinkStore(deployment.links) as store:
        assert store.pending() == [] and store.runs()[0].ok


def test_scheduled_pairs_become_periodic_tasks_with_their_locks(deployment: Deployment) -> None:
    deployment.config.write_text(deployment.config.read_text() + "schedule = { erp = 15, website = 120 }\n")
    worker = WorkerApp(deployment.settings())
    periodic = worker.app.periodic_registry.periodic_tasks
    erp = periodic[(SYNC_TASK, "erp")]
    assert erp.cron == "*/15 * * * *" and periodic[(SYNC_TASK, "website")].cron == "0 */2 * * *"
    assert erp.configure_kwargs == {
        "task_kwargs": {"pair": "erp"},
        "lock": pair_lock("erp"),
        "queueing_lock": pair_lock("erp"),
    }


@pytest.mark.parametrize(
    ("minutes", "cron"),
    [(1, "*/1 * * * *"), (30, "*/30 * * * *"), (60, "0 */1 * * *"), (720, "0 */12 * * *"), (1440, "0 0 * * *")],
)
def test_minutes_become_cron(minutes: int, cron: str) -> None:
    assert cron_for(minutes) == cron


@pytest.mark.parametrize("minutes", [7, 45, 59, 90, 300, 420, 1439])
def test_a_period_cron_would_not_keep_evenly_is_refused(minutes: int) -> None:
    """``*/45`` runs at :00 and :45, then at :00 15 minutes later; ``0 */7`` at 21:00 and again at 00:00."""
    with pytest.raises(ConfigError) as info:
        cron_for(minutes)
    assert info.value.key == "workers.schedule" and f"{minutes} minutes cannot be kept evenly" in str(info.value)


def test_workers_need_a_postgresql_link_store(tmp_path: Any) -> None:
    from billing_milestones.sync.config import load_settings

    config = tmp_path / "milestones.toml"
    config.write_text('links = "local.sqlite3"\n')
    with pytest.raises(ConfigError, match="postgresql://") as info:
        WorkerApp(load_settings(config, env={}))
    assert info.value.key == "links"
