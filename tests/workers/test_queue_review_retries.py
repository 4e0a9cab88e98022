"""A pair's retry runs the pair as its config file says then: one retargeted between two attempts (the first
failed on a platform that was down) fails at its retry, clearly and for good, instead of writing its old
target; a pair unchanged goes on being retried up to ``retries``."""

from __future__ import annotations

import logging

import psycopg
import pytest

from billing_milestones.sandbox import FaultPlan
from billing_milestones.workers import SYNC_TASK, WorkerApp, enqueue_pairs, run_worker

from .conftest import Deployment
from .test_worker import milestones


def _job(links: str) -> tuple[str, int, bool]:
    with psycopg.connect(links) as conn:
        row = conn.execute(
            "SELECT status::text, attempts, scheduled_at > now() FROM procrastinate_jobs WHERE task_name = %s",
            (SYNC_TASK,),
        ).fetchone()
    assert row is not None
    return row[0], row[1], bool(row[2])


def _due(links: str) -> None:
    """The retry's wait over (as if ``retry_wait`` had passed)."""
    with psycopg.connect(links, autocommit=True) as conn:
        conn.execute("UPDATE procrastinate_jobs SET scheduled_at = now() WHERE status = 'todo'")


def _burst(worker: WorkerApp) -> None:
    run_worker(worker, burst=True, install_signal_handlers=False, heartbeat=1.0)


def test_a_pair_retargeted_between_two_attempts_fails_at_its_retry(
    deployment: Deployment, caplog: pytest.LogCaptureFixture
) -> None:
    worker = WorkerApp(deployment.settings())
    deployment.world.kantata.faults = FaultPlan().status(503, method="POST", times=1000)  # down for good
    enqueue_pairs(deployment.settings(), ["erp"])
    _burst(worker)
    assert _job(deployment.links) == ("todo", 1, True)  # failed, waiting for its retry
    before = milestones(deployment)
    world = deployment.world
    old, new = f"kantata:{world.erp_workspace}", f"kantata:{world.website_workspace}"
    deployment.config.write_text(deployment.config.read_text().replace(f'target = "{old}"', f'target = "{new}"'))
    deployment.world.kantata.faults = FaultPlan()  # back up: the retry would write the old target now
    _due(deployment.links)
    with caplog.at_level(logging.ERROR, logger="procrastinate"):
        _burst(worker)
    assert _job(deployment.links)[:2] == ("failed", 2)  # its retry refused, and no third attempt
    assert milestones(deployment) == before
    raised = [str(r.exc_info[1]) for r in caplog.records if isinstance(r.exc_info, tuple)]
    assert any(f"(target {old} -> {new})" in text for text in raised)


def test_an_unchanged_pair_is_retried_up_to_its_retries_then_fails(deployment: Deployment) -> None:
    worker = WorkerApp(deployment.settings())  # retries = 3
    deployment.world.kantata.faults = FaultPlan().status(503, method="POST", times=1000)
    enqueue_pairs(deployment.settings(), ["erp"])
    seen = []
    for _ in range(5):
        _burst(worker)
        seen.append(_job(deployment.links)[:2])
        _due(deployment.links)
    assert seen == [("todo", 1), ("todo", 2), ("todo", 3), ("failed", 4), ("failed", 4)]
