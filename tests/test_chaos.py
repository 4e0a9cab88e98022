"""The chaos run (make chaos) at a reduced size: kills, overlapping runs and faults leave every milestone once."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "chaos" / "run.py"


def test_kills_overlaps_and_faults_leave_no_duplicate_and_no_loss() -> None:
    argv = [sys.executable, str(SCRIPT), "--size", "40", "--kills", "3", "--fault-rate", "0.2", "--seed", "3", "--json"]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=300)
    report = json.loads(done.stdout)
    assert report["kills"] == 3 and report["faults_injected"] > 0, report
    assert report["duplicates"] == {"a2k": 0, "k2a": 0} and report["lost"] == {"a2k": 0, "k2a": 0}, report
    assert done.returncode == 0 and report["ok"] is True
