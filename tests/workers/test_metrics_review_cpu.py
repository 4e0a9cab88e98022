"""Review of a job's CPU figures (the ``pair_job`` record): the CPU of the helper threads a run hands work to is
the job's too.

A job's phases were timed by its own thread's CPU alone, and a phase's wall time minus its CPU time reads as
waiting (docs/scale.md). But the target side is read on a thread of its own (``load_sides(parallel=True)``)
and a target allowing several writes in flight (Autotask: 3) has its updates and deletes sent from a pool:
their CPU, parsing pages and building rows, was in no job's record (``bm_cpu_s`` "for the whole job" left it
out, and a load phase that computed read as waiting). Each thread's CPU is a fake clock here, moved only by
the work a test gives it, so the figures are exact and no timing is asserted."""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections import defaultdict
from typing import Any

import pytest

from billing_milestones import _platforms
from billing_milestones.kantata import KantataMilestones
from billing_milestones.sync import _load, apply
from billing_milestones.workers import run_pair
from billing_milestones.workers._timing import JOB_LOGGER

from .conftest import Deployment


class FakeCpu:
    """``time.thread_time`` per thread, moved only by :meth:`spend` (nothing else of a run moves it)."""

    def __init__(self) -> None:
        self.seconds: defaultdict[int, float] = defaultdict(float)
        self.spent_by: defaultdict[str, float] = defaultdict(float)

    def __call__(self) -> float:
        return self.seconds[threading.get_ident()]

    def spend(self, seconds: float) -> None:
        self.seconds[threading.get_ident()] += seconds
        self.spent_by[threading.current_thread().name.split("_")[0]] += seconds


@pytest.fixture
def cpu(monkeypatch: pytest.MonkeyPatch) -> FakeCpu:
    fake = FakeCpu()
    monkeypatch.setattr(time, "thread_time", fake)
    return fake


def job_record(caplog: pytest.LogCaptureFixture) -> dict[str, Any]:
    (record,) = [r for r in caplog.records if getattr(r, "bm_event", None) == "pair_job"]
    return vars(record)


def test_the_target_read_on_its_own_thread_is_in_the_load_phases_cpu(
    deployment: Deployment, cpu: FakeCpu, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    real_rows = _load._rows

    def rows(*args: Any, **kwargs: Any) -> Any:
        cpu.spend(5.0 if threading.current_thread().name == "bm-load-target" else 1.0)
        return real_rows(*args, **kwargs)

    monkeypatch.setattr(_load, "_rows", rows)
    caplog.set_level(logging.INFO, logger=JOB_LOGGER)
    run_pair(deployment.settings(), "erp")
    assert dict(cpu.spent_by) == {"bm-load-target": 5.0, threading.current_thread().name: 1.0}
    fields = job_record(caplog)
    assert fields["bm_phase_load_cpu_s"] == 6.0  # the source read here and the target's beside it
    assert fields["bm_cpu_s"] == 6.0


def test_writes_sent_from_the_pool_are_in_the_apply_phases_cpu(
    deployment: Deployment, cpu: FakeCpu, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    run_pair(deployment.settings(), "erp")  # linked
    world = deployment.world
    sources = [m for m in world.autotask.milestones.values() if m["contractID"] == world.contract_id]
    for source in sources:
        source["amount"] = "12345.00"  # each Kantata copy is updated
    real_spec, real_update = _platforms.spec_for, KantataMilestones.update

    def pooled(platform: Any) -> Any:  # Kantata as a target taking three writes at once, as Autotask does
        return dataclasses.replace(real_spec(platform), max_in_flight=3)

    def update(self: KantataMilestones, *args: Any, **kwargs: Any) -> Any:
        cpu.spend(2.0)
        return real_update(self, *args, **kwargs)

    monkeypatch.setattr(apply, "spec_for", pooled)
    monkeypatch.setattr(KantataMilestones, "update", update)
    caplog.set_level(logging.INFO, logger=JOB_LOGGER)
    run_pair(deployment.settings(), "erp")
    assert set(cpu.spent_by) == {"bm-apply"} and len(sources) >= 2  # every update on the pool
    fields = job_record(caplog)
    assert fields["bm_phase_apply_cpu_s"] == 2.0 * len(sources)
    assert fields["bm_cpu_s"] == 2.0 * len(sources)
