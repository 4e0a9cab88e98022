"""``milestones runs PAIR`` for a pair taken out of the config: its runs are still its history.

``milestones runs`` lists every pair's runs, a removed pair's too, but ``runs PAIR`` took only a configured
name: the removed pair's runs could be read only among every other pair's (or with SQL). The pair is now
also taken as the runs list it (``source->target``, its identity); a name not configured is still an error,
now saying how to ask for a removed pair. A configured name still finds the runs kept under its identity.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner, Result

from billing_milestones.cli import app
from billing_milestones.sync import LinkStore, RunRecord

KEPT, GONE = "autotask:1->kantata:2", "crmcom:website->kantata:1001"
AT = "2026-12-01T10:00:00.000+00:00"


def _invoke(tmp_path: Path, links: str, *args: str) -> Result:
    config = tmp_path / "milestones.toml"  # only the pair still configured
    config.write_text(f'links = {json.dumps(links)}\n\n[pairs.erp]\nsource = "autotask:1"\ntarget = "kantata:2"\n')
    return CliRunner().invoke(app, ["runs", "--config", str(config), *args])


def _seeded(links: str) -> None:
    with LinkStore(links) as store:
        store.record_run(RunRecord(KEPT, "h:1:a", AT, AT, created=1))
        store.record_run(RunRecord(GONE, "h:1:b", AT, AT, created=3))
        store.record_run(RunRecord(GONE, "h:1:c", AT, AT, ok=False, error="1 write(s) failed"))


def _rows(result: Result) -> list[dict[str, Any]]:
    assert result.exit_code == 0, result.output
    rows: list[dict[str, Any]] = json.loads(result.output)
    return rows


def test_a_removed_pairs_runs_are_found_by_the_pair_as_listed(tmp_path: Path, store_url: str) -> None:
    _seeded(store_url)
    assert {r["pair"] for r in _rows(_invoke(tmp_path, store_url, "--json"))} == {KEPT, GONE}
    gone = _rows(_invoke(tmp_path, store_url, GONE, "--json"))
    assert [(r["pair"], r["worker"]) for r in gone] == [(GONE, "h:1:c"), (GONE, "h:1:b")]
    assert [r["worker"] for r in _rows(_invoke(tmp_path, store_url, GONE, "--json", "--limit", "1"))] == ["h:1:c"]
    text = _invoke(tmp_path, store_url, GONE)
    assert text.exit_code == 0 and "failed: 1 write(s) failed" in text.output and KEPT not in text.output
    # The configured name, and its identity, find the same runs.
    by_name = _rows(_invoke(tmp_path, store_url, "erp", "--json"))
    assert by_name == _rows(_invoke(tmp_path, store_url, KEPT, "--json")) and [r["pair"] for r in by_name] == [KEPT]
    for row in gone + by_name:  # ISO 8601 with its offset, as documented
        assert dt.datetime.fromisoformat(row["started_at"]).utcoffset() == dt.timedelta(0)


def test_a_name_not_configured_is_an_error_that_says_how_to_ask_for_a_removed_pair(tmp_path: Path) -> None:
    links = f"sqlite:///{tmp_path / 'links.sqlite3'}"
    _seeded(links)
    for args in (("website",), ("website", "--json")):
        result = _invoke(tmp_path, links, *args)
        assert result.exit_code == 2, result.output
        assert "no such pair in the config (known: erp)" in result.output and "source->target" in result.output
    bad = _invoke(tmp_path, links, "crm:website->kantata:1001")  # not a platform: refused, not an empty history
    assert bad.exit_code == 2 and "crm:website" in bad.output
