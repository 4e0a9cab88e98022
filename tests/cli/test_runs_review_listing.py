"""A run that took the pair's lease and stopped before it applied is in the history with its error.

The row was opened only when the run started to apply, so a sync whose platform was down at the listing (a
worker's job retried for hours while Kantata was out) left no row at all: ``milestones runs`` showed the last
run that got as far as applying, ok, and nothing since. The row is now opened when the run takes the lease.
Both backends; the CLI and a worker.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from billing_milestones import errors
from billing_milestones.demo import DemoWorld, demo_config_toml
from billing_milestones.sync.config import load_settings
from billing_milestones.workers import run_pair

from .conftest import Invoke


def _runs(invoke: Invoke, cfg: Path, env: dict[str, str]) -> list[dict[str, Any]]:
    result = invoke("runs", "erp", "--json", "--config", str(cfg), env=env)
    assert result.exit_code == 0, result.output
    rows: list[dict[str, Any]] = json.loads(result.output)
    return rows


def test_a_run_whose_target_is_down_at_the_listing_is_recorded_failed(
    world: DemoWorld, env: dict[str, str], tmp_path: Path, invoke: Invoke, store_url: str
) -> None:
    cfg = tmp_path / "milestones.toml"
    cfg.write_text(demo_config_toml(world, links=store_url))
    assert invoke("sync", "erp", "--config", str(cfg), "--yes", env=env).exit_code == 0
    world.kantata.faults.status(500, method="GET")  # Kantata fails from here on (500s: not retried)
    down = invoke("sync", "erp", "--config", str(cfg), "--yes", env=env)
    assert down.exit_code == 1 and "500" in down.output
    with pytest.raises(errors.InternalServerError):
        run_pair(load_settings(cfg, env=env), "erp")  # a worker's job, the same
    worker, cli, first = _runs(invoke, cfg, env)
    assert first["ok"] and first["created"] == 4
    for row in (cli, worker):
        assert (row["ok"], row["open"], row["created"], row["conflicts"]) == (False, False, 0, 0)
        assert row["error"].startswith("InternalServerError: HTTP 500") and "[kantata GET " in row["error"]
        assert row["started_at"] <= row["finished_at"]
    assert worker["id"] > cli["id"] > first["id"] and worker["worker"] != cli["worker"]


def test_a_plan_not_confirmed_is_a_run_that_applied_nothing(
    world: DemoWorld, env: dict[str, str], tmp_path: Path, invoke: Invoke
) -> None:
    cfg = tmp_path / "milestones.toml"
    cfg.write_text(demo_config_toml(world, links=str(tmp_path / "links.sqlite3")))
    declined = invoke("sync", "erp", "--config", str(cfg), input="n\n", env=env)
    assert declined.exit_code != 0 and "not applied" in declined.output
    (row,) = _runs(invoke, cfg, env)
    assert (row["ok"], row["open"], row["created"]) == (False, False, 0)
    assert row["error"] == "not applied: the plan was not confirmed"
