"""The ``milestones`` command end to end, against the emulators on a loopback port."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest
from typer.testing import CliRunner

from billing_milestones import Platform
from billing_milestones.cli import app
from billing_milestones.demo import DemoWorld, build_demo_world, demo_config_toml, sandbox_environment
from billing_milestones.sandbox import LoopbackServer

runner = CliRunner()


@pytest.fixture
def served() -> Iterator[tuple[DemoWorld, str]]:
    world = build_demo_world()
    with LoopbackServer(world.asgi_app()) as server:
        yield world, server.url


def env_for(url: str) -> dict[str, str]:
    return {**sandbox_environment(url), "AUTOTASK_CURRENCY": "USD"}


def config(tmp_path: Path, world: DemoWorld) -> Path:
    """The config `sandbox serve` prints for the seeded data, plus a pair that cannot be synced as is."""
    path = tmp_path / "milestones.toml"
    strict = f"""
[pairs.strict]
source = "autotask:{world.contract_id}"
target = "kantata:{world.website_workspace}"
"""
    path.write_text(demo_config_toml(world, links=str(tmp_path / "links.sqlite3")) + strict)
    return path


def test_demo_exits_zero_and_reports_json() -> None:
    result = runner.invoke(app, ["demo", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["ok"] is True and all(run["noop"] for run in data["second_run"])


def test_plan_then_sync_then_nothing_to_do(tmp_path: Path, served: tuple[DemoWorld, str]) -> None:
    world, url = served
    cfg, env = str(config(tmp_path, world)), env_for(url)
    plan = runner.invoke(app, ["plan", "erp", "--config", cfg, "--json"], env=env)
    assert plan.exit_code == 0, plan.output
    assert json.loads(plan.output)["counts"]["create"] == 4

    dry = runner.invoke(app, ["sync", "erp", "--config", cfg, "--dry-run"], env=env)
    assert dry.exit_code == 0 and "create" in dry.output
    assert list(world.kantata.milestones) == []

    done = runner.invoke(app, ["sync", "erp", "--config", cfg, "--yes", "--json"], env=env)
    assert done.exit_code == 0, done.output
    assert json.loads(done.output)["ok"] is True and json.loads(done.output)["result"]["writes"] == 4

    again = runner.invoke(app, ["plan", "erp", "--config", cfg, "--json"], env=env)
    assert json.loads(again.output)["counts"]["unchanged"] == 4 and again.exit_code == 0


def test_crmcom_draft_pair_and_list_formats(tmp_path: Path, served: tuple[DemoWorld, str]) -> None:
    world, url = served
    cfg, env = str(config(tmp_path, world)), env_for(url)
    done = runner.invoke(app, ["sync", "website", "--config", cfg, "--yes"], env=env)
    assert done.exit_code == 0, done.output
    as_json = runner.invoke(app, ["list", "kantata", world.website_workspace, "--config", cfg, "--json"], env=env)
    rows = json.loads(as_json.output)
    assert sorted(r["title"] for r in rows) == ["Deposit", "Design approved", "Launched"]
    assert all(r["sync_key"] for r in rows)
    as_csv = runner.invoke(app, ["list", "crmcom", "website", "--config", cfg, "--format", "csv"], env=env)
    assert as_csv.exit_code == 0 and as_csv.output.splitlines()[0].startswith("key,title,amount,currency")
    assert "7500.00,USD" in as_csv.output


def test_conflicts_exit_one(tmp_path: Path, served: tuple[DemoWorld, str]) -> None:
    world, url = served
    cfg, env = str(config(tmp_path, world)), env_for(url)
    result = runner.invoke(app, ["plan", "strict", "--config", cfg], env=env)
    assert result.exit_code == 1
    assert "description" in result.output and "conflict" in result.output


def test_missing_secret_is_a_config_error_naming_the_variable(tmp_path: Path, served: tuple[DemoWorld, str]) -> None:
    world, url = served
    env = {k: v for k, v in env_for(url).items() if k != "AUTOTASK_SECRET"}
    result = runner.invoke(app, ["plan", "erp", "--config", str(config(tmp_path, world))], env=env)
    assert result.exit_code == 2
    assert "AUTOTASK_SECRET" in result.output


def test_bad_usage_exits_two(tmp_path: Path) -> None:
    assert runner.invoke(app, ["list", "jira", "1"]).exit_code == 2
    no_yes = runner.invoke(app, ["sync", "erp", "--json"])
    assert no_yes.exit_code == 2 and "--yes" in no_yes.output
    assert runner.invoke(app, ["sync"]).exit_code == 2
    missing = runner.invoke(app, ["plan", "nope", "--config", str(tmp_path / "none.toml")])
    assert missing.exit_code == 2 and "does not exist" in " ".join(missing.output.split())  # rich may wrap it


def test_sandbox_serve_prints_its_environment_and_answers_on_loopback() -> None:
    import subprocess
    import sys

    import httpx

    proc = subprocess.Popen(
        [sys.executable, "-m", "billing_milestones", "sandbox", "serve", "--port", "0", "--json"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line, "the server exited before printing its address"
        info = json.loads(line)
        env = info["environment"]
        workspace = info["seeded"]["kantata_workspaces"][1]
        assert "[pairs.erp]" in info["seeded"]["config_toml"]
        response = httpx.get(
            f"{env['KANTATA_BASE_URL']}/workspaces/{workspace}",
            headers={"Authorization": f"Bearer {env['KANTATA_TOKEN']}"},
        )
        assert response.status_code == 200 and workspace in response.text
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_a_crmcom_draft_keeps_its_id_across_runs_so_nothing_is_created_twice(
    tmp_path: Path, served: tuple[DemoWorld, str]
) -> None:
    world, url = served
    cfg, env = str(config(tmp_path, world)), env_for(url)
    assert runner.invoke(app, ["sync", "website", "--config", cfg, "--yes"], env=env).exit_code == 0
    again = runner.invoke(app, ["plan", "website", "--config", cfg, "--json"], env=env)
    assert again.exit_code == 0, again.output
    assert json.loads(again.output)["counts"]["unchanged"] == 3
    second = runner.invoke(app, ["sync", "website", "--config", cfg, "--yes", "--json"], env=env)
    data = json.loads(second.output)
    assert data["result"] is None and data["plan"]["counts"]["unchanged"] == 3
    assert len(world.kantata.milestones) == 3


def test_error_text_in_brackets_is_printed_not_eaten_as_markup(tmp_path: Path, served: tuple[DemoWorld, str]) -> None:
    world, url = served
    cfg, env = str(config(tmp_path, world)), env_for(url)
    draft = runner.invoke(app, ["list", "crmcom", "nope", "--config", cfg], env=env)
    assert draft.exit_code == 2 and "[crmcom.drafts.nope]" in draft.output
    missing = runner.invoke(app, ["list", "kantata", "999999", "--config", cfg], env=env)
    assert missing.exit_code == 1
    assert "[kantata GET /kantata/api/v1/" in " ".join(missing.output.split())


def test_a_link_store_that_cannot_be_opened_exits_two_naming_links(
    tmp_path: Path, served: tuple[DemoWorld, str]
) -> None:
    world, url = served
    cfg = tmp_path / "milestones.toml"
    cfg.write_text(demo_config_toml(world, links=str(tmp_path / "no-such-folder" / "links.sqlite3")))
    result = runner.invoke(app, ["plan", "erp", "--config", str(cfg), "--json"], env=env_for(url))
    assert result.exit_code == 2, result.output
    assert json.loads(result.output)["error"].startswith("links:")


def test_a_crmcom_target_keeps_the_synced_milestones_across_runs(tmp_path: Path, served: tuple[DemoWorld, str]) -> None:
    # crm.com keeps a draft's milestones only in the estimate request. Each CLI run reopens the draft from the
    # config; without the set the last sync wrote, that re-estimate puts the queue's defaults back on the
    # (reusable) estimation: a plan or a list silently undid the sync, and every sync rewrote it.
    world, url = served
    (queue,) = world.crmcom.queues.values()
    contract = world.autotask.add_contract(name="Website billing", currency="USD")
    schedule = [("Deposit", "5000.00"), ("Design approved", "5000.00"), ("Launched", "14999.99")]
    due = {}
    for day, (stage, (title, amount)) in enumerate(zip(queue.stages, schedule, strict=True), start=1):
        world.autotask.add_milestone(contract, title=title, amount=amount, date_due=dt.date(2027, 1, day))
        due[stage.id] = f"2027-01-{day:02}"
    dates = ", ".join(f'"{stage}" = {day}' for stage, day in due.items())
    cfg = config(tmp_path, world)
    cfg.write_text(
        cfg.read_text()
        + f'\n[pairs.bill]\nsource = "autotask:{contract}"\ntarget = "crmcom:website"\n'
        + f"[pairs.bill.triggers]\ndue_dates = {{ {dates} }}\n"
    )
    env = env_for(url)
    done = runner.invoke(app, ["sync", "bill", "--config", str(cfg), "--yes", "--json"], env=env)
    assert done.exit_code == 0 and json.loads(done.output)["result"]["writes"] == 3, done.output
    again = runner.invoke(app, ["plan", "bill", "--config", str(cfg), "--json"], env=env)
    assert again.exit_code == 0 and json.loads(again.output)["counts"]["unchanged"] == 3, again.output
    listed = runner.invoke(app, ["list", "crmcom", "website", "--config", str(cfg), "--json"], env=env)
    assert sorted(r["amount"] for r in json.loads(listed.output)) == ["14999.99", "5000.00", "5000.00"]


@pytest.mark.parametrize("pair", ["website", "erp"])
def test_a_deleted_link_store_re_adopts_instead_of_creating_again(
    tmp_path: Path, served: tuple[DemoWorld, str], pair: str
) -> None:
    """crm.com -> Kantata used to open a new estimate and create every milestone again."""
    world, url = served
    cfg, env = str(config(tmp_path, world)), env_for(url)
    assert runner.invoke(app, ["sync", pair, "--config", cfg, "--yes"], env=env).exit_code == 0
    before = len(world.kantata.milestones)
    (tmp_path / "links.sqlite3").unlink()
    again = runner.invoke(app, ["sync", pair, "--config", cfg, "--yes", "--json"], env=env)
    assert again.exit_code == 0, again.output
    counts = json.loads(again.output)["plan"]["counts"]
    assert counts["create"] == 0 and counts["adopt"] > 0, counts
    assert len(world.kantata.milestones) == before


def test_a_relative_links_path_is_found_from_any_folder(
    tmp_path: Path, served: tuple[DemoWorld, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    world, url = served
    (tmp_path / "conf").mkdir()
    (tmp_path / "other").mkdir()
    cfg = tmp_path / "conf" / "milestones.toml"
    cfg.write_text(demo_config_toml(world, links="links.sqlite3"))
    env = env_for(url)
    monkeypatch.chdir(tmp_path / "conf")
    assert runner.invoke(app, ["sync", "erp", "--config", str(cfg), "--yes"], env=env).exit_code == 0
    monkeypatch.chdir(tmp_path / "other")  # a cron job started somewhere else
    plan = runner.invoke(app, ["plan", "erp", "--config", str(cfg), "--json"], env=env)
    assert plan.exit_code == 0 and json.loads(plan.output)["counts"]["unchanged"] == 4, plan.output
    assert not (tmp_path / "other" / "links.sqlite3").exists()


def test_plan_reports_duplicates_and_sync_fixes_them(tmp_path: Path, served: tuple[DemoWorld, str]) -> None:
    world, url = served
    cfg, env = str(config(tmp_path, world)), env_for(url)
    assert runner.invoke(app, ["sync", "erp", "--config", cfg, "--yes"], env=env).exit_code == 0
    with ExitStack() as stack:  # a copy of one milestone, sync key and all (an earlier double write)
        view = world.clients(stack)[Platform.KANTATA].milestones
        first = next(iter(view.list(world.erp_workspace)))
        assert first.sync_key is not None
        view.create(world.erp_workspace, [first.model_copy(update={"key": None, "raw": {}})])
    plan = runner.invoke(app, ["plan", "erp", "--config", cfg, "--json"], env=env)
    assert plan.exit_code == 1 and json.loads(plan.output)["counts"]["duplicate"] == 1, plan.output
    fixed = runner.invoke(app, ["sync", "erp", "--config", cfg, "--yes", "--fix-duplicates", "--json"], env=env)
    assert fixed.exit_code == 0, fixed.output
    assert runner.invoke(app, ["plan", "erp", "--config", cfg], env=env).exit_code == 0
