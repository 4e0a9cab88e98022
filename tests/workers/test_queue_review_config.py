"""A pair's job runs the pair as its config file says now, or fails clearly: a worker reads the file when it
starts, and a pair retargeted or taken out since (then enqueued from the new file, or ticked by the worker's
own schedule) must not be synced with the settings the worker read (its old target), nor retried."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time

import psycopg
import pytest
from procrastinate.periodic import PeriodicDeferrer

from billing_milestones.sync import LinkStore
from billing_milestones.sync.config import load_settings
from billing_milestones.workers import SYNC_TASK, WorkerApp, enqueue_pairs, run_worker

from .conftest import Deployment
from .test_worker import milestones


def _statuses(links: str) -> list[tuple[str, int]]:
    with psycopg.connect(links) as conn:
        rows = conn.execute(
            "SELECT status::text, attempts FROM procrastinate_jobs WHERE task_name=%s ORDER BY id", (SYNC_TASK,)
        )
        return [(status, attempts) for status, attempts in rows]


def _raised(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [str(r.exc_info[1]) for r in caplog.records if isinstance(r.exc_info, tuple)]


def _burst(worker: WorkerApp) -> None:
    run_worker(worker, burst=True, install_signal_handlers=False, heartbeat=1.0)


def test_a_pair_retargeted_after_the_worker_started_is_not_synced_to_its_old_target(
    deployment: Deployment, caplog: pytest.LogCaptureFixture
) -> None:
    stale = WorkerApp(deployment.settings())  # read the file while erp's target was kantata:1002
    world = deployment.world
    before = milestones(deployment)
    old, new = f"kantata:{world.erp_workspace}", f"kantata:{world.website_workspace}"
    deployment.config.write_text(deployment.config.read_text().replace(f'target = "{old}"', f'target = "{new}"'))
    assert enqueue_pairs(deployment.settings(), ["erp"])["erp"] is not None  # from the file as it is now
    with caplog.at_level(logging.ERROR, logger="procrastinate"):
        _burst(stale)
    assert milestones(deployment) == before  # the old target was not written
    assert _statuses(deployment.links) == [("failed", 1)]  # refused once, not retried
    with LinkStore(deployment.links) as store:
        assert store.runs() == []  # nothing synced at all
    assert any(f"pairs.erp: changed in {deployment.config}" in text and "restart" in text for text in _raised(caplog))


def test_a_pair_taken_out_after_the_worker_started_fails_its_ticks_and_enqueues(
    deployment: Deployment, caplog: pytest.LogCaptureFixture
) -> None:
    deployment.config.write_text(deployment.config.read_text() + "schedule = { erp = 5 }\n")
    stale = WorkerApp(deployment.settings())
    assert enqueue_pairs(deployment.settings(), ["erp"])["erp"] is not None
    before = milestones(deployment)
    text = deployment.config.read_text()
    start = text.index("[pairs.erp]")
    deployment.config.write_text(
        text[:start] + text[text.index("[pairs.website]") :].replace("schedule = { erp = 5 }\n", "")
    )
    with caplog.at_level(logging.ERROR, logger="procrastinate"):
        _burst(stale)
    assert milestones(deployment) == before
    # The job queued by hand and the tick the worker deferred as it started (or only the first: the tick met
    # its queueing lock), each failed once.
    assert set(_statuses(deployment.links)) == {("failed", 1)}
    assert any(f"pairs.erp: taken out of {deployment.config}" in text for text in _raised(caplog))


def test_a_worker_started_after_the_change_runs_the_pair_as_configured_now(deployment: Deployment) -> None:
    world = deployment.world
    assert enqueue_pairs(deployment.settings(), ["erp"])["erp"] is not None  # queued under the old file
    old, new = f"kantata:{world.erp_workspace}", f"kantata:{world.website_workspace}"
    deployment.config.write_text(deployment.config.read_text().replace(f'target = "{old}"', f'target = "{new}"'))
    before = milestones(deployment)
    _burst(WorkerApp(load_settings(deployment.config, env=deployment.env)))
    assert milestones(deployment) == before  # the old target untouched
    with LinkStore(deployment.links) as store:
        assert [r.pair_id for r in store.runs()] == [f"autotask:{world.contract_id}->{new}"]


def test_an_unchanged_pair_runs_whatever_else_changed_in_the_file(deployment: Deployment) -> None:
    worker = WorkerApp(deployment.settings())
    deployment.config.write_text(
        "# a comment added\n" + deployment.config.read_text().replace("retries = 3", "retries = 2")
    )
    enqueue_pairs(deployment.settings(), ["erp"])
    _burst(worker)
    assert _statuses(deployment.links) == [("succeeded", 1)]


def _queue_renamed(deployment: Deployment) -> None:
    deployment.config.write_text(deployment.config.read_text().replace('queue = "test"', 'queue = "renamed"'))


def test_a_pair_waiting_in_the_queue_the_config_named_before_runs_on_the_one_it_names_now(
    deployment: Deployment, caplog: pytest.LogCaptureFixture
) -> None:
    """Its queueing lock spans queues: left in the old queue, no worker would take it again, and every enqueue
    and tick of the pair would be told it waits already; the pair would never run again."""
    assert enqueue_pairs(deployment.settings(), ["erp"])["erp"] is not None  # in queue "test"
    _queue_renamed(deployment)
    settings = deployment.settings()
    with caplog.at_level(logging.WARNING, logger="billing_milestones.workers"):
        assert enqueue_pairs(settings, ["erp"]) == {"erp": None}  # still waiting once, now where workers look
    assert [getattr(r, "bm_event", None) for r in caplog.records] == ["job_moved"]
    with psycopg.connect(deployment.links) as conn:
        assert conn.execute("SELECT queue_name FROM procrastinate_jobs").fetchall() == [("renamed",)]
    _burst(WorkerApp(settings))
    assert _statuses(deployment.links) == [("succeeded", 1)]


def test_a_tick_moves_a_pair_waiting_in_the_old_queue_too(deployment: Deployment) -> None:
    assert enqueue_pairs(deployment.settings(), ["erp"])["erp"] is not None
    _queue_renamed(deployment)
    deployment.config.write_text(deployment.config.read_text() + "schedule = { erp = 5 }\n")
    worker = WorkerApp(deployment.settings())

    async def tick() -> None:
        async with worker.app.open_async():
            (erp,) = worker.app.periodic_registry.periodic_tasks.values()
            await PeriodicDeferrer(registry=worker.app.periodic_registry).defer_jobs([(erp, int(time.time()))])

    asyncio.run(tick())  # meets the pair's queueing lock
    with psycopg.connect(deployment.links) as conn:
        assert conn.execute("SELECT queue_name FROM procrastinate_jobs").fetchall() == [("renamed",)]
    # A worker without the schedule runs it (one with it would defer its own latest tick as it starts).
    _burst(WorkerApp(deployment.settings(), dataclasses.replace(worker.workers, schedule={})))
    assert _statuses(deployment.links) == [("succeeded", 1)]
