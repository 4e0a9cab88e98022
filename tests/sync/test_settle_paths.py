"""``milestones sync`` and a worker's run let a stopped run's pending writes settle before listing the target.

Against the demo's emulators on a loopback port with a SQLite link store; the settle clock and sleep are
replaced (nothing sleeps for real), and every request the emulators serve is noted (a zero-second latency
fault matches them all), so the order is checked: no listing before the wait is over."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from billing_milestones.cli import app
from billing_milestones.demo import DemoWorld, build_demo_world, demo_config_toml, sandbox_environment
from billing_milestones.errors import PendingWritesError
from billing_milestones.sandbox import LoopbackServer
from billing_milestones.sync import LinkStore, _settle
from billing_milestones.sync.config import load_settings
from billing_milestones.workers import TRANSIENT, run_pair

STAMP = "2026-12-02T00:00:00.000+00:00"
T0 = dt.datetime.fromisoformat(STAMP).timestamp()


@dataclass
class Setup:
    world: DemoWorld
    cfg: Path
    links: Path
    env: dict[str, str]
    pair_id: str

    def requests(self) -> int:
        return len(self.world.kantata.faults.history) + len(self.world.autotask.faults.history)

    def target_milestones(self) -> int:
        return sum(
            1 for m in self.world.kantata.milestones.values() if str(m["workspace_id"]) == self.world.erp_workspace
        )


class Clock:
    """The settle module's wall clock and sleep: time moves only when slept; each sleep notes the requests
    the emulators had served by then."""

    def __init__(self, setup: Setup, at: float) -> None:
        self.setup = setup
        self.at = at
        self.slept: list[tuple[float, int]] = []

    def now(self) -> float:
        return self.at

    def sleep(self, seconds: float) -> None:
        self.slept.append((seconds, self.setup.requests()))
        self.at += seconds


@pytest.fixture
def setup(tmp_path: Path) -> Iterator[Setup]:
    world = build_demo_world()
    links = tmp_path / "links.sqlite3"
    cfg = tmp_path / "milestones.toml"
    toml = demo_config_toml(world, links=str(links)).replace("allow_drop = true", "allow_drop = true\nwrite_settle = 5")
    cfg.write_text(toml)
    with LoopbackServer(world.asgi_app()) as server:
        env = {**sandbox_environment(server.url), "AUTOTASK_CURRENCY": "USD", "COLUMNS": "200"}
        pair_id = load_settings(cfg, env=env).pair("erp").pair().id
        with LinkStore(links) as store:  # a run killed mid-create left this intent pending
            store.begin(pair_id, "bm-killed", "create")
            store.backend.count("UPDATE intents SET created_at=?", (STAMP,))
        world.kantata.faults.latency(0.0)  # notes every request, delays none
        world.autotask.faults.latency(0.0)
        yield Setup(world, cfg, links, env, pair_id)


@pytest.fixture
def clock(setup: Setup, monkeypatch: pytest.MonkeyPatch) -> Clock:
    clock = Clock(setup, T0 + 1.0)  # the pending write is 1 s old, the window 5 s
    monkeypatch.setattr(_settle, "_wall", clock.now)
    monkeypatch.setattr(_settle, "_sleep", clock.sleep)
    return clock


def _cli_sync(setup: Setup) -> tuple[int, dict[str, object]]:
    argv = ["sync", "erp", "--config", str(setup.cfg), "--yes", "--json"]
    result = CliRunner().invoke(app, argv, env=setup.env)
    return result.exit_code, json.loads(result.stdout)


def test_milestones_sync_waits_for_the_pending_write_before_listing_the_target(setup: Setup, clock: Clock) -> None:
    code, out = _cli_sync(setup)
    assert code == 0, out
    assert clock.slept == [(4.0, 0)]  # waited 4 s, and nothing had been listed by then
    assert setup.requests() > 0 and setup.target_milestones() > 0
    with LinkStore(setup.links) as store:
        assert store.pending(setup.pair_id) == []  # the stopped run's intent, accounted for by this plan


def test_milestones_sync_exits_3_listing_and_writing_nothing_when_the_wait_is_too_long(
    setup: Setup, clock: Clock
) -> None:
    clock.at = T0 - 10.0  # the stamp 10 s ahead of this clock: 15 s to wait, more than the window and grace
    code, out = _cli_sync(setup)
    assert code == 3 and out["ok"] is False and "1 write(s) of a run that stopped" in str(out["error"])
    assert clock.slept == [] and setup.requests() == 0 and setup.target_milestones() == 0
    with LinkStore(setup.links) as store:
        assert [i.sync_key for i in store.pending(setup.pair_id)] == ["bm-killed"]


def test_a_dry_run_takes_no_lease_and_does_not_wait(setup: Setup, clock: Clock) -> None:
    result = CliRunner().invoke(app, ["sync", "erp", "--config", str(setup.cfg), "--dry-run", "--json"], env=setup.env)
    assert result.exit_code == 0, result.stdout
    assert clock.slept == [] and setup.target_milestones() == 0


def test_a_worker_run_waits_for_the_pending_write_before_listing_the_target(setup: Setup, clock: Clock) -> None:
    result = run_pair(load_settings(setup.cfg, env=setup.env), "erp")
    assert result["ok"] is True and result["writes"] > 0
    assert clock.slept == [(4.0, 0)]


def test_a_worker_run_that_would_wait_too_long_raises_a_transient_error(setup: Setup, clock: Clock) -> None:
    clock.at = T0 - 10.0
    with pytest.raises(PendingWritesError) as info:
        run_pair(load_settings(setup.cfg, env=setup.env), "erp")
    assert isinstance(info.value, TRANSIENT)  # the queue retries the job later
    assert clock.slept == [] and setup.requests() == 0 and setup.target_milestones() == 0
