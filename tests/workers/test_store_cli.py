"""``milestones runs`` and ``milestones links migrate`` end to end through the CLI."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from billing_milestones.cli import EXIT_BUSY, EXIT_OK, EXIT_USAGE, app
from billing_milestones.sync import Link, LinkStore, RunRecord


def config_with_runs(tmp_path: Path) -> Path:
    config = tmp_path / "milestones.toml"
    config.write_text(
        'links = "state.db"\n[pairs.a]\nsource = "autotask:1"\ntarget = "kantata:2"\n'
        '[pairs.b]\nsource = "autotask:3"\ntarget = "kantata:4"\n'
    )
    with LinkStore(tmp_path / "state.db") as store:
        store.record_run(
            RunRecord("autotask:1->kantata:2", "host:1:x", "2026-12-01T10:00:00Z", "2026-12-01T10:00:05Z", created=7)
        )
        store.record_run(
            RunRecord(
                "autotask:3->kantata:4",
                "host:2:y",
                "2026-12-01T11:00:00Z",
                "2026-12-01T11:00:01Z",
                ok=False,
                error="down",
            )
        )
    return config


def invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args), env={"COLUMNS": "200"})
    return result.exit_code, result.output


def test_runs_shows_the_history_newest_first(tmp_path: Path) -> None:
    config = config_with_runs(tmp_path)
    code, out = invoke("runs", "--config", str(config))
    assert code == EXIT_OK
    assert out.index("host:2:y") < out.index("host:1:x") and "failed: down" in out and "7" in out
    code, out = invoke("runs", "a", "--json", "--config", str(config))
    (only,) = json.loads(out)
    assert code == EXIT_OK and (only["pair"], only["created"], only["ok"]) == ("autotask:1->kantata:2", 7, True)
    code, out = invoke("runs", "--limit", "1", "--json", "--config", str(config))
    assert [r["pair"] for r in json.loads(out)] == ["autotask:3->kantata:4"]
    assert [r["open"] for r in json.loads(out)] == [False]


def test_runs_shows_an_open_row_as_running_not_failed(tmp_path: Path) -> None:
    config = config_with_runs(tmp_path)
    with LinkStore(tmp_path / "state.db") as store:
        store.record_run(RunRecord("autotask:1->kantata:2", "host:3:z", "2026-12-01T12:00:00Z", "", ok=False))
    code, out = invoke("runs", "a", "--config", str(config))
    assert code == EXIT_OK and "running" in out and "failed" not in out
    code, out = invoke("runs", "a", "--json", "--config", str(config))
    newest, oldest = json.loads(out)
    assert (newest["open"], newest["finished_at"], oldest["open"]) == (True, "", False)


def test_runs_of_an_unknown_pair_is_a_usage_error(tmp_path: Path) -> None:
    code, out = invoke("runs", "nope", "--config", str(config_with_runs(tmp_path)))
    assert code == EXIT_USAGE and "pairs.nope" in out


def test_runs_with_no_history_says_so(tmp_path: Path) -> None:
    config = tmp_path / "milestones.toml"
    config.write_text('links = "empty.db"\n')
    LinkStore(tmp_path / "empty.db").close()
    code, out = invoke("runs", "--config", str(config))
    assert code == EXIT_OK and "No runs recorded yet." in out


def test_runs_without_a_store_says_where_it_looked_and_makes_none(tmp_path: Path) -> None:
    """A mistyped path is seen as one (no store there), not shown as an empty history with a store made."""
    config = tmp_path / "milestones.toml"
    config.write_text('links = "nowhere.db"\n')
    code, out = invoke("runs", "--config", str(config))
    assert code == EXIT_OK and f"there is no link store at {tmp_path / 'nowhere.db'}" in out.replace("\n", "")
    code, out = invoke("runs", "--json", "--config", str(config))
    assert (code, json.loads(out)) == (EXIT_OK, [])
    assert not (tmp_path / "nowhere.db").exists()


def test_links_migrate_copies_and_reports_counts(tmp_path: Path) -> None:
    with LinkStore(tmp_path / "a.db") as store:
        store.put(Link("p", "k", "s", "t", "a", "b"))
    code, out = invoke("links", "migrate", "--from", str(tmp_path / "a.db"), "--to", f"sqlite:///{tmp_path / 'b.db'}")
    assert code == EXIT_OK and "1 links" in out and "1 pair_versions" in out
    with LinkStore(tmp_path / "b.db") as store:
        assert [ln.sync_key for ln in store.links("p")] == ["k"]
    code, out = invoke("links", "migrate", "--from", str(tmp_path / "a.db"), "--to", str(tmp_path / "b.db"), "--json")
    assert code == EXIT_USAGE and json.loads(out)["ok"] is False and "already holds rows" in json.loads(out)["error"]


def test_links_migrate_from_a_store_a_sync_holds_exits_busy_and_copies_nothing(tmp_path: Path) -> None:
    with LinkStore(tmp_path / "a.db") as store:
        store.put(Link("p", "k", "s", "t", "a", "b"))
        store.try_lease("p", "host:1:run", ttl=600)
    code, out = invoke("links", "migrate", "--from", str(tmp_path / "a.db"), "--to", str(tmp_path / "b.db"), "--json")
    assert code == EXIT_BUSY and "host:1:run" in json.loads(out)["error"]
    with LinkStore(tmp_path / "b.db") as store:
        assert list(store) == []
