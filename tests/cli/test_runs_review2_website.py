"""``milestones runs website`` finds the runs of a crm.com pair, whose draft resolves to an estimate's id.

The sync plans under the resolved id (``crmcom:<estimate id>->kantata:...``), a new one each time the draft
is estimated anew, but its runs are kept under the pair's identity, the draft by its name in the config:
the CLI's runs and a worker's, by the pair's name and by that identity (evidence: this holds).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from billing_milestones.demo import DemoWorld
from billing_milestones.sync.config import load_settings
from billing_milestones.workers import run_pair

from .conftest import Invoke


def _runs(invoke: Invoke, cfg: Path, env: dict[str, str], pair: str) -> list[dict[str, Any]]:
    result = invoke("runs", pair, "--json", "--config", str(cfg), env=env)
    assert result.exit_code == 0, result.output
    rows: list[dict[str, Any]] = json.loads(result.output)
    return rows


def test_a_crmcom_pairs_runs_are_found_by_its_name_whatever_id_its_draft_resolved_to(
    world: DemoWorld, env: dict[str, str], cfg: Path, invoke: Invoke
) -> None:
    synced = invoke("sync", "website", "--config", str(cfg), "--yes", "--json", env=env)
    assert synced.exit_code == 0, synced.output
    planned = json.loads(synced.output)["plan"]["pair"]
    assert planned.startswith("crmcom:") and not planned.startswith("crmcom:website->")  # the estimate's id
    run_pair(load_settings(cfg, env=env), "website")  # a worker's run of the same pair
    worker, cli = _runs(invoke, cfg, env, "website")
    identity = f"crmcom:website->kantata:{world.website_workspace}"
    assert (cli["pair"], cli["created"], cli["ok"]) == (identity, 3, True)
    assert (worker["pair"], worker["created"], worker["ok"], worker["open"]) == (identity, 0, True, False)
    assert _runs(invoke, cfg, env, identity) == [worker, cli]
    assert _runs(invoke, cfg, env, "erp") == []
