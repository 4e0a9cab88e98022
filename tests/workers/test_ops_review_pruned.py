"""A live worker whose registration another worker pruned as stalled (procrastinate's start deletes the workers
whose heartbeat is older than its own ``--stalled-after``: after an outage longer than that, before the live
worker beats again, or beside a worker started with a shorter one). Its next fetch cannot name it (the job's
``worker_id`` must be a registered worker's): procrastinate's foreign key error ended it with a traceback, exit
1. It stops as a fenced worker does, saying why, still exit 1 for its supervisor to start it again."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import psycopg

from billing_milestones.cli import EXIT_PROBLEMS
from billing_milestones.workers import enqueue_pairs

from ._waiting import wait_for
from .conftest import Deployment
from .test_worker import jobs


def test_a_worker_pruned_while_it_lived_stops_saying_why_not_with_a_traceback(deployment: Deployment) -> None:
    enqueue_pairs(deployment.settings(), ["website"])
    code = "from billing_milestones.cli import main; main()"
    proc = subprocess.Popen(
        [sys.executable, "-c", code, "worker", "--config", str(deployment.config)],
        env={**os.environ, **deployment.env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        wait_for(lambda: [j["status"] for j in jobs(deployment.links)] == ["succeeded"], "the first job never ran")
        with psycopg.connect(deployment.links, autocommit=True) as conn:
            assert conn.execute("DELETE FROM procrastinate_workers RETURNING id").fetchall()  # as a prune does
        enqueue_pairs(deployment.settings(), ["erp"])  # its fetch of this one names the pruned worker
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            proc.communicate(timeout=60)
    text = err.decode(errors="replace")
    assert proc.returncode == EXIT_PROBLEMS, text[-1500:]
    assert "is no longer registered" in text and "Traceback" not in text and "ForeignKeyViolation" not in text
    assert [j["status"] for j in jobs(deployment.links)] == ["succeeded", "todo"]  # left for another worker
