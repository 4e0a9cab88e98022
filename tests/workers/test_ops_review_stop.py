"""``milestones worker`` stopped by SIGTERM (systemd's stop, a pod's deletion, ``docker stop``) while a pair
writes, as docs/scale.md says: the pair finishes, its lease is released, its history row closed, no intent
left pending, the job recorded done, and the worker exits 0. The same for a ``--burst`` worker: above
``--concurrency 1`` it stopped fetching at its first empty fetch with its pair still running, its signal
handlers gone with its fetching, and the SIGTERM ended it at once (exit -15, the job left ``doing``)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest

from billing_milestones.sandbox import FaultPlan
from billing_milestones.sync import LinkStore
from billing_milestones.workers import enqueue_pairs

from ._waiting import wait_for
from .conftest import Deployment
from .test_worker import jobs, milestones, source_titles


@pytest.mark.parametrize(
    "options",
    [["--concurrency", "4"], ["--burst"], ["--burst", "--concurrency", "2"]],
    ids=["waiting", "burst", "burst-concurrency"],
)
def test_sigterm_lets_the_running_pair_finish_and_the_worker_exits_0(
    deployment: Deployment, options: list[str]
) -> None:
    deployment.world.kantata.faults = FaultPlan().latency(1.5, method="POST")
    enqueue_pairs(deployment.settings(), ["erp"])
    code = "from billing_milestones.cli import main; main()"
    proc = subprocess.Popen(
        [sys.executable, "-c", code, "worker", "--config", str(deployment.config), *options],
        env={**os.environ, **deployment.env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        with LinkStore(deployment.links) as store:
            wait_for(lambda: store.pending(), "the run never started writing", bound=60)
        proc.send_signal(signal.SIGTERM)  # its create is in flight
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err.decode(errors="replace")[-1500:]
    assert [j["status"] for j in jobs(deployment.links)] == ["succeeded"]
    with LinkStore(deployment.links) as store:
        assert store.dump("leases") == [] and store.pending() == []
        (run,) = store.runs()
        assert run.ok and run.finished_at and run.created == len(source_titles(deployment))
    assert milestones(deployment) == source_titles(deployment)
