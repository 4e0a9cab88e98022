"""``milestones worker`` stopped by Ctrl-C at a terminal, a pair running: the second Ctrl-C (asyncio's) still
waits for the pair, which ends as it would have, while the third marks it aborted on the queue. Both exit 130;
the second said "any pair still running was marked aborted" as the third does, though none was."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from billing_milestones.cli import EXIT_INTERRUPTED
from billing_milestones.sandbox import FaultPlan
from billing_milestones.sync import LinkStore
from billing_milestones.workers import enqueue_pairs

from ._waiting import wait_for
from .conftest import Deployment
from .test_worker import jobs


@pytest.mark.parametrize(("presses", "status"), [(2, "succeeded"), (3, "aborted")])
def test_ctrl_c_says_whether_the_running_pair_was_marked_aborted(
    deployment: Deployment, presses: int, status: str, tmp_path: Path
) -> None:
    # The create is held long enough for every press to land while the pair runs, on a loaded CI machine too.
    deployment.world.kantata.faults = FaultPlan().latency(6.0, method="POST")
    enqueue_pairs(deployment.settings(), ["erp"])
    code = "from billing_milestones.cli import main; main()"
    log = tmp_path / "worker.err"
    with log.open("wb") as err:
        proc = subprocess.Popen(
            [sys.executable, "-c", code, "worker", "--config", str(deployment.config)],
            env={**os.environ, **deployment.env},
            stdout=subprocess.DEVNULL,
            stderr=err,
        )
    try:
        with LinkStore(deployment.links) as store:
            wait_for(lambda: store.dump("intents"), "the run never started writing", bound=60)
        # Two presses the interpreter has not yet handled are one (its signal flag is set twice): each is sent
        # once the one before it was seen, the first by procrastinate's "Stop requested".
        proc.send_signal(signal.SIGINT)
        wait_for(lambda: b"Stop requested" in log.read_bytes(), "the first Ctrl-C was never handled", bound=30)
        for _ in range(presses - 1):
            time.sleep(1.0)
            proc.send_signal(signal.SIGINT)
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    text = log.read_bytes().decode(errors="replace")
    assert proc.returncode == EXIT_INTERRUPTED, text[-1500:]
    assert [j["status"] for j in jobs(deployment.links)] == [status]
    assert ("marked aborted" in text) is (status == "aborted"), text[-800:]
    assert "milestones runs" in text
