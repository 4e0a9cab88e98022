"""The queue's PostgreSQL server restarted under a running ``milestones worker`` (a server of the test's own,
stopped and started again on its port): the worker rides out a short outage and keeps taking jobs, whether or
not it has schedules.

A scheduled worker runs procrastinate's periodic deferrer, which keeps procrastinate's watch of its side tasks
alive; its ``LISTEN`` session could not reconnect while the server was down, so that watch stopped the worker,
which then failed to unregister from the absent database and ended with a traceback (exit 1): every scheduled
worker of a deployment exited at each restart of its database. A worker without schedules kept going."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from billing_milestones.demo import build_demo_world, demo_config_toml, sandbox_environment
from billing_milestones.sandbox import FaultPlan, LoopbackServer
from billing_milestones.sync import LinkStore
from billing_milestones.workers import enqueue_pairs

from .._chaos import CHAOS
from .._postgres import fresh_database
from ._ops_server import RestartableServer, restartable_server
from ._waiting import wait_for
from .conftest import Deployment
from .test_worker import jobs, milestones, source_titles


@pytest.fixture
def own_server() -> Iterator[RestartableServer]:
    with restartable_server() as server:
        yield server


@pytest.fixture
def restartable(tmp_path: Path, own_server: RestartableServer) -> Iterator[Deployment]:
    """The conftest's deployment, on a server the test may restart, with erp scheduled hourly."""
    world = build_demo_world()
    links = fresh_database(own_server.server)
    config = tmp_path / "milestones.toml"
    config.write_text(
        demo_config_toml(world, links=links).replace("allow_drop = true", "allow_drop = true\nwrite_settle = 2")
        + '\n[workers]\nretries = 3\nretry_wait = 1\nqueue = "test"\nschedule = { erp = 1440 }\n'
    )
    with LoopbackServer(world.asgi_app()) as server:
        yield Deployment(world, config, sandbox_environment(server.url), links)


def start_worker(deployment: Deployment, log: Path, *options: str) -> subprocess.Popen[bytes]:
    code = "from billing_milestones.cli import main; main()"
    with log.open("wb") as err:
        return subprocess.Popen(
            [sys.executable, "-c", code, "worker", "--config", str(deployment.config), *options],
            env={**os.environ, **deployment.env},
            stdout=subprocess.DEVNULL,
            stderr=err,
        )


def stop_worker(proc: subprocess.Popen[bytes]) -> int:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    try:
        return proc.wait(60)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise


def test_a_scheduled_worker_rides_out_a_restart_of_its_database_and_keeps_taking_jobs(
    restartable: Deployment, own_server: RestartableServer, tmp_path: Path
) -> None:
    enqueue_pairs(restartable.settings(), ["erp"])  # the queue's tables, and a first job
    log = tmp_path / "worker.log"
    proc = start_worker(restartable, log)
    try:
        wait_for(lambda: [j["status"] for j in jobs(restartable.links)] == ["succeeded"], "the first job never ran")
        time.sleep(0.5)  # its LISTEN session is up
        own_server.stop()
        time.sleep(2.0)  # down: the LISTEN session's reconnects are refused
        own_server.start()
        time.sleep(1.0)
        assert proc.poll() is None, f"the worker exited ({proc.returncode}): {log.read_text()[-1500:]}"
        enqueue_pairs(restartable.settings(), ["website"])
        wait_for(
            lambda: [j["status"] for j in jobs(restartable.links)] == ["succeeded", "succeeded"],
            "the worker took no job after the restart",
            bound=30,
        )
        assert proc.poll() is None
    finally:
        code = stop_worker(proc)
    assert code == 0, log.read_text()[-1500:]
    assert "Traceback" not in log.read_text()
    assert milestones(restartable) == source_titles(restartable)  # every milestone once


@CHAOS
def test_a_worker_told_to_stop_while_its_database_is_away_stops_and_says_why(
    restartable: Deployment, own_server: RestartableServer, tmp_path: Path
) -> None:
    """Its liveness lock lost with the server, its fetch of a job waited for the lock to come back and never
    looked at the stop: SIGTERM (systemd's stop, a pod's deletion) was waited out until the supervisor's
    SIGKILL, however long the database stayed away. It stops now, once its unregistering has waited the
    queue pool's 30 s for the database, exits 2 and says the queue's database cannot be reached."""
    enqueue_pairs(restartable.settings(), ["erp"])
    log = tmp_path / "worker.log"
    proc = start_worker(restartable, log)
    try:
        wait_for(lambda: [j["status"] for j in jobs(restartable.links)] == ["succeeded"], "the first job never ran")
        own_server.stop()
        wait_for(lambda: "could not look at the workers' locks" in log.read_text(), "the worker saw no outage")
        time.sleep(2.0)  # its lock's retakes are refused meanwhile
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(90)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
    text = log.read_text()
    assert code == 2, text[-1500:]
    assert "the queue's database" in text and "cannot be reached" in text and "Traceback" not in text


@CHAOS
def test_a_job_whose_end_fell_in_a_long_outage_is_recorded_once_the_database_is_back(
    restartable: Deployment, own_server: RestartableServer, tmp_path: Path
) -> None:
    """The database away longer than the queue pool's 30 s wait while a pair ran: procrastinate's one try to
    record the run's retry failed, and the job stayed ``doing`` for as long as the worker lived (beating,
    holding its lock: nobody requeued it), the pair's lock held, so no later run of the pair ever started.
    (With the default ``--stalled-after`` of 30 s, no longer than the pool's wait, its own look for stalled
    workers could catch its stale beat after the outage and requeue the job: not with a longer one.)"""
    restartable.world.kantata.faults = FaultPlan().latency(2.0, method="POST")
    enqueue_pairs(restartable.settings(), ["erp"])
    log = tmp_path / "worker.log"
    proc = start_worker(restartable, log, "--stalled-after", "300")
    try:
        with LinkStore(restartable.links) as store:
            wait_for(lambda: store.dump("intents"), "the run never started writing")
        own_server.stop()
        restartable.world.kantata.faults = FaultPlan()
        wait_for(lambda: "could not look for stalled jobs" in log.read_text(), "the pool never gave up", bound=60)
        time.sleep(5.0)  # the run's retry has had its pool's 30 s too
        own_server.start()
        wait_for(
            lambda: [j["status"] for j in jobs(restartable.links)] == ["succeeded"],
            f"the job was not run again: {jobs(restartable.links)}",
            bound=40,
        )
        assert proc.poll() is None
    finally:
        code = stop_worker(proc)
    assert code == 0, log.read_text()[-1500:]
    assert milestones(restartable) == source_titles(restartable)  # every milestone once
