"""A job whose pair the worker's config does not know (renamed or removed in the file after the worker
started, and enqueued from the new file) fails for good with a ConfigError naming it: no retry, no crash."""

from __future__ import annotations

import logging

import psycopg
import pytest

from billing_milestones.sync.config import load_settings
from billing_milestones.workers import SYNC_TASK, WorkerApp, enqueue_pairs, run_worker

from .conftest import Deployment


def test_a_job_of_a_pair_renamed_after_the_worker_started_fails_once(
    deployment: Deployment, caplog: pytest.LogCaptureFixture
) -> None:
    worker = WorkerApp(deployment.settings())  # started on the file as it was
    renamed = deployment.config.with_name("renamed.toml")
    renamed.write_text(deployment.config.read_text().replace("[pairs.erp]", "[pairs.ledger]"))
    assert enqueue_pairs(load_settings(renamed, env=deployment.env), ["ledger"])["ledger"] is not None
    with caplog.at_level(logging.ERROR, logger="procrastinate"):
        run_worker(worker, burst=True, install_signal_handlers=False)  # returns: the worker did not crash
    with psycopg.connect(deployment.links) as conn:
        rows = conn.execute("SELECT status::text, attempts FROM procrastinate_jobs WHERE task_name=%s", (SYNC_TASK,))
        assert rows.fetchall() == [("failed", 1)]  # one run, not retried
    raised = [r.exc_info[1] for r in caplog.records if isinstance(r.exc_info, tuple)]
    assert any("pairs.ledger: no such pair in the config (known: erp, website)" in str(exc) for exc in raised)
