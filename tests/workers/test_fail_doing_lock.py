"""A dead worker's job ended ``failed`` (its requeue limit, or giving way to its pair's queued run) only while it
is still the run judged, checked under the row lock: procrastinate's finish also takes a ``todo`` job, so a
check on the statement's snapshot let another watcher's requeue, committed while the statement waited for the
row, be ended ``failed``."""

from __future__ import annotations

import threading
import time

import psycopg

from billing_milestones.workers import SYNC_TASK, enqueue_pairs
from billing_milestones.workers._app import _FAIL_DOING
from billing_milestones.workers._liveness import REQUEUE

from .conftest import Deployment


def test_a_requeue_committed_while_the_fail_waits_for_the_row_is_left_queued(deployment: Deployment) -> None:
    enqueue_pairs(deployment.settings(), ["erp"])
    with psycopg.connect(deployment.links, autocommit=True) as conn:
        conn.execute("UPDATE procrastinate_jobs SET status = 'doing' WHERE task_name = %s", (SYNC_TASK,))
        row = conn.execute("SELECT id FROM procrastinate_jobs").fetchone()
    assert row is not None
    job_id = int(row[0])
    first = psycopg.connect(deployment.links)  # one watcher's requeue, its transaction still open
    try:
        with first.cursor() as cur:
            cur.execute(REQUEUE, {"job_id": job_id, "attempts": 0, "retry_at": None})
        failed: list[int] = []

        def second_watcher() -> None:  # the same judgement (attempts 0), ending the job failed
            with psycopg.connect(deployment.links, autocommit=True) as other:
                failed.append(len(other.execute(_FAIL_DOING, {"job_id": job_id, "attempts": 0}).fetchall()))

        thread = threading.Thread(target=second_watcher)
        thread.start()
        time.sleep(0.3)  # it waits for the row the requeue holds
        first.commit()
        thread.join(10)
    finally:
        first.close()
    with psycopg.connect(deployment.links) as conn:
        state = conn.execute("SELECT status::text, attempts FROM procrastinate_jobs WHERE id = %s", (job_id,))
        assert state.fetchone() == ("todo", 1) and failed == [0]  # the requeued run is left to run
