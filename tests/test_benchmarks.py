"""The benchmark script must keep running; its numbers are printed, never asserted."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "run.py"


def test_benchmarks_run_and_print_ratios() -> None:
    done = subprocess.run([sys.executable, str(SCRIPT), "--n", "40"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == 3 and all("ratio" in line for line in lines)
    assert "kantata create x40: ours" in lines[0] and "/ 1 POSTs" in lines[0]
