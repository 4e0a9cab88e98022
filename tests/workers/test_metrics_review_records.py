"""Review of a worker's structured records as a log pipeline reads them (docs/scale.md, docs/metrics.md).

A job leaves a ``pair_job`` record (where its time went) and its run a ``sync_run`` one (what it did), and
both named the pair ``bm_pair``: the job by its name in the config (``erp``), the run by its identity
(``autotask:29683001->kantata:1002``, as ``milestones runs`` shows it). No field of one held the other's
value, so a pipeline could not join a slow job to what its run wrote. The job's record now carries the
identity too (``bm_pair_id``), None when the job stopped before it resolved the pair. And each record's
fields are the documented ones, JSON values all."""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest

from billing_milestones import METRICS_LOGGER, errors
from billing_milestones.sync.config import KantataSettings
from billing_milestones.sync.runs import logger as RUN_LOGGER
from billing_milestones.workers import run_pair
from billing_milestones.workers._timing import JOB_LOGGER

from .conftest import Deployment

SYNC_RUN = {
    "bm_event",
    "bm_pair",
    "bm_worker",
    "bm_ok",
    "bm_duration_s",
    "bm_actions",
    "bm_created",
    "bm_updated",
    "bm_deleted",
    "bm_adopted",
    "bm_conflicts",
}


@pytest.fixture
def records(caplog: pytest.LogCaptureFixture) -> Iterator[dict[str, list[dict[str, Any]]]]:
    """Each ``bm_event``'s records as their ``bm_`` fields, filled as the test logs."""
    for name in (JOB_LOGGER, RUN_LOGGER.name, METRICS_LOGGER):
        caplog.set_level(logging.INFO, logger=name)
    kept: dict[str, list[dict[str, Any]]] = {}

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            fields = {k: v for k, v in vars(record).items() if k.startswith("bm_")}
            if "bm_event" in fields:
                kept.setdefault(fields["bm_event"], []).append(fields)

    handler = Keep()
    logging.getLogger().addHandler(handler)
    yield kept
    logging.getLogger().removeHandler(handler)


def test_a_jobs_record_names_the_pair_as_its_runs_record_does(
    deployment: Deployment, records: dict[str, list[dict[str, Any]]]
) -> None:
    run_pair(deployment.settings(), "erp")
    (job,) = records["pair_job"]
    (run,) = records["sync_run"]
    assert job["bm_pair"] == "erp" and job["bm_pair_id"] == run["bm_pair"]
    assert run["bm_pair"] == f"autotask:{deployment.world.contract_id}->kantata:{deployment.world.erp_workspace}"
    assert set(run) == SYNC_RUN and run["bm_ok"] is True and run["bm_created"] > 0
    assert records["http_request"]  # the attempts' records beside them
    for fields in (job, run, *records["http_request"]):
        assert json.loads(json.dumps(fields)) == fields  # JSON values, nothing a shipper must stringify


def test_a_job_that_stops_before_resolving_its_pair_says_so_by_a_null_identity(
    deployment: Deployment, records: dict[str, list[dict[str, Any]]]
) -> None:
    no_kantata = dataclasses.replace(deployment.settings(), kantata=KantataSettings())  # no token: no client
    with pytest.raises(errors.ConfigError):
        run_pair(no_kantata, "erp")
    (job,) = records["pair_job"]
    assert job["bm_pair"] == "erp" and "bm_pair_id" in job and job["bm_pair_id"] is None and job["bm_ok"] is False
    assert "sync_run" not in records  # no lease taken: no run
