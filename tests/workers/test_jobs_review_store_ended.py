"""A link store the server ended while it waited in the worker's pool (a restart, ``idle_session_timeout``,
``pg_terminate_backend``) is not lent to the next job: the job runs at once on a new one, rather than
failing its first attempt and waiting ``retry_wait`` for its retry."""

from __future__ import annotations

import time

import psycopg

from billing_milestones.workers import SYNC_TASK, WorkerApp, enqueue_pairs, run_worker

from .conftest import Deployment


def test_a_pooled_store_the_server_ended_is_not_lent(deployment: Deployment) -> None:
    worker = WorkerApp(deployment.settings())
    worker.stores.fill(1)
    with worker.stores.store() as store:
        pid = store.backend.conn.info.backend_pid  # type: ignore[attr-defined]
    with psycopg.connect(deployment.links, autocommit=True) as conn:
        conn.execute("SELECT pg_terminate_backend(%s)", (pid,))
        while conn.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", (pid,)).fetchone():
            time.sleep(0.01)
    enqueue_pairs(deployment.settings(), ["erp"])
    run_worker(worker, burst=True, install_signal_handlers=False)
    with psycopg.connect(deployment.links) as conn:
        rows = conn.execute("SELECT status::text FROM procrastinate_jobs WHERE task_name=%s", (SYNC_TASK,))
        assert rows.fetchall() == [("succeeded",)]
