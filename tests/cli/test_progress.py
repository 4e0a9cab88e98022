"""The progress bar counts writes, not the milestones a sync leaves unchanged."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from billing_milestones.demo import DemoWorld

from .conftest import Invoke


def test_the_bar_counts_only_writes(invoke: Invoke, world: DemoWorld, cfg: Path, env: dict[str, str]) -> None:
    assert invoke("sync", "erp", "--config", str(cfg), "--yes", env=env).exit_code == 0
    for day in (1, 2):
        world.autotask.add_milestone(world.contract_id, title=f"Extra {day}", date_due=dt.date(2027, 8, day))
    result = invoke("sync", "erp", "--config", str(cfg), "--yes", env=env)
    assert result.exit_code == 0, result.output
    assert "2 create, 4 unchanged" in result.stdout
    assert re.findall(r"(\d+)/(\d+)", result.stdout) == [("2", "2")]
    assert "2 writes" in result.stdout
