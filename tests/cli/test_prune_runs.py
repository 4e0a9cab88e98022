"""``milestones prune-runs --older-than DAYS [PAIR]``: forgets old finished runs through ``sync.prune_runs``,
by a configured name or as the runs list a pair; a store that does not exist is not made to prune it."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner, Result

from billing_milestones.cli import EXIT_OK, EXIT_USAGE, app
from billing_milestones.sync import LinkStore, RunRecord

ERP, GONE = "autotask:1->kantata:2", "crmcom:website->kantata:1001"
OLD, NEW = "2020-01-01T10:00:00.000+00:00", "2999-01-01T10:00:00.000+00:00"


def _invoke(tmp_path: Path, *args: str) -> Result:
    config = tmp_path / "milestones.toml"
    links = tmp_path / "links.sqlite3"
    config.write_text(f'links = {json.dumps(str(links))}\n\n[pairs.erp]\nsource = "autotask:1"\ntarget = "kantata:2"\n')
    return CliRunner().invoke(app, ["prune-runs", "--config", str(config), *args], env={"COLUMNS": "200"})


def _seed(tmp_path: Path) -> None:
    with LinkStore(tmp_path / "links.sqlite3") as store:
        for pair in (ERP, GONE):
            store.record_run(RunRecord(pair, "h:1:a", OLD, OLD, created=1))
            store.record_run(RunRecord(pair, "h:1:b", OLD, OLD, created=2))
            store.record_run(RunRecord(pair, "h:1:c", NEW, NEW, created=3))


def _left(tmp_path: Path) -> dict[str, int]:
    with LinkStore(tmp_path / "links.sqlite3") as store:
        runs = store.runs(limit=100)
    return {pair: sum(1 for r in runs if r.pair_id == pair) for pair in (ERP, GONE)}


def test_prune_runs_forgets_old_runs_of_one_pair_by_name_or_identity_then_all(tmp_path: Path) -> None:
    _seed(tmp_path)
    result = _invoke(tmp_path, "--older-than", "30", "erp", "--json")
    assert result.exit_code == EXIT_OK, result.output
    assert json.loads(result.output) == {"ok": True, "pruned": 2, "closed": 0}
    assert _left(tmp_path) == {ERP: 1, GONE: 3}
    result = _invoke(tmp_path, "--older-than", "30", GONE)  # a pair taken out of the config, as listed
    assert result.exit_code == EXIT_OK and "2 runs forgotten (ended over 30 days ago)." in result.output
    assert _left(tmp_path) == {ERP: 1, GONE: 1}
    assert json.loads(_invoke(tmp_path, "--older-than", "0", "--json").output)["pruned"] == 0


def test_prune_runs_refuses_an_unknown_pair_a_missing_store_and_a_negative_age(tmp_path: Path) -> None:
    result = _invoke(tmp_path, "--older-than", "30")
    assert result.exit_code == EXIT_USAGE and "no link store at" in result.output
    assert not (tmp_path / "links.sqlite3").exists()  # not made empty to prune it
    _seed(tmp_path)
    result = _invoke(tmp_path, "--older-than", "30", "nope")
    assert result.exit_code == EXIT_USAGE and "pairs.nope" in result.output
    assert _invoke(tmp_path, "--older-than", "-1").exit_code == EXIT_USAGE
    assert _invoke(tmp_path).exit_code == EXIT_USAGE  # --older-than is required
    assert _left(tmp_path) == {ERP: 3, GONE: 3}
