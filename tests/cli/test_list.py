"""milestones list at 80 columns: keys, amounts and dates whole, titles wrapped; --wide for every column."""

from __future__ import annotations

import json
from pathlib import Path

from billing_milestones.demo import DemoWorld

from .conftest import Invoke

LONG = "A rather long milestone title that has to wrap somewhere at eighty columns"


def test_list_at_80_columns_keeps_values_whole_and_wraps_titles(
    invoke: Invoke, world: DemoWorld, cfg: Path, env: dict[str, str]
) -> None:
    assert invoke("sync", "erp", "--config", str(cfg), "--yes", env=env).exit_code == 0
    world.kantata.add_milestone(world.erp_workspace, LONG, 1_250_000_00, date_to_invoice="2027-02-01")
    listed = json.loads(invoke("list", "kantata", world.erp_workspace, "--config", str(cfg), "--json", env=env).stdout)
    table = invoke("list", "kantata", world.erp_workspace, "--config", str(cfg), env=env)
    assert table.exit_code == 0, table.output
    lines = table.stdout.splitlines()
    assert max(len(line) for line in lines) <= 80
    cells = [cell.strip() for line in lines for cell in line.split("│")]
    for row in listed:
        assert row["key"] in cells and row["due"] in cells, row
        assert f"{row['amount']} {row['currency']}" in cells, row
    assert "1250000.00 USD" in cells
    assert LONG not in cells, "the long title wraps onto several lines"
    assert all(word in table.stdout for word in LONG.split())


def test_wide_shows_every_column_unfolded(invoke: Invoke, world: DemoWorld, cfg: Path, env: dict[str, str]) -> None:
    assert invoke("sync", "erp", "--config", str(cfg), "--yes", env=env).exit_code == 0
    listed = json.loads(invoke("list", "kantata", world.erp_workspace, "--config", str(cfg), "--json", env=env).stdout)
    wide = invoke("list", "kantata", world.erp_workspace, "--config", str(cfg), "--wide", env=env)
    assert wide.exit_code == 0, wide.output
    header = wide.stdout.splitlines()[2]
    assert all(name in header for name in ("trigger", "percentage", "locked", "sync_key"))
    for row in listed:
        line = next(line for line in wide.stdout.splitlines() if row["key"] in line)
        assert row["sync_key"] in line and row["title"] in line and row["due"] in line
