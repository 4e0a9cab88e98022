"""plan --json and sync --dry-run --json hold everything the table shows, under a schema version."""

from __future__ import annotations

import json
from pathlib import Path

from billing_milestones.sync.actions import PLAN_SCHEMA_VERSION

from .conftest import Invoke

# The seeded Autotask contract the erp pair reads, as the plan table shows it.
SEEDED = {
    "Kick-off": ("4000.00", "2027-01-15"),
    "Data migration": ("12500.50", "2027-03-31"),
    "User training": ("3250.00", "2027-05-15"),
    "Go-live": ("9000.00", "2027-06-30"),
}


def _actions(plan: dict[str, object]) -> dict[str, tuple[object, ...]]:
    actions = plan["actions"]
    assert isinstance(actions, list)
    return {a["title"]: (a["amount"], a["due"], a["currency"], a["action"], a["writes"]) for a in actions}


def test_plan_json_carries_amount_currency_and_due_per_action(invoke: Invoke, cfg: Path, env: dict[str, str]) -> None:
    result = invoke("plan", "erp", "--config", str(cfg), "--json", env=env)
    assert result.exit_code == 0, result.output
    plan = json.loads(result.stdout)
    assert plan["schema_version"] == PLAN_SCHEMA_VERSION == 1
    assert _actions(plan) == {t: (a, d, "USD", "create", True) for t, (a, d) in SEEDED.items()}
    table = invoke("plan", "erp", "--config", str(cfg), env=env).stdout
    for amount, due in SEEDED.values():
        assert f"{amount} USD" in table and due in table


def test_sync_dry_run_json_carries_the_same(invoke: Invoke, cfg: Path, env: dict[str, str]) -> None:
    result = invoke("sync", "erp", "--config", str(cfg), "--dry-run", "--json", env=env)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["schema_version"] == data["plan"]["schema_version"] == PLAN_SCHEMA_VERSION
    assert _actions(data["plan"]) == {t: (a, d, "USD", "create", True) for t, (a, d) in SEEDED.items()}
