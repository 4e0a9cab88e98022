"""``milestones reconcile PAIR [--json]`` against the emulators on a loopback port."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from billing_milestones import Money
from billing_milestones.cli import app
from billing_milestones.demo import DemoWorld, build_demo_world, demo_config_toml, sandbox_environment
from billing_milestones.kantata import KantataClient
from billing_milestones.sandbox import LoopbackServer

runner = CliRunner()


@pytest.fixture
def served() -> Iterator[tuple[DemoWorld, str]]:
    world = build_demo_world()
    with LoopbackServer(world.asgi_app()) as server:
        yield world, server.url


def setup(tmp_path: Path, world: DemoWorld, url: str) -> tuple[list[str], dict[str, str], Path]:
    links = tmp_path / "links.sqlite3"
    path = tmp_path / "milestones.toml"
    path.write_text(demo_config_toml(world, links=str(links)))
    return ["--config", str(path)], {**sandbox_environment(url), "AUTOTASK_CURRENCY": "USD"}, links


def test_before_a_sync_everything_is_source_only_exit_1_and_no_link_store_is_created(
    tmp_path: Path, served: tuple[DemoWorld, str]
) -> None:
    world, url = served
    cfg, env, links = setup(tmp_path, world, url)
    result = runner.invoke(app, ["reconcile", "erp", *cfg, "--json"], env=env)
    assert result.exit_code == 1, result.output
    data = json.loads(result.output)
    assert data["counts"]["source-only"] == 4 and data["in_step"] is False
    assert not links.exists()


def test_after_a_sync_in_step_exit_0_then_an_edit_shows_both_values(
    tmp_path: Path, served: tuple[DemoWorld, str]
) -> None:
    world, url = served
    cfg, env, _ = setup(tmp_path, world, url)
    synced = runner.invoke(app, ["sync", "erp", *cfg, "--yes", "--json"], env=env)
    assert synced.exit_code == 0, synced.output

    clean = runner.invoke(app, ["reconcile", "erp", *cfg], env=env)
    assert clean.exit_code == 0, clean.output
    assert "summary: 4 match" in clean.output and "in step" in clean.output

    with KantataClient(env["KANTATA_TOKEN"], base_url=env["KANTATA_BASE_URL"]) as kantata:
        training = next(m for m in kantata.milestones.list(world.erp_workspace) if m.title == "User training")
        kantata.milestones.update(training.model_copy(update={"amount": Money("3400.00", "USD")}))

    drift = runner.invoke(app, ["reconcile", "erp", *cfg], env=env)
    assert drift.exit_code == 1, drift.output
    assert "amount: source 3250.00 USD, target 3400.00 USD" in drift.output
    assert "summary: 3 match, 1 differ" in drift.output
    data = json.loads(runner.invoke(app, ["reconcile", "erp", *cfg, "--json"], env=env).output)
    assert [e["title"] for e in data["entries"] if e["status"] == "differ"] == ["User training"]


def test_an_unknown_pair_is_a_usage_error(tmp_path: Path, served: tuple[DemoWorld, str]) -> None:
    world, url = served
    cfg, env, _ = setup(tmp_path, world, url)
    result = runner.invoke(app, ["reconcile", "nope", *cfg, "--json"], env=env)
    assert result.exit_code == 2
    assert "pairs.nope: no such pair" in json.loads(result.output)["error"]
