"""``milestones runs --json`` holds exactly the fields docs/scale.md lists, each of the type it gives.

A script or a dashboard reads these names; they were documented nowhere ("Watching the run history" showed
the command only). ``finished_at`` of an open run is ``""`` rather than null, ``error`` is null when ok, and
PostgreSQL's integers and ``ok`` read back as the same JSON as SQLite's.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from billing_milestones.cli import app
from billing_milestones.sync import LinkStore, RunRecord

_DOC = Path(__file__).parents[2] / "docs" / "scale.md"
_TYPES: dict[str, tuple[type | None, ...]] = {
    "int": (int,),
    "str": (str,),
    "bool": (bool,),
    "str or null": (str, None),
}


def _documented() -> dict[str, str]:
    """Each field of the section's table, and the type it documents."""
    section = _DOC.read_text().split("## Watching the run history", 1)[1].split("\n## ", 1)[0]
    fields: dict[str, str] = {}
    for names, kind in re.findall(r"^\| (`[^|]+`) \| ([^|]+) \|", section, flags=re.MULTILINE):
        for name in re.findall(r"`([a-z_]+)`", names):
            fields[name] = kind.strip()
    return fields


def _runs_json(tmp_path: Path, links: str, *args: str) -> list[dict[str, Any]]:
    config = tmp_path / "milestones.toml"
    config.write_text(f"links = {json.dumps(links)}\n")
    result = CliRunner().invoke(app, ["runs", "--json", "--config", str(config), *args])
    assert result.exit_code == 0, result.output
    rows: list[dict[str, Any]] = json.loads(result.output)
    return rows


def test_the_documented_fields_are_the_json_fields_with_their_types(tmp_path: Path, store_url: str) -> None:
    assert _runs_json(tmp_path, store_url) == []
    with LinkStore(store_url) as store:
        at = "2026-12-01T10:00:00.000+00:00"
        store.record_run(RunRecord("autotask:1->kantata:2", "h:1:a", at, at, created=3))
        store.record_run(RunRecord("autotask:1->kantata:2", "h:1:b", at, at, ok=False, error="1 write(s) failed"))
        store.record_run(RunRecord("autotask:1->kantata:2", "h:1:c", at, "", ok=False, error="running"))
    documented = _documented()
    opened, failed, ok = _runs_json(tmp_path, store_url)
    assert set(documented) == set(ok) and len(documented) == 13
    for run in (opened, failed, ok):
        for name, kind in documented.items():
            value = run[name]
            assert (None in _TYPES[kind] and value is None) or isinstance(value, tuple(t for t in _TYPES[kind] if t))
            if _TYPES[kind] == (int,):
                assert not isinstance(value, bool), name
    assert (ok["error"], opened["finished_at"], opened["open"], opened["ok"]) == (None, "", True, False)
    assert [r["worker"] for r in _runs_json(tmp_path, store_url, "--limit", "2")] == ["h:1:c", "h:1:b"]  # newest first
