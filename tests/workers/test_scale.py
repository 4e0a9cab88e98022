"""The scale run at a size CI affords: pairs across two worker processes, one killed mid-run (full size:
``make bench``). Counts are asserted, never timings."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

from .._postgres import PostgresServer, fresh_database


def _scale() -> ModuleType:
    path = Path(__file__).resolve().parents[2] / "benchmarks" / "scale.py"
    spec = importlib.util.spec_from_file_location("bm_scale", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclass looks its module up while it is being defined
    spec.loader.exec_module(module)
    return module


def test_every_pair_is_synced_once_across_workers_one_killed(postgres_server: PostgresServer) -> None:
    report = _scale().run_scale(
        fresh_database(postgres_server), pairs=8, milestones=6, workers=2, concurrency=2, timeout=240
    )
    assert report.killed and report.synced_pairs == 8 and report.failed_jobs == 0
    assert (report.lost, report.duplicated, report.wrong, report.autotask_throttled) == (0, 0, 0, 0)
    # Killed in a run, not between two: every run is in the history and none is left open, the killed worker's
    # runs (opened when they took their leases) closed as lost by their pairs' reruns (sync/runs.py).
    assert report.killed_runs >= 1 and report.killed_runs_lost == report.killed_runs
    assert report.run_rows >= 8 + report.killed_runs and report.open_runs == 0
    # Every Autotask request the emulator served the workers was charged to their shared hourly budget.
    assert 0 < report.autotask_requests <= report.autotask_charged <= report.autotask_hourly_threshold and report.ok
    assert report.floor_seconds > 0 and report.wall_seconds > 0
