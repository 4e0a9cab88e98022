"""Each job says where its time went: one structured record per pair run with every phase, wall and CPU;
nothing is measured when the log would drop it."""

from __future__ import annotations

import logging

import pytest

from billing_milestones.sandbox import FaultPlan
from billing_milestones.workers import PairRunIncomplete, WorkerApp, run_pair
from billing_milestones.workers._timing import JOB_LOGGER, PhaseClock

from .conftest import Deployment

PHASES = ("connect", "store", "resolve", "lease", "load", "plan", "apply", "remember", "close")


def _job_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if getattr(r, "bm_event", None) == "pair_job"]


def test_a_run_logs_one_record_with_every_phase(deployment: Deployment, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger=JOB_LOGGER)
    worker = WorkerApp(deployment.settings())
    try:
        run_pair(deployment.settings(), "erp", connector=worker.budgets.connect, stores=worker.stores.store)
    finally:
        worker.budgets.close()
        worker.stores.close()
    (record,) = _job_records(caplog)
    fields = vars(record)
    assert fields["bm_pair"] == "erp" and fields["bm_ok"] is True
    assert [k[len("bm_phase_") : -len("_s")] for k in fields if k.startswith("bm_phase_") and "_cpu" not in k] == list(
        PHASES
    )
    phases = sum(fields[f"bm_phase_{name}_s"] for name in PHASES)
    assert 0 < phases <= fields["bm_wall_s"] and fields["bm_cpu_s"] > 0
    assert fields["bm_phase_load_s"] > 0 and fields["bm_phase_apply_s"] > 0
    assert "pair erp: job done in" in record.getMessage()


def test_a_failed_run_is_logged_too(deployment: Deployment, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger=JOB_LOGGER)
    deployment.world.kantata.faults = FaultPlan().status(503, method="POST", times=60)
    with pytest.raises(PairRunIncomplete):
        run_pair(deployment.settings(), "erp")
    (record,) = _job_records(caplog)
    assert vars(record)["bm_ok"] is False and "job failed" in record.getMessage()


def test_nothing_is_measured_when_the_record_would_be_dropped(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger=JOB_LOGGER)
    clock = PhaseClock("p")
    with clock.phase("load"):
        pass
    clock.log(ok=True)
    assert not clock.enabled and clock.phases == {} and _job_records(caplog) == []


def test_a_phase_entered_twice_adds_up() -> None:
    logging.getLogger(JOB_LOGGER).setLevel(logging.INFO)
    try:
        clock = PhaseClock("p")
        for _ in range(2):
            with clock.phase("apply"):
                sum(range(20_000))
        wall, cpu = clock.phases["apply"]
        fields = clock.fields(ok=True)
        assert list(clock.phases) == ["apply"] and wall > 0 and cpu >= 0
        assert fields["bm_phase_apply_s"] == round(wall, 6) and fields["bm_wall_s"] >= fields["bm_phase_apply_s"]
    finally:
        logging.getLogger(JOB_LOGGER).setLevel(logging.NOTSET)
