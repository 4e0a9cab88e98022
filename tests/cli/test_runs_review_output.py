"""``milestones runs`` can be read in a plain terminal: every run's pair, times, worker and result whole.

Its table cut each of them to four characters at 80 columns ("auto…", "2026…", "vm:1…"; a real row needs
about 230), so the history could only be read with ``--json``.
"""

from __future__ import annotations

from pathlib import Path

from billing_milestones.demo import DemoWorld
from billing_milestones.sync import LinkStore

from ..test_cli import config
from .conftest import Invoke


def test_runs_at_80_columns_shows_every_field_whole(
    world: DemoWorld, env: dict[str, str], tmp_path: Path, invoke: Invoke
) -> None:
    cfg = config(tmp_path, world)
    assert invoke("sync", "erp", "--config", str(cfg), "--yes", env=env).exit_code == 0
    assert invoke("sync", "strict", "--config", str(cfg), "--yes", env=env).exit_code == 1
    result = invoke("runs", "--config", str(cfg), env=env)  # at 80 columns (the fixture's terminal)
    assert result.exit_code == 0, result.output
    out = result.output
    with LinkStore(tmp_path / "links.sqlite3") as store:
        strict, erp = store.runs()
    assert "…" not in out and max(len(line) for line in out.splitlines()) <= 80
    for run in (strict, erp):
        for text in (run.pair_id, run.started_at, run.finished_at, run.worker):
            assert text in out, text
    assert out.index(strict.worker) < out.index(erp.worker)  # newest first
    assert f"failed: {strict.error}" in " ".join(out.split())  # the result may wrap, never cut
    assert "created 4, updated 0, deleted 0, adopted 0, conflicts 0" in out
    assert "created 2, updated 0, deleted 0, adopted 0, conflicts 2" in out
