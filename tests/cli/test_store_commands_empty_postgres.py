"""``runs``, ``prune-runs`` and ``reconcile`` only read the link store: on a PostgreSQL database (or a
search_path schema) holding none, they say there is no store there, as they do of a missing SQLite file, and
make none. They had made an empty store's tables in whatever database or schema a mistyped URL named, and read
it as "no runs yet"."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import psycopg
from typer.testing import CliRunner, Result

from billing_milestones.cli import EXIT_OK, EXIT_USAGE, app
from billing_milestones.sync import LinkStore, RunRecord

from .._postgres import PostgresServer, fresh_database

WHEN = "2020-01-01T10:00:00.000+00:00"


def invoke(tmp_path: Path, links: str, *args: str) -> Result:
    config = tmp_path / "milestones.toml"
    config.write_text(f'links = {json.dumps(links)}\n\n[pairs.erp]\nsource = "autotask:1"\ntarget = "kantata:2"\n')
    return CliRunner().invoke(app, [*args, "--config", str(config)], env={"COLUMNS": "200"})


def tables(url: str) -> list[str]:
    with psycopg.connect(url, autocommit=True) as conn:
        rows = conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()").fetchall()
    return sorted(row[0] for row in rows)


def test_runs_and_prune_runs_on_a_database_with_no_store_make_none(
    tmp_path: Path, postgres_server: PostgresServer
) -> None:
    url = fresh_database(postgres_server)
    listed = invoke(tmp_path, url, "runs")
    assert listed.exit_code == EXIT_OK, listed.output
    assert "No runs recorded yet: there is no link store at postgresql://" in listed.output
    as_json = invoke(tmp_path, url, "runs", "--json")
    assert as_json.exit_code == EXIT_OK and json.loads(as_json.output) == []
    pruned = invoke(tmp_path, url, "prune-runs", "--older-than", "30")
    assert pruned.exit_code == EXIT_USAGE and "there is no link store at postgresql://" in pruned.output
    assert tables(url) == []


def test_a_store_that_exists_is_read_as_before(tmp_path: Path, postgres_server: PostgresServer) -> None:
    url = fresh_database(postgres_server)
    with LinkStore(url) as store:
        store.record_run(RunRecord("autotask:1->kantata:2", "h:1:a", WHEN, WHEN, created=3))
    listed = invoke(tmp_path, url, "runs", "--json")
    assert listed.exit_code == EXIT_OK, listed.output
    assert [run["created"] for run in json.loads(listed.output)] == [3]
    pruned = invoke(tmp_path, url, "prune-runs", "--older-than", "30", "--json")
    assert pruned.exit_code == EXIT_OK and json.loads(pruned.output)["pruned"] == 0  # the pair's newest is kept


def test_a_schema_of_its_own_with_no_store_is_said_so(tmp_path: Path, postgres_server: PostgresServer) -> None:
    name = f"client_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(postgres_server.url(), autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {name}")
    in_schema = f"{postgres_server.url()}?options=-csearch_path%3D{name}"
    listed = invoke(tmp_path, in_schema, "runs")
    assert listed.exit_code == EXIT_OK, listed.output
    assert "there is no link store at postgresql://" in listed.output
    assert tables(in_schema) == []
