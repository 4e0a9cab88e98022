"""A schedule's ticks are the same instants on every worker, whatever time zone its machine is set to (cron
read in UTC): workers in different zones deferring different instants would each queue their own tick, and a
pair every 2 hours would run every hour. docs/scale.md says "every N/60 hours from midnight UTC"."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

import pytest
from procrastinate.periodic import PeriodicDeferrer

from billing_milestones.sync.config import load_settings
from billing_milestones.workers import WorkerApp

_ZONES = ("UTC", "Europe/Paris", "Asia/Kathmandu", "America/St_Johns")  # +0, +1/+2, +5:45, -3:30/-2:30
_AT = dt.datetime(2026, 3, 29, 0, 50, tzinfo=dt.UTC).timestamp()  # the night Paris moves to summer time


def _ticks(tmp_path: Path, zone: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, list[str]]:
    monkeypatch.setenv("TZ", zone)
    time.tzset()
    config = tmp_path / "milestones.toml"
    config.write_text(
        'links = "postgresql://nobody@127.0.0.1:9/none"\n'
        '[pairs.erp]\nsource = "autotask:1"\ntarget = "kantata:2"\n'
        '[pairs.website]\nsource = "crmcom:w"\ntarget = "kantata:3"\n'
        "[workers]\nschedule = { erp = 10, website = 120 }\n"
    )
    worker = WorkerApp(load_settings(config, env={}))  # connects to nothing until opened
    deferrer = PeriodicDeferrer(registry=worker.app.periodic_registry)
    out: dict[str, list[str]] = {}
    for task in worker.app.periodic_registry.periodic_tasks.values():
        stamps = list(deferrer.get_timestamps(task, since=int(_AT), until=_AT + 6 * 3600))
        out[task.periodic_id] = [dt.datetime.fromtimestamp(s, dt.UTC).strftime("%H:%M") for s in stamps[:4]]
    return out


def test_every_zone_defers_the_same_ticks_counted_from_midnight_utc(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    try:
        seen = {zone: _ticks(tmp_path, zone, monkeypatch) for zone in _ZONES}
    finally:
        monkeypatch.undo()
        time.tzset()
    expected = {"erp": ["01:00", "01:10", "01:20", "01:30"], "website": ["02:00", "04:00", "06:00"]}
    assert seen == {zone: expected for zone in _ZONES}
