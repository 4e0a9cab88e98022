"""Real processes on one link store, over loopback HTTP: overlapping runs and kills never duplicate or lose.

Each test serves the seeded sandbox in this process (with latency where a run must be caught mid-flight) and
runs the ``milestones`` CLI in subprocesses, as a cron job or a second terminal would.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from billing_milestones.demo import DemoWorld, build_demo_world, demo_config_toml, sandbox_environment
from billing_milestones.sandbox import LoopbackServer
from billing_milestones.sync import LinkStore


@pytest.fixture
def served() -> Iterator[tuple[DemoWorld, str]]:
    world = build_demo_world()
    with LoopbackServer(world.asgi_app()) as server:
        yield world, server.url


def _setup(tmp_path: Path, world: DemoWorld, url: str) -> tuple[Path, dict[str, str]]:
    cfg = tmp_path / "milestones.toml"
    # A short settle window: the emulators answer on loopback, the slowest request here takes 6 s.
    toml = demo_config_toml(world, links="links.sqlite3").replace(
        "allow_drop = true", "allow_drop = true\nwrite_settle = 8"
    )
    cfg.write_text(toml)
    env = {**os.environ, **sandbox_environment(url), "AUTOTASK_CURRENCY": "USD", "COLUMNS": "200"}
    return cfg, env


def _sync(cfg: Path, env: dict[str, str], *extra: str) -> subprocess.Popen[str]:
    argv = [sys.executable, "-m", "billing_milestones", "sync", "erp", "--config", str(cfg), "--yes", "--json"]
    return subprocess.Popen([*argv, *extra], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _wait_for_lease(store_path: Path, proc: subprocess.Popen[str], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()
        if store_path.exists():
            with LinkStore(store_path) as store:
                if any(store.lease_holder(identity) for identity in _identities(store)):
                    return
        time.sleep(0.05)
    raise AssertionError("the first run never took the pair's lease")


def _identities(store: LinkStore) -> list[str]:
    return [row["pair_id"] for row in store._raw("SELECT pair_id FROM leases")]


def _erp_titles(world: DemoWorld) -> Counter[str]:
    return Counter(
        m["title"] for m in world.kantata.milestones.values() if str(m["workspace_id"]) == world.erp_workspace
    )


def _expected(world: DemoWorld) -> int:
    return sum(1 for m in world.autotask.milestones.values() if m["contractID"] == world.contract_id)


def test_a_second_run_while_the_first_writes_exits_3_having_written_nothing(
    tmp_path: Path, served: tuple[DemoWorld, str]
) -> None:
    world, url = served
    cfg, env = _setup(tmp_path, world, url)
    # The first run's write takes long enough that the second run (a new process, slow to start on a busy
    # machine) surely arrives while the first holds the lease.
    world.kantata.faults.latency(6.0, method="POST")
    first = _sync(cfg, env)
    _wait_for_lease(tmp_path / "links.sqlite3", first)
    second = _sync(cfg, env)  # the cron job that overlaps
    out, err = second.communicate(timeout=60)
    assert second.returncode == 3, (out, err)
    assert json.loads(out)["ok"] is False and "another run" in json.loads(out)["error"]
    out, err = first.communicate(timeout=60)
    assert first.returncode == 0, (out, err)
    titles = _erp_titles(world)
    assert sum(titles.values()) == _expected(world) and max(titles.values()) == 1  # every milestone once


def test_a_second_run_that_waits_runs_after_the_first_and_finds_nothing_to_do(
    tmp_path: Path, served: tuple[DemoWorld, str]
) -> None:
    world, url = served
    cfg, env = _setup(tmp_path, world, url)
    world.kantata.faults.latency(4.0, method="POST")
    first = _sync(cfg, env)
    _wait_for_lease(tmp_path / "links.sqlite3", first)
    second = _sync(cfg, env, "--wait", "60")
    out2, err2 = second.communicate(timeout=90)
    out1, err1 = first.communicate(timeout=90)
    assert (first.returncode, second.returncode) == (0, 0), (out1, err1, out2, err2)
    later = json.loads(out2)
    assert later["result"] is None and later["plan"]["counts"]["create"] == 0  # planned after the first wrote
    titles = _erp_titles(world)
    assert sum(titles.values()) == _expected(world) and max(titles.values()) == 1


@pytest.mark.parametrize("stage", ["while listing", "while writing"])
def test_a_run_killed_mid_sync_is_resumed_by_the_next_without_duplicates_or_losses(
    tmp_path: Path, served: tuple[DemoWorld, str], stage: str
) -> None:
    world, url = served
    cfg, env = _setup(tmp_path, world, url)
    world.kantata.faults.latency(1.5, method="GET" if stage == "while listing" else "POST", times=1)
    first = _sync(cfg, env)
    _wait_for_lease(tmp_path / "links.sqlite3", first)
    deadline = time.monotonic() + 30
    while not world.kantata.faults.history:  # the slow request is in flight now
        assert time.monotonic() < deadline and first.poll() is None, first.communicate()
        time.sleep(0.02)
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=10)
    # The killed run's lease is freed at once (its process is gone), but its POST is still being served: the
    # rerun waits for its pending writes to settle (write_settle) before it lists, so it adopts, not creates.
    rerun = _sync(cfg, env)
    out, err = rerun.communicate(timeout=60)
    assert rerun.returncode == 0, (out, err)
    titles = _erp_titles(world)
    assert sum(titles.values()) == _expected(world) and max(titles.values()) == 1
