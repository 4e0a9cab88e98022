"""``milestones sync`` with a PostgreSQL link store counts against the Autotask limits the workers share: a CLI
run beside the workers with in-process limits would add three concurrent requests and its own hourly count.
With SQLite the in-process limits stay (no shared table is made)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import psycopg
from typer.testing import CliRunner

from billing_milestones.cli import app
from billing_milestones.demo import build_demo_world, demo_config_toml, sandbox_environment
from billing_milestones.sandbox import AutotaskSandbox, LoopbackServer

from .._postgres import PostgresServer, fresh_database


def _sync(config: Path, env: dict[str, str]) -> None:
    result = CliRunner().invoke(app, ["sync", "erp", "--yes", "--config", str(config)], env=env)
    assert result.exit_code == 0, result.output


def test_a_cli_sync_on_postgresql_draws_on_the_workers_shared_autotask_budget(
    tmp_path: Path, postgres_server: PostgresServer
) -> None:
    world = build_demo_world()
    links = fresh_database(postgres_server)
    config = tmp_path / "milestones.toml"
    config.write_text(demo_config_toml(world, links=links))
    with LoopbackServer(world.asgi_app()) as server:
        _sync(config, sandbox_environment(server.url))
    sent = len(world.autotask.request_log)
    with psycopg.connect(links, autocommit=True) as conn:
        used = conn.execute(
            "SELECT used FROM bm_request_budget_used WHERE key = %s",
            (f"bm-budget:autotask:{AutotaskSandbox.USERNAME}",),
        ).fetchall()
        slots = conn.execute("SELECT count(*), count(holder) FROM bm_request_slots").fetchone()
    # Every Autotask request the emulator saw (the listing, the picklist; the zone is configured) was admitted
    # by the shared budget, through the tenant's shared slots, all released at the end.
    assert sent >= 2 and used == [(sent,)]
    assert slots is not None and slots[0] >= 3 and slots[1] == 0


def test_a_cli_sync_on_sqlite_keeps_the_in_process_limits(tmp_path: Path) -> None:
    world = build_demo_world()
    config = tmp_path / "milestones.toml"
    config.write_text(demo_config_toml(world, links=str(tmp_path / "links.db")))
    with LoopbackServer(world.asgi_app()) as server:
        _sync(config, sandbox_environment(server.url))
    with sqlite3.connect(tmp_path / "links.db") as db:
        tables = {name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert not {name for name in tables if name.startswith("bm_request")}
