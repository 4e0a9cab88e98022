"""``milestones sync`` leaves a row for every run, as a worker's run does: also one with nothing to write.

A ``sync --yes`` whose plan had only conflicts left (exit 1), or nothing at all to do, wrote no row, while a
worker's run of the same plan does: a pair synced from cron showed its last run that wrote, and the conflicts
its later runs kept finding were not in ``milestones runs`` (nor in the "latest failed runs" query). Both
backends.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from billing_milestones.demo import DemoWorld, demo_config_toml
from billing_milestones.sync.config import load_settings
from billing_milestones.workers import run_pair

from .conftest import Invoke

_STRICT = '\n[pairs.strict]\nsource = "autotask:{contract}"\ntarget = "kantata:{workspace}"\n'


def _config(tmp_path: Path, world: DemoWorld, links: str) -> Path:
    """The demo's pairs, and one whose two described milestones Kantata cannot hold (conflicts every run)."""
    path = tmp_path / "milestones.toml"
    strict = _STRICT.format(contract=world.contract_id, workspace=world.website_workspace)
    path.write_text(demo_config_toml(world, links=links) + strict)
    return path


def _runs(invoke: Invoke, cfg: Path, env: dict[str, str], pair: str) -> list[dict[str, Any]]:
    result = invoke("runs", pair, "--json", "--config", str(cfg), env=env)
    assert result.exit_code == 0, result.output
    rows: list[dict[str, Any]] = json.loads(result.output)
    return rows


def _figures(row: dict[str, Any]) -> tuple[object, ...]:
    return tuple(row[k] for k in ("created", "updated", "deleted", "adopted", "conflicts", "ok", "open", "error"))


def test_a_sync_that_left_only_conflicts_is_in_the_history_as_a_workers_run_is(
    world: DemoWorld, env: dict[str, str], tmp_path: Path, invoke: Invoke, store_url: str
) -> None:
    cfg = _config(tmp_path, world, store_url)
    first = invoke("sync", "strict", "--config", str(cfg), "--yes", env=env)
    again = invoke("sync", "strict", "--config", str(cfg), "--yes", env=env)
    assert (first.exit_code, again.exit_code) == (1, 1)  # two creates then nothing; two conflicts each time
    latest, older = _runs(invoke, cfg, env, "strict")
    left = "2 finding(s) left (conflicts or duplicates)"
    assert _figures(older) == (2, 0, 0, 0, 2, False, False, left)
    assert _figures(latest) == (0, 0, 0, 0, 2, False, False, left)
    assert latest["id"] > older["id"] and latest["started_at"] >= older["finished_at"]
    run_pair(load_settings(cfg, env=env), "strict")  # a worker's run of the same plan: the same row
    worker, cli, _ = _runs(invoke, cfg, env, "strict")
    assert _figures(worker) == _figures(cli)


def test_a_sync_with_nothing_to_write_is_an_ok_run_of_no_writes(
    world: DemoWorld, env: dict[str, str], tmp_path: Path, invoke: Invoke, store_url: str
) -> None:
    cfg = _config(tmp_path, world, store_url)
    assert invoke("sync", "erp", "--config", str(cfg), "--yes", env=env).exit_code == 0
    nothing = invoke("sync", "erp", "--config", str(cfg), "--yes", "--json", env=env)
    assert nothing.exit_code == 0 and json.loads(nothing.output)["result"] is None  # its output as before
    latest, first = _runs(invoke, cfg, env, "erp")
    assert _figures(first)[0] == 4 and _figures(latest) == (0, 0, 0, 0, 0, True, False, None)
    dry = invoke("sync", "erp", "--config", str(cfg), "--dry-run", env=env)
    assert dry.exit_code == 0 and len(_runs(invoke, cfg, env, "erp")) == 2  # a dry run is not a run
