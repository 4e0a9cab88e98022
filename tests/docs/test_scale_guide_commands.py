"""docs/scale.md is followed to the letter by operators: every ``milestones ...`` line it shows (in its shell
blocks and in the systemd, compose and Kubernetes examples) parses with the real CLI, its ``[workers]`` table
is a config the SDK loads, with the defaults it says, and its SQL runs against a real store."""

from __future__ import annotations

import re
import shlex
import sqlite3
import tomllib
from pathlib import Path
from typing import Any

import psycopg
import pytest
import typer
import yaml  # type: ignore[import-untyped]  # PyYAML comes with mkdocs, which these docs tests need
from typer._click.exceptions import UsageError  # the click Typer ships with (docs/_ext/cli_pages.py reads it too)

from billing_milestones.cli import app
from billing_milestones.sync import LinkStore, RunRecord
from billing_milestones.sync._store_config import WorkerSettings, worker_settings
from billing_milestones.sync.runs import RunLog

PAGE = Path(__file__).resolve().parents[2] / "docs" / "scale.md"


def blocks(lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", PAGE.read_text(encoding="utf-8"), re.S)


def command_lines() -> list[list[str]]:
    """Every ``milestones`` command the page shows, as argv after ``milestones``."""
    found: list[list[str]] = []
    for block in blocks("bash"):
        for line in block.replace("\\\n", " ").splitlines():
            argv = shlex.split(line, comments=True)
            if argv[:1] == ["milestones"]:
                found.append(argv[1:])
    (unit,) = blocks("ini")
    (start,) = re.findall(r"^ExecStart=\S+/milestones (.*)$", unit, re.M)
    found.append(shlex.split(start))
    compose, kube = (yaml.safe_load(block) for block in blocks("yaml"))
    found.append(shlex.split(compose["services"]["worker"]["command"])[1:])
    (container,) = kube["spec"]["template"]["spec"]["containers"]
    found.append(container["args"][1:])
    return found


def parse(argv: list[str]) -> None:
    """Parse ``argv`` as ``milestones`` would, down to its command's options and arguments (nothing runs): a
    ``UsageError`` for an unknown command or option, a bad value or a missing argument."""
    command: Any = typer.main.get_command(app)
    rest = list(argv)
    while (subcommands := getattr(command, "commands", None)) is not None:
        assert rest and rest[0] in subcommands, f"milestones {shlex.join(argv)}: no such command"
        command = subcommands[rest.pop(0)]
    command.make_context("milestones", rest)


def test_every_command_line_on_the_page_parses_with_the_cli() -> None:
    lines = command_lines()
    assert {argv[0] for argv in lines} >= {"enqueue", "worker", "runs", "links"}, lines
    for argv in lines:
        try:
            parse(argv)
        except UsageError as exc:
            pytest.fail(f"milestones {shlex.join(argv)}: {exc.format_message()}")


def test_the_workers_table_loads_and_its_unmarked_values_are_the_defaults(tmp_path: Path) -> None:
    (table,) = (block for block in blocks("toml") if block.lstrip().startswith("[workers]"))
    config = tmp_path / "milestones.toml"
    config.write_text(table, encoding="utf-8")
    pairs: dict[str, Any] = {"erp": object(), "website": object()}
    loaded = worker_settings(config, pairs)  # an unknown key or a bad value is a ConfigError
    defaults = WorkerSettings()
    for line in table.splitlines()[1:]:
        key = line.split("=")[0].strip()
        if key != "schedule" and "optional" not in line:
            assert getattr(loaded, key) == getattr(defaults, key), f"{key}: the page shows it as the default"
    assert tomllib.loads(table)["workers"]["schedule"] == dict(loaded.schedule)


def test_the_failed_runs_query_lists_failed_runs_not_open_ones(store_url: str) -> None:
    """On both backends (a real PostgreSQL server too): the page's SQL, run as it is shown."""
    (sql,) = blocks("sql")
    at = "2026-12-03T00:00:00.000+00:00"
    with LinkStore(store_url) as store:
        store.record_run(RunRecord("ok-pair", "h:1:a", at, at))
        store.record_run(RunRecord("failed-pair", "h:1:b", at, at, ok=False, error="boom"))
        with store.lease("open-pair", wait=0) as lease:
            RunLog("open-pair", store=store).begin(lease.owner)  # running, or lost: its end never written
    if store_url.startswith("sqlite:///"):
        with sqlite3.connect(store_url.removeprefix("sqlite:///")) as db:
            rows = db.execute(sql).fetchall()
    else:
        with psycopg.connect(store_url) as conn:
            rows = conn.execute(sql).fetchall()
    assert [row[0] for row in rows] == ["failed-pair"]


def test_the_supervised_examples_restart_a_worker_and_keep_secrets_out() -> None:
    """A worker exits when it cannot reach the database within 30 s of starting, or is fenced: each example's
    supervisor must start it again, and no example file may hold a secret in clear."""
    (unit,) = blocks("ini")
    settings = dict(line.split("=", 1) for line in unit.splitlines() if "=" in line and not line.startswith("#"))
    assert settings["Restart"] == "always"
    assert float(settings["RestartSec"]) >= 2, "5 quick failed starts in 10 s stop systemd restarting it for good"
    assert "network-online.target" in settings["Wants"], "After= alone does not pull the target in"
    compose, kube = (yaml.safe_load(block) for block in blocks("yaml"))
    worker = compose["services"]["worker"]
    assert worker["restart"] in {"always", "unless-stopped", "on-failure"}
    assert worker["depends_on"]["db"]["condition"] == "service_healthy"
    assert "healthcheck" in compose["services"]["db"]
    for value in (*worker["environment"].values(), *compose["services"]["db"]["environment"].values()):
        assert not re.search(r"://[^/@]*:[^/@]*@|PASSWORD=|TOKEN=|SECRET=", str(value)), value
    (container,) = kube["spec"]["template"]["spec"]["containers"]
    assert all("value" not in env or "://" not in env["value"] for env in container["env"])
