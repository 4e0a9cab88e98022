"""The benchmark scripts must keep running; their numbers are printed, never asserted."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "run.py"

#: Every row of issue 13's table, and the earlier bulk-write rows, by how each line starts.
ROWS = (
    "first sync into a non-empty container x50",
    "first sync into a non-empty container x200",
    "plan_sync 2,000 linked unchanged pairs",
    "peak memory listing 2,000 milestones",
    "kantata list of one 200-item page",
    "common view milestones.list, same page",
    "GET one milestone",
    "common view create of one 50-milestone bulk POST",
    "autotask query page of 50, native",
    "autotask common view stream, page of 50",
    "requests for a sync of 300 new milestones into Kantata",
    "requests for 10 pairs x 30 new milestones, the same clients",
    "requests to sync those 10 pairs again (nothing to write), the same clients",
    "requests for 10 pairs x 30 new milestones, fresh clients per pair sharing a MetadataCache",
    "requests for a sync of 300 new milestones, the first process ever (cold: an empty link store)",
    "requests for a sync of 300 new milestones, a second process (warm: the same link store)",
    "requests for 10 pairs x 30 new milestones, fresh clients per pair, a third process (warm: the same link store)",
    "money add",
    "money subtract",
    "money multiply by 3",
    "money compare",
    "money from text",
    "money from minor units",
    "money to minor units",
    "money quantize",
    "kantata create x40",
    "autotask read x40",
    "json encode x400",
)


def test_benchmarks_run_quick_and_print_every_row_with_its_ratio() -> None:
    done = subprocess.run([sys.executable, str(SCRIPT), "--quick"], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == len(ROWS), lines
    assert all(line.startswith(row) for line, row in zip(lines, ROWS, strict=True)), lines
    assert all("ours" in line and "ratio" in line for line in lines)
    assert "/ 1 POSTs" in lines[-3]  # 40 milestones, one bulk POST
