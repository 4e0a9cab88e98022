"""milestones check: one authenticated request per configured platform; exit 0 only when all pass."""

from __future__ import annotations

import json
from pathlib import Path

from billing_milestones.cli import EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE
from billing_milestones.demo import DemoWorld
from billing_milestones.sandbox import Emulator

from .conftest import Invoke


def test_every_configured_platform_passes_on_the_sandbox(
    invoke: Invoke, world: DemoWorld, cfg: Path, env: dict[str, str]
) -> None:
    before = {name: len(box.request_log) for name, box in _boxes(world).items()}
    result = invoke("check", "--config", str(cfg), "--json", env=env)
    assert result.exit_code == EXIT_OK, result.output
    found = {p["platform"]: p for p in json.loads(result.stdout)["platforms"]}
    assert set(found) == {"kantata", "autotask", "crmcom"} and all(p["ok"] for p in found.values())
    assert "workspace 1002" in found["kantata"]["checked"]
    assert found["autotask"]["zone"] == f"zone: the configured base_url {env['AUTOTASK_BASE_URL']}"
    assert "requests left" in found["autotask"]["rate_budget"]
    assert "'website' estimated" in found["crmcom"]["checked"]
    assert all(len(box.request_log) > before[name] for name, box in _boxes(world).items()), "each was asked"
    table = invoke("check", "--config", str(cfg), env=env)
    assert table.exit_code == EXIT_OK and table.stdout.count(" ok ") == 3
    assert not (cfg.parent / "links.sqlite3").exists(), "a check creates no link store"


def test_bad_credentials_fail_their_platform_only_and_name_the_variable(
    invoke: Invoke, cfg: Path, env: dict[str, str]
) -> None:
    result = invoke("check", "--config", str(cfg), env={**env, "KANTATA_TOKEN": "wrong"})
    assert result.exit_code == EXIT_PROBLEMS, result.output
    lines = result.stdout.splitlines()
    kantata = next(i for i, line in enumerate(lines) if line.startswith("kantata"))
    assert "FAIL" in lines[kantata] and "fix: KANTATA_TOKEN refused" in lines[kantata + 1]
    assert [line.split()[1] for line in lines if line.startswith(("autotask", "crmcom"))] == ["ok", "ok"]
    data = json.loads(invoke("check", "--config", str(cfg), "--json", env={**env, "AUTOTASK_SECRET": "x"}).stdout)
    (failed,) = [p for p in data["platforms"] if not p["ok"]]
    assert data["ok"] is False and failed["platform"] == "autotask" and "AUTOTASK_SECRET" in failed["fix"]


def test_a_platform_not_configured_is_not_checked_and_none_configured_is_a_usage_error(
    invoke: Invoke, cfg: Path, env: dict[str, str]
) -> None:
    only_kantata = {k: v for k, v in env.items() if not k.startswith(("AUTOTASK", "CRMCOM"))}
    result = invoke("check", "--config", str(cfg), "--json", env=only_kantata)
    assert result.exit_code == EXIT_OK, result.output
    assert [p["platform"] for p in json.loads(result.stdout)["platforms"]] == ["kantata"]
    nothing = invoke("check", "--config", str(cfg), env={"COLUMNS": "80"})
    assert nothing.exit_code == EXIT_USAGE and "nothing to check" in nothing.stderr


def _boxes(world: DemoWorld) -> dict[str, Emulator]:
    return {"kantata": world.kantata, "autotask": world.autotask, "crmcom": world.crmcom}
