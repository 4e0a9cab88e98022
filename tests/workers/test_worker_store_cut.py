"""A worker's pair run whose link store session ends mid-run (``pg_terminate_backend`` on the real server,
as a server restart or a network cut would): the job is retried, not failed for good, and the run history
ends with the cut run closed as failed and the retry's run, none left open."""

from __future__ import annotations

import time
from typing import Any

import psycopg
import pytest

from billing_milestones.sync import LinkStore
from billing_milestones.sync.apply import _Applier
from billing_milestones.sync.runs import LOST_ERROR, OPEN_ERROR
from billing_milestones.workers import WorkerApp, enqueue_pairs

from .conftest import Deployment
from .test_worker import burst, jobs, milestones, source_titles


def test_a_run_whose_store_session_is_cut_is_retried_and_its_history_row_closed(
    deployment: Deployment, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = _Applier._create_batch
    cut: list[int] = []

    def create_batch(self: _Applier, actions: list[Any]) -> Any:
        if not cut:  # the first run's store session ends before its first batch is written
            cut.append(self.store.backend.conn.info.backend_pid)  # type: ignore[attr-defined]
            with psycopg.connect(deployment.links, autocommit=True) as admin:
                admin.execute("SELECT pg_terminate_backend(%s)", (cut[0],))
        return real(self, actions)

    monkeypatch.setattr(_Applier, "_create_batch", create_batch)
    worker = WorkerApp(deployment.settings())
    assert worker.workers.retry_wait == 1
    enqueue_pairs(deployment.settings(), ["erp"])
    burst(worker)
    (job,) = jobs(deployment.links)
    assert cut and job["status"] == "todo" and job["attempts"] == 1  # to be retried (was failed for good)
    with LinkStore(deployment.links) as store:
        (open_row,) = store.runs()
    assert open_row.finished_at == "" and open_row.error == OPEN_ERROR  # in the history, not lost
    time.sleep(1.5)
    burst(worker)
    (job,) = jobs(deployment.links)
    assert job["status"] == "succeeded" and job["attempts"] == 2
    assert milestones(deployment) == source_titles(deployment)
    with LinkStore(deployment.links) as store:
        latest, closed = store.runs()
    assert latest.ok and latest.finished_at != ""
    assert closed.id == open_row.id and not closed.ok and closed.error == LOST_ERROR and closed.finished_at != ""
