"""Every example script runs end to end: on the sandbox by default, and with --live against the emulators
served on a loopback port (real HTTP, credentials from the environment, exactly as a user would run them)."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

from billing_milestones.demo import DemoWorld, build_demo_world, sandbox_environment
from billing_milestones.sandbox import LoopbackServer

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
LIVE_VARIABLES = (
    "KANTATA_TOKEN",
    "KANTATA_BASE_URL",
    "AUTOTASK_USERNAME",
    "AUTOTASK_SECRET",
    "AUTOTASK_INTEGRATION_CODE",
    "AUTOTASK_CURRENCY",
    "AUTOTASK_BASE_URL",
    "CRMCOM_API_KEY",
    "CRMCOM_BASE_URL",
)


@dataclass(frozen=True)
class Run:
    code: int
    out: str
    err: str


def run(script: str, *args: str, env: Mapping[str, str] | None = None, cwd: Path | None = None) -> Run:
    """Run an example as a user would: its own process, this interpreter, no live settings unless given."""
    environ = {k: v for k, v in os.environ.items() if k not in LIVE_VARIABLES}
    environ.update({"COLUMNS": "200", "PYTHONIOENCODING": "utf-8"})
    environ.update(env or {})
    proc = subprocess.run(
        [sys.executable, str(EXAMPLES / script), *args],
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=environ,
        cwd=cwd or EXAMPLES,
        timeout=60,
    )
    return Run(proc.returncode, proc.stdout, proc.stderr)


def lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines()]


# -- the sync scripts on the sandbox ------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("script", "plan", "creates"),
    [
        ("crmcom_to_kantata.py", "3 create", 3),
        ("autotask_to_kantata.py", "4 create", 4),
        # Kantata's invoiced Deposit is not created on Autotask, where it could be billed again.
        ("kantata_to_autotask.py", "3 create, 1 skip-locked", 3),
    ],
)
def test_sync_script_applies_and_second_run_is_empty(script: str, plan: str, creates: int) -> None:
    result = run(script)
    assert result.code == 0, result.err + result.out
    out = lines(result.out)
    assert f"plan: {plan}" in out
    assert f"applied: {creates} writes" in out
    assert "second run: nothing left to do" in out
    assert "Sync plan" in result.out  # the plan table was printed


def test_crmcom_to_kantata_shows_the_stage_mapping_and_derived_amounts() -> None:
    result = run("crmcom_to_kantata.py")
    assert result.code == 0, result.err
    assert "crm.com estimation id:" in result.out
    assert result.out.count("-> Kantata story 500") == 3
    # 30/30/40 % of 24,999.99 USD, allocated so the parts add up to the total exactly
    assert "7500.00 USD" in result.out and "9999.99 USD" in result.out


def test_crmcom_to_kantata_unmapped_stage_is_a_conflict() -> None:
    result = run("crmcom_to_kantata.py", "--unmapped")
    assert result.code == 1
    out = lines(result.out)
    assert "plan: 2 create, 1 conflict" in out
    assert any(line.startswith("conflict: Launched:") and "has no Kantata story" in line for line in out)
    assert "second run: 1 conflict, 2 unchanged" in out


def test_autotask_to_kantata_records_dropped_descriptions() -> None:
    result = run("autotask_to_kantata.py")
    assert result.code == 0, result.err
    assert result.out.count("description dropped") == 2


def test_autotask_to_kantata_without_drop_reports_conflicts() -> None:
    result = run("autotask_to_kantata.py", "--no-drop")
    assert result.code == 1
    out = lines(result.out)
    assert "plan: 2 create, 2 conflict" in out
    assert sum(1 for line in out if line.startswith("conflict:") and "no description" in line) == 2
    assert "applied: 2 writes" in out


def test_autotask_to_kantata_dry_run_writes_nothing() -> None:
    result = run("autotask_to_kantata.py", "--dry-run")
    assert result.code == 0, result.err
    out = lines(result.out)
    assert "plan: 4 create" in out
    assert "dry run: nothing written" in out
    assert not any(line.startswith("applied:") for line in out)


def test_kantata_to_autotask_shows_where_each_due_date_comes_from() -> None:
    result = run("kantata_to_autotask.py")
    assert result.code == 0, result.err
    out = lines(result.out)
    assert any(
        line.startswith("due date for 'Design approved': fixed_date:2026-03-31 (derived, from TriggerMap.due_dates")
        for line in out
    )
    assert any(
        line.startswith("due date for 'Build complete': fixed_date:2026-09-30 (defaulted,") and "fallback_due" in line
        for line in out
    )


def test_kantata_to_autotask_explicit_due_date_overrides_the_fallback() -> None:
    # story 5005 is "Build" (the demo world's three stories come first, then Kantata's seed_demo)
    result = run("kantata_to_autotask.py", "--due", "5005=2026-07-01", "--no-fallback")
    assert result.code == 0, result.err + result.out
    assert "due date for 'Build complete': fixed_date:2026-07-01 (derived, from TriggerMap.due_dates)" in lines(
        result.out
    )


def test_kantata_to_autotask_without_a_date_is_a_conflict() -> None:
    result = run("kantata_to_autotask.py", "--no-fallback")
    assert result.code == 1
    out = lines(result.out)
    # The invoiced Deposit is left alone: created open on Autotask it could be billed twice.
    assert "plan: 2 create, 1 skip-locked, 1 conflict" in out
    assert any(
        line.startswith("conflict: Build complete:") and "no due date in TriggerMap.due_dates" in line for line in out
    )


@pytest.mark.parametrize(
    ("script", "args", "message"),
    [
        ("kantata_to_autotask.py", ["--due", "5005=next-week"], "expected a date as YYYY-MM-DD"),
        ("crmcom_to_kantata.py", ["--map", "no-equals-sign"], "expected KEY=VALUE"),
        ("autotask_to_kantata.py", ["--live"], "--live needs --contract and --workspace"),
        ("reconcile_report.py", ["--live", "--source", "jira:1", "--target", "kantata:1"], "PLATFORM:CONTAINER"),
    ],
)
def test_bad_usage_exits_2_with_a_message(script: str, args: list[str], message: str) -> None:
    result = run(script, *args)
    assert result.code == 2
    assert message in result.err


@pytest.mark.parametrize(
    ("script", "args"),
    [
        ("crmcom_to_kantata.py", ["--draft", "draft.json", "--workspace", "1001"]),
        ("autotask_to_kantata.py", ["--contract", "1", "--workspace", "1001"]),
        ("kantata_to_autotask.py", ["--workspace", "1001", "--contract", "1"]),
        ("reconcile_report.py", ["--source", "autotask:1", "--target", "kantata:1001"]),
    ],
)
def test_live_without_credentials_names_the_missing_variables(script: str, args: list[str]) -> None:
    result = run(script, "--live", *args)
    assert result.code == 2
    assert "needs in the environment" in result.err
    assert "_TOKEN" in result.err or "AUTOTASK_SECRET" in result.err or "CRMCOM_API_KEY" in result.err


# -- the reconcile report on the sandbox --------------------------------------------------------------------
def test_reconcile_table_shows_the_drift() -> None:
    result = run("reconcile_report.py")
    assert result.code == 0, result.err
    assert "summary: 2 match, 1 differ, 2 source-only, 1 target-only" in lines(result.out)
    assert "amount: source 3250.00 USD, target 3400.00 USD" in result.out
    assert "sandbox edit: kantata: 'Go-live' deleted" in result.out


def test_reconcile_csv_has_one_row_per_milestone_with_reasons() -> None:
    result = run("reconcile_report.py", "--format", "csv")
    assert result.code == 0, result.err
    rows = {row["title"]: row for row in csv.DictReader(io.StringIO(result.out))}
    assert {title: row["status"] for title, row in rows.items()} == {
        "Kick-off": "match",
        "Data migration": "match",
        "User training": "differ",
        "Go-live": "source-only",
        "Hypercare": "source-only",
        "Change request 7": "target-only",
    }
    assert rows["User training"]["source_amount"] == "3250.00 USD"
    assert rows["User training"]["target_amount"] == "3400.00 USD"
    assert rows["Go-live"]["detail"] == "only in the source: deleted on the target since the last sync"
    assert rows["Hypercare"]["detail"] == "only in the source: new in source"
    assert rows["Change request 7"]["target_due"] == "2027-04-30"
    assert "sandbox edit:" in result.err  # the narration stays off stdout


def test_reconcile_json_and_exit_code() -> None:
    drift = run("reconcile_report.py", "--format", "json", "--exit-code")
    assert drift.code == 1
    report = json.loads(drift.out)
    assert report["counts"] == {"match": 2, "differ": 1, "source-only": 2, "target-only": 1, "untranslatable": 0}
    clean = run("reconcile_report.py", "--format", "json", "--exit-code", "--no-edits")
    assert clean.code == 0, clean.err
    assert json.loads(clean.out)["counts"]["match"] == 4
    assert {row["status"] for row in json.loads(clean.out)["rows"]} == {"match"}


# -- --live, against the emulators on a loopback port -------------------------------------------------------
@pytest.fixture
def served() -> Iterator[tuple[DemoWorld, str]]:
    world = build_demo_world()
    with LoopbackServer(world.asgi_app()) as server:
        yield world, server.url


def live_env(url: str) -> dict[str, str]:
    return {**sandbox_environment(url), "AUTOTASK_CURRENCY": "USD"}


def test_live_autotask_to_kantata_then_reconcile(served: tuple[DemoWorld, str], tmp_path: Path) -> None:
    world, url = served
    env = live_env(url)
    links = tmp_path / "links.sqlite3"
    ids = ["--contract", str(world.contract_id), "--workspace", world.erp_workspace, "--links", str(links)]

    first = run("autotask_to_kantata.py", "--live", *ids, env=env)
    assert first.code == 0, first.err + first.out
    assert "plan: 4 create" in lines(first.out)
    assert len(world.kantata.milestones) == 4  # written through HTTP into the served emulator

    second = run("autotask_to_kantata.py", "--live", *ids, env=env)
    assert second.code == 0, second.err + second.out
    assert "plan: 4 unchanged" in lines(second.out)
    assert "applied: 0 writes" in lines(second.out)

    report = run(
        "reconcile_report.py",
        "--live",
        "--source",
        f"autotask:{world.contract_id}",
        "--target",
        f"kantata:{world.erp_workspace}",
        "--links",
        str(links),
        "--allow-drop",
        "--format",
        "json",
        "--exit-code",
        env=env,
    )
    assert report.code == 0, report.err + report.out
    assert json.loads(report.out)["counts"]["match"] == 4

    # Without --allow-drop the descriptions cannot be carried, and the report says so.
    strict = run(
        "reconcile_report.py",
        "--live",
        "--source",
        f"autotask:{world.contract_id}",
        "--target",
        f"kantata:{world.erp_workspace}",
        "--links",
        str(links),
        "--format",
        "csv",
        env=env,
    )
    assert strict.code == 0, strict.err
    statuses = {row["title"]: row["status"] for row in csv.DictReader(io.StringIO(strict.out))}
    assert statuses == {
        "Kick-off": "untranslatable",
        "Data migration": "match",
        "User training": "untranslatable",
        "Go-live": "match",
    }


def test_live_crmcom_to_kantata_with_a_draft_file(served: tuple[DemoWorld, str], tmp_path: Path) -> None:
    world, url = served
    draft = tmp_path / "order-draft.json"
    draft.write_text(world.draft.model_dump_json(exclude_none=True), encoding="utf-8")
    maps = [arg for stage, story in world.stage_to_story.items() for arg in ("--map", f"{stage}={story}")]
    args = ["--live", "--draft", str(draft), "--workspace", world.website_workspace]
    args += ["--links", str(tmp_path / "links.sqlite3"), *maps]
    result = run("crmcom_to_kantata.py", *args, env=live_env(url))
    assert result.code == 0, result.err + result.out
    out = lines(result.out)
    assert "plan: 3 create" in out
    assert "second run: nothing left to do" in out
    assert sorted(m["title"] for m in world.kantata.milestones.values()) == ["Deposit", "Design approved", "Launched"]

    # A later run reopens the same estimate when the draft names it (as the script's docstring says to do),
    # so the link store recognises the pair and nothing is created twice.
    estimation_id = next(line.split(": ", 1)[1] for line in out if line.startswith("crm.com estimation id: "))
    draft.write_text(
        world.draft.model_copy(update={"estimation_id": estimation_id}).model_dump_json(exclude_none=True),
        encoding="utf-8",
    )
    again = run("crmcom_to_kantata.py", *args, env=live_env(url))
    assert again.code == 0, again.err + again.out
    assert f"crm.com estimation id: {estimation_id}" in lines(again.out)
    assert "plan: 3 unchanged" in lines(again.out)
    assert len(world.kantata.milestones) == 3


def test_live_kantata_to_autotask(served: tuple[DemoWorld, str], tmp_path: Path) -> None:
    world, url = served
    seed = world.kantata.seed_demo()
    contract = world.autotask.add_contract(name="Website relaunch (fixed price)", currency="USD")
    result = run(
        "kantata_to_autotask.py",
        "--live",
        "--workspace",
        seed["workspaces"]["USD"],
        "--contract",
        str(contract),
        "--due",
        f"{seed['stories']['design']}=2026-03-31",
        "--due",
        f"{seed['stories']['build']}=2026-06-30",
        env=live_env(url),
        cwd=tmp_path,  # the default link store lands in the working directory
    )
    assert result.code == 0, result.err + result.out
    assert "plan: 3 create, 1 skip-locked" in lines(result.out)
    assert (tmp_path / "milestones-links.sqlite3").exists()
    dues = {m["title"]: m["dateDue"][:10] for m in world.autotask.milestones.values() if m["contractID"] == contract}
    assert dues["Design approved"] == "2026-03-31"
    assert dues["Build complete"] == "2026-06-30"


def test_live_draft_file_errors_are_usage_errors(served: tuple[DemoWorld, str], tmp_path: Path) -> None:
    _, url = served
    bad = tmp_path / "draft.json"
    bad.write_text('{"account_id": "x"}', encoding="utf-8")
    result = run("crmcom_to_kantata.py", "--live", "--draft", str(bad), "--workspace", "1001", env=live_env(url))
    assert result.code == 2
    assert f"--draft {bad}" in result.err
