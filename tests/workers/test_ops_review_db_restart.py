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
from billing_milestones.sandbox import LoopbackServer
from billing_milestones.workers import enqueue_pairs

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


def start_worker(deployment: Deployment, log: Path) -> subprocess.Popen[bytes]:
    code = "from billing_milestones.cli import main; main()"
    with log.open("wb") as err:
        return subprocess.Popen(
            [sys.executable, "-c", code, "worker", "--config", str(deployment.config)],
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
